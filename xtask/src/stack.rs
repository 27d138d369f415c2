//! The running product for the demo and the tests: the sandbox, and the proxy serving `dist/`
//! with one connection per sandbox CRM, in this process on a tokio runtime.
//!
//! The demo's proxy is configured with the same TOML a deployment writes (see
//! `crates/userdeck-proxy/README.md`), so the demo exercises the real configuration path.

use std::net::{SocketAddr, TcpListener};

use userdeck_proxy::{Config as ProxyConfig, Proxy};
use userdeck_sandbox::{Config as SandboxConfig, Cors, Sandbox, demo};

use crate::bundle;
use crate::cmd::{self, Result, err};

/// ChromeDriver from Debian, unless `CHROMEDRIVER` names another.
pub fn chromedriver_path() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

/// A sandbox that browser tests may call directly: CORS on for any origin, since
/// wasm-bindgen-test serves the tests from a random local port.
pub async fn sandbox_for_browser_tests() -> Result<Sandbox> {
    let config = SandboxConfig {
        cors: Cors::Any,
        // Every browser test signs in as the same App CRM admin, about eighty of them within a
        // minute: under the real 90 a minute the client rightly starts pacing near the end of the
        // window, seconds per request, and whichever test is running then times out. Pacing and
        // 429s have their own tests (the client's, against forced limits).
        appcrm_rate_limit: 1_000,
        ..SandboxConfig::default()
    };
    Sandbox::start(config, loopback(0))
        .await
        .map_err(|e| err(format!("sandbox: {e}")))
}

/// Where the demo listens.
pub struct DemoOptions {
    pub app_listen: SocketAddr,
    pub sandbox_listen: SocketAddr,
}

impl DemoOptions {
    /// Fixed, memorable ports for a person: the app on 8080, the sandbox on 8081.
    pub fn interactive() -> DemoOptions {
        DemoOptions {
            app_listen: loopback(8080),
            sandbox_listen: loopback(8081),
        }
    }
}

/// The sandbox and the proxy, running.
pub struct Demo {
    sandbox: Sandbox,
    proxy: Proxy,
}

impl Demo {
    pub async fn start(options: DemoOptions) -> Result<Demo> {
        let sandbox = Sandbox::start(SandboxConfig::default(), options.sandbox_listen)
            .await
            .map_err(|e| {
                err(format!(
                    "sandbox on {}: {e} (another port: --sandbox-port N, or 0 for a free one)",
                    options.sandbox_listen
                ))
            })?;
        // The OAuth redirect URL names the proxy's port, so a "free port" is chosen up front.
        let mut app_listen = options.app_listen;
        if app_listen.port() == 0 {
            app_listen.set_port(free_port()?);
        }
        let text = demo::proxy_config(app_listen, &sandbox.url(), &bundle::dist_dir());
        let config = ProxyConfig::parse(&text, "demo config (xtask)", cmd::root(), &|_| None)
            .map_err(|e| err(format!("demo proxy config: {e}")))?;
        let proxy = Proxy::start(config).await.map_err(|e| {
            err(format!(
                "proxy on {app_listen}: {e} (another port: --port N, or 0 for free ones)"
            ))
        })?;
        Ok(Demo { sandbox, proxy })
    }

    pub fn app_url(&self) -> String {
        self.proxy.url()
    }

    pub fn sandbox_url(&self) -> String {
        self.sandbox.url()
    }

    pub async fn shutdown(self) {
        self.proxy.shutdown().await;
        self.sandbox.shutdown().await;
    }
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn free_port() -> Result<u16> {
    TcpListener::bind(loopback(0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| err(format!("no free port on 127.0.0.1: {e}")))
}

//! The product as a user meets it, per test: the sandbox and the proxy serving the release
//! bundle on free ports, configured like the demo (`userdeck_sandbox::demo::proxy_config`).
//!
//! Each test owns its stack, so journeys that break things (expired sessions, forced rate
//! limits, a sandbox taken down) cannot disturb each other, and the sandbox can really go away
//! and come back on the same address.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;

use userdeck_proxy::{Config as ProxyConfig, Proxy};
use userdeck_sandbox::{Config as SandboxConfig, Sandbox, demo};

/// The release bundle `cargo xtask test` built (`USERDECK_DIST`), or the repository's `dist/`.
pub fn dist_dir() -> PathBuf {
    let dir = std::env::var_os("USERDECK_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../dist")));
    assert!(
        dir.join("index.html").is_file(),
        "no app bundle in {}: run the end-to-end tests with `cargo xtask test`",
        dir.display()
    );
    dir
}

/// A running sandbox and proxy.
pub struct Stack {
    sandbox: Option<Sandbox>,
    sandbox_addr: SocketAddr,
    proxy: Proxy,
}

impl Stack {
    /// Starts the sandbox, then the proxy in front of it serving the bundle.
    pub async fn start() -> Stack {
        let sandbox = Sandbox::start(SandboxConfig::default(), loopback(0))
            .await
            .expect("start the sandbox");
        let sandbox_addr = sandbox.addr();
        // The OAuth redirect URL names the proxy's address, so it is chosen before it starts.
        let listen = loopback(free_port());
        let text = demo::proxy_config(listen, &sandbox.url(), &dist_dir());
        let config = ProxyConfig::parse(&text, "e2e stack", &dist_dir(), &|_| None)
            .expect("the demo proxy configuration parses");
        let proxy = Proxy::start(config).await.expect("start the proxy");
        Stack {
            sandbox: Some(sandbox),
            sandbox_addr,
            proxy,
        }
    }

    /// The app's address (the proxy serves it).
    pub fn app_url(&self) -> String {
        self.proxy.url()
    }

    /// `path` on the app, e.g. `/c/appcrm/users`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app_url())
    }

    /// The running sandbox, for its test switches (rate limits, expired sessions).
    pub fn sandbox(&self) -> &Sandbox {
        self.sandbox
            .as_ref()
            .expect("the sandbox is down: call `restart_sandbox` first")
    }

    /// Takes the sandbox down: its port refuses connections until `restart_sandbox`.
    pub async fn stop_sandbox(&mut self) {
        if let Some(sandbox) = self.sandbox.take() {
            sandbox.shutdown().await;
        }
    }

    /// Brings the sandbox back on the same address (freshly seeded).
    pub async fn restart_sandbox(&mut self) {
        if self.sandbox.is_none() {
            let sandbox = Sandbox::start(SandboxConfig::default(), self.sandbox_addr)
                .await
                .expect("restart the sandbox on its old address");
            self.sandbox = Some(sandbox);
        }
    }

    pub async fn shutdown(mut self) {
        self.stop_sandbox().await;
        self.proxy.shutdown().await;
    }
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind(loopback(0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

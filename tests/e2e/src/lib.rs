//! The harness of the end-to-end journeys: a real chromedriver and headless Chromium driving the
//! release bundle that `cargo xtask test` serves through the proxy, against the sandbox.
//!
//! `cargo xtask test` starts the servers and passes their addresses in `USERDECK_APP_URL` and
//! `USERDECK_SANDBOX_URL`; screenshots of failures go to `USERDECK_TEST_OUTPUT`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};

/// Where the app under test is served; the test fails loudly when `cargo xtask test` did not set it.
pub fn app_url() -> String {
    std::env::var("USERDECK_APP_URL")
        .expect("USERDECK_APP_URL is not set: run the end-to-end tests with `cargo xtask test`")
}

/// The folder CI keeps: screenshots and logs of failures.
pub fn output_dir() -> PathBuf {
    let dir = std::env::var_os("USERDECK_TEST_OUTPUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("userdeck-test-output"));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// A chromedriver process and a WebDriver session in a fresh headless Chromium profile.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless session.
    pub async fn start() -> Browser {
        let port = free_port();
        let driver_path =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {driver_path}: {e}"));
        let profile = TempDir::new("userdeck-chromium");
        let capabilities = serde_json::json!({
            "goog:chromeOptions": {
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.0.display()),
                ]
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let url = format!("http://127.0.0.1:{port}");
        // chromedriver takes a moment to listen: retry the session until it answers.
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::rustls()
                .expect("rustls client")
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() > deadline => panic!("chromedriver at {url}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Waits until `css` matches an element (condition-based, never a fixed sleep). On timeout
    /// saves a screenshot named after `what` and panics with the page's URL.
    pub async fn wait_for(&self, css: &str, what: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => {
                let shot = self.screenshot(what).await;
                let url = self.client.current_url().await.map(|u| u.to_string());
                panic!("{what}: `{css}` never appeared ({e}); page {url:?}; screenshot {shot:?}")
            }
        }
    }

    /// Saves a PNG of the current page in the output folder and returns its path.
    pub async fn screenshot(&self, name: &str) -> Option<PathBuf> {
        let png = self.client.screenshot().await.ok()?;
        let path = output_dir().join(format!("{}.png", sanitize(name)));
        std::fs::write(&path, png).ok()?;
        Some(path)
    }

    /// Ends the session and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A panicking test never reaches `close`: do not leave a driver behind.
        let _ = self.driver.kill();
    }
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// A directory removed when dropped (Chromium's throwaway profile).
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create a temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One accessibility problem axe-core found.
#[derive(Debug)]
pub struct Violation {
    pub id: String,
    pub impact: String,
    pub help: String,
    pub targets: Vec<String>,
}

impl Browser {
    /// Runs axe-core on the current page and returns its serious and critical violations.
    ///
    /// axe is injected through WebDriver, which the page's Content-Security-Policy does not
    /// govern, so the check runs on the app exactly as the proxy serves it.
    pub async fn serious_a11y_violations(&self) -> Vec<Violation> {
        let path = std::env::var("USERDECK_AXE_JS").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../tools/node_modules/axe-core/axe.min.js"
            )
            .into()
        });
        let source = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("axe-core at {path}: {e} (cargo xtask test installs it)"));
        self.client
            .execute(&source, Vec::new())
            .await
            .expect("inject axe-core");
        let result = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                   axe.run(document, { resultTypes: ['violations'] })
                      .then(r => done(r.violations.map(v => ({
                          id: v.id, impact: v.impact || '', help: v.help,
                          targets: v.nodes.map(n => n.target.join(' ')) }))))
                      .catch(e => done({ error: String(e) }));"#,
                Vec::new(),
            )
            .await
            .expect("run axe-core");
        if let Some(error) = result.get("error") {
            panic!("axe-core failed: {error}");
        }
        result
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| Violation {
                id: v["id"].as_str().unwrap_or_default().into(),
                impact: v["impact"].as_str().unwrap_or_default().into(),
                help: v["help"].as_str().unwrap_or_default().into(),
                targets: v["targets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str().map(String::from))
                    .collect(),
            })
            .filter(|v| matches!(v.impact.as_str(), "serious" | "critical"))
            .collect()
    }
}

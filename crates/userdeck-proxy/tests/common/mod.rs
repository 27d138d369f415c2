//! Shared helpers for the proxy's integration tests: a sandbox upstream, a proxy started from a
//! TOML snippet, a tiny cookie jar, raw HTTP for requests a normal client would "fix", and
//! misbehaving upstreams (down, silent, garbage) for fault tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use userdeck_proxy::{Config, Proxy};
use userdeck_sandbox::{Sandbox, demo};

pub fn localhost() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

pub async fn sandbox() -> Sandbox {
    sandbox_with(userdeck_sandbox::Config::default()).await
}

pub async fn sandbox_with(config: userdeck_sandbox::Config) -> Sandbox {
    Sandbox::start(config, localhost()).await.unwrap()
}

/// Connections against `sandbox`: `capsule` (OAuth), `capsule-pat` and `appcrm` (server tokens),
/// `zurmo` (server login), `appcrm-browser` and `zurmo-browser` (browser credentials).
pub fn sandbox_connections(sandbox: &Sandbox, proxy_port: u16) -> String {
    format!(
        r#"
[connections.capsule]
name = "Capsule"
provider = "capsule"
base_url = "{capsule}"
[connections.capsule.oauth]
client_id = "{client_id}"
client_secret = "{client_secret}"
authorise_url = "{capsule}/oauth/authorise"
token_url = "{capsule}/oauth/token"
revoke_url = "{capsule}/oauth/revoke"
scopes = "read write"
redirect_url = "http://127.0.0.1:{proxy_port}/oauth/capsule/callback"

[connections.capsule-pat]
provider = "capsule"
base_url = "{capsule}"
token = "{capsule_token}"

[connections.appcrm]
provider = "appcrm"
base_url = "{appcrm}"
token = "{appcrm_token}"

[connections.appcrm-browser]
provider = "appcrm"
base_url = "{appcrm}"

[connections.zurmo]
provider = "zurmo"
base_url = "{zurmo}"
username = "{zurmo_user}"
password = "{zurmo_password}"

[connections.zurmo-browser]
provider = "zurmo"
base_url = "{zurmo}"
"#,
        capsule = sandbox.capsule_base(),
        appcrm = sandbox.appcrm_base(),
        zurmo = sandbox.zurmo_base(),
        client_id = demo::OAUTH_CLIENT_ID,
        client_secret = demo::OAUTH_CLIENT_SECRET,
        capsule_token = demo::CAPSULE_TOKEN,
        appcrm_token = demo::APPCRM_ADMIN_TOKEN,
        zurmo_user = demo::ZURMO_USERNAME,
        zurmo_password = demo::ZURMO_PASSWORD,
    )
}

/// A free port on 127.0.0.1 (the OAuth redirect URL must name the proxy's port before it starts).
pub async fn free_port() -> u16 {
    let listener = TcpListener::bind(localhost()).await.unwrap();
    listener.local_addr().unwrap().port()
}

/// Starts a proxy from `toml` (which must not set `listen`) on `port` (0 for any).
pub async fn proxy(toml: &str, port: u16) -> Proxy {
    let text = format!("listen = \"127.0.0.1:{port}\"\n{toml}");
    let config = Config::parse(&text, "test.toml", Path::new("."), &|_| None).unwrap();
    Proxy::start(config).await.unwrap()
}

/// A client that never follows redirects, so each hop can be inspected.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The body of `GET url`, sent with the `cookie` header when given.
pub async fn get_text(url: &str, cookie: Option<&str>) -> String {
    let mut request = client().get(url);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap().text().await.unwrap()
}

/// A minimal cookie jar: name -> value, honouring `Max-Age=0` deletions.
#[derive(Default, Clone, Debug)]
pub struct Jar(pub BTreeMap<String, String>);

impl Jar {
    pub fn absorb(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let first = text.split(';').next().unwrap();
            let (name, value) = first.split_once('=').unwrap();
            if text.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_string(), value.to_string());
            }
        }
    }

    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

/// Sends `request` verbatim (no client-side path normalisation) and returns status and body.
pub async fn raw(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf).await;
    parse_raw(&buf)
}

pub fn parse_raw(buf: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(buf).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

/// A `GET path` request line with `Connection: close`.
pub fn get_raw(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
}

/// An address where nothing listens.
pub async fn dead_address() -> SocketAddr {
    let listener = TcpListener::bind(localhost()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}

/// An upstream that accepts connections and reads, but never answers.
pub async fn silent_upstream() -> SocketAddr {
    let listener = TcpListener::bind(localhost()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// An upstream that answers every request with bytes that are not HTTP.
pub async fn garbage_upstream() -> SocketAddr {
    let listener = TcpListener::bind(localhost()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream
                    .write_all(b"SMTP READY \x00\xff garbage\r\n\r\n{{{")
                    .await;
                let _ = stream.shutdown().await;
            });
        }
    });
    addr
}

/// The JSON error body's `kind`.
pub async fn error_kind(response: reqwest::Response) -> String {
    let body: serde_json::Value = response.json().await.unwrap();
    body["error"]["kind"].as_str().unwrap().to_string()
}

/// A `dist/` holding only an `index.html` (Trunk-like: `</head>` then an empty body).
pub fn index_only_dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!DOCTYPE html><html><head><title>t</title></head><body></body></html>",
    )
    .unwrap();
    dir
}

/// The connection list a served `index.html` carries, parsed: the text of the
/// `<script id="userdeck-connections" type="application/json">` up to the first `</script>`,
/// the way a browser's HTML parser cuts it. Panics when the page has no such element.
pub fn embedded_connections(html: &str) -> serde_json::Value {
    let open = r#"<script id="userdeck-connections" type="application/json">"#;
    let start = html
        .find(open)
        .expect("the page carries the connection list")
        + open.len();
    let end = start
        + html[start..]
            .to_ascii_lowercase()
            .find("</script")
            .expect("the element is closed");
    serde_json::from_str(&html[start..end]).expect("the element holds JSON")
}

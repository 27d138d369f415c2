//! Shared helpers for the conformance tests: start a sandbox on port 0, make a client.
#![allow(dead_code)]

use std::net::SocketAddr;

use serde_json::Value;
use userdeck_sandbox::{Config, Sandbox};

pub async fn start(config: Config) -> Sandbox {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    Sandbox::start(config, addr).await.unwrap()
}

pub async fn start_default() -> Sandbox {
    start(Config::default()).await
}

/// A client that does not follow redirects (the OAuth and Laravel redirects are under test).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn body_json(res: reqwest::Response) -> Value {
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

pub fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

//! Requests the proxy must refuse before anything reaches an upstream: other hosts, traversal in
//! all its encodings, header injection, foreign origins, oversized and slow bodies. Each asserts
//! the status and, with the sandbox's `requests_seen()`, that nothing was forwarded.

mod common;

use std::time::Duration;

use axum::Json;
use axum::http::HeaderMap;
use axum::routing::any;
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMITS: &str = "
allowed_origins = [\"http://app.example\"]
[limits]
max_body_bytes = 1024
body_timeout_ms = 300
";

async fn setup() -> (userdeck_sandbox::Sandbox, userdeck_proxy::Proxy) {
    let sandbox = sandbox().await;
    let toml = format!("{LIMITS}\n{}", sandbox_connections(&sandbox, 1));
    let proxy = proxy(&toml, 0).await;
    (sandbox, proxy)
}

#[tokio::test]
async fn traversal_and_other_hosts_are_refused_unforwarded() {
    let (sandbox, proxy) = setup().await;
    let refused = [
        ("/proxy/appcrm/../zurmo/index.php/zurmo/api/login", 400),
        ("/proxy/appcrm/api/../../capsule/api/v2/users", 400),
        ("/proxy/appcrm/%2e%2e/capsule/api/v2/users", 400),
        ("/proxy/appcrm/%2E%2E%2Fcapsule/api/v2/users", 400),
        ("/proxy/appcrm/api/.%2e/.%2e/capsule", 400),
        ("/proxy/appcrm/%252e%252e/capsule/api/v2/users", 400),
        ("/proxy/appcrm/..%5c..%5ccapsule", 400),
        ("/proxy/appcrm/api/..;/..;/capsule", 400),
        ("/proxy/appcrm/@evil.example/api/users", 400),
        ("/proxy/appcrm//evil.example/api/users", 400),
        ("/proxy/appcrm/http:%2F%2Fevil.example/api/users", 400),
        ("/proxy/appcrm/http://evil.example/api/users", 400),
        ("/proxy/appcrm/api\\..\\..\\capsule", 400),
        ("/proxy/evil.example/api/users", 404),
        ("/proxy/127.0.0.1:80/api/users", 404),
        ("/proxy/appcrm", 404),
        // Absolute-form request targets never select an upstream by host.
        ("http://evil.example/proxy/appcrm/../x", 400),
    ];
    for (path, status) in refused {
        let (got, text) = raw(proxy.addr(), &get_raw(path)).await;
        assert_eq!(got, status, "{path}: {text}");
        assert!(
            text.contains("\"error\":{\"kind\""),
            "{path}: JSON error expected: {text}"
        );
    }
    // An absolute-form target naming the upstream itself is just a path on the proxy.
    let target = format!("{}/api/users", sandbox.appcrm_base());
    let (got, _) = raw(proxy.addr(), &get_raw(&target)).await;
    assert_eq!(got, 404);
    assert_eq!(sandbox.requests_seen(), 0, "nothing forwarded");
    // The same proxy still forwards honest requests.
    let ok = client()
        .get(format!("{}/proxy/appcrm/api/users", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(sandbox.requests_seen(), 1);
}

#[tokio::test]
async fn header_injection_is_refused_unforwarded() {
    let (sandbox, proxy) = setup().await;
    for path in [
        "/proxy/appcrm/api/users%0d%0aX-Injected:%20yes",
        "/proxy/appcrm/api/users%0aHost:%20evil.example",
        "/proxy/appcrm/api%00/users",
        "/proxy/appcrm/api/users%250d%250aX-Injected:%20yes",
    ] {
        let (got, text) = raw(proxy.addr(), &get_raw(path)).await;
        assert_eq!(got, 400, "{path}: {text}");
    }
    // A raw CR/LF in a header value never parses, let alone reaches the upstream.
    let (got, _) = raw(
        proxy.addr(),
        "GET /proxy/appcrm/api/users HTTP/1.1\r\nHost: x\r\nAccept: a\rX-Evil: 1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(got, 400);
    assert_eq!(sandbox.requests_seen(), 0);
}

/// An upstream that echoes the request headers it received, to see exactly what is forwarded.
async fn echo_upstream() -> std::net::SocketAddr {
    let app = axum::Router::new().fallback(any(|headers: HeaderMap| async move {
        let seen: serde_json::Map<String, serde_json::Value> = headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("?").into()))
            .collect();
        (
            [
                ("set-cookie", "PHPSESSID=upstream"),
                ("x-upstream-secret", "s"),
                ("connection", "close"),
            ],
            Json(seen),
        )
    }));
    let listener = tokio::net::TcpListener::bind(localhost()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn only_allowed_headers_cross_and_server_credentials_win() {
    let echo = echo_upstream().await;
    let toml = format!(
        "[connections.server]\nprovider = \"appcrm\"\nbase_url = \"http://{echo}/app\"\ntoken = \"server-token\"\n\
         [connections.browser]\nprovider = \"zurmo\"\nbase_url = \"http://{echo}/z\"\n"
    );
    let proxy = proxy(&toml, 0).await;
    let http = client();
    let send = |path: &str| {
        http.get(format!("{}{path}", proxy.url()))
            .header("cookie", "userdeck_session=abc; other=1")
            .header("authorization", "Bearer browser-token")
            .header("x-forwarded-host", "evil.example")
            .header("x-forwarded-for", "1.2.3.4")
            .header("zurmo_session_id", "zs")
            .header("zurmo_token", "zt")
            .header("proxy-authorization", "Basic eA==")
            .header("te", "trailers")
            .header("accept", "application/json")
            .send()
    };
    let server = send("/proxy/server/api/users").await.unwrap();
    assert!(
        server.headers().get("set-cookie").is_none(),
        "upstream cookies never reach the browser"
    );
    assert!(server.headers().get("x-upstream-secret").is_none());
    let seen: serde_json::Value = server.json().await.unwrap();
    assert_eq!(seen["authorization"], "Bearer server-token");
    assert_eq!(seen["host"], echo.to_string());
    assert_eq!(seen["accept"], "application/json");
    for absent in [
        "cookie",
        "x-forwarded-host",
        "x-forwarded-for",
        "zurmo_session_id",
        "proxy-authorization",
        "te",
    ] {
        assert!(seen.get(absent).is_none(), "{absent} forwarded: {seen}");
    }
    let browser: serde_json::Value = send("/proxy/browser/users/user/api/read/1")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        browser["authorization"], "Bearer browser-token",
        "browser credentials pass when the proxy has none"
    );
    assert_eq!(browser["zurmo_session_id"], "zs");
    assert_eq!(browser["zurmo_token"], "zt");
    assert!(browser.get("cookie").is_none());
}

#[tokio::test]
async fn disallowed_origins_are_refused_and_preflights_answered_locally() {
    let (sandbox, proxy) = setup().await;
    let http = client();
    let url = format!("{}/proxy/appcrm/api/users", proxy.url());
    let evil = http
        .get(&url)
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    assert_eq!(error_kind(evil).await, "origin_not_allowed");
    let evil_post = http
        .post(&url)
        .header("origin", "null")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(evil_post.status(), 403);
    let evil_preflight = http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "http://evil.example")
        .header("access-control-request-method", "DELETE")
        .send()
        .await
        .unwrap();
    assert_eq!(evil_preflight.status(), 403);
    let evil_logout = http
        .post(format!("{}/oauth/capsule/logout", proxy.url()))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(evil_logout.status(), 403, "no cross-site sign-out");

    let preflight = http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "http://app.example")
        .header("access-control-request-method", "PUT")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "http://app.example");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("PUT")
    );
    assert!(
        h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    assert_eq!(
        sandbox.requests_seen(),
        0,
        "preflights and refusals are never forwarded"
    );

    let allowed = http
        .get(&url)
        .header("origin", "http://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://app.example"
    );
    assert!(
        allowed.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("x-ratelimit-remaining")
    );
    assert!(
        allowed.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("x-app-version")
    );
    let same_origin = http
        .get(&url)
        .header("origin", proxy.url())
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), 200);
    assert!(
        same_origin
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert_eq!(sandbox.requests_seen(), 2);
}

#[tokio::test]
async fn oversized_bodies_are_refused_unforwarded() {
    let (sandbox, proxy) = setup().await;
    let http = client();
    let url = format!("{}/proxy/appcrm/api/users", proxy.url());
    let declared = http
        .post(&url)
        .header("content-type", "application/json")
        .body(vec![b' '; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), 413);
    assert_eq!(error_kind(declared).await, "payload_too_large");
    // Chunked, so the size is only discovered while reading.
    let chunks =
        futures_util::stream::iter((0..8).map(|_| Ok::<_, std::io::Error>(vec![b' '; 512])));
    let chunked = http
        .post(&url)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(chunked.status(), 413);
    assert_eq!(sandbox.requests_seen(), 0);
    let fits = http
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(vec![b' '; 1000])
        .send()
        .await
        .unwrap();
    assert_ne!(fits.status(), 413);
    assert_eq!(sandbox.requests_seen(), 1);
}

#[tokio::test]
async fn slow_uploads_time_out_unforwarded() {
    let (sandbox, proxy) = setup().await;
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    stream
        .write_all(b"POST /proxy/appcrm/api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":")
        .await
        .unwrap();
    // Never send the rest; the proxy must give up on its own (body_timeout_ms = 300).
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the proxy must close a stalled upload");
    let (status, text) = parse_raw(&buf);
    assert_eq!(status, 408, "{text}");
    assert!(text.contains("request_timeout"));
    assert_eq!(sandbox.requests_seen(), 0);
}

//! "Refresh once on a 401" needs an upstream whose API keeps refusing freshly refreshed tokens,
//! which the sandbox (rightly) never does; this small stand-in Capsule counts token and API
//! calls so the test can prove the proxy does not loop.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use common::*;

#[derive(Default)]
struct Counts {
    refreshes: AtomicUsize,
    api_calls: AtomicUsize,
}

async fn stubborn_capsule() -> (std::net::SocketAddr, Arc<Counts>) {
    let counts = Arc::new(Counts::default());
    let app = axum::Router::new()
        .route(
            "/oauth/authorise",
            get(
                |Query(q): Query<std::collections::HashMap<String, String>>| async move {
                    Redirect::to(&format!(
                        "{}?code=c1&state={}",
                        q["redirect_uri"], q["state"]
                    ))
                },
            ),
        )
        .route(
            "/oauth/token",
            post(|State(c): State<Arc<Counts>>, body: String| async move {
                let n = if body.contains("grant_type=refresh_token") {
                    c.refreshes.fetch_add(1, Ordering::SeqCst) + 1
                } else {
                    0
                };
                axum::Json(
                    serde_json::json!({"access_token": format!("a{n}"), "token_type": "bearer",
                    "expires_in": 3600, "refresh_token": format!("r{n}")}),
                )
            }),
        )
        .route(
            "/api/v2/users/current",
            get(|State(c): State<Arc<Counts>>| async move {
                c.api_calls.fetch_add(1, Ordering::SeqCst);
                (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(serde_json::json!({"message": "invalid token"})),
                )
                    .into_response()
            }),
        )
        .with_state(counts.clone());
    let listener = tokio::net::TcpListener::bind(localhost()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, counts)
}

#[tokio::test]
async fn a_401_triggers_exactly_one_refresh_and_one_retry() {
    let (upstream, counts) = stubborn_capsule().await;
    let port = free_port().await;
    let toml = format!(
        "[connections.c]\nprovider = \"capsule\"\nbase_url = \"http://{upstream}\"\n[connections.c.oauth]\n\
         client_id = \"id\"\nauthorise_url = \"http://{upstream}/oauth/authorise\"\ntoken_url = \"http://{upstream}/oauth/token\"\n\
         redirect_url = \"http://127.0.0.1:{port}/oauth/c/callback\"\n"
    );
    let proxy = proxy(&toml, port).await;
    let http = client();
    let start = http
        .get(format!("{}/oauth/c/start", proxy.url()))
        .send()
        .await
        .unwrap();
    let mut jar = Jar::default();
    jar.absorb(&start);
    let callback = location(&http.get(location(&start)).send().await.unwrap());
    let back = http
        .get(&callback)
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    jar.absorb(&back);
    assert_eq!(location(&back), "/?oauth=signed_in&connection=c");

    let call = http
        .get(format!("{}/proxy/c/api/v2/users/current", proxy.url()))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), 401, "the second 401 is passed through");
    assert!(
        call.headers().get("set-cookie").is_some(),
        "the refreshed tokens are still kept"
    );
    let body: serde_json::Value = call.json().await.unwrap();
    assert_eq!(body["message"], "invalid token");
    assert_eq!(counts.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(counts.api_calls.load(Ordering::SeqCst), 2);
}

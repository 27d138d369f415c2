//! Upstreams that are down, silent or speaking garbage: the app gets a clear JSON error with
//! 502/504, and the proxy keeps serving other connections meanwhile.

mod common;

use common::*;

async fn setup(extra: &str) -> (userdeck_sandbox::Sandbox, userdeck_proxy::Proxy) {
    setup_with_timeout(400, extra).await
}

async fn setup_with_timeout(
    read_timeout_ms: u64,
    extra: &str,
) -> (userdeck_sandbox::Sandbox, userdeck_proxy::Proxy) {
    let sandbox = sandbox().await;
    let dead = dead_address().await;
    let silent = silent_upstream().await;
    let garbage = garbage_upstream().await;
    let toml = format!(
        "[limits]\nconnect_timeout_ms = 1000\nread_timeout_ms = {read_timeout_ms}\n{extra}\n\
         [connections.down]\nprovider = \"appcrm\"\nbase_url = \"http://{dead}/appcrm\"\n\
         [connections.slow]\nprovider = \"appcrm\"\nbase_url = \"http://{silent}/appcrm\"\n\
         [connections.garbage]\nprovider = \"appcrm\"\nbase_url = \"http://{garbage}/appcrm\"\n\
         [connections.good]\nprovider = \"appcrm\"\nbase_url = \"{}\"\ntoken = \"{}\"\n",
        sandbox.appcrm_base(),
        userdeck_sandbox::demo::APPCRM_ADMIN_TOKEN
    );
    (sandbox, proxy(&toml, 0).await)
}

async fn still_serving(proxy: &userdeck_proxy::Proxy) {
    let ok = client()
        .get(format!("{}/proxy/good/api/users?per_page=2", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
}

async fn expect_error(proxy: &userdeck_proxy::Proxy, connection: &str, status: u16, kind: &str) {
    let response = client()
        .get(format!("{}/proxy/{connection}/api/users", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), status, "{connection}");
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["kind"], kind, "{body}");
    assert!(!body["error"]["message"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn upstream_down_gives_502_and_others_keep_working() {
    let (_sandbox, proxy) = setup("").await;
    expect_error(&proxy, "down", 502, "upstream_unreachable").await;
    still_serving(&proxy).await;
}

#[tokio::test]
async fn upstream_slower_than_the_timeout_gives_504_and_others_keep_working() {
    let (_sandbox, proxy) = setup("").await;
    tokio::join!(
        expect_error(&proxy, "slow", 504, "upstream_timeout"),
        still_serving(&proxy)
    );
    still_serving(&proxy).await;
}

#[tokio::test]
async fn upstream_garbage_gives_502_and_others_keep_working() {
    let (_sandbox, proxy) = setup("").await;
    expect_error(&proxy, "garbage", 502, "upstream_invalid").await;
    expect_error(&proxy, "garbage", 502, "upstream_invalid").await;
    still_serving(&proxy).await;
}

#[tokio::test]
async fn sandbox_faults_pass_through_as_upstream_answers_or_502() {
    let (sandbox, proxy) = setup("").await;
    sandbox.set_fault_rate(1.0);
    for _ in 0..6 {
        let response = client()
            .get(format!("{}/proxy/good/api/users", proxy.url()))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        // A fault is App CRM's own 500 (passed through), a dropped connection (502), or a 200
        // whose JSON stops short (passed through as it came: the app's decoder reports it).
        let body = response.bytes().await.unwrap();
        let json = serde_json::from_slice::<serde_json::Value>(&body);
        match status {
            500 => assert_eq!(json.unwrap()["message"], "Server Error"),
            502 => assert_eq!(json.unwrap()["error"]["kind"], "upstream_invalid"),
            200 => assert!(json.is_err(), "a whole list under faults: {body:?}"),
            other => panic!("{other}"),
        }
    }
    sandbox.set_fault_rate(0.0);
    still_serving(&proxy).await;
}

#[tokio::test]
async fn a_full_connection_answers_503_busy_while_others_work() {
    // The occupying call holds the only slot for the whole 3 s read timeout.
    let (_sandbox, proxy) = setup_with_timeout(
        3000,
        "max_concurrent_per_connection = 1\nqueue_timeout_ms = 100",
    )
    .await;
    let url = format!("{}/proxy/slow/api/users", proxy.url());
    let occupying = tokio::spawn(async move { client().get(url).send().await.unwrap().status() });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let busy = client()
        .get(format!("{}/proxy/slow/api/users", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(busy.status(), 503);
    assert_eq!(busy.headers()["retry-after"], "1");
    assert_eq!(error_kind(busy).await, "busy");
    still_serving(&proxy).await;
    assert_eq!(occupying.await.unwrap(), 504);
}

//! Forwarding against the sandbox with each kind of credentials: server tokens, the proxy's own
//! Zurmo session (with re-login on "Sign in required."), and browser credentials passed through;
//! plus the `/api/connections` document and the headers the app relies on.

mod common;

use common::*;
use userdeck_sandbox::{Crm, demo};

async fn setup() -> (userdeck_sandbox::Sandbox, userdeck_proxy::Proxy) {
    let sandbox = sandbox().await;
    let proxy = proxy(&sandbox_connections(&sandbox, 1), 0).await;
    (sandbox, proxy)
}

#[tokio::test]
async fn connections_document_lists_everything_without_secrets() {
    let (_sandbox, proxy) = setup().await;
    let response = client()
        .get(format!("{}/api/connections", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let text = response.text().await.unwrap();
    for secret in [
        demo::OAUTH_CLIENT_SECRET,
        demo::CAPSULE_TOKEN,
        demo::APPCRM_ADMIN_TOKEN,
        demo::ZURMO_PASSWORD,
    ] {
        assert!(!text.contains(secret), "leaked {secret}");
    }
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let list = doc["connections"].as_array().unwrap();
    let ids: Vec<&str> = list.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "capsule",
            "capsule-pat",
            "appcrm",
            "appcrm-browser",
            "zurmo",
            "zurmo-browser"
        ]
    );
    let by_id = |id: &str| list.iter().find(|c| c["id"] == id).unwrap().clone();
    assert_eq!(
        by_id("capsule"),
        serde_json::json!({"id": "capsule", "name": "Capsule", "provider": "capsule", "base_url": "/proxy/capsule",
            "auth": "oauth", "signed_in": false,
            "oauth": {"start": "/oauth/capsule/start", "logout": "/oauth/capsule/logout"}})
    );
    assert_eq!(by_id("appcrm")["auth"], "server");
    assert_eq!(by_id("appcrm")["signed_in"], true);
    assert_eq!(by_id("zurmo")["auth"], "server");
    assert_eq!(by_id("zurmo-browser")["auth"], "browser");
    assert_eq!(by_id("zurmo-browser")["signed_in"], false);
    assert!(by_id("appcrm").get("oauth").is_none());
}

#[tokio::test]
async fn capsule_paging_and_rate_limit_headers_come_back_pointing_at_the_proxy() {
    let (_sandbox, proxy) = setup().await;
    let response = client()
        .get(format!(
            "{}/proxy/capsule-pat/api/v2/users?perPage=5",
            proxy.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let h = response.headers();
    let link = h["link"].to_str().unwrap();
    assert!(link.contains("</proxy/capsule-pat/api/v2/users?"), "{link}");
    assert!(
        link.contains("page=2") && link.contains("rel=\"next\""),
        "{link}"
    );
    assert_eq!(h["x-pagination-has-more"], "true");
    assert!(
        h.contains_key("x-ratelimit-limit")
            && h.contains_key("x-ratelimit-remaining")
            && h.contains_key("x-ratelimit-reset")
    );
    let next = link.split(['<', '>']).nth(1).unwrap().to_string();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["users"].as_array().unwrap().len(), 5);
    let page2 = client()
        .get(format!("{}{next}", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(page2.status(), 200, "the rewritten Link is directly usable");
}

#[tokio::test]
async fn statuses_and_bodies_pass_through() {
    let (sandbox, proxy) = setup().await;
    let missing = client()
        .get(format!("{}/proxy/appcrm/api/users/999999", proxy.url()))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // App CRM's release comes back: the app's forms depend on it.
    assert_eq!(missing.headers()["x-app-version"], "1.5.1");
    let body: serde_json::Value = missing.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("No query results"),
        "{body}"
    );
    sandbox.force_rate_limit(Crm::AppCrm, std::time::Duration::from_secs(30));
    let limited = client()
        .get(format!("{}/proxy/appcrm/api/users", proxy.url()))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn zurmo_server_login_is_kept_and_renewed_on_sign_in_required() {
    let (sandbox, proxy) = setup().await;
    let read = || async {
        let response = client()
            .get(format!("{}/proxy/zurmo/users/user/api/read/1", proxy.url()))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert!(response.headers().get("set-cookie").is_none());
        response.json::<serde_json::Value>().await.unwrap()
    };
    assert_eq!(read().await["status"], "SUCCESS");
    let seen = sandbox.requests_seen();
    assert_eq!(read().await["status"], "SUCCESS");
    assert_eq!(
        sandbox.requests_seen() - seen,
        1,
        "session reused, no second login"
    );
    sandbox.expire_sessions(Crm::Zurmo);
    let seen = sandbox.requests_seen();
    assert_eq!(read().await["status"], "SUCCESS");
    assert_eq!(sandbox.requests_seen() - seen, 3, "call, login, call again");
    let logout = client()
        .get(format!("{}/proxy/zurmo/zurmo/api/logout", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        logout.status(),
        403,
        "the shared server session cannot be signed out by a browser"
    );
}

#[tokio::test]
async fn browser_credentials_pass_through_when_the_proxy_has_none() {
    let (_sandbox, proxy) = setup().await;
    let http = client();
    let anonymous = http
        .get(format!("{}/proxy/appcrm-browser/api/users", proxy.url()))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let mine = http
        .get(format!("{}/proxy/appcrm-browser/api/me", proxy.url()))
        .header("accept", "application/json")
        .bearer_auth(demo::APPCRM_USER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(mine.status(), 200);
    let me: serde_json::Value = mine.json().await.unwrap();
    assert_eq!(me["email"], demo::APPCRM_USER_EMAIL);

    let login = http
        .post(format!(
            "{}/proxy/zurmo-browser/zurmo/api/login",
            proxy.url()
        ))
        .header("accept", "application/json")
        .header("ZURMO_AUTH_USERNAME", demo::ZURMO_USERNAME)
        .header("ZURMO_AUTH_PASSWORD", demo::ZURMO_PASSWORD)
        .send()
        .await
        .unwrap();
    let login: serde_json::Value = login.json().await.unwrap();
    assert_eq!(login["status"], "SUCCESS", "{login}");
    let read: serde_json::Value = http
        .get(format!(
            "{}/proxy/zurmo-browser/users/user/api/read/1",
            proxy.url()
        ))
        .header("accept", "application/json")
        .header(
            "ZURMO_SESSION_ID",
            login["data"]["sessionId"].as_str().unwrap(),
        )
        .header("ZURMO_TOKEN", login["data"]["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["status"], "SUCCESS", "{read}");
}

#[tokio::test]
async fn writes_are_forwarded_with_their_bodies() {
    let (_sandbox, proxy) = setup().await;
    let created = client()
        .post(format!("{}/proxy/appcrm/api/users", proxy.url()))
        .header("accept", "application/json")
        .json(&serde_json::json!({
            "name": "Proxy Person", "email": "proxy.person@example.com", "password": "secret1",
            "password_confirmation": "secret1", "timezone": "UTC", "date_format": "Y-m-d", "time_format": "H:i"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let user: serde_json::Value = created.json().await.unwrap();
    assert_eq!(user["email"], "proxy.person@example.com");
}

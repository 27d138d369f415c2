//! The OAuth redirect flow driven over HTTP against the sandbox's Capsule OAuth server:
//! start → consent → callback → proxied call → refresh → logout, and the ways it can go wrong.

mod common;

use common::*;
use userdeck_sandbox::Crm;

struct Flow {
    sandbox: userdeck_sandbox::Sandbox,
    proxy: userdeck_proxy::Proxy,
    http: reqwest::Client,
    _dist: tempfile::TempDir,
}

impl Flow {
    async fn new() -> Flow {
        Flow::with(userdeck_sandbox::Config::default()).await
    }

    async fn with(config: userdeck_sandbox::Config) -> Flow {
        let sandbox = sandbox_with(config).await;
        let port = free_port().await;
        let dist = index_only_dist();
        let toml = format!(
            "static_dir = {:?}\n{}",
            dist.path().display().to_string(),
            sandbox_connections(&sandbox, port)
        );
        let proxy = proxy(&toml, port).await;
        Flow {
            sandbox,
            proxy,
            http: client(),
            _dist: dist,
        }
    }

    /// `/start`: returns the consent URL and the jar holding the sealed hand-off cookie.
    async fn start(&self) -> (String, Jar) {
        let response = self
            .http
            .get(format!(
                "{}/oauth/capsule/start?return_to=/users%3Fpage%3D2",
                self.proxy.url()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        let set_cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            set_cookie.starts_with("userdeck_oauth_capsule="),
            "{set_cookie}"
        );
        assert!(
            set_cookie.contains("; Path=/oauth/capsule; Max-Age=600; HttpOnly; SameSite=Lax"),
            "{set_cookie}"
        );
        let mut jar = Jar::default();
        jar.absorb(&response);
        assert_eq!(jar.0.len(), 1, "one hand-off cookie");
        let consent = location(&response);
        assert!(consent.starts_with(&format!("{}/oauth/authorise?", self.sandbox.capsule_base())));
        assert!(consent.contains("code_challenge_method=S256"));
        assert!(!consent.contains("client_secret"));
        (consent, jar)
    }

    /// Shows the consent page and answers it; returns where the sandbox sends the browser.
    async fn consent(&self, consent_url: &str, decision: &str) -> String {
        let page = self
            .http
            .get(consent_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let marker = "name=\"request\" value=\"";
        let start = page.find(marker).expect("consent form") + marker.len();
        let id = &page[start..start + page[start..].find('"').unwrap()];
        let answer = self
            .http
            .post(format!("{}/oauth/authorise", self.sandbox.capsule_base()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("request={id}&decision={decision}"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 302);
        let callback = location(&answer);
        assert!(
            callback.starts_with(&format!("{}/oauth/capsule/callback?", self.proxy.url())),
            "{callback}"
        );
        callback
    }

    async fn callback(&self, callback_url: &str, jar: &mut Jar) -> String {
        let response = self
            .http
            .get(callback_url)
            .header("cookie", jar.header())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        jar.absorb(&response);
        location(&response)
    }

    async fn signed_in_jar(&self) -> Jar {
        let (consent, mut jar) = self.start().await;
        let callback = self.consent(&consent, "allow").await;
        let back = self.callback(&callback, &mut jar).await;
        assert_eq!(back, "/users?page=2&oauth=signed_in&connection=capsule");
        jar
    }

    async fn current_user(&self, jar: &mut Jar) -> reqwest::Response {
        let response = self
            .http
            .get(format!(
                "{}/proxy/capsule/api/v2/users/current",
                self.proxy.url()
            ))
            .header("cookie", jar.header())
            .send()
            .await
            .unwrap();
        jar.absorb(&response);
        response
    }

    async fn signed_in(&self, jar: &Jar) -> bool {
        let cookie = Some(jar.header());
        let list: serde_json::Value = serde_json::from_str(
            &get_text(
                &format!("{}/api/connections", self.proxy.url()),
                cookie.as_deref(),
            )
            .await,
        )
        .unwrap();
        // The page the proxy serves carries the same list for the same session, so the app
        // starts with what it would have fetched.
        let page = get_text(
            &format!("{}/c/capsule/users", self.proxy.url()),
            cookie.as_deref(),
        )
        .await;
        assert_eq!(embedded_connections(&page), list);
        let capsule = list["connections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "capsule")
            .unwrap()
            .clone();
        assert_eq!(capsule["auth"], "oauth");
        assert_eq!(capsule["oauth"]["start"], "/oauth/capsule/start");
        capsule["signed_in"].as_bool().unwrap()
    }
}

#[tokio::test]
async fn full_round_trip_start_consent_callback_call_refresh_logout() {
    let flow = Flow::new().await;
    let mut jar = Jar::default();
    assert!(!flow.signed_in(&jar).await);
    let not_yet = flow.current_user(&mut jar).await;
    assert_eq!(not_yet.status(), 401);
    assert_eq!(error_kind(not_yet).await, "unauthorized");

    let (consent, mut handoff) = flow.start().await;
    let callback = flow.consent(&consent, "allow").await;
    assert!(callback.contains("code=") && callback.contains("state="));
    let back = flow.callback(&callback, &mut handoff).await;
    assert_eq!(
        back, "/users?page=2&oauth=signed_in&connection=capsule",
        "no code in the app URL"
    );
    assert_eq!(
        handoff.0.len(),
        1,
        "hand-off cookie cleared, session cookie set"
    );
    assert!(handoff.0.contains_key("userdeck_session"), "session cookie");
    jar = handoff;
    assert!(flow.signed_in(&jar).await);

    let me = flow.current_user(&mut jar).await;
    assert_eq!(me.status(), 200);
    assert!(me.headers().contains_key("x-ratelimit-remaining"));
    let body: serde_json::Value = me.json().await.unwrap();
    assert!(body["user"]["id"].is_u64(), "{body}");

    // The sandbox forgets every access token: the proxy refreshes once and retries.
    flow.sandbox.expire_sessions(Crm::Capsule);
    let before = jar.0["userdeck_session"].clone();
    let refreshed = flow.current_user(&mut jar).await;
    assert_eq!(refreshed.status(), 200);
    assert_ne!(
        jar.0["userdeck_session"], before,
        "new tokens sealed into the cookie"
    );
    assert_eq!(
        flow.current_user(&mut jar).await.status(),
        200,
        "new cookie works without refresh"
    );

    let out = flow
        .http
        .post(format!("{}/oauth/capsule/logout", flow.proxy.url()))
        .header("cookie", jar.header())
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    let old_cookie = jar.clone();
    jar.absorb(&out);
    let body: serde_json::Value = out.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"signed_out": true, "revoked": true})
    );
    assert!(jar.0.is_empty(), "session cookie deleted");
    assert!(!flow.signed_in(&jar).await);

    // The tokens were revoked upstream too: a copy of the old cookie is useless.
    let mut stolen = old_cookie;
    let replay = flow.current_user(&mut stolen).await;
    assert_eq!(replay.status(), 401);
    assert_eq!(error_kind(replay).await, "unauthorized");
}

#[tokio::test]
async fn tokens_near_expiry_are_refreshed_before_the_call() {
    let config = userdeck_sandbox::Config {
        oauth_token_ttl: std::time::Duration::from_secs(20),
        ..Default::default()
    };
    let flow = Flow::with(config).await;
    let mut jar = flow.signed_in_jar().await;
    let before = jar.0["userdeck_session"].clone();
    let seen = flow.sandbox.requests_seen();
    let me = flow.current_user(&mut jar).await;
    assert_eq!(me.status(), 200);
    assert_ne!(
        jar.0["userdeck_session"], before,
        "refreshed ahead of expiry"
    );
    assert_eq!(
        flow.sandbox.requests_seen() - seen,
        2,
        "one refresh, one API call, no 401 round"
    );
}

#[tokio::test]
async fn tampered_state_is_refused_and_nothing_is_exchanged() {
    let flow = Flow::new().await;
    let (consent, mut jar) = flow.start().await;
    let callback = flow.consent(&consent, "allow").await;
    let (front, state_and_rest) = callback.split_once("state=").unwrap();
    let tampered = format!("{front}state=X{state_and_rest}");
    let seen = flow.sandbox.requests_seen();
    let back = flow.callback(&tampered, &mut jar).await;
    assert!(
        back.starts_with("/users?page=2&oauth=error&connection=capsule&reason="),
        "{back}"
    );
    assert!(back.contains("did+not+match"), "{back}");
    assert_eq!(flow.sandbox.requests_seen(), seen, "no token request");
    assert!(jar.0.is_empty(), "no session, hand-off spent");
    // Even with the genuine state, the spent hand-off cookie is gone.
    let back = flow.callback(&callback, &mut jar).await;
    assert!(
        back.starts_with("/?oauth=error&connection=capsule&reason="),
        "{back}"
    );
}

#[tokio::test]
async fn callback_without_the_handoff_cookie_is_refused() {
    let flow = Flow::new().await;
    let (consent, _jar) = flow.start().await;
    let callback = flow.consent(&consent, "allow").await;
    let mut other_browser = Jar::default();
    let back = flow.callback(&callback, &mut other_browser).await;
    assert!(
        back.contains("oauth=error") && back.contains("could+not+be+matched"),
        "{back}"
    );
    assert!(other_browser.0.is_empty());
}

#[tokio::test]
async fn replayed_code_is_refused_and_revokes_the_first_session() {
    let flow = Flow::new().await;
    let (consent, handoff) = flow.start().await;
    let callback = flow.consent(&consent, "allow").await;
    let mut first = handoff.clone();
    let back = flow.callback(&callback, &mut first).await;
    assert!(back.contains("oauth=signed_in"));
    assert_eq!(flow.current_user(&mut first).await.status(), 200);

    let mut replay = handoff;
    let back = flow.callback(&callback, &mut replay).await;
    assert!(back.contains("oauth=error"), "{back}");
    assert!(back.contains("did+not+accept+the+sign-in+code"), "{back}");
    assert!(!replay.0.contains_key("userdeck_session"));
    // RFC 6749 §4.1.2: the server revokes what the code issued; the first session ends.
    let after = flow.current_user(&mut first).await;
    assert_eq!(after.status(), 401);
}

#[tokio::test]
async fn denied_consent_returns_to_the_app_with_a_reason() {
    let flow = Flow::new().await;
    let (consent, mut jar) = flow.start().await;
    let callback = flow.consent(&consent, "deny").await;
    assert!(callback.contains("error=access_denied"));
    let back = flow.callback(&callback, &mut jar).await;
    assert_eq!(
        back,
        "/users?page=2&oauth=error&connection=capsule&reason=Access+to+Capsule+was+not+granted."
    );
    assert!(jar.0.is_empty());
    assert!(!flow.signed_in(&jar).await);
}

#[tokio::test]
async fn open_redirects_are_not_possible() {
    let flow = Flow::new().await;
    for evil in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
    ] {
        let response = flow
            .http
            .get(format!("{}/oauth/capsule/start", flow.proxy.url()))
            .query(&[("return_to", evil)])
            .send()
            .await
            .unwrap();
        let mut jar = Jar::default();
        jar.absorb(&response);
        let callback = flow.consent(&location(&response), "deny").await;
        let back = flow.callback(&callback, &mut jar).await;
        assert!(back.starts_with("/?oauth=error"), "{evil} -> {back}");
    }
}

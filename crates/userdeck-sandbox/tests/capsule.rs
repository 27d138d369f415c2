//! Capsule CRM conformance over real HTTP: users, paging, errors, rate limit, OAuth.

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use userdeck_sandbox::{Config, Crm, demo};

fn get(sb: &userdeck_sandbox::Sandbox, path: &str) -> reqwest::RequestBuilder {
    client()
        .get(format!("{}{path}", sb.capsule_base()))
        .bearer_auth(demo::CAPSULE_TOKEN)
}

#[tokio::test]
async fn lists_users_with_links_and_rate_headers() {
    let sb = start_default().await;
    let res = get(&sb, "/api/v2/users").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "x-pagination-has-more").as_deref(),
        Some("true")
    );
    assert_eq!(header(&res, "x-ratelimit-limit").as_deref(), Some("4000"));
    assert_eq!(
        header(&res, "x-ratelimit-remaining").as_deref(),
        Some("3999")
    );
    assert!(
        header(&res, "x-ratelimit-reset")
            .unwrap()
            .parse::<i64>()
            .unwrap()
            > 1_700_000_000
    );
    let link = header(&res, "link").unwrap();
    assert_eq!(
        link,
        format!("<{}/api/v2/users?page=2>; rel=\"next\"", sb.capsule_base())
    );
    let body = body_json(res).await;
    let users = body["users"].as_array().unwrap();
    assert_eq!(users.len(), 50);
    let first = &users[0];
    assert_eq!(first["id"], 1);
    assert_eq!(first["name"], "Scott Spacey");
    assert_eq!(
        first["party"]["pictureURL"],
        "https://facehub.appspot.com/default/person?text=SS&size=100"
    );
    assert!(first.get("email").is_none(), "email lives on the party");
    assert!(first["lastLoginAt"].as_str().unwrap().ends_with('Z'));
    assert!(
        users
            .iter()
            .any(|u| !u["name"].as_str().unwrap().is_ascii())
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn paging_edges() {
    let sb = start_default().await;
    // Last page (300 users, 50 per page): only rel="prev".
    let res = get(&sb, "/api/v2/users?page=6&perPage=50&embed=party")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&res, "x-pagination-has-more").as_deref(),
        Some("false")
    );
    let link = header(&res, "link").unwrap();
    assert_eq!(
        link,
        format!(
            "<{}/api/v2/users?page=5&perPage=50&embed=party>; rel=\"prev\"",
            sb.capsule_base()
        )
    );
    assert_eq!(body_json(res).await["users"].as_array().unwrap().len(), 50);
    // Past the end: empty list, no next.
    let res = get(&sb, "/api/v2/users?page=99").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "x-pagination-has-more").as_deref(),
        Some("false")
    );
    assert!(!header(&res, "link").unwrap().contains("next"));
    assert_eq!(body_json(res).await["users"], Value::Array(vec![]));
    // Middle page: both links, parameters repeated.
    let res = get(&sb, "/api/v2/users?perPage=7&page=3")
        .send()
        .await
        .unwrap();
    let link = header(&res, "link").unwrap();
    assert!(link.contains("page=2&perPage=7>; rel=\"prev\""), "{link}");
    assert!(link.contains("page=4&perPage=7>; rel=\"next\""), "{link}");
    let users = body_json(res).await["users"].as_array().unwrap().clone();
    assert_eq!(users[0]["id"], 15);
    // perPage bounds: 100 is the maximum; 0, 101 and junk are refused.
    let res = get(&sb, "/api/v2/users?perPage=100").send().await.unwrap();
    assert_eq!(body_json(res).await["users"].as_array().unwrap().len(), 100);
    for bad in [
        "perPage=0",
        "perPage=101",
        "perPage=abc",
        "page=0",
        "page=-1",
        "perPage=99999999999999999999999",
    ] {
        let res = get(&sb, &format!("/api/v2/users?{bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{bad}");
        assert!(body_json(res).await["message"].is_string());
    }
    // embed=meta adds the total.
    let res = get(&sb, "/api/v2/users?embed=meta&perPage=1")
        .send()
        .await
        .unwrap();
    assert_eq!(body_json(res).await["meta"]["totalCount"], 300);
    sb.shutdown().await;
}

#[tokio::test]
async fn current_user_single_user_and_party_embed() {
    let sb = start_default().await;
    let res = get(&sb, "/api/v2/users/current").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let me = body_json(res).await;
    assert_eq!(me["user"]["id"], 1);
    assert_eq!(me["user"]["username"], "scott");
    assert!(me["user"]["party"].get("emailAddresses").is_none());
    let res = get(&sb, "/api/v2/users/2?embed=party")
        .send()
        .await
        .unwrap();
    let user = body_json(res).await;
    let emails = user["user"]["party"]["emailAddresses"].as_array().unwrap();
    assert!(emails[0]["address"].as_str().unwrap().contains('@'));
    for missing in [
        "/api/v2/users/me",
        "/api/v2/users/99999",
        "/api/v2/users/abc",
        "/api/v2/parties/1/x",
    ] {
        let res = get(&sb, missing).send().await.unwrap();
        assert_eq!(res.status(), 404, "{missing}");
        assert_eq!(
            body_json(res).await,
            serde_json::json!({"message": "Could not find resource"})
        );
    }
    let res = client()
        .post(format!("{}/api/v2/users", sb.capsule_base()))
        .bearer_auth(demo::CAPSULE_TOKEN)
        .json(&serde_json::json!({"user": {"username": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    sb.shutdown().await;
}

#[tokio::test]
async fn authentication_failures() {
    let sb = start_default().await;
    for auth in [
        None,
        Some("Bearer nope"),
        Some("Basic Zm9vOmJhcg=="),
        Some("Bearer "),
    ] {
        let mut req = client().get(format!("{}/api/v2/users", sb.capsule_base()));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "{auth:?}");
        assert!(
            header(&res, "www-authenticate")
                .unwrap()
                .starts_with("Bearer")
        );
        assert!(body_json(res).await["message"].is_string());
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn hourly_rate_limit_and_forced_window() {
    let sb = start(Config {
        capsule_rate_limit: 3,
        ..Config::default()
    })
    .await;
    for remaining in ["2", "1", "0"] {
        let res = get(&sb, "/api/v2/users?perPage=1").send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            header(&res, "x-ratelimit-remaining").as_deref(),
            Some(remaining)
        );
    }
    let res = get(&sb, "/api/v2/users").send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(header(&res, "x-ratelimit-limit").as_deref(), Some("3"));
    assert_eq!(header(&res, "x-ratelimit-remaining").as_deref(), Some("0"));
    assert!(header(&res, "x-ratelimit-reset").is_some());
    assert!(header(&res, "retry-after").is_none());
    assert_eq!(
        body_json(res).await,
        serde_json::json!({"error": "rate limit reached"})
    );
    sb.shutdown().await;

    let sb = start_default().await;
    sb.force_rate_limit(Crm::Capsule, Duration::from_secs(60));
    let res = get(&sb, "/api/v2/users/current").send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(body_json(res).await["error"], "rate limit reached");
    sb.force_rate_limit(Crm::Capsule, Duration::ZERO);
    assert_eq!(
        get(&sb, "/api/v2/users/current")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    sb.shutdown().await;
}

// ---------------------------------------------------------------- OAuth

const REDIRECT: &str = "http://127.0.0.1:9999/callback";

fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode([7u8; 32]);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k == key).then(|| v.replace("%20", " ").replace("%3A", ":"))
    })
}

/// Runs the consent page and returns the redirect Location.
async fn consent(sb: &userdeck_sandbox::Sandbox, query: &str, decision: &str) -> String {
    let c = client();
    let res = c
        .get(format!("{}/oauth/authorise?{query}", sb.capsule_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "consent page");
    assert_eq!(header(&res, "x-frame-options").as_deref(), Some("DENY"));
    let page = res.text().await.unwrap();
    assert!(page.contains("value=\"allow\"") && page.contains("value=\"deny\""));
    let id = page
        .split("name=\"request\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let res = c
        .post(format!("{}/oauth/authorise", sb.capsule_base()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("request={}&decision={decision}", enc(&id)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    header(&res, "location").unwrap()
}

fn authorise_query(client_id: &str, challenge: Option<&str>, method: &str) -> String {
    let mut q = format!(
        "response_type=code&client_id={client_id}&redirect_uri={}&scope=read%20write&state=xyz123",
        enc(REDIRECT)
    );
    if let Some(c) = challenge {
        q.push_str(&format!(
            "&code_challenge={c}&code_challenge_method={method}"
        ));
    }
    q
}

async fn token_form(
    sb: &userdeck_sandbox::Sandbox,
    body: String,
    basic: bool,
) -> reqwest::Response {
    let mut req = client()
        .post(format!("{}/oauth/token", sb.capsule_base()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if basic {
        let creds = STANDARD.encode(format!(
            "{}:{}",
            demo::OAUTH_CLIENT_ID,
            demo::OAUTH_CLIENT_SECRET
        ));
        req = req.header("authorization", format!("Basic {creds}"));
    }
    req.send().await.unwrap()
}

/// The confidential client's consent with an S256 challenge, allowed (its redirect checked: back
/// to `REDIRECT` with the state), and the token request body that exchanges its code.
async fn code_grant(sb: &userdeck_sandbox::Sandbox) -> String {
    let (verifier, challenge) = pkce();
    let location = consent(
        sb,
        &authorise_query(demo::OAUTH_CLIENT_ID, Some(&challenge), "S256"),
        "allow",
    )
    .await;
    assert!(location.starts_with(REDIRECT));
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz123"));
    let code = query_param(&location, "code").unwrap();
    format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={verifier}",
        enc(REDIRECT)
    )
}

async fn current(sb: &userdeck_sandbox::Sandbox, token: &str) -> u16 {
    client()
        .get(format!("{}/api/v2/users/current", sb.capsule_base()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The hourly quota is the user's: their personal token and an OAuth token draw on one count.
#[tokio::test]
async fn one_user_has_one_quota_across_tokens() {
    let sb = start(Config {
        capsule_rate_limit: 3,
        ..Config::default()
    })
    .await;
    let tokens = body_json(token_form(&sb, code_grant(&sb).await, true).await).await;
    let oauth = tokens["access_token"].as_str().unwrap().to_string();
    let remaining = |res: &reqwest::Response| header(res, "x-ratelimit-remaining");
    let with = |token: &str| {
        client()
            .get(format!("{}/api/v2/users/current", sb.capsule_base()))
            .bearer_auth(token.to_string())
    };
    let res = with(demo::CAPSULE_TOKEN).send().await.unwrap();
    assert_eq!(remaining(&res).as_deref(), Some("2"));
    let res = with(&oauth).send().await.unwrap();
    assert_eq!(remaining(&res).as_deref(), Some("1"));
    let res = with(demo::CAPSULE_TOKEN).send().await.unwrap();
    assert_eq!(remaining(&res).as_deref(), Some("0"));
    assert_eq!(with(&oauth).send().await.unwrap().status(), 429);
    sb.shutdown().await;
}

#[tokio::test]
async fn authorization_code_with_s256_refresh_rotation_and_revoke() {
    let sb = start_default().await;
    let body = code_grant(&sb).await;
    let res = token_form(&sb, body.clone(), true).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"));
    let tokens = body_json(res).await;
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["expires_in"], 604_799);
    assert_eq!(tokens["scope"], "read write");
    assert!(tokens["subdomain"].is_string());
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(current(&sb, &access).await, 200);

    // Refresh rotates: new pair, the old refresh token is dead.
    let res = token_form(
        &sb,
        format!(
            "grant_type=refresh_token&refresh_token={refresh}&client_id={}&client_secret={}",
            demo::OAUTH_CLIENT_ID,
            demo::OAUTH_CLIENT_SECRET
        ),
        false,
    )
    .await;
    assert_eq!(res.status(), 200);
    let rotated = body_json(res).await;
    let refresh2 = rotated["refresh_token"].as_str().unwrap().to_string();
    let access2 = rotated["access_token"].as_str().unwrap().to_string();
    assert_ne!(refresh2, refresh);
    let res = token_form(
        &sb,
        format!("grant_type=refresh_token&refresh_token={refresh}"),
        true,
    )
    .await;
    assert_eq!(res.status(), 400);
    assert_eq!(body_json(res).await["error"], "invalid_grant");

    // Replaying the code fails and revokes what it issued.
    let res = token_form(&sb, body, true).await;
    assert_eq!(res.status(), 400);
    assert_eq!(body_json(res).await["error"], "invalid_grant");
    assert_eq!(current(&sb, &access).await, 401);

    // Revoking the refresh token also kills its access token (both revoke paths work).
    assert_eq!(current(&sb, &access2).await, 200);
    let res = client()
        .post(format!("{}/oauth/token/revoke", sb.capsule_base()))
        .basic_auth(demo::OAUTH_CLIENT_ID, Some(demo::OAUTH_CLIENT_SECRET))
        .form(&[("token", refresh2.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(current(&sb, &access2).await, 401);
    let res = token_form(
        &sb,
        format!("grant_type=refresh_token&refresh_token={refresh2}"),
        true,
    )
    .await;
    assert_eq!(body_json(res).await["error"], "invalid_grant");
    sb.shutdown().await;
}

#[tokio::test]
async fn public_client_plain_pkce_json_body_and_expiry() {
    let sb = start(Config {
        oauth_token_ttl: Duration::from_secs(1),
        ..Config::default()
    })
    .await;
    // Public clients must use PKCE.
    let location = consent_error(
        &sb,
        &authorise_query(demo::OAUTH_PUBLIC_CLIENT_ID, None, ""),
    )
    .await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz123"));

    let verifier = "a".repeat(50);
    let location = consent(
        &sb,
        &authorise_query(demo::OAUTH_PUBLIC_CLIENT_ID, Some(&verifier), "plain"),
        "allow",
    )
    .await;
    let code = query_param(&location, "code").unwrap();
    // Wrong verifier first (the code is then spent, as codes are single-use).
    let res = client()
        .post(format!("{}/oauth/token", sb.capsule_base()))
        .json(&serde_json::json!({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": demo::OAUTH_PUBLIC_CLIENT_ID, "code_verifier": "b".repeat(50)}))
        .send()
        .await
        .unwrap();
    assert_eq!(body_json(res).await["error"], "invalid_grant");

    let location = consent(
        &sb,
        &authorise_query(demo::OAUTH_PUBLIC_CLIENT_ID, Some(&verifier), "plain"),
        "allow",
    )
    .await;
    let code = query_param(&location, "code").unwrap();
    let res = client()
        .post(format!("{}/oauth/token", sb.capsule_base()))
        .json(&serde_json::json!({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": demo::OAUTH_PUBLIC_CLIENT_ID, "code_verifier": verifier}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let tokens = body_json(res).await;
    assert_eq!(tokens["expires_in"], 1);
    let access = tokens["access_token"].as_str().unwrap().to_string();
    assert_eq!(current(&sb, &access).await, 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(current(&sb, &access).await, 401, "expired token");
    sb.shutdown().await;
}

async fn consent_error(sb: &userdeck_sandbox::Sandbox, query: &str) -> String {
    let res = client()
        .get(format!("{}/oauth/authorise?{query}", sb.capsule_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    header(&res, "location").unwrap()
}

#[tokio::test]
async fn deny_and_authorise_errors() {
    let sb = start_default().await;
    let location = consent(
        &sb,
        &authorise_query(demo::OAUTH_CLIENT_ID, None, ""),
        "deny",
    )
    .await;
    assert!(location.starts_with(REDIRECT));
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz123"));
    assert!(query_param(&location, "code").is_none());

    // Errors about the client or redirect URI never redirect.
    for q in [
        format!(
            "response_type=code&client_id=unknown&redirect_uri={}",
            enc(REDIRECT)
        ),
        format!(
            "response_type=code&client_id={}&redirect_uri={}",
            demo::OAUTH_CLIENT_ID,
            enc("https://evil.example/cb")
        ),
        format!("response_type=code&client_id={}", demo::OAUTH_CLIENT_ID),
    ] {
        let res = client()
            .get(format!("{}/oauth/authorise?{q}", sb.capsule_base()))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{q}");
        assert!(header(&res, "location").is_none());
    }
    let base = format!(
        "client_id={}&redirect_uri={}&state=s1",
        demo::OAUTH_CLIENT_ID,
        enc(REDIRECT)
    );
    let loc = consent_error(&sb, &format!("response_type=token&{base}")).await;
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("unsupported_response_type")
    );
    let loc = consent_error(&sb, &format!("response_type=code&scope=admin&{base}")).await;
    assert_eq!(query_param(&loc, "error").as_deref(), Some("invalid_scope"));
    let loc = consent_error(
        &sb,
        &format!("response_type=code&code_challenge=short&code_challenge_method=S256&{base}"),
    )
    .await;
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("invalid_request")
    );
    let loc = consent_error(
        &sb,
        &format!(
            "response_type=code&code_challenge={}&code_challenge_method=S512&{base}",
            "a".repeat(43)
        ),
    )
    .await;
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("invalid_request")
    );
    // A stale or forged consent form.
    let res = client()
        .post(format!("{}/oauth/authorise", sb.capsule_base()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("request=forged&decision=allow")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    sb.shutdown().await;
}

#[tokio::test]
async fn token_endpoint_errors() {
    let sb = start(Config {
        oauth_code_ttl: Duration::ZERO,
        ..Config::default()
    })
    .await;
    // Client authentication.
    let res = client()
        .post(format!("{}/oauth/token", sb.capsule_base()))
        .basic_auth(demo::OAUTH_CLIENT_ID, Some("wrong"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        header(&res, "www-authenticate")
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(body_json(res).await["error"], "invalid_client");
    let res = token_form(
        &sb,
        format!(
            "grant_type=refresh_token&refresh_token=x&client_id={}",
            demo::OAUTH_CLIENT_ID
        ),
        false,
    )
    .await;
    assert_eq!(body_json(res).await["error"], "invalid_client");
    let res = token_form(
        &sb,
        "grant_type=password&username=a&password=b".into(),
        true,
    )
    .await;
    assert_eq!(body_json(res).await["error"], "unsupported_grant_type");
    let res = token_form(&sb, "code=abc".into(), true).await;
    assert_eq!(body_json(res).await["error"], "invalid_request");
    let res = token_form(&sb, "grant_type=authorization_code&code=nope".into(), true).await;
    assert_eq!(body_json(res).await["error"], "invalid_request");
    let res = token_form(
        &sb,
        format!(
            "grant_type=authorization_code&code=nope&redirect_uri={}",
            enc(REDIRECT)
        ),
        true,
    )
    .await;
    assert_eq!(res.status(), 400);
    assert_eq!(body_json(res).await["error"], "invalid_grant");
    let res = client()
        .post(format!("{}/oauth/token", sb.capsule_base()))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(body_json(res).await["error"], "invalid_request");
    // Codes expire (this sandbox's codes live 0 s).
    let location = consent(
        &sb,
        &authorise_query(demo::OAUTH_CLIENT_ID, None, ""),
        "allow",
    )
    .await;
    let code = query_param(&location, "code").unwrap();
    let res = token_form(
        &sb,
        format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}",
            enc(REDIRECT)
        ),
        true,
    )
    .await;
    assert_eq!(body_json(res).await["error"], "invalid_grant");
    sb.shutdown().await;
}

#[tokio::test]
async fn redirect_uri_must_match_and_sessions_expire() {
    let sb = start_default().await;
    let location = consent(
        &sb,
        &authorise_query(demo::OAUTH_CLIENT_ID, None, ""),
        "allow",
    )
    .await;
    let code = query_param(&location, "code").unwrap();
    let res = token_form(
        &sb,
        format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}",
            enc("http://127.0.0.1:9999/other")
        ),
        true,
    )
    .await;
    assert_eq!(body_json(res).await["error"], "invalid_grant");

    let location = consent(
        &sb,
        &authorise_query(demo::OAUTH_CLIENT_ID, None, ""),
        "allow",
    )
    .await;
    let code = query_param(&location, "code").unwrap();
    let res = token_form(
        &sb,
        format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}",
            enc(REDIRECT)
        ),
        true,
    )
    .await;
    let tokens = body_json(res).await;
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(current(&sb, &access).await, 200);
    sb.expire_sessions(Crm::Capsule);
    assert_eq!(current(&sb, &access).await, 401);
    // The refresh token still works after access tokens expire.
    let res = token_form(
        &sb,
        format!("grant_type=refresh_token&refresh_token={refresh}"),
        true,
    )
    .await;
    assert_eq!(res.status(), 200);
    // The personal token is not an OAuth session.
    assert_eq!(current(&sb, demo::CAPSULE_TOKEN).await, 200);
    sb.shutdown().await;
}

#[tokio::test]
async fn discovery_document() {
    let sb = start_default().await;
    let res = client()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            sb.capsule_base()
        ))
        .send()
        .await
        .unwrap();
    let doc = body_json(res).await;
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{}/oauth/authorise", sb.capsule_base())
    );
    assert_eq!(
        doc["token_endpoint"],
        format!("{}/oauth/token", sb.capsule_base())
    );
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["plain", "S256"])
    );
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    sb.shutdown().await;
}

#[tokio::test]
async fn token_without_read_scope_is_forbidden() {
    let sb = start_default().await;
    let query = format!(
        "response_type=code&client_id={}&redirect_uri={}&scope=user_preference&state=s",
        demo::OAUTH_CLIENT_ID,
        enc(REDIRECT)
    );
    let location = consent(&sb, &query, "allow").await;
    let code = query_param(&location, "code").unwrap();
    let res = token_form(
        &sb,
        format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}",
            enc(REDIRECT)
        ),
        true,
    )
    .await;
    let tokens = body_json(res).await;
    assert_eq!(tokens["scope"], "user_preference");
    let res = client()
        .get(format!("{}/api/v2/users", sb.capsule_base()))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(
        header(&res, "www-authenticate")
            .unwrap()
            .contains("insufficient_scope")
    );
    assert!(body_json(res).await["message"].is_string());
    sb.shutdown().await;
}

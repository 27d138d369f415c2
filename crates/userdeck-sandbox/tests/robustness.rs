//! Bad input, injected faults, switches, CORS and persistence: the sandbox answers like the real
//! server would and never crashes.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use userdeck_sandbox::{Config, Cors, Crm, demo};

#[tokio::test]
async fn oversized_bodies_get_each_crms_answer() {
    let sb = start(Config {
        max_body_bytes: 64 * 1024,
        ..Config::default()
    })
    .await;
    let big = "x".repeat(200 * 1024);
    let res = client()
        .post(format!("{}/oauth/token", sb.capsule_base()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let res = client()
        .post(format!("{}/api/users", sb.appcrm_base()))
        .bearer_auth(demo::APPCRM_ADMIN_TOKEN)
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .body(format!("{{\"name\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(header(&res, "x-app-version").as_deref(), Some("1.5.1"));
    assert!(body_json(res).await["message"].is_string());
    // PHP drops a body over post_max_size: Zurmo then sees no data.
    let login = client()
        .post(format!("{}/zurmo/api/login", sb.zurmo_base()))
        .header("accept", "application/json")
        .header("ZURMO_AUTH_USERNAME", demo::ZURMO_USERNAME)
        .header("ZURMO_AUTH_PASSWORD", demo::ZURMO_PASSWORD)
        .send()
        .await
        .unwrap();
    let login = body_json(login).await;
    let res = client()
        .post(format!("{}/users/user/api/create/", sb.zurmo_base()))
        .header("accept", "application/json")
        .header(
            "ZURMO_SESSION_ID",
            login["data"]["sessionId"].as_str().unwrap(),
        )
        .header("ZURMO_TOKEN", login["data"]["token"].as_str().unwrap())
        .body(format!("data[username]={big}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(body_json(res).await["message"], "Please provide data.");
    sb.shutdown().await;
}

#[tokio::test]
async fn broken_bodies_are_validation_errors_not_crashes() {
    let sb = start_default().await;
    for (ct, body) in [
        ("application/json", b"{\"name\": \"x\"".to_vec()),
        ("application/json", b"[1,2,3]".to_vec()),
        ("application/json", vec![0xff, 0xfe, 0x00, 0x7b]),
        (
            "application/x-www-form-urlencoded",
            b"%zz=%zz&&=&roles[=1&email[][]=x".to_vec(),
        ),
        ("text/plain", b"hello".to_vec()),
    ] {
        let res = client()
            .post(format!("{}/api/users", sb.appcrm_base()))
            .bearer_auth(demo::APPCRM_ADMIN_TOKEN)
            .header("accept", "application/json")
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{ct}");
        assert!(body_json(res).await["errors"]["name"].is_array());
    }
    // Odd JSON types for fields.
    let res = client()
        .post(format!("{}/api/users", sb.appcrm_base()))
        .bearer_auth(demo::APPCRM_ADMIN_TOKEN)
        .header("accept", "application/json")
        .json(&json!({"name": 5, "email": ["a"], "password": {"x": 1}, "timezone": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body = body_json(res).await;
    assert_eq!(
        body["errors"]["name"],
        json!(["The name must be a string."])
    );
    assert_eq!(
        body["errors"]["email"],
        json!(["The email must be a string."])
    );
    assert_eq!(
        body["errors"]["password"],
        json!(["The password must be a string."])
    );
    assert_eq!(
        body["errors"]["timezone"],
        json!(["The timezone must be a valid timezone."])
    );
    // Capsule token endpoint with non-object JSON.
    let res = client()
        .post(format!("{}/oauth/token", sb.capsule_base()))
        .header("content-type", "application/json")
        .body("[\"grant_type\"]")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    sb.shutdown().await;
}

#[tokio::test]
async fn hostile_paths_and_queries() {
    let sb = start_default().await;
    let long = "a".repeat(20_000);
    for path in [
        format!("{}/api/v2/users/%FF%FE", sb.capsule_base()),
        format!("{}/api/v2/users?page=1&perPage={long}", sb.capsule_base()),
        format!("{}/api/v2/users?embed={long}", sb.capsule_base()),
        format!("{}/api/v2/users/../../etc/passwd", sb.capsule_base()),
    ] {
        let res = client()
            .get(&path)
            .bearer_auth(demo::CAPSULE_TOKEN)
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_client_error() || res.status().is_success(),
            "{path}: {}",
            res.status()
        );
    }
    for q in [
        "order=%00",
        "select=%FF",
        "q=%25%25%25",
        "search_fields=;;;:",
        "per_page=1e9",
        "page=99999999999999999999",
    ] {
        let res = client()
            .get(format!("{}/api/users?{q}", sb.appcrm_base()))
            .bearer_auth(demo::APPCRM_ADMIN_TOKEN)
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert!([200, 403, 500].contains(&res.status().as_u16()), "{q}");
        assert!(body_json(res).await.is_object());
    }
    let res = client()
        .get(format!(
            "{}/users/user/api/list/filter/{}",
            sb.zurmo_base(),
            "%5B".repeat(5000)
        ))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The server is still healthy.
    let res = client()
        .get(format!("{}/api/v2/users/current", sb.capsule_base()))
        .bearer_auth(demo::CAPSULE_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    sb.shutdown().await;
}

#[tokio::test]
async fn fault_injection_produces_all_three_failures() {
    let sb = start(Config {
        fault_rate: 1.0,
        ..Config::default()
    })
    .await;
    let (mut server_errors, mut dropped, mut malformed) = (0, 0, 0);
    for _ in 0..60 {
        let sent = client()
            .get(format!("{}/api/v2/users", sb.capsule_base()))
            .bearer_auth(demo::CAPSULE_TOKEN)
            .send()
            .await;
        match sent {
            Err(_) => dropped += 1,
            Ok(res) if res.status() == 500 => server_errors += 1,
            Ok(res) => match res.text().await {
                Err(_) => dropped += 1,
                Ok(text) => {
                    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
                    malformed += 1;
                }
            },
        }
    }
    assert!(
        server_errors > 0 && dropped > 0 && malformed > 0,
        "{server_errors} {dropped} {malformed}"
    );
    sb.set_fault_rate(0.0);
    let res = client()
        .get(format!("{}/api/v2/users", sb.capsule_base()))
        .bearer_auth(demo::CAPSULE_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    sb.shutdown().await;
}

#[tokio::test]
async fn latency_and_request_counter() {
    let sb = start_default().await;
    assert_eq!(sb.requests_seen(), 0);
    sb.set_latency(Duration::from_millis(150));
    let started = Instant::now();
    let res = client()
        .get(format!("{}/api/v2/users/current", sb.capsule_base()))
        .bearer_auth(demo::CAPSULE_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "latency was added"
    );
    assert_eq!(sb.requests_seen(), 1);
    // Control endpoints and the index page are not API requests.
    let _ = client()
        .get(format!("{}/_sandbox/stats", sb.url()))
        .send()
        .await
        .unwrap();
    let _ = client().get(format!("{}/", sb.url())).send().await.unwrap();
    assert_eq!(sb.requests_seen(), 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn control_endpoints() {
    let sb = start_default().await;
    let c = client();
    let post = |path: &str| c.post(format!("{}/_sandbox/{path}", sb.url())).send();
    assert_eq!(
        post("rate-limit?crm=appcrm&seconds=30")
            .await
            .unwrap()
            .status(),
        200
    );
    let res = c
        .get(format!("{}/api/me", sb.appcrm_base()))
        .bearer_auth(demo::APPCRM_ADMIN_TOKEN)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(
        post("rate-limit?crm=appcrm&seconds=0")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        post("rate-limit?crm=nope&seconds=1")
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(post("faults?rate=2").await.unwrap().status(), 400);
    assert_eq!(post("faults?rate=0").await.unwrap().status(), 200);
    assert_eq!(post("latency?ms=abc").await.unwrap().status(), 400);
    assert_eq!(post("latency?ms=0").await.unwrap().status(), 200);
    assert_eq!(post("nope").await.unwrap().status(), 404);
    assert_eq!(
        c.get(format!("{}/_sandbox/reset", sb.url()))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );

    // expire-sessions then reset restores the demo tokens and deleted users.
    assert_eq!(
        post("expire-sessions?crm=appcrm").await.unwrap().status(),
        200
    );
    let me = || {
        c.get(format!("{}/api/me", sb.appcrm_base()))
            .bearer_auth(demo::APPCRM_ADMIN_TOKEN)
            .header("accept", "application/json")
            .send()
    };
    assert_eq!(me().await.unwrap().status(), 401);
    assert_eq!(post("reset").await.unwrap().status(), 200);
    assert_eq!(me().await.unwrap().status(), 200);

    let stats = body_json(
        c.get(format!("{}/_sandbox/stats", sb.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(stats["requests"], sb.requests_seen());
    assert_eq!(stats["users"]["zurmo"], 300);

    let index = c
        .get(format!("{}/", sb.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        index.contains(demo::CAPSULE_TOKEN)
            && index.contains(demo::APPCRM_ADMIN_EMAIL)
            && index.contains(demo::ZURMO_USERNAME)
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn cors_is_off_by_default_and_opt_in() {
    let sb = start_default().await;
    let res = client()
        .get(format!("{}/api/v2/users/current", sb.capsule_base()))
        .bearer_auth(demo::CAPSULE_TOKEN)
        .header("origin", "http://localhost:8080")
        .send()
        .await
        .unwrap();
    assert!(header(&res, "access-control-allow-origin").is_none());
    sb.shutdown().await;

    let sb = start(Config {
        cors: Cors::Origins(vec!["http://localhost:8080".into()]),
        ..Config::default()
    })
    .await;
    let preflight = || async {
        client()
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/users", sb.appcrm_base()),
            )
            .header("origin", "http://localhost:8080")
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization, accept")
            .send()
            .await
            .unwrap()
    };
    let res = preflight().await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        header(&res, "access-control-allow-origin").as_deref(),
        Some("http://localhost:8080")
    );
    assert_eq!(
        header(&res, "access-control-allow-headers").as_deref(),
        Some("authorization, accept")
    );
    let res = client()
        .get(format!("{}/api/v2/users", sb.capsule_base()))
        .bearer_auth(demo::CAPSULE_TOKEN)
        .header("origin", "http://localhost:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&res, "access-control-allow-origin").as_deref(),
        Some("http://localhost:8080")
    );
    assert!(
        header(&res, "access-control-expose-headers")
            .unwrap()
            .contains("Link")
    );

    // The `cors` switch hides App CRM's release from a page, as a Laravel app's default CORS
    // does: the header is still sent, but not exposed.
    let switch = |on: &'static str| {
        client()
            .post(format!(
                "{}/_sandbox/cors?expose-app-version={on}",
                sb.url()
            ))
            .send()
    };
    let exposed_by_app_crm = || async {
        let res = client()
            .get(format!("{}/api/me", sb.appcrm_base()))
            .bearer_auth(demo::APPCRM_ADMIN_TOKEN)
            .header("accept", "application/json")
            .header("origin", "http://localhost:8080")
            .send()
            .await
            .unwrap();
        assert_eq!(header(&res, "x-app-version").as_deref(), Some("1.5.1"));
        header(&res, "access-control-expose-headers").unwrap()
    };
    assert!(exposed_by_app_crm().await.contains("X-App-Version"));
    assert_eq!(switch("false").await.unwrap().status(), 200);
    let hidden = exposed_by_app_crm().await;
    assert!(!hidden.contains("X-App-Version"), "{hidden}");
    assert!(hidden.contains("X-RateLimit-Remaining"), "{hidden}");
    assert_eq!(switch("maybe").await.unwrap().status(), 400);
    assert_eq!(switch("true").await.unwrap().status(), 200);
    assert!(exposed_by_app_crm().await.contains("X-App-Version"));

    // `allow=false` makes it a CRM that does not know the site: no origin is allowed, the
    // preflight included, until it is turned back on.
    let allow = |on: &'static str| {
        client()
            .post(format!("{}/_sandbox/cors?allow={on}", sb.url()))
            .send()
    };
    assert_eq!(allow("false").await.unwrap().status(), 200);
    assert!(header(&preflight().await, "access-control-allow-origin").is_none());
    // The switches themselves stay open to the page, which must be able to turn it back on.
    let switch_from_page = client()
        .post(format!("{}/_sandbox/cors?allow=true", sb.url()))
        .header("origin", "http://localhost:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&switch_from_page, "access-control-allow-origin").as_deref(),
        Some("http://localhost:8080")
    );
    assert_eq!(
        header(&preflight().await, "access-control-allow-origin").as_deref(),
        Some("http://localhost:8080")
    );
    let nothing = client()
        .post(format!("{}/_sandbox/cors", sb.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(nothing.status(), 400);

    let res = client()
        .get(format!("{}/api/v2/users", sb.capsule_base()))
        .bearer_auth(demo::CAPSULE_TOKEN)
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert!(header(&res, "access-control-allow-origin").is_none());
    sb.shutdown().await;
}

#[tokio::test]
async fn data_file_survives_restarts() {
    let dir = std::env::temp_dir().join(format!("userdeck-sandbox-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("stores.json");
    let _ = std::fs::remove_file(&file);
    let config = Config {
        data: Some(file.clone()),
        ..Config::default()
    };

    let sb = start(config.clone()).await;
    let res = client()
        .post(format!("{}/api/users", sb.appcrm_base()))
        .bearer_auth(demo::APPCRM_ADMIN_TOKEN)
        .header("accept", "application/json")
        .json(&json!({"name": "Kept Over", "email": "kept@restart.example", "password": "secret1",
            "password_confirmation": "secret1", "timezone": "UTC", "date_format": "Y-m-d", "time_format": "H:i"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id = body_json(res).await["id"].as_u64().unwrap();
    sb.shutdown().await;
    assert!(file.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() != "stores.json")
        .collect();
    assert!(leftovers.is_empty(), "no temp files left behind");

    let sb = start(config.clone()).await;
    let res = client()
        .get(format!("{}/api/users/{id}", sb.appcrm_base()))
        .bearer_auth(demo::APPCRM_ADMIN_TOKEN)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(body_json(res).await["name"], "Kept Over");
    sb.shutdown().await;

    // A corrupt data file is an error at start, not a crash or silent reseed.
    std::fs::write(&file, b"{not a snapshot").unwrap();
    assert!(
        userdeck_sandbox::Sandbox::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .is_err()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn forced_rate_limit_is_per_crm() {
    let sb = start_default().await;
    sb.force_rate_limit(Crm::Zurmo, Duration::from_secs(30));
    let res = client()
        .get(format!("{}/api/v2/users/current", sb.capsule_base()))
        .bearer_auth(demo::CAPSULE_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    sb.shutdown().await;
}

//! App CRM (Concord) conformance over real HTTP: every endpoint, parameter and error body.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use userdeck_sandbox::{Config, Crm, Sandbox, demo};

fn req(sb: &Sandbox, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    client()
        .request(method, format!("{}/api{path}", sb.appcrm_base()))
        .bearer_auth(token)
        .header("accept", "application/json")
}

fn admin_get(sb: &Sandbox, path: &str) -> reqwest::RequestBuilder {
    req(sb, reqwest::Method::GET, path, demo::APPCRM_ADMIN_TOKEN)
}

fn new_user(email: &str) -> Value {
    json!({
        "name": "Łukasz Nowak", "email": email, "password": "secret1", "password_confirmation": "secret1",
        "timezone": "Europe/Warsaw", "date_format": "Y-m-d", "time_format": "H:i", "locale": "en",
        "roles": ["Sales Manager"]
    })
}

#[tokio::test]
async fn token_endpoint() {
    let sb = start_default().await;
    let c = client();
    let url = format!("{}/api/token", sb.appcrm_base());
    let res = c
        .post(&url)
        .header("accept", "application/json")
        .json(&json!({"email": demo::APPCRM_USER_EMAIL, "password": demo::APPCRM_USER_PASSWORD, "device_name": "tests"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "x-app-version").as_deref(), Some("1.5.1"));
    let body = body_json(res).await;
    assert_eq!(body["userId"], 2);
    assert_eq!(body["email"], demo::APPCRM_USER_EMAIL);
    let token = body["accessToken"].as_str().unwrap().to_string();
    let (id, secret) = token.split_once('|').unwrap();
    assert!(id.parse::<u64>().is_ok());
    assert_eq!(secret.len(), 40);
    let me = body_json(
        req(&sb, reqwest::Method::GET, "/me", &token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["id"], 2);

    let res = c
        .post(&url)
        .header("accept", "application/json")
        .json(
            &json!({"email": demo::APPCRM_USER_EMAIL, "password": "wrong", "device_name": "tests"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(
        body_json(res).await,
        json!({"message": "These credentials do not match our records.", "errors": {"email": ["These credentials do not match our records."]}})
    );
    let res = c
        .post(&url)
        .header("accept", "application/json")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body = body_json(res).await;
    assert_eq!(
        body["message"],
        "The email field is required. (and 2 more errors)"
    );
    assert_eq!(
        body["errors"]["device_name"][0],
        "The device name field is required."
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn list_shape_paging_and_links() {
    let sb = start_default().await;
    let res = admin_get(&sb, "/users").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "x-app-version").as_deref(), Some("1.5.1"));
    assert_eq!(header(&res, "x-ratelimit-limit").as_deref(), Some("90"));
    assert_eq!(header(&res, "x-ratelimit-remaining").as_deref(), Some("89"));
    let body = body_json(res).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 15);
    let meta = &body["meta"];
    assert_eq!(meta["per_page"], 15);
    assert_eq!(meta["total"], 300);
    assert_eq!(meta["last_page"], 20);
    assert_eq!(meta["from"], 1);
    assert_eq!(meta["to"], 15);
    assert_eq!(meta["path"], format!("{}/api/users", sb.appcrm_base()));
    assert_eq!(meta["links"][0]["label"], "&laquo; Previous");
    assert_eq!(
        meta["links"][1],
        json!({"url": format!("{}/api/users?page=1", sb.appcrm_base()), "label": "1", "active": true})
    );
    assert_eq!(body["links"]["prev"], Value::Null);
    // Sorted by name by default.
    let names: Vec<String> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);

    // links.next drops the query string.
    let body = body_json(
        admin_get(&sb, "/users?per_page=5&page=2&order=id")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        body["links"]["next"],
        format!("{}/api/users?page=3", sb.appcrm_base())
    );
    assert_eq!(body["data"][0]["id"], 6);
    assert_eq!(body["meta"]["from"], 6);

    // per_page 0 or junk -> 15; page past the end -> empty data, null from/to.
    for q in ["per_page=0", "per_page=abc", "per_page=-4"] {
        let body = body_json(admin_get(&sb, &format!("/users?{q}")).send().await.unwrap()).await;
        assert_eq!(body["meta"]["per_page"], 15, "{q}");
    }
    let body = body_json(admin_get(&sb, "/users?page=500").send().await.unwrap()).await;
    assert_eq!(body["data"], json!([]));
    assert_eq!(body["meta"]["from"], Value::Null);
    assert_eq!(body["meta"]["to"], Value::Null);
    assert_eq!(body["meta"]["current_page"], 500);
    assert_eq!(body["links"]["next"], Value::Null);
    // No cap on per_page.
    let body = body_json(admin_get(&sb, "/users?per_page=1000").send().await.unwrap()).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 300);
    sb.shutdown().await;
}

#[tokio::test]
async fn order_select_and_search_parameters() {
    let sb = start_default().await;
    let body = body_json(
        admin_get(&sb, "/users?order=email|desc&per_page=300")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let emails: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert!(
        emails
            .windows(2)
            .all(|w| w[0].to_lowercase() >= w[1].to_lowercase())
    );
    for bad in [
        "order=bogus",
        "order=name|sideways",
        "select=id;name",
        "select=id;name;email;nope",
    ] {
        let res = admin_get(&sb, &format!("/users?{bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 500, "{bad}");
        assert_eq!(body_json(res).await, json!({"message": "Server Error"}));
    }
    let body = body_json(
        admin_get(&sb, "/users?select=id;name;email")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"][0]["timezone"], Value::Null);
    assert!(body["data"][0]["email"].is_string());

    // q: name LIKE, exact e-mail, id.
    let body = body_json(admin_get(&sb, "/users?q=Laur").send().await.unwrap()).await;
    assert!(
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == 1)
    );
    let body = body_json(
        admin_get(&sb, &format!("/users?q={}", demo::APPCRM_USER_EMAIL))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["meta"]["total"], 1);
    let body = body_json(admin_get(&sb, "/users?q=user@appcrm").send().await.unwrap()).await;
    assert_eq!(body["meta"]["total"], 0, "email is matched exactly");
    let body = body_json(admin_get(&sb, "/users?q=3").send().await.unwrap()).await;
    assert!(
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == 3)
    );
    // Targeted fields, search_fields and search_match.
    let body = body_json(
        admin_get(
            &sb,
            &format!(
                "/users?q=email:{};name:Jonas&search_match=and",
                demo::APPCRM_USER_EMAIL
            ),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(body["meta"]["total"], 1);
    let body = body_json(
        admin_get(
            &sb,
            &format!(
                "/users?q=email:{};name:Amélie&search_match=and",
                demo::APPCRM_USER_EMAIL
            ),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(body["meta"]["total"], 0);
    let body = body_json(
        admin_get(&sb, "/users?q=1,2&search_fields=id:in")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["meta"]["total"], 2);
    let body = body_json(
        admin_get(&sb, "/users?q=Jonas&search_fields=email:=")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["meta"]["total"], 0);
    let res = admin_get(&sb, "/users?q=x&search_fields=phone:like")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        body_json(res).await,
        json!({"message": "None of the search fields were accepted. Acceptable search fields are: name,email,id"})
    );
    // Empty result.
    let body = body_json(admin_get(&sb, "/users?q=zzzzzzzz").send().await.unwrap()).await;
    assert_eq!(body["data"], json!([]));
    assert_eq!(body["meta"]["total"], 0);
    assert_eq!(body["meta"]["last_page"], 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn search_endpoint_is_a_bare_array() {
    let sb = start_default().await;
    for q in ["", "?q=", "?q=%20"] {
        let body = body_json(
            admin_get(&sb, &format!("/users/search{q}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(body, json!([]), "{q}");
    }
    let body = body_json(
        admin_get(&sb, "/users/search?q=a&take=2")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body.as_array().unwrap().len(), 2);
    let body = body_json(admin_get(&sb, "/users/search?q=a").send().await.unwrap()).await;
    assert!(body.as_array().unwrap().len() > 15, "no default limit");
    sb.shutdown().await;
}

#[tokio::test]
async fn show_me_roles_and_notifications() {
    let sb = start_default().await;
    let admin_view = body_json(admin_get(&sb, "/users/2").send().await.unwrap()).await;
    assert_eq!(admin_view["id"], 2);
    assert!(admin_view.get("data").is_none(), "bare object");
    assert!(admin_view["roles"].is_array());
    assert!(admin_view["notifications"].is_object());
    assert!(admin_view.get("password").is_none());
    assert!(
        admin_view["created_at"]
            .as_str()
            .unwrap()
            .ends_with(".000000Z")
    );

    let user_view = body_json(
        req(
            &sb,
            reqwest::Method::GET,
            "/users/1",
            demo::APPCRM_USER_TOKEN,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert!(
        user_view.get("roles").is_none(),
        "roles only for super admins"
    );
    assert_eq!(user_view["notifications"], json!([]));
    assert_eq!(user_view["authorizations"]["update"], false);
    let me = body_json(
        req(&sb, reqwest::Method::GET, "/me", demo::APPCRM_USER_TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["id"], 2);
    assert!(me["notifications"]["unread_count"].is_number());

    for id in ["999", "abc"] {
        let res = admin_get(&sb, &format!("/users/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        assert_eq!(
            body_json(res).await["message"],
            format!("No query results for model [Modules\\Users\\Models\\User] {id}")
        );
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn authentication_and_access_errors() {
    let sb = start_default().await;
    let res = client()
        .get(format!("{}/api/users", sb.appcrm_base()))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(header(&res, "x-app-version").as_deref(), Some("1.5.1"));
    assert_eq!(body_json(res).await, json!({"message": "Unauthenticated."}));
    let res = req(&sb, reqwest::Method::GET, "/users", "9|nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // Without Accept: application/json Laravel redirects to the login page.
    let res = client()
        .get(format!("{}/api/users", sb.appcrm_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert!(header(&res, "location").unwrap().ends_with("/login"));
    // No API access.
    let res = req(
        &sb,
        reqwest::Method::GET,
        "/users",
        demo::APPCRM_NOAPI_TOKEN,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        body_json(res).await,
        json!({"error": "Your account is not authorized to perform API requests."})
    );
    // Routing errors.
    let res = admin_get(&sb, "/nope").send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        body_json(res).await["message"],
        "The route api/nope could not be found."
    );
    let res = req(
        &sb,
        reqwest::Method::DELETE,
        "/users",
        demo::APPCRM_ADMIN_TOKEN,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 405);
    assert!(
        body_json(res).await["message"]
            .as_str()
            .unwrap()
            .starts_with("The DELETE method is not supported")
    );
    // Expired sessions.
    sb.expire_sessions(Crm::AppCrm);
    assert_eq!(admin_get(&sb, "/me").send().await.unwrap().status(), 401);
    sb.shutdown().await;
}

#[tokio::test]
async fn create_validation_rules() {
    let sb = start_default().await;
    let post = |body: Value| {
        req(
            &sb,
            reqwest::Method::POST,
            "/users",
            demo::APPCRM_ADMIN_TOKEN,
        )
        .json(&body)
        .send()
    };

    let res = post(new_user("lukasz@new.example")).await.unwrap();
    assert_eq!(res.status(), 201);
    let created = body_json(res).await;
    assert_eq!(created["was_recently_created"], true);
    assert_eq!(created["name"], "Łukasz Nowak");
    assert_eq!(created["roles"][0]["name"], "Sales Manager");
    assert_eq!(created["access_api"], false);
    let id = created["id"].as_u64().unwrap();
    let again = body_json(
        admin_get(&sb, &format!("/users/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(again["was_recently_created"], false);

    // super_admin forces access_api.
    let mut body = new_user("boss@new.example");
    body["super_admin"] = json!(true);
    let created = body_json(post(body).await.unwrap()).await;
    assert_eq!(created["access_api"], true);

    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"name": null}), "name", "The name field is required."),
        (
            json!({"name": "x".repeat(192)}),
            "name",
            "The name must not be greater than 191 characters.",
        ),
        (
            json!({"email": "not-an-email"}),
            "email",
            "The email must be a valid email address.",
        ),
        (
            json!({"email": demo::APPCRM_USER_EMAIL}),
            "email",
            "The email has already been taken.",
        ),
        (
            json!({"email": demo::APPCRM_USER_EMAIL.to_uppercase()}),
            "email",
            "The email has already been taken.",
        ),
        (
            json!({"password": null}),
            "password",
            "The password field is required.",
        ),
        (
            json!({"password_confirmation": "other1"}),
            "password",
            "The password confirmation does not match.",
        ),
        (
            json!({"password": "abc", "password_confirmation": "abc"}),
            "password",
            "The password must be at least 6 characters.",
        ),
        (
            json!({"locale": "xx"}),
            "locale",
            "This locale does not exists.",
        ),
        (
            json!({"timezone": "europe/warsaw"}),
            "timezone",
            "The timezone must be a valid timezone.",
        ),
        (
            json!({"timezone": null}),
            "timezone",
            "The timezone field is required.",
        ),
        (
            json!({"date_format": "Y/m/d"}),
            "date_format",
            "The selected date format is invalid.",
        ),
        (
            json!({"time_format": "G:i A"}),
            "time_format",
            "The selected time format is invalid.",
        ),
        (
            json!({"time_format": "H:i:s"}),
            "time_format",
            "The selected time format is invalid.",
        ),
        (
            json!({"roles": "Admin"}),
            "roles",
            "The roles must be an array.",
        ),
    ];
    for (patch, field, msg) in cases {
        let mut body = new_user("fresh@new.example");
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = post(body).await.unwrap();
        assert_eq!(res.status(), 422, "{field}: {msg}");
        let errors = body_json(res).await;
        assert_eq!(errors["message"], msg);
        assert_eq!(errors["errors"][field], json!([msg]), "{errors}");
    }
    // Several failures at once are summarised.
    let res = post(json!({"email": "x"})).await.unwrap();
    let body = body_json(res).await;
    assert_eq!(
        body["message"],
        "The name field is required. (and 5 more errors)"
    );
    let keys: Vec<&String> = body["errors"].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 6);
    // Not a super admin.
    let res = req(
        &sb,
        reqwest::Method::POST,
        "/users",
        demo::APPCRM_USER_TOKEN,
    )
    .json(&new_user("n@new.example"))
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        body_json(res).await,
        json!({"message": "This action is unauthorized."})
    );
    // Without Accept: application/json a 422 becomes a redirect back.
    let res = client()
        .post(format!("{}/api/users", sb.appcrm_base()))
        .bearer_auth(demo::APPCRM_ADMIN_TOKEN)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    sb.shutdown().await;
}

#[tokio::test]
async fn update_is_a_full_replace_and_delete_rules() {
    let sb = start_default().await;
    let put = |id: &str, token: &str, body: Value| {
        req(&sb, reqwest::Method::PUT, &format!("/users/{id}"), token)
            .json(&body)
            .send()
    };
    // Partial bodies fail: PUT needs every required field.
    let res = put("2", demo::APPCRM_ADMIN_TOKEN, json!({"name": "Only Name"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    // Full body keeping its own e-mail passes; empty password leaves it unchanged.
    let mut body = new_user(demo::APPCRM_USER_EMAIL);
    body["name"] = json!("Jonas Wéber");
    body["password"] = json!("");
    body["password_confirmation"] = json!("");
    let res = put("2", demo::APPCRM_ADMIN_TOKEN, body.clone())
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(body_json(res).await["name"], "Jonas Wéber");
    let login = client()
        .post(format!("{}/api/token", sb.appcrm_base()))
        .header("accept", "application/json")
        .json(&json!({"email": demo::APPCRM_USER_EMAIL, "password": demo::APPCRM_USER_PASSWORD, "device_name": "t"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200, "password unchanged");
    // Taking someone else's e-mail fails.
    let res = put(
        "2",
        demo::APPCRM_ADMIN_TOKEN,
        new_user(demo::APPCRM_ADMIN_EMAIL),
    )
    .await
    .unwrap();
    assert_eq!(
        body_json(res).await["errors"]["email"][0],
        "The email has already been taken."
    );
    assert_eq!(
        put("999", demo::APPCRM_ADMIN_TOKEN, body.clone())
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        put("1", demo::APPCRM_USER_TOKEN, body.clone())
            .await
            .unwrap()
            .status(),
        403
    );

    let del = |id: &str, token: &str| {
        req(&sb, reqwest::Method::DELETE, &format!("/users/{id}"), token).send()
    };
    let res = del("1", demo::APPCRM_ADMIN_TOKEN).await.unwrap();
    assert_eq!(res.status(), 409);
    assert_eq!(
        body_json(res).await,
        json!({"message": "You cannot delete your own account."})
    );
    assert_eq!(
        del("5", demo::APPCRM_USER_TOKEN).await.unwrap().status(),
        403
    );
    assert_eq!(
        del("999", demo::APPCRM_ADMIN_TOKEN).await.unwrap().status(),
        404
    );
    let res = req(
        &sb,
        reqwest::Method::DELETE,
        "/users/5?transfer_data_to=1",
        demo::APPCRM_ADMIN_TOKEN,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.text().await.unwrap().is_empty());
    assert_eq!(
        admin_get(&sb, "/users/5").send().await.unwrap().status(),
        404
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn profile_and_password() {
    let sb = start_default().await;
    let put = |path: &str, body: Value| {
        req(&sb, reqwest::Method::PUT, path, demo::APPCRM_USER_TOKEN)
            .json(&body)
            .send()
    };
    let profile = json!({"name": "Jonas W.", "email": demo::APPCRM_USER_EMAIL, "time_format": "h:i A",
        "date_format": "d.m.Y", "timezone": "Europe/Berlin", "super_admin": true, "access_api": true});
    let res = put("/profile", profile.clone()).await.unwrap();
    assert_eq!(res.status(), 422, "locale is required on the profile");
    assert_eq!(
        body_json(res).await["errors"]["locale"][0],
        "The locale field is required."
    );
    let mut with_locale = profile.clone();
    with_locale["locale"] = json!("pt_BR");
    let res = put("/profile", with_locale).await.unwrap();
    assert_eq!(res.status(), 200);
    let me = body_json(res).await;
    assert_eq!(me["name"], "Jonas W.");
    assert_eq!(me["locale"], "pt_BR");
    assert_eq!(me["super_admin"], false, "super_admin is stripped");

    let res = put("/profile/password", json!({"old_password": "wrong-one", "password": "newpass1", "password_confirmation": "newpass1"})).await.unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(
        body_json(res).await["errors"]["old_password"],
        json!(["The password is incorrect."])
    );
    let res = put("/profile/password", json!({"old_password": demo::APPCRM_USER_PASSWORD, "password": demo::APPCRM_USER_PASSWORD, "password_confirmation": demo::APPCRM_USER_PASSWORD})).await.unwrap();
    assert_eq!(
        body_json(res).await["errors"]["password"],
        json!(["The password and old password must be different."])
    );
    let res = put("/profile/password", json!({"old_password": demo::APPCRM_USER_PASSWORD, "password": "newpass1", "password_confirmation": "newpass1"})).await.unwrap();
    assert_eq!(res.status(), 204);
    let login = client()
        .post(format!("{}/api/token", sb.appcrm_base()))
        .header("accept", "application/json")
        .json(
            &json!({"email": demo::APPCRM_USER_EMAIL, "password": "newpass1", "device_name": "t"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    sb.shutdown().await;
}

#[tokio::test]
async fn per_minute_rate_limit() {
    let sb = start(Config {
        appcrm_rate_limit: 2,
        ..Config::default()
    })
    .await;
    assert_eq!(admin_get(&sb, "/me").send().await.unwrap().status(), 200);
    let res = admin_get(&sb, "/me").send().await.unwrap();
    assert_eq!(header(&res, "x-ratelimit-remaining").as_deref(), Some("0"));
    let res = admin_get(&sb, "/me").send().await.unwrap();
    assert_eq!(res.status(), 429);
    let retry: u64 = header(&res, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert!(header(&res, "x-ratelimit-reset").is_some());
    assert_eq!(header(&res, "x-ratelimit-limit").as_deref(), Some("2"));
    assert_eq!(header(&res, "x-ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(header(&res, "x-app-version").as_deref(), Some("1.5.1"));
    assert_eq!(
        body_json(res).await,
        json!({"message": "Too Many Attempts."})
    );
    // Another user has their own window.
    assert_eq!(
        req(&sb, reqwest::Method::GET, "/me", demo::APPCRM_USER_TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    sb.shutdown().await;

    let sb = start_default().await;
    sb.force_rate_limit(Crm::AppCrm, Duration::from_secs(30));
    let res = req(&sb, reqwest::Method::GET, "/users", demo::APPCRM_USER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(header(&res, "retry-after").is_some());
    sb.shutdown().await;
}

#[tokio::test]
async fn parallel_creates_of_one_email_have_one_winner() {
    let sb = start(Config {
        appcrm_rate_limit: 10_000,
        ..Config::default()
    })
    .await;
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let r = req(
            &sb,
            reqwest::Method::POST,
            "/users",
            demo::APPCRM_ADMIN_TOKEN,
        )
        .json(&new_user("race@new.example"));
        tasks.push(tokio::spawn(async move {
            r.send().await.unwrap().status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 422).count(), 63);

    // No lost updates: 40 parallel creates of distinct users all land.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let r = req(
            &sb,
            reqwest::Method::POST,
            "/users",
            demo::APPCRM_ADMIN_TOKEN,
        )
        .json(&new_user(&format!("p{i}@new.example")));
        tasks.push(tokio::spawn(async move {
            r.send().await.unwrap().status().as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let body = body_json(admin_get(&sb, "/users?per_page=1").send().await.unwrap()).await;
    assert_eq!(body["meta"]["total"], 300 + 1 + 40);
    sb.shutdown().await;
}

/// `/appcrm-v1.2` is the same CRM answering as v1.2: it says so in `X-App-Version`, shows
/// `first_day_of_week` in every user object, and requires it on create, update and profile
/// (v1.5 under `/appcrm` neither shows nor requires it).
#[tokio::test]
async fn the_v1_2_release_requires_and_shows_first_day_of_week() {
    let sb = start_default().await;
    let legacy = |method: reqwest::Method, path: &str| {
        client()
            .request(method, format!("{}/api{path}", sb.appcrm_legacy_base()))
            .bearer_auth(demo::APPCRM_ADMIN_TOKEN)
            .header("accept", "application/json")
    };
    let res = legacy(reqwest::Method::GET, "/users?per_page=2")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "x-app-version").as_deref(), Some("1.2.1"));
    let list = body_json(res).await;
    for user in list["data"].as_array().unwrap() {
        assert!(
            matches!(user["first_day_of_week"].as_u64(), Some(0 | 1 | 6)),
            "{user}"
        );
    }
    assert!(
        list["links"]["next"]
            .as_str()
            .unwrap()
            .contains("/appcrm-v1.2/api/users?page=2"),
        "{list}"
    );
    let current = body_json(admin_get(&sb, "/users/1").send().await.unwrap()).await;
    assert!(current.get("first_day_of_week").is_none(), "{current}");

    let required = json!({"first_day_of_week": ["The first day of week field is required."]});
    let res = legacy(reqwest::Method::POST, "/users")
        .json(&new_user("weekday@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(body_json(res).await["errors"], required);
    let mut user = new_user("weekday@example.com");
    user["first_day_of_week"] = json!(6);
    let res = legacy(reqwest::Method::POST, "/users")
        .json(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created = body_json(res).await;
    assert_eq!(created["first_day_of_week"], 6);
    let id = created["id"].as_u64().unwrap();

    let mut update = json!({"name": "Weekday", "email": "weekday@example.com",
        "timezone": "UTC", "date_format": "Y-m-d", "time_format": "H:i"});
    let res = legacy(reqwest::Method::PUT, &format!("/users/{id}"))
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(body_json(res).await["errors"], required);
    update["first_day_of_week"] = json!(1);
    let res = legacy(reqwest::Method::PUT, &format!("/users/{id}"))
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(body_json(res).await["first_day_of_week"], 1);
    // The same user through v1.5 still takes a save without it.
    update.as_object_mut().unwrap().remove("first_day_of_week");
    let res = req(
        &sb,
        reqwest::Method::PUT,
        &format!("/users/{id}"),
        demo::APPCRM_ADMIN_TOKEN,
    )
    .json(&update)
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 200);

    let profile = json!({"name": "Admin", "email": demo::APPCRM_ADMIN_EMAIL, "locale": "en",
        "timezone": "UTC", "date_format": "Y-m-d", "time_format": "H:i"});
    let res = legacy(reqwest::Method::PUT, "/profile")
        .json(&profile)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(body_json(res).await["errors"], required);
}

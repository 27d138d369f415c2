//! Zurmo conformance over real HTTP: sessions, envelopes, PHP encoding, list/filter, writes.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use userdeck_sandbox::{Config, Crm, Sandbox, demo};

struct Session {
    id: String,
    token: String,
}

async fn login(sb: &Sandbox, user: &str, password: &str) -> Value {
    let res = client()
        .post(format!("{}/zurmo/api/login", sb.zurmo_base()))
        .header("accept", "application/json")
        .header("ZURMO_AUTH_USERNAME", user)
        .header("ZURMO_AUTH_PASSWORD", password)
        .header("ZURMO_API_REQUEST_TYPE", "REST")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    body_json(res).await
}

async fn session(sb: &Sandbox, user: &str, password: &str) -> Session {
    let body = login(sb, user, password).await;
    assert_eq!(body["status"], "SUCCESS", "{body}");
    Session {
        id: body["data"]["sessionId"].as_str().unwrap().to_string(),
        token: body["data"]["token"].as_str().unwrap().to_string(),
    }
}

async fn super_session(sb: &Sandbox) -> Session {
    session(sb, demo::ZURMO_USERNAME, demo::ZURMO_PASSWORD).await
}

fn call(sb: &Sandbox, s: &Session, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    client()
        .request(method, format!("{}{path}", sb.zurmo_base()))
        .header("accept", "application/json")
        .header("ZURMO_SESSION_ID", &s.id)
        .header("ZURMO_TOKEN", &s.token)
}

/// Sends and checks the Zurmo invariants: HTTP 200 and the four-key envelope.
async fn envelope(r: reqwest::RequestBuilder) -> Value {
    let res = r.send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body = body_json(res).await;
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4, "{body}");
    for k in ["status", "data", "message", "errors"] {
        assert!(body.get(k).is_some(), "missing {k}");
    }
    body
}

fn form(r: reqwest::RequestBuilder, body: &str) -> reqwest::RequestBuilder {
    r.header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
}

fn failure(message: &str) -> Value {
    json!({"status": "FAILURE", "data": null, "message": message, "errors": null})
}

#[tokio::test]
async fn login_logout_and_sign_in_required() {
    let sb = start_default().await;
    let ok = login(&sb, demo::ZURMO_USERNAME, demo::ZURMO_PASSWORD).await;
    assert_eq!(ok["message"], Value::Null);
    assert_eq!(ok["errors"], Value::Null);
    assert_eq!(ok["data"]["sessionId"].as_str().unwrap().len(), 26);
    assert_eq!(ok["data"]["token"].as_str().unwrap().len(), 32);
    assert_eq!(
        login(&sb, demo::ZURMO_USERNAME, "wrong").await,
        failure("Invalid username or password.")
    );
    assert_eq!(
        login(&sb, "nobody", "x").await,
        failure("Invalid username or password.")
    );
    // A user without the API login right (the seed's inactive users).
    let snapshot = userdeck_sandbox::seed::snapshot(42, 300);
    let inactive = snapshot
        .zurmo
        .users
        .values()
        .find(|u| !u.api_login)
        .unwrap();
    assert_eq!(
        login(
            &sb,
            &inactive.username,
            userdeck_sandbox::seed::SEEDED_PASSWORD
        )
        .await,
        failure("An error occured during login. Please try again.")
    );

    let s = super_session(&sb).await;
    let me = envelope(call(
        &sb,
        &s,
        reqwest::Method::GET,
        "/users/user/api/getAuthenticatedUser",
    ))
    .await;
    assert_eq!(me["data"]["username"], "super");
    // Missing headers, a wrong token, logout and expiry all give "Sign in required.".
    let anon = client()
        .get(format!("{}/users/user/api/read/1", sb.zurmo_base()))
        .header("accept", "application/json");
    assert_eq!(envelope(anon).await, failure("Sign in required."));
    let bad = Session {
        id: s.id.clone(),
        token: "0".repeat(32),
    };
    assert_eq!(
        envelope(call(
            &sb,
            &bad,
            reqwest::Method::GET,
            "/users/user/api/read/1"
        ))
        .await,
        failure("Sign in required.")
    );
    let out = envelope(call(&sb, &s, reqwest::Method::GET, "/zurmo/api/logout")).await;
    assert_eq!(
        out,
        json!({"status": "SUCCESS", "data": null, "message": null, "errors": null})
    );
    assert_eq!(
        envelope(call(
            &sb,
            &s,
            reqwest::Method::GET,
            "/users/user/api/read/1"
        ))
        .await["message"],
        "Sign in required."
    );
    let s2 = super_session(&sb).await;
    sb.expire_sessions(Crm::Zurmo);
    assert_eq!(
        envelope(call(
            &sb,
            &s2,
            reqwest::Method::GET,
            "/users/user/api/read/1"
        ))
        .await["message"],
        "Sign in required."
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn read_uses_php_encoding_and_string_booleans() {
    let sb = start_default().await;
    let s = super_session(&sb).await;
    let res = call(&sb, &s, reqwest::Method::GET, "/users/user/api/read/1")
        .send()
        .await
        .unwrap();
    let raw = res.text().await.unwrap();
    assert!(
        raw.contains("\\/") || !raw.contains('/'),
        "slashes escaped: {raw}"
    );
    assert!(raw.is_ascii(), "non-ASCII escaped as \\uXXXX");
    let body: Value = serde_json::from_str(&raw).unwrap();
    let user = &body["data"];
    assert_eq!(user["id"], 1);
    assert_eq!(user["isActive"], "1");
    assert_eq!(user["serializedAvatarData"], "");
    assert_eq!(user["currency"], json!({"id": 1}));
    assert!(user["primaryEmail"]["id"].is_u64());
    assert!(user.get("password").is_none());
    assert_eq!(user["createdDateTime"].as_str().unwrap().len(), 19);
    // Find a user with a non-ASCII name and check the escape.
    let list = envelope(call(
        &sb,
        &s,
        reqwest::Method::GET,
        "/users/user/api/list/filter/pagination%5BpageSize%5D%3D300",
    ))
    .await;
    let items = list["data"]["items"].as_array().unwrap();
    let odd = items
        .iter()
        .find(|u| !u["lastName"].as_str().unwrap_or("").is_ascii())
        .unwrap();
    let res = call(
        &sb,
        &s,
        reqwest::Method::GET,
        &format!("/users/user/api/read/{}", odd["id"]),
    )
    .send()
    .await
    .unwrap();
    let raw = res.text().await.unwrap();
    assert!(raw.contains("\\u"), "{raw}");
    for bad in ["999999", "abc", "-1"] {
        let body = envelope(call(
            &sb,
            &s,
            reqwest::Method::GET,
            &format!("/users/user/api/read/{bad}"),
        ))
        .await;
        assert_eq!(body, failure("The ID specified was invalid."), "{bad}");
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn list_paging_sort_and_search() {
    let sb = start_default().await;
    let s = super_session(&sb).await;
    let list = |path: &str| envelope(call(&sb, &s, reqwest::Method::GET, path));
    let body = list("/users/user/api/list/").await;
    assert_eq!(body["data"]["totalCount"], 300);
    assert_eq!(body["data"]["currentPage"], 1);
    let items = body["data"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    let last: Vec<String> = items
        .iter()
        .map(|u| u["lastName"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(
        last.windows(2).all(|w| w[0] <= w[1]),
        "default sort lastName asc"
    );

    // http_build_query(['pagination'=>['page'=>2,'pageSize'=>3],'sort'=>'username.desc'])
    let q = "pagination%5Bpage%5D%3D2%26pagination%5BpageSize%5D%3D3%26sort%3Dusername.desc";
    let body = list(&format!("/users/user/api/list/filter/{q}")).await;
    assert_eq!(body["data"]["currentPage"], 2);
    let names: Vec<&str> = body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3);
    assert!(names.windows(2).all(|w| w[0] >= w[1]));

    // Page past the end: the last page's items, currentPage echoed.
    let body = list(
        "/users/user/api/list/filter/pagination%5Bpage%5D%3D999%26pagination%5BpageSize%5D%3D7",
    )
    .await;
    assert_eq!(body["data"]["currentPage"], 999);
    assert_eq!(body["data"]["items"].as_array().unwrap().len(), 300 % 7);
    // pageSize 0 gives 10; absurd sizes work.
    let body = list("/users/user/api/list/filter/pagination%5BpageSize%5D%3D0").await;
    assert_eq!(body["data"]["items"].as_array().unwrap().len(), 10);
    let body =
        list("/users/user/api/list/filter/pagination%5BpageSize%5D%3D99999999999999999999999")
            .await;
    assert_eq!(body["data"]["items"].as_array().unwrap().len(), 300);

    // search[username]: starts-with, case-insensitive.
    let body = list("/users/user/api/list/filter/search%5Busername%5D%3DSUP").await;
    assert_eq!(body["data"]["totalCount"], 1);
    assert_eq!(body["data"]["items"][0]["username"], "super");
    let body =
        list("/users/user/api/list/filter/search%5BprimaryEmail%5D%5BemailAddress%5D%3Djim.").await;
    assert_eq!(body["data"]["items"][0]["username"], "jim");
    let body = list("/users/user/api/list/filter/search%5BisActive%5D%3D0").await;
    assert!(body["data"]["totalCount"].as_u64().unwrap() > 0, "{body}");
    assert!(
        body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["isActive"] == "0")
    );
    // Zero results: items absent.
    let body = list("/users/user/api/list/filter/search%5Busername%5D%3Dzzzzzz").await;
    assert_eq!(body["data"], json!({"totalCount": 0, "currentPage": 1}));
    // Bad sort and unknown search attribute: FAILURE with exception text.
    let body = list("/users/user/api/list/filter/sort%3Dpassword").await;
    assert_eq!(body["status"], "FAILURE");
    assert!(body["message"].as_str().unwrap().contains("Unknown column"));
    let body = list("/users/user/api/list/filter/search%5Bnope%5D%3Dx").await;
    assert_eq!(body["status"], "FAILURE");
    assert!(body["message"].as_str().unwrap().contains("nope"));
    sb.shutdown().await;
}

fn clause(i: usize, attr: &str, value: &str, position: usize) -> String {
    format!(
        "data[dynamicSearch][dynamicClauses][{i}][attributeIndexOrDerivedType]={attr}&\
         data[dynamicSearch][dynamicClauses][{i}][structurePosition]={position}&\
         data[dynamicSearch][dynamicClauses][{i}][{attr}]={value}"
    )
}

#[tokio::test]
async fn dynamic_search_structures() {
    let sb = start(Config {
        users: 8,
        ..Config::default()
    })
    .await;
    let s = super_session(&sb).await;
    let search = |body: String| {
        envelope(form(
            call(
                &sb,
                &s,
                reqwest::Method::POST,
                "/users/user/api/list/filter/",
            ),
            &body,
        ))
    };
    let all = search("data[pagination][pageSize]=50".into()).await;
    assert_eq!(all["data"]["totalCount"], 8);
    let users: Vec<Value> = all["data"]["items"].as_array().unwrap().clone();
    let first_letter = |u: &Value| u["username"].as_str().unwrap()[..1].to_string();
    let a = first_letter(&users[2]);
    let b = first_letter(&users[5]);
    let expected = users
        .iter()
        .filter(|u| {
            let f = first_letter(u);
            f == a || f == b
        })
        .count();

    let body = search(format!(
        "{}&{}&data[dynamicSearch][dynamicStructure]=1 OR 2&data[pagination][pageSize]=3",
        clause(0, "username", &a, 1),
        clause(1, "username", &b, 2)
    ))
    .await;
    assert_eq!(body["data"]["totalCount"], expected);
    assert!(body["data"]["items"].as_array().unwrap().len() <= 3);
    // AND with parentheses and mixed case.
    let body = search(format!(
        "{}&{}&{}&data[dynamicSearch][dynamicStructure]=(1 oR 2) AnD 3&data[sort]=username",
        clause(0, "username", &a, 1),
        clause(1, "username", &b, 2),
        clause(2, "isActive", "1", 3)
    ))
    .await;
    let active = users
        .iter()
        .filter(|u| {
            let f = first_letter(u);
            (f == a || f == b) && u["isActive"] == "1"
        })
        .count();
    assert_eq!(body["data"]["totalCount"], active);
    // "1 or 2 and 3" means 1 OR (2 AND 3).
    let body = search(format!(
        "{}&{}&{}&data[dynamicSearch][dynamicStructure]=1 or 2 and 3",
        clause(0, "username", &a, 1),
        clause(1, "username", &b, 2),
        clause(2, "isActive", "1", 3)
    ))
    .await;
    let precedence = users
        .iter()
        .filter(|u| first_letter(u) == a || (first_letter(u) == b && u["isActive"] == "1"))
        .count();
    assert_eq!(body["data"]["totalCount"], precedence);
    // Nested value (primaryEmail[emailAddress]).
    let body = search(
        "data[dynamicSearch][dynamicClauses][0][attributeIndexOrDerivedType]=primaryEmail&\
         data[dynamicSearch][dynamicClauses][0][structurePosition]=1&\
         data[dynamicSearch][dynamicClauses][0][primaryEmail][emailAddress]=super&\
         data[dynamicSearch][dynamicStructure]=1"
            .into(),
    )
    .await;
    assert_eq!(body["data"]["totalCount"], 1);
    // Structure missing: dynamic search skipped.
    let body = search(clause(0, "username", "zzz", 1)).await;
    assert_eq!(body["data"]["totalCount"], 8);
    // Bad structures and attributes fail with a message.
    for structure in ["1 OR", "(1 and 2", "1 xor 2", "3", "1 2"] {
        let body = search(format!(
            "{}&{}&data[dynamicSearch][dynamicStructure]={}",
            clause(0, "username", "a", 1),
            clause(1, "username", "b", 2),
            structure.replace(' ', "+")
        ))
        .await;
        assert_eq!(body["status"], "FAILURE", "{structure}");
        assert!(!body["message"].as_str().unwrap().is_empty());
        assert_eq!(body["data"], Value::Null);
    }
    let body = search(format!(
        "{}&data[dynamicSearch][dynamicStructure]=1",
        clause(0, "salary", "1", 1)
    ))
    .await;
    assert_eq!(body["status"], "FAILURE");
    sb.shutdown().await;
}

#[tokio::test]
async fn create_update_delete() {
    let sb = start(Config {
        users: 2,
        ..Config::default()
    })
    .await;
    let s = super_session(&sb).await;
    let create = |body: &str| {
        envelope(form(
            call(&sb, &s, reqwest::Method::POST, "/users/user/api/create/"),
            body,
        ))
    };
    let body = create("data[username]=zoe&data[firstName]=Zo%C3%AB&data[lastName]=Fran%C3%A7ois&data[primaryEmail][emailAddress]=zoe%40example.com&data[primaryEmail][optOut]=1&data[manager][id]=1&data[title][value]=Dr.&data[primaryAddress][city]=Krak%C3%B3w&data[password]=secret99").await;
    assert_eq!(body["status"], "SUCCESS", "{body}");
    let user = &body["data"];
    let id = user["id"].as_u64().unwrap();
    assert_eq!(user["firstName"], "Zoë");
    assert_eq!(user["manager"], json!({"id": 1, "username": "super"}));
    assert_eq!(user["primaryEmail"]["optOut"], "1");
    assert_eq!(user["title"]["value"], "Dr.");
    assert_eq!(user["primaryAddress"]["city"], "Kraków");
    assert_eq!(user["createdByUser"]["username"], "super");
    // The new user can log in with its password.
    let _ = session(&sb, "zoe", "secret99").await;

    // Validation: nested errors and templates.
    let body = create("data[username]=Zoe&data[firstName]=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&data[primaryEmail][emailAddress]=bad").await;
    assert_eq!(body["status"], "FAILURE");
    assert_eq!(body["data"], Value::Null);
    assert_eq!(body["message"], "Model was not created.");
    assert_eq!(
        body["errors"]["username"],
        json!(["Username must be lowercase."])
    );
    assert_eq!(
        body["errors"]["lastName"],
        json!(["Last Name cannot be blank."])
    );
    assert_eq!(
        body["errors"]["firstName"],
        json!(["First Name is too long (maximum is 32 characters)."])
    );
    assert_eq!(
        body["errors"]["primaryEmail"]["emailAddress"],
        json!(["Email Address is not a valid email address."])
    );
    let body = create(
        "data[username]=zoe&data[lastName]=X&data[primaryEmail][emailAddress]=ZOE%40example.com",
    )
    .await;
    assert_eq!(
        body["errors"]["username"],
        json!(["Username \"zoe\" is already in use."])
    );
    assert_eq!(
        body["errors"]["primaryEmail"]["emailAddress"],
        json!(["Email address already exists in system."])
    );
    let body = create(&format!(
        "data[username]={}&data[lastName]=X",
        "a".repeat(65)
    ))
    .await;
    assert_eq!(
        body["errors"]["username"],
        json!(["Username is too long (maximum is 64 characters)."])
    );
    assert_eq!(
        create("data[username]=nomanager&data[lastName]=X&data[manager][id]=999").await,
        failure("")
    );
    assert_eq!(
        create("data[username]=nocurrency&data[lastName]=X&data[currency][id]=7").await,
        failure("")
    );
    // No data: empty body, JSON body, non-data keys.
    assert_eq!(create("").await, failure("Please provide data."));
    assert_eq!(create("username=x").await, failure("Please provide data."));
    let json_body = envelope(
        call(&sb, &s, reqwest::Method::POST, "/users/user/api/create/")
            .json(&json!({"data": {"username": "j", "lastName": "J"}})),
    )
    .await;
    assert_eq!(json_body, failure("Please provide data."));

    // Partial update: only the given fields change.
    let update = |id: u64, body: &str| {
        envelope(form(
            call(
                &sb,
                &s,
                reqwest::Method::PUT,
                &format!("/users/user/api/update/{id}"),
            ),
            body,
        ))
    };
    let body = update(
        id,
        "data[jobTitle]=CTO&data[primaryEmail][emailAddress]=zoe2%40example.com",
    )
    .await;
    assert_eq!(body["status"], "SUCCESS");
    assert_eq!(body["data"]["jobTitle"], "CTO");
    assert_eq!(body["data"]["firstName"], "Zoë");
    assert_eq!(
        body["data"]["primaryEmail"]["emailAddress"],
        "zoe2@example.com"
    );
    let body = update(id, "data[lastName]=").await;
    assert_eq!(body["message"], "Model was not updated.");
    assert_eq!(
        body["errors"]["lastName"],
        json!(["Last Name cannot be blank."])
    );
    assert_eq!(
        update(999, "data[jobTitle]=x").await,
        failure("The ID specified was invalid.")
    );
    assert_eq!(update(id, "").await, failure("Please provide data."));

    // Rights: the ordinary user may read but not write.
    let jim = session(&sb, demo::ZURMO_USER_USERNAME, demo::ZURMO_USER_PASSWORD).await;
    assert_eq!(
        envelope(call(
            &sb,
            &jim,
            reqwest::Method::GET,
            &format!("/users/user/api/read/{id}")
        ))
        .await["status"],
        "SUCCESS"
    );
    let denied = envelope(form(
        call(&sb, &jim, reqwest::Method::POST, "/users/user/api/create/"),
        "data[username]=x&data[lastName]=y",
    ))
    .await;
    assert_eq!(
        denied,
        failure("You do not have rights to perform this action.")
    );
    let denied = envelope(call(
        &sb,
        &jim,
        reqwest::Method::DELETE,
        &format!("/users/user/api/delete/{id}"),
    ))
    .await;
    assert_eq!(
        denied,
        failure("You do not have rights to perform this action.")
    );

    // Delete, then it is gone; the last super admin cannot go.
    let del = |id: &str| {
        envelope(call(
            &sb,
            &s,
            reqwest::Method::DELETE,
            &format!("/users/user/api/delete/{id}"),
        ))
    };
    assert_eq!(
        del(&id.to_string()).await,
        json!({"status": "SUCCESS", "data": null, "message": null, "errors": null})
    );
    assert_eq!(
        del(&id.to_string()).await,
        failure("The ID specified was invalid.")
    );
    assert_eq!(del("1").await, failure(""));
    sb.shutdown().await;
}

/// Acting as Zurmo 2.x, the sandbox has no `getAuthenticatedUser`: the route is unknown, and
/// gets the framework's HTML error page like any other.
#[tokio::test]
async fn zurmo_2_has_no_authenticated_user_route() {
    let sb = start(Config {
        zurmo_major: 2,
        ..Config::default()
    })
    .await;
    let s = super_session(&sb).await;
    let res = call(
        &sb,
        &s,
        reqwest::Method::GET,
        "/users/user/api/getAuthenticatedUser",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 404);
    assert!(
        header(&res, "content-type")
            .unwrap()
            .starts_with("text/html")
    );
    // The rest of the API is as before.
    let read = envelope(call(
        &sb,
        &s,
        reqwest::Method::GET,
        "/users/user/api/read/1",
    ))
    .await;
    assert_eq!(read["status"], "SUCCESS");
}

#[tokio::test]
async fn html_errors_xml_and_forced_rate_limit() {
    let sb = start_default().await;
    let s = super_session(&sb).await;
    for path in [
        "/users/user/api/nope",
        "/users/user/api/read",
        "/accounts/account/api/list/",
    ] {
        let res = call(&sb, &s, reqwest::Method::GET, path)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path}");
        assert!(
            header(&res, "content-type")
                .unwrap()
                .starts_with("text/html")
        );
    }
    let res = client()
        .get(format!("{}/users/user/api/read/1", sb.zurmo_base()))
        .header("accept", "text/xml")
        .header("ZURMO_SESSION_ID", &s.id)
        .header("ZURMO_TOKEN", &s.token)
        .send()
        .await
        .unwrap();
    let xml = res.text().await.unwrap();
    assert!(
        xml.starts_with("<?xml") && xml.contains("<status>SUCCESS</status>"),
        "{xml}"
    );

    sb.force_rate_limit(Crm::Zurmo, Duration::from_secs(20));
    let res = call(&sb, &s, reqwest::Method::GET, "/users/user/api/read/1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(header(&res, "retry-after").is_some());
    assert_eq!(body_json(res).await["status"], "FAILURE");
    sb.shutdown().await;
}

#[tokio::test]
async fn parallel_creates_of_one_username_have_one_winner() {
    let sb = start_default().await;
    let s = super_session(&sb).await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let r = form(
            call(&sb, &s, reqwest::Method::POST, "/users/user/api/create/"),
            &format!(
                "data[username]=racer&data[lastName]=R&data[primaryEmail][emailAddress]=r{i}%40x.example"
            ),
        );
        tasks.push(tokio::spawn(async move {
            body_json(r.send().await.unwrap()).await["status"]
                .as_str()
                .unwrap()
                .to_string()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if t.await.unwrap() == "SUCCESS" {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
    sb.shutdown().await;
}

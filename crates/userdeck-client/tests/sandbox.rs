//! The whole client against the sandbox over real HTTP, per CRM: paging, every search form, CRUD,
//! validation failures as field errors, session expiry and re-login, forced 429s, OAuth, and
//! cancellation of superseded searches. Each test starts its own sandbox on 127.0.0.1:0.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use userdeck_client::oauth::{self, OAuthClient, Pkce};
use userdeck_client::ratelimit::Quota;
use userdeck_client::{
    ApiError, Auth, Client, Connection, Direction, HttpRequest, Match, Method, NativeTransport, Op,
    PasswordChange, Provider, Transport, UserDraft, UserField, UserQuery,
};
use userdeck_sandbox::{Config, Crm, Sandbox, demo};

async fn sandbox() -> Sandbox {
    Sandbox::start(Config::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn client(provider: Provider, base_url: String, auth: Auth) -> Client<NativeTransport> {
    Client::new(
        Connection {
            provider,
            base_url,
            auth,
        },
        NativeTransport::new(),
    )
}

fn capsule(sb: &Sandbox) -> Client<NativeTransport> {
    client(
        Provider::Capsule,
        sb.capsule_base(),
        Auth::Token(demo::CAPSULE_TOKEN.into()),
    )
}

fn appcrm_admin(sb: &Sandbox) -> Client<NativeTransport> {
    client(
        Provider::AppCrm,
        sb.appcrm_base(),
        Auth::Token(demo::APPCRM_ADMIN_TOKEN.into()),
    )
}

/// A new App CRM user with everything the server requires (24-hour time, ISO dates, Lisbon).
fn appcrm_draft(name: &str, email: &str) -> UserDraft {
    let mut draft = UserDraft {
        name: Some(name.into()),
        email: Some(email.into()),
        password: Some("secret-1".into()),
        time_zone: Some("Europe/Lisbon".into()),
        ..UserDraft::default()
    };
    draft.set("time_format", json!("H:i"));
    draft.set("date_format", json!("Y-m-d"));
    draft
}

fn zurmo(sb: &Sandbox) -> Client<NativeTransport> {
    client(
        Provider::Zurmo,
        sb.zurmo_base(),
        Auth::UsernamePassword {
            username: demo::ZURMO_USERNAME.into(),
            password: demo::ZURMO_PASSWORD.into(),
        },
    )
}

fn ids(users: &[userdeck_client::User]) -> HashSet<u64> {
    users.iter().map(|u| u.id).collect()
}

// ---------------------------------------------------------------- Capsule

#[tokio::test]
async fn capsule_pages_through_all_users_with_party_emails() {
    let sb = sandbox().await;
    let c = capsule(&sb);
    let first = c.list(&UserQuery::page(1, 50)).await.unwrap();
    assert_eq!(first.items.len(), 50);
    assert!(first.has_next);
    assert!(
        first.items.iter().all(|u| u.email.is_some()),
        "embed=party gives emails"
    );
    assert_eq!(
        first.total,
        Some(Config::default().users as u64),
        "embed=meta gives the count"
    );
    let mut paged = Vec::new();
    let mut page = 1;
    loop {
        let p = c.list(&UserQuery::page(page, 100)).await.unwrap();
        paged.extend(p.items);
        if !p.has_next {
            break;
        }
        page += 1;
    }
    assert_eq!(paged.len(), Config::default().users);
    assert_eq!(ids(&paged).len(), paged.len(), "no duplicates across pages");
    let all = c.list_all(&UserQuery::default()).await.unwrap();
    assert_eq!(ids(&all), ids(&paged));
    let quota = c.quota().expect("Capsule reports its quota");
    assert_eq!(quota.limit, Some(4000));
    assert!(quota.remaining < 4000 && quota.reset_reported);
    sb.shutdown().await;
}

#[tokio::test]
async fn capsule_search_sort_and_read_run_on_the_client() {
    let sb = sandbox().await;
    let c = capsule(&sb);
    let all = c.list_all(&UserQuery::default()).await.unwrap();
    let target = &all[all.len() / 2];
    let email = target.email.clone().unwrap();
    let by_text = c
        .list(&UserQuery::page(1, 10).text(target.username.clone().unwrap()))
        .await
        .unwrap();
    assert!(by_text.items.iter().any(|u| u.id == target.id));
    let by_email = c
        .list(&UserQuery::default().with(UserField::Email, Op::Equals, email.to_uppercase()))
        .await
        .unwrap();
    assert_eq!(ids(&by_email.items), HashSet::from([target.id]));
    assert_eq!(by_email.total, Some(1));
    let any = UserQuery::default()
        .with(UserField::Email, Op::Equals, email.clone())
        .with(UserField::Id, Op::Equals, "1")
        .matching(Match::Any);
    assert_eq!(
        c.list(&any).await.unwrap().items.len(),
        if target.id == 1 { 1 } else { 2 }
    );
    let sorted = c
        .list(&UserQuery::page(2, 20).sorted(UserField::Username, Direction::Desc))
        .await
        .unwrap();
    let names: Vec<String> = sorted
        .items
        .iter()
        .map(|u| u.username.clone().unwrap().to_lowercase())
        .collect();
    assert_eq!(names.len(), 20, "a full second page");
    assert!(names.windows(2).all(|w| w[0] >= w[1]), "{names:?}");
    assert_eq!(sorted.total, Some(all.len() as u64));
    let one = c.get(target.id).await.unwrap();
    assert_eq!(one.email.as_deref(), Some(email.as_str()));
    let me = c.me().await.unwrap();
    assert_eq!(me.id, 1);
    assert!(matches!(
        c.get(999_999).await,
        Err(ApiError::NotFound { .. })
    ));
    assert!(matches!(
        c.create(&UserDraft::default()).await,
        Err(ApiError::Unsupported { .. })
    ));
    assert!(matches!(
        c.delete(1).await,
        Err(ApiError::Unsupported { .. })
    ));
    sb.shutdown().await;
}

#[tokio::test]
async fn capsule_bad_token_is_unauthorized() {
    let sb = sandbox().await;
    let c = client(
        Provider::Capsule,
        sb.capsule_base(),
        Auth::Token("nope".into()),
    );
    assert!(matches!(c.me().await, Err(ApiError::Unauthorized { .. })));
    sb.shutdown().await;
}

#[tokio::test]
async fn capsule_forced_429_is_waited_out_and_retried() {
    let sb = sandbox().await;
    let c = capsule(&sb);
    sb.force_rate_limit(Crm::Capsule, Duration::from_millis(1500));
    let before = sb.requests_seen();
    let me = c.me().await.unwrap();
    assert_eq!(me.id, 1);
    assert!(
        sb.requests_seen() - before >= 2,
        "the first attempt was refused and retried"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn the_wait_observer_hears_the_start_and_end_of_a_rate_limit_wait() {
    let sb = sandbox().await;
    let heard = Arc::new(std::sync::Mutex::new(
        Vec::<(Option<u64>, Option<Quota>)>::new(),
    ));
    let log = heard.clone();
    let c = appcrm_admin(&sb).with_wait_observer(Arc::new(move |until, quota| {
        log.lock().unwrap().push((until, quota));
    }));
    c.me().await.unwrap();
    assert!(heard.lock().unwrap().is_empty(), "no wait without a limit");
    sb.force_rate_limit(Crm::AppCrm, Duration::from_millis(1200));
    let asked = NativeTransport::new().now_ms();
    c.me().await.unwrap();
    let heard = heard.lock().unwrap().clone();
    assert_eq!(
        heard.len(),
        2,
        "one wait, told when it starts and ends: {heard:?}"
    );
    let (until, quota) = heard[0];
    let until = until.expect("the start carries its end time");
    assert!(
        until > asked && until <= asked + 5_000,
        "{until} vs {asked}"
    );
    // The wait starts on the 429's quota, not the one the last finished call saw.
    let quota = quota.expect("the 429 reports its quota");
    assert_eq!((quota.remaining, quota.limit), (0, Some(90)));
    assert_eq!(heard[1].0, None);
    assert_eq!(
        heard[1].1.map(|q| q.remaining),
        Some(0),
        "the quota stays as the 429 left it until the next answer"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn capsule_oauth_pkce_flow_gives_a_working_token() {
    let sb = sandbox().await;
    let t = NativeTransport::new();
    let oc = OAuthClient::capsule(
        &sb.capsule_base(),
        demo::OAUTH_PUBLIC_CLIENT_ID,
        None,
        "http://127.0.0.1:9/callback",
        "read",
    );
    let pkce = Pkce::from_random([42; 32]);
    let page = t
        .send(
            HttpRequest::new(Method::Get, oauth::authorise_url(&oc, "st-1", &pkce)),
            None,
        )
        .await
        .unwrap();
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.body).unwrap();
    let request_id = html
        .split("name=\"request\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let approve = HttpRequest::new(Method::Post, oc.authorise_url.clone()).body(
        "application/x-www-form-urlencoded",
        format!("request={request_id}&decision=allow").into_bytes(),
    );
    let redirect = t.send(approve, None).await.unwrap();
    let location = redirect.header("Location").unwrap().to_string();
    let query = location.split_once('?').unwrap().1;
    assert_eq!(
        oauth::parse_callback(query, "other"),
        Err(ApiError::OAuthStateMismatch)
    );
    let code = oauth::parse_callback(query, "st-1").unwrap();
    let wrong = t
        .send(
            oauth::exchange_code_request(
                &oc,
                &code,
                "wrong-verifier-wrong-verifier-wrong-verifier",
            ),
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        oauth::parse_token_response(&wrong),
        Err(ApiError::OAuth { .. })
    ));
    // The code is single-use; start again for the real exchange.
    let page = t
        .send(
            HttpRequest::new(Method::Get, oauth::authorise_url(&oc, "st-2", &pkce)),
            None,
        )
        .await
        .unwrap();
    let html = String::from_utf8(page.body).unwrap();
    let request_id = html
        .split("name=\"request\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let approve = HttpRequest::new(Method::Post, oc.authorise_url.clone()).body(
        "application/x-www-form-urlencoded",
        format!("request={request_id}&decision=allow").into_bytes(),
    );
    let location = t
        .send(approve, None)
        .await
        .unwrap()
        .header("Location")
        .unwrap()
        .to_string();
    let code = oauth::parse_callback(location.split_once('?').unwrap().1, "st-2").unwrap();
    let tokens = oauth::parse_token_response(
        &t.send(
            oauth::exchange_code_request(&oc, &code, &pkce.verifier),
            None,
        )
        .await
        .unwrap(),
    )
    .unwrap();
    let c = client(
        Provider::Capsule,
        sb.capsule_base(),
        Auth::Token(tokens.access_token.clone()),
    );
    assert!(c.me().await.is_ok());
    let refresh = tokens
        .refresh_token
        .clone()
        .expect("the sandbox issues a refresh token");
    // Once the access token has ended, the refresh token gets a new one, which the client uses.
    sb.expire_sessions(Crm::Capsule);
    let ended = c.me().await.unwrap_err();
    assert!(ended.needs_sign_in(), "{ended:?}");
    let refreshed = oauth::parse_token_response(
        &t.send(oauth::refresh_request(&oc, &refresh), None)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_ne!(refreshed.access_token, tokens.access_token);
    c.set_token(refreshed.access_token);
    assert!(c.me().await.is_ok());
    sb.shutdown().await;
}

// ---------------------------------------------------------------- App CRM

#[tokio::test]
async fn appcrm_pages_through_all_users() {
    let sb = sandbox().await;
    let c = appcrm_admin(&sb);
    let first = c.list(&UserQuery::default()).await.unwrap();
    assert_eq!(first.page_size, 15);
    assert_eq!(first.items.len(), 15);
    let total = first.total.unwrap();
    assert!(first.has_next);
    let all = c.list_all(&UserQuery::default()).await.unwrap();
    assert_eq!(all.len() as u64, total);
    assert_eq!(ids(&all).len(), all.len());
    let last_page = total.div_ceil(15) as u32;
    let last = c.list(&UserQuery::page(last_page, 15)).await.unwrap();
    assert!(!last.has_next);
    assert!(c.quota().is_some());
    sb.shutdown().await;
}

#[tokio::test]
async fn appcrm_search_forms() {
    let sb = sandbox().await;
    let c = appcrm_admin(&sb);
    let all = c.list_all(&UserQuery::default()).await.unwrap();
    let target = all
        .iter()
        .find(|u| !u.display_name.is_ascii())
        .unwrap_or(&all[3])
        .clone();
    let email = target.email.clone().unwrap();
    let word: String = target
        .display_name
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    // q: free text.
    let by_text = c
        .list(&UserQuery::page(1, 100).text(word.clone()))
        .await
        .unwrap();
    assert!(by_text.items.iter().any(|u| u.id == target.id), "{word}");
    // search_fields with all-matching.
    let both = UserQuery::page(1, 100)
        .with(UserField::Email, Op::Equals, email.clone())
        .with(UserField::DisplayName, Op::Contains, word.clone());
    assert_eq!(
        ids(&c.list(&both).await.unwrap().items),
        HashSet::from([target.id])
    );
    // any-matching widens the result.
    let other = all.iter().find(|u| u.id != target.id).unwrap();
    let either = UserQuery::page(1, 100)
        .with(UserField::Email, Op::Equals, email.clone())
        .with(UserField::Id, Op::Equals, other.id.to_string())
        .matching(Match::Any);
    assert_eq!(
        ids(&c.list(&either).await.unwrap().items),
        HashSet::from([target.id, other.id])
    );
    // in.
    let within =
        UserQuery::page(1, 100).with(UserField::Id, Op::In, format!("{},{}", target.id, other.id));
    assert_eq!(c.list(&within).await.unwrap().items.len(), 2);
    // order and select.
    let sorted = c
        .list(&UserQuery::page(1, 30).sorted(UserField::Email, Direction::Desc))
        .await
        .unwrap();
    let emails: Vec<String> = sorted
        .items
        .iter()
        .map(|u| u.email.clone().unwrap())
        .collect();
    assert_eq!(emails.len(), 30, "a full page");
    assert!(emails.windows(2).all(|w| w[0] >= w[1]), "{emails:?}");
    let selected = c
        .list(&UserQuery {
            fields: vec![UserField::CreatedAt],
            ..UserQuery::page(1, 5)
        })
        .await
        .unwrap();
    // Unselected columns come back null.
    assert_eq!(selected.items.len(), 5);
    assert!(
        selected
            .items
            .iter()
            .all(|u| u.time_zone.is_none() && u.email.is_some() && u.created_at.is_some())
    );
    // Unsupported combinations fail before sending.
    let mixed = UserQuery::default()
        .text("a")
        .with(UserField::Email, Op::Equals, "b");
    assert!(matches!(
        c.list(&mixed).await,
        Err(ApiError::Unsupported { .. })
    ));
    sb.shutdown().await;
}

#[tokio::test]
async fn appcrm_create_read_update_delete() {
    let sb = sandbox().await;
    let c = appcrm_admin(&sb);
    let mut draft = appcrm_draft("Zoë Ñandú", "zoe.nandu@example.com");
    draft.set("time_format", json!("h:i a"));
    draft.set("date_format", json!("d/m/Y"));
    let created = c.create(&draft).await.unwrap();
    assert_eq!(created.display_name, "Zoë Ñandú");
    let read = c.get(created.id).await.unwrap();
    assert_eq!(read.email.as_deref(), Some("zoe.nandu@example.com"));
    assert_eq!(read.time_zone.as_deref(), Some("Europe/Lisbon"));
    let updated = c
        .update(
            created.id,
            &UserDraft {
                name: Some("Zoë N.".into()),
                ..UserDraft::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.display_name, "Zoë N.");
    assert_eq!(
        updated.email.as_deref(),
        Some("zoe.nandu@example.com"),
        "full replace kept the email"
    );
    assert_eq!(updated.raw["time_format"], "h:i a");
    assert_eq!(updated.raw["date_format"], "d/m/Y");
    c.delete(created.id).await.unwrap();
    assert!(matches!(
        c.get(created.id).await,
        Err(ApiError::NotFound { .. })
    ));
    sb.shutdown().await;
}

/// An App CRM that names itself v1.2 gets the first day of the week it requires: the client
/// learns the release from the first answer, its schema then asks for the field (so a form does),
/// a create sends what the draft holds, and an update or profile save that does not touch it
/// sends the user's own again (the full replace would fail without it).
#[tokio::test]
async fn appcrm_v1_2_gets_the_first_day_of_week_it_requires() {
    let sb = sandbox().await;
    let c = client(
        Provider::AppCrm,
        sb.appcrm_legacy_base(),
        Auth::Token(demo::APPCRM_ADMIN_TOKEN.into()),
    );
    let has_field = |c: &Client<NativeTransport>| c.schema().field("first_day_of_week").is_some();
    assert_eq!(c.server_version(), None);
    assert!(!has_field(&c), "no release known yet");
    c.list(&UserQuery::page(1, 1)).await.unwrap();
    assert_eq!(c.server_version().as_deref(), Some("1.2.1"));
    assert!(has_field(&c));

    let mut draft = appcrm_draft("Week Starter", "week.starter@example.com");
    let err = c.create(&draft).await.unwrap_err();
    assert_eq!(
        err.field_messages("first_day_of_week"),
        ["The first day of week field is required."],
        "{err:?}"
    );
    draft.set("first_day_of_week", json!(6));
    let created = c.create(&draft).await.unwrap();
    assert_eq!(created.raw["first_day_of_week"], 6);
    let renamed = UserDraft {
        name: Some("Week Starter II".into()),
        ..UserDraft::default()
    };
    let updated = c.update(created.id, &renamed).await.unwrap();
    assert_eq!(updated.display_name, "Week Starter II");
    assert_eq!(
        updated.raw["first_day_of_week"], 6,
        "kept by the full replace"
    );
    let me = c.update_profile(&UserDraft::default()).await.unwrap();
    assert!(me.raw["first_day_of_week"].is_u64(), "{:?}", me.raw);

    // The same CRM as v1.5 neither names the field nor needs it.
    let current = appcrm_admin(&sb);
    let read = current.get(created.id).await.unwrap();
    assert_eq!(current.server_version().as_deref(), Some("1.5.1"));
    assert!(!has_field(&current));
    assert!(read.raw.get("first_day_of_week").is_none());
    sb.shutdown().await;
}

#[tokio::test]
async fn appcrm_validation_failures_are_field_errors() {
    let sb = sandbox().await;
    let c = appcrm_admin(&sb);
    let taken = c.list(&UserQuery::page(1, 1)).await.unwrap().items[0]
        .email
        .clone()
        .unwrap();
    let mut draft = UserDraft {
        email: Some(taken),
        password: Some("secret-1".into()),
        ..UserDraft::default()
    };
    draft.set("time_format", json!("G:i A"));
    draft.set("password_confirmation", json!("different"));
    let err = c.create(&draft).await.unwrap_err();
    assert!(!err.field_messages("name").is_empty(), "{err:?}");
    assert!(!err.field_messages("email").is_empty(), "{err:?}");
    assert!(!err.field_messages("time_format").is_empty(), "{err:?}");
    assert!(!err.field_messages("password").is_empty(), "{err:?}");
    let bad_tz = UserDraft {
        time_zone: Some("europe/lisbon".into()),
        ..UserDraft::default()
    };
    let me = c.me().await.unwrap();
    let err = c.update(me.id, &bad_tz).await.unwrap_err();
    assert!(!err.field_messages("timezone").is_empty(), "{err:?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn appcrm_password_sign_in_profile_and_password_change() {
    let sb = sandbox().await;
    let wrong = client(
        Provider::AppCrm,
        sb.appcrm_base(),
        Auth::EmailPassword {
            email: demo::APPCRM_USER_EMAIL.into(),
            password: "nope-nope".into(),
        },
    );
    assert!(matches!(
        wrong.me().await,
        Err(ApiError::InvalidCredentials { .. })
    ));
    let c = client(
        Provider::AppCrm,
        sb.appcrm_base(),
        Auth::EmailPassword {
            email: demo::APPCRM_USER_EMAIL.into(),
            password: demo::APPCRM_USER_PASSWORD.into(),
        },
    );
    let me = c.me().await.unwrap();
    assert_eq!(me.email.as_deref(), Some(demo::APPCRM_USER_EMAIL));
    assert!(c.token().is_some());
    let profile = c
        .update_profile(&UserDraft {
            name: Some("Renamed Me".into()),
            ..UserDraft::default()
        })
        .await
        .unwrap();
    assert_eq!(profile.display_name, "Renamed Me");
    assert_eq!(profile.email.as_deref(), Some(demo::APPCRM_USER_EMAIL));
    // Not a super admin: writes to other users are forbidden.
    assert!(matches!(
        c.delete(me.id + 1).await,
        Err(ApiError::Forbidden { .. })
    ));
    let wrong_old = PasswordChange {
        old_password: "not-my-password".into(),
        new_password: "brand-new-1".into(),
        confirmation: "brand-new-1".into(),
    };
    let err = c.change_password(&wrong_old).await.unwrap_err();
    assert!(!err.field_messages("old_password").is_empty(), "{err:?}");
    let right = PasswordChange {
        old_password: demo::APPCRM_USER_PASSWORD.into(),
        ..wrong_old
    };
    c.change_password(&right).await.unwrap();
    let again = client(
        Provider::AppCrm,
        sb.appcrm_base(),
        Auth::EmailPassword {
            email: demo::APPCRM_USER_EMAIL.into(),
            password: "brand-new-1".into(),
        },
    );
    assert!(again.me().await.is_ok());
    sb.shutdown().await;
}

#[tokio::test]
async fn appcrm_expired_token_signs_in_again_with_a_password_but_not_with_a_token() {
    let sb = sandbox().await;
    let by_password = client(
        Provider::AppCrm,
        sb.appcrm_base(),
        Auth::EmailPassword {
            email: demo::APPCRM_ADMIN_EMAIL.into(),
            password: demo::APPCRM_ADMIN_PASSWORD.into(),
        },
    );
    let by_token = appcrm_admin(&sb);
    by_password.me().await.unwrap();
    by_token.me().await.unwrap();
    let old = by_password.token();
    sb.expire_sessions(Crm::AppCrm);
    assert!(by_password.me().await.is_ok());
    assert_ne!(by_password.token(), old, "a new token was issued");
    assert!(matches!(
        by_token.me().await,
        Err(ApiError::Unauthorized { .. })
    ));
    sb.shutdown().await;
}

#[tokio::test]
async fn appcrm_forced_429_is_honoured_for_reads_only() {
    let sb = sandbox().await;
    let c = appcrm_admin(&sb);
    sb.force_rate_limit(Crm::AppCrm, Duration::from_millis(1200));
    let page = c.list(&UserQuery::page(1, 5)).await.unwrap();
    assert_eq!(page.items.len(), 5);
    sb.force_rate_limit(Crm::AppCrm, Duration::from_secs(2));
    let draft = UserDraft {
        name: Some("X".into()),
        email: Some("x429@example.com".into()),
        password: Some("secret-1".into()),
        ..UserDraft::default()
    };
    assert!(
        matches!(c.create(&draft).await, Err(ApiError::RateLimited { .. })),
        "a create is not retried"
    );
    sb.shutdown().await;
}

// ---------------------------------------------------------------- Zurmo

#[tokio::test]
async fn zurmo_pages_through_all_users() {
    let sb = sandbox().await;
    let c = zurmo(&sb);
    let first = c.list(&UserQuery::default()).await.unwrap();
    assert_eq!(first.items.len(), 10);
    let total = first.total.unwrap();
    assert!(first.has_next);
    let all = c.list_all(&UserQuery::default()).await.unwrap();
    assert_eq!(all.len() as u64, total);
    assert_eq!(ids(&all).len(), all.len());
    let past_end = c.list(&UserQuery::page(10_000, 50)).await.unwrap();
    assert!(!past_end.has_next);
    // Zurmo repeats the last page's users there; they are not on page 10,000.
    assert!(past_end.items.is_empty(), "{:?}", ids(&past_end.items));
    assert_eq!(past_end.total, Some(total));
    let last = c
        .list(&UserQuery::page(total.div_ceil(50) as u32, 50))
        .await
        .unwrap();
    assert!(!last.items.is_empty());
    sb.shutdown().await;
}

#[tokio::test]
async fn zurmo_search_forms() {
    let sb = sandbox().await;
    let c = zurmo(&sb);
    let all = c.list_all(&UserQuery::default()).await.unwrap();
    let a = all
        .iter()
        .find(|u| u.username.as_deref().is_some_and(|n| n.len() > 3))
        .unwrap()
        .clone();
    let b = all
        .iter()
        .find(|u| {
            u.username
                .as_deref()
                .is_some_and(|n| n.len() > 3 && !n.starts_with(&a.username.as_ref().unwrap()[..3]))
        })
        .unwrap()
        .clone();
    let prefix = |u: &userdeck_client::User| u.username.clone().unwrap()[..3].to_string();
    let expect = |p: &str| {
        all.iter()
            .filter(|u| {
                u.username
                    .as_deref()
                    .is_some_and(|n| n.to_lowercase().starts_with(&p.to_lowercase()))
            })
            .count()
    };
    // search[...] in the path (GET).
    let one = c
        .list_all(&UserQuery::default().with(
            UserField::Username,
            Op::StartsWith,
            prefix(&a).to_uppercase(),
        ))
        .await
        .unwrap();
    assert_eq!(one.len(), expect(&prefix(&a)));
    assert!(one.iter().any(|u| u.id == a.id));
    // dynamicSearch with "1 OR 2" (POST).
    let either = UserQuery::default()
        .with(UserField::Username, Op::StartsWith, prefix(&a))
        .with(UserField::Username, Op::StartsWith, prefix(&b))
        .matching(Match::Any);
    let found = c.list_all(&either).await.unwrap();
    assert_eq!(found.len(), expect(&prefix(&a)) + expect(&prefix(&b)));
    // Free text over name, username and email, AND a condition.
    let text = UserQuery::default()
        .text(a.last_name.clone().unwrap())
        .with(
            UserField::Active,
            Op::Equals,
            if a.active == Some(false) { "0" } else { "1" },
        );
    assert!(
        c.list_all(&text)
            .await
            .unwrap()
            .iter()
            .any(|u| u.id == a.id)
    );
    // A value the path form cannot carry goes by POST and still works.
    let email = a.email.clone().unwrap();
    let slashy = UserQuery::default().with(UserField::Email, Op::StartsWith, format!("{email}/"));
    assert!(c.list(&slashy).await.unwrap().items.is_empty());
    let by_email = c
        .list(&UserQuery::default().with(UserField::Email, Op::StartsWith, email))
        .await
        .unwrap();
    assert!(by_email.items.iter().any(|u| u.id == a.id));
    // Sort.
    let sorted = c
        .list(&UserQuery::page(1, 40).sorted(UserField::Username, Direction::Desc))
        .await
        .unwrap();
    let names: Vec<String> = sorted
        .items
        .iter()
        .map(|u| u.username.clone().unwrap())
        .collect();
    assert_eq!(names.len(), 40, "a full page");
    assert!(names.windows(2).all(|w| w[0] >= w[1]), "{names:?}");
    // No match: `items` is absent.
    let none = c
        .list(&UserQuery::default().with(UserField::Username, Op::StartsWith, "zzzzzzqqq"))
        .await
        .unwrap();
    assert_eq!((none.items.len(), none.total), (0, Some(0)));
    sb.shutdown().await;
}

#[tokio::test]
async fn zurmo_create_read_update_delete_and_validation() {
    let sb = sandbox().await;
    let c = zurmo(&sb);
    let mut draft = UserDraft {
        username: Some("élodie.test".into()),
        first_name: Some("Élodie".into()),
        last_name: Some("Dubois/Ünal".into()),
        email: Some("elodie@example.com".into()),
        password: Some("secret-123".into()),
        ..UserDraft::default()
    };
    draft.set("jobTitle", json!("R&D + QA"));
    draft.set("primaryAddress.city", json!("São Paulo"));
    let created = c.create(&draft).await.unwrap();
    assert_eq!(created.display_name, "Élodie Dubois/Ünal");
    assert_eq!(created.raw_text("jobTitle").as_deref(), Some("R&D + QA"));
    assert_eq!(
        created.raw_text("primaryAddress.city").as_deref(),
        Some("São Paulo")
    );
    let read = c.get(created.id).await.unwrap();
    assert_eq!(read.email.as_deref(), Some("elodie@example.com"));
    let updated = c
        .update(
            created.id,
            &UserDraft {
                first_name: Some("Elo".into()),
                ..UserDraft::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.first_name.as_deref(), Some("Elo"));
    assert_eq!(
        updated.last_name.as_deref(),
        Some("Dubois/Ünal"),
        "partial update kept the rest"
    );
    // Validation: missing last name, uppercase username, duplicate email (nested path).
    let bad = UserDraft {
        username: Some("UPPER".into()),
        email: Some("elodie@example.com".into()),
        ..UserDraft::default()
    };
    let err = c.create(&bad).await.unwrap_err();
    assert!(!err.field_messages("lastName").is_empty(), "{err:?}");
    assert!(!err.field_messages("username").is_empty(), "{err:?}");
    assert!(
        !err.field_messages("primaryEmail.emailAddress").is_empty(),
        "{err:?}"
    );
    let too_long = UserDraft {
        first_name: Some("x".repeat(40)),
        ..UserDraft::default()
    };
    assert!(
        !c.update(created.id, &too_long)
            .await
            .unwrap_err()
            .field_messages("firstName")
            .is_empty()
    );
    c.delete(created.id).await.unwrap();
    assert!(matches!(
        c.get(created.id).await,
        Err(ApiError::NotFound { .. })
    ));
    sb.shutdown().await;
}

#[tokio::test]
async fn zurmo_session_expiry_signs_in_again_and_bad_passwords_are_told_apart() {
    let sb = sandbox().await;
    let c = zurmo(&sb);
    let me = c.me().await.unwrap();
    assert_eq!(me.username.as_deref(), Some(demo::ZURMO_USERNAME));
    sb.expire_sessions(Crm::Zurmo);
    assert_eq!(
        c.get(me.id).await.unwrap().id,
        me.id,
        "re-login on \"Sign in required.\""
    );
    c.sign_out().await.unwrap();
    assert!(!c.is_signed_in());
    assert!(c.me().await.is_ok(), "signs in again on demand");
    let wrong = client(
        Provider::Zurmo,
        sb.zurmo_base(),
        Auth::UsernamePassword {
            username: demo::ZURMO_USERNAME.into(),
            password: "wrong".into(),
        },
    );
    assert!(matches!(
        wrong.me().await,
        Err(ApiError::InvalidCredentials { .. })
    ));
    let anonymous = client(Provider::Zurmo, sb.zurmo_base(), Auth::None);
    assert_eq!(anonymous.me().await, Err(ApiError::SessionExpired));
    sb.shutdown().await;
}

/// Zurmo 2.x has no `getAuthenticatedUser`: the signed-in user is the one listed under the
/// name they signed in with, not a user whose name merely starts with it.
#[tokio::test]
async fn zurmo_2_finds_the_signed_in_user_by_their_name() {
    let sb = Sandbox::start(
        Config {
            zurmo_major: 2,
            ..Config::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let c = zurmo(&sb);
    // A user whose name starts with the signed-in one's: Zurmo's prefix search finds both.
    let longer = format!("{}0", demo::ZURMO_USERNAME);
    c.create(&UserDraft {
        username: Some(longer.clone()),
        last_name: Some("Prefix".into()),
        password: Some("secret-1".into()),
        ..UserDraft::default()
    })
    .await
    .unwrap();
    let me = c.me().await.unwrap();
    assert_eq!(me.username.as_deref(), Some(demo::ZURMO_USERNAME));
    assert_eq!(me.id, 1);

    // And a user without admin rights finds themselves the same way.
    let other = client(
        Provider::Zurmo,
        sb.zurmo_base(),
        Auth::UsernamePassword {
            username: longer.clone(),
            password: "secret-1".into(),
        },
    );
    let other_me = other.me().await.unwrap();
    assert_eq!(other_me.username.as_deref(), Some(longer.as_str()));

    // Without the name (a proxy signs in for the browser) there is no way to tell, and the
    // error says why rather than "not found".
    let nameless = client(Provider::Zurmo, sb.zurmo_base(), Auth::None);
    match nameless.me().await {
        Err(ApiError::Unsupported { message }) => {
            assert_eq!(
                message,
                userdeck_client::provider::zurmo::NO_AUTHENTICATED_USER
            )
        }
        other => panic!("{other:?}"),
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn zurmo_forced_429_is_retried() {
    let sb = sandbox().await;
    let c = zurmo(&sb);
    c.sign_in().await.unwrap();
    sb.force_rate_limit(Crm::Zurmo, Duration::from_millis(1200));
    assert!(c.list(&UserQuery::page(1, 3)).await.is_ok());
    sb.shutdown().await;
}

// ---------------------------------------------------------------- cancellation and threads

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_superseded_search_is_cancelled_and_never_delivered() {
    let sb = sandbox().await;
    let c = Arc::new(appcrm_admin(&sb));
    sb.set_latency(Duration::from_millis(400));
    let first = {
        let c = Arc::clone(&c);
        tokio::spawn(async move { c.list_latest(&UserQuery::page(1, 5).text("a")).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = c.list_latest(&UserQuery::page(1, 5).text("e")).await;
    assert_eq!(first.await.unwrap(), Err(ApiError::Cancelled));
    assert!(second.is_ok());
    sb.shutdown().await;
}

#[tokio::test]
async fn appcrm_delete_can_transfer_records_to_another_user() {
    let sb = sandbox().await;
    let c = appcrm_admin(&sb);
    assert!(c.capabilities().delete_transfer);
    let me = c.me().await.unwrap();
    let all = c.list_all(&UserQuery::default()).await.unwrap();
    let mut others = all.iter().filter(|u| u.id != me.id);
    let (victim, heir) = (others.next().unwrap().id, others.next().unwrap().id);
    // A transfer to nobody (or to the deleted user) is the server's 404, and nothing is deleted.
    assert!(matches!(
        c.delete_transferring(victim, Some(999_999)).await,
        Err(ApiError::NotFound { .. })
    ));
    assert!(matches!(
        c.delete_transferring(victim, Some(victim)).await,
        Err(ApiError::NotFound { .. })
    ));
    assert_eq!(c.get(victim).await.unwrap().id, victim);
    c.delete_transferring(victim, Some(heir)).await.unwrap();
    assert!(matches!(
        c.get(victim).await,
        Err(ApiError::NotFound { .. })
    ));
    assert_eq!(c.get(heir).await.unwrap().id, heir);
    // Zurmo has no transfer: asking for one is refused before anything is sent.
    let z = zurmo(&sb);
    assert!(!z.capabilities().delete_transfer);
    assert!(matches!(
        z.delete_transferring(2, Some(3)).await,
        Err(ApiError::Unsupported { .. })
    ));
    sb.shutdown().await;
}

/// Zurmo's text match: starts with, case-insensitive.
fn prefixed(value: Option<&str>, prefix: &str) -> bool {
    value.is_some_and(|v| v.to_lowercase().starts_with(&prefix.to_lowercase()))
}

#[tokio::test]
async fn zurmo_custom_structure_combines_conditions() {
    let sb = sandbox().await;
    let c = zurmo(&sb);
    let all = c.list_all(&UserQuery::default()).await.unwrap();
    // Two username prefixes and a last-name initial that together pick a proper subset.
    let first_two = |u: &userdeck_client::User| {
        u.username
            .as_deref()
            .and_then(|n| n.get(..2))
            .map(str::to_string)
    };
    let a = first_two(&all[0]).unwrap();
    let b = all.iter().filter_map(first_two).find(|p| *p != a).unwrap();
    let initial = all
        .iter()
        .filter(|u| prefixed(u.username.as_deref(), &a) || prefixed(u.username.as_deref(), &b))
        .find_map(|u| {
            u.last_name
                .as_deref()
                .and_then(|n| n.get(..1))
                .map(str::to_string)
        })
        .unwrap();
    let expected: HashSet<u64> = all
        .iter()
        .filter(|u| {
            (prefixed(u.username.as_deref(), &a) || prefixed(u.username.as_deref(), &b))
                && prefixed(u.last_name.as_deref(), &initial)
        })
        .map(|u| u.id)
        .collect();
    assert!(!expected.is_empty());
    let q = UserQuery::default()
        .with(UserField::Username, Op::StartsWith, a.clone())
        .with(UserField::Username, Op::StartsWith, b.clone())
        .with(UserField::LastName, Op::StartsWith, initial.clone())
        .structured("(1 or 2) and 3");
    let found = c.list_all(&q).await.unwrap();
    assert_eq!(ids(&found), expected);
    // The all-AND default over the same conditions is a different (empty) answer: two different
    // username prefixes cannot both match.
    let and_all = UserQuery {
        structure: None,
        ..q.clone()
    };
    assert!(c.list_all(&and_all).await.unwrap().is_empty());
    // "1 or (2 and 3)" differs again: every user of prefix `a` whatever the last name.
    let other = c
        .list_all(&q.clone().structured("1 OR (2 AND 3)"))
        .await
        .unwrap();
    let expected_other: HashSet<u64> = all
        .iter()
        .filter(|u| {
            prefixed(u.username.as_deref(), &a)
                || (prefixed(u.username.as_deref(), &b)
                    && prefixed(u.last_name.as_deref(), &initial))
        })
        .map(|u| u.id)
        .collect();
    assert_eq!(ids(&other), expected_other);
    assert_ne!(ids(&other), ids(&found));
    // A bad structure is refused by the client with a clear message.
    for (structure, says) in [
        (
            "(1 or 4)",
            "condition 4 does not exist (conditions are numbered 1 to 3)",
        ),
        ("(1 or 2", "a \"(\" is never closed"),
    ] {
        match c.list(&q.clone().structured(structure)).await {
            Err(ApiError::InvalidQuery { message }) => {
                assert!(message.contains(says), "{structure}: {message}")
            }
            other => panic!("{structure}: {other:?}"),
        }
    }
    sb.shutdown().await;
}

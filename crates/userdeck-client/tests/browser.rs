//! The gloo-net transport in a real browser against a sandbox started with `--cors '*'`
//! (`cargo xtask test` starts it and sets `USERDECK_SANDBOX_URL` at compile time). Run with
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p userdeck-client --target wasm32-unknown-unknown --features browser`.

#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use userdeck_client::retry::RetryPolicy;
use userdeck_client::{
    ApiError, Auth, BrowserTransport, Client, Connection, HttpRequest, Method, Provider, Transport,
    UserDraft, UserQuery,
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

// The sandbox's demo credentials (userdeck_sandbox::demo; the sandbox crate does not build for wasm).
const CAPSULE_TOKEN: &str = "sandbox-capsule-pat-6f1c2e9b8d7a4c3e9f0a1b2c3d4e5f60";
const APPCRM_ADMIN_TOKEN: &str = "1|sAnDbOxAdMiNtOkEn0123456789abcdefABCDEFgh";
const ZURMO_USERNAME: &str = "super";
const ZURMO_PASSWORD: &str = "super";

/// The sandbox URL; a missing variable fails every test loudly instead of skipping it.
fn sandbox() -> &'static str {
    match option_env!("USERDECK_SANDBOX_URL") {
        Some(url) if !url.is_empty() => url.trim_end_matches('/'),
        _ => panic!(
            "USERDECK_SANDBOX_URL was not set when these tests were compiled; run them via `cargo xtask test`"
        ),
    }
}

fn client(provider: Provider, prefix: &str, auth: Auth) -> Client<BrowserTransport> {
    let base_url = format!("{}{prefix}", sandbox());
    Client::new(
        Connection {
            provider,
            base_url,
            auth,
        },
        BrowserTransport::new(),
    )
}

async fn control(path: &str) {
    let t = BrowserTransport::new();
    let resp = t
        .send(
            HttpRequest::new(Method::Post, format!("{}/_sandbox/{path}", sandbox())),
            None,
        )
        .await
        .unwrap();
    assert!(resp.is_success(), "control {path}: {}", resp.status);
}

#[wasm_bindgen_test]
async fn capsule_lists_through_fetch() {
    let c = client(
        Provider::Capsule,
        "/capsule",
        Auth::Token(CAPSULE_TOKEN.into()),
    );
    let page = c.list(&UserQuery::page(1, 20)).await.unwrap();
    assert_eq!(page.items.len(), 20);
    assert!(page.has_next);
    assert!(
        c.quota().is_some(),
        "X-RateLimit-* headers are exposed to the page"
    );
}

#[wasm_bindgen_test]
async fn appcrm_reads_through_fetch() {
    let c = client(
        Provider::AppCrm,
        "/appcrm",
        Auth::Token(APPCRM_ADMIN_TOKEN.into()),
    );
    let page = c.list(&UserQuery::page(1, 5)).await.unwrap();
    assert_eq!(page.items.len(), 5);
    let one = c.get(page.items[0].id).await.unwrap();
    assert_eq!(one.id, page.items[0].id);
}

#[wasm_bindgen_test]
async fn zurmo_logs_in_with_custom_headers_through_fetch() {
    let c = client(
        Provider::Zurmo,
        "/zurmo/index.php",
        Auth::UsernamePassword {
            username: ZURMO_USERNAME.into(),
            password: ZURMO_PASSWORD.into(),
        },
    );
    let me = c.me().await.unwrap();
    assert_eq!(me.username.as_deref(), Some(ZURMO_USERNAME));
    let page = c.list(&UserQuery::page(1, 3)).await.unwrap();
    assert_eq!(page.items.len(), 3);
}

/// Zurmo takes the username and password as headers, and `fetch` takes a header value as a
/// string of bytes: a password with letters beyond Latin-1 (and a username with an accent) goes
/// as its UTF-8 bytes and signs in, where `fetch` would otherwise throw. A line break, which no
/// header can carry, is refused before anything is sent.
#[wasm_bindgen_test]
async fn zurmo_signs_in_with_a_password_beyond_latin_1() {
    let admin = client(
        Provider::Zurmo,
        "/zurmo/index.php",
        Auth::UsernamePassword {
            username: ZURMO_USERNAME.into(),
            password: ZURMO_PASSWORD.into(),
        },
    );
    let stamp = BrowserTransport::new().now_ms();
    let username = format!("łucja.{stamp}");
    let password = "zażółć-пароль-€1";
    let draft = UserDraft {
        username: Some(username.clone()),
        first_name: Some("Łucja".into()),
        last_name: Some("Wąs".into()),
        email: Some(format!("lucja.{stamp}@example.com")),
        password: Some(password.into()),
        ..UserDraft::default()
    };
    let created = admin.create(&draft).await.unwrap();
    let as_her = client(
        Provider::Zurmo,
        "/zurmo/index.php",
        Auth::UsernamePassword {
            username: username.clone(),
            password: password.into(),
        },
    );
    let me = as_her.me().await.unwrap();
    assert_eq!(me.id, created.id);
    assert_eq!(me.username.as_deref(), Some(username.as_str()));

    let broken = client(
        Provider::Zurmo,
        "/zurmo/index.php",
        Auth::UsernamePassword {
            username,
            password: "two\nlines".into(),
        },
    );
    match broken.me().await {
        Err(ApiError::InvalidCredentials { message }) => {
            assert!(message.contains("line break"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    admin.delete(created.id).await.unwrap();
}

/// A CRM that takes the request and does not answer is given up on after the timeout (30 s by
/// default, as natively), with an error that says so, not left loading forever.
#[wasm_bindgen_test]
async fn a_crm_that_never_answers_is_given_up_on() {
    let c = Client::new(
        Connection {
            provider: Provider::AppCrm,
            base_url: format!("{}/appcrm", sandbox()),
            auth: Auth::Token(APPCRM_ADMIN_TOKEN.into()),
        },
        BrowserTransport::new().with_timeout(Duration::from_millis(300)),
    )
    .with_retry_policy(RetryPolicy::none());
    control("latency?ms=3000").await;
    let started = BrowserTransport::new().now_ms();
    let outcome = c.list(&UserQuery::page(1, 5)).await;
    let took = BrowserTransport::new().now_ms() - started;
    control("latency?ms=0").await;
    match &outcome {
        Err(e @ ApiError::Network { message }) => {
            assert_eq!(message, "no answer within 300 ms");
            assert!(e.is_timeout());
        }
        other => panic!("{other:?}"),
    }
    assert!(took < 2_000, "gave up after {took} ms");
    // Answered in time, the same client works, and no late abort spoils the next call.
    let page = c.list(&UserQuery::page(1, 5)).await.unwrap();
    assert_eq!(page.items.len(), 5);
    gloo_timers::future::sleep(Duration::from_millis(400)).await;
    assert_eq!(c.list(&UserQuery::page(2, 5)).await.unwrap().items.len(), 5);
}

#[wasm_bindgen_test]
async fn a_superseded_search_is_aborted_and_never_delivered() {
    control("latency?ms=400").await;
    let c = Rc::new(client(
        Provider::AppCrm,
        "/appcrm",
        Auth::Token(APPCRM_ADMIN_TOKEN.into()),
    ));
    let first: Rc<RefCell<Option<Result<usize, ApiError>>>> = Rc::default();
    {
        let (c, first) = (Rc::clone(&c), Rc::clone(&first));
        wasm_bindgen_futures::spawn_local(async move {
            let r = c
                .list_latest(&UserQuery::page(1, 5).text("a"))
                .await
                .map(|p| p.items.len());
            *first.borrow_mut() = Some(r);
        });
    }
    gloo_timers::future::sleep(Duration::from_millis(50)).await;
    let second = c.list_latest(&UserQuery::page(1, 5).text("e")).await;
    for _ in 0..100 {
        if first.borrow().is_some() {
            break;
        }
        gloo_timers::future::sleep(Duration::from_millis(20)).await;
    }
    control("latency?ms=0").await;
    assert_eq!(first.borrow_mut().take(), Some(Err(ApiError::Cancelled)));
    assert!(second.is_ok(), "{second:?}");
}

/// In the browser, non-ASCII text is lowered by JavaScript: it must agree with Rust's mapping.
#[wasm_bindgen_test]
fn lowercase_agrees_with_rust() {
    for text in [
        "Ada LOVELACE",
        "ÉLODIE Ørsted",
        "ΟΔΥΣΣΕΥΣ ΣΑΣ",
        "İstanbul KELVIN \u{212A}",
        "ẞTRASSE Ǆemal",
        "",
    ] {
        assert_eq!(
            userdeck_client::query::lowercase(text),
            text.to_lowercase(),
            "{text:?}"
        );
    }
}

//! The connection manager in headless Chromium: a connection is saved to `localStorage` without
//! its secret; the secret stays in memory unless "remember on this device" puts it in
//! `sessionStorage`; removing a connection forgets both.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use userdeck::components::connection_form::{ConnectionForm, slug};
use userdeck::state::connections::{Connections, SAVED_KEY, SECRET_PREFIX, SignIn};
use userdeck::state::session::Sessions;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn local(key: &str) -> Option<String> {
    window()
        .local_storage()
        .unwrap()
        .unwrap()
        .get_item(key)
        .unwrap()
}

fn session(key: &str) -> Option<String> {
    window()
        .session_storage()
        .unwrap()
        .unwrap()
        .get_item(key)
        .unwrap()
}

fn all_local() -> String {
    everything_in(window().local_storage().unwrap().unwrap())
}

fn all_session() -> String {
    everything_in(window().session_storage().unwrap().unwrap())
}

/// Every `key=value` of a storage area, a line each.
fn everything_in(s: web_sys::Storage) -> String {
    (0..s.length().unwrap())
        .filter_map(|i| s.key(i).unwrap())
        .map(|k| format!("{k}={}", s.get_item(&k).unwrap().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn mount_manager() -> (web_sys::HtmlElement, Connections, RwSignal<u32>, impl Sized) {
    let root = test_root();
    let connections = Connections::new();
    let done = RwSignal::new(0u32);
    let handle = mount_to(root.clone(), move || {
        provide_context(connections);
        provide_context(Sessions::new());
        view! { <ConnectionForm on_done=Callback::new(move |()| done.update(|n| *n += 1))/> }
    });
    (root, connections, done, handle)
}

#[wasm_bindgen_test]
async fn a_token_is_never_written_to_local_storage() {
    clear_storage();
    let (root, connections, done, _m) = mount_manager();
    tick().await;
    choose(
        &query(&root, "[data-testid=cf-provider]").unwrap(),
        "appcrm",
    );
    type_into(&query(&root, "[data-testid=cf-name]").unwrap(), "Sales CRM");
    type_into(
        &query(&root, "[data-testid=cf-url]").unwrap(),
        &format!("{}/appcrm", sandbox()),
    );
    type_into(
        &query(&root, "[data-testid=cf-secret]").unwrap(),
        APPCRM_ADMIN_TOKEN,
    );
    click(&query(&root, "[data-testid=cf-save]").unwrap());
    tick().await;
    assert_eq!(
        done.get_untracked(),
        1,
        "{:?}",
        query(&root, "[data-testid=cf-error]").and_then(|e| e.text_content())
    );

    let stored = local(SAVED_KEY).expect("the connection is saved");
    assert!(stored.contains("Sales CRM") && stored.contains("/appcrm"));
    assert!(
        !all_local().contains(APPCRM_ADMIN_TOKEN),
        "no secret in localStorage"
    );
    assert!(
        session(&format!("{SECRET_PREFIX}sales-crm")).is_none(),
        "not remembered unless asked"
    );
    assert_eq!(
        connections.secret("sales-crm").as_deref(),
        Some(APPCRM_ADMIN_TOKEN),
        "held in memory"
    );

    // A fresh app (a reload) finds the connection but not the secret.
    let reloaded = Connections::new();
    assert!(reloaded.find("sales-crm").is_some());
    assert_eq!(reloaded.secret("sales-crm"), None);
}

#[wasm_bindgen_test]
async fn remember_keeps_a_password_in_session_storage_only_and_remove_forgets_it() {
    clear_storage();
    let (root, connections, done, _m) = mount_manager();
    tick().await;
    choose(&query(&root, "[data-testid=cf-provider]").unwrap(), "zurmo");
    tick().await;
    type_into(
        &query(&root, "[data-testid=cf-name]").unwrap(),
        "Legacy Zurmo",
    );
    type_into(
        &query(&root, "[data-testid=cf-url]").unwrap(),
        &format!("{}/zurmo", sandbox()),
    );
    type_into(
        &query(&root, "[data-testid=cf-login]").unwrap(),
        ZURMO_USERNAME,
    );
    type_into(
        &query(&root, "[data-testid=cf-secret]").unwrap(),
        "zurmo-secret-pw",
    );
    click(&query(&root, "[data-testid=cf-remember]").unwrap());
    click(&query(&root, "[data-testid=cf-save]").unwrap());
    tick().await;
    assert_eq!(
        done.get_untracked(),
        1,
        "{:?}",
        query(&root, "[data-testid=cf-error]").and_then(|e| e.text_content())
    );
    let id = slug("Legacy Zurmo");
    let saved = connections.find(&id).unwrap();
    assert_eq!(saved.sign_in, SignIn::Password);
    assert_eq!(saved.login.as_deref(), Some(ZURMO_USERNAME));
    assert!(!all_local().contains("zurmo-secret-pw"));
    assert_eq!(
        session(&format!("{SECRET_PREFIX}{id}")).as_deref(),
        Some("zurmo-secret-pw")
    );
    // A reload in the same tab signs in again from the remembered secret.
    assert_eq!(
        Connections::new().secret(&id).as_deref(),
        Some("zurmo-secret-pw")
    );

    connections.remove(&id);
    assert!(connections.find(&id).is_none());
    assert!(session(&format!("{SECRET_PREFIX}{id}")).is_none());
    assert!(
        !local(SAVED_KEY)
            .unwrap_or_default()
            .contains("Legacy Zurmo")
    );
}

#[wasm_bindgen_test]
async fn a_bad_base_url_is_refused_with_a_reason() {
    clear_storage();
    let (root, connections, done, _m) = mount_manager();
    tick().await;
    type_into(&query(&root, "[data-testid=cf-name]").unwrap(), "Oops");
    type_into(
        &query(&root, "[data-testid=cf-url]").unwrap(),
        "javascript:alert(1)",
    );
    click(&query(&root, "[data-testid=cf-save]").unwrap());
    tick().await;
    assert_eq!(done.get_untracked(), 0);
    assert!(query(&root, "[data-testid=cf-error]").is_some());
    assert!(connections.find("oops").is_none());
}

/// Capsule documents no CORS, so going straight to it from a browser comes with a warning; the
/// CRMs that can allow the site do not.
#[wasm_bindgen_test]
async fn a_direct_capsule_connection_is_warned_about_cors() {
    clear_storage();
    let (root, _connections, _done, _m) = mount_manager();
    tick().await;
    let provider = query(&root, "[data-testid=cf-provider]").unwrap();
    for (crm, warned) in [("capsule", true), ("appcrm", false), ("zurmo", false)] {
        choose(&provider, crm);
        tick().await;
        assert!(
            query(&root, "[data-testid=cf-url]").is_some(),
            "{crm}: direct"
        );
        assert_eq!(
            query(&root, "[data-testid=cf-cors-hint]").is_some(),
            warned,
            "{crm}"
        );
    }
}

#[wasm_bindgen_test]
fn declared_connections_are_ready_or_say_how_to_sign_in() {
    use userdeck::state::connections::parse_declared;
    let body = r#"{"connections":[
        {"id":"a","name":"A","provider":"appcrm","base_url":"/proxy/a","auth":"server","signed_in":true},
        {"id":"b","name":"B","provider":"capsule","base_url":"/proxy/b","auth":"oauth","signed_in":false,
         "oauth":{"start":"/oauth/b/start","logout":"/oauth/b/logout"}},
        {"id":"c","name":"C","provider":"zurmo","base_url":"/proxy/c","auth":"browser","signed_in":false}]}"#;
    let list = parse_declared(body).unwrap();
    assert!(list[0].is_ready() && list[0].sign_in_method() == SignIn::None);
    assert_eq!(list[1].sign_in_method(), SignIn::OAuth);
    assert!(!list[1].is_ready());
    assert_eq!(list[2].sign_in_method(), SignIn::Password);
    use userdeck::state::session::{NotReady, connection_for};
    assert_eq!(
        connection_for(&list[1], None),
        Err(NotReady::NeedsOAuth("/oauth/b/start".into()))
    );
    assert_eq!(
        connection_for(&list[2], None),
        Err(NotReady::NeedsCredentials)
    );
    assert!(connection_for(&list[0], None).is_ok());
}

#[wasm_bindgen_test]
async fn signing_in_checks_the_token_with_the_crm_before_keeping_it() {
    use userdeck::state::connections::ConnectionInfo;
    use userdeck_client::Provider;
    clear_storage();
    let root = test_root();
    let connections = Connections::new();
    connections.save(
        ConnectionInfo::new_saved(
            "cap",
            "Capsule test",
            Provider::Capsule,
            &format!("{}/capsule", sandbox()),
        ),
        None,
        false,
    );
    let _m = mount_gate(&root, connections, Sessions::new(), "cap");
    tick().await;
    assert!(query(&root, "[data-testid=ready]").is_none());
    let secret = query(&root, "[data-testid=secret]").expect("a token form");
    type_into(&secret, "not-a-valid-token");
    click(&query(&root, "form.sign-in button[type=submit]").unwrap());
    let r = root.clone();
    until("the refusal", move || {
        query(&r, ".sign-in-panel .error").is_some()
    })
    .await;
    assert_eq!(
        connections.secret("cap"),
        None,
        "a rejected token is not kept"
    );
    // About the token just typed, not a session that ended.
    let said = query(&root, ".sign-in-panel .error")
        .and_then(|e| e.text_content())
        .unwrap_or_default();
    assert!(said.contains("did not accept this API token"), "{said}");
    // The focus is back on the token, which still holds what was typed, marked and described
    // by the refusal; the disabled button had dropped it to the page.
    let secret = query(&root, "[data-testid=secret]").unwrap();
    assert!(has_focus(&secret), "the token field has the focus");
    let typed = wasm_bindgen::JsCast::unchecked_ref::<web_sys::HtmlInputElement>(&secret).value();
    assert_eq!(typed, "not-a-valid-token");
    assert_eq!(
        secret.get_attribute("aria-invalid").as_deref(),
        Some("true")
    );
    let described = secret.get_attribute("aria-describedby").unwrap_or_default();
    let error_id = query(&root, ".sign-in-panel .error").map(|e| e.id());
    assert_eq!(Some(described), error_id);

    // A good token to a CRM that does not allow this site: the browser refuses the call as it
    // would to a host it cannot reach, and the refusal names both causes.
    type_into(
        &query(&root, "[data-testid=secret]").unwrap(),
        CAPSULE_TOKEN,
    );
    sandbox_allows_this_site(false).await;
    click(&query(&root, "form.sign-in button[type=submit]").unwrap());
    let r = root.clone();
    until("the refusal naming CORS", move || {
        query(&r, ".sign-in-panel .error")
            .and_then(|e| e.text_content())
            .is_some_and(|t| t.contains("(CORS)"))
    })
    .await;
    sandbox_allows_this_site(true).await;
    let said = query(&root, ".sign-in-panel .error")
        .and_then(|e| e.text_content())
        .unwrap_or_default();
    assert!(said.starts_with("Could not reach the CRM"), "{said}");
    assert_eq!(connections.secret("cap"), None, "nor is an unchecked one");

    // Pasted with the space and line end around it that a copy often brings.
    type_into(
        &query(&root, "[data-testid=secret]").unwrap(),
        &format!(" {CAPSULE_TOKEN}\n"),
    );
    // Pressed from the keyboard, and again while the CRM answers: the button keeps the focus
    // (a disabled one would drop it to the page) and the second press sends nothing.
    sandbox_latency(300).await;
    let before = sandbox_requests().await;
    let button = query(&root, "form.sign-in button[type=submit]").unwrap();
    press(&button);
    assert_keeps_the_focus(&button).await;
    assert_eq!(
        button.get_attribute("aria-disabled").as_deref(),
        Some("true")
    );
    click(&button);
    let r = root.clone();
    until("the gate to open", move || {
        query(&r, "[data-testid=ready]").is_some()
    })
    .await;
    sandbox_latency(0).await;
    assert_eq!(
        sandbox_requests().await - before,
        1,
        "one look-up of the user"
    );
    assert_eq!(connections.secret("cap").as_deref(), Some(CAPSULE_TOKEN));
    assert!(!all_local().contains(CAPSULE_TOKEN));
}

/// The client a password sign-in signed in with is the one the connection then uses: it holds
/// the token already, so the CRM is not asked for a second one (App CRM mints a token per
/// sign-in, and they never expire).
#[wasm_bindgen_test]
async fn a_password_sign_in_hands_over_its_signed_in_client() {
    let (connections, sessions, _m) = signed_in_by_password("pw", false).await;
    let info = connections.find("pw").expect("the connection");
    let client = sessions.client(&info, &connections).expect("a client");
    assert!(
        client.is_signed_in(),
        "a new client, which would sign in again"
    );
}

/// An App CRM password the user asks to remember is never stored: the token it was exchanged
/// for is, and a reload signs in with that token instead of minting another. From the sign-in,
/// and from the connection form (which keeps the token once the first call exchanges it).
#[wasm_bindgen_test]
async fn a_remembered_app_crm_password_is_kept_as_its_token() {
    use userdeck::state::connections::TOKEN_PREFIX;
    let _m = signed_in_by_password("pwr", true).await;
    assert!(
        !all_session().contains(APPCRM_ADMIN_PASSWORD),
        "{}",
        all_session()
    );
    assert!(
        session(&format!("{TOKEN_PREFIX}pwr")).is_some(),
        "{}",
        all_session()
    );
    // A reload: the saved connection and this tab's storage, nothing in memory.
    let reloaded = Connections::new();
    let info = reloaded.find("pwr").expect("the saved connection");
    assert!(reloaded.has_secret("pwr"));
    let client = Sessions::new().client(&info, &reloaded).expect("a client");
    assert!(
        client.is_signed_in(),
        "it would exchange the password again"
    );
    client.me().await.expect("the kept token works");

    clear_storage();
    let form = Connections::new();
    form.save(
        app_crm_by_password("pwf"),
        Some(APPCRM_ADMIN_PASSWORD.into()),
        true,
    );
    assert!(
        !all_session().contains(APPCRM_ADMIN_PASSWORD),
        "{}",
        all_session()
    );
    assert!(form.is_remembered("pwf"));
    let info = form.find("pwf").expect("the saved connection");
    let client = Sessions::new().client(&info, &form).expect("a client");
    client.me().await.expect("signed in with the password");
    assert!(
        session(&format!("{TOKEN_PREFIX}pwf")).is_some(),
        "{}",
        all_session()
    );
    assert!(!all_session().contains(APPCRM_ADMIN_PASSWORD));
}

#[wasm_bindgen_test]
async fn a_refused_oauth_consent_says_why_and_links_back_to_this_page() {
    use userdeck::components::sign_in::ConnectionGate;
    use userdeck::state::connections::parse_declared;
    clear_storage();
    let history = web_sys::window().unwrap().history().unwrap();
    let before = web_sys::window().unwrap().location().href().unwrap();
    // Where the proxy's callback sends the browser after a denial.
    history
        .replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some("/c/b/users?oauth=error&connection=b&reason=You%20denied%20access."),
        )
        .unwrap();
    let body = r#"{"connections":[
        {"id":"b","name":"B","provider":"capsule","base_url":"/proxy/b","auth":"oauth","signed_in":false,
         "oauth":{"start":"/oauth/b/start","logout":"/oauth/b/logout"}}]}"#;
    let connections = Connections::new();
    connections.list.set(parse_declared(body).unwrap());
    connections
        .state
        .set(userdeck::state::connections::LoadState::Loaded);
    let root = test_root();
    let _m = mount_to(root.clone(), move || {
        provide_context(connections);
        provide_context(Sessions::new());
        view! { <ConnectionGate id="b" let:_ready><p data-testid="ready">"ready"</p></ConnectionGate> }
    });
    tick().await;
    let message = texts(&root, "[data-testid=oauth-error]").join(" ");
    let link = query(&root, "[data-testid=oauth-start]")
        .and_then(|a| a.get_attribute("href"))
        .unwrap_or_default();
    history
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&before))
        .unwrap();
    assert!(
        message.contains("Capsule did not connect: You denied access."),
        "{message:?}"
    );
    assert_eq!(link, "/oauth/b/start?return_to=%2Fc%2Fb%2Fusers");
    assert!(query(&root, "[data-testid=ready]").is_none());
}

#[wasm_bindgen_test]
fn only_the_client_in_use_can_end_a_session() {
    use userdeck::state::connections::ConnectionInfo;
    use userdeck_client::{ApiError, Provider};
    clear_storage();
    let connections = Connections::new();
    connections.save(
        ConnectionInfo::new_saved("app", "App", Provider::AppCrm, "http://127.0.0.1:9"),
        Some("old-token".into()),
        false,
    );
    let sessions = Sessions::new();
    let info = connections.find("app").unwrap();
    let rejected: Result<(), ApiError> = Err(ApiError::SessionExpired);
    let old = sessions.client(&info, &connections).unwrap();
    sessions.report("app", &old, &rejected);
    assert!(sessions.has_ended("app"), "a rejected session ends");

    // Signed in again: a new client, and the session is live.
    connections.set_secret("app", "new-token".into(), false);
    sessions.forget("app");
    let new = sessions.client(&info, &connections).unwrap();
    assert!(!sessions.has_ended("app"));
    // A late failure of the old client's call says nothing about the new session…
    sessions.report("app", &old, &rejected);
    assert!(
        !sessions.has_ended("app"),
        "the old client ended the new session"
    );
    // …the new client's own does.
    sessions.report("app", &new, &rejected);
    assert!(sessions.has_ended("app"));
}

/// Puts a connection list into the page the way the proxy does (a JSON data block).
fn embed(json: &str) {
    use userdeck::state::connections::EMBEDDED_ID;
    let document = window().document().unwrap();
    let block = document.create_element("script").unwrap();
    block.set_id(EMBEDDED_ID);
    block.set_attribute("type", "application/json").unwrap();
    block.set_text_content(Some(json));
    document.head().unwrap().append_child(&block).unwrap();
}

/// Where nothing listens: a fetch of the list from here ends in `LoadState::Failed`.
const NOWHERE: &str = "http://127.0.0.1:9";

#[wasm_bindgen_test]
async fn a_list_in_the_page_is_taken_at_once_and_not_fetched() {
    use userdeck::state::connections::{ConnectionInfo, EMBEDDED_ID, LoadState};
    use userdeck_client::Provider;
    clear_storage();
    let mine = ConnectionInfo::new_saved("mine", "Mine", Provider::Zurmo, "http://crm.example");
    window()
        .local_storage()
        .unwrap()
        .unwrap()
        .set_item(SAVED_KEY, &serde_json::to_string(&[mine]).unwrap())
        .unwrap();
    embed(
        r#"{"connections":[{"id":"sales","name":"Sales","provider":"appcrm",
            "base_url":"/proxy/sales","auth":"server","signed_in":true}]}"#,
    );
    let connections = Connections::new();
    connections.start(NOWHERE.into());
    // Before any await: the first render already has the list.
    assert_eq!(connections.state.get_untracked(), LoadState::Loaded);
    let ids = || {
        connections.list.with_untracked(|l| {
            l.iter()
                .map(|c| (c.id.clone(), c.saved))
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(
        ids(),
        [("sales".to_string(), false), ("mine".to_string(), true)],
        "declared first, then the user's own"
    );
    assert!(
        window()
            .document()
            .unwrap()
            .get_element_by_id(EMBEDDED_ID)
            .is_none(),
        "taken out of the page as it is read"
    );
    // Nothing was fetched: a request to NOWHERE would have turned the state into Failed.
    sleep_ms(300).await;
    assert_eq!(connections.state.get_untracked(), LoadState::Loaded);
    clear_storage();
}

#[wasm_bindgen_test]
async fn a_broken_list_in_the_page_says_so() {
    use userdeck::state::connections::LoadState;
    clear_storage();
    embed(r#"{"connections":[{"id":"sales""#);
    let connections = Connections::new();
    connections.start(NOWHERE.into());
    match connections.state.get_untracked() {
        LoadState::Failed(message) => assert!(
            message.contains("connection list is not valid"),
            "{message}"
        ),
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn without_a_list_in_the_page_it_is_fetched() {
    use userdeck::state::connections::LoadState;
    clear_storage();
    let connections = Connections::new();
    // As the app does it: from its root component, once mounting has started the executor.
    let _m = mount_to(test_root(), move || connections.start(sandbox().into()));
    assert_eq!(connections.state.get_untracked(), LoadState::Loading);
    // The sandbox is no proxy: it answers /api/connections with 404.
    until("the fetch to end", move || {
        connections.state.get_untracked() != LoadState::Loading
    })
    .await;
    assert_eq!(connections.state.get_untracked(), LoadState::NoProxy);
}

/// "Remember on this device" survives a reload for a connection the proxy declares too: what
/// its App CRM password was exchanged for (never the password) comes back with the email and the
/// method it goes with, so the gate opens without asking again; signing out forgets all three.
/// (Before, only user-added connections got their remembered secret back.)
#[wasm_bindgen_test]
async fn a_declared_connection_remembered_in_this_tab_survives_a_reload() {
    use userdeck::state::connections::{SIGN_IN_PREFIX, TOKEN_PREFIX};
    clear_storage();
    let declared = format!(
        r#"{{"connections":[{{"id":"desk","name":"Desk","provider":"appcrm",
            "base_url":"{}/appcrm","auth":"browser","signed_in":false}}]}}"#,
        sandbox()
    );
    embed(&declared);
    let before = Connections::new();
    before.start(NOWHERE.into());
    // What the sign-in form does once the CRM has accepted the password: the client told the
    // token it got, then the form keeps the rest.
    before.keep_token("desk", APPCRM_ADMIN_TOKEN);
    before.set_login("desk", APPCRM_ADMIN_EMAIL);
    before.set_sign_in("desk", SignIn::Password);
    before.set_secret("desk", APPCRM_ADMIN_PASSWORD.into(), true);
    assert!(!all_local().contains(APPCRM_ADMIN_PASSWORD));
    assert!(!all_session().contains(APPCRM_ADMIN_PASSWORD));
    assert!(session(&format!("{TOKEN_PREFIX}desk")).is_some());

    // The reload: the proxy's page holds the list again, and the app starts afresh.
    embed(&declared);
    let after = Connections::new();
    after.start(NOWHERE.into());
    assert_eq!(after.secret("desk"), None);
    assert_eq!(
        after.exchanged_token("desk").as_deref(),
        Some(APPCRM_ADMIN_TOKEN)
    );
    let desk = after.find("desk").unwrap();
    assert_eq!(desk.login.as_deref(), Some(APPCRM_ADMIN_EMAIL));
    assert_eq!(desk.sign_in, SignIn::Password);
    let root = test_root();
    let _m = mount_gate(&root, after, Sessions::new(), "desk");
    let r = root.clone();
    until("the gate to open without a sign-in", move || {
        query(&r, "[data-testid=ready]").is_some()
    })
    .await;

    after.forget_secret("desk");
    assert_eq!(session(&format!("{TOKEN_PREFIX}desk")), None);
    assert_eq!(session(&format!("{SIGN_IN_PREFIX}desk")), None);
    embed(&declared);
    let signed_out = Connections::new();
    signed_out.start(NOWHERE.into());
    assert!(!signed_out.has_secret("desk"));
    clear_storage();
}

/// A saved App CRM connection to the sandbox that signs in with the admin's email and password.
fn app_crm_by_password(id: &str) -> userdeck::state::connections::ConnectionInfo {
    use userdeck::state::connections::ConnectionInfo;
    ConnectionInfo {
        sign_in: SignIn::Password,
        login: Some(APPCRM_ADMIN_EMAIL.into()),
        ..ConnectionInfo::new_saved(
            id,
            "App CRM by password",
            userdeck_client::Provider::AppCrm,
            &format!("{}/appcrm", sandbox()),
        )
    }
}

/// From empty storage, a saved [`app_crm_by_password`] connection `id` whose gate is signed in
/// to with the admin's password (ticking "remember" if asked); returns once the gate is open.
async fn signed_in_by_password(
    id: &'static str,
    remember: bool,
) -> (Connections, Sessions, impl Sized + use<>) {
    clear_storage();
    let root = test_root();
    let connections = Connections::new();
    connections.save(app_crm_by_password(id), None, false);
    let sessions = Sessions::new();
    let mounted = mount_gate(&root, connections, sessions, id);
    tick().await;
    type_into(
        &query(&root, "[data-testid=secret]").expect("a password form"),
        APPCRM_ADMIN_PASSWORD,
    );
    if remember {
        click(&query(&root, "form.sign-in input[type=checkbox]").expect("the remember box"));
    }
    click(&query(&root, "form.sign-in button[type=submit]").unwrap());
    let r = root.clone();
    until("the gate to open", move || {
        query(&r, "[data-testid=ready]").is_some()
    })
    .await;
    (connections, sessions, mounted)
}

/// Mounts the gate of connection `id` on `root`, over `connections`; once the gate lets the
/// connection through it shows "ready: {name}" (`data-testid=ready`).
fn mount_gate(
    root: &web_sys::HtmlElement,
    connections: Connections,
    sessions: Sessions,
    id: &'static str,
) -> impl Sized + use<> {
    use userdeck::components::sign_in::ConnectionGate;
    mount_to(root.clone(), move || {
        provide_context(connections);
        provide_context(sessions);
        view! {
            <ConnectionGate id=id let:ready>
                <p data-testid="ready">{format!("ready: {}", ready.0.name)}</p>
            </ConnectionGate>
        }
    })
}

//! The whole app in headless Chromium: a saved connection (its token remembered in this tab)
//! opened by URL shows its users with the sort the URL names, and the query survives in the URL.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::Cell;
use std::rc::Rc;

use common::*;
use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use userdeck::app::App;
use userdeck::components::layout::ConnectionSwitcher;
use userdeck::router::Router;
use userdeck::state::connections::{ConnectionInfo, Connections, SAVED_KEY, SECRET_PREFIX, SignIn};
use userdeck_client::Provider;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Saves `connections` as the user's own, with no secret held for them.
fn save(connections: &[ConnectionInfo]) {
    window()
        .local_storage()
        .unwrap()
        .unwrap()
        .set_item(SAVED_KEY, &serde_json::to_string(connections).unwrap())
        .unwrap();
}

/// Saves `connections` as the user's own, each with `secret` remembered in this tab.
fn save_with_secret(connections: &[ConnectionInfo], secret: &str) {
    let w = window();
    save(connections);
    for c in connections {
        w.session_storage()
            .unwrap()
            .unwrap()
            .set_item(&format!("{SECRET_PREFIX}{}", c.id), secret)
            .unwrap();
    }
}

/// A connection of the user's own to the sandbox's `provider`, signed in with a token.
fn sandbox_connection(id: &str, name: &str, provider: Provider) -> ConnectionInfo {
    ConnectionInfo {
        sign_in: SignIn::Token,
        ..ConnectionInfo::new_saved(
            id,
            name,
            provider,
            &format!("{}/{}", sandbox(), provider.as_str()),
        )
    }
}

/// Creates an App CRM user in the sandbox, as an admin would elsewhere.
async fn new_app_crm_user(name: &str, email: &str) -> userdeck_client::User {
    let mut draft = userdeck_client::UserDraft {
        name: Some(name.into()),
        email: Some(email.into()),
        password: Some("secret-1".into()),
        time_zone: Some("UTC".into()),
        ..Default::default()
    };
    draft.set("time_format", serde_json::json!("H:i"));
    draft.set("date_format", serde_json::json!("Y-m-d"));
    client(Provider::AppCrm).create(&draft).await.unwrap()
}

/// Waits until the user picker's search offers user `id` (the answer to what was last typed, not
/// an earlier one), and gives all it offers.
async fn picker_offers(root: &web_sys::Element, id: u64) -> Vec<String> {
    let r = root.clone();
    let tag = format!("(#{id})");
    until(&format!("user #{id} among the matches"), move || {
        texts(&r, "[data-testid=pick-user]")
            .iter()
            .any(|t| t.contains(&tag))
    })
    .await;
    texts(root, "[data-testid=pick-user]")
}

/// Mounts the whole app on `path`, as opening a link or reloading does, and waits until the
/// list has settled on `rows` users.
async fn open_app(path: &str, rows: usize) -> (web_sys::HtmlElement, impl Sized) {
    let (root, mounted) = mount_app_at(path);
    let r = root.clone();
    until("the users", move || {
        query_all(&r, "table.users-table[aria-busy=false] tbody tr[data-id]").len() == rows
    })
    .await;
    (root, mounted)
}

/// Mounts the whole app on `path`, as opening a link or reloading does.
fn mount_app_at(path: &str) -> (web_sys::HtmlElement, impl Sized + use<>) {
    go_to(path);
    let root = test_root();
    let mounted = mount_to(root.clone(), App);
    (root, mounted)
}

/// Puts `path` in the address bar, as a link or a reload would, before the app mounts.
fn go_to(path: &str) {
    window()
        .history()
        .unwrap()
        .push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path))
        .unwrap();
}

#[wasm_bindgen_test]
async fn a_shared_link_opens_the_list_with_its_query() {
    clear_storage();
    let w = window();
    save_with_secret(
        &[sandbox_connection(
            "caps",
            "Capsule demo",
            Provider::Capsule,
        )],
        CAPSULE_TOKEN,
    );
    let (root, _m) = open_app("/c/caps/users?sort=username&dir=desc&size=10", 10).await;
    let th = query(&root, "th[data-key=username]").unwrap();
    assert_eq!(th.get_attribute("aria-sort").as_deref(), Some("descending"));
    let names = texts(&root, "table.users-table tbody tr td:nth-child(2)");
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| std::cmp::Reverse(n.to_lowercase()));
    assert_eq!(names, sorted);
    assert!(query(&root, "[data-testid=status-chip]").is_some());

    // The header's switcher names the open connection, not "Choose a connection…".
    let switcher: web_sys::HtmlSelectElement = query(&root, "[data-testid=connection-switcher]")
        .unwrap()
        .unchecked_into();
    assert_eq!(switcher.value(), "caps");
    let shown = switcher
        .selected_options()
        .item(0)
        .and_then(|o| o.text_content())
        .unwrap_or_default();
    assert_eq!(shown, "Capsule demo");

    // The pager's buttons are named by their visible words (axe label-content-name-mismatch).
    for id in ["first", "prev", "next"] {
        let b = query(&root, &format!("button[data-testid={id}]")).unwrap();
        assert_eq!(b.get_attribute("aria-label"), None, "{id}");
    }
    assert!(
        texts(&root, "button[data-testid=prev]")[0].contains("Previous page"),
        "{:?}",
        texts(&root, "button[data-testid=prev]")
    );

    // Sorting by another column puts it in the URL.
    click(&query(&root, "[data-testid=sort-name]").unwrap());
    let until_url = || w.location().search().unwrap_or_default();
    until("the URL to change", || until_url().contains("sort=name")).await;
    assert!(!until_url().contains("dir=desc"));
}

/// The connection list arrives after the header is drawn (a proxy declares it): the switcher
/// must then show the connection whose pages are open, not "Choose a connection…".
#[wasm_bindgen_test]
async fn the_switcher_shows_the_open_connection_once_the_list_arrives() {
    clear_storage();
    go_to("/c/later/users");
    let connections = Connections::new();
    let root = test_root();
    // Mounted under an owner of the test's own, cleaned up at the end: dropping the mount alone
    // left this router listening to the window's clicks, and it took later tests' link clicks.
    let owner = Owner::new();
    let _m = owner.with(|| {
        mount_to(root.clone(), move || {
            provide_context(connections);
            view! { <Router><ConnectionSwitcher/></Router> }
        })
    });
    tick().await;
    let switcher: web_sys::HtmlSelectElement = query(&root, "[data-testid=connection-switcher]")
        .unwrap()
        .unchecked_into();
    assert_eq!(switcher.value(), "", "nothing to show yet");
    connections.list.set(vec![
        ConnectionInfo::new_saved("first", "First CRM", Provider::AppCrm, "http://a.invalid"),
        ConnectionInfo::new_saved("later", "Later CRM", Provider::Zurmo, "http://z.invalid"),
    ]);
    tick().await;
    assert_eq!(switcher.value(), "later");
    // A reload of the list (new option elements) keeps it.
    connections.list.set(vec![
        ConnectionInfo::new_saved("later", "Later CRM", Provider::Zurmo, "http://z.invalid"),
        ConnectionInfo::new_saved(
            "first",
            "First CRM (renamed)",
            Provider::AppCrm,
            "http://a.invalid",
        ),
    ]);
    tick().await;
    assert_eq!(switcher.value(), "later");
    drop(_m);
    owner.cleanup();
}

/// App CRM's delete dialog offers "Transfer this user's records to": the picked user goes to
/// the client's `delete_transferring` (the toast names the heir) and the user is gone.
#[wasm_bindgen_test]
async fn app_crm_delete_transfers_records_to_the_picked_user() {
    clear_storage();
    let c = client(Provider::AppCrm);
    let victim = new_app_crm_user("Transfer Source", "transfer.source@example.com").await;
    // Matched by the same search as the victim, so the search is seen to answer.
    let sibling = new_app_crm_user(
        "Transfer Sibling",
        &format!("transfer.sibling{}@example.com", js_sys::Date::now() as u64),
    )
    .await;
    let me = c.me().await.unwrap();
    save_with_secret(
        &[sandbox_connection("app", "App demo", Provider::AppCrm)],
        APPCRM_ADMIN_TOKEN,
    );
    let (root, _m) = mount_app_at(&format!("/c/app/users/{}", victim.id));
    click(&appears(&root, "[data-testid=delete-user]").await);
    tick().await;
    let search = query(&root, "[data-testid=transfer-search]").expect("a transfer picker");
    assert!(
        texts(&root, "[data-testid=transfer-choice]")[0].contains("not transferred"),
        "{:?}",
        texts(&root, "[data-testid=transfer-choice]")
    );
    // The user being deleted is never offered as the heir, though the search matches them.
    type_into(&search, "Transfer S");
    let offered = picker_offers(&root, sibling.id).await;
    assert!(
        !offered
            .iter()
            .any(|t| t.contains(&format!("(#{})", victim.id))),
        "{offered:?}"
    );
    type_into(&search, &me.display_name);
    picker_offers(&root, me.id).await;
    let pick = query_all(&root, "[data-testid=pick-user]")
        .into_iter()
        .find(|b| {
            b.text_content()
                .unwrap_or_default()
                .contains(&format!("(#{})", me.id))
        })
        .expect("the admin among the matches");
    click(&pick);
    tick().await;
    assert!(
        texts(&root, "[data-testid=transfer-choice]")[0].contains(&format!("#{}", me.id)),
        "{:?}",
        texts(&root, "[data-testid=transfer-choice]")
    );
    click(&query(&root, "[data-testid=confirm]").unwrap());
    let r = root.clone();
    let moved = format!("records moved to user #{}", me.id);
    for _ in 0..200 {
        if texts(&r, "[data-testid=toasts]").join("").contains(&moved) {
            break;
        }
        sleep_ms(25).await;
    }
    assert!(
        texts(&r, "[data-testid=toasts]").join("").contains(&moved),
        "toasts: {:?}; page: {:?}",
        texts(&r, "[data-testid=toasts]"),
        r.text_content()
    );
    assert!(matches!(
        c.get(victim.id).await,
        Err(userdeck_client::ApiError::NotFound { .. })
    ));
    // The toast names who went, as a save's does.
    assert!(
        texts(&r, "[data-testid=toasts]")
            .join("")
            .contains("Deleted Transfer Source; records"),
        "{:?}",
        texts(&r, "[data-testid=toasts]")
    );
    drop(_m);
    root.remove();

    // An old link to the deleted user says so, in words, with the way back.
    let (root, _m) = mount_app_at(&format!("/c/app/users/{}", victim.id));
    let gone = appears(&root, ".error-state")
        .await
        .text_content()
        .unwrap_or_default();
    assert_eq!(
        gone,
        format!(
            "App demo has no user #{}: they may have been deleted, or the link is wrong.",
            victim.id
        )
    );
    assert!(query(&root, "[data-testid=back-to-list]").is_some());
    c.delete(sibling.id).await.unwrap();
}

/// A connection straight to a CRM that does not allow this site: the browser refuses the calls
/// just as it would to a host it cannot reach, so the list's error names that cause as well, and
/// the way around it; once the CRM allows the site, "Try again" shows the users.
#[wasm_bindgen_test]
async fn a_crm_that_refuses_this_site_is_named_as_a_possible_cause() {
    clear_storage();
    save_with_secret(
        &[sandbox_connection("app", "App demo", Provider::AppCrm)],
        APPCRM_ADMIN_TOKEN,
    );
    sandbox_allows_this_site(false).await;
    let (root, _m) = mount_app_at("/c/app/users");
    let error = appears(&root, "[data-testid=list-error]").await;
    sandbox_allows_this_site(true).await;
    let text = error.text_content().unwrap_or_default();
    assert!(text.contains("Could not reach the CRM"), "{text}");
    assert!(
        text.contains("the CRM may not allow this site to call it (CORS): reach it through Userdeck's proxy instead."),
        "{text}"
    );
    let again = query_all(&error, "button")
        .into_iter()
        .find(|b| b.text_content().as_deref() == Some("Try again"))
        .expect("a way to try again");
    click(&again);
    let r = root.clone();
    until("the users, once the CRM allows the site", move || {
        query_all(&r, "table.users-table[aria-busy=false] tbody tr[data-id]").len() == 25
    })
    .await;
    assert!(query(&root, "[data-testid=list-error]").is_none());
}

/// The column picker: adding a column and removing one change the table and App CRM's `select`
/// (the shown fields, plus the id, name and email every user needs; the sandbox nulls the rest,
/// as the real server does), the choice survives a reload of that connection, and another
/// connection keeps its own.
#[wasm_bindgen_test]
async fn app_crm_columns_are_fetched_with_select_and_remembered_per_connection() {
    clear_storage();
    let w = window();
    let saved: Vec<ConnectionInfo> = ["crm-a", "crm-b"]
        .into_iter()
        .map(|id| sandbox_connection(id, id, Provider::AppCrm))
        .collect();
    save_with_secret(&saved, APPCRM_ADMIN_TOKEN);
    // The table's column keys, left to right (the selection column has none).
    let shown = |root: &web_sys::HtmlElement| -> Vec<String> {
        query_all(root, "table.users-table thead th")
            .iter()
            .map(|th| th.get_attribute("data-key").unwrap_or_default())
            .collect()
    };

    let (root, mounted) = open_app("/c/crm-a/users", 25).await;
    assert!(shown(&root).contains(&"super_admin".to_string()));
    assert!(!shown(&root).contains(&"timezone".to_string()));
    click(&query(&root, "input[data-column=timezone]").unwrap());
    click(&query(&root, "input[data-column=super_admin]").unwrap());
    let r = root.clone();
    until("the time zone column with values", move || {
        let keys = shown(&r);
        let Some(at) = keys.iter().position(|k| k == "timezone") else {
            return false;
        };
        let cells = texts(&r, &format!("tbody tr[data-id] td:nth-child({})", at + 1));
        !keys.contains(&"super_admin".to_string())
            && cells.len() == 25
            && cells.iter().all(|c| c.contains('/') || c == "UTC")
    })
    .await;
    // The request behind it asked for exactly the shown fields.
    let selected = |url: &str| {
        web_sys::Url::new(url)
            .ok()
            .and_then(|u| u.search_params().get("select"))
            .unwrap_or_default()
    };
    until("a users request selecting the shown fields", || {
        resources().iter().any(|(url, end)| {
            let fields = selected(url);
            let fields: Vec<&str> = fields.split(';').collect();
            url.contains("/appcrm/api/users?")
                && *end > 0.0
                && fields.contains(&"timezone")
                && fields.contains(&"email")
                && !fields.contains(&"super_admin")
        })
    })
    .await;
    let remembered = w
        .local_storage()
        .unwrap()
        .unwrap()
        .get_item("userdeck.columns.crm-a")
        .unwrap()
        .unwrap_or_default();
    assert!(
        remembered.contains("timezone") && !remembered.contains("super_admin"),
        "{remembered}"
    );
    drop(mounted);
    root.remove();

    // Another connection of the same CRM keeps the default columns.
    let (root, mounted) = open_app("/c/crm-b/users", 25).await;
    assert!(shown(&root).contains(&"super_admin".to_string()));
    assert!(!shown(&root).contains(&"timezone".to_string()));
    drop(mounted);
    root.remove();

    // And the first one, reloaded, its own; "Default columns" brings back the usual ones.
    let (root, _mounted) = open_app("/c/crm-a/users", 25).await;
    assert!(shown(&root).contains(&"timezone".to_string()));
    assert!(!shown(&root).contains(&"super_admin".to_string()));
    let reset = query(&root, "[data-testid=default-columns]").unwrap();
    click(&reset);
    let r = root.clone();
    until("the default columns", move || {
        let keys = shown(&r);
        keys.contains(&"super_admin".to_string()) && !keys.contains(&"timezone".to_string())
    })
    .await;
    assert!(
        reset
            .unchecked_ref::<web_sys::HtmlButtonElement>()
            .disabled(),
        "nothing left to reset"
    );
}

/// The status chip says who is signed in and how much of the CRM's rate limit is left (from
/// its `X-RateLimit-*` headers), and turns to an error, with the CRM's words in its title, when
/// the CRM refuses the token.
#[wasm_bindgen_test]
async fn the_status_chip_shows_the_user_the_quota_left_and_an_error() {
    clear_storage();
    let chip = |root: &web_sys::Element| {
        let chip = query(root, "[data-testid=status-chip]").expect("a status chip");
        (
            chip.text_content().unwrap_or_default(),
            chip.class_name(),
            chip.get_attribute("title").unwrap_or_default(),
        )
    };
    let capsule = |id: &str| sandbox_connection(id, "Capsule demo", Provider::Capsule);
    {
        save_with_secret(&[capsule("caps")], CAPSULE_TOKEN);
        let (root, _m) = open_app("/c/caps/users?size=10", 10).await;
        let r = root.clone();
        // The list (asked for first, as the app starts) brings the quota, the profile the name.
        until("the signed-in user and the quota", move || {
            let (text, _, _) = chip(&r);
            text.contains(" · ") && text.contains("requests left") && !text.starts_with("● ready")
        })
        .await;
        let (text, class, _) = chip(&root);
        let (user, quota) = text.split_once(" · ").unwrap();
        assert!(
            user.starts_with("● ") && user.len() > "● ".len() && user != "● ready",
            "the signed-in user's name: {text}"
        );
        assert!(
            quota.ends_with("/4000 requests left"),
            "Capsule's hourly quota: {text}"
        );
        assert!(class.contains("ok") && !class.contains("bad"), "{class}");
        // Unsorted, Capsule's pages still know the count (`embed=meta`), as sorted ones do.
        assert_eq!(texts(&root, "[data-testid=range]"), ["1–10 of 300"]);
        assert!(
            texts(&root, "[data-testid=page-no]")[0].contains("of 30"),
            "{:?}",
            texts(&root, "[data-testid=page-no]")
        );
    }
    clear_storage();
    save_with_secret(&[capsule("wrong")], "not-a-token");
    let (root, _m) = mount_app_at("/c/wrong/users");
    let r = root.clone();
    // The app is drawn once the refusal is in (the list is asked for as it starts).
    until("the chip to show the error", move || {
        query(&r, "[data-testid=status-chip]").is_some_and(|c| c.class_name().contains("bad"))
    })
    .await;
    let (text, _, title) = chip(&root);
    assert!(text.contains("error"), "{text}");
    assert!(!title.is_empty(), "the CRM's words are a hover away");
}

/// Every failure reads as a sentence that says what happened and what to do, with the CRM's own
/// words in it and no raw JSON: the proxy unable to reach a CRM, a CRM's own failure, a refusal,
/// an answer that is not the CRM's API, a refused consent.
#[wasm_bindgen_test]
fn errors_say_what_happened_and_what_to_do() {
    use userdeck::state::session::describe;
    use userdeck_client::ApiError;
    let upstream = |status, message: &str| {
        describe(&ApiError::Upstream {
            status,
            message: message.into(),
        })
    };
    let cases = [
        (
            upstream(502, "the CRM could not be reached (connection failed)"),
            "Could not reach the CRM (HTTP 502: the CRM could not be reached (connection failed)). It may be down",
        ),
        (
            upstream(500, "Server Error"),
            "The CRM failed on its side (HTTP 500: Server Error). Try again",
        ),
        (
            upstream(503, "Service Unavailable"),
            "The CRM is busy or under maintenance (HTTP 503: Service Unavailable)",
        ),
        (
            upstream(200, "Access denied"),
            "The CRM refused: Access denied",
        ),
        (
            describe(&ApiError::Conflict {
                message: "You cannot delete your own account.".into(),
            }),
            "The CRM refused: You cannot delete your own account.",
        ),
        (
            describe(&ApiError::decode(
                "App CRM users list",
                b"<!DOCTYPE html><html>",
            )),
            "Userdeck cannot read the answer as the App CRM users list. Check that the connection's address is the CRM's API. The answer began: <!DOCTYPE html>",
        ),
        (
            describe(&ApiError::OAuth {
                error: "access_denied".into(),
                description: Some("The user denied access.".into()),
            }),
            "Capsule refused the sign-in (access_denied): The user denied access.",
        ),
    ];
    for (said, expected) in cases {
        assert!(
            said.starts_with(expected),
            "{said:?}\n  should start {expected:?}"
        );
    }
}

/// Back from a user shows the list it came from at once, while the list is fetched again (the
/// sandbox slowed to 1.5 s an answer); once that user is deleted, the page goes back to that
/// list, which comes back without them, not even for a moment.
#[wasm_bindgen_test]
async fn back_shows_the_list_at_once_and_never_a_deleted_user() {
    clear_storage();
    sandbox_latency(0).await;
    let stamp = js_sys::Date::now() as u64;
    let shown = new_app_crm_user(
        &format!("Aaa Back {stamp}"),
        &format!("back{stamp}@example.com"),
    )
    .await;
    save_with_secret(
        &[sandbox_connection("back", "Back demo", Provider::AppCrm)],
        APPCRM_ADMIN_TOKEN,
    );
    let (root, _m) = open_app("/c/back/users?size=10", 10).await;
    let names = |root: &web_sys::HtmlElement| texts(root, "tbody tr[data-id] td:nth-child(2)");
    let busy = |root: &web_sys::HtmlElement| {
        query(root, "table.users-table").and_then(|t| t.get_attribute("aria-busy"))
    };
    let row = format!("tbody tr[data-id=\"{}\"]", shown.id);
    let open = |root: &web_sys::HtmlElement| {
        click(&query(root, &format!("{row} a")).expect("the new user on the first page"));
    };
    let listed = names(&root);
    open(&root);
    appears(&root, "[data-testid=user-fields]").await;

    sandbox_latency(1500).await;
    window().history().unwrap().back().unwrap();
    let r = root.clone();
    until("the list again", move || {
        query(&r, "table.users-table").is_some()
    })
    .await;
    // The rows are there while the list's request is still out: they were kept, not fetched.
    assert_eq!(
        busy(&root).as_deref(),
        Some("true"),
        "the list is being fetched again"
    );
    assert_eq!(names(&root), listed);
    let r = root.clone();
    until("the fresh answer", move || {
        busy(&r).as_deref() == Some("false")
    })
    .await;
    assert_eq!(names(&root), listed);

    // Delete that user from their page: the delete goes back to the list it came from, which
    // must not show them from before.
    open(&root);
    click(&appears(&root, "[data-testid=delete-user]").await);
    let back = query(&root, "[data-testid=back-to-list]").and_then(|a| a.get_attribute("href"));
    assert_eq!(back.as_deref(), Some("/c/back/users?size=10"));
    click(&appears(&root, "[data-testid=confirm]").await);
    let r = root.clone();
    until("the list after the delete", move || {
        query(&r, "table.users-table").is_some()
    })
    .await;
    assert_eq!(window().location().search().unwrap(), "?size=10");
    let gone = format!("tbody tr[data-id=\"{}\"]", shown.id);
    assert!(
        query(&root, &gone).is_none(),
        "the deleted user shown from before"
    );
    let r = root.clone();
    until("the list after the delete, fetched", move || {
        busy(&r).as_deref() == Some("false")
    })
    .await;
    assert!(query(&root, &gone).is_none());
    sandbox_latency(0).await;
}

/// A user opened from the list by keyboard: their page's main area takes the focus, and coming
/// back, that user's row has it again and the arrows go on from there (before, the body had it
/// both times).
#[wasm_bindgen_test]
async fn back_from_a_user_puts_the_focus_on_their_row() {
    clear_storage();
    sandbox_latency(0).await;
    save_with_secret(
        &[sandbox_connection(
            "refocus",
            "Refocus demo",
            Provider::AppCrm,
        )],
        APPCRM_ADMIN_TOKEN,
    );
    let (root, _m) = open_app("/c/refocus/users?size=10", 10).await;
    let third = query(&root, "tbody tr[data-index=\"2\"]").expect("a third row");
    let id = third.get_attribute("data-id").unwrap_or_default();
    let _ = third.unchecked_ref::<web_sys::HtmlElement>().focus();
    key(&third, "Enter");
    appears(&root, "[data-testid=user-fields]").await;
    assert!(
        query(&root, "table.users-table").is_none(),
        "the user's page"
    );
    // The row pressed is gone with the list: the new page's main area has the focus, not the
    // body (from where the next Tab would go back through the header).
    until("the focus in the user's page", || focus_is_on("main")).await;

    window().history().unwrap().back().unwrap();
    let row = format!("tbody tr[data-id=\"{id}\"]");
    let r = root.clone();
    until("the focus on the row come back from", move || {
        query(&r, &row).is_some_and(|row| has_focus(&row))
    })
    .await;
    let focused = document().active_element().expect("the row");
    key(&focused, "ArrowDown");
    let now = document()
        .active_element()
        .and_then(|e| e.get_attribute("data-index"));
    assert_eq!(now.as_deref(), Some("3"));
}

/// Signing in on a list's page replaces the sign-in with the list, and the focus, which was on
/// the sign-in's button, goes into the page's main area rather than to the body.
#[wasm_bindgen_test]
async fn after_a_sign_in_the_focus_is_in_the_page() {
    clear_storage();
    sandbox_latency(0).await;
    save(&[sandbox_connection(
        "later",
        "Signed in later",
        Provider::AppCrm,
    )]);
    let (root, _m) = mount_app_at("/c/later/users?size=10");
    type_into(
        &appears(&root, "[data-testid=secret]").await,
        APPCRM_ADMIN_TOKEN,
    );
    press(&query(&root, "form.sign-in button[type=submit]").unwrap());
    let r = root.clone();
    until("the users", move || {
        query_all(&r, "table.users-table[aria-busy=false] tbody tr[data-id]").len() == 10
    })
    .await;
    until("the focus in the page", || focus_is_on("main")).await;
}

/// Sign out pressed twice signs out once: one "Signed out." and the home page.
#[wasm_bindgen_test]
async fn sign_out_pressed_twice_signs_out_once() {
    clear_storage();
    save_with_secret(
        &[sandbox_connection("leave", "Leaving", Provider::AppCrm)],
        APPCRM_ADMIN_TOKEN,
    );
    let (root, _m) = mount_app_at("/c/leave/me");
    let button = appears(&root, "[data-testid=sign-out]").await;
    click(&button);
    click(&button);
    until("the home page", || {
        window().location().pathname().unwrap_or_default() == "/"
    })
    .await;
    tick().await;
    let said = texts(&root, "[data-testid=toasts] .toast")
        .into_iter()
        .filter(|t| t.contains("Signed out."))
        .count();
    assert_eq!(said, 1);
}

/// The tab keeps the last eight lists shown, newest kept, one per connection and query; signing
/// out of a connection or its session ending forgets its lists (whoever signs in next may not be
/// allowed to see those users).
#[wasm_bindgen_test]
fn kept_lists_are_few_and_go_with_the_session() {
    use userdeck::state::session::Sessions;
    use userdeck_client::{Page, User, UserQuery};
    let sessions = Sessions::new();
    let page = |n: u64| Page {
        items: vec![User {
            id: n,
            ..User::default()
        }],
        page: n as u32,
        ..Page::default()
    };
    let query = |n: u64| UserQuery {
        page: n as u32,
        ..UserQuery::default()
    };
    for n in 1..=9 {
        sessions.remember_list("a", &query(n), &page(n));
    }
    assert_eq!(
        sessions.recall_list("a", &query(1)),
        None,
        "the oldest went"
    );
    assert_eq!(sessions.recall_list("a", &query(9)), Some(page(9)));
    sessions.remember_list("a", &query(9), &page(10));
    assert_eq!(
        sessions.recall_list("a", &query(9)),
        Some(page(10)),
        "replaced"
    );
    assert_eq!(sessions.recall_list("b", &query(9)), None);

    sessions.remember_list("b", &query(1), &page(1));
    sessions.forget("a");
    assert_eq!(sessions.recall_list("a", &query(9)), None);
    assert_eq!(sessions.recall_list("b", &query(1)), Some(page(1)));
    sessions.end("b");
    assert_eq!(sessions.recall_list("b", &query(1)), None);
}

/// A list that comes back after its connection was signed out of is not kept: the next
/// session's first list starts from skeleton rows, never from the last session's users.
#[wasm_bindgen_test]
async fn a_list_answered_after_sign_out_is_not_kept() {
    use userdeck::pages::users::UsersView;
    use userdeck::state::list_query::ListParams;
    use userdeck::state::session::Sessions;
    clear_storage();
    sandbox_latency(0).await;
    let info = sandbox_connection("late", "Late", Provider::AppCrm);
    save_with_secret(std::slice::from_ref(&info), APPCRM_ADMIN_TOKEN);
    let connections = Connections::new();
    let sessions = Sessions::new();
    let mount = |client| {
        let info = info.clone();
        let root = test_root();
        let handle = mount_to(root.clone(), move || {
            provide_context(sessions);
            let params = RwSignal::new(ListParams {
                size: 10,
                ..ListParams::default()
            });
            view! {
                <UsersView info=info client=StoredValue::new_local(client) params=params
                    on_params=Callback::new(move |p| params.set(p)) on_open=Callback::new(|_| {})/>
            }
        });
        (root, handle)
    };
    let rows = |root: &web_sys::HtmlElement| query_all(root, "tbody tr[data-id]").len();

    sandbox_latency(800).await;
    let first = sessions.client(&info, &connections).unwrap();
    let (root, handle) = mount(first);
    tick().await;
    sessions.forget("late");
    let r = root.clone();
    until("the answer that came after the sign-out", move || {
        rows(&r) == 10
    })
    .await;
    drop(handle);

    let second = sessions.client(&info, &connections).unwrap();
    let (root, _handle) = mount(second);
    tick().await;
    tick().await;
    assert_eq!(rows(&root), 0, "the last session's users shown to the next");
    let r = root.clone();
    until("the next session's own list", move || rows(&r) == 10).await;
    sandbox_latency(0).await;
}

/// An App CRM that names itself v1.2 requires the first day of the week on every save. Its create
/// page, opened before any list (a reload or a shared link), learns the release first and then
/// asks for the day by name; the day goes to the CRM as its number and reads back as the name.
/// The same CRM as v1.5 gets no such field.
#[wasm_bindgen_test]
async fn an_app_crm_1_2_is_asked_for_the_first_day_of_week() {
    clear_storage();
    sandbox_latency(0).await;
    let legacy = ConnectionInfo {
        sign_in: SignIn::Token,
        ..ConnectionInfo::new_saved(
            "legacy",
            "App CRM 1.2",
            Provider::AppCrm,
            &format!("{}/appcrm-v1.2", sandbox()),
        )
    };
    save_with_secret(
        &[
            legacy,
            sandbox_connection("current", "App CRM 1.5", Provider::AppCrm),
        ],
        APPCRM_ADMIN_TOKEN,
    );
    let (root, mounted) = mount_app_at("/c/legacy/users/new");
    appears(&root, "[data-testid=user-form] [name=time_format]").await;
    let day = query(&root, "select[name=first_day_of_week]")
        .expect("v1.2's create form asks for the first day of the week");
    assert_eq!(
        texts(&root, "select[name=first_day_of_week] option"),
        ["Choose…", "Sunday", "Monday", "Saturday"]
    );
    assert!(day.has_attribute("required"));
    let stamp = js_sys::Date::now() as u64;
    let field = |key: &str| query(&root, &format!("[name=\"{key}\"]")).unwrap();
    type_into(&field("name"), &format!("Weekday {stamp}"));
    type_into(&field("email"), &format!("weekday{stamp}@appcrm.example"));
    type_into(&field("password"), "secret1");
    type_into(&field("password_confirmation"), "secret1");
    choose(&field("timezone"), "Europe/Lisbon");
    choose(&field("date_format"), "Y-m-d");
    choose(&field("time_format"), "H:i");
    click(&query(&root, "[data-testid=save]").unwrap());
    appears(&root, "[data-testid=error-first_day_of_week]").await;
    choose(&day, "1");
    click(&query(&root, "[data-testid=save]").unwrap());
    let fields = appears(&root, "[data-testid=user-fields]")
        .await
        .text_content()
        .unwrap();
    assert!(fields.contains("First day of weekMonday"), "{fields}");
    let id: u64 = window()
        .location()
        .pathname()
        .unwrap()
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("the new user's page");
    let read = client(Provider::AppCrm).get(id).await.unwrap();
    assert_eq!(read.display_name, format!("Weekday {stamp}"));
    drop(mounted);
    root.remove();

    clear_storage();
    save_with_secret(
        &[sandbox_connection(
            "current",
            "App CRM 1.5",
            Provider::AppCrm,
        )],
        APPCRM_ADMIN_TOKEN,
    );
    let (root, _mounted) = mount_app_at("/c/current/users/new");
    appears(&root, "[data-testid=user-form] [name=time_format]").await;
    assert!(query(&root, "[name=first_day_of_week]").is_none());
}

/// A link that sorts by something the CRM cannot sort by (hand-edited, or from another CRM) shows
/// the users in the CRM's own order and says why, instead of App CRM's 500 or Zurmo's SQL error;
/// one click takes the sort out of the link.
#[wasm_bindgen_test]
async fn a_link_sorting_by_an_unknown_column_still_lists_and_says_so() {
    use userdeck::state::list_query::ListParams;
    use userdeck_client::Schema;
    clear_storage();
    sandbox_latency(0).await;
    save_with_secret(
        &[sandbox_connection("odd", "Odd sort", Provider::AppCrm)],
        APPCRM_ADMIN_TOKEN,
    );
    let (root, _m) = open_app("/c/odd/users?sort=nonsense&dir=desc&size=10", 10).await;
    assert!(query(&root, "[data-testid=list-error]").is_none());
    let notice = query(&root, "[data-testid=unknown-sort]")
        .and_then(|n| n.text_content())
        .unwrap_or_default();
    assert!(
        notice.contains("“nonsense”") && notice.contains("App CRM cannot sort by"),
        "{notice}"
    );
    click(&query(&root, "[data-testid=unknown-sort] button").unwrap());
    let r = root.clone();
    until("the notice to go", move || {
        query(&r, "[data-testid=unknown-sort]").is_none()
    })
    .await;
    let search = window().location().search().unwrap();
    assert!(!search.contains("sort="), "{search}");
    assert!(
        search.contains("size=10"),
        "the rest of the link stays: {search}"
    );

    // Zurmo has no `email` column (its email is `primaryEmail.emailAddress`, which it cannot
    // sort by either); `username` it sorts.
    let zurmo = Schema::of(Provider::Zurmo);
    let with_sort = |key: &str| ListParams {
        sort: Some(key.into()),
        ..ListParams::default()
    };
    assert_eq!(with_sort("email").unknown_sort(&zurmo), Some("email"));
    assert_eq!(
        with_sort("primaryEmail.emailAddress").unknown_sort(&zurmo),
        Some("primaryEmail.emailAddress")
    );
    assert_eq!(with_sort("username").unknown_sort(&zurmo), None);
    assert!(
        with_sort("email")
            .to_query(&zurmo, Vec::new())
            .sort
            .is_none()
    );
}

/// From now on watches `root` for the moment a users table is first drawn, and answers how many
/// user rows it had then (placeholder rows are not user rows).
fn rows_when_the_table_is_first_drawn(root: &web_sys::HtmlElement) -> Rc<Cell<Option<usize>>> {
    use wasm_bindgen::closure::Closure;
    let seen = Rc::new(Cell::new(None));
    let (s, r) = (seen.clone(), root.clone());
    let look = Closure::<dyn FnMut(js_sys::Array, web_sys::MutationObserver)>::new(
        move |_, observer: web_sys::MutationObserver| {
            if let Some(table) = query(&r, "table.users-table") {
                s.set(Some(query_all(&table, "tbody tr[data-id]").len()));
                observer.disconnect();
            }
        },
    );
    let observer = web_sys::MutationObserver::new(look.as_ref().unchecked_ref()).unwrap();
    let init = web_sys::MutationObserverInit::new();
    init.set_child_list(true);
    init.set_subtree(true);
    observer.observe_with_options(root, &init).unwrap();
    look.forget();
    seen
}

/// How many times this page has asked App CRM for a list of users.
fn app_crm_lists_asked() -> usize {
    resources()
        .iter()
        .filter(|(url, _)| url.contains("/appcrm/api/users?"))
        .count()
}

/// Opens the first ten users of a new App CRM connection `id` by address, the sandbox answering
/// after `latency_ms`, and watches the table's first drawing. Gives the page, the number of user
/// rows the table had when first drawn, and how many lists the page had asked for before.
async fn open_watching_the_first_drawing(
    id: &str,
    latency_ms: u64,
) -> (
    web_sys::HtmlElement,
    impl Sized,
    Rc<Cell<Option<usize>>>,
    usize,
) {
    clear_storage();
    sandbox_latency(latency_ms).await;
    save_with_secret(
        &[sandbox_connection(id, id, Provider::AppCrm)],
        APPCRM_ADMIN_TOKEN,
    );
    let asked_before = app_crm_lists_asked();
    go_to(&format!("/c/{id}/users?size=10"));
    let root = test_root();
    let first_drawn = rows_when_the_table_is_first_drawn(&root);
    let mounted = mount_to(root.clone(), App);
    (root, mounted, first_drawn, asked_before)
}

/// Waits for the ten users, then puts the sandbox's speed back.
async fn ten_users(root: &web_sys::HtmlElement) {
    let r = root.clone();
    until("the users", move || {
        query_all(&r, "table.users-table[aria-busy=false] tbody tr[data-id]").len() == 10
    })
    .await;
    sandbox_latency(0).await;
}

/// Opening a users list by its address (a reload, a bookmark, a shared link) asks the CRM as
/// the app starts, not once the page has rendered: a CRM that answers quickly has its users in
/// the table's first drawing, with no placeholder rows before them, and is asked only once.
#[wasm_bindgen_test]
async fn a_users_address_is_drawn_with_its_users_from_the_start() {
    // Without the early request the table is always drawn first with placeholder rows: the
    // request cannot even leave before that drawing. The sandbox answers at once here, well
    // within `HOLD_RENDER` (with 40 ms of added latency a busy CI machine overran it).
    let (root, _mounted, first_drawn, asked_before) =
        open_watching_the_first_drawing("early", 0).await;
    ten_users(&root).await;
    assert_eq!(
        first_drawn.get(),
        Some(10),
        "the table was first drawn without its users"
    );
    assert_eq!(
        app_crm_lists_asked() - asked_before,
        1,
        "asked more than once"
    );
}

/// A CRM slower than the app waits for it (`HOLD_RENDER`): the page is drawn with placeholder
/// rows, then shows the users from the same early request, still asked only once.
#[wasm_bindgen_test]
async fn a_slow_crm_gets_the_page_first_and_its_users_after() {
    use userdeck::state::first_list::HOLD_RENDER;
    let (root, _mounted, first_drawn, asked_before) =
        open_watching_the_first_drawing("slow", HOLD_RENDER.as_millis() as u64 * 6).await;
    let r = root.clone();
    until("the page", move || query(&r, "table.users-table").is_some()).await;
    assert_eq!(first_drawn.get(), Some(0), "the page waited for the CRM");
    assert!(query(&root, "table.users-table tr.skeleton").is_some());
    ten_users(&root).await;
    assert_eq!(
        app_crm_lists_asked() - asked_before,
        1,
        "asked more than once"
    );
}

/// A token the CRM refuses, on the list asked for early, ends the session on the list's page as
/// it did before: the sign-in comes back, and the refused list was asked for once.
#[wasm_bindgen_test]
async fn a_refused_early_list_asks_for_a_sign_in() {
    clear_storage();
    sandbox_latency(0).await;
    save_with_secret(
        &[sandbox_connection("refused", "Refused", Provider::AppCrm)],
        "1|not-a-token-the-sandbox-knows",
    );
    let asked_before = app_crm_lists_asked();
    let (root, _mounted) = mount_app_at("/c/refused/users");
    let r = root.clone();
    until("the sign-in", move || {
        r.text_content()
            .unwrap_or_default()
            .contains("no longer accepts")
    })
    .await;
    assert_eq!(app_crm_lists_asked() - asked_before, 1);
}

/// Only the address of a connection's users list is asked for early.
#[wasm_bindgen_test]
fn only_a_users_list_address_is_asked_for_early() {
    use userdeck::state::first_list::users_list_of;
    assert_eq!(users_list_of("/c/appcrm/users").as_deref(), Some("appcrm"));
    assert_eq!(users_list_of("/c/appcrm/users/").as_deref(), Some("appcrm"));
    assert_eq!(
        users_list_of("/c/my%20crm/users").as_deref(),
        Some("my crm")
    );
    for other in [
        "/",
        "/connections",
        "/c/appcrm",
        "/c//users",
        "/c/appcrm/users/12",
        "/c/appcrm/users/new",
        "/c/appcrm/me",
    ] {
        assert_eq!(users_list_of(other), None, "{other}");
    }
}

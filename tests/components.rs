//! Component tests of the app in headless Chromium (wasm-bindgen-test), run by `cargo xtask test`.
#![cfg(target_arch = "wasm32")]

use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use userdeck::components::connection_list::ConnectionList;
use userdeck::pages::user_detail::UserFields;
use userdeck::state::connections::{ConnectionInfo, fetch_declared};
use userdeck_client::{Provider, RawJson, Schema, User};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn connection(id: &str, name: &str, provider: &str) -> ConnectionInfo {
    ConnectionInfo {
        id: id.into(),
        name: name.into(),
        provider: provider.into(),
        base_url: format!("/proxy/{id}"),
        auth: "server".into(),
        signed_in: true,
        oauth: None,
        saved: false,
        login: None,
        sign_in: Default::default(),
    }
}

/// A fresh element in the page for one test to mount into.
fn test_root() -> web_sys::HtmlElement {
    let document = document();
    let root = document.create_element("section").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    root.unchecked_into()
}

/// Mounts the detail fields of a user whose JSON is `raw`, under `provider`'s schema, as the
/// connection `test` shows them.
/// A user holding only `raw`, the JSON a CRM sent, which is what the fields read.
fn raw_user(raw: &str) -> User {
    User {
        raw: RawJson::from_text(raw).unwrap(),
        ..User::default()
    }
}

fn mount_fields(raw: &str, provider: Provider) -> (web_sys::HtmlElement, impl Sized) {
    let user = raw_user(raw);
    let root = test_root();
    let handle = mount_to(root.clone(), move || {
        view! { <UserFields user=user.clone() schema=Schema::of(provider) users_href="/c/test/users"/> }
    });
    (root, handle)
}

fn visible_names(root: &web_sys::HtmlElement) -> Vec<String> {
    let nodes = root.query_selector_all("li.connection .name").unwrap();
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter_map(|n| n.text_content())
        .collect()
}

#[wasm_bindgen_test]
async fn typing_in_the_filter_narrows_the_connection_list() {
    let root = test_root();
    let list = vec![
        connection("sales", "Sales team", "capsule"),
        connection("support", "Support desk", "appcrm"),
        connection("legacy", "Legacy CRM", "zurmo"),
    ];
    let _mounted = mount_to(root.clone(), move || {
        view! { <ConnectionList connections=Signal::stored(list.clone())/> }
    });
    tick().await;
    assert_eq!(visible_names(&root).len(), 3);

    let input: web_sys::HtmlInputElement = root
        .query_selector("input[type=search]")
        .unwrap()
        .expect("a filter box")
        .unchecked_into();
    input.set_value("zurmo");
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    tick().await;
    assert_eq!(visible_names(&root), ["Legacy CRM"]);

    input.set_value("nothing like it");
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    tick().await;
    assert!(visible_names(&root).is_empty());
    assert!(root.query_selector(".empty").unwrap().is_some());
}

/// On a static host (here: the sandbox, which declares no connections) the app treats a 404 as
/// "no proxy", not as an error.
#[wasm_bindgen_test]
async fn a_server_without_a_connection_list_means_no_proxy() {
    let sandbox = match option_env!("USERDECK_SANDBOX_URL") {
        Some(url) => url,
        None => {
            panic!("USERDECK_SANDBOX_URL is not set: run the browser tests with `cargo xtask test`")
        }
    };
    assert_eq!(fetch_declared(sandbox).await, Ok(None));
}

/// A dead address is an error the user can read, not a panic.
#[wasm_bindgen_test]
async fn an_unreachable_proxy_is_a_readable_error() {
    let outcome = fetch_declared("http://127.0.0.1:9").await;
    let message = outcome.expect_err("port 9 does not answer");
    assert!(message.contains("Could not reach"), "{message}");
}

/// Results are mostly known after an `await`, where Leptos has no reactive owner: the toast must
/// still appear (it did not, before `notify` learnt to find the app's toast area there).
#[wasm_bindgen_test]
async fn a_result_reported_after_an_await_still_shows_a_toast() {
    use userdeck::state::toast::{ToastArea, ToastKind, Toasts, notify};

    let root = test_root();
    let _mounted = mount_to(root.clone(), || {
        provide_context(Toasts::new());
        view! { <ToastArea/> }
    });
    leptos::task::spawn_local(async {
        gloo_timers::future::TimeoutFuture::new(1).await;
        notify(ToastKind::Success, "Saved after a round trip");
    });
    for _ in 0..50 {
        gloo_timers::future::TimeoutFuture::new(10).await;
        if root
            .text_content()
            .is_some_and(|t| t.contains("Saved after a round trip"))
        {
            return;
        }
    }
    panic!("no toast appeared: {:?}", root.inner_html());
}

/// `When` draws its children again only when its condition flips, not each time what the
/// condition reads changes (a list's length going from 3 to 4 keeps "has users" true).
#[wasm_bindgen_test]
async fn a_part_shown_when_is_drawn_again_only_when_the_condition_flips() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use userdeck::components::when::When;

    let count = RwSignal::new(1);
    let drawn = Arc::new(AtomicUsize::new(0));
    let counter = drawn.clone();
    let root = test_root();
    let _mounted = mount_to(root.clone(), move || {
        let counter = counter.clone();
        let any = move || count.get() != 0;
        view! {
            <When when=any fallback=|| view! { <p id="none">"None"</p> }>
                {
                    counter.fetch_add(1, Ordering::Relaxed);
                    view! { <p id="some">"Some"</p> }
                }
            </When>
        }
    });
    tick().await;
    let drawn_now = || drawn.load(Ordering::Relaxed);
    let shows = |id: &str| {
        root.query_selector(&format!("#{id}"))
            .ok()
            .flatten()
            .is_some()
    };
    assert!(shows("some") && !shows("none"));
    assert_eq!(drawn_now(), 1);
    for n in [2, 3, 4] {
        count.set(n);
        tick().await;
    }
    assert_eq!(drawn_now(), 1, "drawn again while the condition held");
    count.set(0);
    tick().await;
    assert!(shows("none") && !shows("some"));
    count.set(5);
    tick().await;
    assert!(shows("some"));
    assert_eq!(drawn_now(), 2);
}

/// A message that goes leaves the others where they are: the one after it keeps its element and
/// its words, so the live region has nothing new to read out. Once all have gone, the next
/// message starts a fresh area.
#[wasm_bindgen_test]
async fn a_toast_that_goes_leaves_the_others_in_place() {
    use userdeck::state::toast::{ToastArea, ToastKind, Toasts};

    let root = test_root();
    let toasts = Toasts::new();
    let _mounted = mount_to(root.clone(), move || {
        provide_context(toasts);
        view! { <ToastArea/> }
    });
    let shown = |root: &web_sys::HtmlElement| {
        let all = root.query_selector_all(".toast").unwrap();
        (0..all.length())
            .filter_map(|i| all.item(i))
            .map(|n| n.unchecked_into::<web_sys::Element>())
            .collect::<Vec<_>>()
    };
    toasts.push(ToastKind::Error, "First, an error");
    toasts.push(ToastKind::Success, "Then a success");
    tick().await;
    let before = shown(&root);
    assert_eq!(before.len(), 2);
    let second = before[1].clone();

    // The first goes (its Dismiss button): the second is the same element, saying the same.
    let dismiss = before[0].query_selector("button.close").unwrap().unwrap();
    dismiss.unchecked_ref::<web_sys::HtmlElement>().click();
    tick().await;
    let after = shown(&root);
    assert_eq!(after.len(), 1);
    assert!(
        after[0] == second,
        "the second message moved into another element"
    );
    assert_eq!(second.text_content().unwrap_or_default(), "Then a success×");

    // A third comes after it; once both have gone, a new message is the only one.
    toasts.push(ToastKind::Success, "A third");
    tick().await;
    assert_eq!(shown(&root).len(), 2);
    assert!(shown(&root)[0] == second);
    let ids: Vec<u64> = toasts
        .items
        .with_untracked(|t| t.iter().map(|t| t.id).collect());
    for id in ids {
        toasts.dismiss(id);
    }
    tick().await;
    assert!(shown(&root).is_empty());
    assert!(
        toasts.items.with_untracked(Vec::is_empty),
        "places kept after all went"
    );
    toasts.push(ToastKind::Success, "Fresh");
    tick().await;
    let fresh = shown(&root);
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].text_content().unwrap_or_default(), "Fresh×");
}

/// The fields of a user beyond the schema read as an admin would write them: labels from wire
/// names, references by the record's name, records as nested fields on a row of their own, and a
/// CRM's markup as text. The user is Zurmo-shaped, with an App CRM role list and a Capsule party.
#[wasm_bindgen_test]
async fn extra_fields_read_as_labels_names_and_nested_fields() {
    let raw = r#"{
        "id": 1, "username": "super", "lastName": "User",
        "createdByUser": {"id": 1, "username": "super"},
        "title": {"id": 4, "value": "Ms."},
        "currency": {"id": 7},
        "pictureURL": "https://example.test/p.png",
        "homepage": "javascript:alert(1)",
        "blog": "http://",
        "hideFromLeaderboard": false,
        "createdDateTime": "2023-07-14T15:39:14.000000Z",
        "roleList": [{"id": 1, "name": "Sales", "permissions": []}, {"id": 2, "name": "Support"}],
        "teams": [],
        "tags": [null, "VIP", ""],
        "mail_signature": "<p><b>Bold</b> <img src=x onerror=alert(1)>&amp; co</p>",
        "party": {"id": 1003, "firstName": "Scott",
                  "emailAddresses": [{"id": 5007, "type": "Work", "address": "s@example.test"}]}
    }"#;
    let (root, _mounted) = mount_fields(raw, Provider::Zurmo);
    tick().await;

    // Label → (the text of its value, whether the pair takes a whole row).
    let pairs = root.query_selector_all("dl.fields > .pair").unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for i in 0..pairs.length() {
        let pair: web_sys::Element = pairs.item(i).unwrap().unchecked_into();
        let dt = pair.query_selector("dt").unwrap().unwrap();
        let dd = pair.query_selector("dd").unwrap().unwrap();
        seen.insert(
            dt.text_content().unwrap(),
            (
                dd.text_content().unwrap(),
                pair.class_list().contains("wide"),
                dt.get_attribute("title"),
            ),
        );
    }
    let get = |label: &str| {
        seen.get(label)
            .cloned()
            .unwrap_or_else(|| panic!("no field labelled {label:?} in {:?}", seen.keys()))
    };
    assert_eq!(get("Created by user").0, "super");
    assert_eq!(get("Created by user").2.as_deref(), Some("createdByUser"));
    assert_eq!(get("Title").0, "Ms.");
    assert_eq!(get("Currency").0, "#7");
    assert_eq!(get("Picture URL").0, "https://example.test/p.png");
    let links: Vec<(Option<String>, Option<String>)> = (0..pairs.length())
        .filter_map(|i| pairs.item(i))
        .filter_map(|p| {
            p.unchecked_into::<web_sys::Element>()
                .query_selector("dd > a")
                .ok()
                .flatten()
        })
        .map(|a| (a.get_attribute("href"), a.get_attribute("rel")))
        .collect();
    assert_eq!(
        links,
        [(
            Some("https://example.test/p.png".to_string()),
            Some("noopener noreferrer".to_string())
        )],
        "only a web address with a host is a link"
    );
    assert_eq!(get("Homepage").0, "javascript:alert(1)");
    assert_eq!(get("Hide from leaderboard").0, "No");
    assert_eq!(get("Created date time").0, local("2023-07-14T15:39:14Z"));
    assert_eq!(get("Role list").0, "Sales, Support");
    assert_eq!(get("Teams").0, "—");
    assert_eq!(get("Tags").0, "VIP", "empty members add nothing to a list");
    assert!(!get("Tags").1);
    assert_eq!(get("Mail signature").0, "Bold & co");
    assert!(!get("Title").1, "a reference reads on one line");

    // The party is a record: nested fields, its emails a list of records, on a row of its own.
    let (party, wide, _) = get("Party");
    assert!(wide, "a nested record takes a whole row");
    assert!(
        party.contains("First name") && party.contains("Scott"),
        "{party}"
    );
    let nested = root
        .query_selector("dl.fields > .pair.wide dl.nested .value-list dl.nested")
        .unwrap()
        .expect("the party's email addresses as nested records");
    let text = nested.text_content().unwrap();
    assert!(
        text.contains("Address") && text.contains("s@example.test"),
        "{text}"
    );

    // The CRM's markup never became elements, and the full date-time is still one hover away.
    assert!(
        root.query_selector("dl.fields img, dl.fields b")
            .unwrap()
            .is_none()
    );
    let stamp = root
        .query_selector("span[title='2023-07-14T15:39:14.000000Z']")
        .unwrap();
    assert!(
        stamp.is_some(),
        "the shortened date-time keeps the full value as its title"
    );
}

/// The text of the detail value of the field `key`, and the address it links to.
fn shown_value(root: &web_sys::HtmlElement, key: &str) -> (String, Option<String>) {
    let dd = root
        .query_selector(&format!("dl.fields > .pair > dt[title='{key}'] + dd"))
        .unwrap()
        .unwrap_or_else(|| panic!("no field {key}"));
    let link = dd
        .query_selector("a")
        .unwrap()
        .and_then(|a| a.get_attribute("href"));
    (dd.text_content().unwrap_or_default(), link)
}

/// Capsule's code words (`PENDING`, `SEND_AND_LOG`) read as words, on the detail page and in a
/// table cell; its other capitals (a currency, SIP) stay as they are.
#[wasm_bindgen_test]
async fn code_words_read_as_words() {
    use userdeck::components::users_table::cell_text;
    let raw = r#"{"id":2,"status":"PENDING","emailPreference":"SEND_AND_LOG",
                  "currency":"EUR","clickToCallPreference":"SIP"}"#;
    let (root, _mounted) = mount_fields(raw, Provider::Capsule);
    tick().await;
    assert_eq!(shown_value(&root, "status").0, "Pending");
    assert_eq!(shown_value(&root, "emailPreference").0, "Send and log");
    assert_eq!(shown_value(&root, "currency").0, "EUR");
    assert_eq!(
        shown_value(&root, "clickToCallPreference").0,
        "SIP",
        "a field the schema does not call a code stays as sent"
    );

    let schema = Schema::of(Provider::Capsule);
    let status = schema.field("status").expect("Capsule has a status");
    let cell = |value: &str| {
        cell_text(
            status,
            &raw_user(&format!(r#"{{"id":1,"status":{value}}}"#)),
        )
    };
    assert_eq!(cell(r#""ACTIVE""#), "Active");
    assert_eq!(
        cell(r#""_ON__HOLD_""#),
        "On hold",
        "stray underscores are not words"
    );
    assert_eq!(cell(r#""V2_USER""#), "V2 user");
    assert_eq!(cell(r#""Away until May""#), "Away until May", "prose stays");
    assert_eq!(cell(r#""2024""#), "2024");
    assert_eq!(cell("null"), "");
}

/// Locale codes read as the languages they name, in English, with the code beside the name: on
/// the detail page, in a table cell, for each CRM's own field. A code the browser cannot name
/// (malformed, unknown, markup) stays exactly as the CRM sent it.
#[wasm_bindgen_test]
async fn locale_codes_read_as_languages() {
    use userdeck::components::formats::language_name;
    use userdeck::components::users_table::cell_text;
    let (root, _mounted) = mount_fields(r#"{"id":2,"locale":"en_GB"}"#, Provider::Capsule);
    tick().await;
    assert_eq!(shown_value(&root, "locale").0, "British English (en_GB)");

    let cell = |provider: Provider, key: &str, value: &str| {
        let schema = Schema::of(provider);
        let spec = schema.field(key).expect("a locale field");
        cell_text(spec, &raw_user(&format!(r#"{{"id":1,"{key}":{value}}}"#)))
    };
    assert_eq!(
        cell(Provider::AppCrm, "locale", r#""pt_BR""#),
        "Brazilian Portuguese (pt_BR)"
    );
    assert_eq!(cell(Provider::AppCrm, "locale", r#""it""#), "Italian (it)");
    assert_eq!(cell(Provider::Zurmo, "language", r#""de""#), "German (de)");
    assert_eq!(cell(Provider::AppCrm, "locale", "null"), "");
    for odd in ["xx", "en_", "e n", "<b>en</b>", "pt__BR", "toolonglanguage"] {
        assert_eq!(language_name(odd), None, "{odd}");
        assert_eq!(cell(Provider::AppCrm, "locale", &format!("{odd:?}")), odd);
    }
}

/// Zurmo's manager reads as the user's name the CRM sends beside the id (`#id` when it sends
/// none) and links to that user's page; the raw `manager` record is not shown a second time.
#[wasm_bindgen_test]
async fn a_manager_reads_as_a_link_to_that_user() {
    use userdeck::components::users_table::cell_text;
    let named = r#"{"id":5,"username":"ann","manager":{"id":3,"username":"smith45"}}"#;
    let (root, _mounted) = mount_fields(named, Provider::Zurmo);
    tick().await;
    assert_eq!(
        shown_value(&root, "manager.id"),
        ("smith45".to_string(), Some("/c/test/users/3".to_string()))
    );
    let labels = root.query_selector_all("dl.fields > .pair > dt").unwrap();
    let managers = (0..labels.length())
        .filter_map(|i| labels.item(i)?.text_content())
        .filter(|t| t.starts_with("Manager"))
        .count();
    assert_eq!(managers, 1, "{}", root.inner_html());

    let (root, _mounted) = mount_fields(r#"{"id":5,"manager":{"id":9}}"#, Provider::Zurmo);
    tick().await;
    assert_eq!(
        shown_value(&root, "manager.id"),
        ("#9".to_string(), Some("/c/test/users/9".to_string()))
    );

    let (root, _mounted) = mount_fields(r#"{"id":5,"manager":null}"#, Provider::Zurmo);
    tick().await;
    assert_eq!(shown_value(&root, "manager.id"), ("—".to_string(), None));

    let schema = Schema::of(Provider::Zurmo);
    let manager = schema.field("manager.id").expect("Zurmo has a manager");
    assert_eq!(cell_text(manager, &raw_user(named)), "smith45");
}

/// App CRM's role list reads as role names in a table cell and on the detail page, whether the
/// CRM sent role objects (to a super admin) or names, and as nothing when it is empty.
#[wasm_bindgen_test]
fn app_crm_roles_read_as_their_names() {
    use userdeck::components::users_table::cell_text;
    let schema = Schema::of(Provider::AppCrm);
    let roles = schema.field("roles").expect("App CRM has roles");
    let objects = raw_user(
        r#"{"id":1,"roles":[{"id":1,"name":"Sales","permissions":[]},{"id":2,"name":"Admin"}]}"#,
    );
    assert_eq!(cell_text(roles, &objects), "Sales, Admin");
    assert_eq!(
        cell_text(roles, &raw_user(r#"{"id":1,"roles":["Sales"]}"#)),
        "Sales"
    );
    assert_eq!(cell_text(roles, &raw_user(r#"{"id":1,"roles":[]}"#)), "");
}

/// The header marks the link of the page the admin is on, and the section a deeper page is in.
#[wasm_bindgen_test]
fn the_header_marks_the_current_page_and_section() {
    use userdeck::components::layout::current_for;

    assert_eq!(
        current_for("/c/zurmo/users", "/c/zurmo/users"),
        Some("page")
    );
    assert_eq!(
        current_for("/c/zurmo/users/7/edit", "/c/zurmo/users"),
        Some("true")
    );
    assert_eq!(current_for("/c/zurmo/users", "/c/zurmo/me"), None);
    // A connection whose id starts like another's is not inside it.
    assert_eq!(current_for("/c/zurmo-signin/users", "/c/zurmo"), None);
    assert_eq!(current_for("/connections", "/connections"), Some("page"));
}

/// App CRM's date and time formats read as the format and today in it, as the form previews them.
#[wasm_bindgen_test]
async fn date_and_time_formats_show_an_example() {
    let raw = r#"{"id":3,"name":"Ana","date_format":"Y-m-d","time_format":"H:i","timezone":"UTC"}"#;
    let (root, _mounted) = mount_fields(raw, Provider::AppCrm);
    tick().await;
    let example = |key: &str| {
        root.query_selector(&format!("dt[title={key}] + dd .example"))
            .unwrap()
            .and_then(|e| e.text_content())
            .unwrap_or_else(|| panic!("no example for {key}"))
    };
    let today = js_sys::Date::new_0();
    let date = example("date_format");
    assert_eq!(
        date,
        format!(
            "e.g. {:04}-{:02}-{:02}",
            today.get_full_year(),
            today.get_month() + 1,
            today.get_date()
        )
    );
    let time = example("time_format");
    assert!(
        time.len() == "e.g. 00:00".len() && time.as_bytes()[7] == b':',
        "{time}"
    );
    // A field that is not a format has no example.
    assert!(
        root.query_selector("dt[title=timezone] + dd .example")
            .unwrap()
            .is_none()
    );
}

/// `iso` (a form every browser parses) as the browser's local date and time to the minute.
fn local(iso: &str) -> String {
    let d = js_sys::Date::new(&iso.into());
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// A date-time that names its zone reads in the browser's zone, whatever zone and precision the
/// CRM wrote it in; one without a zone (Zurmo's) reads as sent; anything else is not a date-time.
#[wasm_bindgen_test]
fn date_times_with_a_zone_read_in_the_browsers_time_zone() {
    use userdeck::components::field_value::datetime_text;

    let instant = local("2023-07-14T15:39:14Z");
    for sent in [
        "2023-07-14T15:39:14.000000Z",
        "2023-07-14T15:39:14Z",
        "2023-07-14T17:39:14+02:00",
        "2023-07-14T10:09:14-0530",
        "2023-07-14 15:39Z",
        "2023-07-14T20:39:14+05",
        // A fraction never rounds the minute up.
        "2023-07-14T15:39:59.999999Z",
    ] {
        assert_eq!(
            datetime_text(sent).as_deref(),
            Some(instant.as_str()),
            "{sent}"
        );
    }
    // A leap day, and a moment before 1970.
    assert_eq!(
        datetime_text("2024-02-29T23:59:59Z"),
        Some(local("2024-02-29T23:59:59Z"))
    );
    assert_eq!(
        datetime_text("1969-12-31T23:00:00Z"),
        Some(local("1969-12-31T23:00:00Z"))
    );
    // No zone: the CRM's own clock, shown as it is.
    assert_eq!(
        datetime_text("2023-04-27 06:53:35").as_deref(),
        Some("2023-04-27 06:53")
    );
    // Out of range: not converted (no date in month 13); not a date-time at all: None.
    assert_eq!(
        datetime_text("2023-13-01T00:00:00Z").as_deref(),
        Some("2023-13-01 00:00")
    );
    assert_eq!(datetime_text("2023-07-14"), None);
    assert_eq!(datetime_text("soon"), None);
}

/// A confirmation starts on Cancel, so an Enter pressed out of habit deletes nothing; one that
/// asks for a phrase starts in the phrase box.
#[wasm_bindgen_test]
async fn a_confirmation_starts_on_cancel_or_on_its_phrase() {
    use userdeck::components::dialog::ConfirmDialog;
    let focused_on = |phrase: &'static str| async move {
        let root = test_root();
        let _mounted = mount_to(root.clone(), move || {
            view! {
                <ConfirmDialog title="Delete user" confirm_label="Delete" phrase=phrase
                    on_confirm=Callback::new(|()| {}) on_cancel=Callback::new(|()| {})>
                    <p>"Delete Ana?"</p>
                </ConfirmDialog>
            }
        });
        tick().await;
        document()
            .active_element()
            .and_then(|e| e.get_attribute("data-testid"))
    };
    assert_eq!(focused_on("").await.as_deref(), Some("cancel"));
    assert_eq!(
        focused_on("Sales team").await.as_deref(),
        Some("confirm-phrase")
    );
}

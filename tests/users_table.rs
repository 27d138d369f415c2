//! The users table in headless Chromium: sorting, selection and keyboard use on plain data, then
//! the whole list against the sandbox: server paging and page size, server sort (App CRM) and
//! client-side sort (Capsule), with the query held the way the page holds it in the URL.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use serde_json::json;
use userdeck::components::users_table::{Column, DIM_AFTER_MS, UsersTable};
use userdeck::pages::users::UsersView;
use userdeck::state::connections::ConnectionInfo;
use userdeck::state::list_query::ListParams;
use userdeck::state::selection::Selection;
use userdeck_client::{Direction, Provider, Schema, User};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn users() -> Vec<User> {
    ["Ada", "Bob", "Cy"]
        .iter()
        .enumerate()
        .map(|(i, n)| User {
            id: i as u64 + 1,
            display_name: n.to_string(),
            email: Some(format!("{}@x.io", n.to_lowercase())),
            raw: json!({"name": n}).into(),
            ..User::default()
        })
        .collect()
}

fn no_sort() -> Signal<Option<(String, Direction)>> {
    Signal::stored(None)
}

fn columns() -> Vec<Column> {
    Schema::of(Provider::AppCrm)
        .columns()
        .take(2)
        .map(|spec| Column {
            spec: spec.clone(),
            sortable: true,
        })
        .collect()
}

#[wasm_bindgen_test]
async fn headers_sort_and_report_their_state() {
    let root = test_root();
    let sort = RwSignal::new(None::<(String, Direction)>);
    let clicked = RwSignal::new(Vec::<String>::new());
    let _m = mount_to(root.clone(), move || {
        view! {
            <UsersTable columns=columns() rows=users() sort=sort
                on_sort=Callback::new(move |k: String| {
                    clicked.update(|c| c.push(k.clone()));
                    sort.set(Some((k, Direction::Desc)));
                })
                on_open=Callback::new(|_| {}) selected=RwSignal::new(Selection::default())
                loading=false detail_base="/c/x/users" selectable=true/>
        }
    });
    tick().await;
    click(&query(&root, "[data-testid=sort-email]").unwrap());
    tick().await;
    assert_eq!(clicked.get_untracked(), ["email"]);
    let th = query(&root, "th[data-key=email]").unwrap();
    assert_eq!(th.get_attribute("aria-sort").as_deref(), Some("descending"));
    let other = query(&root, "th[data-key=name]").unwrap();
    assert_eq!(other.get_attribute("aria-sort").as_deref(), Some("none"));
}

/// A table of [`users`] whose rows can be selected, mounted in `root`: its selection, the user
/// it last opened, and the mount (kept for as long as the table is to stay).
fn selectable_table(
    root: &web_sys::HtmlElement,
) -> (RwSignal<Selection>, RwSignal<Option<u64>>, impl Sized) {
    let selected = RwSignal::new(Selection::default());
    let opened = RwSignal::new(None::<u64>);
    let mounted = mount_to(root.clone(), move || {
        view! {
            <UsersTable columns=columns() rows=users() sort=no_sort()
                on_sort=Callback::new(|_| {}) on_open=Callback::new(move |id| opened.set(Some(id)))
                selected=selected loading=false detail_base="/c/x/users" selectable=true/>
        }
    });
    (selected, opened, mounted)
}

#[wasm_bindgen_test]
async fn rows_select_one_by_one_all_at_once_and_by_keyboard() {
    let root = test_root();
    let (selected, opened, _m) = selectable_table(&root);
    tick().await;
    let boxes = query_all(&root, "tbody input[type=checkbox]");
    assert_eq!(boxes.len(), 3);
    click(&boxes[1]);
    tick().await;
    assert_eq!(selected.get_untracked(), Selection::from([2]));
    assert_eq!(query_all(&root, "tr.selected").len(), 1);

    click(&query(&root, "[data-testid=select-all]").unwrap());
    tick().await;
    assert_eq!(selected.get_untracked(), Selection::from([1, 2, 3]));
    click(&query(&root, "[data-testid=select-all]").unwrap());
    tick().await;
    assert!(selected.get_untracked().is_empty());

    // Arrow keys move between rows, Space selects, Enter opens.
    let first = query(&root, "tbody tr[data-index=\"0\"]").unwrap();
    key(&first, "ArrowDown");
    tick().await;
    let second = query(&root, "tbody tr[data-index=\"1\"]").unwrap();
    let active = document().active_element().unwrap();
    assert_eq!(active, second);
    assert_eq!(second.get_attribute("tabindex").as_deref(), Some("0"));
    key(&second, " ");
    tick().await;
    assert_eq!(selected.get_untracked(), Selection::from([2]));
    key(&second, "Enter");
    tick().await;
    assert_eq!(opened.get_untracked(), Some(2));
}

/// The rows' events are handled on the table's body for every row: a row focused by itself
/// becomes the one Tab comes back to (its link or checkbox taking the focus leaves that be), a
/// double-click anywhere in a row opens its user, and only a row's own checkbox selects it.
#[wasm_bindgen_test]
async fn a_focused_row_is_the_tab_stop_and_a_double_clicked_one_opens() {
    let root = test_root();
    let (selected, opened, _m) = selectable_table(&root);
    tick().await;
    let row = |i: usize| query(&root, &format!("tbody tr[data-index=\"{i}\"]")).unwrap();
    let tab_stops = || {
        (0..3)
            .map(|i| row(i).get_attribute("tabindex").unwrap_or_default())
            .collect::<Vec<_>>()
    };
    assert_eq!(tab_stops(), ["0", "-1", "-1"]);

    focus(&row(2));
    tick().await;
    assert_eq!(tab_stops(), ["-1", "-1", "0"]);
    focus(&query(&row(0), "input[type=checkbox]").unwrap());
    tick().await;
    assert_eq!(
        tab_stops(),
        ["-1", "-1", "0"],
        "a checkbox's focus moved the tab stop"
    );

    let cell = query_all(&row(1), "td").pop().unwrap();
    let init = web_sys::MouseEventInit::new();
    init.set_bubbles(true);
    let dblclick = web_sys::MouseEvent::new_with_mouse_event_init_dict("dblclick", &init).unwrap();
    cell.dispatch_event(&dblclick).unwrap();
    tick().await;
    assert_eq!(opened.get_untracked(), Some(2));

    // A change from anything in a row but its checkbox selects nothing.
    let change = web_sys::Event::new_with_event_init_dict("change", &{
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        init
    })
    .unwrap();
    cell.dispatch_event(&change).unwrap();
    tick().await;
    assert!(selected.get_untracked().is_empty());
    query(&row(1), "input[type=checkbox]")
        .unwrap()
        .dispatch_event(&change)
        .unwrap();
    tick().await;
    assert_eq!(selected.get_untracked(), Selection::from([2]));
}

/// Gives `el` the focus.
fn focus(el: &web_sys::Element) {
    el.dyn_ref::<web_sys::HtmlElement>()
        .expect("an HTML element")
        .focus()
        .unwrap();
}

#[wasm_bindgen_test]
async fn skeletons_show_on_first_load_and_old_rows_stay_during_a_refetch() {
    let root = test_root();
    let rows = RwSignal::new(Vec::<User>::new());
    let loading = RwSignal::new(true);
    let _m = mount_to(root.clone(), move || {
        view! {
            <UsersTable columns=columns() rows=rows sort=no_sort()
                on_sort=Callback::new(|_| {}) on_open=Callback::new(|_| {})
                selected=RwSignal::new(Selection::default()) loading=loading detail_base="/c/x/users"/>
        }
    });
    tick().await;
    assert!(!query_all(&root, "tr.skeleton").is_empty());
    rows.set(users());
    loading.set(false);
    tick().await;
    assert!(query_all(&root, "tr.skeleton").is_empty());
    loading.set(true);
    tick().await;
    assert_eq!(query_all(&root, "table.users-table tbody tr").len(), 3);
    // A quick answer never dims the table; a slow one does, and its answer undims it.
    assert!(query(&root, ".table-wrap.refreshing").is_none());
    loading.set(false);
    sleep_ms(DIM_AFTER_MS + 50).await;
    assert!(query(&root, ".table-wrap.refreshing").is_none());
    loading.set(true);
    sleep_ms(DIM_AFTER_MS + 50).await;
    assert!(query(&root, ".table-wrap.refreshing").is_some());
    assert_eq!(
        query(&root, "table")
            .unwrap()
            .get_attribute("aria-busy")
            .as_deref(),
        Some("true")
    );
    loading.set(false);
    tick().await;
    assert!(query(&root, ".table-wrap.refreshing").is_none());
}

fn info(provider: Provider) -> ConnectionInfo {
    ConnectionInfo::new_saved(&format!("t-{}", provider.as_str()), "Test", provider, "")
}

fn first_column(root: &web_sys::Element) -> Vec<String> {
    texts(root, "table.users-table tbody tr td:nth-child(2)")
}

/// Mounts the list the way the page does, with the URL query replaced by a signal.
async fn mount_list(
    provider: Provider,
    start: ListParams,
    wait_for_rows: bool,
) -> (
    web_sys::HtmlElement,
    RwSignal<ListParams>,
    Box<dyn std::any::Any>,
) {
    clear_storage();
    let root = test_root();
    let params = RwSignal::new(start);
    let client = client(provider);
    let handle = mount_to(root.clone(), move || {
        view! {
            <UsersView info=info(provider) client=StoredValue::new_local(client.clone()) params=params
                on_params=Callback::new(move |p| params.set(p)) on_open=Callback::new(|_| {})/>
        }
    });
    if wait_for_rows {
        let r = root.clone();
        until("the first rows", move || {
            !query_all(&r, "table.users-table tbody tr[data-id]").is_empty()
        })
        .await;
    }
    (root, params, Box::new(handle))
}

/// App CRM's list at 10 users a page, once its first rows are shown.
async fn mount_app_crm() -> (
    web_sys::HtmlElement,
    RwSignal<ListParams>,
    Box<dyn std::any::Any>,
) {
    let ten = ListParams {
        size: 10,
        ..ListParams::default()
    };
    mount_list(Provider::AppCrm, ten, true).await
}

#[wasm_bindgen_test]
async fn app_crm_pages_on_the_server_with_total_and_page_count() {
    let (root, params, _m) = mount_app_crm().await;
    assert_eq!(
        query_all(&root, "table.users-table tbody tr[data-id]").len(),
        10
    );
    let page_no = query(&root, "[data-testid=page-no]")
        .unwrap()
        .text_content()
        .unwrap();
    assert!(page_no.starts_with("Page 1 of "), "{page_no}");
    let first_page = first_column(&root);

    click(&query(&root, "[data-testid=next]").unwrap());
    tick().await;
    assert_eq!(params.get_untracked().page, 2);
    let r = root.clone();
    until("page 2", move || first_column(&r) != first_page).await;
    let range = query(&root, "[data-testid=range]")
        .unwrap()
        .text_content()
        .unwrap();
    assert!(range.starts_with("11–20 of "), "{range}");

    choose(&query(&root, "[data-testid=page-size]").unwrap(), "25");
    tick().await;
    assert_eq!(
        (params.get_untracked().size, params.get_untracked().page),
        (25, 1)
    );
    let r = root.clone();
    until("25 rows", move || {
        query_all(&r, "table.users-table tbody tr[data-id]").len() == 25
    })
    .await;
}

/// With a known page count the page number is a box: a typed page is fetched, a page past the
/// end goes to the last one, text that is no page number puts the current page back, and the
/// first and last page buttons jump to the ends.
#[wasm_bindgen_test]
async fn a_typed_page_number_jumps_there_within_the_pages() {
    let (root, params, _m) = mount_app_crm().await;
    let input = || -> web_sys::HtmlInputElement {
        query(&root, "[data-testid=page-input]")
            .expect("a page box when the page count is known")
            .unchecked_into()
    };
    let count: u32 = input()
        .get_attribute("max")
        .and_then(|m| m.parse().ok())
        .expect("the box's max is the page count");
    assert!(
        count > 3,
        "the sandbox has hundreds of users: {count} pages"
    );
    let enter = |value: &str| {
        let el = input();
        el.set_value(value);
        el.dispatch_event(&web_sys::Event::new("change").unwrap())
            .unwrap();
    };
    let shows_page = |page: u32| {
        let r = root.clone();
        move || {
            query(&r, "[data-testid=page-no]")
                .and_then(|p| p.text_content())
                .is_some_and(|t| t == format!("Page {page} of {count}"))
        }
    };

    enter("3");
    assert_eq!(params.get_untracked().page, 3);
    until("page 3", shows_page(3)).await;
    assert_eq!(input().value(), "3");

    enter(&(count + 50).to_string());
    assert_eq!(params.get_untracked().page, count, "kept within the pages");
    until("the last page", shows_page(count)).await;
    let last = query(&root, "[data-testid=last]").unwrap();
    assert_eq!(
        last.get_attribute("aria-disabled").as_deref(),
        Some("true"),
        "already on the last page"
    );
    click(&last);
    assert_eq!(params.get_untracked().page, count, "nowhere further");

    enter("2.5");
    assert_eq!(params.get_untracked().page, count, "not a page number");
    assert_eq!(
        input().value(),
        count.to_string(),
        "the current page is put back"
    );

    click(&query(&root, "[data-testid=first]").unwrap());
    assert_eq!(params.get_untracked().page, 1);
    until("page 1", shows_page(1)).await;
    // Pressed from the keyboard, "Last" keeps the focus on the last page, where it has nowhere
    // to go (a disabled button would have dropped it to the page).
    let last = query(&root, "[data-testid=last]").unwrap();
    press(&last);
    assert_eq!(params.get_untracked().page, count);
    until("the last page again", shows_page(count)).await;
    assert_keeps_the_focus(&last).await;
}

fn is_sorted(names: &[String], desc: bool) -> bool {
    let lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    lower
        .windows(2)
        .all(|w| if desc { w[0] >= w[1] } else { w[0] <= w[1] })
}

#[wasm_bindgen_test]
async fn app_crm_sorts_on_the_server_both_ways() {
    let (root, params, _m) = mount_app_crm().await;
    let before = first_column(&root);
    click(&query(&root, "[data-testid=sort-name]").unwrap());
    tick().await;
    assert_eq!(params.get_untracked().sort.as_deref(), Some("name"));
    click(&query(&root, "[data-testid=sort-name]").unwrap());
    tick().await;
    assert_eq!(params.get_untracked().dir, Direction::Desc);
    let r = root.clone();
    until("descending names", move || {
        let names = first_column(&r);
        names != before && names.len() == 10 && is_sorted(&names, true)
    })
    .await;
    let th = query(&root, "th[data-key=name]").unwrap();
    assert_eq!(th.get_attribute("aria-sort").as_deref(), Some("descending"));
}

#[wasm_bindgen_test]
async fn capsule_sorts_on_the_client_and_cannot_delete() {
    let (root, params, _m) = mount_list(Provider::Capsule, ListParams::default(), true).await;
    assert!(
        query(&root, "[data-testid=bulk-delete]").is_none(),
        "Capsule's API cannot delete users"
    );
    assert!(query(&root, "tbody input[type=checkbox]").is_none());
    click(&query(&root, "[data-testid=sort-username]").unwrap());
    tick().await;
    click(&query(&root, "[data-testid=sort-username]").unwrap());
    tick().await;
    assert_eq!(params.get_untracked().dir, Direction::Desc);
    let r = root.clone();
    until("usernames descending", move || {
        let names = texts(&r, "table.users-table tbody tr td:nth-child(2)");
        names.len() > 2 && is_sorted(&names, true)
    })
    .await;
    // Sorted here: Capsule's API has no sort, and no request asked it for one.
    let capsule: Vec<String> = resources()
        .into_iter()
        .map(|(url, _)| url)
        .filter(|url| url.contains("/capsule/api/v2/users"))
        .collect();
    assert!(!capsule.is_empty(), "the list came from Capsule");
    assert!(
        capsule
            .iter()
            .all(|url| !url.contains("sort") && !url.contains("order")),
        "{capsule:?}"
    );
}

#[wasm_bindgen_test]
async fn a_search_with_no_match_says_how_to_get_back() {
    let (root, params, _m) = mount_list(
        Provider::AppCrm,
        ListParams {
            q: "no-such-user-anywhere-zzz".into(),
            ..ListParams::default()
        },
        false,
    )
    .await;
    let r = root.clone();
    until("the empty state", move || {
        query(&r, "[data-testid=empty]").is_some()
    })
    .await;
    let clear = query(&root, "[data-testid=empty] button").unwrap();
    click(&clear);
    tick().await;
    assert_eq!(params.get_untracked().q, "");
}

#[wasm_bindgen_test]
async fn bulk_delete_asks_for_the_connection_name_then_deletes_the_selection() {
    // Two throwaway users to delete.
    let c = client(Provider::AppCrm);
    let stamp = js_sys::Date::now() as u64;
    let mut ids = Vec::new();
    for i in 0..2 {
        let mut draft = userdeck_client::UserDraft::default();
        draft.set("name", json!(format!("Bulk {stamp} {i}")));
        draft.set("email", json!(format!("bulk{stamp}{i}@example.com")));
        draft.set("password", json!("secret1"));
        draft.set("timezone", json!("UTC"));
        draft.set("date_format", json!("Y-m-d"));
        draft.set("time_format", json!("H:i"));
        ids.push(c.create(&draft).await.unwrap().id);
    }
    let (root, _params, _m) = mount_list(
        Provider::AppCrm,
        ListParams {
            q: format!("Bulk {stamp}"),
            ..ListParams::default()
        },
        true,
    )
    .await;
    let r = root.clone();
    until("both throwaway users", move || {
        query_all(&r, "tbody tr[data-id]").len() == 2
    })
    .await;
    click(&query(&root, "[data-testid=select-all]").unwrap());
    tick().await;
    let bulk_delete = query(&root, "[data-testid=bulk-delete]").unwrap();
    press(&bulk_delete);
    tick().await;
    // The dialog names who will go.
    assert_eq!(
        texts(&root, "[data-testid=delete-names]"),
        [format!("Bulk {stamp} 0, Bulk {stamp} 1")]
    );
    let confirm = query(&root, "[data-testid=confirm]").unwrap();
    assert!(
        confirm.has_attribute("disabled")
            || js_sys::Reflect::get(&confirm, &"disabled".into())
                .unwrap()
                .is_truthy()
    );
    type_into(
        &query(&root, "[data-testid=confirm-phrase]").unwrap(),
        "Test",
    );
    tick().await;
    // While the users go, "Delete selected" keeps the focus the dialog gave back, and says it
    // is busy.
    sandbox_latency(300).await;
    click(&query(&root, "[data-testid=confirm]").unwrap());
    assert_keeps_the_focus(&bulk_delete).await;
    assert_eq!(
        bulk_delete.get_attribute("aria-disabled").as_deref(),
        Some("true")
    );
    let r = root.clone();
    until("the list to empty", move || {
        query(&r, "[data-testid=empty]").is_some()
    })
    .await;
    sandbox_latency(0).await;
    // With nothing left to select the button is disabled, and the focus did not fall to the
    // page with it.
    assert!(focus_is_on("user-search"), "the search box has the focus");
    for id in ids {
        assert!(
            matches!(
                c.get(id).await,
                Err(userdeck_client::ApiError::NotFound { .. })
            ),
            "user {id} is gone"
        );
    }
}

#[wasm_bindgen_test]
async fn escape_closes_the_confirmation_without_deleting() {
    let (root, _params, _m) = mount_app_crm().await;
    let picked: u64 = query_all(&root, "tbody tr[data-id]")[0]
        .get_attribute("data-id")
        .and_then(|id| id.parse().ok())
        .expect("the first row's id");
    click(&query_all(&root, "tbody input[type=checkbox]")[0]);
    tick().await;
    // Opened from the keyboard: the button has the focus.
    let opener: web_sys::HtmlElement = query(&root, "[data-testid=bulk-delete]")
        .unwrap()
        .unchecked_into();
    opener.focus().unwrap();
    opener.click();
    tick().await;
    let dialog = query(&root, "[data-testid=confirm-dialog]").unwrap();
    let focused = || {
        document()
            .active_element()
            .and_then(|e| e.get_attribute("data-testid"))
    };
    assert_eq!(
        focused().as_deref(),
        Some("confirm-phrase"),
        "the phrase takes the focus"
    );

    // Tab goes round the dialog, from its last control (Cancel: Delete is disabled until the
    // phrase is typed) to its first (the search for who inherits the records), and back.
    let cancel: web_sys::HtmlElement = query(&dialog, "[data-testid=cancel]")
        .unwrap()
        .unchecked_into();
    cancel.focus().unwrap();
    key(&cancel, "Tab");
    assert_eq!(
        focused().as_deref(),
        Some("transfer-search"),
        "Tab after the last control"
    );
    shift_tab(&query(&dialog, "[data-testid=transfer-search]").unwrap());
    assert_eq!(
        focused().as_deref(),
        Some("cancel"),
        "Shift+Tab before the first control"
    );
    key(&cancel, "ArrowDown");
    assert_eq!(
        focused().as_deref(),
        Some("cancel"),
        "other keys leave the focus alone"
    );
    // The page's own shortcuts do not reach behind the dialog.
    key(&cancel, "/");
    key(&cancel, "?");
    tick().await;
    assert_eq!(
        focused().as_deref(),
        Some("cancel"),
        "/ and ? inside a dialog"
    );

    key(&dialog, "Escape");
    tick().await;
    assert!(query(&root, "[data-testid=confirm-dialog]").is_none());
    assert_eq!(
        focused().as_deref(),
        Some("bulk-delete"),
        "the focus goes back to the button that opened the dialog"
    );
    // Nothing was deleted: long enough after for a delete to have landed, the user is still in
    // the CRM, and still listed and selected.
    sleep_ms(300).await;
    assert!(
        client(Provider::AppCrm).get(picked).await.is_ok(),
        "user {picked} is still there"
    );
    let row = query(&root, &format!("tbody tr[data-id=\"{picked}\"]")).expect("the row stays");
    assert!(row.class_list().contains("selected"), "and stays selected");
}

/// A keydown of Shift+Tab on `el`.
fn shift_tab(el: &web_sys::Element) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Tab");
    init.set_shift_key(true);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    el.dispatch_event(&ev).unwrap();
}

/// `?` from a row opens the list of keyboard shortcuts under the table (Space only where rows
/// can be selected) and moves the focus to it; in the search box `?` is just text.
#[wasm_bindgen_test]
async fn question_mark_opens_the_keyboard_shortcuts() {
    let (root, _params, _m) = mount_app_crm().await;
    let help: web_sys::HtmlDetailsElement = query(&root, "[data-testid=shortcuts]")
        .expect("the keyboard shortcuts")
        .unchecked_into();
    assert!(!help.open(), "closed until asked for");
    key(&query(&root, "#user-search").unwrap(), "?");
    tick().await;
    assert!(!help.open(), "typed into the search, not a shortcut");

    let row: web_sys::HtmlElement = query(&root, "tbody tr[data-index=\"0\"]")
        .unwrap()
        .unchecked_into();
    row.focus().unwrap();
    key(&row, "?");
    tick().await;
    assert!(help.open());
    assert_eq!(
        document().active_element(),
        query(&help, "summary"),
        "the focus moves to the list"
    );
    let keys = texts(&help, "dt");
    assert!(keys.contains(&"/".to_string()), "{keys:?}");
    assert!(keys.contains(&"↑↓".to_string()), "{keys:?}");
    assert!(
        keys.contains(&"Space".to_string()),
        "App CRM rows can be selected: {keys:?}"
    );

    // Capsule's rows cannot be selected, so Space is not offered.
    let (root, _params, _m) = mount_list(Provider::Capsule, ListParams::default(), true).await;
    let keys = texts(&root, "[data-testid=shortcuts] dt");
    assert!(keys.contains(&"Enter".to_string()), "{keys:?}");
    assert!(!keys.contains(&"Space".to_string()), "{keys:?}");
}

#[wasm_bindgen_test]
async fn another_page_of_users_reuses_the_rows_and_follows_the_new_users() {
    let root = test_root();
    let rows = RwSignal::new(users());
    let selected = RwSignal::new(Selection::from([2]));
    let opened = RwSignal::new(None::<u64>);
    let _m = mount_to(root.clone(), move || {
        view! {
            <UsersTable columns=columns() rows=rows sort=no_sort()
                on_sort=Callback::new(|_| {}) on_open=Callback::new(move |id| opened.set(Some(id)))
                selected=selected loading=false detail_base="/c/x/users" selectable=true/>
        }
    });
    tick().await;
    let before = query_all(&root, "tbody tr");
    let cells_before = query_all(&root, "tbody td, tbody a, tbody input");
    assert_eq!(before.len(), 3);
    assert_eq!(query_all(&root, "tr.selected").len(), 1);

    // Other users in another order, as a sort or the next page brings them.
    let next: Vec<User> = ["Zoe", "Yan", "Bob"]
        .iter()
        .zip([9u64, 8, 2])
        .map(|(n, id)| User {
            id,
            display_name: n.to_string(),
            email: Some(format!("{}@x.io", n.to_lowercase())),
            raw: json!({"name": n}).into(),
            ..User::default()
        })
        .collect();
    rows.set(next);
    tick().await;
    let after = query_all(&root, "tbody tr");
    assert_eq!(after, before, "the same row elements show the new users");
    assert_eq!(
        query_all(&root, "tbody td, tbody a, tbody input"),
        cells_before,
        "and the same cells"
    );
    assert_eq!(first_column(&root), ["Zoe", "Yan", "Bob"]);
    let ids: Vec<_> = after
        .iter()
        .map(|r| r.get_attribute("data-id").unwrap_or_default())
        .collect();
    assert_eq!(ids, ["9", "8", "2"]);
    let link = query(&root, "tbody tr[data-index=\"0\"] a").unwrap();
    assert_eq!(link.get_attribute("href").as_deref(), Some("/c/x/users/9"));
    let boxes = query_all(&root, "tbody input[type=checkbox]");
    assert_eq!(
        boxes[1].get_attribute("aria-label").as_deref(),
        Some("Select Yan")
    );
    // The selection follows user 2 to its new row.
    let selected_rows = query_all(&root, "tr.selected");
    assert_eq!(selected_rows.len(), 1);
    assert_eq!(
        selected_rows[0].get_attribute("data-id").as_deref(),
        Some("2")
    );
    // Acting on a row acts on the user it shows now.
    click(&boxes[0]);
    tick().await;
    assert_eq!(selected.get_untracked(), Selection::from([2, 9]));
    key(&after[1], "Enter");
    tick().await;
    assert_eq!(opened.get_untracked(), Some(8));

    // Fewer users: the extra rows go.
    rows.set(users().into_iter().take(1).collect());
    tick().await;
    assert_eq!(query_all(&root, "tbody tr").len(), 1);
    assert_eq!(first_column(&root), ["Ada"]);
}

#[wasm_bindgen_test]
async fn leaving_the_page_during_a_slow_refetch_is_safe() {
    let root = test_root();
    let r = root.clone();
    let panicked = panicked_during(async move {
        let slot = std::rc::Rc::new(std::cell::Cell::new(None::<RwSignal<bool>>));
        let inside = slot.clone();
        let mounted = mount_to(r.clone(), move || {
            // Owned by the mounted view, as the list page's own signals are: gone when it goes.
            let loading = RwSignal::new(false);
            inside.set(Some(loading));
            view! {
                <UsersTable columns=columns() rows=users() sort=no_sort()
                    on_sort=Callback::new(|_| {}) on_open=Callback::new(|_| {})
                    selected=RwSignal::new(Selection::default()) loading=loading detail_base="/c/x/users"/>
            }
        });
        tick().await;
        slot.get().unwrap().set(true);
        tick().await;
        // The user leaves before the refetch has run long enough to dim the table.
        drop(mounted);
        sleep_ms(DIM_AFTER_MS + 100).await;
    })
    .await;
    assert!(
        !panicked,
        "the dim timer read the signals of a page that was gone"
    );
    assert!(query(&root, "table").is_none());
}

//! The whole app in headless Chromium: a saved connection (its token remembered in this tab)
//! opened by URL shows its users with the sort the URL names, and the query survives in the URL.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use leptos::mount::mount_to;
use leptos::prelude::*;
use userdeck::app::App;
use userdeck::state::connections::{ConnectionInfo, SAVED_KEY, SECRET_PREFIX, SignIn};
use userdeck_client::Provider;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_shared_link_opens_the_list_with_its_query() {
    clear_storage();
    let info = ConnectionInfo {
        sign_in: SignIn::Token,
        ..ConnectionInfo::new_saved(
            "caps",
            "Capsule demo",
            Provider::Capsule,
            &format!("{}/capsule", sandbox()),
        )
    };
    let w = window();
    w.local_storage()
        .unwrap()
        .unwrap()
        .set_item(SAVED_KEY, &serde_json::to_string(&vec![info]).unwrap())
        .unwrap();
    w.session_storage()
        .unwrap()
        .unwrap()
        .set_item(&format!("{SECRET_PREFIX}caps"), CAPSULE_TOKEN)
        .unwrap();
    w.history()
        .unwrap()
        .push_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some("/c/caps/users?sort=username&dir=desc&size=10"),
        )
        .unwrap();

    let root = test_root();
    let _m = mount_to(root.clone(), App);
    let r = root.clone();
    until("the users", move || {
        query_all(&r, "table.users-table tbody tr[data-id]").len() == 10
    })
    .await;
    let th = query(&root, "th[data-key=username]").unwrap();
    assert_eq!(th.get_attribute("aria-sort").as_deref(), Some("descending"));
    let names = texts(&root, "table.users-table tbody tr td:nth-child(2)");
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| std::cmp::Reverse(n.to_lowercase()));
    assert_eq!(names, sorted);
    assert!(query(&root, "[data-testid=status-chip]").is_some());

    // Sorting by another column puts it in the URL.
    click(&query(&root, "[data-testid=sort-name]").unwrap());
    let until_url = || w.location().search().unwrap_or_default();
    until("the URL to change", || until_url().contains("sort=name")).await;
    assert!(!until_url().contains("dir=desc"));
}

//! The search bar in headless Chromium: a burst of keystrokes sends one search after the pause,
//! Enter searches at once, Escape clears; and a superseded search is cancelled so only the latest
//! result reaches the list.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use userdeck::components::search_bar::SearchBar;
use userdeck::pages::users::UsersView;
use userdeck::state::connections::ConnectionInfo;
use userdeck::state::list_query::ListParams;
use userdeck_client::{ApiError, Provider, UserQuery};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts the bar the way the list does: what it reports becomes the search in force.
fn mount_bar(delay_ms: u64) -> (web_sys::HtmlElement, RwSignal<Vec<String>>, impl Sized) {
    let root = test_root();
    let sent = RwSignal::new(Vec::<String>::new());
    let current = RwSignal::new(String::new());
    let handle = mount_to(root.clone(), move || {
        view! {
            <SearchBar value=current delay_ms=delay_ms on_search=Callback::new(move |t: String| {
                sent.update(|s| s.push(t.clone()));
                current.set(t);
            })/>
        }
    });
    (root, sent, handle)
}

#[wasm_bindgen_test]
async fn a_burst_of_keystrokes_sends_one_search_after_the_pause() {
    let (root, sent, _m) = mount_bar(150);
    tick().await;
    let input = query(&root, "[data-testid=search]").unwrap();
    for typed in ["a", "ad", "ada"] {
        type_into(&input, typed);
        sleep_ms(20).await;
    }
    assert!(
        sent.get_untracked().is_empty(),
        "nothing is sent while typing"
    );
    let s = sent;
    until("the debounced search", move || {
        !s.get_untracked().is_empty()
    })
    .await;
    sleep_ms(300).await;
    assert_eq!(sent.get_untracked(), ["ada"]);
}

#[wasm_bindgen_test]
async fn enter_searches_at_once_and_escape_clears() {
    let (root, sent, _m) = mount_bar(5_000);
    tick().await;
    let input = query(&root, "[data-testid=search]").unwrap();
    type_into(&input, "bob");
    key(&input, "Enter");
    tick().await;
    assert_eq!(sent.get_untracked(), ["bob"]);
    key(&input, "Escape");
    tick().await;
    assert_eq!(sent.get_untracked(), ["bob", ""]);
    assert_eq!(input.dyn_ref_input().value(), "");
}

trait InputExt {
    fn dyn_ref_input(&self) -> &web_sys::HtmlInputElement;
}
impl InputExt for web_sys::Element {
    fn dyn_ref_input(&self) -> &web_sys::HtmlInputElement {
        wasm_bindgen::JsCast::dyn_ref(self).unwrap()
    }
}

/// The client call the list uses for search-as-you-type: a newer search cancels the older one.
#[wasm_bindgen_test]
async fn a_superseded_search_is_cancelled() {
    let client = client(Provider::AppCrm);
    let older = UserQuery::page(1, 10).text("a");
    let newer = UserQuery::page(1, 10).text("admin@appcrm.example");
    let (first, second) =
        futures_join(client.list_latest(&older), client.list_latest(&newer)).await;
    assert_eq!(first, Err(ApiError::Cancelled));
    let page = second.expect("the latest search answers");
    assert!(
        page.items
            .iter()
            .any(|u| u.email.as_deref() == Some("admin@appcrm.example"))
    );
}

async fn futures_join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    use std::pin::pin;
    use std::task::Poll;
    let mut a = pin!(a);
    let mut b = pin!(b);
    let mut ra = None;
    let mut rb = None;
    std::future::poll_fn(move |cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready((ra.take().unwrap(), rb.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Typing in the list's search box ends with the rows of the last text typed, in the URL query.
#[wasm_bindgen_test]
async fn typing_in_the_list_filters_it_through_the_url_query() {
    clear_storage();
    let root = test_root();
    let params = RwSignal::new(ListParams {
        size: 10,
        ..ListParams::default()
    });
    let c = client(Provider::AppCrm);
    let _m = mount_to(root.clone(), move || {
        view! {
            <UsersView info=ConnectionInfo::new_saved("s", "S", Provider::AppCrm, "") client=StoredValue::new_local(c.clone())
                params=params on_params=Callback::new(move |p| params.set(p)) on_open=Callback::new(|_| {})/>
        }
    });
    let r = root.clone();
    until("rows", move || {
        query_all(&r, "tbody tr[data-id]").len() == 10
    })
    .await;
    let input = query(&root, "[data-testid=search]").unwrap();
    for typed in ["a", "ad", "adm", "admin@appcrm.example"] {
        type_into(&input, typed);
        sleep_ms(10).await;
    }
    let p = params;
    until("the query in the URL", move || {
        p.get_untracked().q == "admin@appcrm.example"
    })
    .await;
    let r = root.clone();
    until("one matching row", move || {
        let rows = query_all(&r, "tbody tr[data-id]");
        rows.len() == 1
            && rows[0]
                .text_content()
                .unwrap_or_default()
                .contains("admin@appcrm.example")
    })
    .await;
}

/// `/` focuses the search box from anywhere but a text field.
#[wasm_bindgen_test]
async fn slash_focuses_the_search_box() {
    clear_storage();
    let root = test_root();
    let params = RwSignal::new(ListParams::default());
    let c = client(Provider::Capsule);
    let _m = mount_to(root.clone(), move || {
        view! {
            <UsersView info=ConnectionInfo::new_saved("k", "K", Provider::Capsule, "") client=StoredValue::new_local(c.clone())
                params=params on_params=Callback::new(move |p| params.set(p)) on_open=Callback::new(|_| {})/>
        }
    });
    tick().await;
    key(&document().body().unwrap(), "/");
    tick().await;
    let active = document().active_element().unwrap();
    assert_eq!(active.id(), "user-search");
}

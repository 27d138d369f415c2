//! Component tests of the app in headless Chromium (wasm-bindgen-test), run by `cargo xtask test`.
#![cfg(target_arch = "wasm32")]

use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use userdeck::components::connection_list::ConnectionList;
use userdeck::state::connections::{ConnectionInfo, fetch_declared};
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

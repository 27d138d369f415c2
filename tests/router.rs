//! The router in headless Chromium: a plain click on a link to this origin moves the page
//! without reloading it, the clicks the browser should handle are left to it, going to the
//! address one is on adds no history entry, Back moves the app with the address bar, and a page
//! is drawn again only when the address moves to another page.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use userdeck::router::{Go, Location, Page, Pages, Router, use_location};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Hands the test the router's [`Location`].
#[component]
fn Probe(seen: Arc<Mutex<Option<Location>>>) -> impl IntoView {
    if let Ok(mut seen) = seen.lock() {
        *seen = Some(use_location());
    }
}

/// Clicks `el` (plain, or with Ctrl held) and answers whether the router took the click, as
/// seen by a window listener that runs after the router's. That listener cancels every click it
/// sees, so a link the router leaves alone does not take the test page away.
fn router_takes(el: &web_sys::Element, ctrl: bool) -> bool {
    let taken = Rc::new(Cell::new(None));
    let seen = taken.clone();
    let guard = window_event_listener(leptos::ev::click, move |ev| {
        seen.set(Some(ev.default_prevented()));
        ev.prevent_default();
    });
    let init = web_sys::MouseEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_ctrl_key(ctrl);
    let ev = web_sys::MouseEvent::new_with_mouse_event_init_dict("click", &init).unwrap();
    el.dispatch_event(&ev).unwrap();
    guard.remove();
    taken.get().expect("the click reached the window")
}

fn history_length() -> u32 {
    window().history().unwrap().length().unwrap()
}

/// Mounts `body` under a [`Router`], the address bar at `path`. Answers the test's root, the
/// router's [`Location`], and the owner and mount to clean up and drop at the end.
async fn mount_at(
    path: &str,
    body: fn() -> AnyView,
) -> (web_sys::HtmlElement, Location, Owner, impl Sized) {
    window()
        .history()
        .unwrap()
        .push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path))
        .unwrap();
    let root = test_root();
    let seen = Arc::new(Mutex::new(None));
    let probe = seen.clone();
    let owner = Owner::new();
    let mounted = owner.with(|| {
        mount_to(root.clone(), move || {
            let probe = probe.clone();
            view! { <Router><Probe seen=probe/>{body()}</Router> }
        })
    });
    tick().await;
    let location = seen.lock().ok().and_then(|s| *s).expect("the probe ran");
    (root, location, owner, mounted)
}

fn links() -> AnyView {
    view! {
        <a id="plain" href="/c/x/users/5?q=a+b">"plain"</a>
        <a href="/connections"><b id="inner">"inside a link"</b></a>
        <a id="blank" href="/c/x/me" target="_blank">"new tab"</a>
        <a id="download" href="/c/x/me" download>"download"</a>
        <a id="external" href="/c/x/me" rel="external">"external"</a>
        <a id="elsewhere" href="https://example.com/c/x/me">"another origin"</a>
        <a id="anchor" href="#inner">"an anchor here"</a>
    }
    .into_any()
}

#[wasm_bindgen_test]
async fn links_are_followed_in_the_page_and_back_returns() {
    let (root, location, owner, mounted) = mount_at("/start", links).await;
    let link = |id: &str| query(&root, &format!("#{id}")).unwrap();
    assert_eq!(
        location.route.get_untracked().page,
        Page::NotFound,
        "/start"
    );

    // A plain click: the app moves, with the route's parameters and the query decoded.
    let entries = history_length();
    assert!(router_takes(&link("plain"), false));
    assert_eq!(window().location().pathname().unwrap(), "/c/x/users/5");
    let route = location.route.get_untracked();
    assert_eq!(
        (route.page, route.conn_id(), route.user_id()),
        (Page::User, "x".into(), Some(5))
    );
    let query: Vec<(String, String)> = location
        .query
        .with_untracked(|q| q.pairs().map(|(k, v)| (k.into(), v.into())).collect());
    assert_eq!(query, [("q".to_string(), "a b".to_string())]);
    assert_eq!(history_length(), entries + 1);

    // The same address again replaces its entry: Back need not step over it.
    assert!(router_takes(&link("plain"), false));
    assert_eq!(history_length(), entries + 1);

    // A click on what a link holds is the link's.
    assert!(router_takes(&link("inner"), false));
    assert_eq!(location.route.get_untracked().page, Page::Connections);

    // The browser's own: a new tab, a download, an external or another origin's link, an
    // anchor on this page, and any click with a modifier.
    for id in ["blank", "download", "external", "elsewhere", "anchor"] {
        assert!(!router_takes(&link(id), false), "{id}");
    }
    assert!(!router_takes(&link("plain"), true), "ctrl-click");
    assert_eq!(location.pathname.get_untracked(), "/connections");

    // Back and Forward move the app with the address bar.
    window().history().unwrap().back().unwrap();
    until("Back to reach the app", || {
        location.route.get_untracked().page == Page::User
    })
    .await;
    assert_eq!(location.pathname.get_untracked(), "/c/x/users/5");

    // Replacing leaves the number of entries as it was.
    let entries = history_length();
    location.navigate(
        "/c/x/me",
        Go {
            replace: true,
            scroll: false,
        },
    );
    assert_eq!(location.route.get_untracked().page, Page::Me);
    assert_eq!(history_length(), entries);

    // Once unmounted, the router no longer takes clicks.
    drop(mounted);
    owner.cleanup();
    let stray = document().create_element("a").unwrap();
    stray.set_attribute("href", "/c/y/users").unwrap();
    document().body().unwrap().append_child(&stray).unwrap();
    assert!(!router_takes(&stray, false), "a router left listening");
    stray.remove();
    root.unchecked_ref::<web_sys::Element>().remove();
}

/// How many times [`counted_view`] drew a page.
static DRAWN: AtomicUsize = AtomicUsize::new(0);

fn counted_view(page: Page) -> AnyView {
    DRAWN.fetch_add(1, Ordering::Relaxed);
    view! { <p id="page">{format!("{page:?}")}</p> }.into_any()
}

#[wasm_bindgen_test]
async fn a_page_is_drawn_again_only_for_another_page() {
    let pages = || view! { <Pages view=counted_view/> }.into_any();
    let (root, location, owner, mounted) = mount_at("/c/x/users", pages).await;
    let shown = || texts(&root, "#page");
    let drawn = || DRAWN.load(Ordering::Relaxed);
    assert_eq!((shown(), drawn()), (vec!["Users".to_string()], 1));
    // Another query, another connection, a trailing slash: the same page, not drawn again.
    for to in [
        "/c/x/users?sort=name",
        "/c/x/users?sort=name&page=2",
        "/c/y/users",
        "/c/y/users/",
    ] {
        location.navigate(to, Go::default());
        tick().await;
        assert_eq!(drawn(), 1, "{to}");
    }
    assert_eq!(location.route.get_untracked().conn_id(), "y");
    // Another page is.
    location.navigate("/c/y/users/3", Go::default());
    tick().await;
    assert_eq!((shown(), drawn()), (vec!["User".to_string()], 2));
    location.navigate("/c/y/users/4", Go::default());
    tick().await;
    assert_eq!(drawn(), 2, "another user");
    location.navigate("/nowhere", Go::default());
    tick().await;
    assert_eq!((shown(), drawn()), (vec!["NotFound".to_string()], 3));
    drop(mounted);
    owner.cleanup();
    root.unchecked_ref::<web_sys::Element>().remove();
}

//! Helpers shared by the browser tests: a fresh mount point, DOM events, waiting for the app to
//! settle, and clients for the sandbox (whose URL is baked in at compile time; a missing URL is a
//! failure, not a skip).
#![allow(dead_code)]

use std::rc::Rc;
use std::time::Duration;

use userdeck::state::session::ApiClient;
use userdeck_client::{Auth, BrowserTransport, Client, Connection, Provider};
use wasm_bindgen::JsCast;

/// The sandbox the tests talk to.
pub fn sandbox() -> &'static str {
    match option_env!("USERDECK_SANDBOX_URL") {
        Some(url) => url,
        None => {
            panic!("USERDECK_SANDBOX_URL is not set: run the browser tests with `cargo xtask test`")
        }
    }
}

/// Demo credentials of the sandbox (crates/userdeck-sandbox `demo`).
pub const APPCRM_ADMIN_TOKEN: &str = "1|sAnDbOxAdMiNtOkEn0123456789abcdefABCDEFgh";
pub const APPCRM_ADMIN_EMAIL: &str = "admin@appcrm.example";
pub const APPCRM_ADMIN_PASSWORD: &str = "admin-password";
pub const CAPSULE_TOKEN: &str = "sandbox-capsule-pat-6f1c2e9b8d7a4c3e9f0a1b2c3d4e5f60";
pub const ZURMO_USERNAME: &str = "super";
pub const ZURMO_PASSWORD: &str = "super";

/// A client for one of the sandbox's CRMs, signed in as its admin.
pub fn client(provider: Provider) -> Rc<ApiClient> {
    let root = sandbox().trim_end_matches('/');
    let base = match provider {
        Provider::Zurmo => format!("{root}/zurmo/index.php"),
        other => format!("{root}/{}", other.as_str()),
    };
    let auth = match provider {
        Provider::AppCrm => Auth::Token(APPCRM_ADMIN_TOKEN.into()),
        Provider::Capsule => Auth::Token(CAPSULE_TOKEN.into()),
        Provider::Zurmo => Auth::UsernamePassword {
            username: ZURMO_USERNAME.into(),
            password: ZURMO_PASSWORD.into(),
        },
    };
    Rc::new(Client::new(
        Connection {
            provider,
            base_url: base,
            auth,
        },
        BrowserTransport::new(),
    ))
}

/// A fresh element in the page for one test to mount into.
pub fn test_root() -> web_sys::HtmlElement {
    let document = leptos::prelude::document();
    let root = document.create_element("section").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    root.unchecked_into()
}

pub fn query(root: &web_sys::Element, selector: &str) -> Option<web_sys::Element> {
    root.query_selector(selector).unwrap()
}

pub fn query_all(root: &web_sys::Element, selector: &str) -> Vec<web_sys::Element> {
    let nodes = root.query_selector_all(selector).unwrap();
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::Element>().ok())
        .collect()
}

pub fn texts(root: &web_sys::Element, selector: &str) -> Vec<String> {
    query_all(root, selector)
        .iter()
        .map(|e| e.text_content().unwrap_or_default())
        .collect()
}

/// Types `value` into an input (or textarea) and fires `input`.
pub fn type_into(el: &web_sys::Element, value: &str) {
    if let Some(input) = el.dyn_ref::<web_sys::HtmlInputElement>() {
        input.set_value(value);
    } else if let Some(area) = el.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        area.set_value(value);
    }
    el.dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

/// Chooses `value` in a select and fires `change`.
pub fn choose(el: &web_sys::Element, value: &str) {
    el.dyn_ref::<web_sys::HtmlSelectElement>()
        .unwrap()
        .set_value(value);
    el.dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
}

pub fn click(el: &web_sys::Element) {
    el.dyn_ref::<web_sys::HtmlElement>().unwrap().click();
}

/// Dispatches a bubbling keydown of `key` on `el`; false when a handler cancelled it (kept the
/// browser from its default, such as Enter submitting a form).
pub fn key(el: &web_sys::Element, key: &str) -> bool {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    el.dispatch_event(&ev).unwrap()
}

pub async fn sleep_ms(ms: u64) {
    gloo_timers::future::sleep(Duration::from_millis(ms)).await;
}

/// Turns one of the sandbox's test switches (`/_sandbox/{switch}`); it serves every test, so
/// whoever turns one turns it back.
async fn sandbox_switch(switch: &str) {
    let url = format!("{}/_sandbox/{switch}", sandbox());
    let answer = gloo_net::http::Request::post(&url).send().await.unwrap();
    assert!(answer.ok(), "the sandbox refused {switch}");
}

/// How many calls the sandbox's CRMs have taken since it started. Counted as they arrive, so a
/// second request still on its way back is counted too, which the page's resource timing
/// ([`answered`]) lists only once its answer has ended.
pub async fn sandbox_requests() -> u64 {
    let url = format!("{}/_sandbox/stats", sandbox());
    let stats: serde_json::Value = gloo_net::http::Request::get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["requests"]
        .as_u64()
        .expect("the sandbox counts its requests")
}

/// Makes the sandbox answer every call `ms` later.
pub async fn sandbox_latency(ms: u64) {
    sandbox_switch(&format!("latency?ms={ms}")).await;
}

/// Makes the sandbox fail that share of its answers (0 to 1): a 500, a dropped connection or a
/// cut body.
pub async fn sandbox_faults(rate: f64) {
    sandbox_switch(&format!("faults?rate={rate}")).await;
}

/// Makes the sandbox's CORS answers expose App CRM's `X-App-Version` to the page, or not (as a
/// Laravel app's default CORS does not).
pub async fn sandbox_exposes_app_version(exposed: bool) {
    sandbox_switch(&format!("cors?expose-app-version={exposed}")).await;
}

/// Makes the sandbox allow the page's origin (CORS), or refuse it as a CRM that does not know
/// the site would.
pub async fn sandbox_allows_this_site(allowed: bool) {
    sandbox_switch(&format!("cors?allow={allowed}")).await;
}

/// Presses `el` as a keyboard user does: the focus on it, then its action. (`click` alone
/// leaves the focus where it was, so nothing could be seen of where a press sends it.)
pub fn press(el: &web_sys::Element) {
    let el = el.dyn_ref::<web_sys::HtmlElement>().unwrap();
    let _ = el.focus();
    el.click();
}

/// Whether `el` has the focus.
pub fn has_focus(el: &web_sys::Element) -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .is_some_and(|focused| focused == *el)
}

/// Whether the element with id `id` has the focus.
pub fn focus_is_on(id: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .is_some_and(|focused| focused.id() == id)
}

/// Fails unless `el` still has the focus once the browser has updated the rendering twice: a
/// disabled element loses it only then.
pub async fn assert_keeps_the_focus(el: &web_sys::Element) {
    two_frames().await;
    let focused = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element());
    assert!(
        has_focus(el),
        "{:?} has the focus",
        focused.map(|e| e.tag_name())
    );
}

/// Waits for the browser to update the rendering twice: what it does only then (moving the focus
/// off an element that was disabled under it) has been done.
pub async fn two_frames() {
    for _ in 0..2 {
        let frame = js_sys::Promise::new(&mut |done, _| {
            let _ = web_sys::window().unwrap().request_animation_frame(&done);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(frame).await;
    }
}

/// Waits until `ready` holds (polling every 25 ms, giving up after ~10 s so a broken test fails
/// with its own message rather than the runner's timeout).
pub async fn until(what: &str, mut ready: impl FnMut() -> bool) {
    for _ in 0..400 {
        if ready() {
            return;
        }
        sleep_ms(25).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Waits until `selector` matches under `root`, and gives the first match.
pub async fn appears(root: &web_sys::Element, selector: &str) -> web_sys::Element {
    let r = root.clone();
    until(selector, move || query(&r, selector).is_some()).await;
    query(root, selector).unwrap()
}

/// Clears both web storages between tests that use them.
pub fn clear_storage() {
    let w = leptos::prelude::window();
    w.local_storage().unwrap().unwrap().clear().unwrap();
    w.session_storage().unwrap().unwrap().clear().unwrap();
}

/// Runs `scenario` with a panic hook that only records: in the browser build a panic aborts the
/// whole app, so a scenario that leaves a page mid-request must not panic at all, even in a
/// task or timer that outlives the page. Answers whether anything panicked.
pub async fn panicked_during<F: std::future::Future<Output = ()>>(scenario: F) -> bool {
    use std::sync::atomic::{AtomicBool, Ordering};
    static PANICKED: AtomicBool = AtomicBool::new(false);
    PANICKED.store(false, Ordering::SeqCst);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| PANICKED.store(true, Ordering::SeqCst)));
    scenario.await;
    std::panic::set_hook(previous);
    PANICKED.load(Ordering::SeqCst)
}

/// Every request the page has made, in order: its URL and when its answer ended (0 while it is
/// still in flight), from the page's resource timing.
pub fn resources() -> Vec<(String, f64)> {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
    let entries: js_sys::Function = js_sys::Reflect::get(&performance, &"getEntriesByType".into())
        .unwrap()
        .into();
    let list: js_sys::Array = entries
        .call1(&performance, &"resource".into())
        .unwrap()
        .into();
    list.iter()
        .map(|e| {
            let name = js_sys::Reflect::get(&e, &"name".into())
                .ok()
                .and_then(|n| n.as_string())
                .unwrap_or_default();
            let end = js_sys::Reflect::get(&e, &"responseEnd".into())
                .ok()
                .and_then(|n| n.as_f64())
                .unwrap_or(0.0);
            (name, end)
        })
        .collect()
}

/// How many requests to a URL ending in `path` have been answered in full (resource timing).
pub fn answered(path: &str) -> usize {
    resources()
        .iter()
        .filter(|(name, end)| name.split('?').next().unwrap_or("").ends_with(path) && *end > 0.0)
        .count()
}

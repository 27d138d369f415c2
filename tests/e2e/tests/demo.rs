//! Journey 1: open the app, pick a demo connection, see the first page of users, on every
//! connection the demo declares ready.

use userdeck_e2e::{Browser, Stack};

/// The wasm, JS and CSS files of `dist/` a first visit needs: all but the split-off modules.
fn first_visit_files() -> Vec<String> {
    let dist = userdeck_e2e::dist_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dist)
        .unwrap_or_else(|e| panic!("cannot list {dist:?}: {e}"))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("_bg.wasm") || n.ends_with(".js") || n.ends_with(".css"))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_lists_the_demo_connections() {
    let stack = Stack::start().await;
    let browser = Browser::start().await;
    browser.open(&stack.app_url()).await;
    browser.wait_for("li.connection", "demo connections").await;
    let mut providers = browser.texts("li.connection .provider").await;
    providers.sort();
    // One ready connection per CRM, Capsule through OAuth, and two the user signs in to.
    assert_eq!(
        providers,
        [
            "App CRM",
            "App CRM",
            "Capsule CRM",
            "Capsule CRM",
            "Zurmo",
            "Zurmo"
        ]
    );
    assert_eq!(browser.client.title().await.expect("title"), "Userdeck");
    // Nothing the page asked for failed: no missing asset, no /favicon.ico (the icon is inline).
    let failed = browser
        .eval(
            "return performance.getEntriesByType('resource') \
               .filter(e => e.responseStatus >= 400) \
               .map(e => `${e.name} ${e.responseStatus}`);",
            "resource timings",
        )
        .await;
    assert_eq!(failed, serde_json::json!([]), "failed requests");
    let icon = browser
        .eval(
            "const l = document.querySelector('link[rel~=icon]'); return l && l.href.slice(0, 15);",
            "the icon",
        )
        .await;
    assert_eq!(icon, serde_json::json!("data:image/png;"), "an inline icon");
    // The proxy put the list in the page: the app did not have to ask for it.
    let asked = browser
        .eval(
            "return performance.getEntriesByType('resource') \
               .filter(e => e.name.includes('/api/connections')).length;",
            "resource timings",
        )
        .await;
    assert_eq!(asked, 0, "requests for /api/connections");
    // The browser took each asset as the Brotli file `cargo xtask dist` wrote beside it (a fifth
    // smaller than gzip for the wasm): its encoded size is that file's.
    let sizes = browser
        .eval(
            "return Object.fromEntries(performance.getEntriesByType('resource') \
               .filter(e => /\\.(wasm|js|css)$/.test(e.name)) \
               .map(e => [new URL(e.name).pathname.slice(1), e.encodedBodySize]));",
            "resource timings",
        )
        .await;
    let sizes = sizes.as_object().cloned().unwrap_or_default();
    // Exactly the first visit's files: the main wasm, its JS and the split loader it imports,
    // and the CSS; none of the modules split off for other screens (named `*_split_*.wasm`,
    // `*_chunk_*.wasm`).
    let mut fetched: Vec<String> = sizes.keys().cloned().collect();
    fetched.sort();
    assert_eq!(fetched, first_visit_files(), "files fetched: {sizes:?}");
    for (name, size) in sizes {
        let br = userdeck_e2e::dist_dir().join(format!("{name}.br"));
        let on_disk = std::fs::metadata(&br).map(|m| m.len()).ok();
        assert_eq!(size.as_u64(), on_disk, "{name}: bytes received vs {br:?}");
    }
    browser.close().await;
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn picking_a_connection_shows_its_first_page_of_users() {
    let stack = Stack::start().await;
    let browser = Browser::start().await;
    for (id, name) in [
        ("capsule", "Capsule CRM (sandbox)"),
        ("appcrm", "App CRM (sandbox)"),
        ("zurmo", "Zurmo (sandbox)"),
    ] {
        browser.open(&stack.app_url()).await;
        // Pick it the way a person does: by its name in the list.
        let link = format!("li.connection a[href='/c/{id}/users']");
        browser
            .wait_for_text(&link, name, "the connection's link")
            .await;
        browser.click(&link).await;
        let rows = browser.rows(&format!("{id}: first page")).await;
        assert_eq!(
            rows.len(),
            25,
            "{id}: the first page holds the default 25 rows"
        );
        browser
            .wait_for_text("[data-testid=range]", "1–25", &format!("{id}: range"))
            .await;
        // The header says where the admin is: "Users", and only it.
        let marked = browser
            .eval(
                "return [...document.querySelectorAll('header a[aria-current]')] \
                   .map(a => a.textContent + '=' + a.getAttribute('aria-current'));",
                "read the header's current link",
            )
            .await;
        assert_eq!(marked, serde_json::json!(["Users=page"]), "{id}: header");
        // The load's milestones (src/milestones.rs, read by ui-bench), once each and in order.
        let milestones = browser
            .eval(
                "return ['userdeck:started', 'userdeck:list-requested', 'userdeck:list-received'] \
                   .map(n => performance.getEntriesByName(n).map(m => m.startTime));",
                "read the milestones",
            )
            .await;
        let at: Vec<Vec<f64>> = serde_json::from_value(milestones).expect("three lists of times");
        assert!(
            at.iter().all(|m| m.len() == 1) && at[0][0] <= at[1][0] && at[1][0] <= at[2][0],
            "{id}: milestones {at:?}"
        );
    }
    browser.close().await;
    stack.shutdown().await;
}

/// Keyboard focus is visible: each of the first stops the Tab key reaches on the users page
/// (the skip link, the header, the search box, the toolbar) wears the focus ring, in both themes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_focus_is_visible_at_every_stop() {
    let stack = Stack::start().await;
    let browser = Browser::start().await;
    for theme in [userdeck_e2e::Theme::Light, userdeck_e2e::Theme::Dark] {
        browser.set_theme(theme).await;
        browser.open(&stack.url("/c/appcrm/users")).await;
        browser.rows("appcrm: first page").await;
        let mut seen = Vec::new();
        for _ in 0..10 {
            // A real key press, so the browser treats the focus as keyboard focus.
            for kind in ["keyDown", "keyUp"] {
                browser
                    .devtools(
                        "Input.dispatchKeyEvent",
                        serde_json::json!({"type": kind, "key": "Tab", "code": "Tab",
                            "windowsVirtualKeyCode": 9}),
                    )
                    .await;
            }
            let stop = browser
                .eval(
                    "const e = document.activeElement, s = getComputedStyle(e);\
                     return [e.tagName + ':' + (e.textContent || e.getAttribute('aria-label') || e.name || '').trim().slice(0, 20),\
                             s.outlineStyle, parseFloat(s.outlineWidth)];",
                    "read the focused element",
                )
                .await;
            let (what, style, width) = (
                stop[0].as_str().unwrap_or("?").to_string(),
                stop[1].as_str().unwrap_or("").to_string(),
                stop[2].as_f64().unwrap_or(0.0),
            );
            assert!(
                what != "BODY:" && style != "none" && width >= 2.0,
                "{theme:?}: focus on {what} is not visible ({style} {width}px); stops so far {seen:?}"
            );
            seen.push(what);
        }
    }
    browser.close().await;
    stack.shutdown().await;
}

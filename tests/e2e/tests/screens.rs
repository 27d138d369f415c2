//! Every main screen, in light and dark: a screenshot of each kept in the test output, and no
//! serious or critical axe-core violation in either theme.

use userdeck_e2e::{Browser, Stack, Theme};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_screens_in_light_and_dark_pass_axe() {
    let stack = Stack::start().await;
    let browser = Browser::start().await;
    let screens = [
        ("connections-home", "/", "li.connection"),
        ("connections-manage", "/connections", "main h1"),
        (
            "users-appcrm",
            "/c/appcrm/users",
            "table.users-table[aria-busy=false] tbody tr[data-id]",
        ),
        (
            "users-zurmo",
            "/c/zurmo/users",
            "table.users-table[aria-busy=false] tbody tr[data-id]",
        ),
        (
            "users-capsule",
            "/c/capsule/users",
            "table.users-table[aria-busy=false] tbody tr[data-id]",
        ),
        (
            "detail-appcrm",
            "/c/appcrm/users/1",
            "[data-testid=user-fields]",
        ),
        (
            "detail-zurmo",
            "/c/zurmo/users/1",
            "[data-testid=user-fields]",
        ),
        (
            "edit-appcrm",
            "/c/appcrm/users/1/edit",
            "[data-testid=user-form] #f-name",
        ),
        (
            "edit-zurmo",
            "/c/zurmo/users/1/edit",
            "[data-testid=user-form] #f-username",
        ),
        (
            "create-appcrm",
            "/c/appcrm/users/new",
            "[data-testid=user-form]",
        ),
        (
            "profile-appcrm",
            "/c/appcrm/me",
            "[data-testid=user-fields]",
        ),
        (
            "profile-capsule",
            "/c/capsule/me",
            "[data-testid=user-fields]",
        ),
        (
            "sign-in-appcrm",
            "/c/appcrm-signin/users",
            "[data-testid=sign-in]",
        ),
    ];
    let mut problems = Vec::new();
    for (name, path, ready) in screens {
        browser.set_theme(Theme::Light).await;
        browser.open(&stack.url(path)).await;
        browser.wait_for(ready, name).await;
        browser.screenshot_themes(name).await;
        for theme in [Theme::Light, Theme::Dark] {
            browser.set_theme(theme).await;
            for v in browser.serious_a11y_violations().await {
                problems.push(format!("{name} ({theme:?}): {v:?}"));
            }
        }
    }
    // The same console on a phone: the users list, a form, a user's page and the profile.
    browser
        .client
        .set_window_size(390, 844)
        .await
        .expect("a phone-sized window");
    for (name, path, ready) in [
        (
            "phone-users-appcrm",
            "/c/appcrm/users",
            "table.users-table[aria-busy=false] tbody tr[data-id]",
        ),
        // Capsule's pending users have never signed in: their cards have an empty field.
        (
            "phone-users-capsule",
            "/c/capsule/users",
            "table.users-table[aria-busy=false] tbody tr[data-id]",
        ),
        (
            "phone-edit-appcrm",
            "/c/appcrm/users/1/edit",
            "[data-testid=user-form] #f-name",
        ),
        // A user's page: long values (the avatar's URL, the raw JSON) stay inside the screen.
        (
            "phone-detail-appcrm",
            "/c/appcrm/users/1",
            "[data-testid=user-fields]",
        ),
        (
            "phone-profile-zurmo",
            "/c/zurmo/me",
            "[data-testid=user-fields]",
        ),
    ] {
        browser.set_theme(Theme::Light).await;
        browser.open(&stack.url(path)).await;
        browser.wait_for(ready, name).await;
        let overflow = browser
            .eval(
"return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
"measure the page width",
)
.await;
        // The page itself must not scroll sideways.
        assert!(
            overflow.as_i64().unwrap_or(i64::MAX) <= 0,
            "{name}: the page is {overflow} px wider than a phone"
        );
        // The header takes three lines, not one per item: brand and Connections, the
        // switcher, then the connection's pages and its chip.
        let header = browser
            .eval(
                "const at = s => { const e = document.querySelector('.app-header ' + s);
                                   return e ? Math.round(e.getBoundingClientRect().top) : null; };
                 const tops = [...document.querySelector('.app-header').children]
                   .map(e => e.getBoundingClientRect()).filter(r => r.height > 0)
                   .map(r => Math.round(r.top));
                 const lines = tops.filter((t, i) => tops.every((u, j) => j >= i || Math.abs(u - t) > 8));
                 return { lines: lines.length, brand: at('.brand'), manage: at('.manage'),
                          nav: at('.conn-nav'), chip: at('.status-chip') };",
                "measure the header",
            )
            .await;
        assert_eq!(header["lines"], 3, "{name}: header lines: {header}");
        let same_line = |a: &str, b: &str| {
            (header[a].as_i64().unwrap_or(-100) - header[b].as_i64().unwrap_or(100)).abs() <= 8
        };
        assert!(
            same_line("brand", "manage") && same_line("nav", "chip"),
            "{name}: the header's items are not paired as laid out: {header}"
        );
        if name.starts_with("phone-users-") {
            // Nor the table: each user is a card with every chosen column that has a value, one
            // under another; a column without a value is left out, not shown as a bare label.
            let cards = browser
                .eval(
                    "const wrap = document.querySelector('.table-wrap');
                     const rows = [...document.querySelectorAll('table.users-table tbody tr[data-id]')];
                     const out = { inner: wrap.scrollWidth - wrap.clientWidth, rows: rows.length,
                                   cells: 0, hidden: 0, empty: 0, emptyShown: 0, stacked: true };
                     for (const row of rows) {
                       const cells = [...row.querySelectorAll('td:not(.select)')];
                       const lead = cells[0].getBoundingClientRect();
                       out.cells = Math.max(out.cells, cells.length);
                       for (const c of cells.slice(1)) {
                         const shown = c.getClientRects().length > 0;
                         if (c.textContent.trim() === '') {
                           out.empty += 1;
                           if (shown) out.emptyShown += 1;
                         } else if (!shown) {
                           out.hidden += 1;
                         } else if (c.getBoundingClientRect().top < lead.bottom - 1) {
                           out.stacked = false;
                         }
                       }
                     }
                     return out;",
                    "measure the users cards",
                )
                .await;
            assert_eq!(
                cards["inner"], 0,
                "{name}: the table scrolls sideways: {cards}"
            );
            assert!(cards["cells"].as_u64() >= Some(3), "{cards}");
            assert_eq!(
                cards["hidden"], 0,
                "{name}: a chosen column with a value is hidden: {cards}"
            );
            assert_eq!(
                cards["stacked"], true,
                "{name}: a card's fields are not stacked: {cards}"
            );
            assert_eq!(
                cards["emptyShown"], 0,
                "{name}: a card shows a label without a value: {cards}"
            );
            if name == "phone-users-capsule" {
                assert!(
                    cards["empty"].as_u64() >= Some(1),
                    "{name}: no card has an empty field, so none is checked: {cards}"
                );
            }
        }
        browser.screenshot_themes(name).await;
        for theme in [Theme::Light, Theme::Dark] {
            browser.set_theme(theme).await;
            for v in browser.serious_a11y_violations().await {
                problems.push(format!("{name} ({theme:?}): {v:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "axe-core: {problems:#?}");
    browser.close().await;
    stack.shutdown().await;
}

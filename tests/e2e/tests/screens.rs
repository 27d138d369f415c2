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
    // The same console on a phone: the users list and a form.
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
        (
            "phone-edit-appcrm",
            "/c/appcrm/users/1/edit",
            "[data-testid=user-form] #f-name",
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
        if name == "phone-users-appcrm" {
            // Nor the table: each user is a card with every chosen column, one under another.
            let card = browser
                .eval(
                    "const wrap = document.querySelector('.table-wrap');
                     const row = document.querySelector('table.users-table tbody tr[data-id]');
                     const cells = [...row.querySelectorAll('td:not(.select)')];
                     const lead = cells[0].getBoundingClientRect();
                     return {
                       inner: wrap.scrollWidth - wrap.clientWidth,
                       cells: cells.length,
                       hidden: cells.filter(c => c.getClientRects().length === 0).length,
                       stacked: cells.slice(1).every(c => c.getBoundingClientRect().top >= lead.bottom - 1),
                     };",
                    "measure a users card",
                )
                .await;
            assert_eq!(
                card["inner"], 0,
                "{name}: the table scrolls sideways: {card}"
            );
            assert!(card["cells"].as_u64() >= Some(3), "{card}");
            assert_eq!(
                card["hidden"], 0,
                "{name}: a chosen column is hidden: {card}"
            );
            assert_eq!(
                card["stacked"], true,
                "{name}: a card's fields are not stacked: {card}"
            );
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

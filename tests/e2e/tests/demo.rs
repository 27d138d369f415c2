//! The demo serves a page that loads: the wasm app starts, asks the proxy for its connections and
//! lists the sandbox CRMs, with no serious accessibility problem on that screen.

use userdeck_e2e::{Browser, app_url};

#[tokio::test]
async fn demo_page_loads_and_lists_the_sandbox_connections() {
    let browser = Browser::start().await;
    browser.client.goto(&app_url()).await.expect("open the app");
    browser.wait_for("li.connection", "demo connections").await;
    let names = browser
        .client
        .find_all(fantoccini::Locator::Css("li.connection .provider"))
        .await
        .expect("connection rows");
    let mut providers = Vec::new();
    for n in names {
        providers.push(n.text().await.expect("provider text"));
    }
    providers.sort();
    // The demo declares one connection per sandbox CRM, plus Capsule through OAuth.
    assert_eq!(
        providers,
        ["App CRM", "Capsule CRM", "Capsule CRM", "Zurmo"]
    );
    assert_eq!(browser.client.title().await.expect("title"), "Userdeck");
    browser.screenshot("demo-home").await;

    let violations = browser.serious_a11y_violations().await;
    assert!(violations.is_empty(), "connection screen: {violations:#?}");
    browser.close().await;
}

/// Each ready demo connection shows the first page of its users: the app's client talks to the
/// sandbox through the proxy, which adds the credentials.
#[tokio::test]
async fn each_ready_connection_shows_its_first_page_of_users() {
    let browser = Browser::start().await;
    for id in ["capsule", "appcrm", "zurmo"] {
        browser
            .client
            .goto(&format!("{}/c/{id}/users", app_url()))
            .await
            .expect("open the users page");
        browser
            .wait_for(
                "table.users-table tbody tr[data-id]",
                &format!("{id} users"),
            )
            .await;
        let rows = browser
            .client
            .find_all(fantoccini::Locator::Css(
                "table.users-table tbody tr[data-id]",
            ))
            .await
            .expect("rows");
        assert!(rows.len() >= 10, "{id}: only {} rows", rows.len());
        browser.screenshot(&format!("users-{id}")).await;
        let violations = browser.serious_a11y_violations().await;
        assert!(violations.is_empty(), "{id} users screen: {violations:#?}");
    }
    browser.close().await;
}

//! Journeys 2–9 of issue 7, per CRM where the CRM supports them: the release bundle, the proxy
//! and the sandbox, driven in headless Chromium. Each test owns its stack (see `Stack`), so one
//! that breaks the sandbox cannot disturb another.

use std::time::Duration;

use userdeck_e2e::{Browser, Stack};
use userdeck_sandbox::{Crm, demo};

fn query_of(url: &url::Url) -> Vec<(String, String)> {
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn has(url: &url::Url, key: &str, value: &str) -> bool {
    url.query_pairs().any(|(k, v)| k == key && v == value)
}

/// Journey 2: page, sort, change page size, reload — the same view comes back from the URL; Back
/// returns to the previous view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_sorting_and_page_size_live_in_the_url() {
    let stack = Stack::start().await;
    let browser = Browser::start().await;
    // Capsule sorts on the client; App CRM and Zurmo on the server.
    for (id, key) in [
        ("appcrm", "email"),
        ("zurmo", "username"),
        ("capsule", "email"),
    ] {
        browser.open(&stack.url(&format!("/c/{id}/users"))).await;
        let first = browser.rows(&format!("{id}: first page")).await;

        browser.click("[data-testid=next]").await;
        let second = browser
            .rows_other_than(&first, &format!("{id}: page 2"))
            .await;
        browser
            .wait_for_url(&format!("{id}: page=2 in the URL"), |u| has(u, "page", "2"))
            .await;
        assert!(
            second.iter().all(|r| !first.contains(r)),
            "{id}: page 2 repeats page 1"
        );

        browser.click(&format!("[data-testid=sort-{key}]")).await;
        browser
            .wait_for_url(&format!("{id}: sort in the URL"), |u| has(u, "sort", key))
            .await;
        let ascending = browser
            .rows_other_than(&second, &format!("{id}: sorted"))
            .await;
        browser.click(&format!("[data-testid=sort-{key}]")).await;
        browser
            .wait_for_url(&format!("{id}: descending in the URL"), |u| {
                has(u, "sort", key) && has(u, "dir", "desc")
            })
            .await;
        browser
            .rows_other_than(&ascending, &format!("{id}: sorted descending"))
            .await;
        let values = browser.column(key).await;
        let initials: Vec<char> = values
            .iter()
            .map(|v| v.to_lowercase().chars().next().unwrap_or(' '))
            .collect();
        assert!(
            initials.windows(2).all(|w| w[0] >= w[1]),
            "{id}: {key} is not descending: {values:?}"
        );
        let default_size = browser.row_ids().await;

        browser.select("[data-testid=page-size]", "50").await;
        browser
            .wait_for_url(&format!("{id}: size in the URL"), |u| has(u, "size", "50"))
            .await;
        browser
            .wait_until(
                "document.querySelectorAll('table.users-table[aria-busy=false] tbody tr[data-id]').length === 50",
                &format!("{id}: 50 rows"),
            )
            .await;
        let view = browser.row_ids().await;
        let url = browser.client.current_url().await.expect("url");
        assert_eq!(
            &view[..default_size.len()],
            &default_size[..],
            "{id}: a bigger page starts with the same users"
        );

        browser.client.refresh().await.expect("reload");
        let reloaded = browser.rows(&format!("{id}: after reload")).await;
        assert_eq!(reloaded, view, "{id}: reload shows the same rows");
        let after = browser.client.current_url().await.expect("url");
        assert_eq!(
            query_of(&after),
            query_of(&url),
            "{id}: reload keeps the query"
        );
        assert_eq!(
            browser.value("[data-testid=page-size]").await,
            "50",
            "{id}: the page-size control follows the URL"
        );

        browser.client.back().await.expect("back");
        browser
            .wait_for_url(&format!("{id}: back to the default page size"), |u| {
                !has(u, "size", "50") && has(u, "dir", "desc")
            })
            .await;
        browser
            .wait_until(
                "document.querySelectorAll('table.users-table[aria-busy=false] tbody tr[data-id]').length === 25",
                &format!("{id}: 25 rows after Back"),
            )
            .await;
        assert_eq!(
            browser.row_ids().await,
            default_size,
            "{id}: Back shows the previous view"
        );
    }
    browser.close().await;
    stack.shutdown().await;
}

/// Journey 3: search as you type, then an advanced search — App CRM with "any", Zurmo with the
/// structure `(1 or 2) and 3`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searching_as_you_type_and_with_conditions() {
    let stack = Stack::start().await;
    let browser = Browser::start().await;

    // App CRM: type part of someone's email; every row then matches it.
    browser.open(&stack.url("/c/appcrm/users")).await;
    let first = browser.rows("appcrm: first page").await;
    let emails = browser.column("email").await;
    let needle: String = emails[2].chars().take(5).collect();
    browser.fill("[data-testid=search]", &needle).await;
    browser
        .wait_for_url("appcrm: q in the URL", |u| has(u, "q", &needle))
        .await;
    browser
        .rows_other_than(&first, "appcrm: search results")
        .await;
    let found = browser.texts("table.users-table tbody tr[data-id]").await;
    assert!(
        found
            .iter()
            .all(|row| row.to_lowercase().contains(&needle.to_lowercase())),
        "appcrm: rows not matching {needle:?}: {found:?}"
    );
    assert!(
        found.iter().any(|row| row.contains(&emails[2])),
        "appcrm: the user searched for is missing"
    );

    // Any of two conditions: two known users' emails.
    browser.open(&stack.url("/c/appcrm/users")).await;
    browser.rows("appcrm: list again").await;
    let (a, b) = (emails[3].clone(), emails[6].clone());
    browser.click("[data-testid=toggle-advanced]").await;
    browser.click("[data-testid=add-condition]").await;
    browser.click("[data-testid=add-condition]").await;
    for (n, value) in [(1, &a), (2, &b)] {
        let row = format!("[data-testid=condition]:nth-child({n})");
        browser
            .select(&format!("{row} select[aria-label=Field]"), "email")
            .await;
        browser
            .select(&format!("{row} select[aria-label=Operator]"), "eq")
            .await;
        browser
            .fill(&format!("{row} input[aria-label=Value]"), value)
            .await;
    }
    browser.click("[data-testid=match-any]").await;
    browser.click("[data-testid=apply-search]").await;
    browser
        .wait_for_url("appcrm: conditions in the URL", |u| has(u, "match", "any"))
        .await;
    browser
        .wait_until(
            "document.querySelectorAll('table.users-table[aria-busy=false] tbody tr[data-id]').length === 2",
            "appcrm: exactly the two users",
        )
        .await;
    let mut shown = browser.column("email").await;
    shown.sort();
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(shown, expected);

    // Zurmo: (username starts with a, or with b) and last name starts with a letter seen.
    browser.open(&stack.url("/c/zurmo/users")).await;
    browser.rows("zurmo: first page").await;
    browser.click("[data-testid=toggle-advanced]").await;
    for _ in 0..3 {
        browser.click("[data-testid=add-condition]").await;
    }
    for (n, field, value) in [
        (1, "username", "a"),
        (2, "username", "b"),
        (3, "lastName", ""),
    ] {
        let row = format!("[data-testid=condition]:nth-child({n})");
        browser
            .select(&format!("{row} select[aria-label=Field]"), field)
            .await;
        browser
            .select(&format!("{row} select[aria-label=Operator]"), "starts")
            .await;
        browser
            .fill(&format!("{row} input[aria-label=Value]"), value)
            .await;
    }
    // First "1 or 2" alone (an empty condition is ignored), to learn a last name to narrow by.
    browser.fill("[data-testid=structure]", "1 or 2").await;
    browser.click("[data-testid=apply-search]").await;
    browser
        .wait_for_url("zurmo: structure in the URL", |u| {
            has(u, "structure", "1 or 2")
        })
        .await;
    browser
        .wait_until(
            "document.querySelector('table.users-table[aria-busy=false]') && Array.from(document.querySelectorAll('table.users-table tbody tr[data-id]')).length > 0 && location.search.includes('structure')",
            "zurmo: a or b",
        )
        .await;
    let either = browser.row_ids().await;
    let last_names = browser.column("lastName").await;
    let letter: String = last_names[0].chars().take(1).collect();
    browser
        .fill(
            "[data-testid=condition]:nth-child(3) input[aria-label=Value]",
            &letter,
        )
        .await;
    browser
        .fill("[data-testid=structure]", "(1 or 2) and 3")
        .await;
    browser.click("[data-testid=apply-search]").await;
    browser
        .wait_for_url("zurmo: the full structure in the URL", |u| {
            has(u, "structure", "(1 or 2) and 3")
        })
        .await;
    let narrowed = browser
        .rows_other_than(&either, "zurmo: (1 or 2) and 3")
        .await;
    assert!(!narrowed.is_empty());
    let usernames = browser.column("username").await;
    let last_names = browser.column("lastName").await;
    for (u, l) in usernames.iter().zip(&last_names) {
        assert!(
            u.starts_with('a') || u.starts_with('b'),
            "zurmo: {u} matches neither 1 nor 2"
        );
        assert!(
            l.to_lowercase().starts_with(&letter.to_lowercase()),
            "zurmo: {l} does not match 3 ({letter})"
        );
    }
    browser.close().await;
    stack.shutdown().await;
}

/// Fills the App CRM create form except the email.
async fn fill_appcrm_user(browser: &Browser, name: &str) {
    browser.fill("#f-name", name).await;
    browser.fill("#f-password", "e2e-secret-1").await;
    browser
        .fill("#f-password_confirmation", "e2e-secret-1")
        .await;
    browser.select("#f-timezone", "Europe/Lisbon").await;
    browser.select("#f-date_format", "Y-m-d").await;
    browser.select("#f-time_format", "H:i").await;
}

/// The user id in a `/c/{conn}/users/{id}` address.
fn user_id_in(url: &url::Url) -> Option<u64> {
    let mut parts = url.path().trim_end_matches('/').rsplit('/');
    let id = parts.next()?.parse().ok()?;
    (parts.next()? == "users").then_some(id)
}

/// Journey 4: create a user with a validation error fixed in place, edit it, delete it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_editing_and_deleting_a_user() {
    let stack = Stack::start().await;
    let browser = Browser::start().await;

    // App CRM: the server refuses a taken email (422); the message lands on the field and
    // nothing typed is lost.
    browser.open(&stack.url("/c/appcrm/users")).await;
    browser.rows("appcrm list").await;
    browser.click("[data-testid=new-user]").await;
    browser
        .wait_for("[data-testid=user-form]", "the create form")
        .await;
    fill_appcrm_user(&browser, "Erin Endtoend").await;
    browser.fill("#f-email", demo::APPCRM_ADMIN_EMAIL).await;
    browser.click("[data-testid=save]").await;
    let error = browser.text("[data-testid=error-email]").await;
    assert!(error.to_lowercase().contains("taken"), "appcrm: {error}");
    assert_eq!(browser.value("#f-name").await, "Erin Endtoend");
    assert_eq!(browser.value("#f-timezone").await, "Europe/Lisbon");
    browser.fill("#f-email", "erin.endtoend@example.com").await;
    browser.click("[data-testid=save]").await;
    let url = browser
        .wait_for_url("appcrm: the new user's page", |u| user_id_in(u).is_some())
        .await;
    browser
        .wait_for_text(
            "[data-testid=user-fields]",
            "erin.endtoend@example.com",
            "appcrm: detail",
        )
        .await;

    browser.click("[data-testid=edit-user]").await;
    browser
        .wait_for("[data-testid=user-form]", "the edit form")
        .await;
    browser
        .wait_until(
            "document.querySelector('#f-name').value === 'Erin Endtoend'",
            "appcrm: edit form filled",
        )
        .await;
    browser.fill("#f-name", "Erin Edited").await;
    browser.click("[data-testid=save]").await;
    browser
        .wait_for_url("appcrm: back on the user", |u| u.path() == url.path())
        .await;
    browser
        .wait_for_text(
            "[data-testid=user-fields]",
            "Erin Edited",
            "appcrm: the edit shows",
        )
        .await;

    browser.click("[data-testid=delete-user]").await;
    browser
        .wait_for("[data-testid=confirm-dialog]", "appcrm: confirm")
        .await;
    // App CRM offers to transfer the user's records: to the signed-in admin, found by name
    // (the status chip shows it).
    let chip = browser.text("[data-testid=status-chip]").await;
    let admin = chip
        .trim_start_matches('●')
        .split('·')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let surname = admin.rsplit(' ').next().unwrap_or_default().to_string();
    assert!(!surname.is_empty(), "no signed-in user in the chip: {chip}");
    browser
        .fill("[data-testid=transfer-search]", &surname)
        .await;
    browser.click("[data-testid=pick-user]").await;
    browser
        .wait_for_text(
            "[data-testid=transfer-choice]",
            "Records go to",
            "appcrm: heir chosen",
        )
        .await;
    browser.click("[data-testid=confirm]").await;
    browser
        .wait_for_url("appcrm: back to the list", |u| {
            u.path() == "/c/appcrm/users"
        })
        .await;
    browser.open(url.as_str()).await;
    browser
        .wait_for_text(
            "[role=alert]",
            "they may have been deleted",
            "appcrm: the deleted user is gone",
        )
        .await;

    // Bulk: select two users, hand their records to the admin, confirm by typing the
    // connection's name.
    browser.open(&stack.url("/c/appcrm/users")).await;
    let rows = browser.rows("appcrm: list for a bulk delete").await;
    let doomed = [rows[4].clone(), rows[5].clone()];
    for id in &doomed {
        browser
            .click(&format!(
                "tr[data-id='{id}'] td.select input[type=checkbox]"
            ))
            .await;
    }
    browser
        .wait_for_text("[data-testid=bulk-delete]", "(2)", "appcrm: two selected")
        .await;
    browser.click("[data-testid=bulk-delete]").await;
    browser
        .fill("[data-testid=transfer-search]", &surname)
        .await;
    browser.click("[data-testid=pick-user]").await;
    browser
        .wait_for_text(
            "[data-testid=transfer-choice]",
            "Records go to",
            "appcrm: bulk heir",
        )
        .await;
    browser
        .fill("[data-testid=confirm-phrase]", "App CRM (sandbox)")
        .await;
    browser.click("[data-testid=confirm]").await;
    browser
        .wait_for_text(
            "[data-testid=toasts]",
            "Deleted 2 of 2 users",
            "appcrm: bulk result",
        )
        .await;
    browser
        .wait_until(
            &format!(
                "!document.querySelector(\"tr[data-id='{}']\") && !document.querySelector(\"tr[data-id='{}']\") && document.querySelector('table.users-table[aria-busy=false] tbody tr[data-id]')",
                doomed[0], doomed[1]
            ),
            "appcrm: the deleted rows are gone",
        )
        .await;

    // Zurmo: the client's own check (usernames are lowercase) stops the first try.
    browser.open(&stack.url("/c/zurmo/users/new")).await;
    browser
        .wait_for("[data-testid=user-form]", "zurmo: create form")
        .await;
    browser.fill("#f-username", "Zed.E2E").await;
    browser.fill("#f-firstName", "Zed").await;
    browser.fill("#f-lastName", "Endtoend").await;
    browser
        .fill("#f-primaryEmail-emailAddress", "zed.e2e@example.com")
        .await;
    browser.click("[data-testid=save]").await;
    let error = browser.text("[data-testid=error-username]").await;
    assert!(error.contains("lowercase"), "zurmo: {error}");
    assert_eq!(browser.value("#f-lastName").await, "Endtoend");
    browser.fill("#f-username", "zed.e2e").await;
    browser.click("[data-testid=save]").await;
    let url = browser
        .wait_for_url("zurmo: the new user's page", |u| user_id_in(u).is_some())
        .await;
    browser
        .wait_for_text("[data-testid=user-fields]", "zed.e2e", "zurmo: detail")
        .await;
    browser.click("[data-testid=edit-user]").await;
    browser
        .wait_until("document.querySelector('#f-lastName') && document.querySelector('#f-lastName').value === 'Endtoend'", "zurmo: edit form filled")
        .await;
    browser.fill("#f-jobTitle", "Tester").await;
    browser.click("[data-testid=save]").await;
    browser
        .wait_for_url("zurmo: back on the user", |u| u.path() == url.path())
        .await;
    browser
        .wait_for_text(
            "[data-testid=user-fields]",
            "Tester",
            "zurmo: the edit shows",
        )
        .await;
    browser.click("[data-testid=delete-user]").await;
    browser.click("[data-testid=confirm]").await;
    browser
        .wait_for_url("zurmo: back to the list", |u| u.path() == "/c/zurmo/users")
        .await;
    browser.open(url.as_str()).await;
    browser
        .wait_for_text(
            "[role=alert]",
            "they may have been deleted",
            "zurmo: the deleted user is gone",
        )
        .await;
    browser.close().await;
    stack.shutdown().await;
}

/// Journey 5: "Connect with Capsule" through the consent page and back; denying says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capsule_oauth_consent_and_denial() {
    let stack = Stack::start().await;
    let browser = Browser::start().await;
    browser.open(&stack.url("/c/capsule-oauth/users")).await;

    browser.click("[data-testid=oauth-start]").await;
    browser
        .wait_for("button[value=deny]", "the consent page")
        .await;
    browser.click("button[value=deny]").await;
    browser
        .wait_for_url("back in the app after denying", |u| {
            u.path() == "/c/capsule-oauth/users" && has(u, "oauth", "error")
        })
        .await;
    let message = browser.text("[data-testid=oauth-error]").await;
    assert!(message.contains("Capsule did not connect"), "{message}");
    assert!(
        message.len() > "Capsule did not connect: ".len() + 10,
        "no reason given: {message}"
    );

    browser.click("[data-testid=oauth-start]").await;
    browser
        .wait_for("button[value=allow]", "the consent page again")
        .await;
    browser.click("button[value=allow]").await;
    browser
        .wait_for_url("back in the app after allowing", |u| {
            has(u, "oauth", "signed_in")
        })
        .await;
    let rows = browser.rows("capsule-oauth: users after consent").await;
    assert_eq!(rows.len(), 25);
    browser.close().await;
    stack.shutdown().await;
}

/// Journey 6: sessions that end mid-form. App CRM: the token is revoked — the app asks for a
/// sign-in and the form comes back as it was. Zurmo: the session expires — the client signs in
/// again with what the user entered, and the save goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ending_mid_form_loses_nothing() {
    let stack = Stack::start().await;
    let browser = Browser::start().await;

    browser.open(&stack.url("/c/appcrm-signin/users/new")).await;
    browser
        .wait_for("[data-testid=sign-in]", "appcrm: sign-in")
        .await;
    browser
        .fill("[data-testid=secret]", demo::APPCRM_ADMIN_TOKEN)
        .await;
    browser
        .click("[data-testid=sign-in] button[type=submit]")
        .await;
    browser
        .wait_for("[data-testid=user-form]", "appcrm: the form after sign-in")
        .await;
    fill_appcrm_user(&browser, "Sam Session").await;
    browser.fill("#f-email", "sam.session@example.com").await;

    stack.sandbox().expire_sessions(Crm::AppCrm);
    browser.click("[data-testid=save]").await;
    browser
        .wait_for_text(
            ".sign-in-panel",
            "unsaved changes in forms are kept",
            "appcrm: asked to sign in again, and why",
        )
        .await;
    // Every token was revoked: sign in with email and password instead.
    browser.click("[data-testid=method-password]").await;
    browser
        .fill("[data-testid=login]", demo::APPCRM_ADMIN_EMAIL)
        .await;
    browser
        .fill("[data-testid=secret]", demo::APPCRM_ADMIN_PASSWORD)
        .await;
    browser
        .click("[data-testid=sign-in] button[type=submit]")
        .await;
    browser
        .wait_for("[data-testid=draft-restored]", "appcrm: the draft is back")
        .await;
    assert_eq!(browser.value("#f-name").await, "Sam Session");
    assert_eq!(browser.value("#f-email").await, "sam.session@example.com");
    assert_eq!(browser.value("#f-date_format").await, "Y-m-d");
    // Passwords are never kept in drafts: typed again.
    browser.fill("#f-password", "e2e-secret-1").await;
    browser
        .fill("#f-password_confirmation", "e2e-secret-1")
        .await;
    browser.click("[data-testid=save]").await;
    browser
        .wait_for_url("appcrm: saved after signing in again", |u| {
            user_id_in(u).is_some()
        })
        .await;
    browser
        .wait_for_text(
            "[data-testid=user-fields]",
            "sam.session@example.com",
            "appcrm: detail",
        )
        .await;

    browser.open(&stack.url("/c/zurmo-signin/users/new")).await;
    browser
        .wait_for("[data-testid=sign-in]", "zurmo: sign-in")
        .await;
    browser
        .fill("[data-testid=login]", demo::ZURMO_USERNAME)
        .await;
    browser
        .fill("[data-testid=secret]", demo::ZURMO_PASSWORD)
        .await;
    browser
        .click("[data-testid=sign-in] button[type=submit]")
        .await;
    browser
        .wait_for("[data-testid=user-form]", "zurmo: the form after sign-in")
        .await;
    browser.fill("#f-username", "sessie").await;
    browser.fill("#f-lastName", "Expired").await;
    browser
        .fill("#f-primaryEmail-emailAddress", "sessie@example.com")
        .await;
    stack.sandbox().expire_sessions(Crm::Zurmo);
    browser.click("[data-testid=save]").await;
    browser
        .wait_for_url("zurmo: saved through a new session", |u| {
            user_id_in(u).is_some()
        })
        .await;
    browser
        .wait_for_text("[data-testid=user-fields]", "sessie", "zurmo: detail")
        .await;
    browser.close().await;
    stack.shutdown().await;
}

/// Journey 7: the sandbox forces a rate limit; the app says it is waiting and then finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_rate_limit_is_waited_out() {
    let stack = Stack::start().await;
    let browser = Browser::start().await;
    for (id, crm, limit) in [("appcrm", Crm::AppCrm, 90), ("capsule", Crm::Capsule, 4000)] {
        browser.open(&stack.url(&format!("/c/{id}/users"))).await;
        let first = browser.rows(&format!("{id}: first page")).await;
        stack
            .sandbox()
            .force_rate_limit(crm, Duration::from_secs(3));
        // A reload starts a new client, which must ask the CRM again.
        browser.client.refresh().await.expect("reload");
        let notice = browser.text("[data-testid=rate-limit-wait]").await;
        assert!(notice.contains("waiting"), "{id}: {notice}");
        // The chip shows the quota the 429 reported while the call waits on it, not the one
        // the last finished call saw (or none, as here on a new client's first call).
        let chip = browser.text("[data-testid=status-chip]").await;
        assert!(
            chip.contains(&format!("0/{limit} requests left"))
                && chip.contains("waiting for the rate limit"),
            "{id}: {chip}"
        );
        let again = browser.rows(&format!("{id}: rows after the wait")).await;
        assert_eq!(
            again, first,
            "{id}: the same first page once the wait is over"
        );
        browser
            .wait_until(
                "!document.querySelector('[data-testid=rate-limit-wait]')",
                &format!("{id}: the notice goes away"),
            )
            .await;
    }
    browser.close().await;
    stack.shutdown().await;
}

/// Journey 8: the sandbox goes down — a clear error; it comes back — "Try again" recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crm_going_down_and_coming_back() {
    let mut stack = Stack::start().await;
    let browser = Browser::start().await;
    browser.open(&stack.url("/c/appcrm/users")).await;
    let first = browser.rows("first page").await;
    stack.stop_sandbox().await;
    browser.click("[data-testid=next]").await;
    let message = browser.text("[data-testid=list-error]").await;
    // In words, with the proxy's own message taken out of its JSON.
    assert!(
        message.contains(
            "Could not reach the CRM (HTTP 502: the CRM could not be reached (connection failed))"
        ) && message.contains("try again")
            && !message.contains('{'),
        "the error should say the CRM is unreachable and what to do: {message}"
    );
    stack.restart_sandbox().await;
    browser.click("[data-testid=list-error] button").await;
    let second = browser
        .rows_other_than(&first, "page 2 after recovery")
        .await;
    assert_eq!(second.len(), 25);
    browser
        .wait_until(
            "!document.querySelector('[data-testid=list-error]')",
            "the error clears",
        )
        .await;
    browser.close().await;
    stack.shutdown().await;
}

/// Journey 9: CSV export of every user of a connection, with a progress bar.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporting_every_user_to_csv() {
    let stack = Stack::start().await;
    let browser = Browser::start().await;
    for (id, total) in [("appcrm", 300), ("zurmo", 300), ("capsule", 300)] {
        browser.open(&stack.url(&format!("/c/{id}/users"))).await;
        browser.rows(&format!("{id}: list")).await;
        // Slow pages, so the progress bar is there to see.
        stack.sandbox().set_latency(Duration::from_millis(300));
        browser.click("[data-testid=export-csv]").await;
        browser
            .wait_for(
                "[data-testid=export-progress]",
                &format!("{id}: progress bar"),
            )
            .await;
        browser
            .wait_for_text(
                ".csv-export",
                "users exported",
                &format!("{id}: export done"),
            )
            .await;
        stack.sandbox().set_latency(Duration::ZERO);
        // The button kept the focus through the export (a disabled one would have lost it).
        let focused = browser
            .eval(
                "return document.activeElement && document.activeElement.dataset.testid",
                "the focus",
            )
            .await;
        assert_eq!(focused, "export-csv", "{id}: the focus after the export");
        let csv = browser.downloaded(&format!("{id}-users.csv")).await;
        let lines: Vec<&str> = csv.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines.len(),
            total + 1,
            "{id}: a header and one line per user"
        );
        assert!(
            lines[0].contains("Email") || lines[0].contains("email"),
            "{id}: header {}",
            lines[0]
        );
    }
    browser.close().await;
    stack.shutdown().await;
}

/// The split-off wasm modules (`*_split_*.wasm`, `*_chunk_*.wasm`) the page has fetched.
async fn split_off_fetched(browser: &Browser) -> Vec<String> {
    let fetched = browser
        .eval(
            "return performance.getEntriesByType('resource') \
               .map(e => new URL(e.name).pathname) \
               .filter(p => /_(split|chunk)_[a-z0-9_]+\\.wasm$/.test(p));",
            "split-off modules",
        )
        .await;
    serde_json::from_value(fetched).unwrap_or_default()
}

/// Opens App CRM's list in a fresh page and checks it needed none of the split-off modules.
async fn list_alone(browser: &Browser, stack: &Stack, what: &str) {
    browser.open(&stack.url("/c/appcrm/users")).await;
    browser.rows(what).await;
    assert_eq!(
        split_off_fetched(browser).await,
        Vec::<String>::new(),
        "{what}: the list alone"
    );
}

/// The release bundle fetches the screens other than the list when first opened (src/lazy.rs):
/// the list needs none of them, a module that cannot be fetched shows what to do instead of a
/// blank page (or, for the CSV export's work, a failed export), the next visit to the screen tries again, and the screens a list leads to are
/// fetched ahead once the admin turns to the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screens_load_on_first_use_and_a_failed_load_is_retried() {
    let stack = Stack::start().await;
    let browser = Browser::start().await;
    list_alone(&browser, &stack, "appcrm list").await;

    // The network drops for the screens' module (the loader fetches it with `fetch`).
    browser
        .eval(
            "window.__fetch = window.fetch; \
             window.fetch = (input, init) => String(input instanceof Request ? input.url : input) \
               .includes('_split_screens') \
               ? Promise.reject(new TypeError('Failed to fetch')) \
               : window.__fetch(input, init); \
             return true;",
            "cut the screens module off",
        )
        .await;
    // The CSV export's work comes with the screens: its button says so, and the list stays.
    browser.click("[data-testid=export-csv]").await;
    browser
        .wait_for_text(
            ".csv-export [role=alert]",
            "could not be downloaded",
            "the export without its module",
        )
        .await;
    assert_eq!(browser.rows("the list, still there").await.len(), 25);
    browser.click("[data-testid=new-user]").await;
    browser
        .wait_for_text(
            "[data-testid=chunk-error]",
            "could not be downloaded",
            "the failed screen",
        )
        .await;
    assert_eq!(browser.count("[data-testid=user-form]").await, 0);

    // Back on the network, the same screen opens.
    browser
        .eval(
            "window.fetch = window.__fetch; return true;",
            "restore fetch",
        )
        .await;
    browser
        .eval("history.back(); return true;", "back to the list")
        .await;
    browser.rows("appcrm list again").await;
    browser.click("[data-testid=new-user]").await;
    browser
        .wait_for("[data-testid=user-form]", "the create form")
        .await;
    let fetched = split_off_fetched(&browser).await;
    assert!(
        fetched.iter().any(|p| p.ends_with("_split_screens.wasm")),
        "the screens module was fetched: {fetched:?}"
    );

    // A fresh visit fetches it as soon as the focus enters the list, before anything opens.
    list_alone(&browser, &stack, "appcrm list, fresh").await;
    browser
        .eval(
            "document.querySelector('table.users-table tbody tr[data-id] a').focus(); return true;",
            "focus a user's link",
        )
        .await;
    browser
        .wait_until(
            "performance.getEntriesByType('resource')                .some(e => e.name.endsWith('_split_screens.wasm'))",
            "the screens module, fetched ahead",
        )
        .await;
    assert!(
        browser
            .client
            .current_url()
            .await
            .expect("url")
            .path()
            .ends_with("/users"),
        "still on the list"
    );
    browser.close().await;
    stack.shutdown().await;
}

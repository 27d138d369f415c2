//! The frame around every page: a header with the brand, the connection switcher, the current
//! connection's status chip and links, the main area the router fills, and the toasts.

use leptos::prelude::*;

use crate::components::focus;
use crate::components::status_chip::{RateLimitNotice, StatusChip};
use crate::router::{Go, Route, use_location};
use crate::state::connections::Connections;
use crate::state::toast::ToastArea;

/// The `aria-current` of a header link to `href` on the page at `path`: "page" on that page,
/// "true" on a page inside its section (a user's detail is inside "Users"), else none.
pub fn current_for(path: &str, href: &str) -> Option<&'static str> {
    if path == href {
        Some("page")
    } else if path
        .strip_prefix(href)
        .is_some_and(|rest| rest.starts_with('/'))
    {
        Some("true")
    } else {
        None
    }
}

/// Header plus main area; `children` is the routed page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    let current = Memo::new(move |_| location.route.with(|r| r.conn.clone()));
    let marked =
        move |href: String| move || location.pathname.with(|path| current_for(path, &href));
    // Going to another page removes what was pressed to get there (a row, a link, a button).
    Effect::new(move |first: Option<()>| {
        location.pathname.track();
        if first.is_some() {
            focus::into_main_if_dropped();
        }
    });
    view! {
        <a class="skip-link" href=format!("#{}", focus::MAIN_ID)>"Skip to content"</a>
        <header class="app-header">
            <a class="brand" href="/">"Userdeck"</a>
            <ConnectionSwitcher/>
            {move || current.get().map(|id| view! {
                <nav class="conn-nav" aria-label="Connection">
                    <a href=format!("/c/{id}/users") aria-current=marked(format!("/c/{id}/users"))>"Users"</a>
                    <a href=format!("/c/{id}/me") aria-current=marked(format!("/c/{id}/me"))>"Me"</a>
                </nav>
                <StatusChip id=id.clone()/>
            })}
            <a class="manage" href="/connections" aria-current=marked("/connections".into())>"Connections"</a>
        </header>
        <main id=focus::MAIN_ID class="app-main" tabindex="-1">
            {move || current.get().map(|id| view! { <RateLimitNotice id=id/> })}
            {children()}
        </main>
        <ToastArea/>
    }
}

/// A select of the known connections; choosing one opens its users.
#[component]
pub fn ConnectionSwitcher() -> impl IntoView {
    let connections = expect_context::<Connections>();
    let location = use_location();
    let current = Memo::new(move |_| location.route.with(Route::conn_id));
    let on_change = move |ev: leptos::ev::Event| {
        let id = event_target_value(&ev);
        if id.is_empty() {
            location.navigate("/", Go::default());
        } else {
            location.navigate(&format!("/c/{id}/users"), Go::default());
        }
    };
    view! {
        <label class="switcher">
            <span class="visually-hidden">"Connection"</span>
            // Each option says whether it is the current one: a `value` on the select alone is
            // lost when the options arrive after it (the list loads asynchronously). Options are
            // drawn by position (a new list rewrites them in place); keying them cost 2 KB gzipped.
            <select aria-label="Connection" data-testid="connection-switcher" on:change=on_change prop:value=move || current.get()>
                <option value="" prop:selected=move || current.with(String::is_empty)>"Choose a connection…"</option>
                {move || connections.list.with(|list| list.iter().map(|c| {
                    let id = c.id.clone();
                    view! {
                        <option value=c.id.clone() prop:selected=move || current.with(|cur| *cur == id)>{c.name.clone()}</option>
                    }
                }).collect::<Vec<_>>())}
            </select>
        </label>
    }
}

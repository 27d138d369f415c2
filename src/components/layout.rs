//! The frame around every page: a header with the brand and the connection switcher, and the main
//! area the router fills.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::state::connections::Connections;

/// Header plus main area; `children` is the routed page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="app-header">
            <a class="brand" href="/">"Userdeck"</a>
            <ConnectionSwitcher/>
        </header>
        <main id="main" class="app-main" tabindex="-1">
            {children()}
        </main>
    }
}

/// A select of the known connections; choosing one opens its users.
#[component]
pub fn ConnectionSwitcher() -> impl IntoView {
    let connections = expect_context::<Connections>();
    let params = use_params_map();
    let navigate = use_navigate();
    let current = move || params.with(|p| p.get("conn").unwrap_or_default());
    let on_change = move |ev: leptos::ev::Event| {
        let id = event_target_value(&ev);
        if id.is_empty() {
            navigate("/", Default::default());
        } else {
            navigate(&format!("/c/{id}/users"), Default::default());
        }
    };
    view! {
        <label class="switcher">
            <span class="visually-hidden">"Connection"</span>
            <select aria-label="Connection" on:change=on_change prop:value=current>
                <option value="">"Choose a connection…"</option>
                <For
                    each=move || connections.list.get()
                    key=|c| c.id.clone()
                    let:c
                >
                    <option value=c.id.clone()>{c.name.clone()}</option>
                </For>
            </select>
        </label>
    }
}

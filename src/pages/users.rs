//! The users of one connection.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::state::connections::{Connections, LoadState};

#[component]
pub fn UsersPage() -> impl IntoView {
    let connections = expect_context::<Connections>();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("conn").unwrap_or_default());
    view! {
        <section class="page users">
            {move || {
                let id = id();
                match (connections.find(&id), connections.state.get()) {
                    (Some(c), _) => view! {
                        <h1>{c.name.clone()}</h1>
                        <p class="provider">{c.provider_label()}</p>
                    }.into_any(),
                    (None, LoadState::Loading) => view! {
                        <p role="status">"Loading…"</p>
                    }.into_any(),
                    (None, _) => view! {
                        <h1>"Unknown connection"</h1>
                        <p>"No connection is called “"{id}"”. "<a href="/">"Choose one"</a></p>
                    }.into_any(),
                }
            }}
        </section>
    }
}

//! The start screen: the connections this deployment declares and the user's own, or how to add
//! one.

use leptos::prelude::*;

use crate::components::connection_list::ConnectionList;
use crate::state::connections::{Connections, LoadState};

#[component]
pub fn HomePage() -> impl IntoView {
    let connections = expect_context::<Connections>();
    view! {
        <section class="page home" aria-labelledby="home-title">
            <header class="page-head">
                <h1 id="home-title">"Connections"</h1>
                <a class="button" href="/connections" data-testid="manage-connections">"Add or manage"</a>
            </header>
            {move || match connections.state.get() {
                LoadState::Loading => view! {
                    <p class="loading" role="status">"Loading connections…"</p>
                }.into_any(),
                LoadState::Failed(message) => view! {
                    <p class="error" role="alert">{message}" Reload the page to try again."</p>
                    <ConnectionList connections=connections.list/>
                }.into_any(),
                LoadState::NoProxy if connections.list.with(Vec::is_empty) => view! {
                    <p class="hint">
                        "No proxy declares connections here. Run Userdeck with its proxy, or "
                        <a href="/connections">"add a connection"</a>
                        " to a CRM that allows this origin (CORS)."
                    </p>
                }.into_any(),
                LoadState::NoProxy | LoadState::Loaded => view! {
                    <ConnectionList connections=connections.list/>
                }.into_any(),
            }}
        </section>
    }
}

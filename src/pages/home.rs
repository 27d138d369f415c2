//! The start screen: the connections this deployment declares, or how to add one.

use leptos::prelude::*;

use crate::components::connection_list::ConnectionList;
use crate::state::connections::{Connections, LoadState};

#[component]
pub fn HomePage() -> impl IntoView {
    let connections = expect_context::<Connections>();
    view! {
        <section class="page home" aria-labelledby="home-title">
            <h1 id="home-title">"Connections"</h1>
            {move || match connections.state.get() {
                LoadState::Loading => view! {
                    <p class="loading" role="status">"Loading connections…"</p>
                }.into_any(),
                LoadState::NoProxy => view! {
                    <p class="hint">
                        "No proxy declares connections here. Run Userdeck with its proxy, or "
                        "add a connection to a CRM that allows this origin (CORS)."
                    </p>
                }.into_any(),
                LoadState::Failed(message) => view! {
                    <p class="error" role="alert">{message}" Reload the page to try again."</p>
                }.into_any(),
                LoadState::Loaded => view! {
                    <ConnectionList connections=connections.list/>
                }.into_any(),
            }}
        </section>
    }
}

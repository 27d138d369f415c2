//! Shown for any path the router does not know.

use leptos::prelude::*;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="page not-found">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to the connections"</a></p>
        </section>
    }
}

//! The root component: provides app state, loads the declared connections and routes.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::layout::Layout;
use crate::pages::{home::HomePage, not_found::NotFoundPage, users::UsersPage};
use crate::state::connections::Connections;

#[component]
pub fn App() -> impl IntoView {
    let connections = Connections::new();
    provide_context(connections);
    let origin = window().location().origin().unwrap_or_default();
    leptos::task::spawn_local(async move { connections.load(&origin).await });

    view! {
        <Router>
            <Layout>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=HomePage/>
                    <Route path=path!("/c/:conn/users") view=UsersPage/>
                </Routes>
            </Layout>
        </Router>
    }
}

//! The root component: provides app state (connections, sessions, toasts), takes or loads the
//! declared connections, asks early for the users list the address shows, and routes.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::layout::Layout;
use crate::lazy;
use crate::pages::{home::HomePage, not_found::NotFoundPage, users::UsersPage};
use crate::state::connections::Connections;
use crate::state::first_list;
use crate::state::session::Sessions;
use crate::state::toast::Toasts;

#[component]
pub fn App() -> impl IntoView {
    let connections = Connections::new();
    let sessions = Sessions::new();
    provide_context(connections);
    provide_context(sessions);
    provide_context(Toasts::new());
    connections.start(window().location().origin().unwrap_or_default());
    let may_render = first_list::request_early(connections, sessions);

    view! {
        {move || may_render.get().then(|| view! {
            <Router>
                <Layout>
                    <Routes fallback=NotFoundPage>
                        <Route path=path!("/") view=HomePage/>
                        <Route path=path!("/connections") view=|| lazy::route(lazy::connections_page)/>
                        <Route path=path!("/c/:conn/users") view=UsersPage/>
                        <Route path=path!("/c/:conn/users/new") view=|| lazy::route(lazy::user_create_page)/>
                        <Route path=path!("/c/:conn/users/:id") view=|| lazy::route(lazy::user_detail_page)/>
                        <Route path=path!("/c/:conn/users/:id/edit") view=|| lazy::route(lazy::user_edit_page)/>
                        <Route path=path!("/c/:conn/me") view=|| lazy::route(lazy::me_page)/>
                    </Routes>
                </Layout>
            </Router>
        })}
    }
}

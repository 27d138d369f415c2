//! The root component: provides app state (connections, sessions, toasts), takes or loads the
//! declared connections, asks early for the users list the address shows, and routes.

use leptos::prelude::*;

use crate::components::layout::Layout;
use crate::lazy;
use crate::pages::{home::HomePage, not_found::NotFoundPage, users::UsersPage};
use crate::router::{Page, Pages, Router};
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
                    <Pages view=page_view/>
                </Layout>
            </Router>
        })}
    }
}

/// The view of each page (in `Pages`, which draws it again only when the page changes).
fn page_view(page: Page) -> AnyView {
    match page {
        Page::Home => view! { <HomePage/> }.into_any(),
        Page::Connections => lazy::route(lazy::connections_page),
        Page::Users => view! { <UsersPage/> }.into_any(),
        Page::NewUser => lazy::route(lazy::user_create_page),
        Page::User => lazy::route(lazy::user_detail_page),
        Page::EditUser => lazy::route(lazy::user_edit_page),
        Page::Me => lazy::route(lazy::me_page),
        Page::NotFound => view! { <NotFoundPage/> }.into_any(),
    }
}

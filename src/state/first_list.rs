//! The first users list of a page load, asked for as the app starts rather than once the page
//! has rendered.
//!
//! Opening a connection's users (a reload, a bookmark, a shared link) used to render the whole
//! page, lay it out and paint it with placeholder rows, and only then ask the CRM: the round
//! trip, and a second layout for the rows, came on top of the render. When the address is a
//! users list and the connection can be used at once (one the proxy declared in the page, or
//! one saved in this browser, with whatever secret it needs held in this tab), the request now
//! leaves as the app starts, and the first render waits for its answer for at most
//! [`HOLD_RENDER`]: a CRM that answers in time has its users in the page's first paint. The
//! users page takes the answer ([`Sessions::take_early_list`]) instead of asking again. Any
//! other start asks nothing early and renders at once.

use std::time::Duration;

use futures_channel::oneshot;
use leptos::prelude::*;
use userdeck_client::Schema;

use crate::milestones::{Milestone, reached};
use crate::router::{Address, Page, Query, Route};
use crate::state::columns::load_columns;
use crate::state::connections::Connections;
use crate::state::list_query::ListParams;
use crate::state::session::Sessions;

/// The longest the first render waits for the list asked for early: enough for a CRM nearby or
/// the sandbox (about 10 ms), too little to notice where a distant CRM takes longer. That CRM's
/// page is drawn with placeholder rows after it, as without the head start, and its users when
/// they come; the page is blank meanwhile, as it was while the app's code downloaded.
pub const HOLD_RENDER: Duration = Duration::from_millis(50);

/// Asks for the list the address shows, if it is one that can be asked for now. Answers whether
/// the app may render: at once when nothing was asked; otherwise once the answer is in, or
/// after [`HOLD_RENDER`].
pub fn request_early(connections: Connections, sessions: Sessions) -> ReadSignal<bool> {
    let Some((id, params)) = list_in_address() else {
        return signal(true).0;
    };
    let Some(info) = connections.find(&id) else {
        return signal(true).0;
    };
    // The same client the page will use (`Sessions` keeps one per connection), so the quota,
    // the session and the cancelling of superseded lists are shared with it.
    let Ok(client) = sessions.client(&info, &connections) else {
        return signal(true).0;
    };
    let schema = Schema::of(client.connection().provider);
    let query = params.list_query(&schema, &load_columns(&id, &schema));
    let (answer, arrives) = oneshot::channel();
    sessions.expect_list(&id, query.clone(), arrives);
    let (may_render, set_may_render) = signal(false);
    // Once only: the app renders when this turns true, and must not render again. (`try_`: an
    // app unmounted meanwhile, as in tests, has nothing left to release.)
    let release = move || {
        if may_render.try_get_untracked() == Some(false) {
            set_may_render.try_set(true);
        }
    };
    leptos::task::spawn_local(async move {
        reached(Milestone::ListRequested);
        // Nobody is waiting when the page asked for another list; that one supersedes this.
        let _ = answer.send(client.list_latest(&query).await);
        release();
    });
    set_timeout(release, HOLD_RENDER);
    may_render
}

/// The connection and list parameters of a users-list address (`/c/{conn}/users?…`), read
/// the way the router reads them, so that the page asks for the same list.
fn list_in_address() -> Option<(String, ListParams)> {
    let address = Address::current();
    let id = users_list_of(&address.path)?;
    let query = Query::parse(&address.search);
    Some((id, ListParams::from_pairs(query.pairs())))
}

/// The connection whose users list `path` is, if it is one (`/c/{conn}/users`).
pub fn users_list_of(path: &str) -> Option<String> {
    let route = Route::of(path);
    if route.page == Page::Users {
        route.conn
    } else {
        None
    }
}

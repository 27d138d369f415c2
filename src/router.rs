//! Routing: which page the address shows, with its parameters and query, and moving between
//! addresses without reloading the app (links, [`Location::navigate`], Back and Forward).
//!
//! Userdeck has seven flat routes. `leptos_router` matched them with nested, generic route trees,
//! and replacing it with this module took 38 KB off the first visit's gzipped bundle (339 to
//! 301 KB, `cargo xtask dist`). What it keeps from a router:
//! - a page stays mounted while only its parameters or query change (another user, another
//!   sort), and reads them from signals, so moving within the list keeps focus and scroll;
//! - a click on a link to this origin is followed in the page, except where the browser should
//!   act (a modified click, `target`, `download`, `rel=external`, a jump to an anchor here);
//! - Back and Forward (`popstate`) move the app with the address bar.

use leptos::ev;
use leptos::prelude::*;
use userdeck_client::php::urldecode;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlAnchorElement, MouseEvent};

/// The screens the app has; [`Route::page`] names the one an address shows.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Page {
    #[default]
    Home,
    Connections,
    Users,
    NewUser,
    User,
    EditUser,
    Me,
    NotFound,
}

/// An address's page and its parameters: the connection (`/c/{conn}/…`, also on an unknown page
/// under it, so the header still offers that connection's pages) and the user
/// (`/c/{conn}/users/{user}`), decoded.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Route {
    pub page: Page,
    pub conn: Option<String>,
    pub user: Option<String>,
}

impl Route {
    /// The route of a URL path (`location.pathname`, still percent-encoded). A trailing slash is
    /// ignored; anything that is not one of the app's addresses is [`Page::NotFound`].
    pub fn of(path: &str) -> Route {
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        if trimmed.is_empty() {
            return Route::default();
        }
        let segments: Vec<&str> = trimmed.split('/').collect();
        let (page, conn, user) = match segments.as_slice() {
            ["connections"] => (Page::Connections, None, None),
            ["c", conn, "users"] => (Page::Users, Some(conn), None),
            ["c", conn, "users", "new"] => (Page::NewUser, Some(conn), None),
            ["c", conn, "users", user] => (Page::User, Some(conn), Some(user)),
            ["c", conn, "users", user, "edit"] => (Page::EditUser, Some(conn), Some(user)),
            ["c", conn, "me"] => (Page::Me, Some(conn), None),
            ["c", conn, ..] => (Page::NotFound, Some(conn), None),
            _ => (Page::NotFound, None, None),
        };
        if conn.is_some_and(|c| c.is_empty()) || user.is_some_and(|u| u.is_empty()) {
            return Route {
                page: Page::NotFound,
                ..Route::default()
            };
        }
        Route {
            page,
            conn: conn.map(|c| unescape(c)),
            user: user.map(|u| unescape(u)),
        }
    }

    /// The connection's id, or "" on a page outside any connection.
    pub fn conn_id(&self) -> String {
        self.conn.clone().unwrap_or_default()
    }

    /// The user's id, when the address names one that is a number.
    pub fn user_id(&self) -> Option<u64> {
        self.user.as_deref().and_then(|u| u.parse().ok())
    }
}

/// A path segment or `#anchor` with its `%XX` escapes decoded (a `+` there is itself, not a space).
fn unescape(segment: &str) -> String {
    if segment.contains('%') {
        urldecode(&segment.replace('+', "%2B"))
    } else {
        segment.to_string()
    }
}

/// An address's query: its `key=value` pairs in order, decoded as a form's.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// The pairs of `search` (`location.search`, with or without its `?`).
    pub fn parse(search: &str) -> Query {
        let search = search.strip_prefix('?').unwrap_or(search);
        Query(
            search
                .split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (urldecode(key), urldecode(value))
                })
                .collect(),
        )
    }

    /// The pairs, as `(key, value)`.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

/// The browser's address: path and query (`?…` or empty).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Address {
    pub path: String,
    pub search: String,
}

impl Address {
    /// The address bar as it is now.
    pub fn current() -> Address {
        let location = window().location();
        Address {
            path: location.pathname().unwrap_or_else(|_| "/".into()),
            search: location.search().unwrap_or_default(),
        }
    }
}

/// How [`Location::navigate`] moves.
#[derive(Clone, Copy, Debug)]
pub struct Go {
    /// Replace the history entry instead of adding one (Back then skips it).
    pub replace: bool,
    /// Scroll to the top (or to the address's `#anchor`) afterwards.
    pub scroll: bool,
}

impl Default for Go {
    fn default() -> Go {
        Go {
            replace: false,
            scroll: true,
        }
    }
}

/// The app's view of the address, provided by [`Router`] and read with [`use_location`].
#[derive(Clone, Copy)]
pub struct Location {
    /// The path, as the address bar has it.
    pub pathname: Memo<String>,
    /// The page and its parameters.
    pub route: Memo<Route>,
    /// The query's pairs.
    pub query: Memo<Query>,
    address: RwSignal<Address>,
}

impl Location {
    fn new() -> Location {
        let address = RwSignal::new(Address::current());
        Location {
            pathname: Memo::new(move |_| address.with(|a| a.path.clone())),
            route: Memo::new(move |_| address.with(|a| Route::of(&a.path))),
            query: Memo::new(move |_| address.with(|a| Query::parse(&a.search))),
            address,
        }
    }

    /// Goes to `to` (a path on this origin, with any query and `#anchor`) without reloading.
    pub fn navigate(&self, to: &str, go: Go) {
        let window = window();
        let Ok(history) = window.history() else {
            return;
        };
        // The same address again (a click on the link to the page one is on) adds no entry
        // that Back would have to step over.
        let here = Address::current();
        let same = format!("{}{}", here.path, here.search) == to;
        let moved = if go.replace || same {
            history.replace_state_with_url(&JsValue::NULL, "", Some(to))
        } else {
            history.push_state_with_url(&JsValue::NULL, "", Some(to))
        };
        if moved.is_err() {
            // The history refuses addresses of another origin: the browser goes there itself.
            let _ = window.location().set_href(to);
            return;
        }
        self.address.set(Address::current());
        if go.scroll {
            scroll_to_anchor_or_top();
        }
    }

    /// Takes the address bar as it now is (after Back or Forward).
    fn follow_browser(&self) {
        self.address.set(Address::current());
    }
}

/// Scrolls to the element the address's `#anchor` names, or to the top of the page.
fn scroll_to_anchor_or_top() {
    let window = window();
    let hash = window.location().hash().unwrap_or_default();
    let anchor = hash
        .strip_prefix('#')
        .filter(|id| !id.is_empty())
        .and_then(|id| document().get_element_by_id(&unescape(id)));
    match anchor {
        Some(element) => element.scroll_into_view(),
        None => window.scroll_to_with_x_and_y(0.0, 0.0),
    }
}

/// The [`Location`] a [`Router`] above provides.
pub fn use_location() -> Location {
    expect_context::<Location>()
}

/// Provides the [`Location`] to `children`, and follows links and Back/Forward while mounted.
#[component]
pub fn Router(children: Children) -> impl IntoView {
    let location = Location::new();
    provide_context(location);
    let popstate = window_event_listener(ev::popstate, move |_| location.follow_browser());
    let clicks = window_event_listener(ev::click, move |ev| {
        if let Some(to) = link_to_follow(&ev) {
            ev.prevent_default();
            location.navigate(&to, Go::default());
        }
    });
    on_cleanup(move || {
        popstate.remove();
        clicks.remove();
    });
    children()
}

/// Draws `view` of the address's page, and again only when the address moves to another page:
/// within one (another user, another sort) the page stays and reads its parameters from the
/// [`Location`], so what it holds (focus, scroll, a half-typed search) stays too.
#[component]
pub fn Pages(view: fn(Page) -> AnyView) -> impl IntoView {
    let location = use_location();
    let page = Memo::new(move |_| location.route.with(|r| r.page));
    move || view(page.get())
}

/// The address to go to in the page for a click, when it is a plain click on a link to this
/// origin that the browser need not handle itself.
fn link_to_follow(ev: &MouseEvent) -> Option<String> {
    if ev.default_prevented()
        || ev.button() != 0
        || ev.ctrl_key()
        || ev.meta_key()
        || ev.shift_key()
        || ev.alt_key()
    {
        return None;
    }
    let anchor = ev
        .target()?
        .dyn_into::<Element>()
        .ok()?
        .closest("a[href]")
        .ok()??
        .dyn_into::<HtmlAnchorElement>()
        .ok()?;
    let target = anchor.target();
    if !(target.is_empty() || target == "_self")
        || anchor.has_attribute("download")
        || anchor.rel().split_whitespace().any(|r| r == "external")
    {
        return None;
    }
    let here = window().location();
    if anchor.origin() != here.origin().ok()? {
        return None;
    }
    let (path, search, hash) = (anchor.pathname(), anchor.search(), anchor.hash());
    // A jump to an anchor on this very page (the skip link) is the browser's to make: it
    // scrolls and moves focus there.
    if !hash.is_empty()
        && Some(&path) == here.pathname().ok().as_ref()
        && Some(&search) == here.search().ok().as_ref()
    {
        return None;
    }
    Some(format!("{path}{search}{hash}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(page: Page, conn: Option<&str>, user: Option<&str>) -> Route {
        Route {
            page,
            conn: conn.map(str::to_string),
            user: user.map(str::to_string),
        }
    }

    #[test]
    fn each_address_is_its_page_with_its_parameters() {
        assert_eq!(Route::of("/"), route(Page::Home, None, None));
        assert_eq!(Route::of(""), route(Page::Home, None, None));
        assert_eq!(
            Route::of("/connections"),
            route(Page::Connections, None, None)
        );
        assert_eq!(Route::of("/c/a/users"), route(Page::Users, Some("a"), None));
        assert_eq!(
            Route::of("/c/a/users/"),
            route(Page::Users, Some("a"), None)
        );
        assert_eq!(
            Route::of("/c/a/users/new"),
            route(Page::NewUser, Some("a"), None)
        );
        assert_eq!(
            Route::of("/c/a/users/7"),
            route(Page::User, Some("a"), Some("7"))
        );
        assert_eq!(
            Route::of("/c/a/users/7/edit"),
            route(Page::EditUser, Some("a"), Some("7"))
        );
        assert_eq!(Route::of("/c/a/me"), route(Page::Me, Some("a"), None));
        assert_eq!(Route::of("/c/a/users/7").user_id(), Some(7));
        assert_eq!(Route::of("/c/a/users/x").user_id(), None);
        for unknown in [
            "/c//users",
            "/c/a",
            "/c/a/users/7/edit/x",
            "/users",
            "/c/a/users//edit",
        ] {
            assert_eq!(Route::of(unknown).page, Page::NotFound, "{unknown}");
        }
        // Lost within a connection: still that connection's.
        assert_eq!(Route::of("/c/a/typo").conn.as_deref(), Some("a"));
        assert_eq!(Route::of("/c/a").conn.as_deref(), Some("a"));
        assert_eq!(Route::of("/typo").conn, None);
        assert_eq!(Route::of("/c//users").conn, None);
    }

    #[test]
    fn parameters_are_decoded_as_path_segments() {
        assert_eq!(
            Route::of("/c/my%20crm/users").conn.as_deref(),
            Some("my crm")
        );
        assert_eq!(Route::of("/c/a+b/users").conn.as_deref(), Some("a+b"));
        assert_eq!(Route::of("/c/a%2Bb/me").conn.as_deref(), Some("a+b"));
    }

    #[test]
    fn a_query_is_read_as_a_form_would_be() {
        let query = Query::parse("?q=ann+lee&sort=name&dir=desc&c=email~has~a%40b&flag&&x=");
        let pairs: Vec<_> = query.pairs().collect();
        assert_eq!(
            pairs,
            [
                ("q", "ann lee"),
                ("sort", "name"),
                ("dir", "desc"),
                ("c", "email~has~a@b"),
                ("flag", ""),
                ("x", ""),
            ]
        );
        assert_eq!(query.get("dir"), Some("desc"));
        assert_eq!(query.get("flag"), Some(""));
        assert_eq!(query.get("none"), None);
        assert_eq!(Query::parse("?a=1&a=2").get("a"), Some("1"));
        assert_eq!(Query::parse(""), Query::default());
        assert_eq!(Query::parse("?"), Query::default());
    }
}

//! Screens, panels and work fetched on first use.
//!
//! The release bundle (`cargo xtask dist`, the `split` feature) cuts the wasm at the functions
//! below: each becomes a small module of its own, fetched and linked into the running app the
//! first time it is called, so a first visit downloads and compiles only what the users list
//! needs. Without the feature (tests, `trunk serve`) the same functions are plain async
//! functions that return at once, and the app behaves the same.
//!
//! A module that cannot be fetched (the network dropped, or a new release replaced the files)
//! shows a message instead of the screen; the next call tries again.

// The splitter links each function across modules through a C-ABI import/export pair; both
// sides are this crate's own Rust types, built by the same compiler, so the lint's concern (a
// foreign caller laying them out differently) does not arise.
#![allow(improper_ctypes, improper_ctypes_definitions)]

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use userdeck_client::Provider;

use crate::components::advanced_search::{AdvancedSearch, Applied};
use crate::components::bulk_delete::{self, BulkDelete, BulkDeleteDialog, DeleteJob};
use crate::components::csv_export::{self, ExportJob};
use crate::components::sign_in::SignInPanel;
use crate::state::connections::ConnectionInfo;
use crate::state::list_query::ConditionParam;
use crate::state::session::NotReady;

/// A split-off module could not be fetched or linked.
#[derive(Debug)]
pub struct Unavailable;

#[cfg(feature = "split")]
impl From<wasm_split_helpers::SplitLoaderError> for Unavailable {
    fn from(_: wasm_split_helpers::SplitLoaderError) -> Self {
        Unavailable
    }
}

/// A future run on the page's one thread.
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// What a lazily loaded view resolves to.
pub type Loaded = Result<AnyView, Unavailable>;

/// Declares `$name`, an async function returning `Ok($body)` that, in the split bundle, lives
/// in the module `$chunk` (functions naming the same module share it), and returns
/// `Err(Unavailable)` when that module cannot be fetched. Without the `split` feature it is a
/// plain async function, ready at once.
///
/// `preload $fetch` also declares `$fetch`, an async function that only fetches `$chunk`.
macro_rules! split_fn {
    ($(#[$doc:meta])* $chunk:ident $(, preload $fetch:ident)?: fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty => $body:expr) => {
        $(#[$doc])*
        #[cfg(feature = "split")]
        #[wasm_split_helpers::wasm_split($chunk, fallible $(, preload($fetch))?)]
        pub fn $name($($arg: $ty),*) -> Result<$ret, Unavailable> {
            Ok($body)
        }

        $(
            #[cfg(not(feature = "split"))]
            async fn $fetch() -> Result<(), Unavailable> {
                Ok(())
            }
        )?

        $(#[$doc])*
        #[cfg(not(feature = "split"))]
        pub async fn $name($($arg: $ty),*) -> Result<$ret, Unavailable> {
            Ok($body)
        }
    };
}

/// [`split_fn!`] for a view: `$name` resolves to [`Loaded`].
macro_rules! split_view {
    ($(#[$doc:meta])* $chunk:ident $(, preload $fetch:ident)?: fn $name:ident($($arg:ident: $ty:ty),*) => $view:expr) => {
        split_fn! {
            $(#[$doc])*
            $chunk $(, preload $fetch)?: fn $name($($arg: $ty),*) -> AnyView => $view.into_any()
        }
    };
}

split_view! {
    /// `/connections`.
    screens: fn connections_page() => view! { <crate::pages::connections::ConnectionsPage/> }
}
split_view! {
    /// `/c/{conn}/users/new`.
    screens: fn user_create_page() => view! { <crate::pages::user_edit::UserCreatePage/> }
}
split_view! {
    /// `/c/{conn}/users/{id}/edit`.
    screens: fn user_edit_page() => view! { <crate::pages::user_edit::UserEditPage/> }
}
split_view! {
    /// `/c/{conn}/users/{id}`.
    screens, preload fetch_screens: fn user_detail_page() => view! { <crate::pages::user_detail::UserDetailPage/> }
}
split_view! {
    /// `/c/{conn}/me`.
    screens: fn me_page() => view! { <crate::pages::me::MePage/> }
}
split_view! {
    /// The users page's advanced search panel, when it is opened.
    advanced_search: fn advanced_search(
        provider: Provider,
        initial: (Vec<ConditionParam>, bool, String),
        on_apply: Callback<Applied>
    ) => view! {
        <AdvancedSearch provider=provider initial=initial.0 initial_any=initial.1 initial_structure=initial.2 on_apply=on_apply/>
    }
}
split_view! {
    /// The users page's "Delete selected" confirmation.
    screens: fn bulk_delete(args: BulkDelete) => view! { <BulkDeleteDialog args=args/> }
}
split_view! {
    /// Asking for credentials: a connection without a usable session.
    sign_in: fn sign_in(info: ConnectionInfo, reason: NotReady) => view! { <SignInPanel info=info reason=reason/> }
}

split_fn! {
    /// The deleting of a confirmed bulk delete, with its dialog.
    screens: fn bulk_delete_run(job: DeleteJob) -> LocalBoxFuture<'static, ()> => Box::pin(bulk_delete::run(job))
}

split_fn! {
    /// The work of a CSV export, with the screens: the button and its progress bar stay in the
    /// users page, the fetching and writing are fetched on the first export.
    screens: fn csv_export(job: ExportJob) -> LocalBoxFuture<'static, ()> => Box::pin(csv_export::run(job))
}

/// Starts fetching the module of the screens the users list leads to (a user's page, the
/// forms), once per page load, when the admin shows they may open one: the pointer moves over
/// the list or the focus enters it. Opening the screen then waits for nothing; a visit that only
/// reads the list never downloads it.
pub fn prefetch_screens() {
    thread_local!(static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    if STARTED.with(|s| s.replace(true)) {
        return;
    }
    // A failed fetch is not kept: opening the screen tries again, and says so if it fails.
    leptos::task::spawn_local(async {
        let _ = fetch_screens().await;
    });
}

/// A routed screen from a split-off module (`lazy::route(lazy::me_page)`, in `app::Pages`).
pub fn route<F>(load: fn() -> F) -> AnyView
where
    F: Future<Output = Loaded> + 'static,
{
    show(load())
}

/// Renders what `load` resolves to once it has; nothing until then, which with the module on
/// the same host is a few milliseconds.
pub fn show(load: impl Future<Output = Loaded> + 'static) -> AnyView {
    show_boxed(Box::pin(load))
}

/// [`show`] for any future: Leptos's suspense machinery is compiled once, not once per screen
/// (2.1 KB gzipped less for the eight of them).
fn show_boxed(load: LocalBoxFuture<'static, Loaded>) -> AnyView {
    // Leptos asks for a `Send` future; the app is single-threaded in the browser.
    Suspend::new(SendWrapper::new(async move {
        match load.await {
            Ok(view) => view,
            Err(Unavailable) => view! {
                <div class="error-state" role="alert" data-testid="chunk-error">
                    <p>"This part of Userdeck could not be downloaded. Check the network, then reload the page (a new version may have been published)."</p>
                    <button type="button" on:click=|_| { let _ = window().location().reload(); }>"Reload"</button>
                </div>
            }
            .into_any(),
        }
    }))
    .into_any()
}

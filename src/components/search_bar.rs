//! The search box: search-as-you-type, debounced so a burst of keystrokes sends one request.
//!
//! Only the debounce lives here; cancelling a request that a newer one supersedes is the client's
//! `list_latest`, which the users page calls with what this box reports.

use std::time::Duration;

use leptos::leptos_dom::helpers::{TimeoutHandle, set_timeout_with_handle};
use leptos::prelude::*;

/// How long typing must pause before a search is sent.
pub const DEBOUNCE_MS: u64 = 250;

/// The search box's id: its label points at it, and the `/` shortcut and the return after a
/// bulk delete put the focus there.
pub const SEARCH_ID: &str = "user-search";

/// A search input reporting its text `delay_ms` after the last keystroke (at once on Enter,
/// cleared on Escape). `value` is the search in force (from the URL), shown when it changes.
#[component]
pub fn SearchBar(
    #[prop(into)] value: Signal<String>,
    on_search: Callback<String>,
    #[prop(default = DEBOUNCE_MS)] delay_ms: u64,
    #[prop(default = "Search users")] label: &'static str,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    let text = RwSignal::new(value.get_untracked());
    let pending: StoredValue<Option<TimeoutHandle>, LocalStorage> = StoredValue::new_local(None);
    let cancel_pending = move || {
        if let Some(handle) = pending.try_update_value(Option::take).flatten() {
            handle.clear();
        }
    };
    Effect::new(move |_| {
        let v = value.get();
        if text.get_untracked() != v {
            text.set(v);
        }
    });
    on_cleanup(cancel_pending);
    let fire = move |now: String| {
        cancel_pending();
        if now != value.get_untracked() {
            on_search.run(now);
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        let typed = event_target_value(&ev);
        text.set(typed.clone());
        cancel_pending();
        let handle = set_timeout_with_handle(
            move || {
                pending.set_value(None);
                fire(typed);
            },
            Duration::from_millis(delay_ms),
        );
        pending.set_value(handle.ok());
    };
    let on_keydown = move |ev: web_sys::KeyboardEvent| match ev.key().as_str() {
        "Enter" => {
            ev.prevent_default();
            fire(text.get_untracked());
        }
        "Escape" if !text.get_untracked().is_empty() => {
            ev.prevent_default();
            text.set(String::new());
            fire(String::new());
        }
        _ => {}
    };
    view! {
        <div class="search-bar" role="search">
            <label for=SEARCH_ID class="visually-hidden">{label}</label>
            <input
                id=SEARCH_ID
                type="search"
                data-testid="search"
                autocomplete="off"
                placeholder="Search users   ( / )"
                aria-keyshortcuts="/"
                prop:value=move || text.get()
                prop:disabled=move || disabled.get()
                on:input=on_input
                on:keydown=on_keydown
            />
        </div>
    }
}

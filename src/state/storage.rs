//! Thin, failure-tolerant access to the browser's `localStorage` and `sessionStorage`.
//!
//! Storage can be missing (privacy modes), full or disabled; the app must keep working without it,
//! so every call here degrades to "nothing stored" instead of failing.

use web_sys::Storage;

/// Which of the browser's stores to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    /// Survives restarts; never holds secrets.
    Local,
    /// Lives as long as the tab; holds drafts and secrets the user chose to remember.
    Session,
}

fn storage(store: Store) -> Option<Storage> {
    let window = web_sys::window()?;
    match store {
        Store::Local => window.local_storage().ok().flatten(),
        Store::Session => window.session_storage().ok().flatten(),
    }
}

/// The stored text under `key`, if any.
pub fn get(store: Store, key: &str) -> Option<String> {
    storage(store)?.get_item(key).ok().flatten()
}

/// Stores `value` under `key`; a full or disabled store is ignored (the value stays in memory).
pub fn set(store: Store, key: &str, value: &str) {
    if let Some(s) = storage(store) {
        let _ = s.set_item(key, value);
    }
}

/// Forgets `key`.
pub fn remove(store: Store, key: &str) {
    if let Some(s) = storage(store) {
        let _ = s.remove_item(key);
    }
}

/// Reads and parses a JSON value; unreadable data counts as absent.
pub fn get_json<T: serde::de::DeserializeOwned>(store: Store, key: &str) -> Option<T> {
    serde_json::from_str(&get(store, key)?).ok()
}

/// Stores a value as JSON.
pub fn set_json<T: serde::Serialize>(store: Store, key: &str, value: &T) {
    if let Ok(text) = serde_json::to_string(value) {
        set(store, key, &text);
    }
}

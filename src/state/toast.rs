//! Short-lived messages about the outcome of an action ("User saved", "3 users deleted").
//!
//! Provided as context at the app root; components call [`notify`], which does nothing when no
//! toast area is mounted (component tests), so actions never depend on it.
//!
//! Most results are known only after an `await`, where Leptos runs the task with no reactive owner
//! and so no context to look in; the toast area is one per app, so [`notify`] falls back to the
//! most recently created one.

use std::cell::Cell;
use std::time::Duration;

use leptos::prelude::*;

/// Whether a toast reports success or failure (failures stay longer and are announced assertively).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToastKind {
    Success,
    Error,
}

/// One message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toast {
    pub id: u64,
    pub kind: ToastKind,
    pub text: String,
    /// Dismissed or timed out: no longer shown, but its place is kept (see [`Toasts::items`]).
    pub gone: bool,
}

/// The messages on screen.
#[derive(Clone, Copy)]
pub struct Toasts {
    /// In the order they came. A message that goes keeps its place until all have gone, so the
    /// ones after it never move: the area draws them by position, and a screen reader would
    /// read a message again that moved into another's place in the live region.
    pub items: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
}

impl Default for Toasts {
    fn default() -> Self {
        Self::new()
    }
}

thread_local! {
    /// The app's toast area, for results reported after an `await` (see the module comment).
    static APP_TOASTS: Cell<Option<Toasts>> = const { Cell::new(None) };
}

impl Toasts {
    pub fn new() -> Self {
        let toasts = Toasts {
            items: RwSignal::new(Vec::new()),
            next: StoredValue::new(0),
        };
        APP_TOASTS.with(|current| current.set(Some(toasts)));
        toasts
    }

    /// Shows `text` for a few seconds; does nothing once the toast area has been unmounted.
    pub fn push(&self, kind: ToastKind, text: impl Into<String>) {
        let Some(id) = self.next.try_get_value().map(|n| n + 1) else {
            return;
        };
        self.next.set_value(id);
        let pushed = self.items.try_update(|t| {
            if t.iter().all(|x| x.gone) {
                t.clear();
            }
            t.push(Toast {
                id,
                kind,
                text: text.into(),
                gone: false,
            })
        });
        if pushed.is_none() {
            return;
        }
        let items = self.items;
        let seconds = if kind == ToastKind::Error { 8 } else { 4 };
        set_timeout(
            move || {
                items.try_update(|t| remove(t, id));
            },
            Duration::from_secs(seconds),
        );
    }

    /// Removes one message now.
    pub fn dismiss(&self, id: u64) {
        self.items.update(|t| remove(t, id));
    }
}

/// Takes message `id` off the screen; once none is left, their places go too.
fn remove(items: &mut Vec<Toast>, id: u64) {
    for t in items.iter_mut().filter(|t| t.id == id) {
        t.gone = true;
    }
    if items.iter().all(|t| t.gone) {
        items.clear();
    }
}

/// Shows a toast if a toast area exists, from a component or from a task after an `await`.
pub fn notify(kind: ToastKind, text: impl Into<String>) {
    let toasts = use_context::<Toasts>().or_else(|| APP_TOASTS.with(Cell::get));
    if let Some(t) = toasts {
        t.push(kind, text);
    }
}

/// The toast area, announced to screen readers.
#[component]
pub fn ToastArea() -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    view! {
        <div class="toasts" role="status" aria-live="polite" data-testid="toasts">
            {move || toasts.items.with(|items| items.iter().map(|t| (!t.gone).then(|| {
                let id = t.id;
                view! {
                    <div class="toast" class:error=t.kind == ToastKind::Error role=if t.kind == ToastKind::Error { "alert" } else { "status" }>
                        <span>{t.text.clone()}</span>
                        <button type="button" class="close" aria-label="Dismiss" on:click=move |_| toasts.dismiss(id)>"×"</button>
                    </div>
                }
            })).collect::<Vec<_>>())}
        </div>
    }
}

//! A modal confirmation dialog: it takes the focus when it opens, keeps Tab inside, closes on
//! Escape or Cancel, and gives the focus back to what had it, so a keyboard user carries on
//! where they were. A dangerous action can require the user to type a phrase first (bulk
//! deletes).

use leptos::html;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;

/// What a dialog can move the focus to.
const FOCUSABLE: &str = "input:not([disabled]), select:not([disabled]), textarea:not([disabled]), \
    button:not([disabled]), a[href], [tabindex]:not([tabindex='-1'])";

/// Moves the focus into the dialog at `root` once it is in the page (to `first`, the first
/// match of a selector, or else the first focusable element) and back to the element that had
/// it when the dialog goes.
fn take_focus(root: NodeRef<html::Div>, first: &'static str) {
    let opener = SendWrapper::new(
        document()
            .active_element()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()),
    );
    on_cleanup(move || {
        if let Some(el) = opener.take().filter(|e| e.is_connected()) {
            let _ = el.focus();
        }
    });
    Effect::new(move |_| {
        if let Some(el) = root.get() {
            let target = el
                .query_selector(first)
                .ok()
                .flatten()
                .or_else(|| el.query_selector(FOCUSABLE).ok().flatten())
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(t) = target {
                let _ = t.focus();
            }
        }
    });
}

/// Escape closes; Tab and Shift+Tab go round the dialog's own controls instead of leaving it
/// for the page behind (which `aria-modal` tells a screen reader is inert).
fn modal_keys(ev: &web_sys::KeyboardEvent, root: NodeRef<html::Div>, close: Callback<()>) {
    match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            close.run(());
        }
        "Tab" => {
            let Some(el) = root.get_untracked() else {
                return;
            };
            let Ok(all) = el.query_selector_all(FOCUSABLE) else {
                return;
            };
            let (Some(first), Some(last)) = (all.item(0), all.item(all.length().saturating_sub(1)))
            else {
                return;
            };
            let active = document()
                .active_element()
                .map(JsCast::unchecked_into::<web_sys::Node>);
            let wrap_to = match (ev.shift_key(), active) {
                (false, Some(a)) if a == last => Some(first),
                (true, Some(a)) if a == first => Some(last),
                (_, None) => Some(first),
                _ => None,
            };
            if let Some(to) = wrap_to.and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) {
                ev.prevent_default();
                let _ = to.focus();
            }
        }
        _ => {}
    }
}

/// A confirmation. When `phrase` is non-empty the confirm button stays disabled until the user
/// types it exactly. `children` explain what will happen. The focus starts on the phrase, or on
/// Cancel: an Enter pressed out of habit must not delete anything.
#[component]
pub fn ConfirmDialog(
    #[prop(into)] title: String,
    #[prop(into)] confirm_label: String,
    #[prop(optional, into)] phrase: String,
    on_confirm: Callback<()>,
    on_cancel: Callback<()>,
    children: Children,
) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let needs_phrase = !phrase.is_empty();
    let phrase_ok = {
        let phrase = phrase.clone();
        move || !needs_phrase || typed.get() == phrase
    };
    let root = NodeRef::<html::Div>::new();
    take_focus(root, "[data-testid=confirm-phrase], [data-testid=cancel]");
    let phrase_for_label = phrase.clone();
    view! {
        <div class="backdrop" on:click=move |_| on_cancel.run(())></div>
        <div
            class="dialog"
            role="alertdialog"
            aria-modal="true"
            aria-labelledby="dialog-title"
            data-testid="confirm-dialog"
            node_ref=root
            on:keydown=move |ev| modal_keys(&ev, root, on_cancel)
        >
            <h2 id="dialog-title">{title}</h2>
            <div class="dialog-body">{children()}</div>
            {needs_phrase.then(|| view! {
                <label class="field">
                    <span>"Type “"{phrase_for_label.clone()}"” to confirm"</span>
                    <input
                        type="text"
                        data-testid="confirm-phrase"
                        autocomplete="off"
                        prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))
                    />
                </label>
            })}
            <div class="actions">
                <button type="button" data-testid="cancel" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                <button
                    type="button"
                    class="danger"
                    data-testid="confirm"
                    prop:disabled=move || !phrase_ok()
                    on:click=move |_| on_confirm.run(())
                >{confirm_label}</button>
            </div>
        </div>
    }
}

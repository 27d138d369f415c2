//! A modal confirmation dialog: focus moves into it, Escape or Cancel closes it, and a dangerous
//! action can require the user to type a phrase first (bulk deletes).

use leptos::html;
use leptos::prelude::*;

/// A confirmation. When `phrase` is non-empty the confirm button stays disabled until the user
/// types it exactly. `children` explain what will happen.
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
    let first = NodeRef::<html::Div>::new();
    Effect::new(move |_| {
        if let Some(el) = first.get() {
            let target = el
                .query_selector("input, button.danger, button")
                .ok()
                .flatten()
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
            if let Some(t) = target {
                let _ = t.focus();
            }
        }
    });
    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            on_cancel.run(());
        }
    };
    let phrase_for_label = phrase.clone();
    view! {
        <div class="backdrop" on:click=move |_| on_cancel.run(())></div>
        <div
            class="dialog"
            role="alertdialog"
            aria-modal="true"
            aria-labelledby="dialog-title"
            data-testid="confirm-dialog"
            node_ref=first
            on:keydown=on_keydown
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
                <button type="button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
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

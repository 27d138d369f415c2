//! A part of a view shown while a condition holds.

use leptos::prelude::*;

/// `children` while `when` holds, else `fallback` (or nothing); either is drawn again only when
/// the condition flips, not each time what it reads changes.
///
/// Leptos's `<Show>` does the same, but it is generic over its children's view type, so every
/// use compiled its own copy of the switch. `When` takes its children and fallback type-erased
/// and is compiled once.
#[component]
pub fn When(
    #[prop(into)] when: Signal<bool>,
    children: ChildrenFn,
    #[prop(optional, into)] fallback: ViewFn,
) -> impl IntoView {
    let shown = Memo::new(move |_| when.get());
    move || {
        if shown.get() {
            children()
        } else {
            fallback.run()
        }
    }
}

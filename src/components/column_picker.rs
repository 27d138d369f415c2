//! Choosing which columns the users table shows; `state::columns` remembers the choice.

use leptos::prelude::*;
use userdeck_client::{FieldKind, FieldSpec, Schema};

/// Fields a table may show (passwords never).
pub fn pickable(schema: &Schema) -> Vec<FieldSpec> {
    schema
        .fields
        .iter()
        .filter(|f| f.kind != FieldKind::Password)
        .cloned()
        .collect()
}

/// A drop-down of checkboxes, one per field, in schema order. At least one column stays shown,
/// and "Default columns" brings back `defaults` (the CRM's usual ones, the name first).
#[component]
pub fn ColumnPicker(
    fields: Vec<FieldSpec>,
    chosen: RwSignal<Vec<String>>,
    defaults: Vec<String>,
) -> impl IntoView {
    let order: Vec<String> = fields.iter().map(|f| f.key.to_string()).collect();
    let items = fields
        .into_iter()
        .map(|f| {
            let key = f.key.to_string();
            let k1 = key.clone();
            let k2 = key.clone();
            let order = order.clone();
            let checked = move || chosen.with(|c| c.contains(&k1));
            let on_change = move |_| {
                chosen.update(|c| {
                    if c.contains(&k2) {
                        if c.len() > 1 {
                            c.retain(|x| x != &k2);
                        }
                    } else {
                        c.push(k2.clone());
                        c.sort_by_key(|x| order.iter().position(|o| o == x).unwrap_or(usize::MAX));
                    }
                })
            };
            view! {
                <li>
                    <label>
                        <input type="checkbox" data-column=key prop:checked=checked on:change=on_change/>
                        {f.label}
                    </label>
                </li>
            }
        })
        .collect_view();
    view! {
        <details class="column-picker menu" data-testid="column-picker">
            <summary>"Columns"</summary>
            <ul role="list">
                {items}
                <li class="menu-action">
                    <button type="button" class="link" data-testid="default-columns"
                        prop:disabled={
                            let defaults = defaults.clone();
                            move || chosen.with(|c| *c == defaults)
                        }
                        on:click=move |_| chosen.set(defaults.clone())>"Default columns"</button>
                </li>
            </ul>
        </details>
    }
}

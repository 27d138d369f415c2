//! The advanced search panel: field conditions (field, operator, value) matched with any/all,
//! or for Zurmo by an editable structure such as `(1 or 2) and 3` over the numbered conditions,
//! checked by the client before it is applied.
//!
//! It offers only the fields and operators the connection's CRM can search (asked of the
//! client's codecs), and hands the conditions to the page, which puts them in the URL.

use leptos::prelude::*;
use userdeck_client::query::lowercase;
use userdeck_client::{FieldKind, Op, Provider, Schema};

use crate::state::list_query::{
    ConditionParam, default_structure, op_label, op_name, search_ops, structure_error,
};

/// What the panel hands to the page when applied.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Applied {
    /// The conditions with a value, in order: structure position `n` is `conditions[n - 1]`.
    pub conditions: Vec<ConditionParam>,
    pub match_any: bool,
    /// A custom structure (Zurmo), valid for `conditions`; empty when the all/any default applies.
    pub structure: String,
}

/// Lower case with single spaces, so `1 AND  2` counts as the default `1 and 2`.
fn normalised(s: &str) -> String {
    lowercase(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A field that can be searched and its operators.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchableField {
    pub key: &'static str,
    pub label: &'static str,
    pub ops: Vec<Op>,
}

/// The searchable fields of a provider, in schema order.
pub fn searchable_fields(provider: Provider) -> Vec<SearchableField> {
    let schema = Schema::of(provider);
    schema
        .fields
        .iter()
        .filter(|f| !matches!(f.kind, FieldKind::Password | FieldKind::Html))
        .filter_map(|f| {
            let ops = search_ops(provider, f);
            (!ops.is_empty()).then_some(SearchableField {
                key: f.key,
                label: f.label,
                ops,
            })
        })
        .collect()
}

/// The panel. `initial` are the conditions in force; `on_apply` receives the edited ones.
#[component]
pub fn AdvancedSearch(
    provider: Provider,
    initial: Vec<ConditionParam>,
    initial_any: bool,
    /// The custom structure in force (Zurmo); empty for the all/any default.
    #[prop(optional, into)]
    initial_structure: String,
    on_apply: Callback<Applied>,
) -> impl IntoView {
    let fields = StoredValue::new(searchable_fields(provider));
    let any_allowed = provider.capabilities().match_any;
    let structure_on = provider.capabilities().custom_structure;
    let first = fields.with_value(|f| f.first().map(|f| (f.key, f.ops.first().copied())));
    let rows = RwSignal::new(if initial.is_empty() {
        first
            .iter()
            .filter_map(|(k, op)| {
                Some(ConditionParam {
                    field: k.to_string(),
                    op: (*op)?,
                    value: String::new(),
                })
            })
            .collect()
    } else {
        initial
    });
    let any = RwSignal::new(initial_any);
    // Only a change in the number of rows re-renders them, so typing keeps the focus.
    let count = Memo::new(move |_| rows.with(Vec::len));
    // Rows with a value are the conditions the structure numbers.
    let kept =
        Memo::new(move |_| rows.with(|r| r.iter().filter(|c| !c.value.trim().is_empty()).count()));
    let position = move |index: usize| {
        rows.with(|r| {
            r.get(index)
                .filter(|c| !c.value.trim().is_empty())
                .map(|_| {
                    r.iter()
                        .take(index + 1)
                        .filter(|c| !c.value.trim().is_empty())
                        .count()
                })
        })
    };
    // Until the user edits it, the structure follows the all/any choice.
    let edited = RwSignal::new(!initial_structure.trim().is_empty());
    let structure = RwSignal::new(initial_structure);
    let shown = move || {
        if edited.get() {
            structure.get()
        } else {
            default_structure(kept.get(), any.get())
        }
    };
    let structure_problem = Memo::new(move |_| {
        (structure_on && edited.get())
            .then(|| structure_error(&structure.get(), kept.get()))
            .flatten()
    });
    let add = move |_| {
        if let Some((k, Some(op))) = first {
            rows.update(|r| {
                r.push(ConditionParam {
                    field: k.to_string(),
                    op,
                    value: String::new(),
                })
            });
        }
    };
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if structure_problem.get_untracked().is_some() {
            // The message is already next to the field; nothing invalid is ever sent.
            return;
        }
        let conditions: Vec<ConditionParam> = rows
            .get_untracked()
            .into_iter()
            .filter(|c| !c.value.trim().is_empty())
            .collect();
        let match_any = any.get_untracked();
        let custom = structure.get_untracked().trim().to_string();
        let structure = if structure_on
            && edited.get_untracked()
            && normalised(&custom) != normalised(&default_structure(conditions.len(), match_any))
        {
            custom
        } else {
            String::new()
        };
        on_apply.run(Applied {
            conditions,
            match_any,
            structure,
        });
    };
    let clear = move |_| {
        rows.set(Vec::new());
        structure.set(String::new());
        edited.set(false);
        on_apply.run(Applied::default());
    };
    let row_view = move |index: usize| {
        let current = move || rows.with(|r| r.get(index).cloned());
        let ops_of = move |field: &str| {
            fields.with_value(|f| {
                f.iter()
                    .find(|x| x.key == field)
                    .map(|x| x.ops.clone())
                    .unwrap_or_default()
            })
        };
        let set_field = move |ev: leptos::ev::Event| {
            let key = event_target_value(&ev);
            let ops = ops_of(&key);
            rows.update(|r| {
                if let Some(c) = r.get_mut(index) {
                    if !ops.contains(&c.op)
                        && let Some(op) = ops.first()
                    {
                        c.op = *op;
                    }
                    c.field = key;
                }
            });
        };
        let set_op = move |ev: leptos::ev::Event| {
            let name = event_target_value(&ev);
            rows.update(|r| {
                if let Some(c) = r.get_mut(index)
                    && let Some(op) = [Op::Equals, Op::Contains, Op::StartsWith, Op::In]
                        .into_iter()
                        .find(|o| op_name(*o) == name)
                {
                    c.op = op;
                }
            });
        };
        let set_value = move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            rows.update(|r| {
                if let Some(c) = r.get_mut(index) {
                    c.value = v;
                }
            });
        };
        let remove = move |_| {
            rows.update(|r| {
                if index < r.len() {
                    r.remove(index);
                }
            })
        };
        view! {
            <li class="condition" data-testid="condition">
                {structure_on.then(|| view! {
                    <span class="position" data-testid="position" title="Number in the structure">{move || position(index).map(|n| n.to_string()).unwrap_or_default()}</span>
                })}
                <select aria-label="Field" prop:value=move || current().map(|c| c.field).unwrap_or_default() on:change=set_field>
                    {fields.with_value(|f| f.iter().map(|x| view! { <option value=x.key>{x.label}</option> }).collect_view())}
                </select>
                <select aria-label="Operator" prop:value=move || current().map(|c| op_name(c.op)).unwrap_or_default() on:change=set_op>
                    {move || {
                        let field = current().map(|c| c.field).unwrap_or_default();
                        ops_of(&field).into_iter().map(|op| view! { <option value=op_name(op)>{op_label(op)}</option> }).collect_view()
                    }}
                </select>
                <input type="text" aria-label="Value" prop:value=move || current().map(|c| c.value).unwrap_or_default() on:input=set_value/>
                <button type="button" class="icon" aria-label="Remove condition" on:click=remove>"×"</button>
            </li>
        }
    };
    view! {
        <form class="advanced-search" data-testid="advanced-search" on:submit=apply aria-label="Advanced search">
            {any_allowed.then(|| view! {
                <fieldset class="match">
                    <legend>"Match"</legend>
                    <label><input type="radio" name="match" prop:checked=move || !any.get() on:change=move |_| any.set(false)/>"all conditions"</label>
                    <label><input type="radio" name="match" data-testid="match-any" prop:checked=move || any.get() on:change=move |_| any.set(true)/>"any condition"</label>
                </fieldset>
            })}
            <ul class="conditions" role="list">
                {move || (0..count.get()).map(row_view).collect_view()}
            </ul>
            {structure_on.then(|| view! {
                <div class="field structure" class:invalid=move || structure_problem.get().is_some()>
                    <label for="search-structure">"Combine conditions as"</label>
                    <input type="text" id="search-structure" data-testid="structure" autocomplete="off"
                        spellcheck="false"
                        aria-describedby="search-structure-help search-structure-error"
                        aria-invalid=move || structure_problem.get().is_some().to_string()
                        prop:value=shown
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            edited.set(!v.trim().is_empty());
                            structure.set(v);
                        }/>
                    <p class="help" id="search-structure-help">"Condition numbers with and, or and parentheses, e.g. (1 or 2) and 3."</p>
                    <p class="error" id="search-structure-error" data-testid="structure-error" role="alert">
                        {move || structure_problem.get().unwrap_or_default()}
                    </p>
                </div>
            })}
            <div class="actions">
                <button type="button" data-testid="add-condition" on:click=add>"Add condition"</button>
                <button type="button" on:click=clear>"Clear"</button>
                <button type="submit" class="primary" data-testid="apply-search">"Apply"</button>
            </div>
        </form>
    }
}

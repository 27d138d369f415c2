//! The users table: sortable headers, row selection, keyboard navigation and loading skeletons.
//!
//! It only renders and reports: the page decides what "sort" and "open" mean (new URL, fetch),
//! so the table is testable with plain data. During a refetch the old rows stay visible (dimmed,
//! `aria-busy`) instead of flashing to a spinner; skeleton rows appear only on the first load.

use leptos::prelude::*;
use userdeck_client::{Direction, FieldKind, FieldSpec, User, html};
use wasm_bindgen::JsCast;

use crate::components::field_value::{
    code_text, datetime_text, line_of, locale_text, user_ref, user_ref_text, weekday_text,
};
use crate::components::when::When;
use crate::state::selection::Selection;

/// How long a refetch runs before the old rows are dimmed.
pub const DIM_AFTER_MS: u64 = 200;

/// One column: the schema field it shows and whether its header sorts.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub spec: FieldSpec,
    pub sortable: bool,
}

/// The text of a cell; booleans and code words read as words, HTML (mail signatures) as its
/// text only, role lists as names, another user (Zurmo's manager) by name, date-times to the
/// minute in the browser's time zone ([`datetime_text`]).
pub fn cell_text(spec: &FieldSpec, user: &User) -> String {
    let raw = spec.display(user).unwrap_or_default();
    match spec.kind {
        FieldKind::Bool => match raw.as_str() {
            "1" | "true" => "Yes".into(),
            "0" | "false" => "No".into(),
            _ => raw,
        },
        FieldKind::Html => html::text_of(&raw),
        // Role objects (or names) read as their names, not as JSON.
        FieldKind::List => serde_json::from_str::<serde_json::Value>(&raw)
            .ok()
            .and_then(|v| line_of(&v))
            .unwrap_or(raw),
        FieldKind::DateTime => datetime_text(&raw).unwrap_or(raw),
        FieldKind::Code => code_text(&raw),
        FieldKind::Locale => locale_text(&raw),
        FieldKind::Weekday => weekday_text(&raw),
        FieldKind::UserRef => user_ref(spec, user)
            .map(|(id, name)| user_ref_text(&id, name.as_deref()))
            .unwrap_or_default(),
        _ => raw,
    }
}

/// The table. `detail_base` is the users path of the connection (`/c/{id}/users`); row links
/// open `{detail_base}/{user id}`.
#[component]
pub fn UsersTable(
    #[prop(into)] columns: Signal<Vec<Column>>,
    #[prop(into)] rows: Signal<Vec<User>>,
    #[prop(into)] sort: Signal<Option<(String, Direction)>>,
    on_sort: Callback<String>,
    on_open: Callback<u64>,
    selected: RwSignal<Selection>,
    #[prop(into)] loading: Signal<bool>,
    #[prop(into)] detail_base: Signal<String>,
    /// Whether rows can be selected (the CRM can delete users).
    #[prop(optional)]
    selectable: bool,
    /// A user whose row takes the focus once it is shown (the one just come back from).
    #[prop(default = None)]
    refocus: Option<u64>,
) -> impl IntoView {
    let active_row = RwSignal::new(0usize);
    let body = NodeRef::<leptos::html::Tbody>::new();
    let page_ids = move || rows.with(|r| r.iter().map(|u| u.id).collect::<Vec<_>>());
    let all_selected = move || {
        let ids = page_ids();
        !ids.is_empty() && selected.with(|s| ids.iter().all(|id| s.contains(*id)))
    };
    let some_selected = move || {
        let ids = page_ids();
        selected.with(|s| ids.iter().any(|id| s.contains(*id))) && !all_selected()
    };
    let toggle_all = move |_| {
        let ids = page_ids();
        let select = !all_selected();
        selected.update(|s| {
            for id in ids {
                if select {
                    s.insert(id);
                } else {
                    s.remove(id);
                }
            }
        });
    };
    let toggle = move |id: u64| {
        selected.update(|s| {
            if !s.remove(id) {
                s.insert(id);
            }
        })
    };

    let header = move || {
        columns
            .get()
            .into_iter()
            .map(|col| {
                let key = col.spec.key.to_string();
                let label = col.spec.label;
                let key_for_sort = key.clone();
                let state = move || match sort.get() {
                    Some((k, Direction::Asc)) if k == key_for_sort => "ascending",
                    Some((k, Direction::Desc)) if k == key_for_sort => "descending",
                    _ => "none",
                };
                if col.sortable {
                    let key_click = key.clone();
                    view! {
                        <th scope="col" aria-sort=state data-key=key.clone()>
                            <button
                                type="button"
                                class="sort"
                                data-testid=format!("sort-{key}")
                                on:click=move |_| on_sort.run(key_click.clone())
                            >
                                {label}
                                // Always there: the stylesheet shows and turns it by `aria-sort`,
                                // so a sort never resizes a header (which would lay the whole
                                // table out once more before the new rows arrive).
                                <span class="arrow" aria-hidden="true">"▲"</span>
                            </button>
                        </th>
                    }
                    .into_any()
                } else {
                    view! { <th scope="col" data-key=key>{label}</th> }.into_any()
                }
            })
            .collect_view()
    };

    let focus_row = move |tbody: &web_sys::Element, index: usize| {
        let selector = format!("tr[data-index=\"{index}\"]");
        if let Ok(Some(row)) = tbody.query_selector(&selector)
            && let Ok(row) = row.dyn_into::<web_sys::HtmlElement>()
        {
            let _ = row.focus();
            active_row.set(index);
        }
    };
    // The rows' events are all handled here, on the table's body, for whichever row they come
    // from: listeners on each row (focus, double-click, the checkbox's change) cost three
    // closures and three listeners per row, up to 75 on a first page of 25 rows, built before the
    // first row shows.
    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        let Some(at) = RowEvent::of(&ev) else {
            return;
        };
        let Some(tbody) = at.row.parent_element() else {
            return;
        };
        let index = at.index;
        let count = rows.with_untracked(Vec::len);
        let on_row_itself = at.on_row_itself();
        match ev.key().as_str() {
            "ArrowDown" if index + 1 < count => {
                ev.prevent_default();
                focus_row(&tbody, index + 1);
            }
            "ArrowUp" if index > 0 => {
                ev.prevent_default();
                focus_row(&tbody, index - 1);
            }
            "Home" => {
                ev.prevent_default();
                focus_row(&tbody, 0);
            }
            "End" if count > 0 => {
                ev.prevent_default();
                focus_row(&tbody, count - 1);
            }
            "Enter" if on_row_itself => {
                if let Some(id) = at.id() {
                    ev.prevent_default();
                    on_open.run(id);
                }
            }
            " " if on_row_itself && selectable => {
                if let Some(id) = at.id() {
                    ev.prevent_default();
                    toggle(id);
                }
            }
            _ => {}
        }
    };
    // A row that gets the focus itself (a click, Tab, a screen reader) becomes the one Tab
    // comes back to; the focus going to its link or checkbox leaves that as it was.
    let on_focusin = move |ev: web_sys::FocusEvent| {
        if let Some(at) = RowEvent::of(&ev).filter(RowEvent::on_row_itself) {
            active_row.set(at.index);
        }
    };
    let on_dblclick = move |ev: web_sys::MouseEvent| {
        if let Some(id) = RowEvent::of(&ev).and_then(|at| at.id()) {
            on_open.run(id);
        }
    };
    let on_change = move |ev: web_sys::Event| {
        let Some(at) = RowEvent::of(&ev) else {
            return;
        };
        let is_select_box = at.target.matches("td.select input").unwrap_or(false);
        if let Some(id) = at.id().filter(|_| is_select_box) {
            toggle(id);
        }
    };

    if let Some(user) = refocus {
        // Once, when the user is among the rows (a kept list has them at once, a fetched one
        // later). The focus waits a frame, so the row's element is surely in place.
        Effect::new(move |done: Option<bool>| {
            if done == Some(true) {
                return true;
            }
            let Some(index) = rows.with(|r| r.iter().position(|u| u.id == user)) else {
                return false;
            };
            active_row.set(index);
            request_animation_frame(move || {
                if let Some(tbody) = body.try_get_untracked().flatten() {
                    focus_row(&tbody, index);
                }
            });
            true
        });
    }

    // Skeleton rows only while the very first page loads.
    let skeleton = move || {
        let cols = columns.with(Vec::len);
        (0..5)
            .map(|_| {
                view! {
                    <tr class="skeleton" aria-hidden="true">
                        {selectable.then(|| view! { <td class="select"><span class="bone"></span></td> })}
                        {(0..cols).map(|_| view! { <td><span class="bone"></span></td> }).collect_view()}
                    </tr>
                }
            })
            .collect_view()
    };
    // Rows are rendered by position, not keyed by user. A sort or another page shows other
    // users (sorting 300 users and taking the first 100 shares few of them with the page
    // before), so keyed rows meant building and discarding every row each time; a row that
    // stays in place only has its texts replaced, and the DOM keeps its elements. Selection
    // and keyboard actions read the row's current user id, never its position. The list of
    // rows is drawn again only when their number changes, and then the rows that stay keep
    // their elements; a `<For>` keyed by index did the same with 2.2 KB (gzipped) more code.
    let count = Memo::new(move |_| rows.with(Vec::len));
    let row = move |index: usize| {
        let user = Memo::new(move |_| rows.with(|r| r.get(index).cloned()));
        let id = Memo::new(move |_| user.with(|u| u.as_ref().map_or(0, |u| u.id)));
        // The cells are built once per row (and again only when the columns change); a new
        // user only re-runs each cell's text, which sets the text node if the text differs.
        // (Re-rendering whole cells instead would set their attributes again each time.)
        let cells = move || {
            columns.with(|cols| {
                cols.iter()
                    .enumerate()
                    .map(|(i, col)| {
                        let spec = col.spec.clone();
                        let text = move || {
                            user.with(|u| {
                                u.as_ref().map(|u| cell_text(&spec, u)).unwrap_or_default()
                            })
                        };
                        // On a phone each row is a card: the lead cell is its title, and
                        // every other cell names its column through `data-label`.
                        let label = col.spec.label;
                        if i == 0 {
                            let href = move || format!("{}/{}", detail_base.get(), id.get());
                            view! { <td class="lead" data-label=label><a href=href tabindex="-1">{text}</a></td> }
                                .into_any()
                        } else {
                            view! { <td data-label=label>{text}</td> }.into_any()
                        }
                    })
                    .collect_view()
            })
        };
        // A memo, so its three readers re-run only when this row's selection really changes.
        let is_selected = Memo::new(move |_| {
            let id = id.get();
            selected.with(|s| s.contains(id))
        });
        let label = move || {
            user.with(|u| {
                format!(
                    "Select {}",
                    u.as_ref().map_or("", |u| u.display_name.as_str())
                )
            })
        };
        view! {
            <tr
                data-index=index
                data-id=move || id.get()
                tabindex=move || if active_row.get() == index { "0" } else { "-1" }
                aria-selected=move || is_selected.get().to_string()
                class:selected=is_selected
            >
                {selectable.then(|| view! {
                    <td class="select">
                        <input
                            type="checkbox"
                            aria-label=label
                            prop:checked=is_selected
                        />
                    </td>
                })}
                {cells}
            </tr>
        }
    };

    // A refetch dims the old rows only once it has taken a noticeable while: most answers come
    // back sooner, and dimming and undimming for them would flash the table and make the
    // browser lay it out twice more for nothing.
    let dimmed = RwSignal::new(false);
    Effect::new(move |pending: Option<Option<TimeoutHandle>>| {
        if let Some(Some(handle)) = pending {
            handle.clear();
        }
        if loading.get() && !rows.with_untracked(Vec::is_empty) {
            // `try_`: the table may be gone by the time this fires (the user navigated away
            // during a slow fetch), and reading a disposed signal would panic.
            set_timeout_with_handle(
                move || {
                    if let Some(still) = loading.try_get_untracked() {
                        dimmed.try_set(still);
                    }
                },
                std::time::Duration::from_millis(DIM_AFTER_MS),
            )
            .ok()
        } else {
            dimmed.set(false);
            None
        }
    });

    view! {
        <div class="table-wrap" class:refreshing=move || dimmed.get()>
            <table class="users-table" data-testid="users-table" aria-busy=move || loading.get().to_string()>
                <thead>
                    <tr>
                        {selectable.then(|| view! {
                            <th scope="col" class="select">
                                <input
                                    type="checkbox"
                                    aria-label="Select all users on this page"
                                    data-testid="select-all"
                                    prop:checked=all_selected
                                    prop:indeterminate=some_selected
                                    on:change=toggle_all
                                />
                            </th>
                        })}
                        {header}
                    </tr>
                </thead>
                <tbody
                    node_ref=body
                    on:keydown=on_keydown
                    on:focusin=on_focusin
                    on:dblclick=on_dblclick
                    on:change=on_change
                >
                    <When
                        when=move || !(rows.with(Vec::is_empty) && loading.get())
                        fallback=skeleton
                    >
                        {move || (0..count.get()).map(row).collect::<Vec<_>>()}
                    </When>
                </tbody>
            </table>
        </div>
    }
}

/// An event on the table's body, and the row it came from: the element it happened on, that
/// element's row (`tr[data-index]`, so never a placeholder row) and the row's position.
struct RowEvent {
    target: web_sys::Element,
    row: web_sys::Element,
    index: usize,
}

impl RowEvent {
    fn of(ev: &web_sys::Event) -> Option<RowEvent> {
        let target = ev.target()?.dyn_into::<web_sys::Element>().ok()?;
        let row = target.closest("tr[data-index]").ok()??;
        let index = row.get_attribute("data-index")?.parse().ok()?;
        Some(RowEvent { target, row, index })
    }

    /// Whether it happened on the row itself rather than on something in it.
    fn on_row_itself(&self) -> bool {
        self.target == self.row
    }

    /// The id of the user the row shows now (rows are positional: a sort changes it).
    fn id(&self) -> Option<u64> {
        self.row.get_attribute("data-id")?.parse().ok()
    }
}

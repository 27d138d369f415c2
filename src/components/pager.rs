//! Paging controls: first/previous/next, the page number, the total and page count when the CRM
//! reports them (then also a page box to jump to and the last page), and the page size.

use leptos::prelude::*;

use crate::state::list_query::PAGE_SIZES;

/// What the pager needs to know about the current page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageInfo {
    pub page: u32,
    pub size: u32,
    pub total: Option<u64>,
    pub has_next: bool,
    /// Rows on this page.
    pub shown: usize,
}

impl PageInfo {
    /// Number of pages, when the total is known.
    pub fn page_count(&self) -> Option<u64> {
        let size = u64::from(self.size.max(1));
        self.total.map(|t| t.div_ceil(size).max(1))
    }

    /// The page a typed page number asks for, kept within the known pages; `None` for text
    /// that is not a page number, or for the page already shown.
    pub fn jump_to(&self, typed: &str) -> Option<u32> {
        let asked = typed.trim().parse::<u32>().ok()?;
        let last = self
            .page_count()
            .map_or(u32::MAX, |n| u32::try_from(n).unwrap_or(u32::MAX));
        let page = asked.clamp(1, last);
        (page != self.page).then_some(page)
    }

    /// "26–50 of 123" style range text.
    pub fn range_text(&self) -> String {
        if self.shown == 0 {
            return match self.total {
                Some(t) => format!("0 of {t}"),
                None => "No rows".into(),
            };
        }
        let first = u64::from(self.page.saturating_sub(1)) * u64::from(self.size) + 1;
        let last = first + self.shown as u64 - 1;
        match self.total {
            Some(t) => format!("{first}–{last} of {t}"),
            None => format!("{first}–{last}"),
        }
    }
}

/// The pager bar. With a known page count the page number is a field: type a page and press
/// Enter (or leave the field) to go there, and "Last page" jumps to the end.
#[component]
pub fn Pager(
    #[prop(into)] info: Signal<PageInfo>,
    on_page: Callback<u32>,
    on_size: Callback<u32>,
) -> impl IntoView {
    let page_text = move || {
        let i = info.get();
        match i.page_count() {
            Some(n) => format!("Page {} of {n}", i.page),
            None => format!("Page {}", i.page),
        }
    };
    // Rebuilt only when the count changes, not on every page: the box keeps its place.
    // One page needs no box and no way to its end.
    let count = Memo::new(move |_| info.with(PageInfo::page_count).filter(|n| *n > 1));
    let last = move || count.get();
    let on_last = move || info.with(|i| i.page_count().is_none_or(|n| u64::from(i.page) >= n));
    let on_first = move || info.with(|i| i.page <= 1);
    let at_end = move || info.with(|i| !i.has_next);
    // The ends' buttons are `aria-disabled`, not `disabled`: "Last" pressed from the keyboard
    // would otherwise be disabled under the focus, and the browser drops the focus to the
    // page. This way it keeps it, says there is nowhere further, and a press does nothing.
    // A typed page goes through `jump_to`; anything else puts the current page back in the box.
    let go = move |ev: leptos::ev::Event| {
        let i = info.get_untracked();
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        match i.jump_to(&input.value()) {
            Some(page) => on_page.run(page),
            None => input.set_value(&i.page.to_string()),
        }
    };
    view! {
        <nav class="pager" aria-label="Pages" data-testid="pager">
            <span class="range" data-testid="range">{move || info.get().range_text()}</span>
            <button
                type="button"
                data-testid="first"
                aria-disabled=move || on_first().to_string()
                on:click=move |_| if !on_first() { on_page.run(1) }
            >
                <span aria-hidden="true">"« "</span>"First"<span class="wide-only">" page"</span>
            </button>
            <button
                type="button"
                data-testid="prev"
                aria-disabled=move || on_first().to_string()
                on:click=move |_| if !on_first() { on_page.run(info.get_untracked().page - 1) }
            >
                // The visible words are the accessible name (WCAG 2.5.3): no aria-label that
                // says something else, and the arrow is decoration. A phone shows "Previous".
                <span aria-hidden="true">"‹ "</span>"Previous"<span class="wide-only">" page"</span>
            </button>
            {move || match last() {
                Some(n) => view! {
                    <label class="page-jump">
                        "Page "
                        <input type="number" inputmode="numeric" min="1" max=n.to_string()
                            data-testid="page-input" prop:value=move || info.get().page.to_string()
                            on:change=go/>
                        {format!(" of {n}")}
                    </label>
                }.into_any(),
                None => ().into_any(),
            }}
            // What a screen reader hears after a page change; shown as text when there is no box.
            <span class="page-no" class:visually-hidden=move || last().is_some()
                aria-live="polite" data-testid="page-no">{page_text}</span>
            <button
                type="button"
                data-testid="next"
                aria-disabled=move || at_end().to_string()
                on:click=move |_| if !at_end() { on_page.run(info.get_untracked().page.saturating_add(1)) }
            >
                "Next"<span class="wide-only">" page"</span><span aria-hidden="true">" ›"</span>
            </button>
            {move || last().map(|n| view! {
                <button type="button" data-testid="last" aria-disabled=move || on_last().to_string()
                    on:click=move |_| if !on_last() { on_page.run(u32::try_from(n).unwrap_or(u32::MAX)) }>
                    "Last"<span class="wide-only">" page"</span><span aria-hidden="true">" »"</span>
                </button>
            })}
            <label class="page-size">
                <span>"Rows"</span>
                <select
                    data-testid="page-size"
                    prop:value=move || info.get().size.to_string()
                    on:change=move |ev| {
                        if let Ok(n) = event_target_value(&ev).parse::<u32>() {
                            on_size.run(n);
                        }
                    }
                >
                    {PAGE_SIZES
                        .iter()
                        .map(|n| view! { <option value=n.to_string()>{n.to_string()}</option> })
                        .collect_view()}
                </select>
            </label>
        </nav>
    }
}

//! Paging controls: previous/next, the page number, the total and page count when the CRM reports
//! them, and the page size.

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

/// The pager bar.
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
    view! {
        <nav class="pager" aria-label="Pages" data-testid="pager">
            <span class="range" data-testid="range">{move || info.get().range_text()}</span>
            <button
                type="button"
                data-testid="prev"
                prop:disabled=move || info.get().page <= 1
                on:click=move |_| on_page.run(info.get_untracked().page.saturating_sub(1).max(1))
            >
                // The visible words are the accessible name (WCAG 2.5.3): no aria-label that
                // says something else, and the arrow is decoration.
                <span aria-hidden="true">"‹ "</span>"Previous page"
            </button>
            <span class="page-no" aria-live="polite" data-testid="page-no">{page_text}</span>
            <button
                type="button"
                data-testid="next"
                prop:disabled=move || !info.get().has_next
                on:click=move |_| on_page.run(info.get_untracked().page + 1)
            >
                "Next page"<span aria-hidden="true">" ›"</span>
            </button>
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

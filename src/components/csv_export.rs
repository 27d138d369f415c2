//! CSV export of the whole current query, across all pages, with a progress bar.
//!
//! Pages are fetched one after another through the client, whose rate limiter paces the requests
//! (a long export slows down as the quota runs low instead of tripping a 429); the bar shows how
//! far it got and the export can be stopped.

use std::rc::Rc;

use leptos::prelude::*;
use userdeck_client::{FieldKind, FieldSpec, User, UserQuery};
use wasm_bindgen::JsCast;

use crate::components::users_table::cell_text;
use crate::lazy::{self, Unavailable};
use crate::state::session::{ApiClient, describe};
use crate::state::toast::{ToastKind, notify};

/// One CSV field, quoted when needed; a leading `= + - @` is defused so a spreadsheet never runs
/// CRM data as a formula.
pub fn csv_field(value: &str) -> String {
    let defused = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// The CSV text (header row, then one row per user; CRLF line ends as RFC 4180 says).
pub fn to_csv(columns: &[FieldSpec], users: &[User]) -> String {
    let mut out = String::new();
    let header: Vec<String> = std::iter::once("id".to_string())
        .chain(columns.iter().map(|c| csv_field(c.label)))
        .collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for user in users {
        let row: Vec<String> = std::iter::once(user.id.to_string())
            .chain(columns.iter().map(|c| csv_field(&export_text(c, user))))
            .collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A cell as exported: what the table shows, but a date-time and a locale as the CRM sent them.
/// The table's date-time is local to the admin's browser and cut to the minute, and its
/// language name is the browser's; a file travels, so it keeps the full value with its zone and
/// the code another system can read back.
fn export_text(column: &FieldSpec, user: &User) -> String {
    match column.kind {
        FieldKind::DateTime | FieldKind::Locale => column.display(user).unwrap_or_default(),
        _ => cell_text(column, user),
    }
}

/// Offers `text` as a download named `filename`.
pub fn download(filename: &str, text: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/csv;charset=utf-8");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|_| "The browser could not build the file.".to_string())?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|_| "The browser could not offer the file.".to_string())?;
    let document = document();
    let anchor = document
        .create_element("a")
        .map_err(|_| "The browser could not offer the file.".to_string())?
        .unchecked_into::<web_sys::HtmlAnchorElement>();
    anchor.set_href(&url);
    anchor.set_download(filename);
    anchor.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// Where an export stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportState {
    Idle,
    Running { fetched: u64, total: Option<u64> },
    Done(u64),
    Failed(String),
}

/// Fetches every page of `query` in the largest pages the CRM allows ([`Client::list_all_reporting`]
/// walks them), reporting progress; stops early when `stop` turns true. Returns the users in
/// order.
///
/// [`Client::list_all_reporting`]: userdeck_client::Client::list_all_reporting
pub async fn fetch_all(
    client: Rc<ApiClient>,
    query: UserQuery,
    progress: impl Fn(u64, Option<u64>),
    stop: impl Fn() -> bool,
) -> Result<Vec<User>, userdeck_client::ApiError> {
    let query = UserQuery {
        page_size: client.capabilities().max_page_size,
        ..query
    };
    client
        .list_all_reporting(&query, |fetched, total| {
            progress(fetched, total);
            !stop()
        })
        .await
}

/// One export: what to fetch, the columns to write, and the signals its progress shows in.
pub struct ExportJob {
    pub client: Rc<ApiClient>,
    pub query: UserQuery,
    pub columns: Vec<FieldSpec>,
    pub filename: String,
    pub state: RwSignal<ExportState>,
    pub stop: RwSignal<bool>,
}

/// Runs `job` to its end: every page, the CSV, the download, and the outcome in `job.state`.
pub async fn run(job: ExportJob) {
    let ExportJob {
        client,
        query,
        columns,
        filename,
        state,
        stop,
    } = job;
    let outcome = fetch_all(
        client,
        query,
        |fetched, total| state.set(ExportState::Running { fetched, total }),
        // A page left mid-export has no Stop button any more: the export runs on and still
        // downloads, as the user asked (reading the gone signal would panic).
        || stop.try_get_untracked().unwrap_or(false),
    )
    .await;
    match outcome {
        Ok(users) => {
            let n = users.len() as u64;
            match download(&filename, &to_csv(&columns, &users)) {
                Ok(()) => {
                    state.set(ExportState::Done(n));
                    notify(
                        ToastKind::Success,
                        format!("Exported {n} users to {filename}"),
                    );
                }
                Err(e) => state.set(ExportState::Failed(e)),
            }
        }
        Err(e) => state.set(ExportState::Failed(describe(&e))),
    }
}

/// The export button and its progress bar.
#[component]
pub fn CsvExport(
    client: StoredValue<Rc<ApiClient>, LocalStorage>,
    #[prop(into)] query: Signal<UserQuery>,
    #[prop(into)] columns: Signal<Vec<FieldSpec>>,
    #[prop(into)] filename: Signal<String>,
) -> impl IntoView {
    let state = RwSignal::new(ExportState::Idle);
    let stop = RwSignal::new(false);
    let running = move || matches!(state.get(), ExportState::Running { .. });
    let start = move |_| {
        if state.with_untracked(|s| matches!(s, ExportState::Running { .. })) {
            return;
        }
        stop.set(false);
        state.set(ExportState::Running {
            fetched: 0,
            total: None,
        });
        let job = ExportJob {
            client: client.get_value(),
            query: query.get_untracked(),
            columns: columns.get_untracked(),
            filename: filename.get_untracked(),
            state,
            stop,
        };
        // The export's code is fetched with the screens the list leads to (`lazy`).
        leptos::task::spawn_local(async move {
            match lazy::csv_export(job).await {
                Ok(export) => export.await,
                Err(Unavailable) => state.set(ExportState::Failed(
                    "this part of Userdeck could not be downloaded. Check the network and try \
                     again; if it keeps failing, reload the page (a new version may have been \
                     published)."
                        .into(),
                )),
            }
        });
    };
    view! {
        <div class="csv-export">
            // `aria-disabled` while it runs, not `disabled`, which would drop the focus to the
            // page: the button keeps it, and Stop is the next Tab away.
            <button type="button" data-testid="export-csv" aria-disabled=move || running().to_string() on:click=start>
                "Export CSV"
            </button>
            {move || match state.get() {
                ExportState::Idle => ().into_any(),
                ExportState::Running { fetched, total } => view! {
                    <span class="export-progress" role="status">
                        <progress
                            data-testid="export-progress"
                            max=total.map(|t| t.max(1)).unwrap_or(1).to_string()
                            value=total.map(|_| fetched.to_string())
                            aria-label="Export progress"
                        ></progress>
                        {match total {
                            Some(t) => format!(" {fetched} of {t}"),
                            None => format!(" {fetched} so far"),
                        }}
                        <button type="button" class="link" on:click=move |_| stop.set(true)>"Stop"</button>
                    </span>
                }.into_any(),
                ExportState::Done(n) => view! { <span class="hint">{format!("{n} users exported.")}</span> }.into_any(),
                ExportState::Failed(e) => view! { <span class="error" role="alert">{format!("Export failed: {e}")}</span> }.into_any(),
            }}
        </div>
    }
}

//! The browser side of `cargo xtask bench`: time from navigation to the first table row (cold
//! loads) and the re-render of a 100-row page after a sort, in headless Chromium against the
//! release bundle, the proxy and the sandbox. Prints one JSON object per figure on stdout.
//!
//! Both are measured inside the page, on its own clock (`performance.now()`), by observers the
//! harness adds. The first row is also cut into phases (download, compile, app start, network,
//! the page's render, rows) at the app's three User Timing marks
//! (`src/milestones.rs`) and the page's resource timings.
//!
//! To see where the time goes: `UI_BENCH_TIMELINE=1` prints every request and long task of the
//! cold loads, and `UI_BENCH_PROFILE=1` a sampled CPU profile of the sorts (self time by
//! function; build the bundle with wasm-opt's `-g` to get Rust names instead of indices), and
//! `UI_BENCH_LOAD_PROFILE=1` one of each cold load (the profiler slows the loads it watches, so
//! its figures are for finding where the time goes, not for the record). `UI_BENCH_ONLY` limits
//! the run to some figures.

use serde_json::{Value, json};
use userdeck_e2e::{Browser, Stack};

const COLD_LOADS: usize = 10;
const SORTS: usize = 11;

/// Records when the first user row enters the DOM, counted from the start of the navigation.
const FIRST_ROW_OBSERVER: &str = r#"
(() => {
  const seen = () => document.querySelector('table.users-table tbody tr[data-id]');
  const observer = new MutationObserver(() => {
    if (seen()) { window.__firstRowMs = performance.now(); observer.disconnect(); }
  });
  observer.observe(document, { childList: true, subtree: true });
  window.__longTasks = [];
  try {
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) window.__longTasks.push([Math.round(e.startTime), Math.round(e.duration)]);
    }).observe({ type: 'longtask', buffered: true });
  } catch (_) {}
})();
"#;

/// Clicks a sort header and reports the time from the click to the table's last DOM change,
/// once the rows are in their new order and the table has been quiet for 150 ms.
const TIMED_SORT: &str = r#"
const [selector, done] = [arguments[0], arguments[arguments.length - 1]];
const table = document.querySelector('table.users-table');
const ids = () => Array.from(table.querySelectorAll('tbody tr[data-id]')).map(r => r.dataset.id).join();
const before = ids();
let last = 0;
const observer = new MutationObserver(() => { last = performance.now(); });
observer.observe(table, { childList: true, subtree: true, attributes: true, characterData: true });
const start = performance.now();
document.querySelector(selector).click();
const poll = () => {
  const now = performance.now();
  if (ids() !== before && table.getAttribute('aria-busy') === 'false' && now - last > 150) {
    observer.disconnect();
    // When the CRM sorts, the end of its answer splits the time into request and re-render.
    const answers = performance.getEntriesByType('resource')
      .filter(e => e.startTime >= start && e.name.includes('/proxy/'));
    const answered = answers.length ? Math.max(...answers.map(e => e.responseEnd)) - start : null;
    done({ ms: last - start, answered, rows: table.querySelectorAll('tbody tr[data-id]').length });
  } else if (now - start > 20000) {
    observer.disconnect();
    done({ error: 'the rows never changed order' });
  } else {
    setTimeout(poll, 10);
  }
};
setTimeout(poll, 10);
"#;

/// A load's milestones, in ms from navigation start: the bundle's wasm received, the app's own
/// User Timing marks (`src/milestones.rs`), the users list's answer received (the request that
/// left when the app marked it), and the first row in the DOM.
const MILESTONES: &str = r#"
const mark = n => { const m = performance.getEntriesByName(n)[0]; return m ? m.startTime : null; };
const resources = performance.getEntriesByType('resource');
const wasm = resources.find(e => e.name.endsWith('.wasm'));
const requested = mark('userdeck:list-requested');
let list = null;
for (const e of resources) {
  if (requested === null || !e.name.includes('/proxy/')) continue;
  if (!list || Math.abs(e.startTime - requested) < Math.abs(list.startTime - requested)) list = e;
}
return [wasm ? wasm.responseEnd : null, mark('userdeck:started'), requested,
        list ? list.responseEnd : null, mark('userdeck:list-received'), window.__firstRowMs];
"#;

/// The phases of a first visit, between consecutive [`MILESTONES`].
const PHASES: [&str; 6] = [
    "page and bundle downloaded",
    "wasm compiled and instantiated",
    "app started, until the list is requested",
    "list request on the network",
    "answer to the page holding the list (the page renders)",
    "rows rendered",
];

/// Whether to measure `metric`: all of them, unless `UI_BENCH_ONLY` lists some (comma-separated
/// metric names, e.g. `first_row,sort_rerender`), for a quicker run while working on one.
fn wanted(metric: &str) -> bool {
    std::env::var("UI_BENCH_ONLY").map_or(true, |only| only.split(',').any(|m| m.trim() == metric))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn report(metric: &str, crm: &str, samples: Vec<f64>, note: &str) {
    println!("{}", figure(metric, crm, samples, note));
}

/// One figure as the JSON object `cargo xtask bench` reads.
fn figure(metric: &str, crm: &str, samples: Vec<f64>, note: &str) -> Value {
    json!({
        "metric": metric,
        "crm": crm,
        "median_ms": median(samples.clone()),
        "samples_ms": samples,
        "note": note,
    })
}

/// A cold series' samples: the first rows, each phase's, and how long each browser took to
/// settle before the load (empty for a just-started browser, which is timed unsettled).
struct ColdLoads {
    samples: Vec<f64>,
    phases: Vec<Vec<f64>>,
    settled_after: Vec<f64>,
}

/// Time to the first row of `crm`'s users over [`COLD_LOADS`] loads, each in a new browser;
/// with `warm_browser` the browser first shows the sandbox's home page (another origin) and
/// finishes starting up (`Browser::wait_until_idle`) before the app's page is opened.
async fn cold_loads(stack: &Stack, crm: &str, warm_browser: bool) -> ColdLoads {
    let mut samples = Vec::new();
    let mut phases = vec![Vec::new(); PHASES.len()];
    let mut settled_after = Vec::new();
    for _ in 0..COLD_LOADS {
        let browser = Browser::start().await;
        if warm_browser {
            browser
                .client
                .goto(&stack.sandbox().url())
                .await
                .expect("the sandbox's home page");
            let waited = browser.wait_until_idle().await;
            settled_after.push(waited.as_secs_f64() * 1000.0);
        }
        browser.on_every_document(FIRST_ROW_OBSERVER).await;
        let profiling = std::env::var_os("UI_BENCH_LOAD_PROFILE").is_some();
        if profiling {
            start_profile(&browser).await;
        }
        browser
            .client
            .goto(&stack.url(&format!("/c/{crm}/users")))
            .await
            .expect("navigate");
        let ms = browser
            .wait_until("window.__firstRowMs", &format!("{crm}: first row"))
            .await;
        if profiling {
            let profile = browser.devtools("Profiler.stop", json!({})).await;
            print_profile(&format!("{crm}: cold load"), &profile);
        }
        samples.push(ms.as_f64().unwrap_or(f64::NAN));
        add_phases(&browser, &mut phases).await;
        if std::env::var_os("UI_BENCH_TIMELINE").is_some() {
            // Where a load's time goes: every request, from the page's own timings.
            let timeline = browser
                .client
                .execute(
                    "return performance.getEntriesByType('resource').map(e => \
                       [e.name.replace(location.origin, ''), Math.round(e.startTime), Math.round(e.requestStart), \
                        Math.round(e.responseStart), Math.round(e.responseEnd)]) \
                       .concat([['page', 0, Math.round(performance.getEntriesByType('navigation')[0].requestStart), \
                        Math.round(performance.getEntriesByType('navigation')[0].responseStart), \
                        Math.round(performance.getEntriesByType('navigation')[0].responseEnd)]]) \
                       .concat([['first row', 0, Math.round(window.__firstRowMs)]]) \
                       .concat(window.__longTasks.map(t => ['long task', t[0], t[0] + t[1]]));",
                    Vec::new(),
                )
                .await
                .unwrap_or_default();
            eprintln!("{crm}: {timeline}");
        }
        browser.close().await;
    }
    ColdLoads {
        samples,
        phases,
        settled_after,
    }
}

/// Adds the phases of the load `browser` just made to `phases` (one list per [`PHASES`] entry).
async fn add_phases(browser: &Browser, phases: &mut [Vec<f64>]) {
    let milestones = browser.eval(MILESTONES, "read the load's milestones").await;
    let at: Vec<Option<f64>> = milestones
        .as_array()
        .map(|a| a.iter().map(Value::as_f64).collect())
        .unwrap_or_default();
    // From navigation start (0) through each milestone; a load missing one (a browser without
    // User Timing) adds no phase samples rather than wrong ones.
    if at.len() == PHASES.len() && at.iter().all(Option::is_some) {
        let mut before = 0.0;
        for (phase, t) in phases.iter_mut().zip(at.iter().flatten()) {
            phase.push(t - before);
            before = *t;
        }
    }
}

/// Reports each phase's samples for `crm` on a `visit` ("first visit", "warm caches").
fn report_phases(crm: &str, visit: &str, phases: Vec<Vec<f64>>) {
    for (phase, samples) in PHASES.iter().zip(phases) {
        let mut line = figure("first_row_phase", crm, samples, phase);
        line["visit"] = visit.into();
        println!("{line}");
    }
}

/// Starts DevTools' sampling CPU profiler (one sample every 100 µs) in `browser`'s page.
async fn start_profile(browser: &Browser) {
    browser.devtools("Profiler.enable", json!({})).await;
    browser
        .devtools("Profiler.setSamplingInterval", json!({ "interval": 100 }))
        .await;
    browser.devtools("Profiler.start", json!({})).await;
}

/// Prints a sampled CPU profile's self time by function, largest first.
fn print_profile(what: &str, profile: &Value) {
    let nodes = profile["profile"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let samples_ids = profile["profile"]["samples"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut hits: std::collections::HashMap<u64, usize> = Default::default();
    for id in samples_ids.iter().filter_map(Value::as_u64) {
        *hits.entry(id).or_default() += 1;
    }
    let mut by_name: std::collections::HashMap<String, usize> = Default::default();
    for node in &nodes {
        let id = node["id"].as_u64().unwrap_or(0);
        let frame = &node["callFrame"];
        let name = format!(
            "{} {}",
            frame["functionName"].as_str().unwrap_or(""),
            frame["url"]
                .as_str()
                .unwrap_or("")
                .rsplit('/')
                .next()
                .unwrap_or("")
        );
        *by_name.entry(name).or_default() += hits.get(&id).copied().unwrap_or(0);
    }
    let mut top: Vec<_> = by_name.into_iter().collect();
    top.sort_by_key(|t| std::cmp::Reverse(t.1));
    let total: usize = top.iter().map(|t| t.1).sum();
    // Where the samples fell: the app's wasm, its JS glue, the browser's own work.
    let mut by_kind: std::collections::BTreeMap<&str, usize> = Default::default();
    for (name, n) in &top {
        let kind = if name.ends_with(".wasm") {
            "wasm"
        } else if name.ends_with(".js") {
            "js"
        } else if name.starts_with('(') {
            name.trim()
        } else {
            "browser built-ins"
        };
        *by_kind.entry(kind).or_default() += n;
    }
    eprintln!("{what}: {total} samples, {by_kind:?}");
    for (name, n) in top.iter().take(25) {
        eprintln!("  {n:6} {name}");
    }
}

#[tokio::main]
async fn main() {
    let stack = Stack::start().await;
    let crms = [
        ("appcrm", "email"),
        ("capsule", "email"),
        ("zurmo", "username"),
    ];

    for (crm, _) in crms {
        // A first visit: a new browser that has shown another site's page and finished starting
        // (so the browser itself is up, as a user's is) but has nothing of the app cached or
        // compiled.
        if wanted("first_row") {
            let loads = cold_loads(&stack, crm, true).await;
            let mut line = figure(
                "first_row",
                crm,
                loads.samples,
                "navigation start to the first user row in the DOM, first visit (empty caches, browser running and settled)",
            );
            line["browser_settled_after_ms"] = median(loads.settled_after).into();
            println!("{line}");
            // Where a first visit's time goes, phase by phase, over the same loads.
            report_phases(crm, "first visit", loads.phases);
        }
        // The same, but the app's page is the new browser's very first navigation, so its
        // time also carries the browser's own start (network service, renderer, disk cache).
        if wanted("first_row_new_browser") {
            let loads = cold_loads(&stack, crm, false).await;
            report(
                "first_row_new_browser",
                crm,
                loads.samples,
                "navigation start to the first user row in the DOM, a just-started browser's first page",
            );
        }
    }

    // The same with the browser's caches warm (compiled wasm, HTTP cache): what a returning
    // user sees, and how much of a cold load is compiling and fetching the bundle.
    for (crm, _) in crms.into_iter().filter(|_| wanted("first_row_warm")) {
        let browser = Browser::start().await;
        browser.wait_until_idle().await;
        browser.on_every_document(FIRST_ROW_OBSERVER).await;
        let url = stack.url(&format!("/c/{crm}/users"));
        let mut samples = Vec::new();
        let mut phases = vec![Vec::new(); PHASES.len()];
        for n in 0..=COLD_LOADS {
            browser.client.goto(&url).await.expect("navigate");
            let ms = browser
                .wait_until("window.__firstRowMs", &format!("{crm}: first row (warm)"))
                .await;
            // The first load fills the caches.
            if n > 0 {
                samples.push(ms.as_f64().unwrap_or(f64::NAN));
                add_phases(&browser, &mut phases).await;
            }
            browser
                .client
                .goto("about:blank")
                .await
                .expect("leave the page");
        }
        browser.close().await;
        report(
            "first_row_warm",
            crm,
            samples,
            "navigation start to the first user row in the DOM, browser caches warm",
        );
        report_phases(crm, "warm caches", phases);
    }

    // The sorts run on a new sandbox: the loads above used up much of App CRM's 90 requests a
    // minute, and a client that sees its quota run low spaces its requests out on purpose,
    // which would be timed here as slow sorts.
    stack.shutdown().await;
    if !wanted("sort_rerender") {
        return;
    }
    let stack = Stack::start().await;
    let browser = Browser::start().await;
    browser.wait_until_idle().await;
    for (crm, key) in crms {
        browser
            .open(&stack.url(&format!("/c/{crm}/users?size=100")))
            .await;
        browser.rows(&format!("{crm}: 100 rows")).await;
        let mut samples = Vec::new();
        let mut after_answer = Vec::new();
        let profiling = std::env::var_os("UI_BENCH_PROFILE").is_some();
        if profiling {
            start_profile(&browser).await;
        }
        for n in 0..SORTS {
            let outcome = browser
                .client
                .execute_async(
                    TIMED_SORT,
                    vec![Value::from(format!("[data-testid=sort-{key}]"))],
                )
                .await
                .expect("timed sort");
            if let Some(e) = outcome.get("error") {
                panic!("{crm}: sort {n}: {e}");
            }
            let rows = outcome["rows"].as_u64().unwrap_or(0);
            assert_eq!(
                rows, 100,
                "{crm}: a sort of a 100-row page shows {rows} rows"
            );
            // The first sort warms up (Capsule fetches every user once to sort on the client).
            if n > 0 {
                let ms = outcome["ms"].as_f64().unwrap_or(f64::NAN);
                samples.push(ms);
                if let Some(answered) = outcome["answered"].as_f64() {
                    after_answer.push(ms - answered);
                }
            }
        }
        if profiling {
            // Self time by function over the timed sorts, to see where a re-render goes.
            let profile = browser.devtools("Profiler.stop", json!({})).await;
            print_profile(crm, &profile);
        }
        let note = if crm == "capsule" {
            "click to the last DOM change, 100 rows, sorted in the browser"
        } else {
            "click to the last DOM change, 100 rows, sorted by the CRM (includes the request)"
        };
        report("sort_rerender", crm, samples, note);
        if !after_answer.is_empty() {
            report(
                "sort_render_after_answer",
                crm,
                after_answer,
                "the CRM's sorted answer fully received to the last DOM change, 100 rows",
            );
        }
    }
    browser.close().await;
    stack.shutdown().await;
}

//! A chromedriver process and one headless Chromium session, with the few verbs the journeys
//! use. Every wait polls a condition in the page (never a fixed sleep) and, on timeout, saves a
//! screenshot and fails with what it was waiting for; `wait_until_idle` polls the browser's
//! processes instead.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use serde_json::{Value, json};

use crate::{free_port, output_dir};

/// How long a condition may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(20);

/// The colour scheme the page sees through `prefers-color-scheme`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

/// A headless Chromium driven over WebDriver.
pub struct Browser {
    pub client: Client,
    driver: Child,
    // Removed after the browser is gone (fields drop after `Drop::drop`).
    _profile: TempDir,
    downloads: TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a session in a fresh profile, with downloads
    /// saved (without asking) to a folder of its own.
    pub async fn start() -> Browser {
        // Two crypto back ends are linked in (see Cargo.toml): choose one before any TLS
        // config is built. A second call finds it installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let driver_path =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        end_browsers_on_fatal_signals();
        // Its own process group, so that killing the group also ends the Chromium it started
        // when a failing test never gets to close the session.
        let driver = Command::new(&driver_path)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {driver_path}: {e}"));
        track(&driver);
        let profile = TempDir::new("userdeck-chromium");
        let downloads = TempDir::new("userdeck-downloads");
        let capabilities = json!({
            "goog:chromeOptions": {
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.0.display()),
                ],
                "prefs": {
                    "download.default_directory": downloads.0.display().to_string(),
                    "download.prompt_for_download": false,
                }
            }
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let url = format!("http://127.0.0.1:{port}");
        // chromedriver takes a moment to listen: retry the session until it answers.
        let deadline = Instant::now() + PATIENCE;
        let client = loop {
            match ClientBuilder::rustls()
                .expect("rustls client")
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() > deadline => panic!("chromedriver at {url}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
            downloads,
        }
    }

    /// Opens `url` and waits for the app to have started (its layout is on the page).
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
        self.wait_for("main#main", &format!("the app at {url}"))
            .await;
    }

    /// Waits until `css` matches an element.
    pub async fn wait_for(&self, css: &str, what: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => {
                self.fail(what, &format!("`{css}` never appeared ({e})"))
                    .await
            }
        }
    }

    /// Runs `script` (a function body that `return`s) in the page and gives its value; a
    /// script that throws fails the test as `what`, with a screenshot.
    pub async fn eval(&self, script: &str, what: &str) -> Value {
        match self.client.execute(script, Vec::new()).await {
            Ok(value) => value,
            Err(e) => self.fail(what, &format!("the script failed ({e})")).await,
        }
    }

    /// Waits until the JavaScript expression `condition` is truthy in the page; returns its value.
    pub async fn wait_until(&self, condition: &str, what: &str) -> Value {
        let script = format!("return ({condition});");
        let deadline = Instant::now() + PATIENCE;
        loop {
            let last = match self.client.execute(&script, Vec::new()).await {
                Ok(v) if truthy(&v) => return v,
                Ok(v) => v.to_string(),
                Err(e) => e.to_string(),
            };
            if Instant::now() > deadline {
                self.fail(what, &format!("`{condition}` stayed false (last: {last})"))
                    .await
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the element `css` exists and its text contains `needle`.
    pub async fn wait_for_text(&self, css: &str, needle: &str, what: &str) {
        let condition = format!(
            "Array.from(document.querySelectorAll({css})).some(e => e.textContent.includes({needle}))",
            css = js(css),
            needle = js(needle)
        );
        self.wait_until(&condition, what).await;
    }

    /// Waits until the page's URL (path and query) satisfies `predicate`.
    pub async fn wait_for_url(
        &self,
        what: &str,
        predicate: impl Fn(&url::Url) -> bool,
    ) -> url::Url {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(url) = self.client.current_url().await
                && predicate(&url)
            {
                return url;
            }
            if Instant::now() > deadline {
                self.fail(what, "the address never matched").await
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks the element `css` (waiting for it first).
    pub async fn click(&self, css: &str) {
        let element = self.wait_for(css, &format!("click {css}")).await;
        if let Err(e) = element.click().await {
            self.fail(&format!("click {css}"), &e.to_string()).await
        }
    }

    /// Replaces the value of the input `css` with `text`, typed key by key.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.wait_for(css, &format!("fill {css}")).await;
        element.clear().await.expect("clear the field");
        element.send_keys(text).await.expect("type into the field");
    }

    /// Chooses the option with value `value` in the select `css`.
    pub async fn select(&self, css: &str, value: &str) {
        let element = self.wait_for(css, &format!("select in {css}")).await;
        element
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choose {value:?} in {css}: {e}"));
    }

    /// The value of the form control `css`.
    pub async fn value(&self, css: &str) -> String {
        let element = self.wait_for(css, &format!("read {css}")).await;
        element
            .prop("value")
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// The text of the element `css`.
    pub async fn text(&self, css: &str) -> String {
        let element = self.wait_for(css, &format!("read {css}")).await;
        element.text().await.unwrap_or_default()
    }

    /// How many elements match `css` now.
    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|v| v.len())
            .unwrap_or(0)
    }

    /// The texts of every element matching `css`, in document order.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let script = format!(
            "return Array.from(document.querySelectorAll({})).map(e => e.textContent.trim());",
            js(css)
        );
        let v = self
            .client
            .execute(&script, Vec::new())
            .await
            .expect("read texts");
        strings(&v)
    }

    /// Waits until the users table has settled (not busy) with at least one row, and returns
    /// the rows' user ids in order.
    pub async fn rows(&self, what: &str) -> Vec<String> {
        self.wait_until(
            "document.querySelector('table.users-table[aria-busy=false] tbody tr[data-id]')",
            what,
        )
        .await;
        self.row_ids().await
    }

    /// Waits until the settled table shows rows other than `before` (after a page or sort
    /// change), and returns them.
    pub async fn rows_other_than(&self, before: &[String], what: &str) -> Vec<String> {
        let before = Value::from(before.to_vec()).to_string();
        let condition = format!(
            "(() => {{ if (!document.querySelector('table.users-table[aria-busy=false]')) return false; \
               const ids = Array.from(document.querySelectorAll('table.users-table tbody tr[data-id]')).map(r => r.dataset.id); \
               return ids.length > 0 && JSON.stringify(ids) !== JSON.stringify({before}); }})()"
        );
        self.wait_until(&condition, what).await;
        self.row_ids().await
    }

    /// The user ids of the table's rows now.
    pub async fn row_ids(&self) -> Vec<String> {
        let v = self
            .client
            .execute(
                "return Array.from(document.querySelectorAll('table.users-table tbody tr[data-id]')).map(r => r.dataset.id);",
                Vec::new(),
            )
            .await
            .expect("read the row ids");
        strings(&v)
    }

    /// The texts of the column whose header has `data-key=key`, one per row.
    pub async fn column(&self, key: &str) -> Vec<String> {
        let script = format!(
            "const ths = Array.from(document.querySelectorAll('table.users-table thead th')); \
             const i = ths.findIndex(t => t.dataset.key === {key}); \
             if (i < 0) return null; \
             return Array.from(document.querySelectorAll('table.users-table tbody tr[data-id]')) \
               .map(r => (r.children[i] ? r.children[i].textContent.trim() : ''));",
            key = js(key)
        );
        let v = self
            .client
            .execute(&script, Vec::new())
            .await
            .expect("read a column");
        assert!(!v.is_null(), "the table has no column {key}");
        strings(&v)
    }

    /// Sets what `prefers-color-scheme` answers (Chromium's DevTools emulation), so a test can
    /// see both themes without a second browser.
    pub async fn set_theme(&self, theme: Theme) {
        let value = match theme {
            Theme::Light => "light",
            Theme::Dark => "dark",
        };
        self.client
            .issue_cmd(DevTools {
                method: "Emulation.setEmulatedMedia",
                params: json!({ "features": [{ "name": "prefers-color-scheme", "value": value }] }),
            })
            .await
            .expect("emulate the colour scheme");
    }

    /// Sends a Chromium DevTools command and returns its result.
    pub async fn devtools(&self, method: &'static str, params: Value) -> Value {
        self.client
            .issue_cmd(DevTools { method, params })
            .await
            .unwrap_or_else(|e| panic!("DevTools {method}: {e}"))
    }

    /// Runs `script` at the start of every document this browser loads, before the page's own
    /// scripts (for measuring from the very beginning of a navigation).
    pub async fn on_every_document(&self, script: &str) {
        self.client
            .issue_cmd(DevTools {
                method: "Page.addScriptToEvaluateOnNewDocument",
                params: json!({ "source": script }),
            })
            .await
            .expect("add a script to every document");
    }

    /// Saves a screenshot of `screen` in light and in dark in the output folder.
    pub async fn screenshot_themes(&self, screen: &str) {
        for theme in [Theme::Dark, Theme::Light] {
            self.set_theme(theme).await;
            // The new scheme applies on the next style recalculation: wait for it to show.
            let expected = if theme == Theme::Dark {
                "dark"
            } else {
                "light"
            };
            self.wait_until(
                &format!("matchMedia('(prefers-color-scheme: {expected})').matches"),
                "the emulated colour scheme",
            )
            .await;
            let name = format!("{screen}-{expected}");
            assert!(
                self.screenshot(&name).await.is_some(),
                "could not save the screenshot {name}"
            );
        }
    }

    /// Saves a PNG of the current page in the output folder and returns its path.
    pub async fn screenshot(&self, name: &str) -> Option<PathBuf> {
        let png = self.client.screenshot().await.ok()?;
        let path = output_dir().join(format!("{}.png", sanitize(name)));
        std::fs::write(&path, png).ok()?;
        Some(path)
    }

    /// Where this browser saves downloads.
    pub fn downloads(&self) -> &Path {
        &self.downloads.0
    }

    /// Waits for a finished download named `name` and returns its contents.
    pub async fn downloaded(&self, name: &str) -> String {
        let path = self.downloads.0.join(name);
        let deadline = Instant::now() + PATIENCE;
        loop {
            // Chromium writes `name.crdownload` and renames it when complete.
            if let Ok(text) = std::fs::read_to_string(&path) {
                return text;
            }
            if Instant::now() > deadline {
                self.fail("download", &format!("{} never arrived", path.display()))
                    .await
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a screenshot and panics with what was expected and where the page was.
    pub async fn fail(&self, what: &str, why: &str) -> ! {
        let shot = self.screenshot(&format!("FAILED-{what}")).await;
        let url = self.client.current_url().await.map(|u| u.to_string());
        panic!("{what}: {why}; page {url:?}; screenshot {shot:?}")
    }

    /// Ends the session; dropping then stops the driver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// The process group of chromedriver and the Chromium it started.
    pub fn process_group(&self) -> u32 {
        self.driver.id()
    }

    /// Waits until the browser's own processes have been quiet for a while, and says how long
    /// that took. A just-started Chromium keeps working for a second or two after its first
    /// page (it builds its omnibox popup, a web page of several hundred modules, in a renderer
    /// of its own): on a two-core machine that takes one core from whatever page loads
    /// meanwhile. A user's browser has long finished starting when they open a link, so
    /// `ui-bench` waits for this before timing a first visit. Quiet: at most 10 ms of CPU in
    /// each of [`QUIET_WINDOWS`] windows of 100 ms in a row, summed over every process in the
    /// driver's group; [`SETTLE_LIMIT`] at most.
    pub async fn wait_until_idle(&self) -> Duration {
        let start = Instant::now();
        let mut before = cpu_ms(self.driver.id());
        let mut quiet = 0;
        while quiet < QUIET_WINDOWS && start.elapsed() < SETTLE_LIMIT {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = cpu_ms(self.driver.id());
            quiet = if now.saturating_sub(before) <= 10 {
                quiet + 1
            } else {
                0
            };
            before = now;
        }
        start.elapsed()
    }
}

/// How many quiet 100 ms windows in a row [`Browser::wait_until_idle`] waits for.
const QUIET_WINDOWS: u32 = 3;

/// The longest [`Browser::wait_until_idle`] waits: a host too busy to ever look quiet slows
/// the measurement, it does not stop it.
const SETTLE_LIMIT: Duration = Duration::from_secs(15);

/// The user and system CPU time, in ms, of every process in process group `group`, from
/// `/proc/<pid>/stat` (a process that ends meanwhile is skipped).
fn cpu_ms(group: u32) -> u64 {
    // SAFETY: sysconf(3) reads a constant of the system; no memory is touched.
    let ticks_per_s = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) })
        .unwrap_or(100)
        .max(1);
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|stat| {
            // The command name, in parentheses, may hold spaces: count fields after it.
            let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
            // Fields 5 (pgrp), 14 (utime) and 15 (stime) of proc(5), numbered from 1 with the
            // pid and the name as fields 1 and 2.
            let pgrp: u32 = fields.get(2)?.parse().ok()?;
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            (pgrp == group).then_some(utime + stime)
        })
        .sum::<u64>()
        * 1000
        / ticks_per_s
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A panicking test never reaches `close`: leave neither the driver nor its browser.
        if let Ok(group) = i32::try_from(self.driver.id()) {
            untrack(group);
            // SAFETY: kill(2) with a negative pid signals that process group; no memory is
            // touched.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The process groups of the drivers alive in this process (0: a free slot). Ctrl-C or a
/// timeout's SIGTERM ends this process without running any `Drop`, and chromedriver, in a group
/// of its own, does not get that signal: without this list its Chromium would live on, using
/// CPU and skewing whatever runs next. A fixed array, because the signal handler must not
/// allocate or lock.
static LIVE_GROUPS: [AtomicI32; 64] = [const { AtomicI32::new(0) }; 64];

fn track(driver: &Child) {
    let Ok(group) = i32::try_from(driver.id()) else {
        return;
    };
    // With every slot taken (64 browsers at once, never in practice) the group goes untracked
    // and only `Drop` ends it.
    let _ = LIVE_GROUPS.iter().find(|slot| {
        slot.compare_exchange(0, group, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    });
}

fn untrack(group: i32) {
    for slot in &LIVE_GROUPS {
        let _ = slot.compare_exchange(group, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Installs, once, a handler for SIGINT, SIGTERM and SIGHUP that ends every tracked driver's
/// group and then lets the signal end this process as it would have (same exit status). A
/// signal the process was told to ignore stays ignored.
fn end_browsers_on_fatal_signals() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: plain sigaction(2) calls on zeroed, then filled, `sigaction` structs; the
            // handler only does async-signal-safe things (atomic loads, kill, raise).
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, std::ptr::null(), &mut old) != 0
                    || old.sa_sigaction != libc::SIG_DFL
                {
                    continue;
                }
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = end_browsers_then_die as *const () as libc::sighandler_t;
                // Back to the default action on entry, so the re-raised signal ends the process.
                action.sa_flags = libc::SA_RESETHAND;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
    });
}

extern "C" fn end_browsers_then_die(signal: libc::c_int) {
    for slot in &LIVE_GROUPS {
        let group = slot.load(Ordering::SeqCst);
        if group > 0 {
            // SAFETY: kill(2) is async-signal-safe and touches no memory of ours.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
    }
    // SAFETY: raise(3) is async-signal-safe; the action is the default again (SA_RESETHAND), so
    // the signal ends the process once this handler returns.
    unsafe {
        libc::raise(signal);
    }
}

/// A JavaScript string literal of `s`.
pub fn js(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().map(String::from))
        .collect()
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// A Chromium DevTools command, through chromedriver's `goog/cdp/execute` endpoint.
#[derive(Debug)]
struct DevTools {
    method: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.method, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// A directory removed when dropped (Chromium's throwaway profile, the downloads).
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create a temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::cpu_ms;

    /// `cpu_ms` reads the right fields of `/proc/<pid>/stat`, in ms: this process's group gains
    /// the CPU time this test burns, no faster than the wall clock runs (one thread), and a
    /// group with no process has none. It burns until 200 ms are counted rather than for a
    /// fixed time, so a busy host only makes it slower.
    #[test]
    fn a_process_groups_cpu_time_is_read_from_proc() {
        // SAFETY: getpgrp(2) has no arguments and cannot fail.
        let group = u32::try_from(unsafe { libc::getpgrp() }).unwrap();
        let before = cpu_ms(group);
        let start = std::time::Instant::now();
        let mut x = 0u64;
        let mut used = 0;
        while used < 200 && start.elapsed() < std::time::Duration::from_secs(20) {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            used = cpu_ms(group) - before;
        }
        let wall = start.elapsed().as_millis();
        assert!(used >= 200, "only {used} ms of CPU counted in {wall} ms");
        // The clock tick (10 ms) is the slack: one thread cannot use more than the time passed.
        assert!(
            wall + 20 >= u128::from(used),
            "{used} ms of CPU in {wall} ms"
        );
        assert_eq!(cpu_ms(u32::MAX), 0);
    }
}

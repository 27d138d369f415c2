//! `cargo xtask test`: every check and test of the project, in the order that fails fastest, with
//! one closing line `N passed, N failed` that CI reads.

use std::process::Command;

use crate::cmd::{self, Result, run_streaming, step};
use crate::{bundle, stack, tools};

/// Counts of tests (and whole-step checks) across every step.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    failures: Vec<String>,
}

impl Tally {
    /// A check that passes or fails as a whole (fmt, clippy, a step that could not run).
    fn check(&mut self, name: &str, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            self.failures.push(name.to_owned());
        }
    }

    /// Runs a test command, adding up its `test result:` lines. A command that fails without
    /// reporting a failed test (a compile error, a crash) still counts as one failure.
    fn tests(&mut self, name: &str, cmd: &mut Command) {
        let (mut passed, mut failed) = (0, 0);
        let ok = run_streaming(cmd, |line| {
            if let Some((p, f)) = parse_result_line(line) {
                passed += p;
                failed += f;
            }
        });
        self.passed += passed;
        self.failed += failed;
        match ok {
            _ if failed > 0 => self.failures.push(name.to_owned()),
            Ok(true) => {}
            Ok(false) => self.check(&format!("{name} (exited non-zero)"), false),
            Err(e) => self.check(&format!("{name} ({e})"), false),
        }
    }
}

/// Reads `test result: ok. 12 passed; 0 failed; …` as printed by libtest and
/// wasm-bindgen-test-runner.
pub fn parse_result_line(line: &str) -> Option<(u64, u64)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let count = |label: &str| {
        rest.split(';').find_map(|part| {
            part.trim()
                .rsplit_once(' ')
                .filter(|(_, l)| *l == label)
                .and_then(|(n, _)| n.rsplit(' ').next()?.parse::<u64>().ok())
        })
    };
    Some((count("passed")?, count("failed")?))
}

/// Runs everything; returns an error when anything failed, after printing the summary.
pub fn run_all() -> Result<()> {
    let mut tally = Tally::default();
    if let Err(e) = step("install tools", || tools::ensure(tools::Needs::Browser)) {
        tally.check(&format!("install tools ({e})"), false);
        return finish(tally);
    }

    let _ = step("cargo fmt --check", || {
        let ok = cmd::run(cmd::cargo().args(["fmt", "--all", "--", "--check"])).is_ok();
        tally.check("cargo fmt --check", ok);
        Ok(())
    });
    let _ = step("cargo clippy", || {
        let ok = cmd::run(cmd::cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]))
        .is_ok();
        tally.check("cargo clippy -D warnings", ok);
        Ok(())
    });
    let _ = step(
        "cargo clippy (wasm32: the app and the browser transport)",
        || {
            let ok = cmd::run(cmd::cargo().args([
                "clippy",
                "-p",
                "userdeck",
                "-p",
                "userdeck-client",
                "--features",
                "userdeck-client/browser",
                "--target",
                "wasm32-unknown-unknown",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
            .is_ok()
                // The release bundle's split build (src/lazy.rs expands differently there).
                && cmd::run(cmd::cargo().args([
                    "clippy",
                    "-p",
                    "userdeck",
                    "--features",
                    "split",
                    "--target",
                    "wasm32-unknown-unknown",
                    "--bin",
                    "userdeck",
                    "--",
                    "-D",
                    "warnings",
                ]))
                .is_ok();
            tally.check("cargo clippy --target wasm32 -D warnings", ok);
            Ok(())
        },
    );
    let _ = step("native tests", || {
        tally.tests(
            "native tests",
            cmd::cargo().args([
                "test",
                // Every test binary runs even after one fails, so the tally counts them all.
                "--no-fail-fast",
                "--workspace",
                "--exclude",
                "userdeck-e2e",
                "--all-features",
            ]),
        );
        Ok(())
    });

    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| cmd::err(format!("cannot start the async runtime: {e}")))?;

    let _ = step(
        "browser tests (wasm-bindgen-test in headless Chromium)",
        || {
            let scratch = match cmd::ScratchDir::new("browser-tests") {
                Ok(scratch) => scratch,
                Err(e) => {
                    tally.check(&format!("browser tests ({e})"), false);
                    return Ok(());
                }
            };
            match runtime.block_on(stack::sandbox_for_browser_tests()) {
                Ok(sandbox) => {
                    tally.tests(
                        "browser tests",
                        cmd::cargo()
                            .args([
                                "test",
                                "--no-fail-fast",
                                "--target",
                                "wasm32-unknown-unknown",
                                "-p",
                                "userdeck",
                                "-p",
                                "userdeck-client",
                                "--features",
                                "userdeck-client/browser",
                            ])
                            .env("CHROMEDRIVER", stack::chromedriver_path())
                            .env("WASM_BINDGEN_TEST_TIMEOUT", "60")
                            // Chromium takes its time zone from TZ. CI machines run in UTC,
                            // where a date shown in UTC instead of local time looks right; half
                            // an hour off a whole-hour zone, such a mistake fails a test.
                            .env("TZ", "America/St_Johns")
                            .env("USERDECK_SANDBOX_URL", sandbox.url())
                            .env("TMPDIR", &scratch.0),
                    );
                    runtime.block_on(sandbox.shutdown());
                }
                Err(e) => tally.check(
                    &format!("browser tests: sandbox did not start ({e})"),
                    false,
                ),
            }
            Ok(())
        },
    );

    let _ = step(
        "end-to-end tests (release bundle, proxy, sandbox, Chromium)",
        || {
            if let Err(e) = bundle::build_release() {
                tally.check(&format!("release bundle ({e})"), false);
                return Ok(());
            }
            let scratch = match cmd::ScratchDir::new("end-to-end-tests") {
                Ok(scratch) => scratch,
                Err(e) => {
                    tally.check(&format!("end-to-end tests ({e})"), false);
                    return Ok(());
                }
            };
            // Emptied first: a failure screenshot left from an earlier run would read as this
            // run's.
            let output = cmd::root().join("test-output");
            let _ = std::fs::remove_dir_all(&output);
            let _ = std::fs::create_dir_all(&output);
            // Each test starts its own sandbox and proxy (tests/e2e/src/stack.rs), so journeys
            // that break the sandbox run beside the others; two at a time suit two cores.
            tally.tests(
                "end-to-end tests",
                cmd::cargo()
                    .args([
                        "test",
                        "--no-fail-fast",
                        "-p",
                        "userdeck-e2e",
                        "--",
                        "--test-threads=2",
                    ])
                    .env("USERDECK_DIST", bundle::dist_dir())
                    .env("USERDECK_TEST_OUTPUT", &output)
                    .env("USERDECK_AXE_JS", tools::axe_js())
                    .env("CHROMEDRIVER", stack::chromedriver_path())
                    .env("TMPDIR", &scratch.0),
            );
            Ok(())
        },
    );

    finish(tally)
}

fn finish(tally: Tally) -> Result<()> {
    println!();
    if !tally.failures.is_empty() {
        println!("Failed steps:");
        for f in &tally.failures {
            println!("  - {f}");
        }
    }
    println!("{} passed, {} failed", tally.passed, tally.failed);
    if tally.failed == 0 && tally.failures.is_empty() {
        Ok(())
    } else {
        Err(cmd::err("some checks failed"))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_result_line;

    #[test]
    fn reads_libtest_and_runner_summaries() {
        assert_eq!(
            parse_result_line(
                "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s"
            ),
            Some((12, 0))
        );
        assert_eq!(
            parse_result_line("test result: FAILED. 3 passed; 2 failed; 0 ignored"),
            Some((3, 2))
        );
        assert_eq!(parse_result_line("running 3 tests"), None);
        assert_eq!(parse_result_line("test result: garbage"), None);
    }
}

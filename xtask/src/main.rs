//! Userdeck's project commands, run as `cargo xtask <command>` (an alias in `.cargo/config.toml`).
//!
//! - `demo`:  install what is missing, build the release bundle, start the sandbox and the proxy,
//!   print the URL to open; Ctrl-C stops everything.
//! - `test`:  install what is missing (and Chromium), then fmt, clippy, native tests, browser tests
//!   and end-to-end tests; prints `N passed, N failed`.
//! - `dist`:  build the release bundle and print its size (raw and gzip).
//! - `bench`: measure the performance budget and write `BENCHMARKS.md`.
//! - `setup`: only install the tools.

mod bench;
mod bundle;
mod cmd;
mod loadgen;
mod stack;
mod test;
mod tools;

use std::process::ExitCode;

use cmd::{Result, err, step};

const USAGE: &str =
    "usage: cargo xtask <demo [--port N] [--no-build] | test | bench | dist | setup>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test::run_all(),
        Some("dist") => dist(),
        Some("bench") => bench::run_all(),
        Some("setup") => step("install tools", || tools::ensure(tools::Needs::Browser)),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(err(USAGE)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn dist() -> Result<()> {
    step("install tools", || tools::ensure(tools::Needs::Build))?;
    step(
        "release bundle (trunk build --release --offline)",
        bundle::build_release,
    )?;
    let assets = bundle::measure(&bundle::dist_dir())?;
    println!(
        "\nRelease bundle ({}):\n{}",
        bundle::dist_dir().display(),
        bundle::report(&assets)
    );
    Ok(())
}

fn demo(args: &[String]) -> Result<()> {
    let mut options = stack::DemoOptions::interactive();
    let mut build = true;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--port" => {
                let port = rest
                    .next()
                    .and_then(|p| p.parse::<u16>().ok())
                    .ok_or_else(|| err("--port needs a number (0 picks a free port)"))?;
                options.app_listen.set_port(port);
            }
            "--no-build" => build = false,
            other => return Err(err(format!("unknown demo option {other:?}\n{USAGE}"))),
        }
    }
    step("install tools", || tools::ensure(tools::Needs::Build))?;
    if build {
        step(
            "release bundle (trunk build --release --offline)",
            bundle::build_release,
        )?;
    }
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| err(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let demo = stack::Demo::start(options).await?;
        println!("\nUserdeck is running.");
        println!("  Open:     {}", demo.app_url());
        println!(
            "  Sandbox:  {} (demo credentials on that page)",
            demo.sandbox_url()
        );
        println!("Press Ctrl-C to stop.");
        let _ = tokio::signal::ctrl_c().await;
        println!("\nstopping…");
        demo.shutdown().await;
        Ok(())
    })
}

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
mod boundary;
mod bundle;
mod cmd;
mod loadgen;
mod split;
mod stack;
mod test;
mod tools;

use std::process::ExitCode;

use cmd::{Result, err, step};

const USAGE: &str = "usage: cargo xtask <demo [--port N] [--sandbox-port N] [--no-build] | test | \
                     bench | dist | setup>";

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

/// `demo`'s options: where the app and the sandbox listen, and whether to build first.
fn demo_options(args: &[String]) -> Result<(stack::DemoOptions, bool)> {
    let mut options = stack::DemoOptions::interactive();
    let mut build = true;
    let mut sandbox_port = None;
    let mut rest = args.iter();
    let port_of = |flag: &str, value: Option<&String>| {
        value
            .and_then(|p| p.parse::<u16>().ok())
            .ok_or_else(|| err(format!("{flag} needs a number (0 picks a free port)")))
    };
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--port" => options.app_listen.set_port(port_of("--port", rest.next())?),
            "--sandbox-port" => sandbox_port = Some(port_of("--sandbox-port", rest.next())?),
            "--no-build" => build = false,
            other => return Err(err(format!("unknown demo option {other:?}\n{USAGE}"))),
        }
    }
    // Whoever asks for a free app port wants no fixed port at all: 8081 may be just as taken.
    let sandbox_port = sandbox_port.unwrap_or(if options.app_listen.port() == 0 {
        0
    } else {
        options.sandbox_listen.port()
    });
    options.sandbox_listen.set_port(sandbox_port);
    Ok((options, build))
}

fn demo(args: &[String]) -> Result<()> {
    let (options, build) = demo_options(args)?;
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

#[cfg(test)]
mod tests {
    use super::demo_options;

    fn ports(args: &[&str]) -> (u16, u16, bool) {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let (options, build) = demo_options(&args).expect("valid options");
        (
            options.app_listen.port(),
            options.sandbox_listen.port(),
            build,
        )
    }

    #[test]
    fn demo_ports_are_fixed_unless_asked_otherwise() {
        assert_eq!(ports(&[]), (8080, 8081, true));
        assert_eq!(
            ports(&["--port", "9000", "--no-build"]),
            (9000, 8081, false)
        );
        // A free app port means a free sandbox port too, unless the sandbox's is named.
        assert_eq!(ports(&["--port", "0"]), (0, 0, true));
        assert_eq!(
            ports(&["--port", "0", "--sandbox-port", "9001"]),
            (0, 9001, true)
        );
        assert_eq!(ports(&["--sandbox-port", "0"]), (8080, 0, true));
    }

    #[test]
    fn bad_demo_options_say_what_is_wrong() {
        let error = |args: &[&str]| {
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            match demo_options(&args) {
                Ok(_) => panic!("{args:?} should be refused"),
                Err(e) => e.to_string(),
            }
        };
        assert!(error(&["--port"]).contains("--port needs a number"));
        assert!(error(&["--sandbox-port", "x"]).contains("--sandbox-port needs a number"));
        assert!(error(&["--colour"]).contains("unknown demo option"));
    }
}

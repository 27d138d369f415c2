//! `userdeck-proxy --config userdeck.toml` (or `USERDECK_CONFIG`): loads and checks the config,
//! serves until Ctrl-C or SIGTERM, then drains in-flight requests. Logs go to stderr; set
//! `RUST_LOG` (default `info`). The first stdout line is `listening on http://ADDR`.

use std::path::PathBuf;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;
use userdeck_proxy::{Config, Proxy};

const USAGE: &str =
    "usage: userdeck-proxy [--config FILE]   (default: $USERDECK_CONFIG, else ./userdeck.toml)";

fn config_path() -> Result<PathBuf, String> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" | "-c" => path = Some(args.next().ok_or("--config needs a file")?),
            "--help" | "-h" => return Err(USAGE.into()),
            other => match other.strip_prefix("--config=") {
                Some(p) => path = Some(p.to_string()),
                None => return Err(format!("unknown argument `{other}`\n{USAGE}")),
            },
        }
    }
    Ok(PathBuf::from(
        path.or_else(|| std::env::var("USERDECK_CONFIG").ok())
            .unwrap_or_else(|| "userdeck.toml".into()),
    ))
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let path = match config_path() {
        Ok(p) => p,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("userdeck-proxy: {e}");
            return ExitCode::from(2);
        }
    };
    let proxy = match Proxy::start(config).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("userdeck-proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", proxy.url());
    shutdown_signal().await;
    tracing::info!("shutting down");
    proxy.shutdown().await;
    ExitCode::SUCCESS
}

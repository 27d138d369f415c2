//! `userdeck-sandbox`: runs the sandbox from the command line.
//!
//! The first stdout line is `listening on http://ADDR` (the lead's xtask parses it); the demo
//! credentials follow. Ctrl-C stops the server after in-flight requests finish.

use std::net::SocketAddr;
use std::time::Duration;

use userdeck_sandbox::{Config, Cors, Error, Sandbox, demo};

const USAGE: &str = "usage: userdeck-sandbox [--listen ADDR] [--seed N] [--users N] [--cors [ORIGIN|*]]... \
[--latency-ms N] [--fault-rate F] [--data FILE] [--appcrm-rate-limit N] [--capsule-rate-limit N] \
[--zurmo-version 2|3]";

fn parse<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, Error> {
    let value = value.ok_or_else(|| Error::Usage(format!("{flag} needs a value")))?;
    value
        .parse()
        .map_err(|_| Error::Usage(format!("{flag}: cannot understand {value:?}")))
}

fn args() -> Result<(Config, SocketAddr), Error> {
    let mut config = Config::default();
    let mut listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8081));
    let mut origins: Vec<String> = Vec::new();
    let mut any_origin = false;
    let mut args = std::env::args().skip(1).peekable();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next());
        match flag.as_str() {
            "--listen" => listen = parse(&flag, value())?,
            "--seed" => config.seed = parse(&flag, value())?,
            "--users" => config.users = parse(&flag, value())?,
            "--latency-ms" => config.latency = Duration::from_millis(parse(&flag, value())?),
            "--fault-rate" => {
                let rate: f64 = parse(&flag, value())?;
                if !(0.0..=1.0).contains(&rate) {
                    return Err(Error::Usage("--fault-rate must be from 0 to 1".into()));
                }
                config.fault_rate = rate;
            }
            "--data" => config.data = Some(parse::<String>(&flag, value())?.into()),
            "--appcrm-rate-limit" => config.appcrm_rate_limit = parse(&flag, value())?,
            "--capsule-rate-limit" => config.capsule_rate_limit = parse(&flag, value())?,
            "--zurmo-version" => {
                config.zurmo_major = parse(&flag, value())?;
                if !(2..=3).contains(&config.zurmo_major) {
                    return Err(Error::Usage("--zurmo-version is 2 or 3".into()));
                }
            }
            "--cors" => {
                // The origin is optional: a bare --cors (or --cors '*') allows any origin.
                let origin = inline
                    .clone()
                    .or_else(|| args.next_if(|next| !next.starts_with("--")));
                match origin.as_deref() {
                    None | Some("*") => any_origin = true,
                    Some(o) => origins.push(o.trim_end_matches('/').to_string()),
                }
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(Error::Usage(format!("unknown argument {other:?}\n{USAGE}"))),
        }
    }
    config.cors = if any_origin {
        Cors::Any
    } else if origins.is_empty() {
        Cors::Off
    } else {
        Cors::Origins(origins)
    };
    Ok((config, listen))
}

#[tokio::main]
async fn main() {
    let (config, listen) = match args() {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let sandbox = match Sandbox::start(config.clone(), listen).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("userdeck-sandbox: cannot start on {listen}: {e}");
            std::process::exit(1);
        }
    };
    println!("listening on {}", sandbox.url());
    println!(
        "  Capsule  {}/api/v2/users   token {}",
        sandbox.capsule_base(),
        demo::CAPSULE_TOKEN
    );
    println!(
        "           OAuth client {} / secret {}; public client {}",
        demo::OAUTH_CLIENT_ID,
        demo::OAUTH_CLIENT_SECRET,
        demo::OAUTH_PUBLIC_CLIENT_ID
    );
    println!(
        "  App CRM  {}/api/users   admin {} / {} (token {}); user {} / {} (token {})",
        sandbox.appcrm_base(),
        demo::APPCRM_ADMIN_EMAIL,
        demo::APPCRM_ADMIN_PASSWORD,
        demo::APPCRM_ADMIN_TOKEN,
        demo::APPCRM_USER_EMAIL,
        demo::APPCRM_USER_PASSWORD,
        demo::APPCRM_USER_TOKEN
    );
    println!(
        "           the same App CRM as v1.2 (asks for first_day_of_week): {}/api/users",
        sandbox.appcrm_legacy_base()
    );
    println!(
        "  Zurmo    {}/users/user/api/list/   super {} / {}; user {} / {}",
        sandbox.zurmo_base(),
        demo::ZURMO_USERNAME,
        demo::ZURMO_PASSWORD,
        demo::ZURMO_USER_USERNAME,
        demo::ZURMO_USER_PASSWORD
    );
    println!(
        "  seed {}, {} users per CRM, cors {:?}, data {}",
        config.seed,
        config.users,
        config.cors,
        config
            .data
            .as_ref()
            .map_or("memory".to_string(), |p| p.display().to_string())
    );
    if tokio::signal::ctrl_c().await.is_err() {
        eprintln!("userdeck-sandbox: cannot listen for Ctrl-C; stopping");
    }
    sandbox.shutdown().await;
}

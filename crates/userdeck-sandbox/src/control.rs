//! The sandbox's own pages: `GET /` (demo credentials) and the `/_sandbox/…` test switches.
//!
//! The switches are unauthenticated: the sandbox is a local test peer and binds to loopback by
//! default. They exist so a test in another process (e2e) can do what in-process tests do
//! through `Sandbox`'s methods.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;

use crate::request::{escape_html, html, json};
use crate::{Crm, Shared, demo, obj, urlcoding};

/// The demo credentials as (label, value) lines, shared by `GET /` and the CLI banner.
pub fn credentials() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Capsule personal access token", demo::CAPSULE_TOKEN),
        (
            "Capsule OAuth client id (confidential)",
            demo::OAUTH_CLIENT_ID,
        ),
        ("Capsule OAuth client secret", demo::OAUTH_CLIENT_SECRET),
        (
            "Capsule OAuth client id (public, PKCE)",
            demo::OAUTH_PUBLIC_CLIENT_ID,
        ),
        ("App CRM super admin e-mail", demo::APPCRM_ADMIN_EMAIL),
        ("App CRM super admin password", demo::APPCRM_ADMIN_PASSWORD),
        ("App CRM super admin token", demo::APPCRM_ADMIN_TOKEN),
        ("App CRM user e-mail", demo::APPCRM_USER_EMAIL),
        ("App CRM user password", demo::APPCRM_USER_PASSWORD),
        ("App CRM user token", demo::APPCRM_USER_TOKEN),
        ("Zurmo super user", demo::ZURMO_USERNAME),
        ("Zurmo super user password", demo::ZURMO_PASSWORD),
        ("Zurmo ordinary user", demo::ZURMO_USER_USERNAME),
        ("Zurmo ordinary user password", demo::ZURMO_USER_PASSWORD),
    ]
}

/// `GET /`: a small page with the base URLs and demo credentials.
pub(crate) async fn index(req: Request) -> Response {
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let base = format!("http://{}", escape_html(host));
    let rows: String = credentials()
        .iter()
        .map(|(k, v)| {
            format!(
                "<tr><th>{}</th><td><code>{}</code></td></tr>",
                escape_html(k),
                escape_html(v)
            )
        })
        .collect();
    html(
        StatusCode::OK,
        format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Userdeck sandbox</title>\
             <style>body{{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}}\
             th{{text-align:left;padding-right:1rem;font-weight:normal;color:#555}}</style></head><body>\
             <h1>Userdeck sandbox</h1><p>Capsule CRM, App CRM and Zurmo user APIs, seeded with demo data.</p>\
             <ul><li>Capsule: <code>{base}/capsule/api/v2/users</code></li>\
             <li>App CRM: <code>{base}/appcrm/api/users</code> (v1.5; as v1.2, which asks for \
             <code>first_day_of_week</code>: <code>{base}/appcrm-v1.2/api/users</code>)</li>\
             <li>Zurmo: <code>{base}/zurmo/index.php/users/user/api/list/</code></li></ul>\
             <h2>Demo credentials</h2><table>{rows}</table>\
             <p>Other seeded users' password is <code>password</code>.</p></body></html>"
        ),
    )
}

/// Anything outside the three prefixes.
pub(crate) async fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        "<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>".into(),
    )
}

fn bad(text: &str) -> Response {
    json(StatusCode::BAD_REQUEST, &obj! { "error" => text })
}

fn ok() -> Response {
    json(StatusCode::OK, &obj! { "ok" => true })
}

/// `/_sandbox/{rate-limit,expire-sessions,faults,latency,cors,stats,reset}`.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let action = req
        .uri()
        .path()
        .trim_start_matches("/_sandbox/")
        .to_string();
    let q = urlcoding::pairs(req.uri().query().unwrap_or(""));
    let get = |k: &str| urlcoding::last(&q, k).map(str::to_string);
    let crm = get("crm").as_deref().and_then(Crm::parse);
    match (req.method().clone(), action.as_str()) {
        (Method::GET, "stats") => json(
            StatusCode::OK,
            &obj! {
                "requests" => shared.knobs.requests(),
                "fault_rate" => format!("{}", shared.knobs.fault_rate()),
                "latency_ms" => u64::try_from(shared.knobs.latency().as_millis()).unwrap_or(u64::MAX),
                "users" => obj! {
                    "capsule" => shared.stores.capsule().users.len(),
                    "appcrm" => shared.stores.appcrm().users.len(),
                    "zurmo" => shared.stores.zurmo().users.len(),
                },
            },
        ),
        (Method::POST, "rate-limit") => {
            let Some(crm) = crm else {
                return bad("crm must be capsule, appcrm or zurmo");
            };
            let Some(seconds) = get("seconds").and_then(|s| s.parse::<u64>().ok()) else {
                return bad("seconds must be a whole number");
            };
            shared.limits.force(crm, Duration::from_secs(seconds));
            ok()
        }
        (Method::POST, "expire-sessions") => {
            let Some(crm) = crm else {
                return bad("crm must be capsule, appcrm or zurmo");
            };
            shared.expire_sessions(crm);
            shared.stores.persist().await;
            ok()
        }
        (Method::POST, "faults") => match get("rate")
            .and_then(|r| r.parse::<f64>().ok())
            .filter(|r| (0.0..=1.0).contains(r))
        {
            Some(rate) => {
                shared.knobs.set_fault_rate(rate);
                ok()
            }
            None => bad("rate must be a number from 0 to 1"),
        },
        (Method::POST, "latency") => match get("ms")
            .and_then(|m| m.parse::<u64>().ok())
            .filter(|m| *m <= 600_000)
        {
            Some(ms) => {
                shared.knobs.set_latency(Duration::from_millis(ms));
                ok()
            }
            None => bad("ms must be a whole number up to 600000"),
        },
        (Method::POST, "cors") => {
            let flag = |key: &str| match get(key).as_deref() {
                None => Ok(None),
                Some("true") => Ok(Some(true)),
                Some("false") => Ok(Some(false)),
                Some(_) => Err(()),
            };
            match (flag("allow"), flag("expose-app-version")) {
                (Ok(allow), Ok(expose)) if allow.is_some() || expose.is_some() => {
                    if let Some(allow) = allow {
                        shared.knobs.set_cors_allowed(allow);
                    }
                    if let Some(expose) = expose {
                        shared.knobs.set_app_version_exposed(expose);
                    }
                    ok()
                }
                _ => bad("give allow and/or expose-app-version, each true or false"),
            }
        }
        (Method::POST, "reset") => {
            shared.reset().await;
            ok()
        }
        (
            _,
            "stats" | "rate-limit" | "expire-sessions" | "faults" | "latency" | "cors" | "reset",
        ) => json(
            StatusCode::METHOD_NOT_ALLOWED,
            &obj! { "error" => "method not allowed" },
        ),
        _ => json(
            StatusCode::NOT_FOUND,
            &obj! { "error" => "unknown control endpoint" },
        ),
    }
}

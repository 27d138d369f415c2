//! The status chip of a connection: who is signed in, how much rate-limit quota is left, and the
//! last error, so an admin sees trouble before the next click fails.

use leptos::prelude::*;

use crate::state::connections::Connections;
use crate::state::session::Sessions;

/// The chip for connection `id`.
#[component]
pub fn StatusChip(#[prop(into)] id: Signal<String>) -> impl IntoView {
    let connections = expect_context::<Connections>();
    let sessions = expect_context::<Sessions>();
    let status = move || {
        sessions
            .status
            .with(|s| s.get(&id.get()).cloned().unwrap_or_default())
    };
    let ready = move || {
        let id = id.get();
        connections
            .find(&id)
            .is_some_and(|c| c.is_ready() || connections.has_secret(&id))
    };
    // What the chip says: who, then the quota, then what is wrong. On a phone "requests" is
    // left out, so the chip fits beside the Users and Me links.
    let text = move || {
        let s = status();
        let who = match (&s.user, ready()) {
            (Some(u), _) => format!("● {u}"),
            (None, true) => "● ready".to_string(),
            (None, false) => "○ sign-in needed".to_string(),
        };
        let quota = s.quota.map(|q| match q.limit {
            Some(l) => format!("{}/{l}", q.remaining),
            None => q.remaining.to_string(),
        });
        let mut rest = String::new();
        if s.waiting_until.is_some() {
            rest.push_str(" · waiting for the rate limit");
        }
        if s.error.is_some() {
            rest.push_str(" · error");
        }
        (who, quota, rest)
    };
    view! {
        <span
            class="chip status-chip"
            class:ok=move || ready() && status().error.is_none()
            class:bad=move || status().error.is_some()
            data-testid="status-chip"
            role="status"
            title=move || status().error.unwrap_or_default()
        >
            {move || {
                let (who, quota, rest) = text();
                view! {
                    {who}
                    {quota.map(|q| view! { " · " {q} <span class="wide-only">" requests"</span> " left" })}
                    {rest}
                }
            }}
        </span>
    }
}

/// A notice while the client of connection `id` waits out the CRM's rate limit: the work
/// carries on by itself afterwards, and the user should know why nothing happens meanwhile.
#[component]
pub fn RateLimitNotice(#[prop(into)] id: Signal<String>) -> impl IntoView {
    let sessions = expect_context::<Sessions>();
    let until = move || {
        sessions
            .status
            .with(|s| s.get(&id.get()).and_then(|x| x.waiting_until))
    };
    move || {
        until().map(|until| {
            let seconds = until
                .saturating_sub(js_sys::Date::now() as u64)
                .div_ceil(1000)
                .max(1);
            view! {
                <p class="notice" role="status" data-testid="rate-limit-wait">
                    {format!("The CRM's rate limit is used up: waiting {seconds} s. What you asked for carries on by itself afterwards.")}
                </p>
            }
        })
    }
}

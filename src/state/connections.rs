//! The connections the app knows about.
//!
//! A proxy (or the demo) declares its connections at `GET /api/connections`; on a plain static host
//! that endpoint does not exist, which is not an error: the app then starts with no declared
//! connections and the user adds their own.

use leptos::prelude::*;
use serde::Deserialize;

/// One CRM connection as the proxy declares it. Never carries a secret.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ConnectionInfo {
    pub id: String,
    pub name: String,
    /// `capsule`, `appcrm` or `zurmo`.
    pub provider: String,
    /// Where the app sends API calls for this connection (a `/proxy/{id}` path or a CRM URL).
    pub base_url: String,
    /// How the connection authenticates: `oauth`, `server` (the proxy holds the credentials) or
    /// `browser` (the user signs in from the app).
    #[serde(default)]
    pub auth: String,
    #[serde(default)]
    pub signed_in: bool,
}

impl ConnectionInfo {
    /// The label users know the provider by.
    pub fn provider_label(&self) -> &'static str {
        match self.provider.as_str() {
            "capsule" => "Capsule CRM",
            "appcrm" => "App CRM",
            "zurmo" => "Zurmo",
            _ => "Unknown CRM",
        }
    }
}

#[derive(Deserialize)]
struct Declared {
    connections: Vec<ConnectionInfo>,
}

/// Where loading the declared connections stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadState {
    Loading,
    Loaded,
    /// No proxy answered: the app is on a static host.
    NoProxy,
    Failed(String),
}

/// The connection list and its load state, provided as context at the app root.
#[derive(Clone, Copy)]
pub struct Connections {
    pub list: RwSignal<Vec<ConnectionInfo>>,
    pub state: RwSignal<LoadState>,
}

impl Connections {
    pub fn new() -> Self {
        Self {
            list: RwSignal::new(Vec::new()),
            state: RwSignal::new(LoadState::Loading),
        }
    }

    /// Fetches `{origin}/api/connections` and stores what it declares.
    pub async fn load(self, origin: &str) {
        let outcome = fetch_declared(origin).await;
        match outcome {
            Ok(Some(list)) => {
                self.list.set(list);
                self.state.set(LoadState::Loaded);
            }
            Ok(None) => self.state.set(LoadState::NoProxy),
            Err(message) => self.state.set(LoadState::Failed(message)),
        }
    }

    pub fn find(&self, id: &str) -> Option<ConnectionInfo> {
        self.list.with(|list| list.iter().find(|c| c.id == id).cloned())
    }
}

impl Default for Connections {
    fn default() -> Self {
        Self::new()
    }
}

/// `Ok(None)` when nothing declares connections (404, or an HTML page from a static host's
/// fallback); an error only when a proxy answered with something we cannot use.
pub async fn fetch_declared(origin: &str) -> Result<Option<Vec<ConnectionInfo>>, String> {
    let url = format!("{}/api/connections", origin.trim_end_matches('/'));
    let response = gloo_net::http::Request::get(&url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("Could not reach {url}: {e}"))?;
    let is_json = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.contains("json"));
    if response.status() == 404 || !is_json {
        return Ok(None);
    }
    if !response.ok() {
        return Err(format!(
            "{url} answered {} {}",
            response.status(),
            response.status_text()
        ));
    }
    let body = response
        .text()
        .await
        .map_err(|e| format!("Could not read {url}: {e}"))?;
    parse_declared(&body).map(Some)
}

/// Parses the body of `/api/connections`; a short excerpt of a bad body goes into the message.
pub fn parse_declared(body: &str) -> Result<Vec<ConnectionInfo>, String> {
    serde_json::from_str::<Declared>(body)
        .map(|d| d.connections)
        .map_err(|e| {
            let excerpt: String = body.chars().take(80).collect();
            format!("The proxy's connection list is not valid ({e}): {excerpt}")
        })
}

//! The proxy's configuration: a TOML file (path from `--config` or `USERDECK_CONFIG`) checked in
//! full at start-up, so a mistake stops the proxy with the file, the key and what is wrong instead
//! of surfacing later as a confusing runtime failure. Secrets may be written inline or named by an
//! environment variable (`*_env` keys); they never appear in `Debug` output or logs.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use serde::Deserialize;
use url::Url;

use crate::error::Error;

/// A secret string whose `Debug` output is redacted, so configs can be logged safely.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Which CRM a connection speaks; decides how server-side credentials are injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Capsule,
    AppCrm,
    Zurmo,
}

impl Provider {
    /// The name used in the config file and in `/api/connections`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Capsule => "capsule",
            Provider::AppCrm => "appcrm",
            Provider::Zurmo => "zurmo",
        }
    }
}

/// Credentials the proxy holds itself, so the browser needs none ("ready to use").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerCredentials {
    /// A bearer token: Capsule personal access token or App CRM Sanctum token.
    Token(Secret),
    /// A Zurmo login; the proxy signs in and keeps the session.
    ZurmoLogin { username: String, password: Secret },
}

/// The OAuth client registration of a Capsule connection (confidential or public + PKCE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthSettings {
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub authorise_url: Url,
    pub token_url: Url,
    pub revoke_url: Option<Url>,
    /// Space separated, as Capsule expects.
    pub scopes: String,
    pub redirect_url: Url,
}

/// One named upstream CRM the app may reach through `/proxy/{id}/…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: String,
    pub name: String,
    pub provider: Provider,
    /// Upstream base without a trailing slash; forwarded paths are appended below it.
    pub base_url: Url,
    pub credentials: Option<ServerCredentials>,
    pub oauth: Option<OAuthSettings>,
}

/// How a connection authenticates, as the app needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// The user signs in through `/oauth/{id}/start`; tokens live in the session cookie.
    OAuth,
    /// The proxy holds the credentials; the app just calls.
    Server,
    /// The browser sends its own `Authorization` or Zurmo headers, which are passed through.
    Browser,
}

impl AuthMode {
    /// The name used in `/api/connections`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::OAuth => "oauth",
            AuthMode::Server => "server",
            AuthMode::Browser => "browser",
        }
    }
}

impl Connection {
    /// Which of the three ways this connection authenticates.
    pub fn auth_mode(&self) -> AuthMode {
        if self.oauth.is_some() {
            AuthMode::OAuth
        } else if self.credentials.is_some() {
            AuthMode::Server
        } else {
            AuthMode::Browser
        }
    }
}

/// Caps and timeouts protecting the proxy and its upstreams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted for forwarding.
    pub max_body_bytes: usize,
    /// Time allowed to open a TCP (and TLS) connection to an upstream.
    pub connect_timeout: Duration,
    /// Time allowed for the upstream's response headers, and between body chunks.
    pub read_timeout: Duration,
    /// Time allowed for the browser to deliver a request body (defeats slow uploads).
    pub body_timeout: Duration,
    /// Upstream requests in flight per connection; more wait up to `queue_timeout`, then get 503.
    pub max_concurrent: usize,
    /// How long a request may wait for a free upstream slot.
    pub queue_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 1024 * 1024,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(15),
            max_concurrent: 32,
            queue_timeout: Duration::from_secs(5),
        }
    }
}

/// A checked configuration, ready for [`crate::Proxy::start`].
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// The Trunk `dist/` directory; `None` runs the proxy without static hosting.
    pub static_dir: Option<PathBuf>,
    /// Browser origins (`scheme://host[:port]`) allowed to call cross-origin with credentials.
    pub allowed_origins: Vec<String>,
    /// The proxy's public origin, when it sits behind TLS or a load balancer; makes rewritten
    /// `Link`/`Location` URLs absolute and decides the cookie's `Secure` flag by default.
    pub public_url: Option<Url>,
    /// 32-byte key sealing the session and OAuth-state cookies; every copy behind a load
    /// balancer needs the same one.
    pub cookie_key: [u8; 32],
    /// True when the key was generated at start (sessions do not survive a restart).
    pub cookie_key_generated: bool,
    /// Marks cookies `Secure` and uses the `__Host-` name prefix.
    pub cookie_secure: bool,
    /// How long a session cookie lives.
    pub session_ttl: Duration,
    /// Extra `connect-src` sources for the Content-Security-Policy (CRMs the app calls directly).
    pub csp_connect_src: Vec<String>,
    pub limits: Limits,
    pub connections: Vec<Connection>,
}

impl Config {
    /// A minimal configuration (no connections, no static files) with a fresh random cookie key,
    /// for tests and benchmarks that fill in the rest in code.
    pub fn new(listen: SocketAddr) -> Config {
        Config {
            listen,
            static_dir: None,
            allowed_origins: Vec::new(),
            public_url: None,
            cookie_key: random_key(),
            cookie_key_generated: true,
            cookie_secure: false,
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            csp_connect_src: Vec::new(),
            limits: Limits::default(),
            connections: Vec::new(),
        }
    }

    /// Reads and checks the file at `path`, resolving `*_env` keys from the process environment.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(&name, "(file)", format!("cannot read: {e}")))?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Config::parse(&text, &name, &base_dir, &|var| std::env::var(var).ok())
    }

    /// Checks TOML `text`; `file` names it in errors, relative paths resolve against `base_dir`,
    /// and `env` looks up environment variables (injectable for tests).
    pub fn parse(
        text: &str,
        file: &str,
        base_dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, Error> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let key = e
                .span()
                .map(|s| describe_span(text, s))
                .unwrap_or_else(|| "(file)".into());
            Error::config(file, key, e.message().to_string())
        })?;
        Checker {
            file,
            base_dir,
            env,
        }
        .check(raw)
    }
}

fn describe_span(text: &str, span: std::ops::Range<usize>) -> String {
    let start = span.start.min(text.len());
    let line = text[..start].matches('\n').count() + 1;
    let snippet: String = text[start..]
        .chars()
        .take_while(|c| *c != '\n')
        .take(40)
        .collect();
    format!("line {line} (`{}`)", snippet.trim())
}

/// Fresh key material from the OS-seeded CSPRNG.
pub(crate) fn random_key() -> [u8; 32] {
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    key
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Option<String>,
    static_dir: Option<String>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    public_url: Option<String>,
    cookie_key: Option<String>,
    cookie_key_env: Option<String>,
    cookie_secure: Option<bool>,
    session_ttl_hours: Option<u64>,
    #[serde(default)]
    csp_connect_src: Vec<String>,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    connections: toml::Table,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_body_bytes: Option<usize>,
    connect_timeout_ms: Option<u64>,
    read_timeout_ms: Option<u64>,
    body_timeout_ms: Option<u64>,
    max_concurrent_per_connection: Option<usize>,
    queue_timeout_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConnection {
    name: Option<String>,
    provider: String,
    base_url: String,
    token: Option<String>,
    token_env: Option<String>,
    username: Option<String>,
    username_env: Option<String>,
    password: Option<String>,
    password_env: Option<String>,
    oauth: Option<RawOAuth>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOAuth {
    client_id: Option<String>,
    client_id_env: Option<String>,
    client_secret: Option<String>,
    client_secret_env: Option<String>,
    authorise_url: Option<String>,
    token_url: Option<String>,
    revoke_url: Option<String>,
    scopes: Option<Scopes>,
    redirect_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scopes {
    One(String),
    Many(Vec<String>),
}

struct Checker<'a> {
    file: &'a str,
    base_dir: &'a Path,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Checker<'_> {
    fn err(&self, key: impl Into<String>, problem: impl Into<String>) -> Error {
        Error::config(self.file, key, problem)
    }

    fn check(&self, raw: RawConfig) -> Result<Config, Error> {
        let listen = match raw.listen.as_deref() {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(text) => text.parse().map_err(|_| {
                self.err(
                    "listen",
                    format!("`{text}` is not an address like 127.0.0.1:8080"),
                )
            })?,
        };
        let static_dir = raw
            .static_dir
            .as_deref()
            .map(|d| self.static_dir(d))
            .transpose()?;
        let allowed_origins = raw
            .allowed_origins
            .iter()
            .enumerate()
            .map(|(i, o)| self.origin(&format!("allowed_origins[{i}]"), o))
            .collect::<Result<Vec<_>, _>>()?;
        let public_url = raw
            .public_url
            .as_deref()
            .map(|u| {
                let url = self.http_url("public_url", u)?;
                if url.path() != "/" || url.query().is_some() {
                    return Err(self.err(
                        "public_url",
                        "must be an origin like https://userdeck.example.com",
                    ));
                }
                Ok(url)
            })
            .transpose()?;
        let key_text = self.secret("cookie_key", raw.cookie_key, raw.cookie_key_env.as_deref())?;
        let (cookie_key, cookie_key_generated) = match key_text {
            Some(text) => (self.cookie_key(&text, raw.cookie_key_env.is_some())?, false),
            None => (random_key(), true),
        };
        let cookie_secure = raw.cookie_secure.unwrap_or_else(|| {
            public_url
                .as_ref()
                .map(|u| u.scheme() == "https")
                .unwrap_or(!listen.ip().is_loopback())
        });
        let session_ttl = Duration::from_secs(raw.session_ttl_hours.unwrap_or(30 * 24) * 3600);
        if session_ttl.is_zero() {
            return Err(self.err("session_ttl_hours", "must be at least 1"));
        }
        for (i, src) in raw.csp_connect_src.iter().enumerate() {
            if src.is_empty()
                || src
                    .chars()
                    .any(|c| c.is_whitespace() || c == ';' || c == ',')
            {
                return Err(self.err(
                    format!("csp_connect_src[{i}]"),
                    "must be one CSP source like https://api.example.com",
                ));
            }
        }
        let limits = self.limits(raw.limits)?;
        let mut connections = Vec::new();
        let mut seen = HashSet::new();
        for (id, value) in raw.connections {
            let key = format!("connections.{id}");
            if !valid_id(&id) {
                return Err(self.err(&key, "connection ids are 1-32 characters of a-z, 0-9, '-' and '_', starting with a letter or digit"));
            }
            if !seen.insert(id.clone()) {
                return Err(self.err(&key, "defined twice"));
            }
            let raw_conn: RawConnection = value
                .try_into()
                .map_err(|e: toml::de::Error| self.err(&key, e.message().to_string()))?;
            connections.push(self.connection(&key, id, raw_conn, public_url.as_ref())?);
        }
        Ok(Config {
            listen,
            static_dir,
            allowed_origins,
            public_url,
            cookie_key,
            cookie_key_generated,
            cookie_secure,
            session_ttl,
            csp_connect_src: raw.csp_connect_src,
            limits,
            connections,
        })
    }

    fn static_dir(&self, dir: &str) -> Result<PathBuf, Error> {
        let path = self.base_dir.join(dir);
        if !path.is_dir() {
            return Err(self.err(
                "static_dir",
                format!(
                    "{} is not a directory (build the app with `trunk build` first)",
                    path.display()
                ),
            ));
        }
        if !path.join("index.html").is_file() {
            return Err(self.err(
                "static_dir",
                format!("{} has no index.html", path.display()),
            ));
        }
        Ok(path)
    }

    fn origin(&self, key: &str, text: &str) -> Result<String, Error> {
        if text == "*" {
            return Err(self.err(
                key,
                "`*` is not allowed: the proxy sends credentials, so list each origin",
            ));
        }
        let url = self.http_url(key, text)?;
        if url.path() != "/" || url.query().is_some() || text.ends_with('/') {
            return Err(self.err(key, format!("`{text}` must be an origin like https://app.example.com (no path, no trailing slash)")));
        }
        Ok(url.origin().ascii_serialization())
    }

    fn http_url(&self, key: &str, text: &str) -> Result<Url, Error> {
        let url =
            Url::parse(text).map_err(|e| self.err(key, format!("`{text}` is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(self.err(key, format!("`{text}` must be an http:// or https:// URL")));
        }
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return Err(self.err(
                key,
                format!("`{text}` must not contain user info or a fragment"),
            ));
        }
        Ok(url)
    }

    /// Inline value or `*_env` variable, but not both; a named variable must exist.
    fn secret(
        &self,
        key: &str,
        inline: Option<String>,
        env_var: Option<&str>,
    ) -> Result<Option<String>, Error> {
        match (inline, env_var) {
            (Some(_), Some(_)) => {
                Err(self.err(key, format!("give either `{key}` or `{key}_env`, not both")))
            }
            (Some(v), None) if v.is_empty() => Err(self.err(key, "is empty")),
            (Some(v), None) => Ok(Some(v)),
            (None, Some(var)) => match (self.env)(var) {
                Some(v) if !v.is_empty() => Ok(Some(v)),
                _ => Err(self.err(
                    format!("{key}_env"),
                    format!("environment variable {var} is not set or empty"),
                )),
            },
            (None, None) => Ok(None),
        }
    }

    fn cookie_key(&self, text: &str, from_env: bool) -> Result<[u8; 32], Error> {
        let key = if from_env {
            "cookie_key_env"
        } else {
            "cookie_key"
        };
        let text = text.trim();
        let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap_or(0))
                .collect()
        } else {
            let engines = [
                base64::engine::general_purpose::STANDARD,
                base64::engine::general_purpose::URL_SAFE,
                base64::engine::general_purpose::STANDARD_NO_PAD,
                base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ];
            engines
                .iter()
                .find_map(|e| e.decode(text).ok())
                .unwrap_or_default()
        };
        <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
            self.err(
                key,
                "must be 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)",
            )
        })
    }

    fn ms(&self, key: &str, value: Option<u64>, default: Duration) -> Result<Duration, Error> {
        match value {
            None => Ok(default),
            Some(0) => Err(self.err(format!("limits.{key}"), "must be greater than 0")),
            Some(ms) => Ok(Duration::from_millis(ms)),
        }
    }

    fn limits(&self, raw: RawLimits) -> Result<Limits, Error> {
        let d = Limits::default();
        let max_body_bytes = raw.max_body_bytes.unwrap_or(d.max_body_bytes);
        let max_concurrent = raw
            .max_concurrent_per_connection
            .unwrap_or(d.max_concurrent);
        if max_concurrent == 0 {
            return Err(self.err(
                "limits.max_concurrent_per_connection",
                "must be greater than 0",
            ));
        }
        Ok(Limits {
            max_body_bytes,
            connect_timeout: self.ms(
                "connect_timeout_ms",
                raw.connect_timeout_ms,
                d.connect_timeout,
            )?,
            read_timeout: self.ms("read_timeout_ms", raw.read_timeout_ms, d.read_timeout)?,
            body_timeout: self.ms("body_timeout_ms", raw.body_timeout_ms, d.body_timeout)?,
            max_concurrent,
            queue_timeout: self.ms("queue_timeout_ms", raw.queue_timeout_ms, d.queue_timeout)?,
        })
    }

    fn connection(
        &self,
        key: &str,
        id: String,
        raw: RawConnection,
        public_url: Option<&Url>,
    ) -> Result<Connection, Error> {
        let provider = match raw.provider.as_str() {
            "capsule" => Provider::Capsule,
            "appcrm" => Provider::AppCrm,
            "zurmo" => Provider::Zurmo,
            other => {
                return Err(self.err(
                    format!("{key}.provider"),
                    format!("`{other}` is not one of capsule, appcrm, zurmo"),
                ));
            }
        };
        let base_key = format!("{key}.base_url");
        let mut base_url = self.http_url(&base_key, &raw.base_url)?;
        if base_url.query().is_some() {
            return Err(self.err(&base_key, "must not have a query string"));
        }
        let trimmed = base_url.path().trim_end_matches('/').to_string();
        base_url.set_path(&trimmed);

        let token = self.secret(&format!("{key}.token"), raw.token, raw.token_env.as_deref())?;
        let username = self.secret(
            &format!("{key}.username"),
            raw.username,
            raw.username_env.as_deref(),
        )?;
        let password = self.secret(
            &format!("{key}.password"),
            raw.password,
            raw.password_env.as_deref(),
        )?;
        let credentials = match (provider, token, username, password) {
            (Provider::Zurmo, Some(_), _, _) => {
                return Err(self.err(
                    format!("{key}.token"),
                    "Zurmo connections sign in with username and password, not a token",
                ));
            }
            (Provider::Zurmo, None, Some(_), None) => {
                return Err(self.err(
                    format!("{key}.password"),
                    "a Zurmo username needs a password (password or password_env)",
                ));
            }
            (Provider::Zurmo, None, None, Some(_)) => {
                return Err(self.err(
                    format!("{key}.username"),
                    "a Zurmo password needs a username",
                ));
            }
            (Provider::Zurmo, None, Some(username), Some(password)) => {
                Some(ServerCredentials::ZurmoLogin {
                    username,
                    password: Secret::new(password),
                })
            }
            (_, _, Some(_), _) | (_, _, _, Some(_)) => {
                return Err(self.err(
                    format!("{key}.username"),
                    format!(
                        "{} connections use a token, not username/password",
                        provider.as_str()
                    ),
                ));
            }
            (_, Some(token), None, None) => Some(ServerCredentials::Token(Secret::new(token))),
            (_, None, None, None) => None,
        };
        let oauth = match raw.oauth {
            None => None,
            Some(_) if provider != Provider::Capsule => {
                return Err(self.err(format!("{key}.oauth"), "only Capsule connections use OAuth"));
            }
            Some(_) if credentials.is_some() => {
                return Err(self.err(
                    format!("{key}.oauth"),
                    "give either a server-side token or an OAuth client, not both",
                ));
            }
            Some(o) => Some(self.oauth(&format!("{key}.oauth"), &id, o, public_url)?),
        };
        Ok(Connection {
            name: raw.name.unwrap_or_else(|| id.clone()),
            id,
            provider,
            base_url,
            credentials,
            oauth,
        })
    }

    fn oauth(
        &self,
        key: &str,
        id: &str,
        raw: RawOAuth,
        public_url: Option<&Url>,
    ) -> Result<OAuthSettings, Error> {
        let client_id = self
            .secret(
                &format!("{key}.client_id"),
                raw.client_id,
                raw.client_id_env.as_deref(),
            )?
            .ok_or_else(|| self.err(format!("{key}.client_id"), "is required"))?;
        let client_secret = self
            .secret(
                &format!("{key}.client_secret"),
                raw.client_secret,
                raw.client_secret_env.as_deref(),
            )?
            .map(Secret::new);
        let required_url = |name: &str, value: Option<String>| -> Result<Url, Error> {
            let k = format!("{key}.{name}");
            let v = value.ok_or_else(|| self.err(&k, "is required"))?;
            self.http_url(&k, &v)
        };
        let authorise_url = required_url("authorise_url", raw.authorise_url)?;
        let token_url = required_url("token_url", raw.token_url)?;
        let revoke_url = raw
            .revoke_url
            .map(|v| self.http_url(&format!("{key}.revoke_url"), &v))
            .transpose()?;
        let scopes = match raw.scopes {
            None => "read".to_string(),
            Some(Scopes::One(s)) => s.split_whitespace().collect::<Vec<_>>().join(" "),
            Some(Scopes::Many(v)) => v.join(" "),
        };
        if scopes.is_empty() {
            return Err(self.err(
                format!("{key}.scopes"),
                "must name at least one scope, e.g. \"read write\"",
            ));
        }
        let callback_path = format!("/oauth/{id}/callback");
        let redirect_url = match (raw.redirect_url, public_url) {
            (Some(v), _) => self.http_url(&format!("{key}.redirect_url"), &v)?,
            (None, Some(public)) => public
                .join(&callback_path)
                .map_err(|e| self.err(format!("{key}.redirect_url"), e.to_string()))?,
            (None, None) => {
                return Err(self.err(format!("{key}.redirect_url"), format!("is required when public_url is not set (e.g. http://127.0.0.1:8080{callback_path})")));
            }
        };
        if !redirect_url.path().ends_with(&callback_path) {
            return Err(self.err(
                format!("{key}.redirect_url"),
                format!("must end with {callback_path}, where the proxy receives the code"),
            ));
        }
        Ok(OAuthSettings {
            client_id,
            client_secret,
            authorise_url,
            token_url,
            revoke_url,
            scopes,
            redirect_url,
        })
    }
}

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.len() <= 32
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Error> {
        Config::parse(text, "userdeck.toml", Path::new("."), &|var| match var {
            "CAPSULE_SECRET" => Some("s3cret".into()),
            "KEY" => Some("00".repeat(32)),
            _ => None,
        })
    }

    fn problem(text: &str) -> String {
        match parse(text) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("config accepted: {text}"),
        }
    }

    #[test]
    fn full_config_parses() {
        let c = parse(
            r#"
listen = "127.0.0.1:0"
allowed_origins = ["http://localhost:8080"]
cookie_key_env = "KEY"
[limits]
max_body_bytes = 10
[connections.capsule]
name = "Capsule"
provider = "capsule"
base_url = "https://api.capsulecrm.com/"
[connections.capsule.oauth]
client_id = "cid"
client_secret_env = "CAPSULE_SECRET"
authorise_url = "https://api.capsulecrm.com/oauth/authorise"
token_url = "https://api.capsulecrm.com/oauth/token"
scopes = ["read", "write"]
redirect_url = "http://127.0.0.1:8080/oauth/capsule/callback"
[connections.zurmo]
provider = "zurmo"
base_url = "http://127.0.0.1:8081/zurmo/index.php"
username = "super"
password = "pw"
"#,
        )
        .unwrap();
        assert_eq!(c.allowed_origins, ["http://localhost:8080"]);
        assert_eq!(c.cookie_key, [0; 32]);
        assert_eq!(c.limits.max_body_bytes, 10);
        assert_eq!(c.connections.len(), 2);
        assert_eq!(
            c.connections[0].base_url.as_str(),
            "https://api.capsulecrm.com/"
        );
        let oauth = c.connections[0].oauth.as_ref().unwrap();
        assert_eq!(oauth.scopes, "read write");
        assert_eq!(oauth.client_secret.as_ref().unwrap().expose(), "s3cret");
        assert_eq!(c.connections[0].auth_mode(), AuthMode::OAuth);
        assert_eq!(c.connections[1].auth_mode(), AuthMode::Server);
        assert_eq!(c.connections[1].base_url.path(), "/zurmo/index.php");
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn errors_name_the_key() {
        assert!(problem("listen = \"nope\"").contains("userdeck.toml: listen:"));
        assert!(problem("allowed_origins = [\"*\"]").contains("allowed_origins[0]"));
        assert!(
            problem("allowed_origins = [\"http://a.example/x\"]").contains("allowed_origins[0]")
        );
        assert!(problem("cookie_key = \"short\"").contains("cookie_key: must be 32 bytes"));
        assert!(problem("cookie_key_env = \"MISSING\"").contains("environment variable MISSING"));
        assert!(
            problem("[connections.x]\nprovider = \"salesforce\"\nbase_url = \"http://a\"")
                .contains("connections.x.provider")
        );
        assert!(
            problem("[connections.x]\nprovider = \"capsule\"\nbase_url = \"ftp://a\"")
                .contains("connections.x.base_url")
        );
        assert!(
            problem("[connections.X]\nprovider = \"capsule\"\nbase_url = \"http://a\"")
                .contains("connections.X")
        );
        assert!(
            problem(
                "[connections.x]\nprovider = \"zurmo\"\nbase_url = \"http://a\"\nusername = \"u\""
            )
            .contains("connections.x.password")
        );
        assert!(problem("[connections.x]\nprovider = \"appcrm\"\nbase_url = \"http://a\"\n[connections.x.oauth]\nclient_id = \"c\"").contains("connections.x.oauth"));
        assert!(problem("[connections.x]\nprovider = \"capsule\"\nbase_url = \"http://a\"\n[connections.x.oauth]\nclient_id = \"c\"\nauthorise_url = \"http://a/oauth/authorise\"\ntoken_url = \"http://a/oauth/token\"").contains("connections.x.oauth.redirect_url"));
        assert!(problem("static_dir = \"/definitely/not/here\"").contains("static_dir"));
        assert!(problem("lisen = \"x\"").contains("unknown field"));
        assert!(problem("[limits]\nread_timeout_ms = 0").contains("limits.read_timeout_ms"));
    }

    #[test]
    fn the_shipped_example_is_valid() {
        let text = include_str!("../userdeck.example.toml");
        let c = Config::parse(text, "userdeck.example.toml", Path::new("."), &|var| {
            Some(if var == "USERDECK_COOKIE_KEY" {
                "ab".repeat(32)
            } else {
                format!("value-of-{var}")
            })
        })
        .unwrap();
        let modes: Vec<_> = c.connections.iter().map(Connection::auth_mode).collect();
        assert_eq!(
            modes,
            [AuthMode::OAuth, AuthMode::Server, AuthMode::Browser]
        );
    }

    #[test]
    fn cookie_key_defaults_to_generated() {
        let c = parse("").unwrap();
        assert!(c.cookie_key_generated);
        assert!(
            !c.cookie_secure,
            "loopback listen without public_url stays non-secure"
        );
        let c = parse("public_url = \"https://ud.example.com\"").unwrap();
        assert!(c.cookie_secure);
    }
}

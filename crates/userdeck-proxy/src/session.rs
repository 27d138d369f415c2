//! Sealed cookies: the browser's whole session (OAuth tokens per connection) and the short-lived
//! OAuth hand-off (state, PKCE verifier, return path) travel in cookies encrypted with
//! XChaCha20-Poly1305 under the configured key. Nothing is stored server-side, so any number of
//! proxy copies sharing the key can serve any request. The cookie name is bound in as associated
//! data, so one sealed cookie cannot be replayed in another cookie's place.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use http::HeaderMap;
use rand::RngCore;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch; the proxy's only clock for token and cookie expiry.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Encrypts and authenticates cookie values; a tampered or foreign value simply fails to open.
#[derive(Clone)]
pub struct CookieSealer {
    aead: XChaCha20Poly1305,
    secure: bool,
}

/// A sealed value's envelope: the payload plus an absolute expiry checked on open.
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    exp: u64,
    v: T,
}

impl CookieSealer {
    /// A sealer for `key`; `secure` adds the `Secure` attribute and `__Host-`/`__Secure-` names.
    pub fn new(key: &[u8; 32], secure: bool) -> CookieSealer {
        CookieSealer {
            aead: XChaCha20Poly1305::new(key.into()),
            secure,
        }
    }

    /// The session cookie's name (`__Host-` prefixed when secure, pinning it to this host and `/`).
    pub fn session_name(&self) -> &'static str {
        if self.secure {
            "__Host-userdeck_session"
        } else {
            "userdeck_session"
        }
    }

    /// The OAuth hand-off cookie's name for one connection.
    pub fn oauth_state_name(&self, connection: &str) -> String {
        if self.secure {
            format!("__Secure-userdeck_oauth_{connection}")
        } else {
            format!("userdeck_oauth_{connection}")
        }
    }

    /// Seals `value` for the cookie `name`, valid until `exp` (unix seconds).
    pub fn seal<T: Serialize>(&self, name: &str, value: &T, exp: u64) -> Option<String> {
        let plain = serde_json::to_vec(&Envelope { exp, v: value }).ok()?;
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .aead
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: name.as_bytes(),
                },
            )
            .ok()?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Some(URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens a value sealed for cookie `name`; `None` when forged, foreign, corrupt or expired.
    pub fn open<T: DeserializeOwned>(&self, name: &str, sealed: &str) -> Option<T> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed.as_bytes()).ok()?;
        if bytes.len() < 24 {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let plain = self
            .aead
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: name.as_bytes(),
                },
            )
            .ok()?;
        let envelope: Envelope<T> = serde_json::from_slice(&plain).ok()?;
        (envelope.exp > now_secs()).then_some(envelope.v)
    }

    /// A `Set-Cookie` value carrying `sealed` on `path` for `max_age` seconds.
    pub fn set_cookie(&self, name: &str, sealed: &str, path: &str, max_age: u64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{name}={sealed}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
    }

    /// A `Set-Cookie` value that deletes the cookie `name` on `path`.
    pub fn clear_cookie(&self, name: &str, path: &str) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{name}=; Path={path}; Max-Age=0; HttpOnly; SameSite=Lax{secure}")
    }

    /// Reads and opens the session cookie; a missing or unreadable one is an empty session.
    pub fn session(&self, headers: &HeaderMap) -> Session {
        cookie_value(headers, self.session_name())
            .and_then(|v| self.open(self.session_name(), v))
            .unwrap_or_default()
    }

    /// The `Set-Cookie` value storing `session` (or deleting it when it holds nothing).
    pub fn store_session(&self, session: &Session, ttl_secs: u64) -> String {
        let name = self.session_name();
        if session.tokens.is_empty() {
            return self.clear_cookie(name, "/");
        }
        match self.seal(name, session, now_secs() + ttl_secs) {
            Some(sealed) => self.set_cookie(name, &sealed, "/", ttl_secs),
            None => self.clear_cookie(name, "/"),
        }
    }
}

/// The value of cookie `name` among all `Cookie` headers.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// What the browser's session cookie holds: OAuth tokens per connection id.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Session {
    pub tokens: BTreeMap<String, StoredTokens>,
}

/// One connection's OAuth tokens, kept only inside the sealed cookie.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredTokens {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Unix seconds; `None` when the server did not say.
    #[serde(default)]
    pub expires_at: Option<u64>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub subdomain: Option<String>,
}

/// The OAuth hand-off between `/start` and `/callback`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingAuthorisation {
    pub state: String,
    pub verifier: String,
    pub return_to: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_round_trip_and_resist_tampering() {
        let sealer = CookieSealer::new(&[7; 32], false);
        let sealed = sealer
            .seal("a", &"hello".to_string(), now_secs() + 60)
            .unwrap();
        assert_eq!(
            sealer.open::<String>("a", &sealed).as_deref(),
            Some("hello")
        );
        assert_eq!(
            sealer.open::<String>("b", &sealed),
            None,
            "bound to the cookie name"
        );
        let other = CookieSealer::new(&[8; 32], false);
        assert_eq!(other.open::<String>("a", &sealed), None, "bound to the key");
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            sealer.open::<String>("a", &URL_SAFE_NO_PAD.encode(bytes)),
            None
        );
        assert_eq!(sealer.open::<String>("a", "!!"), None);
        let expired = sealer.seal("a", &"x".to_string(), now_secs() - 1).unwrap();
        assert_eq!(sealer.open::<String>("a", &expired), None);
    }

    #[test]
    fn cookies_are_found_among_headers() {
        let mut headers = HeaderMap::new();
        headers.append(
            http::header::COOKIE,
            "a=1; userdeck_session=xyz".parse().unwrap(),
        );
        headers.append(http::header::COOKIE, "b=2".parse().unwrap());
        assert_eq!(cookie_value(&headers, "userdeck_session"), Some("xyz"));
        assert_eq!(cookie_value(&headers, "b"), Some("2"));
        assert_eq!(cookie_value(&headers, "c"), None);
        let secure = CookieSealer::new(&[1; 32], true);
        assert!(
            secure
                .set_cookie("n", "v", "/", 5)
                .ends_with("SameSite=Lax; Secure")
        );
        assert_eq!(secure.session_name(), "__Host-userdeck_session");
    }
}

//! Capsule OAuth 2.0 (authorisation code + PKCE S256) as pure functions: build the authorise URL,
//! check the callback, and build/parse token, refresh and revoke requests. Randomness (state,
//! PKCE verifier) comes from the caller, so this runs the same in the browser, the proxy and tests.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::http::{HttpRequest, HttpResponse, Method};
use crate::php::{encode_component, form_encode, parse_pairs};

/// An OAuth client registration and the endpoints it talks to (configurable, so a sandbox or a
/// proxy can stand in for `api.capsulecrm.com`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub client_id: String,
    /// `None` for a public ("installed application") client, which then relies on PKCE alone.
    pub client_secret: Option<String>,
    pub authorise_url: String,
    pub token_url: String,
    /// Revocation endpoint; when `None`, `{token_url}/revoke` is used.
    pub revoke_url: Option<String>,
    pub redirect_uri: String,
    /// Space separated, e.g. `"read write"`.
    pub scope: String,
}

impl OAuthClient {
    /// A client for Capsule's endpoints under `base` (e.g. `https://api.capsulecrm.com` or a
    /// sandbox's `/capsule` prefix).
    pub fn capsule(
        base: &str,
        client_id: &str,
        client_secret: Option<&str>,
        redirect_uri: &str,
        scope: &str,
    ) -> OAuthClient {
        let base = base.trim_end_matches('/');
        OAuthClient {
            client_id: client_id.into(),
            client_secret: client_secret.map(str::to_string),
            authorise_url: format!("{base}/oauth/authorise"),
            token_url: format!("{base}/oauth/token"),
            revoke_url: Some(format!("{base}/oauth/revoke")),
            redirect_uri: redirect_uri.into(),
            scope: scope.into(),
        }
    }
}

/// A PKCE verifier and its S256 challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    /// Derives the pair from 32 caller-supplied random bytes (43-character verifier).
    pub fn from_random(bytes: [u8; 32]) -> Pkce {
        let verifier = URL_SAFE_NO_PAD.encode(bytes);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Pkce {
            verifier,
            challenge,
        }
    }
}

/// Tokens returned by the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TokenSet {
    pub access_token: String,
    #[serde(default = "bearer")]
    pub token_type: String,
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// May rotate on refresh: always keep the newest one.
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub subdomain: Option<String>,
}

fn bearer() -> String {
    "bearer".into()
}

/// The URL to send the browser to, with `state` and the PKCE S256 challenge.
pub fn authorise_url(client: &OAuthClient, state: &str, pkce: &Pkce) -> String {
    let params = [
        ("response_type", "code"),
        ("client_id", client.client_id.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("scope", client.scope.as_str()),
        ("state", state),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect();
    let sep = if client.authorise_url.contains('?') {
        '&'
    } else {
        '?'
    };
    format!("{}{sep}{}", client.authorise_url, query.join("&"))
}

/// Checks the callback's query string (`?code=…&state=…`) and returns the code. A refusal
/// (`error=access_denied`) and a state mismatch are distinct errors; a mismatch wins over
/// everything else because the callback cannot be trusted at all.
pub fn parse_callback(query: &str, expected_state: &str) -> Result<String, ApiError> {
    let pairs = parse_pairs(query);
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    if get("state").as_deref() != Some(expected_state) {
        return Err(ApiError::OAuthStateMismatch);
    }
    if let Some(error) = get("error") {
        return Err(ApiError::OAuth {
            error,
            description: get("error_description"),
        });
    }
    match get("code") {
        Some(code) if !code.is_empty() => Ok(code),
        _ => Err(ApiError::decode(
            "OAuth callback (no code)",
            query.as_bytes(),
        )),
    }
}

/// The authorisation-code exchange (form-encoded, `client_secret_post` when there is a secret).
pub fn exchange_code_request(client: &OAuthClient, code: &str, pkce_verifier: &str) -> HttpRequest {
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("client_id", client.client_id.as_str()),
        ("code_verifier", pkce_verifier),
    ];
    if let Some(secret) = &client.client_secret {
        pairs.push(("client_secret", secret.as_str()));
    }
    token_post(&client.token_url, &pairs)
}

/// A refresh-token grant.
pub fn refresh_request(client: &OAuthClient, refresh_token: &str) -> HttpRequest {
    let mut pairs = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client.client_id.as_str()),
    ];
    if let Some(secret) = &client.client_secret {
        pairs.push(("client_secret", secret.as_str()));
    }
    token_post(&client.token_url, &pairs)
}

/// Revokes an access or refresh token (sign-out).
pub fn revoke_request(client: &OAuthClient, token: &str) -> HttpRequest {
    let url = client
        .revoke_url
        .clone()
        .unwrap_or_else(|| format!("{}/revoke", client.token_url.trim_end_matches('/')));
    let mut pairs = vec![("token", token), ("client_id", client.client_id.as_str())];
    if let Some(secret) = &client.client_secret {
        pairs.push(("client_secret", secret.as_str()));
    }
    token_post(&url, &pairs)
}

fn token_post(url: &str, pairs: &[(&str, &str)]) -> HttpRequest {
    HttpRequest::new(Method::Post, url)
        .header("Accept", "application/json")
        .body(
            "application/x-www-form-urlencoded",
            form_encode(pairs).into_bytes(),
        )
}

#[derive(Deserialize)]
struct TokenError {
    error: Option<String>,
    error_description: Option<String>,
    message: Option<String>,
}

/// Parses a token endpoint answer: a `TokenSet`, or an RFC 6749 error as `ApiError::OAuth`.
pub fn parse_token_response(resp: &HttpResponse) -> Result<TokenSet, ApiError> {
    if resp.is_success() {
        let tokens: TokenSet = serde_json::from_slice(&resp.body)
            .map_err(|_| ApiError::decode("OAuth token response", &resp.body))?;
        if tokens.access_token.is_empty() {
            return Err(ApiError::decode(
                "OAuth token response (empty access_token)",
                &resp.body,
            ));
        }
        return Ok(tokens);
    }
    match serde_json::from_slice::<TokenError>(&resp.body) {
        Ok(TokenError {
            error: Some(error),
            error_description,
            ..
        }) => Err(ApiError::OAuth {
            error,
            description: error_description,
        }),
        Ok(TokenError {
            message: Some(message),
            ..
        }) if resp.status == 401 => Err(ApiError::Unauthorized { message }),
        _ if resp.status >= 500 => Err(ApiError::Upstream {
            status: resp.status,
            message: crate::error::snippet(&resp.body),
        }),
        _ => Err(ApiError::decode(
            format!("OAuth error response (HTTP {})", resp.status),
            &resp.body,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> OAuthClient {
        OAuthClient::capsule(
            "https://api.capsulecrm.com",
            "cid",
            Some("sec"),
            "http://127.0.0.1:9/cb",
            "read write",
        )
    }

    #[test]
    fn pkce_matches_rfc7636_appendix_b() {
        let bytes = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let pkce = Pkce::from_random(bytes);
        assert_eq!(pkce.verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            pkce.challenge,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn authorise_url_has_state_and_challenge() {
        let pkce = Pkce::from_random([7; 32]);
        let url = authorise_url(&client(), "st/1", &pkce);
        assert!(url.starts_with(
            "https://api.capsulecrm.com/oauth/authorise?response_type=code&client_id=cid"
        ));
        assert!(url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb"));
        assert!(url.contains("scope=read%20write"));
        assert!(url.contains("state=st%2F1"));
        assert!(url.contains(&format!("code_challenge={}", pkce.challenge)));
        assert!(url.ends_with("code_challenge_method=S256"));
    }

    #[test]
    fn callback_outcomes_are_distinct() {
        assert_eq!(parse_callback("?code=abc&state=s1", "s1"), Ok("abc".into()));
        assert_eq!(
            parse_callback("code=abc&state=evil", "s1"),
            Err(ApiError::OAuthStateMismatch)
        );
        assert_eq!(
            parse_callback("code=abc", "s1"),
            Err(ApiError::OAuthStateMismatch)
        );
        assert_eq!(
            parse_callback(
                "error=access_denied&error_description=User+said+no&state=s1",
                "s1"
            ),
            Err(ApiError::OAuth {
                error: "access_denied".into(),
                description: Some("User said no".into())
            })
        );
        assert!(matches!(
            parse_callback("state=s1", "s1"),
            Err(ApiError::Decode { .. })
        ));
    }

    #[test]
    fn token_requests_are_form_posts() {
        let req = exchange_code_request(&client(), "the code", "ver");
        assert_eq!(req.method, Method::Post);
        assert_eq!(req.url, "https://api.capsulecrm.com/oauth/token");
        assert_eq!(
            req.header_value("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        let body = parse_pairs(std::str::from_utf8(req.body.as_deref().unwrap()).unwrap());
        assert!(body.contains(&("grant_type".into(), "authorization_code".into())));
        assert!(body.contains(&("code".into(), "the code".into())));
        assert!(body.contains(&("code_verifier".into(), "ver".into())));
        assert!(body.contains(&("client_secret".into(), "sec".into())));
        let public = OAuthClient {
            client_secret: None,
            ..client()
        };
        let body = String::from_utf8(refresh_request(&public, "rt").body.unwrap()).unwrap();
        assert_eq!(
            body,
            "grant_type=refresh_token&refresh_token=rt&client_id=cid"
        );
        let revoke = revoke_request(
            &OAuthClient {
                revoke_url: None,
                ..client()
            },
            "tok",
        );
        assert_eq!(revoke.url, "https://api.capsulecrm.com/oauth/token/revoke");
    }

    #[test]
    fn token_response_parses_reference_example() {
        let body = r#"{"access_token":"a1","token_type":"bearer","expires_in":604799,"refresh_token":"r1","scope":"read write","subdomain":"demo"}"#;
        let t = parse_token_response(&HttpResponse::new(200, body)).unwrap();
        assert_eq!(t.access_token, "a1");
        assert_eq!(t.expires_in, Some(604799));
        assert_eq!(t.refresh_token.as_deref(), Some("r1"));
        assert_eq!(t.subdomain.as_deref(), Some("demo"));
        let err = parse_token_response(&HttpResponse::new(
            400,
            r#"{"error":"invalid_grant","error_description":"bad"}"#,
        ));
        assert_eq!(
            err,
            Err(ApiError::OAuth {
                error: "invalid_grant".into(),
                description: Some("bad".into())
            })
        );
        assert!(matches!(
            parse_token_response(&HttpResponse::new(200, "<html>")),
            Err(ApiError::Decode { .. })
        ));
        assert!(matches!(
            parse_token_response(&HttpResponse::new(502, "")),
            Err(ApiError::Upstream { status: 502, .. })
        ));
    }
}

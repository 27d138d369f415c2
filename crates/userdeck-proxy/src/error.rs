//! The proxy's one error type. Start-up failures (configuration, binding) and request failures
//! share it; request failures render as `{"error": {"kind", "message"}}` with a fitting status, so
//! the app can tell "the CRM is down" (502) from "the CRM is slow" (504) from "you sent nonsense".

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Everything that can go wrong in the proxy, from a bad config file to a dead upstream.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration cannot be used: names the file, the key and what is wrong with it.
    #[error("{file}: {key}: {problem}")]
    Config {
        file: String,
        key: String,
        problem: String,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    /// The request is malformed or tries to escape its connection (traversal, foreign host).
    #[error("{0}")]
    BadRequest(String),
    /// The method cannot be forwarded.
    #[error("method {0} is not allowed here")]
    MethodNotAllowed(String),
    /// The browser origin is not in `allowed_origins`.
    #[error("origin {0} is not allowed")]
    OriginNotAllowed(String),
    /// No such connection or route.
    #[error("{0}")]
    NotFound(String),
    /// The request body exceeds the configured cap.
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// The request body did not arrive within the body timeout (slow upload).
    #[error("request body was not received within {0} ms")]
    RequestTimeout(u64),
    /// The session holds no usable credentials for the connection.
    #[error("{0}")]
    Unauthorized(String),
    /// The operation is not allowed through this connection.
    #[error("{0}")]
    Forbidden(String),
    /// Too many requests to one connection are already in flight.
    #[error("too many requests in flight to connection {0}; try again shortly")]
    Busy(String),
    /// The upstream could not be connected to.
    #[error("{0}")]
    UpstreamUnreachable(String),
    /// The upstream did not answer in time.
    #[error("{0}")]
    UpstreamTimeout(String),
    /// The upstream answered with something that is not HTTP or not what the protocol says.
    #[error("{0}")]
    UpstreamInvalid(String),
    /// A bug or an environment failure the caller cannot fix.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// A stable machine-readable name for the app to branch on.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Config { .. } => "config",
            Error::Bind { .. } => "bind",
            Error::BadRequest(_) => "bad_request",
            Error::MethodNotAllowed(_) => "method_not_allowed",
            Error::OriginNotAllowed(_) => "origin_not_allowed",
            Error::NotFound(_) => "not_found",
            Error::PayloadTooLarge(_) => "payload_too_large",
            Error::RequestTimeout(_) => "request_timeout",
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::Busy(_) => "busy",
            Error::UpstreamUnreachable(_) => "upstream_unreachable",
            Error::UpstreamTimeout(_) => "upstream_timeout",
            Error::UpstreamInvalid(_) => "upstream_invalid",
            Error::Internal(_) => "internal",
        }
    }

    /// The HTTP status the error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::OriginNotAllowed(_) | Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::UpstreamUnreachable(_) | Error::UpstreamInvalid(_) => StatusCode::BAD_GATEWAY,
            Error::UpstreamTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Error::Config { .. } | Error::Bind { .. } | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// Shorthand for configuration errors.
    pub(crate) fn config(file: &str, key: impl Into<String>, problem: impl Into<String>) -> Error {
        Error::Config {
            file: file.to_string(),
            key: key.into(),
            problem: problem.into(),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(kind = self.kind(), status = status.as_u16(), error = %self, "request failed");
        } else {
            tracing::debug!(kind = self.kind(), status = status.as_u16(), error = %self, "request refused");
        }
        let body = json!({"error": {"kind": self.kind(), "message": self.to_string()}});
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Busy is momentary: tell the app when to try again.
            headers.insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}

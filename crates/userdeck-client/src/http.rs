//! Plain HTTP request and response values exchanged between the protocol core and a transport.
//! The core only builds and reads these; sending them is the transport's job.

use crate::error::ApiError;

/// The HTTP methods the three CRMs' user APIs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// A request ready to send: absolute URL, headers and an optional body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    /// A request without headers or body.
    pub fn new(method: Method, url: impl Into<String>) -> HttpRequest {
        HttpRequest {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// Adds a header (builder style).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> HttpRequest {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds several headers (builder style).
    pub fn headers<'a>(
        mut self,
        headers: impl IntoIterator<Item = &'a (String, String)>,
    ) -> HttpRequest {
        self.headers.extend(headers.into_iter().cloned());
        self
    }

    /// Sets a body with its content type.
    pub fn body(mut self, content_type: &str, body: Vec<u8>) -> HttpRequest {
        self.headers
            .push(("Content-Type".into(), content_type.into()));
        self.body = Some(body);
        self
    }

    /// Refuses a header value no HTTP request can carry: one with a NUL, CR or LF (a line break
    /// would end the header). Credentials are sent in headers (Zurmo's username and password, a
    /// bearer token), so the error says which header, never its value.
    pub fn check_headers(&self) -> Result<(), ApiError> {
        match self
            .headers
            .iter()
            .find(|(_, value)| value.bytes().any(|b| matches!(b, 0 | b'\r' | b'\n')))
        {
            Some((name, _)) => Err(ApiError::InvalidCredentials {
                message: format!(
                    "the {name} header would hold a line break or a NUL character, which HTTP \
                     cannot send: check what was typed or pasted"
                ),
            }),
            None => Ok(()),
        }
    }

    /// First value of a header, matched case-insensitively.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// A response as received: status, headers and the raw body bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with a status and body, for tests and fixtures.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> HttpResponse {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header (builder style).
    pub fn with_header(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> HttpResponse {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// First value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// A header parsed as an unsigned integer, ignoring surrounding spaces.
    pub fn header_u64(&self, name: &str) -> Option<u64> {
        self.header(name).and_then(|v| v.trim().parse().ok())
    }

    /// True for 2xx statuses.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_that_http_cannot_carry_is_refused_without_its_value() {
        let with = |value: &str| {
            HttpRequest::new(Method::Get, "https://crm.example.com")
                .header("ZURMO_AUTH_PASSWORD", value)
                .check_headers()
        };
        for fine in ["zażółć-пароль-€1", "tab\there", ""] {
            assert_eq!(with(fine), Ok(()), "{fine:?}");
        }
        for broken in ["two\nlines", "carriage\rreturn", "nul\0"] {
            let Err(ApiError::InvalidCredentials { message }) = with(broken) else {
                panic!("{broken:?} was let through");
            };
            assert!(message.contains("ZURMO_AUTH_PASSWORD"), "{message}");
            assert!(
                !message.contains(broken),
                "the value stays out of the message"
            );
        }
    }
}

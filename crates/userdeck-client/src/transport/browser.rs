//! Browser transport (feature `browser`, wasm32 only): gloo-net `fetch`, gloo-timers for sleeping,
//! `Date.now()` and `Math.random()`. Each request gets an `AbortController`: a superseded search
//! stops downloading instead of merely being ignored, and a CRM that takes a request and never
//! answers is given up on after the timeout, as the native transport does.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use gloo_net::http::{Method as FetchMethod, RequestBuilder};
use web_sys::AbortController;

use super::{CancelToken, Transport};
use crate::error::{ApiError, NO_ANSWER};
use crate::http::{HttpRequest, HttpResponse, Method};

/// How long a request may take, answer body included, before it is given up (the native
/// transport's figure).
const TIMEOUT: Duration = Duration::from_secs(30);

/// gloo-net-backed transport for the app.
#[derive(Debug)]
pub struct BrowserTransport {
    controllers: RefCell<HashMap<u64, AbortController>>,
    timeout: Duration,
}

impl Default for BrowserTransport {
    fn default() -> BrowserTransport {
        BrowserTransport {
            controllers: RefCell::default(),
            timeout: TIMEOUT,
        }
    }
}

impl BrowserTransport {
    /// A transport with no requests in flight and a 30-second timeout.
    pub fn new() -> BrowserTransport {
        BrowserTransport::default()
    }

    /// The same with another timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> BrowserTransport {
        self.timeout = timeout;
        self
    }

    async fn fetch(
        &self,
        req: HttpRequest,
        signal: Option<&web_sys::AbortSignal>,
    ) -> Result<HttpResponse, ApiError> {
        let method = match req.method {
            Method::Get => FetchMethod::GET,
            Method::Post => FetchMethod::POST,
            Method::Put => FetchMethod::PUT,
            Method::Delete => FetchMethod::DELETE,
        };
        let network = |e: gloo_net::Error| ApiError::Network {
            message: e.to_string(),
        };
        let builder = RequestBuilder::new(&req.url)
            .method(method)
            .abort_signal(signal)
            .headers(gloo_net::http::Headers::from_raw(headers(&req.headers)?));
        let request = match req.body {
            Some(body) => builder
                .body(js_sys::Uint8Array::from(body.as_slice()))
                .map_err(network)?,
            None => builder.build().map_err(network)?,
        };
        let resp = request.send().await.map_err(network)?;
        let status = resp.status();
        let headers = resp.headers().entries().collect();
        let body = resp.binary().await.map_err(network)?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// The request's headers as `fetch` takes them. A header value is a string of bytes, each one
/// character up to U+00FF: `fetch` refuses any other character (it throws, which no Rust caller
/// can catch), and would send `é` as the single byte E9. So each value goes as its UTF-8 bytes,
/// one character per byte, and reaches the CRM exactly as the native transport sends it (a
/// Zurmo password `zażółć` included). What `fetch` still refuses is an error here, never a throw.
fn headers(list: &[(String, String)]) -> Result<web_sys::Headers, ApiError> {
    let refused = |_| ApiError::Network {
        message: "the browser refused to build the request's headers".into(),
    };
    let headers = web_sys::Headers::new().map_err(refused)?;
    for (name, value) in list {
        let bytes: String = value.bytes().map(char::from).collect();
        headers.set(name, &bytes).map_err(refused)?;
    }
    Ok(headers)
}

impl Transport for BrowserTransport {
    async fn send(
        &self,
        req: HttpRequest,
        cancel: Option<&CancelToken>,
    ) -> Result<HttpResponse, ApiError> {
        if cancel.is_some_and(CancelToken::is_cancelled) {
            return Err(ApiError::Cancelled);
        }
        let controller = AbortController::new().map_err(|_| ApiError::Network {
            message: "AbortController unavailable".into(),
        })?;
        let signal = controller.signal();
        if let Some(token) = cancel {
            self.controllers
                .borrow_mut()
                .insert(token.id(), controller.clone());
        }
        let timed_out = Rc::new(Cell::new(false));
        let timer = {
            let timed_out = timed_out.clone();
            let millis = u32::try_from(self.timeout.as_millis()).unwrap_or(u32::MAX);
            gloo_timers::callback::Timeout::new(millis, move || {
                timed_out.set(true);
                controller.abort();
            })
        };
        let result = self.fetch(req, Some(&signal)).await;
        // Dropping the timer clears it: an answered request is never aborted late.
        drop(timer);
        if let Some(token) = cancel {
            self.controllers.borrow_mut().remove(&token.id());
            if token.is_cancelled() {
                return Err(ApiError::Cancelled);
            }
        }
        if timed_out.get() {
            return Err(ApiError::Network {
                message: format!("{NO_ANSWER} {} s", self.timeout.as_secs_f64().max(0.1)),
            });
        }
        result
    }

    async fn sleep(&self, duration: Duration) {
        gloo_timers::future::sleep(duration).await;
    }

    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }

    fn random_u64(&self) -> u64 {
        (js_sys::Math::random() * (u64::MAX as f64)) as u64
    }

    fn abort(&self, token: &CancelToken) {
        if let Some(controller) = self.controllers.borrow_mut().remove(&token.id()) {
            controller.abort();
        }
    }
}

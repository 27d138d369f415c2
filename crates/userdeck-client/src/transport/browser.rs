//! Browser transport (feature `browser`, wasm32 only): gloo-net `fetch`, gloo-timers for sleeping,
//! `Date.now()` and `Math.random()`. Each request gets an `AbortController`: a superseded search
//! stops downloading instead of merely being ignored, and a CRM that takes a request and never
//! answers is given up on after the timeout, as the native transport does.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use gloo_net::http::{Method as FetchMethod, RequestBuilder};
use web_sys::AbortController;

use super::{CancelToken, Transport};
use crate::error::ApiError;
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
        let mut builder = RequestBuilder::new(&req.url)
            .method(method)
            .abort_signal(signal);
        // A header value in `fetch` is a string of bytes, each one character up to U+00FF: any
        // other character makes `Headers.set` throw (past every Rust caller: the task just dies),
        // and `é` would go as the single byte E9. So each value goes as its UTF-8 bytes, one
        // character per byte, and reaches the CRM exactly as natively (a Zurmo password `zażółć`
        // included). The rest of what `fetch` refuses (NUL, CR, LF) the client refused before
        // sending (`HttpRequest::check_headers`).
        for (name, value) in &req.headers {
            let bytes: String = value.bytes().map(char::from).collect();
            builder = builder.header(name, &bytes);
        }
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
        // The fetch races the timeout (the timer future `sleep` already uses: no callback of its
        // own to bind); whichever ends first ends the other, dropping it clears the timer.
        let mut fetch = pin!(self.fetch(req, Some(&signal)));
        let mut timer = pin!(gloo_timers::future::sleep(self.timeout));
        let answered = poll_fn(|cx| match fetch.as_mut().poll(cx) {
            Poll::Ready(result) => Poll::Ready(Some(result)),
            Poll::Pending => timer.as_mut().poll(cx).map(|()| None),
        })
        .await;
        if let Some(token) = cancel {
            self.controllers.borrow_mut().remove(&token.id());
            if token.is_cancelled() {
                return Err(ApiError::Cancelled);
            }
        }
        let Some(result) = answered else {
            controller.abort();
            return Err(ApiError::no_answer(self.timeout));
        };
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

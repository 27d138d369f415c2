//! Sends the proxy's own small requests (OAuth token calls, Zurmo sign-in), built as the client
//! crate's sans-IO `HttpRequest` values, and reads the answers into `HttpResponse` values with a
//! size cap, so the protocol logic stays in `userdeck_client` and only the I/O lives here.

use std::time::Duration;

use userdeck_client::http::{HttpRequest, HttpResponse, Method};

use crate::config::Limits;
use crate::error::Error;
use crate::forward::classify;

/// Largest answer accepted from a token endpoint or login call.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Sends `request` and returns the whole answer, or a 502/504-style error.
pub async fn send_value(
    http: &reqwest::Client,
    request: HttpRequest,
    limits: &Limits,
) -> Result<HttpResponse, Error> {
    let method = match request.method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Delete => reqwest::Method::DELETE,
    };
    let mut builder = http.request(method, &request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if let Some(body) = request.body {
        builder = builder.body(body);
    }
    let deadline: Duration = limits.connect_timeout + limits.read_timeout;
    let mut response = match tokio::time::timeout(deadline, builder.send()).await {
        Err(_) => {
            return Err(Error::UpstreamTimeout(format!(
                "no answer within {} ms",
                deadline.as_millis()
            )));
        }
        Ok(Err(e)) => return Err(classify(&e, limits)),
        Ok(Ok(r)) => r,
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let mut body = Vec::new();
    loop {
        match tokio::time::timeout(limits.read_timeout, response.chunk()).await {
            Err(_) => return Err(Error::UpstreamTimeout("the answer stalled".into())),
            Ok(Err(e)) => return Err(classify(&e, limits)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_ANSWER_BYTES {
                    return Err(Error::UpstreamInvalid(
                        "the answer is unreasonably large".into(),
                    ));
                }
            }
        }
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

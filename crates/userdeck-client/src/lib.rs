//! Typed users client for Capsule CRM, App CRM (Concord CRM) and Zurmo.
//!
//! The protocol core is sans-IO: provider modules turn queries and drafts into [`http::HttpRequest`]
//! values and parse [`http::HttpResponse`] values into typed results. [`client::Client`] drives
//! them over a [`transport::Transport`] (gloo-net in the browser, reqwest natively).

pub mod error;
pub mod http;
pub mod oauth;
pub mod php;

pub use error::ApiError;
pub mod model;
pub mod provider;
pub mod query;

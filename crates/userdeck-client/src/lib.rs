//! Typed users client for Capsule CRM, App CRM (Concord CRM) and Zurmo.
//!
//! The protocol core is sans-IO: [`provider`] modules turn queries and drafts into
//! [`HttpRequest`] values and parse [`HttpResponse`] values into typed results, with no I/O, clock
//! or randomness of their own. [`Client`] drives them over a [`Transport`] — gloo-net in the
//! browser (feature `browser`), reqwest natively (feature `native`) — and adds sessions, re-login,
//! rate-limit pacing, retries and cancellation of superseded searches.
//!
//! ```no_run
//! use userdeck_client::{Auth, Client, Connection, Provider, Transport, UserField, Op, UserQuery};
//!
//! async fn active_smiths<T: Transport>(transport: T) -> Result<usize, userdeck_client::ApiError> {
//!     let client = Client::new(
//!         Connection {
//!             provider: Provider::Zurmo,
//!             base_url: "https://crm.example.com/app/index.php".into(),
//!             auth: Auth::UsernamePassword { username: "super".into(), password: "…".into() },
//!         },
//!         transport,
//!     );
//!     let query = UserQuery::page(1, 50)
//!         .with(UserField::LastName, Op::StartsWith, "Smi")
//!         .with(UserField::Active, Op::Equals, "1");
//!     Ok(client.list(&query).await?.items.len())
//! }
//! ```

pub mod client;
pub mod error;
pub mod html;
pub mod http;
pub mod model;
pub mod oauth;
pub mod php;
pub mod provider;
pub mod query;
pub mod ratelimit;
pub mod raw;
pub mod retry;
pub mod schema;
pub mod transport;
pub mod zones;

pub use client::{Auth, Client, Connection, TokenObserver, WaitObserver};
pub use error::ApiError;
pub use http::{HttpRequest, HttpResponse, Method};
pub use model::{Capabilities, Page, PasswordChange, Provider, SignInKind, User, UserDraft};
pub use query::{Condition, Direction, Match, Op, Sort, UserField, UserQuery, check_structure};
pub use raw::RawJson;
pub use schema::{FieldKind, FieldSpec, FormMode, Required, Schema};
#[cfg(all(feature = "browser", target_arch = "wasm32"))]
pub use transport::browser::BrowserTransport;
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub use transport::native::NativeTransport;
pub use transport::{CancelToken, Transport};

//! Userdeck's optional proxy, a backend-for-frontend: serves the built app, forwards the app's
//! calls to the configured CRMs (adding CORS and credentials), and runs the OAuth redirect flow
//! so that tokens and client secrets never reach the browser. Stateless apart from sealed cookies:
//! run any number of copies with the same cookie key.
//!
//! ```no_run
//! # async fn demo() -> Result<(), userdeck_proxy::Error> {
//! let config = userdeck_proxy::Config::load(std::path::Path::new("userdeck.toml"))?;
//! let proxy = userdeck_proxy::Proxy::start(config).await?;
//! println!("listening on {}", proxy.url());
//! # Ok(()) }
//! ```

pub mod config;
mod connections;
mod cors;
pub mod error;
mod exchange;
mod forward;
mod oauth;
mod server;
mod session;
mod statics;
mod zurmo;

pub use config::{
    AuthMode, Config, Connection, Limits, OAuthSettings, Provider, Secret, ServerCredentials,
};
pub use error::Error;
pub use server::Proxy;

//! Async client for [Alter Vault](https://alterauth.com), built on `reqwest` (rustls) and
//! `tokio`.
//!
//! Agents and apps never hold provider credentials: [`App`] and [`Agent`] ask Alter to
//! inject them ([`App::request`], retrieve mode) or to make the provider call itself
//! ([`App::proxy_request`], proxy mode), under per-grant policy, with optional human
//! approval ([`App::await_approval`]) and an audit row for every call.
//!
//! Every request is built, signed and judged by `alter-core`; this crate only moves bytes
//! (two `reqwest` clients that never follow redirects: the provider one never carries the
//! API key), sleeps when told to, and uploads audit rows from a background task. The
//! `alter-blocking` crate has the same methods, blocking. Any [`HttpTransport`] can replace
//! the default stack.
//!
//! # Example
//!
//! ```no_run
//! use alter_async::{App, ProxyOutcome, ProxyRequest, AwaitOptions};
//!
//! # async fn run() -> alter_async::Result<()> {
//! let app = App::builder().api_key("alter_rk_…").build()?;
//! let call = ProxyRequest::new("POST", "https://slack.com/api/chat.postMessage", "grant-id");
//! let result = match app.proxy_request(call).await? {
//!     ProxyOutcome::Completed(result) => result,
//!     ProxyOutcome::Pending(pending) => {
//!         println!("approve at {}", pending.approval_url);
//!         app.await_approval(&pending.approval_id.to_string(), AwaitOptions::default()).await?
//!     }
//!     _ => unreachable!("no other outcome in this protocol version"),
//! };
//! println!("slack answered {}", result.status_code);
//! app.close().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Method names
//!
//! The Python client's namespaces become prefixes or suffixes: `agents.create` →
//! [`App::create_agent`], `agents.get` → [`App::get_agent_info`], `keys.derive` →
//! [`App::derive_key`], `scopes.list` → [`App::list_scopes`]; `App.get_agent` (acting as an
//! agent) keeps its name.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod agent;
mod app;
mod builder;
mod entropy;
mod inner;
mod trace;
mod transport;
mod uploader;

pub use agent::Agent;
pub use alter_core::api::{
    ConnectSessionParams, CreateAgent, DeriveKey, GrantTarget, ListAgents, ListGrants,
    ManagedSecretConnectParams, ProviderResponse, ProxyOutcome, ProxyRequest, RetrieveRequest,
    UpdateAgent,
};
pub use alter_core::retry::RetryConfig;
pub use alter_core::surface::{AwaitOptions, ConnectOptions, TraceOptions};
pub use alter_core::types;
pub use alter_core::{Error, Result};
pub use app::{App, Grants};
pub use builder::{AgentBuilder, AppBuilder, Builder};
pub use inner::{GetterError, TokenFuture};
pub use transport::{DEFAULT_MAX_BACKEND_IN_FLIGHT, HttpTransport, ReqwestTransport};

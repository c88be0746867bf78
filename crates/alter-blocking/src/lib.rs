//! Blocking client for [Alter Vault](https://alterauth.com), built on `ureq`.
//!
//! Agents and apps never hold provider credentials: [`App`] and [`Agent`] ask Alter to
//! inject them ([`App::request`], retrieve mode) or to make the provider call itself
//! ([`App::proxy_request`], proxy mode), under per-grant policy, with optional human
//! approval ([`App::await_approval`]) and an audit row for every call.
//!
//! Every request is built, signed and judged by `alter-core`; this crate only moves bytes
//! (two `ureq` agents that never follow redirects: the provider one never carries the API
//! key), sleeps when told to, and uploads audit rows on a background thread. The
//! `alter-async` crate has the same methods, `async`.
//!
//! # Example
//!
//! ```no_run
//! use alter_blocking::{App, ProxyOutcome, ProxyRequest, AwaitOptions};
//!
//! let app = App::builder().api_key("alter_rk_…").build()?;
//! let call = ProxyRequest::new("POST", "https://slack.com/api/chat.postMessage", "grant-id");
//! let result = match app.proxy_request(call)? {
//!     ProxyOutcome::Completed(result) => result,
//!     ProxyOutcome::Pending(pending) => {
//!         println!("approve at {}", pending.approval_url);
//!         app.await_approval(&pending.approval_id.to_string(), AwaitOptions::default())?
//!     }
//!     _ => unreachable!("no other outcome in this protocol version"),
//! };
//! println!("slack answered {}", result.status_code);
//! app.close();
//! # Ok::<(), alter_blocking::Error>(())
//! ```
//!
//! # Method names
//!
//! The Python client's namespaces become prefixes or suffixes: `agents.create` →
//! [`App::create_agent`], `agents.get` → [`App::get_agent_info`], `keys.derive` →
//! [`App::derive_key`], `scopes.list` → [`App::list_scopes`]; `App.get_agent` (acting as an
//! agent) keeps its name.
//!
//! # Logging
//!
//! alter-rs emits `tracing` events (method, route with ids elided, status, attempt,
//! latency) and never a key, token, signature or body. `ureq` logs through the `log` crate,
//! and at TRACE level it hex-dumps every byte it sends and receives, keys and credentials
//! included: if `log` records reach your subscriber, keep the `ureq` and `ureq_proto`
//! targets at DEBUG or below.
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
pub use inner::GetterError;
pub use trace::TraceGuard;

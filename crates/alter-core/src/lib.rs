//! Sans-IO engine of the Alter Vault SDK.
//!
//! It builds every request, signs it, classifies every answer and decides every retry and
//! poll, but never opens a socket, sleeps, spawns, reads a clock or draws randomness: time
//! ([`Now`]), randomness ([`Entropy`]) and responses come in as inputs, and what to do next
//! comes out as a [`Step`].
//!
//! # In scope
//!
//! - Configuration rules: base URL, API key format, caller ([`config`]).
//! - HMAC request signing ([`signing`]) and byte-exact JSON bodies ([`json`]).
//! - A request builder for every endpoint ([`api`]), each a [`Call`] with its retry policy
//!   ([`retry`]) and error classification ([`classify`], [`error`]).
//! - Polling state machines for approvals, connect and sign-in ([`poll`]).
//! - The whole retrieve-mode flow: token, credential injection, AWS SigV4, audit row and
//!   scope-mismatch report ([`retrieve`]).
//!
//! # Out of scope
//!
//! Sockets, TLS, timers, threads, tasks and the OS random generator: the `alter-async` and
//! `alter-blocking` frontends bring those and drive every operation through the same loop.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod api;
mod authority;
pub mod call;
pub mod classify;
pub mod config;
pub mod encoding;
pub mod engine;
pub mod error;
pub mod io;
pub mod json;
pub mod lifecycle;
pub mod limits;
pub mod options;
pub mod poll;
pub mod redact;
pub mod retrieve;
pub mod retry;
pub mod signing;
pub mod step;
pub mod surface;
#[cfg(test)]
mod test_support;

/// The data model, re-exported so that dependants need only one crate.
pub use alter_types as types;
pub use call::Call;
pub use engine::{ClientConfig, Engine};
pub use error::{ApiError, Error, Result};
pub use io::{Entropy, HttpRequest, HttpResponse, Now, Target, TransportError, TransportErrorKind};
pub use options::{ClientOptions, Role};
pub use step::{Operation, Step};

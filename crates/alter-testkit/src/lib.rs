//! A stateful fake Alter Vault backend and a fake provider on real HTTP over loopback.
//!
//! Users of the SDK test their agents offline against it, the SDK's own frontends run their
//! integration tests against it, and conformance suites in other languages drive its
//! binary. It checks every request the way the real backend does, with the core's own code:
//! the HMAC signature over the canonical target (PROTOCOL.md §3.7), the body hash, a
//! ±300 s timestamp window and nonce replay. Its state is real: agents and keys, grants and
//! delegations, approvals that move through their states, connect and sign-in sessions.
//! Its error bodies are the shapes the core's classifiers read (§4), and its tests check
//! each one against them.
//!
//! ```
//! use alter_testkit::FakeAlter;
//!
//! let fake = FakeAlter::start();
//! assert!(fake.base_url().starts_with("http://127.0.0.1:"));
//! assert!(fake.app_key().starts_with("alter_rk_"));
//!
//! // Proxy calls through the HITL grant wait for a decision a test makes here:
//! // fake.approve(&approval_id)?; fake.deny(&approval_id, Some("too risky"))?;
//! println!("oauth grant {}", fake.grants().oauth_bearer);
//! // Dropping the handle stops the server.
//! ```
//!
//! # What it serves
//!
//! - Every `/sdk/…` endpoint of PROTOCOL.md §5, with its success codes and error shapes.
//! - A fake provider at [`FakeAlter::provider_base_url`]: `/echo/<anything>`,
//!   `/status/<code>`, `/protected/<anything>` (200 only when exactly the expected
//!   credential arrived in exactly the expected place) and `/drop`.
//! - Control routes under `{base_url}/_testkit/`, unsigned, mirroring the control methods
//!   of [`FakeAlter`]: `POST approvals/{id}/approve|execute|deny|expire`,
//!   `GET approvals/{id}`, `POST connect/{session_token}/complete`,
//!   `POST auth/{session_token}/complete` (the token `latest` names the newest pending
//!   session), `GET sessions`, `POST users`, `POST grants`,
//!   `POST grants/{id}/status`, `POST|DELETE faults`, `GET audit`, `GET scope-reports`,
//!   `GET|DELETE requests`, `GET hits?route=…`, `GET state`. Control requests are never
//!   faulted, recorded nor counted (but for the `redirected` redirect target).
//!
//! # The binary
//!
//! `cargo run -p alter-testkit -- serve [--addr 127.0.0.1:PORT] [--provider-addr …]
//! [--seed N]` prints one JSON line ([`ReadyInfo`]) on stdout once both listeners are
//! bound, then serves until SIGINT or SIGTERM. It refuses addresses that are not loopback.
//!
//! # Seeded data
//!
//! An app key with every scope, an agent (`testkit-agent`) with an agent key, a managed
//! secret (`acme-api-key`), a signed-in user (`user-alice`) and one grant per injection
//! style ([`SeededGrants`]).
//!
//! # Limitations
//!
//! It speaks HTTP/1.1 only, and its proxy mode calls only `http://` loopback URLs (other
//! destinations answer 422 `blocked_destination`). Keys, tokens and ids come from a
//! non-cryptographic generator: they protect nothing but loopback test data.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod app;
mod auth;
mod control;
mod errors;
mod faults;
mod handle;
mod outbound;
mod provider;
mod record;
mod routes;
mod server;
mod spec;
mod state;

pub use control::ControlError;
pub use faults::{FaultAction, FaultError, FaultSpec, route_matches};
pub use handle::{Builder, FakeAlter, ReadyInfo, SeededGrants, StartError};
pub use record::{AuditRecord, AuditSource, Listener, RecordedRequest, ScopeReport};
pub use spec::{
    AuthCompletion, ConnectCompletion, CredentialSpec, GrantSpec, GrantStatus, InjectionSpec,
    InjectionStyle, ManagedSecretGrantSpec, ScopeMismatch, SessionOutcome,
};

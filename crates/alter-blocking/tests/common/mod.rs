//! Scenarios shared by the two frontends' integration tests.
//!
//! Each file here defines one `macro_rules!` that expands to test functions. The blocking
//! crate expands them with no keywords and `#[test]`; the async crate includes this
//! directory with `#[path]` and expands them with `async` / `.await` and `#[tokio::test]`.
//! Both frontends therefore run the same table of calls against `alter-testkit`, with the
//! same assertions, exactly as `alter-core` writes their method surface once.
//!
//! A crate using these macros provides a module `adapter` with the few helpers whose
//! signatures differ between frontends (token getters, `Agent::trace`); see the crates'
//! `tests/frontend.rs`.
//!
//! `secrets.rs` (the secret-leak scenarios) and `capture.rs` (the global TRACE capture they
//! search) are used by each crate's `tests/secrets_in_logs.rs` instead.

#[macro_use]
mod support;
#[macro_use]
mod operations;
#[macro_use]
mod flows;
#[macro_use]
mod faults;
#[macro_use]
mod hygiene;
#[macro_use]
mod io_limits;
pub(crate) mod stalling;
// Expanded only by `tests/secrets_in_logs.rs`, a binary of its own because it installs a
// global TRACE capture (`capture.rs`, which that binary alone includes).
#[allow(
    unused_macros,
    reason = "expanded by the secrets_in_logs binaries, not here"
)]
#[macro_use]
mod secrets;
#[macro_use]
pub(crate) mod matrix;

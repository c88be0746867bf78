//! Secrets never leak from `alter-blocking`: the shared secret scenarios (`common/secrets.rs`)
//! under a global TRACE capture (`common/capture.rs`).
//!
//! Its own binary, because the capture is a global subscriber and logger: it sees the
//! testkit's server threads and the audit upload thread, and would slow every other test.

#[path = "common/capture.rs"]
mod capture;

#[macro_use]
#[path = "common/support.rs"]
mod support_macro;

#[macro_use]
#[path = "common/secrets.rs"]
mod secrets_macro;

/// The helpers whose signatures differ between the two frontends.
mod adapter;

#[allow(
    dead_code,
    reason = "the shared helpers serve every scenario file; this one uses some"
)]
mod support {
    frontend_support!(alter_blocking);
}

mod secrets {
    secret_scenarios!(alter_blocking, #[test], [] []);
}

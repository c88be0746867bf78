//! Integration tests: the fake driven over loopback by the core's engine, exactly as an SDK
//! frontend drives the real backend.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

mod agents;
mod auth;
mod binary;
mod control_http;
mod faults;
mod grants;
mod keys;
mod lifecycle;
mod proxy;
mod retrieve;
mod sessions;
mod support;

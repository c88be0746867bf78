//! What the crate's unit tests share: an engine with fixed randomness and one reading of the
//! clocks.

use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use crate::config::{ApiKey, BaseUrl};
use crate::engine::{ClientConfig, Engine};
use crate::io::{Entropy, Now};

/// Randomness that is always zero, so nonces are predictable.
#[derive(Debug)]
pub(crate) struct Zeros;

impl Entropy for Zeros {
    fn random_16(&self) -> [u8; 16] {
        [0; 16]
    }
}

/// An app engine for `https://vault.example.com` with a test key.
pub(crate) fn engine() -> Arc<Engine> {
    let config = ClientConfig::new(
        ApiKey::parse("alter_key_test").unwrap(),
        BaseUrl::parse("https://vault.example.com").unwrap(),
    );
    Engine::new(config, Arc::new(Zeros)).unwrap()
}

/// The monotonic clock now, and a fixed wall clock (2026-01-01T00:00:00Z).
#[expect(
    clippy::disallowed_methods,
    reason = "a test needs one base instant; nothing waits on it"
)]
pub(crate) fn test_now() -> Now {
    Now::new(
        Instant::now(),
        UNIX_EPOCH + Duration::from_secs(1_767_225_600),
    )
}

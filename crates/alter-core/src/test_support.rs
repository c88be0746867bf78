//! What the crate's unit tests share: an engine with fixed randomness, one reading of the
//! clocks, and a capture of the warnings an action logs.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
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

/// A log sink for [`warnings_of`].
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut sink = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        sink.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The WARN (and worse) lines `action` logs on this thread.
pub(crate) fn warnings_of(action: impl FnOnce()) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();

    tracing::subscriber::with_default(subscriber, action);

    let bytes = captured.0.lock().unwrap_or_else(PoisonError::into_inner);
    String::from_utf8_lossy(&bytes).into_owned()
}

//! Polling state machines: `await_approval` (PROTOCOL.md §7.2), the connect flow (§8.3)
//! and IDP sign-in (§8.4). One implementation each, driven by both frontends.
//!
//! All three keep an absolute deadline: no request starts after it, and the last wait is
//! cut to it (§16 D4). Poll intervals below [`MIN_POLL_INTERVAL`] are raised to it.

mod approval;
mod auth;
mod connect;

pub use approval::AwaitApproval;
pub use auth::AwaitSignIn;
pub use connect::AwaitConnect;

use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The shortest wait between two polls.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The default wait between two polls.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// The longest a poller waits, whatever timeout it is given (longer ones are cut to it).
pub const MAX_POLL_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);

/// `at + wait`, or the furthest instant the platform can represent.
fn later(at: Instant, wait: Duration) -> Instant {
    at.checked_add(wait).unwrap_or(at)
}

/// The default time a poller waits before giving up.
pub const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(300);

/// A poll schedule: the absolute deadline and the interval between polls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Schedule {
    pub(crate) deadline: Instant,
    pub(crate) interval: Duration,
}

impl Schedule {
    pub(crate) fn new(start: Instant, timeout: Duration, interval: Duration) -> Self {
        Self {
            deadline: later(start, timeout.min(MAX_POLL_TIMEOUT)),
            interval: interval.clamp(MIN_POLL_INTERVAL, MAX_POLL_TIMEOUT),
        }
    }

    /// How long a request sent now may take before the deadline.
    pub(crate) fn remaining(&self, now: Instant) -> Duration {
        self.deadline.saturating_duration_since(now)
    }

    /// When to poll next: one interval from now, but never past the deadline.
    pub(crate) fn next_poll(&self, now: Instant) -> Instant {
        later(now, self.interval).min(self.deadline)
    }

    pub(crate) fn is_over(&self, now: Instant) -> bool {
        now >= self.deadline
    }
}

/// Checks a caller-supplied timeout or interval given in seconds (NaN, negative or
/// infinite values are refused).
///
/// # Errors
///
/// `InvalidInput` when `seconds` is not a finite number of seconds at or above zero.
pub fn duration_from_secs(what: &str, seconds: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        Error::invalid_input(format!(
            "{what} must be a finite, non-negative number of seconds"
        ))
    })
}

/// Separates an inner call's final result from the steps to pass through to the frontend.
pub(crate) fn split<T, U>(
    step: crate::step::Step<T>,
) -> std::result::Result<Result<T>, crate::step::Step<U>> {
    use crate::step::Step;

    match step {
        Step::Done(result) => Ok(result),
        Step::Send(request) => Err(Step::Send(request)),
        Step::Detach(request) => Err(Step::Detach(request)),
        Step::WaitUntil(at) => Err(Step::WaitUntil(at)),
    }
}

/// The step for an input that arrived while no request was in flight.
pub(crate) fn out_of_order<T>() -> crate::step::Step<T> {
    crate::step::Step::Done(Err(Error::sdk(
        "poller received a response while no request was in flight",
    )))
}

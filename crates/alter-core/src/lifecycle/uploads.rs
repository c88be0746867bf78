//! The bookkeeping of a client's background uploads (audit rows, scope-mismatch reports),
//! shared by both frontends so that a bounded `close()` behaves the same in each: how many
//! uploads wait, how many were given up, and the deadline a closing client stops at.
//!
//! A frontend's queue calls [`UploadLedger::queued`] before it takes an upload, its worker
//! asks [`UploadLedger::admit`] before each send and calls [`UploadLedger::settled`] after,
//! and `close()` brackets its wait with [`UploadLedger::begin_close`] and
//! [`UploadLedger::end_close`]. Uploads still unsettled when the wait ends count as dropped.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::io::HttpRequest;
use crate::options::MAX_TIMEOUT;

/// Counts one client's background uploads; see the module documentation.
///
/// ```
/// use std::time::{Duration, Instant};
/// use alter_core::lifecycle::UploadLedger;
///
/// let ledger = UploadLedger::default();
/// ledger.queued();
/// ledger.queued();
///
/// let start = Instant::now();
/// ledger.begin_close(start, Duration::from_secs(10));
/// // The worker sent one upload; the deadline passed before the second.
/// ledger.settled();
///
/// assert_eq!(ledger.end_close(), 1);
/// assert_eq!(ledger.dropped(), 1);
/// ```
#[derive(Debug, Default)]
pub struct UploadLedger {
    state: Mutex<Ledger>,
}

#[derive(Debug, Default)]
struct Ledger {
    /// Queued or being sent, not yet settled.
    pending: u64,
    dropped: u64,
    /// Set once `close()` starts waiting.
    close_deadline: Option<Instant>,
    /// Set once `close()` stopped waiting: whatever is left is not sent.
    given_up: bool,
}

impl UploadLedger {
    /// An upload is about to enter the queue. Call it before handing the upload over, so
    /// that a worker settling it at once cannot be counted first.
    pub fn queued(&self) {
        let mut ledger = self.lock();
        ledger.pending = ledger.pending.saturating_add(1);
    }

    /// The queue was full: the upload announced by [`UploadLedger::queued`] is dropped.
    /// Returns how many were dropped so far.
    pub fn refused(&self) -> u64 {
        let mut ledger = self.lock();
        ledger.pending = ledger.pending.saturating_sub(1);
        ledger.dropped = ledger.dropped.saturating_add(1);
        ledger.dropped
    }

    /// The queue had stopped: the upload announced by [`UploadLedger::queued`] goes back to
    /// the caller, who sends it itself.
    pub fn returned(&self) {
        let mut ledger = self.lock();
        ledger.pending = ledger.pending.saturating_sub(1);
    }

    /// Whether the worker may send `request` now. While the client closes, the request's
    /// timeout is cut to the time left before the close deadline; once the deadline has
    /// passed (or `close()` stopped waiting) the answer is `false`, and the upload stays
    /// counted until [`UploadLedger::end_close`] counts it as dropped.
    pub fn admit(&self, request: &mut HttpRequest, now: Instant) -> bool {
        let ledger = self.lock();
        if ledger.given_up {
            return false;
        }
        let Some(deadline) = ledger.close_deadline else {
            return true;
        };
        let left = deadline.saturating_duration_since(now);
        if left.is_zero() {
            return false;
        }
        request.timeout = Some(request.timeout.map_or(left, |own| own.min(left)));
        true
    }

    /// The worker is done with an upload it was admitted to send (sent, refused or
    /// failed: failures are logged, never retried).
    pub fn settled(&self) {
        let mut ledger = self.lock();
        // After `end_close`, the upload was already counted as dropped.
        if !ledger.given_up {
            ledger.pending = ledger.pending.saturating_sub(1);
        }
    }

    /// `close()` starts waiting for the queue, for at most `limit` from `now` (cut to
    /// [`MAX_TIMEOUT`]). Returns the deadline; a later call returns the first one.
    pub fn begin_close(&self, now: Instant, limit: Duration) -> Instant {
        let deadline = now.checked_add(limit.min(MAX_TIMEOUT)).unwrap_or(now);
        // A second close (say, a drop after `close()`) keeps the first deadline.
        *self.lock().close_deadline.get_or_insert(deadline)
    }

    /// `close()` stops waiting (the queue drained, or the deadline passed): every upload
    /// not yet settled is given up and counted as dropped, with a warning that gives the
    /// count only. Returns how many were given up.
    pub fn end_close(&self) -> u64 {
        let mut ledger = self.lock();
        ledger.given_up = true;
        let unsent = std::mem::take(&mut ledger.pending);
        ledger.dropped = ledger.dropped.saturating_add(unsent);
        drop(ledger);

        if unsent > 0 {
            tracing::warn!(
                unsent,
                "close deadline reached: background uploads given up"
            );
        }
        unsent
    }

    /// How many uploads were dropped: refused by a full queue, or given up at close.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::Target;

    fn upload(timeout: Option<Duration>) -> HttpRequest {
        HttpRequest {
            target: Target::Backend,
            method: "POST".into(),
            url: "https://h.example/sdk/oauth/audit/api-call".into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout,
        }
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[expect(
        clippy::disallowed_methods,
        reason = "tests need one base instant; every other time is an offset from it"
    )]
    fn start() -> Instant {
        Instant::now()
    }

    #[test]
    fn before_close_uploads_keep_their_own_timeout() {
        let ledger = UploadLedger::default();
        let mut request = upload(Some(30 * SECOND));
        ledger.queued();

        assert!(ledger.admit(&mut request, start()));
        assert_eq!(request.timeout, Some(30 * SECOND));
        ledger.settled();
        assert_eq!(ledger.end_close(), 0);
        assert_eq!(ledger.dropped(), 0);
    }

    #[test]
    fn while_closing_each_upload_gets_at_most_the_time_left() {
        let ledger = UploadLedger::default();
        let start = start();
        let deadline = ledger.begin_close(start, 10 * SECOND);
        assert_eq!(deadline, start + 10 * SECOND);

        let mut long = upload(Some(30 * SECOND));
        assert!(ledger.admit(&mut long, start + 4 * SECOND));
        assert_eq!(long.timeout, Some(6 * SECOND));

        let mut short = upload(Some(2 * SECOND));
        assert!(ledger.admit(&mut short, start + 4 * SECOND));
        assert_eq!(short.timeout, Some(2 * SECOND));

        let mut unbounded = upload(None);
        assert!(ledger.admit(&mut unbounded, start + 9 * SECOND));
        assert_eq!(unbounded.timeout, Some(SECOND));

        assert!(!ledger.admit(&mut upload(None), start + 10 * SECOND));
    }

    #[test]
    fn a_second_close_keeps_the_first_deadline() {
        let ledger = UploadLedger::default();
        let start = start();

        let first = ledger.begin_close(start, SECOND);
        let second = ledger.begin_close(start + SECOND, 10 * SECOND);

        assert_eq!(first, second);
    }

    #[test]
    fn what_is_unsettled_at_the_end_of_close_is_dropped_once() {
        let ledger = UploadLedger::default();
        for _ in 0..3 {
            ledger.queued();
        }
        ledger.queued();
        assert_eq!(ledger.refused(), 1);
        ledger.queued();
        ledger.returned();
        let start = start();
        ledger.begin_close(start, SECOND);
        let mut sent = upload(None);
        assert!(ledger.admit(&mut sent, start));
        ledger.settled();

        assert_eq!(ledger.end_close(), 2);

        // The worker finishing late changes nothing, and sends nothing more.
        ledger.settled();
        assert!(!ledger.admit(&mut upload(None), start));
        assert_eq!(ledger.end_close(), 0);
        assert_eq!(ledger.dropped(), 3);
    }
}

//! The bookkeeping of a client's background uploads (audit rows, scope-mismatch reports),
//! shared by both frontends so that a bounded `close()` behaves the same in each: how many
//! uploads wait, how many were given up, and the deadline a closing client stops at.
//!
//! A frontend's queue calls [`UploadLedger::queued`] before it takes an upload, its worker
//! asks [`UploadLedger::admit`] before each send and calls [`UploadLedger::settled`] after,
//! and every `close()` starts with [`UploadLedger::begin_close`]. Only the first close leads
//! ([`CloseTurn::Lead`]): it stops the worker, waits for the queue until the deadline, then
//! calls [`UploadLedger::end_close`]. Later closes (another clone of the same client, a drop
//! after `close()`) follow: they wait for the leading close to end, never past the same
//! deadline, and leave the ledger alone, so a second close cannot cut the first one short.
//!
//! Every upload is counted as dropped exactly once: refused by a full queue, refused by the
//! worker past the deadline, or still unsettled when the leading close ends.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::io::HttpRequest;
use crate::options::MAX_TIMEOUT;

/// Counts one client's background uploads; see the module documentation.
///
/// ```
/// use std::time::{Duration, Instant};
/// use alter_core::lifecycle::{CloseTurn, UploadLedger};
///
/// let ledger = UploadLedger::default();
/// ledger.queued();
/// ledger.queued();
///
/// let start = Instant::now();
/// let first = ledger.begin_close(start, Duration::from_secs(10));
/// assert_eq!(first, CloseTurn::Lead(start + Duration::from_secs(10)));
/// // A second close on the same client only waits for the first one, until its deadline.
/// let second = ledger.begin_close(start, Duration::from_secs(1));
/// assert_eq!(second, CloseTurn::Follow(first.deadline()));
///
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

/// The part a `close()` call plays, as [`UploadLedger::begin_close`] assigns it. Both carry
/// the close deadline, the same for every call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseTurn {
    /// The first close: it stops the worker, waits for the queue until the deadline, and
    /// then calls [`UploadLedger::end_close`].
    Lead(Instant),
    /// A later close: it waits until the leading close has ended, at most until the
    /// deadline, and must not call [`UploadLedger::end_close`] itself.
    Follow(Instant),
}

impl CloseTurn {
    /// The close deadline.
    pub fn deadline(self) -> Instant {
        match self {
            Self::Lead(deadline) | Self::Follow(deadline) => deadline,
        }
    }
}

#[derive(Debug, Default)]
struct Ledger {
    /// Queued or being sent, not yet settled.
    pending: u64,
    dropped: u64,
    /// Refused by [`UploadLedger::admit`] past the close deadline: already in `dropped`,
    /// kept apart for the one warning the close logs.
    refused_late: u64,
    /// Set by the first `close()`.
    close_deadline: Option<Instant>,
    /// Set once the leading `close()` stopped waiting: whatever is left is not sent.
    given_up: bool,
}

/// What a frontend's queue did with an upload offered to it (see [`UploadLedger::offer`]).
#[derive(Debug)]
pub enum Offer {
    /// The worker will send it.
    Queued,
    /// The queue was full.
    Full,
    /// The worker has stopped; the upload comes back.
    Stopped(HttpRequest),
}

impl UploadLedger {
    /// Offers an upload to the frontend's queue (`try_send`, which must not block) and
    /// keeps the count: a full queue drops it, counted and logged as a warning (a count
    /// only); a stopped queue hands it back (`Some`) for the caller to send itself.
    pub fn offer(
        &self,
        request: HttpRequest,
        try_send: impl FnOnce(HttpRequest) -> Offer,
    ) -> Option<HttpRequest> {
        self.queued();

        match try_send(request) {
            Offer::Queued => None,
            Offer::Full => {
                let dropped = self.refused();
                tracing::warn!(dropped, "background upload queue full: upload dropped");
                None
            }
            Offer::Stopped(request) => {
                self.returned();
                Some(request)
            }
        }
    }

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
    /// timeout is cut to the time left before the close deadline. Once the deadline has
    /// passed the answer is `false` and the upload is counted as dropped here, so the count
    /// stays true even when no close ever ends (an async close whose future was dropped).
    /// After [`UploadLedger::end_close`] the answer is `false` too; that call already
    /// counted the upload.
    pub fn admit(&self, request: &mut HttpRequest, now: Instant) -> bool {
        let mut ledger = self.lock();
        if ledger.given_up {
            return false;
        }
        let Some(deadline) = ledger.close_deadline else {
            return true;
        };

        let left = deadline.saturating_duration_since(now);
        if left.is_zero() {
            ledger.pending = ledger.pending.saturating_sub(1);
            ledger.dropped = ledger.dropped.saturating_add(1);
            ledger.refused_late = ledger.refused_late.saturating_add(1);
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

    /// A `close()` starts: the first call gets [`CloseTurn::Lead`] with a deadline `limit`
    /// from `now` (cut to [`MAX_TIMEOUT`]); every later call gets [`CloseTurn::Follow`]
    /// with that same deadline.
    pub fn begin_close(&self, now: Instant, limit: Duration) -> CloseTurn {
        let mut ledger = self.lock();
        if let Some(deadline) = ledger.close_deadline {
            return CloseTurn::Follow(deadline);
        }

        let deadline = now.checked_add(limit.min(MAX_TIMEOUT)).unwrap_or(now);
        ledger.close_deadline = Some(deadline);
        CloseTurn::Lead(deadline)
    }

    /// The leading `close()` stops waiting (the queue drained, the deadline passed, or the
    /// wait was cancelled): every upload not yet settled is given up and counted as
    /// dropped. Logs one warning with the count of uploads the close gave up, these and
    /// the ones the worker refused past the deadline (a count only, never content), and
    /// returns that count. A second call gives up nothing more and returns 0.
    pub fn end_close(&self) -> u64 {
        let mut ledger = self.lock();
        if ledger.given_up {
            return 0;
        }
        ledger.given_up = true;
        let unsent = std::mem::take(&mut ledger.pending);
        ledger.dropped = ledger.dropped.saturating_add(unsent);
        let given_up = unsent.saturating_add(std::mem::take(&mut ledger.refused_late));
        drop(ledger);

        if given_up > 0 {
            tracing::warn!(
                given_up,
                "close stopped waiting: background uploads given up"
            );
        }
        given_up
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
    use crate::test_support::warnings_of;

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
        let deadline = ledger.begin_close(start, 10 * SECOND).deadline();
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
    fn only_the_first_close_leads_and_later_ones_share_its_deadline() {
        let ledger = UploadLedger::default();
        let start = start();

        let first = ledger.begin_close(start, SECOND);
        let second = ledger.begin_close(start + SECOND, 10 * SECOND);
        ledger.end_close();
        let after_the_end = ledger.begin_close(start + 2 * SECOND, SECOND);

        assert_eq!(first, CloseTurn::Lead(start + SECOND));
        assert_eq!(second, CloseTurn::Follow(start + SECOND));
        assert_eq!(after_the_end, CloseTurn::Follow(start + SECOND));
    }

    #[test]
    fn a_following_close_leaves_queued_uploads_to_the_worker() {
        let ledger = UploadLedger::default();
        for _ in 0..3 {
            ledger.queued();
        }
        let start = start();
        ledger.begin_close(start, 10 * SECOND);
        ledger.begin_close(start, 10 * SECOND);

        for _ in 0..3 {
            assert!(ledger.admit(&mut upload(None), start + SECOND));
            ledger.settled();
        }

        assert_eq!(ledger.end_close(), 0);
        assert_eq!(ledger.dropped(), 0);
    }

    #[test]
    fn uploads_refused_past_the_deadline_count_even_if_close_never_ends() {
        let ledger = UploadLedger::default();
        for _ in 0..3 {
            ledger.queued();
        }
        let start = start();
        ledger.begin_close(start, SECOND);
        assert!(ledger.admit(&mut upload(None), start));
        ledger.settled();

        // The close was cancelled: nobody calls `end_close`, the worker drains the queue.
        assert!(!ledger.admit(&mut upload(None), start + SECOND));
        assert!(!ledger.admit(&mut upload(None), start + 2 * SECOND));

        assert_eq!(ledger.dropped(), 2);
    }

    #[test]
    fn what_is_unsettled_at_the_end_of_close_is_dropped_once() {
        let ledger = UploadLedger::default();
        for _ in 0..4 {
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
        assert!(!ledger.admit(&mut upload(None), start + SECOND));

        // One refused late by the worker, two never reached: one warning for the three.
        let mut given_up = 0;
        let warning = warnings_of(|| given_up = ledger.end_close());
        assert_eq!(given_up, 3);
        assert!(warning.contains("given_up=3"), "{warning}");
        assert_eq!(warning.lines().count(), 1, "{warning}");

        // The worker finishing late changes nothing, and sends nothing more.
        ledger.settled();
        assert!(!ledger.admit(&mut upload(None), start));
        assert_eq!(ledger.end_close(), 0);
        assert_eq!(ledger.dropped(), 4);
    }
}

//! Retry policy as pure decisions (PROTOCOL.md §9, §16 D8).
//!
//! The reference client retries nothing. alter-rs retries, but only where a retry cannot
//! execute anything twice:
//!
//! - an [`Idempotency::Safe`] request (every GET, plus `POST /sdk/token` and
//!   `POST /sdk/grants/list`, which only read) is retried after a 429, 502, 503 or 504
//!   answer and after any transport failure but an oversized response body or a request
//!   the HTTP stack refused to build (both would fail the same way again); a typed error
//!   answer at one of those statuses (a 502 `grant_revoked`, say) is final and not retried
//!   ([`Call`](crate::Call) checks that before asking [`RetryState::on_status`]);
//! - an [`Idempotency::Unsafe`] request (proxy calls, creates, mints, revokes, rotations,
//!   audit uploads) is retried only after a connect failure, because then nothing was sent.
//!   Once it may have reached the server it is never re-sent, whatever the failure.
//!
//! Delays grow exponentially with seeded jitter (backon's [`ExponentialBuilder`], used only
//! as an iterator of durations), a `Retry-After` header replaces the computed delay (capped),
//! and no retry is ever scheduled past the call's total budget. The frontend re-signs every
//! retry (new timestamp and nonce).
//!
//! ```
//! use std::time::{Duration, Instant, UNIX_EPOCH};
//! use alter_core::Now;
//! use alter_core::retry::{Idempotency, RetryConfig, RetryDecision, RetryState};
//!
//! let start = Instant::now();
//! let now = Now::new(start, UNIX_EPOCH + Duration::from_secs(1_767_225_600));
//! let mut state = RetryState::new(&RetryConfig::default(), Idempotency::Safe, start);
//!
//! match state.on_status(429, Some("2"), now) {
//!     RetryDecision::Retry { at, .. } => assert_eq!(at, start + Duration::from_secs(2)),
//!     RetryDecision::GiveUp => unreachable!("a read is retried after a 429"),
//! }
//! ```

mod bounds;
mod report;
mod retry_after;

use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};

use crate::io::{Now, TransportError, TransportErrorKind};

pub use bounds::{MAX_ATTEMPTS, MIN_BACKOFF};
pub use report::{RetryErrorReport, RetryReport};
pub use retry_after::parse_retry_after;

/// Longest backoff delay whatever the configuration says; keeps the jitter arithmetic far
/// from overflow.
const BACKOFF_CEILING: Duration = Duration::from_secs(24 * 60 * 60);

/// How many characters of an error description a report keeps (as the backend's own
/// `retry_info` does).
const ERROR_TEXT_CHARS: usize = 500;

/// How a logical call retries.
///
/// # Limits
///
/// Out-of-range values are refused, not clamped: [`RetryConfig::validate`] runs when a
/// client is built (and in [`Engine::new`](crate::Engine::new)) and fails with
/// [`Error::InvalidInput`](crate::Error::InvalidInput).
///
/// | field | allowed |
/// |---|---|
/// | `max_attempts` | 1 to [`MAX_ATTEMPTS`] (10) |
/// | `initial_backoff`, `max_backoff` | [`MIN_BACKOFF`] (1 ms) to one day |
/// | `total_budget`, `max_retry_after` | zero to one day |
///
/// A `max_backoff` below `initial_backoff` is allowed: the delays then all equal
/// `max_backoff`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryConfig {
    /// Attempts in all, the first included; 1 disables retries. Defaults to 3.
    pub max_attempts: u32,
    /// Nominal delay before the first retry; the jittered delay lies between half of it and
    /// all of it. Defaults to 200 ms.
    pub initial_backoff: Duration,
    /// Longest computed delay (nominal delays double up to it). Defaults to 5 s.
    pub max_backoff: Duration,
    /// No retry is scheduled later than this after the call started. Defaults to 30 s.
    pub total_budget: Duration,
    /// Longest wait a `Retry-After` header can impose; larger values are cut to it.
    /// Defaults to 30 s.
    pub max_retry_after: Duration,
    /// Seed of the jitter, so a schedule can be replayed. 0 (the default) means a fresh
    /// seed per call, taken from the call's first nonce.
    pub jitter_seed: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            total_budget: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(30),
            jitter_seed: 0,
        }
    }
}

/// Whether a request may be sent twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idempotency {
    /// Sending it again cannot change anything: reads.
    Safe,
    /// Sending it again could act twice: it is re-sent only when it never left the machine.
    Unsafe,
}

impl Idempotency {
    /// The class of a backend call: every GET, `POST /sdk/token` and `POST /sdk/grants/list`
    /// are safe, everything else is unsafe. `path` is the `/sdk/…` path, query allowed.
    ///
    /// ```
    /// use alter_core::retry::Idempotency;
    ///
    /// assert_eq!(Idempotency::of_backend_call("GET", "/sdk/approvals/a-1"), Idempotency::Safe);
    /// assert_eq!(Idempotency::of_backend_call("POST", "/sdk/proxy"), Idempotency::Unsafe);
    /// ```
    pub fn of_backend_call(method: &str, path: &str) -> Self {
        let path = path.split('?').next().unwrap_or(path);
        let read_only_post = matches!(path, "/sdk/token" | "/sdk/grants/list");

        if method.eq_ignore_ascii_case("GET")
            || (method.eq_ignore_ascii_case("POST") && read_only_post)
        {
            Self::Safe
        } else {
            Self::Unsafe
        }
    }
}

/// What to do after a failed attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    /// Send the request again (freshly signed) at this instant.
    Retry {
        /// When to send it.
        at: Instant,
        /// Why, for logs (no secrets).
        reason: String,
    },
    /// Do not retry: surface the failure.
    GiveUp,
}

/// The retry state of one logical call: report each attempt's outcome, act on the decision.
///
/// Every `on_*` call counts one attempt.
#[derive(Debug)]
pub struct RetryState {
    config: RetryConfig,
    idempotency: Idempotency,
    started_at: Instant,
    attempts: u32,
    successful_attempt: u32,
    backoff: ExponentialBackoff,
    errors: Vec<RetryErrorReport>,
}

impl RetryState {
    /// The state of a call that started at `started_at`.
    pub fn new(config: &RetryConfig, idempotency: Idempotency, started_at: Instant) -> Self {
        // backon's jitter adds up to 100 % of the nominal delay, so it is fed half delays:
        // each jittered delay then lies in [nominal / 2, nominal).
        let max_backoff = config.max_backoff.min(BACKOFF_CEILING);
        let backoff = ExponentialBuilder::new()
            .with_min_delay(config.initial_backoff.min(max_backoff) / 2)
            .with_max_delay(max_backoff / 2)
            .without_max_times()
            .with_jitter()
            .with_jitter_seed(config.jitter_seed)
            .build();

        Self {
            config: config.clone(),
            idempotency,
            started_at,
            attempts: 0,
            successful_attempt: 0,
            backoff,
            errors: Vec::new(),
        }
    }

    /// Attempts reported so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The answer of the last attempt had this status.
    ///
    /// 429, 502, 503 and 504 are retried for safe requests; for 429 and 503 a `Retry-After`
    /// value replaces the computed delay (cut to `max_retry_after`; a malformed value is
    /// logged and ignored). Any other status of 400 or more gives up; a status below 400
    /// counts as a success and gives up too (there is nothing to retry).
    pub fn on_status(&mut self, status: u16, retry_after: Option<&str>, now: Now) -> RetryDecision {
        if status < 400 {
            self.on_success();
            return RetryDecision::GiveUp;
        }

        let attempt = self.begin_failure();
        let error = format!("status {status}");
        let error_type = format!("http_{status}");

        if !matches!(status, 429 | 502..=504) {
            tracing::debug!(attempt, status, "not retried: status is not transient");
            return self.give_up(attempt, error, error_type);
        }
        if self.idempotency == Idempotency::Unsafe {
            tracing::debug!(
                attempt,
                status,
                "not retried: the request may have been executed"
            );
            return self.give_up(attempt, error, error_type);
        }

        let server_wait = match (status, retry_after) {
            (429 | 503, Some(value)) => self.server_wait(value, now),
            _ => None,
        };
        let reason = match server_wait {
            Some(_) => format!("status {status}, server sent Retry-After"),
            None => format!("status {status}"),
        };
        self.schedule(attempt, server_wait, now, reason, error, error_type)
    }

    /// The last attempt got an answer that is final whatever its status: a typed error
    /// such as a 502 `grant_revoked`, which asking again cannot change. It is recorded as a
    /// permanent failure and never retried.
    pub fn on_final_answer(&mut self, status: u16) {
        let attempt = self.begin_failure();
        tracing::debug!(attempt, status, "not retried: the answer is a typed error");
        let _ = self.give_up(
            attempt,
            format!("status {status}"),
            format!("http_{status}"),
        );
    }

    /// The last attempt failed below HTTP.
    ///
    /// Safe requests are retried after any transport failure but
    /// [`TransportErrorKind::ResponseTooLarge`], which would only fetch the same oversized
    /// answer again, and [`TransportErrorKind::InvalidRequest`], which the HTTP stack would
    /// refuse again. Unsafe requests are retried
    /// only after a connect failure: no connection means the request never left, so sending
    /// it again cannot execute it twice. After a timeout or any other failure an unsafe
    /// request may have been executed, so it is never re-sent.
    pub fn on_transport_error(&mut self, error: &TransportError, now: Now) -> RetryDecision {
        let attempt = self.begin_failure();
        let error_type = match error.kind {
            TransportErrorKind::Connect => "connect",
            TransportErrorKind::Timeout => "timeout",
            TransportErrorKind::ResponseTooLarge => "response_too_large",
            TransportErrorKind::InvalidRequest => "invalid_request",
            _ => "io",
        };
        let description: String = error.message.chars().take(ERROR_TEXT_CHARS).collect();

        if error.kind == TransportErrorKind::ResponseTooLarge {
            tracing::debug!(attempt, "not retried: the answer would be as large again");
            return self.give_up(attempt, description, error_type.to_owned());
        }
        // The HTTP stack will refuse the same request again: a caller mistake, not a
        // transient failure.
        if error.kind == TransportErrorKind::InvalidRequest {
            tracing::debug!(attempt, "not retried: the request cannot be sent");
            return self.give_up(attempt, description, error_type.to_owned());
        }

        if self.idempotency == Idempotency::Unsafe && error.may_have_reached_server() {
            tracing::debug!(
                attempt,
                error_type,
                "not retried: the request may have reached the server"
            );
            return self.give_up(attempt, description, error_type.to_owned());
        }

        let reason = format!("{error_type} failure");
        self.schedule(
            attempt,
            None,
            now,
            reason,
            description,
            error_type.to_owned(),
        )
    }

    /// The last attempt succeeded.
    pub fn on_success(&mut self) {
        self.attempts = self.attempts.saturating_add(1);
        self.successful_attempt = self.attempts;
        tracing::debug!(attempt = self.attempts, "attempt succeeded");
    }

    /// What happened so far.
    pub fn report(&self) -> RetryReport {
        RetryReport {
            total_attempts: self.attempts,
            successful_attempt: self.successful_attempt,
            errors: self.errors.clone(),
        }
    }

    fn begin_failure(&mut self) -> u32 {
        self.attempts = self.attempts.saturating_add(1);
        self.attempts
    }

    /// The wait a `Retry-After` value asks for, cut to the cap; `None` when malformed.
    fn server_wait(&self, value: &str, now: Now) -> Option<Duration> {
        let Some(wait) = parse_retry_after(value, now.wall) else {
            tracing::warn!(
                value_len = value.len(),
                "ignoring a malformed Retry-After header"
            );
            return None;
        };

        if wait > self.config.max_retry_after {
            tracing::debug!(
                requested_s = wait.as_secs(),
                cap_s = self.config.max_retry_after.as_secs(),
                "Retry-After cut to the cap",
            );
        }
        Some(wait.min(self.config.max_retry_after))
    }

    /// Schedules the next attempt after `server_wait` or the next backoff delay, unless the
    /// attempts or the budget are used up.
    fn schedule(
        &mut self,
        attempt: u32,
        server_wait: Option<Duration>,
        now: Now,
        reason: String,
        error: String,
        error_type: String,
    ) -> RetryDecision {
        if attempt >= self.config.max_attempts {
            tracing::debug!(
                attempt,
                error_type = %error_type,
                max = self.config.max_attempts,
                "not retried: no attempts left"
            );
            return self.give_up(attempt, error, error_type);
        }

        let delay = match server_wait {
            Some(wait) => Some(wait),
            None => self.backoff.next().map(|d| d.min(self.config.max_backoff)),
        };
        let deadline = self.started_at.checked_add(self.config.total_budget);
        let at = delay.and_then(|delay| now.monotonic.checked_add(delay));
        let Some((at, delay)) = at
            .zip(delay)
            .filter(|(at, _)| deadline.is_none_or(|d| *at <= d))
        else {
            tracing::debug!(
                attempt,
                error_type = %error_type,
                delay_ms = delay.map(|d| d.as_millis()),
                "not retried: budget used up"
            );
            return self.give_up(attempt, error, error_type);
        };

        tracing::debug!(
            attempt,
            error_type = %error_type,
            delay_ms = delay.as_millis(),
            reason = %reason,
            "retrying"
        );
        self.errors.push(RetryErrorReport {
            attempt,
            error,
            error_type,
            delay_s: delay.as_secs_f64(),
            permanent: false,
        });
        RetryDecision::Retry { at, reason }
    }

    fn give_up(&mut self, attempt: u32, error: String, error_type: String) -> RetryDecision {
        self.errors.push(RetryErrorReport {
            attempt,
            error,
            error_type,
            delay_s: 0.0,
            permanent: true,
        });
        RetryDecision::GiveUp
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    #[expect(
        clippy::disallowed_methods,
        reason = "tests need one base instant; every other time is an offset from it"
    )]
    fn start() -> Instant {
        Instant::now()
    }

    /// 2026-01-01T00:00:00Z.
    fn wall_base() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_767_225_600)
    }

    /// The clocks `ms` milliseconds after `start`.
    fn after(start: Instant, ms: u64) -> Now {
        Now::new(
            start + Duration::from_millis(ms),
            wall_base() + Duration::from_millis(ms),
        )
    }

    fn delay_of(decision: &RetryDecision, now: Now) -> Option<Duration> {
        match decision {
            RetryDecision::Retry { at, .. } => Some(at.duration_since(now.monotonic)),
            RetryDecision::GiveUp => None,
        }
    }

    fn connect() -> TransportError {
        TransportError::new(TransportErrorKind::Connect, "connection refused")
    }

    fn timeout() -> TransportError {
        TransportError::new(TransportErrorKind::Timeout, "read timed out")
    }

    fn io() -> TransportError {
        TransportError::new(TransportErrorKind::Io, "connection reset")
    }

    #[test]
    fn defaults() {
        let config = RetryConfig::default();

        assert_eq!(config.max_attempts, 3);
        assert_eq!(config.initial_backoff, Duration::from_millis(200));
        assert_eq!(config.max_backoff, Duration::from_secs(5));
        assert_eq!(config.total_budget, Duration::from_secs(30));
        assert_eq!(config.max_retry_after, Duration::from_secs(30));
    }

    #[test]
    fn idempotency_of_backend_calls() {
        let cases = [
            ("GET", "/sdk/agents?limit=10", Idempotency::Safe),
            ("get", "/sdk/approvals/a-1", Idempotency::Safe),
            ("GET", "/sdk/approvals/a-1/result", Idempotency::Safe),
            ("POST", "/sdk/token", Idempotency::Safe),
            ("POST", "/sdk/grants/list", Idempotency::Safe),
            ("POST", "/sdk/proxy", Idempotency::Unsafe),
            ("POST", "/sdk/agents", Idempotency::Unsafe),
            ("POST", "/sdk/agents/a/keys", Idempotency::Unsafe),
            ("POST", "/sdk/keys/k/rotate", Idempotency::Unsafe),
            ("DELETE", "/sdk/keys/k", Idempotency::Unsafe),
            ("POST", "/sdk/oauth/audit/api-call", Idempotency::Unsafe),
            ("PUT", "/sdk/token", Idempotency::Unsafe),
            ("POST", "/sdk/token/extra", Idempotency::Unsafe),
        ];

        for (method, path, expected) in cases {
            assert_eq!(
                Idempotency::of_backend_call(method, path),
                expected,
                "{method} {path}"
            );
        }
    }

    #[test]
    fn safe_requests_retry_gateway_statuses_and_rate_limits() {
        let start = start();
        for status in [429, 502, 503, 504] {
            let mut state = RetryState::new(&RetryConfig::default(), Idempotency::Safe, start);

            let decision = state.on_status(status, None, after(start, 0));

            let delay = delay_of(&decision, after(start, 0)).expect("retried");
            assert!(
                delay >= Duration::from_millis(100) && delay < Duration::from_millis(200),
                "{delay:?}"
            );
        }
    }

    #[test]
    fn other_statuses_are_never_retried() {
        let start = start();
        for status in [400, 401, 403, 404, 409, 410, 422, 500, 501, 505] {
            let mut state = RetryState::new(&RetryConfig::default(), Idempotency::Safe, start);

            assert_eq!(
                state.on_status(status, Some("1"), after(start, 0)),
                RetryDecision::GiveUp,
                "{status}"
            );
            assert!(state.report().errors[0].permanent);
        }
    }

    #[test]
    fn a_success_status_is_recorded_as_success() {
        let start = start();
        let mut state = RetryState::new(&RetryConfig::default(), Idempotency::Safe, start);

        assert_eq!(
            state.on_status(200, None, after(start, 0)),
            RetryDecision::GiveUp
        );

        assert_eq!(
            state.report(),
            RetryReport {
                total_attempts: 1,
                successful_attempt: 1,
                errors: vec![]
            }
        );
    }

    #[test]
    fn attempts_follow_a_seeded_schedule() {
        let start = start();
        let config = RetryConfig {
            jitter_seed: 42,
            ..RetryConfig::default()
        };
        let run = |config: &RetryConfig| {
            let mut state = RetryState::new(config, Idempotency::Safe, start);
            let mut now = after(start, 0);
            let mut delays = Vec::new();
            for _ in 0..3 {
                let decision = state.on_status(503, None, now);
                delays.push(delay_of(&decision, now));
                if let RetryDecision::Retry { at, .. } = decision {
                    now = Now::new(at, now.wall);
                }
            }
            delays
        };

        let first = run(&config);

        // Attempt 1 → retry after [100, 200) ms; attempt 2 → retry after [200, 400) ms;
        // attempt 3 is the last one allowed.
        let d1 = first[0].expect("retry 1");
        let d2 = first[1].expect("retry 2");
        assert!(
            d1 >= Duration::from_millis(100) && d1 < Duration::from_millis(200),
            "{d1:?}"
        );
        assert!(
            d2 >= Duration::from_millis(200) && d2 < Duration::from_millis(400),
            "{d2:?}"
        );
        assert_eq!(first[2], None);
        assert_eq!(run(&config), first, "same seed, same schedule");
        assert_ne!(
            run(&RetryConfig {
                jitter_seed: 7,
                ..config
            }),
            first,
            "another seed"
        );
    }

    #[test]
    fn nominal_delays_double_up_to_the_cap() {
        let start = start();
        let config = RetryConfig {
            max_attempts: 12,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(4),
            total_budget: Duration::from_secs(3_600),
            ..RetryConfig::default()
        };
        let mut state = RetryState::new(&config, Idempotency::Safe, start);
        let nominal = [1, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4];

        for (i, nominal) in nominal.into_iter().enumerate() {
            let now = after(start, 0);
            let delay = delay_of(&state.on_transport_error(&io(), now), now).expect("retried");

            let nominal = Duration::from_secs(nominal);
            assert!(
                delay >= nominal / 2 && delay <= nominal,
                "retry {i}: {delay:?}"
            );
        }
        assert_eq!(
            state.on_transport_error(&io(), after(start, 0)),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn a_request_the_http_stack_refused_is_never_retried() {
        let start = start();
        let refused = TransportError::new(TransportErrorKind::InvalidRequest, "invalid format");

        for idempotency in [Idempotency::Safe, Idempotency::Unsafe] {
            let mut state = RetryState::new(&RetryConfig::default(), idempotency, start);

            assert_eq!(
                state.on_transport_error(&refused, after(start, 0)),
                RetryDecision::GiveUp
            );
            let report = state.report();
            assert_eq!(report.total_attempts, 1);
            assert_eq!(report.errors[0].error_type, "invalid_request");
        }
    }

    #[test]
    fn unsafe_requests_are_retried_only_when_nothing_was_sent() {
        let start = start();
        let now = after(start, 0);
        let retried_after = |fail: &dyn Fn(&mut RetryState) -> RetryDecision| {
            let mut state = RetryState::new(&RetryConfig::default(), Idempotency::Unsafe, start);
            matches!(fail(&mut state), RetryDecision::Retry { .. })
        };

        assert!(retried_after(&|s| s.on_transport_error(&connect(), now)));
        assert!(!retried_after(&|s| s.on_transport_error(&timeout(), now)));
        assert!(!retried_after(&|s| s.on_transport_error(&io(), now)));
        for status in [429, 502, 503, 504, 500] {
            assert!(
                !retried_after(&|s| s.on_status(status, Some("1"), now)),
                "{status}"
            );
        }
    }

    #[test]
    fn safe_requests_are_retried_after_every_transport_failure() {
        let start = start();
        for error in [connect(), timeout(), io()] {
            let mut state = RetryState::new(&RetryConfig::default(), Idempotency::Safe, start);

            assert!(matches!(
                state.on_transport_error(&error, after(start, 0)),
                RetryDecision::Retry { .. }
            ));
            assert_eq!(
                state.report().errors[0].error_type,
                format!("{:?}", error.kind).to_lowercase()
            );
        }
    }

    #[test]
    fn an_oversized_answer_is_never_retried() {
        let start = start();
        for idempotency in [Idempotency::Safe, Idempotency::Unsafe] {
            let mut state = RetryState::new(&RetryConfig::default(), idempotency, start);

            let decision =
                state.on_transport_error(&crate::io::response_too_large(), after(start, 0));

            assert_eq!(decision, RetryDecision::GiveUp);
            let report = state.report();
            assert!(report.errors[0].permanent);
            assert_eq!(report.errors[0].error_type, "response_too_large");
        }
    }

    #[test]
    fn a_final_answer_is_recorded_as_a_permanent_failure() {
        let start = start();
        let mut state = RetryState::new(&RetryConfig::default(), Idempotency::Safe, start);

        state.on_final_answer(502);

        let report = state.report();
        assert_eq!(report.total_attempts, 1);
        assert_eq!(report.errors[0].error_type, "http_502");
        assert!(report.errors[0].permanent);
    }

    #[test]
    fn no_retry_is_scheduled_past_the_budget() {
        let start = start();
        let config = RetryConfig {
            total_budget: Duration::from_secs(1),
            ..RetryConfig::default()
        };

        let mut early = RetryState::new(&config, Idempotency::Safe, start);
        assert!(matches!(
            early.on_status(503, None, after(start, 700)),
            RetryDecision::Retry { .. }
        ));

        // The first delay is at least 100 ms, which would end after the 1 s budget.
        let mut late = RetryState::new(&config, Idempotency::Safe, start);
        assert_eq!(
            late.on_status(503, None, after(start, 901)),
            RetryDecision::GiveUp
        );
        assert!(late.report().errors[0].permanent);

        let mut asked_too_long = RetryState::new(&config, Idempotency::Safe, start);
        assert_eq!(
            asked_too_long.on_status(429, Some("2"), after(start, 0)),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn retry_after_values() {
        let start = start();
        let config = RetryConfig {
            total_budget: Duration::from_secs(120),
            ..RetryConfig::default()
        };
        let now = after(start, 1_000);
        let decide = |status: u16, value: &str| {
            let mut state = RetryState::new(&config, Idempotency::Safe, start);
            delay_of(&state.on_status(status, Some(value), now), now)
        };
        let ms = Duration::from_millis;

        assert_eq!(decide(429, "3"), Some(ms(3_000)));
        assert_eq!(decide(503, "3"), Some(ms(3_000)));
        assert_eq!(
            decide(429, "Thu, 01 Jan 2026 00:00:06 GMT"),
            Some(ms(5_000))
        );
        assert_eq!(decide(429, "Wed, 31 Dec 2025 00:00:00 GMT"), Some(ms(0)));
        assert_eq!(decide(429, "0"), Some(ms(0)));
        assert_eq!(
            decide(429, "999999999999999999999"),
            Some(ms(30_000)),
            "capped"
        );
        assert_eq!(decide(429, "45"), Some(ms(30_000)), "capped");
        for ignored in [
            decide(429, "soon"),
            decide(429, "-1"),
            decide(502, "3"),
            decide(504, "3"),
        ] {
            let delay = ignored.expect("retried with backoff");
            assert!(delay >= ms(100) && delay < ms(200), "{delay:?}");
        }

        // A capped wait that still breaks the budget gives up.
        let tight = RetryConfig {
            total_budget: Duration::from_secs(30),
            ..config.clone()
        };
        let mut state = RetryState::new(&tight, Idempotency::Safe, start);
        assert_eq!(
            state.on_status(429, Some("3600"), now),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn the_report_mirrors_retry_info() {
        let start = start();
        let mut state = RetryState::new(
            &RetryConfig {
                jitter_seed: 1,
                ..RetryConfig::default()
            },
            Idempotency::Safe,
            start,
        );

        let _ = state.on_status(429, Some("1"), after(start, 0));
        let _ = state.on_transport_error(&timeout(), after(start, 1_000));
        state.on_success();

        let report = state.report();
        assert_eq!(report.total_attempts, 3);
        assert_eq!(report.successful_attempt, 3);
        assert_eq!(report.errors.len(), 2);
        assert_eq!(
            report.errors[0],
            RetryErrorReport {
                attempt: 1,
                error: "status 429".into(),
                error_type: "http_429".into(),
                delay_s: 1.0,
                permanent: false,
            }
        );
        assert_eq!(report.errors[1].error, "read timed out");
        let json = report.to_json();
        assert_eq!(json["total_attempts"], 3);
        assert_eq!(json["successful_attempt"], 3);
        assert_eq!(
            json["errors"][0],
            json!({"attempt": 1, "error": "status 429", "error_type": "http_429", "delay_s": 1.0, "permanent": false})
        );
        assert_eq!(json["errors"][1]["error_type"], "timeout");

        let mut failed = RetryState::new(
            &RetryConfig {
                max_attempts: 1,
                ..RetryConfig::default()
            },
            Idempotency::Safe,
            start,
        );
        assert_eq!(
            failed.on_status(503, None, after(start, 0)),
            RetryDecision::GiveUp
        );
        let report = failed.report();
        assert_eq!((report.total_attempts, report.successful_attempt), (1, 0));
        assert!(report.errors[0].permanent && report.errors[0].delay_s == 0.0);
    }

    #[test]
    fn long_error_texts_are_cut() {
        let start = start();
        let mut state = RetryState::new(&RetryConfig::default(), Idempotency::Safe, start);

        let _ = state.on_transport_error(
            &TransportError::new(TransportErrorKind::Io, "é".repeat(2_000)),
            after(start, 0),
        );

        assert_eq!(state.report().errors[0].error.chars().count(), 500);
    }

    #[derive(Clone, Debug)]
    enum Outcome {
        Status(u16, Option<String>),
        Transport(TransportErrorKind),
    }

    fn outcome() -> impl Strategy<Value = Outcome> {
        prop_oneof![
            (
                prop::sample::select(vec![400u16, 429, 500, 502, 503, 504]),
                prop::option::of(prop_oneof![
                    "[0-9]{1,12}".boxed(),
                    Just("Thu, 01 Jan 2026 00:00:10 GMT".to_owned()).boxed(),
                    ".{0,12}".boxed(),
                ])
            )
                .prop_map(|(s, r)| Outcome::Status(s, r)),
            prop::sample::select(vec![
                TransportErrorKind::Connect,
                TransportErrorKind::Timeout,
                TransportErrorKind::Io
            ])
            .prop_map(Outcome::Transport),
        ]
    }

    proptest! {
        #[test]
        fn schedule_bounds_always_hold(
            max_attempts in 0u32..8,
            initial_ms in 0u64..3_000,
            max_backoff_ms in 0u64..10_000,
            budget_ms in 0u64..60_000,
            cap_ms in 0u64..60_000,
            seed in any::<u64>(),
            safe in any::<bool>(),
            steps in prop::collection::vec((outcome(), 0u64..5_000), 1..10),
        ) {
            let start = start();
            let config = RetryConfig {
                max_attempts,
                initial_backoff: Duration::from_millis(initial_ms),
                max_backoff: Duration::from_millis(max_backoff_ms),
                total_budget: Duration::from_millis(budget_ms),
                max_retry_after: Duration::from_millis(cap_ms),
                jitter_seed: seed,
            };
            let idempotency = if safe { Idempotency::Safe } else { Idempotency::Unsafe };
            let mut state = RetryState::new(&config, idempotency, start);
            let mut elapsed = 0;
            let mut retries = 0;

            for (outcome, work_ms) in steps {
                elapsed += work_ms;
                let now = after(start, elapsed);
                let (decision, from_server, unsafe_ok) = match &outcome {
                    Outcome::Status(status, retry_after) => (state.on_status(*status, retry_after.as_deref(), now), retry_after.is_some(), false),
                    Outcome::Transport(kind) => (state.on_transport_error(&TransportError::new(*kind, "x"), now), false, *kind == TransportErrorKind::Connect),
                };
                let RetryDecision::Retry { at, .. } = decision else { break };
                let delay = at.duration_since(now.monotonic);

                retries += 1;
                prop_assert!(at >= now.monotonic);
                prop_assert!(at <= start + config.total_budget);
                prop_assert!(retries < max_attempts.max(1));
                prop_assert!(safe || unsafe_ok);
                prop_assert!(delay <= config.max_backoff || (from_server && delay <= config.max_retry_after));
                elapsed = u64::try_from((at - start).as_millis()).unwrap();
            }
            prop_assert_eq!(state.report().total_attempts, state.attempts());
        }
    }
}

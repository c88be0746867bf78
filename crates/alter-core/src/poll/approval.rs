//! `await_approval`: poll an approval until it is decided, then fetch the provider's answer
//! (PROTOCOL.md §7.2).

use std::sync::Arc;
use std::time::Duration;

use alter_types::{ApprovalResult, ApprovalStatus, ApprovalStatusValue};

use super::{Schedule, later, out_of_order, split};
use crate::call::Call;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::io::{HttpResponse, Now, TransportError};
use crate::retry::parse_retry_after;
use crate::step::{Operation, Step};

/// Polls `GET /sdk/approvals/{id}` until the approval is decided, then returns the executed
/// call's result or the decision as an error.
///
/// The first poll is immediate. Transient failures (network, timeouts, 502/503/504) and
/// rate limiting (429) are polled through until the deadline; after a 429 the next poll
/// also waits out the answer's `Retry-After` (cut to the retry configuration's
/// `max_retry_after`, and never past the deadline). Anything else ends the wait at once. Statuses `pending`,
/// `approved` and `executing` (and `executed` before its result is stored) keep it waiting.
#[derive(Debug)]
pub struct AwaitApproval {
    engine: Arc<Engine>,
    approval_id: String,
    timeout: Duration,
    interval: Duration,
    schedule: Option<Schedule>,
    current: Current,
    last_transient: Option<Error>,
    /// The wait the last answer's `Retry-After` asked for, until the next poll is scheduled.
    server_wait: Option<Duration>,
}

#[derive(Debug)]
enum Current {
    Status(Call<ApprovalStatus>),
    Result(Call<ApprovalResult>),
    Waiting(Next),
}

#[derive(Clone, Copy, Debug)]
enum Next {
    Status,
    Result,
}

impl AwaitApproval {
    /// Waits for `approval_id` for at most `timeout`, polling every `interval` (at least
    /// [`super::MIN_POLL_INTERVAL`]).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty approval id.
    pub fn new(
        engine: &Arc<Engine>,
        approval_id: &str,
        timeout: Duration,
        interval: Duration,
    ) -> Result<Self> {
        engine.get_approval_status(approval_id)?;
        Ok(Self {
            engine: Arc::clone(engine),
            approval_id: approval_id.to_owned(),
            timeout,
            interval,
            schedule: None,
            current: Current::Waiting(Next::Status),
            last_transient: None,
            server_wait: None,
        })
    }

    fn poll(&mut self, next: Next, now: Now) -> Step<ApprovalResult> {
        // A poll never runs past the deadline; fetching an executed result may (the call
        // already ran, and its answer must not be lost).
        let budget = match next {
            Next::Status => self.schedule_from(now).remaining(now.monotonic),
            Next::Result => self.engine.config().timeout,
        };
        let built = match next {
            Next::Status => self
                .engine
                .get_approval_status(&self.approval_id)
                .map(|call| Current::Status(call.without_retry().cap_timeout(budget))),
            Next::Result => self
                .engine
                .get_approval_result(&self.approval_id)
                .map(|call| Current::Result(call.without_retry().cap_timeout(budget))),
        };
        self.current = match built {
            Ok(current) => current,
            Err(error) => return Step::Done(Err(error)),
        };

        match &mut self.current {
            Current::Status(call) => match split(call.start(now)) {
                Ok(result) => self.after_status(result, now),
                Err(step) => step,
            },
            Current::Result(call) => match split(call.start(now)) {
                Ok(result) => self.after_result(result, now),
                Err(step) => step,
            },
            Current::Waiting(_) => out_of_order(),
        }
    }

    fn after_status(&mut self, result: Result<ApprovalStatus>, now: Now) -> Step<ApprovalResult> {
        let status = match result {
            Ok(status) => status,
            Err(error) => return self.after_failure(error, Next::Status, now),
        };
        self.last_transient = None;

        let id = Some(self.approval_id.clone());
        match status.status {
            ApprovalStatusValue::Executed if status.has_result => self.poll(Next::Result, now),
            ApprovalStatusValue::Denied => Step::Done(Err(Error::approval_denied(
                status
                    .decision_reason
                    .unwrap_or_else(|| "the approval was denied".to_owned()),
                id,
            ))),
            ApprovalStatusValue::Expired => Step::Done(Err(Error::approval_expired(
                "the approval expired before it was decided",
                id,
            ))),
            ApprovalStatusValue::Failed => Step::Done(Err(Error::approval_execution_failed(
                status
                    .decision_reason
                    .unwrap_or_else(|| "the approved call failed to execute".to_owned()),
                id,
            ))),
            _ => self.wait(Next::Status, now),
        }
    }

    fn after_result(&mut self, result: Result<ApprovalResult>, now: Now) -> Step<ApprovalResult> {
        match result {
            Ok(result) => Step::Done(Ok(result)),
            Err(error) => self.after_failure(error, Next::Result, now),
        }
    }

    fn after_failure(&mut self, error: Error, retry: Next, now: Now) -> Step<ApprovalResult> {
        // Transient includes a rate limit: it says "later", not "no", and polling is a
        // read, so it waits and asks again (PROTOCOL.md §16 D8).
        if !error.is_transient() {
            return Step::Done(Err(error));
        }

        tracing::debug!(
            class = error.class_name(),
            "transient failure while awaiting approval"
        );
        self.last_transient = Some(error);
        self.wait(retry, now)
    }

    fn wait(&mut self, next: Next, now: Now) -> Step<ApprovalResult> {
        let schedule = self.schedule_from(now);
        if schedule.is_over(now.monotonic) {
            return self.timed_out();
        }

        self.current = Current::Waiting(next);
        let at = schedule.next_poll(now.monotonic);
        let asked = self
            .server_wait
            .take()
            .map(|wait| later(now.monotonic, wait));
        Step::WaitUntil(asked.map_or(at, |asked| asked.max(at).min(schedule.deadline)))
    }

    /// Keeps the `Retry-After` of a 429 for the next wait; a malformed value is ignored.
    fn note_retry_after(&mut self, response: &HttpResponse, now: Now) {
        self.server_wait = None;
        if response.status != 429 {
            return;
        }
        let cap = self.engine.config().retry.max_retry_after;
        self.server_wait = response
            .header("Retry-After")
            .and_then(|value| parse_retry_after(value, now.wall))
            .map(|wait| wait.min(cap));
    }

    fn schedule_from(&mut self, now: Now) -> Schedule {
        *self
            .schedule
            .get_or_insert_with(|| Schedule::new(now.monotonic, self.timeout, self.interval))
    }

    fn timed_out(&mut self) -> Step<ApprovalResult> {
        let last = self.last_transient.take();
        let cause = match &last {
            Some(error) => match error.status() {
                Some(429) => "; the last poll was rate limited (status 429)".to_owned(),
                Some(status) => format!("; the last poll got gateway status {status}"),
                None => format!("; the last poll failed: {}", error.class_name()),
            },
            None => String::new(),
        };
        let message = format!(
            "no decision within {:.1}s{cause}",
            self.timeout.as_secs_f64()
        );
        Step::Done(Err(Error::approval_timeout(
            message,
            Some(self.approval_id.clone()),
            last,
        )))
    }
}

impl Operation for AwaitApproval {
    type Output = ApprovalResult;

    fn start(&mut self, now: Now) -> Step<ApprovalResult> {
        if self.schedule_from(now).is_over(now.monotonic) {
            return self.timed_out();
        }
        self.poll(Next::Status, now)
    }

    fn on_response(&mut self, response: HttpResponse, now: Now) -> Step<ApprovalResult> {
        self.note_retry_after(&response, now);
        match &mut self.current {
            Current::Status(call) => match split(call.on_response(response, now)) {
                Ok(result) => self.after_status(result, now),
                Err(step) => step,
            },
            Current::Result(call) => match split(call.on_response(response, now)) {
                Ok(result) => self.after_result(result, now),
                Err(step) => step,
            },
            Current::Waiting(_) => out_of_order(),
        }
    }

    fn on_transport_error(&mut self, error: TransportError, now: Now) -> Step<ApprovalResult> {
        match &mut self.current {
            Current::Status(call) => match split(call.on_transport_error(error, now)) {
                Ok(result) => self.after_status(result, now),
                Err(step) => step,
            },
            Current::Result(call) => match split(call.on_transport_error(error, now)) {
                Ok(result) => self.after_result(result, now),
                Err(step) => step,
            },
            Current::Waiting(_) => out_of_order(),
        }
    }

    fn on_wake(&mut self, now: Now) -> Step<ApprovalResult> {
        let over = self.schedule_from(now).is_over(now.monotonic);
        match self.current {
            Current::Waiting(_) if over => self.timed_out(),
            Current::Waiting(next) => self.poll(next, now),
            // The inner calls never wait (they are built without retries).
            _ => out_of_order(),
        }
    }
}

//! The connect flow's wait: poll a connect session until the end user has finished
//! (PROTOCOL.md §8.3).

use std::sync::Arc;
use std::time::Duration;

use alter_types::{ConnectPollResponse, ConnectPollStatus, ConnectResult, Secret};

use super::{Schedule, out_of_order, split};
use crate::call::Call;
use crate::engine::Engine;
use crate::error::{Details, Error, Result};
use crate::io::{HttpResponse, Now, TransportError};
use crate::step::{Operation, Step};

/// Error codes of a failed connect that mean the app's OAuth setup is wrong.
const CONFIG_ERROR_CODES: &[&str] = &[
    "connect_config_error",
    "invalid_redirect_uri",
    "invalid_client",
    "unauthorized_client",
];

/// Polls `POST /sdk/oauth/connect/session/poll` until the session completes, fails or
/// expires. The first poll is immediate; a failed poll ends the wait (no retry).
#[derive(Debug)]
pub struct AwaitConnect {
    engine: Arc<Engine>,
    session_token: Secret,
    timeout: Duration,
    interval: Duration,
    schedule: Option<Schedule>,
    current: Option<Call<ConnectPollResponse>>,
}

impl AwaitConnect {
    /// Waits for the session of `session_token` for at most `timeout`, polling every
    /// `interval` (at least [`super::MIN_POLL_INTERVAL`]).
    pub fn new(
        engine: &Arc<Engine>,
        session_token: Secret,
        timeout: Duration,
        interval: Duration,
    ) -> Self {
        Self {
            engine: Arc::clone(engine),
            session_token,
            timeout,
            interval,
            schedule: None,
            current: None,
        }
    }

    fn poll(&mut self, now: Now) -> Step<Vec<ConnectResult>> {
        let budget = self.schedule_from(now).remaining(now.monotonic);
        let call = self.current.insert(
            self.engine
                .poll_connect_session_once(&self.session_token)
                .without_retry()
                .cap_timeout(budget),
        );
        match split(call.start(now)) {
            Ok(result) => self.after_poll(result, now),
            Err(step) => step,
        }
    }

    fn after_poll(
        &mut self,
        result: Result<ConnectPollResponse>,
        now: Now,
    ) -> Step<Vec<ConnectResult>> {
        self.current = None;
        let answer = match result {
            Ok(answer) => answer,
            Err(error) => return Step::Done(Err(error)),
        };

        match answer.status {
            ConnectPollStatus::Completed => Step::Done(Ok(answer.grants)),
            ConnectPollStatus::Error => Step::Done(Err(failed(&answer))),
            ConnectPollStatus::Expired => Step::Done(Err(Error::connect_flow(
                "the connect session expired",
                Details::new(),
            ))),
            ConnectPollStatus::Pending => {
                let schedule = self.schedule_from(now);
                if schedule.is_over(now.monotonic) {
                    return self.timed_out();
                }
                Step::WaitUntil(schedule.next_poll(now.monotonic))
            }
            other => {
                let mut details = Details::new();
                details.insert("status".into(), other.as_str().into());
                Step::Done(Err(Error::connect_flow(
                    "the connect session reported an unknown status",
                    details,
                )))
            }
        }
    }

    fn schedule_from(&mut self, now: Now) -> Schedule {
        *self
            .schedule
            .get_or_insert_with(|| Schedule::new(now.monotonic, self.timeout, self.interval))
    }

    fn timed_out(&self) -> Step<Vec<ConnectResult>> {
        let mut details = Details::new();
        details.insert("timeout".into(), self.timeout.as_secs_f64().into());
        Step::Done(Err(Error::connect_timeout(
            "the end user did not finish connecting in time",
            details,
        )))
    }
}

/// The typed error of a poll answer with status `error`.
fn failed(answer: &ConnectPollResponse) -> Error {
    let error = answer.error.as_ref();
    let code = error
        .and_then(|e| e.error_code.clone())
        .unwrap_or_else(|| "unknown_error".to_owned());
    let message = error
        .and_then(|e| e.error_message.clone())
        .unwrap_or_else(|| "the connect flow failed".to_owned());

    let mut details = Details::new();
    details.insert("error_code".into(), code.clone().into());
    if code == "connect_denied" {
        Error::connect_denied(message, details)
    } else if CONFIG_ERROR_CODES.contains(&code.as_str()) {
        Error::connect_config(message, details)
    } else {
        Error::connect_flow(message, details)
    }
}

impl Operation for AwaitConnect {
    type Output = Vec<ConnectResult>;

    fn start(&mut self, now: Now) -> Step<Vec<ConnectResult>> {
        self.schedule_from(now);
        self.poll(now)
    }

    fn on_response(&mut self, response: HttpResponse, now: Now) -> Step<Vec<ConnectResult>> {
        let Some(call) = &mut self.current else {
            return out_of_order();
        };
        match split(call.on_response(response, now)) {
            Ok(result) => self.after_poll(result, now),
            Err(step) => step,
        }
    }

    fn on_transport_error(&mut self, error: TransportError, now: Now) -> Step<Vec<ConnectResult>> {
        let Some(call) = &mut self.current else {
            return out_of_order();
        };
        match split(call.on_transport_error(error, now)) {
            Ok(result) => self.after_poll(result, now),
            Err(step) => step,
        }
    }

    fn on_wake(&mut self, now: Now) -> Step<Vec<ConnectResult>> {
        if self.schedule_from(now).is_over(now.monotonic) {
            return self.timed_out();
        }
        self.poll(now)
    }
}

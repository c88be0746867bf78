//! IDP sign-in's wait: poll an auth session until the end user has signed in
//! (PROTOCOL.md §8.4).

use std::sync::Arc;
use std::time::Duration;

use alter_types::{AuthPollResponse, AuthPollStatus, AuthResult, Secret};

use super::{DEFAULT_POLL_INTERVAL, Schedule, out_of_order, split};
use crate::call::Call;
use crate::engine::Engine;
use crate::error::{Details, Error, Result};
use crate::io::{HttpResponse, Now, TransportError};
use crate::step::{Operation, Step};

/// Polls `POST /sdk/auth/poll` every 2 s until the sign-in completes, fails or expires.
///
/// It waits before each poll (the user needs time to sign in), and treats a failed poll
/// (transport error or a status other than 200) as "not yet".
#[derive(Debug)]
pub struct AwaitSignIn {
    engine: Arc<Engine>,
    session_token: Secret,
    timeout: Duration,
    schedule: Option<Schedule>,
    current: Option<Call<AuthPollResponse>>,
}

impl AwaitSignIn {
    /// Waits for the sign-in of `session_token` for at most `timeout`.
    pub fn new(engine: &Arc<Engine>, session_token: Secret, timeout: Duration) -> Self {
        Self {
            engine: Arc::clone(engine),
            session_token,
            timeout,
            schedule: None,
            current: None,
        }
    }

    fn after_poll(&mut self, result: Result<AuthPollResponse>, now: Now) -> Step<AuthResult> {
        self.current = None;
        let answer = match result {
            Ok(answer) => answer,
            Err(error) => {
                tracing::debug!(class = error.class_name(), "auth poll failed; polling on");
                return self.wait(now);
            }
        };

        match answer.status {
            AuthPollStatus::Completed => Step::Done(completed(answer)),
            AuthPollStatus::Error => Step::Done(Err(Error::sdk(format!(
                "authentication failed: {}",
                answer.error_message.as_deref().unwrap_or("unknown error")
            )))),
            AuthPollStatus::Expired => Step::Done(Err(Error::sdk("the sign-in session expired"))),
            _ => self.wait(now),
        }
    }

    fn wait(&mut self, now: Now) -> Step<AuthResult> {
        let schedule = self.schedule_from(now);
        if schedule.is_over(now.monotonic) {
            return self.timed_out();
        }
        Step::WaitUntil(schedule.next_poll(now.monotonic))
    }

    fn schedule_from(&mut self, now: Now) -> Schedule {
        *self.schedule.get_or_insert_with(|| {
            Schedule::new(now.monotonic, self.timeout, DEFAULT_POLL_INTERVAL)
        })
    }

    fn timed_out(&self) -> Step<AuthResult> {
        let mut details = Details::new();
        details.insert("timeout".into(), self.timeout.as_secs_f64().into());
        Step::Done(Err(Error::connect_timeout(
            "the end user did not sign in in time",
            details,
        )))
    }
}

fn completed(answer: AuthPollResponse) -> Result<AuthResult> {
    let Some(user_token) = answer.user_token.filter(|t| !t.expose_secret().is_empty()) else {
        return Err(Error::sdk("sign-in completed without a user token"));
    };
    let user_info = match answer.user_info {
        Some(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    Ok(AuthResult {
        user_token,
        user_info,
    })
}

impl Operation for AwaitSignIn {
    type Output = AuthResult;

    fn start(&mut self, now: Now) -> Step<AuthResult> {
        self.wait(now)
    }

    fn on_response(&mut self, response: HttpResponse, now: Now) -> Step<AuthResult> {
        let Some(call) = &mut self.current else {
            return out_of_order();
        };
        match split(call.on_response(response, now)) {
            Ok(result) => self.after_poll(result, now),
            Err(step) => step,
        }
    }

    fn on_transport_error(&mut self, error: TransportError, now: Now) -> Step<AuthResult> {
        let Some(call) = &mut self.current else {
            return out_of_order();
        };
        match split(call.on_transport_error(error, now)) {
            Ok(result) => self.after_poll(result, now),
            Err(step) => step,
        }
    }

    fn on_wake(&mut self, now: Now) -> Step<AuthResult> {
        // The deadline is checked before each poll: no request starts after it.
        if self.schedule_from(now).is_over(now.monotonic) {
            return self.timed_out();
        }
        let budget = self.schedule_from(now).remaining(now.monotonic);
        let call = self.current.insert(
            self.engine
                .poll_auth_session_once(&self.session_token)
                .without_retry()
                .cap_timeout(budget),
        );
        match split(call.start(now)) {
            Ok(result) => self.after_poll(result, now),
            Err(step) => step,
        }
    }
}

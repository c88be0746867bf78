//! The one shape of every multi-step operation, and the contract frontends follow.
//!
//! ```text
//!            start(now)
//!                |
//!                v
//!   +------> [ Step ] --Send(req)------> frontend sends req --> on_response / on_transport_error
//!   |            |   --Detach(req)----> frontend queues req in the background --> on_wake
//!   |            |   --WaitUntil(t)---> frontend sleeps until t --> on_wake
//!   |            |   --Done(result)---> the operation is over
//!   +------------+
//! ```
//!
//! After each input, act on the returned [`Step`]; never call an input method once `Done`
//! has been returned.

use std::time::Instant;

use crate::error::Error;
use crate::io::{HttpRequest, HttpResponse, Now, TransportError};

/// What the frontend must do next.
#[must_use]
#[derive(Debug)]
pub enum Step<T> {
    /// Send this request and wait for it, then report the outcome with
    /// [`Operation::on_response`] or [`Operation::on_transport_error`].
    Send(HttpRequest),
    /// Hand this request to the background uploader (fire and forget), then call
    /// [`Operation::on_wake`] at once.
    Detach(HttpRequest),
    /// Do nothing until this instant, then call [`Operation::on_wake`].
    WaitUntil(Instant),
    /// The operation is over.
    Done(Result<T, Error>),
}

impl<T> Step<T> {
    /// Maps the final value of a `Done` step.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Step<U> {
        match self {
            Self::Send(request) => Step::Send(request),
            Self::Detach(request) => Step::Detach(request),
            Self::WaitUntil(deadline) => Step::WaitUntil(deadline),
            Self::Done(result) => Step::Done(result.map(f)),
        }
    }
}

/// A protocol operation driven by a frontend through [`Step`]s.
pub trait Operation {
    /// What the operation returns when it succeeds.
    type Output;

    /// Begins the operation.
    fn start(&mut self, now: Now) -> Step<Self::Output>;

    /// The response to the last `Send`.
    fn on_response(&mut self, response: HttpResponse, now: Now) -> Step<Self::Output>;

    /// The last `Send` failed below HTTP.
    fn on_transport_error(&mut self, error: TransportError, now: Now) -> Step<Self::Output>;

    /// The wait of the last `WaitUntil` is over, or the last `Detach` was queued.
    fn on_wake(&mut self, now: Now) -> Step<Self::Output>;
}

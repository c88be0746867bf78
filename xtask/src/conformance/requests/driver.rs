//! The one loop that drives every operation of the core: act on each [`Step`], with a
//! frozen wall clock and a monotonic clock that jumps to every deadline at once.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alter_core::{Error, Now, Operation, Step};

use super::transport::{Delivery, Transport};

/// More steps than any recorded entry needs; a runaway operation stops here.
const MAX_STEPS: usize = 1_000;

/// The runner's clocks: wall time frozen at the entry's timestamp, monotonic time starting
/// at one reading of the real clock and moved only by `WaitUntil`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FrozenClock {
    monotonic: Instant,
    wall: SystemTime,
}

impl FrozenClock {
    /// Clocks at `unix_seconds`.
    pub(crate) fn at(unix_seconds: u64) -> Self {
        Self {
            monotonic: Instant::now(),
            wall: UNIX_EPOCH + Duration::from_secs(unix_seconds),
        }
    }

    /// The current reading.
    pub(crate) fn now(&self) -> Now {
        Now::new(self.monotonic, self.wall)
    }

    /// Jumps the monotonic clock to `deadline` (never backwards); the wall clock stays.
    fn advance_to(&mut self, deadline: Instant) {
        self.monotonic = self.monotonic.max(deadline);
    }
}

/// Runs operations against a [`Transport`].
pub(crate) struct Driver<'t> {
    clock: FrozenClock,
    transport: &'t mut dyn Transport,
}

/// The driver itself failed: the operation never finished.
#[derive(Debug)]
pub(crate) struct Runaway;

impl<'t> Driver<'t> {
    /// A driver answering through `transport`, starting at `clock`.
    pub(crate) fn new(clock: FrozenClock, transport: &'t mut dyn Transport) -> Self {
        Self { clock, transport }
    }

    /// Drives `operation` until it is done.
    ///
    /// # Errors
    ///
    /// [`Runaway`] when the operation takes more than [`MAX_STEPS`] steps.
    pub(crate) fn run<O: Operation>(
        &mut self,
        mut operation: O,
    ) -> Result<Result<O::Output, Error>, Runaway> {
        let mut step = operation.start(self.clock.now());

        for _ in 0..MAX_STEPS {
            step = match step {
                Step::Send(request) => match self.transport.send(&request, Delivery::Awaited) {
                    Ok(response) => operation.on_response(response, self.clock.now()),
                    Err(error) => operation.on_transport_error(error, self.clock.now()),
                },
                Step::Detach(request) => {
                    // A background upload's answer never reaches the operation.
                    let _answer = self.transport.send(&request, Delivery::Background);
                    operation.on_wake(self.clock.now())
                }
                Step::WaitUntil(deadline) => {
                    self.clock.advance_to(deadline);
                    operation.on_wake(self.clock.now())
                }
                Step::Done(result) => return Ok(result),
            };
        }
        Err(Runaway)
    }
}

#[cfg(test)]
mod tests {
    use alter_core::{HttpRequest, HttpResponse, Target, TransportError};

    use super::*;

    /// Sends one request, waits a minute, then reports the wall and monotonic readings.
    struct WaitOnce {
        started: Option<Instant>,
    }

    impl Operation for WaitOnce {
        type Output = (u64, Duration);

        fn start(&mut self, now: Now) -> Step<Self::Output> {
            self.started = Some(now.monotonic);
            Step::Send(HttpRequest {
                target: Target::Backend,
                method: "GET".into(),
                url: "http://127.0.0.1:1/x".into(),
                headers: Vec::new(),
                body: Vec::new(),
                timeout: None,
            })
        }

        fn on_response(&mut self, _response: HttpResponse, now: Now) -> Step<Self::Output> {
            Step::WaitUntil(now.monotonic + Duration::from_secs(60))
        }

        fn on_transport_error(&mut self, error: TransportError, _now: Now) -> Step<Self::Output> {
            Step::Done(Err(Error::sdk(error.message)))
        }

        fn on_wake(&mut self, now: Now) -> Step<Self::Output> {
            let elapsed = now.monotonic - self.started.unwrap();
            Step::Done(Ok((now.unix_seconds(), elapsed)))
        }
    }

    struct Answer;

    impl Transport for Answer {
        fn send(&mut self, _: &HttpRequest, _: Delivery) -> Result<HttpResponse, TransportError> {
            Ok(HttpResponse {
                status: 200,
                headers: Vec::new(),
                body: Vec::new(),
            })
        }
    }

    #[test]
    fn waits_take_no_time_and_the_wall_clock_stays_frozen() {
        let mut transport = Answer;
        let mut driver = Driver::new(FrozenClock::at(1_767_225_600), &mut transport);

        let (wall, elapsed) = driver.run(WaitOnce { started: None }).unwrap().unwrap();

        assert_eq!(wall, 1_767_225_600);
        assert_eq!(elapsed, Duration::from_secs(60));
    }
}

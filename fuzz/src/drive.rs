//! Running an [`Operation`] to its end against canned answers, on a manual clock.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, UNIX_EPOCH};

use alter_core::config::{ApiKey, BaseUrl};
use alter_core::{
    ClientConfig, Engine, Entropy, HttpRequest, HttpResponse, Now, Operation, Result, Step,
};

/// A scoped key whose checksum holds.
const API_KEY: &str = "alter_rk_abcdefghijklmnopqrstuv_iwpykn";

/// 2026-01-01T00:00:00Z, the wall reading at every clock's start.
const WALL_BASE_SECS: u64 = 1_767_225_600;

/// More steps than any operation takes with the bounds used here (three attempts per call,
/// pollers of a few seconds at 100 ms): reaching it means an operation does not finish.
const MAX_STEPS: usize = 512;

/// Entropy that always draws the same bytes: runs must be reproducible.
#[derive(Debug)]
struct FixedEntropy;

impl Entropy for FixedEntropy {
    fn random_16(&self) -> [u8; 16] {
        [0x5a; 16]
    }
}

/// A fresh engine: nothing cached from an earlier run (actor id, retry info) may leak in.
pub(crate) fn engine() -> Option<Arc<Engine>> {
    let config = ClientConfig::new(
        ApiKey::parse(API_KEY).ok()?,
        BaseUrl::parse("https://backend.example").ok()?,
    );
    Engine::new(config, Arc::new(FixedEntropy)).ok()
}

/// A clock that moves only when an operation asks to wait.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    base: Instant,
    offset: Duration,
}

impl Clock {
    /// A clock at its start. The monotonic base is read once per process.
    pub(crate) fn new() -> Self {
        static BASE: OnceLock<Instant> = OnceLock::new();
        Self {
            base: *BASE.get_or_init(Instant::now),
            offset: Duration::ZERO,
        }
    }

    fn now(&self) -> Now {
        Now::new(
            self.base + self.offset,
            UNIX_EPOCH + Duration::from_secs(WALL_BASE_SECS) + self.offset,
        )
    }

    fn jump_to(&mut self, at: Instant) {
        self.offset = self.offset.max(at.saturating_duration_since(self.base));
    }

    /// Time spent since the start.
    pub(crate) fn elapsed(&self) -> Duration {
        self.offset
    }
}

/// Runs `op` to its end, answering each request with `answer(request)`.
///
/// # Panics
///
/// When the operation has not finished after [`MAX_STEPS`] steps: that is a bug the
/// fuzzer reports.
pub(crate) fn drive<O: Operation>(
    op: &mut O,
    clock: &mut Clock,
    mut answer: impl FnMut(&HttpRequest) -> HttpResponse,
) -> Result<O::Output> {
    let mut step = op.start(clock.now());
    for _ in 0..MAX_STEPS {
        step = match step {
            Step::Send(request) => op.on_response(answer(&request), clock.now()),
            Step::Detach(_) => op.on_wake(clock.now()),
            Step::WaitUntil(at) => {
                assert!(at >= clock.base, "a wait before the clock's start");
                clock.jump_to(at);
                op.on_wake(clock.now())
            }
            Step::Done(result) => return result,
        };
    }
    panic!("the operation did not finish in {MAX_STEPS} steps");
}

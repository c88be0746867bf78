//! Sequential round trips: our client and the bare stack under it, call after call on the
//! same route, in alternating blocks so that drift in the machine's load hits both alike.
//!
//! The bare stack asks the core for each signed request inside its timed loop, as our
//! clients do, so the difference is the frontend alone: the driver loop, the conversion of
//! headers and bodies, and reading the answer into typed data.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::bare;
use crate::ready::Backend;
use crate::stats::Latency;
use crate::work::{self, Route, Work};

/// Calls per block before the other client takes its turn.
const BLOCK: usize = 100;

/// Untimed calls each client makes first (connections, caches, allocator).
const WARMUP: usize = 100;

/// What one round-trip run measured.
#[derive(Debug, Serialize)]
pub(crate) struct RoundTrip {
    /// `async` or `blocking`.
    pub(crate) client: &'static str,
    /// `proxy` or `approval`.
    pub(crate) route: &'static str,
    /// Our client.
    pub(crate) ours: Latency,
    /// The bare stack (reqwest or ureq) with the same signed bytes.
    pub(crate) bare: Latency,
}

/// Timings of one client, gathered block by block.
#[derive(Default)]
struct Samples {
    times: Vec<Duration>,
    errors: usize,
}

impl Samples {
    fn record(&mut self, started: Instant, ok: bool) {
        self.times.push(started.elapsed());
        self.errors += usize::from(!ok);
    }

    fn latency(self) -> Latency {
        Latency::of(self.times, self.errors)
    }
}

/// alter-async against bare reqwest, on a current-thread runtime.
pub(crate) fn run_async(
    backend: &Backend,
    route: Route,
    calls: usize,
) -> Result<RoundTrip, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;

    runtime.block_on(async {
        let app = work::async_app(backend)?;
        let approval = match route {
            Route::Approval => work::pending_approval(&app, backend).await?,
            Route::Proxy => String::new(),
        };
        let work = Work::new(route, backend, approval);
        let engine = work::engine(backend)?;
        let client = bare::reqwest_client()?;

        for _ in 0..WARMUP {
            work.run_async(&app).await;
            bare::send_reqwest(&client, work.signed(&engine)?).await;
        }

        let (mut ours, mut raw) = (Samples::default(), Samples::default());
        for block in 0..calls.div_ceil(BLOCK) {
            for turn in turns(block) {
                for _ in 0..BLOCK {
                    let started = Instant::now();
                    if turn == Turn::Ours {
                        let ok = work.run_async(&app).await;
                        ours.record(started, ok);
                    } else {
                        let ok = bare::send_reqwest(&client, work.signed(&engine)?).await;
                        raw.record(started, ok);
                    }
                }
            }
        }

        app.close().await;
        Ok(RoundTrip {
            client: "async",
            route: route.name(),
            ours: ours.latency(),
            bare: raw.latency(),
        })
    })
}

/// alter-blocking against bare ureq, on this thread.
pub(crate) fn run_blocking(
    backend: &Backend,
    route: Route,
    calls: usize,
) -> Result<RoundTrip, String> {
    let app = work::blocking_app(backend)?;
    let approval = match route {
        Route::Approval => pending_approval_blocking(backend)?,
        Route::Proxy => String::new(),
    };
    let work = Work::new(route, backend, approval);
    let engine = work::engine(backend)?;
    let agent = bare::ureq_agent();

    for _ in 0..WARMUP {
        work.run_blocking(&app);
        bare::send_ureq(&agent, work.signed(&engine)?);
    }

    let (mut ours, mut raw) = (Samples::default(), Samples::default());
    for block in 0..calls.div_ceil(BLOCK) {
        for turn in turns(block) {
            for _ in 0..BLOCK {
                let started = Instant::now();
                if turn == Turn::Ours {
                    let ok = work.run_blocking(&app);
                    ours.record(started, ok);
                } else {
                    let ok = bare::send_ureq(&agent, work.signed(&engine)?);
                    raw.record(started, ok);
                }
            }
        }
    }

    app.close();
    Ok(RoundTrip {
        client: "blocking",
        route: route.name(),
        ours: ours.latency(),
        bare: raw.latency(),
    })
}

/// A pending approval, created through a short-lived async client.
fn pending_approval_blocking(backend: &Backend) -> Result<String, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    runtime.block_on(async {
        let app = work::async_app(backend)?;
        let id = work::pending_approval(&app, backend).await;
        app.close().await;
        id
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Turn {
    Ours,
    Bare,
}

/// Who goes first alternates from block to block.
fn turns(block: usize) -> [Turn; 2] {
    if block % 2 == 0 {
        [Turn::Ours, Turn::Bare]
    } else {
        [Turn::Bare, Turn::Ours]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_alternate() {
        assert!(turns(0) == [Turn::Ours, Turn::Bare]);
        assert!(turns(1) == [Turn::Bare, Turn::Ours]);
    }
}

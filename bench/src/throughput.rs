//! Throughput: a fixed number of calls in flight for a fixed time, as many calls as they
//! complete.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::ready::Backend;
use crate::work::{self, Route, Work};

/// What one throughput run measured.
#[derive(Debug, Serialize)]
pub(crate) struct Throughput {
    /// `async` or `blocking`.
    pub(crate) client: &'static str,
    /// `proxy` or `approval`.
    pub(crate) route: &'static str,
    /// Calls kept in flight.
    pub(crate) inflight: usize,
    /// Successful calls.
    pub(crate) calls: u64,
    /// Failed calls.
    pub(crate) errors: u64,
    /// Wall time from the first call to the last answer, in seconds.
    pub(crate) secs: f64,
    /// Successful calls per second.
    pub(crate) per_sec: f64,
    /// CPU time this whole process used while measuring (user + system), in seconds.
    pub(crate) cpu_secs: f64,
}

impl Throughput {
    fn new(
        client: &'static str,
        route: Route,
        inflight: usize,
        (calls, errors): (u64, u64),
        elapsed: Duration,
        cpu: Duration,
    ) -> Self {
        let secs = elapsed.as_secs_f64();
        Self {
            cpu_secs: cpu.as_secs_f64(),
            client,
            route: route.name(),
            inflight,
            calls,
            errors,
            secs,
            per_sec: if secs > 0.0 { calls as f64 / secs } else { 0.0 },
        }
    }
}

/// alter-async: `inflight` tasks on one multi-thread runtime sharing one app.
pub(crate) fn run_async(
    backend: &Backend,
    route: Route,
    inflight: usize,
    duration: Duration,
) -> Result<Throughput, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;

    runtime.block_on(async {
        let app = work::async_app(backend)?;
        let approval = match route {
            Route::Approval => work::pending_approval(&app, backend).await?,
            Route::Proxy => String::new(),
        };
        let work = Arc::new(Work::new(route, backend, approval));

        // One untimed round opens the connections the timed part will reuse.
        let tasks = spawn_async(&app, &work, inflight, None);
        collect(tasks).await;

        let (cpu_before, started) = (process_cpu()?, Instant::now());
        let tasks = spawn_async(&app, &work, inflight, Some(started + duration));
        let counts = collect(tasks).await;
        let (elapsed, cpu) = (started.elapsed(), process_cpu()?.saturating_sub(cpu_before));

        app.close().await;
        Ok(Throughput::new(
            "async", route, inflight, counts, elapsed, cpu,
        ))
    })
}

type Task = tokio::task::JoinHandle<(u64, u64)>;

/// `inflight` tasks calling until `deadline`, or once each without one.
fn spawn_async(
    app: &alter_async::App,
    work: &Arc<Work>,
    inflight: usize,
    deadline: Option<Instant>,
) -> Vec<Task> {
    (0..inflight)
        .map(|_| {
            let (app, work) = (app.clone(), Arc::clone(work));
            tokio::spawn(async move {
                let mut counts = (0, 0);
                loop {
                    if work.run_async(&app).await {
                        counts.0 += 1;
                    } else {
                        counts.1 += 1;
                    }
                    if deadline.is_none_or(|deadline| Instant::now() >= deadline) {
                        return counts;
                    }
                }
            })
        })
        .collect()
}

async fn collect(tasks: Vec<Task>) -> (u64, u64) {
    let mut total = (0, 0);
    for task in tasks {
        // A task that panicked counts as nothing done.
        if let Ok((calls, errors)) = task.await {
            total.0 += calls;
            total.1 += errors;
        }
    }
    total
}

/// alter-blocking: `inflight` threads sharing one app.
pub(crate) fn run_blocking(
    backend: &Backend,
    route: Route,
    inflight: usize,
    duration: Duration,
) -> Result<Throughput, String> {
    let app = work::blocking_app(backend)?;
    let approval = match route {
        Route::Approval => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?;
            runtime.block_on(async {
                let creator = work::async_app(backend)?;
                let id = work::pending_approval(&creator, backend).await;
                creator.close().await;
                id
            })?
        }
        Route::Proxy => String::new(),
    };
    let work = Work::new(route, backend, approval);

    threads(&app, &work, inflight, None);
    let (cpu_before, started) = (process_cpu()?, Instant::now());
    let counts = threads(&app, &work, inflight, Some(started + duration));
    let (elapsed, cpu) = (started.elapsed(), process_cpu()?.saturating_sub(cpu_before));

    app.close();
    Ok(Throughput::new(
        "blocking", route, inflight, counts, elapsed, cpu,
    ))
}

/// The CPU time of this process so far, every thread included (`/proc/self/stat`).
fn process_cpu() -> Result<Duration, String> {
    let stat = std::fs::read_to_string("/proc/self/stat")
        .map_err(|error| format!("cannot read /proc/self/stat: {error}"))?;
    cpu_of_stat(&stat).ok_or_else(|| "unexpected /proc/self/stat".to_owned())
}

/// utime + stime of a `/proc/<pid>/stat` line, in Linux's fixed 100 ticks a second.
fn cpu_of_stat(stat: &str) -> Option<Duration> {
    const TICKS_PER_SEC: u64 = 100;

    // The command name may hold spaces; the fields after it are plain numbers.
    let (_, fields) = stat.rsplit_once(')')?;
    let mut fields = fields.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis(
        (user + system) * 1000 / TICKS_PER_SEC,
    ))
}

/// `inflight` threads calling until `deadline`, or once each without one.
fn threads(
    app: &alter_blocking::App,
    work: &Work,
    inflight: usize,
    deadline: Option<Instant>,
) -> (u64, u64) {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..inflight)
            .map(|_| {
                scope.spawn(move || {
                    let mut counts = (0u64, 0u64);
                    loop {
                        if work.run_blocking(app) {
                            counts.0 += 1;
                        } else {
                            counts.1 += 1;
                        }
                        if deadline.is_none_or(|deadline| Instant::now() >= deadline) {
                            return counts;
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|handle| handle.join().ok())
            .fold((0, 0), |total, counts| {
                (total.0 + counts.0, total.1 + counts.1)
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_utime_plus_stime() {
        let stat = "4242 (alter bench) S 1 4242 4242 0 -1 4194560 500 0 0 0 150 25 0 0 20 0 3 0";
        assert_eq!(cpu_of_stat(stat), Some(Duration::from_millis(1_750)));
        assert_eq!(cpu_of_stat("garbage"), None);
        assert!(process_cpu().is_ok());
    }
}

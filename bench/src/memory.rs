//! Memory: the peak resident set of a process holding many `await_approval` calls on one
//! Tokio runtime, and of a process that made one call.
//!
//! Each is meant to run in a process of its own (the peak is per process): `cargo xtask
//! bench` starts this binary once per figure.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alter_async::AwaitOptions;
use serde::Serialize;

use crate::ready::Backend;
use crate::work::{self, Route, Work};

/// How long a held await would wait: far longer than any run.
const HOLD_TIMEOUT: Duration = Duration::from_secs(900);

/// The held awaits poll once at once, then not again within a run.
const POLL_INTERVAL: Duration = Duration::from_secs(600);

/// How long to wait for the first polls of every held await.
const FIRST_POLLS_DEADLINE: Duration = Duration::from_secs(120);

/// The route the fake counts each first poll under.
const STATUS_ROUTE: &str = "GET%20/sdk/approvals/*";

/// What one memory run measured.
#[derive(Debug, Serialize)]
pub(crate) struct Memory {
    /// Awaits held (0 for the one-call process).
    pub(crate) awaits: usize,
    /// How many of them had made their first poll when the reading was taken.
    pub(crate) polled: usize,
    /// Awaits started at a time (all of them when equal to `awaits`).
    pub(crate) batch: usize,
    /// Peak resident set (`VmHWM`), in KiB.
    pub(crate) peak_rss_kib: u64,
    /// Resident set when the reading was taken (`VmRSS`), in KiB.
    pub(crate) rss_kib: u64,
    /// Seconds from the first spawn until every first poll was answered.
    pub(crate) secs: f64,
    /// File descriptors open at the reading: mostly the HTTP client's pooled connections.
    pub(crate) open_fds: usize,
}

/// Creates `count` approvals that stay pending and writes their ids to `out`, one a line.
pub(crate) fn create_approvals(backend: &Backend, count: usize, out: &Path) -> Result<(), String> {
    const CREATORS: usize = 32;

    let runtime = runtime()?;
    let ids = runtime.block_on(async {
        let app = work::async_app(backend)?;
        let backend = Arc::new(backend.clone());
        let tasks: Vec<_> = (0..CREATORS)
            .map(|creator| {
                let (app, backend) = (app.clone(), Arc::clone(&backend));
                let share = count / CREATORS + usize::from(creator < count % CREATORS);
                tokio::spawn(async move {
                    let mut ids = Vec::with_capacity(share);
                    for _ in 0..share {
                        ids.push(work::pending_approval(&app, &backend).await?);
                    }
                    Ok::<_, String>(ids)
                })
            })
            .collect();

        let mut ids = Vec::with_capacity(count);
        for task in tasks {
            ids.extend(task.await.map_err(|error| error.to_string())??);
        }
        app.close().await;
        Ok::<_, String>(ids)
    })?;

    std::fs::write(out, ids.join("\n"))
        .map_err(|error| format!("cannot write {}: {error}", out.display()))
}

/// Starts an `await_approval` for every id in `ids_file` (`batch` at a time, each batch
/// once the previous one's first polls were answered), then reads this process's memory.
pub(crate) fn hold(
    backend: &Backend,
    ids_file: &Path,
    batch: Option<usize>,
) -> Result<Memory, String> {
    let text = std::fs::read_to_string(ids_file)
        .map_err(|error| format!("cannot read {}: {error}", ids_file.display()))?;
    let ids: Vec<String> = text.lines().map(str::to_owned).collect();
    let batch = batch.unwrap_or(ids.len()).max(1);
    let control = Control::new(&backend.base_url)?;

    let runtime = runtime()?;
    runtime.block_on(async {
        let app = work::async_app(backend)?;
        let options = AwaitOptions::default()
            .timeout(HOLD_TIMEOUT)
            .poll_interval(POLL_INTERVAL);
        control.forget_requests()?;

        let started = Instant::now();
        let deadline = started + FIRST_POLLS_DEADLINE;
        let mut held = Vec::with_capacity(ids.len());
        let mut polled = 0;
        for chunk in ids.chunks(batch) {
            for id in chunk {
                let (app, id) = (app.clone(), id.clone());
                held.push(tokio::spawn(async move {
                    app.await_approval(&id, options).await.is_ok()
                }));
            }
            polled = wait_for_polls(&control, held.len(), deadline).await?;
        }
        let secs = started.elapsed().as_secs_f64();

        let (peak_rss_kib, rss_kib) = read_status()?;
        let open_fds = count_open_fds()?;
        for task in &held {
            task.abort();
        }
        Ok(Memory {
            awaits: ids.len(),
            polled,
            batch,
            peak_rss_kib,
            rss_kib,
            secs,
            open_fds,
        })
    })
}

/// Makes one proxied call, then reads this process's memory.
pub(crate) fn one_call(backend: &Backend) -> Result<Memory, String> {
    let runtime = runtime()?;
    runtime.block_on(async {
        let app = work::async_app(backend)?;
        let started = Instant::now();
        let ok = Work::new(Route::Proxy, backend, String::new())
            .run_async(&app)
            .await;
        if !ok {
            return Err("the one call failed".to_owned());
        }
        let secs = started.elapsed().as_secs_f64();
        app.close().await;

        let (peak_rss_kib, rss_kib) = read_status()?;
        Ok(Memory {
            awaits: 0,
            polled: 0,
            batch: 0,
            peak_rss_kib,
            rss_kib,
            secs,
            open_fds: count_open_fds()?,
        })
    })
}

/// The runtime a typical `#[tokio::main]` program has.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())
}

/// Waits until the fake has answered `expected` first polls, or the deadline passes.
async fn wait_for_polls(
    control: &Control,
    expected: usize,
    deadline: Instant,
) -> Result<usize, String> {
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let control = control.clone();
        let seen = tokio::task::spawn_blocking(move || control.status_polls())
            .await
            .map_err(|error| error.to_string())??;
        if seen >= expected || Instant::now() >= deadline {
            return Ok(seen);
        }
    }
}

/// `VmHWM` and `VmRSS` of this process, in KiB.
fn read_status() -> Result<(u64, u64), String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|error| format!("cannot read /proc/self/status: {error}"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .ok_or_else(|| format!("no {name} in /proc/self/status"))
    };
    Ok((field("VmHWM:")?, field("VmRSS:")?))
}

/// How many file descriptors this process has open.
fn count_open_fds() -> Result<usize, String> {
    std::fs::read_dir("/proc/self/fd")
        .map(Iterator::count)
        .map_err(|error| format!("cannot list /proc/self/fd: {error}"))
}

/// The fake's control API, over plain HTTP/1.0 on its own short connections so that it
/// adds nothing to the client under test.
#[derive(Clone, Debug)]
struct Control {
    authority: String,
}

impl Control {
    fn new(base_url: &str) -> Result<Self, String> {
        let authority = base_url
            .strip_prefix("http://")
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_owned())
            .ok_or_else(|| format!("the fake's base URL {base_url} is not plain http"))?;
        Ok(Self { authority })
    }

    /// Clears the fake's request log, so that hits count from here.
    fn forget_requests(&self) -> Result<(), String> {
        self.call("DELETE", "/_testkit/requests").map(drop)
    }

    /// How many approval-status reads the fake has answered since the log was cleared.
    fn status_polls(&self) -> Result<usize, String> {
        let body = self.call("GET", &format!("/_testkit/hits?route={STATUS_ROUTE}"))?;
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|error| format!("unexpected hits answer: {error}"))?;
        value["count"]
            .as_u64()
            .map(|count| count as usize)
            .ok_or_else(|| "the hits answer has no count".to_owned())
    }

    fn call(&self, method: &str, path: &str) -> Result<Vec<u8>, String> {
        let mut stream = TcpStream::connect(&self.authority)
            .map_err(|error| format!("cannot reach the fake: {error}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|error| error.to_string())?;
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: {}\r\nContent-Length: 0\r\n\r\n",
            self.authority
        )
        .map_err(|error| error.to_string())?;

        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .map_err(|error| error.to_string())?;
        let split = answer
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .ok_or_else(|| "the fake's answer has no header end".to_owned())?;
        if !answer.starts_with(b"HTTP/1.0 2") && !answer.starts_with(b"HTTP/1.1 2") {
            return Err(format!("the fake refused {method} {path}"));
        }
        Ok(answer.split_off(split + 4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_takes_the_authority_of_a_plain_http_base_url() {
        let control = Control::new("http://127.0.0.1:4010").unwrap();
        assert_eq!(control.authority, "127.0.0.1:4010");
        assert!(Control::new("https://127.0.0.1:4010").is_err());
    }

    #[test]
    fn this_process_has_a_peak_resident_set() {
        let (peak, now) = read_status().unwrap();
        assert!(peak >= now && now > 0);
        assert!(count_open_fds().unwrap() >= 3);
    }
}

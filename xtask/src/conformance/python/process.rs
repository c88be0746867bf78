//! Child processes with a time limit: every step of the Python suite is bounded, so a hung
//! `pip`, build or test never hangs CI.

use std::io::{self, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How often a running child is checked for having exited.
const POLL: Duration = Duration::from_millis(50);

/// How a bounded child process ended.
#[derive(Debug)]
pub(crate) enum Ended {
    /// It exited by itself.
    Exited(ExitStatus),
    /// The limit passed first; it was killed.
    TimedOut,
}

/// What a bounded run printed, and how it ended.
#[derive(Debug)]
pub(crate) struct Captured {
    pub(crate) ended: Ended,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Captured {
    /// Whether it exited with status 0.
    pub(crate) fn success(&self) -> bool {
        matches!(&self.ended, Ended::Exited(status) if status.success())
    }

    /// Why it did not succeed, in words, naming `limit` for a timeout.
    pub(crate) fn failure(&self, limit: Duration) -> String {
        match &self.ended {
            Ended::Exited(status) => format!("exited with {status}"),
            Ended::TimedOut => format!("did not finish within {}s", limit.as_secs()),
        }
    }

    /// The last `lines` lines of stderr then stdout, for error messages.
    pub(crate) fn tail(&self, lines: usize) -> String {
        let all: Vec<&str> = self.stderr.lines().chain(self.stdout.lines()).collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// Runs `command` with stdin closed, stdout captured and stderr captured or passed through,
/// killing it if it runs longer than `limit`.
///
/// # Errors
///
/// The child could not be started or waited for.
pub(crate) fn run_captured(
    command: &mut Command,
    limit: Duration,
    capture_stderr: bool,
) -> io::Result<Captured> {
    command.stdin(Stdio::null()).stdout(Stdio::piped());
    command.stderr(if capture_stderr {
        Stdio::piped()
    } else {
        Stdio::inherit()
    });
    let mut child = command.spawn()?;

    // Drained on their own threads so that a chatty child never blocks on a full pipe.
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let ended = wait_bounded(&mut child, limit)?;

    // A killed child's own children may still hold the pipes open; do not wait for them
    // for long.
    let patience = match ended {
        Ended::Exited(_) => None,
        Ended::TimedOut => Some(Instant::now() + Duration::from_secs(2)),
    };
    Ok(Captured {
        ended,
        stdout: collect(stdout, patience),
        stderr: collect(stderr, patience),
    })
}

/// Waits for `child` at most `limit`; past it, kills and reaps the child.
///
/// # Errors
///
/// The child's state could not be read.
pub(crate) fn wait_bounded(child: &mut Child, limit: Duration) -> io::Result<Ended> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Ended::Exited(status));
        }
        if Instant::now() >= deadline {
            // It may have exited in between; either way it is gone afterwards.
            let _ = child.kill();
            child.wait()?;
            return Ok(Ended::TimedOut);
        }
        thread::sleep(POLL);
    }
}

/// Stops `child`: SIGTERM first so that it shuts down cleanly, SIGKILL once `grace` passes.
/// Returns whether it had to be killed.
///
/// # Errors
///
/// The child's state could not be read.
pub(crate) fn terminate(child: &mut Child, grace: Duration) -> io::Result<bool> {
    if child.try_wait()?.is_some() {
        return Ok(false);
    }
    if send_sigterm(child.id()) {
        if let Ended::Exited(_) = wait_quietly(child, grace)? {
            return Ok(false);
        }
    }
    let _ = child.kill();
    child.wait()?;
    Ok(true)
}

/// Like [`wait_bounded`] but leaves the child running on timeout.
fn wait_quietly(child: &mut Child, limit: Duration) -> io::Result<Ended> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Ended::Exited(status));
        }
        if Instant::now() >= deadline {
            return Ok(Ended::TimedOut);
        }
        thread::sleep(POLL);
    }
}

/// Asks process `pid` to terminate. The standard library only offers SIGKILL, and the
/// workspace forbids `unsafe`, so this goes through the system's `kill` command.
#[cfg(unix)]
fn send_sigterm(pid: u32) -> bool {
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

#[cfg(not(unix))]
fn send_sigterm(_pid: u32) -> bool {
    false
}

fn drain(mut source: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        // A read error only shortens what is shown in messages.
        let _ = source.read_to_end(&mut bytes);
        bytes
    })
}

/// What a drain thread read; with a `deadline`, gives up (and leaves the thread) past it.
fn collect(reader: Option<JoinHandle<Vec<u8>>>, deadline: Option<Instant>) -> String {
    let Some(handle) = reader else {
        return String::new();
    };
    if let Some(deadline) = deadline {
        while !handle.is_finished() {
            if Instant::now() >= deadline {
                return String::new();
            }
            thread::sleep(POLL);
        }
    }
    handle
        .join()
        .ok()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn output_and_status_are_captured() {
        let captured = run_captured(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(60),
            true,
        )
        .unwrap();

        assert!(!captured.success());
        assert!(matches!(captured.ended, Ended::Exited(status) if status.code() == Some(3)));
        assert_eq!(captured.stdout, "out\n");
        assert_eq!(captured.tail(1), "out");
        assert_eq!(captured.tail(5), "err\nout");
        assert_eq!(
            captured.failure(Duration::from_secs(1)),
            "exited with exit status: 3"
        );
    }

    #[test]
    fn a_child_past_its_limit_is_killed() {
        // `cat` with an open stdin never exits by itself.
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();

        let ended = wait_bounded(&mut child, Duration::ZERO).unwrap();

        assert!(matches!(ended, Ended::TimedOut));
        assert!(child.try_wait().unwrap().is_some(), "the child was reaped");
    }

    #[test]
    fn terminate_stops_a_running_child_with_sigterm() {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();

        let killed = terminate(&mut child, Duration::from_secs(30)).unwrap();

        assert!(!killed, "SIGTERM was enough");
        let status = child.try_wait().unwrap().expect("the child has exited");
        assert!(!status.success());
    }

    #[test]
    fn terminating_an_exited_child_does_nothing() {
        let mut child = Command::new("true").spawn().unwrap();
        child.wait().unwrap();

        assert!(!terminate(&mut child, Duration::ZERO).unwrap());
    }
}

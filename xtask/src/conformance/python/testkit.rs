//! The testkit binary: built with cargo, started on free loopback ports, stopped with
//! SIGTERM (SIGKILL if it does not go).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use serde_json::Value;

use super::Failure;
use super::process::{run_captured, terminate};
use super::ready::{ReadyLine, parse_ready_line};

/// A cold build of the testkit on a small machine takes a few minutes.
const BUILD_LIMIT: Duration = Duration::from_secs(1200);
/// The binary prints its ready line as soon as both listeners are bound.
const READY_LIMIT: Duration = Duration::from_secs(30);
/// Time between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

const PACKAGE: &str = "alter-testkit";

/// Builds the testkit binary; returns its path.
///
/// # Errors
///
/// [`Failure::Build`] when cargo fails or names no executable.
pub(crate) fn build() -> Result<PathBuf, Failure> {
    println!("xtask conformance python: cargo build -p {PACKAGE}");
    let cargo = crate::tools::cargo_bin();
    let built = run_captured(
        Command::new(cargo).args([
            "build",
            "--package",
            PACKAGE,
            "--bin",
            PACKAGE,
            "--locked",
            "--message-format=json-render-diagnostics",
        ]),
        BUILD_LIMIT,
        false,
    )
    .map_err(|error| Failure::Build(format!("cannot run cargo: {error}")))?;
    if !built.success() {
        return Err(Failure::Build(format!(
            "cargo build {}",
            built.failure(BUILD_LIMIT)
        )));
    }
    executable_from_messages(&built.stdout)
        .ok_or_else(|| Failure::Build("cargo reported no alter-testkit executable".to_owned()))
}

/// The path of the `alter-testkit` binary in cargo's JSON build messages.
pub(crate) fn executable_from_messages(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact" && message["target"]["name"] == PACKAGE
        })
        .filter_map(|message| message["executable"].as_str().map(PathBuf::from))
        .next_back()
}

/// A running testkit; dropping it stops the process.
#[derive(Debug)]
pub(crate) struct Testkit {
    child: Child,
    ready: ReadyLine,
}

impl Testkit {
    /// Starts `binary serve` on free loopback ports and waits for its ready line.
    ///
    /// # Errors
    ///
    /// [`Failure::Testkit`] when it cannot start, exits, stays silent or prints a line that
    /// is not a valid ready line. The process is stopped in every case.
    pub(crate) fn start(binary: &Path) -> Result<Self, Failure> {
        let mut child = Command::new(binary)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| {
                Failure::Testkit(format!("cannot start {}: {error}", binary.display()))
            })?;

        let first_line = child.stdout.take().map(read_first_line);
        let received = first_line.map(|lines| lines.recv_timeout(READY_LIMIT));
        let outcome = match received {
            Some(Ok(Some(line))) => parse_ready_line(&line)
                .map_err(|why| format!("its first line is not a ready line: {why}")),
            Some(Ok(None)) => Err("it closed its stdout without a ready line".to_owned()),
            Some(Err(_)) => Err(format!("no ready line within {}s", READY_LIMIT.as_secs())),
            None => Err("its stdout could not be read".to_owned()),
        };
        match outcome {
            Ok(ready) => Ok(Self { child, ready }),
            Err(why) => {
                let _ = terminate(&mut child, STOP_GRACE);
                Err(Failure::Testkit(why))
            }
        }
    }

    /// Its checked ready line.
    pub(crate) fn ready(&self) -> &ReadyLine {
        &self.ready
    }
}

impl Drop for Testkit {
    fn drop(&mut self) {
        match terminate(&mut self.child, STOP_GRACE) {
            Ok(false) => {}
            Ok(true) => eprintln!(
                "xtask conformance python: the testkit ignored SIGTERM for {}s and was killed",
                STOP_GRACE.as_secs()
            ),
            Err(error) => eprintln!("xtask conformance python: stopping the testkit: {error}"),
        }
    }
}

/// Sends the first line of `stdout` (or `None` at end of file) once read, then keeps
/// draining so the process never blocks writing.
fn read_first_line(stdout: impl std::io::Read + Send + 'static) -> mpsc::Receiver<Option<String>> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().and_then(Result::ok);
        // The receiver may have given up waiting; nothing to do then.
        let _ = sender.send(first);
        for line in lines.map_while(Result::ok) {
            println!("testkit: {line}");
        }
    });
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_executable_is_read_from_cargo_messages() {
        let messages = [
            r#"{"reason":"compiler-artifact","target":{"name":"alter-core"},"executable":null}"#,
            "not json",
            r#"{"reason":"compiler-artifact","target":{"name":"alter-testkit","kind":["lib"]},"executable":null}"#,
            r#"{"reason":"compiler-artifact","target":{"name":"alter-testkit","kind":["bin"]},"executable":"/t/debug/alter-testkit"}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");

        assert_eq!(
            executable_from_messages(&messages),
            Some(PathBuf::from("/t/debug/alter-testkit"))
        );
        assert_eq!(
            executable_from_messages(r#"{"reason":"build-finished"}"#),
            None
        );
    }

    #[test]
    fn the_first_line_is_handed_over_and_end_of_file_is_none() {
        let lines = read_first_line(std::io::Cursor::new(b"{\"a\":1}\nmore\n".to_vec()));
        assert_eq!(
            lines.recv_timeout(READY_LIMIT).unwrap().as_deref(),
            Some("{\"a\":1}")
        );

        let empty = read_first_line(std::io::Cursor::new(Vec::new()));
        assert_eq!(empty.recv_timeout(READY_LIMIT).unwrap(), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_silent_or_wrong_binary_is_refused_and_stopped() {
        // `echo` prints one line that is not a ready line, then exits.
        let wrong = Testkit::start(Path::new("echo")).unwrap_err();
        assert!(
            matches!(&wrong, Failure::Testkit(why) if why.contains("not a ready line")),
            "{wrong}"
        );

        let missing = Testkit::start(Path::new("/nonexistent/alter-testkit")).unwrap_err();
        assert!(matches!(missing, Failure::Testkit(_)));
    }
}

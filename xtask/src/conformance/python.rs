//! `cargo xtask conformance python`: the official Python client (`alter-sdk==0.15.0`, from
//! PyPI) against the testkit binary.
//!
//! Steps, each with a time limit:
//!
//! 1. create (or reuse) a venv at `<target dir>/conformance-venv` and install the pinned
//!    packages of `conformance/python/requirements.txt` into it;
//! 2. build `alter-testkit` and start `alter-testkit serve --addr 127.0.0.1:0`;
//! 3. read its ready line and run `conformance/python/suite.py` with the venv's Python,
//!    passing the line in `ALTER_TESTKIT_READY`;
//! 4. stop the testkit (SIGTERM, then SIGKILL) and report the suite's status.
//!
//! The suite prints one line per failing step and then `N passed, M failed`.
//!
//! ```no_run
//! use xtask::conformance::python::{self, Options};
//!
//! python::run(&Options::default())?;
//! # Ok::<(), python::Failure>(())
//! ```
//!
//! # Limitations
//!
//! It needs a Python 3.11+ interpreter with the `venv` module (`python3`, or the one named
//! in `ALTER_CONFORMANCE_PYTHON`) and, for a new or changed venv, a reachable package index.

mod process;
mod ready;
mod testkit;
mod venv;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use process::{Ended, wait_bounded};
use testkit::Testkit;

/// The suite itself may take this long (it normally needs well under a minute).
const SUITE_LIMIT: Duration = Duration::from_secs(240);
/// Environment variable carrying the ready line to the suite.
const READY_ENV: &str = "ALTER_TESTKIT_READY";
/// Environment variable naming the interpreter that creates the venv.
const PYTHON_ENV: &str = "ALTER_CONFORMANCE_PYTHON";

/// How to run the suite.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Print a line for every passing step too.
    pub verbose: bool,
}

/// Why the Python conformance run failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Failure {
    /// Python or its venv could not be set up.
    Setup(String),
    /// The pinned packages could not be installed (for example, PyPI is unreachable).
    Install(String),
    /// The testkit binary did not build.
    Build(String),
    /// The testkit binary did not start properly.
    Testkit(String),
    /// The suite ran and reported failures, crashed, or ran out of time.
    Suite(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Setup(why) => write!(f, "python setup failed: {why}"),
            Self::Install(why) => write!(f, "installing the official Python client failed: {why}"),
            Self::Build(why) => write!(f, "building the testkit failed: {why}"),
            Self::Testkit(why) => write!(f, "the testkit binary did not start: {why}"),
            Self::Suite(why) => write!(f, "the Python conformance suite failed: {why}"),
        }
    }
}

impl std::error::Error for Failure {}

/// Runs every step; `Ok` when the suite passed.
///
/// # Errors
///
/// The first step that failed, as a [`Failure`].
pub fn run(options: &Options) -> Result<(), Failure> {
    let started = Instant::now();
    let paths = Paths::locate();

    let base_python = std::env::var(PYTHON_ENV).unwrap_or_else(|_| "python3".to_owned());
    let venv = venv::ensure(&paths.venv, &base_python, &paths.requirements)?;
    let binary = testkit::build()?;
    let testkit = Testkit::start(&binary)?;
    println!(
        "xtask conformance python: testkit at {} (provider {})",
        testkit.ready().base_url,
        testkit.ready().provider_base_url
    );

    let suite_started = Instant::now();
    let outcome = run_suite(
        &venv.python(),
        &paths.suite,
        testkit.ready().raw.as_str(),
        options,
    );
    drop(testkit);
    println!(
        "xtask conformance python: suite {:.1}s, whole run {:.1}s",
        suite_started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    outcome
}

/// [`run`], printing the failure; the process exit code.
pub fn run_and_print(options: &Options) -> ExitCode {
    match run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("xtask conformance python: {failure}");
            ExitCode::FAILURE
        }
    }
}

fn run_suite(python: &Path, suite: &Path, ready: &str, options: &Options) -> Result<(), Failure> {
    let mut command = Command::new(python);
    command
        .arg(suite)
        .env(READY_ENV, ready)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .stdin(std::process::Stdio::null());
    if options.verbose {
        command.arg("--verbose");
    }

    let mut child = command
        .spawn()
        .map_err(|error| Failure::Suite(format!("cannot start {}: {error}", python.display())))?;
    let ended = wait_bounded(&mut child, SUITE_LIMIT)
        .map_err(|error| Failure::Suite(format!("cannot wait for the suite: {error}")))?;
    match ended {
        Ended::Exited(status) if status.success() => Ok(()),
        Ended::Exited(status) => Err(Failure::Suite(format!("suite.py exited with {status}"))),
        Ended::TimedOut => Err(Failure::Suite(format!(
            "suite.py did not finish within {}s and was killed",
            SUITE_LIMIT.as_secs()
        ))),
    }
}

/// Where things are.
#[derive(Debug)]
struct Paths {
    venv: PathBuf,
    requirements: PathBuf,
    suite: PathBuf,
}

impl Paths {
    fn locate() -> Self {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_owned);
        // A relative CARGO_TARGET_DIR is relative to the current directory, as for cargo.
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| workspace.join("target"), PathBuf::from);
        let suite_dir = workspace.join("conformance").join("python");
        Self {
            venv: target.join("conformance-venv"),
            requirements: suite_dir.join("requirements.txt"),
            suite: suite_dir.join("suite.py"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_point_into_the_workspace() {
        let paths = Paths::locate();

        assert!(paths.suite.is_file(), "{}", paths.suite.display());
        assert!(paths.requirements.is_file());
        assert!(paths.venv.ends_with("conformance-venv"));
    }

    #[test]
    fn failures_say_which_part_failed() {
        let install = Failure::Install("pip exited with 1".into()).to_string();
        assert!(install.starts_with("installing the official Python client failed"));
        assert!(
            Failure::Suite("3 failed".into())
                .to_string()
                .contains("suite failed")
        );
    }
}

//! `cargo xtask ci`: every check a change must pass, in the order a developer would run
//! them by hand. The README's test command; `.ci/run` calls it and nothing else.

use std::fmt;
use std::process::{Command, Stdio};

use crate::tools::{cargo_bin, has_cargo_subcommand};

/// Crates that must never appear in `alter-core`'s dependency tree: it is sans-IO.
const IO_CRATES: &[&str] = &[
    "tokio", "reqwest", "ureq", "hyper", "mio", "socket2", "axum",
];

/// A failed CI step.
#[derive(Debug)]
pub struct StepFailed {
    /// The step's name.
    pub step: &'static str,
    /// What went wrong.
    pub reason: String,
}

impl fmt::Display for StepFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ci step '{}' failed: {}", self.step, self.reason)
    }
}

impl std::error::Error for StepFailed {}

/// Runs every step; stops at the first failure.
///
/// # Errors
///
/// The first step that failed.
pub fn run() -> Result<(), StepFailed> {
    cargo("fmt", &["fmt", "--all", "--", "--check"], &[])?;
    clippy("clippy", &["--workspace"])?;
    cargo("test", &["test", "--workspace", "--locked"], &[])?;
    fuzz_crate()?;
    conformance_python()?;
    cargo(
        "doc",
        &["doc", "--workspace", "--no-deps", "--locked"],
        &[("RUSTDOCFLAGS", "-Dwarnings")],
    )?;
    core_has_no_io_dependencies()?;
    cargo_deny()?;

    println!("xtask ci: all steps passed");
    Ok(())
}

fn cargo(step: &'static str, args: &[&str], env: &[(&str, &str)]) -> Result<(), StepFailed> {
    println!("xtask ci: cargo {}", args.join(" "));

    let status = Command::new(cargo_bin())
        .args(args)
        .envs(env.iter().copied())
        .status();
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(StepFailed {
            step,
            reason: format!("exited with {status}"),
        }),
        Err(error) => Err(StepFailed {
            step,
            reason: format!("could not start cargo: {error}"),
        }),
    }
}

/// Clippy over `scope` (`--workspace`, or `--manifest-path` of a crate outside it): every
/// target, the lock file as committed, warnings denied.
fn clippy(step: &'static str, scope: &[&str]) -> Result<(), StepFailed> {
    let mut args = vec!["clippy"];
    args.extend_from_slice(scope);
    args.extend_from_slice(&["--all-targets", "--locked", "--", "-D", "warnings"]);
    cargo(step, &args, &[])
}

/// The fuzz crate is its own workspace, so the steps above skip it: format, lint and replay
/// its seeds through the harness on stable (no libFuzzer), so that it cannot rot between
/// `cargo xtask fuzz` runs.
fn fuzz_crate() -> Result<(), StepFailed> {
    const MANIFEST: &str = "fuzz/Cargo.toml";
    cargo(
        "fuzz-fmt",
        &["fmt", "--manifest-path", MANIFEST, "--", "--check"],
        &[],
    )?;
    clippy("fuzz-clippy", &["--manifest-path", MANIFEST])?;
    cargo(
        "fuzz-seed-replay",
        &["test", "--manifest-path", MANIFEST, "--locked"],
        &[],
    )
}

/// The official Python client against the testkit binary (`cargo xtask conformance python`).
/// A package index that cannot be reached fails this step: the suite is only meaningful
/// with the real client.
fn conformance_python() -> Result<(), StepFailed> {
    println!("xtask ci: conformance python");
    crate::conformance::python::run(&crate::conformance::python::Options::default()).map_err(
        |failure| StepFailed {
            step: "conformance-python",
            reason: failure.to_string(),
        },
    )
}

/// `alter-core` must build without any networking or async runtime crate.
fn core_has_no_io_dependencies() -> Result<(), StepFailed> {
    let step = "core-is-sans-io";
    println!("xtask ci: checking alter-core's dependency tree for IO crates");

    let output = Command::new(cargo_bin())
        .args([
            "tree",
            "-p",
            "alter-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--locked",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| StepFailed {
            step,
            reason: format!("could not run cargo tree: {error}"),
        })?;
    if !output.status.success() {
        return Err(StepFailed {
            step,
            reason: "cargo tree failed".to_owned(),
        });
    }

    let tree = String::from_utf8_lossy(&output.stdout);
    let offenders: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| IO_CRATES.contains(name))
        .collect();
    if offenders.is_empty() {
        Ok(())
    } else {
        Err(StepFailed {
            step,
            reason: format!("alter-core depends on {}", offenders.join(", ")),
        })
    }
}

/// `cargo deny check` for licenses, bans and sources, and for advisories when the RustSec
/// database can be fetched.
fn cargo_deny() -> Result<(), StepFailed> {
    ensure_cargo_deny()?;
    cargo(
        "deny",
        &["deny", "--locked", "check", "licenses", "bans", "sources"],
        &[],
    )?;

    // The advisory database lives on GitHub. On a machine that reaches only the package
    // registries it cannot be fetched; say so loudly rather than fail on the network.
    println!("xtask ci: cargo deny check advisories");
    let output = Command::new(cargo_bin())
        .args(["deny", "--locked", "check", "advisories"])
        .output()
        .map_err(|error| StepFailed {
            step: "deny",
            reason: error.to_string(),
        })?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        print!("{stderr}");
        return Ok(());
    }
    if stderr.contains("failed to fetch advisory database") {
        println!(
            "xtask ci: WARNING: advisories NOT checked: the RustSec database could not be \
             fetched from this machine (banned crates are still refused by name)"
        );
        return Ok(());
    }
    eprint!("{stderr}");
    Err(StepFailed {
        step: "deny",
        reason: "cargo deny check advisories failed".to_owned(),
    })
}

fn ensure_cargo_deny() -> Result<(), StepFailed> {
    if has_cargo_subcommand("deny") {
        return Ok(());
    }
    cargo(
        "install-cargo-deny",
        &["install", "cargo-deny", "--locked"],
        &[],
    )
}

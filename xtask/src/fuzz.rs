//! `cargo xtask fuzz --runs N [--target NAME]`: every cargo-fuzz target of `fuzz/`, one
//! after the other, each for N executions, seeded from the conformance fixtures.
//!
//! 1. checks for `cargo fuzz` (installs it when missing) and a nightly toolchain;
//! 2. writes the seed corpora derived from `fixtures/conformance/*.json` to
//!    `target/fuzz/seeds/<target>/` (the fuzz crate's `write_seeds` example, on stable);
//! 3. runs `cargo +nightly fuzz run --sanitizer none --features libfuzzer <target>
//!    target/fuzz/corpus/<target> target/fuzz/seeds/<target> -- -runs=N` per target (the
//!    corpus directory keeps what libFuzzer learns between runs);
//! 4. prints the table of runs, seconds, exec/s and result, and fails if any target
//!    crashed or did not finish.
//!
//! No sanitizer by default: the crates under test and the harness forbid `unsafe`, so
//! AddressSanitizer has nothing to find that a panic would not show, and it makes every
//! execution about ten times slower. `--sanitizer address` turns it back on.
//!
//! Crash inputs land in `fuzz/artifacts/<target>/` (ignored by git): turn one into a
//! regression test, never commit it as is.

pub mod report;

use std::fmt;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::tools::{cargo_bin, has_cargo_subcommand};

use report::{Outcome, TargetRun, table};

/// The sanitizers `--sanitizer` accepts (cargo-fuzz's names).
pub const SANITIZERS: &[&str] = &["none", "address"];

/// Executions per target when `--runs` is not given.
pub const DEFAULT_RUNS: u64 = 1_000_000;

/// The targets, in the order they run: the `[[bin]]` names of `fuzz/Cargo.toml`.
pub const TARGETS: &[&str] = &[
    "classify_error",
    "parse_response",
    "bearer_challenge",
    "base64_body",
    "signing",
];

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Executions per target.
    pub runs: u64,
    /// Only this target; all of them when `None`.
    pub target: Option<String>,
    /// The cargo-fuzz sanitizer, one of [`SANITIZERS`].
    pub sanitizer: String,
}

impl Options {
    /// Reads `--runs N`, `--target NAME` and `--sanitizer none|address`, in any order.
    ///
    /// # Errors
    ///
    /// A message for an unknown flag, a missing or non-numeric value, zero runs or an
    /// unknown target.
    pub fn parse(args: &[&str]) -> Result<Self, String> {
        let mut options = Self {
            runs: DEFAULT_RUNS,
            target: None,
            sanitizer: "none".to_owned(),
        };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            match *flag {
                "--runs" => {
                    options.runs =
                        value.parse().ok().filter(|runs| *runs > 0).ok_or_else(|| {
                            format!("--runs takes a positive number, not {value:?}")
                        })?;
                }
                "--target" => {
                    if !TARGETS.contains(value) {
                        return Err(format!(
                            "unknown target {value:?}: expected one of {}",
                            TARGETS.join(", ")
                        ));
                    }
                    options.target = Some((*value).to_owned());
                }
                "--sanitizer" => {
                    if !SANITIZERS.contains(value) {
                        return Err(format!(
                            "unknown sanitizer {value:?}: expected one of {}",
                            SANITIZERS.join(", ")
                        ));
                    }
                    options.sanitizer = (*value).to_owned();
                }
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        Ok(options)
    }

    /// The `cargo xtask fuzz` command that runs these options.
    pub fn command_line(&self) -> String {
        let mut line = format!("cargo xtask fuzz --runs {}", self.runs);
        if let Some(target) = &self.target {
            line.push_str(&format!(" --target {target}"));
        }
        if self.sanitizer != "none" {
            line.push_str(&format!(" --sanitizer {}", self.sanitizer));
        }
        line
    }

    fn targets(&self) -> Vec<&str> {
        match &self.target {
            Some(target) => vec![target.as_str()],
            None => TARGETS.to_vec(),
        }
    }
}

/// A fuzz run that could not start, or a target that crashed or did not finish.
#[derive(Debug)]
pub struct FuzzFailed(pub String);

impl fmt::Display for FuzzFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "xtask fuzz: {}", self.0)
    }
}

impl std::error::Error for FuzzFailed {}

/// Runs the targets of `options` and prints the table.
///
/// # Errors
///
/// [`FuzzFailed`] when cargo-fuzz or nightly is missing, the seeds cannot be written, or a
/// target crashed or did not finish (the table is printed first).
pub fn run(options: &Options) -> Result<Vec<TargetRun>, FuzzFailed> {
    let root = workspace_root();
    ensure_cargo_fuzz()?;
    ensure_nightly()?;
    write_seeds(&root)?;

    let mut runs = Vec::new();
    for target in options.targets() {
        runs.push(run_target(&root, target, options)?);
    }

    println!();
    println!("{}", options.command_line());
    print!("{}", table(&runs));

    let failed: Vec<&str> = runs
        .iter()
        .filter(|run| !run.passed())
        .map(|run| run.target.as_str())
        .collect();
    if failed.is_empty() {
        Ok(runs)
    } else {
        Err(FuzzFailed(format!("failed: {}", failed.join(", "))))
    }
}

/// One `cargo fuzz run`, its output echoed while it runs and parsed at the end.
fn run_target(root: &Path, target: &str, options: &Options) -> Result<TargetRun, FuzzFailed> {
    let runs = options.runs;
    let corpus = root.join("target/fuzz/corpus").join(target);
    let seeds = root.join("target/fuzz/seeds").join(target);
    std::fs::create_dir_all(&corpus)
        .map_err(|error| FuzzFailed(format!("cannot create {}: {error}", corpus.display())))?;

    println!("xtask fuzz: {target}: {runs} runs");
    let mut child = nightly_cargo()
        .current_dir(root)
        .args(["fuzz", "run", "--sanitizer", &options.sanitizer])
        .args(["--features", "libfuzzer", target])
        .arg(&corpus)
        .arg(&seeds)
        .arg("--")
        .arg(format!("-runs={runs}"))
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| FuzzFailed(format!("cannot start cargo fuzz: {error}")))?;

    // libFuzzer reports on stderr: pass it through, and keep it for the summary.
    let mut output = String::new();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            output.push_str(&line);
            output.push('\n');
        }
    }
    let status = child
        .wait()
        .map_err(|error| FuzzFailed(format!("cargo fuzz run {target}: {error}")))?;

    let run = TargetRun::from_output(target, &output, status.success());
    if let Outcome::Failed(why) = &run.outcome {
        eprintln!("xtask fuzz: {target}: {why} ({status})");
    }
    Ok(run)
}

/// `cargo +nightly …` through rustup's proxy, with the stable toolchain's variables of the
/// enclosing `cargo xtask` removed so that they cannot pin the child to stable.
fn nightly_cargo() -> Command {
    let mut command = Command::new("cargo");
    command
        .arg("+nightly")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("RUSTC")
        .env_remove("RUSTDOC")
        .env_remove("CARGO");
    command
}

fn ensure_cargo_fuzz() -> Result<(), FuzzFailed> {
    if has_cargo_subcommand("fuzz") {
        return Ok(());
    }

    println!("xtask fuzz: cargo-fuzz is missing: cargo install cargo-fuzz --locked");
    let status = Command::new(cargo_bin())
        .args(["install", "cargo-fuzz", "--locked"])
        .status()
        .map_err(|error| FuzzFailed(format!("cannot start cargo install: {error}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(FuzzFailed(format!(
            "cargo install cargo-fuzz --locked failed ({status})"
        )))
    }
}

fn ensure_nightly() -> Result<(), FuzzFailed> {
    let output = nightly_cargo().arg("--version").output();
    match output {
        Ok(output) if output.status.success() => Ok(()),
        _ => Err(FuzzFailed(
            "cargo-fuzz needs a nightly toolchain and none was found; install one with \
             `rustup toolchain install nightly`"
                .to_owned(),
        )),
    }
}

/// Seeds from the fixtures, by the fuzz crate's own code, on stable.
fn write_seeds(root: &Path) -> Result<(), FuzzFailed> {
    let dir = root.join("target/fuzz/seeds");
    println!("xtask fuzz: writing seed corpora to {}", dir.display());

    let status = Command::new(cargo_bin())
        .current_dir(root)
        .args([
            "run",
            "--quiet",
            "--locked",
            "--manifest-path",
            "fuzz/Cargo.toml",
            "--example",
            "write_seeds",
            "--",
        ])
        .arg(&dir)
        .status()
        .map_err(|error| FuzzFailed(format!("cannot start cargo run: {error}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(FuzzFailed(format!("writing the seeds failed ({status})")))
    }
}

/// The repository root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let xtask = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    xtask
        .parent()
        .map_or_else(|| xtask.clone(), Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_default_to_a_million_runs_of_every_target() {
        let options = Options::parse(&[]).unwrap();

        assert_eq!(options.runs, 1_000_000);
        assert_eq!(options.targets(), TARGETS);
        assert_eq!(options.sanitizer, "none");
        assert_eq!(options.command_line(), "cargo xtask fuzz --runs 1000000");
    }

    #[test]
    fn options_take_runs_and_one_target_in_any_order() {
        let args = [
            "--target",
            "signing",
            "--sanitizer",
            "address",
            "--runs",
            "500",
        ];
        let options = Options::parse(&args).unwrap();

        assert_eq!(options.runs, 500);
        assert_eq!(options.targets(), ["signing"]);
        assert_eq!(
            options.command_line(),
            "cargo xtask fuzz --runs 500 --target signing --sanitizer address"
        );
    }

    #[test]
    fn bad_options_are_refused() {
        for args in [
            &["--runs"][..],
            &["--runs", "0"],
            &["--runs", "many"],
            &["--target", "nope"],
            &["--sanitizer", "memory"],
            &["--jobs", "2"],
        ] {
            assert!(Options::parse(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn the_targets_are_the_fuzz_crates_binaries() {
        let manifest = std::fs::read_to_string(workspace_root().join("fuzz/Cargo.toml")).unwrap();
        let bins: Vec<&str> = manifest
            .lines()
            .filter_map(|line| line.strip_prefix("name = \""))
            .filter_map(|rest| rest.strip_suffix('"'))
            .filter(|name| *name != "alter-fuzz")
            .collect();

        assert_eq!(bins, TARGETS);
    }
}

//! `cargo xtask bench [--quick]`: alter-rs against the bare HTTP stacks it sits on and
//! against the official Python SDK, on one machine and one loopback alter-testkit.
//!
//! 1. micro benches of the core (criterion, `bench/benches/core.rs`);
//! 2. sequential round trips, ours vs the bare stack sending the same core-signed bytes;
//! 3. throughput at 1, 16 and 64 calls in flight: alter-async, alter-blocking, Python;
//! 4. peak RSS of a process holding many `await_approval` calls, and of one making one call.
//!
//! It prints one markdown table and writes it to `target/bench/report.md`. Benchmarks are
//! not tests: no number fails the run; only a measurement that could not be made does.
//! Every figure comes from a process of its own (`alter-bench`, the Python driver) against
//! a fresh fake, so that one run's leftovers never weigh on the next.

pub mod paths;
pub mod plan;
pub mod process;
pub mod report;
pub mod results;

mod micro;
mod python;

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use paths::Paths;
use plan::Plan;
use process::Testkit;
use results::{Memory, Results, RoundTrip, Throughput};

/// A run that could not measure everything; the report was still written.
#[derive(Debug)]
pub struct BenchFailed {
    /// What could not be measured, with why.
    pub failures: Vec<String>,
}

impl fmt::Display for BenchFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bench: {} measurement(s) failed:", self.failures.len())?;
        for failure in &self.failures {
            write!(f, "\n  {failure}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BenchFailed {}

/// Builds, measures, prints the table and writes `target/bench/report.md`; returns its path.
///
/// # Errors
///
/// [`BenchFailed`] when the build failed or a measurement could not be made (the report
/// then says which).
pub fn run(quick: bool) -> Result<PathBuf, BenchFailed> {
    let plan = Plan::new(quick);
    let paths = Paths::discover();
    let fail = |why: String| BenchFailed {
        failures: vec![why],
    };

    std::fs::create_dir_all(paths.bench_dir()).map_err(|error| {
        fail(format!(
            "cannot create {}: {error}",
            paths.bench_dir().display()
        ))
    })?;
    build(&paths).map_err(fail)?;
    let python = python::ensure_venv(&paths);

    let started = Instant::now();
    let mut results = Results::default();
    step("micro benches (criterion)");
    match micro::run(&paths, &plan) {
        Ok(medians) => results.micro = medians,
        Err(why) => results.failures.push(format!("micro benches: {why}")),
    }
    roundtrips(&paths, &plan, &mut results);
    throughputs(&paths, &plan, python, &mut results);
    memory(&paths, &plan, &mut results);
    let elapsed = started.elapsed();

    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let table = report::render(&results, &plan, cores);
    let file = paths.bench_dir().join("report.md");
    println!("\n{table}");
    println!(
        "xtask bench: measured in {:.0} s after the build; report written to {}",
        elapsed.as_secs_f64(),
        file.display()
    );
    if plan.quick && elapsed > QUICK_BUDGET {
        eprintln!(
            "xtask bench: the quick run took longer than its {} s budget",
            QUICK_BUDGET.as_secs()
        );
    }
    if let Err(error) = std::fs::write(&file, &table) {
        results
            .failures
            .push(format!("cannot write {}: {error}", file.display()));
    }

    if results.failures.is_empty() {
        Ok(file)
    } else {
        Err(BenchFailed {
            failures: results.failures,
        })
    }
}

fn step(what: &str) {
    eprintln!("xtask bench: {what}");
}

/// The release binaries and the bench executable, built before anything is timed.
fn build(paths: &Paths) -> Result<(), String> {
    step("building alter-testkit, alter-bench and the micro benches (release)");
    process::cargo(
        paths,
        &[
            "build",
            "--release",
            "--locked",
            "-p",
            "alter-testkit",
            "-p",
            "alter-bench",
            "--bins",
        ],
    )?;
    process::cargo(
        paths,
        &[
            "bench",
            "--no-run",
            "--quiet",
            "--locked",
            "-p",
            "alter-bench",
            "--bench",
            "core",
        ],
    )
}

/// Runs `alter-bench` against a fresh fake.
fn helper<T: serde::de::DeserializeOwned>(
    paths: &Paths,
    command: &str,
    args: &[String],
) -> Result<T, String> {
    let testkit = Testkit::start(paths)?;
    helper_on(paths, &testkit, command, args)
}

/// Runs `alter-bench` against a fake that is already running.
fn helper_on<T: serde::de::DeserializeOwned>(
    paths: &Paths,
    testkit: &Testkit,
    command: &str,
    args: &[String],
) -> Result<T, String> {
    let mut full = vec![
        command.to_owned(),
        "--ready".to_owned(),
        testkit.ready_file().display().to_string(),
    ];
    full.extend_from_slice(args);
    process::json_line(&paths.release_bin("alter-bench"), &full)
}

fn strings<const N: usize>(args: [&str; N]) -> Vec<String> {
    args.iter().map(|arg| (*arg).to_owned()).collect()
}

fn roundtrips(paths: &Paths, plan: &Plan, results: &mut Results) {
    for client in ["async", "blocking"] {
        for route in ["proxy", "approval"] {
            step(&format!("round trips: {client}, {route}"));
            let calls = plan.roundtrip_calls.to_string();
            let args = strings(["--client", client, "--route", route, "--calls", &calls]);
            match helper::<RoundTrip>(paths, "roundtrip", &args) {
                Ok(run) => results.roundtrips.push(run),
                Err(why) => results
                    .failures
                    .push(format!("round trips {client} {route}: {why}")),
            }
        }
    }
}

fn throughputs(paths: &Paths, plan: &Plan, python: Result<PathBuf, String>, results: &mut Results) {
    let secs = plan.throughput_time.as_secs_f64().to_string();
    for route in ["proxy", "approval"] {
        for client in ["async", "blocking"] {
            for inflight in plan.inflight {
                step(&format!(
                    "throughput: {client}, {route}, {inflight} in flight"
                ));
                let inflight = inflight.to_string();
                let args = strings([
                    "--client",
                    client,
                    "--route",
                    route,
                    "--inflight",
                    &inflight,
                    "--secs",
                    &secs,
                ]);
                match helper::<Throughput>(paths, "throughput", &args) {
                    Ok(level) => results.throughputs.push(level),
                    Err(why) => results
                        .failures
                        .push(format!("throughput {client} {route} {inflight}: {why}")),
                }
            }
        }

        step(&format!("throughput: Python SDK, {route}"));
        let levels = python.as_ref().map_err(Clone::clone).and_then(|python| {
            let testkit = Testkit::start(paths)?;
            python::throughput(python, paths, testkit.ready_file(), route, plan)
        });
        match levels {
            Ok(levels) => results.throughputs.extend(levels),
            Err(why) => results
                .failures
                .push(format!("throughput Python {route}: {why}")),
        }
    }
}

fn memory(paths: &Paths, plan: &Plan, results: &mut Results) {
    step(&format!(
        "memory: {} concurrent await_approval, then one call",
        plan.awaits
    ));
    match hold_runs(paths, plan) {
        Ok(holds) => results.holds = holds,
        Err(why) => results.failures.push(format!("memory (awaits): {why}")),
    }
    match helper::<Memory>(paths, "one-call", &[]) {
        Ok(one) => results.one_call = Some(one),
        Err(why) => results.failures.push(format!("memory (one call): {why}")),
    }
}

/// The same pending approvals held twice: all started at once, then in batches.
fn hold_runs(paths: &Paths, plan: &Plan) -> Result<Vec<Memory>, String> {
    let testkit = Testkit::start(paths)?;
    let ids = paths.bench_dir().join("approval-ids.txt");
    let ids_arg = ids.display().to_string();
    let count = plan.awaits.to_string();
    helper_on::<serde_json::Value>(
        paths,
        &testkit,
        "approvals",
        &strings(["--count", &count, "--out", &ids_arg]),
    )?;

    let batch = plan.await_batch.to_string();
    let burst = helper_on(paths, &testkit, "hold", &strings(["--ids", &ids_arg]))?;
    let batched = helper_on(
        paths,
        &testkit,
        "hold",
        &strings(["--ids", &ids_arg, "--batch", &batch]),
    )?;
    Ok(vec![burst, batched])
}

/// How long the quick run may take after the build, per the issue.
pub const QUICK_BUDGET: Duration = Duration::from_secs(60);

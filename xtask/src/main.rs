//! `cargo xtask`: developer tasks for alter-rs.
//!
//! ```text
//! cargo xtask bench [--quick]             benchmarks: table in target/bench/report.md
//! cargo xtask ci                          every check a change must pass
//! cargo xtask conformance signing <FILE>   replay HMAC signing vectors
//! cargo xtask conformance requests <FILE>  replay recorded calls through the core
//! cargo xtask conformance requests <FILE> --client async|blocking
//!                                          ... through a real frontend and loopback HTTP
//! cargo xtask conformance python           the official Python client against the testkit
//! cargo xtask fault-matrix                 both frontends' fault matrix tests and their tables
//! cargo xtask fuzz [--runs N] [--target NAME] [--sanitizer none|address]
//!                                          every cargo-fuzz target, N runs each (nightly)
//! ```

#![forbid(unsafe_code)]

use std::path::Path;
use std::process::ExitCode;

use xtask::conformance::python::Options;
use xtask::conformance::requests::Frontend;
use xtask::conformance::{self, Report};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  bench [--quick]              benchmarks vs bare reqwest/ureq and the Python SDK (target/bench/report.md)
  ci                           fmt, clippy, tests, docs, sans-IO check, cargo-deny
  conformance signing <FILE>   check HMAC signing vectors (fixtures/conformance/signing.json)
  conformance requests <FILE>  replay recorded calls through the core (fixtures/conformance/requests.json)
      [--client async|blocking]  ... through that real frontend, its HTTP stack and a loopback server
  conformance python [--verbose]
                               the official Python client (alter-sdk 0.15.0) against the testkit binary
  fault-matrix                 every operation against every injected fault, both frontends
                               (tables in target/fault-matrix/)
  fuzz [--runs N] [--target NAME] [--sanitizer none|address]
                               every cargo-fuzz target for N executions (default 1000000), seeded from
                               the conformance fixtures; needs nightly (cargo +nightly fuzz run)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    match args.as_slice() {
        ["bench", rest @ ..] => match rest {
            [] | ["--quick"] => match xtask::bench::run(rest == ["--quick"]) {
                Ok(_) => ExitCode::SUCCESS,
                Err(failure) => {
                    eprintln!("{failure}");
                    ExitCode::FAILURE
                }
            },
            _ => {
                eprintln!("{USAGE}");
                ExitCode::from(2)
            }
        },
        ["ci"] => match xtask::ci::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => {
                eprintln!("{failure}");
                ExitCode::FAILURE
            }
        },
        ["fault-matrix"] => match xtask::fault_matrix::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => {
                eprintln!("xtask fault-matrix: {failure}");
                ExitCode::FAILURE
            }
        },
        ["conformance", "python"] => conformance::python::run_and_print(&Options::default()),
        ["conformance", "python", "--verbose" | "-v"] => {
            conformance::python::run_and_print(&Options { verbose: true })
        }
        ["conformance", "signing", file] => report(conformance::signing::run(Path::new(file))),
        ["conformance", "requests", file] => conformance::requests::run_and_print(Path::new(file)),
        ["conformance", "requests", file, "--client", name]
        | ["conformance", "requests", "--client", name, file] => match Frontend::parse(name) {
            Some(frontend) => {
                conformance::requests::run_client_and_print(Path::new(file), frontend)
            }
            None => {
                eprintln!("unknown client {name:?}: expected async or blocking\n\n{USAGE}");
                ExitCode::from(2)
            }
        },
        ["fuzz", rest @ ..] => match xtask::fuzz::Options::parse(rest) {
            Ok(options) => match xtask::fuzz::run(&options) {
                Ok(_) => ExitCode::SUCCESS,
                Err(failure) => {
                    eprintln!("{failure}");
                    ExitCode::FAILURE
                }
            },
            Err(why) => {
                eprintln!("{why}\n\n{USAGE}");
                ExitCode::from(2)
            }
        },
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Prints one line per failing case and the summary; fails on any failure.
fn report(outcome: Result<Report, conformance::LoadError>) -> ExitCode {
    let report = match outcome {
        Ok(report) => report,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };

    for failure in &report.failures {
        println!("{failure}");
    }
    println!("{}", report.summary());

    if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

//! Conformance runners: replay captured vectors against the core and report differences.
//!
//! Each runner reads one fixture file, checks every case independently and returns a
//! [`Report`]; a malformed case counts as a failure rather than stopping the run.

use std::fmt;

pub mod python;
pub mod requests;
pub mod signing;

/// The outcome of one conformance run.
#[derive(Debug, Default)]
pub struct Report {
    /// Cases whose every checked field matched.
    pub passed: usize,
    /// Cases with at least one difference, in file order.
    pub failures: Vec<CaseFailure>,
}

impl Report {
    /// The number of failing cases.
    pub fn failed(&self) -> usize {
        self.failures.len()
    }

    /// The summary line, exactly `N passed, M failed`.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed())
    }
}

/// One failing case and everything that differed in it.
#[derive(Debug)]
pub struct CaseFailure {
    /// The case's `name`, or its position when it has none.
    pub name: String,
    /// One entry per differing field.
    pub differences: Vec<String>,
}

impl fmt::Display for CaseFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FAIL {}: {}", self.name, self.differences.join("; "))
    }
}

/// Why a fixture file could not be run at all.
#[derive(Debug)]
pub struct LoadError(pub String);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LoadError {}

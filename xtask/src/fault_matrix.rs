//! `cargo xtask fault-matrix`: runs the fault matrix test of both frontends and prints
//! their tables.
//!
//! The matrix itself is a test (`fault_matrix` in each frontend's `tests/frontend.rs`), so
//! `cargo test --workspace` already runs it; this command runs only it, shows its output,
//! and prints the two tables it wrote under `target/fault-matrix/` side by side.

use std::fmt;
use std::process::Command;

use crate::bench::paths::Paths;

/// The frontends whose matrix runs, as (package, table name).
const FRONTENDS: [(&str, &str); 2] = [("alter-blocking", "blocking"), ("alter-async", "async")];

/// Why the matrix could not be shown.
#[derive(Debug)]
pub enum MatrixFailed {
    /// `cargo test` could not start.
    Spawn(std::io::Error),
    /// A frontend's matrix test failed (its broken cells are in the test's output).
    Test {
        /// The package whose test failed.
        package: &'static str,
    },
    /// The test passed but its table could not be read.
    Table {
        /// The table's path.
        path: String,
        /// Why it could not be read.
        source: std::io::Error,
    },
}

impl fmt::Display for MatrixFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Spawn(error) => write!(f, "could not start cargo: {error}"),
            Self::Test { package } => write!(f, "the fault matrix of {package} has broken cells"),
            Self::Table { path, source } => write!(f, "could not read {path}: {source}"),
        }
    }
}

impl std::error::Error for MatrixFailed {}

/// The `cargo test` arguments that run one frontend's matrix with its output shown.
pub fn test_args(package: &str) -> Vec<String> {
    [
        "test",
        "-p",
        package,
        "--locked",
        "--test",
        "frontend",
        "--",
        "--nocapture",
        "--exact",
        "matrix::fault_matrix",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Runs both matrices, then prints both tables; both run even when the first fails.
///
/// # Errors
///
/// The first failure: cargo would not start, a matrix had broken cells, or a table was not
/// written.
pub fn run() -> Result<(), MatrixFailed> {
    let cargo = crate::tools::cargo_bin();
    let mut failures = Vec::new();

    for (package, _) in FRONTENDS {
        println!("xtask fault-matrix: cargo {}", test_args(package).join(" "));
        let status = Command::new(&cargo)
            .args(test_args(package))
            .status()
            .map_err(MatrixFailed::Spawn)?;
        if !status.success() {
            failures.push(MatrixFailed::Test { package });
        }
    }

    let dir = Paths::discover().target.join("fault-matrix");
    for (_, name) in FRONTENDS {
        let path = dir.join(format!("{name}.md"));
        match std::fs::read_to_string(&path) {
            Ok(table) => println!("\n{table}"),
            Err(source) => failures.push(MatrixFailed::Table {
                path: path.display().to_string(),
                source,
            }),
        }
    }
    failures.into_iter().next().map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_frontend_runs_only_its_matrix_test_with_output_shown() {
        let args = test_args("alter-async");
        let joined = args.join(" ");
        assert!(joined.starts_with("test -p alter-async --locked --test frontend -- "));
        assert!(joined.contains("--nocapture"));
        assert!(joined.ends_with("--exact matrix::fault_matrix"));
    }

    #[test]
    fn failures_say_which_frontend_broke() {
        let failure = MatrixFailed::Test {
            package: "alter-blocking",
        };
        assert_eq!(
            failure.to_string(),
            "the fault matrix of alter-blocking has broken cells"
        );
    }
}

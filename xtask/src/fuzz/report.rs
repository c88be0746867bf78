//! Reading libFuzzer's output and printing the table of a `cargo xtask fuzz` run.

use std::fmt::Write as _;

/// How one target's run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// libFuzzer ran every execution and found nothing.
    Passed,
    /// libFuzzer found an input that panics or breaks an invariant.
    Crashed {
        /// Where libFuzzer saved the input, when it said.
        artifact: Option<String>,
    },
    /// The target did not run to its end for another reason (build failure, no output).
    Failed(String),
}

/// One target's line of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetRun {
    /// The target's name.
    pub target: String,
    /// Executions done, from libFuzzer's `Done N runs in S second(s)`.
    pub runs: Option<u64>,
    /// Seconds spent fuzzing (building excluded), from the same line.
    pub seconds: Option<u64>,
    /// Executions per second from libFuzzer's final `DONE` status line, else runs / seconds.
    pub execs_per_second: Option<u64>,
    /// How the run ended.
    pub outcome: Outcome,
}

impl TargetRun {
    /// The line for `target` from libFuzzer's output and whether the process succeeded.
    pub fn from_output(target: &str, output: &str, succeeded: bool) -> Self {
        let done = parse_done(output);
        let runs = done.map(|(runs, _)| runs);
        let seconds = done.map(|(_, seconds)| seconds);
        let execs_per_second = parse_final_exec_rate(output).or_else(|| {
            let (runs, seconds) = done?;
            runs.checked_div(seconds)
        });

        let outcome = if let Some(artifact) = parse_artifact(output) {
            Outcome::Crashed {
                artifact: Some(artifact),
            }
        } else if output.contains("==ERROR: libFuzzer") || output.contains("panicked at") {
            Outcome::Crashed { artifact: None }
        } else if !succeeded {
            Outcome::Failed("cargo fuzz run failed".to_owned())
        } else if done.is_none() {
            Outcome::Failed("no `Done N runs` line in libFuzzer's output".to_owned())
        } else {
            Outcome::Passed
        };

        Self {
            target: target.to_owned(),
            runs,
            seconds,
            execs_per_second,
            outcome,
        }
    }

    /// Whether the target ran to its end without finding anything.
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Passed
    }
}

/// `(runs, seconds)` from libFuzzer's last `Done 1000000 runs in 52 second(s)` line.
pub fn parse_done(output: &str) -> Option<(u64, u64)> {
    output.lines().rev().find_map(|line| {
        let rest = line.trim().strip_prefix("Done ")?;
        let (runs, rest) = rest.split_once(" runs in ")?;
        let (seconds, _) = rest.split_once(' ')?;
        Some((runs.parse().ok()?, seconds.parse().ok()?))
    })
}

/// The `exec/s` of libFuzzer's final status line (`#1000000 DONE cov: … exec/s: 19230 …`).
pub fn parse_final_exec_rate(output: &str) -> Option<u64> {
    output
        .lines()
        .rev()
        .filter(|line| line.starts_with('#') && line.contains(" DONE "))
        .find_map(|line| {
            let after = line.split_once("exec/s: ")?.1;
            after.split_whitespace().next()?.parse().ok()
        })
}

/// The path in libFuzzer's `Test unit written to <path>` line.
pub fn parse_artifact(output: &str) -> Option<String> {
    output.lines().find_map(|line| {
        let (_, path) = line.split_once("Test unit written to ")?;
        Some(path.trim().to_owned())
    })
}

/// The table of a run, one row per target, as plain aligned text.
pub fn table(runs: &[TargetRun]) -> String {
    let rows: Vec<[String; 5]> = runs
        .iter()
        .map(|run| {
            let number = |n: Option<u64>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
            let result = match &run.outcome {
                Outcome::Passed => "ok, no crash".to_owned(),
                Outcome::Crashed {
                    artifact: Some(path),
                } => format!("CRASH: {path}"),
                Outcome::Crashed { artifact: None } => "CRASH".to_owned(),
                Outcome::Failed(why) => format!("FAILED: {why}"),
            };
            [
                run.target.clone(),
                number(run.runs),
                number(run.seconds),
                number(run.execs_per_second),
                result,
            ]
        })
        .collect();

    let header = ["target", "runs", "seconds", "exec/s", "result"].map(str::to_owned);
    let mut widths = header.clone().map(|cell| cell.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }

    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(at, (cell, width))| match at {
                // Numbers right-aligned, text left-aligned.
                1..=3 => format!("{cell:>width$}"),
                _ => format!("{cell:<width$}"),
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSED: &str = "\
INFO: Seed: 1234
#2\tINITED cov: 100 ft: 200 corp: 10/1kb exec/s: 0 rss: 40Mb
#1000000\tDONE   cov: 812 ft: 3001 corp: 310/40Kb lim: 4096 exec/s: 19230 rss: 310Mb
Done 1000000 runs in 52 second(s)
";

    const CRASHED: &str = "\
thread '<unnamed>' panicked at src/sign.rs:40:5:
signature
==1234== ERROR: libFuzzer: deadly signal
artifact_prefix='/w/fuzz/artifacts/signing/'; Test unit written to /w/fuzz/artifacts/signing/crash-da39a3ee
";

    #[test]
    fn a_finished_run_gives_its_numbers() {
        let run = TargetRun::from_output("signing", PASSED, true);

        assert_eq!(run.runs, Some(1_000_000));
        assert_eq!(run.seconds, Some(52));
        assert_eq!(run.execs_per_second, Some(19_230));
        assert!(run.passed());
    }

    #[test]
    fn a_crash_names_its_artifact() {
        let run = TargetRun::from_output("signing", CRASHED, false);

        assert_eq!(
            run.outcome,
            Outcome::Crashed {
                artifact: Some("/w/fuzz/artifacts/signing/crash-da39a3ee".to_owned())
            }
        );
        assert_eq!(run.runs, None);
        assert!(!run.passed());
    }

    #[test]
    fn a_run_without_a_done_line_fails() {
        let run = TargetRun::from_output("x", "error: could not compile", false);
        assert!(matches!(run.outcome, Outcome::Failed(_)));

        let run = TargetRun::from_output("x", "", true);
        assert!(matches!(run.outcome, Outcome::Failed(_)));
    }

    #[test]
    fn exec_rate_falls_back_to_runs_over_seconds() {
        let run = TargetRun::from_output("x", "Done 1000 runs in 4 second(s)\n", true);
        assert_eq!(run.execs_per_second, Some(250));

        let run = TargetRun::from_output("x", "Done 1000 runs in 0 second(s)\n", true);
        assert_eq!(run.execs_per_second, None);
    }

    #[test]
    fn the_table_aligns_its_columns() {
        let runs = [
            TargetRun::from_output("signing", PASSED, true),
            TargetRun::from_output("base64_body", CRASHED, false),
        ];

        let table = table(&runs);
        let lines: Vec<&str> = table.lines().collect();

        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            format!("target{}runs  seconds  exec/s  result", " ".repeat(10))
        );
        assert!(lines[1].starts_with("signing      1000000       52   19230  ok, no crash"));
        assert!(lines[2].contains("CRASH: /w/fuzz/artifacts/signing/crash-da39a3ee"));
    }
}

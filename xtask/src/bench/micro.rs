//! The criterion micro benches (`bench/benches/core.rs`), and their medians read back from
//! criterion's `estimates.json` files.

use std::collections::BTreeMap;
use std::path::Path;

use super::paths::Paths;
use super::plan::Plan;
use super::process;

/// The bench ids (`group/function`) the report reads.
pub(super) const BENCH_IDS: [&str; 11] = [
    "sign/derive_and_sign",
    "sign/sign",
    "build/proxy_request",
    "parse_small/ours",
    "parse_small/typed_serde",
    "parse_small/raw_serde",
    "parse_1mib/ours",
    "parse_1mib/typed_serde",
    "parse_1mib/raw_serde",
    "classify/proxy_error",
    "poll/approval_step",
];

/// Runs the micro benches and returns their medians in nanoseconds.
pub(super) fn run(paths: &Paths, plan: &Plan) -> Result<BTreeMap<String, f64>, String> {
    // Stale figures from an earlier run must not stand in for a bench that failed now.
    for id in BENCH_IDS {
        let _ = std::fs::remove_file(estimates_file(&paths.criterion_dir(), id));
    }

    let warm_up = format!("{}", plan.micro_warm_up.as_secs_f64());
    let measure = format!("{}", plan.micro_measure.as_secs_f64());
    process::cargo(
        paths,
        &[
            "bench",
            "--quiet",
            "--locked",
            "-p",
            "alter-bench",
            "--bench",
            "core",
            "--",
            "--warm-up-time",
            &warm_up,
            "--measurement-time",
            &measure,
            "--noplot",
        ],
    )?;

    let mut medians = BTreeMap::new();
    for id in BENCH_IDS {
        let file = estimates_file(&paths.criterion_dir(), id);
        medians.insert(id.to_owned(), median(&file)?);
    }
    Ok(medians)
}

fn estimates_file(criterion: &Path, id: &str) -> std::path::PathBuf {
    criterion.join(id).join("new").join("estimates.json")
}

/// The median point estimate of one criterion result, in nanoseconds.
fn median(file: &Path) -> Result<f64, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|error| format!("no criterion result at {}: {error}", file.display()))?;
    let estimates: serde_json::Value = serde_json::from_str(&text)
        .map_err(|error| format!("{} is not JSON: {error}", file.display()))?;
    estimates["median"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| format!("{} has no median", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_median_of_an_estimates_file() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-micro-{}", std::process::id()));
        let file = estimates_file(&dir, "sign/sign");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(
            &file,
            r#"{"mean":{"point_estimate":910.5},"median":{"point_estimate":900.25}}"#,
        )
        .unwrap();

        assert_eq!(median(&file).unwrap(), 900.25);
        assert!(median(&dir.join("missing.json")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! The official Python SDK (`alter-sdk` 0.15.0): a virtual environment the run creates
//! itself in `target/bench-venv` from `bench/python/requirements.txt`, and the asyncio
//! driver `bench/python/driver.py`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::paths::Paths;
use super::plan::Plan;
use super::process;
use super::results::Throughput;

/// The file in the venv recording which requirements it was built from.
const MARKER: &str = "alter-bench-requirements.txt";

/// The venv's interpreter, creating the venv or bringing it up to date first.
pub(super) fn ensure_venv(paths: &Paths) -> Result<PathBuf, String> {
    let requirements = paths.root.join("bench/python/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .map_err(|error| format!("cannot read {}: {error}", requirements.display()))?;
    let venv = paths.venv();
    let python = venv.join("bin").join("python");
    let marker = venv.join(MARKER);
    if python.exists() && std::fs::read_to_string(&marker).ok().as_deref() == Some(&wanted) {
        return Ok(python);
    }

    eprintln!(
        "xtask bench: creating {} (alter-sdk 0.15.0)",
        venv.display()
    );
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements))?;
    std::fs::write(&marker, wanted)
        .map_err(|error| format!("cannot write {}: {error}", marker.display()))?;
    Ok(python)
}

fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .map_err(|error| format!("cannot run {shown}: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

/// Every in-flight level of the plan on `route`, in one interpreter with one App.
pub(super) fn throughput(
    python: &Path,
    paths: &Paths,
    ready: &Path,
    route: &str,
    plan: &Plan,
) -> Result<Vec<Throughput>, String> {
    let levels: Vec<String> = plan.inflight.iter().map(usize::to_string).collect();
    let args = vec![
        paths
            .root
            .join("bench/python/driver.py")
            .display()
            .to_string(),
        "--ready".to_owned(),
        ready.display().to_string(),
        "--route".to_owned(),
        route.to_owned(),
        "--inflight".to_owned(),
        levels.join(","),
        "--secs".to_owned(),
        plan.throughput_time.as_secs_f64().to_string(),
    ];
    // No stray environment reaches the SDK: the driver sets the base URL itself.
    process::json_lines(python, &args, &[("PYTHONDONTWRITEBYTECODE", "1")])
}

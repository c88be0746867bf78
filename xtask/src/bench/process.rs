//! The processes a run starts: cargo, alter-testkit, and the measuring helpers. Each is a
//! child of this process, waited for, and never outlives the run.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde::de::DeserializeOwned;

use super::paths::Paths;

/// Runs `cargo` with `args`, its output shown; fails on a non-zero exit.
pub fn cargo(paths: &Paths, args: &[&str]) -> Result<(), String> {
    let cargo = crate::tools::cargo_bin();
    let status = Command::new(cargo)
        .args(args)
        .current_dir(&paths.root)
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed", args.join(" ")))
    }
}

/// Runs a measuring program and reads every JSON line it prints on stdout.
pub fn json_lines<T: DeserializeOwned>(
    program: &Path,
    args: &[String],
    env: &[(&str, &str)],
) -> Result<Vec<T>, String> {
    let name = program.file_name().map_or_else(
        || program.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let output = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("cannot run {name}: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "{name} {} failed ({})",
            args.join(" "),
            output.status
        ));
    }

    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| {
            serde_json::from_str(line)
                .map_err(|error| format!("{name} printed an unexpected line: {error}"))
        })
        .collect()
}

/// Runs a measuring program that prints exactly one JSON line.
pub fn json_line<T: DeserializeOwned>(program: &Path, args: &[String]) -> Result<T, String> {
    json_lines(program, args, &[])?
        .pop()
        .ok_or_else(|| format!("{} printed no result", program.display()))
}

/// A running alter-testkit (release build), stopped when dropped.
#[derive(Debug)]
pub struct Testkit {
    child: Child,
    ready: PathBuf,
}

impl Testkit {
    /// Starts a fresh fake on free loopback ports and saves its ready line to
    /// `target/bench/ready.json`.
    pub fn start(paths: &Paths) -> Result<Self, String> {
        let mut child = Command::new(paths.release_bin("alter-testkit"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--provider-addr",
                "127.0.0.1:0",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| format!("cannot start alter-testkit: {error}"))?;

        let mut line = String::new();
        let read = match child.stdout.take() {
            Some(stdout) => BufReader::new(stdout).read_line(&mut line),
            None => Ok(0),
        };
        let ready = paths.bench_dir().join("ready.json");
        let saved = match read {
            Ok(n) if n > 0 => std::fs::write(&ready, line.trim())
                .map_err(|error| format!("cannot write {}: {error}", ready.display())),
            Ok(_) => Err("alter-testkit exited before it was ready".to_owned()),
            Err(error) => Err(format!("cannot read alter-testkit's ready line: {error}")),
        };

        let testkit = Self { child, ready };
        saved.map(|()| testkit)
    }

    /// The file holding the ready line, for `--ready`.
    pub fn ready_file(&self) -> &Path {
        &self.ready
    }
}

impl Drop for Testkit {
    fn drop(&mut self) {
        // Our own child, by its handle: nothing else is signalled.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

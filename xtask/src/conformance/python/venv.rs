//! The suite's Python environment: a venv under the target directory with the pinned
//! packages of `conformance/python/requirements.txt`.
//!
//! Created on first use and reused afterwards. A stamp file inside the venv holds the
//! requirements it was installed from, so a changed file reinstalls and an unchanged one
//! costs no package-index round trip.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::Failure;
use super::process::run_captured;

/// Creating the venv (it copies pip in) may take this long.
const CREATE_LIMIT: Duration = Duration::from_secs(180);
/// Installing the pinned packages may take this long.
const INSTALL_LIMIT: Duration = Duration::from_secs(420);
/// Asking the venv's interpreter a question may take this long.
const PROBE_LIMIT: Duration = Duration::from_secs(60);

/// The client under test; `requirements.txt` must pin exactly this.
pub(crate) const SDK_PIN: &str = "alter-sdk==0.15.0";
const SDK_VERSION: &str = "0.15.0";
/// `alter-sdk` 0.15.0 declares `Requires-Python >=3.11`.
const MIN_PYTHON: (u32, u32) = (3, 11);
/// Name of the stamp file inside the venv.
const STAMP: &str = "alter-conformance-requirements.txt";

/// A ready venv.
#[derive(Debug)]
pub(crate) struct Venv {
    root: PathBuf,
}

impl Venv {
    /// The venv's interpreter.
    pub(crate) fn python(&self) -> PathBuf {
        interpreter(&self.root)
    }
}

/// Makes sure the venv at `root` exists with exactly `requirements` installed.
///
/// `base_python` creates it when it is missing or broken.
///
/// # Errors
///
/// A [`Failure`] saying which part failed and what to do about it.
pub(crate) fn ensure(
    root: &Path,
    base_python: &str,
    requirements_file: &Path,
) -> Result<Venv, Failure> {
    let requirements = fs::read_to_string(requirements_file).map_err(|error| {
        Failure::Setup(format!(
            "cannot read {}: {error}",
            requirements_file.display()
        ))
    })?;
    if !requirements.lines().any(|line| line.trim() == SDK_PIN) {
        return Err(Failure::Setup(format!(
            "{} does not pin {SDK_PIN}",
            requirements_file.display()
        )));
    }

    if !interpreter(root).is_file() {
        create(root, base_python)?;
    }
    let venv = Venv {
        root: root.to_owned(),
    };
    check_python_version(&venv)?;

    let stamp = fs::read_to_string(root.join(STAMP)).ok();
    let installed = installed_sdk_version(&venv);
    if needs_install(stamp.as_deref(), &requirements, installed.as_deref()) {
        install(&venv, requirements_file)?;
        fs::write(root.join(STAMP), &requirements).map_err(|error| {
            Failure::Setup(format!("cannot write the venv's stamp file: {error}"))
        })?;
    } else {
        println!("xtask conformance python: reusing {}", root.display());
    }
    Ok(venv)
}

/// Whether the venv must (re)install: it never did, the requirements changed since, or the
/// client under test is not the pinned version.
pub(crate) fn needs_install(stamp: Option<&str>, requirements: &str, sdk: Option<&str>) -> bool {
    stamp != Some(requirements) || sdk != Some(SDK_VERSION)
}

fn create(root: &Path, base_python: &str) -> Result<(), Failure> {
    println!(
        "xtask conformance python: creating a venv at {} with {base_python}",
        root.display()
    );
    // A half-made venv (interrupted run) is replaced rather than repaired.
    if root.exists() {
        fs::remove_dir_all(root).map_err(|error| {
            Failure::Setup(format!(
                "cannot remove the broken venv {}: {error}",
                root.display()
            ))
        })?;
    }
    let created = run_captured(
        Command::new(base_python).arg("-m").arg("venv").arg(root),
        CREATE_LIMIT,
        true,
    )
    .map_err(|error| {
        Failure::Setup(format!(
            "cannot run {base_python} ({error}); install Python {}.{} or newer, or name \
             another interpreter in ALTER_CONFORMANCE_PYTHON",
            MIN_PYTHON.0, MIN_PYTHON.1
        ))
    })?;
    if !created.success() {
        return Err(Failure::Setup(format!(
            "`{base_python} -m venv` {} (on Debian the venv module is the package \
             python3-venv):\n{}",
            created.failure(CREATE_LIMIT),
            created.tail(15)
        )));
    }
    Ok(())
}

fn check_python_version(venv: &Venv) -> Result<(), Failure> {
    let probe = run_captured(
        Command::new(venv.python())
            .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"]),
        PROBE_LIMIT,
        true,
    )
    .map_err(|error| Failure::Setup(format!("cannot run the venv's python: {error}")))?;
    let version = probe.stdout.trim();
    match parse_version(version) {
        Some(found) if found >= MIN_PYTHON => Ok(()),
        Some(_) => Err(Failure::Setup(format!(
            "the venv's Python is {version}; {SDK_PIN} needs {}.{} or newer (delete {} and \
             set ALTER_CONFORMANCE_PYTHON to a newer interpreter)",
            MIN_PYTHON.0,
            MIN_PYTHON.1,
            venv.root.display()
        ))),
        None => Err(Failure::Setup(format!(
            "cannot tell the venv's Python version: {}",
            probe.tail(5)
        ))),
    }
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn installed_sdk_version(venv: &Venv) -> Option<String> {
    let probe = run_captured(
        Command::new(venv.python()).args([
            "-c",
            "import importlib.metadata as m; print(m.version('alter-sdk'))",
        ]),
        PROBE_LIMIT,
        true,
    )
    .ok()?;
    probe.success().then(|| probe.stdout.trim().to_owned())
}

fn install(venv: &Venv, requirements_file: &Path) -> Result<(), Failure> {
    println!(
        "xtask conformance python: installing {} (pinned) from the package index",
        requirements_file.display()
    );
    let installed = run_captured(
        Command::new(venv.python())
            .args(["-m", "pip", "install"])
            .args(["--disable-pip-version-check", "--no-input"])
            // Wheels only: building pydantic-core from source would need a Rust toolchain
            // and take minutes; a missing wheel fails fast instead.
            .args(["--only-binary", ":all:"])
            .args(["--retries", "2", "--timeout", "30"])
            .arg("-r")
            .arg(requirements_file),
        INSTALL_LIMIT,
        true,
    )
    .map_err(|error| Failure::Install(format!("cannot run pip: {error}")))?;
    if installed.success() {
        return Ok(());
    }
    Err(Failure::Install(format!(
        "pip {} while installing {SDK_PIN} and its pinned dependencies. Is PyPI reachable \
         from this machine? The suite needs the official client from the package index.\n\
         Last lines of pip's output:\n{}",
        installed.failure(INSTALL_LIMIT),
        installed.tail(20)
    )))
}

/// Where a venv keeps its interpreter.
fn interpreter(root: &Path) -> PathBuf {
    if cfg!(windows) {
        root.join("Scripts").join("python.exe")
    } else {
        root.join("bin").join("python")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_or_changed_venv_installs_and_a_matching_one_does_not() {
        let wanted = "alter-sdk==0.15.0\n";

        assert!(needs_install(None, wanted, None));
        assert!(needs_install(
            Some("alter-sdk==0.14.0\n"),
            wanted,
            Some("0.15.0")
        ));
        assert!(needs_install(Some(wanted), wanted, None));
        assert!(needs_install(Some(wanted), wanted, Some("0.14.2")));
        assert!(!needs_install(Some(wanted), wanted, Some("0.15.0")));
    }

    #[test]
    fn python_versions_compare_numerically() {
        assert_eq!(parse_version("3.11"), Some((3, 11)));
        assert!(parse_version("3.9").unwrap() < MIN_PYTHON);
        assert!(parse_version("3.12").unwrap() >= MIN_PYTHON);
        assert_eq!(parse_version("Python 3"), None);
    }

    #[test]
    fn the_requirements_pin_every_package_exactly() {
        let file =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/python/requirements.txt");
        let text = fs::read_to_string(file).unwrap();

        let pins: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect();

        assert!(pins.contains(&SDK_PIN));
        for pin in pins {
            let (name, version) = pin.split_once("==").unwrap_or_else(|| panic!("{pin}"));
            assert!(!name.is_empty() && !name.contains(['<', '>', '=', '[', ';', ' ']));
            assert!(
                !version.is_empty() && !version.contains(['*', ',', ';', ' ']),
                "{pin}"
            );
        }
    }
}

//! Where the workspace, its build output and the benchmark's files are.

use std::path::{Path, PathBuf};

/// The locations one run works with.
#[derive(Clone, Debug)]
pub struct Paths {
    /// The workspace root.
    pub root: PathBuf,
    /// Cargo's target directory (`CARGO_TARGET_DIR`, else `target/` in the root).
    pub target: PathBuf,
}

impl Paths {
    /// The workspace this xtask was built from.
    pub fn discover() -> Self {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest.parent().unwrap_or(manifest).to_path_buf();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|dir| {
                if dir.is_absolute() {
                    dir
                } else {
                    root.join(dir)
                }
            })
            .unwrap_or_else(|| root.join("target"));
        Self { root, target }
    }

    /// `target/bench`: the report and the run's scratch files.
    pub fn bench_dir(&self) -> PathBuf {
        self.target.join("bench")
    }

    /// A binary of the release build.
    pub fn release_bin(&self, name: &str) -> PathBuf {
        self.target.join("release").join(name)
    }

    /// Criterion's output directory.
    pub fn criterion_dir(&self) -> PathBuf {
        self.target.join("criterion")
    }

    /// The Python virtual environment the run creates for the official SDK.
    pub fn venv(&self) -> PathBuf {
        self.target.join("bench-venv")
    }
}

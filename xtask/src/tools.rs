//! The cargo that runs this xtask, and the cargo subcommands its tasks install on demand.

use std::process::{Command, Stdio};

/// The cargo binary running this xtask (`$CARGO`), or `cargo` from `PATH`.
pub fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Whether `cargo <subcommand> --version` runs and succeeds, e.g. for `deny` or `fuzz`.
pub fn has_cargo_subcommand(subcommand: &str) -> bool {
    Command::new(cargo_bin())
        .args([subcommand, "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subcommand_that_does_not_exist_is_missing() {
        assert!(!has_cargo_subcommand("no-such-subcommand-xtask-probe"));
    }

    #[test]
    fn cargo_itself_answers_its_version() {
        assert!(
            Command::new(cargo_bin())
                .arg("--version")
                .status()
                .is_ok_and(|status| status.success())
        );
    }
}

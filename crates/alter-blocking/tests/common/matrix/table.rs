//! The fault matrix as a markdown table: printed on standard error and written to
//! `target/fault-matrix/<frontend>.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::plan::{ARMED, DELAY, Fault, SLOW_TIMEOUT, TIMEOUT};

/// The table of one frontend, row by row.
#[derive(Debug)]
pub(crate) struct Table {
    frontend: &'static str,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table for `frontend` (`blocking` or `async`).
    pub(crate) fn new(frontend: &'static str) -> Self {
        Self {
            frontend,
            rows: Vec::new(),
        }
    }

    /// Adds a row: the operation, its kind, then one cell per fault in [`Fault::ALL`]
    /// order. A cell that broke a rule is marked with `!`.
    pub(crate) fn push(&mut self, name: &str, kind: &str, cells: Vec<(String, bool)>) {
        let mut row = vec![name.to_owned(), kind.to_owned()];
        row.extend(
            cells
                .into_iter()
                .map(|(text, broken)| if broken { format!("{text} !") } else { text }),
        );
        self.rows.push(row);
    }

    /// The legend line, then the markdown table with padded columns.
    pub(crate) fn render(&self) -> String {
        let mut header = vec!["operation".to_owned(), "kind".to_owned()];
        header.extend(Fault::ALL.iter().map(|fault| fault.header().to_owned()));
        let widths: Vec<usize> = (0..header.len())
            .map(|column| {
                self.rows
                    .iter()
                    .chain(std::iter::once(&header))
                    .map(|row| row.get(column).map_or(0, String::len))
                    .max()
                    .unwrap_or(0)
            })
            .collect();

        let mut out = format!("{}\n\n", legend(self.frontend));
        line(&mut out, &header, &widths);
        let rule: Vec<String> = widths.iter().map(|width| "-".repeat(*width)).collect();
        line(&mut out, &rule, &widths);
        for row in &self.rows {
            line(&mut out, row, &widths);
        }
        out
    }

    /// Writes [`Table::render`] to `target/fault-matrix/<frontend>.md` and returns the path.
    ///
    /// # Errors
    ///
    /// When the directory or the file cannot be written.
    pub(crate) fn write(&self) -> std::io::Result<PathBuf> {
        let dir = target_dir().join("fault-matrix");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{}.md", self.frontend));
        std::fs::write(&path, self.render())?;
        Ok(path)
    }
}

/// What the cells mean, and the settings they ran with.
fn legend(frontend: &str) -> String {
    format!(
        "Fault matrix ({frontend}). Cell = outcome/requests that reached the faulted route: \
         `ok` success, `none` verify_user_token's None, else the error (class without \
         `Error`, plus status); `-` not applicable; `!` a broken rule. Faults hit {ARMED} \
         requests; 3 attempts; timeout {}s ({}ms in `slow`, answered after {}ms). Kinds: \
         read = retried by the call, once = never re-sent, poll = waits out transient \
         failures, poll-once = ends at the first failure.",
        TIMEOUT.as_secs(),
        SLOW_TIMEOUT.as_millis(),
        DELAY.as_millis(),
    )
}

fn line(out: &mut String, cells: &[String], widths: &[usize]) {
    out.push('|');
    for (cell, width) in cells.iter().zip(widths) {
        let _ = write!(out, " {cell:<width$} |");
    }
    out.push('\n');
}

/// The workspace root: two levels above this crate's manifest (`crates/<name>`).
fn workspace_root() -> &'static Path {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.ancestors().nth(2).unwrap_or(manifest)
}

/// `CARGO_TARGET_DIR` (relative to the workspace root when relative), else the
/// workspace's `target/`.
fn target_dir() -> PathBuf {
    let workspace = workspace_root();
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_a_legend_a_header_and_aligned_rows() {
        let mut table = Table::new("test");
        let cells = Fault::ALL
            .iter()
            .map(|fault| {
                (
                    format!("ok/{}", fault.header().len()),
                    *fault == Fault::Slow,
                )
            })
            .collect();
        table.push("list_scopes", "read", cells);
        let rendered = table.render();

        let lines: Vec<&str> = rendered.lines().collect();
        assert!(lines[0].starts_with("Fault matrix (test)."));
        assert!(lines[2].starts_with("| operation") && lines[2].contains("| malformed"));
        assert!(workspace_root().join("Cargo.lock").is_file());
        assert!(lines[3].starts_with("| ---"));
        assert!(lines[4].starts_with("| list_scopes | read |"));
        assert!(lines[4].contains("ok/4 !"), "{}", lines[4]);
        assert_eq!(lines[2].len(), lines[4].len(), "columns line up");
    }

    #[test]
    fn the_target_dir_is_under_the_workspace_unless_absolute() {
        let dir = target_dir();
        match std::env::var_os("CARGO_TARGET_DIR") {
            Some(set) if Path::new(&set).is_absolute() => assert_eq!(dir, Path::new(&set)),
            _ => assert!(dir.starts_with(workspace_root())),
        }
    }
}

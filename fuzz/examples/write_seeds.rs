//! Writes every target's seed corpus under a directory: `<dir>/<target>/seed-NNN`.
//!
//! `cargo xtask fuzz` runs it with `target/fuzz/seeds`; the directory of each target is
//! emptied first, so seeds of older fixtures do not linger.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use alter_fuzz::Target;
use alter_fuzz::seeds::seeds;

fn main() -> ExitCode {
    let Some(root) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: write_seeds <dir>");
        return ExitCode::from(2);
    };

    for target in Target::ALL {
        let dir = root.join(target.name());
        let written = std::fs::remove_dir_all(&dir)
            .or_else(|error| match error.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(error),
            })
            .and_then(|()| std::fs::create_dir_all(&dir))
            .and_then(|()| {
                let seeds = seeds(target);
                for (at, seed) in seeds.iter().enumerate() {
                    std::fs::write(dir.join(format!("seed-{at:03}")), seed)?;
                }
                Ok(seeds.len())
            });
        match written {
            Ok(count) => println!("{}: {count} seeds in {}", target.name(), dir.display()),
            Err(error) => {
                eprintln!(
                    "{}: cannot write seeds to {}: {error}",
                    target.name(),
                    dir.display()
                );
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

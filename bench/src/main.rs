//! `alter-bench`: the measuring half of `cargo xtask bench`. Each command makes one
//! measurement against a running alter-testkit and prints it as one JSON line.
//!
//! ```text
//! alter-bench roundtrip  --ready F --client async|blocking --route proxy|approval --calls N
//! alter-bench throughput --ready F --client async|blocking --route proxy|approval --inflight N --secs S
//! alter-bench approvals  --ready F --count N --out FILE
//! alter-bench hold       --ready F --ids FILE [--batch N]
//! alter-bench one-call   --ready F
//! ```
//!
//! `--ready` names a file holding alter-testkit's ready line.

#![forbid(unsafe_code)]

mod bare;
mod memory;
mod ready;
mod roundtrip;
mod stats;
mod throughput;
mod work;

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use ready::Backend;
use work::Route;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("alter-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<String, String> {
    let (command, flags) = args
        .split_first()
        .ok_or_else(|| "usage: alter-bench <command> --ready FILE …".to_owned())?;
    let flags = Flags::parse(flags)?;
    let backend = Backend::load(Path::new(flags.get("ready")?))?;

    match command.as_str() {
        "roundtrip" => {
            let (route, calls) = (flags.route()?, flags.number("calls")?);
            let result = match flags.get("client")? {
                "async" => roundtrip::run_async(&backend, route, calls)?,
                "blocking" => roundtrip::run_blocking(&backend, route, calls)?,
                other => return Err(format!("unknown client {other}")),
            };
            to_line(&result)
        }
        "throughput" => {
            let (route, inflight) = (flags.route()?, flags.number("inflight")?);
            let secs = Duration::try_from_secs_f64(flags.float("secs")?)
                .map_err(|error| format!("--secs: {error}"))?;
            let result = match flags.get("client")? {
                "async" => throughput::run_async(&backend, route, inflight, secs)?,
                "blocking" => throughput::run_blocking(&backend, route, inflight, secs)?,
                other => return Err(format!("unknown client {other}")),
            };
            to_line(&result)
        }
        "approvals" => {
            let out = Path::new(flags.get("out")?);
            memory::create_approvals(&backend, flags.number("count")?, out)?;
            Ok(format!("{{\"created\":{}}}", flags.number("count")?))
        }
        "hold" => {
            let batch = flags.optional_number("batch")?;
            to_line(&memory::hold(
                &backend,
                Path::new(flags.get("ids")?),
                batch,
            )?)
        }
        "one-call" => to_line(&memory::one_call(&backend)?),
        other => Err(format!("unknown command {other}")),
    }
}

fn to_line<T: serde::Serialize>(value: &T) -> Result<String, String> {
    serde_json::to_string(value).map_err(|error| error.to_string())
}

/// `--name value` pairs.
struct Flags(HashMap<String, String>);

impl Flags {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut flags = HashMap::new();
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let name = flag
                .strip_prefix("--")
                .ok_or_else(|| format!("expected a --flag, not {flag}"))?;
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            flags.insert(name.to_owned(), value.clone());
        }
        Ok(Self(flags))
    }

    fn get(&self, name: &str) -> Result<&str, String> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("--{name} is required"))
    }

    fn number(&self, name: &str) -> Result<usize, String> {
        let value = self.get(name)?;
        value
            .parse()
            .map_err(|_| format!("--{name} needs a whole number, not {value}"))
    }

    fn optional_number(&self, name: &str) -> Result<Option<usize>, String> {
        match self.0.contains_key(name) {
            true => self.number(name).map(Some),
            false => Ok(None),
        }
    }

    fn float(&self, name: &str) -> Result<f64, String> {
        let value = self.get(name)?;
        value
            .parse()
            .map_err(|_| format!("--{name} needs a number, not {value}"))
    }

    fn route(&self) -> Result<Route, String> {
        let name = self.get("route")?;
        Route::parse(name).ok_or_else(|| format!("unknown route {name}: proxy or approval"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_name_value_pairs() {
        let args: Vec<String> = ["--calls", "20", "--route", "proxy"]
            .map(String::from)
            .to_vec();
        let flags = Flags::parse(&args).unwrap();

        assert_eq!(flags.number("calls").unwrap(), 20);
        assert_eq!(flags.route().unwrap(), Route::Proxy);
        assert!(flags.get("client").is_err());
        assert!(Flags::parse(&["--calls".to_owned()]).is_err());
        assert!(Flags::parse(&["calls".to_owned()]).is_err());
    }
}

//! `alter-testkit serve [--addr 127.0.0.1:PORT] [--provider-addr 127.0.0.1:PORT] [--seed N]`
//!
//! Starts the fake backend and provider, prints one JSON line describing them (base URLs,
//! keys, seeded ids) on stdout once both listen, then serves until SIGINT or SIGTERM.

#![forbid(unsafe_code)]

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;

use alter_testkit::FakeAlter;

const USAGE: &str = "usage: alter-testkit serve [--addr 127.0.0.1:PORT] [--provider-addr 127.0.0.1:PORT] [--seed N]";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("alter-testkit: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let mut args = args.into_iter();
    if args.next().as_deref() != Some("serve") {
        return Err(USAGE.to_owned());
    }

    let mut builder = FakeAlter::builder();
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--addr" => builder = builder.addr(loopback(&value)?),
            "--provider-addr" => builder = builder.provider_addr(loopback(&value)?),
            "--seed" => {
                builder = builder.seed(
                    value
                        .parse()
                        .map_err(|_| format!("--seed needs a number, not {value}"))?,
                )
            }
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }

    let fake = builder.start().map_err(|error| error.to_string())?;
    let line = serde_json::to_string(fake.ready_info()).map_err(|error| error.to_string())?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(|error| error.to_string())?;
    drop(stdout);

    wait_for_signal()?;
    drop(fake);
    Ok(())
}

/// An `IP:PORT` address on loopback; anything else is refused.
fn loopback(value: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = value
        .parse()
        .map_err(|_| format!("{value} is not an IP:PORT address"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{value} is not a loopback address; the fake listens on loopback only"
        ));
    }
    Ok(addr)
}

/// Blocks until SIGINT or SIGTERM.
fn wait_for_signal() -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .map_err(|error| error.to_string())?;
            tokio::select! {
                result = tokio::signal::ctrl_c() => result.map_err(|error| error.to_string()),
                _ = term.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c()
                .await
                .map_err(|error| error.to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_accepted() {
        assert!(loopback("127.0.0.1:0").is_ok());
        assert!(loopback("[::1]:8080").is_ok());
        assert!(loopback("0.0.0.0:8080").is_err());
        assert!(loopback("192.168.1.2:80").is_err());
        assert!(loopback("localhost:80").is_err());
    }

    #[test]
    fn arguments_are_checked() {
        assert!(run(vec![]).is_err());
        assert!(run(vec!["serve".into(), "--addr".into()]).is_err());
        assert!(run(vec!["serve".into(), "--bogus".into(), "x".into()]).is_err());
        assert!(run(vec!["serve".into(), "--addr".into(), "10.0.0.1:1".into()]).is_err());
    }
}

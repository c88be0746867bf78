//! The `alter-testkit serve` binary: one JSON ready line, loopback only, SIGTERM stops it.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use alter_testkit::ReadyInfo;

use crate::support::{Client, body_json, plain, send};

fn wait_for_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the binary did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn serve_prints_one_ready_line_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_alter-testkit"))
        .args(["serve", "--addr", "127.0.0.1:0", "--seed", "7"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();

    let raw: serde_json::Value = serde_json::from_str(&line).unwrap();
    for field in [
        "base_url",
        "provider_base_url",
        "app_key",
        "agent_key",
        "agent_id",
        "managed_secret_id",
    ] {
        assert!(
            raw[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field} in {line}"
        );
    }
    for grant in [
        "oauth_bearer",
        "api_key_header",
        "query_param",
        "aws_sigv4",
        "hitl",
        "agent_delegated",
    ] {
        assert!(raw["grants"][grant].as_str().is_some(), "grants.{grant}");
    }
    let info: ReadyInfo = serde_json::from_value(raw).unwrap();
    assert!(info.base_url.starts_with("http://127.0.0.1:"));
    assert!(alter_core::config::is_valid_key(&info.app_key));

    let state = send(&plain(
        "GET",
        &format!("{}/_testkit/state", info.base_url),
        b"",
    ))
    .unwrap();
    assert_eq!(body_json(&state)["app_key"], info.app_key.as_str());
    let app = Client::with(&info.base_url, &info.app_key, Default::default());
    assert!(app.run(app.engine.scopes_list()).is_ok());

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(wait_for_exit(&mut child).success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "exactly one line on stdout");
}

#[test]
fn serve_refuses_addresses_off_loopback() {
    let output = Command::new(env!("CARGO_BIN_EXE_alter-testkit"))
        .args(["serve", "--addr", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("loopback"));
}

//! The requests conformance gate: every recorded call of
//! `fixtures/conformance/requests.json` replays through the core without a difference.
//!
//! The other tests tamper with one entry at a time and check that the runner notices, so
//! the gate cannot pass by checking nothing.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

use std::path::PathBuf;

use serde_json::Value;
use xtask::conformance::requests::{self, RequestsReport};

fn fixture_text() -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/conformance/requests.json");
    std::fs::read_to_string(path).expect("the requests fixture is readable")
}

/// Runs the fixture with `entry_id` alone, after `tamper` changed it.
fn run_tampered(entry_id: &str, tamper: impl FnOnce(&mut Value)) -> RequestsReport {
    let entries: Vec<Value> = serde_json::from_str(&fixture_text()).unwrap();
    let mut entry = entries
        .into_iter()
        .find(|entry| entry["id"] == entry_id)
        .expect("the entry exists");

    tamper(&mut entry);

    let text = serde_json::to_string(&vec![entry]).unwrap();
    requests::run_str(&text).unwrap()
}

fn differences(report: &RequestsReport) -> String {
    report
        .failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn conformance_gate_requests_fixture_has_no_failures_and_one_skip() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/conformance/requests.json");

    let report = requests::run(&path).unwrap();

    assert_eq!(
        report.failed(),
        0,
        "failing entries:\n{}",
        differences(&report)
    );
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert_eq!(report.skipped[0].id, "app.boto3_client.dynamodb");
    assert_eq!(report.passed, 88);
    assert_eq!(
        report
            .deviations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["deviation D3: app.request.sigv4: SigV4 now signs the query params (oracle: aws-sigv4)"]
    );
}

#[test]
fn a_changed_signature_fails_the_entry() {
    let report = run_tampered("app.agents.get", |entry| {
        entry["requests"][0]["headers"]["x-alter-signature"] = "00".repeat(32).into();
    });

    assert_eq!(report.failed(), 1);
    assert!(differences(&report).contains("header x-alter-signature: value differs"));
}

#[test]
fn a_missing_nonce_fails_the_entry() {
    let report = run_tampered("app.scopes.list.actor_cache_twice", |entry| {
        entry["clock"]["nonces_issued"]
            .as_array_mut()
            .unwrap()
            .pop();
    });

    assert!(differences(&report).contains("more than the reference client"));
}

#[test]
fn a_different_error_class_fails_the_entry() {
    let report = run_tampered("app.agents.get.not_found", |entry| {
        entry["outcome"]["exception"]["type"] = "KeyNotFoundError".into();
    });

    assert!(differences(&report).contains("outcome: expected KeyNotFoundError"));
}

#[test]
fn a_different_post_state_fails_the_entry() {
    let report = run_tampered("app.request.actor_id_cached", |entry| {
        entry["post_state"]["actor_id"] = Value::Null;
    });

    assert!(differences(&report).contains("post_state.actor_id"));
}

#[test]
fn a_provider_credential_difference_fails_the_entry() {
    let report = run_tampered("app.request.bearer_get", |entry| {
        entry["provider_requests"][0]["request"]["headers"]["authorization"] =
            "Bearer other".into();
    });

    assert!(differences(&report).contains("seq 1: header authorization: value differs"));
}

#[test]
fn an_unsent_recorded_request_fails_the_entry() {
    let report = run_tampered("app.agents.get", |entry| {
        let mut extra = entry["requests"][0].clone();
        extra["seq"] = 1.into();
        entry["requests"].as_array_mut().unwrap().push(extra);
        let mut answer = entry["response_fixtures"][0].clone();
        answer["seq"] = 1.into();
        entry["response_fixtures"]
            .as_array_mut()
            .unwrap()
            .push(answer);
    });

    assert!(differences(&report).contains("seq 1: expected GET"));
}

#[test]
fn the_d3_oracle_must_reproduce_the_reference_signature() {
    let report = run_tampered("app.request.sigv4", |entry| {
        entry["provider_requests"][0]["request"]["headers"]["authorization"] =
            "AWS4-HMAC-SHA256 x".into();
    });

    assert!(differences(&report).contains("oracle does not reproduce"));
    assert!(report.deviations.is_empty());
}

#[test]
fn browser_urls_are_checked() {
    let report = run_tampered("app.authenticate", |entry| {
        entry["browser_opened"] = serde_json::json!([]);
    });

    assert!(differences(&report).contains("browser: expected []"));
}

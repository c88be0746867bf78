//! The requests conformance gate in client mode: every recorded call of
//! `fixtures/conformance/requests.json` replays through each real frontend (`alter-async`
//! over reqwest, `alter-blocking` over ureq) and a loopback replay server without a
//! difference.
//!
//! The other tests tamper with one entry at a time and check that client mode notices, so
//! the gate cannot pass by checking nothing.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use xtask::conformance::requests::{self, Frontend, RequestsReport};

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/conformance/requests.json")
}

/// Runs the entry `entry_id` alone through `frontend`, after `tamper` changed it.
fn run_tampered(
    frontend: Frontend,
    entry_id: &str,
    tamper: impl FnOnce(&mut Value),
) -> RequestsReport {
    let text = std::fs::read_to_string(fixture_path()).unwrap();
    let entries: Vec<Value> = serde_json::from_str(&text).unwrap();
    let mut entry = entries
        .into_iter()
        .find(|entry| entry["id"] == entry_id)
        .expect("the entry exists");

    tamper(&mut entry);

    let text = serde_json::to_string(&vec![entry]).unwrap();
    requests::run_client_str(&text, frontend).unwrap()
}

fn differences(report: &RequestsReport) -> String {
    report
        .failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_gate(frontend: Frontend) {
    let report = requests::run_client(&fixture_path(), frontend).unwrap();

    assert_eq!(
        report.failed(),
        0,
        "failing entries:\n{}",
        differences(&report)
    );
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert_eq!(report.skipped[0].id, "app.boto3_client.dynamodb");
    assert!(report.passed >= 88, "only {} entries passed", report.passed);
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
fn conformance_gate_async_client_has_no_failures_and_one_skip() {
    assert_gate(Frontend::Async);
}

#[test]
fn conformance_gate_blocking_client_has_no_failures_and_one_skip() {
    assert_gate(Frontend::Blocking);
}

#[test]
fn a_recorded_header_the_frontend_did_not_send_fails_the_entry() {
    let report = run_tampered(Frontend::Blocking, "app.agents.get", |entry| {
        entry["requests"][0]["headers"]["x-alter-caller"] = "billing-cron".into();
    });

    assert!(differences(&report).contains("seq 0: header x-alter-caller: missing"));
}

#[test]
fn an_audit_row_differing_beyond_its_latency_fails_the_entry() {
    let report = run_tampered(Frontend::Async, "app.request.bearer_get", |entry| {
        let audit = &mut entry["requests"][1];
        let body = STANDARD
            .decode(audit["body_b64"].as_str().unwrap())
            .unwrap();
        let mut row: Value = serde_json::from_slice(&body).unwrap();
        row["response_status"] = 201.into();
        audit["body_b64"] = STANDARD.encode(serde_json::to_vec(&row).unwrap()).into();
    });

    assert!(
        differences(&report)
            .contains("seq 2: body: differs beyond latency_ms in [\"response_status\"]")
    );
}

#[test]
fn an_unrecorded_background_upload_is_answered_599_and_fails_the_entry() {
    let report = run_tampered(Frontend::Blocking, "app.request.bearer_get", |entry| {
        entry["requests"].as_array_mut().unwrap().remove(1);
        entry["response_fixtures"].as_array_mut().unwrap().remove(1);
    });

    assert!(
        differences(&report)
            .contains("unexpected extra request POST /sdk/oauth/audit/api-call (answered 599)")
    );
}

#[test]
fn a_recorded_request_never_sent_fails_the_entry() {
    let report = run_tampered(Frontend::Async, "app.agents.get", |entry| {
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
fn a_different_error_class_fails_the_entry() {
    let report = run_tampered(Frontend::Blocking, "app.agents.get.not_found", |entry| {
        entry["outcome"]["exception"]["type"] = "KeyNotFoundError".into();
    });

    assert!(differences(&report).contains("outcome: expected KeyNotFoundError"));
}

#[test]
fn a_different_post_state_fails_the_entry() {
    let report = run_tampered(Frontend::Async, "app.request.actor_id_cached", |entry| {
        entry["post_state"]["actor_id"] = Value::Null;
    });

    assert!(differences(&report).contains("post_state.actor_id"));
}

#[test]
fn a_provider_credential_difference_fails_the_entry() {
    let report = run_tampered(Frontend::Blocking, "app.request.bearer_get", |entry| {
        entry["provider_requests"][0]["request"]["headers"]["authorization"] =
            "Bearer other".into();
    });

    assert!(differences(&report).contains("seq 1: header authorization: value differs"));
}

#[test]
fn browser_urls_are_checked() {
    let report = run_tampered(Frontend::Async, "app.connect", |entry| {
        entry["call"]["kwargs"]["open_browser"] = true.into();
    });

    assert!(differences(&report).contains("browser: expected [], opened [\"http://127.0.0.1:"));
}

#[test]
fn the_d3_oracle_must_reproduce_the_reference_signature() {
    let report = run_tampered(Frontend::Blocking, "app.request.sigv4", |entry| {
        entry["provider_requests"][0]["request"]["headers"]["authorization"] =
            "AWS4-HMAC-SHA256 x".into();
    });

    assert!(differences(&report).contains("oracle does not reproduce"));
    assert!(report.deviations.is_empty());
}

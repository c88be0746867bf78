//! The connect flow's wait (PROTOCOL.md §8.3, §16 D4): poll first, then at a fixed interval
//! until the session completes, fails or expires; a failed poll ends it at once; nothing is
//! sent after the deadline.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

mod support;

use std::time::Duration;

use alter_core::poll::AwaitConnect;
use alter_types::Secret;
use serde_json::{Value, json};
use support::*;

fn await_connect(timeout_ms: u64, interval_ms: u64) -> AwaitConnect {
    AwaitConnect::new(
        &engine(),
        Secret::new("cs_session_1"),
        Duration::from_millis(timeout_ms),
        Duration::from_millis(interval_ms),
    )
}

fn poll(answer: &Value) -> Answer {
    Answer::json(200, answer)
}

fn pending() -> Answer {
    poll(&json!({"status": "pending"}))
}

fn failed(code: Option<&str>, message: Option<&str>) -> Answer {
    poll(&json!({
        "status": "error",
        "error": {"error_code": code, "error_message": message},
    }))
}

#[test]
fn the_first_poll_is_immediate_and_completion_returns_the_grants() {
    let run = drive(
        await_connect(300_000, 2_000),
        &mut Clock::new(),
        [
            pending(),
            pending(),
            poll(&json!({
                "status": "completed",
                "grants": [
                    {"grant_id": GRANT, "provider_id": "google", "account_identifier": "jane@example.com", "scopes": ["email"]},
                    {"provider_id": "slack"},
                ],
            })),
        ],
    );

    assert_eq!(
        run.trace(),
        [
            "send POST /sdk/oauth/connect/session/poll",
            "wait 2000ms",
            "send POST /sdk/oauth/connect/session/poll",
            "wait 2000ms",
            "send POST /sdk/oauth/connect/session/poll",
        ]
    );
    assert_eq!(run.send_offsets_ms(), [0, 2_000, 4_000]);
    for request in run.sends() {
        assert_eq!(body_text(request), r#"{"session_token":"cs_session_1"}"#);
        assert!(verifies(request));
    }
    let grants = run.ok();
    assert_eq!(grants.len(), 2);
    assert_eq!(grants[0].grant_id, GRANT);
    assert_eq!(
        grants[0].account_identifier.as_deref(),
        Some("jane@example.com")
    );
    assert_eq!(grants[0].scopes, ["email"]);
    assert_eq!(grants[1].grant_id, "");
    assert_eq!(grants[1].provider_id, "slack");
}

#[test]
fn error_codes_map_to_the_connect_error_classes() {
    // (error_code, class, error_code in the details)
    let cases = [
        (
            Some("connect_denied"),
            "ConnectDeniedError",
            "connect_denied",
        ),
        (
            Some("connect_config_error"),
            "ConnectConfigError",
            "connect_config_error",
        ),
        (
            Some("invalid_redirect_uri"),
            "ConnectConfigError",
            "invalid_redirect_uri",
        ),
        (
            Some("invalid_client"),
            "ConnectConfigError",
            "invalid_client",
        ),
        (
            Some("unauthorized_client"),
            "ConnectConfigError",
            "unauthorized_client",
        ),
        (
            Some("provider_unavailable"),
            "ConnectFlowError",
            "provider_unavailable",
        ),
        (None, "ConnectFlowError", "unknown_error"),
    ];

    for (code, class, detail) in cases {
        let run = drive(
            await_connect(300_000, 2_000),
            &mut Clock::new(),
            [pending(), failed(code, Some("The user said no"))],
        );

        assert_eq!(run.kinds(), ["send", "wait", "send"], "{code:?}");
        let error = run.err();
        assert_eq!(error.class_name(), class, "{code:?}");
        assert!(error.is_connect_flow());
        assert_eq!(error.message(), "The user said no");
        assert_eq!(
            error.details().unwrap(),
            &json!({"error_code": detail}).as_object().unwrap().clone()
        );
    }
}

#[test]
fn an_error_without_details_still_names_a_code() {
    for answer in [
        poll(&json!({"status": "error"})),
        poll(&json!({"status": "error", "error": "text"})),
        failed(None, None),
    ] {
        let error = drive(await_connect(10_000, 1_000), &mut Clock::new(), [answer]).err();

        assert_eq!(error.class_name(), "ConnectFlowError");
        assert_eq!(error.details().unwrap()["error_code"], "unknown_error");
        assert!(!error.message().is_empty());
    }
}

#[test]
fn an_expired_session_is_a_flow_error() {
    let run = drive(
        await_connect(300_000, 2_000),
        &mut Clock::new(),
        [poll(&json!({"status": "expired"}))],
    );

    assert_eq!(run.kinds(), ["send"]);
    let error = run.err();
    assert_eq!(error.class_name(), "ConnectFlowError");
}

#[test]
fn an_unknown_status_is_a_flow_error_naming_it() {
    let error = drive(
        await_connect(300_000, 2_000),
        &mut Clock::new(),
        [poll(&json!({"status": "paused"}))],
    )
    .err();

    assert_eq!(error.class_name(), "ConnectFlowError");
    assert_eq!(error.details().unwrap()["status"], "paused");
}

#[test]
fn the_deadline_gives_a_connect_timeout_and_no_poll_after_it() {
    let timeout = Duration::from_secs(3);
    let run = drive_with(
        &mut await_connect(3_000, 2_000),
        &mut Clock::new(),
        [],
        Some(pending()),
    );

    assert_eq!(run.send_offsets_ms(), [0, 2_000]);
    assert_eq!(
        run.wait_lengths(),
        [Duration::from_secs(2), Duration::from_secs(1)]
    );
    for (_, until) in run.waits() {
        assert!(until <= run.base + timeout);
    }
    assert_eq!(run.finished_at, run.base + timeout);
    let error = run.err();
    assert_eq!(error.class_name(), "ConnectTimeoutError");
    assert_eq!(error.details().unwrap()["timeout"], 3.0);
}

#[test]
fn a_pending_answer_arriving_after_the_deadline_ends_the_wait() {
    let run = drive(
        await_connect(1_000, 2_000),
        &mut Clock::new(),
        [pending().after_ms(1_200)],
    );

    assert_eq!(run.kinds(), ["send"]);
    assert_eq!(run.err().class_name(), "ConnectTimeoutError");
}

#[test]
fn a_failed_poll_ends_the_wait_at_once() {
    // (answer, class)
    let cases = [
        (Answer::status(500), "BackendError"),
        (Answer::status(503), "BackendError"),
        (
            Answer::json(404, &json!({"error": "session_not_found"})),
            "GrantNotFoundError",
        ),
        (Answer::raw(200, b"<html>"), "BackendError"),
        (Answer::io(), "NetworkError"),
        (Answer::timeout(), "TimeoutError"),
        (Answer::connect(), "NetworkError"),
    ];

    for (answer, class) in cases {
        let run = drive(
            await_connect(300_000, 2_000),
            &mut Clock::new(),
            [pending(), answer],
        );

        assert_eq!(run.kinds(), ["send", "wait", "send"], "{class}");
        assert_eq!(run.err().class_name(), class);
    }
}

#[test]
fn the_interval_is_raised_to_100_ms() {
    let run = drive(
        await_connect(10_000, 0),
        &mut Clock::new(),
        [pending(), poll(&json!({"status": "completed"}))],
    );

    assert_eq!(run.wait_lengths(), [Duration::from_millis(100)]);
    assert!(run.ok().is_empty());
}

#[test]
fn a_zero_timeout_still_polls_once() {
    // Poll first (§8.3): the one poll starts at the deadline's instant, not after it.
    let run = drive(await_connect(0, 2_000), &mut Clock::new(), [pending()]);

    assert_eq!(run.kinds(), ["send"]);
    assert_eq!(run.err().class_name(), "ConnectTimeoutError");
}

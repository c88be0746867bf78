//! The IDP sign-in wait (PROTOCOL.md §8.4, §16 D4): wait 2 s before every poll, treat a
//! failed poll as "not yet", stop at a terminal status or at the deadline, and send nothing
//! after it.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

mod support;

use std::time::Duration;

use alter_core::poll::AwaitSignIn;
use alter_types::Secret;
use serde_json::{Value, json};
use support::*;

fn await_sign_in(timeout_ms: u64) -> AwaitSignIn {
    AwaitSignIn::new(
        &engine(),
        Secret::new("as_session_1"),
        Duration::from_millis(timeout_ms),
    )
}

fn poll(answer: &Value) -> Answer {
    Answer::json(200, answer)
}

fn pending() -> Answer {
    poll(&json!({"status": "pending"}))
}

fn completed() -> Answer {
    poll(&json!({"status": "completed", "user_token": "jwt-abc", "user_info": {"sub": "u_1"}}))
}

#[test]
fn it_waits_two_seconds_before_the_first_poll() {
    let run = drive(
        await_sign_in(300_000),
        &mut Clock::new(),
        [pending(), completed()],
    );

    assert_eq!(
        run.trace(),
        [
            "wait 2000ms",
            "send POST /sdk/auth/poll",
            "wait 2000ms",
            "send POST /sdk/auth/poll",
        ]
    );
    assert_eq!(run.send_offsets_ms(), [2_000, 4_000]);
    for request in run.sends() {
        assert_eq!(body_text(request), r#"{"session_token":"as_session_1"}"#);
        assert!(verifies(request));
    }
    let nonces: Vec<&str> = run
        .sends()
        .iter()
        .map(|request| header(request, "X-Alter-Nonce"))
        .collect();
    assert_eq!(nonces, [nonce(1), nonce(2)]);

    let result = run.ok();
    assert_eq!(result.user_token.expose_secret(), "jwt-abc");
    assert_eq!(result.user_info["sub"], "u_1");
}

#[test]
fn failed_polls_and_unknown_statuses_keep_it_polling() {
    let run = drive(
        await_sign_in(300_000),
        &mut Clock::new(),
        [
            Answer::status(500),
            Answer::json(404, &json!({"error": "session_not_found"})),
            Answer::status(503),
            Answer::io(),
            Answer::timeout(),
            Answer::connect(),
            Answer::raw(200, b"not json"),
            poll(&json!({"status": "verifying"})),
            completed(),
        ],
    );

    assert_eq!(
        run.send_offsets_ms(),
        [
            2_000, 4_000, 6_000, 8_000, 10_000, 12_000, 14_000, 16_000, 18_000
        ]
    );
    assert!(
        run.wait_lengths()
            .iter()
            .all(|w| *w == Duration::from_secs(2))
    );
    assert_eq!(run.unused_answers, 0);
    run.ok();
}

#[test]
fn user_info_defaults_to_an_empty_object() {
    let result = drive(
        await_sign_in(10_000),
        &mut Clock::new(),
        [poll(
            &json!({"status": "completed", "user_token": "jwt", "user_info": "n/a"}),
        )],
    )
    .ok();

    assert!(result.user_info.is_empty());
}

#[test]
fn completion_without_a_user_token_is_an_sdk_error() {
    for answer in [
        json!({"status": "completed"}),
        json!({"status": "completed", "user_token": ""}),
        json!({"status": "completed", "user_token": null, "user_info": {}}),
    ] {
        let run = drive(await_sign_in(10_000), &mut Clock::new(), [poll(&answer)]);

        assert_eq!(run.kinds(), ["wait", "send"], "{answer}");
        assert_eq!(run.err().class_name(), "AlterSDKError", "{answer}");
    }
}

#[test]
fn error_and_expired_are_sdk_errors() {
    // (answer, message)
    let cases = [
        (
            json!({"status": "error", "error_message": "IDP unreachable"}),
            "authentication failed: IDP unreachable",
        ),
        (
            json!({"status": "error"}),
            "authentication failed: unknown error",
        ),
        (json!({"status": "expired"}), "the sign-in session expired"),
    ];

    for (answer, message) in cases {
        let run = drive(await_sign_in(10_000), &mut Clock::new(), [poll(&answer)]);

        assert_eq!(run.kinds(), ["wait", "send"]);
        let error = run.err();
        assert_eq!(error.class_name(), "AlterSDKError");
        assert_eq!(error.message(), message);
    }
}

#[test]
fn the_deadline_gives_a_connect_timeout_and_no_poll_after_it() {
    let timeout = Duration::from_secs(5);
    let run = drive_with(
        &mut await_sign_in(5_000),
        &mut Clock::new(),
        [],
        Some(pending()),
    );

    assert_eq!(run.send_offsets_ms(), [2_000, 4_000]);
    assert_eq!(
        run.wait_lengths(),
        [
            Duration::from_secs(2),
            Duration::from_secs(2),
            Duration::from_secs(1)
        ]
    );
    for (_, until) in run.waits() {
        assert!(until <= run.base + timeout);
    }
    assert_eq!(run.finished_at, run.base + timeout);
    let error = run.err();
    assert_eq!(error.class_name(), "ConnectTimeoutError");
    assert_eq!(error.details().unwrap()["timeout"], 5.0);
}

#[test]
fn a_timeout_shorter_than_the_first_wait_sends_nothing() {
    for timeout_ms in [0, 1_000, 1_999] {
        let run = drive(await_sign_in(timeout_ms), &mut Clock::new(), []);

        assert!(run.sends().is_empty(), "{timeout_ms}");
        assert_eq!(run.err().class_name(), "ConnectTimeoutError");
    }
}

#[test]
fn a_slow_failed_poll_past_the_deadline_ends_the_wait() {
    let run = drive(
        await_sign_in(3_000),
        &mut Clock::new(),
        [Answer::timeout().after_ms(1_500)],
    );

    assert_eq!(run.kinds(), ["wait", "send"]);
    assert_eq!(run.err().class_name(), "ConnectTimeoutError");
}

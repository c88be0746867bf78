//! `await_approval` (PROTOCOL.md §7.2, §16 D4): the first poll is immediate, undecided
//! statuses keep it polling at a fixed interval, decisions become typed errors, transient
//! failures are polled through until an absolute deadline, and nothing is sent after it.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

mod support;

use std::error::Error as _;
use std::time::Duration;

use alter_core::Error;
use alter_core::poll::{AwaitApproval, MIN_POLL_INTERVAL};
use serde_json::json;
use support::*;

const STATUS_PATH: &str = "/sdk/approvals/c0ffee00-1234-4567-89ab-cdef01234567";
const RESULT_PATH: &str = "/sdk/approvals/c0ffee00-1234-4567-89ab-cdef01234567/result";

fn await_approval(timeout_ms: u64, interval_ms: u64) -> AwaitApproval {
    AwaitApproval::new(
        &engine(),
        APPROVAL,
        Duration::from_millis(timeout_ms),
        Duration::from_millis(interval_ms),
    )
    .unwrap()
}

fn status(status: &str) -> Answer {
    Answer::json(200, &approval_status(status, false, None))
}

/// The transient failure an `ApprovalTimeoutError` keeps; panics for anything else.
fn last_transient(error: &Error) -> &Error {
    match error {
        Error::ApprovalTimeout {
            last_transient: Some(last),
            ..
        } => last,
        other => panic!("expected an approval timeout with a cause, got {other}"),
    }
}

/// Asserts the deadline rules of §16 D4 on a finished run.
fn assert_within_deadline<T>(run: &Run<T>, timeout: Duration) {
    let deadline = run.base + timeout;
    for (_, until) in run.waits() {
        assert!(until <= deadline, "a wait ends past the deadline");
    }
    for step in &run.steps {
        if let Seen::Send { at, .. } = step {
            assert!(*at < deadline, "a poll started at or after the deadline");
        }
    }
}

#[test]
fn undecided_statuses_are_polled_until_the_result_is_fetched() {
    let mut clock = Clock::new();

    let run = drive(
        await_approval(300_000, 2_000),
        &mut clock,
        [
            status("pending"),
            status("approved"),
            status("executing"),
            status("executed"),
            Answer::json(200, &approval_status("executed", true, None)),
            Answer::json(200, &approval_result(Some(APPROVAL))),
        ],
    );

    let poll = format!("send GET {STATUS_PATH}");
    let wait = "wait 2000ms".to_owned();
    assert_eq!(
        run.trace(),
        [
            poll.clone(),
            wait.clone(),
            poll.clone(),
            wait.clone(),
            poll.clone(),
            wait.clone(),
            poll.clone(),
            wait,
            poll,
            format!("send GET {RESULT_PATH}"),
        ]
    );
    assert_eq!(
        run.send_offsets_ms(),
        [0, 2_000, 4_000, 6_000, 8_000, 8_000]
    );
    for request in run.sends() {
        assert!(verifies(request));
        assert_eq!(request.header("X-Alter-Actor-ID"), None);
    }
    let result = run.ok();
    assert_eq!(result.approval_id.unwrap().to_string(), APPROVAL);
    assert_eq!(result.status_code, 200);
    assert_eq!(result.body_bytes(), br#"{"ok":true}"#);
}

#[test]
fn an_unknown_status_keeps_polling() {
    let run = drive(
        await_approval(10_000, 1_000),
        &mut Clock::new(),
        [
            status("escalated"),
            Answer::json(200, &approval_status("executed", true, None)),
            Answer::json(200, &approval_result(Some(APPROVAL))),
        ],
    );

    assert_eq!(run.kinds(), ["send", "wait", "send", "send"]);
    run.ok();
}

#[test]
fn decisions_become_typed_errors_naming_the_approval() {
    // (status, decision_reason, class, message)
    let cases = [
        (
            "denied",
            Some("Not during the freeze"),
            "ApprovalDeniedError",
            "Not during the freeze",
        ),
        (
            "denied",
            None,
            "ApprovalDeniedError",
            "the approval was denied",
        ),
        (
            "expired",
            Some("ignored"),
            "ApprovalExpiredError",
            "the approval expired before it was decided",
        ),
        (
            "failed",
            Some("Provider answered 500"),
            "ApprovalExecutionFailedError",
            "Provider answered 500",
        ),
        (
            "failed",
            None,
            "ApprovalExecutionFailedError",
            "the approved call failed to execute",
        ),
    ];

    for (decision, reason, class, message) in cases {
        let run = drive(
            await_approval(300_000, 2_000),
            &mut Clock::new(),
            [
                status("pending"),
                Answer::json(200, &approval_status(decision, false, reason)),
            ],
        );

        assert_eq!(run.kinds(), ["send", "wait", "send"], "{decision}");
        let error = run.err();
        assert_eq!(error.class_name(), class);
        assert_eq!(error.message(), message);
        assert_eq!(error.details().unwrap()["approval_id"], APPROVAL);
        assert!(error.is_approval_error());
    }
}

#[test]
fn a_decision_on_the_result_endpoint_is_typed_too() {
    let run = drive(
        await_approval(300_000, 2_000),
        &mut Clock::new(),
        [
            Answer::json(200, &approval_status("executed", true, None)),
            Answer::json(
                409,
                &json!({"detail": {"error": "approval_execution_failed", "message": "boom"}}),
            ),
        ],
    );

    assert_eq!(run.kinds(), ["send", "send"]);
    let error = run.err();
    assert_eq!(error.class_name(), "ApprovalExecutionFailedError");
    assert_eq!(error.message(), "boom");
}

#[test]
fn transient_failures_are_polled_through_until_the_deadline() {
    let timeout = Duration::from_secs(5);
    let mut clock = Clock::new();

    let run = drive_with(
        &mut await_approval(5_000, 2_000),
        &mut clock,
        [],
        Some(Answer::json(503, &json!({"error": "unavailable"}))),
    );

    assert_eq!(run.send_offsets_ms(), [0, 2_000, 4_000]);
    assert_eq!(
        run.wait_lengths(),
        [
            Duration::from_secs(2),
            Duration::from_secs(2),
            Duration::from_secs(1)
        ]
    );
    assert_within_deadline(&run, timeout);
    assert_eq!(run.finished_at, run.base + timeout);

    let error = run.err();
    assert_eq!(error.class_name(), "ApprovalTimeoutError");
    assert_eq!(error.details().unwrap()["approval_id"], APPROVAL);
    assert!(error.message().contains("gateway status 503"), "{error}");
    let source = error.source().expect("the last transient failure");
    assert_eq!(
        source.to_string(),
        format!("backend error (status 503): GET {STATUS_PATH} returned 503")
    );
    assert_eq!(last_transient(&error).status(), Some(503));
}

#[test]
fn every_kind_of_transient_failure_is_polled_through() {
    // (failure, class of the cause, words of the timeout message)
    let cases = [
        (Answer::status(502), "BackendError", "gateway status 502"),
        (Answer::status(504), "BackendError", "gateway status 504"),
        (Answer::connect(), "NetworkError", "NetworkError"),
        (Answer::io(), "NetworkError", "NetworkError"),
        (Answer::timeout(), "TimeoutError", "TimeoutError"),
    ];

    for (failure, class, words) in cases {
        let run = drive_with(
            &mut await_approval(3_000, 1_000),
            &mut Clock::new(),
            [],
            Some(failure),
        );

        assert_eq!(run.send_offsets_ms(), [0, 1_000, 2_000], "{class}");
        let error = run.err();
        assert_eq!(error.class_name(), "ApprovalTimeoutError");
        assert!(error.message().contains(words), "{error}");
        assert_eq!(last_transient(&error).class_name(), class);
    }
}

#[test]
fn a_success_clears_the_last_transient_failure() {
    let run = drive(
        await_approval(3_000, 1_000),
        &mut Clock::new(),
        [Answer::status(503), status("pending"), status("pending")],
    );

    let error = run.err();
    assert_eq!(error.class_name(), "ApprovalTimeoutError");
    assert!(error.source().is_none());
    assert!(!error.message().contains("503"), "{error}");
}

#[test]
fn a_transient_failure_fetching_the_result_is_polled_through() {
    let run = drive(
        await_approval(300_000, 2_000),
        &mut Clock::new(),
        [
            Answer::json(200, &approval_status("executed", true, None)),
            Answer::status(503),
            Answer::io(),
            Answer::json(200, &approval_result(Some(APPROVAL))),
        ],
    );

    assert_eq!(
        run.trace(),
        [
            format!("send GET {STATUS_PATH}"),
            format!("send GET {RESULT_PATH}"),
            "wait 2000ms".to_owned(),
            format!("send GET {RESULT_PATH}"),
            "wait 2000ms".to_owned(),
            format!("send GET {RESULT_PATH}"),
        ]
    );
    run.ok();
}

#[test]
fn failures_that_are_not_transient_end_the_wait_at_once() {
    for code in [400, 401, 403, 404, 500] {
        let run = drive(
            await_approval(300_000, 2_000),
            &mut Clock::new(),
            [
                status("pending"),
                Answer::json(code, &json!({"error": "nope"})),
            ],
        );

        assert_eq!(run.kinds(), ["send", "wait", "send"], "{code}");
        let error = run.err();
        assert_eq!(error.class_name(), "BackendError", "{code}");
        assert_eq!(error.status(), Some(code));
        assert_eq!(error.code(), Some("nope"));
    }

    let malformed = drive(
        await_approval(300_000, 2_000),
        &mut Clock::new(),
        [Answer::raw(200, b"{\"status\":")],
    );
    assert_eq!(malformed.kinds(), ["send"]);
    assert_eq!(malformed.err().status(), Some(200));
}

#[test]
fn a_rate_limited_poll_waits_out_retry_after_and_polls_again() {
    let limited = || Answer::json(429, &json!({"error": "rate_limited"}));
    let run = drive(
        await_approval(300_000, 2_000),
        &mut Clock::new(),
        [
            limited().header("Retry-After", "7"),
            limited(),
            limited().header("Retry-After", "soon"),
            limited().header("Retry-After", "0"),
            Answer::json(200, &approval_status("executed", true, None)),
            Answer::json(200, &approval_result(Some(APPROVAL))),
        ],
    );

    // Retry-After lengthens the wait; no header, a malformed one or a shorter one leave
    // the poll interval.
    assert_eq!(
        run.wait_lengths(),
        [
            Duration::from_secs(7),
            Duration::from_secs(2),
            Duration::from_secs(2),
            Duration::from_secs(2),
        ]
    );
    assert_eq!(run.sends().len(), 6);
    assert_eq!(run.ok().approval_id.unwrap().to_string(), APPROVAL);
}

#[test]
fn retry_after_is_capped_and_never_waits_past_the_deadline() {
    let limited = |after: &str| {
        Answer::json(429, &json!({"error": "rate_limited"})).header("Retry-After", after)
    };

    let capped = drive(
        await_approval(300_000, 2_000),
        &mut Clock::new(),
        [limited("86400"), status("denied")],
    );
    assert_eq!(capped.wait_lengths(), [Duration::from_secs(30)]);
    assert_eq!(capped.err().class_name(), "ApprovalDeniedError");

    let run = drive_with(
        &mut await_approval(10_000, 2_000),
        &mut Clock::new(),
        [],
        Some(limited("20")),
    );
    assert_eq!(run.wait_lengths(), [Duration::from_secs(10)]);
    assert_within_deadline(&run, Duration::from_secs(10));
    let error = run.err();
    assert_eq!(error.class_name(), "ApprovalTimeoutError");
    assert!(
        error.message().contains("rate limited (status 429)"),
        "{error}"
    );
    assert_eq!(last_transient(&error).status(), Some(429));
}

#[test]
fn a_poll_never_waits_longer_than_the_clients_timeout_nor_past_the_deadline() {
    let exchange_timeouts = |timeout_ms: u64, config_timeout: Duration| {
        let engine = engine_with(|config| config.timeout = config_timeout);
        let approval = AwaitApproval::new(
            &engine,
            APPROVAL,
            Duration::from_millis(timeout_ms),
            Duration::from_secs(2),
        )
        .unwrap();
        let run = drive(
            approval,
            &mut Clock::new(),
            [
                status("pending"),
                Answer::json(200, &approval_status("executed", true, None)),
                Answer::json(200, &approval_result(Some(APPROVAL))),
            ],
        );
        run.sends().iter().map(|r| r.timeout).collect::<Vec<_>>()
    };

    // A far deadline: each exchange keeps the client's 300 ms timeout.
    let short = Duration::from_millis(300);
    assert_eq!(exchange_timeouts(300_000, short), [Some(short); 3]);
    // A near deadline cuts the status polls, not the result fetch.
    let near = exchange_timeouts(3_000, Duration::from_secs(30));
    assert_eq!(
        near,
        [
            Some(Duration::from_secs(3)),
            Some(Duration::from_secs(1)),
            Some(Duration::from_secs(30)),
        ]
    );
}

#[test]
fn the_interval_is_raised_to_100_ms() {
    for interval_ms in [0, 1, 99] {
        let run = drive(
            await_approval(10_000, interval_ms),
            &mut Clock::new(),
            [status("pending"), status("denied")],
        );

        assert_eq!(run.wait_lengths(), [MIN_POLL_INTERVAL], "{interval_ms}");
    }
    assert_eq!(MIN_POLL_INTERVAL, Duration::from_millis(100));
}

#[test]
fn the_last_wait_is_cut_to_the_deadline_and_nothing_is_sent_after_it() {
    let run = drive_with(
        &mut await_approval(2_500, 2_000),
        &mut Clock::new(),
        [],
        Some(status("pending")),
    );

    assert_eq!(run.send_offsets_ms(), [0, 2_000]);
    assert_eq!(
        run.wait_lengths(),
        [Duration::from_millis(2_000), Duration::from_millis(500)]
    );
    assert_within_deadline(&run, Duration::from_millis(2_500));
    let error = run.err();
    assert_eq!(error.class_name(), "ApprovalTimeoutError");
    assert!(error.message().contains("2.5s"), "{error}");
}

#[test]
fn an_answer_arriving_after_the_deadline_ends_the_wait_without_another_poll() {
    let run = drive(
        await_approval(1_000, 200),
        &mut Clock::new(),
        [status("pending").after_ms(1_500)],
    );

    assert_eq!(run.kinds(), ["send"]);
    assert_eq!(run.err().class_name(), "ApprovalTimeoutError");
}

#[test]
fn a_zero_timeout_times_out_without_any_request() {
    let run = drive(await_approval(0, 2_000), &mut Clock::new(), []);

    assert!(run.steps.is_empty());
    let error = run.err();
    assert_eq!(error.class_name(), "ApprovalTimeoutError");
    assert!(error.source().is_none());
}

#[test]
fn each_poll_is_signed_afresh() {
    let run = drive(
        await_approval(10_000, 2_000),
        &mut Clock::new(),
        [status("pending"), status("pending"), status("denied")],
    );

    let nonces: Vec<&str> = run
        .sends()
        .iter()
        .map(|request| header(request, "X-Alter-Nonce"))
        .collect();
    assert_eq!(nonces, [nonce(1), nonce(2), nonce(3)]);
}

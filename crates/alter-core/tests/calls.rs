//! Single backend calls and their retry policy (PROTOCOL.md §9, §16 D8): reads are retried
//! on transient answers within their budget, anything that may have executed is never sent
//! twice, and the final error keeps what the backend said.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use alter_core::Engine;
use alter_core::api::{CreateAgent, ListGrants, ProxyRequest};
use alter_core::retry::RetryConfig;
use serde_json::{Value, json};
use support::*;

/// The budget of the default retry policy.
const BUDGET: Duration = Duration::from_secs(30);

/// A named call, how to build it, and a success body it accepts.
type CallCase = (&'static str, fn(&Arc<Engine>) -> AnyOp, Value);

/// Reads that are retried.
fn safe_calls() -> Vec<CallCase> {
    vec![
        (
            "scopes_list",
            |engine| erase(engine.scopes_list()),
            scope_catalog(),
        ),
        (
            "get_approval_status",
            |engine| erase(engine.get_approval_status(APPROVAL).unwrap()),
            approval_status("pending", false, None),
        ),
        (
            "list_grants",
            |engine| erase(engine.list_grants(ListGrants::default(), None).unwrap()),
            json!({"grants": [], "total": 0, "limit": 100, "offset": 0, "has_more": false}),
        ),
        (
            "agents_create with an idempotency key",
            |engine| {
                let mut params = CreateAgent::new("ops-bot");
                params.idempotency_key = Some("idem-1".to_owned());
                erase(engine.agents_create(params).unwrap())
            },
            {
                let mut agent = agent_info("3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c", "ops-bot");
                agent["api_key"] = json!("alter_ak_secret");
                agent["key_id"] = json!("7a1e2b3c-4d5f-4a6b-8c9d-0e1f2a3b4c5d");
                agent
            },
        ),
    ]
}

/// Calls that may act twice if re-sent.
fn unsafe_calls() -> Vec<CallCase> {
    vec![
        (
            "proxy_request",
            |engine| {
                let request = ProxyRequest::new("POST", "https://api.example.com/v1/x", GRANT);
                erase(engine.proxy_request(request).unwrap())
            },
            approval_result(None),
        ),
        (
            "agents_create without an idempotency key",
            |engine| erase(engine.agents_create(CreateAgent::new("ops-bot")).unwrap()),
            json!({}),
        ),
        (
            "keys_rotate",
            |engine| erase(engine.keys_rotate("key-1", 7).unwrap()),
            json!({}),
        ),
        (
            "revoke_grant",
            |engine| erase(engine.revoke_grant(GRANT, Some("done"), None).unwrap()),
            json!({
                "success": true, "message": "revoked", "grant_id": GRANT,
                "revoked_at": "2026-01-01T00:00:00Z"
            }),
        ),
        (
            "agents_mint_key",
            |engine| erase(engine.agents_mint_key("agent-1").unwrap()),
            json!({}),
        ),
    ]
}

/// The error body every failing answer carries.
fn error_body() -> Value {
    json!({"error": "upstream_unavailable", "message": "The vault is busy"})
}

#[test]
fn reads_are_retried_after_transient_statuses_within_the_budget() {
    for (name, call, success) in safe_calls() {
        for transient in [429, 502, 503, 504] {
            let mut clock = Clock::new();

            let run = drive_with(
                &mut *call(&engine()),
                &mut clock,
                [
                    Answer::json(transient, &error_body()),
                    Answer::json(200, &success),
                ],
                None,
            );

            let case = format!("{name} after {transient}");
            assert_eq!(run.kinds(), ["send", "wait", "send"], "{case}");
            let delay = run.wait_lengths()[0];
            assert!(
                delay >= Duration::from_millis(100) && delay < Duration::from_millis(200),
                "{case}: first backoff {delay:?}"
            );
            for (_, until) in run.waits() {
                assert!(clock.since_base(until) <= BUDGET, "{case}");
            }
            assert_eq!(run.unused_answers, 0, "{case}");
            run.ok();
        }
    }
}

#[test]
fn reads_are_retried_after_every_transport_failure() {
    for (name, call, success) in safe_calls() {
        for failure in [Answer::connect(), Answer::timeout(), Answer::io()] {
            let run = drive_with(
                &mut *call(&engine()),
                &mut Clock::new(),
                [failure.clone(), Answer::json(200, &success)],
                None,
            );

            assert_eq!(run.kinds(), ["send", "wait", "send"], "{name} {failure:?}");
            run.ok();
        }
    }
}

#[test]
fn retry_after_replaces_the_backoff() {
    // (status, Retry-After, expected wait)
    let cases = [
        (429, "3", Duration::from_secs(3)),
        (503, "1", Duration::from_secs(1)),
        (429, "0", Duration::ZERO),
        (503, "Thu, 01 Jan 2026 00:00:05 GMT", Duration::from_secs(5)),
        (429, "Wed, 31 Dec 2025 23:00:00 GMT", Duration::ZERO),
        (429, "45", Duration::from_secs(30)),
    ];

    for (code, retry_after, expected) in cases {
        let run = drive(
            engine().scopes_list(),
            &mut Clock::new(),
            [
                Answer::status(code).header("Retry-After", retry_after),
                Answer::json(200, &scope_catalog()),
            ],
        );

        assert_eq!(run.wait_lengths(), [expected], "{code} {retry_after}");
        run.ok();
    }
}

#[test]
fn a_malformed_retry_after_falls_back_to_the_backoff() {
    let run = drive(
        engine().scopes_list(),
        &mut Clock::new(),
        [
            Answer::status(429).header("Retry-After", "soon"),
            Answer::json(200, &scope_catalog()),
        ],
    );

    let delay = run.wait_lengths()[0];
    assert!(delay >= Duration::from_millis(100) && delay < Duration::from_millis(200));
}

#[test]
fn a_retry_that_would_end_past_the_budget_is_not_scheduled() {
    let mut clock = Clock::new();

    // The 429 arrives 1 s after the start; the 30 s it asks for would end at 31 s.
    let run = drive(
        engine().scopes_list(),
        &mut clock,
        [Answer::json(429, &error_body())
            .header("Retry-After", "30")
            .after_ms(1_000)],
    );

    assert_eq!(run.kinds(), ["send"]);
    let error = run.err();
    assert_eq!(error.status(), Some(429));
    assert_eq!(error.class_name(), "BackendError");
}

#[test]
fn a_shorter_budget_cuts_retries_short() {
    let engine = engine_with(|config| {
        config.retry = RetryConfig {
            total_budget: Duration::from_millis(250),
            ..RetryConfig::default()
        };
    });

    let run = drive(
        engine.scopes_list(),
        &mut Clock::new(),
        [
            Answer::status(503).after_ms(50),
            Answer::status(503).after_ms(150),
        ],
    );

    assert_eq!(run.kinds(), ["send", "wait", "send"]);
    for (_, until) in run.waits() {
        assert!(until <= run.base + Duration::from_millis(250));
    }
    assert_eq!(run.err().status(), Some(503));
}

#[test]
fn reads_give_up_after_the_last_attempt_keeping_the_backend_error() {
    let run = drive(
        engine().scopes_list(),
        &mut Clock::new(),
        [
            Answer::json(503, &error_body()),
            Answer::json(503, &error_body()),
            Answer::json(503, &error_body()),
        ],
    );

    assert_eq!(run.kinds(), ["send", "wait", "send", "wait", "send"]);
    let error = run.err();
    assert_eq!(error.class_name(), "BackendError");
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.code(), Some("upstream_unavailable"));
    assert_eq!(error.message(), "The vault is busy");
    assert!(error.may_have_reached_server());
    assert!(error.is_transient());
}

#[test]
fn reads_give_up_after_the_last_transport_failure() {
    let cases = [
        (Answer::connect(), "NetworkError", false),
        (Answer::timeout(), "TimeoutError", true),
        (Answer::io(), "NetworkError", true),
    ];

    for (failure, class, reached) in cases {
        let run = drive(
            engine().scopes_list(),
            &mut Clock::new(),
            [failure.clone(), failure.clone(), failure],
        );

        assert_eq!(run.sends().len(), 3, "{class}");
        let error = run.err();
        assert_eq!(error.class_name(), class);
        assert_eq!(error.may_have_reached_server(), reached, "{class}");
        assert_eq!(error.details().unwrap()["base_url"], BASE_URL);
    }
}

#[test]
fn answers_that_are_not_transient_are_not_retried() {
    for code in [400, 401, 403, 404, 409, 410, 422, 500, 501] {
        let run = drive(
            engine().scopes_list(),
            &mut Clock::new(),
            [Answer::json(code, &error_body())],
        );

        assert_eq!(run.kinds(), ["send"], "{code}");
        assert_eq!(run.err().status(), Some(code));
    }
}

#[test]
fn calls_that_may_act_twice_are_never_resent_after_an_answer() {
    for (name, call, _) in unsafe_calls() {
        for code in [429, 500, 502, 503, 504] {
            let run = drive_with(
                &mut *call(&engine()),
                &mut Clock::new(),
                [Answer::json(code, &error_body()).header("Retry-After", "1")],
                None,
            );

            let case = format!("{name} after {code}");
            assert_eq!(run.kinds(), ["send"], "{case}");
            let error = run.err();
            assert_eq!(error.status(), Some(code), "{case}");
            assert!(error.message().contains("The vault is busy"), "{case}");
            assert!(error.may_have_reached_server(), "{case}");
        }
    }
}

#[test]
fn calls_that_may_act_twice_are_never_resent_after_a_timeout_or_a_broken_connection() {
    let cases = [
        (Answer::timeout(), "TimeoutError"),
        (Answer::io(), "NetworkError"),
    ];

    for (name, call, _) in unsafe_calls() {
        for (failure, class) in &cases {
            let run = drive_with(
                &mut *call(&engine()),
                &mut Clock::new(),
                [failure.clone()],
                None,
            );

            assert_eq!(run.kinds(), ["send"], "{name} {class}");
            let error = run.err();
            assert_eq!(error.class_name(), *class, "{name}");
            assert!(error.may_have_reached_server(), "{name} {class}");
        }
    }
}

#[test]
fn calls_that_may_act_twice_are_resent_after_a_connect_failure() {
    for (name, call, success) in unsafe_calls() {
        let run = drive_with(
            &mut *call(&engine()),
            &mut Clock::new(),
            [Answer::connect(), Answer::json(200, &success)],
            None,
        );

        assert_eq!(run.kinds(), ["send", "wait", "send"], "{name}");
        let sent = run.sends();
        assert_eq!(sent[0].body, sent[1].body, "{name}: the same request");
        assert_ne!(
            header(sent[0], "X-Alter-Nonce"),
            header(sent[1], "X-Alter-Nonce"),
            "{name}: signed afresh"
        );
    }
}

#[test]
fn connect_failures_that_never_end_say_nothing_was_sent() {
    for (name, call, _) in unsafe_calls() {
        let run = drive_with(
            &mut *call(&engine()),
            &mut Clock::new(),
            [Answer::connect(), Answer::connect(), Answer::connect()],
            None,
        );

        assert_eq!(run.sends().len(), 3, "{name}");
        let error = run.err();
        assert_eq!(error.class_name(), "NetworkError", "{name}");
        assert!(!error.may_have_reached_server(), "{name}");
    }
}

#[test]
fn a_connect_then_a_timeout_stops_an_unsafe_call() {
    let run = drive(
        Unit(engine().keys_rotate("key-1", 7).unwrap()),
        &mut Clock::new(),
        [Answer::connect(), Answer::timeout()],
    );

    assert_eq!(run.kinds(), ["send", "wait", "send"]);
    let error = run.err();
    assert!(error.is_timeout());
    assert!(error.may_have_reached_server());
}

#[test]
fn the_idempotency_key_travels_on_every_attempt() {
    let mut params = CreateAgent::new("ops-bot");
    params.idempotency_key = Some("idem-1".to_owned());

    let run = drive(
        Unit(engine().agents_create(params).unwrap()),
        &mut Clock::new(),
        [
            Answer::status(503),
            Answer::status(503),
            Answer::status(503),
        ],
    );

    let sent = run.sends();
    assert_eq!(sent.len(), 3);
    for request in sent {
        assert_eq!(header(request, "Idempotency-Key"), "idem-1");
    }
}

#[test]
fn a_disabled_retry_policy_sends_once() {
    let engine = engine_with(|config| {
        config.retry = RetryConfig {
            max_attempts: 1,
            ..RetryConfig::default()
        };
    });

    let run = drive(
        engine.scopes_list(),
        &mut Clock::new(),
        [Answer::status(503)],
    );

    assert_eq!(run.kinds(), ["send"]);
}

#[test]
fn the_retry_report_counts_each_attempt_once() {
    // (answers, total attempts, successful attempt, error types)
    let cases: [(Vec<Answer>, u32, u32, Vec<&str>); 4] = [
        (vec![Answer::json(200, &scope_catalog())], 1, 1, vec![]),
        (vec![Answer::status(404)], 1, 0, vec!["http_404"]),
        (
            vec![Answer::status(503), Answer::json(200, &scope_catalog())],
            2,
            2,
            vec!["http_503"],
        ),
        (
            vec![
                Answer::timeout(),
                Answer::status(429),
                Answer::json(200, &scope_catalog()),
            ],
            3,
            3,
            vec!["timeout", "http_429"],
        ),
    ];

    for (answers, total, successful, error_types) in cases {
        let mut call = engine().scopes_list();
        let run = drive_with(&mut call, &mut Clock::new(), answers, None);
        let report = call.retry_report().expect("retries are enabled");

        let types: Vec<&str> = report
            .errors
            .iter()
            .map(|e| e.error_type.as_str())
            .collect();
        assert_eq!(
            (report.total_attempts, report.successful_attempt),
            (total, successful),
            "{:?}",
            run.trace()
        );
        assert_eq!(types, error_types);
    }
}

#[test]
fn success_statuses_below_400_are_not_retried() {
    for code in [200, 201, 204, 301] {
        let run = drive(
            engine().revoke_delegation(GRANT, None).unwrap(),
            &mut Clock::new(),
            [Answer::status(code)],
        );

        assert_eq!(run.kinds(), ["send"], "{code}");
        run.ok();
    }
}

#[test]
fn may_have_reached_server_tells_what_could_have_executed() {
    let pre_io = rejection(engine().keys_rotate("", 7));
    let refused = drive(
        Unit(engine().keys_rotate("k", 7).unwrap()),
        &mut Clock::new(),
        [Answer::connect(), Answer::connect(), Answer::connect()],
    )
    .err();
    let timed_out = drive(
        Unit(engine().keys_rotate("k", 7).unwrap()),
        &mut Clock::new(),
        [Answer::timeout()],
    )
    .err();
    let reset = drive(
        Unit(engine().keys_rotate("k", 7).unwrap()),
        &mut Clock::new(),
        [Answer::io()],
    )
    .err();
    let answered = drive(
        Unit(engine().keys_rotate("k", 7).unwrap()),
        &mut Clock::new(),
        [Answer::status(500)],
    )
    .err();
    let malformed = drive(
        Unit(engine().keys_rotate("k", 7).unwrap()),
        &mut Clock::new(),
        [Answer::raw(200, b"<html>")],
    )
    .err();

    let cases = [
        (pre_io, false),
        (refused, false),
        (timed_out, true),
        (reset, true),
        (answered, true),
        (malformed, true),
    ];
    for (error, reached) in cases {
        assert_eq!(error.may_have_reached_server(), reached, "{error}");
    }
}

#[test]
fn a_malformed_success_body_is_a_backend_error_and_is_not_retried() {
    let run = drive(
        engine().scopes_list(),
        &mut Clock::new(),
        [Answer::raw(200, b"not json")],
    );

    assert_eq!(run.kinds(), ["send"]);
    let error = run.err();
    assert_eq!(error.class_name(), "BackendError");
    assert_eq!(error.status(), Some(200));
}

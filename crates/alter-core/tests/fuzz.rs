//! Property tests: whatever the backend or a provider answers (any status, any bytes, any
//! `Retry-After`, any transport failure, at any latency), no operation panics, every
//! operation finishes, and the retry and deadline bounds hold.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

mod support;

use std::time::Duration;

use alter_core::api::{ProxyRequest, RetrieveRequest};
use alter_core::poll::{AwaitApproval, AwaitConnect, AwaitSignIn};
use alter_core::{Target, TransportErrorKind};
use alter_types::Secret;
use proptest::prelude::*;
use serde_json::{Value, json};
use support::*;

fn transport_kind() -> impl Strategy<Value = TransportErrorKind> {
    prop::sample::select(vec![
        TransportErrorKind::Connect,
        TransportErrorKind::Timeout,
        TransportErrorKind::Io,
    ])
}

/// Short strings, control characters and non-ASCII included.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,16}",
        "[a-zA-Z0-9 _-]{0,12}",
        Just("tok\r\nX-Evil: 1".to_owned()),
        Just(String::new()),
    ]
}

/// Any JSON value, shallow.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// Bodies: raw bytes, arbitrary JSON, or objects with the fields the engine reads.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let field_names = prop::sample::select(vec![
        "status",
        "error",
        "message",
        "detail",
        "has_result",
        "approval_id",
        "expires_at",
        "grants",
        "user_token",
        "sub",
        "items",
        "access_token",
        "grant_id",
        "retry_info",
    ]);
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..128),
        json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        prop::collection::vec((field_names, json_value()), 0..6).prop_map(|pairs| {
            let object: serde_json::Map<String, Value> =
                pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            serde_json::to_vec(&Value::Object(object)).unwrap()
        }),
    ]
}

fn retry_after() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        "[0-9]{1,25}",
        Just("Thu, 01 Jan 2026 00:00:05 GMT".to_owned()),
        ".{0,12}",
    ])
}

/// Any answer to a request.
fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        4 => (any::<u16>(), body(), retry_after(), 0u64..5_000).prop_map(|(code, body, retry, latency)| {
            let mut answer = Answer::raw(code, &body).after_ms(latency);
            if let Some(value) = retry {
                answer = answer.header("Retry-After", &value);
            }
            answer.header("X-Alter-Actor-ID", "6b7c8d9e-0f1a-4b2c-8d3e-4f5a6b7c8d9e")
        }),
        1 => (transport_kind(), 0u64..5_000)
            .prop_map(|(kind, latency)| Answer::transport(kind).after_ms(latency)),
    ]
}

/// Token answers close to valid ones, with every credential field drawn at random.
fn token_answer() -> impl Strategy<Value = Answer> {
    let format = prop_oneof![
        Just(Value::Null),
        Just(json!("AWS4-HMAC-SHA256")),
        Just(json!("Bearer {token}")),
        text().prop_map(Value::from),
    ];
    let header_name = prop_oneof![
        Just(Value::Null),
        Just(json!("X-API-Key")),
        text().prop_map(Value::from),
    ];
    let injection = (
        prop::sample::select(vec!["header", "query_param", "cookie"]),
        text(),
        prop_oneof![
            Just("token".to_owned()),
            Just("additional_credentials.secret_key".to_owned()),
            text()
        ],
    )
        .prop_map(
            |(target, key, source)| json!({"target": target, "key": key, "value_source": source}),
        );
    (
        text(),
        prop_oneof![Just(json!(GRANT)), json_value()],
        header_name,
        format,
        prop::option::of(prop::collection::vec(
            (
                prop::sample::select(vec!["secret_key", "region", "service", "x"]),
                text(),
            ),
            0..4,
        )),
        prop::option::of(prop::collection::vec(injection, 0..4)),
        any::<bool>(),
        prop_oneof![Just(Value::Null), json_value()],
    )
        .prop_map(
            |(access_token, grant_id, header, format, creds, injections, mismatch, retry_info)| {
                let creds = creds.map(|pairs| {
                    Value::Object(
                        pairs
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), Value::from(v)))
                            .collect(),
                    )
                });
                Answer::json(
                    200,
                    &json!({
                        "access_token": access_token,
                        "grant_id": grant_id,
                        "provider_id": "acme",
                        "injection_header": header,
                        "injection_format": format,
                        "additional_credentials": creds,
                        "additional_injections": injections,
                        "scope_mismatch": mismatch,
                        "retry_info": retry_info,
                    }),
                )
            },
        )
}

/// Poll answers: valid shapes with random statuses, or anything at all.
fn poll_answer() -> impl Strategy<Value = Answer> {
    let status = prop::sample::select(vec![
        "pending",
        "approved",
        "executing",
        "executed",
        "denied",
        "expired",
        "failed",
        "completed",
        "error",
        "weird",
    ]);
    prop_oneof![
        2 => (status, any::<bool>(), 0u64..3_000).prop_map(|(status, has_result, latency)| {
            let mut body = approval_status(status, has_result, Some("why"));
            body["user_token"] = json!("jwt");
            body["grants"] = json!([{"provider_id": "p"}]);
            body["error"] = json!({"error_code": "connect_denied"});
            Answer::json(200, &body).after_ms(latency)
        }),
        1 => Just(Answer::json(200, &approval_result(Some(APPROVAL)))),
        2 => answer(),
    ]
}

/// Asserts what holds for every single backend call with the default retry policy: one to
/// three attempts, each after a wait that ends within the 30 s budget, each signed.
fn assert_call_bounds<T>(run: &Run<T>) {
    let sent = run.sends();
    assert!(!sent.is_empty() && sent.len() <= 3, "{:?}", run.trace());
    assert_eq!(sent.len(), run.waits().len() + 1, "{:?}", run.trace());
    for (_, until) in run.waits() {
        assert!(until <= run.base + Duration::from_secs(30));
    }
    for request in &sent {
        assert!(verifies(request));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn single_calls_never_panic(answers in prop::collection::vec(answer(), 0..4)) {
        let fallback = Some(Answer::connect());

        let run = drive_with(&mut engine().scopes_list(), &mut Clock::new(), answers.clone(), fallback.clone());
        assert_call_bounds(&run);

        let run = drive_with(
            &mut engine().get_approval_status(APPROVAL).unwrap(),
            &mut Clock::new(),
            answers.clone(),
            fallback.clone(),
        );
        assert_call_bounds(&run);

        let engine = engine();
        let proxy = ProxyRequest::new("POST", "https://api.example.com/x", GRANT);
        let run = drive_with(&mut engine.proxy_request(proxy).unwrap(), &mut Clock::new(), answers.clone(), fallback.clone());
        assert_call_bounds(&run);
        // The actor id of a proxy answer is never cached.
        prop_assert_eq!(engine.actor_id(), None);

        let mut verify = engine.verify_user_token("jwt").unwrap();
        let run = drive_with(&mut verify, &mut Clock::new(), answers, fallback);
        prop_assert!(run.result.is_ok(), "verify_user_token never fails");
    }

    #[test]
    fn unsafe_calls_retry_only_after_connect_failures(answers in prop::collection::vec(answer(), 1..4)) {
        let proxy = ProxyRequest::new("POST", "https://api.example.com/x", GRANT);
        let run = drive_with(
            &mut engine().proxy_request(proxy).unwrap(),
            &mut Clock::new(),
            answers.clone(),
            Some(Answer::connect()),
        );

        let retries = run.waits().len();
        for answer in answers.iter().take(retries) {
            let connect = matches!(
                &answer.outcome,
                Outcome::Transport(error) if error.kind == TransportErrorKind::Connect
            );
            prop_assert!(connect, "retried after {answer:?}");
        }
    }

    #[test]
    fn retrieve_never_panics(
        token in prop_oneof![3 => token_answer(), 1 => answer()],
        rest in prop::collection::vec(answer(), 0..3),
        raw in any::<bool>(),
        json_body in any::<bool>(),
        query in prop::collection::vec((text(), json_value()), 0..3),
    ) {
        let engine = engine();
        let mut request = RetrieveRequest::grant("POST", "https://dynamodb.us-east-1.amazonaws.com/v1/items?a=1", GRANT);
        request.raw = raw;
        request.query_params = query;
        if json_body {
            request.json = Some(json!({"k": "v"}));
        }
        let mut answers = vec![token];
        answers.extend(rest);

        let run = drive_with(
            &mut engine.request(request, Some(&Secret::new("jwt"))).unwrap(),
            &mut Clock::new(),
            answers,
            Some(Answer::connect()),
        );

        let provider = run.sends_to(Target::Provider);
        prop_assert!(provider.len() <= 1);
        for request in provider {
            for (name, value) in &request.headers {
                prop_assert!(!name.to_ascii_lowercase().starts_with("x-alter-"));
                prop_assert!(!value.contains(API_KEY));
                prop_assert!(!value.contains(['\r', '\n', '\0']), "no header built from unchecked text");
            }
        }
        for request in run.detaches() {
            prop_assert_eq!(request.target, Target::Backend);
            prop_assert!(verifies(request));
        }
    }

    #[test]
    fn pollers_never_panic_and_keep_their_deadline(
        answers in prop::collection::vec(poll_answer(), 0..8),
        timeout_ms in 0u64..8_000,
        interval_ms in 0u64..3_000,
    ) {
        let timeout = Duration::from_millis(timeout_ms);
        let interval = Duration::from_millis(interval_ms);
        let fallback = Some(Answer::status(503));

        let mut approval = AwaitApproval::new(&engine(), APPROVAL, timeout, interval).unwrap();
        let run = drive_with(&mut approval, &mut Clock::new(), answers.clone(), fallback.clone());
        for (_, until) in run.waits() {
            prop_assert!(until <= run.base + timeout);
        }

        let mut connect = AwaitConnect::new(&engine(), Secret::new("cs"), timeout, interval);
        let run = drive_with(&mut connect, &mut Clock::new(), answers.clone(), fallback.clone());
        for (_, until) in run.waits() {
            prop_assert!(until <= run.base + timeout);
        }

        let mut sign_in = AwaitSignIn::new(&engine(), Secret::new("as"), timeout);
        let run = drive_with(&mut sign_in, &mut Clock::new(), answers, fallback);
        for step in &run.steps {
            if let Seen::Send { at, .. } = step {
                prop_assert!(*at < run.base + timeout, "a sign-in poll after the deadline");
            }
        }
    }
}

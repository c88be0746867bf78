//! The engine's headers and signatures (PROTOCOL.md §2.1–2.5, §3): what every backend request
//! carries, the actor-id cache, scope-constrained siblings, and fresh signatures per attempt.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

mod support;

use std::time::Duration;

use alter_core::api::{ListAgents, ProxyRequest, RetrieveRequest};
use alter_core::engine::DEFAULT_USER_AGENT;
use alter_core::signing::content_sha256;
use alter_core::{Engine, Target};
use alter_types::CallerType;
use serde_json::json;
use support::*;

/// Runs one `scopes_list` against `engine`, answering 200 with these extra headers.
fn scopes_list_answered(
    engine: &std::sync::Arc<Engine>,
    clock: &mut Clock,
    headers: &[(&str, &str)],
) -> alter_core::HttpRequest {
    let mut answer = Answer::json(200, &scope_catalog());
    for (name, value) in headers {
        answer = answer.header(name, value);
    }
    let run = drive(engine.scopes_list(), clock, [answer]);
    let request = run.sends()[0].clone();
    run.ok();
    request
}

#[test]
fn a_backend_request_carries_the_key_the_user_agent_and_the_hmac_headers() {
    let engine = engine();
    let mut clock = Clock::new();
    clock.advance_ms(1_500);

    let request = scopes_list_answered(&engine, &mut clock, &[]);

    assert_eq!(request.target, Target::Backend);
    assert_eq!(request.method, "GET");
    assert_eq!(request.url, "https://backend.example/sdk/scopes");
    assert_eq!(
        header_names(&request),
        [
            "x-api-key",
            "User-Agent",
            "X-Alter-Timestamp",
            "X-Alter-Nonce",
            "X-Alter-Content-SHA256",
            "X-Alter-Signature",
        ]
    );
    assert_eq!(header(&request, "x-api-key"), API_KEY);
    assert_eq!(header(&request, "User-Agent"), DEFAULT_USER_AGENT);
    assert!(DEFAULT_USER_AGENT.starts_with("alter-sdk-rust/"));
    assert_eq!(
        header(&request, "X-Alter-Timestamp"),
        (WALL_BASE_SECS + 1).to_string()
    );
    assert_eq!(header(&request, "X-Alter-Nonce"), nonce(1));
    assert_eq!(
        header(&request, "X-Alter-Content-SHA256"),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert!(request.body.is_empty());
    assert!(verifies(&request));
}

#[test]
fn a_json_body_is_hashed_as_sent_and_typed() {
    let engine = engine();
    let mut clock = Clock::new();

    let run = drive(
        engine.create_auth_session(),
        &mut clock,
        [Answer::json(
            201,
            &json!({"auth_url": "https://idp.example/login", "session_token": "as_1"}),
        )],
    );
    let request = run.sends()[0].clone();
    run.ok();

    assert_eq!(request.body, b"{}");
    assert_eq!(header(&request, "Content-Type"), "application/json");
    assert_eq!(
        header(&request, "X-Alter-Content-SHA256"),
        content_sha256(b"{}")
    );
    assert!(verifies(&request));
}

#[test]
fn caller_headers_are_sent_only_when_a_caller_is_set() {
    let cases = [
        (None, CallerType::Service, None),
        (
            Some("billing-job"),
            CallerType::Service,
            Some(("billing-job", "service")),
        ),
        (
            Some("ops bot 7"),
            CallerType::Agent,
            Some(("ops bot 7", "agent")),
        ),
    ];

    for (caller, caller_type, expected) in cases {
        let engine = engine_with(|config| {
            config.caller = caller.map(str::to_owned);
            config.caller_type = caller_type.clone();
        });
        let request = scopes_list_answered(&engine, &mut Clock::new(), &[]);

        let sent = request
            .header("X-Alter-Caller")
            .zip(request.header("X-Alter-Caller-Type"));
        assert_eq!(sent, expected, "{caller:?}");
        assert_eq!(
            request.header("X-Alter-Caller").is_some(),
            request.header("X-Alter-Caller-Type").is_some()
        );
    }
}

#[test]
fn a_configured_user_agent_replaces_the_default() {
    let engine = engine_with(|config| config.user_agent = "my-app/2.1".to_owned());

    let request = scopes_list_answered(&engine, &mut Clock::new(), &[]);

    assert_eq!(header(&request, "User-Agent"), "my-app/2.1");
}

#[test]
fn a_base_url_path_prefix_is_sent_but_not_signed() {
    let engine = engine_with(|config| {
        config.base_url = alter_core::config::BaseUrl::parse("https://backend.example/alter/")
            .expect("a valid base URL");
    });

    let run = drive(
        engine.scopes_list(),
        &mut Clock::new(),
        [Answer::json(200, &scope_catalog())],
    );
    let request = run.sends()[0].clone();

    assert_eq!(request.url, "https://backend.example/alter/sdk/scopes");
    assert!(verifies_as(&request, "/sdk/scopes", ""));
    assert!(!verifies_as(&request, "/alter/sdk/scopes", ""));
}

#[test]
fn the_actor_id_is_cached_from_the_first_valid_uuid_and_sent_afterwards() {
    // (X-Alter-Actor-ID of the answer, cache afterwards, actor id sent on the next call)
    let script: [(Option<&str>, Option<&str>); 5] = [
        (None, None),
        (Some("not-a-uuid"), None),
        (Some(ACTOR), Some(ACTOR_CANONICAL)),
        (
            Some("11111111-2222-4333-8444-555555555555"),
            Some(ACTOR_CANONICAL),
        ),
        (None, Some(ACTOR_CANONICAL)),
    ];
    let engine = engine();
    let mut clock = Clock::new();

    let mut expected_sent: Option<&str> = None;
    for (answer_header, cached_after) in script {
        let headers: Vec<(&str, &str)> = answer_header
            .map(|value| ("X-Alter-Actor-ID", value))
            .into_iter()
            .collect();

        let request = scopes_list_answered(&engine, &mut clock, &headers);

        assert_eq!(request.header("X-Alter-Actor-ID"), expected_sent);
        assert_eq!(engine.actor_id().as_deref(), cached_after);
        expected_sent = cached_after;
    }
}

#[test]
fn the_actor_id_is_read_case_insensitively_and_in_any_uuid_form() {
    for form in [
        "{6B7C8D9E-0F1A-4B2C-8D3E-4F5A6B7C8D9E}",
        "6b7c8d9e0f1a4b2c8d3e4f5a6b7c8d9e",
        "urn:uuid:6b7c8d9e-0f1a-4b2c-8d3e-4f5a6b7c8d9e",
    ] {
        let engine = engine();
        scopes_list_answered(&engine, &mut Clock::new(), &[("x-alter-actor-id", form)]);

        assert_eq!(
            engine.actor_id().as_deref(),
            Some(ACTOR_CANONICAL),
            "{form}"
        );
    }
}

#[test]
fn proxy_and_approval_answers_never_fill_the_cache_and_never_carry_the_actor_id() {
    let fresh = engine();
    let cached = engine();
    scopes_list_answered(&cached, &mut Clock::new(), &[("X-Alter-Actor-ID", ACTOR)]);

    for engine in [&fresh, &cached] {
        let before = engine.actor_id();
        let runs = [
            drive(
                Unit(
                    engine
                        .proxy_request(ProxyRequest::new(
                            "GET",
                            "https://api.example.com/v1/me",
                            GRANT,
                        ))
                        .unwrap(),
                ),
                &mut Clock::new(),
                [Answer::json(200, &approval_result(None))
                    .header("X-Alter-Actor-ID", "11111111-2222-4333-8444-555555555555")],
            ),
            drive(
                Unit(engine.get_approval_status(APPROVAL).unwrap()),
                &mut Clock::new(),
                [Answer::json(200, &approval_status("pending", false, None))
                    .header("X-Alter-Actor-ID", "11111111-2222-4333-8444-555555555555")],
            ),
            drive(
                Unit(engine.get_approval_result(APPROVAL).unwrap()),
                &mut Clock::new(),
                [Answer::json(200, &approval_result(Some(APPROVAL)))
                    .header("X-Alter-Actor-ID", "11111111-2222-4333-8444-555555555555")],
            ),
        ];

        for run in runs {
            assert_eq!(run.sends()[0].header("X-Alter-Actor-ID"), None);
            run.ok();
        }
        assert_eq!(engine.actor_id(), before);
    }
}

fn token_answer() -> Answer {
    Answer::json(
        200,
        &json!({"access_token": "tok", "grant_id": GRANT, "provider_id": "stripe"}),
    )
}

#[test]
fn a_per_call_caller_on_the_token_call_neither_sends_nor_caches_the_actor_id() {
    let engine = engine_with(|config| {
        config.caller = Some("main-app".to_owned());
        config.caller_type = CallerType::Agent;
    });
    let mut request = RetrieveRequest::grant("GET", "https://api.stripe.com/v1/balance", GRANT);
    request.caller = Some("billing-job-42".to_owned());

    let run = drive(
        engine.request(request.clone(), None).unwrap(),
        &mut Clock::new(),
        [
            token_answer().header("X-Alter-Actor-ID", ACTOR),
            Answer::json(200, &json!({})),
        ],
    );

    let token = run.sends()[0].clone();
    assert_eq!(header(&token, "X-Alter-Caller"), "billing-job-42");
    assert_eq!(header(&token, "X-Alter-Caller-Type"), "agent");
    assert_eq!(token.header("X-Alter-Actor-ID"), None);
    run.ok();
    assert_eq!(
        engine.actor_id(),
        None,
        "an override's actor id is not cached"
    );

    // With an actor id cached, the override still leaves it out.
    scopes_list_answered(&engine, &mut Clock::new(), &[("X-Alter-Actor-ID", ACTOR)]);
    let run = drive(
        engine.request(request, None).unwrap(),
        &mut Clock::new(),
        [token_answer(), Answer::json(200, &json!({}))],
    );
    let token = run.sends()[0];
    assert_eq!(token.header("X-Alter-Actor-ID"), None);
    assert_eq!(header(token, "X-Alter-Caller"), "billing-job-42");

    // The audit upload carries the client's own caller and the cached actor id (§2.5).
    let audit = run.detaches()[0];
    assert_eq!(header(audit, "X-Alter-Caller"), "main-app");
    assert_eq!(header(audit, "X-Alter-Actor-ID"), ACTOR_CANONICAL);
}

#[test]
fn a_token_call_without_override_caches_and_sends_the_actor_id() {
    let engine = engine();
    let request = RetrieveRequest::grant("GET", "https://api.stripe.com/v1/balance", GRANT);

    let first = drive(
        engine.request(request.clone(), None).unwrap(),
        &mut Clock::new(),
        [
            token_answer().header("X-Alter-Actor-ID", ACTOR),
            Answer::json(200, &json!({})),
        ],
    );
    assert_eq!(first.sends()[0].header("X-Alter-Actor-ID"), None);
    first.ok();
    assert_eq!(engine.actor_id().as_deref(), Some(ACTOR_CANONICAL));

    let second = drive(
        engine.request(request, None).unwrap(),
        &mut Clock::new(),
        [token_answer(), Answer::json(200, &json!({}))],
    );
    assert_eq!(
        header(second.sends()[0], "X-Alter-Actor-ID"),
        ACTOR_CANONICAL
    );
}

#[test]
fn a_constrained_sibling_copies_the_cache_and_signs_the_joined_scopes() {
    let parent = engine();
    scopes_list_answered(&parent, &mut Clock::new(), &[("X-Alter-Actor-ID", ACTOR)]);

    let sibling = parent
        .with_constraints(&["grants:read", "tokens:retrieve"])
        .unwrap();

    assert_eq!(sibling.constraints(), Some("grants:read,tokens:retrieve"));
    assert_eq!(parent.constraints(), None);
    assert_eq!(sibling.actor_id().as_deref(), Some(ACTOR_CANONICAL));

    let run = drive(
        sibling.agents_list(ListAgents::default()).unwrap(),
        &mut Clock::new(),
        [Answer::json(
            200,
            &json!({"items": [], "total": 0, "limit": 100, "offset": 0, "has_more": false}),
        )],
    );
    let request = run.sends()[0];
    let path = "/sdk/agents?include_revoked=false&limit=100&offset=0";
    assert_eq!(
        header(request, "X-Alter-Scope-Constraints"),
        "grants:read,tokens:retrieve"
    );
    assert_eq!(header(request, "X-Alter-Actor-ID"), ACTOR_CANONICAL);
    assert!(verifies_as(request, path, "grants:read,tokens:retrieve"));
    assert!(!verifies_as(request, path, ""));

    let plain = scopes_list_answered(&parent, &mut Clock::new(), &[]);
    assert_eq!(plain.header("X-Alter-Scope-Constraints"), None);
    assert!(verifies_as(&plain, "/sdk/scopes", ""));
}

#[test]
fn every_request_of_a_constrained_sibling_is_constrained() {
    let sibling = engine().with_constraints(&["tokens:retrieve"]).unwrap();
    let run = drive(
        sibling
            .request(
                RetrieveRequest::grant("GET", "https://api.example.com/v1/me", GRANT),
                None,
            )
            .unwrap(),
        &mut Clock::new(),
        [token_answer(), Answer::json(200, &json!({}))],
    );

    let token = run.sends_to(Target::Backend)[0];
    let audit = run.detaches()[0];
    for request in [token, audit] {
        assert_eq!(
            header(request, "X-Alter-Scope-Constraints"),
            "tokens:retrieve"
        );
        assert!(verifies(request));
    }
    assert_eq!(
        run.provider_request().header("X-Alter-Scope-Constraints"),
        None
    );
}

#[test]
fn a_sibling_cache_is_a_copy_taken_at_creation() {
    let parent = engine();
    let sibling = parent.with_constraints(&["grants:read"]).unwrap();

    scopes_list_answered(&sibling, &mut Clock::new(), &[("X-Alter-Actor-ID", ACTOR)]);

    assert_eq!(sibling.actor_id().as_deref(), Some(ACTOR_CANONICAL));
    assert_eq!(parent.actor_id(), None);
}

#[test]
fn constraints_cannot_be_nested_empty_or_unsendable() {
    let parent = engine();
    let sibling = parent.with_constraints(&["grants:read"]).unwrap();
    let none: [&str; 0] = [];

    let cases = [
        ("nested", sibling.with_constraints(&["grants:read"])),
        ("no scopes", parent.with_constraints(&none)),
        ("empty scope", parent.with_constraints(&["grants:read", ""])),
        ("comma", parent.with_constraints(&["a,b"])),
        ("newline", parent.with_constraints(&["a\nb"])),
        ("carriage return", parent.with_constraints(&["a\rb"])),
        ("nul", parent.with_constraints(&["a\0b"])),
    ];

    for (case, result) in cases {
        assert_invalid_input(&rejection(result), case);
    }
}

#[test]
fn every_retry_is_signed_afresh_with_a_new_nonce_and_timestamp() {
    let engine = engine();
    let mut clock = Clock::new();

    let run = drive(
        engine.scopes_list(),
        &mut clock,
        [
            Answer::status(503).header("Retry-After", "2"),
            Answer::status(429).header("Retry-After", "3"),
            Answer::json(200, &scope_catalog()),
        ],
    );

    assert_eq!(
        run.trace(),
        [
            "send GET /sdk/scopes",
            "wait 2000ms",
            "send GET /sdk/scopes",
            "wait 3000ms",
            "send GET /sdk/scopes",
        ]
    );
    let sent = run.sends();
    let nonces: Vec<&str> = sent.iter().map(|r| header(r, "X-Alter-Nonce")).collect();
    let times: Vec<&str> = sent
        .iter()
        .map(|r| header(r, "X-Alter-Timestamp"))
        .collect();
    assert_eq!(nonces, [nonce(1), nonce(2), nonce(3)]);
    assert_eq!(
        times,
        [
            WALL_BASE_SECS.to_string(),
            (WALL_BASE_SECS + 2).to_string(),
            (WALL_BASE_SECS + 5).to_string(),
        ]
    );
    assert_ne!(
        header(sent[0], "X-Alter-Signature"),
        header(sent[1], "X-Alter-Signature")
    );
    for request in sent {
        assert!(verifies(request));
    }
}

#[test]
fn the_signature_covers_the_canonical_path_and_query() {
    let engine = engine();
    let mut clock = Clock::new();

    // (request, wire path and query, canonical form that is signed)
    let get = drive(
        Unit(engine.agents_get("ops bot/é").unwrap()),
        &mut clock,
        [Answer::status(404)],
    );
    let by_name = drive(
        Unit(engine.agents_get_by_name("ops bot").unwrap()),
        &mut clock,
        [Answer::status(404)],
    );
    let cases = [
        (
            get.sends()[0],
            "/sdk/agents/ops%20bot%2F%C3%A9",
            "/sdk/agents/ops bot/é",
        ),
        (
            by_name.sends()[0],
            "/sdk/agents?name=ops+bot",
            "/sdk/agents?name=ops+bot",
        ),
    ];

    for (request, wire, signed) in cases {
        assert_eq!(request.path_and_query(), wire);
        assert!(verifies_as(request, signed, ""), "{wire}");
        assert!(verifies(request), "{wire}");
    }
    assert!(!verifies_as(
        get.sends()[0],
        "/sdk/agents/ops%20bot%2F%C3%A9",
        ""
    ));
}

#[test]
fn the_signed_timestamp_follows_the_wall_clock_not_the_monotonic_one() {
    let engine = engine();
    let mut clock = Clock::new();
    clock.advance(Duration::from_secs(3_600));

    let request = scopes_list_answered(&engine, &mut clock, &[]);

    assert_eq!(
        header(&request, "X-Alter-Timestamp"),
        (WALL_BASE_SECS + 3_600).to_string()
    );
}

//! Endpoint paths and bodies for edge inputs (PROTOCOL.md §3.3, §5): path parameters stay in
//! their segment, queries are form-encoded, bodies keep the documented key order, and a few
//! endpoints with their own success rules (`get_by_name`, `verify_user_token`,
//! `create_auth_session`).
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

mod support;

use std::sync::Arc;

use alter_core::Engine;
use alter_core::api::{
    ConnectSessionParams, CreateAgent, DeriveKey, ListAgents, ListGrants,
    ManagedSecretConnectParams, ProxyRequest, UpdateAgent,
};
use alter_core::encoding::encode_path_segment;
use alter_types::{Principal, Secret};
use serde_json::json;
use support::*;

/// Edge path parameters and the single segment each must become.
const SEGMENTS: [(&str, &str); 7] = [
    ("a/b", "a%2Fb"),
    ("a b", "a%20b"),
    ("é✓", "%C3%A9%E2%9C%93"),
    ("%2F", "%252F"),
    ("x?y=1", "x%3Fy%3D1"),
    ("x#y", "x%23y"),
    ("../../sdk/keys", "..%2F..%2Fsdk%2Fkeys"),
];

/// Builds the request of one path-parameterized endpoint for `id`, and the path it must
/// have, with `{}` standing for the encoded id.
type PathCase = (
    &'static str,
    fn(&Arc<Engine>, &str) -> alter_core::Result<AnyOp>,
    &'static str,
);

fn path_cases() -> Vec<PathCase> {
    vec![
        (
            "agents_get",
            |e, id| e.agents_get(id).map(erase),
            "/sdk/agents/{}",
        ),
        (
            "agents_update",
            |e, id| e.agents_update(id, UpdateAgent::default()).map(erase),
            "/sdk/agents/{}",
        ),
        (
            "agents_delete",
            |e, id| e.agents_delete(id).map(erase),
            "/sdk/agents/{}",
        ),
        (
            "agents_mint_key",
            |e, id| e.agents_mint_key(id).map(erase),
            "/sdk/agents/{}/keys",
        ),
        (
            "agents_list_keys",
            |e, id| e.agents_list_keys(id).map(erase),
            "/sdk/agents/{}/keys",
        ),
        (
            "agents_deprecate_key",
            |e, id| e.agents_deprecate_key("a-1", id).map(erase),
            "/sdk/agents/a-1/keys/{}/deprecate",
        ),
        (
            "agents_undeprecate_key",
            |e, id| e.agents_undeprecate_key(id, "k-1").map(erase),
            "/sdk/agents/{}/keys/k-1/undeprecate",
        ),
        (
            "agents_revoke_key",
            |e, id| e.agents_revoke_key("a-1", id, false).map(erase),
            "/sdk/agents/a-1/keys/{}",
        ),
        (
            "keys_rotate",
            |e, id| e.keys_rotate(id, 7).map(erase),
            "/sdk/keys/{}/rotate",
        ),
        (
            "keys_revoke",
            |e, id| e.keys_revoke(id, false).map(erase),
            "/sdk/keys/{}",
        ),
        (
            "revoke_grant",
            |e, id| e.revoke_grant(id, None, None).map(erase),
            "/sdk/oauth/grants/{}/revoke",
        ),
        (
            "revoke_delegation grant",
            |e, id| e.revoke_delegation(id, None).map(erase),
            "/sdk/grants/{}/delegations/me",
        ),
        (
            "revoke_delegation agent",
            |e, id| e.revoke_delegation("g-1", Some(id)).map(erase),
            "/sdk/grants/g-1/delegations/{}",
        ),
        (
            "create_managed_secret_grant",
            |e, id| {
                let principal = Principal::system(None).unwrap();
                e.create_managed_secret_grant(id, &principal, None)
                    .map(erase)
            },
            "/sdk/managed-secrets/{}/grants",
        ),
        (
            "get_approval_status",
            |e, id| e.get_approval_status(id).map(erase),
            "/sdk/approvals/{}",
        ),
        (
            "get_approval_result",
            |e, id| e.get_approval_result(id).map(erase),
            "/sdk/approvals/{}/result",
        ),
    ]
}

/// The first request `op` sends.
fn first_request(mut op: AnyOp) -> alter_core::HttpRequest {
    let run = drive_with(&mut *op, &mut Clock::new(), [Answer::status(400)], None);
    run.sends()[0].clone()
}

#[test]
fn path_parameters_are_encoded_as_one_whole_segment() {
    let engine = engine();

    for (name, build, template) in path_cases() {
        for (id, encoded) in SEGMENTS {
            let request = first_request(build(&engine, id).unwrap());

            let expected = template.replace("{}", encoded);
            assert_eq!(request.path_and_query(), expected, "{name} {id:?}");
            assert_eq!(request.url, format!("{BASE_URL}{expected}"), "{name}");
            assert!(verifies(&request), "{name} {id:?}");
        }
    }
}

/// Whether a path segment is one that URL parsers resolve against its parent (RFC 3986
/// §5.2.4; the WHATWG URL standard also treats `%2e` as a dot).
fn is_dot_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase().replace("%2e", ".");
    lower == "." || lower == ".."
}

#[test]
fn dot_segments_in_path_parameters_cannot_escape_their_segment() {
    // `.` and `..` are unreserved, so encoding leaves them as they are, and HTTP clients then
    // resolve them: `DELETE /sdk/agents/a-1/keys/..` would go out as `DELETE /sdk/agents/a-1/`.
    // Either the id is refused before IO, or it must not be sent as a dot segment.
    let engine = engine();
    let mut escaped = Vec::new();

    for (name, build, _) in path_cases() {
        for id in [".", ".."] {
            let op = match build(&engine, id) {
                Ok(op) => op,
                Err(error) => {
                    assert_invalid_input(&error, name);
                    continue;
                }
            };
            let request = first_request(op);

            let path = request.path_and_query().to_owned();
            if path.split('/').any(is_dot_segment) {
                escaped.push(format!("{name}({id:?}) -> {} {path}", request.method));
            }
        }
    }
    assert!(
        escaped.is_empty(),
        "ids sent as dot segments:\n{}",
        escaped.join("\n")
    );
}

#[test]
fn encoding_matches_the_public_segment_encoder() {
    for (id, encoded) in SEGMENTS {
        assert_eq!(encode_path_segment(id), encoded);
    }
}

#[test]
fn queries_are_form_encoded_in_the_documented_order() {
    let engine = engine();
    let mut list = ListAgents::default();
    (list.include_revoked, list.limit, list.offset) = (true, 25, 50);

    let cases = [
        (
            first_request(erase(engine.agents_list(list).unwrap())),
            "/sdk/agents?include_revoked=true&limit=25&offset=50",
        ),
        (
            first_request(erase(engine.agents_list(ListAgents::default()).unwrap())),
            "/sdk/agents?include_revoked=false&limit=100&offset=0",
        ),
        (
            first_request(erase(engine.agents_get_by_name("ops bot/é&x=1+2").unwrap())),
            "/sdk/agents?name=ops+bot%2F%C3%A9%26x%3D1%2B2",
        ),
        (
            first_request(erase(engine.keys_revoke("k 1", true).unwrap())),
            "/sdk/keys/k%201?force=true",
        ),
        (
            first_request(erase(engine.agents_revoke_key("a", "k", true).unwrap())),
            "/sdk/agents/a/keys/k?force=true",
        ),
        (
            first_request(erase(engine.agents_revoke_key("a", "k", false).unwrap())),
            "/sdk/agents/a/keys/k",
        ),
    ];

    for (request, expected) in cases {
        assert_eq!(request.path_and_query(), expected);
        assert!(verifies(&request), "{expected}");
    }
}

#[test]
fn get_by_name_returns_the_first_item_or_none() {
    let engine = engine();
    let first = "3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c";
    let second = "8c7b6a59-4e3d-4c2b-9a1f-0e9d8c7b6a59";
    let page = |items: Vec<serde_json::Value>| json!({"items": items, "total": 2, "limit": 100, "offset": 0, "has_more": false});

    let found = drive(
        engine.agents_get_by_name("support-bot").unwrap(),
        &mut Clock::new(),
        [Answer::json(
            200,
            &page(vec![
                agent_info(first, "support-bot"),
                agent_info(second, "support-bot"),
            ]),
        )],
    )
    .ok();
    let missing = drive(
        engine.agents_get_by_name("ghost").unwrap(),
        &mut Clock::new(),
        [Answer::json(200, &page(vec![]))],
    )
    .ok();

    assert_eq!(
        found.map(|agent| agent.id.to_string()).as_deref(),
        Some(first)
    );
    assert_eq!(missing, None);
}

#[test]
fn verify_user_token_needs_no_io_for_a_blank_token() {
    let engine = engine();

    for blank in ["", " ", "\t\n  "] {
        assert!(engine.verify_user_token(blank).is_none(), "{blank:?}");
    }
}

#[test]
fn verify_user_token_answers_the_subject_or_none_and_never_fails() {
    let engine = engine();
    // (answers, expected subject)
    let cases: Vec<(Vec<Answer>, Option<&str>)> = vec![
        (
            vec![Answer::json(200, &json!({"sub": "user_123"}))],
            Some("user_123"),
        ),
        (vec![Answer::json(200, &json!({"sub": "  "}))], None),
        (vec![Answer::json(200, &json!({"sub": 42}))], None),
        (vec![Answer::json(200, &json!({"email": "x@y"}))], None),
        (vec![Answer::raw(200, b"<html>garbage")], None),
        (vec![Answer::json(200, &json!([1, 2]))], None),
        (
            vec![Answer::json(401, &json!({"error": "invalid_token"}))],
            None,
        ),
        (vec![Answer::status(500)], None),
        (vec![Answer::status(403)], None),
        (vec![Answer::io(), Answer::io(), Answer::io()], None),
        (
            vec![Answer::timeout(), Answer::timeout(), Answer::timeout()],
            None,
        ),
        (
            vec![
                Answer::connect(),
                Answer::json(200, &json!({"sub": "user_9"})),
            ],
            Some("user_9"),
        ),
    ];

    for (answers, expected) in cases {
        let op = engine.verify_user_token("jwt-token").unwrap();
        let run = drive(op, &mut Clock::new(), answers);

        let request = run.sends()[0].clone();
        assert_eq!(request.path_and_query(), "/sdk/auth/verify-token");
        assert_eq!(body_text(&request), r#"{"token":"jwt-token"}"#);
        assert_eq!(run.unused_answers, 0);
        assert_eq!(run.ok().as_deref(), expected);
    }
}

#[test]
fn create_auth_session_succeeds_only_on_201() {
    let session = json!({"auth_url": "https://idp.example/login", "session_token": "as_1"});

    let created = drive(
        engine().create_auth_session(),
        &mut Clock::new(),
        [Answer::json(201, &session)],
    )
    .ok();
    assert_eq!(created.auth_url, "https://idp.example/login");
    assert_eq!(created.session_token.expose_secret(), "as_1");

    for code in [200, 202, 204] {
        let run = drive(
            engine().create_auth_session(),
            &mut Clock::new(),
            [Answer::json(code, &session)],
        );
        assert_eq!(run.kinds(), ["send"], "{code}");
        let error = run.err();
        assert_eq!(error.class_name(), "AlterSDKError", "{code}");
        assert!(
            error.message().starts_with("Failed to create auth session"),
            "{code}"
        );
    }

    let refused = drive(
        engine().create_auth_session(),
        &mut Clock::new(),
        [Answer::json(
            403,
            &json!({"detail": {"message": "IDP not configured"}}),
        )],
    )
    .err();
    assert_eq!(
        refused.message(),
        "Failed to create auth session: IDP not configured"
    );
}

/// The body bytes of the first request `op` sends.
fn body_of(op: AnyOp) -> String {
    body_text(&first_request(op)).to_owned()
}

#[test]
fn bodies_keep_the_documented_key_order_and_escaping() {
    let engine = engine();
    let token = Secret::new("jwt-1");

    let mut proxy = ProxyRequest::new("post", "https://api.example.com/v1/é", GRANT);
    proxy.json_body = Some(json!({"b": 1, "a": [true, null]}));
    proxy.headers = vec![("X-Trace".into(), "t-1".into())];
    proxy.query_params = vec![("q".into(), json!("x y")), ("n".into(), json!(2))];
    proxy.reason = Some("sync ✓".into());

    let mut google_grants = ListGrants::default();
    google_grants.provider_id = Some("google".into());

    let mut derive = DeriveKey::new(["grants:read", "tokens:retrieve"], 3_600);
    derive.name = Some("ci".into());

    let mut create = CreateAgent::new("ops-bot");
    create.display_name = Some("Ops".into());
    create.policy = Some(json!({"max": 1}));

    let mut ms_connect = ManagedSecretConnectParams::new(
        "Stripe-Live",
        "3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c",
        "jwt-1",
    );
    ms_connect.requested_ttl_seconds = Some(600);

    let cases = [
        (
            body_of(erase(engine.proxy_request(proxy).unwrap())),
            format!(
                r#"{{"grant_id":"{GRANT}","method":"POST","url":"https://api.example.com/v1/\u00e9","body":{{"b":1,"a":[true,null]}},"headers":{{"X-Trace":"t-1"}},"query_params":{{"q":"x y","n":2}},"reason":"sync \u2713"}}"#
            ),
        ),
        (
            body_of(erase(engine.keys_rotate("k", 14).unwrap())),
            r#"{"overlap_days":14}"#.to_owned(),
        ),
        (
            body_of(erase(engine.keys_derive(derive).unwrap())),
            r#"{"scopes":["grants:read","tokens:retrieve"],"expires_in":3600,"name":"ci"}"#
                .to_owned(),
        ),
        (
            body_of(erase(engine.revoke_grant("g", None, None).unwrap())),
            "{}".to_owned(),
        ),
        (
            body_of(erase(
                engine.revoke_grant("g", Some("left"), Some(&token)).unwrap(),
            )),
            r#"{"reason":"left","user_token":"jwt-1"}"#.to_owned(),
        ),
        (
            body_of(erase(
                engine
                    .list_grants(google_grants.next_page(), Some(&token))
                    .unwrap(),
            )),
            r#"{"limit":100,"offset":100,"provider_id":"google","user_token":"jwt-1"}"#
                .to_owned(),
        ),
        (
            body_of(erase(engine.agents_create(create).unwrap())),
            r#"{"name":"ops-bot","type":"agent","scopes":{},"metadata":{},"display_name":"Ops","policy":{"max":1}}"#
                .to_owned(),
        ),
        (
            body_of(erase(
                engine
                    .agents_update("a", UpdateAgent::default())
                    .unwrap(),
            )),
            "{}".to_owned(),
        ),
        (
            body_of(erase(engine.agents_mint_key("a").unwrap())),
            "{}".to_owned(),
        ),
        (
            body_of(erase(
                engine
                    .create_connect_session(ConnectSessionParams::default(), None)
                    .unwrap(),
            )),
            r#"{"allowed_providers":null,"return_url":null,"allowed_origin":null,"metadata":null}"#
                .to_owned(),
        ),
        (
            body_of(erase(
                engine
                    .create_connect_session(ConnectSessionParams::default(), Some(&token))
                    .unwrap(),
            )),
            r#"{"allowed_providers":null,"return_url":null,"allowed_origin":null,"metadata":null,"user_token":"jwt-1"}"#
                .to_owned(),
        ),
        (
            body_of(erase(
                engine
                    .create_managed_secret_connect_session(ms_connect)
                    .unwrap(),
            )),
            r#"{"template_slug":"stripe-live","delegated_agent_id":"3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c","user_token":"jwt-1","requested_ttl_seconds":600}"#
                .to_owned(),
        ),
        (
            body_of(erase(
                engine
                    .create_managed_secret_grant(
                        "ms-1",
                        &Principal::system(Some("nightly".into())).unwrap(),
                        None,
                    )
                    .unwrap(),
            )),
            r#"{"principal":{"type":"system","label":"nightly"},"grant_policy":{}}"#.to_owned(),
        ),
    ];

    for (sent, expected) in cases {
        assert_eq!(sent, expected);
    }
}

#[test]
fn an_explicit_connect_user_token_wins_over_the_getter() {
    let mut params = ConnectSessionParams::default();
    params.user_token = Some(Secret::new("explicit"));

    let body = body_of(erase(
        engine()
            .create_connect_session(params, Some(&Secret::new("from-getter")))
            .unwrap(),
    ));

    assert!(body.ends_with(r#","user_token":"explicit"}"#), "{body}");
}

#[test]
fn bodiless_requests_send_no_content_type() {
    let engine = engine();
    let requests = [
        first_request(erase(engine.revoke_delegation("g", Some("a")).unwrap())),
        first_request(erase(engine.agents_delete("a").unwrap())),
        first_request(erase(engine.keys_revoke("k", false).unwrap())),
        first_request(erase(engine.get_approval_status(APPROVAL).unwrap())),
        first_request(erase(engine.scopes_list())),
    ];

    for request in requests {
        assert!(request.body.is_empty(), "{request:?}");
        assert_eq!(request.header("Content-Type"), None, "{request:?}");
    }
}

#[test]
fn methods_follow_the_endpoint_table() {
    let engine = engine();
    let cases = [
        (
            first_request(erase(
                engine.agents_update("a", UpdateAgent::default()).unwrap(),
            )),
            "PATCH",
        ),
        (
            first_request(erase(engine.agents_deprecate_key("a", "k").unwrap())),
            "PATCH",
        ),
        (
            first_request(erase(engine.agents_delete("a").unwrap())),
            "DELETE",
        ),
        (
            first_request(erase(engine.revoke_delegation("g", None).unwrap())),
            "DELETE",
        ),
        (first_request(erase(engine.agents_me())), "GET"),
        (
            first_request(erase(engine.poll_connect_session_once(&Secret::new("cs")))),
            "POST",
        ),
        (
            first_request(erase(engine.poll_auth_session_once(&Secret::new("as")))),
            "POST",
        ),
    ];

    for (request, method) in cases {
        assert_eq!(request.method, method, "{}", request.path_and_query());
    }
}

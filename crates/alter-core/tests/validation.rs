//! Input validation before any IO (PROTOCOL.md §1.3, §2.3, §2.4, §5, §6.1, §12): every
//! constructor refuses bad input with the documented error class, so no operation exists
//! and no request can be sent.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use alter_core::api::{
    ConnectSessionParams, CreateAgent, DeriveKey, FORBIDDEN_PROXY_HEADERS, GrantTarget, ListAgents,
    ListGrants, ManagedSecretConnectParams, ProxyRequest, RetrieveRequest,
};
use alter_core::poll::{AwaitApproval, duration_from_secs};
use alter_core::{Engine, Error};
use alter_types::{AgentType, Principal, Secret};
use serde_json::{Value, json};
use support::*;

/// A constructor outcome with its values dropped.
type Outcome = Result<(), Error>;

fn dropped<T>(result: Result<T, Error>) -> Outcome {
    result.map(drop)
}

/// Asserts every case is refused with `class`, before IO when the class is
/// `AlterValueError`.
fn assert_all_refused(class: &str, cases: Vec<(&str, Outcome)>) {
    for (case, outcome) in cases {
        let error = rejection(outcome);
        assert_eq!(error.class_name(), class, "{case}: {error}");
        if class == "AlterValueError" {
            assert!(!error.may_have_reached_server(), "{case}");
        }
    }
}

fn agent(engine: &Arc<Engine>, adjust: impl FnOnce(&mut CreateAgent)) -> Outcome {
    let mut params = CreateAgent::new("ops-bot");
    adjust(&mut params);
    dropped(engine.agents_create(params))
}

fn list_agents(engine: &Arc<Engine>, limit: u32) -> Outcome {
    let mut params = ListAgents::default();
    params.limit = limit;
    dropped(engine.agents_list(params))
}

fn list_grants(engine: &Arc<Engine>, limit: u32, provider: Option<&str>) -> Outcome {
    let mut params = ListGrants::default();
    params.limit = limit;
    params.provider_id = provider.map(str::to_owned);
    dropped(engine.list_grants(params, None))
}

fn derive(engine: &Arc<Engine>, scopes: &[&str], expires_in: u64) -> Outcome {
    dropped(engine.keys_derive(DeriveKey::new(scopes.iter().copied(), expires_in)))
}

#[test]
fn agents_inputs() {
    let e = engine();

    assert_all_refused(
        "AlterValueError",
        vec![
            ("create: empty name", agent(&e, |p| p.name.clear())),
            (
                "create: unknown type",
                agent(&e, |p| p.agent_type = Some(AgentType::from("robot"))),
            ),
            (
                "create: idempotency key with LF",
                agent(&e, |p| p.idempotency_key = Some("a\nb".into())),
            ),
            (
                "create: idempotency key with CR",
                agent(&e, |p| p.idempotency_key = Some("a\rb".into())),
            ),
            (
                "create: idempotency key with NUL",
                agent(&e, |p| p.idempotency_key = Some("a\0b".into())),
            ),
            ("list: limit 0", list_agents(&e, 0)),
            ("list: limit 1001", list_agents(&e, 1001)),
            ("get", dropped(e.agents_get(""))),
            ("get_by_name", dropped(e.agents_get_by_name(""))),
            ("update", dropped(e.agents_update("", Default::default()))),
            ("delete", dropped(e.agents_delete(""))),
            ("mint_key", dropped(e.agents_mint_key(""))),
            ("list_keys", dropped(e.agents_list_keys(""))),
            (
                "deprecate_key: agent",
                dropped(e.agents_deprecate_key("", "k")),
            ),
            (
                "deprecate_key: key",
                dropped(e.agents_deprecate_key("a", "")),
            ),
            (
                "undeprecate_key: agent",
                dropped(e.agents_undeprecate_key("", "k")),
            ),
            (
                "undeprecate_key: key",
                dropped(e.agents_undeprecate_key("a", "")),
            ),
            (
                "revoke_key: agent",
                dropped(e.agents_revoke_key("", "k", true)),
            ),
            (
                "revoke_key: key",
                dropped(e.agents_revoke_key("a", "", false)),
            ),
        ],
    );

    // The bounds themselves are accepted.
    for limit in [1, 1000] {
        list_agents(&e, limit).unwrap();
        list_grants(&e, limit, None).unwrap();
    }
    agent(&e, |p| p.agent_type = Some(AgentType::Service)).unwrap();
    agent(&e, |p| p.idempotency_key = Some("a\tb".into())).unwrap();
}

#[test]
fn keys_inputs() {
    let e = engine();

    assert_all_refused(
        "AlterValueError",
        vec![
            ("derive: no scopes", derive(&e, &[], 60)),
            ("derive: empty scope", derive(&e, &["grants:read", ""], 60)),
            (
                "derive: keys:derive",
                derive(&e, &["grants:read", "keys:derive"], 60),
            ),
            ("derive: zero lifetime", derive(&e, &["grants:read"], 0)),
            ("rotate: empty id", dropped(e.keys_rotate("", 7))),
            ("rotate: overlap 31", dropped(e.keys_rotate("k", 31))),
            ("rotate: overlap max", dropped(e.keys_rotate("k", u32::MAX))),
            ("revoke: empty id", dropped(e.keys_revoke("", true))),
        ],
    );

    for overlap in [0, 30] {
        e.keys_rotate("k", overlap).unwrap();
    }
    derive(&e, &["keys:derive:extra"], 1).unwrap();
}

#[test]
fn grants_inputs() {
    let e = engine();
    let principal = Principal::system(None).unwrap();

    assert_all_refused(
        "AlterValueError",
        vec![
            ("list: limit 0", list_grants(&e, 0, None)),
            ("list: limit 1001", list_grants(&e, 1001, None)),
            ("list: empty provider", list_grants(&e, 10, Some(""))),
            ("revoke_grant", dropped(e.revoke_grant("", None, None))),
            (
                "revoke_delegation: grant",
                dropped(e.revoke_delegation("", None)),
            ),
            (
                "revoke_delegation: agent",
                dropped(e.revoke_delegation("g", Some(""))),
            ),
            (
                "create_managed_secret_grant",
                dropped(e.create_managed_secret_grant("", &principal, None)),
            ),
        ],
    );
}

fn proxy(engine: &Arc<Engine>, adjust: impl FnOnce(&mut ProxyRequest)) -> Outcome {
    let mut request = ProxyRequest::new("GET", "https://api.example.com/v1/me", GRANT);
    adjust(&mut request);
    dropped(engine.proxy_request(request))
}

#[test]
fn proxy_and_approval_inputs() {
    let e = engine();

    assert_all_refused(
        "AlterValueError",
        vec![
            ("empty grant", proxy(&e, |r| r.grant_id.clear())),
            ("empty url", proxy(&e, |r| r.url.clear())),
            (
                "ftp url",
                proxy(&e, |r| r.url = "ftp://127.0.0.1:9/x".into()),
            ),
            (
                "url without a host",
                proxy(&e, |r| r.url = "http:///127.0.0.1:9/x".into()),
            ),
            (
                "url with user info",
                proxy(&e, |r| r.url = "https://u@api.example.com/".into()),
            ),
            (
                "url over 8 KiB",
                proxy(&e, |r| r.url = format!("https://h/{}", "a".repeat(8_200))),
            ),
            (
                "grant id over 1 KiB",
                proxy(&e, |r| r.grant_id = "g".repeat(1_025)),
            ),
            (
                "approval id over 1 KiB",
                dropped(e.get_approval_status(&"a".repeat(60_000))),
            ),
            (
                "JSON null body",
                proxy(&e, |r| r.json_body = Some(Value::Null)),
            ),
            (
                "header value with CR",
                proxy(&e, |r| r.headers = vec![("X-A".into(), "a\rb".into())]),
            ),
            (
                "header value with LF",
                proxy(&e, |r| r.headers = vec![("X-A".into(), "a\nb".into())]),
            ),
            (
                "header value with NUL",
                proxy(&e, |r| r.headers = vec![("X-A".into(), "a\0b".into())]),
            ),
            (
                "header name with LF",
                proxy(&e, |r| r.headers = vec![("X-A\nB".into(), "v".into())]),
            ),
            ("approval status", dropped(e.get_approval_status(""))),
            ("approval result", dropped(e.get_approval_result(""))),
            (
                "await approval",
                dropped(AwaitApproval::new(
                    &e,
                    "",
                    Duration::from_secs(1),
                    Duration::from_secs(1),
                )),
            ),
        ],
    );

    // Any other JSON value is a body.
    for body in [json!({}), json!([]), json!("text"), json!(0), json!(false)] {
        proxy(&e, |r| r.json_body = Some(body)).unwrap();
    }
}

#[test]
fn forbidden_proxy_headers_are_refused_in_any_case() {
    let e = engine();
    assert_eq!(FORBIDDEN_PROXY_HEADERS.len(), 14);

    for name in FORBIDDEN_PROXY_HEADERS {
        let spellings = [
            (*name).to_owned(),
            name.to_ascii_uppercase(),
            name.split('-')
                .map(|part| {
                    let mut chars = part.chars();
                    chars.next().map_or(String::new(), |first| {
                        first.to_ascii_uppercase().to_string() + chars.as_str()
                    })
                })
                .collect::<Vec<_>>()
                .join("-"),
        ];
        for spelling in spellings {
            let outcome = proxy(&e, |r| {
                r.headers = vec![
                    ("X-Allowed".into(), "fine".into()),
                    (spelling.clone(), "v".into()),
                ];
            });
            assert_invalid_input(&rejection(outcome), &spelling);
        }
    }

    proxy(&e, |r| {
        r.headers = vec![("X-Authorization-Hint".into(), "v".into())]
    })
    .unwrap();
}

fn ms_connect(
    engine: &Arc<Engine>,
    adjust: impl FnOnce(&mut ManagedSecretConnectParams),
) -> Outcome {
    let mut params = ManagedSecretConnectParams::new(
        "stripe-live",
        "3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c",
        "jwt",
    );
    adjust(&mut params);
    dropped(engine.create_managed_secret_connect_session(params))
}

fn connect(engine: &Arc<Engine>, adjust: impl FnOnce(&mut ConnectSessionParams)) -> Outcome {
    let mut params = ConnectSessionParams::default();
    adjust(&mut params);
    dropped(engine.create_connect_session(params, None))
}

#[test]
fn connect_inputs() {
    let e = engine();

    assert_all_refused(
        "AlterValueError",
        vec![
            (
                "empty agent",
                connect(&e, |p| p.agent = Some(String::new())),
            ),
            (
                "empty user token",
                connect(&e, |p| p.user_token = Some(Secret::new(""))),
            ),
            ("empty slug", ms_connect(&e, |p| p.template_slug.clear())),
            (
                "slug with a space",
                ms_connect(&e, |p| p.template_slug = "stripe live".into()),
            ),
            (
                "slug with an underscore",
                ms_connect(&e, |p| p.template_slug = "stripe_live".into()),
            ),
            (
                "slug with a slash",
                ms_connect(&e, |p| p.template_slug = "a/b".into()),
            ),
            (
                "agent id not a UUID",
                ms_connect(&e, |p| p.delegated_agent_id = "ops-bot".into()),
            ),
            (
                "empty agent id",
                ms_connect(&e, |p| p.delegated_agent_id.clear()),
            ),
            (
                "empty user token",
                ms_connect(&e, |p| p.user_token = Secret::new("")),
            ),
            (
                "zero TTL",
                ms_connect(&e, |p| p.requested_ttl_seconds = Some(0)),
            ),
        ],
    );

    // Unicode letters are alphanumeric, as in the reference client.
    ms_connect(&e, |p| p.template_slug = "Café-2".into()).unwrap();
    ms_connect(&e, |p| p.requested_ttl_seconds = Some(1)).unwrap();
}

fn retrieve(engine: &Arc<Engine>, adjust: impl FnOnce(&mut RetrieveRequest)) -> Outcome {
    let mut request = RetrieveRequest::grant("GET", "https://api.example.com/v1/{id}", GRANT);
    request.path_params = vec![("id".into(), "42".into())];
    adjust(&mut request);
    dropped(engine.request(request, None))
}

fn context(pairs: impl IntoIterator<Item = (String, String)>) -> Option<Vec<(String, String)>> {
    Some(pairs.into_iter().collect())
}

#[test]
fn retrieve_inputs_refused_as_value_errors() {
    let e = engine();
    let with = |k: &str, v: &str| (k.to_owned(), v.to_owned());

    assert_all_refused(
        "AlterValueError",
        vec![
            (
                "empty host",
                retrieve(&e, |r| r.url = "http:///127.0.0.1:8080/x".into()),
            ),
            (
                "port out of range",
                retrieve(&e, |r| r.url = "https://api.example.com:99999/x".into()),
            ),
            (
                "user info",
                retrieve(&e, |r| r.url = "https://u:p@api.example.com/x".into()),
            ),
            (
                "URL over 8 KiB",
                retrieve(&e, |r| {
                    r.url = format!("https://api.example.com/{}", "a".repeat(8_200));
                }),
            ),
            (
                "path parameter over 1 KiB",
                retrieve(&e, |r| {
                    r.url = "https://api.example.com/{v}".into();
                    r.path_params = vec![with("v", &"a".repeat(1_025))];
                }),
            ),
            (
                "grant id over 1 KiB",
                retrieve(&e, |r| r.target = GrantTarget::Grant("g".repeat(1_025))),
            ),
            (
                "empty grant id",
                retrieve(&e, |r| r.target = GrantTarget::Grant(String::new())),
            ),
            (
                "empty provider",
                retrieve(&e, |r| {
                    *r = RetrieveRequest::provider("GET", "https://api.example.com/", "");
                }),
            ),
            (
                "empty app user id",
                retrieve(&e, |r| {
                    r.target = GrantTarget::Provider {
                        provider: "google".into(),
                        account: None,
                        app_user_id: Some(String::new()),
                    };
                }),
            ),
            (
                "empty user token",
                retrieve(&e, |r| r.user_token = Some(Secret::new(""))),
            ),
            (
                "empty caller",
                retrieve(&e, |r| r.caller = Some(String::new())),
            ),
            (
                "caller with CR LF",
                retrieve(&e, |r| r.caller = Some("job\r\nX-Evil: 1".into())),
            ),
            (
                "caller with NUL",
                retrieve(&e, |r| r.caller = Some("job\0".into())),
            ),
            (
                "header value with LF",
                retrieve(&e, |r| r.extra_headers = vec![with("X-A", "a\nb")]),
            ),
            (
                "header value with CR",
                retrieve(&e, |r| r.extra_headers = vec![with("X-A", "a\rb")]),
            ),
            (
                "header name with NUL",
                retrieve(&e, |r| r.extra_headers = vec![with("X-A\0", "v")]),
            ),
            (
                "URL with a space",
                retrieve(&e, |r| r.url = "https://api.example.com/a b".into()),
            ),
            (
                "URL with LF",
                retrieve(&e, |r| r.url = "https://api.example.com/a\nb".into()),
            ),
            (
                "path param '..'",
                retrieve(&e, |r| r.path_params = vec![with("id", "..")]),
            ),
            (
                "path param '.'",
                retrieve(&e, |r| r.path_params = vec![with("id", ".")]),
            ),
            (
                "path param with CR",
                retrieve(&e, |r| r.path_params = vec![with("id", "a\rb")]),
            ),
            (
                "unmatched brace",
                retrieve(&e, |r| r.url = "https://api.example.com/{id".into()),
            ),
            (
                "context: 21 keys",
                retrieve(&e, |r| {
                    r.context = context((0..21).map(|i| (format!("k{i}"), "v".to_owned())));
                }),
            ),
            (
                "context: key of 65 characters",
                retrieve(&e, |r| r.context = context([with(&"k".repeat(65), "v")])),
            ),
            (
                "context: value of 513 characters",
                retrieve(&e, |r| r.context = context([with("k", &"é".repeat(513))])),
            ),
            (
                "context: NUL",
                retrieve(&e, |r| r.context = context([with("k", "a\0b")])),
            ),
            (
                "context: repeated key",
                retrieve(&e, |r| {
                    r.context = context([with("k", "1"), with("k", "2")])
                }),
            ),
            (
                "context: over 4096 bytes",
                retrieve(&e, |r| {
                    r.context = context((0..10).map(|i| (format!("k{i}"), "x".repeat(500))));
                }),
            ),
        ],
    );

    // The limits themselves are accepted.
    retrieve(&e, |r| {
        r.context = context((0..20).map(|i| (format!("k{i:0>63}"), "v".to_owned())));
    })
    .unwrap();
    retrieve(&e, |r| r.context = context([with("k", &"é".repeat(512))])).unwrap();
}

#[test]
fn retrieve_inputs_refused_as_sdk_errors() {
    let e = engine();

    assert_all_refused(
        "AlterSDKError",
        vec![
            (
                "json and body",
                retrieve(&e, |r| {
                    r.json = Some(json!({"a": 1}));
                    r.body = Some(b"raw".to_vec());
                }),
            ),
            (
                "missing path param",
                retrieve(&e, |r| r.path_params = vec![("other".into(), "1".into())]),
            ),
            // PROTOCOL.md §6.1 step 7: the scheme check is an AlterSDKError in retrieve mode.
            (
                "ftp URL",
                retrieve(&e, |r| r.url = "ftp://files.example.com/x".into()),
            ),
            (
                "no scheme",
                retrieve(&e, |r| r.url = "api.example.com/v1".into()),
            ),
            (
                "javascript URL",
                retrieve(&e, |r| r.url = "javascript:alert(1)".into()),
            ),
        ],
    );

    // Without path parameters the URL is not templated; raw braces are still refused,
    // because HTTP stacks disagree on sending them (percent-encode them instead).
    let raw_braces = retrieve(&e, |r| {
        r.url = "HTTPS://api.example.com/{literal}".into();
        r.path_params.clear();
    })
    .unwrap_err();
    assert_eq!(raw_braces.class_name(), "AlterValueError");
    retrieve(&e, |r| {
        r.url = "HTTPS://api.example.com/%7Bliteral%7D".into();
        r.path_params.clear();
    })
    .unwrap();
}

#[test]
fn client_configuration_inputs() {
    let with_caller = |caller: &str| {
        let mut config = config();
        config.caller = Some(caller.to_owned());
        dropped(Engine::new(config, Arc::new(CountingEntropy::default())))
    };

    assert_all_refused(
        "AlterSDKError",
        vec![
            ("empty caller", with_caller("")),
            ("caller with LF", with_caller("a\nb")),
            ("caller with a tab", with_caller("a\tb")),
            ("non-ASCII caller", with_caller("café")),
            ("caller of 256 characters", with_caller(&"c".repeat(256))),
            (
                "bad key",
                dropped(alter_core::config::ApiKey::parse("sk_live_123")),
            ),
            ("empty key", dropped(alter_core::config::ApiKey::parse(""))),
            (
                "plain http base",
                dropped(alter_core::config::BaseUrl::parse("http://backend.example")),
            ),
            (
                "base with a query",
                dropped(alter_core::config::BaseUrl::parse(
                    "https://backend.example/?a=1",
                )),
            ),
        ],
    );

    with_caller(&"c".repeat(255)).unwrap();
    dropped(alter_core::config::BaseUrl::parse("http://127.0.0.1:8080")).unwrap();
}

#[test]
fn poll_durations_must_be_finite_and_not_negative() {
    assert_all_refused(
        "AlterValueError",
        vec![
            ("negative", dropped(duration_from_secs("timeout", -1.0))),
            ("NaN", dropped(duration_from_secs("timeout", f64::NAN))),
            (
                "infinite",
                dropped(duration_from_secs("timeout", f64::INFINITY)),
            ),
        ],
    );

    assert_eq!(
        duration_from_secs("poll_interval", 2.5).unwrap(),
        Duration::from_millis(2_500)
    );
}

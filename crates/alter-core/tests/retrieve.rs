//! Retrieve mode, `Engine::request` (PROTOCOL.md §5.1–5.3, §6, §16 D3, D5, D6): the token
//! call, credential injection, AWS SigV4, the provider call, the background audit row and
//! scope report, and the typed outcomes.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use alter_core::api::{GrantTarget, Retrieve, RetrieveRequest};
use alter_core::engine::DEFAULT_USER_AGENT;
use alter_core::{Engine, HttpRequest, Target};
use alter_types::Secret;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use serde_json::{Value, json};
use support::*;

const URL: &str = "https://api.example.com/v1/me";

/// A token answer: `tok_secret` for [`GRANT`] at provider `acme`, with `extra` fields
/// merged in (a JSON null removes a field).
fn token(extra: &Value) -> Answer {
    let mut body = json!({"access_token": "tok_secret", "grant_id": GRANT, "provider_id": "acme"});
    for (key, value) in extra.as_object().unwrap() {
        if value.is_null() {
            body.as_object_mut().unwrap().remove(key);
        } else {
            body[key] = value.clone();
        }
    }
    Answer::json(200, &body)
}

fn bearer() -> Answer {
    token(&json!({}))
}

fn get(url: &str) -> RetrieveRequest {
    RetrieveRequest::grant("GET", url, GRANT)
}

fn op(engine: &Arc<Engine>, request: RetrieveRequest) -> Retrieve {
    engine.request(request, None).unwrap()
}

/// Asserts the request carries neither the backend's API key (under any header name) nor
/// any `X-Alter-*` header.
fn assert_no_backend_headers(request: &HttpRequest) {
    assert_eq!(request.target, Target::Provider);
    for (name, value) in &request.headers {
        assert!(
            !name.to_ascii_lowercase().starts_with("x-alter-"),
            "{name} on {request:?}"
        );
        assert!(!value.contains(API_KEY), "the backend key in {name}");
    }
}

/// The audit row of a run: its one detached audit upload, as JSON.
fn audit_row<T>(run: &Run<T>) -> Value {
    let audits: Vec<&HttpRequest> = run
        .detaches()
        .into_iter()
        .filter(|r| r.path_and_query() == "/sdk/oauth/audit/api-call")
        .collect();
    assert_eq!(audits.len(), 1, "{:?}", run.trace());
    body_json(audits[0])
}

#[test]
fn a_bearer_token_is_fetched_injected_and_audited() {
    let engine = engine();
    let mut clock = Clock::new();

    let run = drive(
        op(&engine, get(URL)),
        &mut clock,
        [
            bearer(),
            Answer::json(200, &json!({"id": "me"})).after_ms(35),
        ],
    );

    assert_eq!(
        run.trace(),
        [
            "send POST /sdk/token".to_owned(),
            format!("provider GET {URL}"),
            "detach POST /sdk/oauth/audit/api-call".to_owned(),
        ]
    );

    let token_call = run.sends()[0];
    assert_eq!(
        body_text(token_call),
        format!(
            r#"{{"grant_id":"{GRANT}","reason":null,"request":{{"method":"GET","url":"{URL}"}}}}"#
        )
    );
    assert_eq!(header(token_call, "Content-Type"), "application/json");
    assert!(verifies(token_call));

    let provider = run.provider_request();
    assert_eq!(provider.method, "GET");
    assert_eq!(provider.url, URL);
    assert_eq!(
        provider.headers,
        [
            ("Authorization".to_owned(), "Bearer tok_secret".to_owned()),
            ("User-Agent".to_owned(), DEFAULT_USER_AGENT.to_owned()),
        ]
    );
    assert!(provider.body.is_empty());
    assert_eq!(provider.timeout, Some(alter_core::engine::DEFAULT_TIMEOUT));
    assert_no_backend_headers(provider);

    let audit = run.detaches()[0];
    assert!(verifies(audit));
    assert_eq!(header(audit, "Content-Type"), "application/json");
    let row = audit_row(&run);
    let keys: Vec<&str> = row
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "grant_id",
            "provider_id",
            "method",
            "url",
            "request_headers",
            "request_body",
            "response_status",
            "response_headers",
            "response_body",
            "latency_ms",
            "reason",
            "context",
        ]
    );
    assert_eq!(
        row,
        json!({
            "grant_id": GRANT,
            "provider_id": "acme",
            "method": "GET",
            "url": URL,
            "request_headers": {"User-Agent": DEFAULT_USER_AGENT},
            "request_body": null,
            "response_status": 200,
            "response_headers": {"content-type": "application/json"},
            "response_body": r#"{"id":"me"}"#,
            "latency_ms": 35,
            "reason": null,
            "context": null,
        })
    );

    let response = run.ok();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, br#"{"id":"me"}"#);
    assert_eq!(response.retry_info, None);
}

#[test]
fn provider_mode_sends_the_documented_token_body() {
    let mut request = RetrieveRequest::provider("POST", URL, "google");
    request.target = GrantTarget::Provider {
        provider: "google".into(),
        account: Some("jane@example.com".into()),
        app_user_id: Some("u-7".into()),
    };
    request.reason = Some("sync ✓".into());
    request.user_token = Some(Secret::new("jwt-explicit"));

    let run = drive(
        engine()
            .request(request, Some(&Secret::new("jwt-getter")))
            .unwrap(),
        &mut Clock::new(),
        [bearer(), Answer::status(204)],
    );

    assert_eq!(
        body_text(run.sends()[0]),
        format!(
            r#"{{"provider_id":"google","reason":"sync \u2713","request":{{"method":"POST","url":"{URL}"}},"user_token":"jwt-explicit","app_user_id":"u-7","account":"jane@example.com"}}"#
        )
    );
}

#[test]
fn the_token_getter_answer_is_sent_when_the_request_has_no_token() {
    let run = drive(
        engine()
            .request(get(URL), Some(&Secret::new("jwt-getter")))
            .unwrap(),
        &mut Clock::new(),
        [bearer(), Answer::status(200)],
    );

    assert_eq!(body_json(run.sends()[0])["user_token"], "jwt-getter");
}

#[test]
fn a_custom_injection_header_and_format_are_used() {
    // (injection_header, injection_format, header sent)
    let cases = [
        (
            Some("X-API-Key"),
            Some("{token}"),
            ("X-API-Key", "tok_secret"),
        ),
        (
            None,
            Some("Basic {token}"),
            ("Authorization", "Basic tok_secret"),
        ),
        (
            Some("Authorization"),
            Some("Bot {token} {token}"),
            ("Authorization", "Bot tok_secret {token}"),
        ),
        (Some("X-Key"), None, ("X-Key", "Bearer tok_secret")),
    ];

    for (name, format, (sent_name, sent_value)) in cases {
        let run = drive(
            op(&engine(), get(URL)),
            &mut Clock::new(),
            [
                token(&json!({"injection_header": name, "injection_format": format})),
                Answer::status(200),
            ],
        );

        let provider = run.provider_request();
        assert_eq!(
            header(provider, sent_name),
            sent_value,
            "{name:?} {format:?}"
        );
        assert_no_backend_headers(provider);
        let audit = audit_row(&run);
        assert!(
            audit["request_headers"].get(sent_name).is_none(),
            "the credential header is not audited"
        );
    }
}

#[test]
fn a_caller_header_of_the_same_name_is_replaced_whatever_its_case() {
    let mut request = get(URL);
    request.extra_headers = vec![
        ("authorization".into(), "Bearer mine".into()),
        ("X-Trace".into(), "t-1".into()),
        ("AUTHORIZATION".into(), "Bearer again".into()),
        ("user-agent".into(), "caller-agent/1".into()),
    ];

    let run = drive(
        op(&engine(), request),
        &mut Clock::new(),
        [bearer(), Answer::status(200)],
    );

    let provider = run.provider_request();
    let authorizations: Vec<&str> = provider
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.as_str())
        .collect();
    assert_eq!(authorizations, ["Bearer tok_secret"]);
    assert_eq!(header(provider, "X-Trace"), "t-1");
    assert_eq!(header(provider, "User-Agent"), "caller-agent/1");
    assert_eq!(
        provider
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("user-agent"))
            .count(),
        1
    );
}

#[test]
fn additional_injections_add_query_parameters_and_headers() {
    let mut request = get("https://api.example.com/v1/items?page=2");
    request.query_params = vec![("q".into(), json!("a b"))];

    let run = drive(
        op(&engine(), request),
        &mut Clock::new(),
        [
            token(&json!({
                "additional_credentials": {"account_id": "acc-9", "empty": ""},
                "additional_injections": [
                    {"target": "query_param", "key": "api_key", "value_source": "token"},
                    {"target": "header", "key": "X-Account", "value_source": "additional_credentials.account_id"},
                    {"target": "header", "key": "1bad", "value_source": "token"},
                    {"target": "header", "key": "X-Empty", "value_source": "additional_credentials.empty"},
                    {"target": "header", "key": "X-Missing", "value_source": "additional_credentials.nope"},
                    {"target": "cookie", "key": "session", "value_source": "token"},
                ],
            })),
            Answer::status(200),
        ],
    );

    let provider = run.provider_request();
    assert_eq!(
        provider.url,
        "https://api.example.com/v1/items?page=2&q=a+b&api_key=tok_secret"
    );
    assert_eq!(header(provider, "X-Account"), "acc-9");
    for skipped in ["1bad", "X-Empty", "X-Missing", "Cookie", "session"] {
        assert_eq!(provider.header(skipped), None, "{skipped}");
    }
    assert_no_backend_headers(provider);

    let row = audit_row(&run);
    assert_eq!(row["url"], "https://api.example.com/v1/items?page=2");
    assert_eq!(
        row["request_headers"],
        json!({"User-Agent": DEFAULT_USER_AGENT}),
        "credential headers are left out"
    );
}

#[test]
fn query_parameters_are_appended_to_the_url_query() {
    let mut request = get("https://api.example.com/search?v=2#frag");
    request.query_params = vec![
        ("q".into(), json!("Zürich & co")),
        ("tags".into(), json!(["a", "b"])),
        ("exact".into(), json!(true)),
        ("none".into(), Value::Null),
        ("n".into(), json!(1.5)),
    ];

    let run = drive(
        op(&engine(), request),
        &mut Clock::new(),
        [bearer(), Answer::status(200)],
    );

    assert_eq!(
        run.provider_request().url,
        "https://api.example.com/search?v=2&q=Z%C3%BCrich+%26+co&tags=a&tags=b&exact=true&none=&n=1.5"
    );
    assert_eq!(
        body_json(run.sends()[0])["request"]["url"],
        "https://api.example.com/search?v=2#frag",
        "the token call names the URL without the query parameters"
    );
}

#[test]
fn path_parameters_are_templated_before_the_token_call() {
    let mut request = get("https://api.notion.com/v1/pages/{page_id}/{{raw}}");
    request.path_params = vec![("page_id".into(), "pg 42/α".into())];

    let run = drive(
        op(&engine(), request),
        &mut Clock::new(),
        [bearer(), Answer::status(200)],
    );

    let templated = "https://api.notion.com/v1/pages/pg%2042%2F%CE%B1/%7Braw%7D";
    assert_eq!(body_json(run.sends()[0])["request"]["url"], templated);
    assert_eq!(run.provider_request().url, templated);
    assert_eq!(audit_row(&run)["url"], templated);
}

#[test]
fn credential_values_with_cr_lf_or_nul_fail_before_the_provider_call() {
    // (token fields, a secret the error must not quote)
    let cases = [
        (json!({"access_token": "tok\r\nX-Evil: 1"}), "X-Evil"),
        (json!({"access_token": "s3cr3t\u{0}"}), "s3cr3t"),
        (
            json!({"injection_format": "Bearer {token}\r\n"}),
            "tok_secret",
        ),
        (json!({"injection_header": "X-Key\r\nX-Evil"}), "tok_secret"),
        (json!({"injection_header": "X Key"}), "tok_secret"),
        (
            json!({"additional_credentials": {"account_id": "acc\n9"}}),
            "acc\n9",
        ),
        (
            json!({"additional_credentials": {"secret_key": "s3cr3t\r"}, "injection_format": "AWS4-HMAC-SHA256"}),
            "s3cr3t",
        ),
    ];

    for (case, secret) in cases {
        let run = drive(op(&engine(), get(URL)), &mut Clock::new(), [token(&case)]);

        assert_eq!(run.kinds(), ["send"], "{case}");
        assert!(run.detaches().is_empty(), "{case}");
        let error = run.err();
        assert!(error.is_backend(), "{case}: {error}");
        assert_eq!(error.class_name(), "BackendError", "{case}");
        assert!(
            !format!("{error} {error:?}").contains(secret),
            "{case}: no credential in the error"
        );
    }
}

#[test]
fn a_sigv4_credential_signs_the_merged_query() {
    let mut clock = Clock::new();
    let url = "https://dynamodb.us-east-1.amazonaws.com/items?x=1";
    let mut request = get(url);
    request.query_params = vec![("b".into(), json!("2 3+4")), ("a".into(), json!("1"))];
    let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    let run = drive(
        op(&engine(), request),
        &mut clock,
        [
            token(&json!({
                "access_token": "AKIDEXAMPLE",
                "injection_format": "AWS4-HMAC-SHA256",
                "additional_credentials": {"secret_key": secret, "region": "eu-west-1"},
            })),
            Answer::status(200),
        ],
    );

    let provider = run.provider_request();
    assert!(provider.url.starts_with(url), "{}", provider.url);
    assert!(provider.url.contains("b=2%203%2B4"), "{}", provider.url);
    assert!(provider.url.contains("a=1"), "{}", provider.url);
    assert!(!provider.url.contains('+'), "AWS encoding never uses '+'");
    assert_eq!(header(provider, "x-amz-date"), "20260101T000000Z");
    assert_no_backend_headers(provider);

    let sent = header(provider, "Authorization");
    assert!(
        sent.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="),
        "{sent}"
    );
    let oracle =
        |signed_url: &str| oracle_authorization(signed_url, "AKIDEXAMPLE", secret, clock.wall());
    assert_eq!(
        sent,
        oracle(&provider.url),
        "the oracle signs the sent URL the same way"
    );
    assert_ne!(sent, oracle(url), "the query parameters are covered");

    let row = audit_row(&run);
    assert_eq!(row["url"], url);
    assert_eq!(
        row["request_headers"],
        json!({"User-Agent": DEFAULT_USER_AGENT})
    );
}

/// The `Authorization` the `aws-sigv4` crate computes for a body-less GET of `url` in
/// `us-east-1` / `dynamodb`.
fn oracle_authorization(url: &str, akid: &str, secret: &str, at: SystemTime) -> String {
    let identity = Credentials::new(akid, secret, None, None, "oracle").into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("dynamodb")
        .time(at)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let request =
        SignableRequest::new("GET", url, std::iter::empty(), SignableBody::Bytes(b"")).unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    instructions
        .headers()
        .find(|(name, _)| *name == "authorization")
        .map(|(_, value)| value.to_owned())
        .unwrap()
}

#[test]
fn a_sigv4_json_body_is_sent_as_hashed_and_audited_without_credentials() {
    let mut request = RetrieveRequest::grant(
        "POST",
        "https://execute-api.eu-west-1.amazonaws.com/prod/items",
        GRANT,
    );
    request.json = Some(json!({"name": "widget", "qty": 2}));

    let run = drive(
        op(&engine(), request),
        &mut Clock::new(),
        [
            token(&json!({
                "access_token": "AKID",
                "injection_format": "AWS4-HMAC-SHA256",
                "additional_credentials": {"secret_key": "SECRET"},
            })),
            Answer::status(200),
        ],
    );

    let provider = run.provider_request();
    assert_eq!(provider.body, br#"{"name": "widget", "qty": 2}"#);
    assert_eq!(
        header(provider, "x-amz-content-sha256"),
        alter_core::signing::content_sha256(&provider.body)
    );
    assert_eq!(header(provider, "Content-Type"), "application/json");

    let row = audit_row(&run);
    assert_eq!(row["request_body"], json!({"name": "widget", "qty": 2}));
    let audited = row["request_headers"].as_object().unwrap();
    for name in audited.keys() {
        let lower = name.to_ascii_lowercase();
        assert!(
            lower != "authorization" && !lower.starts_with("x-amz-"),
            "{name}"
        );
    }
    // As in the reference row of `app.request.sigv4`: the SigV4 request lists its JSON type.
    assert_eq!(
        audited.get("Content-Type"),
        Some(&json!("application/json"))
    );
}

#[test]
fn the_audit_row_lists_the_answer_with_redactions() {
    let engine = engine_with(|config| config.caller = Some("main-app".into()));
    let mut request = RetrieveRequest::grant("POST", URL, GRANT);
    request.body = Some(b"plain text".to_vec());
    request.extra_headers = vec![
        ("Content-Type".into(), "text/plain".into()),
        ("Cookie".into(), "sid=secret".into()),
        ("X-Request-Id".into(), "req-7".into()),
    ];
    request.reason = Some("nightly sync".into());
    request.context = Some(vec![("ticket".into(), "SUP-1".into())]);

    let run = drive(
        op(&engine, request),
        &mut Clock::new(),
        [
            bearer(),
            Answer::raw(201, "créé".as_bytes())
                .header("Content-Type", "text/plain; charset=utf-8")
                .header("Set-Cookie", "s=1")
                .header("X-Rate", "1")
                .header("x-rate", "2")
                .header("X-Auth-Token", "t"),
        ],
    );

    let provider = run.provider_request();
    assert_eq!(provider.body, b"plain text");
    assert_eq!(header(provider, "Content-Type"), "text/plain");

    let audit = run.detaches()[0];
    assert_eq!(header(audit, "X-Alter-Context"), r#"{"ticket":"SUP-1"}"#);
    assert_eq!(header(audit, "X-Alter-Caller"), "main-app");
    assert_eq!(
        header(run.sends()[0], "X-Alter-Context"),
        r#"{"ticket":"SUP-1"}"#
    );
    let row = audit_row(&run);
    assert_eq!(
        row["request_headers"],
        json!({"Content-Type": "text/plain", "X-Request-Id": "req-7", "User-Agent": DEFAULT_USER_AGENT})
    );
    assert_eq!(row["request_body"], "plain text");
    assert_eq!(row["response_status"], 201);
    assert_eq!(
        row["response_headers"],
        json!({"content-type": "text/plain; charset=utf-8", "x-rate": "1, 2"})
    );
    assert_eq!(row["response_body"], "créé");
    assert_eq!(row["reason"], "nightly sync");
    assert_eq!(row["context"], json!({"ticket": "SUP-1"}));
    assert_eq!(run.ok().status, 201);
}

#[test]
fn the_audit_row_leaves_out_the_content_type_the_sdk_adds_for_json() {
    // §6.8: headers the SDK adds for a JSON body are not listed; the reference audit row of
    // `app.request.api_key_header_post` lists only the User-Agent.
    let mut request = RetrieveRequest::grant("POST", URL, GRANT);
    request.json = Some(json!({"to": "ops", "text": "héllo"}));

    let run = drive(
        op(&engine(), request),
        &mut Clock::new(),
        [
            token(&json!({"injection_header": "X-API-Key", "injection_format": "{token}"})),
            Answer::status(201),
        ],
    );

    let provider = run.provider_request();
    assert_eq!(header(provider, "Content-Type"), "application/json");
    assert_eq!(
        serde_json::from_slice::<Value>(&provider.body).unwrap(),
        json!({"to": "ops", "text": "héllo"})
    );
    let row = audit_row(&run);
    assert_eq!(row["request_body"], json!({"to": "ops", "text": "héllo"}));
    assert_eq!(
        row["request_headers"],
        json!({"User-Agent": DEFAULT_USER_AGENT})
    );
}

#[test]
fn the_audit_row_lists_a_content_type_the_caller_set_for_json() {
    let mut request = RetrieveRequest::grant("POST", URL, GRANT);
    request.json = Some(json!({"a": 1}));
    request.extra_headers = vec![("content-type".into(), "application/vnd.api+json".into())];

    let run = drive(
        op(&engine(), request),
        &mut Clock::new(),
        [bearer(), Answer::status(200)],
    );

    let provider = run.provider_request();
    assert_eq!(header(provider, "Content-Type"), "application/vnd.api+json");
    assert_eq!(
        provider
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .count(),
        1
    );
    assert_eq!(
        audit_row(&run)["request_headers"],
        json!({"content-type": "application/vnd.api+json", "User-Agent": DEFAULT_USER_AGENT})
    );
}

#[test]
fn an_insufficient_scope_challenge_reports_and_asks_for_reauthorization() {
    let engine = engine();
    // An actor id in the cache must not reach the report.
    drive(
        engine.scopes_list(),
        &mut Clock::new(),
        [Answer::json(200, &scope_catalog()).header("X-Alter-Actor-ID", ACTOR)],
    )
    .ok();
    let challenge =
        r#"Bearer realm="api", error="insufficient_scope", scope="chat:write  files:read""#;
    let mut request = get(URL);
    request.context = Some(vec![("run".into(), "r-1".into())]);

    let run = drive(
        op(&engine, request),
        &mut Clock::new(),
        [
            bearer(),
            Answer::json(403, &json!({"error": "insufficient_scope"}))
                .header("WWW-Authenticate", challenge),
        ],
    );

    assert_eq!(
        run.trace(),
        [
            "send POST /sdk/token".to_owned(),
            format!("provider GET {URL}"),
            "detach POST /sdk/oauth/audit/api-call".to_owned(),
            format!("detach POST /sdk/grants/{GRANT}/report-scope-mismatch"),
        ]
    );
    assert_eq!(audit_row(&run)["response_status"], 403);

    let report = run.detaches()[1];
    assert_eq!(report.timeout, Some(Duration::from_secs(2)));
    assert_eq!(report.header("X-Alter-Actor-ID"), None);
    assert_eq!(report.header("X-Alter-Context"), None);
    assert_eq!(header(report, "Content-Type"), "application/json");
    assert!(verifies(report));
    let body = body_json(report);
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "provider_status_code",
            "provider_error_code",
            "missing_scopes",
            "raw_www_authenticate",
            "api_endpoint",
            "detection_source",
            "sdk_correlation_id",
        ]
    );
    assert_eq!(body["provider_status_code"], 403);
    assert_eq!(body["provider_error_code"], "insufficient_scope");
    assert_eq!(body["missing_scopes"], json!(["chat:write", "files:read"]));
    assert_eq!(body["raw_www_authenticate"], challenge);
    assert_eq!(body["api_endpoint"], URL);
    assert_eq!(body["detection_source"], "www_authenticate_rfc6750");
    let correlation = body["sdk_correlation_id"].as_str().unwrap();
    assert_eq!(correlation.len(), 22);
    assert!(
        correlation
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );

    let error = run.err();
    assert_eq!(error.class_name(), "ScopeReauthRequiredError");
    assert_eq!(error.status(), Some(403));
    let alter_core::Error::ScopeReauthRequired { failure } = &error else {
        panic!("a scope re-authorization error")
    };
    assert_eq!(
        failure.missing_scopes.as_deref(),
        Some(&["chat:write".to_owned(), "files:read".to_owned()][..])
    );
    assert_eq!(failure.grant_id.as_deref(), Some(GRANT));
    assert_eq!(failure.provider_id.as_deref(), Some("acme"));
    assert_eq!(
        failure.response_body.as_deref(),
        Some(r#"{"error":"insufficient_scope"}"#)
    );
    assert_eq!(
        failure.details,
        *json!({
            "grant_id": GRANT,
            "provider_id": "acme",
            "method": "GET",
            "url": URL,
            "source": "provider_insufficient_scope",
            "missing_scopes": ["chat:write", "files:read"],
            "www_authenticate": challenge,
        })
        .as_object()
        .unwrap()
    );
}

#[test]
fn the_backend_scope_mismatch_flag_turns_a_403_into_reauthorization() {
    let run = drive(
        op(&engine(), get(URL)),
        &mut Clock::new(),
        [
            token(&json!({"scope_mismatch": true})),
            Answer::raw(403, b"forbidden")
                .header("WWW-Authenticate", r#"Bearer error="invalid_token""#),
        ],
    );

    assert_eq!(run.detaches().len(), 1, "an audit row but no report");
    let error = run.err();
    assert_eq!(error.class_name(), "ScopeReauthRequiredError");
    let details = error.details().unwrap();
    assert_eq!(details["source"], "backend_flag");
    let alter_core::Error::ScopeReauthRequired { failure } = &error else {
        panic!("a scope re-authorization error")
    };
    assert_eq!(failure.missing_scopes, None);
}

#[test]
fn other_provider_errors_become_provider_api_errors() {
    // (status, WWW-Authenticate, scope_mismatch flag)
    let cases = [
        (500, None, false),
        (404, None, true),
        (403, None, false),
        (403, Some(r#"Basic error="insufficient_scope""#), false),
        (401, Some(r#"Bearer error="insufficient_scope""#), false),
    ];

    for (code, challenge, flag) in cases {
        let mut answer = Answer::raw(code, b"boom");
        if let Some(challenge) = challenge {
            answer = answer.header("WWW-Authenticate", challenge);
        }
        let run = drive(
            op(&engine(), get(URL)),
            &mut Clock::new(),
            [token(&json!({"scope_mismatch": flag})), answer],
        );

        assert_eq!(run.detaches().len(), 1, "{code}: only the audit row");
        let error = run.err();
        assert_eq!(
            error.class_name(),
            "ProviderAPIError",
            "{code} {challenge:?}"
        );
        assert_eq!(error.status(), Some(code));
        let alter_core::Error::ProviderApi { failure } = &error else {
            panic!("a provider API error")
        };
        assert_eq!(failure.response_body.as_deref(), Some("boom"));
        assert_eq!(
            failure.details,
            *json!({"grant_id": GRANT, "method": "GET", "url": URL})
                .as_object()
                .unwrap()
        );
    }
}

#[test]
fn provider_mode_errors_name_no_grant() {
    let run = drive(
        engine()
            .request(RetrieveRequest::provider("GET", URL, "acme"), None)
            .unwrap(),
        &mut Clock::new(),
        [bearer(), Answer::status(500)],
    );

    assert_eq!(run.err().details().unwrap()["grant_id"], Value::Null);
}

#[test]
fn raw_mode_returns_error_answers() {
    let mut request = get(URL);
    request.raw = true;

    let run = drive(
        op(&engine(), request),
        &mut Clock::new(),
        [
            bearer(),
            Answer::raw(500, b"upstream down").header("X-Err", "1"),
        ],
    );

    assert_eq!(run.detaches().len(), 1);
    let response = run.ok();
    assert_eq!(response.status, 500);
    assert_eq!(response.body, b"upstream down");
    assert_eq!(response.header("x-err"), Some("1"));
}

#[test]
fn redirects_are_returned_as_they_are() {
    let run = drive(
        op(&engine(), get(URL)),
        &mut Clock::new(),
        [
            bearer(),
            Answer::status(302).header("Location", "https://elsewhere.example/"),
        ],
    );

    let response = run.ok();
    assert_eq!(response.status, 302);
    assert_eq!(
        response.header("Location"),
        Some("https://elsewhere.example/")
    );
}

#[test]
fn a_provider_transport_failure_is_audited_then_typed() {
    // (failure, audited body, class, may have reached the provider)
    let cases = [
        (
            Answer::io(),
            "<transport error: connection reset by peer>",
            "NetworkError",
            true,
        ),
        (
            Answer::timeout(),
            "<transport error: timeout after 30000ms>",
            "TimeoutError",
            true,
        ),
        (
            Answer::connect(),
            "<transport error: connection refused>",
            "NetworkError",
            false,
        ),
    ];

    for (failure, audited, class, reached) in cases {
        let run = drive(
            op(&engine(), get(URL)),
            &mut Clock::new(),
            [bearer(), failure.after_ms(12)],
        );

        assert_eq!(run.kinds(), ["send", "provider", "detach"], "{class}");
        let row = audit_row(&run);
        assert_eq!(row["response_status"], 0);
        assert_eq!(row["response_headers"], Value::Null);
        assert_eq!(row["response_body"], audited);
        assert_eq!(row["latency_ms"], 12);
        assert_eq!(row["provider_id"], "acme");

        let error = run.err();
        assert_eq!(error.class_name(), class);
        assert_eq!(error.may_have_reached_server(), reached, "{class}");
        let details = error.details().unwrap();
        assert_eq!(details["grant_id"], GRANT);
        assert_eq!(details["method"], "GET");
        assert_eq!(details["url"], URL);
        assert!(details.contains_key("error"));
    }
}

#[test]
fn a_provider_call_is_never_retried() {
    let run = drive(
        op(&engine(), get(URL)),
        &mut Clock::new(),
        [bearer(), Answer::status(503).header("Retry-After", "1")],
    );

    assert_eq!(run.sends_to(Target::Provider).len(), 1);
    assert_eq!(run.err().status(), Some(503));
}

#[test]
fn a_grant_id_that_is_not_a_uuid_sends_no_audit_row() {
    for grant_id in [json!("grant-abc"), json!(42)] {
        let run = drive(
            op(&engine(), get(URL)),
            &mut Clock::new(),
            [token(&json!({"grant_id": grant_id})), Answer::status(200)],
        );

        assert_eq!(run.kinds(), ["send", "provider"], "{grant_id}");
        run.ok();
    }
}

#[test]
fn the_audit_row_names_the_grant_in_canonical_form() {
    let run = drive(
        op(&engine(), get(URL)),
        &mut Clock::new(),
        [
            token(&json!({"grant_id": "0B6F7C8D9E0A4B1C8D2E3F4A5B6C7D8E", "provider_id": ""})),
            Answer::status(200),
        ],
    );

    let row = audit_row(&run);
    assert_eq!(row["grant_id"], GRANT);
    assert_eq!(row["provider_id"], "");
}

#[test]
fn a_token_error_ends_the_call_before_the_provider() {
    // (answer, class)
    let cases = [
        (
            Answer::json(
                404,
                &json!({"detail": {"error": "grant_not_found", "message": "No grant"}}),
            ),
            "GrantNotFoundError",
        ),
        (
            Answer::json(
                403,
                &json!({"error": "policy_denied", "message": "Outside hours"}),
            ),
            "PolicyViolationError",
        ),
        (Answer::raw(200, b"{\"grant_id\":\"g\"}"), "BackendError"),
        (Answer::raw(200, b"<html>"), "BackendError"),
    ];

    for (answer, class) in cases {
        let run = drive(op(&engine(), get(URL)), &mut Clock::new(), [answer]);

        assert_eq!(run.kinds(), ["send"], "{class}");
        assert_eq!(run.err().class_name(), class);
    }
}

#[test]
fn the_token_call_is_retried_like_any_read() {
    let run = drive(
        op(&engine(), get(URL)),
        &mut Clock::new(),
        [
            Answer::status(503).header("Retry-After", "1"),
            Answer::connect(),
            bearer(),
            Answer::status(200),
        ],
    );

    assert_eq!(
        run.kinds(),
        ["send", "wait", "send", "wait", "send", "provider", "detach"]
    );
    let tokens = run.sends_to(Target::Backend);
    assert_ne!(
        header(tokens[0], "X-Alter-Nonce"),
        header(tokens[1], "X-Alter-Nonce")
    );
    run.ok();
}

#[test]
fn last_retry_info_comes_from_the_token_answer_and_is_reset_at_start() {
    let engine = engine();
    let retry_info = json!({
        "total_attempts": 2,
        "successful_attempt": 2,
        "errors": [{"attempt": 1, "error": "upstream 503", "error_type": "transient_refresh", "delay_s": 0.5, "permanent": false}],
    });

    let run = drive(
        op(&engine, get(URL)),
        &mut Clock::new(),
        [
            token(&json!({"retry_info": retry_info})),
            Answer::status(500),
        ],
    );
    assert_eq!(run.err().class_name(), "ProviderAPIError");
    let info = engine
        .last_retry_info()
        .expect("set even though the provider failed");
    assert_eq!((info.total_attempts, info.successful_attempt), (2, 2));
    assert_eq!(info.errors[0].error_type, "transient_refresh");

    // Reset as soon as the next call starts, before any answer.
    let mut next = op(&engine, get(URL));
    let clock = Clock::new();
    let first = alter_core::Operation::start(&mut next, clock.now());
    assert!(matches!(first, alter_core::Step::Send(_)));
    assert_eq!(engine.last_retry_info(), None);

    // A token answer with invalid retry info leaves it unset; a valid one shows on the response.
    let run = drive(
        op(&engine, get(URL)),
        &mut Clock::new(),
        [
            token(&json!({"retry_info": {"total_attempts": 0}})),
            Answer::status(200),
        ],
    );
    assert_eq!(run.ok().retry_info, None);
    assert_eq!(engine.last_retry_info(), None);

    let run = drive(
        op(&engine, get(URL)),
        &mut Clock::new(),
        [
            token(&json!({"retry_info": retry_info})),
            Answer::status(200),
        ],
    );
    assert_eq!(run.ok().retry_info.map(|i| i.total_attempts), Some(2));
}

#[test]
fn a_failed_token_call_leaves_no_stale_retry_info() {
    let engine = engine();
    drive(
        op(&engine, get(URL)),
        &mut Clock::new(),
        [
            token(&json!({"retry_info": {"total_attempts": 1, "successful_attempt": 1}})),
            Answer::status(200),
        ],
    )
    .ok();
    assert!(engine.last_retry_info().is_some());

    let run = drive(
        op(&engine, get(URL)),
        &mut Clock::new(),
        [Answer::status(404)],
    );

    assert_eq!(run.err().class_name(), "GrantNotFoundError");
    assert_eq!(engine.last_retry_info(), None);
}

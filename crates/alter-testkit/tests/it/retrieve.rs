//! Retrieve mode end to end: token, credential injection by the core, the fake provider's
//! checks, audit rows and scope-mismatch reports.

use alter_core::api::RetrieveRequest;
use alter_testkit::{AuditSource, FakeAlter, GrantSpec, Listener, ScopeMismatch};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::{Client, plain, send};

fn get(
    client: &Client,
    url: &str,
    grant: &str,
) -> Result<alter_core::api::ProviderResponse, alter_core::Error> {
    client.run(
        client
            .engine
            .request(RetrieveRequest::grant("GET", url, grant), None)
            .unwrap(),
    )
}

#[test]
fn every_injection_style_lands_exactly_where_the_provider_expects_it() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let agent = Client::new(&fake, fake.agent_key());
    let url = format!("{}/protected/resource?page=2", fake.provider_base_url());
    let g = fake.grants();

    let cases = [
        (&app, &g.oauth_bearer, vec!["header:authorization"]),
        (&app, &g.api_key_header, vec!["header:x-api-key"]),
        (
            &app,
            &g.query_param,
            vec!["header:x-api-key", "query:api_key"],
        ),
        (
            &app,
            &g.multi_header,
            vec!["header:authorization", "header:x-account-id"],
        ),
        (&app, &g.aws_sigv4, vec!["header:authorization"]),
        (&agent, &g.agent_delegated, vec!["header:authorization"]),
        (&agent, &g.managed_secret_agent, vec!["header:x-acme-key"]),
    ];
    for (client, grant, placements) in cases {
        let response = get(client, &url, grant).unwrap();
        let verdict: Value = response.json().unwrap();
        assert_eq!(response.status, 200, "{grant}: {verdict}");
        assert_eq!(verdict["grant_id"], grant.as_str());
        assert_eq!(verdict["placements"], json!(placements));
    }

    // A POST with a JSON body, signed with SigV4.
    let mut post = RetrieveRequest::grant(
        "POST",
        format!("{}/protected/aws", fake.provider_base_url()),
        &g.aws_sigv4,
    );
    post.json = Some(json!({"item": "widget", "qty": 2}));
    let response = app.run(app.engine.request(post, None).unwrap()).unwrap();
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
}

#[test]
fn the_provider_refuses_a_credential_in_the_wrong_place() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let url = format!("{}/echo/peek", fake.provider_base_url());
    let echoed: Value = get(&app, &url, &fake.grants().oauth_bearer)
        .unwrap()
        .json()
        .unwrap();
    let header = echoed["headers"]["authorization"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = header.trim_start_matches("Bearer ");

    let misplaced = plain(
        "GET",
        &format!(
            "{}/protected/x?access_token={token}",
            fake.provider_base_url()
        ),
        b"",
    );
    let response = send(&misplaced).unwrap();
    assert_eq!(response.status, 401);
    let error = app.run(
        app.engine
            .request(
                RetrieveRequest::grant(
                    "GET",
                    format!("{}/protected/x", fake.provider_base_url()),
                    "no-such",
                ),
                None,
            )
            .unwrap(),
    );
    assert_eq!(error.unwrap_err().class_name(), "GrantNotFoundError");
}

#[test]
fn echo_describes_what_arrived_and_never_the_api_key() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let mut request = RetrieveRequest::grant(
        "PUT",
        format!("{}/echo/items/7?x=1", fake.provider_base_url()),
        &fake.grants().api_key_header,
    );
    request.json = Some(json!({"name": "Zoë"}));
    request.extra_headers = vec![("X-Trace".into(), "t-1".into())];
    request.query_params = vec![("y".into(), json!("a b"))];

    let echoed: Value = app
        .run(app.engine.request(request, None).unwrap())
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(echoed["method"], "PUT");
    assert_eq!(echoed["path"], "/echo/items/7");
    assert_eq!(echoed["query"], "x=1&y=a+b");
    assert_eq!(echoed["headers"]["x-trace"], "t-1");
    let body = base64::engine::general_purpose::STANDARD
        .decode(echoed["body_b64"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({"name": "Zoë"})
    );
    assert!(!echoed.to_string().contains(fake.app_key()));
    assert!(echoed["headers"].get("x-api-key").is_some());
}

#[test]
fn audit_rows_and_scope_reports_are_stored() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let mut request = RetrieveRequest::grant(
        "GET",
        format!("{}/echo/audited", fake.provider_base_url()),
        &fake.grants().oauth_bearer,
    );
    request.reason = Some("nightly sync".into());
    request.context = Some(vec![("run_id".into(), "r-1".into())]);
    app.run(app.engine.request(request, None).unwrap()).unwrap();

    let rows = fake.audit_rows();
    assert_eq!(rows.len(), 1);
    let log = rows[0].log.as_ref().expect("typed audit row");
    assert_eq!(
        (rows[0].source, log.grant_id.as_str()),
        (AuditSource::Sdk, fake.grants().oauth_bearer.as_str())
    );
    assert_eq!(
        (log.response_status, log.reason.as_deref()),
        (200, Some("nightly sync"))
    );
    assert_eq!(log.provider_id, "google");
    assert!(
        rows[0]
            .context_header
            .as_deref()
            .is_some_and(|c| c.contains("r-1"))
    );

    let scoped = format!(
        "{}/status/403?scope=calendar.read%20calendar.write",
        fake.provider_base_url()
    );
    let error = get(&app, &scoped, &fake.grants().oauth_bearer).unwrap_err();
    let alter_core::Error::ScopeReauthRequired { failure } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        failure.missing_scopes.as_deref(),
        Some(&["calendar.read".to_owned(), "calendar.write".to_owned()][..])
    );
    let reports = fake.scope_reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].grant_id, fake.grants().oauth_bearer);
    assert_eq!(
        reports[0].body["missing_scopes"],
        json!(["calendar.read", "calendar.write"])
    );
    assert_eq!(fake.audit_rows().len(), 2);
}

#[test]
fn provider_statuses_and_redirects() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let base = fake.provider_base_url();
    let grant = &fake.grants().oauth_bearer;

    let error = get(&app, &format!("{base}/status/500"), grant).unwrap_err();
    assert_eq!(
        (error.class_name(), error.status()),
        ("ProviderAPIError", Some(500))
    );
    let error = get(&app, &format!("{base}/status/401"), grant).unwrap_err();
    assert_eq!(error.class_name(), "ProviderAPIError");

    let redirect = get(&app, &format!("{base}/status/302?to=backend"), grant).unwrap();
    assert_eq!(redirect.status, 302);
    assert!(
        redirect
            .header("location")
            .unwrap()
            .ends_with("/_testkit/redirected")
    );
    let same_host = get(&app, &format!("{base}/status/307"), grant).unwrap();
    assert!(same_host.header("location").unwrap().starts_with(base));
    assert_eq!(fake.route_hits("* /_testkit/redirected"), 0);
    assert_eq!(fake.route_hits("* /echo/redirected"), 0);
    let provider_hits = fake
        .recorded_requests()
        .iter()
        .filter(|r| r.listener == Listener::Provider)
        .count();
    assert_eq!(provider_hits, 4);
}

#[test]
fn token_flags_reach_the_sdk() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let retry_info = json!({"total_attempts": 2, "successful_attempt": 2,
        "errors": [{"attempt": 1, "error": "upstream 503", "error_type": "transient_refresh", "delay_s": 0.5}]});
    let id = fake
        .add_grant(
            &GrantSpec::oauth("x")
                .retry_info(retry_info)
                .scope_mismatch(ScopeMismatch::Flag),
        )
        .unwrap();

    let response = get(&app, &format!("{}/echo/x", fake.provider_base_url()), &id).unwrap();
    assert_eq!(
        response.retry_info.as_ref().map(|r| r.total_attempts),
        Some(2)
    );
    assert_eq!(
        app.engine.last_retry_info().map(|r| r.total_attempts),
        Some(2)
    );

    let error = get(
        &app,
        &format!("{}/status/403", fake.provider_base_url()),
        &id,
    )
    .unwrap_err();
    assert_eq!(error.class_name(), "ScopeReauthRequiredError");

    let hitl = get(
        &app,
        &format!("{}/echo/x", fake.provider_base_url()),
        &fake.grants().hitl,
    )
    .unwrap_err();
    assert_eq!(
        (hitl.status(), hitl.code()),
        (Some(400), Some("hitl_requires_proxy"))
    );
}

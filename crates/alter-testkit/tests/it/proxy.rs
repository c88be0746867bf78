//! Proxy mode and every approval transition: approve → execute → executed, execution
//! failure, deny, expire (by control and by time), and the `/result` errors.

use std::time::Duration;

use alter_core::api::{ProxyOutcome, ProxyRequest};
use alter_core::poll::AwaitApproval;
use alter_testkit::{AuditSource, ControlError, FakeAlter};
use alter_types::ApprovalStatusValue::{
    self, Approved, Denied, Executed, Executing, Expired, Failed, Pending,
};
use serde_json::{Value, json};

use crate::support::Client;

fn pending(client: &Client, url: String, grant: &str) -> String {
    let outcome = client
        .run(
            client
                .engine
                .proxy_request(ProxyRequest::new("GET", url, grant))
                .unwrap(),
        )
        .unwrap();
    let ProxyOutcome::Pending(pending) = outcome else {
        panic!("expected 202")
    };
    assert_eq!(pending.status, Pending);
    assert!(
        pending
            .approval_url
            .contains(&pending.approval_id.to_string())
    );
    pending.approval_id.to_string()
}

fn status(client: &Client, id: &str) -> alter_types::ApprovalStatus {
    client
        .run(client.engine.get_approval_status(id).unwrap())
        .unwrap()
}

#[test]
fn a_proxied_call_runs_at_once_and_returns_the_providers_answer() {
    let fake = FakeAlter::start();
    let agent = Client::new(&fake, fake.agent_key());
    let mut request = ProxyRequest::new(
        "POST",
        format!("{}/echo/proxied", fake.provider_base_url()),
        &fake.grants().agent_delegated,
    );
    request.json_body = Some(json!({"text": "hello"}));
    request.headers = vec![("X-Trace".into(), "p-1".into())];
    request.query_params = vec![("q".into(), json!("v"))];
    request.reason = Some("post a message".into());

    let outcome = agent
        .run(agent.engine.proxy_request(request).unwrap())
        .unwrap();
    let ProxyOutcome::Completed(result) = outcome else {
        panic!("expected 200")
    };
    assert_eq!((result.status_code, result.approval_id), (200, None));
    let echoed: Value = result.body_json().unwrap();
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["query"], "q=v");
    assert_eq!(echoed["headers"]["x-trace"], "p-1");
    assert!(
        echoed["headers"]["authorization"]
            .as_str()
            .unwrap()
            .starts_with("Bearer tok_")
    );
    assert_eq!(result.headers["content-type"], "application/json");

    let rows = fake.audit_rows();
    assert_eq!(rows.len(), 1);
    let log = rows[0].log.as_ref().unwrap();
    assert_eq!(
        (rows[0].source, log.response_status),
        (AuditSource::Proxy, 200)
    );
    assert!(
        !log.request_headers
            .as_ref()
            .unwrap()
            .keys()
            .any(|k| k.eq_ignore_ascii_case("authorization"))
    );
}

#[test]
fn the_provider_status_is_inside_the_result_and_failures_are_typed() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let url = format!("{}/status/404", fake.provider_base_url());
    let outcome = app
        .run(
            app.engine
                .proxy_request(ProxyRequest::new("GET", url, &fake.grants().oauth_bearer))
                .unwrap(),
        )
        .unwrap();
    let ProxyOutcome::Completed(result) = outcome else {
        panic!("expected 200")
    };
    assert_eq!(result.status_code, 404);

    let outside = ProxyRequest::new(
        "GET",
        "https://api.example.com/x",
        &fake.grants().oauth_bearer,
    );
    let error = app
        .run(app.engine.proxy_request(outside).unwrap())
        .unwrap_err();
    assert_eq!(
        (error.class_name(), error.status(), error.code()),
        ("BackendError", Some(422), Some("blocked_destination"))
    );

    let unknown = ProxyRequest::new(
        "GET",
        format!("{}/echo", fake.provider_base_url()),
        "no-such-grant",
    );
    let error = app
        .run(app.engine.proxy_request(unknown).unwrap())
        .unwrap_err();
    assert_eq!(
        (error.status(), error.code()),
        (Some(404), Some("grant_not_found"))
    );

    let dropped = ProxyRequest::new(
        "GET",
        format!("{}/drop", fake.provider_base_url()),
        &fake.grants().oauth_bearer,
    );
    let error = app
        .run(app.engine.proxy_request(dropped).unwrap())
        .unwrap_err();
    assert_eq!(
        (error.status(), error.code()),
        (Some(502), Some("provider_unreachable"))
    );
}

#[test]
fn approve_then_execute_walks_every_state() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let id = pending(
        &app,
        format!("{}/echo/approved", fake.provider_base_url()),
        &fake.grants().hitl,
    );
    assert_eq!(fake.route_hits("* /echo/**"), 0);

    let snapshot = status(&app, &id);
    assert_eq!((snapshot.status, snapshot.has_result), (Pending, false));
    let error = app
        .run(app.engine.get_approval_result(&id).unwrap())
        .unwrap_err();
    assert_eq!(
        (error.status(), error.code()),
        (Some(409), Some("approval_not_ready"))
    );

    assert_eq!(
        fake.approve_without_executing(&id).unwrap().status,
        Approved
    );
    assert_eq!(status(&app, &id).status, Approved);
    let done = fake.execute(&id).unwrap();
    assert!(done.has_result && done.executed_at.is_some());
    assert_eq!(status(&app, &id).status, Executed);
    assert_eq!(
        fake.approval_history(&id).unwrap(),
        [Pending, Approved, Executing, Executed]
    );

    let result = app
        .run(app.engine.get_approval_result(&id).unwrap())
        .unwrap();
    assert_eq!(result.approval_id.map(|a| a.to_string()), Some(id.clone()));
    assert_eq!(
        result.body_json::<Value>().unwrap()["path"],
        "/echo/approved"
    );
    assert_eq!(fake.route_hits("* /echo/**"), 1);

    assert!(matches!(fake.approve(&id), Err(ControlError::Conflict(_))));
    assert!(matches!(fake.execute(&id), Err(ControlError::Conflict(_))));
    assert!(matches!(
        fake.approve("6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"),
        Err(ControlError::NotFound(_))
    ));
    assert_eq!(fake.route_hits("* /echo/**"), 1);
}

#[test]
fn await_approval_returns_the_result_after_approval() {
    let fake = FakeAlter::start();
    let agent = Client::new(&fake, fake.agent_key());
    let hitl = fake
        .add_grant(
            &alter_testkit::GrantSpec::oauth("slack")
                .requires_approval()
                .delegate_to(fake.agent_id()),
        )
        .unwrap();
    let id = pending(
        &agent,
        format!("{}/echo/awaited", fake.provider_base_url()),
        &hitl,
    );

    assert_eq!(fake.approve(&id).unwrap().status, Executed);
    let waiter = AwaitApproval::new(
        &agent.engine,
        &id,
        Duration::from_secs(30),
        Duration::from_millis(100),
    )
    .unwrap();
    let result = agent.run(waiter).unwrap();
    assert_eq!(result.status_code, 200);
}

#[test]
fn a_failed_execution_is_reported() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let id = pending(
        &app,
        format!("{}/drop", fake.provider_base_url()),
        &fake.grants().hitl,
    );

    let settled = fake.approve(&id).unwrap();
    assert_eq!((settled.status, settled.has_result), (Failed, false));
    assert_eq!(
        fake.approval_history(&id).unwrap(),
        [Pending, Approved, Executing, Failed]
    );
    let error = app
        .run(app.engine.get_approval_result(&id).unwrap())
        .unwrap_err();
    assert_eq!(error.class_name(), "ApprovalExecutionFailedError");
    let waiter = AwaitApproval::new(
        &app.engine,
        &id,
        Duration::from_secs(30),
        Duration::from_millis(100),
    )
    .unwrap();
    assert_eq!(
        app.run(waiter).unwrap_err().class_name(),
        "ApprovalExecutionFailedError"
    );
}

#[test]
fn denied_and_expired_approvals_never_run() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let url = || format!("{}/echo/never", fake.provider_base_url());

    let denied = pending(&app, url(), &fake.grants().hitl);
    let decided = fake.deny(&denied, Some("too risky")).unwrap();
    assert_eq!(
        (decided.status, decided.decision_reason.as_deref()),
        (Denied, Some("too risky"))
    );
    assert!(decided.decided_at.is_some());
    let error = app
        .run(app.engine.get_approval_result(&denied).unwrap())
        .unwrap_err();
    assert_eq!(
        (error.class_name(), error.message()),
        ("ApprovalDeniedError", "too risky")
    );
    let waiter = AwaitApproval::new(
        &app.engine,
        &denied,
        Duration::from_secs(30),
        Duration::from_millis(100),
    )
    .unwrap();
    assert_eq!(
        app.run(waiter).unwrap_err().class_name(),
        "ApprovalDeniedError"
    );

    let expired = pending(&app, url(), &fake.grants().hitl);
    assert_eq!(fake.expire(&expired).unwrap().status, Expired);
    let error = app
        .run(app.engine.get_approval_result(&expired).unwrap())
        .unwrap_err();
    assert_eq!(error.class_name(), "ApprovalExpiredError");
    assert!(matches!(
        fake.deny(&expired, None),
        Err(ControlError::Conflict(_))
    ));

    assert_eq!(fake.route_hits("* /echo/**"), 0);
}

#[test]
fn a_pending_approval_expires_on_its_own() {
    let fake = FakeAlter::builder()
        .approval_ttl(Duration::ZERO)
        .start()
        .unwrap();
    let app = Client::new(&fake, fake.app_key());
    let id = pending(
        &app,
        format!("{}/echo/late", fake.provider_base_url()),
        &fake.grants().hitl,
    );

    assert_eq!(status(&app, &id).status, Expired);
    let history: Vec<ApprovalStatusValue> = fake.approval_history(&id).unwrap();
    assert_eq!(history, [Pending, Expired]);
    assert!(matches!(fake.approve(&id), Err(ControlError::Conflict(_))));
}

#[test]
fn unknown_approvals_are_404() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let error = app
        .run(
            app.engine
                .get_approval_status("6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f")
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(
        (error.class_name(), error.status()),
        ("BackendError", Some(404))
    );
}

#[test]
fn bodies_the_sdk_would_never_send_are_refused() {
    let fake = FakeAlter::start();
    let body = format!(
        r#"{{"grant_id":"{}","method":"GET","url":"{}/echo/x","headers":{{"Authorization":"Bearer mine"}}}}"#,
        fake.grants().oauth_bearer,
        fake.provider_base_url()
    );
    let request = crate::support::raw_signed(
        fake.base_url(),
        fake.app_key(),
        "POST",
        "/sdk/proxy",
        body.as_bytes(),
    );
    let response = crate::support::send(&request).unwrap();
    let error = alter_core::classify::classify_proxy(response.status, &response.body);
    assert_eq!(
        (response.status, error.code()),
        (422, Some("forbidden_header"))
    );

    let request = crate::support::raw_signed(
        fake.base_url(),
        fake.app_key(),
        "POST",
        "/sdk/token",
        b"[1, 2]",
    );
    let response = crate::support::send(&request).unwrap();
    assert_eq!(response.status, 422);
    assert_eq!(fake.route_hits("* /echo/**"), 0);
}

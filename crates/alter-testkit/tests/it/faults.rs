//! Injected faults: statuses N times then normal, Retry-After, delays, dropped connections,
//! malformed and truncated bodies, and "execute, then fail the answer" for the proxy.

use alter_core::api::{ProxyRequest, RetrieveRequest};
use alter_testkit::{ControlError, FakeAlter, FaultAction, FaultError, FaultSpec};

use crate::support::{Client, Options, control, plain, send};

#[test]
fn a_status_fault_hits_n_times_then_the_route_answers() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    fake.inject_fault(
        FaultSpec::new("GET /sdk/scopes", FaultAction::status(503).retry_after("1")).times(2),
    );

    for _ in 0..2 {
        let error = app.run(app.engine.scopes_list()).unwrap_err();
        assert_eq!(
            (error.status(), error.code()),
            (Some(503), Some("injected_fault"))
        );
    }
    assert!(app.run(app.engine.scopes_list()).is_ok());
    assert_eq!(fake.route_hits("GET /sdk/scopes"), 3);
    let faulted: Vec<_> = fake
        .recorded_requests()
        .into_iter()
        .filter_map(|r| r.fault)
        .collect();
    assert_eq!(faulted, ["status 503", "status 503"]);
}

#[test]
fn the_core_retries_idempotent_reads_through_transient_faults() {
    let fake = FakeAlter::start();
    let options = Options {
        retries: true,
        ..Options::default()
    };
    let app = Client::with(fake.base_url(), fake.app_key(), options);
    fake.inject_fault(
        FaultSpec::new("GET /sdk/scopes", FaultAction::status(503).retry_after("0")).times(2),
    );

    assert!(app.run(app.engine.scopes_list()).is_ok());
    assert_eq!(fake.route_hits("GET /sdk/scopes"), 3);
    // Each retry was signed afresh, so none was refused as a replay.
    let statuses: Vec<_> = fake.recorded_requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(503), Some(503), Some(200)]);
}

#[test]
fn drops_malformed_and_truncated_answers() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());

    fake.inject_fault(FaultSpec::new("GET /sdk/scopes", FaultAction::Drop));
    let error = app.run(app.engine.scopes_list()).unwrap_err();
    assert_eq!(error.class_name(), "NetworkError");
    assert_eq!(fake.recorded_requests()[0].status, None);

    fake.inject_fault(FaultSpec::new(
        "GET /sdk/scopes",
        FaultAction::Malformed { status: 200 },
    ));
    let error = app.run(app.engine.scopes_list()).unwrap_err();
    assert!(
        matches!(
            error,
            alter_core::Error::MalformedResponse { status: 200, .. }
        ),
        "{error:?}"
    );

    fake.inject_fault(FaultSpec::new("GET /sdk/scopes", FaultAction::Truncate));
    let error = app.run(app.engine.scopes_list()).unwrap_err();
    assert_eq!(error.class_name(), "NetworkError");

    fake.inject_fault(FaultSpec::new(
        "GET /sdk/scopes",
        FaultAction::Delay { ms: 20 },
    ));
    assert!(app.run(app.engine.scopes_list()).is_ok());
    assert!(app.run(app.engine.scopes_list()).is_ok());
}

#[test]
fn a_delayed_request_is_counted_on_arrival_and_once() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());

    // Answered after its delay: one record, completed with the answer.
    fake.inject_fault(FaultSpec::new(
        "GET /sdk/scopes",
        FaultAction::Delay { ms: 20 },
    ));
    assert!(app.run(app.engine.scopes_list()).is_ok());
    let recorded = fake.recorded_requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (
            recorded[0].status,
            recorded[0].route.as_deref(),
            recorded[0].fault.as_deref()
        ),
        (Some(200), Some("GET /sdk/scopes"), Some("delay 20ms"))
    );

    // Still waiting: already counted, with no answer yet. A client that gives up now is
    // counted all the same.
    fake.forget_requests();
    fake.inject_fault(FaultSpec::new(
        "GET /sdk/scopes",
        FaultAction::Delay { ms: 600_000 },
    ));
    let request = app.first_request(app.engine.scopes_list());
    let authority = fake.base_url().trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    let mut head = format!("GET /sdk/scopes HTTP/1.1\r\nHost: {authority}\r\n");
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    std::io::Write::write_all(&mut stream, head.as_bytes()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while fake.route_hits("GET /sdk/scopes") == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the delayed request was never counted"
        );
        std::thread::yield_now();
    }
    drop(stream);
    let recorded = fake.recorded_requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (recorded[0].status, recorded[0].route.as_deref()),
        (None, None)
    );
}

#[test]
fn execute_then_fail_runs_the_proxied_call_exactly_once() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let call = || {
        ProxyRequest::new(
            "POST",
            format!("{}/echo/charge", fake.provider_base_url()),
            &fake.grants().oauth_bearer,
        )
    };

    fake.inject_fault(FaultSpec::new(
        "POST /sdk/proxy",
        FaultAction::ExecuteThenDrop,
    ));
    let error = app
        .run(app.engine.proxy_request(call()).unwrap())
        .unwrap_err();
    assert_eq!(error.class_name(), "NetworkError");
    assert!(error.may_have_reached_server());
    assert_eq!(fake.route_hits("POST /echo/charge"), 1);
    assert_eq!(fake.route_hits("POST /sdk/proxy"), 1);

    fake.inject_fault(FaultSpec::new(
        "POST /sdk/proxy",
        FaultAction::ExecuteThenStatus {
            status: 502,
            body: None,
        },
    ));
    let error = app
        .run(app.engine.proxy_request(call()).unwrap())
        .unwrap_err();
    assert_eq!(
        (error.class_name(), error.status()),
        ("BackendError", Some(502))
    );
    assert_eq!(fake.route_hits("POST /echo/charge"), 2);
    assert_eq!(fake.audit_rows().len(), 2);
}

#[test]
fn provider_faults_and_wildcard_routes() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    fake.inject_fault(FaultSpec::new("* /echo/**", FaultAction::Drop).on_provider());

    let request = RetrieveRequest::grant(
        "GET",
        format!("{}/echo/a/b", fake.provider_base_url()),
        &fake.grants().oauth_bearer,
    );
    let error = app
        .run(app.engine.request(request, None).unwrap())
        .unwrap_err();
    assert_eq!(error.class_name(), "NetworkError");
    // The token was fetched and the failure audited with status 0.
    assert_eq!(fake.route_hits("POST /sdk/token"), 1);
    assert_eq!(
        fake.audit_rows()[0].log.as_ref().unwrap().response_status,
        0
    );

    fake.inject_fault(FaultSpec::new("GET /sdk/approvals/*", FaultAction::status(504)).times(5));
    let error = app
        .run(app.engine.get_approval_status("a-1").unwrap())
        .unwrap_err();
    assert!(error.is_transient());
    fake.clear_faults();
    let error = app
        .run(app.engine.get_approval_status("a-1").unwrap())
        .unwrap_err();
    assert_eq!(error.status(), Some(404));
}

#[test]
fn faults_can_be_armed_over_http() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let (status, _) = control(
        &fake,
        "POST",
        "faults",
        r#"{"route": "POST /sdk/grants/list", "times": 1, "action": {"kind": "status", "status": 429, "retry_after": "3"}}"#,
    );
    assert_eq!(status, 201);

    let error = app
        .run(app.engine.list_grants(Default::default(), None).unwrap())
        .unwrap_err();
    assert_eq!(error.status(), Some(429));
    let last = fake.recorded_requests().pop().unwrap();
    assert_eq!(last.fault.as_deref(), Some("status 429"));

    let (status, body) = control(
        &fake,
        "POST",
        "faults",
        r#"{"route": "/x", "action": {"kind": "nonsense"}}"#,
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_fault"))
    );
    let (status, _) = control(&fake, "DELETE", "faults", "");
    assert_eq!(status, 204);
}

#[test]
fn out_of_range_faults_are_refused_over_http_and_in_rust() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());

    for (action, names) in [
        (r#"{"kind": "status", "status": 0}"#, "status 0"),
        (r#"{"kind": "status", "status": 600}"#, "status 600"),
        (
            r#"{"kind": "execute_then_status", "status": 99}"#,
            "status 99",
        ),
        (
            r#"{"kind": "delay", "ms": 18446744073709551615}"#,
            "600000 ms limit",
        ),
    ] {
        let body = format!(r#"{{"route": "* /**", "action": {action}}}"#);
        let (status, answer) = control(&fake, "POST", "faults", &body);
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some("invalid_fault"))
        );
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(names), "{message}");
    }

    let refused = fake.try_inject_fault(FaultSpec::new("* /**", FaultAction::status(0)));
    assert_eq!(
        refused,
        Err(ControlError::InvalidFault(FaultError::Status(0)))
    );
    let refused =
        fake.try_inject_fault(FaultSpec::new("* /**", FaultAction::Delay { ms: u64::MAX }));
    assert_eq!(
        refused,
        Err(ControlError::InvalidFault(FaultError::Delay(u64::MAX)))
    );
    // The panicking form refuses loudly, and arms nothing: the route answers normally.
    let loud = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fake.inject_fault(FaultSpec::new("GET /sdk/scopes", FaultAction::status(0)));
    }));
    assert!(loud.is_err(), "an invalid fault must not be armed silently");
    assert!(app.run(app.engine.scopes_list()).is_ok());
    assert_eq!(fake.recorded_requests()[0].fault, None);

    assert_eq!(
        fake.try_inject_fault(FaultSpec::new("GET /sdk/scopes", FaultAction::status(503))),
        Ok(())
    );
    let error = app.run(app.engine.scopes_list()).unwrap_err();
    assert_eq!(error.status(), Some(503));
}

#[test]
fn control_routes_are_never_faulted_recorded_or_counted() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    fake.inject_fault(FaultSpec::new("* /**", FaultAction::Drop).times(2));

    // A dropped connection would fail `control` itself.
    let (status, _) = control(&fake, "GET", "state", "");
    assert_eq!(status, 200);
    let (status, hits) = control(&fake, "GET", "hits?route=*%20/**", "");
    assert_eq!((status, hits["count"].as_u64()), (200, Some(0)));
    let (status, _) = control(&fake, "GET", "requests", "");
    assert_eq!(status, 200);

    // The control calls took none of the fault's hits.
    for _ in 0..2 {
        let error = app.run(app.engine.scopes_list()).unwrap_err();
        assert_eq!(error.class_name(), "NetworkError");
    }
    assert!(app.run(app.engine.scopes_list()).is_ok());
    assert_eq!(fake.route_hits("* /_testkit/**"), 0);
    assert_eq!(fake.route_hits("* /**"), 3);

    // Disarming works while a catch-all fault waits, and leaves nothing recorded.
    fake.inject_fault(FaultSpec::new("* /**", FaultAction::status(503)).times(100));
    let (status, _) = control(&fake, "DELETE", "faults", "");
    assert_eq!(status, 204);
    assert!(app.run(app.engine.scopes_list()).is_ok());
    assert_eq!(fake.recorded_requests().len(), 4);
}

#[test]
fn control_routes_stay_unfaulted_under_a_mount_prefix() {
    let fake = FakeAlter::builder().mount_prefix("/api").start().unwrap();
    fake.inject_fault(FaultSpec::new("* /**", FaultAction::status(503)));

    let (status, _) = control(&fake, "GET", "state", "");
    assert_eq!(status, 200);
    assert!(fake.recorded_requests().is_empty());
}

#[test]
fn the_redirect_target_is_still_recorded_and_faultable() {
    let fake = FakeAlter::start();
    let url = format!("{}/_testkit/redirected", fake.base_url());

    let response = send(&plain("GET", &url, b"")).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(fake.route_hits("* /_testkit/redirected"), 1);

    fake.inject_fault(FaultSpec::new(
        "* /_testkit/redirected",
        FaultAction::status(503),
    ));
    let response = send(&plain("GET", &url, b"")).unwrap();
    assert_eq!(response.status, 503);
    assert_eq!(fake.route_hits("* /_testkit/redirected"), 2);
}

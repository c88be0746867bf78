//! The unsigned control API under `/_testkit/`, as a suite in another language uses it.

use alter_core::api::{ConnectSessionParams, ProxyOutcome, ProxyRequest};
use alter_testkit::FakeAlter;
use serde_json::json;

use crate::support::{Client, control};

fn pending(app: &Client, fake: &FakeAlter) -> String {
    let request = ProxyRequest::new(
        "GET",
        format!("{}/echo/h", fake.provider_base_url()),
        &fake.grants().hitl,
    );
    match app.run(app.engine.proxy_request(request).unwrap()).unwrap() {
        ProxyOutcome::Pending(pending) => pending.approval_id.to_string(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn approvals_are_decided_over_http() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());

    let approved = pending(&app, &fake);
    let (status, body) = control(&fake, "POST", &format!("approvals/{approved}/approve"), "");
    assert_eq!((status, body["status"].as_str()), (200, Some("executed")));
    let (_, body) = control(&fake, "GET", &format!("approvals/{approved}"), "");
    assert_eq!(
        body["history"],
        json!(["pending", "approved", "executing", "executed"])
    );
    let (status, _) = control(&fake, "POST", &format!("approvals/{approved}/approve"), "");
    assert_eq!(status, 409);

    let held = pending(&app, &fake);
    let (_, body) = control(
        &fake,
        "POST",
        &format!("approvals/{held}/approve"),
        r#"{"execute": false}"#,
    );
    assert_eq!(body["status"], "approved");
    let (_, body) = control(&fake, "POST", &format!("approvals/{held}/execute"), "");
    assert_eq!(body["status"], "executed");

    let denied = pending(&app, &fake);
    let (_, body) = control(
        &fake,
        "POST",
        &format!("approvals/{denied}/deny"),
        r#"{"reason": "no"}"#,
    );
    assert_eq!(
        (body["status"].as_str(), body["decision_reason"].as_str()),
        (Some("denied"), Some("no"))
    );
    let expired = pending(&app, &fake);
    let (_, body) = control(&fake, "POST", &format!("approvals/{expired}/expire"), "");
    assert_eq!(body["status"], "expired");
    let (status, _) = control(&fake, "POST", "approvals/not-an-id/deny", "");
    assert_eq!(status, 404);
}

#[test]
fn sessions_users_grants_and_inspection_over_http() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());

    let session = app
        .run(
            app.engine
                .create_connect_session(ConnectSessionParams::default(), None)
                .unwrap(),
        )
        .unwrap();
    let path = format!("connect/{}/complete", session.session_token.expose_secret());
    let (status, body) = control(&fake, "POST", &path, r#"{"provider_id": "linear"}"#);
    assert_eq!(
        (
            status,
            body["status"].as_str(),
            body["grants"][0]["provider_id"].as_str()
        ),
        (200, Some("completed"), Some("linear"))
    );

    let auth = app.run(app.engine.create_auth_session()).unwrap();
    let (_, sessions) = control(&fake, "GET", "sessions", "");
    assert_eq!(
        sessions["auth"],
        json!([auth.session_token.expose_secret()])
    );
    assert_eq!(sessions["connect"], json!([]));
    let (_, body) = control(
        &fake,
        "POST",
        "auth/latest/complete",
        r#"{"sub": "user-http"}"#,
    );
    assert_eq!(body["user_info"]["sub"], "user-http");
    assert_eq!(fake.pending_auth_sessions(), Vec::<String>::new());
    let (status, _) = control(&fake, "POST", "auth/as_unknown/complete", "");
    assert_eq!(status, 404);

    let (status, body) = control(&fake, "POST", "users", r#"{"sub": "user-x", "name": "X"}"#);
    assert_eq!(status, 201);
    let token = body["user_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.run(app.engine.verify_user_token(&token).unwrap())
            .unwrap()
            .as_deref(),
        Some("user-x")
    );

    let (status, body) = control(
        &fake,
        "POST",
        "grants",
        r#"{"provider_id": "zoom", "credential": {"style": "query_param"}}"#,
    );
    assert_eq!(status, 201);
    let grant = body["grant_id"].as_str().unwrap().to_owned();
    let (status, _) = control(
        &fake,
        "POST",
        &format!("grants/{grant}/status"),
        r#"{"status": "deleted"}"#,
    );
    assert_eq!(status, 200);
    let (status, _) = control(
        &fake,
        "POST",
        "grants",
        r#"{"delegated_to": ["6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"]}"#,
    );
    assert_eq!(status, 422);

    let (_, state) = control(&fake, "GET", "state", "");
    assert_eq!(state["grants"]["hitl"], fake.grants().hitl.as_str());
    let (_, audit) = control(&fake, "GET", "audit", "");
    assert_eq!(audit["rows"], json!([]));
    let (_, reports) = control(&fake, "GET", "scope-reports", "");
    assert_eq!(reports["reports"], json!([]));

    let (_, hits) = control(&fake, "GET", "hits?route=POST%20/sdk/auth/session", "");
    assert_eq!(hits["count"], 1);
    let (_, requests) = control(
        &fake,
        "GET",
        "requests?route=POST%20/sdk/oauth/connect/session",
        "",
    );
    let recorded = requests["requests"].as_array().unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["route"], "POST /sdk/oauth/connect/session");
    assert_eq!(recorded[0]["status"], 200);
    let (status, _) = control(&fake, "DELETE", "requests", "");
    assert_eq!(status, 204);
    assert!(fake.recorded_requests().is_empty());
}

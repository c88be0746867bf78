//! Connect sessions (OAuth and managed secret) and end-user sign-in, completed through the
//! control API, read back through the core's pollers.

use std::time::Duration;

use alter_core::api::{
    ConnectSessionParams, ListGrants, ManagedSecretConnectParams, RetrieveRequest,
};
use alter_core::poll::AwaitConnect;
use alter_testkit::{AuthCompletion, ConnectCompletion, ControlError, FakeAlter};
use alter_types::{AuthPollStatus, ConnectPollStatus, GrantItem, Secret};

use crate::support::Client;

#[test]
fn a_connect_session_completes_into_a_usable_grant() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let mut params = ConnectSessionParams::default();
    params.allowed_providers = Some(vec!["notion".into()]);
    let session = app
        .run(app.engine.create_connect_session(params, None).unwrap())
        .unwrap();
    assert!(
        session
            .connect_url
            .contains(session.session_token.expose_secret())
    );

    let poll = app
        .run(app.engine.poll_connect_session_once(&session.session_token))
        .unwrap();
    assert_eq!(poll.status, ConnectPollStatus::Pending);
    let completion = ConnectCompletion::default()
        .account("team@example.com")
        .scopes(["read"]);
    fake.complete_connect_with(session.session_token.expose_secret(), &completion)
        .unwrap();

    let waiter = AwaitConnect::new(
        &app.engine,
        session.session_token.clone(),
        Duration::from_secs(30),
        Duration::from_millis(100),
    );
    let results = app.run(waiter).unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(
        (
            results[0].provider_id.as_str(),
            results[0].account_identifier.as_deref()
        ),
        ("notion", Some("team@example.com"))
    );

    let request = RetrieveRequest::grant(
        "GET",
        format!("{}/protected/n", fake.provider_base_url()),
        &results[0].grant_id,
    );
    assert_eq!(
        app.run(app.engine.request(request, None).unwrap())
            .unwrap()
            .status,
        200
    );
    assert!(matches!(
        fake.complete_connect(session.session_token.expose_secret()),
        Err(ControlError::Conflict(_))
    ));
    assert!(matches!(
        fake.complete_connect("cs_unknown"),
        Err(ControlError::NotFound(_))
    ));
}

#[test]
fn connect_errors_reach_the_poller_typed() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let open = || {
        app.run(
            app.engine
                .create_connect_session(ConnectSessionParams::default(), None)
                .unwrap(),
        )
        .unwrap()
    };
    let wait = |token: Secret| {
        let waiter = AwaitConnect::new(
            &app.engine,
            token,
            Duration::from_secs(30),
            Duration::from_millis(100),
        );
        app.run(waiter).unwrap_err().class_name()
    };

    let denied = open();
    fake.complete_connect_with(
        denied.session_token.expose_secret(),
        &ConnectCompletion::error("connect_denied"),
    )
    .unwrap();
    assert_eq!(wait(denied.session_token), "ConnectDeniedError");

    let misconfigured = open();
    fake.complete_connect_with(
        misconfigured.session_token.expose_secret(),
        &ConnectCompletion::error("invalid_client"),
    )
    .unwrap();
    assert_eq!(wait(misconfigured.session_token), "ConnectConfigError");

    let expired = open();
    fake.complete_connect_with(
        expired.session_token.expose_secret(),
        &ConnectCompletion::expired(),
    )
    .unwrap();
    assert_eq!(wait(expired.session_token), "ConnectFlowError");

    let error = app
        .run(
            app.engine
                .poll_connect_session_once(&Secret::new("cs_unknown")),
        )
        .unwrap_err();
    assert_eq!(error.status(), Some(404));
}

#[test]
fn connecting_for_an_agent_needs_the_users_token() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let mut params = ConnectSessionParams::default();
    params.agent = Some("testkit-agent".into());

    let error = app
        .run(
            app.engine
                .create_connect_session(params.clone(), None)
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(
        (error.class_name(), error.code()),
        ("BackendError", Some("agent_requires_user_token"))
    );

    params.user_token = Some(Secret::new(fake.user_token()));
    let session = app
        .run(app.engine.create_connect_session(params, None).unwrap())
        .unwrap();
    let poll = fake
        .complete_connect(session.session_token.expose_secret())
        .unwrap();
    let grant = poll.grants[0].grant_id.clone();

    let agent = Client::new(&fake, fake.agent_key());
    let page = agent
        .run(
            agent
                .engine
                .list_grants(ListGrants::default(), None)
                .unwrap(),
        )
        .unwrap();
    assert!(
        page.grants
            .iter()
            .any(|g| g.grant_id() == Some(grant.as_str()))
    );

    let mut unknown = ConnectSessionParams::default();
    unknown.agent = Some("nobody".into());
    unknown.user_token = Some(Secret::new(fake.user_token()));
    let error = app
        .run(app.engine.create_connect_session(unknown, None).unwrap())
        .unwrap_err();
    assert_eq!(error.status(), Some(404));
}

#[test]
fn a_managed_secret_connect_session_grants_the_agent() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let params = ManagedSecretConnectParams::new(
        "Acme-API-Key",
        fake.agent_id().to_string(),
        fake.user_token(),
    );
    let session = app
        .run(
            app.engine
                .create_managed_secret_connect_session(params)
                .unwrap(),
        )
        .unwrap();
    assert!(
        session
            .connect_url
            .expose_secret()
            .contains("managed-secret")
    );

    let poll = fake
        .complete_connect(session.session_token.expose_secret())
        .unwrap();
    assert_eq!(poll.grants[0].provider_id, "acme-api-key");
    let agent = Client::new(&fake, fake.agent_key());
    let page = agent
        .run(
            agent
                .engine
                .list_grants(ListGrants::default(), None)
                .unwrap(),
        )
        .unwrap();
    let created = page
        .grants
        .iter()
        .find(|g| g.grant_id() == Some(poll.grants[0].grant_id.as_str()));
    assert!(matches!(created, Some(GrantItem::ManagedSecret(_))));

    let missing = ManagedSecretConnectParams::new(
        "no-such-template",
        fake.agent_id().to_string(),
        fake.user_token(),
    );
    let error = app
        .run(
            app.engine
                .create_managed_secret_connect_session(missing)
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(error.code(), Some("template_not_found"));
    let forged =
        ManagedSecretConnectParams::new("acme-api-key", fake.agent_id().to_string(), "eyJforged");
    let error = app
        .run(
            app.engine
                .create_managed_secret_connect_session(forged)
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(error.class_name(), "ReAuthRequiredError");
}

#[test]
fn sign_in_completes_and_the_token_verifies() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let session = app.run(app.engine.create_auth_session()).unwrap();
    assert!(session.auth_url.contains("/auth?session="));

    let poll = app
        .run(app.engine.poll_auth_session_once(&session.session_token))
        .unwrap();
    assert_eq!(poll.status, AuthPollStatus::Pending);
    let completion = AuthCompletion::user("user-kim").email("kim@example.com");
    fake.complete_auth_with(session.session_token.expose_secret(), &completion)
        .unwrap();

    let poll = app
        .run(app.engine.poll_auth_session_once(&session.session_token))
        .unwrap();
    assert_eq!(poll.status, AuthPollStatus::Completed);
    let token = poll.user_token.unwrap();
    assert_eq!(poll.user_info.unwrap()["email"], "kim@example.com");

    let verified = app
        .run(app.engine.verify_user_token(token.expose_secret()).unwrap())
        .unwrap();
    assert_eq!(verified.as_deref(), Some("user-kim"));
    let forged = app
        .run(app.engine.verify_user_token("eyJforged").unwrap())
        .unwrap();
    assert_eq!(forged, None);

    let failed = app.run(app.engine.create_auth_session()).unwrap();
    fake.complete_auth_with(
        failed.session_token.expose_secret(),
        &AuthCompletion::failed("IdP down"),
    )
    .unwrap();
    let poll = app
        .run(app.engine.poll_auth_session_once(&failed.session_token))
        .unwrap();
    assert_eq!(poll.status, AuthPollStatus::Error);

    let issued = fake.issue_user_token("user-zed");
    assert_eq!(
        app.run(app.engine.verify_user_token(&issued).unwrap())
            .unwrap()
            .as_deref(),
        Some("user-zed")
    );
    let token = fake
        .complete_auth(
            app.run(app.engine.create_auth_session())
                .unwrap()
                .session_token
                .expose_secret(),
        )
        .unwrap();
    assert!(
        app.run(app.engine.verify_user_token(&token).unwrap())
            .unwrap()
            .is_some()
    );
}

//! No secret ever reaches a log line, a `Debug` or a `Display`: a representative flow runs
//! under a TRACE subscriber that captures everything, and the capture is searched for every
//! key, signature and token that crossed the wire.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alter_blocking::types::Principal;
use alter_blocking::{
    Agent, App, AwaitOptions, CreateAgent, ProxyOutcome, ProxyRequest, RetrieveRequest,
};
use alter_testkit::FakeAlter;

/// Collects every formatted event.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_retried_approval_gated_flow_logs_no_secret() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let fake = FakeAlter::start();
    let mut shown = Vec::new();

    tracing::subscriber::with_default(subscriber, || {
        let app = App::builder()
            .base_url(fake.base_url())
            .api_key(fake.app_key())
            .build()
            .unwrap();
        let created = app.create_agent(CreateAgent::new("log-check")).unwrap();
        let minted = app.mint_agent_key(&created.agent.id.to_string()).unwrap();
        shown.push(format!("{created:?} {minted:?}"));
        let agent_key = minted.api_key.unwrap();

        let as_agent = App::builder()
            .base_url(fake.base_url())
            .api_key(agent_key.expose_secret())
            .build()
            .unwrap();
        let principal = Principal::agent(None).unwrap();
        let grant = as_agent
            .create_managed_secret_grant(fake.managed_secret_id(), &principal, None)
            .unwrap();
        let agent = Agent::builder()
            .base_url(fake.base_url())
            .api_key(agent_key.expose_secret())
            .build()
            .unwrap();
        shown.push(format!("{app:?} {agent:?} {as_agent:?}"));

        let url = format!("{}/echo/check", fake.provider_base_url());
        let response = agent
            .request(RetrieveRequest::grant("GET", &url, &grant.grant_id))
            .unwrap();
        shown.push(format!("{response:?}"));

        let pending = match app
            .proxy_request(ProxyRequest::new("POST", &url, &fake.grants().hitl))
            .unwrap()
        {
            ProxyOutcome::Pending(pending) => pending,
            other => panic!("expected a pending approval, got {other:?}"),
        };
        let id = pending.approval_id.to_string();
        fake.approve(&id).unwrap();
        let result = app
            .await_approval(
                &id,
                AwaitOptions::default().poll_interval(Duration::from_millis(100)),
            )
            .unwrap();
        shown.push(format!("{pending:?} {result:?}"));

        let error = agent
            .request(RetrieveRequest::grant("GET", &url, "no-such-grant"))
            .unwrap_err();
        shown.push(format!("{error:?} {error}"));
        let error = App::builder()
            .api_key("not-an-alter-key")
            .build()
            .unwrap_err();
        shown.push(format!("{error:?} {error}"));

        agent.close();
        as_agent.close();
        app.close();
    });

    let mut everything = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    everything.push_str(&shown.join("\n"));
    assert!(
        everything.contains("alter backend call"),
        "the flow was not traced at all"
    );

    let recorded = fake.recorded_requests();
    let mut secrets: Vec<String> = vec![fake.app_key().to_owned(), fake.agent_key().to_owned()];
    for request in &recorded {
        for name in [
            "x-api-key",
            "x-alter-signature",
            "authorization",
            "x-acme-key",
        ] {
            if let Some(value) = request.header(name) {
                secrets.push(value.to_owned());
            }
        }
    }
    secrets.retain(|secret| secret.len() >= 8);
    assert!(
        secrets.len() > 5,
        "expected keys and signatures to search for"
    );

    for secret in secrets {
        assert!(
            !everything.contains(&secret),
            "a secret reached the logs or a Debug/Display"
        );
    }
}

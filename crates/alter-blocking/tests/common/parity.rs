//! One small story, written once, that both frontends play against identically seeded
//! fakes; the test then compares what each fake received, request by request.
//!
//! Only the async crate runs it (it depends on both frontends).

use alter_testkit::{FakeAlter, Listener, RecordedRequest};

/// The fake's seed: both fakes hand out the same keys, ids and tokens.
pub(crate) const SEED: u64 = 0x5eed;

/// Headers that differ on every request (time, randomness), that hash a body holding the
/// fake's port (the fake checks them), or that the HTTP stack adds on its own (`host` carries
/// the fake's port; ureq asks for gzip, reqwest without its `gzip` feature does not).
const VARYING: &[&str] = &[
    "x-alter-timestamp",
    "x-alter-nonce",
    "x-alter-signature",
    "x-alter-content-sha256",
    "host",
    "content-length",
    "accept",
    "accept-encoding",
];

/// One request as the comparison sees it: the fakes' ports replaced, varying headers left
/// out.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) listener: Listener,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

/// What `fake` received, in order, without the background audit uploads (they run
/// concurrently with later calls, so their place in the order is not the SDK's choice).
pub(crate) fn seen(fake: &FakeAlter) -> Vec<Seen> {
    let normalize = |text: &str| {
        text.replace(fake.provider_base_url(), "{provider}")
            .replace(fake.base_url(), "{backend}")
    };
    fake.recorded_requests()
        .into_iter()
        .filter(|r| r.path != "/sdk/oauth/audit/api-call")
        .map(|r: RecordedRequest| {
            let mut headers: Vec<(String, String)> = r
                .headers
                .iter()
                .filter(|(name, _)| !VARYING.contains(&name.as_str()))
                .map(|(name, value)| (name.clone(), normalize(value)))
                .collect();
            headers.sort();
            Seen {
                listener: r.listener,
                method: r.method,
                path: normalize(&r.path),
                headers,
                body: normalize(&String::from_utf8_lossy(&r.body)),
            }
        })
        .collect()
}

/// Expands to `story(fake)`, the parity scenario, for the frontend crate `$fe`.
macro_rules! parity_story {
    ($fe:ident, [$($async:tt)*] [$($await:tt)*]) => {
        use alter_testkit::FakeAlter;
        use serde_json::json;
        use $fe::{
            Agent, App, ConnectSessionParams, CreateAgent, ListGrants, ProxyOutcome,
            ProxyRequest, RetrieveRequest,
        };

        /// The calls, in order; every answer is checked so a failure cannot hide.
        pub(crate) $($async)* fn story(fake: &FakeAlter) {
            let app = App::builder()
                .base_url(fake.base_url())
                .api_key(fake.app_key())
                .caller("parity-app")
                .build()
                .unwrap();
            let agent = Agent::builder()
                .base_url(fake.base_url())
                .api_key(fake.agent_key())
                .caller("parity-agent")
                .build()
                .unwrap();
            let echo = format!("{}/echo/parity?x=1", fake.provider_base_url());

            app.list_scopes()$($await)*.unwrap();
            let mut create = CreateAgent::new("parity-bot");
            create.display_name = Some("Parity".into());
            create.metadata = Some(json!({"team": "qa", "n": 1}));
            create.idempotency_key = Some("parity-1".into());
            let created = app.create_agent(create)$($await)*.unwrap();
            let id = created.agent.id.to_string();
            assert!(app.get_agent_by_name("parity-bot")$($await)*.unwrap().is_some());
            app.mint_agent_key(&id)$($await)*.unwrap();
            let mut page = ListGrants::default();
            page.limit = 2;
            app.list_grants(page)$($await)*.unwrap();
            app.with_constraints(&["grants:read"])
                .unwrap()
                .list_grants(ListGrants::default())$($await)*
                .unwrap();
            let mut session = ConnectSessionParams::default();
            session.allowed_providers = Some(vec!["notion".into()]);
            app.create_connect_session(session)$($await)*.unwrap();

            let mut proxied = ProxyRequest::new("POST", &echo, &fake.grants().oauth_bearer);
            proxied.json_body = Some(json!({"text": "héllo", "n": [1, 2]}));
            proxied.headers = vec![("X-Trace".into(), "p-1".into())];
            assert!(matches!(
                app.proxy_request(proxied)$($await)*.unwrap(),
                ProxyOutcome::Completed(_)
            ));
            let gated = ProxyRequest::new("DELETE", &echo, &fake.grants().hitl);
            let ProxyOutcome::Pending(pending) = app.proxy_request(gated)$($await)*.unwrap() else {
                panic!("expected a pending approval");
            };
            app.get_approval_status(&pending.approval_id.to_string())$($await)*.unwrap();
            agent.me()$($await)*.unwrap();

            let mut retrieve = RetrieveRequest::grant("PUT", &echo, &fake.grants().oauth_bearer);
            retrieve.json = Some(json!({"k": "v"}));
            retrieve.extra_headers = vec![("X-Custom".into(), "c".into())];
            retrieve.query_params = vec![("y".into(), json!("a b"))];
            retrieve.reason = Some("parity".into());
            assert_eq!(app.request(retrieve)$($await)*.unwrap().status, 200);
            let delegated =
                RetrieveRequest::grant("GET", &echo, &fake.grants().agent_delegated);
            assert_eq!(agent.request(delegated)$($await)*.unwrap().status, 200);

            agent.close()$($await)*;
            app.close()$($await)*;
            assert_eq!(fake.audit_rows().len(), 3, "two SDK rows and the proxy's own");
        }
    };
}

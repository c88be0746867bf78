//! The printed fault matrix: every operation that talks to the backend, against every way
//! an exchange can fail. Each cell runs on a fresh fake and must end in time with a
//! success or a typed error; calls that act reach the server at most once; reads recover
//! from transient faults. The table goes to standard error and `target/fault-matrix/`.
//!
//! The plan (columns, rows, rules) and the table are plain modules; only the calls
//! themselves differ between frontends, so only they live in the macro.

pub(crate) mod plan;
pub(crate) mod table;

/// Expands to the fault matrix test for the frontend crate `$fe`, whose table is written
/// to `target/fault-matrix/$name.md`.
macro_rules! fault_matrix {
    ($fe:ident, $name:literal, #[$test:meta], [$($async:tt)*] [$($await:tt)*]) => {
        use std::sync::Arc;
        use std::time::Instant;

        use alter_testkit::{FakeAlter, FaultSpec};
        use serde_json::json;
        use $fe::types::Principal;
        use $fe::{
            Agent, App, AwaitOptions, ConnectOptions, ConnectSessionParams, CreateAgent,
            DeriveKey, ListAgents, ListGrants, ManagedSecretConnectParams, ProxyOutcome,
            ProxyRequest, RetrieveRequest, UpdateAgent,
        };

        use crate::common::matrix::plan::{
            self, ARMED, Fault, Observed, Op, Outcome, PROVIDER_PATH, ROWS, Row, WAIT,
        };
        use crate::common::matrix::table::Table;
        use crate::support::*;

        /// What an operation needs that an earlier call made: ids of an agent, a key, an
        /// approval.
        #[derive(Debug, Default)]
        struct Prep {
            agent_id: String,
            key_id: String,
            approval_id: String,
        }

        /// A loopback URL nobody listens on: a port bound, then released. Taken per cell,
        /// after the cell's fake is listening, so no fake can hold the port.
        fn refusing_url() -> String {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            drop(listener);
            format!("http://127.0.0.1:{port}")
        }

        /// Plays the end user: finishes every pending connect or sign-in session as soon as
        /// the client shows its URL.
        fn finish_sessions(fake: &FakeAlter, what: &str) {
            if what == "connect" {
                for token in fake.pending_connect_sessions() {
                    let _ = fake.complete_connect(&token);
                }
            } else {
                for token in fake.pending_auth_sessions() {
                    let _ = fake.complete_auth(&token);
                }
            }
        }

        /// The clients under test: on `base_url`, with the column's timeout and a URL
        /// handler that plays the end user.
        fn clients(fake: &Arc<FakeAlter>, base_url: &str, fault: Fault) -> (App, Agent) {
            let user = Arc::clone(fake);
            let app = App::builder()
                .base_url(base_url)
                .api_key(fake.app_key())
                .timeout(fault.client_timeout())
                .retry(fast_retry())
                .url_handler(move |what, _url| finish_sessions(&user, what))
                .build()
                .unwrap();
            let agent = Agent::builder()
                .base_url(base_url)
                .api_key(fake.agent_key())
                .caller(AGENT_CALLER)
                .timeout(fault.client_timeout())
                .retry(fast_retry())
                .build()
                .unwrap();
            (app, agent)
        }

        /// A pending approval on the seeded approval-gated grant.
        $($async)* fn pending_approval(app: &App, fake: &FakeAlter) -> String {
            let url = provider_url(fake, "/echo/gated");
            let call = ProxyRequest::new("POST", url, &fake.grants().hitl);
            match app.proxy_request(call)$($await)*.unwrap() {
                ProxyOutcome::Pending(pending) => pending.approval_id.to_string(),
                other => panic!("expected a pending approval, got {other:?}"),
            }
        }

        /// Makes what `op` needs, with a healthy client and no fault armed yet.
        $($async)* fn prepare(op: Op, fake: &FakeAlter, app: &App) -> Prep {
            let mut prep = Prep {
                agent_id: fake.agent_id().to_string(),
                ..Prep::default()
            };
            match op {
                Op::DeleteAgent => {
                    let created = app.create_agent(CreateAgent::new("doomed"))$($await)*;
                    prep.agent_id = created.unwrap().agent.id.to_string();
                }
                Op::DeprecateAgentKey | Op::UndeprecateAgentKey | Op::RevokeAgentKey => {
                    let minted = app.mint_agent_key(&prep.agent_id)$($await)*.unwrap();
                    prep.key_id = minted.key.key_id.to_string();
                    if op == Op::UndeprecateAgentKey {
                        app.deprecate_agent_key(&prep.agent_id, &prep.key_id)$($await)*
                            .unwrap();
                    }
                }
                Op::RotateKey | Op::RevokeKey => {
                    let derived = app.derive_key(DeriveKey::new(["grants:read"], 600))$($await)*;
                    prep.key_id = derived.unwrap().key.id.to_string();
                }
                Op::GetApprovalStatus => {
                    prep.approval_id = pending_approval(app, fake)$($await)*;
                }
                Op::AwaitApproval => {
                    prep.approval_id = pending_approval(app, fake)$($await)*;
                    fake.approve(&prep.approval_id).unwrap();
                }
                _ => {}
            }
            prep
        }

        /// Runs `op` once; `provider` is the provider's base URL.
        $($async)* fn call(
            op: Op,
            prep: &Prep,
            (app, agent): (&App, &Agent),
            fake: &FakeAlter,
            provider: &str,
        ) -> Outcome {
            let grants = fake.grants();
            let wait = AwaitOptions::default()
                .timeout(WAIT)
                .poll_interval(plan::POLL_INTERVAL);
            let agent_id = prep.agent_id.as_str();
            let key_id = prep.key_id.as_str();
            let provider_url = format!("{provider}{PROVIDER_PATH}");
            match op {
                Op::CreateAgent => {
                    Outcome::of(app.create_agent(CreateAgent::new("made"))$($await)*)
                }
                Op::CreateAgentIdempotent => {
                    let mut params = CreateAgent::new("made-once");
                    params.idempotency_key = Some("matrix-1".into());
                    Outcome::of(app.create_agent(params)$($await)*)
                }
                Op::ListAgents => Outcome::of(app.list_agents(ListAgents::default())$($await)*),
                Op::GetAgentInfo => Outcome::of(app.get_agent_info(agent_id)$($await)*),
                Op::GetAgentByName => {
                    Outcome::of(app.get_agent_by_name("testkit-agent")$($await)*)
                }
                Op::UpdateAgent => {
                    let mut params = UpdateAgent::default();
                    params.display_name = Some("Renamed".into());
                    Outcome::of(app.update_agent(agent_id, params)$($await)*)
                }
                Op::DeleteAgent => Outcome::of(app.delete_agent(agent_id)$($await)*),
                Op::MintAgentKey => Outcome::of(app.mint_agent_key(agent_id)$($await)*),
                Op::ListAgentKeys => Outcome::of(app.list_agent_keys(agent_id)$($await)*),
                Op::DeprecateAgentKey => {
                    Outcome::of(app.deprecate_agent_key(agent_id, key_id)$($await)*)
                }
                Op::UndeprecateAgentKey => {
                    Outcome::of(app.undeprecate_agent_key(agent_id, key_id)$($await)*)
                }
                Op::RevokeAgentKey => {
                    Outcome::of(app.revoke_agent_key(agent_id, key_id, false)$($await)*)
                }
                Op::DeriveKey => {
                    Outcome::of(app.derive_key(DeriveKey::new(["grants:read"], 600))$($await)*)
                }
                Op::RotateKey => Outcome::of(app.rotate_key(key_id, 1)$($await)*),
                Op::RevokeKey => Outcome::of(app.revoke_key(key_id, false)$($await)*),
                Op::ListScopes => Outcome::of(app.list_scopes()$($await)*),
                Op::ListGrants => Outcome::of(app.list_grants(ListGrants::default())$($await)*),
                Op::AgentListGrants => {
                    Outcome::of(agent.list_grants(ListGrants::default())$($await)*)
                }
                Op::RevokeGrant => {
                    Outcome::of(app.revoke_grant(&grants.api_key_header, None)$($await)*)
                }
                Op::RevokeDelegation => {
                    Outcome::of(app.revoke_delegation(&grants.agent_delegated, agent_id)$($await)*)
                }
                Op::AgentRevokeDelegation => {
                    Outcome::of(agent.revoke_delegation(&grants.agent_delegated)$($await)*)
                }
                Op::CreateManagedSecretGrant => {
                    let principal = Principal::system(None).unwrap();
                    let secret = fake.managed_secret_id();
                    Outcome::of(
                        app.create_managed_secret_grant(secret, &principal, None)$($await)*,
                    )
                }
                Op::CreateConnectSession => Outcome::of(
                    app.create_connect_session(ConnectSessionParams::default())$($await)*,
                ),
                Op::CreateManagedSecretConnectSession => {
                    let token = fake.user_token();
                    let params = ManagedSecretConnectParams::new("Acme-API-Key", agent_id, token);
                    Outcome::of(app.create_managed_secret_connect_session(params)$($await)*)
                }
                Op::GetApprovalStatus => {
                    Outcome::of(app.get_approval_status(&prep.approval_id)$($await)*)
                }
                Op::AwaitApproval => {
                    Outcome::of(app.await_approval(&prep.approval_id, wait)$($await)*)
                }
                Op::VerifyUserToken => match app.verify_user_token(fake.user_token())$($await)* {
                    Some(_) => Outcome::Ok,
                    None => Outcome::Nothing,
                },
                Op::Me => Outcome::of(agent.me()$($await)*),
                Op::ProxyRequest => {
                    let mut call = ProxyRequest::new("POST", provider_url, &grants.oauth_bearer);
                    call.json_body = Some(json!({"amount": 100}));
                    Outcome::of(app.proxy_request(call)$($await)*)
                }
                Op::RequestToken | Op::RequestProvider => {
                    let mut call =
                        RetrieveRequest::grant("POST", provider_url, &grants.oauth_bearer);
                    call.json = Some(json!({"amount": 100}));
                    Outcome::of(app.request(call)$($await)*)
                }
                Op::ConnectSession | Op::ConnectPoll => {
                    let mut options = ConnectOptions::providers(["notion"]);
                    options.wait = wait;
                    Outcome::of(app.connect(options)$($await)*)
                }
                Op::AuthenticateSession => Outcome::of(app.authenticate(WAIT)$($await)*),
            }
        }

        /// One cell on a fresh fake: prepare, arm the fault, call, count.
        $($async)* fn run_cell(row: &Row, fault: Fault) -> Observed {
            if !row.applies(fault) {
                return Observed::skipped();
            }
            let fake = Arc::new(FakeAlter::start());
            let healthy = app(&fake);
            let prep = prepare(row.op, &fake, &healthy)$($await)*;
            healthy.close()$($await)*;

            let refused = fault == Fault::Refused;
            let refusing = refusing_url();
            let backend = if refused && !row.on_provider { &refusing } else { fake.base_url() };
            let provider = if refused && row.on_provider {
                &refusing
            } else {
                fake.provider_base_url()
            };
            let (app, agent) = clients(&fake, backend, fault);
            if let Some(action) = fault.action() {
                let spec = FaultSpec::new(row.route, action).times(ARMED);
                fake.inject_fault(if row.on_provider { spec.on_provider() } else { spec });
            }
            fake.forget_requests();

            let started = Instant::now();
            let outcome = call(row.op, &prep, (&app, &agent), &fake, provider)$($await)*;
            let elapsed = started.elapsed();

            let seen = Observed {
                outcome,
                hits: fake.route_hits(row.route),
                more_hits: row.once_more.map_or(0, |route| fake.route_hits(route)),
                elapsed,
                budget: row.budget(fault, &fast_retry()),
            };
            app.close()$($await)*;
            agent.close()$($await)*;
            seen
        }

        #[$test]
        $($async)* fn fault_matrix() {
            let attempts = fast_retry().max_attempts;
            let mut table = Table::new($name);
            let mut broken = Vec::new();

            for row in ROWS {
                let mut cells = Vec::new();
                for fault in Fault::ALL {
                    let seen = run_cell(row, fault)$($await)*;
                    let rules = plan::violations(row, fault, &seen, attempts);
                    for rule in &rules {
                        let cell = format!("{} × {}: {}", row.name, fault.header(), seen.text());
                        broken.push(format!("{cell} ({rule})"));
                    }
                    cells.push((seen.text(), !rules.is_empty()));
                }
                table.push(row.name, row.kind.label(), cells);
            }

            eprintln!("\n{}", table.render());
            let written = table.write().expect("the table is written under target/");
            eprintln!("written to {}", written.display());
            assert!(broken.is_empty(), "broken cells:\n{}", broken.join("\n"));
        }
    };
}

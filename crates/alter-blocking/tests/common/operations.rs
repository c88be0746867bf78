//! Every operation of the method surface, once, with typed assertions on its answer and on
//! what reached the fake.

/// Expands to the operation scenarios for the frontend crate `$fe`.
macro_rules! operation_scenarios {
    ($fe:ident, #[$test:meta], [$($async:tt)*] [$($await:tt)*]) => {
        use alter_testkit::FakeAlter;
        use serde_json::{Value, json};
        use $fe::types::{
            AgentKeyStatus, AgentStatus, ApiKeyStatus, GrantItem, GrantPolicyInput, KeyType,
            Principal, PrincipalType,
        };
        use $fe::{
            App, CreateAgent, DeriveKey, Error, ListAgents, ListGrants, ManagedSecretConnectParams,
            ProxyOutcome, ProxyRequest, RetrieveRequest, TraceOptions, UpdateAgent,
        };

        use crate::adapter::{traced_request, with_failing_getter, with_token};
        use crate::support::*;

        /// An app whose token getter answers the seeded user's token.
        fn alice_app(fake: &FakeAlter) -> App {
            with_token(
                App::builder()
                    .base_url(fake.base_url())
                    .api_key(fake.app_key()),
                fake.user_token().to_owned(),
            )
            .build()
            .unwrap()
        }

        #[$test]
        $($async)* fn agents_round_trip_and_their_keys_live_and_die() {
            let fake = FakeAlter::start();
            let app = app(&fake);

            let mut params = CreateAgent::new("crud-bot");
            params.display_name = Some("Crud".into());
            params.scopes = Some(json!({"slack": ["chat:write"]}));
            let created = app.create_agent(params)$($await)*.unwrap();
            assert!(created.api_key.is_some());
            assert_eq!(created.agent.name, "crud-bot");
            assert_eq!(created.agent.scopes["slack"], ["chat:write"]);
            let id = created.agent.id.to_string();

            let info = app.get_agent_info(&id)$($await)*.unwrap();
            assert_eq!(
                (info.id, info.display_name.as_deref()),
                (created.agent.id, Some("Crud"))
            );
            let found = app.get_agent_by_name("crud-bot")$($await)*.unwrap();
            assert_eq!(found.map(|a| a.id), Some(created.agent.id));
            assert!(app.get_agent_by_name("nobody")$($await)*.unwrap().is_none());
            let missing = app
                .get_agent_info("6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f")$($await)*;
            assert_eq!(
                expect_err("unknown agent", missing).class_name(),
                "AgentNotFoundError"
            );

            let mut first_page = ListAgents::default();
            first_page.limit = 1;
            let page = app.list_agents(first_page)$($await)*.unwrap();
            assert_eq!((page.agents.len(), page.total, page.has_more), (1, 2, true));
            let all = app.list_agents(ListAgents::default())$($await)*.unwrap();
            let mut names: Vec<&str> = all.agents.iter().map(|a| a.name.as_str()).collect();
            names.sort_unstable();
            assert_eq!(names, ["crud-bot", "testkit-agent"]);

            let mut broaden = UpdateAgent::default();
            broaden.display_name = Some("Crud v2".into());
            broaden.scopes = Some(json!({"slack": ["chat:write", "chat:read"]}));
            let updated = app.update_agent(&id, broaden)$($await)*.unwrap();
            assert_eq!(
                (updated.version, updated.display_name.as_deref()),
                (2, Some("Crud v2"))
            );
            let mut narrow = UpdateAgent::default();
            narrow.scopes = Some(json!({"slack": ["chat:read"]}));
            let error = expect_err("narrowing", app.update_agent(&id, narrow)$($await)*);
            assert_eq!(error.class_name(), "AgentScopeNarrowingNotSupportedError");
            assert!(error.is_agent_error() && error.is_backend());

            let minted = app.mint_agent_key(&id)$($await)*.unwrap();
            assert_eq!(minted.key.name, "crud-bot-2");
            assert!(minted.api_key.is_some());
            let second = minted.key.key_id.to_string();
            let keys = app.list_agent_keys(&id)$($await)*.unwrap();
            assert_eq!(keys.items.len(), 2);

            let deprecated = app.deprecate_agent_key(&id, &second)$($await)*.unwrap();
            assert_eq!(deprecated.status(), AgentKeyStatus::Deprecated);
            let restored = app.undeprecate_agent_key(&id, &second)$($await)*.unwrap();
            assert_eq!(restored.status(), AgentKeyStatus::Active);
            let revoked = app.revoke_agent_key(&id, &second, false)$($await)*.unwrap();
            assert_eq!(revoked.status(), AgentKeyStatus::Revoked);
            let again = app.revoke_agent_key(&id, &second, false)$($await)*;
            assert_eq!(
                expect_err("revoked twice", again).class_name(),
                "KeyAlreadyRevokedError"
            );
            let first_key = created.key_id.to_string();
            let last = app.revoke_agent_key(&id, &first_key, false)$($await)*;
            assert_eq!(expect_err("last key", last).class_name(), "LastActiveKeyError");

            let deleted = app.delete_agent(&id)$($await)*.unwrap();
            assert_eq!(deleted.status, AgentStatus::Revoked);
            let active = app.list_agents(ListAgents::default())$($await)*.unwrap();
            assert_eq!(active.total, 1);
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn an_idempotent_create_replays_the_same_agent_without_its_key() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let params = || {
                let mut params = CreateAgent::new("idem-bot");
                params.idempotency_key = Some("create-1".into());
                params
            };

            let first = app.create_agent(params())$($await)*.unwrap();
            let replay = app.create_agent(params())$($await)*.unwrap();
            assert_eq!(
                (replay.agent.id, replay.key_id),
                (first.agent.id, first.key_id)
            );
            assert!(first.api_key.is_some() && replay.api_key.is_none());
            let sent = requests(&fake, "POST /sdk/agents");
            assert_eq!(sent.len(), 2);
            assert!(sent.iter().all(|r| r.header("idempotency-key") == Some("create-1")));
            assert_eq!(sent[0].body, sent[1].body);
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn keys_derive_rotate_revoke_and_the_scope_catalog() {
            let fake = FakeAlter::start();
            let app = app(&fake);

            let derived = app.derive_key(DeriveKey::new(["grants:read"], 600))$($await)*.unwrap();
            assert_eq!(derived.key.key_type, KeyType::Dk);
            assert_eq!(derived.key.scopes, ["grants:read"]);
            assert!(derived.key.parent_key_id.is_some() && derived.key.expires_at.is_some());
            let child = app_with_key(&fake, derived.api_key.expose_secret());
            assert!(child.list_grants(ListGrants::default())$($await)*.is_ok());
            let call = RetrieveRequest::grant(
                "GET",
                provider_url(&fake, "/echo/x"),
                &fake.grants().oauth_bearer,
            );
            let error = expect_err("narrow key", child.request(call)$($await)*);
            assert_eq!(error.class_name(), "InsufficientScopeError");

            let rotated = app
                .rotate_key(&derived.key.id.to_string(), 1)$($await)*
                .unwrap();
            assert_ne!(rotated.key.id, derived.key.id);
            assert_eq!(rotated.key.scopes, derived.key.scopes);
            assert!(child.list_scopes()$($await)*.is_ok(), "the old key works in the overlap");

            let revoked = app
                .revoke_key(&rotated.key.id.to_string(), false)$($await)*
                .unwrap();
            assert_eq!(revoked.status(), ApiKeyStatus::Revoked);
            let dead = app_with_key(&fake, rotated.api_key.expose_secret());
            let error = expect_err("revoked key", dead.list_scopes()$($await)*);
            assert_eq!((error.status(), error.code()), (Some(401), Some("key_revoked")));

            let catalog = app.list_scopes()$($await)*.unwrap();
            for resource in ["agents", "grants", "tokens", "proxy", "approvals", "keys"] {
                assert!(catalog.resources.contains_key(resource), "{resource}");
            }
            assert_eq!(catalog.scope_version, 1);
            let agent = agent(&fake);
            assert_eq!(agent.list_scopes()$($await)*.unwrap(), catalog);
            for client in [child, dead] {
                client.close()$($await)*;
            }
            agent.close()$($await)*;
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn grant_lists_follow_the_token_getter_and_the_agent() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let everything = app.list_grants(ListGrants::default())$($await)*.unwrap();
            assert!(everything.total >= 7);
            assert!(requests(&fake, "POST /sdk/grants/list")[0].json().unwrap()
                .get("user_token").is_none());

            let alice = alice_app(&fake);
            let mine = alice.list_grants(ListGrants::default())$($await)*.unwrap();
            assert_eq!(grant_ids(&mine), [fake.grants().oauth_bearer.clone()]);
            let sent = last(&fake, "POST /sdk/grants/list").json().unwrap();
            assert_eq!(sent["user_token"], fake.user_token());

            let agent = agent(&fake);
            let delegated = agent.list_grants(ListGrants::default())$($await)*.unwrap();
            let ids = grant_ids(&delegated);
            assert!(ids.contains(&fake.grants().agent_delegated));
            assert!(ids.contains(&fake.grants().managed_secret_agent));
            assert!(!ids.contains(&fake.grants().oauth_bearer));
            assert!(delegated.grants.iter().any(|g| matches!(g, GrantItem::ManagedSecret(_))));

            let before = fake.recorded_requests().len();
            let mut filtered = ListGrants::default();
            filtered.provider_id = Some("github".into());
            let error = expect_err("agent filter", agent.list_grants(filtered)$($await)*);
            assert!(error.is_invalid_input(), "{error:?}");
            assert_eq!(fake.recorded_requests().len(), before, "nothing was sent");

            let failing = with_failing_getter(
                App::builder()
                    .base_url(fake.base_url())
                    .api_key(fake.app_key()),
            )
            .build()
            .unwrap();
            let error = expect_err("getter", failing.list_grants(ListGrants::default())$($await)*);
            assert_eq!(error.class_name(), "AlterSDKError");
            assert_eq!(fake.recorded_requests().len(), before, "nothing was sent");

            for client in [alice, failing] {
                client.close()$($await)*;
            }
            agent.close()$($await)*;
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn the_grant_pager_walks_every_page() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let everything = grant_ids(&app.list_grants(ListGrants::default())$($await)*.unwrap());
            let total = everything.len();
            assert!(total >= 7);

            for limit in [1_u32, 2] {
                fake.forget_requests();
                let mut params = ListGrants::default();
                params.limit = limit;
                let mut pages = app.grants(params);
                let mut seen = Vec::new();
                while let Some(grant) = pages.next()$($await)* {
                    seen.push(grant.unwrap().grant_id().unwrap().to_owned());
                }
                assert_eq!(seen, everything, "limit {limit}");

                let sent = requests(&fake, "POST /sdk/grants/list");
                let limit = usize::try_from(limit).unwrap();
                assert_eq!(sent.len(), total.div_ceil(limit), "limit {limit}");
                let offsets: Vec<u64> = sent
                    .iter()
                    .map(|r| r.json().unwrap()["offset"].as_u64().unwrap())
                    .collect();
                let expected: Vec<u64> = (0..sent.len())
                    .map(|page| u64::try_from(page * limit).unwrap())
                    .collect();
                assert_eq!(offsets, expected);
            }
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn revoking_grants_and_delegations() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let agent = agent(&fake);

            let grant = fake.grants().api_key_header.clone();
            let result = app.revoke_grant(&grant, Some("rotating"))$($await)*.unwrap();
            assert!(result.success);
            assert_eq!(result.grant_id, grant);
            assert_eq!(last(&fake, "POST /sdk/oauth/grants/*/revoke").json().unwrap(),
                json!({"reason": "rotating"}));
            let again = app.revoke_grant(&grant, None)$($await)*;
            assert_eq!(expect_err("twice", again).class_name(), "GrantNotFoundError");

            let alice = alice_app(&fake);
            let own = fake.grants().oauth_bearer.clone();
            assert!(alice.revoke_grant(&own, None)$($await)*.unwrap().success);
            let sent = last(&fake, "POST /sdk/oauth/grants/*/revoke").json().unwrap();
            assert_eq!(sent["user_token"], fake.user_token());

            let delegated = fake.grants().agent_delegated.clone();
            let agent_id = fake.agent_id().to_string();
            app.revoke_delegation(&delegated, &agent_id)$($await)*.unwrap();
            let url = provider_url(&fake, "/echo/after");
            let call = RetrieveRequest::grant("GET", &url, &delegated);
            let error = expect_err("undelegated", agent.request(call)$($await)*);
            assert_eq!(error.class_name(), "NoDelegatedGrantError");

            let shared = fake
                .add_grant(&alter_testkit::GrantSpec::oauth("notion").delegate_to(fake.agent_id()))
                .unwrap();
            let call = RetrieveRequest::grant("GET", &url, &shared);
            assert_eq!(agent.request(call.clone())$($await)*.unwrap().status, 200);
            agent.revoke_delegation(&shared)$($await)*.unwrap();
            assert_eq!(
                last(&fake, "DELETE /sdk/grants/*/delegations/*").path,
                format!("/sdk/grants/{shared}/delegations/me")
            );
            let error = expect_err("self-revoked", agent.request(call)$($await)*);
            assert_eq!(error.class_name(), "NoDelegatedGrantError");
            alice.close()$($await)*;
            agent.close()$($await)*;
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn managed_secret_grants_for_all_four_principals() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let secret = fake.managed_secret_id().to_owned();
            let policy = GrantPolicyInput::new().with_max_ttl_seconds(3600).unwrap();
            let url = provider_url(&fake, "/protected/managed");
            let principals = [
                Principal::user(fake.user_token(), "alice").unwrap(),
                Principal::group("eng", "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f", "engineers")
                    .unwrap(),
                Principal::system(Some("cron".into())).unwrap(),
            ];
            for principal in &principals {
                let created = app
                    .create_managed_secret_grant(&secret, principal, Some(&policy))$($await)*
                    .unwrap();
                assert_eq!(created.principal_type, principal.principal_type());
                let sent = last(&fake, "POST /sdk/managed-secrets/*/grants").json().unwrap();
                assert_eq!(sent["grant_policy"]["max_ttl_seconds"], 3600);
                let call = RetrieveRequest::grant("GET", &url, &created.grant_id);
                let response = app.request(call)$($await)*.unwrap();
                let verdict: Value = response.json().unwrap();
                assert_eq!(response.status, 200, "{verdict}");
                assert_eq!(verdict["placements"], json!(["header:x-acme-key"]));
                let token_call = last(&fake, "POST /sdk/token").json().unwrap();
                assert_eq!(token_call["grant_id"], created.grant_id.as_str());
            }

            // An agent principal binds to the agent whose key signs the call.
            let as_agent = app_with_key(&fake, fake.agent_key());
            let principal = Principal::agent(Some("self".into())).unwrap();
            let created = as_agent
                .create_managed_secret_grant(&secret, &principal, None)$($await)*
                .unwrap();
            assert_eq!(created.principal_type, PrincipalType::Agent);
            let agent = agent(&fake);
            let call = RetrieveRequest::grant("GET", &url, &created.grant_id);
            assert_eq!(agent.request(call)$($await)*.unwrap().status, 200);

            let missing = app
                .create_managed_secret_grant("no-such-secret", &principals[2], None)$($await)*;
            assert_eq!(expect_err("missing", missing).class_name(), "GrantNotFoundError");
            as_agent.close()$($await)*;
            agent.close()$($await)*;
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn connect_sessions_open_for_oauth_and_managed_secrets() {
            let fake = FakeAlter::start();
            let app = app(&fake);

            let mut params = $fe::ConnectSessionParams::default();
            params.allowed_providers = Some(vec!["notion".into()]);
            let session = app.create_connect_session(params)$($await)*.unwrap();
            assert!(session.connect_url.contains(session.session_token.expose_secret()));
            assert_eq!(fake.pending_connect_sessions(), [session.session_token.expose_secret()]);
            let sent = last(&fake, "POST /sdk/oauth/connect/session").json().unwrap();
            assert_eq!(sent["allowed_providers"], json!(["notion"]));
            assert!(sent.get("user_token").is_none());

            let alice = alice_app(&fake);
            let mut params = $fe::ConnectSessionParams::default();
            params.agent = Some("testkit-agent".into());
            alice.create_connect_session(params)$($await)*.unwrap();
            let sent = last(&fake, "POST /sdk/oauth/connect/session").json().unwrap();
            assert_eq!(sent["user_token"], fake.user_token());

            let params = ManagedSecretConnectParams::new(
                "Acme-API-Key",
                fake.agent_id().to_string(),
                fake.user_token(),
            );
            let session = app.create_managed_secret_connect_session(params)$($await)*.unwrap();
            assert!(session.connect_url.expose_secret().contains("managed-secret"));
            let sent = last(&fake, "POST /sdk/managed-secrets/connect/session").json().unwrap();
            assert_eq!(sent["template_slug"], "acme-api-key");
            let poll = fake.complete_connect(session.session_token.expose_secret()).unwrap();
            let agent = agent(&fake);
            let page = agent.list_grants(ListGrants::default())$($await)*.unwrap();
            assert!(grant_ids(&page).contains(&poll.grants[0].grant_id));
            alice.close()$($await)*;
            agent.close()$($await)*;
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn user_tokens_verify_and_agents_know_themselves() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            assert_eq!(
                app.verify_user_token(fake.user_token())$($await)*.as_deref(),
                Some("user-alice")
            );
            assert_eq!(app.verify_user_token("eyJgarbage.token.value")$($await)*, None);
            let before = fake.recorded_requests().len();
            assert_eq!(app.verify_user_token("   ")$($await)*, None);
            assert_eq!(fake.recorded_requests().len(), before, "a blank token is not sent");

            let agent = agent(&fake);
            let me = agent.me()$($await)*.unwrap();
            assert_eq!((me.id, me.name.as_str()), (fake.agent_id(), "testkit-agent"));
            let sent = last(&fake, "GET /sdk/agents/me");
            assert_eq!(sent.header("x-alter-caller"), Some(AGENT_CALLER));
            assert_eq!(sent.header("x-alter-caller-type"), Some("agent"));
            assert_eq!(sent.header("x-api-key"), Some(fake.agent_key()));
            agent.close()$($await)*;
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn an_app_acts_as_one_of_its_agents() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let agent_id = fake.agent_id().to_string();
            let as_agent = app.get_agent(&agent_id).unwrap();

            let page = as_agent.list_grants(ListGrants::default())$($await)*.unwrap();
            assert!(grant_ids(&page).contains(&fake.grants().managed_secret_agent));
            let sent = last(&fake, "POST /sdk/grants/list");
            assert_eq!(sent.header("x-api-key"), Some(fake.app_key()));
            assert_eq!(sent.header("x-alter-caller"), Some(agent_id.as_str()));
            assert_eq!(sent.header("x-alter-caller-type"), Some("agent"));

            let url = provider_url(&fake, "/protected/as-agent");
            let call = RetrieveRequest::grant("GET", &url, &fake.grants().agent_delegated);
            assert_eq!(as_agent.request(call)$($await)*.unwrap().status, 200);
            let call = RetrieveRequest::grant("GET", &url, &fake.grants().oauth_bearer);
            let error = expect_err("not delegated", as_agent.request(call)$($await)*);
            assert_eq!(error.class_name(), "NoDelegatedGrantError");

            let error = expect_err("not a uuid", app.get_agent("testkit-agent"));
            assert!(error.is_invalid_input());
            app.close()$($await)*;
            assert_closed("impersonation after the app closed", as_agent.list_scopes()$($await)*);
        }

        #[$test]
        $($async)* fn constrained_siblings_send_their_scopes_and_close_with_the_parent() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let narrow = app.with_constraints(&["grants:read"]).unwrap();

            assert!(narrow.list_grants(ListGrants::default())$($await)*.is_ok());
            let sent = last(&fake, "POST /sdk/grants/list");
            assert_eq!(sent.header("x-alter-scope-constraints"), Some("grants:read"));
            let call = RetrieveRequest::grant(
                "GET",
                provider_url(&fake, "/echo/narrow"),
                &fake.grants().oauth_bearer,
            );
            let error = expect_err("outside the constraints", narrow.request(call)$($await)*);
            assert_eq!(error.class_name(), "InsufficientScopeError");
            assert!(app.list_scopes()$($await)*.is_ok());
            assert_eq!(last(&fake, "GET /sdk/scopes").header("x-alter-scope-constraints"), None);

            let nested = narrow.with_constraints(&["grants:read"]);
            let error = expect_err("sibling of a sibling", nested);
            assert!(error.is_invalid_input());
            let empty: [&str; 0] = [];
            assert!(expect_err("no scopes", app.with_constraints(&empty)).is_invalid_input());

            app.close()$($await)*;
            let before = fake.recorded_requests().len();
            assert_closed("sibling after the parent closed", narrow.list_scopes()$($await)*);
            assert_eq!(fake.recorded_requests().len(), before);

            // Closing a sibling leaves its parent open.
            let other = crate::support::app(&fake);
            let sibling = other.with_constraints(&["grants:read"]).unwrap();
            sibling.close()$($await)*;
            assert_closed("closed sibling", sibling.list_scopes()$($await)*);
            assert!(other.list_scopes()$($await)*.is_ok());
            other.close()$($await)*;
        }

        #[$test]
        $($async)* fn a_trace_sends_its_context_on_the_token_call() {
            let fake = FakeAlter::start();
            let agent = agent(&fake);
            let call = RetrieveRequest::grant(
                "GET",
                provider_url(&fake, "/protected/traced"),
                &fake.grants().agent_delegated,
            );
            let options = TraceOptions::run("run-7").thread("thread-3").meta("ticket", "SUP-1");
            let response = traced_request(&agent, options, call.clone())$($await)*.unwrap();
            assert_eq!(response.status, 200);

            let token_call = last(&fake, "POST /sdk/token");
            let context: Value =
                serde_json::from_str(token_call.header("x-alter-context").unwrap()).unwrap();
            assert_eq!(
                context,
                json!({"agent": AGENT_CALLER, "run_id": "run-7", "thread_id": "thread-3",
                    "ticket": "SUP-1"})
            );

            // Outside the trace, no context.
            assert_eq!(agent.request(call)$($await)*.unwrap().status, 200);
            assert_eq!(last(&fake, "POST /sdk/token").header("x-alter-context"), None);

            let bad = TraceOptions::run("r").meta("agent", "spoofed");
            let call = RetrieveRequest::grant("GET", provider_url(&fake, "/echo/x"), "g");
            let error = expect_err("reserved key", traced_request(&agent, bad, call)$($await)*);
            assert!(error.is_invalid_input());

            agent.close()$($await)*;
            let audited: Vec<_> = fake
                .audit_rows()
                .into_iter()
                .filter_map(|row| row.context_header)
                .collect();
            assert_eq!(audited.len(), 1, "the traced call's audit row carries its context");
            assert!(audited[0].contains("run-7"));
        }

        #[$test]
        $($async)* fn every_injection_style_reaches_the_protected_provider() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let agent = agent(&fake);
            let url = provider_url(&fake, "/protected/resource?page=2");
            let g = fake.grants();

            let app_cases = [
                (&g.oauth_bearer, json!(["header:authorization"])),
                (&g.api_key_header, json!(["header:x-api-key"])),
                (&g.query_param, json!(["header:x-api-key", "query:api_key"])),
                (&g.multi_header, json!(["header:authorization", "header:x-account-id"])),
                (&g.aws_sigv4, json!(["header:authorization"])),
            ];
            for (grant, placements) in app_cases {
                let response = app.request(RetrieveRequest::grant("GET", &url, grant))$($await)*;
                let response = response.unwrap();
                let verdict: Value = response.json().unwrap();
                assert_eq!(response.status, 200, "{grant}: {verdict}");
                assert_eq!((&verdict["grant_id"], &verdict["placements"]),
                    (&json!(grant), &placements));
            }
            let agent_cases = [
                (&g.agent_delegated, json!(["header:authorization"])),
                (&g.managed_secret_agent, json!(["header:x-acme-key"])),
            ];
            for (grant, placements) in agent_cases {
                let response = agent.request(RetrieveRequest::grant("GET", &url, grant))$($await)*;
                let response = response.unwrap();
                let verdict: Value = response.json().unwrap();
                assert_eq!(response.status, 200, "{grant}: {verdict}");
                assert_eq!((&verdict["grant_id"], &verdict["placements"]),
                    (&json!(grant), &placements));
            }

            // SigV4 over a body, and the provider mode that resolves the grant.
            let mut post = RetrieveRequest::grant(
                "POST",
                provider_url(&fake, "/protected/aws"),
                &g.aws_sigv4,
            );
            post.json = Some(json!({"item": "widget", "qty": 2}));
            assert_eq!(app.request(post)$($await)*.unwrap().status, 200);
            let by_provider = RetrieveRequest::provider("GET", &url, "github");
            let verdict: Value = agent.request(by_provider)$($await)*.unwrap().json().unwrap();
            assert_eq!(verdict["grant_id"], g.agent_delegated.as_str());

            let unknown = RetrieveRequest::grant("GET", &url, "no-such-grant");
            let error = expect_err("unknown grant", app.request(unknown)$($await)*);
            assert_eq!(error.class_name(), "GrantNotFoundError");
            let status = RetrieveRequest::grant(
                "GET",
                provider_url(&fake, "/status/500"),
                &g.oauth_bearer,
            );
            let error = expect_err("provider 500", app.request(status.clone())$($await)*);
            assert!(matches!(error, Error::ProviderApi { .. }), "{error:?}");
            assert_eq!(error.status(), Some(500));
            let mut raw = status;
            raw.raw = true;
            assert_eq!(app.request(raw)$($await)*.unwrap().status, 500);
            agent.close()$($await)*;
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn proxied_calls_complete_or_wait_for_approval() {
            let fake = FakeAlter::start();
            let agent = agent(&fake);
            let mut call = ProxyRequest::new(
                "POST",
                provider_url(&fake, "/echo/proxied"),
                &fake.grants().agent_delegated,
            );
            call.json_body = Some(json!({"text": "hello"}));
            call.headers = vec![("X-Trace".into(), "p-1".into())];
            call.query_params = vec![("q".into(), json!("v"))];
            call.reason = Some("post a message".into());

            let outcome = agent.proxy_request(call)$($await)*.unwrap();
            let ProxyOutcome::Completed(result) = outcome else {
                panic!("expected a completed call");
            };
            assert_eq!((result.status_code, result.approval_id), (200, None));
            let echoed: Value = result.body_json().unwrap();
            assert_eq!((&echoed["method"], &echoed["query"]), (&json!("POST"), &json!("q=v")));
            assert_eq!(echoed["headers"]["x-trace"], "p-1");
            assert!(echoed["headers"]["authorization"].as_str().unwrap().starts_with("Bearer "));
            assert_eq!(fake.route_hits("POST /echo/proxied"), 1);

            let mut forbidden = ProxyRequest::new(
                "GET",
                provider_url(&fake, "/echo/x"),
                &fake.grants().agent_delegated,
            );
            forbidden.headers = vec![("Authorization".into(), "Bearer mine".into())];
            let before = fake.recorded_requests().len();
            let error = expect_err("forbidden header", agent.proxy_request(forbidden)$($await)*);
            assert!(error.is_invalid_input());
            assert_eq!(fake.recorded_requests().len(), before);

            let app = app(&fake);
            let gated = ProxyRequest::new(
                "DELETE",
                provider_url(&fake, "/echo/gated"),
                &fake.grants().hitl,
            );
            let ProxyOutcome::Pending(pending) = app.proxy_request(gated)$($await)*.unwrap() else {
                panic!("expected a pending approval");
            };
            let approval_id = pending.approval_id.to_string();
            assert!(pending.approval_url.contains(&approval_id));
            assert_eq!(fake.route_hits("* /echo/gated"), 0);
            let status = app.get_approval_status(&approval_id)$($await)*.unwrap();
            assert_eq!(status.status, $fe::types::ApprovalStatusValue::Pending);
            assert!(!status.has_result);
            let unknown = app.get_approval_status("6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f")$($await)*;
            let error = expect_err("unknown approval", unknown);
            assert_eq!((error.class_name(), error.status()), ("BackendError", Some(404)));
            agent.close()$($await)*;
            app.close()$($await)*;
        }
    };
}

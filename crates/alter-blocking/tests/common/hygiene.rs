//! What must never happen: a followed redirect, Alter material at a provider, a lost or
//! failing audit row that fails the caller, a closed client that still sends.

/// Expands to the hygiene scenarios for the frontend crate `$fe`.
macro_rules! hygiene_scenarios {
    ($fe:ident, #[$test:meta], [$($async:tt)*] [$($await:tt)*]) => {
        use alter_testkit::{AuditSource, FakeAlter, FaultAction, FaultSpec, Listener};
        use serde_json::{Value, json};
        use $fe::types::Principal;
        use $fe::{
            AwaitOptions, ConnectOptions, ConnectSessionParams, CreateAgent, DeriveKey,
            ListAgents, ListGrants, ManagedSecretConnectParams, ProxyRequest, RetrieveRequest,
            TraceOptions, UpdateAgent,
        };

        use crate::adapter::traced_request;
        use crate::support::*;

        #[$test]
        $($async)* fn provider_redirects_are_returned_not_followed() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let grant = fake.grants().oauth_bearer.clone();

            for status in [301, 302, 307, 308] {
                for to_backend in [false, true] {
                    let query = if to_backend { "?to=backend" } else { "" };
                    let url = provider_url(&fake, &format!("/status/{status}{query}"));
                    let response = app
                        .request(RetrieveRequest::grant("POST", &url, &grant))$($await)*
                        .unwrap();
                    assert_eq!(response.status, status, "{url}");
                    let location = response.header("location").unwrap();
                    if to_backend {
                        assert!(location.starts_with(fake.base_url()), "{location}");
                        assert!(location.ends_with("/_testkit/redirected"), "{location}");
                    } else {
                        assert!(location.starts_with(fake.provider_base_url()), "{location}");
                    }
                }
            }
            assert_eq!(fake.route_hits("* /_testkit/redirected"), 0);
            assert_eq!(fake.route_hits("* /echo/redirected"), 0);
            assert_eq!(provider_requests(&fake).len(), 8);
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn providers_never_see_alter_material() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let agent = agent(&fake);
            let narrow_agent = agent.with_constraints(&["tokens:retrieve", "audit:write"]).unwrap();
            let g = fake.grants();
            let url = provider_url(&fake, "/echo/clean?x=1");
            let traced = || TraceOptions::run("run-clean").meta("ticket", "T-1");

            let mut echoes: Vec<(String, Value)> = Vec::new();
            let app_grants = [
                &g.oauth_bearer,
                &g.api_key_header,
                &g.query_param,
                &g.multi_header,
                &g.aws_sigv4,
            ];
            for grant in app_grants {
                let mut call = RetrieveRequest::grant("PUT", &url, grant);
                call.json = Some(json!({"k": "v"}));
                call.extra_headers = vec![("X-Custom".into(), "c".into())];
                let echoed: Value = app.request(call)$($await)*.unwrap().json().unwrap();
                echoes.push((grant.clone(), echoed));
            }
            for grant in [&g.agent_delegated, &g.managed_secret_agent] {
                let mut call = RetrieveRequest::grant("GET", &url, grant);
                call.extra_headers = vec![("X-Custom".into(), "c".into())];
                let echoed: Value = traced_request(&agent, traced(), call.clone())$($await)*
                    .unwrap()
                    .json()
                    .unwrap();
                echoes.push((grant.clone(), echoed));
                let echoed: Value = narrow_agent.request(call)$($await)*.unwrap().json().unwrap();
                echoes.push((grant.clone(), echoed));
            }

            let injects_x_api_key = [&g.api_key_header, &g.query_param];
            for (grant, echoed) in &echoes {
                let headers = echoed["headers"].as_object().unwrap();
                assert_eq!(headers["x-custom"], "c");
                for name in headers.keys() {
                    assert!(!name.starts_with("x-alter-"), "{grant}: {name} reached the provider");
                }
                assert_eq!(
                    headers.contains_key("x-api-key"),
                    injects_x_api_key.contains(&grant),
                    "{grant}: x-api-key only where the grant injects it"
                );
            }

            let secrets = [fake.app_key(), fake.agent_key(), fake.user_token()];
            let provider = provider_requests(&fake);
            assert_eq!(provider.len(), echoes.len());
            for request in &provider {
                let body = String::from_utf8_lossy(&request.body);
                for (name, value) in &request.headers {
                    assert!(!name.starts_with("x-alter-"), "{name} reached the provider");
                    for secret in secrets {
                        assert!(!value.contains(secret), "Alter material in {name}");
                    }
                }
                for secret in secrets {
                    assert!(!request.path.contains(secret) && !body.contains(secret));
                }
            }
            // The backend saw the caller, context and constraints; the provider did not.
            assert!(fake.recorded_requests().iter().any(|r| {
                r.listener == Listener::Backend && r.header("x-alter-scope-constraints").is_some()
            }));
            agent.close()$($await)*;
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn audit_rows_are_stored_by_close_and_a_failing_audit_never_fails_the_call() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let g = fake.grants();
            let mut calls = Vec::new();
            for (grant, path) in [
                (&g.oauth_bearer, "/echo/audit-1"),
                (&g.multi_header, "/echo/audit-2"),
                (&g.aws_sigv4, "/echo/audit-3"),
            ] {
                let mut call = RetrieveRequest::grant("POST", provider_url(&fake, path), grant);
                call.reason = Some(format!("audit {path}"));
                call.json = Some(json!({"secret": "body"}));
                assert_eq!(app.request(call)$($await)*.unwrap().status, 200);
                calls.push((grant.clone(), path));
            }
            app.close()$($await)*;

            assert_eq!(app.dropped_uploads(), 0);
            let rows = fake.audit_rows();
            assert_eq!(rows.len(), calls.len());
            for (row, (grant, path)) in rows.iter().zip(&calls) {
                let log = row.log.as_ref().expect("a typed audit row");
                assert_eq!(row.source, AuditSource::Sdk);
                assert_eq!(
                    (log.grant_id.as_str(), log.method.as_str(), log.response_status),
                    (grant.as_str(), "POST", 200)
                );
                assert!(log.url.ends_with(path), "{}", log.url);
                assert_eq!(log.reason.as_deref(), Some(format!("audit {path}").as_str()));
            }
            assert_eq!(fake.route_hits("POST /sdk/oauth/audit/api-call"), calls.len());

            // The audit endpoint fails: the call succeeds, the upload is sent once and not
            // counted as dropped (it was delivered, and refused).
            let fake = FakeAlter::start();
            let app = crate::support::app(&fake);
            fake.inject_fault(
                FaultSpec::new("POST /sdk/oauth/audit/api-call", FaultAction::status(500)).times(5),
            );
            let call = RetrieveRequest::grant(
                "GET",
                provider_url(&fake, "/echo/unaudited"),
                &fake.grants().oauth_bearer,
            );
            assert_eq!(app.request(call)$($await)*.unwrap().status, 200);
            fake.inject_fault(
                FaultSpec::new("POST /sdk/oauth/audit/api-call", FaultAction::Drop).times(5),
            );
            let call = RetrieveRequest::grant(
                "GET",
                provider_url(&fake, "/echo/unaudited-2"),
                &fake.grants().oauth_bearer,
            );
            assert_eq!(app.request(call)$($await)*.unwrap().status, 200);
            app.close()$($await)*;
            assert_eq!(fake.route_hits("POST /sdk/oauth/audit/api-call"), 2);
            assert!(fake.audit_rows().is_empty());
            assert_eq!(app.dropped_uploads(), 0);
        }

        #[$test]
        $($async)* fn malformed_caller_headers_are_input_errors() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let url = provider_url(&fake, "/echo/headers");
            for (name, value) in [("X Bad", "v"), ("X-Ctl", "a\u{1}b"), ("X-Del", "a\u{7f}b")] {
                let mut call = RetrieveRequest::grant("GET", &url, &fake.grants().oauth_bearer);
                call.extra_headers = vec![(name.into(), value.into())];
                let before = fake.recorded_requests().len();
                let error = expect_err(name, app.request(call)$($await)*);
                assert!(error.is_invalid_input(), "{name:?}: {error:?}");
                assert_eq!(fake.recorded_requests().len(), before, "{name:?}: checked before IO");
            }
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn every_call_after_close_is_refused_and_sends_nothing() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let agent = agent(&fake);
            let sibling = app.with_constraints(&["grants:read"]).unwrap();
            let as_agent = app.get_agent(&fake.agent_id().to_string()).unwrap();
            assert!(app.list_scopes()$($await)*.is_ok());
            app.close()$($await)*;
            agent.close()$($await)*;
            let before = fake.recorded_requests().len();

            let id = fake.agent_id().to_string();
            let key = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f";
            let grant = fake.grants().oauth_bearer.clone();
            let echo = provider_url(&fake, "/echo/closed");
            let retrieve = || RetrieveRequest::grant("GET", &echo, &grant);
            let proxy = || ProxyRequest::new("GET", &echo, &grant);
            let system = Principal::system(None).unwrap();
            let wait = AwaitOptions::default();

            assert_closed("request", app.request(retrieve())$($await)*);
            assert_closed("proxy_request", app.proxy_request(proxy())$($await)*);
            assert_closed("get_approval_status", app.get_approval_status(key)$($await)*);
            assert_closed("await_approval", app.await_approval(key, wait)$($await)*);
            assert_closed(
                "create_connect_session",
                app.create_connect_session(ConnectSessionParams::default())$($await)*,
            );
            assert_closed("connect", app.connect(ConnectOptions::providers(["notion"]))$($await)*);
            let derive = || DeriveKey::new(["grants:read"], 60);
            assert_closed("derive_key", app.derive_key(derive())$($await)*);
            assert_closed("rotate_key", app.rotate_key(key, 0)$($await)*);
            assert_closed("revoke_key", app.revoke_key(key, false)$($await)*);
            assert_closed("list_scopes", app.list_scopes()$($await)*);
            assert_closed("list_grants", app.list_grants(ListGrants::default())$($await)*);
            assert_closed("revoke_grant", app.revoke_grant(&grant, None)$($await)*);
            assert_closed("revoke_delegation", app.revoke_delegation(&grant, &id)$($await)*);
            assert_closed(
                "create_managed_secret_grant",
                app.create_managed_secret_grant(fake.managed_secret_id(), &system, None)$($await)*,
            );
            let params =
                ManagedSecretConnectParams::new("acme-api-key", id.clone(), fake.user_token());
            assert_closed(
                "create_managed_secret_connect_session",
                app.create_managed_secret_connect_session(params)$($await)*,
            );
            assert_eq!(app.verify_user_token(fake.user_token())$($await)*, None);
            assert_closed("create_agent", app.create_agent(CreateAgent::new("late"))$($await)*);
            assert_closed("list_agents", app.list_agents(ListAgents::default())$($await)*);
            assert_closed("get_agent_info", app.get_agent_info(&id)$($await)*);
            assert_closed("get_agent_by_name", app.get_agent_by_name("testkit-agent")$($await)*);
            assert_closed("update_agent", app.update_agent(&id, UpdateAgent::default())$($await)*);
            assert_closed("delete_agent", app.delete_agent(&id)$($await)*);
            assert_closed("mint_agent_key", app.mint_agent_key(&id)$($await)*);
            assert_closed("list_agent_keys", app.list_agent_keys(&id)$($await)*);
            assert_closed("deprecate_agent_key", app.deprecate_agent_key(&id, key)$($await)*);
            assert_closed("undeprecate_agent_key", app.undeprecate_agent_key(&id, key)$($await)*);
            assert_closed("revoke_agent_key", app.revoke_agent_key(&id, key, true)$($await)*);
            assert_closed(
                "authenticate",
                app.authenticate(std::time::Duration::from_secs(1))$($await)*,
            );
            assert_closed("with_constraints", app.with_constraints(&["grants:read"]));
            assert_closed("get_agent", app.get_agent(&id));
            let mut pages = app.grants(ListGrants::default());
            match pages.next()$($await)* {
                Some(first) => assert_closed("grants", first),
                None => panic!("the pager reports the closed client"),
            }
            assert!(pages.next()$($await)*.is_none(), "the pager stops after an error");

            assert_closed("agent request", agent.request(retrieve())$($await)*);
            assert_closed("agent proxy_request", agent.proxy_request(proxy())$($await)*);
            assert_closed("agent get_approval_status", agent.get_approval_status(key)$($await)*);
            assert_closed("agent await_approval", agent.await_approval(key, wait)$($await)*);
            assert_closed(
                "agent create_connect_session",
                agent.create_connect_session(ConnectSessionParams::default())$($await)*,
            );
            let notion = || ConnectOptions::providers(["notion"]);
            assert_closed("agent connect", agent.connect(notion())$($await)*);
            assert_closed("agent derive_key", agent.derive_key(derive())$($await)*);
            assert_closed("agent rotate_key", agent.rotate_key(key, 0)$($await)*);
            assert_closed("agent revoke_key", agent.revoke_key(key, false)$($await)*);
            assert_closed("agent list_scopes", agent.list_scopes()$($await)*);
            assert_closed("agent list_grants", agent.list_grants(ListGrants::default())$($await)*);
            assert_closed("agent revoke_delegation", agent.revoke_delegation(&grant)$($await)*);
            assert_closed("agent me", agent.me()$($await)*);
            assert_closed("agent with_constraints", agent.with_constraints(&["grants:read"]));
            assert_closed(
                "agent trace",
                traced_request(&agent, TraceOptions::run("r"), retrieve())$($await)*,
            );

            assert_closed("sibling", sibling.list_grants(ListGrants::default())$($await)*);
            assert_closed("impersonation", as_agent.me()$($await)*);

            assert_eq!(fake.recorded_requests().len(), before, "a closed client sent something");
            assert_eq!((app.dropped_uploads(), agent.dropped_uploads()), (0, 0));
            // Closing twice is harmless.
            app.close()$($await)*;
        }
    };
}

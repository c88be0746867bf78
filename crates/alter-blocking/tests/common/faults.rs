//! Injected faults: safe reads recover, calls that act are sent exactly once, slow and
//! broken answers become typed errors.

/// Expands to the fault scenarios for the frontend crate `$fe`.
macro_rules! fault_scenarios {
    ($fe:ident, #[$test:meta], [$($async:tt)*] [$($await:tt)*]) => {
        use std::time::Duration;

        use alter_testkit::{FakeAlter, FaultAction, FaultSpec};
        use serde_json::json;
        use $fe::{
            App, CreateAgent, DeriveKey, Error, ListGrants, ProxyOutcome, ProxyRequest,
            RetrieveRequest,
        };

        use crate::support::*;

        /// The faults a safe read must ride out, each armed for two requests.
        fn transient_faults() -> Vec<(&'static str, FaultAction)> {
            vec![
                ("503", FaultAction::status(503)),
                ("429 with Retry-After", FaultAction::status(429).retry_after("1")),
                ("502", FaultAction::status(502)),
                ("dropped connection", FaultAction::Drop),
            ]
        }

        /// An app with a short exchange timeout and no retries.
        fn impatient_app(fake: &FakeAlter) -> App {
            App::builder()
                .base_url(fake.base_url())
                .api_key(fake.app_key())
                .timeout(Duration::from_millis(300))
                .retry(no_retry())
                .build()
                .unwrap()
        }

        #[$test]
        $($async)* fn safe_reads_recover_from_transient_faults() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let gated = ProxyRequest::new(
                "GET",
                provider_url(&fake, "/echo/gated"),
                &fake.grants().hitl,
            );
            let ProxyOutcome::Pending(pending) = app.proxy_request(gated)$($await)*.unwrap() else {
                panic!("expected a pending approval");
            };
            let approval = pending.approval_id.to_string();

            for (label, action) in transient_faults() {
                fake.forget_requests();
                fake.inject_fault(FaultSpec::new("GET /sdk/scopes", action.clone()).times(2));
                let catalog = app.list_scopes()$($await)*;
                assert!(catalog.is_ok(), "list_scopes after {label}: {:?}", catalog.err());
                assert_eq!(fake.route_hits("GET /sdk/scopes"), 3, "{label}");

                fake.inject_fault(FaultSpec::new("GET /sdk/approvals/*", action.clone()).times(2));
                let status = app.get_approval_status(&approval)$($await)*;
                assert!(status.is_ok(), "get_approval_status after {label}");
                assert_eq!(fake.route_hits("GET /sdk/approvals/*"), 3, "{label}");

                fake.inject_fault(FaultSpec::new("POST /sdk/grants/list", action).times(2));
                let page = app.list_grants(ListGrants::default())$($await)*;
                assert!(page.is_ok(), "list_grants after {label}");
                assert_eq!(fake.route_hits("POST /sdk/grants/list"), 3, "{label}");

                // Each attempt was signed afresh: no nonce was refused as a replay.
                let nonces: std::collections::HashSet<String> = fake
                    .recorded_requests()
                    .iter()
                    .filter_map(|r| r.header("x-alter-nonce").map(str::to_owned))
                    .collect();
                assert_eq!(nonces.len(), 9, "{label}");
            }

            // Three failures exhaust the attempts: the last one is the error.
            fake.inject_fault(FaultSpec::new("GET /sdk/scopes", FaultAction::status(503)).times(3));
            let error = expect_err("three 503s", app.list_scopes()$($await)*);
            assert_eq!((error.class_name(), error.status()), ("BackendError", Some(503)));
            assert!(error.is_transient());
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn a_proxied_call_is_sent_exactly_once_whatever_fails() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let call = |path: &str| {
                let mut call = ProxyRequest::new(
                    "POST",
                    provider_url(&fake, path),
                    &fake.grants().oauth_bearer,
                );
                call.json_body = Some(json!({"amount": 100}));
                call
            };

            let cases = [
                ("/echo/status-502", FaultAction::status(502), 0),
                (
                    "/echo/executed-502",
                    FaultAction::ExecuteThenStatus { status: 502, body: None },
                    1,
                ),
                ("/echo/dropped", FaultAction::Drop, 0),
                ("/echo/executed-dropped", FaultAction::ExecuteThenDrop, 1),
                ("/echo/truncated", FaultAction::Truncate, 1),
            ];
            for (path, action, executed) in cases {
                fake.forget_requests();
                fake.inject_fault(FaultSpec::new("POST /sdk/proxy", action).times(3));
                let error = expect_err(path, app.proxy_request(call(path))$($await)*);
                assert!(error.may_have_reached_server(), "{path}: {error:?}");
                assert_eq!(fake.route_hits("POST /sdk/proxy"), 1, "{path}: sent once");
                assert_eq!(fake.route_hits(&format!("POST {path}")), executed, "{path}");
                match path {
                    "/echo/status-502" | "/echo/executed-502" => {
                        let seen = (error.class_name(), error.status());
                        assert_eq!(seen, ("BackendError", Some(502)), "{path}");
                    }
                    _ => assert_eq!(error.class_name(), "NetworkError", "{path}"),
                }
                fake.clear_faults();
            }
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn creates_mints_and_rotations_are_never_resent() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let agent_id = fake.agent_id().to_string();
            let derived = app.derive_key(DeriveKey::new(["grants:read"], 600))$($await)*.unwrap();
            let key_id = derived.key.id.to_string();

            for action in [FaultAction::status(503), FaultAction::Drop, FaultAction::status(429)] {
                fake.forget_requests();
                fake.inject_fault(FaultSpec::new("POST /sdk/agents", action.clone()).times(3));
                let create = app.create_agent(CreateAgent::new("once"))$($await)*;
                let error = expect_err("create", create);
                assert!(error.may_have_reached_server());
                assert_eq!(fake.route_hits("POST /sdk/agents"), 1, "{action:?}");

                let mint_fault = FaultSpec::new("POST /sdk/agents/*/keys", action.clone());
                fake.inject_fault(mint_fault.times(3));
                expect_err("mint", app.mint_agent_key(&agent_id)$($await)*);
                assert_eq!(fake.route_hits("POST /sdk/agents/*/keys"), 1, "{action:?}");

                let rotate_fault = FaultSpec::new("POST /sdk/keys/*/rotate", action.clone());
                fake.inject_fault(rotate_fault.times(3));
                expect_err("rotate", app.rotate_key(&key_id, 1)$($await)*);
                assert_eq!(fake.route_hits("POST /sdk/keys/*/rotate"), 1, "{action:?}");

                fake.inject_fault(FaultSpec::new("POST /sdk/keys/derive", action.clone()).times(3));
                let derive = app.derive_key(DeriveKey::new(["grants:read"], 60))$($await)*;
                expect_err("derive", derive);
                assert_eq!(fake.route_hits("POST /sdk/keys/derive"), 1, "{action:?}");

                let grant_fault = FaultSpec::new("POST /sdk/managed-secrets/*/grants", action);
                fake.inject_fault(grant_fault.times(3));
                let principal = $fe::types::Principal::system(None).unwrap();
                let secret = fake.managed_secret_id();
                let grant = app.create_managed_secret_grant(secret, &principal, None)$($await)*;
                expect_err("grant", grant);
                assert_eq!(fake.route_hits("POST /sdk/managed-secrets/*/grants"), 1);
                fake.clear_faults();
            }

            // With an idempotency key the backend deduplicates, so a create is a safe
            // retry: the same key goes out on every attempt.
            fake.forget_requests();
            let unavailable = FaultSpec::new("POST /sdk/agents", FaultAction::status(503));
            fake.inject_fault(unavailable.times(2));
            let mut keyed = CreateAgent::new("keyed");
            keyed.idempotency_key = Some("keyed-1".into());
            let created = app.create_agent(keyed)$($await)*.unwrap();
            assert!(created.api_key.is_some());
            let sent = requests(&fake, "POST /sdk/agents");
            assert_eq!(sent.len(), 3);
            assert!(sent.iter().all(|r| r.header("idempotency-key") == Some("keyed-1")));

            // A create that executed and then lost its answer: the agent exists, and the
            // caller is told it may have.
            fake.forget_requests();
            fake.inject_fault(FaultSpec::new("POST /sdk/agents", FaultAction::ExecuteThenDrop));
            let error = expect_err("create", app.create_agent(CreateAgent::new("ghost"))$($await)*);
            assert_eq!(error.class_name(), "NetworkError");
            assert!(error.may_have_reached_server());
            assert_eq!(fake.route_hits("POST /sdk/agents"), 1);
            assert!(app.get_agent_by_name("ghost")$($await)*.unwrap().is_some());
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn the_token_call_is_retried_but_the_provider_call_is_not() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            let url = provider_url(&fake, "/echo/once");
            let grant = fake.grants().oauth_bearer.clone();

            fake.inject_fault(FaultSpec::new("POST /sdk/token", FaultAction::status(503)).times(2));
            let response = app.request(RetrieveRequest::grant("POST", &url, &grant))$($await)*;
            assert_eq!(response.unwrap().status, 200);
            assert_eq!(fake.route_hits("POST /sdk/token"), 3);

            let dropped = FaultSpec::new("POST /echo/once", FaultAction::Drop).on_provider();
            fake.inject_fault(dropped.times(3));
            let call = RetrieveRequest::grant("POST", &url, &grant);
            let error = expect_err("provider drop", app.request(call)$($await)*);
            assert_eq!(error.class_name(), "NetworkError");
            assert!(error.may_have_reached_server());
            assert_eq!(fake.route_hits("POST /echo/once"), 2, "one success, one dropped");
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn a_slow_answer_past_the_timeout_is_a_timeout() {
            let fake = FakeAlter::start();
            let app = impatient_app(&fake);

            fake.inject_fault(FaultSpec::new("GET /sdk/scopes", FaultAction::Delay { ms: 1500 }));
            let error = expect_err("slow read", app.list_scopes()$($await)*);
            assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
            assert!(error.is_timeout() && error.is_network());

            fake.inject_fault(FaultSpec::new("POST /sdk/proxy", FaultAction::Delay { ms: 1500 }));
            let call = ProxyRequest::new(
                "POST",
                provider_url(&fake, "/echo/slow"),
                &fake.grants().oauth_bearer,
            );
            // The fake records a request when it answers, after the delay: the proof that
            // the call was not re-sent is the error itself (a second attempt would have
            // found no fault and succeeded).
            let error = expect_err("slow proxy", app.proxy_request(call)$($await)*);
            assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
            assert!(error.may_have_reached_server());

            // A retried read rides out one slow answer.
            let patient = App::builder()
                .base_url(fake.base_url())
                .api_key(fake.app_key())
                .timeout(Duration::from_millis(300))
                .retry(fast_retry())
                .build()
                .unwrap();
            fake.inject_fault(FaultSpec::new("GET /sdk/scopes", FaultAction::Delay { ms: 1500 }));
            assert!(patient.list_scopes()$($await)*.is_ok());
            patient.close()$($await)*;
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn malformed_and_truncated_answers_are_typed_errors() {
            let fake = FakeAlter::start();
            let app = impatient_app(&fake);
            let agent_id = fake.agent_id().to_string();

            let routes = [
                "GET /sdk/scopes",
                "POST /sdk/grants/list",
                "GET /sdk/agents/*",
                "POST /sdk/proxy",
                "POST /sdk/token",
            ];
            for route in routes {
                for status in [200, 201, 500, 502] {
                    fake.inject_fault(FaultSpec::new(route, FaultAction::Malformed { status }));
                    let error = match route {
                        "GET /sdk/scopes" => expect_err(route, app.list_scopes()$($await)*),
                        "POST /sdk/grants/list" => {
                            expect_err(route, app.list_grants(ListGrants::default())$($await)*)
                        }
                        "GET /sdk/agents/*" => {
                            expect_err(route, app.get_agent_info(&agent_id)$($await)*)
                        }
                        "POST /sdk/proxy" => {
                            let call = ProxyRequest::new(
                                "GET",
                                provider_url(&fake, "/echo/m"),
                                &fake.grants().oauth_bearer,
                            );
                            expect_err(route, app.proxy_request(call)$($await)*)
                        }
                        _ => {
                            let call = RetrieveRequest::grant(
                                "GET",
                                provider_url(&fake, "/echo/m"),
                                &fake.grants().oauth_bearer,
                            );
                            expect_err(route, app.request(call)$($await)*)
                        }
                    };
                    assert!(error.is_backend(), "{route} {status}: {error:?}");
                    assert_eq!(error.status(), Some(status), "{route}");
                    if status == 200 {
                        assert!(
                            matches!(error, Error::MalformedResponse { .. }),
                            "{route} {status}: {error:?}"
                        );
                    }
                }

                fake.inject_fault(FaultSpec::new(route, FaultAction::Truncate));
                let error = match route {
                    "GET /sdk/scopes" => expect_err(route, app.list_scopes()$($await)*),
                    "POST /sdk/grants/list" => {
                        expect_err(route, app.list_grants(ListGrants::default())$($await)*)
                    }
                    "GET /sdk/agents/*" => {
                        expect_err(route, app.get_agent_info(&agent_id)$($await)*)
                    }
                    "POST /sdk/proxy" => {
                        let call = ProxyRequest::new(
                            "GET",
                            provider_url(&fake, "/echo/t"),
                            &fake.grants().oauth_bearer,
                        );
                        expect_err(route, app.proxy_request(call)$($await)*)
                    }
                    _ => {
                        let call = RetrieveRequest::grant(
                            "GET",
                            provider_url(&fake, "/echo/t"),
                            &fake.grants().oauth_bearer,
                        );
                        expect_err(route, app.request(call)$($await)*)
                    }
                };
                assert_eq!(error.class_name(), "NetworkError", "{route} truncated: {error:?}");
                assert!(error.may_have_reached_server(), "{route}");
            }
            assert!(app.list_scopes()$($await)*.is_ok(), "the client still works");
            app.close()$($await)*;
        }
    };
}

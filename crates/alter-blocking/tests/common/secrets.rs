//! Secrets never leak: representative flows run under the TRACE capture of `capture.rs`,
//! every value and error they meet is formatted with `{:?}` and `{}`, and neither the
//! capture nor those texts may hold an API key, a derived signing key, a signature, a
//! provider credential, a session token or a user token.
//!
//! The flows: the README quickstart story (every injection style, proxy, approval, connect,
//! sign-in, token getter, trace, key derivation), the typed errors, and retried or timed
//! out calls. Each ends with [`Capture::assert_no_leak`](crate::capture::Capture).

/// Expands to the secret-leak scenarios for the frontend crate `$fe`.
///
/// The crate provides `crate::capture` (`common/capture.rs`), `crate::support`
/// (`frontend_support!`) and `crate::adapter` (`with_token`, `with_failing_getter`,
/// `traced_request`).
macro_rules! secret_scenarios {
    ($fe:ident, #[$test:meta], [$($async:tt)*] [$($await:tt)*]) => {
        use std::sync::{Arc, Mutex};
        use std::time::Duration;

        use alter_testkit::{
            AuthCompletion, ConnectCompletion, CredentialSpec, FakeAlter, FaultAction, FaultSpec,
            GrantSpec,
        };
        use serde_json::json;
        use $fe::types::Principal;
        use $fe::{
            Agent, App, AwaitOptions, ConnectOptions, ConnectSessionParams, CreateAgent,
            DeriveKey, ListAgents, ListGrants, ManagedSecretConnectParams, ProxyOutcome,
            ProxyRequest, RetrieveRequest, TraceOptions,
        };

        use crate::adapter::{traced_request, with_failing_getter, with_token};
        use crate::capture::{Coverage, Echo, EchoStyle, Secrets, Shown, capture};
        use crate::support::*;

        /// What the URL handler was shown and finished: (what, URL, session token).
        type Sessions = Arc<Mutex<Vec<(String, String, String)>>>;

        /// The fake's own keys and tokens, and a fresh secret store for one test.
        fn seeded_secrets(fake: &FakeAlter) -> Secrets {
            let mut secrets = Secrets::default();
            secrets.api_key("the app key", fake.app_key());
            secrets.api_key("the seeded agent key", fake.agent_key());
            secrets.add("the seeded user token", fake.user_token());
            secrets
        }

        /// Searches the capture and `shown`, after adding every credential the fake
        /// recorded to `secrets`; prints what was covered.
        fn finish(name: &str, fake: &FakeAlter, mut secrets: Secrets, shown: &Shown) -> Coverage {
            secrets.harvest(&fake.recorded_requests());
            for kind in ["backend header x-alter-signature", "provider header authorization"] {
                assert!(secrets.has(kind), "{name}: nothing recorded as {kind}");
            }
            let coverage = capture().assert_no_leak(&secrets, shown);
            eprintln!("{name}: {coverage}");
            assert!(coverage.by_crate.contains_key("alter_core"), "{name}: alter-core traced");
            coverage
        }

        /// An app whose URL handler plays the end user at once: it completes the connect or
        /// sign-in session the URL names and keeps its token.
        fn app_finishing_sessions(fake: &Arc<FakeAlter>, shown: &mut Shown) -> (App, Sessions) {
            let sessions = Sessions::default();
            let (user, seen) = (Arc::clone(fake), Arc::clone(&sessions));
            let builder = App::builder()
                .base_url(fake.base_url())
                .api_key(fake.app_key())
                .retry(fast_retry())
                .url_handler(move |what, url| {
                    let pending = match what {
                        "connect" => user.pending_connect_sessions(),
                        _ => user.pending_auth_sessions(),
                    };
                    let Some(token) = pending.into_iter().find(|t| url.contains(t.as_str()))
                    else {
                        return;
                    };
                    if what == "connect" {
                        let done = ConnectCompletion::default().account("team@example.com");
                        user.complete_connect_with(&token, &done).unwrap();
                    } else {
                        let done = AuthCompletion::user("user-kim").email("kim@example.com");
                        user.complete_auth_with(&token, &done).unwrap();
                    }
                    seen.lock().unwrap().push((what.to_owned(), url.to_owned(), token));
                });
            shown.debug(&builder);
            (builder.build().unwrap(), sessions)
        }

        /// The session types whose URL the handler was shown, as the wire carried them: the
        /// client parsed them, and an application using `alter-core` holds them.
        fn show_session(what: &str, url: &str, token: &str, shown: &mut Shown) {
            let wire = json!({
                "auth_url": url,
                "connect_url": url,
                "session_token": token,
                "expires_in": 600,
                "expires_at": "2030-01-01T00:00:00Z",
            });
            if what == "connect" {
                let session: $fe::types::ConnectSession = serde_json::from_value(wire).unwrap();
                shown.debug(&session);
            } else {
                let session: $fe::types::AuthSession = serde_json::from_value(wire).unwrap();
                shown.debug(&session);
            }
        }

        /// One grant per injection style, with provider credentials this test chose.
        fn grants_with_known_credentials(fake: &FakeAlter, secrets: &mut Secrets) -> Vec<String> {
            let mut multi = CredentialSpec::multi_header().access_token("prov-multi-9Qe4Lr7Tz2");
            multi
                .additional_credentials
                .get_or_insert_default()
                .insert("account_id".into(), "acct-secret-6Hd3Mw8Ks1".into());
            let mut sigv4 = CredentialSpec::aws_sigv4("eu-west-1", "execute-api")
                .access_token("AKIAKNOWNSIGV4TEST01");
            sigv4
                .additional_credentials
                .get_or_insert_default()
                .insert("secret_key".into(), "sigv4-secret-Wj3Xr8Kp5Qm2Zt7Lc4".into());
            let specs = [
                CredentialSpec::bearer().access_token("prov-bearer-4Fk8Tq2Wn6"),
                CredentialSpec::api_key_header("X-Acme-Key").access_token("prov-header-7Rb3Vy9Cx5"),
                CredentialSpec::query_param("api_key").access_token("prov-query-2Jm6Np4Hs8"),
                multi,
                sigv4,
            ];

            secrets.add("a bearer token", "prov-bearer-4Fk8Tq2Wn6");
            secrets.add("an api-key header token", "prov-header-7Rb3Vy9Cx5");
            secrets.add("a query-parameter token", "prov-query-2Jm6Np4Hs8");
            secrets.add("a multi-header token", "prov-multi-9Qe4Lr7Tz2");
            secrets.add("a multi-header account id", "acct-secret-6Hd3Mw8Ks1");
            secrets.add("a SigV4 access key id", "AKIAKNOWNSIGV4TEST01");
            secrets.add("a SigV4 secret key", "sigv4-secret-Wj3Xr8Kp5Qm2Zt7Lc4");
            specs
                .into_iter()
                .map(|credential| {
                    let spec = GrantSpec::oauth("acme").credential(credential);
                    fake.add_grant(&spec).unwrap()
                })
                .collect()
        }

        /// Step 1-2 of the quickstart: an agent, its key, a managed secret granted to it.
        $($async)* fn operator_setup(
            app: &App,
            fake: &FakeAlter,
            secrets: &mut Secrets,
            shown: &mut Shown,
        ) -> (Agent, String) {
            let mut params = CreateAgent::new("quickstart-agent");
            params.display_name = Some("Quickstart agent".into());
            shown.debug(&params);
            let created = app.create_agent(params)$($await)*.unwrap();
            shown.debug(&created);
            let first_key = created.api_key.as_ref().unwrap().expose_secret();
            secrets.api_key("the created agent's key", first_key);
            let minted = app.mint_agent_key(&created.agent.id.to_string())$($await)*.unwrap();
            shown.debug(&minted);
            let agent_key = minted.api_key.as_ref().unwrap().expose_secret().to_owned();
            secrets.api_key("a minted agent key", &agent_key);

            let as_agent = app_with_key(fake, &agent_key);
            let principal = Principal::agent(Some("quickstart".into())).unwrap();
            let grant = as_agent
                .create_managed_secret_grant(fake.managed_secret_id(), &principal, None)$($await)*
                .unwrap();
            shown.debug(&principal);
            shown.debug(&grant);
            shown.debug(&as_agent);
            as_agent.close()$($await)*;

            let builder = Agent::builder()
                .base_url(fake.base_url())
                .api_key(&agent_key)
                .caller("quickstart-agent")
                .retry(fast_retry());
            shown.debug(&builder);
            let agent = builder.build().unwrap();
            shown.debug(&agent);
            (agent, grant.grant_id)
        }

        /// Step 3: retrieve mode with every injection style, and the agent's managed secret.
        $($async)* fn retrieve_every_style(
            app: &App,
            (agent, agent_grant): (&Agent, &str),
            grants: &[String],
            fake: &FakeAlter,
            shown: &mut Shown,
        ) {
            let g = fake.grants();
            let seeded = [
                &g.oauth_bearer,
                &g.api_key_header,
                &g.query_param,
                &g.multi_header,
                &g.aws_sigv4,
            ];
            let url = provider_url(fake, "/protected/v1/forecast?city=lisbon");
            for grant in grants.iter().chain(seeded) {
                let mut call = RetrieveRequest::grant("POST", &url, grant);
                call.json = Some(json!({"days": 3}));
                call.reason = Some("quickstart: read the forecast".into());
                call.extra_headers = vec![("X-Request-Id".into(), "req-1".into())];
                shown.debug(&call);
                let response = app.request(call)$($await)*;
                shown.outcome(&response);
                assert_eq!(response.unwrap().status, 200, "{grant}: the credential arrived");
            }

            let mut call = RetrieveRequest::grant("GET", &url, agent_grant);
            call.reason = Some("quickstart: the agent's own secret".into());
            let response = agent.request(call)$($await)*;
            shown.outcome(&response);
            assert_eq!(response.unwrap().status, 200);
        }

        /// Steps 4-5: proxy mode, and an approval-gated call a human approves.
        $($async)* fn proxy_and_approval(
            app: &App,
            agent: &Agent,
            fake: &Arc<FakeAlter>,
            grant_id: &str,
            shown: &mut Shown,
        ) {
            let url = provider_url(fake, "/echo/v1/forecast");
            let mut call = ProxyRequest::new("POST", &url, grant_id);
            call.json_body = Some(json!({"city": "Lisbon"}));
            shown.debug(&call);
            let outcome = agent.proxy_request(call)$($await)*;
            shown.outcome(&outcome);
            assert!(matches!(outcome, Ok(ProxyOutcome::Completed(_))));

            let mut gated = ProxyRequest::new("DELETE", &url, &fake.grants().hitl);
            gated.reason = Some("quickstart: clean up".into());
            let outcome = app.proxy_request(gated)$($await)*.unwrap();
            shown.debug(&outcome);
            let ProxyOutcome::Pending(pending) = outcome else {
                panic!("the gated grant asks for approval");
            };
            let id = pending.approval_id.to_string();
            shown.debug(&app.get_approval_status(&id)$($await)*);
            let approver = {
                let (fake, id) = (Arc::clone(fake), id.clone());
                std::thread::spawn(move || fake.approve(&id).unwrap())
            };
            let options = AwaitOptions::default().poll_interval(Duration::from_millis(50));
            shown.debug(&options);
            let result = app.await_approval(&id, options)$($await)*;
            shown.debug(&approver.join().unwrap());
            shown.outcome(&result);
            assert_eq!(result.unwrap().status_code, 200);
            shown.debug(&app.get_approval_status(&id)$($await)*);
        }

        /// Steps 6-7: connect, sign-in, the token getter, and sessions of both kinds.
        $($async)* fn users_and_sessions(
            app: &App,
            fake: &FakeAlter,
            secrets: &mut Secrets,
            shown: &mut Shown,
        ) {
            let mut params = ConnectSessionParams::default();
            params.allowed_providers = Some(vec!["notion".into()]);
            shown.debug(&params);
            let session = app.create_connect_session(params)$($await)*.unwrap();
            shown.debug(&session);
            secrets.add("a connect session token", session.session_token.expose_secret());

            let options = ConnectOptions::providers(["notion"]);
            shown.debug(&options);
            let connected = app.connect(options)$($await)*;
            shown.outcome(&connected);
            assert_eq!(connected.unwrap().len(), 1);

            let signed_in = app.authenticate(Duration::from_secs(30))$($await)*.unwrap();
            shown.debug(&signed_in);
            secrets.add("a sign-in user token", signed_in.user_token.expose_secret());
            shown.outcome(&app.list_grants(ListGrants::default())$($await)*);

            let bob = fake.issue_user_token("user-bob");
            secrets.add("an issued user token", &bob);
            let builder = with_token(
                App::builder().base_url(fake.base_url()).api_key(fake.app_key()),
                bob.clone(),
            );
            shown.debug(&builder);
            let as_bob = builder.build().unwrap();
            shown.debug(&as_bob);
            shown.outcome(&as_bob.list_grants(ListGrants::default())$($await)*);
            let session = as_bob.create_connect_session(ConnectSessionParams::default())$($await)*;
            shown.outcome(&session);
            secrets.add("a getter's session token", session.unwrap().session_token.expose_secret());
            shown.debug(&as_bob.verify_user_token(&bob)$($await)*);
            as_bob.close()$($await)*;

            let params = ManagedSecretConnectParams::new(
                "acme-api-key",
                fake.agent_id().to_string(),
                fake.user_token(),
            );
            shown.debug(&params);
            let session = app.create_managed_secret_connect_session(params)$($await)*.unwrap();
            shown.debug(&session);
            secrets.add("a managed-secret session token", session.session_token.expose_secret());
            secrets.add("a managed-secret connect URL", session.connect_url.expose_secret());
        }

        /// Step 8: trace context, derived, rotated and revoked keys, grant lists.
        $($async)* fn keys_traces_and_lists(
            app: &App,
            fake: &FakeAlter,
            secrets: &mut Secrets,
            shown: &mut Shown,
        ) {
            let agent = agent(fake);
            let trace = TraceOptions::run("run-quickstart").thread("t-1").meta("ticket", "T-7");
            shown.debug(&trace);
            let call = RetrieveRequest::grant(
                "GET",
                provider_url(fake, "/protected/traced"),
                &fake.grants().agent_delegated,
            );
            let traced = traced_request(&agent, trace, call)$($await)*;
            shown.outcome(&traced);
            assert_eq!(traced.unwrap().status, 200);
            let call = RetrieveRequest::grant(
                "GET",
                provider_url(fake, "/protected/own"),
                &fake.grants().managed_secret_agent,
            );
            shown.outcome(&agent.request(call)$($await)*);
            shown.outcome(&agent.me()$($await)*);
            shown.outcome(&agent.list_grants(ListGrants::default())$($await)*);
            let narrow = agent.with_constraints(&["tokens:retrieve"]).unwrap();
            shown.debug(&narrow);
            agent.close()$($await)*;

            let params = DeriveKey::new(["grants:read"], 600);
            shown.debug(&params);
            let derived = app.derive_key(params)$($await)*.unwrap();
            shown.debug(&derived);
            secrets.api_key("a derived key", derived.api_key.expose_secret());
            let child = app_with_key(fake, derived.api_key.expose_secret());
            shown.outcome(&child.list_grants(ListGrants::default())$($await)*);
            child.close()$($await)*;
            let rotated = app.rotate_key(&derived.key.id.to_string(), 1)$($await)*.unwrap();
            shown.debug(&rotated);
            secrets.api_key("a rotated key", rotated.api_key.expose_secret());
            let revoked = app.revoke_key(&rotated.key.id.to_string(), true)$($await)*;
            shown.outcome(&revoked);

            shown.outcome(&app.list_scopes()$($await)*);
            shown.outcome(&app.list_agents(ListAgents::default())$($await)*);
            let impersonated = app.get_agent(&fake.agent_id().to_string()).unwrap();
            shown.debug(&impersonated);
            let mut pages = app.grants(ListGrants::default());
            shown.debug(&pages);
            while let Some(item) = pages.next()$($await)* {
                shown.outcome(&item);
            }
        }

        #[$test]
        $($async)* fn the_quickstart_story_shows_no_secret() {
            capture();
            let fake = Arc::new(FakeAlter::start());
            let mut secrets = seeded_secrets(&fake);
            let mut shown = Shown::default();
            let known = grants_with_known_credentials(&fake, &mut secrets);

            let (app, sessions) = app_finishing_sessions(&fake, &mut shown);
            shown.debug(&app);
            let (agent, grant_id) = operator_setup(&app, &fake, &mut secrets, &mut shown)$($await)*;
            let quickstart_agent = (&agent, grant_id.as_str());
            retrieve_every_style(&app, quickstart_agent, &known, &fake, &mut shown)$($await)*;
            proxy_and_approval(&app, &agent, &fake, &grant_id, &mut shown)$($await)*;
            users_and_sessions(&app, &fake, &mut secrets, &mut shown)$($await)*;
            keys_traces_and_lists(&app, &fake, &mut secrets, &mut shown)$($await)*;

            let revoked = app.revoke_grant(&known[0], Some("quickstart finished"))$($await)*;
            shown.outcome(&revoked);
            agent.close()$($await)*;
            app.close()$($await)*;
            assert_eq!(app.dropped_uploads(), 0);
            assert!(!fake.audit_rows().is_empty(), "close flushed the audit rows");

            let sessions = sessions.lock().unwrap().clone();
            assert_eq!(sessions.len(), 2, "the user finished a connect and a sign-in");
            for (what, url, token) in &sessions {
                secrets.add("a session the URL handler finished", token);
                show_session(what, url, token, &mut shown);
            }
            let coverage = finish("quickstart", &fake, secrets, &shown);
            assert!(coverage.shown > 100, "{coverage:?}");
            assert!(coverage.secrets > 40, "{coverage:?}");
        }

        /// The error class of a call's outcome, `ok` for a success.
        fn class<T>(result: &$fe::Result<T>) -> &'static str {
            result.as_ref().err().map_or("ok", |error| error.class_name())
        }

        /// 401 and 403: a key never issued, a revoked key, a key without the scope, a
        /// grant whose policy refuses the call.
        $($async)* fn refused_callers(
            app: &App,
            fake: &FakeAlter,
            secrets: &mut Secrets,
            shown: &mut Shown,
        ) {
            let key_type = fake.app_key().split('_').nth(1).unwrap().to_owned();
            let random = "unknownkeyabcdefghijkl";
            let checksum = alter_core::config::key_checksum(&key_type, random);
            let unknown = format!("alter_{key_type}_{random}_{checksum}");
            secrets.api_key("a key never issued", &unknown);
            let stranger = app_with_key(fake, &unknown);
            let refused = stranger.list_scopes()$($await)*;
            assert_eq!(refused.as_ref().err().and_then(|e| e.status()), Some(401));
            shown.outcome(&refused);
            stranger.close()$($await)*;

            let derived = app.derive_key(DeriveKey::new(["grants:read"], 600))$($await)*.unwrap();
            secrets.api_key("a revoked key", derived.api_key.expose_secret());
            app.revoke_key(&derived.key.id.to_string(), true)$($await)*.unwrap();
            let revoked = app_with_key(fake, derived.api_key.expose_secret());
            let refused = revoked.list_scopes()$($await)*;
            assert_eq!(refused.as_ref().err().and_then(|e| e.status()), Some(401));
            shown.outcome(&refused);
            revoked.close()$($await)*;

            let narrow = app.derive_key(DeriveKey::new(["grants:read"], 600))$($await)*.unwrap();
            secrets.api_key("a narrow derived key", narrow.api_key.expose_secret());
            let child = app_with_key(fake, narrow.api_key.expose_secret());
            let url = provider_url(fake, "/echo/refused");
            let call = RetrieveRequest::grant("GET", &url, &fake.grants().oauth_bearer);
            let forbidden = child.request(call)$($await)*;
            assert_eq!(class(&forbidden), "InsufficientScopeError");
            shown.outcome(&forbidden);
            child.close()$($await)*;

            let token = "prov-policy-3Gh7Kd1Ls9";
            secrets.add("a refused grant's token", token);
            let credential = CredentialSpec::bearer().access_token(token);
            let spec = GrantSpec::oauth("acme").credential(credential).policy_error("off_hours");
            let grant = fake.add_grant(&spec).unwrap();
            let retrieved = app.request(RetrieveRequest::grant("GET", &url, &grant))$($await)*;
            let proxied = app.proxy_request(ProxyRequest::new("GET", &url, &grant))$($await)*;
            assert_eq!(class(&retrieved), "PolicyViolationError");
            assert_eq!(proxied.as_ref().err().and_then(|e| e.status()), Some(403));
            shown.outcome(&retrieved);
            shown.outcome(&proxied);
        }

        /// 404s, a provider's own 401 and 403, an idempotency key reused for another body.
        $($async)* fn missing_and_conflicting(
            app: &App,
            fake: &FakeAlter,
            secrets: &mut Secrets,
            shown: &mut Shown,
        ) {
            let oauth = &fake.grants().oauth_bearer;
            let nobody = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f";
            let url = provider_url(fake, "/echo/missing");
            let missing = app.request(RetrieveRequest::grant("GET", &url, nobody))$($await)*;
            assert_eq!(class(&missing), "GrantNotFoundError");
            shown.outcome(&missing);
            let missing = app.get_agent_info(nobody)$($await)*;
            assert_eq!(class(&missing), "AgentNotFoundError");
            shown.outcome(&missing);

            for path in ["/status/401", "/status/403?scope=admin"] {
                let call = RetrieveRequest::grant("GET", provider_url(fake, path), oauth);
                let refused = app.request(call)$($await)*;
                assert!(refused.as_ref().is_err_and(|e| e.status().is_some()), "{path}");
                shown.outcome(&refused);
            }

            let mut classes = Vec::new();
            for name in ["idem-a", "idem-b"] {
                let mut params = CreateAgent::new(name);
                params.idempotency_key = Some("idem-1".into());
                let created = app.create_agent(params)$($await)*;
                if let Ok(created) = &created {
                    let key = created.api_key.as_ref().unwrap().expose_secret();
                    secrets.api_key("an idempotent create's key", key);
                }
                classes.push(class(&created));
                shown.outcome(&created);
            }
            assert_eq!(classes, ["ok", "IdempotencyKeyBodyMismatchError"]);
        }

        /// Input errors before any IO, failing and blank token getters, a closed client.
        $($async)* fn refused_inputs(
            app: &App,
            fake: &FakeAlter,
            secrets: &mut Secrets,
            shown: &mut Shown,
        ) {
            // A key pasted with its line break, or in a URL that is not one, fails the build.
            let pasted = format!("{}\n", fake.app_key());
            let built = App::builder().base_url(fake.base_url()).api_key(&pasted).build();
            assert_eq!(class(&built), "AlterSDKError");
            shown.outcome(&built);
            let built = App::builder().base_url("ftp://nowhere").api_key(fake.app_key()).build();
            assert!(built.is_err());
            shown.outcome(&built);
            // A password or key written into a base URL is not quoted back.
            let password = "base-url-password-7f3a9c";
            secrets.add("a password in a base URL", password);
            for url in [
                format!("https://ops:{password}@vault.example.com"),
                format!("https://vault.example.com/?api_key={password}"),
            ] {
                let built = App::builder().base_url(&url).api_key(fake.app_key()).build();
                assert!(built.is_err(), "{url} accepted");
                shown.outcome(&built);
            }
            // A mistyped key has the right shape: the backend refuses it.
            let mut typo = fake.app_key().to_owned();
            typo.pop();
            typo.push('9');
            secrets.api_key("a mistyped key", &typo);
            let mistyped = app_with_key(fake, &typo);
            let refused = mistyped.list_scopes()$($await)*;
            assert_eq!(refused.as_ref().err().and_then(|e| e.status()), Some(401));
            shown.outcome(&refused);
            mistyped.close()$($await)*;

            let url = provider_url(fake, "/echo/inputs");
            let oauth = &fake.grants().oauth_bearer;
            let mut call = RetrieveRequest::grant("GET", &url, oauth);
            call.extra_headers = vec![("X-Bad".into(), "a\r\nb".into())];
            let refused = app.request(call)$($await)*;
            assert!(refused.as_ref().is_err_and(|e| e.is_invalid_input()));
            shown.outcome(&refused);
            let own = "Bearer caller-secret-8Tn2Vb5";
            secrets.add("a caller's own credential header", own);
            let mut call = ProxyRequest::new("GET", &url, oauth);
            call.headers = vec![("Authorization".into(), own.into())];
            let refused = app.proxy_request(call)$($await)*;
            assert!(refused.as_ref().is_err_and(|e| e.is_invalid_input()));
            shown.outcome(&refused);

            let builder = || App::builder().base_url(fake.base_url()).api_key(fake.app_key());
            for client in [
                with_failing_getter(builder()).build().unwrap(),
                with_token(builder(), "   ".into()).build().unwrap(),
            ] {
                let refused = client.list_grants(ListGrants::default())$($await)*;
                assert_eq!(class(&refused), "AlterSDKError");
                shown.outcome(&refused);
                client.close()$($await)*;
            }

            let closed = app_with_key(fake, fake.app_key());
            closed.close()$($await)*;
            let refused = closed.request(RetrieveRequest::grant("GET", &url, oauth))$($await)*;
            assert!(matches!(refused, Err($fe::Error::Closed)));
            shown.outcome(&refused);
            shown.debug(&closed);
        }

        #[$test]
        $($async)* fn typed_errors_show_no_secret() {
            capture();
            let fake = FakeAlter::start();
            let mut secrets = seeded_secrets(&fake);
            let mut shown = Shown::default();
            let app = app(&fake);

            refused_callers(&app, &fake, &mut secrets, &mut shown)$($await)*;
            missing_and_conflicting(&app, &fake, &mut secrets, &mut shown)$($await)*;
            refused_inputs(&app, &fake, &mut secrets, &mut shown)$($await)*;
            app.close()$($await)*;

            finish("errors", &fake, secrets, &shown);
        }

        #[$test]
        $($async)* fn retries_and_timeouts_show_no_secret() {
            capture();
            let fake = FakeAlter::start();
            let secrets = seeded_secrets(&fake);
            let mut shown = Shown::default();
            let app = app(&fake);
            let url = provider_url(&fake, "/protected/retried");
            let oauth = fake.grants().oauth_bearer.clone();

            let faults = [
                FaultAction::status(503),
                FaultAction::status(429).retry_after("1"),
                FaultAction::Drop,
            ];
            for action in faults {
                for route in ["GET /sdk/scopes", "POST /sdk/grants/list", "POST /sdk/token"] {
                    fake.inject_fault(FaultSpec::new(route, action.clone()).times(2));
                }
                let scopes = app.list_scopes()$($await)*;
                assert!(scopes.is_ok(), "{action:?}: a safe read is retried to success");
                shown.outcome(&scopes);
                shown.outcome(&app.list_grants(ListGrants::default())$($await)*);
                let response = app.request(RetrieveRequest::grant("GET", &url, &oauth))$($await)*;
                shown.outcome(&response);

                // Past the last attempt, the failure itself is the answer.
                fake.inject_fault(FaultSpec::new("POST /sdk/token", action.clone()).times(3));
                let call = RetrieveRequest::grant("GET", &url, &oauth);
                shown.outcome(&app.request(call)$($await)*);
                fake.clear_faults();
            }
            let dropped = FaultSpec::new("POST /sdk/proxy", FaultAction::ExecuteThenDrop);
            fake.inject_fault(dropped);
            let call = ProxyRequest::new("POST", provider_url(&fake, "/echo/once"), &oauth);
            shown.outcome(&app.proxy_request(call)$($await)*);
            shown.debug(&app.last_retry_info());

            let impatient = App::builder()
                .base_url(fake.base_url())
                .api_key(fake.app_key())
                .timeout(Duration::from_millis(200))
                .retry(no_retry());
            shown.debug(&impatient);
            let impatient = impatient.build().unwrap();
            for route in ["GET /sdk/scopes", "POST /sdk/token"] {
                fake.inject_fault(FaultSpec::new(route, FaultAction::Delay { ms: 1000 }));
            }
            let slow = impatient.list_scopes()$($await)*;
            assert!(slow.as_ref().is_err_and(|e| e.is_timeout()), "{slow:?}");
            shown.outcome(&slow);
            let slow = impatient.request(RetrieveRequest::grant("GET", &url, &oauth))$($await)*;
            assert!(slow.as_ref().is_err_and(|e| e.is_timeout()), "{slow:?}");
            shown.outcome(&slow);
            let options = AwaitOptions::default()
                .timeout(Duration::from_millis(150))
                .poll_interval(Duration::from_millis(50));
            let gated = ProxyRequest::new("GET", &url, &fake.grants().hitl);
            if let Ok(ProxyOutcome::Pending(pending)) = app.proxy_request(gated)$($await)* {
                let id = pending.approval_id.to_string();
                shown.outcome(&app.await_approval(&id, options)$($await)*);
            }
            impatient.close()$($await)*;
            app.close()$($await)*;

            finish("retries", &fake, secrets, &shown);
        }

        #[$test]
        $($async)* fn echoing_servers_show_no_secret() {
            capture();
            let fake = FakeAlter::start();
            let mut secrets = seeded_secrets(&fake);
            let mut shown = Shown::default();

            // A backend that repeats the key and signature in its error answers.
            for style in [EchoStyle::Message400, EchoStyle::Detail401, EchoStyle::Html500] {
                let echo = Echo::start(style);
                let app = App::builder()
                    .base_url(&echo.url)
                    .api_key(fake.app_key())
                    .retry(no_retry())
                    .build()
                    .unwrap();
                let refused = app.list_scopes()$($await)*;
                assert!(refused.is_err(), "{style:?}: the echo was taken for success");
                shown.outcome(&refused);
                app.close()$($await)*;
                secrets.harvest_echo(&echo);
                assert!(secrets.has("backend header x-alter-signature"), "{style:?}: nothing seen");
            }

            // A provider that repeats the injected token in its challenge, headers and body.
            let echo = Echo::start(EchoStyle::Challenge403);
            let app = app(&fake);
            let url = format!("{}/files", echo.url);
            let call = RetrieveRequest::grant("GET", &url, &fake.grants().oauth_bearer);
            let refused = app.request(call)$($await)*;
            assert_eq!(class(&refused), "ScopeReauthRequiredError");
            shown.outcome(&refused);
            app.close()$($await)*;
            secrets.harvest_echo(&echo);
            let rows = fake.audit_rows();
            assert!(!rows.is_empty(), "the provider call was not audited");
            for row in rows {
                shown.text(row.raw.to_string());
            }
            for report in fake.scope_reports() {
                shown.text(format!("{report:?}"));
            }

            finish("echoes", &fake, secrets, &shown);
        }
    };
}

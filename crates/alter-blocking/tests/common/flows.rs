//! The waiting flows: `connect()` and `authenticate()` finished by the fake's control API
//! from another thread, and `await_approval` for every decision.

/// Expands to the flow scenarios for the frontend crate `$fe`.
macro_rules! flow_scenarios {
    ($fe:ident, #[$test:meta], [$($async:tt)*] [$($await:tt)*]) => {
        use std::sync::{Arc, mpsc};
        use std::thread::JoinHandle;
        use std::time::Duration;

        use alter_testkit::{AuthCompletion, ConnectCompletion, FakeAlter};
        use $fe::types::ApprovalStatusValue;
        use $fe::{
            App, AwaitOptions, ConnectOptions, Error, ListGrants, ProxyOutcome, ProxyRequest,
            RetrieveRequest,
        };

        use crate::support::*;

        /// How long a helper thread waits for the URL the client hands out.
        const URL_WAIT: Duration = Duration::from_secs(30);

        /// An app whose URL handler passes `(what, url)` to the returned receiver.
        fn app_with_url_channel(fake: &FakeAlter) -> (App, mpsc::Receiver<(String, String)>) {
            let (sender, receiver) = mpsc::channel();
            let app = App::builder()
                .base_url(fake.base_url())
                .api_key(fake.app_key())
                .retry(fast_retry())
                .url_handler(move |what, url| {
                    let _ = sender.send((what.to_owned(), url.to_owned()));
                })
                .build()
                .unwrap();
            (app, receiver)
        }

        /// Plays the end user on another thread: waits for the URL the client shows, finds
        /// the pending session it names, and finishes it with `finish`. Returns what the
        /// URL handler was told and the session token.
        fn user_thread(
            fake: &Arc<FakeAlter>,
            urls: mpsc::Receiver<(String, String)>,
            pending: fn(&FakeAlter) -> Vec<String>,
            finish: impl FnOnce(&FakeAlter, &str) + Send + 'static,
        ) -> JoinHandle<(String, String)> {
            let fake = Arc::clone(fake);
            std::thread::spawn(move || {
                let (what, url) = urls.recv_timeout(URL_WAIT).expect("the client shows a URL");
                let token = pending(&fake)
                    .into_iter()
                    .find(|token| url.contains(token.as_str()))
                    .expect("the URL names a pending session");
                finish(&fake, &token);
                (what, token)
            })
        }

        /// A pending approval on the seeded approval-gated grant.
        $($async)* fn pending_approval(app: &App, fake: &FakeAlter, path: &str) -> String {
            let call = ProxyRequest::new("POST", provider_url(fake, path), &fake.grants().hitl);
            match app.proxy_request(call)$($await)*.unwrap() {
                ProxyOutcome::Pending(pending) => pending.approval_id.to_string(),
                other => panic!("expected a pending approval, got {other:?}"),
            }
        }

        fn quick() -> AwaitOptions {
            AwaitOptions::default()
                .timeout(Duration::from_secs(30))
                .poll_interval(Duration::from_millis(100))
        }

        #[$test]
        $($async)* fn connect_waits_until_the_user_has_connected() {
            let fake = Arc::new(FakeAlter::start());
            let (app, urls) = app_with_url_channel(&fake);
            let user = user_thread(&fake, urls, FakeAlter::pending_connect_sessions, |fake, token| {
                let completion = ConnectCompletion::default()
                    .account("team@example.com")
                    .scopes(["read"]);
                fake.complete_connect_with(token, &completion).unwrap();
            });

            let mut options = ConnectOptions::providers(["notion"]);
            options.wait = quick();
            let results = app.connect(options)$($await)*.unwrap();
            let (what, token) = user.join().unwrap();
            assert_eq!(what, "connect");
            assert_eq!(results.len(), 1);
            assert_eq!(
                (results[0].provider_id.as_str(), results[0].account_identifier.as_deref()),
                ("notion", Some("team@example.com"))
            );
            assert_eq!(results[0].scopes, ["read"]);
            let polls = requests(&fake, "POST /sdk/oauth/connect/session/poll");
            assert!(!polls.is_empty());
            assert!(polls.iter().all(|p| p.json().unwrap()["session_token"] == token.as_str()));

            let call = RetrieveRequest::grant(
                "GET",
                provider_url(&fake, "/protected/connected"),
                &results[0].grant_id,
            );
            assert_eq!(app.request(call)$($await)*.unwrap().status, 200);
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn connect_reports_a_denial_and_a_deadline() {
            let fake = Arc::new(FakeAlter::start());
            let (app, urls) = app_with_url_channel(&fake);
            let user = user_thread(&fake, urls, FakeAlter::pending_connect_sessions, |fake, token| {
                fake.complete_connect_with(token, &ConnectCompletion::error("connect_denied"))
                    .unwrap();
            });
            let mut options = ConnectOptions::providers(["notion"]);
            options.wait = quick();
            let error = expect_err("denied", app.connect(options)$($await)*);
            user.join().unwrap();
            assert!(matches!(error, Error::ConnectDenied { .. }), "{error:?}");
            assert!(error.is_connect_flow());

            let mut options = ConnectOptions::providers(["notion"]);
            options.wait = AwaitOptions::default()
                .timeout(Duration::from_millis(300))
                .poll_interval(Duration::from_millis(100));
            let error = expect_err("nobody connects", app.connect(options)$($await)*);
            assert_eq!(error.class_name(), "ConnectTimeoutError");
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn authenticate_installs_the_user_token_for_later_calls() {
            let fake = Arc::new(FakeAlter::start());
            let (app, urls) = app_with_url_channel(&fake);
            let user = user_thread(&fake, urls, FakeAlter::pending_auth_sessions, |fake, token| {
                let completion = AuthCompletion::user("user-kim").email("kim@example.com");
                fake.complete_auth_with(token, &completion).unwrap();
            });

            let result = app.authenticate(Duration::from_secs(30))$($await)*.unwrap();
            let (what, _) = user.join().unwrap();
            assert_eq!(what, "sign-in");
            assert_eq!(result.user_info["email"], "kim@example.com");
            let token = result.user_token.expose_secret().to_owned();
            assert_eq!(app.verify_user_token(&token)$($await)*.as_deref(), Some("user-kim"));

            let page = app.list_grants(ListGrants::default())$($await)*.unwrap();
            assert!(page.grants.is_empty(), "kim has no grants yet");
            let sent = last(&fake, "POST /sdk/grants/list").json().unwrap();
            assert_eq!(sent["user_token"], token.as_str());
            let mut params = $fe::ConnectSessionParams::default();
            params.allowed_providers = Some(vec!["notion".into()]);
            app.create_connect_session(params)$($await)*.unwrap();
            let sent = last(&fake, "POST /sdk/oauth/connect/session").json().unwrap();
            assert_eq!(sent["user_token"], token.as_str());
            let sibling = app.with_constraints(&["grants:read"]).unwrap();
            sibling.list_grants(ListGrants::default())$($await)*.unwrap();
            let sent = last(&fake, "POST /sdk/grants/list").json().unwrap();
            assert_eq!(sent["user_token"], token.as_str(), "siblings share the sign-in");
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn a_failed_sign_in_is_an_sdk_error() {
            let fake = Arc::new(FakeAlter::start());
            let (app, urls) = app_with_url_channel(&fake);
            let user = user_thread(&fake, urls, FakeAlter::pending_auth_sessions, |fake, token| {
                fake.complete_auth_with(token, &AuthCompletion::failed("IdP down")).unwrap();
            });
            let signed_in = app.authenticate(Duration::from_secs(30))$($await)*;
            let error = expect_err("failed sign-in", signed_in);
            user.join().unwrap();
            assert_eq!(error.class_name(), "AlterSDKError");
            assert!(error.to_string().contains("IdP down"), "{error}");
            app.list_grants(ListGrants::default())$($await)*.unwrap();
            let sent = last(&fake, "POST /sdk/grants/list").json().unwrap();
            assert!(sent.get("user_token").is_none(), "no token was installed");
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn await_approval_returns_the_result_once_approved() {
            let fake = Arc::new(FakeAlter::start());
            let app = app(&fake);
            let id = pending_approval(&app, &fake, "/echo/approved")$($await)*;

            // The approver acts on another thread, while the client polls.
            let approver = {
                let (fake, id) = (Arc::clone(&fake), id.clone());
                std::thread::spawn(move || fake.approve(&id).unwrap())
            };
            let result = app.await_approval(&id, quick())$($await)*.unwrap();
            assert_eq!(approver.join().unwrap().status, ApprovalStatusValue::Executed);
            assert_eq!(result.status_code, 200);
            assert_eq!(result.approval_id.map(|a| a.to_string()), Some(id.clone()));
            let echoed: serde_json::Value = result.body_json().unwrap();
            assert_eq!(echoed["path"], "/echo/approved");
            assert_eq!(fake.route_hits("POST /echo/approved"), 1);
            let status = app.get_approval_status(&id)$($await)*.unwrap();
            assert_eq!(
                (status.status, status.has_result),
                (ApprovalStatusValue::Executed, true)
            );
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn await_approval_types_every_other_ending() {
            let fake = Arc::new(FakeAlter::start());
            let app = app(&fake);

            let denied = pending_approval(&app, &fake, "/echo/denied")$($await)*;
            fake.deny(&denied, Some("too risky")).unwrap();
            let error = expect_err("denied", app.await_approval(&denied, quick())$($await)*);
            assert!(matches!(error, Error::ApprovalDenied { .. }), "{error:?}");
            assert_eq!(error.message(), "too risky");

            let expired = pending_approval(&app, &fake, "/echo/expired")$($await)*;
            fake.expire(&expired).unwrap();
            let error = expect_err("expired", app.await_approval(&expired, quick())$($await)*);
            assert!(matches!(error, Error::ApprovalExpired { .. }), "{error:?}");

            let failing = pending_approval(&app, &fake, "/drop")$($await)*;
            fake.approve(&failing).unwrap();
            let error = expect_err("failed", app.await_approval(&failing, quick())$($await)*);
            assert!(matches!(error, Error::ApprovalExecutionFailed { .. }), "{error:?}");

            let waiting = pending_approval(&app, &fake, "/echo/waiting")$($await)*;
            let short = AwaitOptions::default()
                .timeout(Duration::from_millis(300))
                .poll_interval(Duration::from_millis(100));
            let error = expect_err("timed out", app.await_approval(&waiting, short)$($await)*);
            let Error::ApprovalTimeout { last_transient, .. } = &error else {
                panic!("expected ApprovalTimeout, got {error:?}");
            };
            assert!(last_transient.is_none());
            assert!(error.is_approval_error());
            assert!(requests(&fake, "GET /sdk/approvals/*").len() >= 2, "it polled");

            // Polls that keep failing transiently: the timeout names the last failure.
            fake.inject_fault(
                alter_testkit::FaultSpec::new(
                    "GET /sdk/approvals/*",
                    alter_testkit::FaultAction::status(503),
                )
                .times(1000),
            );
            let short = AwaitOptions::default()
                .timeout(Duration::from_millis(300))
                .poll_interval(Duration::from_millis(100));
            let error = expect_err("flaky polls", app.await_approval(&waiting, short)$($await)*);
            let Error::ApprovalTimeout { last_transient: Some(last), .. } = &error else {
                panic!("expected ApprovalTimeout with its last failure, got {error:?}");
            };
            assert_eq!((last.class_name(), last.status()), ("BackendError", Some(503)));
            fake.clear_faults();

            for path in ["/echo/denied", "/echo/expired", "/echo/waiting"] {
                assert_eq!(fake.route_hits(&format!("* {path}")), 0, "{path} never ran");
            }
            app.close()$($await)*;
        }
    };
}

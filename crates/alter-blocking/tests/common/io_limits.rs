//! The IO boundary's limits, the same in both frontends: `close()` stops at its deadline, a
//! stalled body is a timeout, a request the HTTP stack cannot build is the caller's input
//! error (never retried), and IO errors say what happened.

/// Expands to the IO-limit scenarios for the frontend crate `$fe`.
macro_rules! io_limit_scenarios {
    ($fe:ident, #[$test:meta], [$($async:tt)*] [$($await:tt)*]) => {
        use std::time::{Duration, Instant};

        use alter_testkit::{FakeAlter, FaultAction, FaultSpec};
        use $fe::{App, Error, RetrieveRequest};

        use crate::common::stalling::stalling_server;
        use crate::support::*;

        /// Far more than any of these scenarios needs once fixed, far less than it took
        /// before: the bound only catches a hang.
        const NO_HANG: Duration = Duration::from_secs(10);

        /// A close deadline no scenario should reach: a close that waits until it is a bug
        /// that `NO_HANG` catches.
        const UNREACHED: Duration = Duration::from_secs(60);

        /// An audit endpoint that never answers within a test's life.
        fn hung_audit() -> FaultSpec {
            FaultSpec::new("POST /sdk/oauth/audit/api-call", FaultAction::Delay { ms: 600_000 })
                .times(100)
        }

        /// An audit endpoint that answers each of three rows 300 ms late: slow, never hung.
        fn slow_audit() -> FaultSpec {
            FaultSpec::new("POST /sdk/oauth/audit/api-call", FaultAction::Delay { ms: 300 })
                .times(3)
        }

        /// An app whose `close()` waits at most `close_timeout`, after three calls that
        /// each queued an audit row. Its exchange timeout alone would hold an upload 30 s.
        $($async)* fn app_with_three_rows(fake: &FakeAlter, close_timeout: Duration) -> App {
            let app = App::builder()
                .base_url(fake.base_url())
                .api_key(fake.app_key())
                .timeout(Duration::from_secs(30))
                .close_timeout(close_timeout)
                .build()
                .unwrap();
            let url = provider_url(fake, "/echo/three-rows");
            for _ in 0..3 {
                let call = RetrieveRequest::grant("GET", &url, &fake.grants().oauth_bearer);
                assert_eq!(app.request(call)$($await)*.unwrap().status, 200);
            }
            app
        }

        /// An app on `base_url` with a short exchange timeout and no retries.
        fn impatient_app(base_url: &str) -> App {
            App::builder()
                .base_url(base_url)
                .api_key("alter_rk_abcdefghijklmnopqrstuv_iwpykn")
                .timeout(Duration::from_millis(300))
                .retry(no_retry())
                .build()
                .unwrap()
        }

        #[$test]
        $($async)* fn close_gives_up_on_a_hung_audit_endpoint_at_its_deadline() {
            let fake = FakeAlter::start();
            fake.inject_fault(hung_audit());
            let app = app_with_three_rows(&fake, Duration::from_millis(200))$($await)*;

            let started = Instant::now();
            app.close()$($await)*;

            assert!(started.elapsed() < NO_HANG, "close took {:?}", started.elapsed());
            assert_eq!(app.dropped_uploads(), 3, "every unsent row is counted");
            assert!(fake.audit_rows().is_empty());
        }

        #[$test]
        $($async)* fn close_timeouts_out_of_bounds_are_input_errors() {
            for limit in [Duration::ZERO, Duration::from_secs(2 * 24 * 3600)] {
                let built = App::builder()
                    .api_key("alter_rk_abcdefghijklmnopqrstuv_iwpykn")
                    .close_timeout(limit)
                    .build();
                let error = expect_err("close timeout", built);
                assert!(error.is_invalid_input(), "{limit:?}: {error:?}");
            }
        }

        #[$test]
        $($async)* fn a_body_that_stops_arriving_is_a_timeout() {
            let url = stalling_server(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[\"a",
            );
            let app = impatient_app(&url);

            let error = expect_err("stalled body", app.list_scopes()$($await)*);

            assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
            assert!(error.may_have_reached_server());
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn oversized_ids_and_provider_urls_are_input_errors_never_sent() {
            let fake = FakeAlter::start();
            let app = app(&fake);
            // Far over the core's limits (1 KiB ids, 8 KiB URLs), and over what the HTTP
            // stacks can carry: refused before any IO, never as a retried network error.
            // (Each transport's own mapping of what its stack refuses to build is unit-tested
            // in its `transport.rs`.)
            let long_id = "a".repeat(70_000);

            let error = expect_err("long id", app.get_approval_status(&long_id)$($await)*);

            assert!(error.is_invalid_input(), "{error:?}");
            assert!(!error.may_have_reached_server());
            assert!(!error.is_transient());
            assert!(!error.to_string().contains(&long_id[..100]), "the id is not echoed");
            assert!(fake.recorded_requests().is_empty());

            let url = provider_url(&fake, &format!("/echo/{long_id}"));
            let call = RetrieveRequest::grant("GET", &url, &fake.grants().oauth_bearer);
            let error = expect_err("long provider url", app.request(call)$($await)*);
            assert!(error.is_invalid_input(), "{error:?}");
            assert!(!error.may_have_reached_server());
            assert!(provider_requests(&fake).is_empty());
            assert_eq!(fake.route_hits("POST /sdk/token"), 0);
            app.close()$($await)*;
        }

        #[$test]
        $($async)* fn a_broken_answer_says_the_request_went_out() {
            let url = stalling_server(b"XX garbage\r\n\r\n");
            let app = impatient_app(&url);

            let error = expect_err("garbage answer", app.list_scopes()$($await)*);

            assert!(matches!(error, Error::Network { .. }), "{error:?}");
            assert!(error.may_have_reached_server());
            let shown = error.to_string();
            assert!(shown.starts_with("network error: failed after connecting: "), "{shown}");
            assert!(!shown.contains("connection failed"), "{shown}");
            // More than the HTTP stack's generic headline: the cause itself.
            assert!(shown.contains("invalid HTTP version"), "{shown}");
            app.close()$($await)*;
        }
    };
}

//! Helpers every scenario uses: clients pointed at a fake, retry settings that keep the
//! tests fast, and readers of what the fake recorded.

/// Expands to the helpers of the `support` module for the frontend crate `$fe`.
macro_rules! frontend_support {
    ($fe:ident) => {
        use std::time::Duration;

        use alter_testkit::{FakeAlter, Listener, RecordedRequest, route_matches};
        use $fe::{Agent, App, Error, RetryConfig};

        /// The caller name of the agents the scenarios build.
        pub(crate) const AGENT_CALLER: &str = "frontend-tests";

        /// Three attempts with millisecond backoff; a `Retry-After` is cut to 20 ms, so a
        /// retried read costs no real waiting.
        pub(crate) fn fast_retry() -> RetryConfig {
            RetryConfig {
                initial_backoff: Duration::from_millis(2),
                max_backoff: Duration::from_millis(10),
                max_retry_after: Duration::from_millis(20),
                ..RetryConfig::default()
            }
        }

        /// One attempt only: for checking what a single failed answer turns into.
        pub(crate) fn no_retry() -> RetryConfig {
            RetryConfig {
                max_attempts: 1,
                ..RetryConfig::default()
            }
        }

        /// An operator client with the fake's app key.
        pub(crate) fn app(fake: &FakeAlter) -> App {
            app_with_key(fake, fake.app_key())
        }

        /// An `App` on another key (a derived key, or an agent key acting as an app).
        pub(crate) fn app_with_key(fake: &FakeAlter, key: &str) -> App {
            App::builder()
                .base_url(fake.base_url())
                .api_key(key)
                .retry(fast_retry())
                .build()
                .expect("an app client builds")
        }

        /// The seeded agent's client, with a caller name.
        pub(crate) fn agent(fake: &FakeAlter) -> Agent {
            Agent::builder()
                .base_url(fake.base_url())
                .api_key(fake.agent_key())
                .caller(AGENT_CALLER)
                .retry(fast_retry())
                .build()
                .expect("an agent client builds")
        }

        /// The error of a call that had to fail.
        pub(crate) fn expect_err<T>(what: &str, result: $fe::Result<T>) -> Error {
            match result {
                Ok(_) => panic!("{what}: expected an error, got a success"),
                Err(error) => error,
            }
        }

        /// Asserts a call after `close()` failed with `Closed`, class `AlterSDKError`.
        pub(crate) fn assert_closed<T>(what: &str, result: $fe::Result<T>) {
            let error = expect_err(what, result);
            assert!(matches!(error, Error::Closed), "{what}: {error:?}");
            assert_eq!(error.class_name(), "AlterSDKError", "{what}");
            assert!(!error.may_have_reached_server(), "{what}");
        }

        /// The backend requests that match `route` (`METHOD /path/pattern`), in order.
        pub(crate) fn requests(fake: &FakeAlter, route: &str) -> Vec<RecordedRequest> {
            let (method, path) = route.split_once(' ').expect("a route is `METHOD /path`");
            fake.recorded_requests()
                .into_iter()
                .filter(|r| r.listener == Listener::Backend)
                .filter(|r| route_matches(method, path, &r.method, &r.path))
                .collect()
        }

        /// The last backend request that matches `route`.
        pub(crate) fn last(fake: &FakeAlter, route: &str) -> RecordedRequest {
            requests(fake, route)
                .pop()
                .unwrap_or_else(|| panic!("no request matched {route}"))
        }

        /// Every request the fake provider received.
        pub(crate) fn provider_requests(fake: &FakeAlter) -> Vec<RecordedRequest> {
            fake.recorded_requests()
                .into_iter()
                .filter(|r| r.listener == Listener::Provider)
                .collect()
        }

        /// A URL on the fake provider.
        pub(crate) fn provider_url(fake: &FakeAlter, path: &str) -> String {
            format!("{}{path}", fake.provider_base_url())
        }

        /// The ids of a grant list page.
        pub(crate) fn grant_ids(page: &$fe::types::UnifiedGrantListResult) -> Vec<String> {
            page.grants
                .iter()
                .filter_map(|grant| grant.grant_id().map(str::to_owned))
                .collect()
        }
    };
}

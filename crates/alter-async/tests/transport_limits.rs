//! `ReqwestTransport`'s bounds: a call waiting for one of the capped backend slots still
//! ends at its own timeout, and the client's `timeout` option wins over the timeout a
//! custom transport was built with. Against a loopback server that never answers.

#[path = "../../alter-blocking/tests/common/stalling.rs"]
mod stalling;

use std::sync::Arc;
use std::time::{Duration, Instant};

use alter_async::{App, Error, ReqwestTransport, RetryConfig};

use stalling::stalling_server;

const KEY: &str = "alter_rk_abcdefghijklmnopqrstuv_iwpykn";

/// Only catches a hang: each scenario takes about one exchange timeout once fixed, and
/// several times this bound without the fix.
const NO_HANG: Duration = Duration::from_secs(5);

fn one_attempt() -> RetryConfig {
    RetryConfig {
        max_attempts: 1,
        ..RetryConfig::default()
    }
}

fn app_on(url: &str, timeout: Duration, transport: ReqwestTransport) -> App {
    App::builder()
        .base_url(url)
        .api_key(KEY)
        .timeout(timeout)
        .retry(one_attempt())
        .transport(Arc::new(transport))
        .build()
        .expect("an app on a loopback server builds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_waiting_for_a_backend_slot_still_ends_at_its_timeout() {
    let url = stalling_server(b"");
    let transport = ReqwestTransport::new(Duration::from_secs(30))
        .unwrap()
        .max_backend_in_flight(1);
    // One slot, twenty callers, 400 ms each: waiting in line outside the timeout, the last
    // caller would end after 20 x 400 ms = 8 s.
    let app = app_on(&url, Duration::from_millis(400), transport);

    let started = Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let app = app.clone();
        calls.spawn(async move { app.list_scopes().await });
    }
    let outcomes = calls.join_all().await;

    assert!(started.elapsed() < NO_HANG, "took {:?}", started.elapsed());
    for outcome in outcomes {
        let error = outcome.unwrap_err();
        assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    }
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_timeout_wins_over_a_custom_transports() {
    let url = stalling_server(b"");
    let transport = ReqwestTransport::new(Duration::from_secs(30)).unwrap();
    let app = app_on(&url, Duration::from_millis(300), transport);

    let started = Instant::now();
    let error = app.list_scopes().await.unwrap_err();

    assert!(started.elapsed() < NO_HANG, "took {:?}", started.elapsed());
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    app.close().await;
}

//! `alter-async` against `alter-testkit`: every operation, faults, redirects, audit and the
//! closed state, through the scenarios `alter-blocking` runs too (its `tests/common/`).

#[macro_use]
#[path = "../../alter-blocking/tests/common/mod.rs"]
mod common;

/// The helpers whose signatures differ between the two frontends.
mod adapter;

mod support {
    frontend_support!(alter_async);
}

mod operations {
    operation_scenarios!(
        alter_async,
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)],
        [async] [.await]
    );
}

mod flows {
    flow_scenarios!(
        alter_async,
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)],
        [async] [.await]
    );
}

mod faults {
    fault_scenarios!(
        alter_async,
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)],
        [async] [.await]
    );
}

mod hygiene {
    hygiene_scenarios!(
        alter_async,
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)],
        [async] [.await]
    );
}

mod matrix {
    fault_matrix!(
        alter_async,
        "async",
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)],
        [async] [.await]
    );
}

mod io_limits {
    io_limit_scenarios!(
        alter_async,
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)],
        [async] [.await]
    );

    /// Closes `client`; returns how many audit rows were stored when the close returned.
    async fn close_and_count(fake: &FakeAlter, client: &App) -> usize {
        client.close().await;
        fake.audit_rows().len()
    }

    /// The second close neither returns first nor cuts the first one short.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_closes_on_clones_both_wait_for_every_row() {
        let fake = FakeAlter::start();
        fake.inject_fault(slow_audit());
        let app = app_with_three_rows(&fake, UNREACHED).await;
        let clone = app.clone();

        let started = Instant::now();
        let stored = tokio::join!(close_and_count(&fake, &app), close_and_count(&fake, &clone));

        assert_eq!(
            stored,
            (3, 3),
            "each close returns after every row is stored"
        );
        assert_eq!(app.dropped_uploads(), 0);
        assert!(started.elapsed() < NO_HANG, "took {:?}", started.elapsed());
    }

    /// Overlapping closes share one deadline and count each unsent row once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_closes_on_a_hung_audit_endpoint_stop_at_the_one_deadline() {
        let fake = FakeAlter::start();
        fake.inject_fault(hung_audit());
        let app = app_with_three_rows(&fake, Duration::from_millis(200)).await;
        let clone = app.clone();

        let started = Instant::now();
        let stored = tokio::join!(close_and_count(&fake, &app), close_and_count(&fake, &clone));

        assert!(started.elapsed() < NO_HANG, "took {:?}", started.elapsed());
        assert_eq!(stored, (0, 0));
        assert_eq!(app.dropped_uploads(), 3);
    }

    /// Dropping a close future (an outer timeout) ends the close there: what was not sent
    /// is counted and logged, and a later close does not wait for the far deadline.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_close_gives_up_and_counts_what_it_did_not_send() {
        let fake = FakeAlter::start();
        fake.inject_fault(hung_audit());
        let app = app_with_three_rows(&fake, UNREACHED).await;

        let cancelled = tokio::time::timeout(Duration::from_millis(200), app.close()).await;

        assert!(
            cancelled.is_err(),
            "the hung endpoint holds close past the outer timeout"
        );
        assert_eq!(app.dropped_uploads(), 3);
        let started = Instant::now();
        app.close().await;
        assert!(started.elapsed() < NO_HANG, "took {:?}", started.elapsed());
        assert!(fake.audit_rows().is_empty());
    }
}

#[macro_use]
#[path = "../../alter-blocking/tests/common/parity.rs"]
mod parity_story;

/// The same story through both frontends, against identically seeded fakes.
mod parity {
    use alter_testkit::FakeAlter;

    use crate::parity_story::{SEED, seen};

    mod blocking_side {
        parity_story!(alter_blocking, [] []);
    }

    mod async_side {
        parity_story!(alter_async, [async] [.await]);
    }

    #[test]
    fn both_frontends_send_the_same_requests() {
        let blocking = FakeAlter::builder().seed(SEED).start().unwrap();
        blocking_side::story(&blocking);

        let asynchronous = FakeAlter::builder().seed(SEED).start().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async_side::story(&asynchronous));

        let (left, right) = (seen(&blocking), seen(&asynchronous));
        assert!(left.len() >= 15, "the story ran: {} requests", left.len());
        for (index, (b, a)) in left.iter().zip(&right).enumerate() {
            assert_eq!(
                b, a,
                "request {index} differs (left: blocking, right: async)"
            );
        }
        assert_eq!(left.len(), right.len());
    }
}

/// Known divergences between the two HTTP stacks, kept runnable with `--ignored`.
mod divergence {
    use alter_testkit::{FakeAlter, Listener};
    use serde_json::Value;

    /// What the provider saw for one call: the echoed path and query, or the error class.
    fn outcome(result: alter_async::Result<alter_async::ProviderResponse>) -> String {
        match result {
            Ok(response) => {
                let echoed: Value = response.json().expect("the echo answers JSON");
                format!("{} {}?{}", response.status, echoed["path"], echoed["query"])
            }
            Err(error) => error.class_name().to_owned(),
        }
    }

    #[test]
    fn a_provider_url_reaches_the_provider_the_same_way_through_both_frontends() {
        let fake = FakeAlter::start();
        let blocking = alter_blocking::App::builder()
            .base_url(fake.base_url())
            .api_key(fake.app_key())
            .build()
            .unwrap();
        let asynchronous = alter_async::App::builder()
            .base_url(fake.base_url())
            .api_key(fake.app_key())
            .build()
            .unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let base = fake.provider_base_url();
        let urls = [
            format!("{base}/echo/a/../b"),
            format!("{base}/echo/a\\..\\..\\status\\500"),
            format!("{base}/echo/x?q=a'b"),
            format!("{base}/echo/x?q=a\"b"),
            format!("{base}/echo/x?q=a<b>"),
            format!("{base}/echo/p`q"),
            format!("{base}/echo/x?q=é"),
        ];

        for url in urls {
            let grant = &fake.grants().oauth_bearer;
            let call = alter_blocking::RetrieveRequest::grant("GET", &url, grant);
            let through_blocking = outcome(blocking.request(call.clone()));
            let through_async = outcome(runtime.block_on(asynchronous.request(call)));
            assert_eq!(through_blocking, through_async, "{url}");
        }
        blocking.close();
        runtime.block_on(asynchronous.close());
    }

    #[test]
    fn a_callers_content_length_never_truncates_the_body() {
        let fake = FakeAlter::start();
        let blocking = alter_blocking::App::builder()
            .base_url(fake.base_url())
            .api_key(fake.app_key())
            .build()
            .unwrap();
        let asynchronous = alter_async::App::builder()
            .base_url(fake.base_url())
            .api_key(fake.app_key())
            .build()
            .unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let body = b"0123456789 the whole body".to_vec();
        let mut call = alter_blocking::RetrieveRequest::grant(
            "POST",
            format!("{}/echo/framed", fake.provider_base_url()),
            &fake.grants().oauth_bearer,
        );
        call.body = Some(body.clone());
        call.extra_headers = vec![("Content-Length".into(), "5".into())];

        let results = [
            blocking.request(call.clone()),
            runtime.block_on(asynchronous.request(call)),
        ];
        for (frontend, result) in ["blocking", "async"].into_iter().zip(results) {
            if let Err(error) = result {
                assert!(error.is_invalid_input(), "{frontend}: {error:?}");
            }
        }
        for received in fake
            .recorded_requests()
            .iter()
            .filter(|r| r.listener == Listener::Provider)
        {
            assert_eq!(received.body, body, "the provider got a truncated body");
        }
        blocking.close();
        runtime.block_on(asynchronous.close());
    }
}

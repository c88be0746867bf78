//! `alter-blocking` against `alter-testkit`: every operation, faults, redirects, audit and
//! the closed state, through the scenarios shared with `alter-async` (`common/`).

#[macro_use]
mod common;

/// The helpers whose signatures differ between the two frontends.
mod adapter;

mod support {
    frontend_support!(alter_blocking);
}

mod operations {
    operation_scenarios!(alter_blocking, #[test], [] []);
}

mod flows {
    flow_scenarios!(alter_blocking, #[test], [] []);
}

mod faults {
    fault_scenarios!(alter_blocking, #[test], [] []);
}

mod hygiene {
    hygiene_scenarios!(alter_blocking, #[test], [] []);
}

mod matrix {
    fault_matrix!(alter_blocking, "blocking", #[test], [] []);
}

mod io_limits {
    io_limit_scenarios!(alter_blocking, #[test], [] []);

    /// Dropping the last clone flushes as `close()` does, and stops at the same deadline.
    #[test]
    fn dropping_the_last_clone_blocks_no_longer_than_the_close_deadline() {
        let fake = FakeAlter::start();
        fake.inject_fault(hung_audit());
        let app = App::builder()
            .base_url(fake.base_url())
            .api_key(fake.app_key())
            .timeout(Duration::from_secs(30))
            .close_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let url = provider_url(&fake, "/echo/dropped-unclosed");
        for _ in 0..3 {
            let call = RetrieveRequest::grant("GET", &url, &fake.grants().oauth_bearer);
            assert_eq!(app.request(call).unwrap().status, 200);
        }
        let sibling = app.with_constraints(&["tokens:retrieve"]).unwrap();

        let started = Instant::now();
        drop(app);
        drop(sibling);

        assert!(
            started.elapsed() < NO_HANG,
            "drop took {:?}",
            started.elapsed()
        );
        assert!(fake.audit_rows().is_empty());
    }
}

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
        let app = app_with_three_rows(&fake, Duration::from_millis(200));
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

    /// Closes `first` and `second` on two threads at once; returns how many audit rows
    /// were stored when each close returned.
    fn close_together(fake: &FakeAlter, first: &App, second: &App) -> [usize; 2] {
        std::thread::scope(|scope| {
            let closes = [first, second].map(|client| {
                scope.spawn(move || {
                    client.close();
                    fake.audit_rows().len()
                })
            });
            closes.map(|close| close.join().expect("a close thread ends"))
        })
    }

    /// The second close neither returns first nor cuts the first one short.
    #[test]
    fn concurrent_closes_on_clones_both_wait_for_every_row() {
        let fake = FakeAlter::start();
        fake.inject_fault(slow_audit());
        let app = app_with_three_rows(&fake, UNREACHED);
        let clone = app.clone();

        let started = Instant::now();
        let stored = close_together(&fake, &app, &clone);

        assert_eq!(
            stored,
            [3, 3],
            "each close returns after every row is stored"
        );
        assert_eq!(app.dropped_uploads(), 0);
        assert!(started.elapsed() < NO_HANG, "took {:?}", started.elapsed());
    }

    /// Overlapping closes share one deadline and count each unsent row once.
    #[test]
    fn concurrent_closes_on_a_hung_audit_endpoint_stop_at_the_one_deadline() {
        let fake = FakeAlter::start();
        fake.inject_fault(hung_audit());
        let app = app_with_three_rows(&fake, Duration::from_millis(200));
        let clone = app.clone();

        let started = Instant::now();
        let stored = close_together(&fake, &app, &clone);

        assert!(started.elapsed() < NO_HANG, "took {:?}", started.elapsed());
        assert_eq!(stored, [0, 0]);
        assert_eq!(app.dropped_uploads(), 3);
    }
}

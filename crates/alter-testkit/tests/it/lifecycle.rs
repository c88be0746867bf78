//! Start and stop: from plain code, from inside an async runtime, on fixed ports; dropping
//! the handle stops the listeners.

use std::net::TcpStream;

use alter_testkit::{FakeAlter, StartError};

use crate::support::Client;

#[test]
fn dropping_the_handle_closes_both_listeners() {
    let fake = FakeAlter::start();
    let backend = fake.base_url().trim_start_matches("http://").to_owned();
    let provider = fake
        .provider_base_url()
        .trim_start_matches("http://")
        .to_owned();
    assert!(TcpStream::connect(&backend).is_ok());

    drop(fake);
    assert!(TcpStream::connect(&backend).is_err());
    assert!(TcpStream::connect(&provider).is_err());
}

#[test]
fn it_starts_and_is_controlled_from_inside_an_async_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let fake = FakeAlter::start();
        let app = Client::new(&fake, fake.app_key());
        let outcome = tokio::task::spawn_blocking(move || {
            let request = alter_core::api::ProxyRequest::new(
                "GET",
                format!("{}/echo/async", fake.provider_base_url()),
                &fake.grants().hitl,
            );
            let outcome = app.run(app.engine.proxy_request(request).unwrap()).unwrap();
            (fake, outcome)
        })
        .await
        .unwrap();
        let (fake, alter_core::api::ProxyOutcome::Pending(pending)) = outcome else {
            panic!("expected 202")
        };

        // Control calls block this task's thread briefly; the fake runs on its own.
        let settled = fake.approve(&pending.approval_id.to_string()).unwrap();
        assert!(settled.has_result);
        drop(fake);
    });
}

#[test]
fn fixed_ports_and_loopback_only() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);

    let fake = FakeAlter::builder()
        .addr(format!("127.0.0.1:{port}").parse().unwrap())
        .seed(3)
        .start()
        .unwrap();
    assert_eq!(fake.base_url(), format!("http://127.0.0.1:{port}"));
    let busy = FakeAlter::builder()
        .addr(format!("127.0.0.1:{port}").parse().unwrap())
        .start();
    assert!(matches!(busy, Err(StartError::Bind { .. })));

    let public = FakeAlter::builder()
        .addr("0.0.0.0:0".parse().unwrap())
        .start();
    assert!(matches!(public, Err(StartError::NotLoopback(_))));
}

#[test]
fn the_same_seed_gives_the_same_keys() {
    let a = FakeAlter::builder().seed(99).start().unwrap();
    let b = FakeAlter::builder().seed(99).start().unwrap();
    assert_eq!(a.app_key(), b.app_key());
    assert_eq!(a.grants(), b.grants());
    assert_ne!(FakeAlter::start().app_key(), a.app_key());
}

//! §3.7 authentication: good signatures pass, every tampering is a 401 whose body the core
//! classifies.

use alter_core::api::ListGrants;
use alter_core::classify::{classify_agents, classify_generic};
use alter_testkit::FakeAlter;
use alter_types::CallerType;

use crate::support::{Client, Options, body_json, send};

fn code(response: &alter_core::HttpResponse) -> String {
    body_json(response)["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn requests_signed_by_the_core_verify() {
    let fake = FakeAlter::start();
    let client = Client::new(&fake, fake.app_key());

    let catalog = client.run(client.engine.scopes_list()).unwrap();
    assert!(catalog.resources.contains_key("tokens"));
    let page = client
        .run(
            client
                .engine
                .list_grants(ListGrants::default(), None)
                .unwrap(),
        )
        .unwrap();
    assert!(page.total >= 6);
}

#[test]
fn tampered_requests_get_401_with_a_classifiable_body() {
    let fake = FakeAlter::start();
    let client = Client::new(&fake, fake.app_key());
    let list = || {
        client
            .engine
            .list_grants(ListGrants::default(), None)
            .unwrap()
    };

    let mut bad_signature = client.first_request(list());
    let signature = bad_signature
        .headers
        .iter_mut()
        .find(|(n, _)| n == "X-Alter-Signature")
        .unwrap();
    signature.1 = signature.1.chars().rev().collect();

    let mut bad_body = client.first_request(list());
    bad_body.body = br#"{"limit":1,"offset":0}"#.to_vec();

    let mut bad_hash = client.first_request(list());
    let hash = bad_hash
        .headers
        .iter_mut()
        .find(|(n, _)| n == "X-Alter-Content-SHA256")
        .unwrap();
    hash.1 = "0".repeat(64);

    let old = Client::with(
        fake.base_url(),
        fake.app_key(),
        Options {
            skew_seconds: -400,
            ..Options::default()
        },
    );
    let old_timestamp =
        old.first_request(old.engine.list_grants(ListGrants::default(), None).unwrap());

    let mut unknown_key = client.first_request(list());
    let key = unknown_key
        .headers
        .iter_mut()
        .find(|(n, _)| n == "x-api-key")
        .unwrap();
    key.1 = "alter_rk_abcdefghijklmnopqrstuv_iwpykn".to_owned();

    let mut unsigned = client.first_request(list());
    unsigned
        .headers
        .retain(|(name, _)| !name.starts_with("X-Alter-"));

    let cases = [
        (bad_signature, "invalid_signature"),
        (bad_body, "content_hash_mismatch"),
        (bad_hash, "content_hash_mismatch"),
        (old_timestamp, "timestamp_out_of_window"),
        (unknown_key, "invalid_key"),
        (unsigned, "missing_signature"),
    ];
    for (request, expected) in cases {
        let response = send(&request).unwrap();
        assert_eq!(
            (response.status, code(&response)),
            (401, expected.to_owned())
        );
        let error = classify_generic(response.status, &response.body);
        assert_eq!(
            (error.class_name(), error.code()),
            ("BackendError", Some(expected))
        );
    }
    assert_eq!(fake.route_hits("POST /sdk/grants/list"), 6);
}

#[test]
fn a_replayed_request_is_refused() {
    let fake = FakeAlter::start();
    let client = Client::new(&fake, fake.app_key());
    let request = client.first_request(client.engine.scopes_list());

    assert_eq!(send(&request).unwrap().status, 200);
    let replay = send(&request).unwrap();
    assert_eq!(
        (replay.status, code(&replay)),
        (401, "nonce_reused".to_owned())
    );
}

#[test]
fn a_timestamp_inside_the_window_is_accepted() {
    let fake = FakeAlter::builder()
        .timestamp_window(std::time::Duration::from_secs(600))
        .start()
        .unwrap();
    let late = Client::with(
        fake.base_url(),
        fake.app_key(),
        Options {
            skew_seconds: -400,
            ..Options::default()
        },
    );
    assert!(late.run(late.engine.scopes_list()).is_ok());
}

#[test]
fn unknown_keys_on_agent_routes_are_invalid_key_errors() {
    let fake = FakeAlter::start();
    let stranger = Client::new(&fake, "alter_rk_abcdefghijklmnopqrstuv_iwpykn");
    let error = stranger.run(stranger.engine.agents_me()).unwrap_err();
    assert_eq!(error.class_name(), "InvalidKeyError");

    let request = stranger.first_request(stranger.engine.agents_me());
    let response = send(&request).unwrap();
    assert_eq!(
        classify_agents(response.status, &response.body).class_name(),
        "InvalidKeyError"
    );
}

#[test]
fn callers_get_a_stable_actor_id() {
    let fake = FakeAlter::start();
    let options = || Options {
        caller: Some(("billing-bot".to_owned(), CallerType::Service)),
        ..Options::default()
    };
    let client = Client::with(fake.base_url(), fake.app_key(), options());
    let other = Client::with(fake.base_url(), fake.app_key(), options());

    client
        .run(
            client
                .engine
                .list_grants(ListGrants::default(), None)
                .unwrap(),
        )
        .unwrap();
    other
        .run(
            other
                .engine
                .list_grants(ListGrants::default(), None)
                .unwrap(),
        )
        .unwrap();
    let first = client.engine.actor_id().expect("actor id cached");
    assert_eq!(other.engine.actor_id().as_deref(), Some(first.as_str()));

    // The cached id travels on the next calls.
    client
        .run(
            client
                .engine
                .list_grants(ListGrants::default(), None)
                .unwrap(),
        )
        .unwrap();
    let last = fake.recorded_requests().pop().unwrap();
    assert_eq!(last.header("x-alter-actor-id"), Some(first.as_str()));

    let plain = Client::new(&fake, fake.app_key());
    plain.run(plain.engine.scopes_list()).unwrap();
    assert_eq!(plain.engine.actor_id(), None);
}

#[test]
fn a_mount_prefix_is_outside_the_signature() {
    let fake = FakeAlter::builder().mount_prefix("/api/").start().unwrap();
    assert!(fake.base_url().ends_with("/api"));
    let client = Client::new(&fake, fake.app_key());

    assert!(client.run(client.engine.scopes_list()).is_ok());
    assert_eq!(fake.recorded_requests()[0].path, "/sdk/scopes");
}

#[test]
fn scope_constraints_narrow_and_cannot_broaden() {
    let fake = FakeAlter::start();
    let client = Client::new(&fake, fake.agent_key());
    let narrowed = client.constrained(&["grants:read"]);
    assert!(
        narrowed
            .run(
                narrowed
                    .engine
                    .list_grants(ListGrants::default(), None)
                    .unwrap()
            )
            .is_ok()
    );
    let request = alter_core::api::RetrieveRequest::grant(
        "GET",
        format!("{}/echo/x", fake.provider_base_url()),
        &fake.grants().agent_delegated,
    );
    let error = narrowed
        .run(narrowed.engine.request(request, None).unwrap())
        .unwrap_err();
    assert_eq!(error.class_name(), "InsufficientScopeError");
    let alter_core::Error::InsufficientScope { scopes, .. } = error else {
        unreachable!()
    };
    assert_eq!(scopes.missing, ["tokens:retrieve"]);

    let broad = client.constrained(&["agents:write"]);
    let error = broad.run(broad.engine.scopes_list()).unwrap_err();
    assert_eq!(
        (error.status(), error.code()),
        (Some(400), Some("constraint_not_narrowing"))
    );
}

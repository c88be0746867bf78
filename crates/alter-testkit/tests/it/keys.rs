//! `keys.derive/rotate/revoke` and the scope catalog.

use alter_core::api::{DeriveKey, ListGrants, RetrieveRequest};
use alter_testkit::FakeAlter;
use alter_types::{ApiKeyStatus, KeyType};

use crate::support::{Client, send};

#[test]
fn derived_keys_hold_only_what_they_were_given() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());

    let derived = app
        .run(
            app.engine
                .keys_derive(DeriveKey::new(["grants:read"], 60))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        (derived.key.key_type, derived.key.scopes.clone()),
        (KeyType::Dk, vec!["grants:read".to_owned()])
    );
    assert!(derived.key.expires_at.is_some() && derived.key.parent_key_id.is_some());

    let child = Client::new(&fake, derived.api_key.expose_secret());
    assert!(
        child
            .run(
                child
                    .engine
                    .list_grants(ListGrants::default(), None)
                    .unwrap()
            )
            .is_ok()
    );
    let request = RetrieveRequest::grant(
        "GET",
        format!("{}/echo/x", fake.provider_base_url()),
        &fake.grants().oauth_bearer,
    );
    let error = child
        .run(child.engine.request(request, None).unwrap())
        .unwrap_err();
    assert_eq!(error.class_name(), "InsufficientScopeError");

    let broader = child
        .run(
            child
                .engine
                .keys_derive(DeriveKey::new(["grants:read"], 60))
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(broader.class_name(), "InsufficientScopeError");
    let wider = app.constrained(&["keys:derive"]);
    let error = wider
        .run(
            wider
                .engine
                .keys_derive(DeriveKey::new(["grants:read"], 60))
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(
        (error.status(), error.code()),
        (Some(400), Some("constraint_not_narrowing"))
    );
}

#[test]
fn rotation_keeps_the_old_key_for_the_overlap() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let derived = app
        .run(
            app.engine
                .keys_derive(DeriveKey::new(["grants:read"], 600))
                .unwrap(),
        )
        .unwrap();
    let old = Client::new(&fake, derived.api_key.expose_secret());

    let rotated = app
        .run(
            app.engine
                .keys_rotate(&derived.key.id.to_string(), 1)
                .unwrap(),
        )
        .unwrap();
    assert_ne!(rotated.key.id, derived.key.id);
    assert_eq!(rotated.key.scopes, derived.key.scopes);
    let response = send(&old.first_request(old.engine.scopes_list())).unwrap();
    assert_eq!(
        (response.status, response.header("x-alter-key-deprecated")),
        (200, Some("true"))
    );

    let again = app
        .run(
            app.engine
                .keys_rotate(&rotated.key.id.to_string(), 0)
                .unwrap(),
        )
        .unwrap();
    let expired = Client::new(&fake, rotated.api_key.expose_secret());
    let error = expired.run(expired.engine.scopes_list()).unwrap_err();
    assert_eq!(
        (error.status(), error.code()),
        (Some(401), Some("key_expired"))
    );

    let fresh = Client::new(&fake, again.api_key.expose_secret());
    assert!(fresh.run(fresh.engine.scopes_list()).is_ok());
}

#[test]
fn revoke_needs_force_for_the_calling_key() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let derived = app
        .run(
            app.engine
                .keys_derive(DeriveKey::new(["keys:admin"], 600))
                .unwrap(),
        )
        .unwrap();
    let child = Client::new(&fake, derived.api_key.expose_secret());
    let id = derived.key.id.to_string();

    let error = child
        .run(child.engine.keys_revoke(&id, false).unwrap())
        .unwrap_err();
    assert_eq!(
        (error.status(), error.code()),
        (Some(409), Some("revoking_current_key"))
    );
    let revoked = child
        .run(child.engine.keys_revoke(&id, true).unwrap())
        .unwrap();
    assert_eq!(revoked.status(), ApiKeyStatus::Revoked);
    let error = child.run(child.engine.scopes_list()).unwrap_err();
    assert_eq!(error.code(), Some("key_revoked"));

    let again = app
        .run(app.engine.keys_revoke(&id, false).unwrap())
        .unwrap_err();
    assert_eq!(again.code(), Some("key_revoked"));
    let unknown = app
        .run(
            app.engine
                .keys_revoke("6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f", false)
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(unknown.status(), Some(404));
}

#[test]
fn agents_manage_only_their_own_keys() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let agent = Client::new(&fake, fake.agent_key());
    let app_derived = app
        .run(
            app.engine
                .keys_derive(DeriveKey::new(["grants:read"], 60))
                .unwrap(),
        )
        .unwrap();

    let error = agent
        .run(
            agent
                .engine
                .keys_rotate(&app_derived.key.id.to_string(), 0)
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(error.status(), Some(404));
    let own = agent
        .run(
            agent
                .engine
                .keys_derive(DeriveKey::new(["grants:read"], 60))
                .unwrap(),
        )
        .unwrap();
    assert!(
        agent
            .run(
                agent
                    .engine
                    .keys_rotate(&own.key.id.to_string(), 0)
                    .unwrap()
            )
            .is_ok()
    );
}

#[test]
fn the_scope_catalog_lists_every_resource() {
    let fake = FakeAlter::start();
    let agent = Client::new(&fake, fake.agent_key());
    let catalog = agent.run(agent.engine.scopes_list()).unwrap();
    for resource in ["agents", "grants", "tokens", "proxy", "approvals", "keys"] {
        assert!(catalog.resources.contains_key(resource), "{resource}");
    }
    assert_eq!(catalog.scope_version, 1);
}

//! Agents CRUD, agent keys, idempotent create and the §1.4 principal restrictions.

use alter_core::api::{CreateAgent, ListAgents, UpdateAgent};
use alter_testkit::FakeAlter;
use alter_types::{AgentKeyStatus, AgentStatus};
use serde_json::json;

use crate::support::{Client, send};

fn created(client: &Client, name: &str) -> alter_types::AgentCreateResult {
    client
        .run(client.engine.agents_create(CreateAgent::new(name)).unwrap())
        .unwrap()
}

#[test]
fn agents_round_trip_through_crud() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());

    let mut params = CreateAgent::new("support-bot");
    params.display_name = Some("Support".into());
    params.scopes = Some(json!({"slack": ["chat:write"]}));
    let agent = app.run(app.engine.agents_create(params).unwrap()).unwrap();
    assert!(agent.api_key.is_some());
    assert_eq!(agent.agent.scopes["slack"], ["chat:write"]);
    let id = agent.agent.id.to_string();

    assert_eq!(
        app.run(app.engine.agents_get(&id).unwrap()).unwrap().name,
        "support-bot"
    );
    let by_name = app
        .run(app.engine.agents_get_by_name("support-bot").unwrap())
        .unwrap();
    assert_eq!(by_name.unwrap().id, agent.agent.id);
    assert!(
        app.run(app.engine.agents_get_by_name("nobody").unwrap())
            .unwrap()
            .is_none()
    );

    let mut page = ListAgents::default();
    page.limit = 1;
    let first = app.run(app.engine.agents_list(page).unwrap()).unwrap();
    assert_eq!(
        (first.agents.len(), first.total, first.has_more),
        (1, 2, true)
    );

    let mut broaden = UpdateAgent::default();
    broaden.scopes = Some(json!({"slack": ["chat:write", "chat:read"]}));
    broaden.display_name = Some("Support v2".into());
    let updated = app
        .run(app.engine.agents_update(&id, broaden).unwrap())
        .unwrap();
    assert_eq!(
        (updated.version, updated.display_name.as_deref()),
        (2, Some("Support v2"))
    );

    let mut narrow = UpdateAgent::default();
    narrow.scopes = Some(json!({"slack": ["chat:read"]}));
    let error = app
        .run(app.engine.agents_update(&id, narrow).unwrap())
        .unwrap_err();
    assert_eq!(error.class_name(), "AgentScopeNarrowingNotSupportedError");

    let deleted = app.run(app.engine.agents_delete(&id).unwrap()).unwrap();
    assert_eq!(deleted.status, AgentStatus::Revoked);
    let active = app
        .run(app.engine.agents_list(ListAgents::default()).unwrap())
        .unwrap();
    assert_eq!(active.total, 1);
    let mut all = ListAgents::default();
    all.include_revoked = true;
    assert_eq!(
        app.run(app.engine.agents_list(all).unwrap()).unwrap().total,
        2
    );

    // The deleted agent's key is dead.
    let dead = Client::new(&fake, agent.api_key.unwrap().expose_secret());
    assert_eq!(
        dead.run(dead.engine.agents_me()).unwrap_err().class_name(),
        "KeyRevokedError"
    );

    let missing = app
        .run(
            app.engine
                .agents_get("6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f")
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(missing.class_name(), "AgentNotFoundError");
    created(&app, "dup");
    let clash = app
        .run(app.engine.agents_create(CreateAgent::new("dup")).unwrap())
        .unwrap_err();
    assert_eq!(clash.class_name(), "AgentNameExistsError");
}

#[test]
fn idempotent_create_replays_and_detects_a_changed_body() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let params = |name: &str| {
        let mut params = CreateAgent::new(name);
        params.idempotency_key = Some("create-1".into());
        params
    };

    let first = app
        .run(app.engine.agents_create(params("idem-bot")).unwrap())
        .unwrap();
    let replay = app
        .run(app.engine.agents_create(params("idem-bot")).unwrap())
        .unwrap();
    assert_eq!(
        (replay.agent.id, replay.key_id),
        (first.agent.id, first.key_id)
    );
    assert!(first.api_key.is_some() && replay.api_key.is_none());

    let mismatch = app
        .run(app.engine.agents_create(params("other-name")).unwrap())
        .unwrap_err();
    assert_eq!(mismatch.class_name(), "IdempotencyKeyBodyMismatchError");

    app.run(
        app.engine
            .agents_delete(&first.agent.id.to_string())
            .unwrap(),
    )
    .unwrap();
    let revoked = app
        .run(app.engine.agents_create(params("idem-bot")).unwrap())
        .unwrap_err();
    assert_eq!(revoked.class_name(), "IdempotencyKeyAgentRevokedError");
}

#[test]
fn agent_keys_live_deprecate_and_die() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let agent = created(&app, "keyed-bot");
    let id = agent.agent.id.to_string();
    let first_key = agent.key_id.to_string();

    let minted = app.run(app.engine.agents_mint_key(&id).unwrap()).unwrap();
    assert_eq!(minted.key.name, "keyed-bot-2");
    let second = minted.key.key_id.to_string();
    assert_eq!(
        app.run(app.engine.agents_list_keys(&id).unwrap())
            .unwrap()
            .items
            .len(),
        2
    );

    let deprecated = app
        .run(app.engine.agents_deprecate_key(&id, &second).unwrap())
        .unwrap();
    assert_eq!(deprecated.status(), AgentKeyStatus::Deprecated);
    // A deprecated key works, and its answers say so.
    let old = Client::new(&fake, minted.api_key.as_ref().unwrap().expose_secret());
    let response = send(&old.first_request(old.engine.agents_me())).unwrap();
    assert_eq!(
        (response.status, response.header("x-alter-key-deprecated")),
        (200, Some("true"))
    );
    let fresh = Client::new(&fake, agent.api_key.as_ref().unwrap().expose_secret());
    let response = send(&fresh.first_request(fresh.engine.agents_me())).unwrap();
    assert_eq!(response.header("x-alter-key-deprecated"), None);

    let restored = app
        .run(app.engine.agents_undeprecate_key(&id, &second).unwrap())
        .unwrap();
    assert_eq!(restored.status(), AgentKeyStatus::Active);

    let revoked = app
        .run(app.engine.agents_revoke_key(&id, &second, false).unwrap())
        .unwrap();
    assert_eq!(revoked.status(), AgentKeyStatus::Revoked);
    assert_eq!(
        old.run(old.engine.agents_me()).unwrap_err().class_name(),
        "KeyRevokedError"
    );
    let again = app
        .run(app.engine.agents_revoke_key(&id, &second, false).unwrap())
        .unwrap_err();
    assert_eq!(again.class_name(), "KeyAlreadyRevokedError");

    let last = app
        .run(
            app.engine
                .agents_revoke_key(&id, &first_key, false)
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(last.class_name(), "LastActiveKeyError");
    let forced = app
        .run(app.engine.agents_revoke_key(&id, &first_key, true).unwrap())
        .unwrap();
    assert_eq!(forced.status(), AgentKeyStatus::Revoked);

    let unknown = app
        .run(
            app.engine
                .agents_deprecate_key(&id, "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f")
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(unknown.class_name(), "KeyNotFoundError");
}

#[test]
fn principal_restrictions_of_section_1_4() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let agent = Client::new(&fake, fake.agent_key());

    let error = agent
        .run(agent.engine.agents_create(CreateAgent::new("sub")).unwrap())
        .unwrap_err();
    assert_eq!(error.class_name(), "AgentCannotMintSubagentsError");
    let error = agent
        .run(agent.engine.agents_list(ListAgents::default()).unwrap())
        .unwrap_err();
    assert_eq!(error.class_name(), "AgentCannotMintSubagentsError");

    let me = agent.run(agent.engine.agents_me()).unwrap();
    assert_eq!(me.id, fake.agent_id());
    assert_eq!(
        app.run(app.engine.agents_me()).unwrap_err().class_name(),
        "MeRequiresAgentKeyError"
    );

    let grant = &fake.grants().agent_delegated;
    let agent_id = fake.agent_id().to_string();
    let error = agent
        .run(
            agent
                .engine
                .revoke_delegation(grant, Some(&agent_id))
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(
        (error.class_name(), error.code()),
        ("PolicyViolationError", Some("use_self_revoke_path"))
    );
    let error = app
        .run(app.engine.revoke_delegation(grant, None).unwrap())
        .unwrap_err();
    assert_eq!(
        (error.class_name(), error.code()),
        ("PolicyViolationError", Some("agent_key_required"))
    );

    let error = agent
        .run(agent.engine.revoke_grant(grant, None, None).unwrap())
        .unwrap_err();
    assert_eq!(
        (error.class_name(), error.code()),
        ("PolicyViolationError", Some("operator_key_required"))
    );
}

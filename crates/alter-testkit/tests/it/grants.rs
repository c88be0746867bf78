//! Grant list visibility and paging, revoke, delegations, managed-secret grants, and every
//! grant-state error of §4.2–4.4 as the core classifies it.

use alter_core::api::{ListGrants, RetrieveRequest};
use alter_testkit::{CredentialSpec, FakeAlter, GrantSpec, GrantStatus, ScopeMismatch};
use alter_types::{CallerType, GrantItem, Principal, PrincipalType, Secret};

use crate::support::{Client, Options};

fn ids(page: &alter_types::UnifiedGrantListResult) -> Vec<String> {
    page.grants
        .iter()
        .filter_map(GrantItem::grant_id)
        .map(str::to_owned)
        .collect()
}

fn token_call(
    client: &Client,
    fake: &FakeAlter,
    grant: &str,
) -> Result<alter_core::api::ProviderResponse, alter_core::Error> {
    let request =
        RetrieveRequest::grant("GET", format!("{}/echo/t", fake.provider_base_url()), grant);
    client.run(client.engine.request(request, None).unwrap())
}

#[test]
fn grant_lists_page_and_follow_the_principal() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let agent = Client::new(&fake, fake.agent_key());

    let everything = app
        .run(app.engine.list_grants(ListGrants::default(), None).unwrap())
        .unwrap();
    assert!(
        everything
            .grants
            .iter()
            .all(|g| matches!(g, GrantItem::OAuth(_)))
    );
    let mut params = ListGrants::default();
    params.limit = 3;
    let mut seen = Vec::new();
    loop {
        let page = app
            .run(app.engine.list_grants(params.clone(), None).unwrap())
            .unwrap();
        seen.extend(ids(&page));
        if !page.has_more {
            break;
        }
        params = params.next_page();
    }
    assert_eq!(seen, ids(&everything));

    let mut google = ListGrants::default();
    google.provider_id = Some("google".into());
    assert_eq!(
        ids(&app
            .run(app.engine.list_grants(google, None).unwrap())
            .unwrap()),
        [fake.grants().oauth_bearer.clone()]
    );

    let alice = Secret::new(fake.user_token());
    let mine = app
        .run(
            app.engine
                .list_grants(ListGrants::default(), Some(&alice))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(ids(&mine), [fake.grants().oauth_bearer.clone()]);

    let delegated = agent
        .run(
            agent
                .engine
                .list_grants(ListGrants::default(), None)
                .unwrap(),
        )
        .unwrap();
    let delegated_ids = ids(&delegated);
    assert!(delegated_ids.contains(&fake.grants().agent_delegated));
    assert!(delegated_ids.contains(&fake.grants().managed_secret_agent));
    assert!(!delegated_ids.contains(&fake.grants().oauth_bearer));
    let operator_view = everything.grants.iter().find_map(|g| match g {
        GrantItem::OAuth(item) if item.grant_id == fake.grants().agent_delegated => {
            Some(item.clone())
        }
        _ => None,
    });
    assert_eq!(
        operator_view.unwrap().delegated_agent_ids,
        [fake.agent_id().to_string()]
    );
}

#[test]
fn revoking_a_grant_and_a_delegation() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let agent = Client::new(&fake, fake.agent_key());
    let grant = &fake.grants().api_key_header;

    let result = app
        .run(
            app.engine
                .revoke_grant(grant, Some("rotating"), None)
                .unwrap(),
        )
        .unwrap();
    assert!(result.success && result.grant_id == *grant);
    let again = app
        .run(app.engine.revoke_grant(grant, None, None).unwrap())
        .unwrap_err();
    assert_eq!(again.class_name(), "GrantNotFoundError");
    assert_eq!(
        token_call(&app, &fake, grant).unwrap_err().class_name(),
        "GrantRevokedError"
    );

    assert!(token_call(&agent, &fake, &fake.grants().agent_delegated).is_ok());
    agent
        .run(
            agent
                .engine
                .revoke_delegation(&fake.grants().agent_delegated, None)
                .unwrap(),
        )
        .unwrap();
    // Idempotent.
    agent
        .run(
            agent
                .engine
                .revoke_delegation(&fake.grants().agent_delegated, None)
                .unwrap(),
        )
        .unwrap();
    let error = token_call(&agent, &fake, &fake.grants().agent_delegated).unwrap_err();
    assert_eq!(error.class_name(), "NoDelegatedGrantError");

    let shared = fake
        .add_grant(&GrantSpec::oauth("notion").delegate_to(fake.agent_id()))
        .unwrap();
    app.run(
        app.engine
            .revoke_delegation(&shared, Some(&fake.agent_id().to_string()))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        token_call(&agent, &fake, &shared).unwrap_err().class_name(),
        "NoDelegatedGrantError"
    );
    let missing = app
        .run(
            app.engine
                .revoke_delegation("no-such-grant", Some("x"))
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(missing.class_name(), "GrantNotFoundError");
}

#[test]
fn grant_states_reach_the_sdk_as_typed_errors() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let rows = [
        (
            GrantSpec::oauth("x").status(GrantStatus::Expired),
            "GrantExpiredError",
        ),
        (
            GrantSpec::oauth("x").status(GrantStatus::Deleted),
            "GrantDeletedError",
        ),
        (
            GrantSpec::oauth("x").status(GrantStatus::Revoked),
            "GrantRevokedError",
        ),
        (
            GrantSpec::oauth("x").status(GrantStatus::CredentialRevoked),
            "CredentialRevokedError",
        ),
        (
            GrantSpec::oauth("x").policy_error("outside_business_hours"),
            "PolicyViolationError",
        ),
        (
            GrantSpec::oauth("x").scope_mismatch(ScopeMismatch::Refuse),
            "ScopeReauthRequiredError",
        ),
        (
            GrantSpec::oauth("x").refresh_in_progress(1),
            "TokenRefreshInProgressError",
        ),
    ];
    for (spec, class) in rows {
        let id = fake.add_grant(&spec).unwrap();
        assert_eq!(
            token_call(&app, &fake, &id).unwrap_err().class_name(),
            class
        );
    }

    let refreshed = fake
        .add_grant(&GrantSpec::oauth("x").refresh_in_progress(1))
        .unwrap();
    assert!(token_call(&app, &fake, &refreshed).is_err());
    assert!(token_call(&app, &fake, &refreshed).is_ok());

    fake.set_grant_status(&fake.grants().multi_header, GrantStatus::Expired)
        .unwrap();
    assert_eq!(
        token_call(&app, &fake, &fake.grants().multi_header)
            .unwrap_err()
            .class_name(),
        "GrantExpiredError"
    );
    assert_eq!(
        token_call(&app, &fake, "no-such-grant")
            .unwrap_err()
            .class_name(),
        "GrantNotFoundError"
    );

    let mut forged = RetrieveRequest::grant(
        "GET",
        format!("{}/echo/t", fake.provider_base_url()),
        &fake.grants().oauth_bearer,
    );
    forged.user_token = Some(Secret::new("eyJforged.token.value"));
    assert_eq!(
        app.run(app.engine.request(forged, None).unwrap())
            .unwrap_err()
            .class_name(),
        "ReAuthRequiredError"
    );
}

#[test]
fn provider_mode_resolves_accounts_and_delegations() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let agent = Client::new(&fake, fake.agent_key());
    let url = format!("{}/protected/me", fake.provider_base_url());

    let response = app
        .run(
            app.engine
                .request(RetrieveRequest::provider("GET", &url, "google"), None)
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        response.json::<serde_json::Value>().unwrap()["grant_id"],
        fake.grants().oauth_bearer.as_str()
    );

    let second = fake
        .add_grant(
            &GrantSpec::oauth("google")
                .account("bob@example.com")
                .user("user-bob"),
        )
        .unwrap();
    let error = app
        .run(
            app.engine
                .request(RetrieveRequest::provider("GET", &url, "google"), None)
                .unwrap(),
        )
        .unwrap_err();
    let alter_core::Error::AmbiguousGrant { candidates, .. } = error else {
        panic!("{error:?}")
    };
    assert_eq!(
        candidates.account_identifiers,
        ["alice@example.com", "bob@example.com"]
    );
    assert_eq!(candidates.grant_ids.len(), 2);

    let mut bob = RetrieveRequest::provider("GET", &url, "google");
    bob.target = alter_core::api::GrantTarget::Provider {
        provider: "google".into(),
        account: Some("bob@example.com".into()),
        app_user_id: None,
    };
    let response = app.run(app.engine.request(bob, None).unwrap()).unwrap();
    assert_eq!(
        response.json::<serde_json::Value>().unwrap()["grant_id"],
        second.as_str()
    );

    let alice = Secret::new(fake.user_token());
    let response = app
        .run(
            app.engine
                .request(
                    RetrieveRequest::provider("GET", &url, "google"),
                    Some(&alice),
                )
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        response.json::<serde_json::Value>().unwrap()["grant_id"],
        fake.grants().oauth_bearer.as_str()
    );

    let response = agent
        .run(
            agent
                .engine
                .request(RetrieveRequest::provider("GET", &url, "github"), None)
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        response.json::<serde_json::Value>().unwrap()["grant_id"],
        fake.grants().agent_delegated.as_str()
    );
    let none = agent
        .run(
            agent
                .engine
                .request(RetrieveRequest::provider("GET", &url, "notion"), None)
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(none.class_name(), "NoDelegatedGrantError");
    let none = app
        .run(
            app.engine
                .request(RetrieveRequest::provider("GET", &url, "notion"), None)
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(none.class_name(), "GrantNotFoundError");
}

#[test]
fn an_app_key_can_act_as_one_of_its_agents() {
    let fake = FakeAlter::start();
    let options = Options {
        caller: Some((fake.agent_id().to_string(), CallerType::Agent)),
        ..Options::default()
    };
    let as_agent = Client::with(fake.base_url(), fake.app_key(), options);

    assert!(token_call(&as_agent, &fake, &fake.grants().agent_delegated).is_ok());
    let error = token_call(&as_agent, &fake, &fake.grants().oauth_bearer).unwrap_err();
    assert_eq!(error.class_name(), "NoDelegatedGrantError");
    let page = as_agent
        .run(
            as_agent
                .engine
                .list_grants(ListGrants::default(), None)
                .unwrap(),
        )
        .unwrap();
    assert!(ids(&page).contains(&fake.grants().managed_secret_agent));

    let principal = Principal::agent(Some("impersonated".into())).unwrap();
    let created = as_agent
        .run(
            as_agent
                .engine
                .create_managed_secret_grant(fake.managed_secret_id(), &principal, None)
                .unwrap(),
        )
        .unwrap();
    assert_eq!(created.principal_type, PrincipalType::Agent);
    assert!(
        token_call(
            &Client::new(&fake, fake.agent_key()),
            &fake,
            &created.grant_id
        )
        .is_ok()
    );
}

#[test]
fn managed_secret_grants_for_every_principal() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let principals = [
        Principal::user(fake.user_token(), "alice").unwrap(),
        Principal::group("eng", "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f", "engineers").unwrap(),
        Principal::system(Some("cron".into())).unwrap(),
    ];
    for principal in &principals {
        let policy = alter_types::GrantPolicyInput::new()
            .with_max_ttl_seconds(3600)
            .unwrap();
        let created = app
            .run(
                app.engine
                    .create_managed_secret_grant(fake.managed_secret_id(), principal, Some(&policy))
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(created.principal_type, principal.principal_type());
        let response = token_call(&app, &fake, &created.grant_id).unwrap();
        assert_eq!(response.status, 200);
    }

    let agent_principal = Principal::agent(None).unwrap();
    let error = app
        .run(
            app.engine
                .create_managed_secret_grant(fake.managed_secret_id(), &agent_principal, None)
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(
        (error.class_name(), error.code()),
        ("BackendError", Some("agent_principal_requires_agent"))
    );
    let forged = Principal::user("eyJforged", "x").unwrap();
    let error = app
        .run(
            app.engine
                .create_managed_secret_grant(fake.managed_secret_id(), &forged, None)
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(error.class_name(), "ReAuthRequiredError");
    let error = app
        .run(
            app.engine
                .create_managed_secret_grant("no-such-secret", &principals[2], None)
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(error.class_name(), "GrantNotFoundError");
    let agent = Client::new(&fake, fake.agent_key());
    let error = agent
        .run(
            agent
                .engine
                .create_managed_secret_grant(fake.managed_secret_id(), &principals[2], None)
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(error.class_name(), "PolicyViolationError");
}

#[test]
fn added_grants_use_their_credential_spec() {
    let fake = FakeAlter::start();
    let app = Client::new(&fake, fake.app_key());
    let id = fake
        .add_grant(
            &GrantSpec::oauth("discord").credential(
                CredentialSpec::api_key_header("Authorization")
                    .format("Bot {token}")
                    .access_token("bot-token-1"),
            ),
        )
        .unwrap();

    let response = token_call(&app, &fake, &id).unwrap();
    let echoed: serde_json::Value = response.json().unwrap();
    assert_eq!(echoed["headers"]["authorization"], "Bot bot-token-1");
}

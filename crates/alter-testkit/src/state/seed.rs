//! The data every fake starts with: an app key, an agent with a key, a managed secret, a
//! signed-in user, and one grant per injection style.

use alter_types::KeyType;
use indexmap::IndexMap;
use serde_json::Map;

use super::agents::AgentRecord;
use super::grants::ManagedSecret;
use super::keys::{AGENT_SCOPES, APP_SCOPES, KeyRecord, Owner, scopes};
use super::{Seeded, Store, now};
use crate::handle::SeededGrants;
use crate::spec::{CredentialSpec, GrantSpec};

/// Name of the seeded agent.
pub(crate) const AGENT_NAME: &str = "testkit-agent";
/// Subject of the seeded user.
pub(crate) const USER_SUB: &str = "user-alice";

/// Seeds `store` and remembers what was seeded.
///
/// # Errors
///
/// A message if a seed grant is refused, which would mean the seed itself is inconsistent.
pub(crate) fn seed(store: &mut Store) -> Result<Seeded, String> {
    let at = now();

    let app_key = store.rng.api_key("rk");
    let app_key_id = store.rng.uuid();
    store.keys.push(KeyRecord::new(
        app_key_id,
        app_key.clone(),
        KeyType::Rk,
        "app".to_owned(),
        scopes(APP_SCOPES),
        Owner::App,
        at,
    ));

    let agent_id = store.rng.uuid();
    let mut agent = AgentRecord::new(agent_id, AGENT_NAME.to_owned(), at);
    agent.display_name = Some("Testkit Agent".to_owned());
    agent.scopes = IndexMap::from([("github".to_owned(), vec!["repo".to_owned()])]);
    let key_name = agent.next_key_name();
    store.agents.push(agent);
    let agent_key = store.rng.api_key("ak");
    let agent_key_id = store.rng.uuid();
    store.keys.push(KeyRecord::new(
        agent_key_id,
        agent_key.clone(),
        KeyType::Ak,
        key_name,
        scopes(AGENT_SCOPES),
        Owner::Agent(agent_id),
        at,
    ));

    let secret_spec =
        GrantSpec::oauth("acme").credential(CredentialSpec::api_key_header("X-Acme-Key"));
    let managed_secret_id = store.rng.uuid().to_string();
    let credential = store.fresh_credential(&secret_spec);
    store.managed_secrets.push(ManagedSecret {
        id: managed_secret_id.clone(),
        slug: "acme-api-key".to_owned(),
        name: "Acme API key".to_owned(),
        credential,
    });

    let user_token = store.issue_user_token(USER_SUB, Map::new());
    let grants = seed_grants(store, agent_id)?;

    let seeded = Seeded {
        app_key,
        app_key_id,
        agent_key,
        agent_key_id,
        agent_id,
        managed_secret_id,
        user_token,
        grants,
    };
    store.seeded = Some(seeded.clone());
    Ok(seeded)
}

fn seed_grants(store: &mut Store, agent_id: uuid::Uuid) -> Result<SeededGrants, String> {
    let mut create = |spec: GrantSpec| store.create_grant(&spec);

    Ok(SeededGrants {
        oauth_bearer: create(
            GrantSpec::oauth("google")
                .account("alice@example.com")
                .user(USER_SUB)
                .scopes(["openid", "email"]),
        )?,
        api_key_header: create(
            GrantSpec::oauth("stripe").credential(CredentialSpec::api_key_header("X-Api-Key")),
        )?,
        query_param: create(
            GrantSpec::oauth("typeform").credential(CredentialSpec::query_param("api_key")),
        )?,
        multi_header: create(
            GrantSpec::oauth("hubspot").credential(CredentialSpec::multi_header()),
        )?,
        aws_sigv4: create(
            GrantSpec::oauth("aws")
                .credential(CredentialSpec::aws_sigv4("us-east-1", "execute-api")),
        )?,
        hitl: create(
            GrantSpec::oauth("salesforce")
                .account("ops@example.com")
                .requires_approval(),
        )?,
        agent_delegated: create(
            GrantSpec::oauth("github")
                .account("bob@example.com")
                .user("user-bob")
                .scopes(["repo"])
                .delegate_to(agent_id),
        )?,
        managed_secret_agent: create(GrantSpec::managed_secret_for_agent(agent_id))?,
    })
}

#[cfg(test)]
mod tests {
    use alter_core::config::is_valid_key;

    use super::*;
    use crate::state::{Settings, ids::Rng};

    #[test]
    fn seeds_valid_keys_and_every_grant() {
        let mut store = Store::new(Settings::default(), Rng::seeded(1));
        let seeded = seed(&mut store).unwrap();

        assert!(is_valid_key(&seeded.app_key) && seeded.app_key.starts_with("alter_rk_"));
        assert!(is_valid_key(&seeded.agent_key) && seeded.agent_key.starts_with("alter_ak_"));
        assert!(store.agent(seeded.agent_id).is_some());
        assert!(store.managed_secret(&seeded.managed_secret_id).is_some());
        assert_eq!(store.grants.len(), 8);
        for id in seeded.grants.all() {
            assert!(store.grant(id).is_some(), "{id}");
        }
    }

    #[test]
    fn a_seed_is_deterministic() {
        let a = seed(&mut Store::new(Settings::default(), Rng::seeded(42))).unwrap();
        let b = seed(&mut Store::new(Settings::default(), Rng::seeded(42))).unwrap();
        assert_eq!(a.app_key, b.app_key);
        assert_eq!(a.grants, b.grants);
    }
}

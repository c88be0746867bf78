//! Grants, managed secrets and delegations, and the rules that decide who may use a grant
//! (PROTOCOL.md §5.1, §5.7–5.10, §8.5).

use alter_core::retrieve::injection::Credential;
use alter_types::{
    AdditionalInjection, CreateGrantResult, GrantItem, InjectionTarget, ManagedSecretGrantItem,
    OAuthGrantItem, Principal, PrincipalType, RevokeGrantResult, Secret, TokenResponse,
    UnifiedGrantListResult,
};
use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{Caller, Store, after, now, stamp};
use crate::errors::{self, Failure};
use crate::spec::{GrantSpec, GrantStatus, ScopeMismatch};

/// Lifetime the fake gives every access token it hands out.
const TOKEN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3600);

/// A managed secret: a credential the operator stores once and grants to principals.
#[derive(Clone, Debug)]
pub(crate) struct ManagedSecret {
    pub(crate) id: String,
    pub(crate) slug: String,
    pub(crate) name: String,
    pub(crate) credential: Credential,
}

/// One delegation of an OAuth grant to an agent.
#[derive(Clone, Debug)]
pub(crate) struct Delegation {
    pub(crate) agent_id: Uuid,
    pub(crate) delegated_at: DateTime<Utc>,
    pub(crate) revoked_at: Option<DateTime<Utc>>,
}

/// Who holds a grant.
#[derive(Clone, Debug)]
pub(crate) enum Holder {
    /// A user or system OAuth grant, possibly delegated to agents.
    OAuth {
        provider_id: String,
        account_identifier: Option<String>,
        account_display_name: Option<String>,
        app_user_id: Option<String>,
        delegations: Vec<Delegation>,
    },
    /// A grant of a managed secret to a principal.
    ManagedSecret {
        managed_secret_id: String,
        principal_type: PrincipalType,
        label: Option<String>,
        /// The owning agent (agent principals).
        agent_id: Option<Uuid>,
        /// The owning user's subject (user principals).
        subject: Option<String>,
    },
}

/// One grant.
#[derive(Clone, Debug)]
pub(crate) struct GrantRecord {
    pub(crate) id: String,
    pub(crate) holder: Holder,
    pub(crate) credential: Credential,
    pub(crate) scopes: Vec<String>,
    pub(crate) status: GrantStatus,
    pub(crate) requires_approval: bool,
    pub(crate) policy_error: Option<String>,
    pub(crate) scope_mismatch: ScopeMismatch,
    pub(crate) refresh_in_progress: u32,
    pub(crate) retry_info: Option<Value>,
    pub(crate) grant_policy: Option<Map<String, Value>>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) last_used_at: Option<DateTime<Utc>>,
    pub(crate) revoked_at: Option<DateTime<Utc>>,
}

impl GrantRecord {
    /// The provider of an OAuth grant; the managed secret's slug for the others.
    pub(crate) fn provider_id(&self, store: &Store) -> Option<String> {
        match &self.holder {
            Holder::OAuth { provider_id, .. } => Some(provider_id.clone()),
            Holder::ManagedSecret {
                managed_secret_id, ..
            } => store
                .managed_secret(managed_secret_id)
                .map(|secret| secret.slug.clone()),
        }
    }

    /// The end user who owns the grant, if any.
    pub(crate) fn app_user_id(&self) -> Option<&str> {
        match &self.holder {
            Holder::OAuth { app_user_id, .. } => app_user_id.as_deref(),
            Holder::ManagedSecret { subject, .. } => subject.as_deref(),
        }
    }

    /// Whether the grant is delegated to (or, for a managed secret, owned by) `agent`.
    pub(crate) fn reachable_by(&self, agent: Uuid) -> bool {
        match &self.holder {
            Holder::OAuth { delegations, .. } => delegations
                .iter()
                .any(|d| d.agent_id == agent && d.revoked_at.is_none()),
            Holder::ManagedSecret { agent_id, .. } => *agent_id == Some(agent),
        }
    }

    /// The `/sdk/token` answer for this grant, without `null` fields (the reference client
    /// reads absent and `null` differently for some of them).
    pub(crate) fn token_body(&self, provider_id: Option<String>) -> Value {
        let issued = now();
        let credential = &self.credential;
        let additional: IndexMap<String, Secret> = credential
            .additional_credentials
            .iter()
            .map(|(name, value)| (name.clone(), Secret::new(value.clone())))
            .collect();
        let injections: Vec<AdditionalInjection> = credential
            .additional_injections
            .iter()
            .map(|rule| AdditionalInjection {
                target: InjectionTarget::from(rule.target.as_str()),
                key: rule.key.clone(),
                value_source: rule.value_source.clone(),
            })
            .collect();

        let token = TokenResponse {
            access_token: Secret::new(credential.access_token.clone()),
            token_type: "Bearer".to_owned(),
            expires_in: Some(TOKEN_LIFETIME.as_secs() as i64),
            expires_at: Some(after(issued, TOKEN_LIFETIME)),
            scopes: self.scopes.clone(),
            grant_id: self.id.clone(),
            provider_id,
            scope_mismatch: self.scope_mismatch == ScopeMismatch::Flag,
            injection_header: credential.injection_header.clone(),
            injection_format: credential.injection_format.clone(),
            additional_credentials: (!additional.is_empty()).then_some(additional),
            additional_injections: (!injections.is_empty()).then_some(injections),
            retry_info: self.retry_info.clone(),
        };
        without_nulls(serde_json::to_value(&token).unwrap_or(Value::Null))
    }

    /// The grant as a unified list item, as `viewer` sees it.
    fn list_item(&self, store: &Store, viewer: Option<Uuid>) -> Option<GrantItem> {
        match &self.holder {
            Holder::OAuth {
                provider_id,
                account_identifier,
                account_display_name,
                app_user_id,
                delegations,
            } => {
                let active = delegations.iter().filter(|d| d.revoked_at.is_none());
                let (delegated_at, delegated_agent_ids) = match viewer {
                    Some(agent) => (
                        active
                            .clone()
                            .find(|d| d.agent_id == agent)
                            .map(|d| stamp(d.delegated_at)),
                        Vec::new(),
                    ),
                    None => (None, active.map(|d| d.agent_id.to_string()).collect()),
                };
                Some(GrantItem::OAuth(OAuthGrantItem {
                    grant_id: self.id.clone(),
                    provider_id: provider_id.clone(),
                    scopes: self.scopes.clone(),
                    account_identifier: account_identifier.clone(),
                    account_display_name: account_display_name.clone(),
                    status: self.status.as_str().to_owned(),
                    scope_mismatch: self.scope_mismatch != ScopeMismatch::None,
                    expires_at: None,
                    created_at: stamp(self.created_at),
                    last_used_at: self.last_used_at.map(stamp),
                    principal_type: if app_user_id.is_some() {
                        PrincipalType::User
                    } else {
                        PrincipalType::System
                    },
                    delegated_at,
                    delegated_agent_ids,
                }))
            }
            Holder::ManagedSecret {
                managed_secret_id,
                principal_type,
                label,
                agent_id,
                ..
            } => {
                let secret = store.managed_secret(managed_secret_id)?;
                Some(GrantItem::ManagedSecret(ManagedSecretGrantItem {
                    grant_id: self.id.clone(),
                    managed_secret_id: secret.id.clone(),
                    managed_secret_slug: secret.slug.clone(),
                    managed_secret_name: secret.name.clone(),
                    agent_id: agent_id.map(|id| id.to_string()).unwrap_or_default(),
                    label: label.clone(),
                    status: self.status.as_str().to_owned(),
                    grant_policy: self.grant_policy.clone(),
                    created_at: stamp(self.created_at),
                    last_used_at: self.last_used_at.map(stamp),
                    principal_type: principal_type.clone(),
                }))
            }
        }
    }
}

impl Store {
    /// The managed secret with this id.
    pub(crate) fn managed_secret(&self, id: &str) -> Option<&ManagedSecret> {
        self.managed_secrets.iter().find(|secret| secret.id == id)
    }

    /// The grant with this id.
    pub(crate) fn grant(&self, id: &str) -> Option<&GrantRecord> {
        self.grants.iter().find(|grant| grant.id == id)
    }

    /// The grant with this id, for changes.
    pub(crate) fn grant_mut(&mut self, id: &str) -> Option<&mut GrantRecord> {
        self.grants.iter_mut().find(|grant| grant.id == id)
    }

    /// Creates a grant from a spec; returns its id.
    ///
    /// # Errors
    ///
    /// A message when the spec names an agent or managed secret that does not exist.
    pub(crate) fn create_grant(&mut self, spec: &GrantSpec) -> Result<String, String> {
        for agent in &spec.delegated_to {
            if self.agent(*agent).is_none() {
                return Err(format!("unknown agent {agent}"));
            }
        }

        let id = self.rng.uuid().to_string();
        let created_at = now();
        let (holder, credential) = match &spec.managed_secret {
            None => {
                let holder = Holder::OAuth {
                    provider_id: spec.provider_id.clone(),
                    account_identifier: spec.account_identifier.clone(),
                    account_display_name: spec.account_display_name.clone(),
                    app_user_id: spec.app_user_id.clone(),
                    delegations: spec
                        .delegated_to
                        .iter()
                        .map(|&agent_id| Delegation {
                            agent_id,
                            delegated_at: created_at,
                            revoked_at: None,
                        })
                        .collect(),
                };
                (holder, self.fresh_credential(spec))
            }
            Some(ms) => {
                let secret_id = ms
                    .managed_secret_id
                    .clone()
                    .or_else(|| self.managed_secrets.first().map(|s| s.id.clone()))
                    .ok_or("no managed secret exists")?;
                let secret = self
                    .managed_secret(&secret_id)
                    .ok_or_else(|| format!("unknown managed secret {secret_id}"))?
                    .clone();
                let agent_id = ms.agent_id.or_else(|| self.seeded_agent());
                if let Some(agent) = agent_id.filter(|a| self.agent(*a).is_none()) {
                    return Err(format!("unknown agent {agent}"));
                }
                let holder = Holder::ManagedSecret {
                    managed_secret_id: secret.id,
                    principal_type: PrincipalType::Agent,
                    label: ms.label.clone(),
                    agent_id,
                    subject: None,
                };
                (holder, secret.credential)
            }
        };

        self.grants.push(GrantRecord {
            id: id.clone(),
            holder,
            credential,
            scopes: spec.scopes.clone(),
            status: spec.status,
            requires_approval: spec.requires_approval,
            policy_error: spec.policy_error.clone(),
            scope_mismatch: spec.scope_mismatch,
            refresh_in_progress: spec.refresh_in_progress,
            retry_info: spec.retry_info.clone(),
            grant_policy: None,
            created_at,
            last_used_at: None,
            revoked_at: (spec.status == GrantStatus::Revoked).then_some(created_at),
        });
        Ok(id)
    }

    /// A credential for a new grant: the spec's, with a fresh token and AWS secret.
    pub(crate) fn fresh_credential(&mut self, spec: &GrantSpec) -> Credential {
        let token = if spec.credential.style == crate::spec::InjectionStyle::AwsSigv4 {
            format!("AKIA{}", self.rng.token("")[..16].to_ascii_uppercase())
        } else {
            self.rng.token("tok_")
        };
        let secret = self.rng.token("aws_secret_");
        spec.credential.resolve(token, secret)
    }
    /// `POST /sdk/grants/list`: the page of grants `caller` may see (§5.7).
    pub(crate) fn list_grants(
        &self,
        caller: &Caller,
        provider: Option<&str>,
        user: Option<&str>,
        limit: u64,
        offset: u64,
    ) -> UnifiedGrantListResult {
        let viewer = caller.acting_agent;
        let visible: Vec<GrantItem> = self
            .grants
            .iter()
            .filter(|grant| grant.status != GrantStatus::Deleted)
            .filter(|grant| match (viewer, &grant.holder) {
                (None, Holder::OAuth { .. }) => true,
                (None, Holder::ManagedSecret { .. }) => false,
                (Some(agent), _) => grant.reachable_by(agent),
            })
            .filter(|grant| {
                provider.is_none_or(|p| matches!(&grant.holder, Holder::OAuth { provider_id, .. } if provider_id == p))
            })
            .filter(|grant| user.is_none_or(|user| grant.app_user_id() == Some(user)))
            .filter_map(|grant| grant.list_item(self, viewer))
            .collect();

        let total = visible.len() as u64;
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let grants: Vec<GrantItem> = visible
            .into_iter()
            .skip(start)
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect();
        UnifiedGrantListResult {
            has_more: offset.saturating_add(grants.len() as u64) < total,
            grants,
            total,
            limit,
            offset,
        }
    }

    /// `POST /sdk/oauth/grants/{id}/revoke` (§5.8).
    pub(crate) fn revoke_grant(
        &mut self,
        id: &str,
        user: Option<&str>,
    ) -> Result<RevokeGrantResult, Failure> {
        let grant = self
            .grant_mut(id)
            .filter(|grant| grant.status == GrantStatus::Active)
            .filter(|grant| user.is_none_or(|user| grant.app_user_id() == Some(user)))
            .ok_or_else(|| errors::grant_not_found(Some(id), None))?;

        let at = now();
        grant.status = GrantStatus::Revoked;
        grant.revoked_at = Some(at);
        Ok(RevokeGrantResult {
            success: true,
            message: "Grant revoked".to_owned(),
            grant_id: grant.id.clone(),
            revoked_at: stamp(at),
        })
    }

    /// Ends `agent`'s delegation of a grant; revoking a delegation that is not there is a
    /// no-op, so the call is idempotent (§5.9).
    pub(crate) fn revoke_delegation(
        &mut self,
        grant_id: &str,
        agent: Option<Uuid>,
    ) -> Result<(), Failure> {
        let grant = self
            .grant_mut(grant_id)
            .filter(|grant| grant.status != GrantStatus::Deleted)
            .ok_or_else(|| errors::grant_not_found(Some(grant_id), None))?;

        if let (Holder::OAuth { delegations, .. }, Some(agent)) = (&mut grant.holder, agent) {
            for delegation in delegations.iter_mut().filter(|d| d.agent_id == agent) {
                delegation.revoked_at.get_or_insert_with(now);
            }
        }
        Ok(())
    }

    /// `POST /sdk/managed-secrets/{id}/grants` (§5.10, §8.1).
    pub(crate) fn create_managed_secret_grant(
        &mut self,
        caller: &Caller,
        managed_secret_id: &str,
        principal: &Principal,
        grant_policy: Map<String, Value>,
    ) -> Result<CreateGrantResult, Failure> {
        let secret = self
            .managed_secret(managed_secret_id)
            .cloned()
            .ok_or_else(|| {
                errors::grant_not_found(None, None).with("managed_secret_id", managed_secret_id)
            })?;

        let (label, agent_id, subject) = match principal {
            Principal::User { user_token, label } => {
                let subject = self.user_subject(Some(user_token.expose_secret()))?;
                (Some(label.clone()), None, subject)
            }
            Principal::Group { label, .. } => (Some(label.clone()), None, None),
            Principal::System { label } => (label.clone(), None, None),
            Principal::Agent { label } => {
                let agent = caller.acting_agent.ok_or_else(|| {
                    Failure::new(
                        400,
                        "agent_principal_requires_agent",
                        "an agent principal needs an agent key, or an app key naming the agent in X-Alter-Caller",
                    )
                })?;
                (label.clone(), Some(agent), None)
            }
        };

        let id = self.rng.uuid().to_string();
        let created_at = now();
        self.grants.push(GrantRecord {
            id: id.clone(),
            holder: Holder::ManagedSecret {
                managed_secret_id: secret.id,
                principal_type: principal.principal_type(),
                label: label.clone(),
                agent_id,
                subject,
            },
            credential: secret.credential,
            scopes: Vec::new(),
            status: GrantStatus::Active,
            requires_approval: false,
            policy_error: None,
            scope_mismatch: ScopeMismatch::None,
            refresh_in_progress: 0,
            retry_info: None,
            grant_policy: (!grant_policy.is_empty()).then_some(grant_policy),
            created_at,
            last_used_at: None,
            revoked_at: None,
        });
        Ok(CreateGrantResult {
            grant_id: id,
            principal_type: principal.principal_type(),
            label,
            created_at: stamp(created_at),
        })
    }
}
/// The value with `null` members of the top-level object removed.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            Value::Object(object.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::CredentialSpec;
    use crate::state::access::Lookup;
    use crate::state::test_support::{agent, app, class, store};

    #[test]
    fn list_visibility_and_pagination() {
        let store = store();
        let seeded = store.seeded.clone().unwrap();

        let page = store.list_grants(&app(), None, None, 2, 0);
        assert_eq!(page.grants.len(), 2);
        assert!(page.has_more);
        let all = store.list_grants(&app(), None, None, 100, 0);
        assert!(all.grants.iter().all(|g| matches!(g, GrantItem::OAuth(_))));
        assert_eq!(all.total, page.total);
        let last = store.list_grants(&app(), None, None, 100, all.total - 1);
        assert_eq!((last.grants.len(), last.has_more), (1, false));

        let mine = store.list_grants(&agent(seeded.agent_id), None, None, 100, 0);
        let ids: Vec<&str> = mine.grants.iter().filter_map(GrantItem::grant_id).collect();
        assert!(ids.contains(&seeded.grants.agent_delegated.as_str()));
        assert!(ids.contains(&seeded.grants.managed_secret_agent.as_str()));
        assert!(!ids.contains(&seeded.grants.oauth_bearer.as_str()));

        let google = store.list_grants(&app(), Some("google"), None, 100, 0);
        assert!(
            google
                .grants
                .iter()
                .all(|g| matches!(g, GrantItem::OAuth(i) if i.provider_id == "google"))
        );

        let json = serde_json::to_value(&mine).unwrap();
        let parsed: UnifiedGrantListResult = serde_json::from_value(json).unwrap();
        assert_eq!(parsed, mine);
    }

    #[test]
    fn revoke_only_active_grants_of_the_user() {
        let mut store = store();
        let id = store
            .create_grant(&GrantSpec::oauth("x").user("user-a"))
            .unwrap();

        assert!(store.revoke_grant(&id, Some("user-b")).is_err());
        let result = store.revoke_grant(&id, Some("user-a")).unwrap();
        assert!(result.success);
        assert_eq!(
            class(&store.revoke_grant(&id, None).unwrap_err()),
            "GrantNotFoundError"
        );
        assert_eq!(
            class(
                &store
                    .usable_grant(&app(), &Lookup::Grant(&id), None)
                    .unwrap_err()
            ),
            "GrantRevokedError"
        );
    }

    #[test]
    fn token_body_drops_nulls_and_parses_back() {
        let mut store = store();
        let id = store
            .create_grant(&GrantSpec::oauth("x").credential(CredentialSpec::query_param("key")))
            .unwrap();
        let grant = store.grant(&id).unwrap();
        let body = grant.token_body(grant.provider_id(&store));

        assert!(body.as_object().unwrap().values().all(|v| !v.is_null()));
        let parsed: TokenResponse = serde_json::from_value(body).unwrap();
        assert_eq!(parsed.grant_id, id);
        assert_eq!(parsed.additional_injections.unwrap()[0].key, "key");
    }

    #[test]
    fn managed_secret_grants_for_each_principal() {
        let mut store = store();
        let seeded = store.seeded.clone().unwrap();
        let user_token = seeded.user_token.clone();

        let principals = [
            Principal::user(user_token, "alice").unwrap(),
            Principal::group("eng", "idp-1", "engineers").unwrap(),
            Principal::system(None).unwrap(),
        ];
        for principal in &principals {
            let created = store
                .create_managed_secret_grant(
                    &app(),
                    &seeded.managed_secret_id,
                    principal,
                    Map::new(),
                )
                .unwrap();
            assert_eq!(created.principal_type, principal.principal_type());
        }

        let agent_principal = Principal::agent(Some("bot".into())).unwrap();
        let refused = store
            .create_managed_secret_grant(
                &app(),
                &seeded.managed_secret_id,
                &agent_principal,
                Map::new(),
            )
            .unwrap_err();
        assert_eq!(class(&refused), "BackendError");
        let created = store
            .create_managed_secret_grant(
                &agent(seeded.agent_id),
                &seeded.managed_secret_id,
                &agent_principal,
                Map::new(),
            )
            .unwrap();
        assert!(
            store
                .grant(&created.grant_id)
                .unwrap()
                .reachable_by(seeded.agent_id)
        );

        let forged = Principal::user("eyJforged", "x").unwrap();
        let failure = store
            .create_managed_secret_grant(&app(), &seeded.managed_secret_id, &forged, Map::new())
            .unwrap_err();
        assert_eq!(class(&failure), "ReAuthRequiredError");
        let missing = store
            .create_managed_secret_grant(&app(), "nope", &principals[2], Map::new())
            .unwrap_err();
        assert_eq!(class(&missing), "GrantNotFoundError");
    }
}

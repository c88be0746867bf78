//! API keys: the app key (`rk`), agent keys (`ak`) and derived keys (`dk`).

use alter_types::{AgentKey, ApiKeyInfo, KeyType};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Scopes of the seeded app key: every scope of the catalog.
pub(crate) const APP_SCOPES: &[&str] = &[
    "agents:read",
    "agents:write",
    "approvals:read",
    "audit:write",
    "connect:write",
    "grants:read",
    "grants:write",
    "idp_users:read",
    "idp_users:write",
    "keys:admin",
    "keys:derive",
    "proxy:execute",
    "tokens:retrieve",
];

/// Scopes of an agent key: everything but the operator's agent registry.
pub(crate) const AGENT_SCOPES: &[&str] = &[
    "approvals:read",
    "audit:write",
    "connect:write",
    "grants:read",
    "grants:write",
    "idp_users:read",
    "idp_users:write",
    "keys:admin",
    "keys:derive",
    "proxy:execute",
    "tokens:retrieve",
];

/// Whom a key belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// The application (operator).
    App,
    /// A managed agent.
    Agent(Uuid),
}

/// One API key.
#[derive(Clone)]
pub(crate) struct KeyRecord {
    pub(crate) id: Uuid,
    pub(crate) secret: String,
    pub(crate) key_type: KeyType,
    pub(crate) name: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) owner: Owner,
    pub(crate) parent_key_id: Option<Uuid>,
    pub(crate) cidr_allowlist: Option<Vec<String>>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) deprecated_at: Option<DateTime<Utc>>,
    pub(crate) revoked_at: Option<DateTime<Utc>>,
    pub(crate) expires_at: Option<DateTime<Utc>>,
    pub(crate) last_used_at: Option<DateTime<Utc>>,
}

impl KeyRecord {
    /// A new active key.
    pub(crate) fn new(
        id: Uuid,
        secret: String,
        key_type: KeyType,
        name: String,
        scopes: Vec<String>,
        owner: Owner,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            secret,
            key_type,
            name,
            scopes,
            owner,
            parent_key_id: None,
            cidr_allowlist: None,
            created_at: now,
            deprecated_at: None,
            revoked_at: None,
            expires_at: None,
            last_used_at: None,
        }
    }

    /// The non-secret start of the key, e.g. `alter_ak_x24xq`.
    pub(crate) fn prefix(&self) -> String {
        self.secret.chars().take(14).collect()
    }

    /// Whether the key may no longer authenticate at `now`.
    pub(crate) fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// The key as `APIKeyInfo`.
    pub(crate) fn info(&self) -> ApiKeyInfo {
        ApiKeyInfo {
            id: self.id,
            name: self.name.clone(),
            key_prefix: self.prefix(),
            key_type: self.key_type.clone(),
            scopes: self.scopes.clone(),
            scope_version: 1,
            cidr_allowlist: self.cidr_allowlist.clone(),
            rate_limit_rpm: None,
            expires_at: self.expires_at,
            deprecated_at: self.deprecated_at,
            revoked_at: self.revoked_at,
            parent_key_id: self.parent_key_id,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
        }
    }

    /// The key as an agent's `AgentKey`.
    pub(crate) fn agent_key(&self) -> AgentKey {
        AgentKey {
            key_id: self.id,
            key_prefix: self.prefix(),
            name: self.name.clone(),
            created_at: self.created_at,
            deprecated_at: self.deprecated_at,
            revoked_at: self.revoked_at,
            last_used_at: self.last_used_at,
        }
    }
}

/// Owned strings of a static scope list.
pub(crate) fn scopes(list: &[&str]) -> Vec<String> {
    list.iter().map(|&scope| scope.to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_scopes_are_app_scopes_without_the_registry() {
        for scope in AGENT_SCOPES {
            assert!(APP_SCOPES.contains(scope), "{scope}");
        }
        assert!(
            !AGENT_SCOPES
                .iter()
                .any(|scope| scope.starts_with("agents:"))
        );
    }

    #[test]
    fn views_share_id_prefix_and_timestamps() {
        let now = Utc::now();
        let mut key = KeyRecord::new(
            Uuid::nil(),
            "alter_ak_abcdefghijklmnopqrstuv_xxxxxx".into(),
            KeyType::Ak,
            "bot-1".into(),
            scopes(AGENT_SCOPES),
            Owner::Agent(Uuid::nil()),
            now,
        );
        key.deprecated_at = Some(now);

        assert_eq!(key.prefix(), "alter_ak_abcde");
        assert_eq!(key.info().key_prefix, key.agent_key().key_prefix);
        assert_eq!(key.agent_key().deprecated_at, Some(now));
        assert!(!key.is_expired(now));
        key.expires_at = Some(now);
        assert!(key.is_expired(now));
    }
}

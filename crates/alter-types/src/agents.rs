//! Agent records and agent keys (PROTOCOL §5.17, §10).

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::serde_util::{
    non_empty_string, null_as_default, required_non_empty_secret_option, timestamp,
    timestamp_option,
};
use crate::{AgentKeyStatus, AgentStatus, AgentType, Secret};

/// An agent registered under an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfo {
    /// Agent id.
    pub id: Uuid,
    /// Unique name within the app.
    pub name: String,
    /// Display name, if set.
    #[serde(default)]
    pub display_name: Option<String>,
    /// `agent` or `service` (wire key `type`).
    #[serde(rename = "type")]
    pub agent_type: AgentType,
    /// `active`, `inactive` or `revoked`.
    pub status: AgentStatus,
    /// Allowed scopes per provider id.
    #[serde(default, deserialize_with = "null_as_default")]
    pub scopes: IndexMap<String, Vec<String>>,
    /// Scope change waiting to apply, if any.
    #[serde(default)]
    pub scopes_pending: Option<Map<String, Value>>,
    /// When `scopes_pending` applies.
    #[serde(default, with = "timestamp_option")]
    pub scopes_applies_at: Option<DateTime<Utc>>,
    /// Policy object (approver emails are replaced by a count server-side).
    #[serde(default, deserialize_with = "null_as_default")]
    pub policy: Map<String, Value>,
    /// Free-form metadata.
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Map<String, Value>,
    /// Request rate limit, if one is set.
    #[serde(default)]
    pub rate_limit_per_minute: Option<u64>,
    /// Record version, incremented on each update.
    pub version: u64,
    /// Creation time.
    #[serde(with = "timestamp")]
    pub created_at: DateTime<Utc>,
    /// Last use, if any.
    #[serde(default, with = "timestamp_option")]
    pub last_used_at: Option<DateTime<Utc>>,
    /// Parent agent, for a sub-agent.
    #[serde(default)]
    pub parent_agent_id: Option<Uuid>,
}

/// Result of `POST /sdk/agents`: the new agent plus its first key, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCreateResult {
    /// The agent record (flattened into the same JSON object).
    #[serde(flatten)]
    pub agent: AgentInfo,
    /// The plaintext key. The wire key is required; it is `null` on an idempotent replay, when
    /// the key was already shown.
    #[serde(deserialize_with = "required_non_empty_secret_option")]
    pub api_key: Option<Secret>,
    /// Id of that key.
    pub key_id: Uuid,
}

/// An agent key (never the key itself, only its metadata).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentKey {
    /// Key id.
    pub key_id: Uuid,
    /// First characters of the key, for recognising it.
    #[serde(deserialize_with = "non_empty_string")]
    pub key_prefix: String,
    /// Key name (for example `<agent>-<n>`).
    #[serde(deserialize_with = "non_empty_string")]
    pub name: String,
    /// Creation time.
    #[serde(with = "timestamp")]
    pub created_at: DateTime<Utc>,
    /// When the key was deprecated, if it was.
    #[serde(default, with = "timestamp_option")]
    pub deprecated_at: Option<DateTime<Utc>>,
    /// When the key was revoked, if it was.
    #[serde(default, with = "timestamp_option")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Last use, if any.
    #[serde(default, with = "timestamp_option")]
    pub last_used_at: Option<DateTime<Utc>>,
}

impl AgentKey {
    /// Revoked if `revoked_at` is set, else deprecated if `deprecated_at` is set, else active.
    pub fn status(&self) -> AgentKeyStatus {
        if self.revoked_at.is_some() {
            AgentKeyStatus::Revoked
        } else if self.deprecated_at.is_some() {
            AgentKeyStatus::Deprecated
        } else {
            AgentKeyStatus::Active
        }
    }
}

/// Result of `POST /sdk/agents/{id}/keys`: the key's metadata plus the key, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentKeyMintResult {
    /// The key metadata (flattened into the same JSON object).
    #[serde(flatten)]
    pub key: AgentKey,
    /// The plaintext key; the wire key is required, its value non-empty when not `null`.
    #[serde(deserialize_with = "required_non_empty_secret_option")]
    pub api_key: Option<Secret>,
}

/// Page of agents (`GET /sdk/agents`). The wire key of the list is `items`; `agents` is also
/// accepted on input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentListResult {
    /// The agents on this page.
    #[serde(rename = "items", alias = "agents")]
    pub agents: Vec<AgentInfo>,
    /// Number of agents across all pages.
    pub total: u64,
    /// Page size used.
    pub limit: u64,
    /// Offset of this page.
    pub offset: u64,
    /// Whether another page follows.
    pub has_more: bool,
}

/// All keys of an agent (`GET /sdk/agents/{id}/keys`); not paginated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentKeyList {
    /// The keys.
    pub items: Vec<AgentKey>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn agent_json() -> Value {
        json!({
            "id": "3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c",
            "name": "support-bot",
            "display_name": "Support Bot",
            "type": "agent",
            "status": "active",
            "scopes": {"slack": ["chat:write"]},
            "scopes_pending": null,
            "scopes_applies_at": null,
            "policy": {"requires_approval": {"enabled": true, "approvers_count": 1}},
            "metadata": {"team": "support"},
            "rate_limit_per_minute": null,
            "version": 1,
            "created_at": "2026-01-01T00:00:00Z",
            "last_used_at": null,
            "parent_agent_id": null
        })
    }

    fn key_json() -> Value {
        json!({
            "key_id": "7a1e2b3c-4d5f-4a6b-8c9d-0e1f2a3b4c5d",
            "key_prefix": "alter_ak_x24xq",
            "name": "support-bot-1",
            "created_at": "2026-01-01T00:00:00Z",
            "deprecated_at": null,
            "revoked_at": null,
            "last_used_at": null
        })
    }

    #[test]
    fn agent_info_round_trips() {
        let agent: AgentInfo = serde_json::from_value(agent_json()).unwrap();
        assert_eq!(agent.agent_type, AgentType::Agent);
        assert_eq!(agent.scopes["slack"], ["chat:write"]);
        assert_eq!(serde_json::to_value(&agent).unwrap(), agent_json());
    }

    #[test]
    fn agent_info_defaults() {
        let agent: AgentInfo = serde_json::from_value(json!({
            "id": "3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c", "name": "n", "type": "service",
            "status": "inactive", "policy": null, "version": 2,
            "created_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        assert!(agent.scopes.is_empty() && agent.policy.is_empty() && agent.metadata.is_empty());
        assert_eq!(agent.parent_agent_id, None);

        let mut no_version = agent_json();
        no_version.as_object_mut().unwrap().remove("version");
        assert!(serde_json::from_value::<AgentInfo>(no_version).is_err());
    }

    #[test]
    fn create_result_keeps_the_key_out_of_debug() {
        let mut raw = agent_json();
        raw["api_key"] = json!("alter_ak_h7zd3jnahiy7y2mmgrfpgw_lk4noe");
        raw["key_id"] = json!("7a1e2b3c-4d5f-4a6b-8c9d-0e1f2a3b4c5d");

        let created: AgentCreateResult = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(created.agent.name, "support-bot");
        assert!(!format!("{created:?}").contains("h7zd3jnahiy7"));
        assert_eq!(serde_json::to_value(&created).unwrap(), raw);
    }

    #[test]
    fn create_result_api_key_rules() {
        let mut raw = agent_json();
        raw["key_id"] = json!("7a1e2b3c-4d5f-4a6b-8c9d-0e1f2a3b4c5d");

        // Missing key: refused. Null: an idempotent replay. Empty string: refused.
        assert!(serde_json::from_value::<AgentCreateResult>(raw.clone()).is_err());

        raw["api_key"] = Value::Null;
        let replay: AgentCreateResult = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(replay.api_key, None);

        raw["api_key"] = json!("");
        assert!(serde_json::from_value::<AgentCreateResult>(raw).is_err());
    }

    #[test]
    fn key_status_is_derived_from_timestamps() {
        let mut raw = key_json();
        let key: AgentKey = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(key.status(), AgentKeyStatus::Active);

        raw["deprecated_at"] = json!("2026-01-01T00:02:00Z");
        let key: AgentKey = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(key.status(), AgentKeyStatus::Deprecated);

        raw["revoked_at"] = json!("2026-01-01T00:03:00Z");
        let key: AgentKey = serde_json::from_value(raw).unwrap();
        assert_eq!(key.status(), AgentKeyStatus::Revoked);
    }

    #[test]
    fn key_prefix_and_name_must_not_be_empty() {
        for field in ["key_prefix", "name"] {
            let mut raw = key_json();
            raw[field] = json!("");
            assert!(serde_json::from_value::<AgentKey>(raw).is_err(), "{field}");
        }
    }

    #[test]
    fn mint_result_flattens_the_key() {
        let mut raw = key_json();
        raw["api_key"] = json!("alter_ak_secret");
        let minted: AgentKeyMintResult = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(minted.key.name, "support-bot-1");
        assert_eq!(
            minted.api_key.as_ref().unwrap().expose_secret(),
            "alter_ak_secret"
        );
        assert!(!format!("{minted:?}").contains("alter_ak_secret"));
        assert_eq!(serde_json::to_value(&minted).unwrap(), raw);
    }

    #[test]
    fn list_uses_items_on_the_wire_and_accepts_agents() {
        let wire = json!({"items": [agent_json()], "total": 1, "limit": 100, "offset": 0,
                          "has_more": false});
        let page: AgentListResult = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(page.agents.len(), 1);
        assert_eq!(serde_json::to_value(&page).unwrap(), wire);

        let renamed = json!({"agents": [], "total": 0, "limit": 100, "offset": 0,
                             "has_more": false});
        let page: AgentListResult = serde_json::from_value(renamed).unwrap();
        assert!(page.agents.is_empty());
    }

    #[test]
    fn key_list() {
        let list: AgentKeyList = serde_json::from_value(json!({"items": [key_json()]})).unwrap();
        assert_eq!(list.items[0].key_prefix, "alter_ak_x24xq");
    }
}

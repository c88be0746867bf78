//! Managed agents.

use alter_types::{AgentInfo, AgentStatus, AgentType};
use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde_json::{Map, Value};
use uuid::Uuid;

/// One managed agent.
#[derive(Clone, Debug)]
pub(crate) struct AgentRecord {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) display_name: Option<String>,
    pub(crate) agent_type: AgentType,
    pub(crate) status: AgentStatus,
    pub(crate) scopes: IndexMap<String, Vec<String>>,
    pub(crate) policy: Map<String, Value>,
    pub(crate) metadata: Map<String, Value>,
    pub(crate) version: u64,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) last_used_at: Option<DateTime<Utc>>,
    /// How many keys were minted for it, for key names `<agent>-<n>`.
    pub(crate) keys_minted: u32,
}

impl AgentRecord {
    /// A new active agent.
    pub(crate) fn new(id: Uuid, name: String, now: DateTime<Utc>) -> Self {
        Self {
            id,
            name,
            display_name: None,
            agent_type: AgentType::Agent,
            status: AgentStatus::Active,
            scopes: IndexMap::new(),
            policy: Map::new(),
            metadata: Map::new(),
            version: 1,
            created_at: now,
            last_used_at: None,
            keys_minted: 0,
        }
    }

    /// The next key name, `<agent>-<n>`.
    pub(crate) fn next_key_name(&mut self) -> String {
        self.keys_minted += 1;
        format!("{}-{}", self.name, self.keys_minted)
    }

    /// Whether the agent was deleted.
    pub(crate) fn is_revoked(&self) -> bool {
        self.status == AgentStatus::Revoked
    }

    /// The agent as `AgentInfo`.
    pub(crate) fn info(&self) -> AgentInfo {
        AgentInfo {
            id: self.id,
            name: self.name.clone(),
            display_name: self.display_name.clone(),
            agent_type: self.agent_type.clone(),
            status: self.status.clone(),
            scopes: self.scopes.clone(),
            scopes_pending: None,
            scopes_applies_at: None,
            policy: self.policy.clone(),
            metadata: self.metadata.clone(),
            rate_limit_per_minute: None,
            version: self.version,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            parent_agent_id: None,
        }
    }
}

/// Whether `new` keeps every provider scope of `old` (agent scopes may only broaden, §5.17).
pub(crate) fn only_broadens(
    old: &IndexMap<String, Vec<String>>,
    new: &IndexMap<String, Vec<String>>,
) -> bool {
    old.iter().all(|(provider, scopes)| {
        new.get(provider)
            .is_some_and(|kept| scopes.iter().all(|scope| kept.contains(scope)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &[&str])]) -> IndexMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
            .collect()
    }

    #[test]
    fn broadening_keeps_every_old_scope() {
        let old = map(&[("slack", &["chat:write"])]);
        assert!(only_broadens(
            &old,
            &map(&[("slack", &["chat:write", "chat:read"])])
        ));
        assert!(only_broadens(
            &old,
            &map(&[("slack", &["chat:write"]), ("github", &["repo"])])
        ));
        assert!(!only_broadens(&old, &map(&[("slack", &["chat:read"])])));
        assert!(!only_broadens(&old, &map(&[])));
    }

    #[test]
    fn key_names_count_up() {
        let mut agent = AgentRecord::new(Uuid::nil(), "bot".into(), Utc::now());
        assert_eq!(agent.next_key_name(), "bot-1");
        assert_eq!(agent.next_key_name(), "bot-2");
        assert_eq!(agent.info().name, "bot");
    }
}

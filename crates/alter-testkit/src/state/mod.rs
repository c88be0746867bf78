//! The fake backend's state: keys, agents, grants, approvals, sessions, users, and what was
//! recorded. One [`Store`] behind one mutex; no lock is held across an await.

pub(crate) mod access;
pub(crate) mod agents;
pub(crate) mod approvals;
pub(crate) mod grants;
pub(crate) mod ids;
pub(crate) mod keys;
pub(crate) mod seed;
pub(crate) mod sessions;
#[cfg(test)]
pub(crate) mod test_support;
pub(crate) mod users;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use uuid::Uuid;

use crate::errors::{Envelope, Failure, insufficient_scope};
use crate::faults::ArmedFault;
use crate::record::{AuditRecord, RecordedRequest, ScopeReport};

use agents::AgentRecord;
use approvals::Approval;
use grants::{GrantRecord, ManagedSecret};
use ids::Rng;
use keys::{KeyRecord, Owner};
use sessions::{AuthSessionRecord, ConnectSessionRecord};
use users::UserRecord;

/// Tunables fixed when the fake starts.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// Accepted distance between a request's timestamp and the fake's clock (§3.7).
    pub(crate) timestamp_window: Duration,
    /// How long a pending approval waits for a decision.
    pub(crate) approval_ttl: Duration,
    /// How long connect and auth sessions stay pending.
    pub(crate) session_ttl: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            timestamp_window: Duration::from_secs(300),
            approval_ttl: Duration::from_secs(900),
            session_ttl: Duration::from_secs(600),
        }
    }
}

/// The authenticated principal of a `/sdk/…` request.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    /// The key that signed the request.
    pub(crate) key_id: Uuid,
    /// Whom the key belongs to; the §1.4 restrictions follow the key.
    pub(crate) owner: Owner,
    /// The agent whose grants the request reaches: the key's agent, or the agent an app key
    /// names in `X-Alter-Caller` (impersonation, §8.5).
    pub(crate) acting_agent: Option<Uuid>,
    /// The scopes in force: the key's, narrowed by any scope constraints.
    pub(crate) scopes: Vec<String>,
    /// Whether the key is deprecated (still works, responses are marked).
    pub(crate) deprecated: bool,
    /// The `X-Alter-Actor-ID` to answer with.
    pub(crate) actor_id: Option<Uuid>,
}

impl Caller {
    /// Whether the key belongs to an agent (directly or as a key derived from one).
    pub(crate) fn is_agent_key(&self) -> bool {
        matches!(self.owner, Owner::Agent(_))
    }

    /// 403 `insufficient_scope` unless `scope` is in force.
    pub(crate) fn require(&self, scope: &str, envelope: Envelope) -> Result<(), Failure> {
        if self.scopes.iter().any(|held| held == scope) {
            return Ok(());
        }
        Err(insufficient_scope(scope, &self.scopes).envelope(envelope))
    }
}

/// Idempotency record of one `agents.create` (§2.4).
#[derive(Clone, Debug)]
pub(crate) struct IdempotentCreate {
    pub(crate) body: serde_json::Value,
    pub(crate) agent_id: Uuid,
    pub(crate) key_id: Uuid,
}

/// Ids of what the fake seeds at start.
#[derive(Clone, Debug)]
pub(crate) struct Seeded {
    pub(crate) app_key: String,
    pub(crate) app_key_id: Uuid,
    pub(crate) agent_key: String,
    pub(crate) agent_key_id: Uuid,
    pub(crate) agent_id: Uuid,
    pub(crate) managed_secret_id: String,
    pub(crate) user_token: String,
    pub(crate) grants: crate::handle::SeededGrants,
}

/// Everything the fake knows.
pub(crate) struct Store {
    pub(crate) settings: Settings,
    pub(crate) rng: Rng,
    pub(crate) keys: Vec<KeyRecord>,
    pub(crate) agents: Vec<AgentRecord>,
    pub(crate) grants: Vec<GrantRecord>,
    pub(crate) managed_secrets: Vec<ManagedSecret>,
    pub(crate) approvals: Vec<Approval>,
    pub(crate) connect_sessions: Vec<ConnectSessionRecord>,
    pub(crate) auth_sessions: Vec<AuthSessionRecord>,
    pub(crate) users: Vec<UserRecord>,
    pub(crate) idempotency: HashMap<String, IdempotentCreate>,
    /// Nonces seen, with the timestamp they came with.
    pub(crate) nonces: HashMap<String, u64>,
    /// The server second `nonces` was last pruned at.
    pub(crate) nonces_pruned_at: Option<u64>,
    pub(crate) actor_ids: HashMap<(Uuid, String, String), Uuid>,
    pub(crate) audit: Vec<AuditRecord>,
    pub(crate) scope_reports: Vec<ScopeReport>,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) faults: Vec<ArmedFault>,
    pub(crate) seeded: Option<Seeded>,
}

impl Store {
    /// An empty store.
    pub(crate) fn new(settings: Settings, rng: Rng) -> Self {
        Self {
            settings,
            rng,
            keys: Vec::new(),
            agents: Vec::new(),
            grants: Vec::new(),
            managed_secrets: Vec::new(),
            approvals: Vec::new(),
            connect_sessions: Vec::new(),
            auth_sessions: Vec::new(),
            users: Vec::new(),
            idempotency: HashMap::new(),
            nonces: HashMap::new(),
            nonces_pruned_at: None,
            actor_ids: HashMap::new(),
            audit: Vec::new(),
            scope_reports: Vec::new(),
            requests: Vec::new(),
            faults: Vec::new(),
            seeded: None,
        }
    }

    /// The agent with this id.
    pub(crate) fn agent(&self, id: Uuid) -> Option<&AgentRecord> {
        self.agents.iter().find(|agent| agent.id == id)
    }

    /// The agent with this id, for changes.
    pub(crate) fn agent_mut(&mut self, id: Uuid) -> Option<&mut AgentRecord> {
        self.agents.iter_mut().find(|agent| agent.id == id)
    }

    /// The key with this id.
    pub(crate) fn key(&self, id: Uuid) -> Option<&KeyRecord> {
        self.keys.iter().find(|key| key.id == id)
    }

    /// The key with this id, for changes.
    pub(crate) fn key_mut(&mut self, id: Uuid) -> Option<&mut KeyRecord> {
        self.keys.iter_mut().find(|key| key.id == id)
    }

    /// The seeded agent, which grants created without an owner default to.
    pub(crate) fn seeded_agent(&self) -> Option<Uuid> {
        self.seeded.as_ref().map(|seeded| seeded.agent_id)
    }
}

/// The store behind its mutex.
pub(crate) struct SharedStore(Mutex<Store>);

impl SharedStore {
    /// Wraps a store.
    pub(crate) fn new(store: Store) -> Self {
        Self(Mutex::new(store))
    }

    /// Locks the store. A panic while it was held leaves data that is still consistent
    /// enough for a test double, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The fake's clock, in whole seconds: every timestamp it writes then reads the same in
/// any client's parser, however many fractional digits that parser accepts.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// A `ts-str` timestamp: RFC 3339, UTC, whole seconds.
pub(crate) fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `now + duration`, saturating at the far future.
pub(crate) fn after(at: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(duration)
        .ok()
        .and_then(|delta| at.checked_add_signed(delta))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Parses a UUID in any RFC 4122 text form.
pub(crate) fn parse_uuid(text: &str) -> Option<Uuid> {
    Uuid::try_parse(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_names_the_missing_scope() {
        let caller = Caller {
            key_id: Uuid::nil(),
            owner: Owner::App,
            acting_agent: None,
            scopes: vec!["grants:read".into()],
            deprecated: false,
            actor_id: None,
        };
        assert!(caller.require("grants:read", Envelope::Detail).is_ok());
        let failure = caller
            .require("tokens:retrieve", Envelope::TopLevel)
            .unwrap_err();
        assert_eq!(
            (failure.status, failure.code()),
            (403, "insufficient_scope")
        );
        assert_eq!(failure.envelope, Envelope::TopLevel);
    }

    #[test]
    fn time_helpers() {
        let at = DateTime::parse_from_rfc3339("2026-01-01T00:00:00.5Z")
            .unwrap()
            .to_utc();
        assert_eq!(stamp(at), "2026-01-01T00:00:00Z");
        assert_eq!(
            stamp(after(at, Duration::from_secs(60))),
            "2026-01-01T00:01:00Z"
        );
        assert_eq!(after(at, Duration::MAX), DateTime::<Utc>::MAX_UTC);
        assert!(parse_uuid("not").is_none());
        assert_eq!(now().timestamp_subsec_nanos(), 0);
    }
}

//! The fifteen agent-domain error classes (PROTOCOL.md §4.5).

/// Which agent-domain class an [`Error::Agent`](crate::Error::Agent) belongs to.
///
/// The agents mapper picks the kind from the wire `error` code (and, for `key_revoked`, the
/// status). Every kind is a subclass of `AgentError` in the reference client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AgentErrorKind {
    /// `key_revoked` with status 409: the key was already revoked.
    KeyAlreadyRevoked,
    /// `invalid_key`: the key is not known or not valid.
    InvalidKey,
    /// `agent_not_found`.
    AgentNotFound,
    /// `agent_name_exists`: another agent already has this name.
    AgentNameExists,
    /// `me_requires_agent_key`: `me()` was called with an app key.
    MeRequiresAgentKey,
    /// `key_revoked` with any status but 409: the calling key is revoked.
    KeyRevoked,
    /// `key_not_found`.
    KeyNotFound,
    /// `last_active_key`: the agent's only active key cannot be revoked.
    LastActiveKey,
    /// `agent_inactive`.
    AgentInactive,
    /// `agent_revoked`.
    AgentRevoked,
    /// `idempotency_key_body_mismatch`: the idempotency key was reused with another body.
    IdempotencyKeyBodyMismatch,
    /// `idempotency_key_agent_revoked`: the agent created under this key was revoked since.
    IdempotencyKeyAgentRevoked,
    /// `idempotency_key_agent_inactive`: the agent created under this key is inactive.
    IdempotencyKeyAgentInactive,
    /// `agent_cannot_mint_subagents`: an agent key called an app-only agents route.
    AgentCannotMintSubagents,
    /// `narrowing_requires_phase_g`: an update tried to narrow an agent's scopes.
    AgentScopeNarrowingNotSupported,
}

impl AgentErrorKind {
    /// Every kind, in the order of the §4.5 lookup table.
    pub const ALL: [Self; 15] = [
        Self::KeyAlreadyRevoked,
        Self::InvalidKey,
        Self::AgentNotFound,
        Self::AgentNameExists,
        Self::MeRequiresAgentKey,
        Self::KeyRevoked,
        Self::KeyNotFound,
        Self::LastActiveKey,
        Self::AgentInactive,
        Self::AgentRevoked,
        Self::IdempotencyKeyBodyMismatch,
        Self::IdempotencyKeyAgentRevoked,
        Self::IdempotencyKeyAgentInactive,
        Self::AgentCannotMintSubagents,
        Self::AgentScopeNarrowingNotSupported,
    ];

    /// The kind the agents mapper raises for this wire code and status, if any.
    ///
    /// The status matters only for `key_revoked`: 409 means the key was already revoked.
    ///
    /// ```
    /// use alter_core::error::AgentErrorKind;
    ///
    /// assert_eq!(AgentErrorKind::from_wire("key_revoked", 409), Some(AgentErrorKind::KeyAlreadyRevoked));
    /// assert_eq!(AgentErrorKind::from_wire("key_revoked", 401), Some(AgentErrorKind::KeyRevoked));
    /// assert_eq!(AgentErrorKind::from_wire("insufficient_scope", 403), None);
    /// ```
    pub fn from_wire(code: &str, status: u16) -> Option<Self> {
        if code == "key_revoked" && status == 409 {
            return Some(Self::KeyAlreadyRevoked);
        }

        Self::ALL
            .into_iter()
            .filter(|kind| *kind != Self::KeyAlreadyRevoked)
            .find(|kind| kind.wire_code() == code)
    }

    /// The wire `error` code of this kind.
    pub fn wire_code(self) -> &'static str {
        match self {
            Self::KeyAlreadyRevoked | Self::KeyRevoked => "key_revoked",
            Self::InvalidKey => "invalid_key",
            Self::AgentNotFound => "agent_not_found",
            Self::AgentNameExists => "agent_name_exists",
            Self::MeRequiresAgentKey => "me_requires_agent_key",
            Self::KeyNotFound => "key_not_found",
            Self::LastActiveKey => "last_active_key",
            Self::AgentInactive => "agent_inactive",
            Self::AgentRevoked => "agent_revoked",
            Self::IdempotencyKeyBodyMismatch => "idempotency_key_body_mismatch",
            Self::IdempotencyKeyAgentRevoked => "idempotency_key_agent_revoked",
            Self::IdempotencyKeyAgentInactive => "idempotency_key_agent_inactive",
            Self::AgentCannotMintSubagents => "agent_cannot_mint_subagents",
            Self::AgentScopeNarrowingNotSupported => "narrowing_requires_phase_g",
        }
    }

    /// The reference client's class name for this kind.
    pub fn class_name(self) -> &'static str {
        match self {
            Self::KeyAlreadyRevoked => "KeyAlreadyRevokedError",
            Self::InvalidKey => "InvalidKeyError",
            Self::AgentNotFound => "AgentNotFoundError",
            Self::AgentNameExists => "AgentNameExistsError",
            Self::MeRequiresAgentKey => "MeRequiresAgentKeyError",
            Self::KeyRevoked => "KeyRevokedError",
            Self::KeyNotFound => "KeyNotFoundError",
            Self::LastActiveKey => "LastActiveKeyError",
            Self::AgentInactive => "AgentInactiveError",
            Self::AgentRevoked => "AgentRevokedError",
            Self::IdempotencyKeyBodyMismatch => "IdempotencyKeyBodyMismatchError",
            Self::IdempotencyKeyAgentRevoked => "IdempotencyKeyAgentRevokedError",
            Self::IdempotencyKeyAgentInactive => "IdempotencyKeyAgentInactiveError",
            Self::AgentCannotMintSubagents => "AgentCannotMintSubagentsError",
            Self::AgentScopeNarrowingNotSupported => "AgentScopeNarrowingNotSupportedError",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_found_from_its_own_wire_code() {
        for kind in AgentErrorKind::ALL {
            let status = if kind == AgentErrorKind::KeyAlreadyRevoked {
                409
            } else {
                400
            };

            assert_eq!(
                AgentErrorKind::from_wire(kind.wire_code(), status),
                Some(kind)
            );
        }
    }

    #[test]
    fn class_names_are_distinct_and_end_in_error() {
        let mut names: Vec<&str> = AgentErrorKind::ALL.iter().map(|k| k.class_name()).collect();
        names.sort_unstable();
        names.dedup();

        assert_eq!(names.len(), 15);
        assert!(names.iter().all(|name| name.ends_with("Error")));
    }

    #[test]
    fn key_revoked_depends_on_the_status() {
        assert_eq!(
            AgentErrorKind::from_wire("key_revoked", 409),
            Some(AgentErrorKind::KeyAlreadyRevoked)
        );
        assert_eq!(
            AgentErrorKind::from_wire("key_revoked", 403),
            Some(AgentErrorKind::KeyRevoked)
        );
        assert_eq!(AgentErrorKind::from_wire("", 409), None);
        assert_eq!(AgentErrorKind::from_wire("Agent_Not_Found", 404), None);
    }
}

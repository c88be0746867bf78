//! Data model of the Alter Vault SDK.
//!
//! Every value that crosses the wire between an SDK client and the Alter Vault backend has a
//! type here: the string enums (providers, HTTP methods, statuses), the principals and grant
//! policies sent when creating grants, and the results of every endpoint (tokens, grants,
//! connect and sign-in sessions, approvals, agents, keys, scopes), plus the audit row and the
//! retry report. The crate is serde only: it does no IO, no HTTP and nothing async.
//!
//! Conventions, all following PROTOCOL.md:
//!
//! - Response types ignore fields they do not know, so a newer backend does not break parsing.
//!   Values the protocol marks optional read as `None` when absent; fields with a default
//!   (`[]`, `{}`, `false`) take it when absent or `null`.
//! - String enums keep values they do not know in an `Unknown` (or `Other`) variant and write
//!   them back unchanged.
//! - Timestamps the spec types `ts` are [`chrono::DateTime<Utc>`](chrono::DateTime); those it
//!   types `ts-str` stay `String`, exactly as sent.
//! - Credentials are [`Secret`]s: their `Debug` output is `Secret(<redacted>)`.
//! - Input values (principals, grant policies) check their limits when built and return a
//!   [`ValidationError`].
//!
//! # Example
//!
//! ```
//! use alter_types::{ApprovalStatusValue, GrantPolicyInput, PendingApproval, Principal};
//!
//! // Request side: the exact bytes of PROTOCOL §8.1 and §8.2.
//! let principal = Principal::user("eyJhbGciOi.payload.signature", "jane-stripe")?;
//! let policy = GrantPolicyInput::new().with_max_ttl_seconds(3600)?;
//! let body = serde_json::json!({"principal": principal, "grant_policy": policy});
//! assert_eq!(
//!     body.to_string(),
//!     r#"{"principal":{"type":"user","user_token":"eyJhbGciOi.payload.signature","label":"jane-stripe"},"grant_policy":{"max_ttl_seconds":3600}}"#
//! );
//! // The token never shows in debug output.
//! assert!(!format!("{principal:?}").contains("eyJhbGciOi"));
//!
//! // Response side: a proxied call that waits for a human decision.
//! let pending: PendingApproval = serde_json::from_str(
//!     r#"{"approval_id":"c0ffee00-1234-4567-89ab-cdef01234567","status":"pending",
//!         "expires_at":"2026-01-01T00:15:00Z","expires_in":900,
//!         "approval_url":"https://app.example/approvals/c0ffee00","new_field":true}"#,
//! )?;
//! assert_eq!(pending.status, ApprovalStatusValue::Pending);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[macro_use]
mod wire_enum;

mod agents;
mod approvals;
mod audit;
mod auth;
mod connect;
mod enums;
mod grant_policy;
mod grants;
mod keys;
mod principal;
mod provider;
mod retry;
mod scopes;
mod secret;
mod serde_util;
mod token;
mod validation;

pub use agents::{
    AgentCreateResult, AgentInfo, AgentKey, AgentKeyList, AgentKeyMintResult, AgentListResult,
};
pub use approvals::{ApprovalResult, ApprovalStatus, BodyDecodeError, PendingApproval};
pub use audit::ApiCallAuditLog;
pub use auth::{AuthPollResponse, AuthResult, AuthSession};
pub use connect::{
    ConnectPollError, ConnectPollResponse, ConnectResult, ConnectSession,
    ManagedSecretConnectSession,
};
pub use enums::{
    AgentKeyStatus, AgentStatus, AgentType, ApiKeyStatus, ApprovalStatusValue, AuthPollStatus,
    CallerType, ConnectPollStatus, GrantKind, HttpMethod, InjectionTarget, KeyType, PrincipalType,
};
pub use grant_policy::{GrantPolicy, GrantPolicyInput};
pub use grants::{
    CreateGrantResult, GrantInfo, GrantItem, GrantListResult, ManagedSecretGrantItem,
    OAuthGrantItem, RevokeGrantResult, UnifiedGrantListResult,
};
pub use keys::{ApiKeyInfo, MintedKey};
pub use principal::Principal;
pub use provider::Provider;
pub use retry::{RetryErrorInfo, RetryInfo};
pub use scopes::{ScopeCatalog, ScopeResource};
pub use secret::Secret;
pub use token::{
    AdditionalInjection, DEFAULT_INJECTION_FORMAT, DEFAULT_INJECTION_HEADER, TokenResponse,
};
pub use validation::ValidationError;

/// Re-exported so callers can name the id type of [`AgentInfo::id`] and friends without adding
/// the `uuid` crate themselves.
pub use uuid::Uuid;

//! The boxed payloads of the error variants: what each class keeps beyond its message.

use std::fmt;

use super::Details;

/// What the backend said in an error answer.
///
/// Every variant built from a backend error answer keeps one, so the status, the wire code
/// and the backend's own message and details are always at hand.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// HTTP status of the answer.
    pub status: u16,
    /// The wire error code (`error` field), when there was one.
    pub code: Option<String>,
    /// Human-readable message: the backend's own, or a default naming the status.
    pub message: String,
    /// The parsed error body (after unwrapping a `detail` envelope) or, for the classes that
    /// keep only the nested object, the body's `details`.
    pub details: Details,
}

impl ApiError {
    /// An answer with this status, code, message and details.
    pub fn new(
        status: u16,
        code: Option<String>,
        message: impl Into<String>,
        details: Details,
    ) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details,
        }
    }
}

/// The grant a `CredentialRevokedError` names (fields kept only when the backend sent strings).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GrantRef {
    /// The revoked grant.
    pub grant_id: Option<String>,
    /// Its provider.
    pub provider_id: Option<String>,
    /// The end user the grant belonged to.
    pub app_user_id: Option<String>,
}

/// What was looked up when no grant matched (`GrantNotFoundError`, `NoDelegatedGrantError`).
///
/// Enough to open a connect session for the missing grant. Fields are kept only when the
/// backend sent strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GrantLookup {
    /// The provider asked for.
    pub provider_id: Option<String>,
    /// The agent that asked.
    pub agent_id: Option<String>,
    /// The end user asked for.
    pub app_user_id: Option<String>,
}

/// The candidates of an `AmbiguousGrantError`: more than one grant matched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GrantCandidates {
    /// The provider asked for.
    pub provider_id: Option<String>,
    /// Account identifiers of the matching grants (string items only).
    pub account_identifiers: Vec<String>,
    /// Whether the caller already named an account (true only for a JSON `true`).
    pub account_was_provided: bool,
    /// End users of the matching grants (string items only).
    pub app_user_ids: Vec<String>,
    /// Ids of the matching grants (string items only).
    pub grant_ids: Vec<String>,
}

/// What an `InsufficientScopeError` reports about the API key's scopes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeRequirement {
    /// Scopes the call needs (the reference client also calls them `required_scopes`).
    pub required: Vec<String>,
    /// Scopes the key has (also `granted_scopes`).
    pub granted: Vec<String>,
    /// Scopes the key lacks.
    pub missing: Vec<String>,
    /// Scope version the key was issued under.
    pub scope_version: Option<i64>,
    /// Scope version the backend runs now.
    pub current_scope_version: Option<i64>,
    /// Whether the two versions differ (true only for a JSON `true`).
    pub scope_version_mismatch: bool,
    /// Where the scopes are documented (also `docs_url`).
    pub documentation_url: Option<String>,
}

/// A failure reported by a provider (`ProviderAPIError`, `ScopeReauthRequiredError`).
///
/// Debug output shows the length of `response_body`, never its text: a provider body may
/// carry personal data.
#[derive(Clone, Default, PartialEq)]
pub struct ProviderFailure {
    /// Human-readable message.
    pub message: String,
    /// The provider's HTTP status (403 for a backend `scope_mismatch`).
    pub status_code: Option<u16>,
    /// The provider's body, reduced by the audit rules (PROTOCOL.md §6.8).
    pub response_body: Option<String>,
    /// Context: grant, provider, method, URL and where the failure was detected.
    pub details: Details,
    /// The grant used (scope re-authorization only).
    pub grant_id: Option<String>,
    /// The provider (scope re-authorization only).
    pub provider_id: Option<String>,
    /// Scopes the provider said were missing (scope re-authorization only).
    pub missing_scopes: Option<Vec<String>>,
    /// The backend's error code when the backend reported the failure (a 403
    /// `scope_mismatch`); `None` when the provider answered it.
    pub code: Option<String>,
}

impl fmt::Debug for ProviderFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderFailure")
            .field("message", &self.message)
            .field("status_code", &self.status_code)
            .field(
                "response_body_len",
                &self.response_body.as_ref().map(String::len),
            )
            .field("details", &self.details)
            .field("grant_id", &self.grant_id)
            .field("provider_id", &self.provider_id)
            .field("missing_scopes", &self.missing_scopes)
            .field("code", &self.code)
            .finish()
    }
}

/// The approval an `ApprovalError` is about.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApprovalFailure {
    /// Human-readable message.
    pub message: String,
    /// The approval, when known (errors mapped from `/sdk/proxy` have none).
    pub approval_id: Option<String>,
    /// `{"approval_id": …}` when the approval is known, else empty.
    pub details: Details,
}

impl ApprovalFailure {
    /// A failure with this message about this approval; the details name the approval.
    pub fn new(message: impl Into<String>, approval_id: Option<String>) -> Self {
        let mut details = Details::new();
        if let Some(id) = &approval_id {
            details.insert("approval_id".into(), id.clone().into());
        }

        Self {
            message: message.into(),
            approval_id,
            details,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_failure_debug_hides_the_body() {
        let failure = ProviderFailure {
            message: "Provider API returned error 500".into(),
            response_body: Some("{\"email\":\"someone@example.com\"}".into()),
            ..ProviderFailure::default()
        };

        let shown = format!("{failure:?}");

        assert!(!shown.contains("someone@example.com"));
        assert!(shown.contains("response_body_len: Some(31)"));
    }

    #[test]
    fn approval_failure_names_the_approval_in_its_details() {
        let known = ApprovalFailure::new("denied", Some("a-1".into()));
        let unknown = ApprovalFailure::new("denied", None);

        assert_eq!(known.details.get("approval_id"), Some(&"a-1".into()));
        assert!(unknown.details.is_empty());
    }
}

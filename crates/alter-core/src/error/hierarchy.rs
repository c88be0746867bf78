//! Where each variant sits in the reference client's class hierarchy (PROTOCOL.md §4.8).

use super::Error;

/// The family an [`Error`] belongs to: the most specific intermediate class of the
/// reference hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCategory {
    /// `AlterSDKError` itself: client-side failures, including a closed client.
    Client,
    /// `AlterValueError`: input rejected before IO.
    InvalidInput,
    /// `BackendError` and its direct subclasses other than the two families below.
    Backend,
    /// `ReAuthRequiredError` and its subclasses.
    ReAuthRequired,
    /// `AgentError` subclasses.
    Agent,
    /// `ConnectFlowError` and its subclasses.
    ConnectFlow,
    /// `ProviderAPIError` and its subclass.
    ProviderApi,
    /// `NetworkError` and `TimeoutError`.
    Network,
    /// `ApprovalError` subclasses.
    Approval,
}

const UNDER_ROOT: &[&str] = &[];
const UNDER_SDK: &[&str] = &["AlterSDKError"];
const UNDER_BACKEND: &[&str] = &["BackendError", "AlterSDKError"];
const UNDER_REAUTH: &[&str] = &["ReAuthRequiredError", "BackendError", "AlterSDKError"];
const UNDER_AGENT: &[&str] = &["AgentError", "BackendError", "AlterSDKError"];
const UNDER_CONNECT: &[&str] = &["ConnectFlowError", "AlterSDKError"];
const UNDER_PROVIDER: &[&str] = &["ProviderAPIError", "AlterSDKError"];
const UNDER_NETWORK: &[&str] = &["NetworkError", "AlterSDKError"];
const UNDER_APPROVAL: &[&str] = &["ApprovalError", "AlterSDKError"];

impl Error {
    /// The reference client's class name, such as `"GrantNotFoundError"`.
    pub fn class_name(&self) -> &'static str {
        match self {
            Self::Sdk { .. } | Self::Closed => "AlterSDKError",
            Self::InvalidInput { .. } => "AlterValueError",
            Self::Backend { .. } | Self::MalformedResponse { .. } => "BackendError",
            Self::ReAuthRequired { .. } => "ReAuthRequiredError",
            Self::GrantExpired { .. } => "GrantExpiredError",
            Self::GrantRevoked { .. } => "GrantRevokedError",
            Self::CredentialRevoked { .. } => "CredentialRevokedError",
            Self::GrantDeleted { .. } => "GrantDeletedError",
            Self::GrantNotFound { .. } => "GrantNotFoundError",
            Self::AmbiguousGrant { .. } => "AmbiguousGrantError",
            Self::NoDelegatedGrant { .. } => "NoDelegatedGrantError",
            Self::PolicyViolation { .. } => "PolicyViolationError",
            Self::InsufficientScope { .. } => "InsufficientScopeError",
            Self::TokenRefreshInProgress { .. } => "TokenRefreshInProgressError",
            Self::Agent { kind, .. } => kind.class_name(),
            Self::ConnectFlow { .. } => "ConnectFlowError",
            Self::ConnectDenied { .. } => "ConnectDeniedError",
            Self::ConnectConfig { .. } => "ConnectConfigError",
            Self::ConnectTimeout { .. } => "ConnectTimeoutError",
            Self::ProviderApi { .. } => "ProviderAPIError",
            Self::ScopeReauthRequired { .. } => "ScopeReauthRequiredError",
            Self::Network { .. } => "NetworkError",
            Self::Timeout { .. } => "TimeoutError",
            Self::ApprovalDenied { .. } => "ApprovalDeniedError",
            Self::ApprovalExpired { .. } => "ApprovalExpiredError",
            Self::ApprovalExecutionFailed { .. } => "ApprovalExecutionFailedError",
            Self::ApprovalTimeout { .. } => "ApprovalTimeoutError",
        }
    }

    /// The reference class's parents, nearest first, up to `AlterSDKError` (the class itself
    /// and Python's built-in bases are left out).
    ///
    /// ```
    /// use alter_core::error::{ApiError, Details, Error};
    ///
    /// let api = ApiError::new(403, Some("grant_expired".into()), "expired", Details::new());
    /// let error = Error::GrantExpired { api: Box::new(api) };
    ///
    /// assert_eq!(error.ancestors(), ["ReAuthRequiredError", "BackendError", "AlterSDKError"]);
    /// ```
    pub fn ancestors(&self) -> &'static [&'static str] {
        match self {
            Self::Sdk { .. } | Self::Closed => UNDER_ROOT,
            Self::ReAuthRequired { .. } | Self::GrantNotFound { .. } => UNDER_BACKEND,
            Self::AmbiguousGrant { .. } | Self::NoDelegatedGrant { .. } => UNDER_BACKEND,
            Self::PolicyViolation { .. } | Self::InsufficientScope { .. } => UNDER_BACKEND,
            Self::TokenRefreshInProgress { .. } => UNDER_BACKEND,
            Self::GrantExpired { .. } | Self::GrantRevoked { .. } => UNDER_REAUTH,
            Self::CredentialRevoked { .. } | Self::GrantDeleted { .. } => UNDER_REAUTH,
            Self::Agent { .. } => UNDER_AGENT,
            Self::ConnectDenied { .. } | Self::ConnectConfig { .. } => UNDER_CONNECT,
            Self::ConnectTimeout { .. } => UNDER_CONNECT,
            Self::ScopeReauthRequired { .. } => UNDER_PROVIDER,
            Self::Timeout { .. } => UNDER_NETWORK,
            Self::ApprovalDenied { .. } | Self::ApprovalExpired { .. } => UNDER_APPROVAL,
            Self::ApprovalExecutionFailed { .. } | Self::ApprovalTimeout { .. } => UNDER_APPROVAL,
            Self::InvalidInput { .. }
            | Self::Backend { .. }
            | Self::MalformedResponse { .. }
            | Self::ConnectFlow { .. }
            | Self::ProviderApi { .. }
            | Self::Network { .. } => UNDER_SDK,
        }
    }

    /// The family of the error.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Self::Sdk { .. } | Self::Closed => ErrorCategory::Client,
            Self::InvalidInput { .. } => ErrorCategory::InvalidInput,
            Self::ReAuthRequired { .. }
            | Self::GrantExpired { .. }
            | Self::GrantRevoked { .. }
            | Self::CredentialRevoked { .. }
            | Self::GrantDeleted { .. } => ErrorCategory::ReAuthRequired,
            Self::Backend { .. }
            | Self::MalformedResponse { .. }
            | Self::GrantNotFound { .. }
            | Self::AmbiguousGrant { .. }
            | Self::NoDelegatedGrant { .. }
            | Self::PolicyViolation { .. }
            | Self::InsufficientScope { .. }
            | Self::TokenRefreshInProgress { .. } => ErrorCategory::Backend,
            Self::Agent { .. } => ErrorCategory::Agent,
            Self::ConnectFlow { .. }
            | Self::ConnectDenied { .. }
            | Self::ConnectConfig { .. }
            | Self::ConnectTimeout { .. } => ErrorCategory::ConnectFlow,
            Self::ProviderApi { .. } | Self::ScopeReauthRequired { .. } => {
                ErrorCategory::ProviderApi
            }
            Self::Network { .. } | Self::Timeout { .. } => ErrorCategory::Network,
            Self::ApprovalDenied { .. }
            | Self::ApprovalExpired { .. }
            | Self::ApprovalExecutionFailed { .. }
            | Self::ApprovalTimeout { .. } => ErrorCategory::Approval,
        }
    }

    /// Whether the class is `BackendError` or one of its subclasses.
    pub fn is_backend(&self) -> bool {
        matches!(
            self.category(),
            ErrorCategory::Backend | ErrorCategory::ReAuthRequired | ErrorCategory::Agent
        )
    }

    /// Whether the class is `ReAuthRequiredError` or one of its subclasses.
    pub fn is_reauth_required(&self) -> bool {
        self.category() == ErrorCategory::ReAuthRequired
    }

    /// Whether the class is one of the `AgentError` subclasses.
    pub fn is_agent_error(&self) -> bool {
        self.category() == ErrorCategory::Agent
    }

    /// Whether the class is one of the `ApprovalError` subclasses.
    pub fn is_approval_error(&self) -> bool {
        self.category() == ErrorCategory::Approval
    }

    /// Whether the class is `ConnectFlowError` or one of its subclasses.
    pub fn is_connect_flow(&self) -> bool {
        self.category() == ErrorCategory::ConnectFlow
    }

    /// Whether the class is `ProviderAPIError` or its subclass.
    pub fn is_provider_api(&self) -> bool {
        self.category() == ErrorCategory::ProviderApi
    }

    /// Whether the class is `NetworkError`, which includes `TimeoutError`.
    pub fn is_network(&self) -> bool {
        self.category() == ErrorCategory::Network
    }

    /// Whether the class is `TimeoutError` (a transport timeout; flow deadlines are
    /// `ConnectTimeout` and `ApprovalTimeout`).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// Whether the class is `AlterValueError`.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Self::InvalidInput { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::samples::every_variant;

    #[test]
    fn class_names_and_ancestors_follow_the_reference_hierarchy() {
        let cases: &[(&str, &[&str])] = &[
            ("AlterSDKError", &[]),
            ("AlterValueError", &["AlterSDKError"]),
            ("BackendError", &["AlterSDKError"]),
            ("ReAuthRequiredError", &["BackendError", "AlterSDKError"]),
            (
                "GrantExpiredError",
                &["ReAuthRequiredError", "BackendError", "AlterSDKError"],
            ),
            (
                "GrantRevokedError",
                &["ReAuthRequiredError", "BackendError", "AlterSDKError"],
            ),
            (
                "CredentialRevokedError",
                &["ReAuthRequiredError", "BackendError", "AlterSDKError"],
            ),
            (
                "GrantDeletedError",
                &["ReAuthRequiredError", "BackendError", "AlterSDKError"],
            ),
            ("GrantNotFoundError", &["BackendError", "AlterSDKError"]),
            ("AmbiguousGrantError", &["BackendError", "AlterSDKError"]),
            ("NoDelegatedGrantError", &["BackendError", "AlterSDKError"]),
            ("PolicyViolationError", &["BackendError", "AlterSDKError"]),
            ("InsufficientScopeError", &["BackendError", "AlterSDKError"]),
            (
                "TokenRefreshInProgressError",
                &["BackendError", "AlterSDKError"],
            ),
            ("ConnectFlowError", &["AlterSDKError"]),
            ("ConnectDeniedError", &["ConnectFlowError", "AlterSDKError"]),
            ("ConnectConfigError", &["ConnectFlowError", "AlterSDKError"]),
            (
                "ConnectTimeoutError",
                &["ConnectFlowError", "AlterSDKError"],
            ),
            ("ProviderAPIError", &["AlterSDKError"]),
            (
                "ScopeReauthRequiredError",
                &["ProviderAPIError", "AlterSDKError"],
            ),
            ("NetworkError", &["AlterSDKError"]),
            ("TimeoutError", &["NetworkError", "AlterSDKError"]),
            ("ApprovalDeniedError", &["ApprovalError", "AlterSDKError"]),
            ("ApprovalExpiredError", &["ApprovalError", "AlterSDKError"]),
            (
                "ApprovalExecutionFailedError",
                &["ApprovalError", "AlterSDKError"],
            ),
            ("ApprovalTimeoutError", &["ApprovalError", "AlterSDKError"]),
            (
                "AgentNotFoundError",
                &["AgentError", "BackendError", "AlterSDKError"],
            ),
        ];

        let all = every_variant();
        for (class, ancestors) in cases {
            let error = all.iter().find(|e| e.class_name() == *class).expect(class);
            assert_eq!(error.ancestors(), *ancestors, "{class}");
        }
        for error in all.iter().filter(|e| e.is_agent_error()) {
            assert_eq!(error.ancestors(), UNDER_AGENT);
        }
    }

    #[test]
    fn predicates_agree_with_the_ancestors() {
        for error in every_variant() {
            let is =
                |class: &str| error.class_name() == class || error.ancestors().contains(&class);

            assert_eq!(
                error.is_backend(),
                is("BackendError"),
                "{}",
                error.class_name()
            );
            assert_eq!(error.is_reauth_required(), is("ReAuthRequiredError"));
            assert_eq!(error.is_agent_error(), is("AgentError"));
            assert_eq!(error.is_approval_error(), is("ApprovalError"));
            assert_eq!(error.is_connect_flow(), is("ConnectFlowError"));
            assert_eq!(error.is_provider_api(), is("ProviderAPIError"));
            assert_eq!(error.is_network(), is("NetworkError"));
            assert_eq!(error.is_timeout(), is("TimeoutError"));
            assert_eq!(error.is_invalid_input(), is("AlterValueError"));
            assert_eq!(
                error.api().is_some(),
                error.is_backend() && !matches!(error, Error::MalformedResponse { .. })
            );
        }
    }
}

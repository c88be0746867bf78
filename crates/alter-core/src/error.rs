//! The error family of the SDK.
//!
//! [`Error`] has one variant per class of the reference client's catalogue (PROTOCOL.md
//! §4.8), named after the class without its `Error` suffix. [`Error::class_name`] and
//! [`Error::ancestors`] give the reference class and its parents, so code ported from the
//! Python SDK can keep catching by class, and the `is_*` predicates answer the same
//! questions for the intermediate classes (`BackendError`, `ReAuthRequiredError`, …).
//!
//! Every variant's documentation says whether the request may have reached the server, and
//! [`Error::may_have_reached_server`] answers it at run time: an operation that is not
//! idempotent must not be re-sent after an error that says it may have.
//!
//! Display is one lowercase line about this layer only; the backend's message is included,
//! its details and bodies never are (read them with [`Error::details`]).
//!
//! ```
//! use alter_core::error::{ApiError, Details, Error};
//!
//! let error = Error::backend(ApiError::new(503, None, "Backend error 503", Details::new()));
//!
//! assert_eq!(error.class_name(), "BackendError");
//! assert_eq!(error.ancestors(), ["AlterSDKError"]);
//! assert!(error.is_transient());
//! assert_eq!(error.to_string(), "backend error (status 503): Backend error 503");
//! ```

mod agent;
mod hierarchy;
mod payload;
#[cfg(test)]
mod samples;
mod scrub;

pub use agent::AgentErrorKind;
pub use hierarchy::ErrorCategory;
pub use payload::{
    ApiError, ApprovalFailure, GrantCandidates, GrantLookup, GrantRef, ProviderFailure,
    ScopeRequirement,
};

use crate::io::{TransportError, TransportErrorKind};

/// A JSON object carried as error details.
pub type Details = serde_json::Map<String, serde_json::Value>;

/// The result type of the SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error the SDK returns.
///
/// Payloads are boxed so that `Result<T, Error>` stays small.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `AlterSDKError`: a client-side failure that fits no narrower class (bad constructor
    /// input, a failed auth flow). It may come before or after IO, so it may have reached
    /// the server.
    #[error("sdk error: {message}")]
    Sdk {
        /// What went wrong.
        message: String,
    },

    /// `AlterValueError`: caller input rejected before any IO. Nothing was sent.
    #[error("invalid input: {message}")]
    InvalidInput {
        /// What was wrong with the input.
        message: String,
    },

    /// `AlterSDKError` "client is closed": the client was used after `close()`. Nothing
    /// was sent.
    #[error("client is closed")]
    Closed,

    /// `BackendError`: a backend error answer not otherwise typed. The server answered.
    #[error("backend error (status {}): {}", .api.status, .api.message)]
    Backend {
        /// The answer.
        api: Box<ApiError>,
    },

    /// `BackendError`: a success answer whose body could not be read. The request was
    /// executed by the server.
    #[error("malformed response (status {status}): {message}")]
    MalformedResponse {
        /// HTTP status of the answer.
        status: u16,
        /// What could not be read (never the body itself).
        message: String,
    },

    /// `ReAuthRequiredError`: the end user's token was rejected (401
    /// `jwt_validation_error`); sign the user in again. The server answered.
    #[error("re-authentication required: {}", .api.message)]
    ReAuthRequired {
        /// The answer.
        api: Box<ApiError>,
    },

    /// `GrantExpiredError`: the grant expired (403 `grant_expired`); the user must
    /// reconnect. The server answered; `api.details` is the body's nested `details`.
    #[error("grant expired: {}", .api.message)]
    GrantExpired {
        /// The answer.
        api: Box<ApiError>,
    },

    /// `GrantRevokedError`: the grant was revoked (403, 400 or 502 `grant_revoked`). The
    /// server answered.
    #[error("grant revoked: {}", .api.message)]
    GrantRevoked {
        /// The answer.
        api: Box<ApiError>,
        /// The revoked grant, when the backend named it.
        grant_id: Option<String>,
    },

    /// `CredentialRevokedError`: the credential behind the grant was revoked (403, 400 or
    /// 502 `credential_revoked`). The server answered.
    #[error("credential revoked: {}", .api.message)]
    CredentialRevoked {
        /// The answer.
        api: Box<ApiError>,
        /// The grant concerned.
        grant: Box<GrantRef>,
    },

    /// `GrantDeletedError`: the grant no longer exists (any 410). The server answered.
    #[error("grant deleted: {}", .api.message)]
    GrantDeleted {
        /// The answer.
        api: Box<ApiError>,
    },

    /// `GrantNotFoundError`: no grant matched (404 other than `no_delegated_grant`). The
    /// server answered.
    #[error("grant not found: {}", .api.message)]
    GrantNotFound {
        /// The answer.
        api: Box<ApiError>,
        /// What was looked up.
        lookup: Box<GrantLookup>,
    },

    /// `AmbiguousGrantError`: several grants matched (409 `ambiguous_grant`); name the
    /// account. The server answered.
    #[error("ambiguous grant: {}", .api.message)]
    AmbiguousGrant {
        /// The answer.
        api: Box<ApiError>,
        /// The matching grants.
        candidates: Box<GrantCandidates>,
    },

    /// `NoDelegatedGrantError`: the agent has no delegation for the provider (404 or 409
    /// `no_delegated_grant`). The server answered.
    #[error("no delegated grant: {}", .api.message)]
    NoDelegatedGrant {
        /// The answer.
        api: Box<ApiError>,
        /// What was looked up.
        lookup: Box<GrantLookup>,
    },

    /// `PolicyViolationError`: any other 403; a policy refused the call. The server
    /// answered; `api.details` is the body's nested `details`.
    #[error("policy violation: {}", .api.message)]
    PolicyViolation {
        /// The answer.
        api: Box<ApiError>,
        /// The wire code of the refusal (`policy_error` in the reference client).
        policy_error: Option<String>,
    },

    /// `InsufficientScopeError`: the API key lacks a scope (403 `insufficient_scope`). The
    /// server answered.
    #[error("insufficient scope: {}", .api.message)]
    InsufficientScope {
        /// The answer.
        api: Box<ApiError>,
        /// The scopes involved.
        scopes: Box<ScopeRequirement>,
    },

    /// `TokenRefreshInProgressError`: another refresh of the grant's token is running (409
    /// `token_refresh_in_progress`); the caller may try again shortly. The server answered.
    #[error("token refresh in progress: {}", .api.message)]
    TokenRefreshInProgress {
        /// The answer.
        api: Box<ApiError>,
        /// The grant being refreshed.
        grant_id: Option<String>,
    },

    /// One of the fifteen `AgentError` subclasses, from the agents mapper (§4.5). The
    /// server answered.
    #[error("agent error ({}): {}", .kind.wire_code(), .api.message)]
    Agent {
        /// The answer; `api.details` is the whole body.
        api: Box<ApiError>,
        /// Which subclass.
        kind: AgentErrorKind,
        /// The backend's hint on how to fix it.
        hint: Option<String>,
    },

    /// `ConnectFlowError`: the connect flow failed (poll `error` with another code,
    /// `expired`, an unknown status). The server answered.
    #[error("connect flow failed: {message}")]
    ConnectFlow {
        /// What happened.
        message: String,
        /// `{"error_code": …}` or `{"status": …}`.
        details: Box<Details>,
    },

    /// `ConnectDeniedError`: the user denied the connection. The server answered.
    #[error("connect denied: {message}")]
    ConnectDenied {
        /// What happened.
        message: String,
        /// `{"error_code": "connect_denied"}`.
        details: Box<Details>,
    },

    /// `ConnectConfigError`: the provider or its app is misconfigured. The server answered.
    #[error("connect configuration error: {message}")]
    ConnectConfig {
        /// What happened.
        message: String,
        /// `{"error_code": …}`.
        details: Box<Details>,
    },

    /// `ConnectTimeoutError`: a connect or sign-in flow passed its deadline. Polls were
    /// sent, so requests reached the server.
    #[error("connect flow timed out: {message}")]
    ConnectTimeout {
        /// What happened.
        message: String,
        /// `{"timeout": <seconds>}`.
        details: Box<Details>,
    },

    /// `ProviderAPIError`: the provider answered with status 400 or more. The provider
    /// request was sent and answered.
    #[error("provider api error: {}", .failure.message)]
    ProviderApi {
        /// The provider's answer.
        failure: Box<ProviderFailure>,
    },

    /// `ScopeReauthRequiredError`: the grant lacks scopes at the provider (provider 403 with
    /// an `insufficient_scope` challenge, or a backend 403 `scope_mismatch`); the user must
    /// re-authorize. The request was sent and answered.
    #[error("scope re-authorization required: {}", .failure.message)]
    ScopeReauthRequired {
        /// The answer, with the grant, provider and missing scopes.
        failure: Box<ProviderFailure>,
    },

    /// `NetworkError`: the request failed below HTTP. A connect failure means nothing was
    /// sent; any later failure means the request may have reached the server, as
    /// `may_have_reached_server` says. An answer whose body was over the size cap is a
    /// `NetworkError` too, but not a transient one.
    #[error("network error: {message}")]
    Network {
        /// What failed (no URL query, no secrets).
        message: String,
        /// `{"base_url": …}` for backend calls; grant, method and URL for provider calls.
        details: Box<Details>,
        /// Whether the request may have reached the server.
        may_have_reached_server: bool,
        /// Whether asking again may succeed: false only for an answer refused for its size
        /// ([`TransportErrorKind::ResponseTooLarge`]). See [`Error::is_transient`].
        transient: bool,
    },

    /// `TimeoutError`: the request timed out. It may have reached the server and been
    /// executed.
    #[error("request timed out: {message}")]
    Timeout {
        /// What timed out.
        message: String,
        /// As for [`Error::Network`].
        details: Box<Details>,
        /// Whether the request may have reached the server (true unless the connection
        /// itself timed out).
        may_have_reached_server: bool,
    },

    /// `ApprovalDeniedError`: an approver denied the request. The server answered.
    #[error("approval denied: {}", .approval.message)]
    ApprovalDenied {
        /// The approval.
        approval: Box<ApprovalFailure>,
    },

    /// `ApprovalExpiredError`: nobody decided in time. The server answered.
    #[error("approval expired: {}", .approval.message)]
    ApprovalExpired {
        /// The approval.
        approval: Box<ApprovalFailure>,
    },

    /// `ApprovalExecutionFailedError`: the approved request failed when the backend ran it.
    /// The server answered.
    #[error("approval execution failed: {}", .approval.message)]
    ApprovalExecutionFailed {
        /// The approval.
        approval: Box<ApprovalFailure>,
    },

    /// `ApprovalTimeoutError`: `await_approval` passed its deadline. Polls were sent, so
    /// requests reached the server.
    #[error("approval timed out: {}", .approval.message)]
    ApprovalTimeout {
        /// The approval.
        approval: Box<ApprovalFailure>,
        /// The transient failure of the last poll, when it failed.
        #[source]
        last_transient: Option<Box<Self>>,
    },
}

impl Error {
    /// An `AlterSDKError` with this message.
    pub fn sdk(message: impl Into<String>) -> Self {
        Self::Sdk {
            message: message.into(),
        }
    }

    /// An `AlterValueError` with this message.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput {
            message: message.into(),
        }
    }

    /// The error of a client used after `close()`.
    pub fn closed() -> Self {
        Self::Closed
    }

    /// A `BackendError` for a success answer that could not be read.
    pub fn malformed(status: u16, message: impl Into<String>) -> Self {
        Self::MalformedResponse {
            status,
            message: message.into(),
        }
    }

    /// A `BackendError` from a backend error answer.
    pub fn backend(api: ApiError) -> Self {
        Self::Backend { api: Box::new(api) }
    }

    /// A `NetworkError`; `may_have_reached_server` is false only when no connection was
    /// made.
    pub fn network(
        message: impl Into<String>,
        details: Details,
        may_have_reached_server: bool,
    ) -> Self {
        Self::Network {
            message: message.into(),
            details: Box::new(details),
            may_have_reached_server,
            transient: true,
        }
    }

    /// A `TimeoutError` for a request that may have reached the server.
    pub fn timeout(message: impl Into<String>, details: Details) -> Self {
        Self::Timeout {
            message: message.into(),
            details: Box::new(details),
            may_have_reached_server: true,
        }
    }

    /// The error for a transport failure (PROTOCOL.md §4.7, §16 D7): a connect failure or
    /// any other IO failure is a `NetworkError`, a timeout is a `TimeoutError`, and each
    /// says whether the request may have reached the server. An answer over the size cap is
    /// a network error that is not [transient](Error::is_transient). A request the HTTP
    /// stack refused to build is the caller's mistake: `InvalidInput`, nothing sent.
    ///
    /// The message says what happened (could not connect, no answer in time, answer
    /// refused, failed after connecting), then the frontend's description.
    ///
    /// `details` is the call's context (`{"base_url": …}` for backend calls).
    ///
    /// ```
    /// use alter_core::{Error, TransportError, TransportErrorKind};
    /// use alter_core::error::Details;
    ///
    /// let refused = TransportError::new(TransportErrorKind::Connect, "connection refused");
    /// let error = Error::from_transport(&refused, Details::new());
    ///
    /// assert_eq!(error.class_name(), "NetworkError");
    /// assert!(!error.may_have_reached_server());
    /// ```
    pub fn from_transport(error: &TransportError, details: Details) -> Self {
        let detail = &error.message;
        match error.kind {
            TransportErrorKind::Connect => {
                Self::network(format!("could not connect: {detail}"), details, false)
            }
            TransportErrorKind::Timeout => {
                Self::timeout(format!("no answer in time: {detail}"), details)
            }
            TransportErrorKind::InvalidRequest => {
                Self::invalid_input(format!("the request cannot be sent: {detail}"))
            }
            TransportErrorKind::ResponseTooLarge => Self::Network {
                message: format!("answer refused: {detail}"),
                details: Box::new(details),
                may_have_reached_server: true,
                transient: false,
            },
            TransportErrorKind::Io => Self::network(
                format!("failed after connecting: {detail}"),
                details,
                error.may_have_reached_server(),
            ),
        }
    }

    /// A `ConnectFlowError`.
    pub fn connect_flow(message: impl Into<String>, details: Details) -> Self {
        Self::ConnectFlow {
            message: message.into(),
            details: Box::new(details),
        }
    }

    /// A `ConnectDeniedError`.
    pub fn connect_denied(message: impl Into<String>, details: Details) -> Self {
        Self::ConnectDenied {
            message: message.into(),
            details: Box::new(details),
        }
    }

    /// A `ConnectConfigError`.
    pub fn connect_config(message: impl Into<String>, details: Details) -> Self {
        Self::ConnectConfig {
            message: message.into(),
            details: Box::new(details),
        }
    }

    /// A `ConnectTimeoutError`.
    pub fn connect_timeout(message: impl Into<String>, details: Details) -> Self {
        Self::ConnectTimeout {
            message: message.into(),
            details: Box::new(details),
        }
    }

    /// A `ProviderAPIError`.
    pub fn provider_api(failure: ProviderFailure) -> Self {
        Self::ProviderApi {
            failure: Box::new(failure),
        }
    }

    /// A `ScopeReauthRequiredError`.
    pub fn scope_reauth_required(failure: ProviderFailure) -> Self {
        Self::ScopeReauthRequired {
            failure: Box::new(failure),
        }
    }

    /// An `ApprovalDeniedError`.
    pub fn approval_denied(message: impl Into<String>, approval_id: Option<String>) -> Self {
        Self::ApprovalDenied {
            approval: Box::new(ApprovalFailure::new(message, approval_id)),
        }
    }

    /// An `ApprovalExpiredError`.
    pub fn approval_expired(message: impl Into<String>, approval_id: Option<String>) -> Self {
        Self::ApprovalExpired {
            approval: Box::new(ApprovalFailure::new(message, approval_id)),
        }
    }

    /// An `ApprovalExecutionFailedError`.
    pub fn approval_execution_failed(
        message: impl Into<String>,
        approval_id: Option<String>,
    ) -> Self {
        let approval = Box::new(ApprovalFailure::new(message, approval_id));
        Self::ApprovalExecutionFailed { approval }
    }

    /// An `ApprovalTimeoutError`, keeping the last poll's transient failure as its source.
    pub fn approval_timeout(
        message: impl Into<String>,
        approval_id: Option<String>,
        last_transient: Option<Self>,
    ) -> Self {
        Self::ApprovalTimeout {
            approval: Box::new(ApprovalFailure::new(message, approval_id)),
            last_transient: last_transient.map(Box::new),
        }
    }

    /// The message the reference client would carry: the backend's own when it sent one.
    pub fn message(&self) -> &str {
        match self {
            Self::Closed => "client is closed",
            Self::Sdk { message }
            | Self::InvalidInput { message }
            | Self::MalformedResponse { message, .. }
            | Self::ConnectFlow { message, .. }
            | Self::ConnectDenied { message, .. }
            | Self::ConnectConfig { message, .. }
            | Self::ConnectTimeout { message, .. }
            | Self::Network { message, .. }
            | Self::Timeout { message, .. } => message,
            Self::Backend { api }
            | Self::ReAuthRequired { api }
            | Self::GrantExpired { api }
            | Self::GrantRevoked { api, .. }
            | Self::CredentialRevoked { api, .. }
            | Self::GrantDeleted { api }
            | Self::GrantNotFound { api, .. }
            | Self::AmbiguousGrant { api, .. }
            | Self::NoDelegatedGrant { api, .. }
            | Self::PolicyViolation { api, .. }
            | Self::InsufficientScope { api, .. }
            | Self::TokenRefreshInProgress { api, .. }
            | Self::Agent { api, .. } => &api.message,
            Self::ProviderApi { failure } | Self::ScopeReauthRequired { failure } => {
                &failure.message
            }
            Self::ApprovalDenied { approval }
            | Self::ApprovalExpired { approval }
            | Self::ApprovalExecutionFailed { approval }
            | Self::ApprovalTimeout { approval, .. } => &approval.message,
        }
    }

    /// The error's details map, for the classes that carry one (every class but
    /// `AlterValueError`, plain `AlterSDKError` and a malformed success answer).
    pub fn details(&self) -> Option<&Details> {
        match self {
            Self::Sdk { .. }
            | Self::InvalidInput { .. }
            | Self::Closed
            | Self::MalformedResponse { .. } => None,
            Self::ConnectFlow { details, .. }
            | Self::ConnectDenied { details, .. }
            | Self::ConnectConfig { details, .. }
            | Self::ConnectTimeout { details, .. }
            | Self::Network { details, .. }
            | Self::Timeout { details, .. } => Some(details),
            Self::ProviderApi { failure } | Self::ScopeReauthRequired { failure } => {
                Some(&failure.details)
            }
            Self::ApprovalDenied { approval }
            | Self::ApprovalExpired { approval }
            | Self::ApprovalExecutionFailed { approval }
            | Self::ApprovalTimeout { approval, .. } => Some(&approval.details),
            other => other.api().map(|api| &api.details),
        }
    }

    /// The backend's answer, for every variant built from a backend error answer.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Backend { api }
            | Self::ReAuthRequired { api }
            | Self::GrantExpired { api }
            | Self::GrantRevoked { api, .. }
            | Self::CredentialRevoked { api, .. }
            | Self::GrantDeleted { api }
            | Self::GrantNotFound { api, .. }
            | Self::AmbiguousGrant { api, .. }
            | Self::NoDelegatedGrant { api, .. }
            | Self::PolicyViolation { api, .. }
            | Self::InsufficientScope { api, .. }
            | Self::TokenRefreshInProgress { api, .. }
            | Self::Agent { api, .. } => Some(api),
            _ => None,
        }
    }

    /// The HTTP status of the answer that caused the error, the backend's or the
    /// provider's.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::MalformedResponse { status, .. } => Some(*status),
            Self::ProviderApi { failure } | Self::ScopeReauthRequired { failure } => {
                failure.status_code
            }
            _ => self.api().map(|api| api.status),
        }
    }

    /// The backend's wire error code, when it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::ProviderApi { failure } | Self::ScopeReauthRequired { failure } => {
                failure.code.as_deref()
            }
            _ => self.api().and_then(|api| api.code.as_deref()),
        }
    }

    /// Whether the request may have reached the server, and so may have been executed.
    ///
    /// This answers "is it safe to send again?": an operation that is not idempotent must
    /// not be re-sent after an error that says true. False only for errors raised before
    /// any IO (invalid input, a closed client) and for connect failures; the SDK's own
    /// retries re-send a non-idempotent request only then. `Sdk` errors answer true
    /// because the class also covers failures after IO.
    pub fn may_have_reached_server(&self) -> bool {
        match self {
            Self::InvalidInput { .. } | Self::Closed => false,
            Self::Network {
                may_have_reached_server,
                ..
            }
            | Self::Timeout {
                may_have_reached_server,
                ..
            } => *may_have_reached_server,
            _ => true,
        }
    }

    /// Whether the same request may succeed if asked again later.
    ///
    /// True exactly for the failures the SDK's retry policy ([`crate::retry`]) retries for
    /// an idempotent read, and the approval poller keeps polling through:
    ///
    /// - a `NetworkError` or `TimeoutError`, except an answer refused for being over the
    ///   response size cap (it would be as large again);
    /// - an untyped `BackendError` answer with status 429 (rate limited), 502, 503 or 504.
    ///
    /// Typed answers are definitive even at those statuses (a 502 `grant_revoked`, say), and
    /// so is every other class. `TokenRefreshInProgressError` is not transient in this sense
    /// either: the protocol leaves that wait to the caller (PROTOCOL.md §9).
    ///
    /// Transient does not mean safe to repeat: for an operation that is not idempotent,
    /// check [`Error::may_have_reached_server`] as well.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network { transient, .. } => *transient,
            Self::Timeout { .. } => true,
            Self::Backend { api } => matches!(api.status, 429 | 502..=504),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::samples::{api, every_variant};
    use super::*;

    #[test]
    fn the_error_stays_small_and_thread_safe() {
        fn assert_traits<T: Send + Sync + 'static>() {}
        assert_traits::<Error>();

        assert!(size_of::<Error>() <= 64, "{}", size_of::<Error>());
        assert!(size_of::<Result<()>>() <= 64);
    }

    #[test]
    fn display_is_one_lowercase_line_without_a_trailing_period() {
        for error in every_variant() {
            let shown = error.to_string();
            let first = shown.chars().next().expect("non-empty display");

            assert!(!first.is_uppercase(), "{shown}");
            assert!(!shown.ends_with('.'), "{shown}");
            assert!(!shown.contains('\n'), "{shown}");
            assert!(!error.message().is_empty(), "{}", error.class_name());
        }
    }

    #[test]
    fn display_leaves_out_details_and_causes() {
        let mut details = Details::new();
        details.insert("base_url".into(), "https://backend.example".into());
        let cause = Error::network("connection failed: reset", details, true);
        let error = Error::approval_timeout("no decision in 300s", Some("a-1".into()), Some(cause));

        assert_eq!(error.to_string(), "approval timed out: no decision in 300s");
        let source = error
            .source()
            .expect("the last transient failure is the source");
        assert_eq!(
            source.to_string(),
            "network error: connection failed: reset"
        );
        assert!(!source.to_string().contains("backend.example"));
    }

    #[test]
    fn only_pre_io_errors_and_connect_failures_never_reached_the_server() {
        let refused = TransportError::new(TransportErrorKind::Connect, "refused");
        let reset = TransportError::new(TransportErrorKind::Io, "reset");
        let slow = TransportError::new(TransportErrorKind::Timeout, "read timed out");

        for error in every_variant() {
            let expected = !matches!(
                error,
                Error::InvalidInput { .. }
                    | Error::Closed
                    | Error::Network {
                        may_have_reached_server: false,
                        ..
                    }
            );
            assert_eq!(
                error.may_have_reached_server(),
                expected,
                "{}",
                error.class_name()
            );
        }
        assert!(!Error::from_transport(&refused, Details::new()).may_have_reached_server());
        assert!(Error::from_transport(&reset, Details::new()).may_have_reached_server());
        assert!(Error::from_transport(&slow, Details::new()).may_have_reached_server());
    }

    #[test]
    fn transport_errors_map_to_network_and_timeout_with_their_details() {
        let mut details = Details::new();
        details.insert("base_url".into(), "https://backend.example".into());

        let cases = [
            (
                TransportErrorKind::Connect,
                "NetworkError",
                "could not connect: boom",
            ),
            (
                TransportErrorKind::Io,
                "NetworkError",
                "failed after connecting: boom",
            ),
            (
                TransportErrorKind::Timeout,
                "TimeoutError",
                "no answer in time: boom",
            ),
        ];
        for (kind, class, message) in cases {
            let error = Error::from_transport(&TransportError::new(kind, "boom"), details.clone());

            assert_eq!(error.class_name(), class);
            assert_eq!(error.message(), message);
            assert_eq!(error.details(), Some(&details));
            assert!(error.is_network() && error.is_transient());
        }
    }

    #[test]
    fn a_request_the_http_stack_refused_is_an_input_error_that_never_left() {
        let refused = TransportError::new(
            TransportErrorKind::InvalidRequest,
            "request not sendable: invalid format",
        );

        let error = Error::from_transport(&refused, Details::new());

        assert!(error.is_invalid_input(), "{error:?}");
        assert!(!error.may_have_reached_server());
        assert!(!error.is_transient());
        assert_eq!(
            error.to_string(),
            "invalid input: the request cannot be sent: request not sendable: invalid format"
        );
    }

    #[test]
    fn only_untyped_rate_limits_and_gateway_answers_are_transient() {
        for status in [429, 502, 503, 504] {
            assert!(Error::backend(*api(status, "x")).is_transient());
        }
        for status in [400, 408, 500, 501, 505] {
            assert!(!Error::backend(*api(status, "x")).is_transient());
        }
        let revoked = Error::GrantRevoked {
            api: api(502, "grant_revoked"),
            grant_id: None,
        };
        assert!(!revoked.is_transient());
        assert!(!Error::approval_timeout("t", None, None).is_transient());
    }

    #[expect(
        clippy::disallowed_methods,
        reason = "the retry policy needs one base instant; nothing waits on it"
    )]
    fn test_now() -> crate::io::Now {
        let wall = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600);
        crate::io::Now::new(std::time::Instant::now(), wall)
    }

    #[test]
    fn an_oversized_answer_is_a_network_error_that_is_not_transient() {
        let error = Error::from_transport(&crate::io::response_too_large(), Details::new());

        assert_eq!(error.class_name(), "NetworkError");
        assert!(error.may_have_reached_server());
        assert!(!error.is_transient());
        assert!(error.message().contains("64 MiB"), "{}", error.message());
    }

    #[test]
    fn the_predicates_agree_with_the_retry_policy() {
        use crate::retry::{Idempotency, RetryConfig, RetryDecision, RetryState};

        let now = test_now();
        let retried_status = |status: u16| {
            let mut state =
                RetryState::new(&RetryConfig::default(), Idempotency::Safe, now.monotonic);
            matches!(
                state.on_status(status, None, now),
                RetryDecision::Retry { .. }
            )
        };
        for status in [
            400, 401, 403, 404, 408, 409, 429, 500, 501, 502, 503, 504, 505,
        ] {
            let error = Error::backend(*api(status, "x"));
            assert_eq!(error.is_transient(), retried_status(status), "{status}");
        }

        let kinds = [
            TransportErrorKind::Connect,
            TransportErrorKind::Timeout,
            TransportErrorKind::Io,
            TransportErrorKind::ResponseTooLarge,
        ];
        for kind in kinds {
            let failure = TransportError::new(kind, "x");
            let mut state =
                RetryState::new(&RetryConfig::default(), Idempotency::Safe, now.monotonic);
            let retried = matches!(
                state.on_transport_error(&failure, now),
                RetryDecision::Retry { .. }
            );

            let error = Error::from_transport(&failure, Details::new());
            assert_eq!(error.is_transient(), retried, "{kind:?}");

            let mut unsafe_state =
                RetryState::new(&RetryConfig::default(), Idempotency::Unsafe, now.monotonic);
            let resent = matches!(
                unsafe_state.on_transport_error(&failure, now),
                RetryDecision::Retry { .. }
            );
            assert_eq!(resent, !error.may_have_reached_server(), "{kind:?}");
        }
    }

    #[test]
    fn accessors_read_the_answer() {
        let error = Error::Agent {
            api: api(404, "agent_not_found"),
            kind: AgentErrorKind::AgentNotFound,
            hint: Some("Check the agent id".into()),
        };

        assert_eq!(error.status(), Some(404));
        assert_eq!(error.code(), Some("agent_not_found"));
        assert_eq!(error.message(), "agent_not_found happened");
        assert_eq!(error.details(), Some(&Details::new()));
        assert_eq!(
            error.to_string(),
            "agent error (agent_not_found): agent_not_found happened"
        );

        assert_eq!(Error::closed().message(), "client is closed");
        assert_eq!(Error::closed().details(), None);
        assert_eq!(Error::malformed(201, "bad").status(), Some(201));
        assert_eq!(Error::malformed(201, "bad").code(), None);
    }

    #[test]
    fn provider_errors_expose_the_provider_status() {
        let failure = ProviderFailure {
            message: "m".into(),
            status_code: Some(500),
            ..ProviderFailure::default()
        };

        let error = Error::provider_api(failure);

        assert_eq!(error.status(), Some(500));
        assert_eq!(error.code(), None);
        assert!(!error.is_backend());
    }
}

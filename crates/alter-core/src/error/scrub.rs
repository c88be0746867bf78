//! Removing a server's echo of the exchange's secrets from an error (see [`crate::redact`]).

use super::{
    ApiError, ApprovalFailure, Error, GrantCandidates, GrantLookup, GrantRef, ProviderFailure,
    ScopeRequirement,
};
use crate::redact::Scrub;

impl Error {
    /// Replaces every secret `scrub` holds, wherever this error carries text: its message,
    /// details (keys and values), the backend's or provider's fields, the provider body and
    /// the source error of an approval timeout.
    ///
    /// The engine applies it to every error built from an answer, with the secrets of that
    /// exchange, so callers need not; it is public for errors a frontend builds itself.
    ///
    /// ```
    /// use alter_core::error::{ApiError, Details, Error};
    /// use alter_core::redact::Scrub;
    ///
    /// let echoed = "headers were x-api-key=alter_rk_0123456789abcdef";
    /// let mut error = Error::backend(ApiError::new(400, None, echoed, Details::new()));
    /// let mut scrub = Scrub::new();
    /// scrub.add("alter_rk_0123456789abcdef");
    ///
    /// error.scrub(&scrub);
    ///
    /// assert_eq!(error.message(), "headers were x-api-key=[redacted]");
    /// ```
    pub fn scrub(&mut self, scrub: &Scrub) {
        if scrub.is_empty() {
            return;
        }

        // Exhaustive on purpose: a new variant must say what it carries.
        match self {
            Self::Closed => {}
            Self::Sdk { message }
            | Self::InvalidInput { message }
            | Self::MalformedResponse { message, .. } => scrub.string(message),
            Self::ConnectFlow { message, details }
            | Self::ConnectDenied { message, details }
            | Self::ConnectConfig { message, details }
            | Self::ConnectTimeout { message, details }
            | Self::Network {
                message, details, ..
            }
            | Self::Timeout {
                message, details, ..
            } => {
                scrub.string(message);
                scrub.object(details);
            }
            Self::Backend { api }
            | Self::ReAuthRequired { api }
            | Self::GrantExpired { api }
            | Self::GrantDeleted { api } => api.scrub(scrub),
            Self::GrantRevoked { api, grant_id }
            | Self::TokenRefreshInProgress { api, grant_id } => {
                api.scrub(scrub);
                scrub.option(grant_id);
            }
            Self::CredentialRevoked { api, grant } => {
                api.scrub(scrub);
                grant.scrub(scrub);
            }
            Self::GrantNotFound { api, lookup } | Self::NoDelegatedGrant { api, lookup } => {
                api.scrub(scrub);
                lookup.scrub(scrub);
            }
            Self::AmbiguousGrant { api, candidates } => {
                api.scrub(scrub);
                candidates.scrub(scrub);
            }
            Self::PolicyViolation { api, policy_error } => {
                api.scrub(scrub);
                scrub.option(policy_error);
            }
            Self::InsufficientScope { api, scopes } => {
                api.scrub(scrub);
                scopes.scrub(scrub);
            }
            Self::Agent { api, kind: _, hint } => {
                api.scrub(scrub);
                scrub.option(hint);
            }
            Self::ProviderApi { failure } | Self::ScopeReauthRequired { failure } => {
                failure.scrub(scrub);
            }
            Self::ApprovalDenied { approval }
            | Self::ApprovalExpired { approval }
            | Self::ApprovalExecutionFailed { approval } => approval.scrub(scrub),
            Self::ApprovalTimeout {
                approval,
                last_transient,
            } => {
                approval.scrub(scrub);
                if let Some(source) = last_transient {
                    source.scrub(scrub);
                }
            }
        }
    }

    /// This error after [`Error::scrub`].
    pub fn scrubbed(mut self, scrub: &Scrub) -> Self {
        self.scrub(scrub);
        self
    }
}

impl ApiError {
    fn scrub(&mut self, scrub: &Scrub) {
        let Self {
            status: _,
            code,
            message,
            details,
        } = self;
        scrub.option(code);
        scrub.string(message);
        scrub.object(details);
    }
}

impl GrantRef {
    fn scrub(&mut self, scrub: &Scrub) {
        let Self {
            grant_id,
            provider_id,
            app_user_id,
        } = self;
        for field in [grant_id, provider_id, app_user_id] {
            scrub.option(field);
        }
    }
}

impl GrantLookup {
    fn scrub(&mut self, scrub: &Scrub) {
        let Self {
            provider_id,
            agent_id,
            app_user_id,
        } = self;
        for field in [provider_id, agent_id, app_user_id] {
            scrub.option(field);
        }
    }
}

impl GrantCandidates {
    fn scrub(&mut self, scrub: &Scrub) {
        let Self {
            provider_id,
            account_identifiers,
            account_was_provided: _,
            app_user_ids,
            grant_ids,
        } = self;
        scrub.option(provider_id);
        for list in [account_identifiers, app_user_ids, grant_ids] {
            scrub.strings(list);
        }
    }
}

impl ScopeRequirement {
    fn scrub(&mut self, scrub: &Scrub) {
        let Self {
            required,
            granted,
            missing,
            scope_version: _,
            current_scope_version: _,
            scope_version_mismatch: _,
            documentation_url,
        } = self;
        for list in [required, granted, missing] {
            scrub.strings(list);
        }
        scrub.option(documentation_url);
    }
}

impl ProviderFailure {
    fn scrub(&mut self, scrub: &Scrub) {
        let Self {
            message,
            status_code: _,
            response_body,
            details,
            grant_id,
            provider_id,
            missing_scopes,
            code,
        } = self;
        scrub.string(message);
        scrub.option(response_body);
        scrub.object(details);
        scrub.option(grant_id);
        scrub.option(provider_id);
        if let Some(scopes) = missing_scopes {
            scrub.strings(scopes);
        }
        scrub.option(code);
    }
}

impl ApprovalFailure {
    fn scrub(&mut self, scrub: &Scrub) {
        let Self {
            message,
            approval_id,
            details,
        } = self;
        scrub.string(message);
        scrub.option(approval_id);
        scrub.object(details);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{AgentErrorKind, Details};

    const SECRET: &str = "ya29.the-provider-token";

    fn tainted() -> String {
        format!("echo {SECRET}")
    }

    fn tainted_details() -> Details {
        let mut details = Details::new();
        details.insert(tainted(), serde_json::json!({"nested": [tainted()]}));
        details
    }

    fn tainted_api() -> Box<ApiError> {
        Box::new(ApiError::new(
            400,
            Some(tainted()),
            tainted(),
            tainted_details(),
        ))
    }

    fn tainted_failure() -> Box<ProviderFailure> {
        Box::new(ProviderFailure {
            message: tainted(),
            status_code: Some(403),
            response_body: Some(tainted()),
            details: tainted_details(),
            grant_id: Some(tainted()),
            provider_id: Some(tainted()),
            missing_scopes: Some(vec![tainted()]),
            code: Some(tainted()),
        })
    }

    fn tainted_approval() -> Box<ApprovalFailure> {
        let mut approval = ApprovalFailure::new(tainted(), Some(tainted()));
        approval.details.insert(tainted(), tainted().into());
        Box::new(approval)
    }

    /// One error of every variant with the secret in every text field.
    fn every_variant_tainted() -> Vec<Error> {
        let some = || Some(tainted());
        vec![
            Error::sdk(tainted()),
            Error::invalid_input(tainted()),
            Error::malformed(200, tainted()),
            Error::Backend { api: tainted_api() },
            Error::ReAuthRequired { api: tainted_api() },
            Error::GrantExpired { api: tainted_api() },
            Error::GrantDeleted { api: tainted_api() },
            Error::GrantRevoked {
                api: tainted_api(),
                grant_id: some(),
            },
            Error::TokenRefreshInProgress {
                api: tainted_api(),
                grant_id: some(),
            },
            Error::CredentialRevoked {
                api: tainted_api(),
                grant: Box::new(GrantRef {
                    grant_id: some(),
                    provider_id: some(),
                    app_user_id: some(),
                }),
            },
            Error::GrantNotFound {
                api: tainted_api(),
                lookup: Box::new(GrantLookup {
                    provider_id: some(),
                    agent_id: some(),
                    app_user_id: some(),
                }),
            },
            Error::NoDelegatedGrant {
                api: tainted_api(),
                lookup: Box::new(GrantLookup {
                    provider_id: some(),
                    agent_id: some(),
                    app_user_id: some(),
                }),
            },
            Error::AmbiguousGrant {
                api: tainted_api(),
                candidates: Box::new(GrantCandidates {
                    provider_id: some(),
                    account_identifiers: vec![tainted()],
                    account_was_provided: true,
                    app_user_ids: vec![tainted()],
                    grant_ids: vec![tainted()],
                }),
            },
            Error::PolicyViolation {
                api: tainted_api(),
                policy_error: some(),
            },
            Error::InsufficientScope {
                api: tainted_api(),
                scopes: Box::new(ScopeRequirement {
                    required: vec![tainted()],
                    granted: vec![tainted()],
                    missing: vec![tainted()],
                    documentation_url: some(),
                    ..ScopeRequirement::default()
                }),
            },
            Error::Agent {
                api: tainted_api(),
                kind: AgentErrorKind::InvalidKey,
                hint: some(),
            },
            Error::connect_flow(tainted(), tainted_details()),
            Error::connect_denied(tainted(), tainted_details()),
            Error::connect_config(tainted(), tainted_details()),
            Error::connect_timeout(tainted(), tainted_details()),
            Error::network(tainted(), tainted_details(), true),
            Error::timeout(tainted(), tainted_details()),
            Error::ProviderApi {
                failure: tainted_failure(),
            },
            Error::ScopeReauthRequired {
                failure: tainted_failure(),
            },
            Error::ApprovalDenied {
                approval: tainted_approval(),
            },
            Error::ApprovalExpired {
                approval: tainted_approval(),
            },
            Error::ApprovalExecutionFailed {
                approval: tainted_approval(),
            },
            Error::ApprovalTimeout {
                approval: tainted_approval(),
                last_transient: Some(Box::new(Error::network(tainted(), tainted_details(), true))),
            },
        ]
    }

    /// Debug of a provider failure hides the body's text; the body is checked on its own.
    fn everything_shown(error: &Error) -> String {
        let body = match error {
            Error::ProviderApi { failure } | Error::ScopeReauthRequired { failure } => {
                failure.response_body.clone().unwrap_or_default()
            }
            _ => String::new(),
        };
        let source = std::error::Error::source(error).map(ToString::to_string);
        format!("{error} {error:?} {body} {source:?}")
    }

    #[test]
    fn no_variant_keeps_the_secret_anywhere() {
        let mut scrub = Scrub::new();
        scrub.add(SECRET);

        for error in every_variant_tainted() {
            let before = everything_shown(&error);
            assert!(
                before.contains(SECRET),
                "the sample is not tainted: {before}"
            );

            let after = everything_shown(&error.scrubbed(&scrub));

            assert!(!after.contains(SECRET), "{after}");
            assert!(after.contains("echo [redacted]"), "{after}");
        }
    }

    #[test]
    fn an_empty_scrub_changes_nothing() {
        for error in every_variant_tainted() {
            let before = format!("{error:?}");

            let after = format!("{:?}", error.scrubbed(&Scrub::new()));

            assert_eq!(before, after);
        }
    }
}

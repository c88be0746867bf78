//! Sample errors for the tests of the error modules.

use super::{AgentErrorKind, ApiError, Details, Error, ProviderFailure};

pub(super) fn api(status: u16, code: &str) -> Box<ApiError> {
    Box::new(ApiError::new(
        status,
        Some(code.into()),
        format!("{code} happened"),
        Details::new(),
    ))
}

/// One error of every variant (and every agent kind).
pub(super) fn every_variant() -> Vec<Error> {
    let failure = ProviderFailure {
        message: "Provider API returned error 500".into(),
        ..ProviderFailure::default()
    };
    let mut all = vec![
        Error::sdk("Failed to create auth session: boom"),
        Error::invalid_input("limit must be 1..1000"),
        Error::closed(),
        Error::backend(*api(500, "internal")),
        Error::malformed(200, "response body is not valid JSON"),
        Error::ReAuthRequired {
            api: api(401, "jwt_validation_error"),
        },
        Error::GrantExpired {
            api: api(403, "grant_expired"),
        },
        Error::GrantRevoked {
            api: api(403, "grant_revoked"),
            grant_id: None,
        },
        Error::CredentialRevoked {
            api: api(400, "credential_revoked"),
            grant: Box::default(),
        },
        Error::GrantDeleted {
            api: api(410, "gone"),
        },
        Error::GrantNotFound {
            api: api(404, "grant_not_found"),
            lookup: Box::default(),
        },
        Error::AmbiguousGrant {
            api: api(409, "ambiguous_grant"),
            candidates: Box::default(),
        },
        Error::NoDelegatedGrant {
            api: api(404, "no_delegated_grant"),
            lookup: Box::default(),
        },
        Error::PolicyViolation {
            api: api(403, "policy_violation"),
            policy_error: None,
        },
        Error::InsufficientScope {
            api: api(403, "insufficient_scope"),
            scopes: Box::default(),
        },
        Error::TokenRefreshInProgress {
            api: api(409, "token_refresh_in_progress"),
            grant_id: None,
        },
        Error::connect_flow("Connect session expired", Details::new()),
        Error::connect_denied("User denied", Details::new()),
        Error::connect_config("Invalid client", Details::new()),
        Error::connect_timeout("Connect timed out after 300s", Details::new()),
        Error::provider_api(failure.clone()),
        Error::scope_reauth_required(failure),
        Error::network("could not connect: refused", Details::new(), false),
        Error::timeout("no answer in time: read", Details::new()),
        Error::approval_denied("amount too large", Some("a-1".into())),
        Error::approval_expired("expired", None),
        Error::approval_execution_failed("failed", None),
        Error::approval_timeout("no decision in 300s", None, None),
    ];
    for kind in AgentErrorKind::ALL {
        all.push(Error::Agent {
            api: api(404, kind.wire_code()),
            kind,
            hint: None,
        });
    }
    all
}

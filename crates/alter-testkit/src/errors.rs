//! Error answers in the shapes of PROTOCOL.md §4.1, and one constructor per error the fake
//! emits, so every body is written in one place and tested against the core's classifiers.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::CONTENT_TYPE;
use serde_json::{Map, Value};

/// Which §4.1 shape an error body takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Envelope {
    /// `{"error", "message", …}` at the top level: agents routes and authentication.
    TopLevel,
    /// The same object wrapped as `{"detail": {…}}`, as the backend's generic routes do.
    Detail,
}

/// An error answer: status, error object, envelope and extra headers.
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    pub(crate) status: u16,
    pub(crate) object: Map<String, Value>,
    pub(crate) envelope: Envelope,
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl Failure {
    /// An error with wire code `code`, wrapped in `detail` unless [`Self::top_level`] is called.
    pub(crate) fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        let mut object = Map::new();
        object.insert("error".into(), code.into());
        object.insert("message".into(), message.into().into());
        Self {
            status,
            object,
            envelope: Envelope::Detail,
            headers: Vec::new(),
        }
    }

    /// Adds a field next to `error` and `message`.
    pub(crate) fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.object.insert(key.to_owned(), value.into());
        self
    }

    /// Puts the object at the top level instead of under `detail`.
    pub(crate) fn top_level(mut self) -> Self {
        self.envelope = Envelope::TopLevel;
        self
    }

    /// Uses the given envelope.
    pub(crate) fn envelope(mut self, envelope: Envelope) -> Self {
        self.envelope = envelope;
        self
    }

    /// The wire code.
    pub(crate) fn code(&self) -> &str {
        self.object
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The body bytes as sent.
    pub(crate) fn body(&self) -> Vec<u8> {
        let value = match self.envelope {
            Envelope::TopLevel => Value::Object(self.object.clone()),
            Envelope::Detail => {
                let mut outer = Map::new();
                outer.insert("detail".into(), Value::Object(self.object.clone()));
                Value::Object(outer)
            }
        };
        serde_json::to_vec(&value).unwrap_or_default()
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response =
            (status, [(CONTENT_TYPE, "application/json")], self.body()).into_response();
        for (name, value) in &self.headers {
            if let Ok(value) = http::HeaderValue::from_str(value) {
                response.headers_mut().insert(*name, value);
            }
        }
        response
    }
}

/// 401 for a request whose authentication failed (§3.7); always top level, so both the
/// agents mapper and the generic mapper read the code.
pub(crate) fn unauthorized(code: &str, message: &str) -> Failure {
    Failure::new(401, code, message).top_level()
}

/// 400 `constraint_not_narrowing`: the scope constraints ask for a scope the key lacks.
pub(crate) fn constraint_not_narrowing(extra: &[String]) -> Failure {
    Failure::new(
        400,
        "constraint_not_narrowing",
        "scope constraints may only narrow the key's scopes",
    )
    .with("scopes", extra.to_vec())
}

/// 403 `insufficient_scope` with the required, granted and missing scopes.
pub(crate) fn insufficient_scope(required: &str, granted: &[String]) -> Failure {
    Failure::new(
        403,
        "insufficient_scope",
        format!("this API key lacks the scope {required}"),
    )
    .with("required", vec![required.to_owned()])
    .with("granted", granted.to_vec())
    .with("missing", vec![required.to_owned()])
    .with("scope_version", 1)
    .with("current_scope_version", 1)
    .with("scope_version_mismatch", false)
}

/// 422 for a body that is not the JSON the route expects.
pub(crate) fn invalid_body(what: impl Into<String>) -> Failure {
    Failure::new(422, "invalid_request", what)
}

/// 404 `grant_not_found`.
pub(crate) fn grant_not_found(grant_id: Option<&str>, provider_id: Option<&str>) -> Failure {
    let mut failure = Failure::new(404, "grant_not_found", "Grant not found or not active");
    if let Some(grant_id) = grant_id {
        failure = failure.with("grant_id", grant_id);
    }
    if let Some(provider_id) = provider_id {
        failure = failure.with("provider_id", provider_id);
    }
    failure
}

/// 404 `no_delegated_grant`: the agent holds no delegation for this grant or provider.
pub(crate) fn no_delegated_grant(provider_id: Option<&str>, agent_id: &str) -> Failure {
    let mut failure = Failure::new(
        404,
        "no_delegated_grant",
        "the agent has no delegated grant for this provider",
    )
    .with("agent_id", agent_id);
    if let Some(provider_id) = provider_id {
        failure = failure.with("provider_id", provider_id);
    }
    failure
}

/// 409 `ambiguous_grant` with the candidate lists.
pub(crate) fn ambiguous_grant(
    provider_id: &str,
    account_identifiers: Vec<String>,
    account_was_provided: bool,
    app_user_ids: Vec<String>,
    grant_ids: Vec<String>,
) -> Failure {
    Failure::new(
        409,
        "ambiguous_grant",
        "more than one grant matches; name the account",
    )
    .with("provider_id", provider_id)
    .with("account_identifiers", account_identifiers)
    .with("account_was_provided", account_was_provided)
    .with("app_user_ids", app_user_ids)
    .with("grant_ids", grant_ids)
}

/// 403 `grant_revoked`.
pub(crate) fn grant_revoked(grant_id: &str) -> Failure {
    Failure::new(403, "grant_revoked", "Grant has been revoked").with("grant_id", grant_id)
}

/// 403 `grant_expired`, the grant named in the nested `details`.
pub(crate) fn grant_expired(grant_id: &str, expired_at: Option<&str>) -> Failure {
    let mut details = Map::new();
    details.insert("grant_id".into(), grant_id.into());
    if let Some(at) = expired_at {
        details.insert("expired_at".into(), at.into());
    }
    Failure::new(403, "grant_expired", "Grant has expired").with("details", Value::Object(details))
}

/// 410 `grant_deleted`.
pub(crate) fn grant_deleted(grant_id: &str) -> Failure {
    Failure::new(410, "grant_deleted", "Grant has been deleted").with("grant_id", grant_id)
}

/// 403 `credential_revoked`.
pub(crate) fn credential_revoked(
    grant_id: &str,
    provider_id: Option<&str>,
    app_user_id: Option<&str>,
) -> Failure {
    let mut failure = Failure::new(
        403,
        "credential_revoked",
        "The credential behind this grant was revoked",
    )
    .with("grant_id", grant_id);
    if let Some(provider_id) = provider_id {
        failure = failure.with("provider_id", provider_id);
    }
    if let Some(app_user_id) = app_user_id {
        failure = failure.with("app_user_id", app_user_id);
    }
    failure
}

/// 403 with a policy code of the caller's choosing (`PolicyViolationError`).
pub(crate) fn policy(code: &str, message: &str, grant_id: Option<&str>) -> Failure {
    let mut details = Map::new();
    if let Some(grant_id) = grant_id {
        details.insert("grant_id".into(), grant_id.into());
    }
    Failure::new(403, code, message).with("details", Value::Object(details))
}

/// 403 `scope_mismatch`: the grant's scopes no longer match what the provider requires.
pub(crate) fn scope_mismatch(grant_id: &str, provider_id: Option<&str>) -> Failure {
    let mut details = Map::new();
    details.insert("grant_id".into(), grant_id.into());
    if let Some(provider_id) = provider_id {
        details.insert("provider_id".into(), provider_id.into());
    }
    Failure::new(
        403,
        "scope_mismatch",
        "The grant's scopes changed; re-authorize it",
    )
    .with("details", Value::Object(details))
}

/// 409 `token_refresh_in_progress`.
pub(crate) fn token_refresh_in_progress(grant_id: &str) -> Failure {
    Failure::new(
        409,
        "token_refresh_in_progress",
        "A token refresh for this grant is in progress; retry shortly",
    )
    .with("grant_id", grant_id)
}

/// 401 `jwt_validation_error`: the end user's token is not one the fake issued.
pub(crate) fn jwt_invalid() -> Failure {
    Failure::new(
        401,
        "jwt_validation_error",
        "The user token is invalid or expired",
    )
}

/// An agents-route error: top level, with a hint (§4.5).
pub(crate) fn agent_error(status: u16, code: &str, message: &str) -> Failure {
    Failure::new(status, code, message)
        .with("hint", format!("see the {code} entry of the agents API"))
        .top_level()
}

/// 403 `approval_denied` from `/result` (§4.6).
pub(crate) fn approval_denied(reason: Option<&str>) -> Failure {
    Failure::new(
        403,
        "approval_denied",
        reason.unwrap_or("The approval was denied"),
    )
}

/// 410 `approval_expired` from `/result`.
pub(crate) fn approval_expired() -> Failure {
    Failure::new(
        410,
        "approval_expired",
        "The approval expired before a decision",
    )
}

/// 502 `approval_execution_failed` from `/result`.
pub(crate) fn approval_execution_failed(message: &str) -> Failure {
    Failure::new(502, "approval_execution_failed", message)
}

#[cfg(test)]
mod tests {
    use alter_core::classify::{
        classify_agents, classify_generic, classify_proxy, parse_error_body,
    };

    use super::*;

    fn generic(failure: &Failure) -> alter_core::Error {
        classify_generic(failure.status, &failure.body())
    }

    #[test]
    fn generic_route_errors_classify_to_their_typed_errors() {
        let rows: Vec<(Failure, &str)> = vec![
            (grant_not_found(Some("g-1"), None), "GrantNotFoundError"),
            (
                no_delegated_grant(Some("github"), "a-1"),
                "NoDelegatedGrantError",
            ),
            (
                ambiguous_grant(
                    "google",
                    vec!["a".into(), "b".into()],
                    false,
                    vec![],
                    vec![],
                ),
                "AmbiguousGrantError",
            ),
            (grant_revoked("g-1"), "GrantRevokedError"),
            (
                grant_expired("g-1", Some("2026-01-01T00:00:00Z")),
                "GrantExpiredError",
            ),
            (grant_deleted("g-1"), "GrantDeletedError"),
            (
                credential_revoked("g-1", Some("google"), None),
                "CredentialRevokedError",
            ),
            (
                policy("business_hours_only", "not now", Some("g-1")),
                "PolicyViolationError",
            ),
            (
                policy("use_self_revoke_path", "use /me", None),
                "PolicyViolationError",
            ),
            (
                policy("agent_key_required", "agent key", None),
                "PolicyViolationError",
            ),
            (
                scope_mismatch("g-1", Some("google")),
                "ScopeReauthRequiredError",
            ),
            (
                token_refresh_in_progress("g-1"),
                "TokenRefreshInProgressError",
            ),
            (jwt_invalid(), "ReAuthRequiredError"),
            (
                insufficient_scope("tokens:retrieve", &["grants:read".into()]),
                "InsufficientScopeError",
            ),
            (constraint_not_narrowing(&["x:y".into()]), "BackendError"),
            (invalid_body("bad"), "BackendError"),
            (
                unauthorized("invalid_signature", "bad signature"),
                "BackendError",
            ),
        ];

        for (failure, class) in rows {
            let error = generic(&failure);
            assert_eq!(error.class_name(), class, "{}", failure.code());
            assert_eq!(error.status(), Some(failure.status));
        }
    }

    #[test]
    fn typed_fields_survive_classification() {
        let error = generic(&ambiguous_grant(
            "google",
            vec!["a@x".into(), "b@x".into()],
            true,
            vec!["u1".into()],
            vec!["g1".into(), "g2".into()],
        ));
        let alter_core::Error::AmbiguousGrant { candidates, .. } = error else {
            panic!("not ambiguous");
        };
        assert_eq!(candidates.account_identifiers, ["a@x", "b@x"]);
        assert!(candidates.account_was_provided);
        assert_eq!(candidates.grant_ids, ["g1", "g2"]);

        let error = generic(&insufficient_scope(
            "tokens:retrieve",
            &["grants:read".into()],
        ));
        let alter_core::Error::InsufficientScope { scopes, .. } = error else {
            panic!("not insufficient scope");
        };
        assert_eq!(scopes.missing, ["tokens:retrieve"]);
        assert_eq!(scopes.granted, ["grants:read"]);

        let error = generic(&scope_mismatch("g-9", Some("google")));
        assert_eq!(
            error
                .details()
                .and_then(|d| d.get("grant_id"))
                .and_then(Value::as_str),
            Some("g-9")
        );
    }

    #[test]
    fn agents_route_errors_are_top_level_and_typed() {
        let rows = [
            (
                agent_error(401, "invalid_key", "bad key"),
                "InvalidKeyError",
            ),
            (
                agent_error(404, "agent_not_found", "no agent"),
                "AgentNotFoundError",
            ),
            (
                agent_error(409, "agent_name_exists", "taken"),
                "AgentNameExistsError",
            ),
            (
                agent_error(403, "me_requires_agent_key", "app key"),
                "MeRequiresAgentKeyError",
            ),
            (
                agent_error(409, "key_revoked", "already"),
                "KeyAlreadyRevokedError",
            ),
            (
                agent_error(404, "key_not_found", "no key"),
                "KeyNotFoundError",
            ),
            (
                agent_error(409, "last_active_key", "last"),
                "LastActiveKeyError",
            ),
            (
                agent_error(409, "agent_revoked", "revoked"),
                "AgentRevokedError",
            ),
            (
                agent_error(409, "idempotency_key_body_mismatch", "mismatch"),
                "IdempotencyKeyBodyMismatchError",
            ),
            (
                agent_error(409, "idempotency_key_agent_revoked", "revoked"),
                "IdempotencyKeyAgentRevokedError",
            ),
            (
                agent_error(403, "agent_cannot_mint_subagents", "agent key"),
                "AgentCannotMintSubagentsError",
            ),
            (
                agent_error(409, "narrowing_requires_phase_g", "narrowing"),
                "AgentScopeNarrowingNotSupportedError",
            ),
            (
                unauthorized("invalid_key", "unknown key"),
                "InvalidKeyError",
            ),
            (unauthorized("key_revoked", "revoked"), "KeyRevokedError"),
        ];

        for (failure, class) in rows {
            assert_eq!(failure.envelope, Envelope::TopLevel);
            let error = classify_agents(failure.status, &failure.body());
            assert_eq!(error.class_name(), class, "{}", failure.code());
        }
    }

    #[test]
    fn approval_result_errors_classify_through_the_proxy_mapper() {
        let rows = [
            (approval_denied(Some("no")), "ApprovalDeniedError"),
            (approval_expired(), "ApprovalExpiredError"),
            (
                approval_execution_failed("boom"),
                "ApprovalExecutionFailedError",
            ),
        ];
        for (failure, class) in rows {
            assert_eq!(
                classify_proxy(failure.status, &failure.body()).class_name(),
                class
            );
        }
        let denied = classify_proxy(403, &approval_denied(Some("too risky")).body());
        assert_eq!(denied.message(), "too risky");
    }

    #[test]
    fn detail_envelope_wraps_and_top_level_does_not() {
        let wrapped: Value = serde_json::from_slice(&grant_deleted("g").body()).unwrap();
        assert_eq!(wrapped["detail"]["error"], "grant_deleted");

        let top: Value = serde_json::from_slice(&unauthorized("x", "y").body()).unwrap();
        assert_eq!(top["error"], "x");
        assert_eq!(
            parse_error_body(&unauthorized("x", "y").body())["message"],
            "y"
        );
    }

    #[test]
    fn into_response_keeps_status_type_and_headers() {
        let mut failure = Failure::new(429, "rate_limited", "slow down");
        failure.headers.push(("retry-after", "3".into()));
        let response = failure.into_response();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers()["retry-after"], "3");
    }
}

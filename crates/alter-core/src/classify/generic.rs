//! The generic mapper (PROTOCOL.md §4.2–4.4): every backend route except agents, proxy,
//! approvals and auth sessions.

use crate::error::{
    Details, Error, GrantCandidates, GrantLookup, GrantRef, ProviderFailure, ScopeRequirement,
};

use super::body::{
    api_error, int_field, is_true, message_or, nested_details, parse_error_body, str_field,
    string_items,
};

/// The error of a generic-route answer with status 400 or more (PROTOCOL.md §4.2–4.4).
///
/// Dispatch runs on the status first, then on the wire code `E.error` of the parsed body
/// (see [`parse_error_body`]); the message is `E.message` when it is a non-empty string, else
/// a default. Any other status, including one below 400, gives a plain `BackendError`.
///
/// ```
/// use alter_core::classify::classify_generic;
///
/// let error = classify_generic(401, br#"{"error":"jwt_validation_error","message":"Token expired"}"#);
/// assert_eq!(error.class_name(), "ReAuthRequiredError");
///
/// let error = classify_generic(429, b"slow down");
/// assert_eq!(error.class_name(), "BackendError");
/// assert_eq!(error.message(), "slow down");
/// ```
pub fn classify_generic(status: u16, body: &[u8]) -> Error {
    let e = parse_error_body(body);
    let code = str_field(&e, "error");

    match (status, code.as_deref()) {
        (403, code) => forbidden(code, e),
        (409, code) => conflict(code, e),
        (410, _) => Error::GrantDeleted {
            api: api_error(410, &e, "grant has been deleted", e.clone()),
        },
        (404, Some("no_delegated_grant")) => no_delegated_grant(404, e),
        (404, _) => Error::GrantNotFound {
            lookup: Box::new(lookup(&e)),
            api: api_error(404, &e, "grant not found", e.clone()),
        },
        (400 | 502, Some("grant_revoked")) => grant_revoked(status, e),
        (400 | 502, Some("credential_revoked")) => credential_revoked(status, e),
        (401, Some("jwt_validation_error")) => Error::ReAuthRequired {
            api: api_error(
                401,
                &e,
                "user token rejected; the user must sign in again",
                e.clone(),
            ),
        },
        _ => untyped(status, e),
    }
}

/// §4.3: every 403 is typed; an unknown code is a policy refusal.
fn forbidden(code: Option<&str>, e: Details) -> Error {
    match code {
        Some("insufficient_scope") => Error::InsufficientScope {
            scopes: Box::new(scope_requirement(&e)),
            api: api_error(403, &e, "the API key lacks a required scope", e.clone()),
        },
        Some("grant_expired") => Error::GrantExpired {
            api: api_error(403, &e, "grant has expired", nested_details(&e)),
        },
        Some("grant_revoked") => grant_revoked(403, e),
        Some("credential_revoked") => credential_revoked(403, e),
        Some("scope_mismatch") => scope_mismatch(e),
        _ => Error::PolicyViolation {
            policy_error: code.map(str::to_owned),
            api: api_error(403, &e, "request refused by policy", nested_details(&e)),
        },
    }
}

/// §4.4: the typed 409s; any other conflict is untyped.
fn conflict(code: Option<&str>, e: Details) -> Error {
    match code {
        Some("token_refresh_in_progress") => Error::TokenRefreshInProgress {
            grant_id: str_field(&e, "grant_id"),
            api: api_error(
                409,
                &e,
                "a token refresh for this grant is in progress",
                e.clone(),
            ),
        },
        Some("ambiguous_grant") => Error::AmbiguousGrant {
            candidates: Box::new(GrantCandidates {
                provider_id: str_field(&e, "provider_id"),
                account_identifiers: string_items(&e, "account_identifiers"),
                account_was_provided: is_true(&e, "account_was_provided"),
                app_user_ids: string_items(&e, "app_user_ids"),
                grant_ids: string_items(&e, "grant_ids"),
            }),
            api: api_error(
                409,
                &e,
                "more than one grant matches; name the account",
                e.clone(),
            ),
        },
        Some("no_delegated_grant") => no_delegated_grant(409, e),
        _ => untyped(409, e),
    }
}

/// A backend 403 `scope_mismatch`: the provider-side class, built from the nested details.
fn scope_mismatch(e: Details) -> Error {
    let mut details = nested_details(&e);
    details.insert("source".into(), "backend_flag".into());

    Error::scope_reauth_required(ProviderFailure {
        message: message_or(&e, || "the grant's scopes changed; re-authorize it".into()),
        status_code: Some(403),
        response_body: None,
        grant_id: str_field(&details, "grant_id"),
        provider_id: str_field(&details, "provider_id"),
        missing_scopes: None,
        details,
        code: Some("scope_mismatch".into()),
    })
}

fn no_delegated_grant(status: u16, e: Details) -> Error {
    Error::NoDelegatedGrant {
        lookup: Box::new(lookup(&e)),
        api: api_error(
            status,
            &e,
            "the agent has no delegated grant for this provider",
            e.clone(),
        ),
    }
}

fn grant_revoked(status: u16, e: Details) -> Error {
    Error::GrantRevoked {
        grant_id: str_field(&e, "grant_id"),
        api: api_error(status, &e, "grant has been revoked", e.clone()),
    }
}

fn credential_revoked(status: u16, e: Details) -> Error {
    Error::CredentialRevoked {
        grant: Box::new(GrantRef {
            grant_id: str_field(&e, "grant_id"),
            provider_id: str_field(&e, "provider_id"),
            app_user_id: str_field(&e, "app_user_id"),
        }),
        api: api_error(
            status,
            &e,
            "the grant's credential has been revoked",
            e.clone(),
        ),
    }
}

fn untyped(status: u16, e: Details) -> Error {
    Error::Backend {
        api: api_error(status, &e, &format!("Backend error {status}"), e.clone()),
    }
}

fn lookup(e: &Details) -> GrantLookup {
    GrantLookup {
        provider_id: str_field(e, "provider_id"),
        agent_id: str_field(e, "agent_id"),
        app_user_id: str_field(e, "app_user_id"),
    }
}

fn scope_requirement(e: &Details) -> ScopeRequirement {
    ScopeRequirement {
        required: string_items(e, "required"),
        granted: string_items(e, "granted"),
        missing: string_items(e, "missing"),
        scope_version: int_field(e, "scope_version"),
        current_scope_version: int_field(e, "current_scope_version"),
        scope_version_mismatch: is_true(e, "scope_version_mismatch"),
        documentation_url: str_field(e, "documentation_url"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// Both shapes of §4.1 for the same error object: top level and `{"detail": …}`.
    fn both_envelopes(object: &Value) -> [Vec<u8>; 2] {
        [
            object.to_string().into_bytes(),
            json!({ "detail": object }).to_string().into_bytes(),
        ]
    }

    fn details(value: Value) -> Details {
        match value {
            Value::Object(object) => object,
            _ => Details::new(),
        }
    }

    /// (status, body object, class, message, where `details()` comes from)
    #[test]
    fn every_row_of_the_generic_tables() {
        let rows: &[(u16, Value, &str, &str)] = &[
            (
                403,
                json!({"error": "insufficient_scope", "message": "Key lacks keys:derive"}),
                "InsufficientScopeError",
                "Key lacks keys:derive",
            ),
            (
                403,
                json!({"error": "insufficient_scope"}),
                "InsufficientScopeError",
                "the API key lacks a required scope",
            ),
            (
                403,
                json!({"error": "grant_expired", "message": "Grant expired"}),
                "GrantExpiredError",
                "Grant expired",
            ),
            (
                403,
                json!({"error": "grant_revoked", "message": "Revoked"}),
                "GrantRevokedError",
                "Revoked",
            ),
            (
                403,
                json!({"error": "credential_revoked"}),
                "CredentialRevokedError",
                "the grant's credential has been revoked",
            ),
            (
                403,
                json!({"error": "scope_mismatch", "message": "Scopes changed"}),
                "ScopeReauthRequiredError",
                "Scopes changed",
            ),
            (
                403,
                json!({"error": "policy_violation", "message": "Outside hours"}),
                "PolicyViolationError",
                "Outside hours",
            ),
            (
                403,
                json!({"error": "use_self_revoke_path"}),
                "PolicyViolationError",
                "request refused by policy",
            ),
            (
                403,
                json!({"error": "agent_key_required", "message": "Use an agent key"}),
                "PolicyViolationError",
                "Use an agent key",
            ),
            (
                403,
                json!({"message": "Forbidden"}),
                "PolicyViolationError",
                "Forbidden",
            ),
            (
                409,
                json!({"error": "token_refresh_in_progress", "grant_id": "g-1"}),
                "TokenRefreshInProgressError",
                "a token refresh for this grant is in progress",
            ),
            (
                409,
                json!({"error": "ambiguous_grant", "message": "Pick one"}),
                "AmbiguousGrantError",
                "Pick one",
            ),
            (
                409,
                json!({"error": "no_delegated_grant", "message": "No delegation"}),
                "NoDelegatedGrantError",
                "No delegation",
            ),
            (
                409,
                json!({"error": "conflict", "message": "Busy"}),
                "BackendError",
                "Busy",
            ),
            (409, json!({}), "BackendError", "Backend error 409"),
            (
                410,
                json!({"error": "anything", "message": "Gone"}),
                "GrantDeletedError",
                "Gone",
            ),
            (
                410,
                json!({}),
                "GrantDeletedError",
                "grant has been deleted",
            ),
            (
                404,
                json!({"error": "no_delegated_grant"}),
                "NoDelegatedGrantError",
                "the agent has no delegated grant for this provider",
            ),
            (
                404,
                json!({"error": "grant_not_found", "message": "Grant not found or not active"}),
                "GrantNotFoundError",
                "Grant not found or not active",
            ),
            (404, json!({}), "GrantNotFoundError", "grant not found"),
            (
                400,
                json!({"error": "grant_revoked"}),
                "GrantRevokedError",
                "grant has been revoked",
            ),
            (
                502,
                json!({"error": "grant_revoked", "message": "Upstream says revoked"}),
                "GrantRevokedError",
                "Upstream says revoked",
            ),
            (
                400,
                json!({"error": "credential_revoked", "message": "Cred gone"}),
                "CredentialRevokedError",
                "Cred gone",
            ),
            (
                502,
                json!({"error": "credential_revoked"}),
                "CredentialRevokedError",
                "the grant's credential has been revoked",
            ),
            (
                400,
                json!({"error": "scope_not_allowed", "message": "Scope not allowed"}),
                "BackendError",
                "Scope not allowed",
            ),
            (
                400,
                json!({"error": "agent_requires_user_token"}),
                "BackendError",
                "Backend error 400",
            ),
            (502, json!({}), "BackendError", "Backend error 502"),
            (
                401,
                json!({"error": "jwt_validation_error", "message": "Token expired"}),
                "ReAuthRequiredError",
                "Token expired",
            ),
            (
                401,
                json!({"error": "invalid_api_key", "message": "Bad key"}),
                "BackendError",
                "Bad key",
            ),
            (
                500,
                json!({"error": "grant_revoked"}),
                "BackendError",
                "Backend error 500",
            ),
            (
                503,
                json!({"message": "Maintenance"}),
                "BackendError",
                "Maintenance",
            ),
            (
                422,
                json!({"error": "validation_error"}),
                "BackendError",
                "Backend error 422",
            ),
            (
                429,
                json!({"error": "rate_limited", "message": "Slow down"}),
                "BackendError",
                "Slow down",
            ),
            (
                504,
                json!({"error": "no_delegated_grant"}),
                "BackendError",
                "Backend error 504",
            ),
            (
                418,
                json!({"error": "grant_expired"}),
                "BackendError",
                "Backend error 418",
            ),
        ];

        for (status, object, class, message) in rows {
            for body in both_envelopes(object) {
                let error = classify_generic(*status, &body);

                assert_eq!(error.class_name(), *class, "{status} {object}");
                assert_eq!(error.message(), *message, "{status} {object}");
                assert_eq!(error.status(), Some(*status), "{status} {object}");
                if error.is_backend() {
                    assert_eq!(error.code(), object["error"].as_str(), "{status} {object}");
                }
            }
        }
    }

    #[test]
    fn details_are_the_whole_object_except_for_nested_classes() {
        let nested = json!({"rule": "business_hours", "grant_id": "g-1", "provider_id": "google"});
        let object = json!({"error": "", "message": "m", "details": nested, "extra": 1});

        for (status, code, expected) in [
            (404, "grant_not_found", None),
            (409, "ambiguous_grant", None),
            (410, "gone", None),
            (403, "grant_expired", Some(nested.clone())),
            (403, "policy_violation", Some(nested)),
        ] {
            let mut object = object.clone();
            object["error"] = code.into();
            for body in both_envelopes(&object) {
                let error = classify_generic(status, &body);
                let expected = expected.clone().unwrap_or_else(|| object.clone());

                assert_eq!(error.details(), Some(&details(expected)), "{status} {code}");
            }
        }
    }

    #[test]
    fn policy_violation_keeps_the_code_and_defaults_its_details() {
        let error = classify_generic(
            403,
            br#"{"error":"policy_violation","details":"not an object"}"#,
        );

        match &error {
            Error::PolicyViolation { policy_error, api } => {
                assert_eq!(policy_error.as_deref(), Some("policy_violation"));
                assert!(api.details.is_empty());
            }
            other => panic!("{other:?}"),
        }

        let error = classify_generic(403, br#"{"message":"no code"}"#);
        assert!(matches!(
            error,
            Error::PolicyViolation {
                policy_error: None,
                ..
            }
        ));
    }

    #[test]
    fn scope_mismatch_is_a_provider_error_built_from_the_nested_details() {
        let object = json!({
            "error": "scope_mismatch",
            "message": "Scopes changed",
            "details": {"grant_id": "g-1", "provider_id": "google", "source": "backend", "n": 1}
        });

        for body in both_envelopes(&object) {
            let error = classify_generic(403, &body);

            let Error::ScopeReauthRequired { failure } = &error else {
                panic!("{error:?}")
            };
            assert_eq!(failure.grant_id.as_deref(), Some("g-1"));
            assert_eq!(failure.provider_id.as_deref(), Some("google"));
            assert_eq!(failure.status_code, Some(403));
            assert_eq!(failure.missing_scopes, None);
            let expected = json!({"grant_id": "g-1", "provider_id": "google", "source": "backend_flag", "n": 1});
            assert_eq!(Value::Object(failure.details.clone()), expected);
            assert_eq!(
                failure.details.keys().collect::<Vec<_>>(),
                ["grant_id", "provider_id", "source", "n"]
            );
            assert!(!error.is_backend() && error.is_provider_api());
            assert_eq!(error.ancestors(), ["ProviderAPIError", "AlterSDKError"]);
            // The backend's code is kept, as for every other backend error.
            assert_eq!(error.code(), Some("scope_mismatch"));
        }

        let error = classify_generic(
            403,
            br#"{"error":"scope_mismatch","details":{"grant_id":7}}"#,
        );
        let Error::ScopeReauthRequired { failure } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(failure.grant_id, None);
        assert_eq!(
            Value::Object(failure.details.clone()),
            json!({"grant_id": 7, "source": "backend_flag"})
        );
    }

    #[test]
    fn insufficient_scope_fields_are_read_leniently() {
        let full = json!({
            "error": "insufficient_scope", "message": "Key lacks keys:derive",
            "required": ["keys:derive"], "granted": ["grants:read", 3], "missing": null,
            "scope_version": 3, "current_scope_version": "4", "scope_version_mismatch": "yes",
            "documentation_url": "https://docs.example/scopes"
        });

        for body in both_envelopes(&full) {
            let Error::InsufficientScope { scopes, .. } = classify_generic(403, &body) else {
                panic!()
            };
            assert_eq!(
                *scopes,
                ScopeRequirement {
                    required: vec!["keys:derive".into()],
                    granted: vec!["grants:read".into()],
                    missing: vec![],
                    scope_version: Some(3),
                    current_scope_version: None,
                    scope_version_mismatch: false,
                    documentation_url: Some("https://docs.example/scopes".into()),
                }
            );
        }

        let Error::InsufficientScope { scopes, .. } = classify_generic(
            403,
            br#"{"error":"insufficient_scope","scope_version_mismatch":true}"#,
        ) else {
            panic!()
        };
        assert!(scopes.scope_version_mismatch);
    }

    #[test]
    fn ambiguous_grant_keeps_only_string_candidates() {
        let object = json!({
            "error": "ambiguous_grant", "provider_id": "google",
            "account_identifiers": ["a@example.com", null, 4, "b@example.com"],
            "account_was_provided": 1, "app_user_ids": null, "grant_ids": ["g-1", {"x": 1}]
        });

        for body in both_envelopes(&object) {
            let Error::AmbiguousGrant { candidates, .. } = classify_generic(409, &body) else {
                panic!()
            };
            assert_eq!(
                *candidates,
                GrantCandidates {
                    provider_id: Some("google".into()),
                    account_identifiers: vec!["a@example.com".into(), "b@example.com".into()],
                    account_was_provided: false,
                    app_user_ids: vec![],
                    grant_ids: vec!["g-1".into()],
                }
            );
        }

        let Error::AmbiguousGrant { candidates, .. } = classify_generic(
            409,
            br#"{"error":"ambiguous_grant","account_was_provided":true}"#,
        ) else {
            panic!()
        };
        assert!(candidates.account_was_provided);
    }

    #[test]
    fn grant_fields_are_kept_only_when_strings() {
        let object = json!({"error": "credential_revoked", "grant_id": "g-1", "provider_id": 5, "app_user_id": "u-1"});
        let Error::CredentialRevoked { grant, .. } =
            classify_generic(400, object.to_string().as_bytes())
        else {
            panic!()
        };
        assert_eq!(
            *grant,
            GrantRef {
                grant_id: Some("g-1".into()),
                provider_id: None,
                app_user_id: Some("u-1".into())
            }
        );

        let object = json!({"error": "grant_revoked", "grant_id": ["g-1"]});
        let Error::GrantRevoked { grant_id, .. } =
            classify_generic(502, object.to_string().as_bytes())
        else {
            panic!()
        };
        assert_eq!(grant_id, None);

        let object = json!({"error": "token_refresh_in_progress", "grant_id": "g-9"});
        let Error::TokenRefreshInProgress { grant_id, .. } =
            classify_generic(409, object.to_string().as_bytes())
        else {
            panic!()
        };
        assert_eq!(grant_id.as_deref(), Some("g-9"));

        for status in [404, 409] {
            let object = json!({"error": "no_delegated_grant", "provider_id": "linear", "agent_id": "a-1", "app_user_id": null});
            let Error::NoDelegatedGrant { lookup, .. } =
                classify_generic(status, object.to_string().as_bytes())
            else {
                panic!()
            };
            assert_eq!(
                *lookup,
                GrantLookup {
                    provider_id: Some("linear".into()),
                    agent_id: Some("a-1".into()),
                    app_user_id: None
                }
            );
        }

        let object = json!({"detail": {"provider_id": "github", "agent_id": true}});
        let Error::GrantNotFound { lookup, .. } =
            classify_generic(404, object.to_string().as_bytes())
        else {
            panic!()
        };
        assert_eq!(
            *lookup,
            GrantLookup {
                provider_id: Some("github".into()),
                ..GrantLookup::default()
            }
        );
    }

    #[test]
    fn malformed_bodies_still_classify_by_status() {
        let huge = vec![b'x'; 1 << 20];
        let cases: &[(u16, &[u8], &str, &str)] = &[
            (
                404,
                b"\xff\xfe\xfd",
                "GrantNotFoundError",
                "\u{fffd}\u{fffd}\u{fffd}",
            ),
            (
                403,
                b"[1,2,3]",
                "PolicyViolationError",
                "request refused by policy",
            ),
            (
                409,
                br#""ambiguous_grant""#,
                "BackendError",
                "Backend error 409",
            ),
            (
                401,
                br#"{"detail":"Not authenticated"}"#,
                "BackendError",
                "Backend error 401",
            ),
            (
                410,
                br#"{"error":"gone""#,
                "GrantDeletedError",
                "{\"error\":\"gone\"",
            ),
            (500, b"", "BackendError", "Unknown error"),
            (
                502,
                b"<html><body>Bad Gateway</body></html>",
                "BackendError",
                "<html><body>Bad Gateway</body></html>",
            ),
            (
                400,
                br#"{"message":42}"#,
                "BackendError",
                "Backend error 400",
            ),
        ];

        for (status, body, class, message) in cases {
            let error = classify_generic(*status, body);
            assert_eq!(error.class_name(), *class, "{status}");
            assert_eq!(error.message(), *message, "{status}");
        }

        let error = classify_generic(503, &huge);
        assert_eq!(error.message().len(), 500);
        assert!(error.is_transient());
    }
}

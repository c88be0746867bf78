//! The agents-namespace mapper (PROTOCOL.md §4.5): every `/sdk/agents…` call and `me()`.
//!
//! Unlike the generic mapper it reads the top-level object only (no `detail` envelope) and
//! treats every status outside 200–299 as an error, redirects included.

use serde_json::Value;

use crate::error::{AgentErrorKind, ApiError, Error, Result};

use super::body::{json_object, message_or, str_field};

/// The error of an agents-route answer whose status is not 2xx.
///
/// The code is the top-level `error`, the message the top-level `message` or
/// `Backend error <status>`, the hint the top-level `hint`; the details are the whole body
/// (`{}` when it is not a JSON object). A known code gives an [`Error::Agent`], any other
/// code a plain `BackendError`.
///
/// ```
/// use alter_core::classify::classify_agents;
///
/// let error = classify_agents(404, br#"{"error":"agent_not_found","message":"Agent not found"}"#);
/// assert_eq!(error.class_name(), "AgentNotFoundError");
/// assert_eq!(error.ancestors(), ["AgentError", "BackendError", "AlterSDKError"]);
/// ```
pub fn classify_agents(status: u16, body: &[u8]) -> Error {
    let object = json_object(body);
    let code = str_field(&object, "error").unwrap_or_default();
    let message = message_or(&object, || format!("Backend error {status}"));
    let kind = AgentErrorKind::from_wire(&code, status);
    let hint = str_field(&object, "hint");
    let code = (!code.is_empty()).then_some(code);
    let api = Box::new(ApiError::new(status, code, message, object));

    match kind {
        Some(kind) => Error::Agent { api, kind, hint },
        None => Error::Backend { api },
    }
}

/// The JSON value of an agents-route answer (PROTOCOL.md §4.5 success rule).
///
/// A 2xx answer with status 204 or an empty body is `{}`; any other 2xx answer must be JSON.
///
/// # Errors
///
/// A 2xx body that is not JSON gives a `BackendError` ([`Error::MalformedResponse`]); any
/// other status, 1xx and 3xx included, gives the error of [`classify_agents`].
///
/// ```
/// use alter_core::classify::agents_success_body;
///
/// assert_eq!(agents_success_body(204, b"").unwrap(), serde_json::json!({}));
/// assert_eq!(agents_success_body(200, br#"{"id":"a-1"}"#).unwrap()["id"], "a-1");
/// assert!(agents_success_body(302, b"").is_err());
/// ```
pub fn agents_success_body(status: u16, body: &[u8]) -> Result<Value> {
    if !(200..=299).contains(&status) {
        return Err(classify_agents(status, body));
    }

    if status == 204 || body.is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }

    serde_json::from_slice(body)
        .map_err(|_| Error::malformed(status, "agents response body is not valid JSON"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_row_of_the_agents_table() {
        let rows: &[(&str, u16, &str)] = &[
            ("key_revoked", 409, "KeyAlreadyRevokedError"),
            ("invalid_key", 401, "InvalidKeyError"),
            ("agent_not_found", 404, "AgentNotFoundError"),
            ("agent_name_exists", 409, "AgentNameExistsError"),
            ("me_requires_agent_key", 403, "MeRequiresAgentKeyError"),
            ("key_revoked", 401, "KeyRevokedError"),
            ("key_revoked", 403, "KeyRevokedError"),
            ("key_not_found", 404, "KeyNotFoundError"),
            ("last_active_key", 409, "LastActiveKeyError"),
            ("agent_inactive", 403, "AgentInactiveError"),
            ("agent_revoked", 403, "AgentRevokedError"),
            (
                "idempotency_key_body_mismatch",
                422,
                "IdempotencyKeyBodyMismatchError",
            ),
            (
                "idempotency_key_agent_revoked",
                409,
                "IdempotencyKeyAgentRevokedError",
            ),
            (
                "idempotency_key_agent_inactive",
                409,
                "IdempotencyKeyAgentInactiveError",
            ),
            (
                "agent_cannot_mint_subagents",
                403,
                "AgentCannotMintSubagentsError",
            ),
            (
                "narrowing_requires_phase_g",
                409,
                "AgentScopeNarrowingNotSupportedError",
            ),
            ("insufficient_scope", 403, "BackendError"),
            ("something_new", 400, "BackendError"),
        ];

        for (code, status, class) in rows {
            let body = json!({"error": code, "message": "Backend says no", "hint": "Try again"});

            let error = classify_agents(*status, body.to_string().as_bytes());

            assert_eq!(error.class_name(), *class, "{code} {status}");
            assert_eq!(error.message(), "Backend says no");
            assert_eq!(error.code(), Some(*code));
            assert_eq!(error.status(), Some(*status));
            assert_eq!(error.details(), body.as_object());
            assert!(error.is_backend());
            if let Error::Agent { kind, hint, .. } = &error {
                assert_eq!(kind.wire_code(), *code);
                assert_eq!(hint.as_deref(), Some("Try again"));
            }
        }
    }

    #[test]
    fn the_detail_envelope_is_not_unwrapped() {
        let body = br#"{"detail":{"error":"agent_not_found","message":"Agent not found"}}"#;

        let error = classify_agents(404, body);

        assert_eq!(error.class_name(), "BackendError");
        assert_eq!(error.message(), "Backend error 404");
        assert_eq!(error.code(), None);
        assert!(error.details().is_some_and(|d| d.contains_key("detail")));
    }

    #[test]
    fn defaults_for_missing_or_malformed_fields() {
        let cases: &[(u16, &[u8], &str, &str)] = &[
            (
                404,
                br#"{"error":"agent_not_found"}"#,
                "AgentNotFoundError",
                "Backend error 404",
            ),
            (
                404,
                br#"{"error":"agent_not_found","message":""}"#,
                "AgentNotFoundError",
                "Backend error 404",
            ),
            (
                500,
                b"Internal Server Error",
                "BackendError",
                "Backend error 500",
            ),
            (
                409,
                b"[\"key_revoked\"]",
                "BackendError",
                "Backend error 409",
            ),
            (302, b"", "BackendError", "Backend error 302"),
            (
                401,
                br#"{"error":5,"message":["x"]}"#,
                "BackendError",
                "Backend error 401",
            ),
            (
                409,
                b"\xff{\"error\":\"key_revoked\"}",
                "BackendError",
                "Backend error 409",
            ),
        ];

        for (status, body, class, message) in cases {
            let error = classify_agents(*status, body);
            assert_eq!(error.class_name(), *class, "{status}");
            assert_eq!(error.message(), *message, "{status}");
        }

        let Error::Agent { hint, .. } =
            classify_agents(404, br#"{"error":"agent_not_found","hint":7}"#)
        else {
            panic!()
        };
        assert_eq!(hint, None);
    }

    #[test]
    fn success_bodies() {
        assert_eq!(agents_success_body(204, b"ignored").unwrap(), json!({}));
        assert_eq!(agents_success_body(200, b"").unwrap(), json!({}));
        assert_eq!(
            agents_success_body(201, br#"{"api_key":"k"}"#).unwrap(),
            json!({"api_key": "k"})
        );
        assert_eq!(agents_success_body(200, b"[1]").unwrap(), json!([1]));

        let malformed = agents_success_body(200, b"<html>").unwrap_err();
        assert!(matches!(
            malformed,
            Error::MalformedResponse { status: 200, .. }
        ));
        assert_eq!(malformed.class_name(), "BackendError");

        for status in [100, 301, 304, 400, 404, 500] {
            let error = agents_success_body(status, br#"{"error":"agent_not_found"}"#).unwrap_err();
            assert_eq!(error.status(), Some(status));
        }
    }
}

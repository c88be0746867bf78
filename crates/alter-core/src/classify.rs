//! Backend error answers turned into [`Error`](crate::Error)s (PROTOCOL.md §4).
//!
//! Each endpoint family has its own mapper, and each mapper is a pure function of the status
//! and the body bytes that never panics, whatever the bytes:
//!
//! | Mapper | Used for |
//! |---|---|
//! | [`classify_generic`] | token, grants, delegations, managed secrets, connect, keys, scopes (§4.2–4.4) |
//! | [`classify_agents`], [`agents_success_body`] | every `/sdk/agents…` call and `me()` (§4.5) |
//! | [`classify_proxy`], [`classify_approval_result`] | `/sdk/proxy` and `/sdk/approvals/{id}/result` (§4.6) |
//! | [`classify_approval_status`] | `GET /sdk/approvals/{id}` (§4.6) |
//! | [`auth_session_failure`] | `POST /sdk/auth/session` (§5.14) |
//!
//! ```
//! use alter_core::classify::classify_generic;
//!
//! let body = br#"{"detail":{"error":"grant_not_found","message":"Grant not found or not active"}}"#;
//! let error = classify_generic(404, body);
//!
//! assert_eq!(error.class_name(), "GrantNotFoundError");
//! assert_eq!(error.message(), "Grant not found or not active");
//! ```

mod agents;
mod auth;
mod body;
mod generic;
mod proxy;

#[cfg(test)]
mod conformance_tests;

pub use agents::{agents_success_body, classify_agents};
pub use auth::auth_session_failure;
pub use body::parse_error_body;
pub use generic::classify_generic;
pub use proxy::{classify_approval_result, classify_approval_status, classify_proxy};

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    /// JSON values built from the keys and codes the mappers look at, so that the typed
    /// branches are reached with fields of every type.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            prop::sample::select(vec![
                "insufficient_scope",
                "grant_expired",
                "grant_revoked",
                "credential_revoked",
                "scope_mismatch",
                "ambiguous_grant",
                "no_delegated_grant",
                "token_refresh_in_progress",
                "jwt_validation_error",
                "key_revoked",
                "agent_not_found",
                "approval_denied",
                "approval_expired",
                "approval_execution_failed",
                "",
                "x",
            ])
            .prop_map(Value::from),
            ".{0,40}".prop_map(Value::from),
        ];
        let keys = prop::sample::select(vec![
            "detail",
            "details",
            "error",
            "message",
            "hint",
            "grant_id",
            "provider_id",
            "agent_id",
            "app_user_id",
            "account_identifiers",
            "account_was_provided",
            "app_user_ids",
            "grant_ids",
            "required",
            "granted",
            "missing",
            "scope_version",
            "current_scope_version",
            "scope_version_mismatch",
            "documentation_url",
            "other",
        ]);
        leaf.prop_recursive(4, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((keys.clone(), inner), 0..8).prop_map(|pairs| Value::Object(
                    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }

    fn classify_everything(status: u16, body: &[u8]) {
        let errors = [
            classify_generic(status, body),
            classify_agents(status, body),
            classify_proxy(status, body),
            classify_approval_result(status, "/sdk/approvals/a/result", body),
            classify_approval_status(status, "/sdk/approvals/a", body),
            auth_session_failure(status, Some("application/json"), body),
        ];
        for error in &errors {
            let _ = (
                error.to_string(),
                error.class_name(),
                error.ancestors(),
                error.details(),
            );
            // A message is the backend's text (at worst every byte replaced by U+FFFD or
            // re-serialized) plus a fixed prefix; it never grows beyond that.
            assert!(error.message().len() <= 4 * body.len() + 100);
        }
        let _ = agents_success_body(status, body);
        let _ = parse_error_body(body);
    }

    proptest! {
        #[test]
        fn no_mapper_panics_on_arbitrary_bytes(status in any::<u16>(), body in prop::collection::vec(any::<u8>(), 0..512)) {
            classify_everything(status, &body);
        }

        #[test]
        fn no_mapper_panics_on_arbitrary_json(status in prop_oneof![Just(403u16), Just(404), Just(409), Just(410), Just(400), Just(502), Just(401), any::<u16>()], value in json_value(), wrap in any::<bool>()) {
            let value = if wrap { serde_json::json!({ "detail": value }) } else { value };
            classify_everything(status, &serde_json::to_vec(&value).unwrap());
        }
    }
}

//! Cross-check of the mappers against the conformance vectors: every raised outcome that came
//! straight from a backend error answer must classify to the same class, ancestors, message,
//! details and extra fields as the reference client.

use serde_json::{Value, json};

use crate::error::Error;

use super::{
    auth_session_failure, classify_agents, classify_approval_result, classify_approval_status,
    classify_generic, classify_proxy,
};

const REQUESTS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/conformance/requests.json"
));

/// The mapper the call's path calls for.
fn classify(path: &str, status: u16, content_type: Option<&str>, body: &[u8]) -> Error {
    let path = path.split('?').next().unwrap_or(path);
    if path.starts_with("/sdk/agents") {
        classify_agents(status, body)
    } else if path == "/sdk/proxy" {
        classify_proxy(status, body)
    } else if path.starts_with("/sdk/approvals/") && path.ends_with("/result") {
        classify_approval_result(status, path, body)
    } else if path.starts_with("/sdk/approvals/") {
        classify_approval_status(status, path, body)
    } else if path == "/sdk/auth/session" {
        auth_session_failure(status, content_type, body)
    } else {
        classify_generic(status, body)
    }
}

/// The reference client's extra attributes of an error, as JSON.
fn extra_fields(error: &Error) -> serde_json::Map<String, Value> {
    let value = match error {
        Error::GrantNotFound { lookup, .. } | Error::NoDelegatedGrant { lookup, .. } => json!({
            "provider_id": lookup.provider_id, "agent_id": lookup.agent_id,
            "app_user_id": lookup.app_user_id,
        }),
        Error::AmbiguousGrant { candidates: c, .. } => json!({
            "provider_id": c.provider_id, "account_identifiers": c.account_identifiers,
            "account_was_provided": c.account_was_provided, "app_user_ids": c.app_user_ids,
            "grant_ids": c.grant_ids,
        }),
        Error::InsufficientScope { scopes: s, .. } => json!({
            "required": s.required, "granted": s.granted, "missing": s.missing,
            "scope_version": s.scope_version, "current_scope_version": s.current_scope_version,
            "scope_version_mismatch": s.scope_version_mismatch,
            "documentation_url": s.documentation_url,
        }),
        Error::PolicyViolation { policy_error, .. } => json!({ "policy_error": policy_error }),
        Error::GrantRevoked { grant_id, .. } | Error::TokenRefreshInProgress { grant_id, .. } => {
            json!({ "grant_id": grant_id })
        }
        Error::CredentialRevoked { grant, .. } => json!({
            "grant_id": grant.grant_id, "provider_id": grant.provider_id,
            "app_user_id": grant.app_user_id,
        }),
        Error::Agent { hint, .. } => json!({ "hint": hint }),
        Error::ScopeReauthRequired { failure } => json!({
            "grant_id": failure.grant_id, "provider_id": failure.provider_id,
            "missing_scopes": failure.missing_scopes, "status_code": failure.status_code,
        }),
        _ => json!({}),
    };
    value.as_object().cloned().unwrap_or_default()
}

#[test]
fn raised_backend_answers_match_the_reference_client() {
    let cases: Vec<Value> = serde_json::from_str(REQUESTS).expect("requests.json parses");
    let mut covered = Vec::new();

    for case in &cases {
        if case["outcome"]["status"] != "raised" {
            continue;
        }
        let path_of = |seq: &Value| {
            let requests = case["requests"].as_array().into_iter().flatten();
            requests
                .filter(|r| r["seq"] == *seq)
                .find_map(|r| r["path"].as_str())
        };
        let responses = case["response_fixtures"].as_array().into_iter().flatten();
        let answer = responses
            .filter(|r| r["status"].as_u64().is_some_and(|s| s >= 400))
            .filter_map(|r| Some((r, path_of(&r["seq"])?)))
            .rfind(|(_, path)| path.starts_with("/sdk/"));
        let Some((response, path)) = answer else {
            continue;
        };

        let id = case["id"].as_str().unwrap_or("?");
        let status = u16::try_from(response["status"].as_u64().unwrap()).unwrap();
        let body = match &response["body_json"] {
            Value::Null => Vec::new(),
            json => serde_json::to_vec(json).unwrap(),
        };
        let content_type = response["headers"]
            .as_object()
            .and_then(|h| {
                h.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            })
            .and_then(|(_, v)| v.as_str());
        let expected = &case["outcome"]["exception"];

        let error = classify(path, status, content_type, &body);

        assert_eq!(error.class_name(), expected["type"], "{id}: class");
        assert_eq!(json!(error.ancestors()), expected["mro"], "{id}: ancestors");
        assert_eq!(error.message(), expected["message"], "{id}: message");
        assert_eq!(
            error.details().cloned().map(Value::Object),
            Some(expected["details"].clone()),
            "{id}: details"
        );
        let extras = extra_fields(&error);
        for (name, value) in expected.as_object().into_iter().flatten() {
            if ["type", "mro", "message", "details"].contains(&name.as_str()) {
                continue;
            }
            assert_eq!(extras.get(name), Some(value), "{id}: field {name}");
        }
        covered.push(id.to_owned());
    }

    assert_eq!(covered.len(), 7, "covered: {covered:?}");
}

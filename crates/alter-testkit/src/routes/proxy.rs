//! Proxy mode and approvals (PROTOCOL.md §5.4–5.6, §7): the fake executes provider calls
//! itself, over loopback.

use alter_core::api::FORBIDDEN_PROXY_HEADERS;
use alter_core::retrieve::ProviderBody;
use alter_core::retrieve::audit;
use alter_core::retrieve::injection::Credential;
use alter_types::{ApiCallAuditLog, ApprovalResult, ApprovalStatusValue};
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use indexmap::IndexMap;
use serde_json::Value;
use uuid::Uuid;

use crate::app::{AppState, json, object, str_field};
use crate::errors::{self, Envelope, Failure, invalid_body};
use crate::outbound::{SendError, build_request, check_destination};
use crate::record::{AuditRecord, AuditSource};
use crate::state::access::Lookup;
use crate::state::approvals::ProxyCall;
use crate::state::{Caller, now};

/// Largest provider body an `ApprovalResult` carries; longer ones are cut and marked.
const CAPTURE_LIMIT: usize = 1024 * 1024;

type Answer = Result<Response, Failure>;

/// `POST /sdk/proxy`: 200 with the provider's answer, or 202 when the grant needs approval.
pub(super) async fn proxy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Answer {
    caller.require("proxy:execute", Envelope::Detail)?;
    let call = parse_call(&body)?;
    check_destination(&call.url)?;

    let credential = {
        let mut store = state.store.lock();
        let id = store.usable_grant(&caller, &Lookup::Grant(&call.grant_id), None)?;
        let grant = store
            .grant(&id)
            .ok_or_else(|| errors::grant_not_found(Some(&id), None))?;
        if grant.requires_approval {
            let approval = store.create_approval(call);
            return Ok(json(202, &approval.pending_answer(&state.base_url)));
        }
        grant.credential.clone()
    };

    match execute_call(&state, &credential, &call, None).await {
        Ok(result) => Ok(json(200, &result)),
        Err(error) => Err(error.into_failure()),
    }
}

/// `GET /sdk/approvals/{id}`.
pub(super) async fn status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(approval_id): Path<String>,
) -> Answer {
    caller.require("approvals:read", Envelope::Detail)?;
    let mut store = state.store.lock();
    let approval = store
        .approval_mut(&approval_id)
        .ok_or_else(approval_not_found)?;
    Ok(json(200, &approval.view()))
}

/// `GET /sdk/approvals/{id}/result`: the captured answer once executed; the approval
/// errors of §4.6 otherwise.
pub(super) async fn result(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(approval_id): Path<String>,
) -> Answer {
    caller.require("approvals:read", Envelope::Detail)?;
    let mut store = state.store.lock();
    let approval = store
        .approval_mut(&approval_id)
        .ok_or_else(approval_not_found)?;
    match (&approval.status, &approval.result) {
        (ApprovalStatusValue::Executed, Some(result)) => Ok(json(200, result)),
        (ApprovalStatusValue::Denied, _) => {
            Err(errors::approval_denied(approval.decision_reason.as_deref()))
        }
        (ApprovalStatusValue::Expired, _) => Err(errors::approval_expired()),
        (ApprovalStatusValue::Failed, _) => Err(errors::approval_execution_failed(
            approval
                .decision_reason
                .as_deref()
                .unwrap_or("the provider call failed"),
        )),
        _ => Err(Failure::new(
            409,
            "approval_not_ready",
            "the approval has no result yet",
        )),
    }
}

/// Executes a provider call with `credential` injected, audits it, and returns the
/// captured answer.
///
/// # Errors
///
/// [`SendError`] when the request cannot be built, the provider cannot be reached, or its
/// body is over the limit.
pub(crate) async fn execute_call(
    state: &AppState,
    credential: &Credential,
    call: &ProxyCall,
    approval_id: Option<Uuid>,
) -> Result<ApprovalResult, SendError> {
    let outgoing = build_request(credential, call)
        .map_err(|failure| SendError::unreachable(failure.code()))?;
    let started = std::time::Instant::now();
    let captured = state.outbound.send(&outgoing).await;
    let latency = audit::latency_ms(started.elapsed());

    let provider_id = {
        let store = state.store.lock();
        store
            .grant(&call.grant_id)
            .and_then(|grant| grant.provider_id(&store))
            .unwrap_or_default()
    };
    let body = call
        .body
        .as_ref()
        .map_or(ProviderBody::Empty, ProviderBody::Json);
    let log = ApiCallAuditLog {
        grant_id: call.grant_id.clone(),
        provider_id,
        method: call.method.clone(),
        url: call.url.clone(),
        request_headers: Some(strings(audit::request_headers(
            &outgoing.headers,
            &outgoing.credential_headers,
        ))),
        request_body: Some(audit::request_body(body)),
        response_status: captured.as_ref().map_or(0, |c| c.status),
        response_headers: captured.as_ref().ok().map(|c| {
            let pairs: Vec<(String, String)> = c
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            strings(audit::response_headers(&pairs))
        }),
        response_body: match &captured {
            Ok(c) => {
                audit::response_body(&c.body, c.headers.get("content-type").map(String::as_str))
            }
            Err(error) => audit::transport_error_body(&error.message),
        },
        latency_ms: latency,
        reason: call.reason.clone(),
        context: None,
    };
    state.store.lock().audit.push(AuditRecord {
        source: AuditSource::Proxy,
        raw: serde_json::to_value(&log).unwrap_or(Value::Null),
        log: Some(log),
        context_header: None,
    });

    let captured = captured?;
    let truncated = captured.body.len() > CAPTURE_LIMIT;
    let body = &captured.body[..captured.body.len().min(CAPTURE_LIMIT)];
    Ok(ApprovalResult {
        approval_id,
        status_code: captured.status,
        headers: captured.headers,
        body_b64: STANDARD.encode(body),
        body_truncated: truncated,
    })
}

/// The proxy body of §5.4, checked.
fn parse_call(body: &Bytes) -> Result<ProxyCall, Failure> {
    let object = object(body)?;
    let required = |key: &str| {
        str_field(&object, key)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| invalid_body(format!("{key} must be a non-empty string")))
    };
    let grant_id = required("grant_id")?;
    let method = required("method")?.to_ascii_uppercase();
    let url = required("url")?;

    let headers: Vec<(String, String)> = match object.get("headers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(name, value)| match value.as_str() {
                Some(text) => Ok((name.clone(), text.to_owned())),
                None => Err(invalid_body("header values must be strings")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid_body("headers must be an object")),
    };
    if let Some((name, _)) = headers
        .iter()
        .find(|(name, _)| FORBIDDEN_PROXY_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
    {
        return Err(Failure::new(
            422,
            "forbidden_header",
            format!("header {name} may not be sent through the proxy"),
        ));
    }
    let query_params = match object.get("query_params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Some(_) => return Err(invalid_body("query_params must be an object")),
    };

    Ok(ProxyCall {
        grant_id,
        method,
        url,
        headers,
        body: object.get("body").filter(|value| !value.is_null()).cloned(),
        query_params,
        reason: str_field(&object, "reason").map(str::to_owned),
    })
}

fn strings(map: serde_json::Map<String, Value>) -> IndexMap<String, String> {
    map.into_iter()
        .map(|(name, value)| (name, value.as_str().unwrap_or_default().to_owned()))
        .collect()
}

fn approval_not_found() -> Failure {
    Failure::new(404, "approval_not_found", "no approval with this id")
}

/// Marks the approval executed (or failed) with the outcome of its call.
pub(crate) fn settle(
    approval: &mut crate::state::approvals::Approval,
    outcome: Result<ApprovalResult, String>,
) {
    match outcome {
        Ok(result) => {
            approval.executed_at = Some(now());
            approval.result = Some(result);
            approval.enter(ApprovalStatusValue::Executed);
        }
        Err(message) => {
            approval.decision_reason = Some(format!("execution failed: {message}"));
            approval.enter(ApprovalStatusValue::Failed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_bodies_are_checked() {
        let call = parse_call(&Bytes::from_static(
            br#"{"grant_id":"g","method":"post","url":"http://127.0.0.1/x","body":{"a":1},"headers":{"X-A":"1"},"query_params":{"q":"v"},"reason":"r"}"#,
        ))
        .unwrap();
        assert_eq!(
            (
                call.method.as_str(),
                call.headers.len(),
                call.query_params.len()
            ),
            ("POST", 1, 1)
        );

        let forbidden = parse_call(&Bytes::from_static(
            br#"{"grant_id":"g","method":"GET","url":"http://127.0.0.1/x","headers":{"Authorization":"x"}}"#,
        ))
        .unwrap_err();
        assert_eq!(
            (forbidden.status, forbidden.code()),
            (422, "forbidden_header")
        );
        assert!(parse_call(&Bytes::from_static(br#"{"method":"GET","url":"u"}"#)).is_err());
    }
}

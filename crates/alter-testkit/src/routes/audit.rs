//! Uploads from retrieve mode: audit rows and scope-mismatch reports (PROTOCOL.md §5.2–5.3).

use alter_types::ApiCallAuditLog;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json as json_value};

use crate::app::{AppState, json, object};
use crate::errors::{Envelope, Failure};
use crate::record::{AuditRecord, AuditSource, ScopeReport};
use crate::state::Caller;

/// `POST /sdk/oauth/audit/api-call`: stores the row as received.
pub(super) async fn upload(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failure> {
    caller.require("audit:write", Envelope::Detail)?;
    let raw = Value::Object(object(&body)?);
    let record = AuditRecord {
        source: AuditSource::Sdk,
        log: serde_json::from_value::<ApiCallAuditLog>(raw.clone()).ok(),
        raw,
        context_header: headers
            .get("x-alter-context")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
    };

    let mut store = state.store.lock();
    store.audit.push(record);
    Ok(json(
        201,
        &json_value!({"success": true, "id": store.audit.len()}),
    ))
}

/// `POST /sdk/grants/{grant_id}/report-scope-mismatch`: stores the report; 204.
pub(super) async fn scope_report(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(grant_id): Path<String>,
    body: Bytes,
) -> Result<Response, Failure> {
    caller.require("audit:write", Envelope::Detail)?;
    let body = Value::Object(object(&body)?);
    state
        .store
        .lock()
        .scope_reports
        .push(ScopeReport { grant_id, body });
    Ok(StatusCode::NO_CONTENT.into_response())
}

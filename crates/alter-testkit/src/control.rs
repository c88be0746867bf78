//! Test control: what a test does that a real user would do in a browser or the Alter
//! console (approve, complete a connect flow, sign in), plus faults and inspection. Both
//! the Rust handle ([`crate::FakeAlter`]) and the unsigned HTTP routes under
//! `{base_url}/_testkit/` call the functions here.
//!
//! | Route | Does |
//! |---|---|
//! | `POST approvals/{id}/approve` | approve; then execute unless the body says `{"execute": false}` |
//! | `POST approvals/{id}/execute` | execute an approved approval |
//! | `POST approvals/{id}/deny` | deny, optional `{"reason": …}` |
//! | `POST approvals/{id}/expire` | expire |
//! | `GET approvals/{id}` | status plus the `history` of states |
//! | `POST connect/{session_token}/complete` | complete a connect session (optional [`ConnectCompletion`]); the token `latest` names the newest pending one |
//! | `POST auth/{session_token}/complete` | complete a sign-in (optional [`AuthCompletion`]); `latest` as above |
//! | `GET sessions` | tokens of the pending sessions: `{"connect": [...], "auth": [...]}`, oldest first |
//! | `POST users` | issue a user token: `{"sub", "email"?, "name"?}` → `{"user_token"}` |
//! | `POST grants` | create a grant from a [`GrantSpec`] → `{"grant_id"}` |
//! | `POST grants/{id}/status` | set a grant's [`GrantStatus`]: `{"status": …}` |
//! | `POST faults`, `DELETE faults` | arm a [`FaultSpec`]; disarm all |
//! | `GET audit`, `GET scope-reports` | stored audit rows and scope-mismatch reports |
//! | `GET requests`, `DELETE requests` | recorded requests (optional `?route=METHOD /pattern`); forget them |
//! | `GET hits?route=METHOD /pattern` | `{"count": n}` of recorded requests matching the route |
//! | `GET state` | the ready line's data |
//! | any `redirected` | a target for redirect tests; it only records the request |
//!
//! Control requests are answered whatever faults are armed, and they are neither recorded
//! nor counted: a test's own inspection never shows up in what it inspects, and
//! `DELETE faults` always disarms. The one exception is `redirected`, which exists to be
//! counted: it is recorded and can be faulted like any backend route.
//!
//! A fault the control API refuses (`POST faults`) answers 400 `invalid_fault`, naming
//! the problem; other malformed control bodies answer 422 `invalid`.

use std::fmt;

use alter_types::{ApprovalStatus, ApprovalStatusValue, ConnectPollResponse};
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json as json_value};

use crate::app::{AppState, json, parse};
use crate::faults::{ArmedFault, FaultError, FaultSpec, route_matches, split_route};
use crate::handle::ReadyInfo;
use crate::record::RecordedRequest;
use crate::routes::execute_call;
use crate::spec::{AuthCompletion, ConnectCompletion, GrantSpec, GrantStatus};
use crate::state::now;

/// Why a control action was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControlError {
    /// Nothing with this id or token exists.
    NotFound(String),
    /// It exists but is not in a state that allows the action (e.g. approving twice).
    Conflict(String),
    /// The request to the control API was malformed.
    Invalid(String),
    /// The fault cannot be armed.
    InvalidFault(FaultError),
    /// The fake has stopped.
    Stopped,
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound(what) => write!(f, "not found: {what}"),
            Self::Conflict(why) => write!(f, "conflict: {why}"),
            Self::Invalid(why) => write!(f, "invalid control request: {why}"),
            Self::InvalidFault(why) => write!(f, "invalid fault: {why}"),
            Self::Stopped => f.write_str("the fake backend has stopped"),
        }
    }
}

impl std::error::Error for ControlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidFault(why) => Some(why),
            _ => None,
        }
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            Self::NotFound(_) => (404, "not_found"),
            Self::Conflict(_) => (409, "conflict"),
            Self::Invalid(_) => (422, "invalid"),
            Self::InvalidFault(_) => (400, "invalid_fault"),
            Self::Stopped => (503, "stopped"),
        };
        json(
            status,
            &json_value!({"error": code, "message": self.to_string()}),
        )
    }
}

/// Approves a pending approval; with `execute`, runs its provider call and settles it.
pub(crate) async fn approve(
    state: &AppState,
    id: &str,
    execute: bool,
) -> Result<ApprovalStatus, ControlError> {
    {
        let mut store = state.store.lock();
        let approval = store.approval_mut(id).ok_or_else(|| missing_approval(id))?;
        if approval.status != ApprovalStatusValue::Pending {
            return Err(ControlError::Conflict(format!(
                "approval is {}, not pending",
                approval.status
            )));
        }
        approval.decided_at = Some(now());
        approval.decision_reason = Some("Approved by the testkit".to_owned());
        approval.enter(ApprovalStatusValue::Approved);
        if !execute {
            return Ok(approval.view());
        }
    }
    run(state, id).await
}

/// Executes an approved approval: `approved → executing → executed | failed`.
pub(crate) async fn run(state: &AppState, id: &str) -> Result<ApprovalStatus, ControlError> {
    let (call, credential, approval_id) = {
        let mut store = state.store.lock();
        let approval = store.approval_mut(id).ok_or_else(|| missing_approval(id))?;
        if approval.status != ApprovalStatusValue::Approved {
            return Err(ControlError::Conflict(format!(
                "approval is {}, not approved",
                approval.status
            )));
        }
        approval.enter(ApprovalStatusValue::Executing);
        let (call, approval_id) = (approval.call.clone(), approval.id);
        let credential = store
            .grant(&call.grant_id)
            .map(|grant| grant.credential.clone());
        (call, credential, approval_id)
    };

    let outcome = match credential {
        Some(credential) => execute_call(state, &credential, &call, Some(approval_id))
            .await
            .map_err(|error| error.message),
        None => Err("the grant no longer exists".to_owned()),
    };
    let mut store = state.store.lock();
    let approval = store.approval_mut(id).ok_or_else(|| missing_approval(id))?;
    crate::routes::settle(approval, outcome);
    Ok(approval.view())
}

/// Denies a pending approval.
pub(crate) fn deny(
    state: &AppState,
    id: &str,
    reason: Option<String>,
) -> Result<ApprovalStatus, ControlError> {
    decide(
        state,
        id,
        ApprovalStatusValue::Denied,
        reason.or_else(|| Some("Denied by the testkit".to_owned())),
    )
}

/// Expires a pending approval.
pub(crate) fn expire(state: &AppState, id: &str) -> Result<ApprovalStatus, ControlError> {
    decide(state, id, ApprovalStatusValue::Expired, None)
}

fn decide(
    state: &AppState,
    id: &str,
    to: ApprovalStatusValue,
    reason: Option<String>,
) -> Result<ApprovalStatus, ControlError> {
    let mut store = state.store.lock();
    let approval = store.approval_mut(id).ok_or_else(|| missing_approval(id))?;
    if approval.status != ApprovalStatusValue::Pending {
        return Err(ControlError::Conflict(format!(
            "approval is {}, not pending",
            approval.status
        )));
    }
    if to == ApprovalStatusValue::Denied {
        approval.decided_at = Some(now());
    }
    approval.decision_reason = reason;
    approval.enter(to);
    Ok(approval.view())
}

/// Every state an approval went through.
pub(crate) fn history(
    state: &AppState,
    id: &str,
) -> Result<Vec<ApprovalStatusValue>, ControlError> {
    let mut store = state.store.lock();
    let approval = store.approval_mut(id).ok_or_else(|| missing_approval(id))?;
    Ok(approval.history.clone())
}

/// Completes a connect session.
pub(crate) fn complete_connect(
    state: &AppState,
    token: &str,
    completion: &ConnectCompletion,
) -> Result<ConnectPollResponse, ControlError> {
    state
        .store
        .lock()
        .complete_connect(token, completion)
        .map_err(|why| classify(why, "connect session"))
}

/// Completes a sign-in; returns the poll answer it now gives.
pub(crate) fn complete_auth(
    state: &AppState,
    token: &str,
    completion: &AuthCompletion,
) -> Result<Value, ControlError> {
    state
        .store
        .lock()
        .complete_auth(token, completion)
        .map_err(|why| classify(why, "auth session"))
}

/// Creates a grant.
pub(crate) fn add_grant(state: &AppState, spec: &GrantSpec) -> Result<String, ControlError> {
    state
        .store
        .lock()
        .create_grant(spec)
        .map_err(ControlError::Invalid)
}

/// Changes a grant's life-cycle state.
pub(crate) fn set_grant_status(
    state: &AppState,
    id: &str,
    status: GrantStatus,
) -> Result<(), ControlError> {
    let mut store = state.store.lock();
    let grant = store
        .grant_mut(id)
        .ok_or_else(|| ControlError::NotFound(format!("grant {id}")))?;
    grant.status = status;
    if status == GrantStatus::Revoked {
        grant.revoked_at.get_or_insert_with(now);
    }
    Ok(())
}

/// The path of the redirect target, the one control route that is recorded and faulted.
pub(crate) const REDIRECT_TARGET: &str = "/_testkit/redirected";

/// Whether a backend request target (mount prefix removed) belongs to the control API,
/// which is never faulted nor recorded.
pub(crate) fn is_control_target(target: &str) -> bool {
    let path = target.split('?').next().unwrap_or(target);
    let control = path == "/_testkit" || path.starts_with("/_testkit/");
    control && path != REDIRECT_TARGET
}

/// Arms a fault once it passes [`FaultSpec::validate`].
pub(crate) fn inject_fault(state: &AppState, spec: FaultSpec) -> Result<(), ControlError> {
    spec.validate().map_err(ControlError::InvalidFault)?;

    let remaining = spec.times;
    state
        .store
        .lock()
        .faults
        .push(ArmedFault { spec, remaining });
    Ok(())
}

/// The recorded requests matching `route` (`METHOD /pattern`, or all).
pub(crate) fn requests(state: &AppState, route: Option<&str>) -> Vec<RecordedRequest> {
    let store = state.store.lock();
    let filter = route.map(split_route);
    store
        .requests
        .iter()
        .filter(|request| {
            filter.as_ref().is_none_or(|(method, path)| {
                route_matches(method, path, &request.method, &request.path)
            })
        })
        .cloned()
        .collect()
}

/// The HTTP control routes, mounted under `/_testkit`.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/approvals/{id}", get(http_approval))
        .route("/approvals/{id}/approve", post(http_approve))
        .route("/approvals/{id}/execute", post(http_execute))
        .route("/approvals/{id}/deny", post(http_deny))
        .route("/approvals/{id}/expire", post(http_expire))
        .route("/connect/{token}/complete", post(http_complete_connect))
        .route("/auth/{token}/complete", post(http_complete_auth))
        .route("/sessions", get(http_sessions))
        .route("/users", post(http_user))
        .route("/grants", post(http_add_grant))
        .route("/grants/{id}/status", post(http_grant_status))
        .route("/faults", post(http_fault).delete(http_clear_faults))
        .route("/audit", get(http_audit))
        .route("/scope-reports", get(http_scope_reports))
        .route("/requests", get(http_requests).delete(http_forget_requests))
        .route("/hits", get(http_hits))
        .route("/state", get(http_state))
        .route("/redirected", any(http_redirected))
}

type Answer = Result<Response, Response>;

#[derive(Deserialize, Default)]
#[serde(default)]
struct ApproveBody {
    execute: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DenyBody {
    reason: Option<String>,
}

#[derive(Deserialize)]
struct StatusBody {
    status: GrantStatus,
}

#[derive(Deserialize)]
struct UserBody {
    sub: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

async fn http_approval(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let history = history(&state, &id).map_err(IntoResponse::into_response)?;
    let view = {
        let mut store = state.store.lock();
        store.approval_mut(&id).map(|approval| approval.view())
    };
    let mut body = serde_json::to_value(view).unwrap_or(Value::Null);
    body["history"] = serde_json::to_value(history).unwrap_or(Value::Null);
    Ok(json(200, &body))
}

async fn http_approve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let body: ApproveBody = parse(&body).map_err(IntoResponse::into_response)?;
    let view = approve(&state, &id, body.execute.unwrap_or(true))
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(json(200, &view))
}

async fn http_execute(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let view = run(&state, &id)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(json(200, &view))
}

async fn http_deny(State(state): State<AppState>, Path(id): Path<String>, body: Bytes) -> Answer {
    let body: DenyBody = parse(&body).map_err(IntoResponse::into_response)?;
    let view = deny(&state, &id, body.reason).map_err(IntoResponse::into_response)?;
    Ok(json(200, &view))
}

async fn http_expire(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let view = expire(&state, &id).map_err(IntoResponse::into_response)?;
    Ok(json(200, &view))
}

async fn http_complete_connect(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Answer {
    let completion: ConnectCompletion = parse(&body).map_err(IntoResponse::into_response)?;
    let poll =
        complete_connect(&state, &token, &completion).map_err(IntoResponse::into_response)?;
    Ok(json(200, &poll))
}

async fn http_complete_auth(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Answer {
    let completion: AuthCompletion = parse(&body).map_err(IntoResponse::into_response)?;
    let poll = complete_auth(&state, &token, &completion).map_err(IntoResponse::into_response)?;
    Ok(json(200, &poll))
}

async fn http_sessions(State(state): State<AppState>) -> Response {
    let mut store = state.store.lock();
    let connect = store.pending_connect_tokens();
    let auth = store.pending_auth_tokens();
    json(200, &json_value!({"connect": connect, "auth": auth}))
}

async fn http_user(State(state): State<AppState>, body: Bytes) -> Answer {
    let body: UserBody = parse(&body).map_err(IntoResponse::into_response)?;
    let mut info = Map::new();
    if let Some(email) = body.email {
        info.insert("email".into(), email.into());
    }
    if let Some(name) = body.name {
        info.insert("name".into(), name.into());
    }
    let token = state.store.lock().issue_user_token(&body.sub, info);
    Ok(json(
        201,
        &json_value!({"user_token": token, "sub": body.sub}),
    ))
}

async fn http_add_grant(State(state): State<AppState>, body: Bytes) -> Answer {
    let spec: GrantSpec = parse(&body).map_err(IntoResponse::into_response)?;
    let id = add_grant(&state, &spec).map_err(IntoResponse::into_response)?;
    Ok(json(201, &json_value!({"grant_id": id})))
}

async fn http_grant_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let body: StatusBody = parse(&body).map_err(IntoResponse::into_response)?;
    set_grant_status(&state, &id, body.status).map_err(IntoResponse::into_response)?;
    Ok(json(
        200,
        &json_value!({"grant_id": id, "status": body.status}),
    ))
}

async fn http_fault(State(state): State<AppState>, body: Bytes) -> Answer {
    let spec: FaultSpec = serde_json::from_slice(&body).map_err(|error| {
        ControlError::InvalidFault(FaultError::Json(error.to_string())).into_response()
    })?;
    inject_fault(&state, spec).map_err(IntoResponse::into_response)?;
    Ok(json(201, &json_value!({"ok": true})))
}

async fn http_clear_faults(State(state): State<AppState>) -> Response {
    state.store.lock().faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn http_audit(State(state): State<AppState>) -> Response {
    let rows = state.store.lock().audit.clone();
    json(200, &json_value!({"rows": rows}))
}

async fn http_scope_reports(State(state): State<AppState>) -> Response {
    let reports = state.store.lock().scope_reports.clone();
    json(200, &json_value!({"reports": reports}))
}

async fn http_requests(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let route = crate::routes::query_value(query.as_deref(), "route");
    json(
        200,
        &json_value!({"requests": requests(&state, route.as_deref())}),
    )
}

async fn http_forget_requests(State(state): State<AppState>) -> Response {
    state.store.lock().requests.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn http_hits(State(state): State<AppState>, RawQuery(query): RawQuery) -> Answer {
    let route = crate::routes::query_value(query.as_deref(), "route").ok_or_else(|| {
        ControlError::Invalid("give ?route=METHOD /pattern".to_owned()).into_response()
    })?;
    Ok(json(
        200,
        &json_value!({"route": route, "count": requests(&state, Some(&route)).len()}),
    ))
}

async fn http_state(State(state): State<AppState>) -> Answer {
    let info =
        ReadyInfo::from_state(&state).ok_or_else(|| ControlError::Stopped.into_response())?;
    Ok(json(200, &info))
}

async fn http_redirected() -> Response {
    json(200, &json_value!({"redirected": true}))
}

fn missing_approval(id: &str) -> ControlError {
    ControlError::NotFound(format!("approval {id}"))
}

/// Store errors say "unknown …" for a missing session and anything else for a conflict.
fn classify(why: String, what: &str) -> ControlError {
    if why.starts_with("unknown") {
        ControlError::NotFound(what.to_owned())
    } else {
        ControlError::Conflict(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_targets_are_the_testkit_routes_but_the_redirect_target() {
        for control in [
            "/_testkit",
            "/_testkit/faults",
            "/_testkit/hits?route=GET%20/sdk/scopes",
            "/_testkit/approvals/a-1/approve",
        ] {
            assert!(is_control_target(control), "{control}");
        }
        for ordinary in [
            "/_testkit/redirected",
            "/_testkit/redirected?x=1",
            "/_testkitx/faults",
            "/sdk/_testkit/faults",
            "/sdk/scopes",
        ] {
            assert!(!is_control_target(ordinary), "{ordinary}");
        }
    }

    #[test]
    fn control_errors_map_to_statuses() {
        assert_eq!(
            ControlError::NotFound("x".into()).into_response().status(),
            404
        );
        assert_eq!(
            ControlError::Conflict("x".into()).into_response().status(),
            409
        );
        assert_eq!(
            ControlError::Invalid("x".into()).into_response().status(),
            422
        );
        assert_eq!(
            ControlError::InvalidFault(FaultError::Status(0))
                .into_response()
                .status(),
            400
        );
        assert_eq!(
            classify("unknown connect session".into(), "s"),
            ControlError::NotFound("s".into())
        );
        assert!(matches!(
            classify("connect session is completed".into(), "s"),
            ControlError::Conflict(_)
        ));
    }
}

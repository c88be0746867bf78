//! Grant list, revoke, delegations and managed-secret grants (PROTOCOL.md §5.7–5.10).

use alter_types::{GrantPolicyInput, Principal};
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::StatusCode;
use serde_json::{Map, Value};

use crate::app::{AppState, json, object, str_field};
use crate::errors::{Envelope, Failure, invalid_body, policy};
use crate::state::keys::Owner;
use crate::state::{Caller, parse_uuid};

type Answer = Result<Response, Failure>;

/// `POST /sdk/grants/list`.
pub(super) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Answer {
    caller.require("grants:read", Envelope::Detail)?;
    let object = object(&body)?;
    let limit = match object.get("limit") {
        None => 100,
        Some(value) => value
            .as_u64()
            .filter(|limit| (1..=1000).contains(limit))
            .ok_or_else(|| invalid_body("limit must be a whole number from 1 to 1000"))?,
    };
    let offset = match object.get("offset") {
        None => 0,
        Some(value) => value
            .as_u64()
            .ok_or_else(|| invalid_body("offset must be a whole number"))?,
    };

    let store = state.store.lock();
    let user = store.user_subject(str_field(&object, "user_token"))?;
    let page = store.list_grants(
        &caller,
        str_field(&object, "provider_id"),
        user.as_deref(),
        limit,
        offset,
    );
    Ok(json(200, &page))
}

/// `POST /sdk/oauth/grants/{grant_id}/revoke` (operator keys only).
pub(super) async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(grant_id): Path<String>,
    body: Bytes,
) -> Answer {
    caller.require("grants:write", Envelope::Detail)?;
    operator_only(&caller)?;
    let object = object(&body)?;

    let mut store = state.store.lock();
    let user = store.user_subject(str_field(&object, "user_token"))?;
    let result = store.revoke_grant(&grant_id, user.as_deref())?;
    Ok(json(200, &result))
}

/// `DELETE /sdk/grants/{grant_id}/delegations/me`: an agent gives up its delegation.
pub(super) async fn revoke_own_delegation(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(grant_id): Path<String>,
) -> Answer {
    caller.require("grants:write", Envelope::Detail)?;
    let Owner::Agent(agent) = caller.owner else {
        return Err(policy(
            "agent_key_required",
            "self-revocation needs an agent key",
            Some(&grant_id),
        ));
    };
    state
        .store
        .lock()
        .revoke_delegation(&grant_id, Some(agent))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /sdk/grants/{grant_id}/delegations/{agent_id}`: the operator ends a delegation.
pub(super) async fn revoke_delegation(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((grant_id, agent_id)): Path<(String, String)>,
) -> Answer {
    caller.require("grants:write", Envelope::Detail)?;
    if caller.is_agent_key() {
        return Err(policy(
            "use_self_revoke_path",
            "agents revoke their own delegation at /delegations/me",
            Some(&grant_id),
        ));
    }
    state
        .store
        .lock()
        .revoke_delegation(&grant_id, parse_uuid(&agent_id))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /sdk/managed-secrets/{id}/grants` (operator keys only).
pub(super) async fn create_managed_secret_grant(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(managed_secret_id): Path<String>,
    body: Bytes,
) -> Answer {
    caller.require("grants:write", Envelope::Detail)?;
    let object = object(&body)?;
    let principal: Principal = object
        .get("principal")
        .and_then(|value| serde_json::from_value(value.clone()).ok())
        .ok_or_else(|| {
            invalid_body("principal must be a user, group, system or agent principal")
        })?;
    // An agent principal binds to the agent the key resolves to, so an agent key may grant
    // a managed secret to itself; every other principal needs the operator's key.
    if !matches!(principal, Principal::Agent { .. }) {
        operator_only(&caller)?;
    }
    let grant_policy: Map<String, Value> = match object.get("grant_policy") {
        None | Some(Value::Null) => Map::new(),
        Some(value) => {
            let policy: GrantPolicyInput = serde_json::from_value(value.clone())
                .map_err(|error| invalid_body(format!("invalid grant_policy: {error}")))?;
            match serde_json::to_value(policy) {
                Ok(Value::Object(map)) => map,
                _ => Map::new(),
            }
        }
    };

    let result = state.store.lock().create_managed_secret_grant(
        &caller,
        &managed_secret_id,
        &principal,
        grant_policy,
    )?;
    Ok(json(201, &result))
}

fn operator_only(caller: &Caller) -> Result<(), Failure> {
    if caller.is_agent_key() {
        return Err(policy(
            "operator_key_required",
            "this operation needs the app's key",
            None,
        ));
    }
    Ok(())
}

//! Connect sessions and their poll (PROTOCOL.md §5.11–5.13); completed through the control
//! API.

use alter_types::{ConnectSession, ManagedSecretConnectSession, Secret};
use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

use crate::app::{AppState, json, object, str_field};
use crate::errors::{Envelope, Failure, invalid_body, policy};
use crate::state::sessions::ConnectKind;
use crate::state::{Caller, Store, parse_uuid, stamp};

type Answer = Result<Response, Failure>;

/// `POST /sdk/oauth/connect/session`.
pub(super) async fn session(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Answer {
    caller.require("connect:write", Envelope::Detail)?;
    let object = object(&body)?;
    let allowed_providers = match object.get("allowed_providers") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            serde_json::from_value::<Vec<String>>(value.clone())
                .map_err(|_| invalid_body("allowed_providers must be a list of strings"))?,
        ),
    };
    let grant_policy = object
        .get("grant_policy")
        .and_then(Value::as_object)
        .cloned();

    let mut store = state.store.lock();
    let user = store.user_subject(str_field(&object, "user_token"))?;
    let agent = match str_field(&object, "agent") {
        Some(agent) => Some(resolve_agent(&store, agent)?),
        None => caller.acting_agent,
    };
    if str_field(&object, "agent").is_some() && user.is_none() {
        return Err(Failure::new(
            400,
            "agent_requires_user_token",
            "delegating to an agent needs the end user's token",
        ));
    }

    let session = store.open_connect_session(ConnectKind::OAuth {
        allowed_providers,
        agent,
        user,
        grant_policy,
    });
    Ok(json(
        200,
        &ConnectSession {
            connect_url: format!("{}/connect?session={}", state.base_url, session.token),
            expires_in: (session.expires_at - crate::state::now()).num_seconds(),
            expires_at: stamp(session.expires_at),
            session_token: Secret::new(session.token),
        },
    ))
}

/// `POST /sdk/oauth/connect/session/poll`.
pub(super) async fn poll(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Answer {
    caller.require("connect:write", Envelope::Detail)?;
    let object = object(&body)?;
    let token = str_field(&object, "session_token")
        .ok_or_else(|| invalid_body("session_token is required"))?;

    let mut store = state.store.lock();
    let session = store.connect_session_mut(token).ok_or_else(|| {
        Failure::new(
            404,
            "session_not_found",
            "no connect session with this token",
        )
    })?;
    Ok(json(200, &session.poll()))
}

/// `POST /sdk/managed-secrets/connect/session` (operator keys only).
pub(super) async fn managed_secret_session(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Answer {
    caller.require("connect:write", Envelope::Detail)?;
    if caller.is_agent_key() {
        return Err(policy(
            "operator_key_required",
            "this operation needs the app's key",
            None,
        ));
    }
    let object = object(&body)?;
    let slug = str_field(&object, "template_slug")
        .ok_or_else(|| invalid_body("template_slug is required"))?;
    let agent = str_field(&object, "delegated_agent_id")
        .ok_or_else(|| invalid_body("delegated_agent_id is required"))?;
    let token =
        str_field(&object, "user_token").ok_or_else(|| invalid_body("user_token is required"))?;

    let mut store = state.store.lock();
    let user = store.user_subject(Some(token))?.unwrap_or_default();
    let agent = parse_uuid(agent)
        .filter(|id| store.agent(*id).is_some_and(|a| !a.is_revoked()))
        .ok_or_else(|| Failure::new(404, "agent_not_found", "no agent with this id"))?;
    let managed_secret_id = store
        .managed_secrets
        .iter()
        .find(|secret| secret.slug.eq_ignore_ascii_case(slug))
        .map(|secret| secret.id.clone())
        .ok_or_else(|| {
            Failure::new(
                404,
                "template_not_found",
                "no managed secret template with this slug",
            )
        })?;

    let session = store.open_connect_session(ConnectKind::ManagedSecret {
        managed_secret_id,
        agent,
        user,
    });
    Ok(json(
        200,
        &ManagedSecretConnectSession {
            connect_url: Secret::new(format!(
                "{}/connect/managed-secret?session={}",
                state.base_url, session.token
            )),
            expires_in: (session.expires_at - crate::state::now()).num_seconds(),
            expires_at: stamp(session.expires_at),
            session_token: Secret::new(session.token),
        },
    ))
}

/// An agent named by UUID or by name.
fn resolve_agent(store: &Store, agent: &str) -> Result<uuid::Uuid, Failure> {
    store
        .agents
        .iter()
        .filter(|record| !record.is_revoked())
        .find(|record| Some(record.id) == parse_uuid(agent) || record.name == agent)
        .map(|record| record.id)
        .ok_or_else(|| Failure::new(404, "agent_not_found", "no agent with this id or name"))
}

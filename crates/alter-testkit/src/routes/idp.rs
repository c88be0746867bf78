//! End-user sign-in through the app's identity provider (PROTOCOL.md §5.14–5.16).

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json as json_value};

use crate::app::{AppState, json, object, str_field};
use crate::errors::{Envelope, Failure, invalid_body};
use crate::state::{Caller, now, stamp};

type Answer = Result<Response, Failure>;

/// `POST /sdk/auth/session`: 201 with the sign-in URL.
pub(super) async fn session(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Answer {
    caller.require("idp_users:write", Envelope::Detail)?;
    let session = state.store.lock().open_auth_session();
    Ok(json(
        201,
        &json_value!({
            "auth_url": format!("{}/auth?session={}", state.base_url, session.token),
            "session_token": session.token,
            "expires_in": (session.expires_at - now()).num_seconds(),
            "expires_at": stamp(session.expires_at),
        }),
    ))
}

/// `POST /sdk/auth/poll`.
pub(super) async fn poll(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Answer {
    caller.require("idp_users:read", Envelope::Detail)?;
    let object = object(&body)?;
    let token = str_field(&object, "session_token")
        .ok_or_else(|| invalid_body("session_token is required"))?;

    let mut store = state.store.lock();
    let session = store
        .auth_session_mut(token)
        .ok_or_else(|| Failure::new(404, "session_not_found", "no auth session with this token"))?;
    Ok(json(200, &session.poll()))
}

/// `POST /sdk/auth/verify-token`: 200 with the user's claims for a token the fake issued,
/// 401 otherwise.
pub(super) async fn verify(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Answer {
    caller.require("idp_users:read", Envelope::Detail)?;
    let object = object(&body)?;
    let token = str_field(&object, "token").unwrap_or_default();

    let store = state.store.lock();
    let user = store
        .user(token)
        .ok_or_else(|| Failure::new(401, "invalid_token", "the user token is not valid"))?;
    Ok(json(200, &Value::Object(user.info.clone())))
}

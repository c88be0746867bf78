//! `POST /sdk/token`: a credential for retrieve mode (PROTOCOL.md §5.1, §6.4–6.5).

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

use crate::app::{AppState, json, object, str_field};
use crate::errors::{Envelope, Failure, invalid_body};
use crate::state::Caller;
use crate::state::access::Lookup;

/// `POST /sdk/token` in grant mode (`grant_id`) or provider mode (`provider_id`).
pub(super) async fn token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Response, Failure> {
    caller.require("tokens:retrieve", Envelope::Detail)?;
    let object = object(&body)?;
    let described = object.get("request").and_then(Value::as_object);
    if !described.is_some_and(|r| {
        r.get("method").is_some_and(Value::is_string) && r.get("url").is_some_and(Value::is_string)
    }) {
        return Err(invalid_body(
            "request must be an object with string method and url",
        ));
    }
    let lookup = match (
        str_field(&object, "grant_id"),
        str_field(&object, "provider_id"),
    ) {
        (Some(grant_id), _) => Lookup::Grant(grant_id),
        (None, Some(provider_id)) => Lookup::Provider {
            provider_id,
            account: str_field(&object, "account"),
            app_user_id: str_field(&object, "app_user_id"),
        },
        (None, None) => return Err(invalid_body("give grant_id or provider_id")),
    };

    let mut store = state.store.lock();
    let user = store.user_subject(str_field(&object, "user_token"))?;
    let id = store.usable_grant(&caller, &lookup, user.as_deref())?;
    let grant = store
        .grant(&id)
        .ok_or_else(|| crate::errors::grant_not_found(Some(&id), None))?;
    if grant.requires_approval {
        return Err(Failure::new(
            400,
            "hitl_requires_proxy",
            "this grant needs a human approval per call; use proxy mode",
        )
        .with("grant_id", id.as_str()));
    }
    Ok(json(200, &grant.token_body(grant.provider_id(&store))))
}

//! Every `/sdk/…` endpoint of PROTOCOL.md §5, behind the authentication middleware, plus
//! the unsigned control routes under `/_testkit/`.

mod agents;
mod audit;
mod connect;
mod grants;
mod idp;
mod keys;
mod proxy;
mod token;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::Response;
use axum::routing::{delete, get, patch, post};

use crate::app::{AppState, RoutePattern, json};
use crate::auth::authenticate;
use crate::control;

pub(crate) use proxy::{execute_call, settle};

/// The backend's router.
pub(crate) fn router(state: AppState) -> Router {
    let sdk = Router::new()
        .route("/sdk/token", post(token::token))
        .route("/sdk/oauth/audit/api-call", post(audit::upload))
        .route(
            "/sdk/grants/{grant_id}/report-scope-mismatch",
            post(audit::scope_report),
        )
        .route("/sdk/proxy", post(proxy::proxy))
        .route("/sdk/approvals/{approval_id}", get(proxy::status))
        .route("/sdk/approvals/{approval_id}/result", get(proxy::result))
        .route("/sdk/grants/list", post(grants::list))
        .route("/sdk/oauth/grants/{grant_id}/revoke", post(grants::revoke))
        .route(
            "/sdk/grants/{grant_id}/delegations/me",
            delete(grants::revoke_own_delegation),
        )
        .route(
            "/sdk/grants/{grant_id}/delegations/{agent_id}",
            delete(grants::revoke_delegation),
        )
        .route(
            "/sdk/managed-secrets/{managed_secret_id}/grants",
            post(grants::create_managed_secret_grant),
        )
        .route(
            "/sdk/managed-secrets/connect/session",
            post(connect::managed_secret_session),
        )
        .route("/sdk/oauth/connect/session", post(connect::session))
        .route("/sdk/oauth/connect/session/poll", post(connect::poll))
        .route("/sdk/auth/session", post(idp::session))
        .route("/sdk/auth/poll", post(idp::poll))
        .route("/sdk/auth/verify-token", post(idp::verify))
        .route("/sdk/agents", post(agents::create).get(agents::list))
        .route("/sdk/agents/me", get(agents::me))
        .route(
            "/sdk/agents/{agent_id}",
            get(agents::get)
                .patch(agents::update)
                .delete(agents::delete),
        )
        .route(
            "/sdk/agents/{agent_id}/keys",
            post(agents::mint_key).get(agents::list_keys),
        )
        .route(
            "/sdk/agents/{agent_id}/keys/{key_id}",
            delete(agents::revoke_key),
        )
        .route(
            "/sdk/agents/{agent_id}/keys/{key_id}/deprecate",
            patch(agents::deprecate_key),
        )
        .route(
            "/sdk/agents/{agent_id}/keys/{key_id}/undeprecate",
            patch(agents::undeprecate_key),
        )
        .route("/sdk/keys/derive", post(keys::derive))
        .route("/sdk/keys/{key_id}/rotate", post(keys::rotate))
        .route("/sdk/keys/{key_id}", delete(keys::revoke))
        .route("/sdk/scopes", get(keys::scopes))
        .route_layer(from_fn_with_state(state.clone(), authenticate));

    Router::new()
        .merge(sdk)
        .nest("/_testkit", control::router())
        .route_layer(from_fn(tag_route))
        .fallback(not_found)
        .with_state(state)
}

/// Copies the matched route onto the response, for the recorder.
async fn tag_route(request: Request, next: Next) -> Response {
    let pattern = request
        .extensions()
        .get::<MatchedPath>()
        .map(|matched| format!("{} {}", request.method(), matched.as_str()));
    let mut response = next.run(request).await;
    if let Some(pattern) = pattern {
        response.extensions_mut().insert(RoutePattern(pattern));
    }
    response
}

/// Unknown paths answer as FastAPI does.
async fn not_found() -> Response {
    json(404, &serde_json::json!({"detail": "Not Found"}))
}

/// Reads `name` from a raw query string, form-decoded.
pub(crate) fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|piece| {
        let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
        let key = String::from_utf8_lossy(&alter_core::encoding::form_decode(key)).into_owned();
        (key == name).then(|| {
            String::from_utf8_lossy(&alter_core::encoding::form_decode(value)).into_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_form_decoded() {
        assert_eq!(
            query_value(Some("name=ops+bot%2Feu&limit=3"), "name").as_deref(),
            Some("ops bot/eu")
        );
        assert_eq!(query_value(Some("force"), "force").as_deref(), Some(""));
        assert_eq!(query_value(None, "x"), None);
        assert_eq!(query_value(Some("a=1"), "b"), None);
    }
}

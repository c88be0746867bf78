//! `/sdk/keys…` and `/sdk/scopes` (PROTOCOL.md §5.18–5.19).

use std::time::Duration;

use alter_types::{MintedKey, ScopeCatalog, ScopeResource, Secret};
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use bytes::Bytes;
use indexmap::IndexMap;
use serde_json::Value;

use super::query_value;
use crate::app::{AppState, json, object};
use crate::errors::{Envelope, Failure, constraint_not_narrowing, invalid_body};
use crate::state::keys::{APP_SCOPES, KeyRecord, Owner};
use crate::state::{Caller, Store, after, now, parse_uuid};

type Answer = Result<Response, Failure>;

/// `POST /sdk/keys/derive`: a short-lived key with a subset of the caller's scopes.
pub(super) async fn derive(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Answer {
    caller.require("keys:derive", Envelope::Detail)?;
    let object = object(&body)?;
    let scopes: Vec<String> = object
        .get("scopes")
        .and_then(|value| serde_json::from_value(value.clone()).ok())
        .filter(|scopes: &Vec<String>| !scopes.is_empty())
        .ok_or_else(|| invalid_body("scopes must be a non-empty list of strings"))?;
    let expires_in = object
        .get("expires_in")
        .and_then(Value::as_u64)
        .filter(|seconds| *seconds > 0)
        .ok_or_else(|| invalid_body("expires_in must be a positive whole number"))?;
    let broader: Vec<String> = scopes
        .iter()
        .filter(|scope| !caller.scopes.contains(scope))
        .cloned()
        .collect();
    if !broader.is_empty() {
        return Err(constraint_not_narrowing(&broader));
    }

    let mut store = state.store.lock();
    let id = store.rng.uuid();
    let secret = store.rng.api_key("dk");
    let name = object.get("name").and_then(Value::as_str).map_or_else(
        || format!("derived-{}", store.keys.len() + 1),
        str::to_owned,
    );
    let mut key = KeyRecord::new(
        id,
        secret.clone(),
        alter_types::KeyType::Dk,
        name,
        scopes,
        caller.owner,
        now(),
    );
    key.parent_key_id = Some(caller.key_id);
    key.expires_at = Some(after(now(), Duration::from_secs(expires_in)));
    key.cidr_allowlist = object
        .get("cidr_allowlist")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let info = key.info();
    store.keys.push(key);
    Ok(json(
        201,
        &MintedKey {
            key: info,
            api_key: Secret::new(secret),
        },
    ))
}

/// `POST /sdk/keys/{key_id}/rotate`: a new key with the same scopes; the old one keeps
/// working for `overlap_days`, marked deprecated.
pub(super) async fn rotate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key_id): Path<String>,
    body: Bytes,
) -> Answer {
    caller.require("keys:admin", Envelope::Detail)?;
    let object = object(&body)?;
    let overlap_days = match object.get("overlap_days") {
        None => 7,
        Some(value) => value
            .as_u64()
            .filter(|days| *days <= 30)
            .ok_or_else(|| invalid_body("overlap_days must be a whole number from 0 to 30"))?,
    };

    let mut store = state.store.lock();
    let old = visible_key(&store, &caller, &key_id)?.clone();
    if old.revoked_at.is_some() {
        return Err(Failure::new(409, "key_revoked", "the key is revoked"));
    }

    let at = now();
    let secret = store.rng.api_key(old.key_type.as_str());
    let mut key = KeyRecord::new(
        store.rng.uuid(),
        secret.clone(),
        old.key_type.clone(),
        old.name.clone(),
        old.scopes.clone(),
        old.owner,
        at,
    );
    key.parent_key_id = old.parent_key_id;
    key.expires_at = old.expires_at;
    let info = key.info();
    store.keys.push(key);
    if let Some(previous) = store.key_mut(old.id) {
        previous.deprecated_at = Some(at);
        previous.expires_at = Some(after(at, Duration::from_secs(overlap_days * 86_400)));
    }
    Ok(json(
        201,
        &MintedKey {
            key: info,
            api_key: Secret::new(secret),
        },
    ))
}

/// `DELETE /sdk/keys/{key_id}[?force=true]`: revoking the key that signs the request needs
/// `force`.
pub(super) async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    caller.require("keys:admin", Envelope::Detail)?;
    let force = query_value(query.as_deref(), "force").as_deref() == Some("true");
    let mut store = state.store.lock();
    let key = visible_key(&store, &caller, &key_id)?.clone();
    if key.revoked_at.is_some() {
        return Err(Failure::new(
            409,
            "key_revoked",
            "the key is already revoked",
        ));
    }
    if key.id == caller.key_id && !force {
        return Err(Failure::new(
            409,
            "revoking_current_key",
            "this key signs the request; pass force=true to revoke it",
        ));
    }

    let key = store.key_mut(key.id).ok_or_else(key_not_found)?;
    key.revoked_at = Some(now());
    Ok(json(200, &key.info()))
}

/// `GET /sdk/scopes`: the catalog of every scope an API key can hold.
pub(super) async fn scopes(Extension(_caller): Extension<Caller>) -> Response {
    json(200, &catalog())
}

/// The scope catalog: `resource:verb` for every scope of the app key.
pub(crate) fn catalog() -> ScopeCatalog {
    let mut resources: IndexMap<String, ScopeResource> = IndexMap::new();
    let mut verbs: Vec<String> = Vec::new();
    for scope in APP_SCOPES {
        let (resource, verb) = scope.split_once(':').unwrap_or((scope, ""));
        resources
            .entry(resource.to_owned())
            .or_insert_with(|| ScopeResource { verbs: Vec::new() })
            .verbs
            .push(verb.to_owned());
        if !verbs.iter().any(|known| known == verb) {
            verbs.push(verb.to_owned());
        }
    }
    ScopeCatalog {
        scope_version: 1,
        resources,
        action_verbs: verbs,
        deprecated: Vec::new(),
    }
}

/// A key the caller may manage: an app key reaches every key, an agent key only its
/// agent's keys.
fn visible_key<'a>(
    store: &'a Store,
    caller: &Caller,
    key_id: &str,
) -> Result<&'a KeyRecord, Failure> {
    parse_uuid(key_id)
        .and_then(|id| store.key(id))
        .filter(|key| caller.owner == Owner::App || key.owner == caller.owner)
        .ok_or_else(key_not_found)
}

fn key_not_found() -> Failure {
    Failure::new(404, "key_not_found", "no key with this id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_lists_every_scope_once() {
        let catalog = catalog();
        let count: usize = catalog.resources.values().map(|r| r.verbs.len()).sum();
        assert_eq!(count, APP_SCOPES.len());
        assert!(
            catalog.resources["keys"]
                .verbs
                .contains(&"derive".to_owned())
        );
        assert!(catalog.action_verbs.contains(&"read".to_owned()));
    }
}

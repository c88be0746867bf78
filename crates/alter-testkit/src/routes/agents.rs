//! `/sdk/agents…`: the operator's agent registry and `me()` (PROTOCOL.md §5.17). Errors are
//! top-level bodies read by the agents mapper (§4.5).

use alter_types::{
    AgentCreateResult, AgentKeyList, AgentKeyMintResult, AgentListResult, AgentStatus, AgentType,
    KeyType, Secret,
};
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use bytes::Bytes;
use http::HeaderMap;
use indexmap::IndexMap;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::query_value;
use crate::app::{AppState, json, object};
use crate::errors::{Envelope, Failure, agent_error};
use crate::state::agents::{AgentRecord, only_broadens};
use crate::state::keys::{AGENT_SCOPES, KeyRecord, Owner, scopes};
use crate::state::{Caller, IdempotentCreate, Store, now, parse_uuid};

type Answer = Result<Response, Failure>;

/// `POST /sdk/agents`.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    operator_only(&caller, "agents:write")?;
    let object = object(&body).map_err(Failure::top_level)?;
    let name = match object.get("name").and_then(Value::as_str) {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => return Err(invalid("name must be a non-empty string")),
    };
    let agent_type = match object.get("type").and_then(Value::as_str) {
        None | Some("agent") => AgentType::Agent,
        Some("service") => AgentType::Service,
        Some(_) => return Err(invalid("type must be 'agent' or 'service'")),
    };
    let provider_scopes = scope_map(object.get("scopes"))?;
    let metadata = object_field(&object, "metadata")?;
    let policy = object_field(&object, "policy")?;
    let display_name = object
        .get("display_name")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    let mut store = state.store.lock();
    if let Some(key) = &idempotency_key {
        if let Some(prior) = store.idempotency.get(key).cloned() {
            return replay(&store, &prior, &Value::Object(object));
        }
    }
    if store
        .agents
        .iter()
        .any(|agent| agent.name == name && !agent.is_revoked())
    {
        return Err(agent_error(
            409,
            "agent_name_exists",
            "an agent with this name already exists",
        ));
    }

    let mut agent = AgentRecord::new(store.rng.uuid(), name, now());
    agent.agent_type = agent_type;
    agent.display_name = display_name;
    agent.scopes = provider_scopes;
    agent.metadata = metadata;
    agent.policy = policy;
    let info_id = agent.id;
    store.agents.push(agent);
    let (key_id, secret) = mint_agent_key(&mut store, info_id);

    if let Some(key) = idempotency_key {
        store.idempotency.insert(
            key,
            IdempotentCreate {
                body: Value::Object(object),
                agent_id: info_id,
                key_id,
            },
        );
    }
    let info = store
        .agent(info_id)
        .map(AgentRecord::info)
        .ok_or_else(missing_agent)?;
    Ok(json(
        201,
        &AgentCreateResult {
            agent: info,
            api_key: Some(Secret::new(secret)),
            key_id,
        },
    ))
}

/// A replayed create: the same agent, without a key (§2.4).
fn replay(store: &Store, prior: &IdempotentCreate, body: &Value) -> Answer {
    if prior.body != *body {
        return Err(agent_error(
            409,
            "idempotency_key_body_mismatch",
            "this idempotency key was used with a different body",
        ));
    }
    let agent = store.agent(prior.agent_id).ok_or_else(missing_agent)?;
    match agent.status {
        AgentStatus::Revoked => Err(agent_error(
            409,
            "idempotency_key_agent_revoked",
            "the agent created under this key was revoked",
        )),
        AgentStatus::Inactive => Err(agent_error(
            409,
            "idempotency_key_agent_inactive",
            "the agent created under this key is inactive",
        )),
        _ => Ok(json(
            200,
            &AgentCreateResult {
                agent: agent.info(),
                api_key: None,
                key_id: prior.key_id,
            },
        )),
    }
}

/// `GET /sdk/agents?include_revoked=…&limit=…&offset=…` and `?name=…`.
pub(super) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Answer {
    operator_only(&caller, "agents:read")?;
    let query = query.as_deref();
    let include_revoked = query_value(query, "include_revoked").as_deref() == Some("true");
    let name = query_value(query, "name");
    let limit = number(query, "limit", 100)?;
    let offset = number(query, "offset", 0)?;
    if !(1..=1000).contains(&limit) {
        return Err(invalid("limit must be between 1 and 1000"));
    }

    let store = state.store.lock();
    let matching: Vec<_> = store
        .agents
        .iter()
        .filter(|agent| include_revoked || !agent.is_revoked())
        .filter(|agent| name.as_ref().is_none_or(|name| &agent.name == name))
        .map(AgentRecord::info)
        .collect();
    let total = matching.len() as u64;
    let agents: Vec<_> = matching
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    Ok(json(
        200,
        &AgentListResult {
            has_more: offset + (agents.len() as u64) < total,
            agents,
            total,
            limit,
            offset,
        },
    ))
}

/// `GET /sdk/agents/{id}`.
pub(super) async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_id): Path<String>,
) -> Answer {
    operator_only(&caller, "agents:read")?;
    let store = state.store.lock();
    let agent = find(&store, &agent_id)?;
    Ok(json(200, &agent.info()))
}

/// `PATCH /sdk/agents/{id}`: display name, metadata, policy, and scopes that only broaden.
pub(super) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_id): Path<String>,
    body: Bytes,
) -> Answer {
    operator_only(&caller, "agents:write")?;
    let object = object(&body).map_err(Failure::top_level)?;
    if let Some(key) = object
        .keys()
        .find(|key| !["display_name", "metadata", "scopes", "policy"].contains(&key.as_str()))
    {
        return Err(invalid(&format!("field {key} cannot be updated")));
    }
    let new_scopes = match object.get("scopes") {
        Some(value) => Some(scope_map(Some(value))?),
        None => None,
    };
    let metadata = object
        .get("metadata")
        .map(|_| object_field(&object, "metadata"))
        .transpose()?;
    let policy = object
        .get("policy")
        .map(|_| object_field(&object, "policy"))
        .transpose()?;

    let mut store = state.store.lock();
    let id = find(&store, &agent_id)?.id;
    let agent = store.agent_mut(id).ok_or_else(missing_agent)?;
    if agent.is_revoked() {
        return Err(agent_error(409, "agent_revoked", "the agent was revoked"));
    }
    if let Some(scopes) = &new_scopes {
        if !only_broadens(&agent.scopes, scopes) {
            return Err(agent_error(
                409,
                "narrowing_requires_phase_g",
                "agent scopes can only be broadened",
            ));
        }
    }

    if let Some(display_name) = object.get("display_name") {
        agent.display_name = display_name.as_str().map(str::to_owned);
    }
    if let Some(scopes) = new_scopes {
        agent.scopes = scopes;
    }
    if let Some(metadata) = metadata {
        agent.metadata = metadata;
    }
    if let Some(policy) = policy {
        agent.policy = policy;
    }
    agent.version += 1;
    Ok(json(200, &agent.info()))
}

/// `DELETE /sdk/agents/{id}`: the agent and all its keys are revoked.
pub(super) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_id): Path<String>,
) -> Answer {
    operator_only(&caller, "agents:write")?;
    let mut store = state.store.lock();
    let id = find(&store, &agent_id)?.id;
    let at = now();
    for key in store
        .keys
        .iter_mut()
        .filter(|key| key.owner == Owner::Agent(id))
    {
        key.revoked_at.get_or_insert(at);
    }
    let agent = store.agent_mut(id).ok_or_else(missing_agent)?;
    if !agent.is_revoked() {
        agent.status = AgentStatus::Revoked;
        agent.version += 1;
    }
    Ok(json(200, &agent.info()))
}

/// `POST /sdk/agents/{id}/keys`.
pub(super) async fn mint_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_id): Path<String>,
) -> Answer {
    operator_only(&caller, "agents:write")?;
    let mut store = state.store.lock();
    let agent = find(&store, &agent_id)?;
    if agent.is_revoked() {
        return Err(agent_error(409, "agent_revoked", "the agent was revoked"));
    }
    let id = agent.id;
    let (key_id, secret) = mint_agent_key(&mut store, id);
    let key = store
        .key(key_id)
        .map(KeyRecord::agent_key)
        .ok_or_else(missing_key)?;
    Ok(json(
        201,
        &AgentKeyMintResult {
            key,
            api_key: Some(Secret::new(secret)),
        },
    ))
}

/// `GET /sdk/agents/{id}/keys`.
pub(super) async fn list_keys(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_id): Path<String>,
) -> Answer {
    operator_only(&caller, "agents:read")?;
    let store = state.store.lock();
    let id = find(&store, &agent_id)?.id;
    let items = agent_keys(&store, id).map(KeyRecord::agent_key).collect();
    Ok(json(200, &AgentKeyList { items }))
}

/// `PATCH /sdk/agents/{id}/keys/{key_id}/deprecate`.
pub(super) async fn deprecate_key(
    state: State<AppState>,
    caller: Extension<Caller>,
    Path((agent_id, key_id)): Path<(String, String)>,
) -> Answer {
    key_action(state, caller, &agent_id, &key_id, |key| {
        key.deprecated_at = Some(now())
    })
}

/// `PATCH /sdk/agents/{id}/keys/{key_id}/undeprecate`.
pub(super) async fn undeprecate_key(
    state: State<AppState>,
    caller: Extension<Caller>,
    Path((agent_id, key_id)): Path<(String, String)>,
) -> Answer {
    key_action(state, caller, &agent_id, &key_id, |key| {
        key.deprecated_at = None
    })
}

/// `DELETE /sdk/agents/{id}/keys/{key_id}[?force=true]`: the agent's last active key needs
/// `force`.
pub(super) async fn revoke_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_id, key_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Answer {
    operator_only(&caller, "agents:write")?;
    let force = query_value(query.as_deref(), "force").as_deref() == Some("true");
    let mut store = state.store.lock();
    let agent = find(&store, &agent_id)?.id;
    let key = find_key(&store, agent, &key_id)?;
    if key.revoked_at.is_some() {
        return Err(agent_error(
            409,
            "key_revoked",
            "the key is already revoked",
        ));
    }
    let others_active =
        agent_keys(&store, agent).any(|other| other.id != key.id && other.revoked_at.is_none());
    if !others_active && !force {
        return Err(agent_error(
            409,
            "last_active_key",
            "this is the agent's last active key; pass force=true",
        ));
    }

    let key_id = key.id;
    let key = store.key_mut(key_id).ok_or_else(missing_key)?;
    key.revoked_at = Some(now());
    Ok(json(200, &key.agent_key()))
}

/// `GET /sdk/agents/me`: the agent behind an agent key.
pub(super) async fn me(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Answer {
    let Owner::Agent(agent_id) = caller.owner else {
        return Err(agent_error(
            403,
            "me_requires_agent_key",
            "me() needs an agent key, not an app key",
        ));
    };
    let store = state.store.lock();
    let agent = store.agent(agent_id).ok_or_else(missing_agent)?;
    Ok(json(200, &agent.info()))
}

fn key_action(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    agent_id: &str,
    key_id: &str,
    change: impl FnOnce(&mut KeyRecord),
) -> Answer {
    operator_only(&caller, "agents:write")?;
    let mut store = state.store.lock();
    let agent = find(&store, agent_id)?.id;
    let key = find_key(&store, agent, key_id)?;
    if key.revoked_at.is_some() {
        return Err(agent_error(409, "key_revoked", "the key is revoked"));
    }
    let id = key.id;
    let key = store.key_mut(id).ok_or_else(missing_key)?;
    change(key);
    Ok(json(200, &key.agent_key()))
}

/// Agent keys may not call the operator's registry (§1.4); the scope must be held.
fn operator_only(caller: &Caller, scope: &str) -> Result<(), Failure> {
    if caller.is_agent_key() {
        return Err(agent_error(
            403,
            "agent_cannot_mint_subagents",
            "agent keys cannot manage agents",
        ));
    }
    caller.require(scope, Envelope::TopLevel)
}

fn find<'a>(store: &'a Store, agent_id: &str) -> Result<&'a AgentRecord, Failure> {
    parse_uuid(agent_id)
        .and_then(|id| store.agent(id))
        .ok_or_else(|| agent_error(404, "agent_not_found", "no agent with this id"))
}

fn find_key<'a>(store: &'a Store, agent: Uuid, key_id: &str) -> Result<&'a KeyRecord, Failure> {
    let key_id = parse_uuid(key_id);
    agent_keys(store, agent)
        .find(|key| Some(key.id) == key_id)
        .ok_or_else(|| agent_error(404, "key_not_found", "the agent has no key with this id"))
}

fn agent_keys(store: &Store, agent: Uuid) -> impl Iterator<Item = &KeyRecord> {
    store
        .keys
        .iter()
        .filter(move |key| key.owner == Owner::Agent(agent) && key.key_type == KeyType::Ak)
}

/// Mints an `ak` key for the agent; returns its id and secret.
fn mint_agent_key(store: &mut Store, agent_id: Uuid) -> (Uuid, String) {
    let name = store
        .agent_mut(agent_id)
        .map_or_else(|| "agent-key".to_owned(), AgentRecord::next_key_name);
    let secret = store.rng.api_key("ak");
    let id = store.rng.uuid();
    store.keys.push(KeyRecord::new(
        id,
        secret.clone(),
        KeyType::Ak,
        name,
        scopes(AGENT_SCOPES),
        Owner::Agent(agent_id),
        now(),
    ));
    (id, secret)
}

fn scope_map(value: Option<&Value>) -> Result<IndexMap<String, Vec<String>>, Failure> {
    match value {
        None | Some(Value::Null) => Ok(IndexMap::new()),
        Some(value) => serde_json::from_value(value.clone())
            .map_err(|_| invalid("scopes must map providers to lists of scopes")),
    }
}

fn object_field(object: &Map<String, Value>, key: &str) -> Result<Map<String, Value>, Failure> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(inner)) => Ok(inner.clone()),
        Some(_) => Err(invalid(&format!("{key} must be an object"))),
    }
}

fn number(query: Option<&str>, name: &str, default: u64) -> Result<u64, Failure> {
    match query_value(query, name) {
        None => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| invalid(&format!("{name} must be a whole number"))),
    }
}

fn invalid(message: &str) -> Failure {
    agent_error(422, "invalid_request", message)
}

fn missing_agent() -> Failure {
    agent_error(404, "agent_not_found", "no agent with this id")
}

fn missing_key() -> Failure {
    agent_error(404, "key_not_found", "no key with this id")
}

//! `/sdk/agents…`: the operator's agent registry and `Agent.me()` (PROTOCOL.md §5.17).

use std::sync::Arc;

use alter_types::{AgentCreateResult, AgentInfo, AgentKey, AgentKeyList, AgentKeyMintResult};
use alter_types::{AgentListResult, AgentType};
use serde_json::Value;

use super::{Object, agents, body, check_limit, require, require_id};
use crate::call::Call;
use crate::engine::{ApiPath, BackendCall, Engine, check_header_value};
use crate::error::{Error, Result};
use crate::retry::Idempotency;

/// Arguments of `agents.create`.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct CreateAgent {
    /// Unique name of the agent.
    pub name: String,
    /// Human-friendly name.
    pub display_name: Option<String>,
    /// `agent` (the default) or `service`.
    pub agent_type: Option<AgentType>,
    /// Provider → scope list. Defaults to `{}`.
    pub scopes: Option<Value>,
    /// Free-form metadata. Defaults to `{}`.
    pub metadata: Option<Value>,
    /// Policy document.
    pub policy: Option<Value>,
    /// Makes the create safe to repeat: a replay returns the same agent without a key.
    pub idempotency_key: Option<String>,
}

impl CreateAgent {
    /// An agent named `name` with every option at its default.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

/// Arguments of `agents.list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListAgents {
    /// Whether revoked agents are listed. Defaults to `false`.
    pub include_revoked: bool,
    /// Page size, 1 to 1000. Defaults to 100.
    pub limit: u32,
    /// Items to skip. Defaults to 0.
    pub offset: u64,
}

impl Default for ListAgents {
    fn default() -> Self {
        Self {
            include_revoked: false,
            limit: 100,
            offset: 0,
        }
    }
}

/// Arguments of `agents.update`: only the fields that are set are sent.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct UpdateAgent {
    /// New display name.
    pub display_name: Option<String>,
    /// New metadata.
    pub metadata: Option<Value>,
    /// New scopes (the backend only accepts broadening).
    pub scopes: Option<Value>,
    /// New policy (replaces the old one atomically).
    pub policy: Option<Value>,
}

impl Engine {
    /// `agents.create`: `POST /sdk/agents`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty name or an idempotency key with CR/LF.
    pub fn agents_create(self: &Arc<Self>, params: CreateAgent) -> Result<Call<AgentCreateResult>> {
        require("name", &params.name)?;

        let agent_type = params.agent_type.unwrap_or(AgentType::Agent);
        if !matches!(agent_type, AgentType::Agent | AgentType::Service) {
            return Err(Error::invalid_input(
                "agent type must be 'agent' or 'service'",
            ));
        }

        let mut object = Object::new();
        object.insert("name".into(), params.name.into());
        object.insert("type".into(), agent_type.as_str().into());
        object.insert("scopes".into(), params.scopes.unwrap_or_else(empty_object));
        object.insert(
            "metadata".into(),
            params.metadata.unwrap_or_else(empty_object),
        );
        if let Some(display_name) = params.display_name {
            object.insert("display_name".into(), display_name.into());
        }
        if let Some(policy) = params.policy {
            object.insert("policy".into(), policy);
        }

        let mut call = BackendCall::new("POST", ApiPath::new("/sdk/agents")).json(body(object));
        if let Some(key) = params.idempotency_key {
            require("idempotency key", &key)?;
            check_header_value("idempotency key", &key)?;
            call = call.header("Idempotency-Key", key);
        }

        // With an idempotency key the backend deduplicates, so a resend is safe.
        let idempotency = if call.extra_headers.is_empty() {
            Idempotency::Unsafe
        } else {
            Idempotency::Safe
        };
        Ok(Call::new(
            Arc::clone(self),
            call,
            idempotency,
            Box::new(agents),
        ))
    }

    /// `agents.list`: `GET /sdk/agents?include_revoked=…&limit=…&offset=…`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a limit outside 1..=1000.
    pub fn agents_list(self: &Arc<Self>, params: ListAgents) -> Result<Call<AgentListResult>> {
        check_limit(params.limit)?;

        let include_revoked = if params.include_revoked {
            "true"
        } else {
            "false"
        };
        let (limit, offset) = (params.limit.to_string(), params.offset.to_string());
        let path = ApiPath::new("/sdk/agents").query([
            ("include_revoked", include_revoked),
            ("limit", limit.as_str()),
            ("offset", offset.as_str()),
        ]);
        Ok(self.agents_read(path, Box::new(agents)))
    }

    /// `agents.get`: `GET /sdk/agents/{id}`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty id.
    pub fn agents_get(self: &Arc<Self>, agent_id: &str) -> Result<Call<AgentInfo>> {
        require_id("agent_id", agent_id)?;
        Ok(self.agents_read(
            ApiPath::new("/sdk/agents").param(agent_id),
            Box::new(agents),
        ))
    }

    /// `agents.get_by_name`: `GET /sdk/agents?name=…`, the first match or `None`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty name.
    pub fn agents_get_by_name(self: &Arc<Self>, name: &str) -> Result<Call<Option<AgentInfo>>> {
        require("name", name)?;

        let path = ApiPath::new("/sdk/agents").query([("name", name)]);
        Ok(self.agents_read(
            path,
            Box::new(|response| {
                let list: AgentListResult = agents(response)?;
                Ok(list.agents.into_iter().next())
            }),
        ))
    }

    /// `agents.update`: `PATCH /sdk/agents/{id}` with the fields that are set.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty id.
    pub fn agents_update(
        self: &Arc<Self>,
        agent_id: &str,
        params: UpdateAgent,
    ) -> Result<Call<AgentInfo>> {
        require_id("agent_id", agent_id)?;

        let mut object = Object::new();
        if let Some(display_name) = params.display_name {
            object.insert("display_name".into(), display_name.into());
        }
        if let Some(metadata) = params.metadata {
            object.insert("metadata".into(), metadata);
        }
        if let Some(scopes) = params.scopes {
            object.insert("scopes".into(), scopes);
        }
        if let Some(policy) = params.policy {
            object.insert("policy".into(), policy);
        }

        let path = ApiPath::new("/sdk/agents").param(agent_id);
        Ok(self.agents_write("PATCH", path, Some(body(object)), Box::new(agents)))
    }

    /// `agents.delete`: `DELETE /sdk/agents/{id}`; returns the agent, now revoked.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty id.
    pub fn agents_delete(self: &Arc<Self>, agent_id: &str) -> Result<Call<AgentInfo>> {
        require_id("agent_id", agent_id)?;
        let path = ApiPath::new("/sdk/agents").param(agent_id);
        Ok(self.agents_write("DELETE", path, None, Box::new(agents)))
    }

    /// `agents.mint_key`: `POST /sdk/agents/{id}/keys`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty id.
    pub fn agents_mint_key(self: &Arc<Self>, agent_id: &str) -> Result<Call<AgentKeyMintResult>> {
        require_id("agent_id", agent_id)?;
        let path = ApiPath::new("/sdk/agents").param(agent_id).then("/keys");
        Ok(self.agents_write("POST", path, Some(b"{}".to_vec()), Box::new(agents)))
    }

    /// `agents.list_keys`: `GET /sdk/agents/{id}/keys`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty id.
    pub fn agents_list_keys(self: &Arc<Self>, agent_id: &str) -> Result<Call<AgentKeyList>> {
        require_id("agent_id", agent_id)?;
        let path = ApiPath::new("/sdk/agents").param(agent_id).then("/keys");
        Ok(self.agents_read(path, Box::new(agents)))
    }

    /// `agents.deprecate_key`: `PATCH /sdk/agents/{id}/keys/{key_id}/deprecate`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty id.
    pub fn agents_deprecate_key(
        self: &Arc<Self>,
        agent_id: &str,
        key_id: &str,
    ) -> Result<Call<AgentKey>> {
        self.agent_key_action(agent_id, key_id, "/deprecate")
    }

    /// `agents.undeprecate_key`: `PATCH /sdk/agents/{id}/keys/{key_id}/undeprecate`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty id.
    pub fn agents_undeprecate_key(
        self: &Arc<Self>,
        agent_id: &str,
        key_id: &str,
    ) -> Result<Call<AgentKey>> {
        self.agent_key_action(agent_id, key_id, "/undeprecate")
    }

    /// `agents.revoke_key`: `DELETE /sdk/agents/{id}/keys/{key_id}[?force=true]`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty id.
    pub fn agents_revoke_key(
        self: &Arc<Self>,
        agent_id: &str,
        key_id: &str,
        force: bool,
    ) -> Result<Call<AgentKey>> {
        require_id("agent_id", agent_id)?;
        require_id("key_id", key_id)?;

        let mut path = ApiPath::new("/sdk/agents")
            .param(agent_id)
            .then("/keys")
            .param(key_id);
        if force {
            path = path.query([("force", "true")]);
        }
        Ok(self.agents_write("DELETE", path, None, Box::new(agents)))
    }

    /// `Agent.me()`: `GET /sdk/agents/me`.
    pub fn agents_me(self: &Arc<Self>) -> Call<AgentInfo> {
        self.agents_read(ApiPath::new("/sdk/agents/me"), Box::new(agents))
    }

    fn agent_key_action(
        self: &Arc<Self>,
        agent_id: &str,
        key_id: &str,
        action: &str,
    ) -> Result<Call<AgentKey>> {
        require_id("agent_id", agent_id)?;
        require_id("key_id", key_id)?;

        let path = ApiPath::new("/sdk/agents")
            .param(agent_id)
            .then("/keys")
            .param(key_id)
            .then(action);
        Ok(self.agents_write("PATCH", path, Some(b"{}".to_vec()), Box::new(agents)))
    }

    fn agents_read<T>(
        self: &Arc<Self>,
        path: ApiPath,
        interpret: crate::call::Interpret<T>,
    ) -> Call<T> {
        Call::new(
            Arc::clone(self),
            BackendCall::new("GET", path),
            Idempotency::Safe,
            interpret,
        )
    }

    fn agents_write<T>(
        self: &Arc<Self>,
        method: &'static str,
        path: ApiPath,
        json: Option<Vec<u8>>,
        interpret: crate::call::Interpret<T>,
    ) -> Call<T> {
        let mut call = BackendCall::new(method, path);
        if let Some(json) = json {
            call = call.json(json);
        }
        Call::new(Arc::clone(self), call, Idempotency::Unsafe, interpret)
    }
}

fn empty_object() -> Value {
    Value::Object(Object::new())
}

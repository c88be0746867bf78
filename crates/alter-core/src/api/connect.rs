//! Connect sessions: OAuth connect (`/sdk/oauth/connect/session`, its poll) and
//! managed-secret connect (PROTOCOL.md §5.11–5.13).

use std::sync::Arc;

use alter_types::{ConnectPollResponse, ConnectSession, GrantPolicyInput};
use alter_types::{ManagedSecretConnectSession, Secret};
use serde_json::Value;

use super::grants::to_value;
use super::{Object, body, generic, require};
use crate::call::Call;
use crate::config::canonical_uuid;
use crate::engine::{ApiPath, BackendCall, Engine};
use crate::error::{Error, Result};
use crate::retry::Idempotency;

/// Arguments of `create_connect_session` (and of the session `connect` opens).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ConnectSessionParams {
    /// Providers the end user may connect. Defaults to all.
    pub allowed_providers: Option<Vec<String>>,
    /// Where the connect page sends the user afterwards.
    pub return_url: Option<String>,
    /// The origin allowed to embed the connect page.
    pub allowed_origin: Option<String>,
    /// Free-form metadata stored with the session.
    pub metadata: Option<Value>,
    /// Policy of the grants the session creates.
    pub grant_policy: Option<GrantPolicyInput>,
    /// Provider → scopes the grant must hold.
    pub required_scopes: Option<Value>,
    /// The agent (UUID or name) the grant is delegated to.
    pub agent: Option<String>,
    /// The end user's token; wins over the client's token getter.
    pub user_token: Option<Secret>,
}

/// Arguments of `create_managed_secret_connect_session`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ManagedSecretConnectParams {
    /// Template slug: letters, digits and `-`; sent lower-cased.
    pub template_slug: String,
    /// The agent the resulting grant is delegated to (a UUID, sent as given).
    pub delegated_agent_id: String,
    /// The end user's token.
    pub user_token: Secret,
    /// Requested lifetime of the grant, above zero.
    pub requested_ttl_seconds: Option<u64>,
    /// Display name of the agent on the connect page.
    pub delegated_agent_name: Option<String>,
    /// The origin allowed to embed the connect page.
    pub allowed_origin: Option<String>,
    /// Where the connect page sends the user afterwards.
    pub return_url: Option<String>,
}

impl ManagedSecretConnectParams {
    /// A session for this template, agent and user.
    pub fn new(
        template_slug: impl Into<String>,
        delegated_agent_id: impl Into<String>,
        user_token: impl Into<Secret>,
    ) -> Self {
        Self {
            template_slug: template_slug.into(),
            delegated_agent_id: delegated_agent_id.into(),
            user_token: user_token.into(),
            requested_ttl_seconds: None,
            delegated_agent_name: None,
            allowed_origin: None,
            return_url: None,
        }
    }
}

impl Engine {
    /// `create_connect_session`: `POST /sdk/oauth/connect/session`.
    ///
    /// `getter_token` is the client's token getter's answer; `params.user_token` wins.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty agent or user token.
    pub fn create_connect_session(
        self: &Arc<Self>,
        params: ConnectSessionParams,
        getter_token: Option<&Secret>,
    ) -> Result<Call<ConnectSession>> {
        let mut object = Object::new();
        object.insert(
            "allowed_providers".into(),
            option_value(params.allowed_providers),
        );
        object.insert("return_url".into(), option_value(params.return_url));
        object.insert("allowed_origin".into(), option_value(params.allowed_origin));
        object.insert("metadata".into(), params.metadata.unwrap_or(Value::Null));
        if let Some(policy) = &params.grant_policy {
            object.insert("grant_policy".into(), to_value(policy)?);
        }
        if let Some(required_scopes) = params.required_scopes {
            object.insert("required_scopes".into(), required_scopes);
        }
        if let Some(agent) = params.agent {
            require("agent", &agent)?;
            object.insert("agent".into(), agent.into());
        }
        let user_token = match &params.user_token {
            Some(explicit) => {
                require("user_token", explicit.expose_secret())?;
                Some(explicit)
            }
            None => getter_token,
        };
        if let Some(token) = user_token {
            object.insert("user_token".into(), token.expose_secret().into());
        }

        let path = ApiPath::new("/sdk/oauth/connect/session");
        let call = BackendCall::new("POST", path).json(body(object));
        Ok(Call::new(
            Arc::clone(self),
            call,
            Idempotency::Unsafe,
            Box::new(generic),
        ))
    }

    /// One poll of a connect session: `POST /sdk/oauth/connect/session/poll`.
    pub fn poll_connect_session_once(
        self: &Arc<Self>,
        session_token: &Secret,
    ) -> Call<ConnectPollResponse> {
        let mut object = Object::new();
        object.insert("session_token".into(), session_token.expose_secret().into());

        let path = ApiPath::new("/sdk/oauth/connect/session/poll");
        let call = BackendCall::new("POST", path).json(body(object));
        // Polling reads state; a repeated poll changes nothing.
        Call::new(Arc::clone(self), call, Idempotency::Safe, Box::new(generic))
    }

    /// `create_managed_secret_connect_session`: `POST /sdk/managed-secrets/connect/session`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a slug that is empty or has characters other than letters,
    /// digits and `-`, an agent id that is not a UUID, an empty user token, or a zero TTL.
    pub fn create_managed_secret_connect_session(
        self: &Arc<Self>,
        params: ManagedSecretConnectParams,
    ) -> Result<Call<ManagedSecretConnectSession>> {
        let slug = &params.template_slug;
        if slug.is_empty() || !slug.chars().all(|c| c.is_alphanumeric() || c == '-') {
            return Err(Error::invalid_input(
                "template_slug must be letters, digits and '-' only",
            ));
        }
        if canonical_uuid(&params.delegated_agent_id).is_none() {
            return Err(Error::invalid_input("delegated_agent_id must be a UUID"));
        }
        require("user_token", params.user_token.expose_secret())?;
        if params.requested_ttl_seconds == Some(0) {
            return Err(Error::invalid_input(
                "requested_ttl_seconds must be above zero",
            ));
        }

        let mut object = Object::new();
        object.insert("template_slug".into(), slug.to_lowercase().into());
        object.insert(
            "delegated_agent_id".into(),
            params.delegated_agent_id.into(),
        );
        object.insert(
            "user_token".into(),
            params.user_token.expose_secret().into(),
        );
        if let Some(ttl) = params.requested_ttl_seconds {
            object.insert("requested_ttl_seconds".into(), ttl.into());
        }
        if let Some(name) = params.delegated_agent_name {
            object.insert("delegated_agent_name".into(), name.into());
        }
        if let Some(origin) = params.allowed_origin {
            object.insert("allowed_origin".into(), origin.into());
        }
        if let Some(return_url) = params.return_url {
            object.insert("return_url".into(), return_url.into());
        }

        let path = ApiPath::new("/sdk/managed-secrets/connect/session");
        let call = BackendCall::new("POST", path).json(body(object));
        Ok(Call::new(
            Arc::clone(self),
            call,
            Idempotency::Unsafe,
            Box::new(generic),
        ))
    }
}

fn option_value<T: Into<Value>>(value: Option<T>) -> Value {
    value.map_or(Value::Null, Into::into)
}

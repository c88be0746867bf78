//! Grants: the unified list, revocation, delegations and managed-secret grants
//! (PROTOCOL.md §5.7–5.10).

use std::sync::Arc;

use alter_types::UnifiedGrantListResult;
use alter_types::{CreateGrantResult, GrantPolicyInput, Principal, RevokeGrantResult, Secret};

use super::{Object, body, check_limit, generic, generic_unit, require, require_id};
use crate::call::Call;
use crate::engine::{ApiPath, BackendCall, Engine};
use crate::error::{Error, Result};
use crate::retry::Idempotency;

/// Arguments of `list_grants`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListGrants {
    /// Only grants of this provider (App only). Defaults to all.
    pub provider_id: Option<String>,
    /// Page size, 1 to 1000. Defaults to 100.
    pub limit: u32,
    /// Items to skip. Defaults to 0.
    pub offset: u64,
}

impl Default for ListGrants {
    fn default() -> Self {
        Self {
            provider_id: None,
            limit: 100,
            offset: 0,
        }
    }
}

impl ListGrants {
    /// The same filter, one page further on.
    pub fn next_page(&self) -> Self {
        Self {
            offset: self.offset.saturating_add(u64::from(self.limit)),
            ..self.clone()
        }
    }
}

impl Engine {
    /// `list_grants`: `POST /sdk/grants/list`.
    ///
    /// `user_token` is the end user's token from the App's token getter; agents never send
    /// one.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a limit outside 1..=1000 or an empty provider id.
    pub fn list_grants(
        self: &Arc<Self>,
        params: ListGrants,
        user_token: Option<&Secret>,
    ) -> Result<Call<UnifiedGrantListResult>> {
        check_limit(params.limit)?;

        let mut object = Object::new();
        object.insert("limit".into(), params.limit.into());
        object.insert("offset".into(), params.offset.into());
        if let Some(provider_id) = params.provider_id {
            require("provider_id", &provider_id)?;
            object.insert("provider_id".into(), provider_id.into());
        }
        if let Some(token) = user_token {
            object.insert("user_token".into(), token.expose_secret().into());
        }

        let call = BackendCall::new("POST", ApiPath::new("/sdk/grants/list")).json(body(object));
        Ok(Call::new(
            Arc::clone(self),
            call,
            Idempotency::Safe,
            Box::new(generic),
        ))
    }

    /// `revoke_grant`: `POST /sdk/oauth/grants/{grant_id}/revoke`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty grant id.
    pub fn revoke_grant(
        self: &Arc<Self>,
        grant_id: &str,
        reason: Option<&str>,
        user_token: Option<&Secret>,
    ) -> Result<Call<RevokeGrantResult>> {
        require_id("grant_id", grant_id)?;

        let mut object = Object::new();
        if let Some(reason) = reason {
            object.insert("reason".into(), reason.into());
        }
        if let Some(token) = user_token {
            object.insert("user_token".into(), token.expose_secret().into());
        }

        let path = ApiPath::new("/sdk/oauth/grants")
            .param(grant_id)
            .then("/revoke");
        let call = BackendCall::new("POST", path).json(body(object));
        Ok(Call::new(
            Arc::clone(self),
            call,
            Idempotency::Unsafe,
            Box::new(generic),
        ))
    }

    /// `revoke_delegation`: `DELETE /sdk/grants/{grant_id}/delegations/{agent_id}`, or
    /// `…/delegations/me` when `agent_id` is `None` (an agent revoking its own delegation).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty grant or agent id.
    pub fn revoke_delegation(
        self: &Arc<Self>,
        grant_id: &str,
        agent_id: Option<&str>,
    ) -> Result<Call<()>> {
        require_id("grant_id", grant_id)?;

        let path = ApiPath::new("/sdk/grants")
            .param(grant_id)
            .then("/delegations");
        let path = match agent_id {
            Some(agent_id) => {
                require_id("agent_id", agent_id)?;
                path.param(agent_id)
            }
            None => path.then("/me"),
        };

        // Revoking a delegation twice is harmless (the backend answers 204 again).
        let call = BackendCall::new("DELETE", path);
        Ok(Call::new(
            Arc::clone(self),
            call,
            Idempotency::Safe,
            Box::new(generic_unit),
        ))
    }

    /// `create_managed_secret_grant`: `POST /sdk/managed-secrets/{id}/grants`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty managed-secret id.
    pub fn create_managed_secret_grant(
        self: &Arc<Self>,
        managed_secret_id: &str,
        principal: &Principal,
        grant_policy: Option<&GrantPolicyInput>,
    ) -> Result<Call<CreateGrantResult>> {
        require_id("managed_secret_id", managed_secret_id)?;

        let mut object = Object::new();
        object.insert("principal".into(), to_value(principal)?);
        let policy = match grant_policy {
            Some(policy) => to_value(policy)?,
            None => serde_json::Value::Object(Object::new()),
        };
        object.insert("grant_policy".into(), policy);

        let path = ApiPath::new("/sdk/managed-secrets")
            .param(managed_secret_id)
            .then("/grants");
        let call = BackendCall::new("POST", path).json(body(object));
        Ok(Call::new(
            Arc::clone(self),
            call,
            Idempotency::Unsafe,
            Box::new(generic),
        ))
    }
}

pub(crate) fn to_value<T: serde::Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value)
        .map_err(|error| Error::invalid_input(format!("cannot serialize argument: {error}")))
}

/// Walks every grant of a list, page after page, for the frontends' iterators.
///
/// Ask [`GrantPages::pop`] for the next grant; when it has none, send the request of
/// [`GrantPages::next_page`] (none left means the walk is over) and feed the answer to
/// [`GrantPages::on_page`].
#[derive(Debug, Clone)]
pub struct GrantPages {
    next: Option<ListGrants>,
    buffer: std::collections::VecDeque<alter_types::GrantItem>,
}

impl GrantPages {
    /// A walk starting at `params`' page.
    pub fn new(params: ListGrants) -> Self {
        Self {
            next: Some(params),
            buffer: std::collections::VecDeque::new(),
        }
    }

    /// The next grant already fetched.
    pub fn pop(&mut self) -> Option<alter_types::GrantItem> {
        self.buffer.pop_front()
    }

    /// The page to fetch next, if any.
    pub fn next_page(&self) -> Option<&ListGrants> {
        self.next.as_ref()
    }

    /// Takes in a fetched page. The walk ends when the backend says there is no more, when
    /// a page is empty, or when the next offset reaches the announced total, so a
    /// misbehaving backend cannot make it loop forever.
    pub fn on_page(&mut self, page: UnifiedGrantListResult) {
        let more = page.has_more && !page.grants.is_empty();
        self.next = match self.next.take() {
            Some(current) if more => {
                let next = current.next_page();
                let total = page.total;
                (next.offset < total && next.offset > current.offset).then_some(next)
            }
            _ => None,
        };
        self.buffer.extend(page.grants);
    }

    /// Ends the walk (after an error).
    pub fn stop(&mut self) {
        self.next = None;
    }
}

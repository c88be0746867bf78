//! `/sdk/keys…` and `/sdk/scopes`: derived keys, rotation, revocation and the scope
//! catalogue (PROTOCOL.md §5.18, §5.19).

use std::sync::Arc;

use alter_types::{ApiKeyInfo, MintedKey, ScopeCatalog};
use serde_json::Value;

use super::{Object, body, generic, require_id};
use crate::call::Call;
use crate::engine::{ApiPath, BackendCall, Engine};
use crate::error::{Error, Result};
use crate::retry::Idempotency;

/// Arguments of `keys.derive`.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct DeriveKey {
    /// Scopes of the derived key: at least one, none empty, never `keys:derive`.
    pub scopes: Vec<String>,
    /// Lifetime in seconds, above zero.
    pub expires_in: u64,
    /// Networks the key may be used from.
    pub cidr_allowlist: Option<Vec<String>>,
    /// Display name.
    pub name: Option<String>,
    /// Free-form metadata.
    pub metadata: Option<Value>,
}

impl DeriveKey {
    /// A derived key with these scopes and lifetime.
    pub fn new(scopes: impl IntoIterator<Item = impl Into<String>>, expires_in: u64) -> Self {
        Self {
            scopes: scopes.into_iter().map(Into::into).collect(),
            expires_in,
            ..Self::default()
        }
    }
}

impl Engine {
    /// `keys.derive`: `POST /sdk/keys/derive`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for no scopes, an empty scope, `keys:derive` among them, or a zero
    /// lifetime.
    pub fn keys_derive(self: &Arc<Self>, params: DeriveKey) -> Result<Call<MintedKey>> {
        if params.scopes.is_empty() || params.scopes.iter().any(String::is_empty) {
            return Err(Error::invalid_input(
                "scopes must be a non-empty list of non-empty strings",
            ));
        }
        if params.scopes.iter().any(|scope| scope == "keys:derive") {
            return Err(Error::invalid_input(
                "a derived key cannot hold keys:derive",
            ));
        }
        if params.expires_in == 0 {
            return Err(Error::invalid_input("expires_in must be above zero"));
        }

        let mut object = Object::new();
        object.insert("scopes".into(), params.scopes.into());
        object.insert("expires_in".into(), params.expires_in.into());
        if let Some(cidrs) = params.cidr_allowlist {
            object.insert("cidr_allowlist".into(), cidrs.into());
        }
        if let Some(name) = params.name {
            object.insert("name".into(), name.into());
        }
        if let Some(metadata) = params.metadata {
            object.insert("metadata".into(), metadata);
        }

        let call = BackendCall::new("POST", ApiPath::new("/sdk/keys/derive")).json(body(object));
        Ok(Call::new(
            Arc::clone(self),
            call,
            Idempotency::Unsafe,
            Box::new(generic),
        ))
    }

    /// `keys.rotate`: `POST /sdk/keys/{key_id}/rotate`; the old key keeps working for
    /// `overlap_days` (0 to 30; the reference default is 7).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty key id or an overlap above 30 days.
    pub fn keys_rotate(
        self: &Arc<Self>,
        key_id: &str,
        overlap_days: u32,
    ) -> Result<Call<MintedKey>> {
        require_id("key_id", key_id)?;
        if overlap_days > 30 {
            return Err(Error::invalid_input(
                "overlap_days must be between 0 and 30",
            ));
        }

        let mut object = Object::new();
        object.insert("overlap_days".into(), overlap_days.into());

        let path = ApiPath::new("/sdk/keys").param(key_id).then("/rotate");
        let call = BackendCall::new("POST", path).json(body(object));
        Ok(Call::new(
            Arc::clone(self),
            call,
            Idempotency::Unsafe,
            Box::new(generic),
        ))
    }

    /// `keys.revoke`: `DELETE /sdk/keys/{key_id}[?force=true]`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty key id.
    pub fn keys_revoke(self: &Arc<Self>, key_id: &str, force: bool) -> Result<Call<ApiKeyInfo>> {
        require_id("key_id", key_id)?;

        let mut path = ApiPath::new("/sdk/keys").param(key_id);
        if force {
            path = path.query([("force", "true")]);
        }
        let call = BackendCall::new("DELETE", path);
        Ok(Call::new(
            Arc::clone(self),
            call,
            Idempotency::Unsafe,
            Box::new(generic),
        ))
    }

    /// `scopes.list`: `GET /sdk/scopes`.
    pub fn scopes_list(self: &Arc<Self>) -> Call<ScopeCatalog> {
        let call = BackendCall::new("GET", ApiPath::new("/sdk/scopes"));
        Call::new(Arc::clone(self), call, Idempotency::Safe, Box::new(generic))
    }
}

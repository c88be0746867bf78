//! Request builders for every backend endpoint (PROTOCOL.md §5).
//!
//! Each constructor validates its input before any IO (`Error::InvalidInput` or
//! `Error::Sdk`, as the reference client does) and returns a [`Call`](crate::call::Call) or a polling
//! operation that a frontend drives. Parameter structs are shared by both frontends.

mod agents;
mod auth;
mod connect;
mod grants;
mod keys;
mod proxy;
mod request;

pub use agents::{CreateAgent, ListAgents, UpdateAgent};
pub use connect::{ConnectSessionParams, ManagedSecretConnectParams};
pub use grants::{GrantPages, ListGrants};
pub use keys::DeriveKey;
pub use proxy::{FORBIDDEN_PROXY_HEADERS, ProxyOutcome, ProxyRequest};
pub use request::{GrantTarget, ProviderResponse, Retrieve, RetrieveRequest};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::classify::{agents_success_body, classify_agents, classify_generic};
use crate::error::{Error, Result};
use crate::io::HttpResponse;
use crate::json;
use crate::limits::MAX_ID_LEN;

/// An ordered JSON object under construction.
pub(crate) type Object = Map<String, Value>;

/// The compact, Python-compatible bytes of a JSON object body.
pub(crate) fn body(object: Object) -> Vec<u8> {
    json::to_compact(&Value::Object(object))
}

/// Reads a success body into `T`; an unreadable body is a `MalformedResponse`.
pub(crate) fn decode<T: DeserializeOwned>(status: u16, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|error| Error::malformed(status, format!("unexpected response shape: {error}")))
}

/// Generic routes: any status below 400 is success (PROTOCOL.md §4.2).
pub(crate) fn generic<T: DeserializeOwned>(response: HttpResponse) -> Result<T> {
    if response.status >= 400 {
        return Err(classify_generic(response.status, &response.body));
    }
    decode(response.status, &response.body)
}

/// Generic routes whose success carries no value.
pub(crate) fn generic_unit(response: HttpResponse) -> Result<()> {
    if response.status >= 400 {
        return Err(classify_generic(response.status, &response.body));
    }
    Ok(())
}

/// Agents routes: 2xx is success, anything else an agent-domain error (PROTOCOL.md §4.5).
pub(crate) fn agents<T: DeserializeOwned>(response: HttpResponse) -> Result<T> {
    if !(200..300).contains(&response.status) {
        return Err(classify_agents(response.status, &response.body));
    }
    let value = agents_success_body(response.status, &response.body)?;
    serde_json::from_value(value).map_err(|error| {
        Error::malformed(
            response.status,
            format!("unexpected response shape: {error}"),
        )
    })
}

/// Rejects an empty required string argument.
pub(crate) fn require(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid_input(format!("{what} must not be empty")));
    }
    Ok(())
}

/// Rejects an id that cannot be a path segment: empty, longer than [`MAX_ID_LEN`] bytes,
/// or `.` / `..`, which HTTP stacks resolve against the parent segment (so `keys/..` would
/// reach another route).
pub(crate) fn require_id(what: &str, value: &str) -> Result<()> {
    require(what, value)?;
    if value.len() > MAX_ID_LEN {
        return Err(Error::invalid_input(format!(
            "{what} is {} bytes long; the limit is {MAX_ID_LEN}",
            value.len()
        )));
    }
    if value == "." || value == ".." {
        return Err(Error::invalid_input(format!(
            "{what} cannot be '.' or '..'"
        )));
    }
    Ok(())
}

/// Checks a list page (limit 1..=1000, offset >= 0 is guaranteed by the type).
pub(crate) fn check_limit(limit: u32) -> Result<()> {
    if !(1..=1000).contains(&limit) {
        return Err(Error::invalid_input("limit must be between 1 and 1000"));
    }
    Ok(())
}

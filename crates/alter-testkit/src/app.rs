//! State shared by every route, and small helpers for reading requests and writing answers.

use std::ops::Deref;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::StatusCode;
use http::header::CONTENT_TYPE;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::errors::{Failure, invalid_body};
use crate::outbound::Outbound;
use crate::state::SharedStore;

/// The request target as received (path and query), any mount prefix removed; the
/// signature covers its canonical form.
#[derive(Clone, Debug)]
pub(crate) struct RawTarget(pub(crate) String);

/// The request body exactly as received; the content hash covers these bytes.
#[derive(Clone, Debug)]
pub(crate) struct RawBody(pub(crate) Bytes);

/// The route pattern that answered, copied onto the response for the recorder.
#[derive(Clone, Debug)]
pub(crate) struct RoutePattern(pub(crate) String);

/// Everything a route can reach.
pub(crate) struct Shared {
    pub(crate) store: SharedStore,
    /// Where the backend listens, mount prefix included.
    pub(crate) base_url: String,
    /// The path the backend is mounted under (`""` or e.g. `/api`).
    pub(crate) mount_prefix: String,
    /// Where the fake provider listens.
    pub(crate) provider_base_url: String,
    /// The client the proxy executes provider calls with.
    pub(crate) outbound: Outbound,
}

/// Cheap handle on [`Shared`].
#[derive(Clone)]
pub(crate) struct AppState(pub(crate) Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// A JSON answer.
pub(crate) fn json<T: Serialize>(status: u16, value: &T) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    match serde_json::to_vec(value) {
        Ok(body) => (status, [(CONTENT_TYPE, "application/json")], body).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The body as a JSON object (`{}` for an empty body).
pub(crate) fn object(body: &Bytes) -> Result<Map<String, Value>, Failure> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(invalid_body("the body must be a JSON object")),
    }
}

/// The body read as `T`.
pub(crate) fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Failure> {
    let value = Value::Object(object(body)?);
    serde_json::from_value(value).map_err(|error| invalid_body(format!("invalid body: {error}")))
}

/// An optional string field; any other type counts as absent.
pub(crate) fn str_field<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_must_be_objects() {
        assert!(object(&Bytes::new()).unwrap().is_empty());
        assert_eq!(object(&Bytes::from_static(br#"{"a":1}"#)).unwrap()["a"], 1);
        assert_eq!(object(&Bytes::from_static(b"[1]")).unwrap_err().status, 422);
        assert_eq!(
            object(&Bytes::from_static(b"nope")).unwrap_err().status,
            422
        );

        #[derive(serde::Deserialize)]
        struct Limit {
            limit: u32,
        }
        assert_eq!(
            parse::<Limit>(&Bytes::from_static(br#"{"limit":5}"#))
                .unwrap()
                .limit,
            5
        );
        assert!(parse::<Limit>(&Bytes::from_static(br#"{"limit":"5"}"#)).is_err());
    }
}

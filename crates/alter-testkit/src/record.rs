//! What the fake records for assertions: every request it answered, audit rows and
//! scope-mismatch reports.

use std::fmt;

use alter_types::ApiCallAuditLog;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which of the two listeners a request reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Listener {
    /// The fake Alter backend (`base_url`).
    #[default]
    Backend,
    /// The fake provider (`provider_base_url`).
    Provider,
}

/// One request as the fake received it, and what it answered.
///
/// Header values and bodies are kept verbatim because tests assert on them; its `Debug`
/// output shows header names and the body length only.
#[derive(Clone, Serialize)]
pub struct RecordedRequest {
    /// Position in arrival order, from 1.
    pub seq: u64,
    /// Which listener received it.
    pub listener: Listener,
    /// HTTP method.
    pub method: String,
    /// Path and query as received (any mount prefix removed).
    pub path: String,
    /// The route that answered, e.g. `POST /sdk/proxy` or `GET /sdk/approvals/{approval_id}`;
    /// `None` when no route matched.
    pub route: Option<String>,
    /// Headers in arrival order, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    #[serde(serialize_with = "as_base64")]
    pub body: Vec<u8>,
    /// The status answered; `None` when the connection was dropped instead.
    pub status: Option<u16>,
    /// The injected fault that shaped the answer, if any (e.g. `status 503`, `drop`).
    pub fault: Option<String>,
}

impl RecordedRequest {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("RecordedRequest")
            .field("seq", &self.seq)
            .field("listener", &self.listener)
            .field("method", &self.method)
            .field("route", &self.route)
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .field("status", &self.status)
            .field("fault", &self.fault)
            .finish()
    }
}

/// Who wrote an audit row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditSource {
    /// Uploaded by an SDK after a retrieve-mode call (`POST /sdk/oauth/audit/api-call`).
    Sdk,
    /// Written by the fake itself after executing a proxied call.
    Proxy,
}

/// One stored audit row.
///
/// Its `Debug` output names the call and its status, never headers or bodies.
#[derive(Clone, Serialize)]
pub struct AuditRecord {
    /// Who wrote it.
    pub source: AuditSource,
    /// The row as typed data, when the upload had the §5.2 shape.
    pub log: Option<ApiCallAuditLog>,
    /// The row exactly as received (or written).
    pub raw: Value,
    /// The `X-Alter-Context` header of the upload, if any.
    pub context_header: Option<String>,
}

impl fmt::Debug for AuditRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let log = self.log.as_ref();
        f.debug_struct("AuditRecord")
            .field("source", &self.source)
            .field("grant_id", &log.map(|l| l.grant_id.as_str()))
            .field("method", &log.map(|l| l.method.as_str()))
            .field("response_status", &log.map(|l| l.response_status))
            .finish_non_exhaustive()
    }
}

/// One stored scope-mismatch report (`POST /sdk/grants/{grant_id}/report-scope-mismatch`).
#[derive(Clone, Debug, Serialize)]
pub struct ScopeReport {
    /// The grant named in the path.
    pub grant_id: String,
    /// The report body.
    pub body: Value,
}

fn as_base64<S: serde::Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    use base64::Engine as _;
    serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_names_not_values_and_json_shows_base64() {
        let request = RecordedRequest {
            seq: 1,
            listener: Listener::Backend,
            method: "POST".into(),
            path: "/sdk/token".into(),
            route: Some("POST /sdk/token".into()),
            headers: vec![("x-api-key".into(), "alter_rk_secret".into())],
            body: br#"{"user_token":"jwt"}"#.to_vec(),
            status: Some(200),
            fault: None,
        };

        let debug = format!("{request:?}");
        assert!(debug.contains("x-api-key") && !debug.contains("alter_rk_secret"));
        assert_eq!(request.header("X-API-KEY"), Some("alter_rk_secret"));
        assert_eq!(request.json().unwrap()["user_token"], "jwt");
        let json = serde_json::to_value(&request).unwrap();
        let audit = AuditRecord {
            source: AuditSource::Sdk,
            log: None,
            raw: serde_json::json!({"request_body": {"password": "hunter2"}}),
            context_header: None,
        };
        assert!(!format!("{audit:?}").contains("hunter2"));
        assert_eq!(json["body"], "eyJ1c2VyX3Rva2VuIjoiand0In0=");
        assert_eq!(json["listener"], "backend");
    }
}

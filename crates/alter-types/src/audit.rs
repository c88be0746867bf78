//! The audit row uploaded after each provider call (`POST /sdk/oauth/audit/api-call`,
//! PROTOCOL §5.2).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One audit row.
///
/// This struct is serialized into a signed request body, so its field order is the wire key
/// order of PROTOCOL §5.2, and every key is always written (`null` when absent). Building the
/// row (redacting headers, truncating bodies, PROTOCOL §6.8) is the caller's job; this type only
/// carries it.
///
/// ```
/// use alter_types::ApiCallAuditLog;
///
/// let row = ApiCallAuditLog {
///     grant_id: "0b6f7c8d-9e0a-4b1c-8d2e-3f4a5b6c7d8e".into(),
///     provider_id: "google".into(),
///     method: "GET".into(),
///     url: "https://www.googleapis.com/calendar/v3/users/me/calendarList".into(),
///     request_headers: None,
///     request_body: None,
///     response_status: 0,
///     response_headers: None,
///     response_body: "<transport error: timeout after 30000ms>".into(),
///     latency_ms: 30000,
///     reason: None,
///     context: None,
/// };
/// let json = serde_json::to_string(&row)?;
/// assert!(json.starts_with(r#"{"grant_id":"0b6f7c8d-9e0a-4b1c-8d2e-3f4a5b6c7d8e","provider_id""#));
/// assert!(json.contains(r#""request_body":null"#));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[doc(alias = "APICallAuditLog")]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiCallAuditLog {
    /// Grant used, canonical lower-case hyphenated UUID.
    pub grant_id: String,
    /// Provider id from the token response, or `""`.
    pub provider_id: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Request URL after templating, without query parameters or injected credentials.
    pub url: String,
    /// Outgoing headers minus credentials and the redaction set.
    pub request_headers: Option<IndexMap<String, String>>,
    /// Request body as sent (JSON value or decoded text); `null` when there was none.
    pub request_body: Option<Value>,
    /// Provider status; 0 on a transport error.
    pub response_status: u16,
    /// Response headers (lower-case names, repeated values joined by `, `); `null` on a
    /// transport error.
    pub response_headers: Option<IndexMap<String, String>>,
    /// Response body text, possibly truncated or replaced by a placeholder.
    pub response_body: String,
    /// Wall time of the provider call in milliseconds.
    pub latency_ms: u64,
    /// The caller's reason, if given.
    pub reason: Option<String>,
    /// The context map also sent as `X-Alter-Context`, if any.
    pub context: Option<IndexMap<String, String>>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn row() -> ApiCallAuditLog {
        ApiCallAuditLog {
            grant_id: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f".into(),
            provider_id: "aws".into(),
            method: "POST".into(),
            url: "https://example.test/items".into(),
            request_headers: Some(IndexMap::from([
                ("Content-Type".to_owned(), "application/json".to_owned()),
                ("User-Agent".to_owned(), "alter-sdk-rust/0.1.0".to_owned()),
            ])),
            request_body: Some(json!({"name": "widget", "qty": 2})),
            response_status: 200,
            response_headers: Some(IndexMap::from([(
                "content-type".to_owned(),
                "application/json".to_owned(),
            )])),
            response_body: r#"{"ok":true}"#.into(),
            latency_ms: 12,
            reason: Some("sync".into()),
            context: Some(IndexMap::from([("run_id".to_owned(), "r-1".to_owned())])),
        }
    }

    #[test]
    fn keys_are_written_in_protocol_order() {
        let expected = concat!(
            r#"{"grant_id":"1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f","provider_id":"aws","#,
            r#""method":"POST","url":"https://example.test/items","#,
            r#""request_headers":{"Content-Type":"application/json","User-Agent":"alter-sdk-rust/0.1.0"},"#,
            r#""request_body":{"name":"widget","qty":2},"response_status":200,"#,
            r#""response_headers":{"content-type":"application/json"},"#,
            r#""response_body":"{\"ok\":true}","latency_ms":12,"reason":"sync","#,
            r#""context":{"run_id":"r-1"}}"#
        );
        assert_eq!(serde_json::to_string(&row()).unwrap(), expected);
    }

    #[test]
    fn absent_values_are_explicit_nulls() {
        let transport_error = ApiCallAuditLog {
            request_headers: None,
            request_body: None,
            response_status: 0,
            response_headers: None,
            reason: None,
            context: None,
            ..row()
        };
        let json = serde_json::to_value(&transport_error).unwrap();
        let object = json.as_object().unwrap();
        assert_eq!(object.len(), 12);
        for key in [
            "request_headers",
            "request_body",
            "response_headers",
            "reason",
            "context",
        ] {
            assert_eq!(object[key], Value::Null, "{key}");
        }
    }

    #[test]
    fn round_trips() {
        let original = row();
        let json = serde_json::to_string(&original).unwrap();
        let back: ApiCallAuditLog = serde_json::from_str(&json).unwrap();
        assert_eq!(back, original);
    }
}

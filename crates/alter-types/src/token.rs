//! The credential answer of `POST /sdk/token` (PROTOCOL §5.1, §6.3–§6.5, §10).

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::serde_util::{null_as_default, timestamp_option};
use crate::{InjectionTarget, RetryInfo, Secret};

/// Header used when the backend does not name one.
pub const DEFAULT_INJECTION_HEADER: &str = "Authorization";
/// Header value template used when the backend does not send one; `{token}` is replaced by the
/// access token.
pub const DEFAULT_INJECTION_FORMAT: &str = "Bearer {token}";

/// A credential for one provider call, and how to attach it.
///
/// Every credential field (`access_token`, each value of `additional_credentials`) is a
/// [`Secret`], so the derived `Debug` never prints one. This type only parses; checking the
/// injection header and format (PROTOCOL §5.1) is the request path's job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The credential itself (OAuth access token, API key, AWS access key id, …).
    pub access_token: Secret,
    /// Token type; `Bearer` when absent.
    #[serde(default = "bearer")]
    pub token_type: String,
    /// Seconds until the credential expires, if known.
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// When the credential expires, if known.
    #[serde(default, with = "timestamp_option")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Scopes of the credential.
    #[serde(default, deserialize_with = "null_as_default")]
    pub scopes: Vec<String>,
    /// Grant the credential came from. Any JSON scalar is accepted and kept as its text.
    #[serde(deserialize_with = "scalar_as_string")]
    pub grant_id: String,
    /// Provider id; an empty string reads as `None`.
    #[serde(default, deserialize_with = "non_empty_or_none")]
    pub provider_id: Option<String>,
    /// Whether the backend flagged that the grant lacks a scope it should have.
    #[serde(default, deserialize_with = "null_as_default")]
    pub scope_mismatch: bool,
    /// Header to put the credential in; see [`TokenResponse::injection_header_or_default`].
    #[serde(default)]
    pub injection_header: Option<String>,
    /// Template of that header's value; see [`TokenResponse::injection_format_or_default`].
    #[serde(default)]
    pub injection_format: Option<String>,
    /// Extra credential parts (for AWS: `secret_key`, `region`, `service`).
    #[serde(default)]
    pub additional_credentials: Option<IndexMap<String, Secret>>,
    /// Further places to inject credentials (headers, query parameters).
    #[serde(default)]
    pub additional_injections: Option<Vec<AdditionalInjection>>,
    /// Retry report of the backend, as sent; read it with [`TokenResponse::retry_info`].
    #[serde(default)]
    pub retry_info: Option<Value>,
}

impl TokenResponse {
    /// The header to inject into, `Authorization` when the backend sent none.
    pub fn injection_header_or_default(&self) -> &str {
        self.injection_header
            .as_deref()
            .unwrap_or(DEFAULT_INJECTION_HEADER)
    }

    /// The header value template, `Bearer {token}` when the backend sent none.
    pub fn injection_format_or_default(&self) -> &str {
        self.injection_format
            .as_deref()
            .unwrap_or(DEFAULT_INJECTION_FORMAT)
    }

    /// The backend's retry report, or `None` when it is absent or invalid (PROTOCOL §6.9).
    pub fn retry_info(&self) -> Option<RetryInfo> {
        self.retry_info.as_ref().and_then(RetryInfo::from_value)
    }
}

/// One extra credential injection (PROTOCOL §6.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdditionalInjection {
    /// Where the value goes.
    pub target: InjectionTarget,
    /// Header or query parameter name.
    pub key: String,
    /// `token`, or `additional_credentials.<field>`.
    pub value_source: String,
}

fn bearer() -> String {
    "Bearer".to_owned()
}

fn scalar_as_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(text) => Ok(text),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => Err(D::Error::custom(
            "grant_id must be a string or another JSON scalar",
        )),
    }
}

fn non_empty_or_none<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.filter(|text| !text.is_empty()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn minimal() -> Value {
        json!({"access_token": "ya29.secret-token", "grant_id": "g-1"})
    }

    #[test]
    fn defaults() {
        let token: TokenResponse = serde_json::from_value(minimal()).unwrap();
        assert_eq!(token.token_type, "Bearer");
        assert!(token.scopes.is_empty());
        assert!(!token.scope_mismatch);
        assert_eq!(token.provider_id, None);
        assert_eq!(token.injection_header_or_default(), "Authorization");
        assert_eq!(token.injection_format_or_default(), "Bearer {token}");
        assert_eq!(token.retry_info(), None);
    }

    #[test]
    fn grant_id_accepts_any_scalar() {
        for (raw, expected) in [
            (json!(42), "42"),
            (json!(1.5), "1.5"),
            (json!(true), "true"),
        ] {
            let mut value = minimal();
            value["grant_id"] = raw;
            let token: TokenResponse = serde_json::from_value(value).unwrap();
            assert_eq!(token.grant_id, expected);
        }
        for raw in [Value::Null, json!([]), json!({})] {
            let mut value = minimal();
            value["grant_id"] = raw;
            assert!(serde_json::from_value::<TokenResponse>(value).is_err());
        }
        let mut value = minimal();
        value.as_object_mut().unwrap().remove("grant_id");
        assert!(serde_json::from_value::<TokenResponse>(value).is_err());
    }

    #[test]
    fn empty_provider_id_reads_as_none() {
        let mut value = minimal();
        value["provider_id"] = json!("");
        let token: TokenResponse = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(token.provider_id, None);

        value["provider_id"] = json!("slack");
        let token: TokenResponse = serde_json::from_value(value).unwrap();
        assert_eq!(token.provider_id.as_deref(), Some("slack"));
    }

    #[test]
    fn debug_shows_no_credential() {
        let token: TokenResponse = serde_json::from_value(json!({
            "access_token": "AKIAEXAMPLESHARED001",
            "grant_id": "g",
            "injection_format": "AWS4-HMAC-SHA256",
            "additional_credentials": {
                "secret_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "region": "us-east-1"
            }
        }))
        .unwrap();
        let shown = format!("{token:?} {token:#?}");
        assert!(!shown.contains("AKIAEXAMPLE"), "{shown}");
        assert!(!shown.contains("wJalrXUtnFEMI"), "{shown}");

        let credentials = token.additional_credentials.as_ref().unwrap();
        assert_eq!(credentials["region"].expose_secret(), "us-east-1");
    }

    #[test]
    fn injections_and_retry_info_parse() {
        let mut value = minimal();
        value["additional_injections"] = json!([
            {"target": "query_param", "key": "api_key", "value_source": "token"},
            {"target": "cookie", "key": "k", "value_source": "additional_credentials.x"}
        ]);
        value["retry_info"] = json!({"total_attempts": 1, "successful_attempt": 1, "errors": []});

        let token: TokenResponse = serde_json::from_value(value).unwrap();
        let injections = token.additional_injections.as_ref().unwrap();
        assert_eq!(injections[0].target, InjectionTarget::QueryParam);
        assert!(injections[1].target.is_unknown());
        assert_eq!(token.retry_info().map(|info| info.total_attempts), Some(1));
    }

    #[test]
    fn expires_at_is_a_timestamp() {
        let mut value = minimal();
        value["expires_at"] = json!("2026-01-01T01:00:00Z");
        let token: TokenResponse = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(
            token.expires_at.unwrap().to_rfc3339(),
            "2026-01-01T01:00:00+00:00"
        );

        value["expires_at"] = json!("soon");
        assert!(serde_json::from_value::<TokenResponse>(value).is_err());
    }
}

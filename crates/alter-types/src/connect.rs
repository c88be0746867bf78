//! Connect sessions and their results (PROTOCOL §5.11–§5.13, §8.3).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::serde_util::null_as_default;
use crate::{ConnectPollStatus, GrantPolicy, Secret};

/// A connect session (`POST /sdk/oauth/connect/session`): open `connect_url` in a browser,
/// then poll with `session_token`.
///
/// `Debug` shows only the scheme, host and path of `connect_url`: the URL may carry the session
/// token in its query or fragment.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectSession {
    /// Token used to poll the session.
    pub session_token: Secret,
    /// Page where the end user picks and authorizes providers.
    pub connect_url: String,
    /// Lifetime of the session in seconds.
    pub expires_in: i64,
    /// Expiry of the session (timestamp text).
    pub expires_at: String,
}

impl fmt::Debug for ConnectSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectSession")
            .field("session_token", &self.session_token)
            .field("connect_url", &RedactedUrl(&self.connect_url))
            .field("expires_in", &self.expires_in)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Prints a URL without its query and fragment, where a session token may travel.
pub(crate) struct RedactedUrl<'a>(pub(crate) &'a str);

impl fmt::Debug for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.find(['?', '#']) {
            Some(cut) => write!(f, "\"{}<redacted>\"", &self.0[..cut]),
            None => write!(f, "{:?}", self.0),
        }
    }
}

/// A managed-secret connect session (`POST /sdk/managed-secrets/connect/session`).
///
/// Both the token and the URL are secrets here: the URL lets its holder enter a secret on the
/// operator's behalf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedSecretConnectSession {
    /// Token identifying the session.
    pub session_token: Secret,
    /// Page where the end user enters the secret.
    pub connect_url: Secret,
    /// Lifetime of the session in seconds.
    pub expires_in: i64,
    /// Expiry of the session (timestamp text).
    pub expires_at: String,
}

/// A grant created by a completed connect flow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectResult {
    /// Id of the new grant (empty when the backend omits it).
    #[serde(default)]
    pub grant_id: String,
    /// Provider id (empty when the backend omits it).
    #[serde(default)]
    pub provider_id: String,
    /// Account at the provider, if known.
    #[serde(default)]
    pub account_identifier: Option<String>,
    /// Granted scopes.
    #[serde(default, deserialize_with = "null_as_default")]
    pub scopes: Vec<String>,
    /// Policy attached to the grant, if any.
    #[serde(default)]
    pub grant_policy: Option<GrantPolicy>,
}

/// One answer of `POST /sdk/oauth/connect/session/poll`.
///
/// Read leniently: `grants` defaults to `[]` (also for `null`), and an `error` that is not an
/// object, or error fields that are not strings, read as absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectPollResponse {
    /// Where the flow stands.
    pub status: ConnectPollStatus,
    /// Grants created so far (filled when `status` is `completed`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub grants: Vec<ConnectResult>,
    /// Failure details (when `status` is `error`).
    #[serde(default, deserialize_with = "lenient_poll_error")]
    pub error: Option<ConnectPollError>,
}

/// Failure details of a connect poll.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectPollError {
    /// Machine-readable code (for example `connect_denied`).
    #[serde(default)]
    pub error_code: Option<String>,
    /// Human-readable message.
    #[serde(default)]
    pub error_message: Option<String>,
}

fn lenient_poll_error<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<ConnectPollError>, D::Error> {
    let Value::Object(object) = Value::deserialize(deserializer)? else {
        return Ok(None);
    };

    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
    Ok(Some(ConnectPollError {
        error_code: text("error_code"),
        error_message: text("error_message"),
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn connect_session_debug_hides_the_token_in_the_url() {
        let session: ConnectSession = serde_json::from_value(json!({
            "session_token": "cs_secret_001",
            "connect_url": "https://app.example/ui/connect#session=cs_secret_001",
            "expires_in": 600,
            "expires_at": "2026-01-01T00:10:00Z"
        }))
        .unwrap();

        let shown = format!("{session:?}");
        assert!(!shown.contains("cs_secret_001"), "{shown}");
        assert!(
            shown.contains("https://app.example/ui/connect<redacted>"),
            "{shown}"
        );
        assert_eq!(session.session_token.expose_secret(), "cs_secret_001");

        let plain = format!("{:?}", RedactedUrl("https://h/p"));
        assert_eq!(plain, "\"https://h/p\"");
    }

    #[test]
    fn managed_secret_session_debug_hides_token_and_url() {
        let session: ManagedSecretConnectSession = serde_json::from_value(json!({
            "session_token": "ms_sess_42",
            "connect_url": "https://app.example/ui/ms?s=ms_sess_42",
            "expires_in": 600,
            "expires_at": "2026-01-01T00:10:00Z"
        }))
        .unwrap();
        let shown = format!("{session:?}");
        assert!(!shown.contains("ms_sess_42"), "{shown}");
        assert!(!shown.contains("app.example"), "{shown}");
    }

    #[test]
    fn connect_result_defaults() {
        let result: ConnectResult = serde_json::from_value(json!({})).unwrap();
        assert_eq!(result, ConnectResult::default());

        let full: ConnectResult = serde_json::from_value(json!({
            "grant_id": "g", "provider_id": "google", "account_identifier": "a",
            "scopes": ["openid"],
            "grant_policy": {"expires_at": "2026-01-01T01:00:00Z", "created_by": "developer"}
        }))
        .unwrap();
        assert_eq!(
            full.grant_policy.unwrap().created_by.as_deref(),
            Some("developer")
        );
    }

    #[test]
    fn poll_response_is_lenient() {
        let pending: ConnectPollResponse =
            serde_json::from_value(json!({"status": "pending"})).unwrap();
        assert_eq!(pending.status, ConnectPollStatus::Pending);
        assert!(pending.grants.is_empty());
        assert_eq!(pending.error, None);

        let odd: ConnectPollResponse = serde_json::from_value(json!({
            "status": "error", "grants": null, "error": "boom"
        }))
        .unwrap();
        assert_eq!(odd.error, None);

        let error: ConnectPollResponse = serde_json::from_value(json!({
            "status": "error",
            "error": {"error_code": "connect_denied", "error_message": 5}
        }))
        .unwrap();
        assert_eq!(
            error.error,
            Some(ConnectPollError {
                error_code: Some("connect_denied".into()),
                error_message: None
            })
        );
    }

    #[test]
    fn poll_status_is_required_and_unknown_values_survive() {
        assert!(serde_json::from_value::<ConnectPollResponse>(json!({"grants": []})).is_err());

        let later: ConnectPollResponse =
            serde_json::from_value(json!({"status": "awaiting_admin"})).unwrap();
        assert_eq!(later.status.as_str(), "awaiting_admin");
    }
}

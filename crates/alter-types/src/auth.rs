//! End-user sign-in through the app's identity provider (PROTOCOL §5.14, §5.15, §8.4).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::connect::RedactedUrl;
use crate::{AuthPollStatus, Secret};

/// Outcome of a completed sign-in: the user's token and what the identity provider said about
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResult {
    /// The user's JWT, to send as `user_token` on later calls.
    pub user_token: Secret,
    /// Claims about the user (for example `sub`, `email`, `name`); `{}` when absent or not an
    /// object.
    #[serde(default, deserialize_with = "object_or_empty")]
    pub user_info: Map<String, Value>,
}

/// A sign-in session (`POST /sdk/auth/session`, answered with 201).
///
/// `Debug` shows only the scheme, host and path of `auth_url`: like a connect URL, the
/// sign-in URL may carry the session token in its query or fragment.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthSession {
    /// Page where the user signs in.
    pub auth_url: String,
    /// Token used to poll the session.
    pub session_token: Secret,
    /// Lifetime of the session in seconds, if the backend says.
    #[serde(default)]
    pub expires_in: Option<i64>,
}

impl fmt::Debug for AuthSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthSession")
            .field("auth_url", &RedactedUrl(&self.auth_url))
            .field("session_token", &self.session_token)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// One answer of `POST /sdk/auth/poll`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthPollResponse {
    /// Where the sign-in stands.
    pub status: AuthPollStatus,
    /// The user's JWT (when `status` is `completed`).
    #[serde(default)]
    pub user_token: Option<Secret>,
    /// Claims about the user, as sent.
    #[serde(default)]
    pub user_info: Option<Value>,
    /// Why the sign-in failed (when `status` is `error`).
    #[serde(default)]
    pub error_message: Option<String>,
}

fn object_or_empty<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Map<String, Value>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Object(object) => Ok(object),
        _ => Ok(Map::new()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn auth_result_user_info_defaults_to_an_empty_object() {
        for raw in [
            json!({"user_token": "jwt"}),
            json!({"user_token": "jwt", "user_info": null}),
            json!({"user_token": "jwt", "user_info": "not an object"}),
        ] {
            let result: AuthResult = serde_json::from_value(raw).unwrap();
            assert!(result.user_info.is_empty());
        }

        let result: AuthResult =
            serde_json::from_value(json!({"user_token": "jwt", "user_info": {"sub": "u1"}}))
                .unwrap();
        assert_eq!(result.user_info["sub"], "u1");
        assert!(serde_json::from_value::<AuthResult>(json!({"user_info": {}})).is_err());
    }

    #[test]
    fn tokens_never_show_in_debug() {
        let session: AuthSession = serde_json::from_value(json!({
            "auth_url": "https://h/login", "session_token": "as_secret", "expires_in": 600
        }))
        .unwrap();
        assert!(!format!("{session:?}").contains("as_secret"));

        // The sign-in URL may carry the session token itself.
        let session: AuthSession = serde_json::from_value(json!({
            "auth_url": "https://h/auth?session=as_secret#state=as_secret",
            "session_token": "as_secret",
        }))
        .unwrap();
        let shown = format!("{session:?} {session:#?}");
        assert!(!shown.contains("as_secret"), "{shown}");
        assert!(shown.contains("https://h/auth<redacted>"), "{shown}");

        let poll: AuthPollResponse = serde_json::from_value(json!({
            "status": "completed", "user_token": "jwt-secret", "user_info": {"sub": "u"}
        }))
        .unwrap();
        assert_eq!(poll.status, AuthPollStatus::Completed);
        assert!(!format!("{poll:?}").contains("jwt-secret"));
        assert_eq!(poll.user_token.unwrap().expose_secret(), "jwt-secret");
    }

    #[test]
    fn poll_fields_are_optional_except_status() {
        let pending: AuthPollResponse =
            serde_json::from_value(json!({"status": "pending"})).unwrap();
        assert_eq!(pending.user_token, None);
        assert_eq!(pending.error_message, None);
        assert!(serde_json::from_value::<AuthPollResponse>(json!({})).is_err());

        let session: AuthSession =
            serde_json::from_value(json!({"auth_url": "u", "session_token": "t"})).unwrap();
        assert_eq!(session.expires_in, None);
    }
}

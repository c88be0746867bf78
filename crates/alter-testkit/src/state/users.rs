//! End users and the user tokens (JWT-shaped) the fake issues for them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::Store;
use crate::errors::{Failure, jwt_invalid};

/// One signed-in end user.
#[derive(Clone, Debug)]
pub(crate) struct UserRecord {
    /// The token the fake issued (unique).
    pub(crate) token: String,
    /// The subject: the user's id in the app (`app_user_id`).
    pub(crate) sub: String,
    /// The profile returned as `user_info`.
    pub(crate) info: Map<String, Value>,
}

impl Store {
    /// Issues a user token for `sub`; `info` completes the profile (`sub` is always set).
    pub(crate) fn issue_user_token(&mut self, sub: &str, mut info: Map<String, Value>) -> String {
        info.insert("sub".into(), sub.into());
        info.entry("email")
            .or_insert_with(|| format!("{sub}@example.com").into());

        let header = json!({"alg": "HS256", "typ": "JWT"});
        let mut claims = info.clone();
        claims.insert("iss".into(), "alter-testkit".into());
        claims.insert("jti".into(), self.rng.token("").into());
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(Value::Object(claims).to_string()),
            URL_SAFE_NO_PAD.encode(self.rng.token("sig_")),
        );

        self.users.push(UserRecord {
            token: token.clone(),
            sub: sub.to_owned(),
            info,
        });
        token
    }

    /// The user a token belongs to, when the fake issued it.
    pub(crate) fn user(&self, token: &str) -> Option<&UserRecord> {
        self.users.iter().find(|user| user.token == token)
    }

    /// The subject of an optional user token; a token the fake did not issue is 401
    /// `jwt_validation_error` (§4.2).
    pub(crate) fn user_subject(&self, token: Option<&str>) -> Result<Option<String>, Failure> {
        match token {
            None => Ok(None),
            Some(token) => self
                .user(token)
                .map(|user| Some(user.sub.clone()))
                .ok_or_else(jwt_invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Settings;
    use crate::state::ids::Rng;

    #[test]
    fn issued_tokens_are_jwt_shaped_and_resolve_to_their_subject() {
        let mut store = Store::new(Settings::default(), Rng::seeded(3));
        let token = store.issue_user_token("user-1", Map::new());

        assert!(token.starts_with("eyJ"));
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(
            store.user_subject(Some(&token)).unwrap().as_deref(),
            Some("user-1")
        );
        assert_eq!(
            store.user(&token).unwrap().info["email"],
            "user-1@example.com"
        );
        assert_eq!(store.user_subject(None).unwrap(), None);
        assert_eq!(
            store.user_subject(Some("eyJforged")).unwrap_err().code(),
            "jwt_validation_error"
        );
    }
}

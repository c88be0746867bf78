//! [`Secret`], a string that never shows up in debug output.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A credential (API key, user token, session token, provider access token) held as text.
///
/// `Debug` prints `Secret(<redacted>)` and there is deliberately no `Display`, so a secret cannot
/// end up in a log line or an error message by accident. Reading the value takes an explicit
/// call to [`Secret::expose_secret`].
///
/// Serialization writes the plain string, because secrets have to travel in request bodies
/// (for example the `user_token` of a principal). Deserialization reads any JSON string.
///
/// # Example
///
/// ```
/// use alter_types::Secret;
///
/// let token = Secret::new("eyJhbGciOi...");
/// assert_eq!(format!("{token:?}"), "Secret(<redacted>)");
/// assert_eq!(token.expose_secret(), "eyJhbGciOi...");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Returns the credential in clear text.
    ///
    /// # Security
    ///
    /// The returned text is the live credential. Use it only to put it where it belongs (a
    /// header, a request body); never log it, print it or include it in an error.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether the credential is the empty string (safe to call: reveals nothing else).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("alter_rk_abcdefghijklmnopqrstuv_iwpykn");
        let shown = format!("{secret:?} {secret:#?}");
        assert!(!shown.contains("alter_rk"), "{shown}");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn debug_of_a_containing_struct_is_redacted() {
        #[derive(Debug)]
        struct Holder {
            _token: Secret,
        }
        let shown = format!(
            "{:?}",
            Holder {
                _token: Secret::from("tok-123")
            }
        );
        assert!(!shown.contains("tok-123"), "{shown}");
    }

    #[test]
    fn serde_uses_the_plain_string() {
        let secret = Secret::from(String::from("tok-\"quoted\""));
        let json = serde_json::to_string(&secret).unwrap();
        assert_eq!(json, r#""tok-\"quoted\"""#);

        let back: Secret = serde_json::from_str(&json).unwrap();
        assert_eq!(back, secret);
        assert_eq!(back.expose_secret(), "tok-\"quoted\"");
    }

    #[test]
    fn non_strings_are_refused() {
        assert!(serde_json::from_str::<Secret>("42").is_err());
        assert!(serde_json::from_str::<Secret>("null").is_err());
    }

    #[test]
    fn emptiness_and_equality() {
        assert!(Secret::new("").is_empty());
        assert!(!Secret::new("x").is_empty());
        assert_ne!(Secret::new("a"), Secret::new("b"));
    }
}

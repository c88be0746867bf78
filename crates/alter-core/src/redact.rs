//! Scrubbing: a hostile or careless server may echo what it was sent (the API key, the
//! request signature, an injected provider token) in an error body or a header. Anything
//! the SDK keeps from such an answer (an error's message and details, an audit row) is
//! passed through a [`Scrub`] holding the secrets of that one exchange, so that the text
//! never carries them on.
//!
//! ```
//! use alter_core::redact::Scrub;
//!
//! let mut scrub = Scrub::new();
//! scrub.add("alter_rk_0123456789abcdef");
//! scrub.add("short");
//!
//! assert_eq!(
//!     scrub.text("headers were x-api-key=alter_rk_0123456789abcdef"),
//!     "headers were x-api-key=[redacted]"
//! );
//! // Values under eight bytes are ignored: they would mangle ordinary words.
//! assert_eq!(scrub.text("a short text"), "a short text");
//! ```
//!
//! # Limitations
//!
//! Only exact occurrences are found: the raw value and, when it differs, its
//! percent-encoded form. A server that echoes a secret in another encoding (base64,
//! JSON escapes of quotes or backslashes, a different case) is not caught.

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Value};

use crate::io::HttpRequest;
use crate::signing::HEADER_SIGNATURE;

/// What replaces every occurrence of a secret.
pub const REDACTED: &str = "[redacted]";

/// Values shorter than this (in bytes) are not treated as secrets: replacing them would
/// mangle ordinary text, and no real key, token or signature is that short.
pub const MIN_SECRET_LEN: usize = 8;

/// Backend request headers whose values are secrets. The other signing headers (timestamp,
/// nonce, body hash) are not: they prove nothing without the key.
const BACKEND_SECRET_HEADERS: [&str; 3] = ["x-api-key", HEADER_SIGNATURE, "authorization"];

/// Top-level keys of backend request bodies that carry a user's or a session's token.
const BODY_SECRET_KEYS: [&str; 3] = ["user_token", "session_token", "token"];

/// The secret strings of one exchange, and the means to remove them from text.
///
/// Debug shows only how many values it holds.
#[derive(Clone, Default)]
pub struct Scrub {
    /// Longest first, so a value that contains another (`Bearer <token>` and `<token>`)
    /// is replaced whole.
    secrets: Vec<String>,
}

impl fmt::Debug for Scrub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scrub")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Scrub {
    /// A scrub that removes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a secret value, and its percent-encoded form when that differs (a value echoed
    /// back in a URL). Values shorter than [`MIN_SECRET_LEN`] and repeats are ignored.
    pub fn add(&mut self, secret: &str) {
        let encoded = crate::encoding::form_encode(secret);
        self.insert(secret);
        if encoded != secret {
            self.insert(&encoded);
        }
    }

    /// Adds every value of `secrets` as [`Scrub::add`] does.
    pub fn extend<'a>(&mut self, secrets: impl IntoIterator<Item = &'a str>) {
        for secret in secrets {
            self.add(secret);
        }
    }

    /// Whether no secret is held, so that nothing would change.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every occurrence of every secret replaced by [`REDACTED`]; borrowed
    /// when nothing was found.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
            }
        }
        out
    }

    /// Scrubs a string in place.
    pub fn string(&self, text: &mut String) {
        if let Cow::Owned(clean) = self.text(text) {
            *text = clean;
        }
    }

    /// Scrubs an optional string in place.
    pub fn option(&self, text: &mut Option<String>) {
        if let Some(text) = text {
            self.string(text);
        }
    }

    /// Scrubs every string of a list in place.
    pub fn strings(&self, texts: &mut [String]) {
        for text in texts {
            self.string(text);
        }
    }

    /// Scrubs every string of a JSON value in place, object keys included.
    pub fn value(&self, value: &mut Value) {
        match value {
            Value::String(text) => self.string(text),
            Value::Array(items) => {
                for item in items {
                    self.value(item);
                }
            }
            Value::Object(map) => self.object(map),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// Scrubs every key and value of a JSON object (such as error
    /// [`Details`](crate::error::Details)) in place. Key order is kept.
    pub fn object(&self, map: &mut Map<String, Value>) {
        if self.is_empty() {
            return;
        }

        let entries = std::mem::take(map);
        for (key, mut value) in entries {
            self.value(&mut value);
            // Two keys that scrub to the same text keep the later value; both were the
            // server's invention.
            map.insert(self.text(&key).into_owned(), value);
        }
    }

    /// The secrets a signed backend request carries: the values of its credential headers
    /// (API key, signature, any `Authorization`) and the tokens its JSON body names.
    pub(crate) fn of_backend_request(request: &HttpRequest) -> Self {
        let mut scrub = Self::new();
        for (name, value) in &request.headers {
            if BACKEND_SECRET_HEADERS
                .iter()
                .any(|secret| secret.eq_ignore_ascii_case(name))
            {
                scrub.add(value);
            }
        }

        if let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&request.body) {
            for key in BODY_SECRET_KEYS {
                if let Some(Value::String(token)) = body.get(key) {
                    scrub.add(token);
                }
            }
        }
        scrub
    }

    fn insert(&mut self, secret: &str) {
        if secret.len() < MIN_SECRET_LEN || self.secrets.iter().any(|held| held == secret) {
            return;
        }

        let at = self
            .secrets
            .iter()
            .position(|held| held.len() < secret.len())
            .unwrap_or(self.secrets.len());
        self.secrets.insert(at, secret.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scrub(secrets: &[&str]) -> Scrub {
        let mut scrub = Scrub::new();
        scrub.extend(secrets.iter().copied());
        scrub
    }

    #[test]
    fn every_occurrence_is_replaced() {
        let scrub = scrub(&["ya29.secret-token"]);

        let clean = scrub.text("a ya29.secret-token b ya29.secret-token");

        assert_eq!(clean, "a [redacted] b [redacted]");
    }

    #[test]
    fn clean_text_is_borrowed() {
        let scrub = scrub(&["ya29.secret-token"]);

        assert!(matches!(scrub.text("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn short_values_are_ignored() {
        let scrub = scrub(&["1234567", "", "Bearer"]);

        assert!(scrub.is_empty());
        assert_eq!(scrub.text("Bearer 1234567"), "Bearer 1234567");
    }

    #[test]
    fn a_value_containing_another_is_replaced_whole() {
        let scrub = scrub(&["ya29.secret-token", "Bearer ya29.secret-token"]);

        assert_eq!(
            scrub.text("authorization=Bearer ya29.secret-token"),
            "authorization=[redacted]"
        );
    }

    #[test]
    fn the_percent_encoded_form_is_replaced_too() {
        let scrub = scrub(&["tok/with+plus=="]);

        let clean = scrub.text("location: /cb?api_key=tok%2Fwith%2Bplus%3D%3D&x=1");

        assert_eq!(clean, "location: /cb?api_key=[redacted]&x=1");
    }

    #[test]
    fn json_strings_and_keys_are_scrubbed_in_order() {
        let scrub = scrub(&["alter_rk_secret"]);
        let mut value = json!({
            "first": 1,
            "alter_rk_secret": "x",
            "nested": {"list": ["key alter_rk_secret", true, null]},
        });

        scrub.value(&mut value);

        assert_eq!(
            value,
            json!({
                "first": 1,
                "[redacted]": "x",
                "nested": {"list": ["key [redacted]", true, null]},
            })
        );
        let keys: Vec<_> = value.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["first", "[redacted]", "nested"]);
    }

    #[test]
    fn debug_shows_only_the_count() {
        let scrub = scrub(&["alter_rk_secret"]);

        let shown = format!("{scrub:?}");

        assert!(!shown.contains("alter_rk_secret"), "{shown}");
        assert!(shown.contains("secrets: 1"), "{shown}");
    }
}

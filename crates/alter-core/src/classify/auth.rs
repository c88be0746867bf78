//! The auth-session failure (PROTOCOL.md §5.14).

use serde_json::Value;

use crate::error::Error;

use super::body::text_prefix;

/// How many characters of a raw body the message quotes.
const TEXT_CHARS: usize = 500;

/// The `AlterSDKError` of a `POST /sdk/auth/session` answer other than 201:
/// `Failed to create auth session: <msg>`.
///
/// `msg` is `detail.message` when the content type starts with `application/json` and the
/// body's `detail` is an object with a string `message`; the text of `detail` when it is a
/// string (or the JSON text of any other non-object value); the raw body text otherwise.
///
/// Two choices differ from the reference client, which quotes the raw text whole: raw text
/// is cut to its first 500 characters, so a huge error page cannot flood logs, and an empty
/// body gives `status <status>` rather than nothing.
///
/// ```
/// use alter_core::classify::auth_session_failure;
///
/// let error = auth_session_failure(403, Some("application/json"), br#"{"detail":{"message":"IDP not configured"}}"#);
/// assert_eq!(error.message(), "Failed to create auth session: IDP not configured");
/// ```
pub fn auth_session_failure(status: u16, content_type: Option<&str>, body: &[u8]) -> Error {
    let msg = json_detail_text(content_type, body).unwrap_or_else(|| text_prefix(body, TEXT_CHARS));
    let msg = if msg.is_empty() {
        format!("status {status}")
    } else {
        msg
    };

    Error::sdk(format!("Failed to create auth session: {msg}"))
}

/// The text of the body's `detail`, when the answer is JSON and has one.
fn json_detail_text(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    let is_json = content_type.is_some_and(|value| {
        value
            .get(..16)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case("application/json"))
    });
    if !is_json {
        return None;
    }

    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    match object.get("detail")? {
        Value::Object(detail) => detail
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned),
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_rules_of_section_5_14() {
        let json = Some("application/json; charset=utf-8");
        let cases: &[(Option<&str>, &[u8], &str)] = &[
            (
                json,
                br#"{"detail":{"message":"IDP not configured","error":"x"}}"#,
                "IDP not configured",
            ),
            (json, br#"{"detail":"Not allowed"}"#, "Not allowed"),
            (json, br#"{"detail":42}"#, "42"),
            (
                json,
                br#"{"detail":{"error":"no_message"}}"#,
                r#"{"detail":{"error":"no_message"}}"#,
            ),
            (
                json,
                br#"{"message":"top level"}"#,
                r#"{"message":"top level"}"#,
            ),
            (json, b"not json", "not json"),
            (json, b"[1]", "[1]"),
            (Some("APPLICATION/JSON"), br#"{"detail":"upper"}"#, "upper"),
            (
                Some("text/plain"),
                br#"{"detail":"ignored"}"#,
                r#"{"detail":"ignored"}"#,
            ),
            (
                Some("json"),
                br#"{"detail":"short"}"#,
                r#"{"detail":"short"}"#,
            ),
            (None, b"Service Unavailable", "Service Unavailable"),
            (None, b"", "status 500"),
            (json, br#"{"detail":""}"#, "status 500"),
        ];

        for (content_type, body, msg) in cases {
            let error = auth_session_failure(500, *content_type, body);

            assert_eq!(error.class_name(), "AlterSDKError");
            assert_eq!(
                error.message(),
                format!("Failed to create auth session: {msg}")
            );
        }
    }

    #[test]
    fn raw_text_is_bounded_and_lossy() {
        let error = auth_session_failure(502, Some("text/html"), &vec![0xff; 10_000]);

        let msg = error
            .message()
            .trim_start_matches("Failed to create auth session: ");
        assert_eq!(msg.chars().count(), 500);
        assert!(msg.chars().all(|c| c == '\u{fffd}'));
    }
}

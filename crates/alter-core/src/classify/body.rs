//! Reading error bodies: the §4.1 envelope rules and lenient field extraction.
//!
//! The backend's error bodies are loosely typed, so every field is read defensively: a field
//! of the wrong JSON type counts as absent, and list fields keep only their string items.

use serde_json::Value;

use crate::error::{ApiError, Details};

/// How many characters of a non-JSON error body become its message (§4.1).
const MESSAGE_PREFIX_CHARS: usize = 500;

/// The error object `E` of a generic-route error answer (PROTOCOL.md §4.1).
///
/// - a JSON object whose `detail` is an object → that object (the FastAPI envelope);
/// - any other JSON object, including `{"detail": "<text>"}` → the object itself;
/// - JSON that is not an object (array, string, number) → `{}`;
/// - a body that is not JSON → `{"message": <first 500 characters>}`, or
///   `{"message": "Unknown error"}` when the body is empty.
///
/// ```
/// use alter_core::classify::parse_error_body;
///
/// let e = parse_error_body(br#"{"detail":{"error":"grant_expired"}}"#);
/// assert_eq!(e["error"], "grant_expired");
///
/// let e = parse_error_body(b"<html>Bad Gateway</html>");
/// assert_eq!(e["message"], "<html>Bad Gateway</html>");
/// ```
pub fn parse_error_body(body: &[u8]) -> Details {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut object)) => match object.get_mut("detail") {
            Some(Value::Object(detail)) => std::mem::take(detail),
            _ => object,
        },
        Ok(_) => Details::new(),
        Err(_) => {
            let text = text_prefix(body, MESSAGE_PREFIX_CHARS);
            let message = if text.is_empty() {
                "Unknown error".to_owned()
            } else {
                text
            };
            let mut details = Details::new();
            details.insert("message".into(), message.into());
            details
        }
    }
}

/// The body as a JSON object, or `{}` when it is not one (agents and proxy routes).
pub(super) fn json_object(body: &[u8]) -> Details {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => object,
        _ => Details::new(),
    }
}

/// The first `max_chars` characters of the body read as UTF-8, invalid bytes replaced.
pub(super) fn text_prefix(body: &[u8], max_chars: usize) -> String {
    // A character takes at most four bytes, so decoding only this much of a huge body cannot
    // change the first `max_chars` characters.
    let end = body.len().min(max_chars.saturating_mul(4));
    String::from_utf8_lossy(&body[..end])
        .chars()
        .take(max_chars)
        .collect()
}

/// The string value of `key`; any other type counts as absent.
pub(super) fn str_field(object: &Details, key: &str) -> Option<String> {
    object.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The string items of the array at `key`; anything else, `null` included, gives `[]`.
pub(super) fn string_items(object: &Details, key: &str) -> Vec<String> {
    match object.get(key) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// True only for a JSON `true` at `key`.
pub(super) fn is_true(object: &Details, key: &str) -> bool {
    matches!(object.get(key), Some(Value::Bool(true)))
}

/// The integer at `key`; floats, strings and booleans count as absent.
pub(super) fn int_field(object: &Details, key: &str) -> Option<i64> {
    object.get(key).and_then(Value::as_i64)
}

/// The nested `details` object of `E`, or `{}`.
pub(super) fn nested_details(object: &Details) -> Details {
    match object.get("details") {
        Some(Value::Object(details)) => details.clone(),
        _ => Details::new(),
    }
}

/// `E.message` when it is a non-empty string, else the default.
pub(super) fn message_or(object: &Details, default: impl FnOnce() -> String) -> String {
    match object.get("message").and_then(Value::as_str) {
        Some(message) if !message.is_empty() => message.to_owned(),
        _ => default(),
    }
}

/// The [`ApiError`] of an answer: its status, its wire code, `E.message` or the default,
/// and the given details.
pub(super) fn api_error(
    status: u16,
    object: &Details,
    default_message: &str,
    details: Details,
) -> Box<ApiError> {
    let message = message_or(object, || default_message.to_owned());
    Box::new(ApiError::new(
        status,
        str_field(object, "error"),
        message,
        details,
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Details {
        match value {
            Value::Object(object) => object,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn envelope_rules_of_section_4_1() {
        let cases: &[(&[u8], Value)] = &[
            (
                br#"{"error":"x","message":"m"}"#,
                json!({"error": "x", "message": "m"}),
            ),
            (
                br#"{"detail":{"error":"x","message":"m"}}"#,
                json!({"error": "x", "message": "m"}),
            ),
            (br#"{"detail":"Not Found"}"#, json!({"detail": "Not Found"})),
            (
                br#"{"detail":null,"error":"x"}"#,
                json!({"detail": null, "error": "x"}),
            ),
            (br#"{"detail":[1,2]}"#, json!({"detail": [1, 2]})),
            (br#"[{"error":"x"}]"#, json!({})),
            (br#""just a string""#, json!({})),
            (b"42", json!({})),
            (b"null", json!({})),
            (b"", json!({"message": "Unknown error"})),
            (b"Bad Gateway", json!({"message": "Bad Gateway"})),
            (br#"{"error":"x""#, json!({"message": "{\"error\":\"x\""})),
            (b"\xff\xfeoops", json!({"message": "\u{fffd}\u{fffd}oops"})),
        ];

        for (body, expected) in cases {
            assert_eq!(Value::Object(parse_error_body(body)), *expected, "{body:?}");
        }
    }

    #[test]
    fn non_json_messages_keep_the_first_500_characters() {
        let body = "é".repeat(2_000);

        let parsed = parse_error_body(body.as_bytes());

        assert_eq!(
            parsed["message"].as_str().map(|m| m.chars().count()),
            Some(500)
        );
        assert_eq!(text_prefix(b"abc", 500), "abc");
        assert_eq!(text_prefix("aé".as_bytes(), 1), "a");
    }

    #[test]
    fn numbers_parse_to_the_nearest_float_and_survive_a_round_trip() {
        // Found by the `classify_error` fuzz target: serde_json's default float parsing is
        // not correctly rounded, so this number (too big for 64 bits) changed by one unit in
        // the last place when `details` was written out and parsed again. The workspace
        // enables serde_json's `float_roundtrip`: numbers parse to the nearest float, as the
        // reference client parses them.
        let text = "60444444444444444444444444444444444444440";
        let body = format!(r#"{{"detail":{{"expires_in":{text}}}}}"#);

        let e = parse_error_body(body.as_bytes());

        assert_eq!(e["expires_in"].as_f64(), text.parse::<f64>().ok());
        let again = serde_json::to_vec(&json!({ "detail": Value::Object(e.clone()) })).unwrap();
        assert_eq!(parse_error_body(&again), e);
    }

    #[test]
    fn fields_of_the_wrong_type_count_as_absent() {
        let e = object(json!({
            "s": "x", "n": 5, "list": ["a", 1, null, "b", {"c": 1}], "null_list": null,
            "t": true, "t_str": "true", "f": 1.5, "i": 7, "b": true,
            "message": "", "details": ["not", "an", "object"]
        }));

        assert_eq!(str_field(&e, "s").as_deref(), Some("x"));
        assert_eq!(str_field(&e, "n"), None);
        assert_eq!(string_items(&e, "list"), ["a", "b"]);
        assert!(string_items(&e, "null_list").is_empty());
        assert!(string_items(&e, "s").is_empty());
        assert!(is_true(&e, "t"));
        assert!(!is_true(&e, "t_str"));
        assert_eq!(int_field(&e, "i"), Some(7));
        assert_eq!(int_field(&e, "f"), None);
        assert_eq!(int_field(&e, "b"), None);
        assert!(nested_details(&e).is_empty());
        assert_eq!(message_or(&e, || "default".into()), "default");
    }
}

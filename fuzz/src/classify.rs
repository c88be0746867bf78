//! The `classify_error` target: every error-body mapper of `alter_core::classify`.

use alter_core::Error;
use alter_core::classify::{
    agents_success_body, auth_session_failure, classify_agents, classify_approval_result,
    classify_approval_status, classify_generic, classify_proxy, parse_error_body,
};
use serde_json::Value;

use crate::input::Input;

/// The route an approval-status error names.
const STATUS_ROUTE: &str = "/sdk/approvals/c0ffee00-1234-4567-89ab-cdef01234567";

/// The route an approval-result error names.
const RESULT_ROUTE: &str = "/sdk/approvals/c0ffee00-1234-4567-89ab-cdef01234567/result";

/// The `Content-Type` values the sign-in mapper is shown, picked by one input byte.
pub(crate) const CONTENT_TYPES: &[Option<&str>] = &[
    Some("application/json"),
    None,
    Some("text/html; charset=utf-8"),
    Some("APPLICATION/JSON; charset=utf-8"),
    Some("application/jso"),
];

/// Classifies one error answer with every mapper and checks what each one promises.
///
/// Input: a big-endian `u16` status, one byte picking the `Content-Type` the sign-in mapper
/// sees ([`CONTENT_TYPES`]), then the body.
///
/// Checked, besides "no panic": messages stay within a fixed bound of the body's size;
/// generic and agents errors carry the answer's status; the generic error's wire code is
/// the `error` field of the §4.1 envelope; transient errors are 429 or 502–504 backend
/// answers (the statuses the retry policy retries);
/// wrapping an envelope in `{"detail": …}` gives the same envelope back; a non-JSON body's
/// message is at most 500 characters.
pub fn classify_error(data: &[u8]) {
    let mut input = Input::new(data);
    let status = input.u16();
    let content_type = CONTENT_TYPES[usize::from(input.byte()) % CONTENT_TYPES.len()];
    let body = input.rest();

    let generic = classify_generic(status, body);
    let agents = classify_agents(status, body);
    check_error(&generic, body);
    check_error(&agents, body);
    assert_eq!(generic.status(), Some(status), "generic status");
    assert_eq!(agents.status(), Some(status), "agents status");

    let envelope = parse_error_body(body);
    let wire_code = envelope.get("error").and_then(Value::as_str);
    assert_eq!(generic.code(), wire_code, "generic code is E.error");

    for error in [
        classify_proxy(status, body),
        classify_approval_result(status, RESULT_ROUTE, body),
        classify_approval_status(status, STATUS_ROUTE, body),
        auth_session_failure(status, content_type, body),
    ] {
        check_error(&error, body);
    }

    match agents_success_body(status, body) {
        Ok(_) => assert!((200..=299).contains(&status), "success outside 2xx"),
        Err(error) => check_error(&error, body),
    }
    check_envelope(body, envelope);
}

/// What holds for any error built from an answer with this body.
fn check_error(error: &Error, body: &[u8]) {
    let _ = (error.to_string(), error.details(), error.category());

    assert!(!error.class_name().is_empty());
    if let Some(root) = error.ancestors().last() {
        assert_eq!(*root, "AlterSDKError", "{}", error.class_name());
    }
    // The backend's text (every byte at worst replaced by U+FFFD, or re-serialised) plus
    // a fixed prefix: never more.
    assert!(
        error.message().len() <= 4 * body.len() + 100,
        "{} message of {} bytes from a body of {}",
        error.class_name(),
        error.message().len(),
        body.len()
    );
    // The retry policy's statuses: a rate limit or a gateway failure, never anything else.
    if error.is_transient() {
        assert!(
            matches!(error.status(), Some(429 | 502..=504)),
            "transient {error}"
        );
    }
}

/// The §4.1 envelope rules seen from outside.
fn check_envelope(body: &[u8], envelope: alter_core::error::Details) {
    if serde_json::from_slice::<Value>(body).is_err() {
        let message = envelope.get("message").and_then(Value::as_str);
        assert!(message.is_some_and(|m| !m.is_empty() && m.chars().count() <= 500));
    }

    let wrapped = serde_json::json!({ "detail": Value::Object(envelope.clone()) });
    let bytes = serde_json::to_vec(&wrapped).unwrap_or_default();
    assert_eq!(parse_error_body(&bytes), envelope, "detail unwrapping");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(status: u16, content_type: u8, body: &[u8]) -> Vec<u8> {
        let mut data = status.to_be_bytes().to_vec();
        data.push(content_type);
        data.extend_from_slice(body);
        data
    }

    #[test]
    fn an_untyped_rate_limit_is_transient_and_passes_the_checks() {
        // Found by the fuzzer after 429 joined the transient statuses: a 429 whose body
        // names no known code.
        let body = br#"{"detail":{"error":"grant_not_ox p||||roxy mode"}}"#;
        let data = input(429, 0, body);

        classify_error(&data);
        assert!(classify_generic(429, body).is_transient());
    }

    #[test]
    fn a_backend_scope_mismatch_keeps_its_wire_code() {
        // Found by the fuzzer: the backend's 403 `scope_mismatch` becomes the provider-side
        // class, which dropped the backend's code.
        classify_error(&input(403, 0, br#"{"error":"scope_mismatch"}"#));
    }

    #[test]
    fn typed_and_untyped_answers_pass_the_checks() {
        for (status, body) in [
            (
                403,
                &br#"{"detail":{"error":"grant_expired","message":"m"}}"#[..],
            ),
            (404, br#"{"error":"no_delegated_grant"}"#),
            (503, b"<html>busy</html>"),
            (409, br#"{"detail":"conflict"}"#),
            (200, b""),
            (0, b"\xff\xfe"),
        ] {
            classify_error(&input(status, 0, body));
            classify_error(&input(status, 1, body));
        }
    }

    #[test]
    fn big_numbers_survive_the_detail_round_trip() {
        // The first crash of this target (fixed in the workspace's serde_json features).
        let body = br#"{"expires_in":60444444444444444444444444444444444444440}"#;

        classify_error(&input(200, 0, body));
        classify_error(&input(403, 1, body));
    }
}

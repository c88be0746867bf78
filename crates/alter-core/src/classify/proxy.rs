//! The proxy and approval mappers (PROTOCOL.md §4.6).

use serde_json::Value;

use crate::error::{ApiError, Details, Error};
use crate::limits::excerpt;

use super::body::{json_object, str_field, text_prefix};

/// How many characters of a raw body a proxy or approval error quotes (§4.6).
const PREVIEW_CHARS: usize = 200;

/// The error of a `/sdk/proxy` answer other than 200 and 202.
///
/// The approval codes give the approval errors; anything else is a `BackendError` whose
/// message is exactly `/sdk/proxy returned <status>: <msg>`, with details
/// `{"status_code": <status>, "error": <code or "">}`.
///
/// ```
/// use alter_core::classify::classify_proxy;
///
/// let body = br#"{"detail":{"error":"grant_not_proxyable","message":"Grant is not enabled for proxy mode"}}"#;
/// let error = classify_proxy(422, body);
///
/// assert_eq!(error.message(), "/sdk/proxy returned 422: Grant is not enabled for proxy mode");
/// ```
pub fn classify_proxy(status: u16, body: &[u8]) -> Error {
    classify_proxy_like("/sdk/proxy", status, body)
}

/// The error of a `GET /sdk/approvals/{id}/result` answer other than 200.
///
/// The same mapper as [`classify_proxy`], except that the message of an untyped answer names
/// `path` (the request path without query, cut to 200 characters) instead of `/sdk/proxy`.
pub fn classify_approval_result(status: u16, path: &str, body: &[u8]) -> Error {
    classify_proxy_like(path, status, body)
}

/// The error of a `GET /sdk/approvals/{id}` answer other than 200: always a `BackendError`
/// with message `GET <path> returned <status>` (the path cut to 200 characters) and details
/// `{"status_code": <status>, "body_preview": <first 200 characters>}`.
///
/// Its wire code, when the body has one, is kept in [`ApiError::code`]. A 502, 503 or 504
/// answer is [transient](Error::is_transient), so the approval poller keeps polling.
pub fn classify_approval_status(status: u16, path: &str, body: &[u8]) -> Error {
    let mut details = Details::new();
    details.insert("status_code".into(), status.into());
    details.insert(
        "body_preview".into(),
        text_prefix(body, PREVIEW_CHARS).into(),
    );

    let code = str_field(&error_object(body), "error");
    let message = format!("GET {} returned {status}", excerpt(path));
    Error::backend(ApiError::new(status, code, message, details))
}

fn classify_proxy_like(path: &str, status: u16, body: &[u8]) -> Error {
    let object = error_object(body);
    let code = str_field(&object, "error").unwrap_or_default();
    let message = match object.get("message").and_then(Value::as_str) {
        Some(message) if !message.is_empty() => message.to_owned(),
        _ => text_prefix(body, PREVIEW_CHARS),
    };

    match code.as_str() {
        "approval_denied" => Error::approval_denied(message, None),
        "approval_expired" => Error::approval_expired(message, None),
        "approval_execution_failed" => Error::approval_execution_failed(message, None),
        _ => {
            let mut details = Details::new();
            details.insert("status_code".into(), status.into());
            details.insert("error".into(), code.clone().into());
            let message = format!("{} returned {status}: {message}", excerpt(path));
            let code = (!code.is_empty()).then_some(code);
            Error::backend(ApiError::new(status, code, message, details))
        }
    }
}

/// `body.detail` when it is an object, else the body object (or `{}`).
fn error_object(body: &[u8]) -> Details {
    let mut object = json_object(body);
    match object.get_mut("detail") {
        Some(Value::Object(detail)) => std::mem::take(detail),
        _ => object,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn approval_codes_become_approval_errors_in_both_envelopes() {
        let rows = [
            ("approval_denied", "ApprovalDeniedError"),
            ("approval_expired", "ApprovalExpiredError"),
            ("approval_execution_failed", "ApprovalExecutionFailedError"),
        ];

        for (code, class) in rows {
            let object = json!({"error": code, "message": "Decided"});
            for body in [object.clone(), json!({ "detail": object })] {
                for error in [
                    classify_proxy(403, body.to_string().as_bytes()),
                    classify_approval_result(
                        409,
                        "/sdk/approvals/a-1/result",
                        body.to_string().as_bytes(),
                    ),
                ] {
                    assert_eq!(error.class_name(), class);
                    assert_eq!(error.ancestors(), ["ApprovalError", "AlterSDKError"]);
                    assert_eq!(error.message(), "Decided");
                    assert_eq!(error.details(), Some(&Details::new()));
                }
            }
        }
    }

    #[test]
    fn other_answers_name_the_path_and_status() {
        let cases: &[(u16, &[u8], &str, Value)] = &[
            (422, br#"{"detail":{"error":"grant_not_proxyable","message":"Grant is not enabled for proxy mode"}}"#,
             "/sdk/proxy returned 422: Grant is not enabled for proxy mode", json!({"status_code": 422, "error": "grant_not_proxyable"})),
            (500, b"upstream exploded", "/sdk/proxy returned 500: upstream exploded", json!({"status_code": 500, "error": ""})),
            (404, br#"{"detail":"Not Found"}"#, "/sdk/proxy returned 404: {\"detail\":\"Not Found\"}", json!({"status_code": 404, "error": ""})),
            (403, br#"{"error":"policy_violation","message":""}"#, "/sdk/proxy returned 403: {\"error\":\"policy_violation\",\"message\":\"\"}", json!({"status_code": 403, "error": "policy_violation"})),
            (502, b"", "/sdk/proxy returned 502: ", json!({"status_code": 502, "error": ""})),
            (400, b"[1]", "/sdk/proxy returned 400: [1]", json!({"status_code": 400, "error": ""})),
        ];

        for (status, body, message, details) in cases {
            let error = classify_proxy(*status, body);

            assert_eq!(error.class_name(), "BackendError");
            assert_eq!(error.message(), *message);
            assert_eq!(error.details(), details.as_object());
            assert_eq!(error.status(), Some(*status));
        }

        let error = classify_approval_result(404, "/sdk/approvals/a-1/result", b"{}");
        assert_eq!(
            error.message(),
            "/sdk/approvals/a-1/result returned 404: {}"
        );
    }

    #[test]
    fn raw_text_is_cut_to_200_characters() {
        let body = "ü".repeat(1_000);

        let error = classify_proxy(500, body.as_bytes());

        let quoted = error
            .message()
            .trim_start_matches("/sdk/proxy returned 500: ");
        assert_eq!(quoted.chars().count(), 200);
    }

    #[test]
    fn approval_status_errors_carry_a_preview_and_are_transient_for_gateways() {
        let path = "/sdk/approvals/a-1";
        let long = "x".repeat(300);

        let error = classify_approval_status(503, path, long.as_bytes());

        assert_eq!(error.class_name(), "BackendError");
        assert_eq!(error.message(), "GET /sdk/approvals/a-1 returned 503");
        assert_eq!(
            error.details(),
            json!({"status_code": 503, "body_preview": "x".repeat(200)}).as_object()
        );
        assert!(error.is_transient());

        for status in [502, 504] {
            assert!(classify_approval_status(status, path, b"").is_transient());
        }
        for status in [400, 401, 403, 404, 500] {
            assert!(!classify_approval_status(status, path, b"").is_transient());
        }

        let coded =
            classify_approval_status(404, path, br#"{"detail":{"error":"approval_not_found"}}"#);
        assert_eq!(coded.code(), Some("approval_not_found"));
        assert_eq!(coded.class_name(), "BackendError");
    }

    #[test]
    fn long_paths_are_cut_in_messages() {
        let path = format!("/sdk/approvals/{}", "a".repeat(60_000));

        for error in [
            classify_approval_status(404, &path, b""),
            classify_approval_result(404, &path, b""),
        ] {
            assert!(
                error.message().len() < 300,
                "{} bytes",
                error.message().len()
            );
            assert!(error.message().contains("…"), "{}", error.message());
        }
    }
}

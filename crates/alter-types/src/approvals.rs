//! Proxy-mode results and human-in-the-loop approvals (PROTOCOL §5.4–§5.6, §7).

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use crate::ApprovalStatusValue;
use crate::serde_util::{non_empty_string, null_as_default, timestamp, timestamp_option};

/// Standard alphabet, padding required. Non-zero trailing bits are tolerated, as the reference
/// client's decoder tolerates them.
const BODY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(true),
);

/// A proxied call is waiting for a human decision (`POST /sdk/proxy` answered 202).
///
/// Deserialization insists on `status` being `"pending"` and `approval_url` being non-empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingApproval {
    /// Id to poll with `GET /sdk/approvals/{approval_id}`.
    pub approval_id: Uuid,
    /// Always [`ApprovalStatusValue::Pending`].
    #[serde(deserialize_with = "pending_only")]
    pub status: ApprovalStatusValue,
    /// When the request expires if nobody decides.
    #[serde(with = "timestamp")]
    pub expires_at: DateTime<Utc>,
    /// Seconds until `expires_at`, as computed by the backend.
    pub expires_in: i64,
    /// Page where an approver decides.
    #[serde(deserialize_with = "non_empty_string")]
    pub approval_url: String,
}

/// Snapshot of an approval (`GET /sdk/approvals/{approval_id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalStatus {
    /// Id of the approval.
    pub approval_id: Uuid,
    /// Current state.
    pub status: ApprovalStatusValue,
    /// When the request expires if nobody decides.
    #[serde(with = "timestamp")]
    pub expires_at: DateTime<Utc>,
    /// When an approver decided, if anyone has.
    #[serde(default, with = "timestamp_option")]
    pub decided_at: Option<DateTime<Utc>>,
    /// The approver's reason, if given.
    #[serde(default)]
    pub decision_reason: Option<String>,
    /// When the backend executed the call, if it has.
    #[serde(default, with = "timestamp_option")]
    pub executed_at: Option<DateTime<Utc>>,
    /// Whether `GET /sdk/approvals/{approval_id}/result` has something to return.
    pub has_result: bool,
}

impl ApprovalStatus {
    /// Whether the approval can no longer change (see [`ApprovalStatusValue::is_terminal`]).
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }
}

/// The provider's answer to a call the backend executed (`POST /sdk/proxy` answered 200, or
/// `GET /sdk/approvals/{id}/result`).
///
/// The provider's own status (even 4xx or 5xx) is in `status_code`; it is not an error of the
/// SDK. `body_b64` is checked on deserialization: it must be standard base64 with padding, or
/// empty.
///
/// ```
/// use alter_types::ApprovalResult;
///
/// let result: ApprovalResult = serde_json::from_str(
///     r#"{"status_code":200,"headers":{},"body_b64":"eyJvayI6dHJ1ZX0="}"#,
/// )?;
/// let body: serde_json::Value = result.body_json()?;
/// assert_eq!(body["ok"], true);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalResult {
    /// Id of the approval; `None` for a synchronous proxy call (not pollable).
    #[serde(default)]
    pub approval_id: Option<Uuid>,
    /// HTTP status the provider answered with.
    pub status_code: u16,
    /// The provider's response headers, in the order sent.
    #[serde(default, deserialize_with = "null_as_default")]
    pub headers: IndexMap<String, String>,
    /// The provider's body, standard base64 (empty for no body).
    #[serde(deserialize_with = "checked_base64")]
    pub body_b64: String,
    /// Whether the backend cut the captured body short.
    #[serde(default, deserialize_with = "null_as_default")]
    pub body_truncated: bool,
}

impl ApprovalResult {
    /// The decoded body.
    ///
    /// Deserialization already checked `body_b64`; if the field was changed afterwards and no
    /// longer decodes, this returns an empty body (use [`ApprovalResult::try_body_bytes`] to see
    /// the error).
    pub fn body_bytes(&self) -> Vec<u8> {
        self.try_body_bytes().unwrap_or_default()
    }

    /// The decoded body, or why `body_b64` does not decode.
    ///
    /// # Errors
    ///
    /// [`BodyDecodeError::Base64`] when `body_b64` is not standard padded base64.
    pub fn try_body_bytes(&self) -> Result<Vec<u8>, BodyDecodeError> {
        BODY_BASE64
            .decode(&self.body_b64)
            .map_err(BodyDecodeError::Base64)
    }

    /// The body as UTF-8 text.
    ///
    /// # Errors
    ///
    /// [`BodyDecodeError::Utf8`] when the body is not valid UTF-8, or
    /// [`BodyDecodeError::Base64`] as for [`ApprovalResult::try_body_bytes`].
    pub fn body_text(&self) -> Result<String, BodyDecodeError> {
        String::from_utf8(self.try_body_bytes()?).map_err(BodyDecodeError::Utf8)
    }

    /// The body as text, with invalid UTF-8 sequences replaced by U+FFFD.
    pub fn body_text_lossy(&self) -> String {
        String::from_utf8_lossy(&self.body_bytes()).into_owned()
    }

    /// The body parsed as JSON into `T`.
    ///
    /// # Errors
    ///
    /// [`BodyDecodeError::Json`] when the body is not JSON of the expected shape, or
    /// [`BodyDecodeError::Base64`] as for [`ApprovalResult::try_body_bytes`].
    pub fn body_json<T: DeserializeOwned>(&self) -> Result<T, BodyDecodeError> {
        serde_json::from_slice(&self.try_body_bytes()?).map_err(BodyDecodeError::Json)
    }
}

/// Why a proxied body could not be decoded. Messages never include the body itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BodyDecodeError {
    /// `body_b64` is not standard padded base64.
    #[error("body is not valid base64")]
    Base64(#[source] base64::DecodeError),
    /// The body is not valid UTF-8.
    #[error("body is not valid utf-8")]
    Utf8(#[source] std::string::FromUtf8Error),
    /// The body is not JSON of the requested shape.
    #[error("body is not the expected json")]
    Json(#[source] serde_json::Error),
}

fn pending_only<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<ApprovalStatusValue, D::Error> {
    let status = ApprovalStatusValue::deserialize(deserializer)?;
    if status != ApprovalStatusValue::Pending {
        return Err(D::Error::custom(
            "a pending approval must have status \"pending\"",
        ));
    }
    Ok(status)
}

fn checked_base64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    if !is_body_base64(text.as_bytes()) {
        return Err(D::Error::custom("body_b64 is not standard padded base64"));
    }
    Ok(text)
}

impl std::fmt::Debug for ApprovalResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The provider's body and headers may carry data the caller's logs must not hold.
        let header_names: Vec<&str> = self.headers.keys().map(String::as_str).collect();
        f.debug_struct("ApprovalResult")
            .field("approval_id", &self.approval_id)
            .field("status_code", &self.status_code)
            .field("header_names", &header_names)
            .field("body_b64_len", &self.body_b64.len())
            .field("body_truncated", &self.body_truncated)
            .finish()
    }
}

/// Whether [`BODY_BASE64`] decodes `text`, found without decoding it: bodies run to
/// megabytes, and a full decode (into a buffer thrown away) cost three times the JSON parse.
///
/// Padding is required, so a valid text is whole quads. Padding and trailing bits only
/// ever concern the last quad, which the decoder itself checks; every other character just
/// has to be in the alphabet, a test the compiler vectorizes.
fn is_body_base64(text: &[u8]) -> bool {
    if text.len() % 4 != 0 {
        return false;
    }
    let Some(split) = text.len().checked_sub(4) else {
        return true;
    };

    let (bulk, last) = text.split_at(split);
    let in_alphabet = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    // No early exit inside a chunk: branch-free loops vectorize.
    bulk.chunks(256)
        .all(|chunk| chunk.iter().fold(true, |ok, &b| ok & in_alphabet(b)))
        && BODY_BASE64.decode(last).is_ok()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn result_with_body(body_b64: &str) -> Result<ApprovalResult, serde_json::Error> {
        serde_json::from_value(json!({
            "approval_id": null,
            "status_code": 200,
            "headers": {"content-type": "application/json"},
            "body_b64": body_b64,
            "body_truncated": false
        }))
    }

    #[test]
    fn decode_helpers() {
        let result = result_with_body("eyJvayI6dHJ1ZX0=").unwrap();
        assert_eq!(result.body_bytes(), br#"{"ok":true}"#);
        assert_eq!(result.body_text().unwrap(), r#"{"ok":true}"#);
        assert_eq!(result.body_text_lossy(), r#"{"ok":true}"#);
        let parsed: Value = result.body_json().unwrap();
        assert_eq!(parsed, json!({"ok": true}));
    }

    #[test]
    fn empty_body() {
        let result = result_with_body("").unwrap();
        assert!(result.body_bytes().is_empty());
        assert_eq!(result.body_text().unwrap(), "");
        assert!(matches!(
            result.body_json::<Value>(),
            Err(BodyDecodeError::Json(_))
        ));
    }

    #[test]
    fn invalid_utf8_is_strict_in_text_and_replaced_in_lossy() {
        // 0xff 0xfe is not UTF-8.
        let result = result_with_body("//4=").unwrap();
        assert_eq!(result.body_bytes(), [0xff, 0xfe]);
        assert!(matches!(result.body_text(), Err(BodyDecodeError::Utf8(_))));
        assert_eq!(result.body_text_lossy(), "\u{fffd}\u{fffd}");
    }

    #[test]
    fn bad_base64_is_rejected_on_deserialize() {
        for bad in [
            "eyJvayI6dHJ1ZX0",
            "not base64!",
            "eyJv\nayI6dHJ1ZX0=",
            "-_-_",
            "====",
        ] {
            assert!(result_with_body(bad).is_err(), "{bad:?}");
        }
        assert!(
            result_with_body("QR==").is_ok(),
            "trailing bits are tolerated"
        );
    }

    #[test]
    fn the_quick_check_accepts_exactly_what_the_decoder_decodes() {
        // Every text of up to 8 characters over letters that exercise the alphabet, the
        // padding, trailing bits and foreign characters.
        let letters = [b'A', b'Q', b'/', b'=', b'-'];
        let mut texts: Vec<Vec<u8>> = vec![Vec::new()];
        let mut checked = 0;
        for _ in 0..8 {
            texts = texts
                .iter()
                .flat_map(|text| {
                    letters.iter().map(move |&letter| {
                        let mut longer = text.clone();
                        longer.push(letter);
                        longer
                    })
                })
                .collect();
            for text in &texts {
                assert_eq!(
                    is_body_base64(text),
                    BODY_BASE64.decode(text).is_ok(),
                    "{:?}",
                    String::from_utf8_lossy(text)
                );
                checked += 1;
            }
        }
        assert!(checked > 400_000);
        assert!(is_body_base64(b""));

        let long = "QUFB".repeat(200) + "QQ==";
        assert!(is_body_base64(long.as_bytes()));
        let mut broken = long.into_bytes();
        broken[300] = b'-';
        assert!(!is_body_base64(&broken));
    }

    #[test]
    fn a_body_changed_after_parsing_reports_the_error() {
        let mut result = result_with_body("").unwrap();
        result.body_b64 = "%%%".into();
        assert!(result.body_bytes().is_empty());
        assert!(matches!(
            result.try_body_bytes(),
            Err(BodyDecodeError::Base64(_))
        ));
        assert!(matches!(
            result.body_text(),
            Err(BodyDecodeError::Base64(_))
        ));
    }

    #[test]
    fn result_defaults() {
        let result: ApprovalResult =
            serde_json::from_value(json!({"status_code": 204, "body_b64": ""})).unwrap();
        assert_eq!(result.approval_id, None);
        assert!(result.headers.is_empty());
        assert!(!result.body_truncated);
    }

    #[test]
    fn headers_keep_their_order() {
        let result: ApprovalResult = serde_json::from_value(json!({
            "status_code": 200, "body_b64": "",
            "headers": {"z-last": "1", "a-first": "2", "m-mid": "3"}
        }))
        .unwrap();
        let names: Vec<&str> = result.headers.keys().map(String::as_str).collect();
        assert_eq!(names, ["z-last", "a-first", "m-mid"]);
    }

    fn pending_json(status: &str, url: &str) -> Value {
        json!({
            "approval_id": "c0ffee00-1234-4567-89ab-cdef01234567",
            "status": status,
            "expires_at": "2026-01-01T00:15:00Z",
            "expires_in": 900,
            "approval_url": url
        })
    }

    #[test]
    fn pending_approval_requires_pending_and_a_url() {
        let pending: PendingApproval =
            serde_json::from_value(pending_json("pending", "https://h/a")).unwrap();
        assert_eq!(pending.status, ApprovalStatusValue::Pending);
        assert_eq!(
            pending.approval_id.to_string(),
            "c0ffee00-1234-4567-89ab-cdef01234567"
        );

        assert!(serde_json::from_value::<PendingApproval>(pending_json("approved", "u")).is_err());
        assert!(serde_json::from_value::<PendingApproval>(pending_json("pending", "")).is_err());
    }

    #[test]
    fn approval_ids_accept_other_uuid_spellings() {
        let mut raw = pending_json("pending", "u");
        raw["approval_id"] = json!("C0FFEE001234456789ABCDEF01234567");
        let pending: PendingApproval = serde_json::from_value(raw).unwrap();
        assert_eq!(
            pending.approval_id.to_string(),
            "c0ffee00-1234-4567-89ab-cdef01234567"
        );
    }

    #[test]
    fn approval_status_parses_and_reports_terminal_states() {
        let status: ApprovalStatus = serde_json::from_value(json!({
            "approval_id": "d00dfeed-7654-4321-8fed-cba987654321",
            "status": "denied",
            "expires_at": "2026-01-01T00:15:00Z",
            "decided_at": "2026-01-01T00:02:00Z",
            "decision_reason": "amount too large",
            "executed_at": null,
            "has_result": false
        }))
        .unwrap();
        assert!(status.is_terminal());
        assert_eq!(status.decision_reason.as_deref(), Some("amount too large"));
        assert!(status.decided_at.is_some());

        let missing_has_result = json!({
            "approval_id": "d00dfeed-7654-4321-8fed-cba987654321",
            "status": "pending", "expires_at": "2026-01-01T00:15:00Z"
        });
        assert!(serde_json::from_value::<ApprovalStatus>(missing_has_result).is_err());
    }
}

//! The `base64_body` target: the base64 provider bodies of proxy and approval results.

use alter_types::ApprovalResult;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Value, json};

use crate::input::Input;

/// The decoder `body_b64` is documented to follow: standard alphabet, canonical padding,
/// non-zero trailing bits tolerated. Built here independently, as the oracle.
const ORACLE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(true),
);

/// How the rest of the input is used, picked by its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The rest is the `body_b64` text of a result.
    Text = 0,
    /// The rest is a provider body, encoded before it is put in a result.
    Bytes = 1,
    /// The rest is a whole result document.
    Document = 2,
}

impl Mode {
    fn from_byte(byte: u8) -> Self {
        match byte % 3 {
            0 => Self::Text,
            1 => Self::Bytes,
            _ => Self::Document,
        }
    }
}

/// Decodes base64 result bodies the way a caller would.
///
/// Input: one byte picking a [`Mode`], then the text, the body or the document.
///
/// Checked, besides "no panic": a result deserializes exactly when the oracle decoder
/// accepts its `body_b64` (the SDK checks it without decoding, so the two must agree);
/// the decoded body equals the oracle's; every body survives encode → result → decode;
/// a result serializes and deserializes back to itself.
pub fn base64_body(data: &[u8]) {
    let mut input = Input::new(data);
    let mode = Mode::from_byte(input.byte());
    let rest = input.rest();

    match mode {
        Mode::Text => check_text(&String::from_utf8_lossy(rest)),
        Mode::Bytes => check_bytes(rest),
        Mode::Document => {
            if let Ok(result) = serde_json::from_slice::<ApprovalResult>(rest) {
                check_result(&result);
            }
        }
    }
}

fn result_json(body_b64: &str) -> Vec<u8> {
    let value = json!({"status_code": 200, "headers": {}, "body_b64": body_b64});
    serde_json::to_vec(&value).unwrap_or_default()
}

fn check_text(text: &str) {
    let parsed = serde_json::from_slice::<ApprovalResult>(&result_json(text));
    let oracle = ORACLE.decode(text);
    assert_eq!(
        parsed.is_ok(),
        oracle.is_ok(),
        "checker and decoder disagree"
    );

    if let (Ok(result), Ok(bytes)) = (parsed, oracle) {
        assert_eq!(result.try_body_bytes().ok(), Some(bytes));
        check_result(&result);
    }
}

fn check_bytes(body: &[u8]) {
    let encoded = STANDARD.encode(body);
    let result = serde_json::from_slice::<ApprovalResult>(&result_json(&encoded));
    let result = result.unwrap_or_else(|error| panic!("encoded body refused: {error}"));

    assert_eq!(result.body_bytes(), body);
    assert_eq!(
        result.body_text().ok().as_deref(),
        std::str::from_utf8(body).ok()
    );
    check_result(&result);
}

/// What holds for any result that deserialized.
fn check_result(result: &ApprovalResult) {
    let bytes = result
        .try_body_bytes()
        .unwrap_or_else(|error| panic!("a checked body does not decode: {error}"));
    let _ = (
        result.body_text_lossy(),
        result.body_json::<Value>(),
        format!("{result:?}"),
    );

    let reencoded =
        serde_json::from_slice::<ApprovalResult>(&result_json(&STANDARD.encode(&bytes)));
    assert_eq!(reencoded.map(|r| r.body_bytes()).ok(), Some(bytes));

    let written = serde_json::to_vec(result).unwrap_or_default();
    let back = serde_json::from_slice::<ApprovalResult>(&written);
    assert_eq!(back.ok().as_ref(), Some(result), "serialize round trip");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(mode: Mode, rest: &[u8]) -> Vec<u8> {
        let mut data = vec![mode as u8];
        data.extend_from_slice(rest);
        data
    }

    #[test]
    fn texts_bodies_and_documents_pass_the_checks() {
        for text in [
            "",
            "eyJvayI6dHJ1ZX0=",
            "QQ==",
            "QR==",
            "QQ=",
            "Q===",
            "@@@@",
            "QUJD\n",
        ] {
            base64_body(&input(Mode::Text, text.as_bytes()));
        }
        for body in [&b""[..], b"\x00\xff", b"{\"ok\":true}"] {
            base64_body(&input(Mode::Bytes, body));
        }
        base64_body(&input(
            Mode::Document,
            br#"{"approval_id":null,"status_code":502,"headers":null,"body_b64":"QQ==","body_truncated":true}"#,
        ));
    }

    #[test]
    fn the_oracle_tolerates_trailing_bits_only() {
        assert!(ORACLE.decode("QR==").is_ok());
        assert!(ORACLE.decode("QQ").is_err());
        assert!(ORACLE.decode("QQ=").is_err());
    }
}

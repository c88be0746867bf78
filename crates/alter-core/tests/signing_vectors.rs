//! Replays `fixtures/conformance/signing.json` against the public signing API.
//!
//! `cargo xtask conformance signing` is the full runner (every field, every header); this
//! test is a lighter, independent check that keeps the core honest on its own.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

use alter_core::encoding::canonical_path_and_query;
use alter_core::signing::{SigningInput, SigningKey, content_sha256, string_to_sign};
use base64::Engine as _;
use serde_json::Value;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/conformance/signing.json"
);

fn cases() -> Vec<Value> {
    serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap()
}

fn text<'a>(case: &'a Value, field: &str) -> &'a str {
    case[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing in {}", case["name"]))
}

#[test]
fn every_case_signs_as_recorded() {
    let cases = cases();
    assert_eq!(cases.len(), 28);

    for case in &cases {
        let name = text(case, "name");
        let body = base64::engine::general_purpose::STANDARD
            .decode(text(case, "body_b64"))
            .unwrap();
        let input = SigningInput {
            method: text(case, "method"),
            path_with_query: text(case, "path_with_query"),
            timestamp: text(case, "timestamp").parse().unwrap(),
            nonce: text(case, "nonce"),
            body: &body,
            scope_constraints: text(case, "scope_constraints"),
        };
        let key = SigningKey::derive(text(case, "api_key"));
        let headers = key.sign(&input);

        assert_eq!(
            key.expose_hex(),
            text(case, "signing_key_hex"),
            "{name}: signing key"
        );
        assert_eq!(
            string_to_sign(&input),
            text(case, "string_to_sign"),
            "{name}: string to sign"
        );
        assert_eq!(
            content_sha256(&body),
            text(case, "content_sha256"),
            "{name}: body hash"
        );
        assert_eq!(
            headers.signature,
            text(case, "signature"),
            "{name}: signature"
        );
        assert!(
            key.verify(&input, text(case, "signature")),
            "{name}: verify"
        );
        assert_eq!(
            headers.scope_constraints.is_some(),
            case["headers"].get("x-alter-scope-constraints").is_some(),
            "{name}: scope header presence"
        );
    }
}

/// §3.3: the as-built target equals its canonical form for every documented input. The one
/// exception is an id the reference client percent-encodes itself, which it signs encoded.
#[test]
fn recorded_targets_are_already_canonical() {
    for case in &cases() {
        let target = text(case, "path_with_query");
        if text(case, "name") == "percent_encoded_path" {
            assert_eq!(canonical_path_and_query(target), "/sdk/agents/ops bot/eu");
        } else {
            assert_eq!(canonical_path_and_query(target), target, "{}", case["name"]);
        }
    }
}

#[test]
fn a_changed_byte_breaks_the_signature() {
    let case = &cases()[1];
    let key = SigningKey::derive(text(case, "api_key"));
    let mut body = base64::engine::general_purpose::STANDARD
        .decode(text(case, "body_b64"))
        .unwrap();
    body[0] ^= 1;
    let input = SigningInput {
        method: text(case, "method"),
        path_with_query: text(case, "path_with_query"),
        timestamp: text(case, "timestamp").parse().unwrap(),
        nonce: text(case, "nonce"),
        body: &body,
        scope_constraints: text(case, "scope_constraints"),
    };

    assert!(!key.verify(&input, text(case, "signature")));
}

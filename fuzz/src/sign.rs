//! The `signing` target: HMAC request signing, driven by the conformance vectors.

use std::collections::HashMap;
use std::sync::OnceLock;

use alter_core::encoding::{canonical_path_and_query, percent_decode};
use alter_core::signing::{SigningInput, SigningKey, content_sha256, hex_lower, string_to_sign};
use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};

use crate::fixtures::{SigningCase, signing_cases};
use crate::input::Input;

/// Signs one request and checks it against an independent HMAC and the vectors.
///
/// Input: NUL-separated fields `api_key`, `method`, `path_with_query`, `timestamp`
/// (decimal; anything else counts as 0), `nonce`, `scope_constraints`, then the body
/// (everything left, NULs included). The seeds are the conformance signing vectors.
///
/// Checked, besides "no panic": the signing key, body hash, string to sign and signature
/// equal the ones computed here with the `hmac` and `sha2` crates directly; signing twice
/// gives the same headers; the signature verifies in either hex case and a changed one
/// does not; the scope-constraint header is present exactly when constraints are; an input
/// that is a conformance vector gives that vector's signature; the canonical path is a
/// fixed point where the encoding module says it is.
pub fn signing(data: &[u8]) {
    let fields = Fields::read(data);
    let input = fields.signing_input();
    let key = SigningKey::derive(&fields.api_key);

    let derived = oracle_hmac(fields.api_key.as_bytes(), b"alter-signing-v1");
    assert_eq!(key.expose_hex(), hex_lower(&derived), "signing key");
    let body_hash = hex_lower(&Sha256::digest(fields.body));
    assert_eq!(content_sha256(fields.body), body_hash);

    let expected_sts = [
        fields.method.to_ascii_uppercase().as_str(),
        &fields.path,
        &fields.timestamp.to_string(),
        &fields.nonce,
        &body_hash,
        &fields.scope,
    ]
    .join("\n");
    assert_eq!(string_to_sign(&input), expected_sts, "string to sign");

    let headers = key.sign(&input);
    let expected_signature = hex_lower(&oracle_hmac(&derived, expected_sts.as_bytes()));
    assert_eq!(headers.signature, expected_signature, "signature");
    assert!(key.sign(&input) == headers, "signing is deterministic");
    check_headers(&headers, &fields);

    assert!(key.verify(&input, &headers.signature));
    assert!(key.verify(&input, &headers.signature.to_ascii_uppercase()));
    assert!(!key.verify(&input, &flip_first_digit(&headers.signature)));
    let _ = key.verify(&input, &fields.nonce);

    if let Some(case) = vectors().get(&(fields.api_key.clone(), expected_sts)) {
        assert_eq!(headers.signature, case.signature, "vector {}", case.name);
        assert_eq!(
            key.expose_hex(),
            case.signing_key_hex,
            "vector {}",
            case.name
        );
    }

    check_canonical_path(&fields.path);
}

/// The parts of one signing input, read from fuzz bytes.
pub(crate) struct Fields<'a> {
    api_key: String,
    method: String,
    path: String,
    timestamp: u64,
    nonce: String,
    scope: String,
    body: &'a [u8],
}

impl<'a> Fields<'a> {
    fn read(data: &'a [u8]) -> Self {
        let mut input = Input::new(data);
        let mut text = || String::from_utf8_lossy(input.until_nul()).into_owned();

        let api_key = text();
        let method = text();
        let path = text();
        let timestamp = text().parse().unwrap_or(0);
        let nonce = text();
        let scope = text();
        Self {
            api_key,
            method,
            path,
            timestamp,
            nonce,
            scope,
            body: input.rest(),
        }
    }

    fn signing_input(&self) -> SigningInput<'_> {
        SigningInput {
            method: &self.method,
            path_with_query: &self.path,
            timestamp: self.timestamp,
            nonce: &self.nonce,
            body: self.body,
            scope_constraints: &self.scope,
        }
    }
}

/// The fuzz input that reads back as this vector.
pub(crate) fn encode_case(case: &SigningCase) -> Vec<u8> {
    let mut out = Vec::new();
    for field in [
        &case.api_key,
        &case.method,
        &case.path_with_query,
        &case.timestamp,
        &case.nonce,
        &case.scope_constraints,
    ] {
        out.extend_from_slice(field.as_bytes());
        out.push(0);
    }
    out.extend_from_slice(&case.body);
    out
}

fn check_headers(headers: &alter_core::signing::SignatureHeaders, fields: &Fields<'_>) {
    let pairs = headers.to_headers();
    let has_scope_header = pairs
        .iter()
        .any(|(name, _)| name == alter_core::signing::HEADER_SCOPE_CONSTRAINTS);

    assert_eq!(has_scope_header, !fields.scope.is_empty());
    assert_eq!(pairs.len(), if has_scope_header { 5 } else { 4 });
    assert_eq!(headers.timestamp, fields.timestamp.to_string());
    assert_eq!(headers.nonce, fields.nonce);
    assert!(!format!("{headers:?}").contains(&headers.signature));
}

/// The canonical form is a fixed point unless the decoded path holds `%` or `?`.
fn check_canonical_path(path: &str) {
    let canonical = canonical_path_and_query(path);
    let raw_path = path.split_once('?').map_or(path, |(p, _)| p);
    let decoded = String::from_utf8_lossy(&percent_decode(raw_path)).into_owned();

    if !decoded.contains(['%', '?']) {
        assert_eq!(canonical_path_and_query(&canonical), canonical, "{path:?}");
    }
}

fn oracle_hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    // `new_from_slice` takes keys of any length, so it cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return [0; 32];
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The same hex string with its first digit changed.
fn flip_first_digit(hex: &str) -> String {
    let mut chars: Vec<char> = hex.chars().collect();
    if let Some(first) = chars.first_mut() {
        *first = if *first == '0' { '1' } else { '0' };
    }
    chars.into_iter().collect()
}

/// The vectors by (API key, string to sign).
fn vectors() -> &'static HashMap<(String, String), SigningCase> {
    static VECTORS: OnceLock<HashMap<(String, String), SigningCase>> = OnceLock::new();
    VECTORS.get_or_init(|| {
        signing_cases()
            .iter()
            .map(|case| {
                (
                    (case.api_key.clone(), case.string_to_sign.clone()),
                    case.clone(),
                )
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vector_signs_as_recorded() {
        let cases = signing_cases();
        assert!(cases.len() >= 20, "{} vectors", cases.len());

        for case in cases {
            let data = encode_case(case);
            let fields = Fields::read(&data);
            let headers = SigningKey::derive(&fields.api_key).sign(&fields.signing_input());

            assert_eq!(headers.signature, case.signature, "{}", case.name);
            assert!(vectors().contains_key(&(case.api_key.clone(), case.string_to_sign.clone())));
            signing(&data);
        }
    }

    #[test]
    fn a_changed_vector_still_passes_the_oracle_checks() {
        let mut data = encode_case(&signing_cases()[0]);
        data.extend_from_slice(b"\0extra");

        signing(&data);
        signing(b"");
        signing(b"k\0get\0/a%3Fb?x=1&&y\0notanumber\0n\0s");
    }
}

//! HMAC request signing (PROTOCOL.md §3.1–3.6).
//!
//! Every `/sdk/…` request carries a timestamp, a nonce, the SHA-256 of its body and an
//! HMAC-SHA256 signature over the six-line [`string_to_sign`]. The signing key is derived
//! once from the API key and never travels. Signing is a pure function of the request parts,
//! the key, the timestamp and the nonce: the caller supplies time and randomness.
//!
//! ```
//! use alter_core::signing::{SigningInput, SigningKey};
//!
//! let key = SigningKey::derive("alter_key_example");
//! let input = SigningInput {
//!     method: "GET",
//!     path_with_query: "/sdk/scopes",
//!     timestamp: 1_700_000_000,
//!     nonce: "00112233445566778899aabbccddeeff",
//!     body: b"",
//!     scope_constraints: "",
//! };
//! let headers = key.sign(&input);
//! assert!(key.verify(&input, &headers.signature));
//! assert_eq!(headers.to_headers()[0], ("X-Alter-Timestamp".to_owned(), "1700000000".to_owned()));
//! ```

use std::fmt;

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Name of the header carrying the Unix timestamp in seconds.
pub const HEADER_TIMESTAMP: &str = "X-Alter-Timestamp";
/// Name of the header carrying the per-request nonce.
pub const HEADER_NONCE: &str = "X-Alter-Nonce";
/// Name of the header carrying the hex SHA-256 of the body.
pub const HEADER_CONTENT_SHA256: &str = "X-Alter-Content-SHA256";
/// Name of the header carrying the hex HMAC signature.
pub const HEADER_SIGNATURE: &str = "X-Alter-Signature";
/// Name of the header carrying the scope constraints of a constrained client.
pub const HEADER_SCOPE_CONSTRAINTS: &str = "X-Alter-Scope-Constraints";

/// The message the signing key is derived with (§3.1).
const DERIVATION_LABEL: &[u8] = b"alter-signing-v1";

type HmacSha256 = Hmac<Sha256>;

/// The 32-byte HMAC key that signs requests, derived from an API key.
///
/// Its `Debug` output is redacted and it has no `Display`.
#[derive(Clone)]
pub struct SigningKey([u8; 32]);

impl SigningKey {
    /// Derives the signing key: HMAC-SHA256 keyed with the API key over `alter-signing-v1`.
    pub fn derive(api_key: &str) -> Self {
        Self(hmac_sha256(api_key.as_bytes(), DERIVATION_LABEL))
    }

    /// The key as lower-case hex, for comparing with test vectors.
    ///
    /// # Security
    ///
    /// Anyone holding this value can sign requests as the API key's owner. Never log it,
    /// print it or send it anywhere.
    pub fn expose_hex(&self) -> String {
        hex_lower(&self.0)
    }

    /// Signs one request and returns the headers to add to it.
    ///
    /// `input.path_with_query` is signed exactly as given; pass the canonical form from
    /// [`crate::encoding::canonical_path_and_query`].
    pub fn sign(&self, input: &SigningInput<'_>) -> SignatureHeaders {
        let signature = self.mac(input);

        SignatureHeaders {
            timestamp: input.timestamp.to_string(),
            nonce: input.nonce.to_owned(),
            content_sha256: content_sha256(input.body),
            signature: hex_lower(&signature),
            scope_constraints: (!input.scope_constraints.is_empty())
                .then(|| input.scope_constraints.to_owned()),
        }
    }

    /// Whether `signature_hex` is the signature of `input`, compared in constant time.
    ///
    /// Hex digits of either case are accepted; anything that is not 64 hex digits is `false`.
    pub fn verify(&self, input: &SigningInput<'_>, signature_hex: &str) -> bool {
        let Some(claimed) = decode_hex_32(signature_hex) else {
            return false;
        };

        self.mac(input).ct_eq(&claimed).into()
    }

    fn mac(&self, input: &SigningInput<'_>) -> [u8; 32] {
        hmac_sha256(&self.0, string_to_sign(input).as_bytes())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// The parts of a request that the signature covers.
///
/// Its `Debug` output shows the body's length, never its bytes.
#[derive(Clone, Copy)]
pub struct SigningInput<'a> {
    /// HTTP method; upper-cased in the string to sign.
    pub method: &'a str,
    /// Path and query relative to the base URL's path prefix, e.g. `/sdk/agents?limit=10`.
    pub path_with_query: &'a str,
    /// Unix time in whole seconds.
    pub timestamp: u64,
    /// Fresh per request: 32 lower-case hex characters from 16 random bytes.
    pub nonce: &'a str,
    /// The exact body bytes sent; empty for a request without a body.
    pub body: &'a [u8],
    /// The scope-constraint header value, or `""` for an unconstrained client.
    pub scope_constraints: &'a str,
}

impl fmt::Debug for SigningInput<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningInput")
            .field("method", &self.method)
            .field("path_with_query", &self.path_with_query)
            .field("timestamp", &self.timestamp)
            .field("nonce", &self.nonce)
            .field("body_len", &self.body.len())
            .field("scope_constraints", &self.scope_constraints)
            .finish()
    }
}

/// The headers that authenticate one request.
#[derive(Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `X-Alter-Timestamp`: Unix seconds in decimal.
    pub timestamp: String,
    /// `X-Alter-Nonce`.
    pub nonce: String,
    /// `X-Alter-Content-SHA256`: lower-case hex SHA-256 of the body.
    pub content_sha256: String,
    /// `X-Alter-Signature`: lower-case hex HMAC-SHA256 of the string to sign.
    pub signature: String,
    /// `X-Alter-Scope-Constraints`, present only for a constrained client.
    pub scope_constraints: Option<String>,
}

impl SignatureHeaders {
    /// The headers as (name, value) pairs, in the order the reference client sends them.
    ///
    /// `X-Alter-Scope-Constraints` comes last and only when it is non-empty.
    pub fn to_headers(&self) -> Vec<(String, String)> {
        let mut headers = vec![
            (HEADER_TIMESTAMP.to_owned(), self.timestamp.clone()),
            (HEADER_NONCE.to_owned(), self.nonce.clone()),
            (
                HEADER_CONTENT_SHA256.to_owned(),
                self.content_sha256.clone(),
            ),
            (HEADER_SIGNATURE.to_owned(), self.signature.clone()),
        ];
        if let Some(constraints) = self.scope_constraints.as_ref().filter(|c| !c.is_empty()) {
            headers.push((HEADER_SCOPE_CONSTRAINTS.to_owned(), constraints.clone()));
        }
        headers
    }
}

impl fmt::Debug for SignatureHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignatureHeaders")
            .field("timestamp", &self.timestamp)
            .field("nonce", &self.nonce)
            .field("content_sha256", &self.content_sha256)
            .field("signature", &"<redacted>")
            .field("scope_constraints", &self.scope_constraints)
            .finish()
    }
}

/// The six lines the signature covers, joined by `\n` without a trailing newline (§3.2).
///
/// Method (upper-cased), path and query, timestamp, nonce, body hash, scope constraints.
/// The last line is empty for an unconstrained client, so the string then ends in `\n`.
pub fn string_to_sign(input: &SigningInput<'_>) -> String {
    [
        input.method.to_ascii_uppercase().as_str(),
        input.path_with_query,
        &input.timestamp.to_string(),
        input.nonce,
        &content_sha256(input.body),
        input.scope_constraints,
    ]
    .join("\n")
}

/// Lower-case hex SHA-256 of `body`; the empty body hashes to `e3b0c442…b855`.
pub fn content_sha256(body: &[u8]) -> String {
    hex_lower(&Sha256::digest(body))
}

/// Lower-case hex of `bytes`.
pub fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";

    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// HMAC-SHA256 of `message` under `key`.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as KeyInit>::new(&key_block(key).into());
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The key as one SHA-256 block, as HMAC itself prepares it (RFC 2104 §2): keys longer
/// than a block are hashed first, shorter ones are padded with zeros.
///
/// This lets the infallible fixed-size constructor stand in for the slice constructor,
/// whose error case cannot happen for HMAC but would otherwise need handling.
fn key_block(key: &[u8]) -> [u8; 64] {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    block
}

fn decode_hex_32(text: &str) -> Option<[u8; 32]> {
    let digits = text.as_bytes();
    if digits.len() != 64 {
        return None;
    }

    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let high = char::from(pair[0]).to_digit(16)?;
        let low = char::from(pair[1]).to_digit(16)?;
        *byte = u8::try_from(high << 4 | low).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const NONCE: &str = "00112233445566778899aabbccddeeff";
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn vector_a() -> SigningInput<'static> {
        SigningInput {
            method: "POST",
            path_with_query: "/sdk/token",
            timestamp: 1_700_000_000,
            nonce: NONCE,
            body: br#"{"grant_id":"3f0c6a52-1b7e-4c1a-9e5d-2a4b8c9d0e1f","reason":null,"request":{"method":"GET","url":"https://api.example.com/v1/me"}}"#,
            scope_constraints: "",
        }
    }

    fn vector_b() -> SigningInput<'static> {
        SigningInput {
            method: "GET",
            path_with_query: "/sdk/agents?include_revoked=false&limit=100&offset=0",
            timestamp: 1_700_000_000,
            nonce: NONCE,
            body: b"",
            scope_constraints: "grants:read,tokens:retrieve",
        }
    }

    #[test]
    fn derives_the_documented_signing_key() {
        assert_eq!(
            SigningKey::derive("alter_key_example").expose_hex(),
            "565a2c060995b13f44f5b4e162883ad5dbfb55dfe7a44fb1cf5f3f99c2e96243"
        );
    }

    #[test]
    fn vector_a_body_with_no_constraints() {
        let key = SigningKey::derive("alter_key_example");
        let headers = key.sign(&vector_a());

        assert_eq!(
            headers.content_sha256,
            "1401c8d80cce769d3a06fa663a97c2f382c4037c0cdf7968198af981e9939350"
        );
        assert_eq!(
            headers.signature,
            "81a277e3085dc2dfab89a1171cb3b2a209009de9af544541ef83fd9c445248b6"
        );
        assert_eq!(headers.scope_constraints, None);
        assert!(string_to_sign(&vector_a()).ends_with("9350\n"));
        assert_eq!(headers.to_headers().len(), 4);
    }

    #[test]
    fn vector_b_query_and_constraints() {
        let key = SigningKey::derive("alter_key_example");
        let headers = key.sign(&vector_b());

        assert_eq!(headers.content_sha256, EMPTY_SHA256);
        assert_eq!(
            headers.signature,
            "01c8fb56e6372f10a1ebf25380b5368d198621a54013056135006a783f4f8bba"
        );
        assert_eq!(
            string_to_sign(&vector_b()),
            format!(
                "GET\n/sdk/agents?include_revoked=false&limit=100&offset=0\n1700000000\n{NONCE}\n{EMPTY_SHA256}\ngrants:read,tokens:retrieve"
            )
        );
        assert_eq!(
            headers.to_headers(),
            [
                ("X-Alter-Timestamp", "1700000000"),
                ("X-Alter-Nonce", NONCE),
                ("X-Alter-Content-SHA256", EMPTY_SHA256),
                (
                    "X-Alter-Signature",
                    "01c8fb56e6372f10a1ebf25380b5368d198621a54013056135006a783f4f8bba"
                ),
                ("X-Alter-Scope-Constraints", "grants:read,tokens:retrieve"),
            ]
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
        );
    }

    #[test]
    fn method_is_upper_cased() {
        let lower = SigningInput {
            method: "post",
            ..vector_a()
        };
        assert_eq!(string_to_sign(&lower), string_to_sign(&vector_a()));
    }

    #[test]
    fn verify_accepts_only_the_right_signature() {
        let key = SigningKey::derive("alter_key_example");
        let signature = key.sign(&vector_a()).signature;

        assert!(key.verify(&vector_a(), &signature));
        assert!(key.verify(&vector_a(), &signature.to_ascii_uppercase()));
        assert!(!key.verify(&vector_b(), &signature));
        assert!(!key.verify(&vector_a(), &signature[..62]));
        assert!(!key.verify(&vector_a(), &format!("{}zz", &signature[..62])));
        assert!(!SigningKey::derive("alter_key_other").verify(&vector_a(), &signature));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let key = SigningKey::derive("alter_key_example");
        let headers = key.sign(&vector_a());

        assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
        let input = format!("{:?}", vector_a());
        assert!(
            !input.contains("grant_id") && input.contains("body_len: 130"),
            "{input}"
        );
        let debug = format!("{headers:?}");
        assert!(!debug.contains(&headers.signature), "{debug}");
        assert!(debug.contains("<redacted>") && debug.contains(NONCE));
    }

    #[test]
    fn key_block_matches_the_slice_constructor() {
        for len in [0, 1, 31, 32, 63, 64, 65, 128, 300] {
            let key = vec![0xa5u8; len];
            let mut reference = <HmacSha256 as Mac>::new_from_slice(&key).unwrap();
            reference.update(b"message");
            let reference: [u8; 32] = reference.finalize().into_bytes().into();

            assert_eq!(hmac_sha256(&key, b"message"), reference, "key length {len}");
        }
    }

    #[test]
    fn hex_helpers() {
        assert_eq!(hex_lower(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        assert_eq!(content_sha256(b""), EMPTY_SHA256);
        assert_eq!(decode_hex_32(&"aB".repeat(32)), Some([0xab; 32]));
        assert_eq!(decode_hex_32(&"g0".repeat(32)), None);
        assert_eq!(decode_hex_32("+1".repeat(32).as_str()), None);
    }

    proptest! {
        #[test]
        fn signing_never_panics_and_verifies(
            api_key in any::<String>(),
            method in any::<String>(),
            path in any::<String>(),
            timestamp in any::<u64>(),
            nonce in any::<String>(),
            body in prop::collection::vec(any::<u8>(), 0..256),
            constraints in any::<String>(),
        ) {
            let key = SigningKey::derive(&api_key);
            let input = SigningInput {
                method: &method,
                path_with_query: &path,
                timestamp,
                nonce: &nonce,
                body: &body,
                scope_constraints: &constraints,
            };
            let headers = key.sign(&input);

            prop_assert!(key.verify(&input, &headers.signature));
            prop_assert_eq!(headers.signature.len(), 64);
            prop_assert_eq!(headers.scope_constraints.is_some(), !constraints.is_empty());
        }

        #[test]
        fn verify_never_panics(signature in any::<String>()) {
            let key = SigningKey::derive("alter_key_example");
            let _ = key.verify(&vector_a(), &signature);
        }
    }
}

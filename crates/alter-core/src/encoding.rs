//! Percent- and form-encoding for paths and queries (PROTOCOL.md §3.3, §6.2).
//!
//! Path parameters are encoded as whole segments, so an id can never add a `/` to the path.
//! Queries use `application/x-www-form-urlencoded` spelling. The signature covers the
//! *canonical* form of path and query ([`canonical_path_and_query`]), which is what the
//! backend rebuilds before it verifies, so an id with unusual characters still verifies.
//!
//! ```
//! use alter_core::encoding::{canonical_path_and_query, encode_path_segment, form_encode_pairs};
//!
//! let path = format!("/sdk/agents/{}", encode_path_segment("ops bot/eu"));
//! assert_eq!(path, "/sdk/agents/ops%20bot%2Feu");
//! assert_eq!(form_encode_pairs([("name", "ops bot"), ("limit", "10")]), "name=ops+bot&limit=10");
//! assert_eq!(
//!     canonical_path_and_query("/sdk/agents?offset=0&limit=100"),
//!     "/sdk/agents?limit=100&offset=0"
//! );
//! ```

/// Percent-encodes `s` as one path segment.
///
/// Only the unreserved characters `A-Z a-z 0-9 _ . - ~` are kept; every other UTF-8 byte,
/// including `/` and space, becomes `%XX` with upper-case hex.
pub fn encode_path_segment(s: &str) -> String {
    encode(s, false)
}

/// Encodes `s` as one `application/x-www-form-urlencoded` component.
///
/// Like [`encode_path_segment`], except that a space becomes `+`.
pub fn form_encode(s: &str) -> String {
    encode(s, true)
}

/// Form-encodes name/value pairs as `name=value` joined by `&`, in the given order.
pub fn form_encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let encoded: Vec<String> = pairs
        .into_iter()
        .map(|(name, value)| format!("{}={}", form_encode(name), form_encode(value)))
        .collect();

    encoded.join("&")
}

/// Decodes `%XX` escapes (either hex case) into bytes.
///
/// A `%` that does not start a valid escape is kept literally, and `+` stays `+`, as in a
/// URL path.
pub fn percent_decode(s: &str) -> Vec<u8> {
    decode(s, false)
}

/// Decodes one form-encoded component: `+` becomes a space, then `%XX` escapes are decoded.
///
/// Malformed escapes are kept literally, as in [`percent_decode`].
pub fn form_decode(s: &str) -> Vec<u8> {
    decode(s, true)
}

/// The canonical form of a request target that the signature covers (§3.3).
///
/// The path is percent-decoded (bytes that are not UTF-8 become U+FFFD). When the query
/// holds at least one pair, `?` follows, then the pairs form-decoded, sorted by name and
/// then value, and form-encoded again; a pair without `=` gets an empty value. Empty pieces
/// between `&`s are dropped, and a query without pairs drops the `?`.
///
/// The result is a fixed point (canonicalizing it again changes nothing) unless the
/// decoded path itself contains `%` or `?`.
pub fn canonical_path_and_query(path_with_query: &str) -> String {
    let (path, query) = path_with_query
        .split_once('?')
        .unwrap_or((path_with_query, ""));
    let mut canonical = String::from_utf8_lossy(&percent_decode(path)).into_owned();

    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (lossy(form_decode(name)), lossy(form_decode(value)))
        })
        .collect();
    if pairs.is_empty() {
        return canonical;
    }

    pairs.sort();
    canonical.push('?');
    canonical.push_str(&form_encode_pairs(
        pairs
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    ));
    canonical
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Whether `byte` is in the RFC 3986 unreserved set `A-Z a-z 0-9 _ . - ~`.
pub(crate) fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-' | b'~')
}

fn encode(s: &str, space_as_plus: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &byte in s.as_bytes() {
        if is_unreserved(byte) {
            out.push(char::from(byte));
        } else if byte == b' ' && space_as_plus {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(byte >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(byte & 0x0f)]));
        }
    }
    out
}

/// Decodes `%XX` escapes (a `+` stays a `+`); malformed escapes stay as they are and bytes
/// that are not UTF-8 become U+FFFD.
pub(crate) fn percent_decode_lossy(s: &str) -> String {
    lossy(percent_decode(s))
}

/// The byte written by the escape `%XX` starting at `bytes[at]`, if there is one there.
pub(crate) fn escaped_byte(bytes: &[u8], at: usize) -> Option<u8> {
    if bytes.get(at) != Some(&b'%') {
        return None;
    }
    let high = hex_value(*bytes.get(at + 1)?)?;
    let low = hex_value(*bytes.get(at + 2)?)?;
    Some(high << 4 | low)
}

fn decode(s: &str, plus_as_space: bool) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;

    while let Some(&byte) = bytes.get(index) {
        match escaped_byte(bytes, index) {
            Some(decoded) => {
                out.push(decoded);
                index += 3;
            }
            None => {
                out.push(if byte == b'+' && plus_as_space {
                    b' '
                } else {
                    byte
                });
                index += 1;
            }
        }
    }
    out
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn path_segment_encodes_everything_but_unreserved() {
        assert_eq!(encode_path_segment("aZ09_.-~"), "aZ09_.-~");
        assert_eq!(
            encode_path_segment("a b/c?d#e%f+g"),
            "a%20b%2Fc%3Fd%23e%25f%2Bg"
        );
        assert_eq!(encode_path_segment("é✓"), "%C3%A9%E2%9C%93");
        assert_eq!(encode_path_segment(""), "");
    }

    #[test]
    fn form_encoding_uses_plus_for_space() {
        assert_eq!(form_encode("ops bot/eu"), "ops+bot%2Feu");
        assert_eq!(form_encode("a+b=c&d"), "a%2Bb%3Dc%26d");
        assert_eq!(form_encode_pairs([("b", ""), ("a", "x y")]), "b=&a=x+y");
        assert_eq!(form_encode_pairs([]), "");
    }

    #[test]
    fn decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%20b%2f%zz%4"), b"a b/%zz%4");
        assert_eq!(percent_decode("a+b%"), b"a+b%");
        assert_eq!(form_decode("a+b%2B"), b"a b+");
        assert_eq!(percent_decode("%C3%A9"), "é".as_bytes());
    }

    #[test]
    fn canonical_form_decodes_path_and_sorts_query() {
        assert_eq!(canonical_path_and_query("/sdk/scopes"), "/sdk/scopes");
        assert_eq!(
            canonical_path_and_query("/sdk/agents/ops%20bot%2Feu"),
            "/sdk/agents/ops bot/eu"
        );
        assert_eq!(
            canonical_path_and_query("/sdk/agents?offset=0&limit=100&include_revoked=false"),
            "/sdk/agents?include_revoked=false&limit=100&offset=0"
        );
        assert_eq!(
            canonical_path_and_query("/sdk/agents?name=ops%20bot%2feu"),
            "/sdk/agents?name=ops+bot%2Feu"
        );
        assert_eq!(canonical_path_and_query("/p?b=2&a=2&a=1"), "/p?a=1&a=2&b=2");
        assert_eq!(canonical_path_and_query("/p?flag&x="), "/p?flag=&x=");
        assert_eq!(canonical_path_and_query("/p?"), "/p");
        assert_eq!(canonical_path_and_query("/p?&&"), "/p");
        assert_eq!(canonical_path_and_query("/p%FF"), "/p\u{fffd}");
    }

    fn no_percent_or_question() -> impl Strategy<Value = String> {
        any::<String>().prop_map(|s| s.replace(['%', '?'], ""))
    }

    proptest! {
        #[test]
        fn path_segment_round_trips(s in any::<String>()) {
            let encoded = encode_path_segment(&s);
            prop_assert!(!encoded.contains('/'));
            prop_assert!(encoded.is_ascii());
            prop_assert_eq!(percent_decode(&encoded), s.as_bytes());
        }

        #[test]
        fn form_component_round_trips(s in any::<String>()) {
            let encoded = form_encode(&s);
            prop_assert!(!encoded.contains(['&', '=', ' ']));
            prop_assert_eq!(form_decode(&encoded), s.as_bytes());
        }

        #[test]
        fn decoding_never_panics(s in any::<String>()) {
            let _ = percent_decode(&s);
            let _ = form_decode(&s);
            let _ = canonical_path_and_query(&s);
        }

        #[test]
        fn canonical_form_is_a_fixed_point(
            segments in prop::collection::vec(no_percent_or_question(), 0..4),
            query in any::<String>(),
        ) {
            let path: String = segments.iter().map(|s| format!("/{}", encode_path_segment(s))).collect();
            let once = canonical_path_and_query(&format!("{path}?{query}"));
            prop_assert_eq!(canonical_path_and_query(&once), once);
        }
    }
}

//! Percent-encoding and -decoding for URLs built in retrieve mode.
//!
//! Every encoder here keeps exactly the RFC 3986 unreserved set `A-Z a-z 0-9 _ . - ~` and
//! writes every other UTF-8 byte as `%XX` with upper-case hex.

/// Whether `byte` is in the RFC 3986 unreserved set.
pub(crate) fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-' | b'~')
}

/// Encodes `value` as one path segment: `/`, `%` and space are encoded too.
pub(crate) fn encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &byte in value.as_bytes() {
        push_byte(&mut out, byte);
    }
    out
}

/// Encodes `value` for `application/x-www-form-urlencoded`: as [`encode_segment`], except
/// that a space becomes `+`.
pub(crate) fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &byte in value.as_bytes() {
        if byte == b' ' {
            out.push('+');
        } else {
            push_byte(&mut out, byte);
        }
    }
    out
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it is, and bytes
/// that do not form UTF-8 become U+FFFD. A `+` stays a `+`.
pub(crate) fn percent_decode_lossy(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if let Some(byte) = escaped_byte(bytes, i) {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

fn push_byte(out: &mut String, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";

    if is_unreserved(byte) {
        out.push(char::from(byte));
    } else {
        out.push('%');
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_encoding_keeps_only_unreserved_characters() {
        assert_eq!(encode_segment("aZ09_.-~"), "aZ09_.-~");
        assert_eq!(encode_segment("a b/c%2F"), "a%20b%2Fc%252F");
        assert_eq!(encode_segment("pg 42/α"), "pg%2042%2F%CE%B1");
        assert_eq!(encode_segment("+&=?#"), "%2B%26%3D%3F%23");
    }

    #[test]
    fn form_encoding_writes_space_as_plus() {
        assert_eq!(form_encode("Zürich a+b"), "Z%C3%BCrich+a%2Bb");
    }

    #[test]
    fn decoding_is_lenient_and_leaves_plus_alone() {
        assert_eq!(percent_decode_lossy("x+y%20z"), "x+y z");
        assert_eq!(percent_decode_lossy("100%"), "100%");
        assert_eq!(percent_decode_lossy("%zz%4"), "%zz%4");
        assert_eq!(percent_decode_lossy("%C3%BC%2f"), "ü/");
        assert_eq!(percent_decode_lossy("%FF"), "\u{fffd}");
    }
}

//! Byte-exact JSON serialization matching the reference client (PROTOCOL.md §2.6).
//!
//! The content hash covers the exact body bytes, so a body must serialize the same way the
//! reference client's `json.dumps` does: compact separators, keys in insertion order, every
//! non-ASCII character escaped as `\uxxxx`, and floats spelled like Python's `repr`. Golden
//! tests compare these bytes with captured ones; the backend only needs the hash to match
//! whatever is sent, so the spelling matters for conformance, not for correctness.
//!
//! ```
//! use serde_json::json;
//!
//! let body = alter_core::json::to_compact(&json!({"name": "Zoë", "ratio": 1e-7}));
//! assert_eq!(body, br#"{"name":"Zo\u00eb","ratio":1e-07}"#);
//! ```
//!
//! # Limitations
//!
//! The reference client escapes DEL (U+007F) as `\u007f`, unlike what §2.6 states; this module
//! follows the reference client's actual bytes.

use serde_json::{Number, Value};

use crate::error::{Error, Result};

/// Serializes `value` with compact separators (`,` and `:`), ASCII-only.
///
/// This is the body format of every `/sdk/…` request.
pub fn to_compact(value: &Value) -> Vec<u8> {
    write_document(value, Separators::COMPACT)
}

/// Serializes `value` with the reference client's default separators (`, ` and `: `),
/// ASCII-only.
///
/// This is the body format of SigV4-signed provider requests built from a JSON value (§6.5).
///
/// ```
/// use serde_json::json;
///
/// let body = alter_core::json::to_spaced(&json!({"a": 1, "b": [true, null]}));
/// assert_eq!(body, br#"{"a": 1, "b": [true, null]}"#);
/// ```
pub fn to_spaced(value: &Value) -> Vec<u8> {
    write_document(value, Separators::SPACED)
}

/// Serializes any serde value to compact body bytes (see [`to_compact`]).
///
/// Map keys keep the order in which the value serializes its fields.
///
/// # Errors
///
/// [`Error::InvalidInput`] when the value cannot be represented as JSON, for example a map
/// with non-string keys.
///
/// # Limitations
///
/// A non-finite float (NaN, ±infinity) inside `value` becomes `null`, as in
/// `serde_json::to_value`. The reference client would send the invalid tokens `NaN` or
/// `Infinity`; a [`Value`] cannot hold non-finite floats at all.
pub fn to_body<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    let value = serde_json::to_value(value)
        .map_err(|err| Error::invalid_input(format!("body is not valid JSON: {err}")))?;

    Ok(to_compact(&value))
}

/// The two separator styles of Python's `json.dumps`.
#[derive(Clone, Copy)]
struct Separators {
    item: &'static str,
    key: &'static str,
}

impl Separators {
    const COMPACT: Self = Self {
        item: ",",
        key: ":",
    };
    const SPACED: Self = Self {
        item: ", ",
        key: ": ",
    };
}

fn write_document(value: &Value, separators: Separators) -> Vec<u8> {
    let mut out = String::new();
    write_value(&mut out, value, separators);
    out.into_bytes()
}

fn write_value(out: &mut String, value: &Value, separators: Separators) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(separators.item);
                }
                write_value(out, item, separators);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.push_str(separators.item);
                }
                write_string(out, key);
                out.push_str(separators.key);
                write_value(out, item, separators);
            }
            out.push('}');
        }
    }
}

fn write_number(out: &mut String, number: &Number) {
    if let Some(unsigned) = number.as_u64() {
        out.push_str(&unsigned.to_string());
    } else if let Some(signed) = number.as_i64() {
        out.push_str(&signed.to_string());
    } else if let Some(float) = number.as_f64() {
        out.push_str(&python_float_repr(float));
    }
}

/// Spells a finite float the way Python's `repr(float)` does.
///
/// Rust's `{:e}` already yields the shortest round-trip digits; only the layout differs.
/// Python uses positional notation while the decimal exponent is in `-4..16`, and scientific
/// notation with a signed, at least two-digit exponent otherwise.
/// A float spelled as Python's `repr` spells it (`2.0`, `1e-07`, `1e+16`).
pub(crate) fn python_float_repr(value: f64) -> String {
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();

    let body = if (-4..16).contains(&exponent) {
        positional(&digits, exponent)
    } else {
        exponential(&digits, exponent)
    };

    format!("{sign}{body}")
}

/// `digits` with the decimal point after `exponent + 1` digits, always with a fraction.
fn positional(digits: &str, exponent: i32) -> String {
    let point = exponent + 1;

    if point <= 0 {
        let zeros = "0".repeat(point.unsigned_abs() as usize);
        return format!("0.{zeros}{digits}");
    }

    let point = point as usize;
    if digits.len() <= point {
        let zeros = "0".repeat(point - digits.len());
        format!("{digits}{zeros}.0")
    } else {
        format!("{}.{}", &digits[..point], &digits[point..])
    }
}

/// `d[.ddd]e±XX`, as Python writes large and small magnitudes.
fn exponential(digits: &str, exponent: i32) -> String {
    let (first, rest) = digits.split_at(1.min(digits.len()));
    let fraction = if rest.is_empty() {
        String::new()
    } else {
        format!(".{rest}")
    };
    let sign = if exponent < 0 { '-' } else { '+' };

    format!("{first}{fraction}e{sign}{:02}", exponent.unsigned_abs())
}

fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            ' '..='~' => out.push(ch),
            _ => {
                // Controls, DEL and everything non-ASCII: UTF-16 code units, lower-case hex.
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn compact(value: &Value) -> String {
        String::from_utf8(to_compact(value)).unwrap()
    }

    #[test]
    fn escapes_every_class_like_python() {
        let text = "q\" b\\ n\n r\r t\t b\u{08} f\u{0c} nul\u{0} us\u{1f} del\u{7f} / ~";
        assert_eq!(
            compact(&json!(text)),
            r#""q\" b\\ n\n r\r t\t b\b f\f nul\u0000 us\u001f del\u007f / ~""#
        );
    }

    #[test]
    fn escapes_non_ascii_in_lower_case_and_astral_as_surrogates() {
        assert_eq!(compact(&json!("é✓日本")), r#""\u00e9\u2713\u65e5\u672c""#);
        assert_eq!(compact(&json!("😀")), r#""\ud83d\ude00""#);
        assert_eq!(compact(&json!("\u{2028}\u{ffff}")), r#""\u2028\uffff""#);
        assert_eq!(compact(&json!("\u{10ffff}")), r#""\udbff\udfff""#);
    }

    #[test]
    fn escapes_keys_too() {
        assert_eq!(compact(&json!({"é\n": 1})), r#"{"\u00e9\n":1}"#);
    }

    #[test]
    fn floats_match_python_repr() {
        // Left: the value; right: Python 3's repr of the same float.
        let table: &[(f64, &str)] = &[
            (2.0, "2.0"),
            (0.1, "0.1"),
            (1e-7, "1e-07"),
            (-1e-7, "-1e-07"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e300, "1.5e+300"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (1e-5, "1e-05"),
            (1e-4, "0.0001"),
            (0.0001234, "0.0001234"),
            (2.5e-5, "2.5e-05"),
            (123456789012345.6, "123456789012345.6"),
            (1234567890123456.7, "1234567890123456.8"),
            (12345678901234567.0, "1.2345678901234568e+16"),
            (9999999999999998.0, "9999999999999998.0"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (-1.5, "-1.5"),
            (std::f64::consts::PI, "3.141592653589793"),
            (1e22, "1e+22"),
            (100.0, "100.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (123.456, "123.456"),
        ];
        for (value, expected) in table {
            assert_eq!(compact(&json!(value)), *expected, "repr of {value:?}");
        }
    }

    #[test]
    fn integers_are_plain_decimal() {
        assert_eq!(
            compact(&json!([0, -1, u64::MAX, i64::MIN])),
            "[0,-1,18446744073709551615,-9223372036854775808]"
        );
    }

    #[test]
    fn keeps_insertion_order_and_nests() {
        let value: Value =
            serde_json::from_str(r#"{"z":1,"a":{"y":[1,{"b":null,"a":true}],"x":"s"},"m":[]}"#)
                .unwrap();
        assert_eq!(
            compact(&value),
            r#"{"z":1,"a":{"y":[1,{"b":null,"a":true}],"x":"s"},"m":[]}"#
        );
    }

    #[test]
    fn spaced_uses_python_default_separators() {
        let value: Value =
            serde_json::from_str(r#"{"a":[1,{"b":null}],"c":true,"d":{},"e":[]}"#).unwrap();
        assert_eq!(
            String::from_utf8(to_spaced(&value)).unwrap(),
            r#"{"a": [1, {"b": null}], "c": true, "d": {}, "e": []}"#
        );
    }

    #[test]
    fn to_body_serializes_structs_in_field_order() {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            grant_id: &'a str,
            reason: Option<&'a str>,
        }

        let body = to_body(&Body {
            grant_id: "g",
            reason: None,
        })
        .unwrap();
        assert_eq!(body, br#"{"grant_id":"g","reason":null}"#);
    }

    #[test]
    fn to_body_turns_non_finite_floats_into_null() {
        assert_eq!(to_body(&[f64::NAN, f64::INFINITY]).unwrap(), b"[null,null]");
    }

    #[test]
    fn to_body_rejects_non_string_keys() {
        let map = std::collections::BTreeMap::from([((1, 2), 3)]);
        assert!(matches!(to_body(&map), Err(Error::InvalidInput { .. })));
    }

    #[test]
    fn matches_every_captured_sdk_body() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/conformance/requests.json"
        );
        let cases: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut checked = 0;

        for case in &cases {
            for request in case["requests"].as_array().unwrap() {
                let (Some(body), Some(b64)) =
                    (request.get("body_json"), request["body_b64"].as_str())
                else {
                    continue;
                };
                if body.is_null() || !request["path"].as_str().unwrap().starts_with("/sdk/") {
                    continue;
                }

                let expected = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&to_compact(body)),
                    String::from_utf8_lossy(&expected),
                    "case {}",
                    case["id"]
                );
                checked += 1;
            }
        }

        assert!(checked >= 80, "only {checked} bodies checked");
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((any::<String>(), inner), 0..6)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    /// Structural equality that tolerates serde_json's default float parser, which may miss
    /// the nearest float by a unit in the last place (`float_repr_round_trips_exactly` checks
    /// the spelling itself with the exact standard-library parser).
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
                ulps_apart(x.as_f64().unwrap(), y.as_f64().unwrap()) <= 2
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((kx, vx), (ky, vy))| kx == ky && same(vx, vy))
            }
            _ => a == b,
        }
    }

    /// How many representable floats lie between `x` and `y`.
    fn ulps_apart(x: f64, y: f64) -> u128 {
        fn ordered(f: f64) -> i128 {
            let bits = i128::from(f.to_bits() as i64);
            if bits < 0 {
                i128::from(i64::MIN) - bits
            } else {
                bits
            }
        }
        (ordered(x) - ordered(y)).unsigned_abs()
    }

    proptest! {
        #[test]
        fn output_is_ascii_and_parses_back(value in arb_json()) {
            for bytes in [to_compact(&value), to_spaced(&value)] {
                prop_assert!(bytes.is_ascii());
                let parsed: Value = serde_json::from_slice(&bytes).unwrap();
                prop_assert!(same(&parsed, &value), "{parsed:?} != {value:?}");
            }
        }

        #[test]
        fn float_repr_round_trips_exactly(value in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
            let text = python_float_repr(value);
            prop_assert_eq!(text.parse::<f64>().unwrap().to_bits(), value.to_bits());
            prop_assert!(text.contains('.') || text.contains('e'), "{} looks like an integer", text);
        }
    }
}

//! JSON text spelled the way the reference client's serializer spells it.
//!
//! Two layouts are needed in retrieve mode: the compact one (`,` and `:`) for headers and
//! query values, and the default one (`, ` and `: `) that the reference client hashes and
//! sends as a SigV4 body. Both escape every non-ASCII character, so the output is pure ASCII.

use std::fmt::Write as _;

use serde_json::Value;

/// The separators between items and between a key and its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `,` and `:`, no whitespace anywhere.
    Compact,
    /// `, ` and `: `, the default of the reference client's serializer.
    Spaced,
}

impl Layout {
    fn item_separator(self) -> &'static str {
        match self {
            Self::Compact => ",",
            Self::Spaced => ", ",
        }
    }

    fn key_separator(self) -> &'static str {
        match self {
            Self::Compact => ":",
            Self::Spaced => ": ",
        }
    }
}

/// Serializes `value` with the given layout, object keys in insertion order.
pub(crate) fn to_string(value: &Value, layout: Layout) -> String {
    let mut out = String::new();
    write_value(&mut out, value, layout);
    out
}

/// A float spelled as the reference language's `repr` spells it: the shortest digits that
/// round-trip, positional between 1e-4 and 1e16 (always with a fractional part), otherwise
/// scientific with a signed, at least two-digit exponent (`1e-05`, `1.5e+16`).
pub(crate) fn float_repr(number: f64) -> String {
    // `{:e}` yields the shortest round-trip digits as `d.ddde<exp>`.
    let scientific = format!("{number:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();

    // Position of the decimal point counted from the first digit.
    let point = exponent + 1;
    let mut out = String::from(sign);
    if -4 < point && point <= 16 {
        push_positional(&mut out, &digits, point);
    } else {
        push_scientific(&mut out, &digits, exponent);
    }
    out
}

fn push_positional(out: &mut String, digits: &str, point: i32) {
    let len = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n(
            '0',
            usize::try_from(-point).unwrap_or(0),
        ));
        out.push_str(digits);
    } else if point < len {
        let split = usize::try_from(point).unwrap_or(0);
        out.push_str(&digits[..split]);
        out.push('.');
        out.push_str(&digits[split..]);
    } else {
        out.push_str(digits);
        out.extend(std::iter::repeat_n(
            '0',
            usize::try_from(point - len).unwrap_or(0),
        ));
        out.push_str(".0");
    }
}

fn push_scientific(out: &mut String, digits: &str, exponent: i32) {
    let (first, rest) = digits.split_at(digits.len().min(1));
    out.push_str(first);
    if !rest.is_empty() {
        out.push('.');
        out.push_str(rest);
    }
    let sign = if exponent < 0 { '-' } else { '+' };
    let _ = write!(out, "e{sign}{:02}", exponent.unsigned_abs());
}

fn write_value(out: &mut String, value: &Value, layout: Layout) {
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
                    out.push_str(layout.item_separator());
                }
                write_value(out, item, layout);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.push_str(layout.item_separator());
                }
                write_string(out, key);
                out.push_str(layout.key_separator());
                write_value(out, item, layout);
            }
            out.push('}');
        }
    }
}

fn write_number(out: &mut String, number: &serde_json::Number) {
    if let Some(integer) = number.as_i64() {
        let _ = write!(out, "{integer}");
    } else if let Some(integer) = number.as_u64() {
        let _ = write!(out, "{integer}");
    } else if let Some(float) = number.as_f64() {
        out.push_str(&float_repr(float));
    }
}

/// Writes a JSON string literal with every non-ASCII character as `\uXXXX` (lower-case hex,
/// astral characters as a surrogate pair).
pub(crate) fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            // Printable ASCII and DEL pass through unescaped.
            ' '..='\u{7f}' => out.push(character),
            _ => {
                let mut units = [0u16; 2];
                for unit in character.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn spaced_layout_matches_the_reference_default() {
        let value = json!({"name": "widget", "qty": 2, "tags": ["a", null, true], "o": {}});
        assert_eq!(
            to_string(&value, Layout::Spaced),
            r#"{"name": "widget", "qty": 2, "tags": ["a", null, true], "o": {}}"#
        );
    }

    #[test]
    fn compact_layout_has_no_whitespace() {
        let value = json!({"a": [1, 2], "b": {"c": "d"}});
        assert_eq!(
            to_string(&value, Layout::Compact),
            r#"{"a":[1,2],"b":{"c":"d"}}"#
        );
    }

    #[test]
    fn strings_are_ascii_escaped() {
        let value = json!("é\u{1F600}\"\\\n\r\t\u{8}\u{c}\u{1}/\u{7f}");
        assert_eq!(
            to_string(&value, Layout::Compact),
            "\"\\u00e9\\ud83d\\ude00\\\"\\\\\\n\\r\\t\\b\\f\\u0001/\u{7f}\""
        );
    }

    #[test]
    fn floats_follow_repr_spelling() {
        let cases: [(f64, &str); 14] = [
            (1.5, "1.5"),
            (2.0, "2.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1e-7, "1e-07"),
            (1.5e-7, "1.5e-07"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123.456, "123.456"),
            (-2.5e100, "-2.5e+100"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1234567890123456.7, "1234567890123456.8"),
        ];
        for (number, expected) in cases {
            assert_eq!(float_repr(number), expected, "{number}");
        }
    }

    #[test]
    fn large_integers_stay_integers() {
        assert_eq!(
            to_string(&json!(u64::MAX), Layout::Compact),
            "18446744073709551615"
        );
        assert_eq!(to_string(&json!(-5), Layout::Compact), "-5");
    }
}

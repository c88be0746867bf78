//! Retry metadata (PROTOCOL §6.9).
//!
//! The backend retries token refreshes itself and reports them in the token response's
//! `retry_info`. The same types also describe retries the client makes on its own.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Longest accepted `error` text, in characters.
const MAX_ERROR_LEN: usize = 500;

/// How many attempts an operation took and what went wrong on the way.
///
/// Deserialization checks the §6.9 rules: `total_attempts` at least 1, `successful_attempt` at
/// most `total_attempts` (0 means no attempt succeeded), and each entry of `errors` valid.
///
/// ```
/// use alter_types::RetryInfo;
/// use serde_json::json;
///
/// let info = RetryInfo::from_value(&json!({
///     "total_attempts": 2,
///     "successful_attempt": 2,
///     "errors": [{"attempt": 1, "error": "upstream 502", "error_type": "transient_refresh",
///                 "delay_s": 0.5}]
/// }));
/// assert_eq!(info.map(|info| info.errors.len()), Some(1));
/// assert_eq!(RetryInfo::from_value(&json!({})), None);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RetryInfoWire")]
pub struct RetryInfo {
    /// Number of attempts made (at least 1).
    pub total_attempts: u32,
    /// Which attempt succeeded (1-based); 0 when none did.
    pub successful_attempt: u32,
    /// The failed attempts, in order.
    pub errors: Vec<RetryErrorInfo>,
}

impl RetryInfo {
    /// Reads a `retry_info` value the §6.9 way: absent (`null`), empty, non-object or invalid
    /// input gives `None`, never an error.
    pub fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Object(object) if !object.is_empty() => Self::deserialize(value).ok(),
            _ => None,
        }
    }
}

/// One failed attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RetryErrorInfoWire")]
pub struct RetryErrorInfo {
    /// Which attempt failed (1-based).
    pub attempt: u32,
    /// What went wrong (at most 500 characters).
    pub error: String,
    /// Class of failure (for example `transient_refresh`).
    pub error_type: String,
    /// Seconds waited before the next attempt (finite, not negative).
    pub delay_s: f64,
    /// Whether the failure was judged permanent.
    pub permanent: bool,
}

/// Raw shape of [`RetryInfo`], checked by `TryFrom`.
#[derive(Deserialize)]
struct RetryInfoWire {
    total_attempts: u32,
    successful_attempt: u32,
    #[serde(default)]
    errors: Vec<RetryErrorInfo>,
}

impl TryFrom<RetryInfoWire> for RetryInfo {
    type Error = String;

    fn try_from(wire: RetryInfoWire) -> Result<Self, Self::Error> {
        if wire.total_attempts == 0 {
            return Err("total_attempts must be at least 1".into());
        }
        if wire.successful_attempt > wire.total_attempts {
            return Err("successful_attempt must not exceed total_attempts".into());
        }
        Ok(Self {
            total_attempts: wire.total_attempts,
            successful_attempt: wire.successful_attempt,
            errors: wire.errors,
        })
    }
}

/// Raw shape of [`RetryErrorInfo`], checked by `TryFrom`.
#[derive(Deserialize)]
struct RetryErrorInfoWire {
    attempt: u32,
    error: String,
    error_type: String,
    delay_s: f64,
    #[serde(default, deserialize_with = "bool_or_null")]
    permanent: bool,
}

impl TryFrom<RetryErrorInfoWire> for RetryErrorInfo {
    type Error = String;

    fn try_from(wire: RetryErrorInfoWire) -> Result<Self, Self::Error> {
        if wire.attempt == 0 {
            return Err("attempt must be at least 1".into());
        }
        if wire.error.chars().count() > MAX_ERROR_LEN {
            return Err(format!("error must be at most {MAX_ERROR_LEN} characters"));
        }
        if !wire.delay_s.is_finite() || wire.delay_s < 0.0 {
            return Err("delay_s must be a finite number, not negative".into());
        }
        Ok(Self {
            attempt: wire.attempt,
            error: wire.error,
            error_type: wire.error_type,
            delay_s: wire.delay_s,
            permanent: wire.permanent,
        })
    }
}

fn bool_or_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Bool(flag) => Ok(flag),
        Value::Null => Ok(false),
        _ => Err(D::Error::custom("permanent must be a boolean")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn valid() -> Value {
        json!({
            "total_attempts": 2,
            "successful_attempt": 2,
            "errors": [{
                "attempt": 1, "error": "upstream 502", "error_type": "transient_refresh",
                "delay_s": 0.5, "permanent": false
            }]
        })
    }

    #[test]
    fn valid_info_parses_and_round_trips() {
        let info = RetryInfo::from_value(&valid()).unwrap();
        assert_eq!(info.total_attempts, 2);
        assert_eq!(info.errors[0].error_type, "transient_refresh");
        assert_eq!(serde_json::to_value(&info).unwrap(), valid());
    }

    #[test]
    fn missing_empty_and_non_objects_give_none() {
        for value in [
            Value::Null,
            json!({}),
            json!([]),
            json!("retry"),
            json!(3),
            json!(true),
        ] {
            assert_eq!(RetryInfo::from_value(&value), None, "{value}");
        }
    }

    #[test]
    fn invalid_values_give_none() {
        let mutations: [(&str, Value); 6] = [
            ("/total_attempts", json!(0)),
            ("/total_attempts", json!("2")),
            ("/successful_attempt", json!(3)),
            ("/successful_attempt", json!(-1)),
            ("/errors", json!("none")),
            ("/errors/0/attempt", json!(0)),
        ];
        for (pointer, replacement) in mutations {
            let mut value = valid();
            *value.pointer_mut(pointer).unwrap() = replacement;
            assert_eq!(RetryInfo::from_value(&value), None, "{pointer}");
        }

        for (pointer, replacement) in [
            ("/errors/0/delay_s", json!(-0.1)),
            ("/errors/0/delay_s", json!("0.5")),
            ("/errors/0/error", json!("e".repeat(501))),
            ("/errors/0/permanent", json!("yes")),
        ] {
            let mut value = valid();
            *value.pointer_mut(pointer).unwrap() = replacement;
            assert_eq!(RetryInfo::from_value(&value), None, "{pointer}");
        }

        let mut missing = valid();
        missing
            .as_object_mut()
            .unwrap()
            .remove("successful_attempt");
        assert_eq!(RetryInfo::from_value(&missing), None);
    }

    #[test]
    fn boundary_values_are_accepted() {
        let mut value = valid();
        value["successful_attempt"] = json!(0);
        value["errors"][0]["error"] = json!("é".repeat(500));
        value["errors"][0]["delay_s"] = json!(0);
        value["errors"][0]
            .as_object_mut()
            .unwrap()
            .remove("permanent");
        let info = RetryInfo::from_value(&value).unwrap();
        assert_eq!(info.successful_attempt, 0);
        assert!(!info.errors[0].permanent);
        assert_eq!(info.errors[0].delay_s, 0.0);

        let no_errors = json!({"total_attempts": 1, "successful_attempt": 1});
        assert_eq!(RetryInfo::from_value(&no_errors).unwrap().errors, []);
    }
}

//! Field-level serde helpers shared by the response types.
//!
//! They encode the protocol's field rules in one place: timestamp parsing, "null means the
//! default", "this string must not be empty" and "this key must be present even though its
//! value may be null".

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

use crate::Secret;

/// Parses a protocol timestamp (`ts` in PROTOCOL's notation).
///
/// Accepts RFC 3339 (`2026-01-01T00:00:00Z`, `…+02:00`, a space instead of `T`) and, because the
/// spec says ISO 8601, a timestamp without an offset, which is read as UTC.
pub(crate) fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return Some(parsed.with_timezone(&Utc));
    }
    if let Ok(parsed) = text.parse::<DateTime<Utc>>() {
        return Some(parsed);
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

/// Formats a timestamp as RFC 3339 in UTC with a `Z` suffix and only the fraction it needs.
pub(crate) fn format_timestamp(value: &DateTime<Utc>) -> String {
    value.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `#[serde(with = "timestamp")]` for a required `ts` field.
pub(crate) mod timestamp {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        value: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_timestamp(value))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_timestamp(&text).ok_or_else(|| D::Error::custom("invalid timestamp"))
    }
}

/// `#[serde(with = "timestamp_option", default)]` for an optional `ts?` field.
pub(crate) mod timestamp_option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.serialize_str(&format_timestamp(value)),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            Some(text) => parse_timestamp(&text)
                .map(Some)
                .ok_or_else(|| D::Error::custom("invalid timestamp")),
            None => Ok(None),
        }
    }
}

/// Reads a field whose default applies both when the key is absent and when it is `null`.
///
/// Use together with `#[serde(default)]`.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads a string that must not be empty.
pub(crate) fn non_empty_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text.is_empty() {
        return Err(D::Error::custom("expected a non-empty string"));
    }
    Ok(text)
}

/// Reads a secret that must not be empty.
pub(crate) fn non_empty_secret<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Secret, D::Error> {
    non_empty_string(deserializer).map(Secret::from)
}

/// Reads a `str|null` field whose key is required: without `#[serde(default)]`, a field using
/// `deserialize_with` must be present, while a plain `Option` would quietly accept a missing
/// key.
pub(crate) fn required_option<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)
}

/// Reads a plaintext key shown once (`api_key`): the key is required, `null` is allowed (an
/// idempotent replay), and a string must not be empty.
pub(crate) fn required_non_empty_secret_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Secret>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        Some(text) if text.is_empty() => Err(D::Error::custom("expected a non-empty string")),
        Some(text) => Ok(Some(Secret::from(text))),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn timestamps_in_the_usual_shapes_parse_to_the_same_instant() {
        let expected = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        for text in [
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00+00:00",
            "2026-01-01T01:00:00+01:00",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.000",
        ] {
            assert_eq!(parse_timestamp(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn garbage_is_not_a_timestamp() {
        for text in ["", "yesterday", "2026-13-01T00:00:00Z", "1767225600"] {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
    }

    #[test]
    fn timestamps_format_with_z_and_minimal_fraction() {
        let whole = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(format_timestamp(&whole), "2026-01-01T00:00:00Z");

        let fractional = parse_timestamp("2026-01-01T00:00:00.250Z").unwrap();
        assert_eq!(format_timestamp(&fractional), "2026-01-01T00:00:00.250Z");
    }
}

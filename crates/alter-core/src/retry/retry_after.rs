//! Reading a `Retry-After` header value (RFC 9110 §10.2.3).

use std::time::{Duration, SystemTime};

use chrono::{DateTime, NaiveDateTime, Utc};

/// How long a `Retry-After` value asks the client to wait, measured from `now_wall`.
///
/// Accepts delta-seconds (ASCII digits only; a value too large for `u64` saturates) and the
/// three HTTP-date forms (IMF-fixdate, RFC 850, asctime). A date in the past means no wait.
/// Anything else is malformed and gives `None`; the caller then falls back to its own
/// backoff. No cap is applied here.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use alter_core::retry::parse_retry_after;
///
/// // 2026-01-01T00:00:00Z
/// let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
///
/// assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
/// assert_eq!(parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now), Some(Duration::from_secs(30)));
/// assert_eq!(parse_retry_after("Wed, 31 Dec 2025 23:00:00 GMT", now), Some(Duration::ZERO));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now_wall: SystemTime) -> Option<Duration> {
    let value = value.trim_matches([' ', '\t']);
    if value.is_empty() {
        return None;
    }

    if value.bytes().all(|b| b.is_ascii_digit()) {
        // Only digits, so the one possible failure is overflow: saturate.
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds));
    }

    let date = SystemTime::from(parse_http_date(value)?);
    Some(date.duration_since(now_wall).unwrap_or(Duration::ZERO))
}

/// The three date forms RFC 9110 §5.6.7 requires recipients to accept.
fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    const RFC_850: &str = "%A, %d-%b-%y %H:%M:%S GMT";
    const ASCTIME: &str = "%a %b %e %H:%M:%S %Y";

    if let Ok(date) = DateTime::parse_from_rfc2822(value) {
        return Some(date.with_timezone(&Utc));
    }

    [RFC_850, ASCTIME]
        .into_iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use proptest::prelude::*;

    use super::*;

    /// 2026-01-01T00:00:00Z.
    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_767_225_600)
    }

    #[test]
    fn delta_seconds_and_dates() {
        let cases: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("7", Some(7)),
            (" 120 ", Some(120)),
            ("0003", Some(3)),
            ("99999999999999999999999", Some(u64::MAX)),
            ("Thu, 01 Jan 2026 00:01:00 GMT", Some(60)),
            ("Thursday, 01-Jan-26 00:00:05 GMT", Some(5)),
            ("Thu Jan  1 00:00:09 2026", Some(9)),
            ("Thu, 01 Jan 2026 00:00:00 GMT", Some(0)),
            ("Sun, 06 Nov 1994 08:49:37 GMT", Some(0)),
            ("Fri, 01 Jan 2027 00:00:00 GMT", Some(365 * 86_400)),
        ];

        for (value, seconds) in cases {
            assert_eq!(
                parse_retry_after(value, now()),
                seconds.map(Duration::from_secs),
                "{value:?}"
            );
        }
    }

    #[test]
    fn malformed_values_give_none() {
        for value in [
            "",
            "   ",
            "-5",
            "+5",
            "1.5",
            "5s",
            "soon",
            "١٢",
            "Thu, 32 Jan 2026 00:00:00 GMT",
            "2026-01-01T00:00:30Z",
            "Thu, 01 Jan 2026 25:00:00 GMT",
            "\u{0}",
        ] {
            assert_eq!(parse_retry_after(value, now()), None, "{value:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_digits_always_parse(value in ".{0,64}", digits in "[0-9]{1,40}") {
            let _ = parse_retry_after(&value, now());
            prop_assert!(parse_retry_after(&digits, now()).is_some());
        }
    }
}

//! Client mode's comparison: what a real frontend sent to the replay server against what
//! the reference client sent.
//!
//! The real frontends read the real clock and draw nonces from the operating system, so the
//! parts of a request that depend on them cannot equal the recording. Each is checked for
//! what it must be instead, and then the received value is written into the recorded
//! request, so that the exact comparison of [`super::compare`] covers everything else:
//!
//! - `x-alter-timestamp`: Unix seconds within [`CLOCK_TOLERANCE_SECS`] of the wall clock
//!   when the request arrived;
//! - `x-alter-nonce`: 32 lower-case hex digits, never repeated within the run;
//! - `x-alter-content-sha256`: the SHA-256 of the body received;
//! - `x-alter-signature`: verified by recomputing it with `alter_core::signing` over the
//!   canonical path, the received timestamp, nonce, body and scope constraints;
//! - the body of an audit row (`/sdk/oauth/audit/api-call`): equal as JSON but for
//!   `latency_ms`, which must be a non-negative integer (real time passes);
//! - the body of a scope-mismatch report: equal as JSON but for `sdk_correlation_id`, which
//!   must be 22 base64url characters (16 random bytes);
//! - a SigV4 provider request: `x-amz-date` within the tolerance, and the `authorization`
//!   verified by the `aws-sigv4` oracle signing the request as received, query included
//!   (PROTOCOL.md §16 D3).
//!
//! Background uploads are matched by method and path whatever their arrival order relative
//! to later foreground requests, but each must arrive after every foreground request
//! recorded before it.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alter_core::encoding::canonical_path_and_query;
use alter_core::signing::{SigningInput, SigningKey, content_sha256};
use alter_core::{HttpRequest, Target};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use super::compare::Checks;
use super::deviations::SigV4Keys;
use super::fixture::RecordedRequest;
use super::replay_server::Received;

/// How far a request's timestamp may be from the wall clock; the backend's own window.
pub(crate) const CLOCK_TOLERANCE_SECS: u64 = 300;

const TIMESTAMP: &str = "x-alter-timestamp";
const NONCE: &str = "x-alter-nonce";
const CONTENT_SHA256: &str = "x-alter-content-sha256";
const SIGNATURE: &str = "x-alter-signature";
const SCOPE_CONSTRAINTS: &str = "x-alter-scope-constraints";
const AUDIT_PATH: &str = "/sdk/oauth/audit/api-call";
/// How a SigV4 `authorization` value begins.
pub(crate) const SIGV4_SCHEME: &str = "AWS4-HMAC-SHA256";

/// One recorded request the server should have received, and who it was for.
#[derive(Debug)]
pub(crate) struct Expected {
    /// Backend or provider.
    pub(crate) target: Target,
    /// The recorded request, origin already rewritten to the replay server.
    pub(crate) request: RecordedRequest,
}

/// What the relaxed checks need to know about the entry.
pub(crate) struct Verifier {
    signing_key: SigningKey,
    origin: String,
    sigv4: Option<SigV4Keys>,
}

impl Verifier {
    /// Checks requests of a client with `api_key` talking to `origin`; `sigv4` verifies
    /// SigV4-signed provider requests.
    pub(crate) fn new(api_key: &str, origin: String, sigv4: Option<SigV4Keys>) -> Self {
        Self {
            signing_key: SigningKey::derive(api_key),
            origin,
            sigv4,
        }
    }

    /// Every difference between `expected` (in `seq` order) and what the server received.
    pub(crate) fn judge(
        &self,
        expected: Vec<Expected>,
        received: &[Received],
        checks: &Checks,
        nonces: &mut HashSet<String>,
    ) -> Vec<String> {
        let arrival: Vec<Option<usize>> = (0..expected.len())
            .map(|index| {
                received
                    .iter()
                    .position(|request| request.answered_by == Some(index))
            })
            .collect();
        let mut differences = out_of_order(&expected, &arrival);

        for (mut expected, position) in expected.into_iter().zip(&arrival) {
            let seq = expected.request.seq;
            let Some(received) = position.map(|position| &received[position]) else {
                differences.push(format!(
                    "seq {seq}: expected {} {} was never sent",
                    expected.request.method, expected.request.path
                ));
                continue;
            };

            let sent = self.as_sent(expected.target, received);
            let mut found = match expected.target {
                Target::Backend => self.relax_backend(&mut expected.request, received, nonces),
                Target::Provider => self.relax_provider(&mut expected.request, received),
            };
            found.extend(match expected.target {
                Target::Backend => checks.backend(&expected.request, &sent),
                Target::Provider => checks.provider(&expected.request, &sent),
            });
            differences.extend(found.into_iter().map(|found| format!("seq {seq}: {found}")));
        }

        differences.extend(
            received
                .iter()
                .filter(|request| request.answered_by.is_none())
                .map(|request| {
                    format!(
                        "unexpected extra request {} {} (answered 599)",
                        request.method, request.target
                    )
                }),
        );
        differences
    }

    /// The received request in the shape the exact comparison takes.
    fn as_sent(&self, target: Target, received: &Received) -> HttpRequest {
        HttpRequest {
            target,
            method: received.method.clone(),
            url: format!("{}{}", self.origin, received.target),
            headers: received.headers.clone(),
            body: received.body.clone(),
            timeout: None,
        }
    }

    /// Checks the time- and randomness-dependent parts of a backend request, then adopts
    /// the received values into `recorded`.
    fn relax_backend(
        &self,
        recorded: &mut RecordedRequest,
        received: &Received,
        nonces: &mut HashSet<String>,
    ) -> Vec<String> {
        let mut differences = Vec::new();

        if let Some(value) = adopt(recorded, received, TIMESTAMP) {
            differences.extend(timestamp_problem(value, received.at));
        }
        if let Some(value) = adopt(recorded, received, NONCE) {
            differences.extend(nonce_problem(value, nonces));
        }
        if let Some(value) = adopt(recorded, received, CONTENT_SHA256) {
            if value != content_sha256(&received.body) {
                differences.push(format!("{CONTENT_SHA256} is not the SHA-256 of the body"));
            }
        }
        if adopt(recorded, received, SIGNATURE).is_some() {
            differences.extend(self.signature_problem(received));
        }

        differences.extend(relax_body(recorded, received));
        differences
    }

    /// Recomputes the HMAC signature of `received` and compares it with the one it carries.
    fn signature_problem(&self, received: &Received) -> Option<String> {
        let timestamp = received
            .header(TIMESTAMP)
            .and_then(|value| value.parse().ok());
        let (Some(timestamp), Some(nonce), Some(signature)) = (
            timestamp,
            received.header(NONCE),
            received.header(SIGNATURE),
        ) else {
            return Some(format!(
                "{SIGNATURE} cannot be verified without a timestamp and a nonce"
            ));
        };

        let path_with_query = canonical_path_and_query(&received.target);
        let input = SigningInput {
            method: &received.method,
            path_with_query: &path_with_query,
            timestamp,
            nonce,
            body: &received.body,
            scope_constraints: received.header(SCOPE_CONSTRAINTS).unwrap_or_default(),
        };
        (!self.signing_key.verify(&input, signature))
            .then(|| format!("{SIGNATURE} does not verify against the API key"))
    }

    /// Verifies a SigV4-signed provider request with the oracle, then adopts its date and
    /// authorization; other provider requests have nothing that depends on time.
    fn relax_provider(&self, recorded: &mut RecordedRequest, received: &Received) -> Vec<String> {
        let signed = recorded
            .headers
            .get("authorization")
            .and_then(Value::as_str)
            .is_some_and(|value| value.starts_with(SIGV4_SCHEME));
        if !signed {
            return Vec::new();
        }
        let Some(keys) = &self.sigv4 else {
            return vec!["sigv4: no credentials to verify the signature with".to_owned()];
        };

        let mut differences = Vec::new();
        let date = adopt(recorded, received, "x-amz-date").map(str::to_owned);
        let authorization = adopt(recorded, received, "authorization").map(str::to_owned);
        let (Some(date), Some(authorization)) = (date, authorization) else {
            return differences;
        };
        let Some(time) = parse_amz_date(&date) else {
            differences.push(format!("x-amz-date {date:?} is not an ISO 8601 basic time"));
            return differences;
        };
        differences.extend(clock_distance_problem("x-amz-date", time, received.at));

        let url = format!("{}{}", self.origin, received.target);
        match keys.sign(&received.method, &url, &received.body, time) {
            Ok(oracle) if oracle == authorization => {}
            Ok(_) => differences.push(
                "authorization does not verify against the aws-sigv4 oracle over the request as \
                 received (query included)"
                    .to_owned(),
            ),
            Err(err) => differences.push(err),
        }
        differences
    }
}

/// Background uploads recorded after a foreground request must arrive after it.
fn out_of_order(expected: &[Expected], arrival: &[Option<usize>]) -> Vec<String> {
    let mut differences = Vec::new();
    for (upload, upload_arrival) in expected.iter().zip(arrival) {
        let (true, Some(upload_arrival)) = (upload.request.background, upload_arrival) else {
            continue;
        };
        let earlier = expected.iter().zip(arrival).filter(|(cause, _)| {
            !cause.request.background && cause.request.seq < upload.request.seq
        });
        for (cause, cause_arrival) in earlier {
            if cause_arrival.is_none_or(|cause_arrival| cause_arrival > *upload_arrival) {
                differences.push(format!(
                    "seq {}: background upload arrived before seq {}",
                    upload.request.seq, cause.request.seq
                ));
            }
        }
    }
    differences
}

/// When `recorded` has header `name` and `received` too, replaces the recorded value with
/// the received one and returns it for checking; a header missing on either side is left
/// to the exact comparison, which reports it.
fn adopt<'r>(
    recorded: &mut RecordedRequest,
    received: &'r Received,
    name: &str,
) -> Option<&'r str> {
    recorded.headers.get(name)?;
    let value = received.header(name)?;
    recorded
        .headers
        .insert(name.to_owned(), Value::String(value.to_owned()));
    Some(value)
}

fn timestamp_problem(value: &str, at: SystemTime) -> Option<String> {
    let Ok(seconds) = value.parse::<u64>() else {
        return Some(format!("{TIMESTAMP} {value:?} is not Unix seconds"));
    };
    clock_distance_problem(TIMESTAMP, UNIX_EPOCH + Duration::from_secs(seconds), at)
}

fn clock_distance_problem(name: &str, claimed: SystemTime, at: SystemTime) -> Option<String> {
    let distance = claimed
        .duration_since(at)
        .or_else(|_| at.duration_since(claimed))
        .map_or(u64::MAX, |distance| distance.as_secs());
    (distance > CLOCK_TOLERANCE_SECS).then(|| {
        format!("{name} is {distance} s from the wall clock (at most {CLOCK_TOLERANCE_SECS})")
    })
}

fn nonce_problem(value: &str, nonces: &mut HashSet<String>) -> Option<String> {
    let well_formed = value.len() == 32
        && value
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
    if !well_formed {
        return Some(format!("{NONCE} {value:?} is not 32 lower-case hex digits"));
    }
    (!nonces.insert(value.to_owned()))
        .then(|| format!("{NONCE} {value} repeats a nonce sent earlier in this run"))
}

/// A body field that real time or randomness fills, and what it must look like.
struct Volatile {
    field: &'static str,
    valid: fn(&Value) -> bool,
    shape: &'static str,
}

/// The volatile field of the body of a request to `path`, if it has one.
fn volatile_field(path: &str) -> Option<Volatile> {
    let path = path.split('?').next().unwrap_or(path);
    if path == AUDIT_PATH {
        return Some(Volatile {
            field: "latency_ms",
            valid: |value| value.as_u64().is_some(),
            shape: "a non-negative integer",
        });
    }
    let report = path.starts_with("/sdk/grants/") && path.ends_with("/report-scope-mismatch");
    report.then_some(Volatile {
        field: "sdk_correlation_id",
        valid: |value| {
            value
                .as_str()
                .is_some_and(|id| id.len() == 22 && URL_SAFE_NO_PAD.decode(id).is_ok())
        },
        shape: "22 base64url characters",
    })
}

/// Compares a body with a volatile field as JSON without that field; when the rest is
/// equal, adopts the received bytes so the exact comparison passes.
fn relax_body(recorded: &mut RecordedRequest, received: &Received) -> Vec<String> {
    let Some(volatile) = volatile_field(&recorded.path) else {
        return Vec::new();
    };
    let Ok(expected_bytes) = recorded.body() else {
        return Vec::new();
    };
    let (Some(mut expected), Some(mut actual)) =
        (json_object(&expected_bytes), json_object(&received.body))
    else {
        return vec!["body: not a JSON object".to_owned()];
    };

    let mut differences = Vec::new();
    expected.remove(volatile.field);
    match actual.remove(volatile.field) {
        Some(value) if (volatile.valid)(&value) => {}
        Some(_) => differences.push(format!(
            "body: {} is not {}",
            volatile.field, volatile.shape
        )),
        None => differences.push(format!("body: {} is missing", volatile.field)),
    }

    if expected == actual {
        recorded.body_b64 = STANDARD.encode(&received.body);
    } else {
        let mut keys: Vec<&String> = expected
            .iter()
            .filter(|(key, value)| actual.get(*key) != Some(*value))
            .map(|(key, _)| key)
            .chain(actual.keys().filter(|key| !expected.contains_key(*key)))
            .collect();
        keys.dedup();
        differences.push(format!(
            "body: differs beyond {} in {keys:?}",
            volatile.field
        ));
    }
    differences
}

fn json_object(bytes: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(object)) => Some(object),
        _ => None,
    }
}

/// Parses an `x-amz-date` (`YYYYMMDDTHHMMSSZ`, UTC).
fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let bytes = text.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u64> {
        let digits = text.get(from..to)?;
        digits
            .bytes()
            .all(|byte| byte.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let (year, month, day) = (number(0, 4)?, number(4, 6)?, number(6, 8)?);
    let (hour, minute, second) = (number(9, 11)?, number(11, 13)?, number(13, 15)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 || year < 1970 {
        return None;
    }

    let days = days_since_epoch(year, month, day);
    Some(UNIX_EPOCH + Duration::from_secs(days * 86_400 + hour * 3_600 + minute * 60 + second))
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (years from 1970).
fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    // Counting years from March moves the leap day to the end of the year.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year % 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use alter_core::signing::SigningInput;

    use super::*;

    const KEY: &str = "alter_rk_53kabw2a4633jvv2zs6ov4_mqujco";

    fn recorded(path: &str, headers: &[&str], body: &[u8]) -> RecordedRequest {
        let headers: Map<String, Value> = headers
            .iter()
            .map(|name| ((*name).to_owned(), Value::String("recorded".to_owned())))
            .collect();
        RecordedRequest {
            seq: 0,
            method: "POST".to_owned(),
            path: path.to_owned(),
            headers,
            body_b64: STANDARD.encode(body),
            background: false,
        }
    }

    /// A request signed with `KEY` now, as a frontend would send it.
    fn signed(path: &str, body: &[u8], nonce: &str) -> Received {
        let now = SystemTime::now();
        let timestamp = now.duration_since(UNIX_EPOCH).unwrap().as_secs();
        let headers = SigningKey::derive(KEY).sign(&SigningInput {
            method: "POST",
            path_with_query: path,
            timestamp,
            nonce,
            body,
            scope_constraints: "",
        });
        Received {
            method: "POST".to_owned(),
            target: path.to_owned(),
            headers: headers.to_headers(),
            body: body.to_vec(),
            at: now,
            answered_by: Some(0),
        }
    }

    fn verifier() -> Verifier {
        Verifier::new(KEY, "http://127.0.0.1:1".to_owned(), None)
    }

    const SIGNED: &[&str] = &[TIMESTAMP, NONCE, CONTENT_SHA256, SIGNATURE];

    #[test]
    fn a_fresh_correct_signature_passes_and_is_adopted() {
        let mut recorded = recorded("/sdk/token", SIGNED, b"{}");
        let received = signed("/sdk/token", b"{}", &"ab".repeat(16));

        let differences = verifier().relax_backend(&mut recorded, &received, &mut HashSet::new());

        assert_eq!(differences, Vec::<String>::new());
        assert_eq!(
            recorded.headers[NONCE].as_str(),
            Some("ab".repeat(16).as_str())
        );
    }

    #[test]
    fn a_tampered_body_breaks_the_signature_and_the_content_hash() {
        let mut recorded = recorded("/sdk/token", SIGNED, b"{}");
        let mut received = signed("/sdk/token", b"{}", &"ab".repeat(16));
        received.body = b"{ }".to_vec();

        let differences = verifier().relax_backend(&mut recorded, &received, &mut HashSet::new());

        assert!(differences.iter().any(|d| d.contains("does not verify")));
        assert!(differences.iter().any(|d| d.contains("not the SHA-256")));
    }

    #[test]
    fn stale_timestamps_bad_and_repeated_nonces_are_reported() {
        let mut nonces = HashSet::new();
        let old = UNIX_EPOCH + Duration::from_secs(1_000);

        assert!(timestamp_problem("1000", SystemTime::now()).is_some());
        assert!(timestamp_problem("soon", old).is_some());
        assert!(timestamp_problem("1200", old).is_none());
        assert!(nonce_problem(&"AB".repeat(16), &mut nonces).is_some());
        assert!(nonce_problem(&"ab".repeat(16), &mut nonces).is_none());
        assert!(nonce_problem(&"ab".repeat(16), &mut nonces).is_some());
    }

    #[test]
    fn audit_rows_ignore_only_the_latency() {
        let row = |latency: u64, status: u16| {
            format!(r#"{{"method":"GET","response_status":{status},"latency_ms":{latency}}}"#)
                .into_bytes()
        };
        let mut same = recorded(AUDIT_PATH, &[], &row(0, 200));
        let mut other = recorded(AUDIT_PATH, &[], &row(0, 200));
        let slow = Received {
            body: row(37, 200),
            ..signed(AUDIT_PATH, b"", &"cd".repeat(16))
        };
        let failed = Received {
            body: row(37, 500),
            ..slow.clone()
        };

        assert!(relax_body(&mut same, &slow).is_empty());
        assert_eq!(same.body().unwrap(), row(37, 200));
        assert_eq!(
            relax_body(&mut other, &failed),
            ["body: differs beyond latency_ms in [\"response_status\"]"]
        );
    }

    #[test]
    fn correlation_ids_must_be_sixteen_random_bytes() {
        let path = "/sdk/grants/g/report-scope-mismatch";
        let report = |id: &str| format!(r#"{{"a":1,"sdk_correlation_id":"{id}"}}"#).into_bytes();
        let mut good = recorded(path, &[], &report("g1Ovej05L4Fr6KsYNO185Q"));
        let mut bad = recorded(path, &[], &report("g1Ovej05L4Fr6KsYNO185Q"));
        let fresh = Received {
            body: report("AAAAAAAAAAAAAAAAAAAAAA"),
            ..signed(path, b"", &"ef".repeat(16))
        };
        let short = Received {
            body: report("short"),
            ..fresh.clone()
        };

        assert!(relax_body(&mut good, &fresh).is_empty());
        assert_eq!(
            relax_body(&mut bad, &short),
            ["body: sdk_correlation_id is not 22 base64url characters"]
        );
    }

    #[test]
    fn background_uploads_must_follow_their_cause() {
        let expected = |seq: u64, background: bool| Expected {
            target: Target::Backend,
            request: RecordedRequest {
                seq,
                background,
                ..recorded("/x", &[], b"")
            },
        };
        let entries = [expected(0, false), expected(1, true), expected(2, false)];

        assert!(out_of_order(&entries, &[Some(0), Some(2), Some(1)]).is_empty());
        assert_eq!(
            out_of_order(&entries, &[Some(1), Some(0), Some(2)]),
            ["seq 1: background upload arrived before seq 0"]
        );
        assert_eq!(
            out_of_order(&entries, &[None, Some(0), Some(1)]),
            ["seq 1: background upload arrived before seq 0"]
        );
    }

    /// The oracle's keys, read from a token answer as the runner reads them.
    fn sigv4_keys() -> SigV4Keys {
        let entry: super::super::fixture::Entry = serde_json::from_value(serde_json::json!({
            "id": "sigv4",
            "client_config": {"class": "App", "api_key": KEY},
            "call": {},
            "clock": {"timestamp": 0},
            "requests": [{"seq": 0, "method": "POST", "path": "/sdk/token", "headers": {}}],
            "response_fixtures": [{"seq": 0, "status": 200, "body_json": {
                "access_token": "AKID",
                "additional_credentials":
                    {"secret_key": "SECRET", "region": "eu-west-1", "service": "execute-api"}
            }}],
            "outcome": {"status": "returned"},
            "post_state": {},
            "server_origin": "http://127.0.0.1:1"
        }))
        .unwrap();
        super::super::deviations::sigv4_keys(&entry).unwrap()
    }

    #[test]
    fn sigv4_requests_verify_against_the_oracle_over_the_query_sent() {
        let keys = sigv4_keys();
        // The time of the fixture's SigV4 vector, as the request claims and as it arrived.
        let now = UNIX_EPOCH + Duration::from_secs(1_767_249_142);
        let amz_date = "20260101T063222Z";
        let authorization = keys
            .sign("POST", "http://127.0.0.1:1/p?b=2&a=1", b"{}", now)
            .unwrap();
        let received = |target: &str| Received {
            method: "POST".to_owned(),
            target: target.to_owned(),
            headers: vec![
                ("authorization".to_owned(), authorization.clone()),
                ("x-amz-date".to_owned(), amz_date.to_owned()),
            ],
            body: b"{}".to_vec(),
            at: now,
            answered_by: Some(0),
        };
        let recorded = || {
            let mut recorded = recorded("/p?b=2&a=1", &["x-amz-date"], b"{}");
            recorded.headers.insert(
                "authorization".to_owned(),
                Value::String("AWS4-HMAC-SHA256 recorded".to_owned()),
            );
            recorded
        };
        let verifier = Verifier::new(KEY, "http://127.0.0.1:1".to_owned(), Some(keys));

        let mut good = recorded();
        assert!(
            verifier
                .relax_provider(&mut good, &received("/p?b=2&a=1"))
                .is_empty()
        );
        assert_eq!(
            good.headers["authorization"].as_str(),
            Some(authorization.as_str())
        );
        let unsigned_query = verifier.relax_provider(&mut recorded(), &received("/p?b=3&a=1"));
        assert_eq!(unsigned_query.len(), 1);
        assert!(unsigned_query[0].contains("does not verify against the aws-sigv4 oracle"));
    }

    #[test]
    fn amz_dates_parse_to_unix_time() {
        let time = parse_amz_date("20260101T063222Z").unwrap();

        assert_eq!(
            time.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_767_249_142
        );
        assert_eq!(
            parse_amz_date("20240229T000000Z")
                .unwrap()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            1_709_164_800
        );
        assert!(parse_amz_date("2026-01-01T06:32Z").is_none());
        assert!(parse_amz_date("20261301T063222Z").is_none());
    }
}

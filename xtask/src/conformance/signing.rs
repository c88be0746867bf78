//! `cargo xtask conformance signing <FILE>`: replays HMAC signing vectors.
//!
//! The file is a JSON array of cases as in `fixtures/conformance/signing.json`. For each case
//! the runner derives the signing key from `api_key`, signs the request parts with
//! `alter_core::signing` and compares the signing key, string to sign, body hash, signature
//! and header set with the recorded values. Header names compare case-insensitively.
//!
//! Differences in the signing key or the signature are reported without either value, so
//! the output never carries key material.

use std::collections::BTreeMap;
use std::path::Path;

use alter_core::signing::{SigningInput, SigningKey, string_to_sign};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;

use super::{CaseFailure, LoadError, Report};

/// Runs every case of the fixture file at `path`.
///
/// # Errors
///
/// [`LoadError`] when the file cannot be read or is not a JSON array. Problems inside a
/// single case are reported as that case's failure instead.
pub fn run(path: &Path) -> Result<Report, LoadError> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| LoadError(format!("cannot read {}: {err}", path.display())))?;

    run_str(&text)
}

/// Runs every case of a fixture given as JSON text.
///
/// # Errors
///
/// [`LoadError`] when the text is not a JSON array.
pub fn run_str(json: &str) -> Result<Report, LoadError> {
    let cases: Vec<Value> =
        serde_json::from_str(json).map_err(|err| LoadError(format!("not a JSON array: {err}")))?;
    let mut report = Report::default();

    for (index, case) in cases.into_iter().enumerate() {
        let name = case
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("case #{index}"), str::to_owned);

        let differences = match serde_json::from_value::<Case>(case) {
            Ok(case) => check(&case),
            Err(err) => vec![format!("malformed case: {err}")],
        };

        if differences.is_empty() {
            report.passed += 1;
        } else {
            report.failures.push(CaseFailure { name, differences });
        }
    }
    Ok(report)
}

/// One recorded signing vector.
#[derive(Deserialize)]
struct Case {
    api_key: String,
    method: String,
    path_with_query: String,
    timestamp: Value,
    nonce: String,
    #[serde(default)]
    body_b64: String,
    #[serde(default)]
    body_is_none: bool,
    #[serde(default)]
    scope_constraints: String,
    string_to_sign: String,
    content_sha256: String,
    signature: String,
    signing_key_hex: String,
    headers: BTreeMap<String, String>,
}

/// Every difference between the case and what the core computes; empty when it passes.
fn check(case: &Case) -> Vec<String> {
    let mut differences = Vec::new();

    let Some(timestamp) = parse_timestamp(&case.timestamp) else {
        return vec![format!(
            "timestamp {} is not a non-negative integer",
            case.timestamp
        )];
    };
    let body = if case.body_is_none {
        Vec::new()
    } else {
        match base64::engine::general_purpose::STANDARD.decode(&case.body_b64) {
            Ok(body) => body,
            Err(err) => return vec![format!("body_b64 is not base64: {err}")],
        }
    };

    let key = SigningKey::derive(&case.api_key);
    if key.expose_hex() != case.signing_key_hex {
        differences.push("signing key differs".to_owned());
    }

    let input = SigningInput {
        method: &case.method,
        path_with_query: &case.path_with_query,
        timestamp,
        nonce: &case.nonce,
        body: &body,
        scope_constraints: &case.scope_constraints,
    };
    let actual = string_to_sign(&input);
    if actual != case.string_to_sign {
        differences.push(format!(
            "string_to_sign: expected {:?}, got {actual:?}",
            case.string_to_sign
        ));
    }

    let headers = key.sign(&input);
    if headers.content_sha256 != case.content_sha256 {
        differences.push(format!(
            "content_sha256: expected {}, got {}",
            case.content_sha256, headers.content_sha256
        ));
    }
    if headers.signature != case.signature {
        differences.push("signature differs".to_owned());
    }
    if !key.verify(&input, &case.signature) {
        differences.push("verify() rejects the recorded signature".to_owned());
    }

    differences.extend(compare_headers(&case.headers, &headers.to_headers()));
    differences
}

fn parse_timestamp(value: &Value) -> Option<u64> {
    match value {
        Value::String(text) => text.parse().ok(),
        other => other.as_u64(),
    }
}

/// Compares header sets by case-insensitive name; signature values are never printed.
fn compare_headers(
    expected: &BTreeMap<String, String>,
    actual: &[(String, String)],
) -> Vec<String> {
    let mut differences = Vec::new();

    for (name, value) in expected {
        let found = actual
            .iter()
            .find(|(actual_name, _)| actual_name.eq_ignore_ascii_case(name));
        match found {
            None => differences.push(format!("header {name} missing")),
            Some((_, actual_value)) if actual_value == value => {}
            Some(_) if name.eq_ignore_ascii_case(alter_core::signing::HEADER_SIGNATURE) => {
                differences.push(format!("header {name} differs"));
            }
            Some((_, actual_value)) => {
                differences.push(format!(
                    "header {name}: expected {value:?}, got {actual_value:?}"
                ));
            }
        }
    }

    for (name, _) in actual {
        if !expected
            .keys()
            .any(|expected_name| expected_name.eq_ignore_ascii_case(name))
        {
            differences.push(format!("unexpected header {name}"));
        }
    }
    differences
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_path() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/conformance/signing.json")
    }

    fn fixture() -> Vec<Value> {
        serde_json::from_str(&std::fs::read_to_string(fixture_path()).unwrap()).unwrap()
    }

    fn run_cases(cases: &[Value]) -> Report {
        run_str(&serde_json::to_string(cases).unwrap()).unwrap()
    }

    #[test]
    fn every_fixture_case_passes() {
        let report = run(&fixture_path()).unwrap();

        let failures: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
        assert_eq!(failures, Vec::<String>::new());
        assert_eq!(report.summary(), "28 passed, 0 failed");
    }

    #[test]
    fn tampered_fields_are_reported() {
        let mut cases = fixture();
        cases.truncate(3);
        cases[0]["signature"] = Value::from("0".repeat(64));
        cases[1]["string_to_sign"] = Value::from("GET\n/");
        cases[1]["signing_key_hex"] = Value::from("00");
        cases[2]["headers"]["x-alter-nonce"] = Value::from("ffff");

        let report = run_cases(&cases);

        assert_eq!(report.summary(), "0 passed, 3 failed");
        assert_eq!(
            report.failures[0].differences,
            [
                "signature differs",
                "verify() rejects the recorded signature",
            ]
        );
        assert_eq!(report.failures[1].differences[0], "signing key differs");
        assert!(report.failures[1].differences[1].starts_with("string_to_sign: expected"));
        assert_eq!(
            report.failures[2].differences,
            ["header x-alter-nonce: expected \"ffff\", got \"acc6347ad35ee45298136f7c1ab16ece\""]
        );
        assert!(
            report
                .failures
                .iter()
                .all(|f| !f.to_string().contains("d247c49b"))
        );
    }

    #[test]
    fn missing_and_extra_headers_are_reported() {
        let mut cases = fixture();
        cases.truncate(1);
        let headers = cases[0]["headers"].as_object_mut().unwrap();
        headers.remove("x-alter-nonce");
        headers.insert("x-alter-extra".into(), Value::from("1"));

        let report = run_cases(&cases);

        assert_eq!(
            report.failures[0].differences,
            [
                "header x-alter-extra missing",
                "unexpected header X-Alter-Nonce",
            ]
        );
    }

    #[test]
    fn malformed_cases_fail_without_stopping_the_run() {
        let mut cases = fixture();
        cases.truncate(2);
        cases[0]["timestamp"] = Value::from("yesterday");
        cases.push(serde_json::json!({"name": "empty"}));
        cases.push(serde_json::json!(42));

        let report = run_cases(&cases);

        assert_eq!(report.summary(), "1 passed, 3 failed");
        assert_eq!(report.failures[0].name, "get_empty_body");
        assert_eq!(report.failures[1].name, "empty");
        assert!(report.failures[1].differences[0].starts_with("malformed case"));
        assert_eq!(report.failures[2].name, "case #3");
    }

    #[test]
    fn unreadable_input_is_a_load_error() {
        assert!(run_str("{}").is_err());
        assert!(run(Path::new("/nonexistent/signing.json")).is_err());
    }
}

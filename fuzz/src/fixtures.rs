//! The conformance fixtures, compiled in: `fixtures/conformance/{signing,requests}.json`.
//!
//! Compiling them in keeps the seeds identical wherever the harness runs, and lets the
//! stable tests replay them without knowing where the repository is.

use std::fmt;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;

const SIGNING_JSON: &str = include_str!("../../fixtures/conformance/signing.json");
const REQUESTS_JSON: &str = include_str!("../../fixtures/conformance/requests.json");

/// One HMAC signing vector. Its `Debug` shows the name only: the vector holds an API key.
#[derive(Clone, Deserialize)]
pub struct SigningCase {
    /// The vector's name.
    pub name: String,
    /// The API key the signing key derives from.
    pub api_key: String,
    /// The method as given to the signer (its case may differ from the wire's).
    pub method: String,
    /// Path and query as signed.
    pub path_with_query: String,
    /// Unix seconds, in decimal.
    pub timestamp: String,
    /// The nonce.
    pub nonce: String,
    /// The scope-constraint header value, or empty.
    pub scope_constraints: String,
    /// The body's base64.
    body_b64: String,
    /// The body bytes, decoded from `body_b64` once loaded.
    #[serde(skip)]
    pub body: Vec<u8>,
    /// The expected string to sign.
    pub string_to_sign: String,
    /// The expected signature, lower-case hex.
    pub signature: String,
    /// The expected signing key, lower-case hex.
    pub signing_key_hex: String,
}

impl fmt::Debug for SigningCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningCase")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// One answer recorded in `requests.json`, with what it answered.
#[derive(Clone, Debug)]
pub struct RecordedAnswer {
    /// The request's method; `None` for a provider call.
    pub method: Option<String>,
    /// The request's path and query; `None` for a provider call.
    pub path: Option<String>,
    /// The answer's status.
    pub status: u16,
    /// The answer's headers.
    pub headers: Vec<(String, String)>,
    /// The answer's body: the compact JSON of the recorded `body_json`, or empty for `null`.
    pub body: Vec<u8>,
}

/// Every signing vector.
///
/// # Panics
///
/// When the compiled-in fixture does not parse: the repository is broken.
pub fn signing_cases() -> &'static [SigningCase] {
    static CASES: OnceLock<Vec<SigningCase>> = OnceLock::new();
    CASES.get_or_init(|| {
        let mut cases: Vec<SigningCase> = match serde_json::from_str(SIGNING_JSON) {
            Ok(cases) => cases,
            Err(error) => panic!("signing.json does not parse: {error}"),
        };
        for case in &mut cases {
            case.body = match STANDARD.decode(&case.body_b64) {
                Ok(body) => body,
                Err(error) => panic!("signing.json {}: bad body_b64: {error}", case.name),
            };
        }
        cases
    })
}

/// Every answer recorded in `requests.json`: backend answers with their request, then
/// provider answers.
///
/// # Panics
///
/// When the compiled-in fixture does not parse: the repository is broken.
pub fn recorded_answers() -> &'static [RecordedAnswer] {
    static ANSWERS: OnceLock<Vec<RecordedAnswer>> = OnceLock::new();
    ANSWERS.get_or_init(|| {
        let cases: Vec<Value> = match serde_json::from_str(REQUESTS_JSON) {
            Ok(cases) => cases,
            Err(error) => panic!("requests.json does not parse: {error}"),
        };
        let mut answers = Vec::new();
        for case in &cases {
            collect_case(case, &mut answers);
        }
        answers
    })
}

fn collect_case(case: &Value, out: &mut Vec<RecordedAnswer>) {
    let requests = case["requests"].as_array().map_or(&[][..], Vec::as_slice);
    let fixtures = case["response_fixtures"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);

    for fixture in fixtures {
        let request = requests.iter().find(|r| r["seq"] == fixture["seq"]);
        let mut answer = answer_of(fixture);
        answer.method = request
            .and_then(|r| r["method"].as_str())
            .map(str::to_owned);
        answer.path = request.and_then(|r| r["path"].as_str()).map(str::to_owned);
        out.push(answer);
    }

    let provider_calls = case["provider_requests"].as_array();
    for call in provider_calls.map_or(&[][..], Vec::as_slice) {
        out.push(answer_of(&call["response_fixture"]));
    }
}

fn answer_of(fixture: &Value) -> RecordedAnswer {
    let headers = fixture["headers"].as_object().map_or_else(Vec::new, |map| {
        map.iter()
            .map(|(name, value)| (name.clone(), value.as_str().unwrap_or("").to_owned()))
            .collect()
    });
    let body = match &fixture["body_json"] {
        Value::Null => Vec::new(),
        value => serde_json::to_vec(value).unwrap_or_default(),
    };
    RecordedAnswer {
        method: None,
        path: None,
        status: fixture["status"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(0),
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_fixtures_load() {
        assert!(signing_cases().iter().any(|case| case.body.len() >= 65_536));

        let answers = recorded_answers();
        assert!(answers.len() >= 100, "{} answers", answers.len());
        assert!(
            answers
                .iter()
                .any(|a| a.method.is_none() && a.status == 403)
        );
        assert!(
            answers
                .iter()
                .any(|a| a.status >= 400 && !a.body.is_empty())
        );
    }
}

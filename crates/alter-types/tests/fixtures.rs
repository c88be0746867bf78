//! Conformance: every typed body of `fixtures/conformance/requests.json` parses into its Rust
//! type and serializes back without losing anything.
//!
//! "Nothing lost" means: every key of the fixture object is present in the re-serialized
//! output with an equal value (recursively; timestamps compare as instants). Keys the type adds
//! (an absent optional field written as `null`) are allowed.

use std::collections::BTreeSet;

use alter_types::{
    AgentCreateResult, AgentInfo, AgentKey, AgentKeyList, AgentKeyMintResult, AgentListResult,
    ApiCallAuditLog, ApiKeyInfo, ApprovalResult, ApprovalStatus, AuthPollResponse, AuthResult,
    AuthSession, ConnectPollResponse, ConnectResult, ConnectSession, CreateGrantResult,
    GrantPolicyInput, ManagedSecretConnectSession, MintedKey, PendingApproval, Principal,
    RetryInfo, RevokeGrantResult, ScopeCatalog, TokenResponse, UnifiedGrantListResult,
};
use base64::Engine as _;
use chrono::DateTime;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Parses a body into `T` and serializes it back.
type RoundTrip = fn(&Value) -> Result<Value, String>;

fn round_trip<T: DeserializeOwned + Serialize>(body: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(body.clone()).map_err(|error| error.to_string())?;
    serde_json::to_value(&typed).map_err(|error| error.to_string())
}

/// What a backend response body is, by request method, path and status.
enum Body {
    Typed(&'static str, RoundTrip),
    /// Not a typed result: acknowledgements, error bodies, empty bodies.
    Untyped,
}

fn classify(method: &str, path: &str, status: u64) -> Result<Body, String> {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();

    let typed = |name, check| Ok(Body::Typed(name, check));
    match (method, segments.as_slice()) {
        ("POST", ["sdk", "agents"]) => typed("AgentCreateResult", round_trip::<AgentCreateResult>),
        ("GET", ["sdk", "agents"]) => typed("AgentListResult", round_trip::<AgentListResult>),
        ("GET" | "PATCH" | "DELETE", ["sdk", "agents", _]) => {
            typed("AgentInfo", round_trip::<AgentInfo>)
        }
        ("POST", ["sdk", "agents", _, "keys"]) => {
            typed("AgentKeyMintResult", round_trip::<AgentKeyMintResult>)
        }
        ("GET", ["sdk", "agents", _, "keys"]) => typed("AgentKeyList", round_trip::<AgentKeyList>),
        ("DELETE", ["sdk", "agents", _, "keys", _])
        | ("PATCH", ["sdk", "agents", _, "keys", _, "deprecate" | "undeprecate"]) => {
            typed("AgentKey", round_trip::<AgentKey>)
        }
        ("POST", ["sdk", "keys", "derive"] | ["sdk", "keys", _, "rotate"]) => {
            typed("MintedKey", round_trip::<MintedKey>)
        }
        ("DELETE", ["sdk", "keys", _]) => typed("APIKeyInfo", round_trip::<ApiKeyInfo>),
        ("GET", ["sdk", "scopes"]) => typed("ScopeCatalog", round_trip::<ScopeCatalog>),
        ("POST", ["sdk", "grants", "list"]) => typed(
            "UnifiedGrantListResult",
            round_trip::<UnifiedGrantListResult>,
        ),
        ("POST", ["sdk", "oauth", "grants", _, "revoke"]) => {
            typed("RevokeGrantResult", round_trip::<RevokeGrantResult>)
        }
        ("POST", ["sdk", "managed-secrets", "connect", "session"]) => typed(
            "ManagedSecretConnectSession",
            round_trip::<ManagedSecretConnectSession>,
        ),
        ("POST", ["sdk", "managed-secrets", _, "grants"]) => {
            typed("CreateGrantResult", round_trip::<CreateGrantResult>)
        }
        ("POST", ["sdk", "oauth", "connect", "session"]) => {
            typed("ConnectSession", round_trip::<ConnectSession>)
        }
        ("POST", ["sdk", "oauth", "connect", "session", "poll"]) => {
            typed("ConnectPollResponse", round_trip::<ConnectPollResponse>)
        }
        ("POST", ["sdk", "auth", "session"]) => typed("AuthSession", round_trip::<AuthSession>),
        ("POST", ["sdk", "auth", "poll"]) => {
            typed("AuthPollResponse", round_trip::<AuthPollResponse>)
        }
        ("POST", ["sdk", "token"]) => typed("TokenResponse", round_trip::<TokenResponse>),
        ("POST", ["sdk", "proxy"]) if status == 202 => {
            typed("PendingApproval", round_trip::<PendingApproval>)
        }
        ("POST", ["sdk", "proxy"]) => typed("ApprovalResult", round_trip::<ApprovalResult>),
        ("GET", ["sdk", "approvals", _]) => typed("ApprovalStatus", round_trip::<ApprovalStatus>),
        ("GET", ["sdk", "approvals", _, "result"]) => {
            typed("ApprovalResult", round_trip::<ApprovalResult>)
        }
        ("POST", ["sdk", "oauth", "audit", "api-call"])
        | ("POST", ["sdk", "auth", "verify-token"])
        | ("POST", ["sdk", "grants", _, "report-scope-mismatch"])
        | ("DELETE", ["sdk", "grants", _, "delegations", _]) => Ok(Body::Untyped),
        _ => Err(format!("no mapping for {method} {path}")),
    }
}

/// The Rust type behind a `$type` name of an outcome value, if it is one of ours.
fn outcome_type(name: &str) -> Option<RoundTrip> {
    let check: RoundTrip = match name {
        "AgentCreateResult" => round_trip::<AgentCreateResult>,
        "AgentListResult" => round_trip::<AgentListResult>,
        "AgentInfo" => round_trip::<AgentInfo>,
        "AgentKeyMintResult" => round_trip::<AgentKeyMintResult>,
        "AgentKeyList" => round_trip::<AgentKeyList>,
        "AgentKey" => round_trip::<AgentKey>,
        "MintedKey" => round_trip::<MintedKey>,
        "APIKeyInfo" => round_trip::<ApiKeyInfo>,
        "ScopeCatalog" => round_trip::<ScopeCatalog>,
        "UnifiedGrantListResult" => round_trip::<UnifiedGrantListResult>,
        "RevokeGrantResult" => round_trip::<RevokeGrantResult>,
        "CreateGrantResult" => round_trip::<CreateGrantResult>,
        "ConnectSession" => round_trip::<ConnectSession>,
        "ManagedSecretConnectSession" => round_trip::<ManagedSecretConnectSession>,
        "ConnectResult" => round_trip::<ConnectResult>,
        "AuthResult" => round_trip::<AuthResult>,
        "RetryInfo" => round_trip::<RetryInfo>,
        "ApprovalResult" => round_trip::<ApprovalResult>,
        "PendingApproval" => round_trip::<PendingApproval>,
        "ApprovalStatus" => round_trip::<ApprovalStatus>,
        _ => return None,
    };
    Some(check)
}

/// Checks that everything in `expected` is in `actual` with an equal value.
fn assert_preserved(expected: &Value, actual: &Value, at: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => {
            for (key, value) in expected {
                let inner = format!("{at}/{key}");
                let found = actual
                    .get(key)
                    .ok_or_else(|| format!("{inner}: key lost"))?;
                assert_preserved(value, found, &inner)?;
            }
            Ok(())
        }
        (Value::Array(expected), Value::Array(actual)) => {
            if expected.len() != actual.len() {
                return Err(format!(
                    "{at}: {} items became {}",
                    expected.len(),
                    actual.len()
                ));
            }
            for (index, (left, right)) in expected.iter().zip(actual).enumerate() {
                assert_preserved(left, right, &format!("{at}/{index}"))?;
            }
            Ok(())
        }
        (Value::String(left), Value::String(right)) if left != right => {
            match (
                DateTime::parse_from_rfc3339(left),
                DateTime::parse_from_rfc3339(right),
            ) {
                (Ok(left_instant), Ok(right_instant)) if left_instant == right_instant => Ok(()),
                _ => Err(format!("{at}: {left:?} became {right:?}")),
            }
        }
        (Value::Number(left), Value::Number(right)) if left != right => {
            match (left.as_f64(), right.as_f64()) {
                (Some(a), Some(b)) if a == b => Ok(()),
                _ => Err(format!("{at}: {left} became {right}")),
            }
        }
        _ if expected == actual => Ok(()),
        _ => Err(format!("{at}: {expected} became {actual}")),
    }
}

fn load_entries() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/conformance/requests.json"
    );
    let text = std::fs::read_to_string(path).expect("read requests.json");
    let entries: Value = serde_json::from_str(&text).expect("parse requests.json");
    entries
        .as_array()
        .expect("requests.json is an array")
        .clone()
}

fn entry_id(entry: &Value) -> &str {
    entry["id"].as_str().unwrap_or("<no id>")
}

/// Every recorded request of an entry (backend and provider), by `seq`.
fn request_by_seq(entry: &Value, seq: &Value) -> Option<Value> {
    let backend = entry["requests"].as_array().into_iter().flatten();
    let provider = entry["provider_requests"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|exchange| &exchange["request"]);
    backend
        .chain(provider)
        .find(|request| &request["seq"] == seq)
        .cloned()
}

#[test]
fn typed_response_fixtures_round_trip_without_loss() {
    let mut checked = 0;
    let mut untyped = 0;
    let mut types_seen = BTreeSet::new();
    let mut failures = Vec::new();

    for entry in load_entries() {
        let id = entry_id(&entry);

        for fixture in entry["response_fixtures"]
            .as_array()
            .expect("response_fixtures")
        {
            let request = request_by_seq(&entry, &fixture["seq"])
                .unwrap_or_else(|| panic!("{id}: no request for seq {}", fixture["seq"]));
            let method = request["method"].as_str().expect("method");
            let path = request["path"].as_str().expect("path");
            let status = fixture["status"].as_u64().expect("status");
            let body = &fixture["body_json"];

            if status >= 400 || body.is_null() {
                untyped += 1;
                continue;
            }
            let (name, check) = match classify(method, path, status) {
                Ok(Body::Typed(name, check)) => (name, check),
                Ok(Body::Untyped) => {
                    untyped += 1;
                    continue;
                }
                Err(error) => {
                    failures.push(format!("{id}: {error}"));
                    continue;
                }
            };

            let outcome = check(body).and_then(|output| assert_preserved(body, &output, ""));
            if let Err(error) = outcome {
                failures.push(format!("{id} {method} {path} as {name}: {error}"));
            }
            checked += 1;
            types_seen.insert(name);
        }

        // Provider answers are the provider's business, never one of our types.
        untyped += entry["provider_requests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|exchange| !exchange["response_fixture"].is_null())
            .count();
    }

    println!("response fixtures: {checked} typed and checked, {untyped} untyped");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        checked >= 87,
        "only {checked} typed response fixtures were checked"
    );
    assert_eq!(
        types_seen.into_iter().collect::<Vec<_>>(),
        [
            "APIKeyInfo",
            "AgentCreateResult",
            "AgentInfo",
            "AgentKey",
            "AgentKeyList",
            "AgentKeyMintResult",
            "AgentListResult",
            "ApprovalResult",
            "ApprovalStatus",
            "AuthPollResponse",
            "AuthSession",
            "ConnectPollResponse",
            "ConnectSession",
            "CreateGrantResult",
            "ManagedSecretConnectSession",
            "MintedKey",
            "PendingApproval",
            "RevokeGrantResult",
            "ScopeCatalog",
            "TokenResponse",
            "UnifiedGrantListResult",
        ]
    );
}

/// Walks an outcome value and checks each object whose `$type` is one of ours.
fn check_outcome(value: &Value, id: &str, checked: &mut usize, failures: &mut Vec<String>) {
    match value {
        Value::Array(items) => {
            for item in items {
                check_outcome(item, id, checked, failures);
            }
        }
        Value::Object(object) => {
            let name = object.get("$type").and_then(Value::as_str);
            let Some((name, check)) = name.and_then(|name| Some((name, outcome_type(name)?)))
            else {
                // Not one of ours (for example a raw provider response): look inside it.
                for inner in object.values() {
                    check_outcome(inner, id, checked, failures);
                }
                return;
            };

            let mut expected = object.clone();
            expected.remove("$type");
            let expected = Value::Object(expected);

            let outcome = check(&expected).and_then(|mut output| {
                // The Python model calls the list `agents`; the wire (and our output) says
                // `items`.
                if name == "AgentListResult" {
                    if let Some(items) = output.as_object_mut().and_then(|o| o.remove("items")) {
                        output["agents"] = items;
                    }
                }
                assert_preserved(&expected, &output, "")
            });
            if let Err(error) = outcome {
                failures.push(format!("{id} outcome {name}: {error}"));
            }
            *checked += 1;
        }
        _ => {}
    }
}

#[test]
fn outcome_values_deserialize_into_their_types() {
    let mut checked = 0;
    let mut failures = Vec::new();

    for entry in load_entries() {
        let id = entry_id(&entry);
        check_outcome(&entry["outcome"]["value"], id, &mut checked, &mut failures);

        let last_retry_info = &entry["post_state"]["last_retry_info"];
        if !last_retry_info.is_null() {
            let mut raw = last_retry_info.clone();
            if let Some(object) = raw.as_object_mut() {
                object.remove("$type");
            }
            if RetryInfo::from_value(&raw).is_none() {
                failures.push(format!(
                    "{id}: post_state.last_retry_info is not a RetryInfo"
                ));
            }
            checked += 1;
        }
    }

    println!("outcome values checked: {checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 64, "only {checked} outcome values were checked");
}

/// The bytes a request body was sent as. The reference client escapes every non-ASCII
/// character and serde_json does not, so only ASCII-only bodies can match byte for byte.
fn sent_body(request: &Value) -> String {
    let encoded = request["body_b64"].as_str().expect("body_b64");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64 body");
    String::from_utf8(bytes).expect("UTF-8 body")
}

#[test]
fn audit_rows_serialize_to_the_recorded_bytes() {
    let mut checked = 0;
    let mut byte_exact = 0;

    for entry in load_entries() {
        let requests = entry["requests"].as_array().expect("requests");
        for request in requests
            .iter()
            .filter(|r| r["path"] == "/sdk/oauth/audit/api-call")
        {
            let body = &request["body_json"];
            let row: ApiCallAuditLog = serde_json::from_value(body.clone())
                .unwrap_or_else(|error| panic!("{}: {error}", entry_id(&entry)));
            let ours = serde_json::to_string(&row).expect("serialize");

            assert_eq!(
                ours,
                body.to_string(),
                "{}: key order or values differ",
                entry_id(&entry)
            );
            if ours.is_ascii() {
                assert_eq!(ours, sent_body(request), "{}", entry_id(&entry));
                byte_exact += 1;
            }
            checked += 1;
        }
    }

    println!("audit rows checked: {checked}, byte-exact: {byte_exact}");
    assert!(checked >= 17, "only {checked} audit rows were checked");
    assert!(
        byte_exact >= 16,
        "only {byte_exact} audit rows compared byte for byte"
    );
}

#[derive(Serialize, Deserialize)]
struct CreateGrantBody {
    principal: Principal,
    grant_policy: GrantPolicyInput,
}

#[test]
fn managed_secret_grant_bodies_serialize_to_the_recorded_bytes() {
    let mut checked = 0;

    for entry in load_entries() {
        let requests = entry["requests"].as_array().expect("requests");
        for request in requests.iter().filter(|r| {
            let path = r["path"].as_str().unwrap_or_default();
            path.starts_with("/sdk/managed-secrets/") && path.ends_with("/grants")
        }) {
            let body: CreateGrantBody = serde_json::from_value(request["body_json"].clone())
                .unwrap_or_else(|error| panic!("{}: {error}", entry_id(&entry)));
            assert_eq!(
                serde_json::to_string(&body).expect("serialize"),
                sent_body(request)
            );
            body.principal
                .validate()
                .expect("fixture principals are valid");
            checked += 1;
        }
    }

    assert_eq!(checked, 4, "one fixture per principal kind");
}

use serde_json::json;

use super::*;
use crate::json;
use crate::retrieve::challenge::insufficient_scope;
use crate::retrieve::context::{ParentAgent, TraceScope, build_trace_context};
use crate::retrieve::injection::{
    Credential, InjectionRule, SigV4Call, is_sigv4, plan_injection, plan_sigv4_injection,
};
use crate::retrieve::template::template_url;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn request_headers_drop_credentials_and_the_redaction_set() {
    let sent = pairs(&[
        ("Notion-Version", "1"),
        ("Authorization", "Bearer t"),
        ("X-Custom-Key", "k"),
        ("COOKIE", "c"),
        ("x-auth-token", "a"),
        ("X-Amz-Date", "d"),
        ("User-Agent", "ua"),
    ]);
    let row = request_headers(&sent, &["authorization".into(), "X-CUSTOM-KEY".into()]);
    assert_eq!(
        Value::Object(row),
        json!({"Notion-Version": "1", "User-Agent": "ua"})
    );
}

#[test]
fn response_headers_are_lowered_joined_and_redacted() {
    let received = pairs(&[
        ("Content-Type", "application/json"),
        ("Set-Cookie", "a=1"),
        ("Vary", "Accept"),
        ("X-API-Key", "leak"),
        ("vary", "Origin"),
    ]);
    let row = response_headers(&received);
    assert_eq!(
        serde_json::to_string(&row).unwrap(),
        r#"{"content-type":"application/json","vary":"Accept, Origin"}"#
    );
}

#[test]
fn request_bodies_are_summarised() {
    assert_eq!(request_body(ProviderBody::Empty), Value::Null);
    assert_eq!(
        request_body(ProviderBody::Json(&json!({"a": [1]}))),
        json!({"a": [1]})
    );
    assert_eq!(request_body(ProviderBody::Raw(b"")), json!(""));
    assert_eq!(
        request_body(ProviderBody::Raw("héllo".as_bytes())),
        json!("héllo")
    );
    assert_eq!(
        request_body(ProviderBody::Raw(b"\xff\x00")),
        json!("<binary body: 2 bytes>")
    );
    let at_limit = vec![b'a'; BODY_LIMIT];
    assert_eq!(
        request_body(ProviderBody::Raw(&at_limit)),
        json!("a".repeat(BODY_LIMIT))
    );
    let over = vec![b'a'; BODY_LIMIT + 1];
    assert_eq!(
        request_body(ProviderBody::Raw(&over)),
        json!("<binary body: 10001 bytes>")
    );
}

#[test]
fn response_bodies_are_decoded_with_their_charset() {
    assert_eq!(response_body(b"", Some("text/plain")), "");
    assert_eq!(
        response_body("ü".as_bytes(), Some("text/plain; charset=utf-8")),
        "ü"
    );
    assert_eq!(
        response_body(b"\xfc", Some("text/plain; charset=\"ISO-8859-1\"")),
        "ü"
    );
    assert_eq!(
        response_body(b"\xfc", Some("text/plain;Charset=latin1")),
        "ü"
    );
    assert_eq!(
        response_body(b"a\xfc", Some("text/plain; charset=us-ascii")),
        "a\u{fffd}"
    );
    assert_eq!(
        response_body(b"a\xfc", Some("text/plain; charset=koi8-r")),
        "a\u{fffd}"
    );
    assert_eq!(response_body(b"a\xfc", None), "a\u{fffd}");

    let at_limit = vec![b'x'; BODY_LIMIT];
    assert_eq!(response_body(&at_limit, None), "x".repeat(BODY_LIMIT));
    let over = vec![b'x'; BODY_LIMIT + 1];
    assert_eq!(
        response_body(&over, None),
        "<response too large: 10001 bytes>"
    );
}

#[test]
fn transport_failures_have_fixed_texts() {
    assert_eq!(
        timeout_body(Duration::from_secs_f64(30.0)),
        "<transport error: timeout after 30000ms>"
    );
    assert_eq!(
        timeout_body(Duration::from_micros(2_500_900)),
        "<transport error: timeout after 2500ms>"
    );
    assert_eq!(
        transport_error_body("connection refused"),
        "<transport error: connection refused>"
    );
}

#[test]
fn grant_ids_and_latency_are_normalised() {
    let canonical = "0b6f7c8d-9e0a-4b1c-8d2e-3f4a5b6c7d8e";
    for form in [
        canonical,
        "0B6F7C8D-9E0A-4B1C-8D2E-3F4A5B6C7D8E",
        "{0b6f7c8d-9e0a-4b1c-8d2e-3f4a5b6c7d8e}",
        "urn:uuid:0b6f7c8d-9e0a-4b1c-8d2e-3f4a5b6c7d8e",
    ] {
        assert_eq!(audit_grant_id(form).as_deref(), Some(canonical), "{form}");
    }
    assert_eq!(audit_grant_id(""), None);
    assert_eq!(audit_grant_id("0b6f7c8d-9e0a-4b1c-8d2e-3f4a5b6c7d8"), None);

    assert_eq!(latency_ms(Duration::from_micros(1_999)), 1);
    assert_eq!(latency_ms(Duration::from_micros(999)), 0);
}

#[test]
fn a_row_without_a_uuid_grant_is_not_built() {
    let row = AuditRow {
        grant_id: "not-a-uuid",
        provider_id: None,
        method: "GET",
        url: "https://h/",
        request_headers: None,
        request_body: Value::Null,
        response_status: 0,
        response_headers: None,
        response_body: timeout_body(Duration::from_secs(1)),
        latency_ms: 1000,
        reason: None,
        context: None,
    };
    assert!(row.to_json().is_none());

    let row = AuditRow {
        grant_id: "5E6F7A8B-9C0D-4E1F-8A2B-3C4D5E6F7A8B",
        context: Some(&[]),
        ..row
    };
    assert_eq!(
        String::from_utf8_lossy(&json::to_compact(&Value::Object(row.to_json().unwrap())))
            .into_owned(),
        r#"{"grant_id":"5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b","provider_id":"","method":"GET","url":"https://h/","request_headers":null,"request_body":null,"response_status":0,"response_headers":null,"response_body":"<transport error: timeout after 1000ms>","latency_ms":1000,"reason":null,"context":null}"#
    );
}

#[test]
fn correlation_ids_are_22_url_safe_characters() {
    assert_eq!(correlation_id([0xff; 16]), "_____________________w");
    assert_eq!(correlation_id([0; 16]).len(), 22);
}

/// Rebuilds every audit row (and scope-mismatch report) recorded in the conformance file
/// from the entry's call, token response and provider response, and compares the JSON and
/// its compact bytes with what the reference client sent.
#[test]
fn conformance_audit_rows_are_rebuilt_exactly() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/conformance/requests.json"
    ))
    .unwrap();
    let entries: Value = serde_json::from_str(&text).unwrap();

    let mut audits = 0;
    let mut reports = 0;
    for entry in entries.as_array().unwrap() {
        let recorded: Vec<&Value> = entry["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["path"] == "/sdk/oauth/audit/api-call")
            .collect();
        if recorded.is_empty() {
            continue;
        }
        assert_eq!(recorded.len(), 1, "{}", entry["id"]);
        let rebuilt = Rebuilt::from_entry(entry);

        let row = recorded[0];
        assert_eq!(
            Value::Object(rebuilt.audit.clone()),
            row["body_json"],
            "{}",
            entry["id"]
        );
        let bytes =
            String::from_utf8_lossy(&json::to_compact(&Value::Object(rebuilt.audit))).into_owned();
        assert_eq!(
            bytes.as_bytes(),
            decode_b64(row["body_b64"].as_str().unwrap()),
            "{}",
            entry["id"]
        );
        audits += 1;

        for report in entry["requests"].as_array().unwrap() {
            let path = report["path"].as_str().unwrap();
            if !path.ends_with("/report-scope-mismatch") {
                continue;
            }
            let recorded_id = report["body_json"]["sdk_correlation_id"].as_str().unwrap();
            let random: [u8; 16] = decode_b64_url(recorded_id).try_into().unwrap();
            let challenge = insufficient_scope(&rebuilt.www_authenticate).unwrap();
            let body = scope_mismatch_report(&challenge, &rebuilt.url, random);
            assert_eq!(Value::Object(body.clone()), report["body_json"]);
            let bytes =
                String::from_utf8_lossy(&json::to_compact(&Value::Object(body))).into_owned();
            assert_eq!(
                bytes.as_bytes(),
                decode_b64(report["body_b64"].as_str().unwrap())
            );
            reports += 1;
        }
    }
    assert_eq!((audits, reports), (17, 1));
}

/// What the retrieve-mode operation would have built for one conformance entry.
struct Rebuilt {
    url: String,
    audit: Map<String, Value>,
    www_authenticate: String,
}

impl Rebuilt {
    fn from_entry(entry: &Value) -> Self {
        let id = entry["id"].as_str().unwrap();
        let kwargs = &entry["call"]["kwargs"];
        let token = &entry["response_fixtures"][0]["body_json"];
        let provider = &entry["provider_requests"][0];
        let sent = &provider["request"];
        let boto3 = entry["call"]["target"] == "boto3_client";

        // The call: boto3 goes through the raw-mode bridge, whose headers and body are what
        // botocore built (less the headers the bridge strips).
        let (method, url) = if boto3 {
            (
                "POST".to_owned(),
                format!(
                    "{}{}",
                    entry["server_origin"].as_str().unwrap(),
                    sent["path"].as_str().unwrap()
                ),
            )
        } else {
            let args = &entry["call"]["args"];
            (
                args[0].as_str().unwrap().to_uppercase(),
                args[1].as_str().unwrap().to_owned(),
            )
        };
        let url = template_url(&url, &object_pairs(&kwargs["path_params"])).unwrap();
        let extra_headers = if boto3 {
            let injected_or_stack = [
                "host",
                "accept",
                "accept-encoding",
                "connection",
                "authorization",
                "x-amz-date",
                "x-amz-content-sha256",
                "user-agent",
            ];
            sent["raw_header_order"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
                .filter(|n| !injected_or_stack.contains(&n.to_ascii_lowercase().as_str()))
                .map(|n| {
                    (
                        n.to_owned(),
                        sent["headers"][n.to_ascii_lowercase()]
                            .as_str()
                            .unwrap()
                            .to_owned(),
                    )
                })
                .collect()
        } else {
            object_pairs(&kwargs["extra_headers"])
        };
        let raw_body;
        let body = if boto3 {
            raw_body = decode_b64(sent["body_b64"].as_str().unwrap());
            ProviderBody::Raw(&raw_body)
        } else if let Some(encoded) = kwargs["body"]["$bytes_b64"].as_str() {
            raw_body = decode_b64(encoded);
            ProviderBody::Raw(&raw_body)
        } else if !kwargs["json"].is_null() {
            ProviderBody::Json(&kwargs["json"])
        } else {
            ProviderBody::Empty
        };

        // The injection plan.
        let credential = credential(token);
        let user_agent = "alter-sdk-python/0.15.0";
        let (headers, credential_headers) = if is_sigv4(&credential) {
            let call = SigV4Call {
                method: &method,
                url: &url,
                body,
            };
            let plan = plan_sigv4_injection(
                &credential,
                &extra_headers,
                user_agent,
                &call,
                recorded_time(entry),
            )
            .unwrap();
            (plan.headers, plan.credential_headers)
        } else {
            let plan = plan_injection(&credential, &extra_headers, user_agent).unwrap();
            (plan.headers, plan.credential_headers)
        };
        assert_same_headers_as_sent(id, &headers, sent);

        // The provider response as the capturing server sent it: the fixture's body bytes
        // (compact JSON of body_json, or body_b64), the fixture's headers, then
        // content-length.
        let fixture = &provider["response_fixture"];
        let response_bytes = match fixture["body_b64"].as_str() {
            Some(encoded) => decode_b64(encoded),
            None => String::from_utf8_lossy(&json::to_compact(&fixture["body_json"]))
                .into_owned()
                .into_bytes(),
        };
        let mut response = object_pairs(&fixture["headers"]);
        response.push((
            "content-length".to_owned(),
            response_bytes.len().to_string(),
        ));
        let header = |name: &str| {
            response
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };

        let context = context(entry);
        let row = AuditRow {
            grant_id: token["grant_id"].as_str().unwrap(),
            provider_id: token["provider_id"].as_str(),
            method: &method,
            url: &url,
            request_headers: Some(request_headers(&headers, &credential_headers)),
            request_body: request_body(body),
            response_status: u16::try_from(fixture["status"].as_u64().unwrap()).unwrap(),
            response_headers: Some(response_headers(&response)),
            response_body: response_body(&response_bytes, header("content-type")),
            latency_ms: latency_ms(Duration::from_micros(400)),
            reason: kwargs["reason"].as_str(),
            context: Some(&context),
        };
        Self {
            audit: row.to_json().unwrap(),
            www_authenticate: header("www-authenticate").unwrap_or_default().to_owned(),
            url,
        }
    }
}

/// The planned headers are the ones the reference sent, in the same relative order.
fn assert_same_headers_as_sent(id: &str, planned: &[(String, String)], sent: &Value) {
    let order: Vec<String> = sent["raw_header_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_ascii_lowercase())
        .collect();
    let mut positions = Vec::new();
    for (name, value) in planned {
        let lower = name.to_ascii_lowercase();
        assert_eq!(
            sent["headers"][&lower].as_str(),
            Some(value.as_str()),
            "{id}: {name}"
        );
        positions.push(order.iter().position(|n| *n == lower).unwrap());
    }
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "{id}: header order {positions:?}"
    );
}

fn credential(token: &Value) -> Credential {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    Credential {
        access_token: text(&token["access_token"]).unwrap(),
        injection_header: text(&token["injection_header"]),
        injection_format: text(&token["injection_format"]),
        additional_credentials: object_pairs(&token["additional_credentials"]),
        additional_injections: token["additional_injections"]
            .as_array()
            .map(|rules| {
                rules
                    .iter()
                    .map(|r| InjectionRule {
                        target: text(&r["target"]).unwrap(),
                        key: text(&r["key"]).unwrap(),
                        value_source: text(&r["value_source"]).unwrap(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn context(entry: &Value) -> Vec<(String, String)> {
    let trace = &entry["call"]["trace"];
    if trace.is_null() {
        return object_pairs(&entry["call"]["kwargs"]["context"]);
    }
    let metadata = object_pairs(&trace["metadata"]);
    build_trace_context(&TraceScope {
        enclosing: None,
        agent: entry["client_config"]["caller"].as_str().unwrap(),
        parent: ParentAgent::Inherit,
        run_id: trace["run_id"].as_str(),
        thread_id: trace["thread_id"].as_str(),
        metadata: &metadata,
    })
    .unwrap()
}

fn object_pairs(value: &Value) -> Vec<(String, String)> {
    value
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn recorded_time(entry: &Value) -> std::time::SystemTime {
    let seconds: u64 = entry["clock"]["timestamp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    std::time::UNIX_EPOCH + Duration::from_secs(seconds)
}

fn decode_b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn decode_b64_url(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

//! Request by request comparison of what the core sent with what the reference client sent.
//!
//! Backend requests: method, path with query, body bytes, and the headers that carry
//! meaning for the backend (`x-api-key`, every `x-alter-*`, `content-type`,
//! `idempotency-key`). Transport-level headers (`host`, `accept`, `content-length`, …) and
//! `user-agent` belong to the HTTP stack, not to the protocol.
//!
//! Provider requests: method, path with query, body bytes, every header but the transport
//! ones, and that nothing of the backend leaks: no `x-alter-*` header, no header carrying
//! the backend API key.
//!
//! Differences name headers and sizes but print values only for headers that carry no
//! secret.

use std::collections::BTreeMap;

use alter_core::HttpRequest;

use super::fixture::RecordedRequest;

/// Headers the HTTP stack adds or owns; never compared on provider requests.
const TRANSPORT_HEADERS: &[&str] = &[
    "host",
    "accept",
    "accept-encoding",
    "connection",
    "content-length",
    "user-agent",
];

/// Headers whose values are printed when they differ.
const SHOWN_HEADERS: &[&str] = &[
    "content-type",
    "idempotency-key",
    "x-alter-caller",
    "x-alter-caller-type",
    "x-alter-context",
    "x-alter-actor-id",
    "x-alter-scope-constraints",
    "x-alter-timestamp",
    "x-alter-nonce",
    "x-alter-content-sha256",
];

/// What the comparisons need to know about the client.
#[derive(Debug)]
pub(crate) struct Checks {
    /// The backend API key, which must never reach a provider.
    pub(crate) api_key: String,
}

impl Checks {
    /// Differences between a recorded backend request and ours.
    pub(crate) fn backend(&self, recorded: &RecordedRequest, ours: &HttpRequest) -> Vec<String> {
        let mut differences = common(recorded, ours);

        match recorded.header_pairs() {
            Ok(pairs) => {
                let expected = header_set(pairs, is_backend_header);
                let actual = header_set(ours.headers.iter().cloned(), is_backend_header);
                differences.extend(header_differences(&expected, &actual));
            }
            Err(err) => differences.push(err),
        }
        differences
    }

    /// Differences between a recorded provider request and ours, plus any backend leak.
    pub(crate) fn provider(&self, recorded: &RecordedRequest, ours: &HttpRequest) -> Vec<String> {
        let mut differences = common(recorded, ours);

        match recorded.header_pairs() {
            Ok(pairs) => {
                let expected = header_set(pairs, is_provider_header);
                let actual = header_set(ours.headers.iter().cloned(), is_provider_header);
                differences.extend(header_differences(&expected, &actual));
            }
            Err(err) => differences.push(err),
        }

        for (name, value) in &ours.headers {
            if name.to_ascii_lowercase().starts_with("x-alter-") {
                differences.push(format!("leak: provider request carries {name}"));
            }
            if !self.api_key.is_empty() && value.contains(&self.api_key) {
                differences.push(format!(
                    "leak: provider header {name} carries the backend API key"
                ));
            }
        }
        differences
    }
}

/// Method, path with query, and body bytes.
fn common(recorded: &RecordedRequest, ours: &HttpRequest) -> Vec<String> {
    let mut differences = Vec::new();

    if !recorded.method.eq_ignore_ascii_case(&ours.method) {
        differences.push(format!(
            "method: expected {}, got {}",
            recorded.method, ours.method
        ));
    }

    let path = ours.path_and_query();
    if recorded.path != path {
        differences.push(format!("path: expected {}, got {path}", recorded.path));
    }

    match recorded.body() {
        Ok(body) if body != ours.body => differences.push(body_difference(&body, &ours.body)),
        Ok(_) => {}
        Err(err) => differences.push(err),
    }
    differences
}

/// Words a body difference by size and first differing offset (bodies may hold secrets).
fn body_difference(expected: &[u8], actual: &[u8]) -> String {
    let offset = expected
        .iter()
        .zip(actual)
        .take_while(|(a, b)| a == b)
        .count();
    format!(
        "body: expected {} bytes, got {} bytes, first difference at byte {offset}",
        expected.len(),
        actual.len()
    )
}

fn is_backend_header(name: &str) -> bool {
    name == "x-api-key"
        || name.starts_with("x-alter-")
        || name == "content-type"
        || name == "idempotency-key"
}

fn is_provider_header(name: &str) -> bool {
    !TRANSPORT_HEADERS.contains(&name)
}

/// The headers of one category, names lower-cased; repeated names keep every value.
fn header_set(
    pairs: impl IntoIterator<Item = (String, String)>,
    keep: fn(&str) -> bool,
) -> BTreeMap<String, Vec<String>> {
    let mut set: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in pairs {
        let name = name.to_ascii_lowercase();
        if keep(&name) {
            set.entry(name).or_default().push(value);
        }
    }
    set
}

fn header_differences(
    expected: &BTreeMap<String, Vec<String>>,
    actual: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let mut differences = Vec::new();

    for (name, values) in expected {
        match actual.get(name) {
            None => differences.push(format!("header {name}: missing")),
            Some(ours) if ours != values => {
                differences.push(format!(
                    "header {name}: {}",
                    value_difference(name, values, ours)
                ));
            }
            Some(_) => {}
        }
    }
    for name in actual.keys().filter(|name| !expected.contains_key(*name)) {
        differences.push(format!("header {name}: not expected"));
    }
    differences
}

fn value_difference(name: &str, expected: &[String], actual: &[String]) -> String {
    if SHOWN_HEADERS.contains(&name) {
        format!("expected {expected:?}, got {actual:?}")
    } else {
        "value differs".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use alter_core::Target;

    use super::*;

    fn recorded(headers: &str, body_b64: &str) -> RecordedRequest {
        serde_json::from_str(&format!(
            r#"{{"seq":0,"method":"POST","path":"/sdk/token","headers":{headers},"body_b64":"{body_b64}"}}"#
        ))
        .unwrap()
    }

    fn ours(target: Target, headers: &[(&str, &str)], body: &[u8]) -> HttpRequest {
        HttpRequest {
            target,
            method: "POST".into(),
            url: "http://127.0.0.1:1/sdk/token".into(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.to_vec(),
            timeout: None,
        }
    }

    fn checks() -> Checks {
        Checks {
            api_key: "alter_key_backend".into(),
        }
    }

    #[test]
    fn backend_headers_compare_by_category_with_case_insensitive_names() {
        let recorded = recorded(
            r#"{"host":"h","x-api-key":"k","x-alter-nonce":"n","content-type":"application/json","user-agent":"py"}"#,
            "e30=",
        );
        let matching = ours(
            Target::Backend,
            &[
                ("x-api-key", "k"),
                ("X-Alter-Nonce", "n"),
                ("Content-Type", "application/json"),
                ("User-Agent", "rust"),
            ],
            b"{}",
        );
        let wrong = ours(
            Target::Backend,
            &[("x-api-key", "k"), ("X-Alter-Caller", "c")],
            b"{} ",
        );

        assert!(checks().backend(&recorded, &matching).is_empty());
        let differences = checks().backend(&recorded, &wrong);
        assert!(differences.iter().any(|d| d.starts_with("body:")));
        assert!(differences.contains(&"header x-alter-nonce: missing".to_owned()));
        assert!(differences.contains(&"header content-type: missing".to_owned()));
        assert!(differences.contains(&"header x-alter-caller: not expected".to_owned()));
    }

    #[test]
    fn provider_requests_must_not_leak_backend_headers_or_the_key() {
        let recorded = recorded(r#"{"host":"h","authorization":"Bearer t"}"#, "");
        let clean = ours(
            Target::Provider,
            &[("Authorization", "Bearer t"), ("User-Agent", "x")],
            b"",
        );
        let leaking = ours(
            Target::Provider,
            &[
                ("Authorization", "Bearer t"),
                ("X-Alter-Nonce", "n"),
                ("X-Other", "alter_key_backend"),
            ],
            b"",
        );

        assert!(checks().provider(&recorded, &clean).is_empty());
        let differences = checks().provider(&recorded, &leaking);
        assert!(
            differences
                .iter()
                .any(|d| d == "leak: provider request carries X-Alter-Nonce")
        );
        assert!(
            differences
                .iter()
                .any(|d| d.contains("X-Other carries the backend API key"))
        );
    }

    #[test]
    fn secret_header_values_are_never_printed() {
        let recorded = recorded(r#"{"authorization":"Bearer secret-a"}"#, "");
        let ours = ours(
            Target::Provider,
            &[("authorization", "Bearer secret-b")],
            b"",
        );

        let differences = checks().provider(&recorded, &ours);

        assert_eq!(
            differences,
            vec!["header authorization: value differs".to_owned()]
        );
    }
}

//! The testkit binary's ready line: one JSON object on stdout once it listens.
//!
//! The runner checks the line against the contract the binary documents (issue 3: at least
//! `base_url`, `provider_base_url`, `app_key`, `agent_key`, `agent_id`, `managed_secret_id`
//! and the seeded `grants`) before handing it, unchanged, to the suite.

use std::fmt;
use std::net::IpAddr;

use serde_json::{Map, Value};

/// Fields every ready line has, each a non-empty string.
const STRING_FIELDS: &[&str] = &[
    "base_url",
    "provider_base_url",
    "app_key",
    "agent_key",
    "agent_id",
    "managed_secret_id",
];

/// Seeded grants the suite uses, by their name in the line's `grants` object.
const GRANT_NAMES: &[&str] = &[
    "oauth_bearer",
    "api_key_header",
    "query_param",
    "multi_header",
    "aws_sigv4",
    "hitl",
    "agent_delegated",
    "managed_secret_agent",
];

/// A checked ready line.
///
/// It holds API keys: its `Debug` output shows only the base URLs.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ReadyLine {
    /// The line as printed, handed on to the suite.
    pub(crate) raw: String,
    /// The fake backend's base URL.
    pub(crate) base_url: String,
    /// The fake provider's base URL.
    pub(crate) provider_base_url: String,
}

impl fmt::Debug for ReadyLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadyLine")
            .field("base_url", &self.base_url)
            .field("provider_base_url", &self.provider_base_url)
            .finish_non_exhaustive()
    }
}

/// Parses and checks one ready line.
///
/// # Errors
///
/// What is wrong with the line; the message never quotes the line, which holds keys.
pub(crate) fn parse_ready_line(line: &str) -> Result<ReadyLine, String> {
    let raw = line.trim_end_matches(['\r', '\n']);
    let value: Value =
        serde_json::from_str(raw).map_err(|error| format!("it is not JSON ({error})"))?;
    let object = value
        .as_object()
        .ok_or_else(|| "it is not a JSON object".to_owned())?;

    for name in STRING_FIELDS {
        string_field(object, name)?;
    }
    let grants = object
        .get("grants")
        .and_then(Value::as_object)
        .ok_or_else(|| "it has no 'grants' object".to_owned())?;
    for name in GRANT_NAMES {
        string_field(grants, name).map_err(|why| format!("grants: {why}"))?;
    }

    let base_url = string_field(object, "base_url")?;
    let provider_base_url = string_field(object, "provider_base_url")?;
    for url in [base_url, provider_base_url] {
        if !is_loopback_http(url) {
            return Err(format!("{url} is not an http:// loopback URL"));
        }
    }
    Ok(ReadyLine {
        raw: raw.to_owned(),
        base_url: base_url.to_owned(),
        provider_base_url: provider_base_url.to_owned(),
    })
}

fn string_field<'a>(object: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match object.get(name) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text),
        Some(_) => Err(format!("'{name}' is not a non-empty string")),
        None => Err(format!("it has no '{name}'")),
    }
}

/// `http://IP:PORT[/…]` with a loopback IP: the suite must talk to nothing else.
fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => host,
        _ => return false,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn line() -> Value {
        json!({
            "base_url": "http://127.0.0.1:4100",
            "provider_base_url": "http://127.0.0.1:4101",
            "app_key": "alter_rk_x",
            "app_key_id": "a4b7b6c2-0000-4000-8000-000000000001",
            "agent_key": "alter_ak_x",
            "agent_id": "a4b7b6c2-0000-4000-8000-000000000002",
            "managed_secret_id": "ms-1",
            "user_token": "tok",
            "grants": {
                "oauth_bearer": "g1", "api_key_header": "g2", "query_param": "g3",
                "multi_header": "g4", "aws_sigv4": "g5", "hitl": "g6",
                "agent_delegated": "g7", "managed_secret_agent": "g8"
            }
        })
    }

    #[test]
    fn a_complete_line_is_accepted_and_kept_verbatim() {
        let text = format!("{}\n", line());

        let ready = parse_ready_line(&text).unwrap();

        assert_eq!(ready.raw, text.trim_end());
        assert_eq!(ready.base_url, "http://127.0.0.1:4100");
        assert_eq!(ready.provider_base_url, "http://127.0.0.1:4101");
    }

    #[test]
    fn debug_leaves_out_the_keys() {
        let ready = parse_ready_line(&line().to_string()).unwrap();

        let shown = format!("{ready:?}");

        assert!(shown.contains("127.0.0.1:4100"));
        assert!(!shown.contains("alter_rk_x") && !shown.contains("alter_ak_x"));
    }

    #[test]
    fn missing_or_empty_fields_are_named() {
        let mut no_key = line();
        no_key.as_object_mut().unwrap().remove("app_key");
        let mut empty = line();
        empty["agent_id"] = json!("");
        let mut no_grant = line();
        no_grant["grants"].as_object_mut().unwrap().remove("hitl");

        assert_eq!(
            parse_ready_line(&no_key.to_string()).unwrap_err(),
            "it has no 'app_key'"
        );
        assert!(
            parse_ready_line(&empty.to_string())
                .unwrap_err()
                .contains("'agent_id'")
        );
        assert_eq!(
            parse_ready_line(&no_grant.to_string()).unwrap_err(),
            "grants: it has no 'hitl'"
        );
    }

    #[test]
    fn only_json_objects_parse() {
        assert!(
            parse_ready_line("listening on 127.0.0.1:4100")
                .unwrap_err()
                .starts_with("it is not JSON")
        );
        assert_eq!(
            parse_ready_line("[1, 2]").unwrap_err(),
            "it is not a JSON object"
        );
        assert!(parse_ready_line("").is_err());
    }

    #[test]
    fn urls_must_be_loopback_http() {
        for bad in [
            "https://127.0.0.1:4100",
            "http://10.0.0.1:4100",
            "http://localhost:4100",
            "http://127.0.0.1",
        ] {
            let mut other = line();
            other["base_url"] = json!(bad);
            assert!(parse_ready_line(&other.to_string()).is_err(), "{bad}");
        }
        assert!(is_loopback_http("http://[::1]:8080/prefix"));
        assert!(is_loopback_http("http://127.0.0.1:80"));
    }
}

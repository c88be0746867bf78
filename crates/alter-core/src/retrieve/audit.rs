//! The audit row of a retrieve-mode call and the scope-mismatch report (PROTOCOL §5.2,
//! §5.3, §6.8).
//!
//! The audit row records what was sent to the provider and what came back, minus every
//! credential: injected credential headers and the redaction set are dropped, bodies are
//! cut to 10 000 bytes.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::retrieve::ProviderBody;
use crate::retrieve::challenge::InsufficientScopeChallenge;

/// Header names (lower-case) never written to an audit row, in either direction.
pub const REDACTED_HEADERS: [&str; 8] = [
    "authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-auth-token",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-security-token",
];

/// Largest body, in bytes, that an audit row carries as text.
pub const BODY_LIMIT: usize = 10_000;

/// The `request_headers` of an audit row: the outgoing headers minus the injected credential
/// headers and minus [`REDACTED_HEADERS`], names compared without case, names kept as sent.
///
/// `credential_headers` is the list the injection plan returned.
///
/// # Example
///
/// ```
/// use alter_core::retrieve::audit::request_headers;
///
/// let sent = vec![
///     ("X-Account-Id".to_string(), "acct_1".to_string()),
///     ("Cookie".to_string(), "s=1".to_string()),
///     ("User-Agent".to_string(), "ua".to_string()),
/// ];
/// let row = request_headers(&sent, &["x-account-id".to_string()]);
/// assert_eq!(serde_json::Value::Object(row), serde_json::json!({"User-Agent": "ua"}));
/// ```
pub fn request_headers(
    outgoing: &[(String, String)],
    credential_headers: &[String],
) -> Map<String, Value> {
    outgoing
        .iter()
        .filter(|(name, _)| {
            !credential_headers
                .iter()
                .any(|c| c.eq_ignore_ascii_case(name))
                && !is_redacted(name)
        })
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect()
}

/// The `response_headers` of an audit row: names lower-cased, repeated names joined with
/// `, ` at the first one's position, [`REDACTED_HEADERS`] removed.
pub fn response_headers(headers: &[(String, String)]) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        if is_redacted(&name) {
            continue;
        }
        match out.get_mut(&name) {
            Some(Value::String(joined)) => {
                joined.push_str(", ");
                joined.push_str(value);
            }
            _ => {
                out.insert(name, Value::String(value.clone()));
            }
        }
    }
    out
}

/// The `request_body` of an audit row: a JSON body as it is; a raw body as `""` when empty,
/// `<binary body: N bytes>` when over [`BODY_LIMIT`] bytes or not UTF-8, else its text; no
/// body as `null`.
pub fn request_body(body: ProviderBody<'_>) -> Value {
    match body {
        ProviderBody::Empty => Value::Null,
        ProviderBody::Json(value) => value.clone(),
        ProviderBody::Raw(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) if bytes.len() <= BODY_LIMIT => Value::String(text.to_owned()),
            _ => Value::String(format!("<binary body: {} bytes>", bytes.len())),
        },
    }
}

/// The `response_body` of an audit row (also an error's `response_body`): `""` when empty,
/// `<response too large: N bytes>` when over [`BODY_LIMIT`] bytes, else the text decoded
/// with the `charset` of `content_type` (UTF-8, Latin-1 or ASCII; anything else, or none,
/// reads as UTF-8), invalid sequences replaced by U+FFFD.
///
/// The reference also cuts text longer than 10 000 characters; a body of at most 10 000
/// bytes never decodes to more characters than that, so the cut cannot happen here.
///
/// # Limitations
///
/// Charsets other than UTF-8, Latin-1 and ASCII are read as UTF-8.
pub fn response_body(body: &[u8], content_type: Option<&str>) -> String {
    if body.len() > BODY_LIMIT {
        return format!("<response too large: {} bytes>", body.len());
    }

    match content_type.and_then(charset) {
        Some(Charset::Latin1) => body.iter().map(|&b| char::from(b)).collect(),
        Some(Charset::Ascii) => body
            .iter()
            .map(|&b| {
                if b.is_ascii() {
                    char::from(b)
                } else {
                    '\u{fffd}'
                }
            })
            .collect(),
        Some(Charset::Utf8) | None => String::from_utf8_lossy(body).into_owned(),
    }
}

/// The `response_body` of an audit row for a provider call that timed out; `timeout` is the
/// limit that ran out.
pub fn timeout_body(timeout: Duration) -> String {
    format!("<transport error: timeout after {}ms>", timeout.as_millis())
}

/// The `response_body` of an audit row for a provider call that failed below HTTP.
pub fn transport_error_body(message: &str) -> String {
    format!("<transport error: {message}>")
}

/// The audit row's `grant_id`: the token response's grant id in canonical lower-case
/// hyphenated UUID form, or `None` when it is not a UUID (the row is then not sent).
///
/// # Example
///
/// ```
/// use alter_core::retrieve::audit::audit_grant_id;
///
/// assert_eq!(
///     audit_grant_id("0B6F7C8D9E0A4B1C8D2E3F4A5B6C7D8E").as_deref(),
///     Some("0b6f7c8d-9e0a-4b1c-8d2e-3f4a5b6c7d8e"),
/// );
/// assert_eq!(audit_grant_id("grant-1"), None);
/// ```
pub fn audit_grant_id(grant_id: &str) -> Option<String> {
    uuid::Uuid::parse_str(grant_id)
        .ok()
        .map(|id| id.hyphenated().to_string())
}

/// The audit row's `latency_ms`: whole milliseconds, truncated.
pub fn latency_ms(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

/// Everything an audit row holds, before it is laid out.
#[derive(Clone)]
pub struct AuditRow<'a> {
    /// The token response's grant id, in any UUID form.
    pub grant_id: &'a str,
    /// The token response's provider id; `None` is sent as `""`.
    pub provider_id: Option<&'a str>,
    /// Upper-case method.
    pub method: &'a str,
    /// Templated URL without query parameters and without injected query credentials.
    pub url: &'a str,
    /// From [`request_headers`].
    pub request_headers: Option<Map<String, Value>>,
    /// From [`request_body`].
    pub request_body: Value,
    /// Provider status; 0 after a transport error.
    pub response_status: u16,
    /// From [`response_headers`]; `None` after a transport error.
    pub response_headers: Option<Map<String, Value>>,
    /// From [`response_body`], [`timeout_body`] or [`transport_error_body`].
    pub response_body: String,
    /// From [`latency_ms`].
    pub latency_ms: u64,
    /// The caller's reason.
    pub reason: Option<&'a str>,
    /// The request's context map; `None` or empty is sent as `null`.
    pub context: Option<&'a [(String, String)]>,
}

impl fmt::Debug for AuditRow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bodies and header values are the caller's data: leave them out.
        f.debug_struct("AuditRow")
            .field("method", &self.method)
            .field("response_status", &self.response_status)
            .field("latency_ms", &self.latency_ms)
            .finish_non_exhaustive()
    }
}

impl AuditRow<'_> {
    /// The JSON body of `POST /sdk/oauth/audit/api-call`, keys in protocol order; `None`
    /// when the grant id is not a UUID, in which case no row is sent.
    pub fn to_json(&self) -> Option<Map<String, Value>> {
        let grant_id = audit_grant_id(self.grant_id)?;
        let optional_object = |map: &Option<Map<String, Value>>| {
            map.as_ref()
                .map_or(Value::Null, |m| Value::Object(m.clone()))
        };
        let context = match self.context {
            Some(pairs) if !pairs.is_empty() => Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
            _ => Value::Null,
        };

        let mut row = Map::new();
        row.insert("grant_id".into(), Value::String(grant_id));
        row.insert(
            "provider_id".into(),
            self.provider_id.unwrap_or_default().into(),
        );
        row.insert("method".into(), self.method.into());
        row.insert("url".into(), self.url.into());
        row.insert(
            "request_headers".into(),
            optional_object(&self.request_headers),
        );
        row.insert("request_body".into(), self.request_body.clone());
        row.insert("response_status".into(), self.response_status.into());
        row.insert(
            "response_headers".into(),
            optional_object(&self.response_headers),
        );
        row.insert("response_body".into(), self.response_body.clone().into());
        row.insert("latency_ms".into(), self.latency_ms.into());
        row.insert("reason".into(), self.reason.map_or(Value::Null, Into::into));
        row.insert("context".into(), context);
        Some(row)
    }
}

/// The `sdk_correlation_id` of a scope-mismatch report: 16 random bytes, base64url without
/// padding (22 characters).
pub fn correlation_id(random: [u8; 16]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
}

/// The JSON body of `POST /sdk/grants/{grant_id}/report-scope-mismatch`, keys in protocol
/// order. `api_endpoint` is the templated request URL; `random` feeds [`correlation_id`].
pub fn scope_mismatch_report(
    challenge: &InsufficientScopeChallenge,
    api_endpoint: &str,
    random: [u8; 16],
) -> Map<String, Value> {
    let missing_scopes = challenge
        .missing_scopes
        .as_ref()
        .map_or(Value::Null, |scopes| {
            Value::Array(scopes.iter().cloned().map(Value::String).collect())
        });

    let mut report = Map::new();
    report.insert("provider_status_code".into(), 403.into());
    report.insert("provider_error_code".into(), "insufficient_scope".into());
    report.insert("missing_scopes".into(), missing_scopes);
    report.insert("raw_www_authenticate".into(), challenge.raw.clone().into());
    report.insert("api_endpoint".into(), api_endpoint.into());
    report.insert("detection_source".into(), "www_authenticate_rfc6750".into());
    report.insert("sdk_correlation_id".into(), correlation_id(random).into());
    report
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Charset {
    Utf8,
    Latin1,
    Ascii,
}

/// The charset named by a `Content-Type` value, when it is one this module decodes.
fn charset(content_type: &str) -> Option<Charset> {
    let value = content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"'))
    })?;

    // Codec names compare without case and with `-`, `_` and spaces alike.
    let normalized = value.to_ascii_lowercase().replace(['-', ' '], "_");
    match normalized.as_str() {
        "utf_8" | "utf8" | "u8" | "utf" => Some(Charset::Utf8),
        "latin_1" | "latin1" | "latin" | "l1" | "iso_8859_1" | "iso8859_1" | "8859" | "cp819" => {
            Some(Charset::Latin1)
        }
        "ascii" | "us_ascii" | "646" | "us" => Some(Charset::Ascii),
        _ => None,
    }
}

fn is_redacted(name: &str) -> bool {
    REDACTED_HEADERS
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests;

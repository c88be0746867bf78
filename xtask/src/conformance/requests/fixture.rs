//! The schema of one entry of `fixtures/conformance/requests.json`, as far as the runner
//! reads it.
//!
//! Fields the runner does not check (`raw_header_order`, `signature_check`, `leak_check`,
//! the outcome's value and message) are left out; serde ignores them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Map, Value};

/// A JSON object as it appears in the file, key order kept.
pub(crate) type Object = Map<String, Value>;

/// One recorded call and everything that crossed the wire for it.
#[derive(Debug, Deserialize)]
pub(crate) struct Entry {
    /// Unique name, e.g. `app.agents.create.full`.
    pub(crate) id: String,
    /// How the client was built.
    pub(crate) client_config: ClientSetup,
    /// What was called.
    pub(crate) call: CallSpec,
    /// The frozen clock and the randomness the reference client drew.
    pub(crate) clock: Clock,
    /// Backend requests in the order they were received.
    #[serde(default)]
    pub(crate) requests: Vec<RecordedRequest>,
    /// The answers to `requests`, matched by `seq`.
    #[serde(default)]
    pub(crate) response_fixtures: Vec<ResponseFixture>,
    /// Provider requests with their answers.
    #[serde(default)]
    pub(crate) provider_requests: Vec<ProviderExchange>,
    /// How the call ended.
    pub(crate) outcome: ExpectedOutcome,
    /// Client state after the call.
    pub(crate) post_state: PostState,
    /// Scheme, host and port of the capturing server: the client's base URL.
    pub(crate) server_origin: String,
    /// URLs the reference client opened in a browser, when the entry records them.
    #[serde(default)]
    pub(crate) browser_opened: Option<Vec<String>>,
}

/// The `client_config` of an entry.
#[derive(Debug, Deserialize)]
pub(crate) struct ClientSetup {
    /// `App` or `Agent`.
    pub(crate) class: String,
    /// The API key the client was built with.
    pub(crate) api_key: String,
    /// What the client's user-token getter returned, when one was configured.
    #[serde(default)]
    pub(crate) user_token_getter_returns: Option<String>,
    /// The constructor's `caller`.
    #[serde(default)]
    pub(crate) caller: Option<String>,
    /// The constructor's `caller_type`.
    #[serde(default)]
    pub(crate) caller_type: Option<String>,
    /// Scopes of `with_constraints(...)`, when the call went through a constrained sibling.
    #[serde(default)]
    pub(crate) with_constraints: Option<Vec<String>>,
    /// The agent id of `App.get_agent(...)`, when the call went through an impersonating
    /// agent.
    #[serde(default)]
    pub(crate) get_agent: Option<String>,
}

/// The `call` of an entry: one target with its arguments, or a list of steps.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CallSpec {
    /// Dotted method name, e.g. `agents.create`.
    #[serde(default)]
    pub(crate) target: Option<String>,
    /// Positional arguments.
    #[serde(default)]
    pub(crate) args: Vec<Value>,
    /// Keyword arguments (`null` in the file means none).
    #[serde(default)]
    pub(crate) kwargs: Option<Object>,
    /// Calls made one after the other on the same client.
    #[serde(default)]
    pub(crate) steps: Option<Vec<Self>>,
    /// `Agent.trace(...)` arguments the call ran inside.
    #[serde(default)]
    pub(crate) trace: Option<Object>,
}

/// The `clock` of an entry.
#[derive(Debug, Deserialize)]
pub(crate) struct Clock {
    /// Unix seconds, as a string or a number.
    pub(crate) timestamp: Value,
    /// Every random value drawn, in order: 32 hex digits or 22 base64url characters.
    #[serde(default)]
    pub(crate) nonces_issued: Vec<String>,
}

impl Clock {
    /// The frozen wall clock in Unix seconds.
    pub(crate) fn unix_seconds(&self) -> Result<u64, String> {
        match &self.timestamp {
            Value::String(text) => text.parse().map_err(|_| format!("bad timestamp {text:?}")),
            Value::Number(number) => number
                .as_u64()
                .ok_or_else(|| format!("bad timestamp {number}")),
            other => Err(format!("bad timestamp {other}")),
        }
    }
}

/// One request the capturing server received.
#[derive(Debug, Deserialize)]
pub(crate) struct RecordedRequest {
    /// Global order of arrival over backend and provider requests.
    pub(crate) seq: u64,
    /// HTTP method.
    pub(crate) method: String,
    /// Path and query as received.
    pub(crate) path: String,
    /// Headers, names lower-cased.
    pub(crate) headers: Object,
    /// The body bytes, base64.
    #[serde(default)]
    pub(crate) body_b64: String,
    /// Whether the reference client sent it in the background (fire and forget).
    #[serde(default)]
    pub(crate) background: bool,
}

impl RecordedRequest {
    /// The body bytes.
    pub(crate) fn body(&self) -> Result<Vec<u8>, String> {
        STANDARD
            .decode(&self.body_b64)
            .map_err(|err| format!("seq {}: bad body_b64: {err}", self.seq))
    }

    /// The headers as (name, value) pairs; non-string values are a malformed entry.
    pub(crate) fn header_pairs(&self) -> Result<Vec<(String, String)>, String> {
        string_pairs(&self.headers).map_err(|err| format!("seq {}: {err}", self.seq))
    }
}

/// What the capturing server answered.
#[derive(Debug, Deserialize)]
pub(crate) struct ResponseFixture {
    /// The `seq` of the request answered.
    pub(crate) seq: u64,
    /// Status code.
    pub(crate) status: u16,
    /// Headers, in the order sent.
    #[serde(default)]
    pub(crate) headers: Object,
    /// JSON body; `null` means no body.
    #[serde(default)]
    pub(crate) body_json: Option<Value>,
    /// Exact body bytes, base64, when the body is not JSON or must be kept byte for byte.
    #[serde(default)]
    pub(crate) body_b64: Option<String>,
}

impl ResponseFixture {
    /// The body bytes the server sent: `body_b64` when present, else the compact JSON of
    /// `body_json`, else nothing.
    pub(crate) fn body(&self) -> Result<Vec<u8>, String> {
        if let Some(encoded) = &self.body_b64 {
            return STANDARD
                .decode(encoded)
                .map_err(|err| format!("seq {}: bad response body_b64: {err}", self.seq));
        }
        match &self.body_json {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(value) => serde_json::to_vec(value)
                .map_err(|err| format!("seq {}: response body: {err}", self.seq)),
        }
    }
}

/// One provider request with its answer.
#[derive(Debug, Deserialize)]
pub(crate) struct ProviderExchange {
    /// What the provider received.
    pub(crate) request: RecordedRequest,
    /// What the provider answered.
    pub(crate) response_fixture: ResponseFixture,
}

/// How the recorded call ended.
#[derive(Debug, Deserialize)]
pub(crate) struct ExpectedOutcome {
    /// `returned` or `raised`.
    pub(crate) status: String,
    /// The exception, when `raised`.
    #[serde(default)]
    pub(crate) exception: Option<ExpectedException>,
}

/// The exception a recorded call raised.
#[derive(Debug, Deserialize)]
pub(crate) struct ExpectedException {
    /// Class name, e.g. `AgentNotFoundError`.
    #[serde(rename = "type")]
    pub(crate) class: String,
    /// Ancestors from the nearest up to `AlterSDKError`.
    #[serde(default)]
    pub(crate) mro: Vec<String>,
}

/// Client state after the recorded call.
#[derive(Debug, Deserialize)]
pub(crate) struct PostState {
    /// The cached actor id.
    #[serde(default)]
    pub(crate) actor_id: Option<String>,
    /// The retry information of the last token call.
    #[serde(default)]
    pub(crate) last_retry_info: Option<Value>,
}

/// The string pairs of a header object.
pub(crate) fn string_pairs(headers: &Object) -> Result<Vec<(String, String)>, String> {
    headers
        .iter()
        .map(|(name, value)| match value {
            Value::String(text) => Ok((name.clone(), text.clone())),
            other => Err(format!("header {name} is not a string: {other}")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_from_strings_and_numbers() {
        let text: Clock = serde_json::from_str(r#"{"timestamp":"17","nonces_issued":[]}"#).unwrap();
        let number: Clock = serde_json::from_str(r#"{"timestamp":18}"#).unwrap();

        assert_eq!(text.unix_seconds(), Ok(17));
        assert_eq!(number.unix_seconds(), Ok(18));
    }

    #[test]
    fn response_body_prefers_exact_bytes_then_compact_json() {
        let exact: ResponseFixture =
            serde_json::from_str(r#"{"seq":1,"status":200,"body_json":{"a":1},"body_b64":"aGk="}"#)
                .unwrap();
        let json: ResponseFixture =
            serde_json::from_str(r#"{"seq":1,"status":200,"body_json":{"a": [1, "é"]}}"#).unwrap();
        let empty: ResponseFixture =
            serde_json::from_str(r#"{"seq":1,"status":204,"body_json":null}"#).unwrap();

        assert_eq!(exact.body().unwrap(), b"hi");
        assert_eq!(json.body().unwrap(), "{\"a\":[1,\"é\"]}".as_bytes());
        assert!(empty.body().unwrap().is_empty());
    }
}

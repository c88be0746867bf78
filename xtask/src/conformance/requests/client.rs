//! Client mode (`--client async|blocking`): each entry runs through a real frontend, its
//! real HTTP stack, and a loopback replay server, instead of driving the core directly.
//!
//! For each entry the runner binds a [`replay_server`](super::replay_server) on
//! `127.0.0.1` at an ephemeral port, rewrites the recorded origin (`127.0.0.1:41709`) to that
//! address everywhere in the entry (call arguments, recorded bodies and headers, answers),
//! builds the frontend's `App` or `Agent` as the entry's `client_config` says (API key, the
//! server as base URL, the recorded User-Agent, caller, caller type, token getter,
//! `get_agent`, `with_constraints`, a URL handler that writes URLs down, and no retries),
//! makes the calls, and closes the client, which flushes its background uploads. Then it
//! compares what the server received with the recording.
//!
//! What is compared as in core mode: method, path with query, every header that carries
//! meaning (`x-api-key`, `content-type`, `idempotency-key`, every `x-alter-*` but three),
//! provider credentials and leak checks, body bytes, how the call ended (class and
//! ancestors), the actor id and last retry info afterwards, and the URLs opened.
//!
//! What differs, because the real frontends read the real clock and draw nonces from the
//! operating system (see [`relaxed`](super::relaxed) for each rule): the timestamp, nonce,
//! content hash and signature headers are checked for what they must be (fresh, unique,
//! matching, verifying) rather than compared; audit rows and scope-mismatch reports are
//! compared as JSON without their latency or correlation id; a SigV4 signature is verified
//! by the oracle over the request as received (§16 D3); background uploads are matched
//! regardless of their order relative to later foreground requests.
//!
//! # Limitations
//!
//! Whether a request was handed over in the background (`Step::Detach`) or awaited is seen
//! only by core mode: on the wire both are plain requests. The polling calls sleep for
//! real, as the frontends do (at least 100 ms per poll, 2 s for a sign-in poll).

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use tokio::runtime::Runtime;

use super::compare::Checks;
use super::deviations::{self, Deviation};
use super::fixture::Entry;
use super::frontend_calls::{ClientRun, Setup, UrlLog};
use super::plan::{self, PlannedCall, Unplanned};
use super::relaxed::{Expected, SIGV4_SCHEME, Verifier};
use super::replay_server::{Bound, Canned};
use super::transport::Script;
use super::{
    LoadError, Verdict, check_outcome, check_post_state, frontend_async, frontend_blocking,
    recorded_user_agent,
};

/// Which real frontend client mode drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frontend {
    /// `alter-async`: reqwest on a multi-threaded tokio runtime.
    Async,
    /// `alter-blocking`: ureq.
    Blocking,
}

impl Frontend {
    /// The frontend named on the command line: `async` or `blocking`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "async" => Some(Self::Async),
            "blocking" => Some(Self::Blocking),
            _ => None,
        }
    }
}

/// Runs entries through one frontend; holds what outlives an entry.
pub(crate) struct Runner {
    frontend: Frontend,
    runtime: Option<Runtime>,
    /// Every nonce received in this run: none may repeat.
    nonces: HashSet<String>,
}

impl Runner {
    /// A runner for `frontend`; the async one starts its runtime here.
    pub(crate) fn new(frontend: Frontend) -> Result<Self, LoadError> {
        let runtime = match frontend {
            Frontend::Async => Some(
                tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                    .map_err(|err| LoadError(format!("cannot start the tokio runtime: {err}")))?,
            ),
            Frontend::Blocking => None,
        };
        Ok(Self {
            frontend,
            runtime,
            nonces: HashSet::new(),
        })
    }

    /// Runs one entry of the fixture, given as it is in the file.
    pub(crate) fn run_entry(&mut self, entry: Value, deviations: &mut Vec<Deviation>) -> Verdict {
        let mut recorded = match serde_json::from_value::<Entry>(entry.clone()) {
            Ok(recorded) => recorded,
            Err(err) => return Verdict::Failed(vec![format!("malformed entry: {err}")]),
        };
        match plan::plan(&recorded.call) {
            Ok(_) => {}
            Err(Unplanned::NoCounterpart(reason)) => return Verdict::Skipped(reason),
            Err(Unplanned::Malformed(reason)) => return Verdict::Failed(vec![reason]),
        }
        // The oracle checks itself against the recording, so it runs before the rewrite.
        match deviations::apply(&mut recorded) {
            Ok(Some(deviation)) => deviations.push(deviation),
            Ok(None) => {}
            Err(reason) => return Verdict::Failed(vec![reason]),
        }

        match self.replay(entry, &recorded.server_origin) {
            Ok(differences) if differences.is_empty() => Verdict::Passed,
            Ok(differences) => Verdict::Failed(differences),
            Err(reason) => Verdict::Failed(vec![reason]),
        }
    }

    /// Runs the entry against a fresh replay server; every difference found.
    fn replay(&mut self, entry: Value, recorded_origin: &str) -> Result<Vec<String>, String> {
        let bound = Bound::new().map_err(|err| format!("replay server: {err}"))?;
        let origin = format!("http://{}", bound.address());
        let recorded_authority = recorded_origin
            .strip_prefix("http://")
            .ok_or_else(|| format!("server_origin {recorded_origin:?} is not plain http"))?;
        let entry = rewrite_origin(entry, recorded_authority, &bound.address().to_string())?;
        let mut entry: Entry =
            serde_json::from_value(entry).map_err(|err| format!("malformed entry: {err}"))?;

        let calls = plan::plan(&entry.call).map_err(|unplanned| match unplanned {
            Unplanned::NoCounterpart(reason) | Unplanned::Malformed(reason) => reason,
        })?;
        let user_agent = recorded_user_agent(&entry);
        let sigv4 = signs_with_sigv4(&entry)
            .then(|| deviations::sigv4_keys(&entry))
            .transpose()?;
        let verifier = Verifier::new(&entry.client_config.api_key, origin.clone(), sigv4);
        let checks = Checks {
            api_key: entry.client_config.api_key.clone(),
        };
        let (canned, expected) = split(Script::from_entry(&mut entry)?);

        let server = bound
            .serve(canned)
            .map_err(|err| format!("replay server: {err}"))?;
        let urls = UrlLog::default();
        let setup = Setup {
            config: &entry.client_config,
            base_url: &origin,
            user_agent: &user_agent,
        };
        let run = self.drive(&setup, calls, &urls);
        let received = server.stop();

        let mut differences = verifier.judge(expected, &received, &checks, &mut self.nonces);
        match run {
            Ok(run) => {
                differences.extend(check_outcome(&entry, &run.outcome));
                differences.extend(check_post_state(&entry, run.actor_id, run.last_retry_info));
            }
            Err(reason) => differences.push(reason),
        }
        let expected_browser = entry.browser_opened.clone().unwrap_or_default();
        differences.extend(urls.differences(&expected_browser));
        Ok(differences)
    }

    fn drive(
        &self,
        setup: &Setup<'_>,
        calls: Vec<PlannedCall>,
        urls: &UrlLog,
    ) -> Result<ClientRun, String> {
        match (self.frontend, &self.runtime) {
            (Frontend::Blocking, _) => frontend_blocking::run(setup, calls, urls),
            (Frontend::Async, Some(runtime)) => frontend_async::run(runtime, setup, calls, urls),
            (Frontend::Async, None) => Err("the async runtime is not running".to_owned()),
        }
    }
}

/// Whether a provider request of the entry is signed with SigV4.
fn signs_with_sigv4(entry: &Entry) -> bool {
    entry.provider_requests.iter().any(|exchange| {
        exchange
            .request
            .headers
            .get("authorization")
            .and_then(Value::as_str)
            .is_some_and(|value| value.starts_with(SIGV4_SCHEME))
    })
}

/// What the server answers with, and what is checked afterwards, from one script.
fn split(mut script: Script) -> (Vec<Canned>, Vec<Expected>) {
    let mut canned = Vec::new();
    let mut expected = Vec::new();
    while let Some(exchange) = script.next() {
        canned.push(Canned {
            method: exchange.request.method.clone(),
            path: exchange.request.path.clone(),
            background: exchange.request.background,
            response: exchange.response,
        });
        expected.push(Expected {
            target: exchange.target,
            request: exchange.request,
        });
    }
    (canned, expected)
}

/// Replaces the authority `from` with `to` in every string of `entry`, and in the bytes of
/// every base64 body (`body_b64`, `$bytes_b64`).
fn rewrite_origin(mut entry: Value, from: &str, to: &str) -> Result<Value, String> {
    rewrite(&mut entry, from, to)?;
    Ok(entry)
}

fn rewrite(value: &mut Value, from: &str, to: &str) -> Result<(), String> {
    match value {
        Value::String(text) if text.contains(from) => *text = text.replace(from, to),
        Value::Array(items) => {
            for item in items {
                rewrite(item, from, to)?;
            }
        }
        Value::Object(object) => {
            for (key, item) in object.iter_mut() {
                match (key.as_str(), item) {
                    ("body_b64" | "$bytes_b64", Value::String(encoded)) => {
                        *encoded = rewrite_base64(encoded, from, to)
                            .map_err(|err| format!("{key}: {err}"))?;
                    }
                    (_, item) => rewrite(item, from, to)?,
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn rewrite_base64(encoded: &str, from: &str, to: &str) -> Result<String, base64::DecodeError> {
    let bytes = STANDARD.decode(encoded)?;
    Ok(STANDARD.encode(replace_bytes(&bytes, from.as_bytes(), to.as_bytes())))
}

/// `haystack` with every occurrence of `from` replaced by `to` (`from` is not empty).
fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while !rest.is_empty() {
        if !from.is_empty() && rest.starts_with(from) {
            out.extend_from_slice(to);
            rest = &rest[from.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontends_parse_by_name() {
        assert_eq!(Frontend::parse("async"), Some(Frontend::Async));
        assert_eq!(Frontend::parse("blocking"), Some(Frontend::Blocking));
        assert_eq!(Frontend::parse("sync"), None);
    }

    #[test]
    fn the_origin_is_rewritten_in_strings_and_base64_bodies() {
        let body = STANDARD.encode(b"\x00url=http://127.0.0.1:41709/x\xff");
        let entry = serde_json::json!({
            "call": {"args": ["GET", "http://127.0.0.1:41709/p"]},
            "requests": [{"headers": {"host": "127.0.0.1:41709"}, "body_b64": body}],
            "kwargs": {"body": {"$bytes_b64": STANDARD.encode("127.0.0.1:41709")}},
        });

        let rewritten = rewrite_origin(entry, "127.0.0.1:41709", "127.0.0.1:5").unwrap();

        assert_eq!(rewritten["call"]["args"][1], "http://127.0.0.1:5/p");
        assert_eq!(rewritten["requests"][0]["headers"]["host"], "127.0.0.1:5");
        let body = rewritten["requests"][0]["body_b64"].as_str().unwrap();
        assert_eq!(
            STANDARD.decode(body).unwrap(),
            b"\x00url=http://127.0.0.1:5/x\xff"
        );
        assert_eq!(
            rewritten["kwargs"]["body"]["$bytes_b64"],
            STANDARD.encode("127.0.0.1:5")
        );
    }

    #[test]
    fn a_body_that_is_not_base64_is_an_error() {
        let entry = serde_json::json!({"body_b64": "***"});

        assert!(rewrite_origin(entry, "a", "b").is_err());
    }
}

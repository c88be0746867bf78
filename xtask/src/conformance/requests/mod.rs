//! `cargo xtask conformance requests <FILE>`: replays recorded calls through the core.
//!
//! The file is a JSON array of entries as in `fixtures/conformance/requests.json`. For each
//! entry the runner builds the client the reference client was built as, makes the same
//! call with the entry's frozen clock and scripted randomness, and acts as the transport:
//! each request the core emits is compared with the next recorded one and answered with its
//! recorded response. It then checks how the call ended (returned, or the error class and
//! its ancestors) and the client's state afterwards (actor id, last retry info).
//!
//! The parts, each with one job:
//!
//! - `fixture`: the entry schema;
//! - `plan`: which call an entry makes, with typed arguments;
//! - `execute`: that call on the core, one operation at a time;
//! - `driver`: the step loop and its clocks;
//! - `transport`: how requests are answered (the recorded exchanges);
//! - `compare`: what must match, request by request;
//! - `deviations`: expectations corrected where PROTOCOL.md §16 makes alter-rs differ;
//! - `entropy`: the scripted randomness.
//!
//! Entries whose call has no counterpart in alter-rs are skipped with a reason, never
//! counted as passed.
//!
//! With `--client async|blocking` ([`run_client`]) the same entries run through a real
//! frontend and its HTTP stack against a loopback replay server instead; the module
//! `client` says what that mode compares differently and why. Its parts:
//!
//! - `client`: one entry end to end (origin rewrite, server, client, checks);
//! - `replay_server`: the loopback HTTP/1.1 server answering the recorded exchanges;
//! - `frontend_calls`: the planned calls on a frontend's `App` and `Agent`, written once;
//! - `frontend_async`, `frontend_blocking`: that mapping expanded for each frontend;
//! - `relaxed`: the checks of what depends on the real clock and randomness.

mod client;
mod compare;
mod deviations;
mod driver;
mod entropy;
mod execute;
mod fixture;
mod frontend_async;
mod frontend_blocking;
mod frontend_calls;
mod plan;
mod relaxed;
mod replay_server;
mod transport;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use alter_core::config::{ApiKey, BaseUrl, canonical_uuid};
use alter_core::{ClientConfig, Engine, Entropy, Error};
use alter_types::{CallerType, RetryInfo, Secret};
use serde_json::Value;

pub use client::Frontend;
pub use deviations::Deviation;

use super::{CaseFailure, LoadError};
use compare::Checks;
use driver::{Driver, FrozenClock, Runaway};
use entropy::ScriptedEntropy;
use execute::{ClientClass, Session};
use fixture::Entry;
use plan::{PlannedCall, Unplanned};
use transport::{Replay, Script};

/// The User-Agent of the reference client, used when an entry records none: audit rows
/// list the provider request's User-Agent, so ours must be the same to match byte for byte.
const REFERENCE_USER_AGENT: &str = "alter-sdk-python/0.15.0";

/// The outcome of one run over a requests fixture.
#[derive(Debug, Default)]
pub struct RequestsReport {
    /// Entries whose every check passed.
    pub passed: usize,
    /// Entries with at least one difference, in file order.
    pub failures: Vec<CaseFailure>,
    /// Entries not run, each with its reason.
    pub skipped: Vec<Skipped>,
    /// Deliberate differences whose corrected expectation was checked.
    pub deviations: Vec<Deviation>,
}

impl RequestsReport {
    /// The number of failing entries.
    pub fn failed(&self) -> usize {
        self.failures.len()
    }

    /// The summary line, exactly `N passed, M failed, K skipped`.
    pub fn summary(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed,
            self.failed(),
            self.skipped.len()
        )
    }

    /// Prints the deviations, skips and failures, one per line, then the summary.
    pub fn print(&self) {
        for deviation in &self.deviations {
            println!("{deviation}");
        }
        for skipped in &self.skipped {
            println!("{skipped}");
        }
        for failure in &self.failures {
            println!("{failure}");
        }
        println!("{}", self.summary());
    }
}

/// An entry the runner did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The entry's id.
    pub id: String,
    /// Why it was not run.
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "skipped: {}: {}", self.id, self.reason)
    }
}

/// Runs the file at `path`, prints the report and returns the process exit code: failure
/// when the file cannot be run or any entry failed.
pub fn run_and_print(path: &Path) -> ExitCode {
    print_report(run(path))
}

/// As [`run_and_print`], through the real `frontend` ([`run_client`]).
pub fn run_client_and_print(path: &Path, frontend: Frontend) -> ExitCode {
    print_report(run_client(path, frontend))
}

/// Prints a run's report and returns the process exit code.
fn print_report(outcome: Result<RequestsReport, LoadError>) -> ExitCode {
    match outcome {
        Ok(report) => {
            report.print();
            if report.failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Runs every entry of the requests fixture at `path`.
///
/// # Errors
///
/// [`LoadError`] when the file cannot be read or is not a JSON array. Problems inside an
/// entry are that entry's failure.
pub fn run(path: &Path) -> Result<RequestsReport, LoadError> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| LoadError(format!("cannot read {}: {err}", path.display())))?;
    run_str(&text)
}

/// Runs every entry of a requests fixture given as JSON text.
///
/// # Errors
///
/// [`LoadError`] when the text is not a JSON array.
pub fn run_str(json: &str) -> Result<RequestsReport, LoadError> {
    run_entries(json, |entry, deviations| {
        match serde_json::from_value::<Entry>(entry) {
            Ok(entry) => run_entry(entry, deviations),
            Err(err) => Verdict::Failed(vec![format!("malformed entry: {err}")]),
        }
    })
}

/// Runs every entry of the requests fixture at `path` through the real `frontend`, its HTTP
/// stack and a loopback replay server.
///
/// # Errors
///
/// [`LoadError`] when the file cannot be read or is not a JSON array, or when the async
/// runtime cannot start. Problems inside an entry are that entry's failure.
pub fn run_client(path: &Path, frontend: Frontend) -> Result<RequestsReport, LoadError> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| LoadError(format!("cannot read {}: {err}", path.display())))?;
    run_client_str(&text, frontend)
}

/// As [`run_client`], for a fixture given as JSON text.
///
/// # Errors
///
/// [`LoadError`] when the text is not a JSON array or the async runtime cannot start.
pub fn run_client_str(json: &str, frontend: Frontend) -> Result<RequestsReport, LoadError> {
    let mut runner = client::Runner::new(frontend)?;
    run_entries(json, |entry, deviations| {
        runner.run_entry(entry, deviations)
    })
}

/// Runs `run_one` on every entry of a fixture given as JSON text, in file order.
fn run_entries(
    json: &str,
    mut run_one: impl FnMut(Value, &mut Vec<Deviation>) -> Verdict,
) -> Result<RequestsReport, LoadError> {
    let entries: Vec<Value> =
        serde_json::from_str(json).map_err(|err| LoadError(format!("not a JSON array: {err}")))?;
    let mut report = RequestsReport::default();

    for (index, entry) in entries.into_iter().enumerate() {
        let id = entry
            .get("id")
            .and_then(Value::as_str)
            .map_or_else(|| format!("entry #{index}"), str::to_owned);

        let verdict = run_one(entry, &mut report.deviations);
        match verdict {
            Verdict::Passed => report.passed += 1,
            Verdict::Failed(differences) => report.failures.push(CaseFailure {
                name: id,
                differences,
            }),
            Verdict::Skipped(reason) => report.skipped.push(Skipped { id, reason }),
        }
    }
    Ok(report)
}

enum Verdict {
    Passed,
    Failed(Vec<String>),
    Skipped(String),
}

fn run_entry(mut entry: Entry, deviations: &mut Vec<Deviation>) -> Verdict {
    let calls = match plan::plan(&entry.call) {
        Ok(calls) => calls,
        Err(Unplanned::NoCounterpart(reason)) => return Verdict::Skipped(reason),
        Err(Unplanned::Malformed(reason)) => return Verdict::Failed(vec![reason]),
    };
    match deviations::apply(&mut entry) {
        Ok(Some(deviation)) => deviations.push(deviation),
        Ok(None) => {}
        Err(reason) => return Verdict::Failed(vec![reason]),
    }

    match replay(entry, calls) {
        Ok(differences) if differences.is_empty() => Verdict::Passed,
        Ok(differences) => Verdict::Failed(differences),
        Err(reason) => Verdict::Failed(vec![reason]),
    }
}

/// Makes the entry's calls against its recorded exchanges; every difference found.
fn replay(mut entry: Entry, calls: Vec<PlannedCall>) -> Result<Vec<String>, String> {
    let entropy = Arc::new(ScriptedEntropy::from_issued(&entry.clock.nonces_issued)?);
    let clock = FrozenClock::at(entry.clock.unix_seconds()?);
    let mut session = build_session(&entry, Arc::clone(&entropy) as Arc<dyn Entropy>)?;
    let checks = Checks {
        api_key: entry.client_config.api_key.clone(),
    };
    let mut transport = Replay::new(Script::from_entry(&mut entry)?, checks);

    let mut driver = Driver::new(clock, &mut transport);
    let mut outcome = Ok(());
    let mut runaway = false;
    for call in calls {
        match session.execute(call, &mut driver) {
            Ok(result) => outcome = result,
            Err(Runaway) => runaway = true,
        }
        // A call that raises ends the entry, as the exception did in the reference client.
        if runaway || outcome.is_err() {
            break;
        }
    }

    let mut differences = transport.finish();
    differences.extend(entropy.problems());
    if runaway {
        differences.push("an operation never finished".to_owned());
    } else {
        differences.extend(check_outcome(&entry, &outcome));
    }
    differences.extend(check_post_state(
        &entry,
        session.engine.actor_id(),
        session.engine.last_retry_info(),
    ));

    let expected_browser = entry.browser_opened.clone().unwrap_or_default();
    if session.browser_opened != expected_browser {
        differences.push(format!(
            "browser: expected {expected_browser:?}, opened {:?}",
            session.browser_opened
        ));
    }
    Ok(differences)
}

/// The client of the entry: class, key, caller, constraints, impersonation and getter.
fn build_session(entry: &Entry, entropy: Arc<dyn Entropy>) -> Result<Session, String> {
    let setup = &entry.client_config;
    let class = match setup.class.as_str() {
        "App" => ClientClass::App,
        "Agent" => ClientClass::Agent,
        other => return Err(format!("unknown client class {other:?}")),
    };

    let api_key = ApiKey::parse(&setup.api_key).map_err(|err| format!("api key: {err}"))?;
    let base_url =
        BaseUrl::parse(&entry.server_origin).map_err(|err| format!("base url: {err}"))?;
    let mut config = ClientConfig::new(api_key, base_url);
    config.user_agent = recorded_user_agent(entry);
    config.caller = setup.caller.clone();
    config.caller_type = match (class, &setup.caller_type) {
        (ClientClass::Agent, _) => CallerType::Agent,
        (ClientClass::App, Some(kind)) => CallerType::from(kind.as_str()),
        (ClientClass::App, None) => CallerType::Service,
    };

    // `App.get_agent(id)`: an agent on the App's key, named by the canonical id.
    let mut class = class;
    let mut getter_token = setup.user_token_getter_returns.clone().map(Secret::from);
    if let Some(agent_id) = &setup.get_agent {
        let caller = canonical_uuid(agent_id)
            .ok_or_else(|| format!("get_agent: {agent_id:?} is not a UUID"))?;
        config.caller = Some(caller);
        config.caller_type = CallerType::Agent;
        class = ClientClass::Agent;
        getter_token = None;
    }

    let trace_agent = config.caller.clone();
    let mut engine = Engine::new(config, entropy).map_err(|err| describe("client", &err))?;
    if let Some(scopes) = &setup.with_constraints {
        engine = engine
            .with_constraints(scopes)
            .map_err(|err| describe("with_constraints", &err))?;
    }

    Ok(Session {
        engine,
        class,
        getter_token,
        trace_agent,
        browser_opened: Vec::new(),
    })
}

/// The User-Agent of the entry's backend requests.
fn recorded_user_agent(entry: &Entry) -> String {
    entry
        .requests
        .iter()
        .find_map(|request| request.headers.get("user-agent").and_then(Value::as_str))
        .unwrap_or(REFERENCE_USER_AGENT)
        .to_owned()
}

/// Returned versus raised, and for errors the class and its ancestors.
fn check_outcome(entry: &Entry, outcome: &Result<(), Error>) -> Vec<String> {
    let expected = &entry.outcome;
    match (expected.status.as_str(), outcome) {
        ("returned", Ok(())) => Vec::new(),
        ("returned", Err(error)) => vec![format!(
            "outcome: expected a return, got {}",
            describe("error", error)
        )],
        ("raised", Ok(())) => {
            let class = expected
                .exception
                .as_ref()
                .map_or("an error", |e| e.class.as_str());
            vec![format!("outcome: expected {class}, got a return")]
        }
        ("raised", Err(error)) => {
            let Some(exception) = &expected.exception else {
                return vec!["outcome: raised without an exception".into()];
            };
            let mut differences = Vec::new();
            if error.class_name() != exception.class {
                differences.push(format!(
                    "outcome: expected {}, got {}",
                    exception.class,
                    describe("error", error)
                ));
            }
            if error.ancestors() != exception.mro.as_slice() {
                differences.push(format!(
                    "outcome: ancestors expected {:?}, got {:?}",
                    exception.mro,
                    error.ancestors()
                ));
            }
            differences
        }
        (other, _) => vec![format!("outcome: unknown status {other:?}")],
    }
}

/// The cached actor id and the last retry information, as the client reports them.
fn check_post_state(
    entry: &Entry,
    actor_id: Option<String>,
    actual: Option<RetryInfo>,
) -> Vec<String> {
    let mut differences = Vec::new();

    if actor_id != entry.post_state.actor_id {
        differences.push(format!(
            "post_state.actor_id: expected {:?}, got {actor_id:?}",
            entry.post_state.actor_id
        ));
    }

    let expected = match entry.post_state.last_retry_info.as_ref().map(retry_info) {
        Some(Ok(info)) => Some(info),
        Some(Err(reason)) => {
            differences.push(reason);
            return differences;
        }
        None => None,
    };
    if actual != expected {
        differences.push(format!(
            "post_state.last_retry_info: expected {expected:?}, got {actual:?}"
        ));
    }
    differences
}

/// Reads a recorded `RetryInfo` (tagged with `$type`).
fn retry_info(value: &Value) -> Result<RetryInfo, String> {
    let mut value = value.clone();
    if let Value::Object(object) = &mut value {
        object.remove("$type");
    }
    serde_json::from_value(value)
        .map_err(|err| format!("post_state.last_retry_info unreadable: {err}"))
}

/// An error's class and message, for a difference line.
fn describe(what: &str, error: &Error) -> String {
    format!("{what} {}: {error}", error.class_name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_every_kind() {
        let report = RequestsReport {
            passed: 2,
            failures: vec![CaseFailure {
                name: "x".into(),
                differences: vec!["d".into()],
            }],
            skipped: vec![Skipped {
                id: "y".into(),
                reason: "r".into(),
            }],
            deviations: Vec::new(),
        };

        assert_eq!(report.summary(), "2 passed, 1 failed, 1 skipped");
        assert_eq!(report.skipped[0].to_string(), "skipped: y: r");
    }

    #[test]
    fn text_that_is_not_an_array_is_a_load_error() {
        assert!(run_str("{}").is_err());
    }
}

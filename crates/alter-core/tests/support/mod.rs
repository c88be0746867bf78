//! Shared support of the state-machine tests: scripted entropy, a manual clock, an engine
//! factory, response builders, and a driver that runs any [`Operation`] against scripted
//! answers and records every step it takes.
//!
//! Nothing here does IO or reads the clock more than once: one `Instant` is taken as the
//! base of each [`Clock`], and every later time is an offset from it.
#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test file uses its own subset of the helpers"
)]

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alter_core::config::{ApiKey, BaseUrl};
use alter_core::encoding::canonical_path_and_query;
use alter_core::signing::{SigningInput, SigningKey, content_sha256};
use alter_core::{
    ClientConfig, Engine, Entropy, Error, HttpRequest, HttpResponse, Now, Operation, Step, Target,
    TransportError, TransportErrorKind,
};
use serde_json::Value;

/// A valid scoped key (its checksum holds).
pub const API_KEY: &str = "alter_rk_abcdefghijklmnopqrstuv_iwpykn";

/// The backend every test engine talks to.
pub const BASE_URL: &str = "https://backend.example";

/// 2026-01-01T00:00:00Z: the wall-clock reading at a clock's base.
pub const WALL_BASE_SECS: u64 = 1_767_225_600;

/// A grant id that is a UUID, so retrieve-mode audit rows are sent.
pub const GRANT: &str = "0b6f7c8d-9e0a-4b1c-8d2e-3f4a5b6c7d8e";

/// An approval id.
pub const APPROVAL: &str = "c0ffee00-1234-4567-89ab-cdef01234567";

/// An actor id as the backend would send it.
pub const ACTOR: &str = "6B7C8D9E-0F1A-4B2C-8D3E-4F5A6B7C8D9E";

/// [`ACTOR`] in the canonical form the engine caches and sends.
pub const ACTOR_CANONICAL: &str = "6b7c8d9e-0f1a-4b2c-8d3e-4f5a6b7c8d9e";

/// Entropy whose n-th draw (from 1) is the number n in the last eight bytes, so every nonce
/// is distinct and predictable: see [`nonce`].
#[derive(Debug, Default)]
pub struct CountingEntropy {
    draws: AtomicU64,
}

impl Entropy for CountingEntropy {
    fn random_16(&self) -> [u8; 16] {
        let n = self.draws.fetch_add(1, Ordering::SeqCst) + 1;
        let mut bytes = [0u8; 16];
        bytes[8..].copy_from_slice(&n.to_be_bytes());
        bytes
    }
}

/// The nonce the n-th draw of [`CountingEntropy`] gives (n from 1).
pub fn nonce(n: u64) -> String {
    format!("{n:032x}")
}

/// A manual clock: both readings move together, only when a test moves them.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base: Instant,
    offset: Duration,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// A clock at its base: the monotonic base is the one real clock read of a test, the
    /// wall reading is [`WALL_BASE_SECS`].
    #[expect(
        clippy::disallowed_methods,
        reason = "tests need one base instant; every other time is an offset from it"
    )]
    pub fn new() -> Self {
        Self {
            base: Instant::now(),
            offset: Duration::ZERO,
        }
    }

    /// The current reading of both clocks.
    pub fn now(&self) -> Now {
        Now::new(
            self.base + self.offset,
            UNIX_EPOCH + Duration::from_secs(WALL_BASE_SECS) + self.offset,
        )
    }

    /// The monotonic instant at the clock's base.
    pub fn base(&self) -> Instant {
        self.base
    }

    /// The monotonic instant `ms` milliseconds after the base.
    pub fn at_ms(&self, ms: u64) -> Instant {
        self.base + Duration::from_millis(ms)
    }

    /// How long after the base `at` is (zero for an earlier instant).
    pub fn since_base(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.base)
    }

    /// Time spent since the base.
    pub fn elapsed(&self) -> Duration {
        self.offset
    }

    /// Moves both clocks forward.
    pub fn advance(&mut self, by: Duration) {
        self.offset += by;
    }

    /// Moves both clocks forward by `ms` milliseconds.
    pub fn advance_ms(&mut self, ms: u64) {
        self.advance(Duration::from_millis(ms));
    }

    /// Moves both clocks to `at`, never backwards.
    pub fn jump_to(&mut self, at: Instant) {
        self.offset = self.offset.max(self.since_base(at));
    }

    /// The wall reading in Unix seconds.
    pub fn unix_seconds(&self) -> u64 {
        self.now().unix_seconds()
    }

    /// The wall reading.
    pub fn wall(&self) -> SystemTime {
        self.now().wall
    }
}

/// The default test configuration: [`API_KEY`], [`BASE_URL`], no caller.
pub fn config() -> ClientConfig {
    ClientConfig::new(
        ApiKey::parse(API_KEY).expect("the test key is well formed"),
        BaseUrl::parse(BASE_URL).expect("the test base URL is valid"),
    )
}

/// An engine with the default test configuration and fresh counting entropy.
pub fn engine() -> Arc<Engine> {
    engine_with(|_| {})
}

/// An engine whose default test configuration `adjust` changed first.
pub fn engine_with(adjust: impl FnOnce(&mut ClientConfig)) -> Arc<Engine> {
    let mut config = config();
    adjust(&mut config);
    Engine::new(config, Arc::new(CountingEntropy::default())).expect("a valid test config")
}

/// A response with this status, no headers and an empty body.
pub fn status(code: u16) -> HttpResponse {
    HttpResponse {
        status: code,
        headers: Vec::new(),
        body: Vec::new(),
    }
}

/// A JSON response with a `Content-Type: application/json` header.
pub fn json(code: u16, value: &Value) -> HttpResponse {
    HttpResponse {
        status: code,
        headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
        body: serde_json::to_vec(value).expect("a JSON value serializes"),
    }
}

/// A response with these body bytes and no headers.
pub fn raw(code: u16, body: &[u8]) -> HttpResponse {
    HttpResponse {
        status: code,
        headers: Vec::new(),
        body: body.to_vec(),
    }
}

/// How one sent request ends, as the frontend reports it.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// An HTTP answer.
    Response(HttpResponse),
    /// A failure below HTTP.
    Transport(TransportError),
}

/// The scripted answer to one `Step::Send`, arriving `latency` after it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub latency: Duration,
    pub outcome: Outcome,
}

impl From<HttpResponse> for Answer {
    fn from(response: HttpResponse) -> Self {
        Self {
            latency: Duration::ZERO,
            outcome: Outcome::Response(response),
        }
    }
}

impl Answer {
    /// An HTTP answer.
    pub fn respond(response: HttpResponse) -> Self {
        response.into()
    }

    /// A JSON answer.
    pub fn json(code: u16, value: &Value) -> Self {
        json(code, value).into()
    }

    /// An answer with this status and an empty body.
    pub fn status(code: u16) -> Self {
        status(code).into()
    }

    /// An answer with this status and these body bytes.
    pub fn raw(code: u16, body: &[u8]) -> Self {
        raw(code, body).into()
    }

    /// A transport failure of this kind.
    pub fn transport(kind: TransportErrorKind) -> Self {
        let message = match kind {
            TransportErrorKind::Connect => "connection refused",
            TransportErrorKind::Timeout => "operation timed out",
            _ => "connection reset by peer",
        };
        Self {
            latency: Duration::ZERO,
            outcome: Outcome::Transport(TransportError::new(kind, message)),
        }
    }

    /// A connect failure: the request never left.
    pub fn connect() -> Self {
        Self::transport(TransportErrorKind::Connect)
    }

    /// A timeout: the request may have reached the server.
    pub fn timeout() -> Self {
        Self::transport(TransportErrorKind::Timeout)
    }

    /// Any other IO failure after connecting.
    pub fn io() -> Self {
        Self::transport(TransportErrorKind::Io)
    }

    /// The same answer, arriving `ms` milliseconds after the request was sent.
    pub fn after_ms(mut self, ms: u64) -> Self {
        self.latency = Duration::from_millis(ms);
        self
    }

    /// The same answer with one more response header (no effect on transport failures).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let Outcome::Response(response) = &mut self.outcome {
            response.headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }
}

/// One step an operation took, with the clock reading at which it took it.
#[derive(Debug, Clone)]
pub enum Seen {
    /// `Step::Send`.
    Send { at: Instant, request: HttpRequest },
    /// `Step::Detach`.
    Detach { at: Instant, request: HttpRequest },
    /// `Step::WaitUntil(until)`, returned at `from`.
    Wait { from: Instant, until: Instant },
}

/// Everything an operation did in one run.
#[derive(Debug)]
pub struct Run<T> {
    /// Every step but the last, in order.
    pub steps: Vec<Seen>,
    /// The final result.
    pub result: Result<T, Error>,
    /// Scripted answers the operation never asked for.
    pub unused_answers: usize,
    /// The clock's base, for offsets.
    pub base: Instant,
    /// When the operation finished.
    pub finished_at: Instant,
}

impl<T> Run<T> {
    /// Every request sent and waited for, in order.
    pub fn sends(&self) -> Vec<&HttpRequest> {
        self.steps
            .iter()
            .filter_map(|step| match step {
                Seen::Send { request, .. } => Some(request),
                _ => None,
            })
            .collect()
    }

    /// Sent requests for this target.
    pub fn sends_to(&self, target: Target) -> Vec<&HttpRequest> {
        self.sends()
            .into_iter()
            .filter(|request| request.target == target)
            .collect()
    }

    /// The one request sent to a provider.
    pub fn provider_request(&self) -> &HttpRequest {
        let sent = self.sends_to(Target::Provider);
        assert_eq!(sent.len(), 1, "expected exactly one provider request");
        sent[0]
    }

    /// Every request handed to the background, in order.
    pub fn detaches(&self) -> Vec<&HttpRequest> {
        self.steps
            .iter()
            .filter_map(|step| match step {
                Seen::Detach { request, .. } => Some(request),
                _ => None,
            })
            .collect()
    }

    /// Milliseconds after the base at which each request was sent.
    pub fn send_offsets_ms(&self) -> Vec<u128> {
        self.steps
            .iter()
            .filter_map(|step| match step {
                Seen::Send { at, .. } => Some(at.saturating_duration_since(self.base).as_millis()),
                _ => None,
            })
            .collect()
    }

    /// Every wait as (returned at, wait until).
    pub fn waits(&self) -> Vec<(Instant, Instant)> {
        self.steps
            .iter()
            .filter_map(|step| match step {
                Seen::Wait { from, until } => Some((*from, *until)),
                _ => None,
            })
            .collect()
    }

    /// How long each wait lasts.
    pub fn wait_lengths(&self) -> Vec<Duration> {
        self.waits()
            .into_iter()
            .map(|(from, until)| until.saturating_duration_since(from))
            .collect()
    }

    /// The kind of each step: `send`, `provider`, `detach` or `wait`.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.steps
            .iter()
            .map(|step| match step {
                Seen::Send { request, .. } if request.target == Target::Provider => "provider",
                Seen::Send { .. } => "send",
                Seen::Detach { .. } => "detach",
                Seen::Wait { .. } => "wait",
            })
            .collect()
    }

    /// One line per step, to compare with a table: `send GET /sdk/scopes`,
    /// `provider GET https://…`, `detach POST /sdk/…`, `wait 2000ms`.
    pub fn trace(&self) -> Vec<String> {
        self.steps
            .iter()
            .map(|step| match step {
                Seen::Send { request, .. } if request.target == Target::Provider => {
                    format!("provider {} {}", request.method, request.url)
                }
                Seen::Send { request, .. } => {
                    format!("send {} {}", request.method, request.path_and_query())
                }
                Seen::Detach { request, .. } => {
                    format!("detach {} {}", request.method, request.path_and_query())
                }
                Seen::Wait { from, until } => {
                    format!(
                        "wait {}ms",
                        until.saturating_duration_since(*from).as_millis()
                    )
                }
            })
            .collect()
    }

    /// The value, or a panic naming the error.
    pub fn ok(self) -> T {
        let trace = self.trace();
        match self.result {
            Ok(value) => value,
            Err(error) => panic!(
                "expected success, got {} ({error}); steps: {trace:?}",
                error.class_name(),
            ),
        }
    }

    /// The error, or a panic.
    pub fn err(self) -> Error {
        let trace = self.trace();
        match self.result {
            Ok(_) => panic!("expected an error; steps: {trace:?}"),
            Err(error) => error,
        }
    }
}

/// Runs `op` to the end, answering its sends from `answers` in order.
///
/// Each answer arrives `latency` after its send; a wait moves the clock to its instant (never
/// backwards); a detach is acknowledged at once. Panics if the operation sends more requests
/// than there are answers, or takes more than 10 000 steps.
pub fn drive<O: Operation>(
    mut op: O,
    clock: &mut Clock,
    answers: impl IntoIterator<Item = Answer>,
) -> Run<O::Output> {
    drive_with(&mut op, clock, answers, None)
}

/// Like [`drive`], for an operation behind a reference (or a trait object), answering with
/// `fallback` once the scripted answers run out (or panicking when it is `None`).
pub fn drive_with<O: Operation + ?Sized>(
    op: &mut O,
    clock: &mut Clock,
    answers: impl IntoIterator<Item = Answer>,
    fallback: Option<Answer>,
) -> Run<O::Output> {
    let mut answers: VecDeque<Answer> = answers.into_iter().collect();
    let mut steps = Vec::new();
    let mut step = op.start(clock.now());

    for _ in 0..10_000 {
        step = match step {
            Step::Done(result) => {
                return Run {
                    steps,
                    result,
                    unused_answers: answers.len(),
                    base: clock.base(),
                    finished_at: clock.now().monotonic,
                };
            }
            Step::Send(request) => {
                steps.push(Seen::Send {
                    at: clock.now().monotonic,
                    request,
                });
                let answer = answers.pop_front().or_else(|| fallback.clone());
                let Some(answer) = answer else {
                    panic!(
                        "a request was sent with no scripted answer left; steps so far: {steps:?}"
                    )
                };
                clock.advance(answer.latency);
                match answer.outcome {
                    Outcome::Response(response) => op.on_response(response, clock.now()),
                    Outcome::Transport(error) => op.on_transport_error(error, clock.now()),
                }
            }
            Step::Detach(request) => {
                steps.push(Seen::Detach {
                    at: clock.now().monotonic,
                    request,
                });
                op.on_wake(clock.now())
            }
            Step::WaitUntil(until) => {
                steps.push(Seen::Wait {
                    from: clock.now().monotonic,
                    until,
                });
                clock.jump_to(until);
                op.on_wake(clock.now())
            }
        };
    }
    panic!("the operation did not finish within 10 000 steps")
}

/// An operation whose value is dropped, so that operations of different types fit in one
/// table.
#[derive(Debug)]
pub struct Unit<O>(pub O);

impl<O: Operation> Operation for Unit<O> {
    type Output = ();

    fn start(&mut self, now: Now) -> Step<()> {
        self.0.start(now).map(drop)
    }

    fn on_response(&mut self, response: HttpResponse, now: Now) -> Step<()> {
        self.0.on_response(response, now).map(drop)
    }

    fn on_transport_error(&mut self, error: TransportError, now: Now) -> Step<()> {
        self.0.on_transport_error(error, now).map(drop)
    }

    fn on_wake(&mut self, now: Now) -> Step<()> {
        self.0.on_wake(now).map(drop)
    }
}

/// Any operation, its value dropped.
pub type AnyOp = Box<dyn Operation<Output = ()>>;

/// Boxes `op` as an [`AnyOp`].
pub fn erase<O: Operation + 'static>(op: O) -> AnyOp {
    Box::new(Unit(op))
}

/// The value of the first header named `name` (case-insensitive); panics when absent.
pub fn header<'a>(request: &'a HttpRequest, name: &str) -> &'a str {
    request
        .header(name)
        .unwrap_or_else(|| panic!("no {name} header on {request:?}"))
}

/// The header names of a request, in order.
pub fn header_names(request: &HttpRequest) -> Vec<&str> {
    request
        .headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect()
}

/// The body of a request as JSON.
pub fn body_json(request: &HttpRequest) -> Value {
    serde_json::from_slice(&request.body).expect("the request body is JSON")
}

/// The body of a request as text.
pub fn body_text(request: &HttpRequest) -> &str {
    std::str::from_utf8(&request.body).expect("the request body is UTF-8")
}

/// Whether the request's HMAC headers verify when `signed_path` is taken as line 2 and
/// `constraints` as line 6, and its content hash matches its body.
pub fn verifies_as(request: &HttpRequest, signed_path: &str, constraints: &str) -> bool {
    let key = SigningKey::derive(API_KEY);
    let timestamp: u64 = header(request, "X-Alter-Timestamp")
        .parse()
        .expect("a decimal timestamp");
    let input = SigningInput {
        method: &request.method,
        path_with_query: signed_path,
        timestamp,
        nonce: header(request, "X-Alter-Nonce"),
        body: &request.body,
        scope_constraints: constraints,
    };

    header(request, "X-Alter-Content-SHA256") == content_sha256(&request.body)
        && key.verify(&input, header(request, "X-Alter-Signature"))
}

/// Whether the request verifies over the canonical form of its path (relative to
/// [`BASE_URL`]) and its own scope-constraint header.
pub fn verifies(request: &HttpRequest) -> bool {
    let path = request
        .url
        .strip_prefix(BASE_URL)
        .expect("a backend URL under the test base");
    let constraints = request.header("X-Alter-Scope-Constraints").unwrap_or("");
    verifies_as(request, &canonical_path_and_query(path), constraints)
}

/// The error of a constructor that must refuse its input.
pub fn rejection<T>(result: Result<T, Error>) -> Error {
    match result {
        Ok(_) => panic!("the invalid input was accepted"),
        Err(error) => error,
    }
}

/// Asserts that `error` is `AlterValueError` raised before any IO.
pub fn assert_invalid_input(error: &Error, case: &str) {
    assert_eq!(error.class_name(), "AlterValueError", "{case}: {error}");
    assert!(!error.may_have_reached_server(), "{case}");
}

/// An `ApprovalStatus` body for [`APPROVAL`].
pub fn approval_status(status: &str, has_result: bool, reason: Option<&str>) -> Value {
    serde_json::json!({
        "approval_id": APPROVAL,
        "status": status,
        "expires_at": "2026-01-01T00:10:00Z",
        "decided_at": null,
        "decision_reason": reason,
        "executed_at": null,
        "has_result": has_result,
    })
}

/// An `ApprovalResult` body: the provider answered 200 with `{"ok":true}`.
pub fn approval_result(approval_id: Option<&str>) -> Value {
    serde_json::json!({
        "approval_id": approval_id,
        "status_code": 200,
        "headers": {"content-type": "application/json"},
        "body_b64": "eyJvayI6dHJ1ZX0=",
        "body_truncated": false,
    })
}

/// A `ScopeCatalog` body.
pub fn scope_catalog() -> Value {
    serde_json::json!({
        "scope_version": 3,
        "resources": {"tokens": {"verbs": ["retrieve"]}},
        "action_verbs": ["read"],
        "deprecated": [],
    })
}

/// An `AgentInfo` body.
pub fn agent_info(id: &str, name: &str) -> Value {
    serde_json::json!({
        "id": id,
        "name": name,
        "display_name": null,
        "type": "agent",
        "status": "active",
        "scopes": {},
        "policy": {},
        "metadata": {},
        "version": 1,
        "created_at": "2026-01-01T00:00:00Z",
    })
}

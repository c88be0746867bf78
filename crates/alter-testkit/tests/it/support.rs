//! Test driver: the core's `Engine` signs and classifies, a minimal blocking HTTP/1.1
//! client carries the bytes over loopback.

use std::hash::{BuildHasher, RandomState};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use alter_core::config::{ApiKey, BaseUrl};
use alter_core::retry::RetryConfig;
use alter_core::signing::{SigningInput, SigningKey, hex_lower};
use alter_core::{
    ClientConfig, Engine, Entropy, HttpRequest, HttpResponse, Now, Operation, Step, Target,
    TransportError, TransportErrorKind,
};
use alter_testkit::FakeAlter;
use alter_types::CallerType;

/// Fresh nonces: a per-process random prefix and a counter.
#[derive(Debug)]
pub(crate) struct Nonces {
    prefix: u64,
    counter: AtomicU64,
}

impl Entropy for Nonces {
    fn random_16(&self) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.prefix.to_le_bytes());
        bytes[8..].copy_from_slice(&self.counter.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        bytes
    }
}

fn nonces() -> Arc<Nonces> {
    Arc::new(Nonces {
        prefix: RandomState::new().hash_one(7u8),
        counter: AtomicU64::new(0),
    })
}

/// A client of the fake: one engine, a clock that may be skewed.
pub(crate) struct Client {
    pub(crate) engine: Arc<Engine>,
    skew: i64,
}

/// Options of a [`Client`].
#[derive(Default)]
pub(crate) struct Options {
    pub(crate) caller: Option<(String, CallerType)>,
    pub(crate) retries: bool,
    pub(crate) skew_seconds: i64,
}

impl Client {
    /// A client with `key`, no retries.
    pub(crate) fn new(fake: &FakeAlter, key: &str) -> Self {
        Self::with(fake.base_url(), key, Options::default())
    }

    /// A client with options.
    pub(crate) fn with(base_url: &str, key: &str, options: Options) -> Self {
        let mut config = ClientConfig::new(
            ApiKey::parse(key).unwrap(),
            BaseUrl::parse(base_url).unwrap(),
        );
        if let Some((caller, caller_type)) = options.caller {
            config.caller = Some(caller);
            config.caller_type = caller_type;
        }
        config.retry = if options.retries {
            RetryConfig {
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(5),
                ..RetryConfig::default()
            }
        } else {
            RetryConfig {
                max_attempts: 1,
                ..RetryConfig::default()
            }
        };
        Self {
            engine: Engine::new(config, nonces()).unwrap(),
            skew: options.skew_seconds,
        }
    }

    /// A sibling whose requests carry these scope constraints.
    pub(crate) fn constrained(&self, scopes: &[&str]) -> Self {
        Self {
            engine: self.engine.with_constraints(scopes).unwrap(),
            skew: self.skew,
        }
    }

    /// The client's clock.
    pub(crate) fn now(&self) -> Now {
        let wall = if self.skew >= 0 {
            SystemTime::now() + Duration::from_secs(self.skew.unsigned_abs())
        } else {
            SystemTime::now() - Duration::from_secs(self.skew.unsigned_abs())
        };
        Now::new(Instant::now(), wall)
    }

    /// Drives an operation to its end, sending background requests in place.
    pub(crate) fn run<O: Operation>(&self, mut op: O) -> Result<O::Output, alter_core::Error> {
        let mut step = op.start(self.now());
        loop {
            step = match step {
                Step::Send(request) => match send(&request) {
                    Ok(response) => op.on_response(response, self.now()),
                    Err(error) => op.on_transport_error(error, self.now()),
                },
                Step::Detach(request) => {
                    let _ = send(&request);
                    op.on_wake(self.now())
                }
                Step::WaitUntil(at) => {
                    // The core's own schedule (retry backoff, poll interval); bounded by it.
                    std::thread::sleep(at.saturating_duration_since(Instant::now()));
                    op.on_wake(self.now())
                }
                Step::Done(outcome) => return outcome,
            };
        }
    }

    /// The first request an operation sends, signed now, without sending it.
    pub(crate) fn first_request<O: Operation>(&self, mut op: O) -> HttpRequest {
        match op.start(self.now()) {
            Step::Send(request) => request,
            _ => panic!("expected the operation to send a request first"),
        }
    }
}

/// A request signed by hand with the core's signer, for bodies the engine would refuse.
pub(crate) fn raw_signed(
    base_url: &str,
    key: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> HttpRequest {
    let timestamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let nonce =
        hex_lower(&nonces().random_16()) + &format!("{:x}", RandomState::new().hash_one(path));
    let signature = SigningKey::derive(key).sign(&SigningInput {
        method,
        path_with_query: &alter_core::encoding::canonical_path_and_query(path),
        timestamp,
        nonce: &nonce,
        body,
        scope_constraints: "",
    });
    let mut headers = vec![("x-api-key".to_owned(), key.to_owned())];
    headers.extend(signature.to_headers());
    if !body.is_empty() {
        headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
    }
    HttpRequest {
        target: Target::Backend,
        method: method.to_owned(),
        url: format!("{base_url}{path}"),
        headers,
        body: body.to_vec(),
        timeout: None,
    }
}

/// An unsigned request (control routes, the fake provider).
pub(crate) fn plain(method: &str, url: &str, body: &[u8]) -> HttpRequest {
    HttpRequest {
        target: Target::Provider,
        method: method.to_owned(),
        url: url.to_owned(),
        headers: if body.is_empty() {
            Vec::new()
        } else {
            vec![("Content-Type".to_owned(), "application/json".to_owned())]
        },
        body: body.to_vec(),
        timeout: None,
    }
}

/// Sends one request over a fresh loopback connection (`Connection: close`).
pub(crate) fn send(request: &HttpRequest) -> Result<HttpResponse, TransportError> {
    let rest = request
        .url
        .strip_prefix("http://")
        .expect("loopback http only");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };

    let mut stream = TcpStream::connect(authority)
        .map_err(|e| TransportError::new(TransportErrorKind::Connect, e.to_string()))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "{} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n",
        request.method
    );
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", request.body.len()));
    let io = |e: std::io::Error| TransportError::new(TransportErrorKind::Io, e.to_string());
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(&request.body).map_err(io)?;

    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(io)?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Result<HttpResponse, TransportError> {
    let broken = |why: &str| TransportError::new(TransportErrorKind::Io, why.to_owned());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| broken("connection closed without a complete response"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| broken("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let body = raw[split + 4..].to_vec();

    let declared = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse::<usize>().ok());
    if declared.is_some_and(|len| body.len() < len) {
        return Err(broken("body shorter than its Content-Length"));
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// JSON of a response body.
pub(crate) fn body_json(response: &HttpResponse) -> serde_json::Value {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&response.body)))
}

/// Calls a control route and returns its JSON answer.
pub(crate) fn control(
    fake: &FakeAlter,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    let response = send(&plain(
        method,
        &format!("{}/_testkit/{path}", fake.base_url()),
        body.as_bytes(),
    ))
    .unwrap();
    let json = if response.body.is_empty() {
        serde_json::Value::Null
    } else {
        body_json(&response)
    };
    (response.status, json)
}

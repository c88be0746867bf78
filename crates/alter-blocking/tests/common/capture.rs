//! The capture the secret-leak tests search, and the detector that searches it.
//!
//! [`capture`] installs, once per test binary, a global `tracing` subscriber that keeps
//! every event and every span field (at creation and on a later `record`) from every
//! target, level and thread, TRACE included, and a `log` logger that keeps every record
//! except `ureq`'s (see [`LogCapture`]). A global dispatcher is what makes the capture see
//! the threads a test does not own: the testkit's server threads, the blocking frontend's
//! upload thread, the tokio workers that run the async frontend's spawned tasks.
//!
//! [`Secrets`] is what must never show up; [`Shown`] collects the `{:?}` and `{}` texts of
//! every value a flow met; [`Capture::assert_no_leak`] searches both for every secret in
//! every form it could plausibly take (raw, hex, base64 at any alignment, a byte list, a
//! tail or middle slice).
//!
//! Only the `tests/secrets_in_logs.rs` binaries include this file: a global subscriber
//! would make every other test pay for a TRACE capture.

use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::fmt::{self, Write as _};
use std::io::{BufRead, BufReader, Read, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError};

use alter_core::signing::SigningKey;
use alter_testkit::{Listener, RecordedRequest};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// Shorter values (regions, status words) would match by chance; every secret is longer.
const MIN_SECRET_LEN: usize = 8;

/// The length of the tail and middle slices searched for a long secret: enough to be
/// unique, short enough to catch a key or token shown cut.
const SLICE_LEN: usize = 16;

/// Where a captured line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Origin {
    /// A `tracing` event.
    Event,
    /// A `tracing` span's fields, at creation or on `record`.
    Span,
    /// A `log` record.
    Log,
}

/// One captured event, span record or log record, as text.
struct Line {
    origin: Origin,
    level: String,
    target: String,
    text: String,
}

/// Everything the global subscriber and logger saw, and the secrets every test asked about.
pub(crate) struct Capture {
    lines: Mutex<Vec<Line>>,
    remembered: Mutex<Secrets>,
}

static CAPTURE: Capture = Capture {
    lines: Mutex::new(Vec::new()),
    remembered: Mutex::new(Secrets(Vec::new())),
};

static INSTALL: Once = Once::new();

/// Keeps `log` records; hands none of `ureq`'s on.
///
/// `ureq` logs through the `log` crate and at TRACE hex-dumps every byte it sends and
/// receives, API keys and provider credentials included. That is a documented limitation
/// (crate docs of `alter-blocking`, "Logging"): an application must keep the `ureq` and
/// `ureq_proto` targets at DEBUG or below. So this logger, like a correctly configured
/// application, takes no record from those targets, and no log-to-tracing bridge is
/// installed for them. Every other `log` user (reqwest, rustls, hyper's helpers) is kept.
struct LogCapture;

static LOG_CAPTURE: LogCapture = LogCapture;

/// Whether `target` belongs to `ureq` (whose TRACE output is excluded; see [`LogCapture`]).
pub(crate) fn is_ureq(target: &str) -> bool {
    target == "ureq" || target.starts_with("ureq::") || target.starts_with("ureq_proto")
}

impl log::Log for LogCapture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        !is_ureq(metadata.target())
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            CAPTURE.push(Line {
                origin: Origin::Log,
                level: record.level().to_string(),
                target: record.target().to_owned(),
                text: record.args().to_string(),
            });
        }
    }

    fn flush(&self) {}
}

/// The `tracing` layer: every span field and event field, as text.
struct CaptureLayer;

impl<S> Layer<S> for CaptureLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        let mut fields = Fields::named(attrs.metadata().name());
        attrs.record(&mut fields);
        CAPTURE.push(Line::traced(Origin::Span, attrs.metadata(), fields.0));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut fields = Fields::named(span.name());
        values.record(&mut fields);
        CAPTURE.push(Line::traced(Origin::Span, span.metadata(), fields.0));
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::named(event.metadata().name());
        event.record(&mut fields);
        CAPTURE.push(Line::traced(Origin::Event, event.metadata(), fields.0));
    }
}

/// Writes every field, whatever its type, the way a formatting subscriber would.
struct Fields(String);

impl Fields {
    fn named(name: &str) -> Self {
        Self(name.to_owned())
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        let text = String::from_utf8_lossy(value);
        let _ = write!(self.0, " {}={text} hex={}", field.name(), hex(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        let _ = write!(self.0, " {}={value} {value:?}", field.name());
        let mut source = value.source();
        while let Some(error) = source {
            let _ = write!(self.0, " caused by {error} {error:?}");
            source = error.source();
        }
    }
}

impl Line {
    fn traced(origin: Origin, metadata: &Metadata<'_>, text: String) -> Self {
        Self {
            origin,
            level: metadata.level().to_string(),
            target: metadata.target().to_owned(),
            text,
        }
    }
}

/// The binary's capture, installed on first use.
///
/// # Panics
///
/// When another global subscriber or logger was installed first, or when this build
/// compiled TRACE events out (the capture would then prove nothing).
pub(crate) fn capture() -> &'static Capture {
    INSTALL.call_once(|| {
        assert_eq!(
            tracing::level_filters::STATIC_MAX_LEVEL,
            tracing::level_filters::LevelFilter::TRACE,
            "tracing events below TRACE are compiled out"
        );
        assert_eq!(log::STATIC_MAX_LEVEL, log::LevelFilter::Trace);

        let subscriber = tracing_subscriber::registry().with(CaptureLayer);
        tracing::subscriber::set_global_default(subscriber)
            .expect("the capture is the first global subscriber");
        log::set_logger(&LOG_CAPTURE).expect("the capture is the first logger");
        log::set_max_level(log::LevelFilter::Trace);
    });
    &CAPTURE
}

/// What one search covered, for the test's output and its sanity assertions.
#[derive(Debug)]
pub(crate) struct Coverage {
    /// Captured lines by origin.
    pub(crate) by_origin: BTreeMap<Origin, usize>,
    /// Captured lines by the first segment of their target (`alter_core`, `hyper_util`, …).
    pub(crate) by_crate: BTreeMap<String, usize>,
    /// Formatted strings searched.
    pub(crate) shown: usize,
    /// Secrets searched for (all tests' so far).
    pub(crate) secrets: usize,
    /// Forms of those secrets searched for.
    pub(crate) forms: usize,
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: usize = self.by_origin.values().sum();
        write!(
            f,
            "searched {} formatted strings and {lines} captured lines {:?} from {:?} \
             for {} secrets in {} forms",
            self.shown, self.by_origin, self.by_crate, self.secrets, self.forms
        )
    }
}

impl Capture {
    fn push(&self, line: Line) {
        lock(&self.lines).push(line);
    }

    /// Where `secrets` show up in the capture or in `shown`: one description per finding,
    /// naming the secret's label, the form and the place, never the value.
    pub(crate) fn leaks_of(&self, secrets: &Secrets, shown: &Shown) -> Vec<String> {
        let detector = Detector::new(secrets);
        let mut leaks = Vec::new();
        for line in lock(&self.lines).iter() {
            for (label, form) in detector.scan(&line.text) {
                leaks.push(format!(
                    "{label} ({form}) in {:?} at {} from `{}`",
                    line.origin, line.level, line.target
                ));
            }
        }
        for (index, text) in shown.0.iter().enumerate() {
            for (label, form) in detector.scan(text) {
                leaks.push(format!("{label} ({form}) in formatted value #{index}"));
            }
        }
        leaks
    }

    /// Fails when any secret of this test, or of any test of the binary that ran before,
    /// shows up in the capture or in `shown`; returns what was searched.
    ///
    /// Earlier tests' secrets are searched again because a late line (a server thread, an
    /// upload) can land after their own search.
    pub(crate) fn assert_no_leak(&self, secrets: &Secrets, shown: &Shown) -> Coverage {
        let all = {
            let mut remembered = lock(&self.remembered);
            remembered.extend(secrets);
            remembered.clone()
        };

        let leaks = self.leaks_of(&all, shown);
        assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));

        let mut by_origin = BTreeMap::new();
        let mut by_crate = BTreeMap::new();
        for line in lock(&self.lines).iter() {
            *by_origin.entry(line.origin).or_insert(0) += 1;
            let krate = line.target.split("::").next().unwrap_or_default();
            *by_crate.entry(krate.to_owned()).or_insert(0) += 1;
        }
        Coverage {
            by_origin,
            by_crate,
            shown: shown.0.len(),
            secrets: all.0.len(),
            forms: all.0.iter().map(|secret| forms(&secret.value).len()).sum(),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One value that must never be shown, with a label that says what it is.
///
/// Deliberately not `Debug`: a failing test must not print the secret either.
#[derive(Clone)]
struct Secret {
    label: String,
    value: String,
}

/// The values a flow must never show.
#[derive(Clone, Default)]
pub(crate) struct Secrets(Vec<Secret>);

impl Secrets {
    /// A secret; values shorter than 8 bytes and repeats are skipped.
    pub(crate) fn add(&mut self, label: &str, value: &str) {
        if value.len() >= MIN_SECRET_LEN && !self.0.iter().any(|s| s.value == value) {
            self.0.push(Secret {
                label: label.to_owned(),
                value: value.to_owned(),
            });
        }
    }

    /// An Alter API key and the HMAC signing key the core derives from it.
    pub(crate) fn api_key(&mut self, label: &str, key: &str) {
        self.add(label, key);
        let signing = SigningKey::derive(key).expose_hex();
        self.add(&format!("{label}'s derived signing key"), &signing);
    }

    /// Every credential the fake recorded: signature and credential headers, credential
    /// query parameters, token fields of JSON bodies, and the pieces of an `Authorization`
    /// value (a bearer token; a SigV4 access key id and signature).
    pub(crate) fn harvest(&mut self, recorded: &[RecordedRequest]) {
        for request in recorded {
            let side = match request.listener {
                Listener::Backend => "backend",
                Listener::Provider => "provider",
            };
            for (name, value) in &request.headers {
                if is_credential_name(name) {
                    let label = format!("{side} header {name}");
                    self.add(&label, value);
                    for piece in credential_pieces(value) {
                        self.add(&format!("{label} (part)"), piece);
                    }
                }
            }

            let query = request.path.split_once('?').map_or("", |(_, query)| query);
            for pair in query.split('&') {
                if let Some((name, value)) = pair.split_once('=') {
                    if is_credential_name(name) {
                        self.add(&format!("{side} query parameter {name}"), value);
                    }
                }
            }

            if let Some(body) = request.json() {
                self.harvest_json(&format!("{side} body"), &body);
            }
        }
    }

    fn harvest_json(&mut self, label: &str, value: &Value) {
        match value {
            Value::Object(object) => {
                for (name, value) in object {
                    match value {
                        Value::String(text) if is_credential_name(name) => {
                            self.add(&format!("{label} field {name}"), text);
                        }
                        _ => self.harvest_json(label, value),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| self.harvest_json(label, item)),
            _ => {}
        }
    }

    /// Whether some secret's label contains `what`.
    pub(crate) fn has(&self, what: &str) -> bool {
        self.0.iter().any(|secret| secret.label.contains(what))
    }

    fn extend(&mut self, other: &Self) {
        for secret in &other.0 {
            self.add(&secret.label, &secret.value);
        }
    }
}

impl Secrets {
    /// Every credential header an [`Echo`] server received, labelled like [`Secrets::harvest`]
    /// labels the fake's (`backend header x-alter-signature`, ...).
    pub(crate) fn harvest_echo(&mut self, echo: &Echo) {
        for (name, value) in echo.seen() {
            if is_credential_name(&name) {
                let label = format!("{} header {}", echo.side, name.to_ascii_lowercase());
                self.add(&label, &value);
                for piece in credential_pieces(&value) {
                    self.add(&format!("{label} (part)"), piece);
                }
            }
        }
    }
}

/// What an [`Echo`] server answers, echoing every request header it received.
#[derive(Clone, Copy, Debug)]
pub(crate) enum EchoStyle {
    /// A backend 400 whose JSON message lists the headers.
    Message400,
    /// A backend 401 whose `detail` object holds the headers.
    Detail401,
    /// A backend 500 HTML page listing the headers.
    Html500,
    /// A provider 403 `insufficient_scope` challenge whose description repeats the
    /// `Authorization` value, a `location` carrying the bearer token, and a body listing
    /// the headers.
    Challenge403,
}

/// A hostile loopback server (raw TCP, one thread) that repeats what it was sent.
pub(crate) struct Echo {
    /// `http://127.0.0.1:<port>`.
    pub(crate) url: String,
    side: &'static str,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl Echo {
    /// Starts a server answering every request in `style`. Its thread ends with the test
    /// binary.
    pub(crate) fn start(style: EchoStyle) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("a bound address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = answer_echo(stream, style, &record);
            }
        });
        let side = match style {
            EchoStyle::Challenge403 => "provider",
            _ => "backend",
        };
        Self { url, side, seen }
    }

    /// Every request header received so far.
    pub(crate) fn seen(&self) -> Vec<(String, String)> {
        lock(&self.seen).clone()
    }
}

/// Reads one request, records its headers and answers it with them; closes the connection.
fn answer_echo(
    stream: TcpStream,
    style: EchoStyle,
    record: &Mutex<Vec<(String, String)>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut headers = Vec::new();
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    reader.read_exact(&mut vec![0; length])?;
    lock(record).extend(headers.iter().cloned());

    let listed: Vec<String> = headers.iter().map(|(n, v)| format!("{n}={v}")).collect();
    let listed = listed.join("; ");
    let authorization = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map_or("", |(_, value)| value.as_str());
    let bearer = authorization.split_once(' ').map_or("", |(_, token)| token);
    let (status, mut extra, body) = match style {
        EchoStyle::Message400 => {
            let message = format!("headers were {listed}");
            let body = serde_json::json!({"error": "bad_request", "message": message});
            ("400 Bad Request", vec![json_type()], body.to_string())
        }
        EchoStyle::Detail401 => {
            let echoed: serde_json::Map<String, Value> = headers
                .iter()
                .map(|(n, v)| (n.clone(), Value::String(v.clone())))
                .collect();
            let body = serde_json::json!({"detail": {"message": listed, "headers": echoed}});
            ("401 Unauthorized", vec![json_type()], body.to_string())
        }
        EchoStyle::Html500 => {
            let page = format!("<html><body><pre>{listed}</pre></body></html>");
            let html = ("Content-Type".to_owned(), "text/html".to_owned());
            ("500 Internal Server Error", vec![html], page)
        }
        EchoStyle::Challenge403 => {
            let challenge = format!(
                "Bearer error=\"insufficient_scope\", scope=\"files.read\", \
                 error_description=\"authorization={authorization}\""
            );
            let extra = vec![
                ("WWW-Authenticate".to_owned(), challenge),
                ("Location".to_owned(), format!("/next?api_key={bearer}")),
                ("Content-Type".to_owned(), "text/plain".to_owned()),
            ];
            ("403 Forbidden", extra, format!("you sent {listed}"))
        }
    };
    extra.push(("Content-Length".to_owned(), body.len().to_string()));
    extra.push(("Connection".to_owned(), "close".to_owned()));
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in extra {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    let mut stream = stream;
    stream.write_all(out.as_bytes())?;
    stream.flush()
}

fn json_type() -> (String, String) {
    ("Content-Type".to_owned(), "application/json".to_owned())
}

/// Whether a header, query parameter or JSON field of this name carries a credential.
fn is_credential_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let credential = [
        "authorization",
        "signature",
        "api-key",
        "api_key",
        "token",
        "secret",
        "credential",
        "account-id",
        "cookie",
    ];
    credential.iter().any(|word| name.contains(word))
}

/// The credential parts of an `Authorization`-like value: `Bearer <token>`, or SigV4's
/// `Credential=<access key id>/…` and `Signature=<hex>`.
fn credential_pieces(value: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    if let Some((_, token)) = value.split_once(' ') {
        pieces.push(token.trim());
    }
    for part in value.split([' ', ',']) {
        if let Some(credential) = part.strip_prefix("Credential=") {
            pieces.extend(credential.split('/').next());
        }
        if let Some(signature) = part.strip_prefix("Signature=") {
            pieces.push(signature);
        }
    }
    pieces
}

/// The `{:?}` and `{}` texts of every value a flow met.
#[derive(Default)]
pub(crate) struct Shown(Vec<String>);

impl Shown {
    /// `{:?}` and `{:#?}`.
    pub(crate) fn debug<T: fmt::Debug + ?Sized>(&mut self, value: &T) {
        self.0.push(format!("{value:?}"));
        self.0.push(format!("{value:#?}"));
    }

    /// `{}`, `{:?}` and `{:#?}`.
    pub(crate) fn both<T: fmt::Debug + fmt::Display + ?Sized>(&mut self, value: &T) {
        self.0.push(value.to_string());
        self.debug(value);
    }

    /// An error and its whole `source()` chain, each link with `{}` and `{:?}`.
    pub(crate) fn error(&mut self, error: &(dyn Error + 'static)) {
        let mut link = Some(error);
        while let Some(error) = link {
            self.both(error);
            link = error.source();
        }
    }

    /// A text the flow met as is (an audit row the backend stored, say).
    pub(crate) fn text(&mut self, text: String) {
        self.0.push(text);
    }

    /// A call's outcome: its value with `{:?}`, or its error chain.
    pub(crate) fn outcome<T: fmt::Debug, E: Error + 'static>(&mut self, result: &Result<T, E>) {
        match result {
            Ok(value) => self.debug(value),
            Err(error) => self.error(error),
        }
    }
}

/// Finds any form of any secret in a text, in one pass: the first 8 bytes of every form
/// index the forms, and every 8-byte window of the text is looked up.
struct Detector {
    by_prefix: HashMap<[u8; MIN_SECRET_LEN], Vec<Needle>>,
}

/// One form of one secret: its label, the form's name, and the bytes to find.
struct Needle {
    label: String,
    form: &'static str,
    bytes: Vec<u8>,
}

impl Detector {
    fn new(secrets: &Secrets) -> Self {
        let mut by_prefix: HashMap<_, Vec<_>> = HashMap::new();
        for secret in &secrets.0 {
            for (form, text) in forms(&secret.value) {
                let bytes = text.into_bytes();
                if let Some(prefix) = bytes.first_chunk::<MIN_SECRET_LEN>().copied() {
                    let label = secret.label.clone();
                    let needle = Needle { label, form, bytes };
                    by_prefix.entry(prefix).or_default().push(needle);
                }
            }
        }
        Self { by_prefix }
    }

    /// The (label, form) of every secret found in `text`: once per secret, in the first
    /// form found.
    fn scan(&self, text: &str) -> Vec<(String, &'static str)> {
        let bytes = text.as_bytes();
        let mut found: Vec<(String, &'static str)> = Vec::new();
        for start in 0..bytes.len() {
            let Some(window) = bytes[start..].first_chunk::<MIN_SECRET_LEN>() else {
                break;
            };
            let Some(candidates) = self.by_prefix.get(window) else {
                continue;
            };
            for needle in candidates {
                let known = found.iter().any(|(seen, _)| *seen == needle.label);
                if !known && bytes[start..].starts_with(&needle.bytes) {
                    found.push((needle.label.clone(), needle.form));
                }
            }
        }
        found
    }
}

/// Every text a secret could plausibly be shown as.
///
/// Raw; a tail and a middle slice of a long value (a key shown cut); hex of its bytes;
/// base64 and base64url of its bytes at each of the three alignments it can take inside a
/// longer encoded text (as in `Basic base64(user:secret)`); and for a hex value (signature,
/// signing key): upper case, the base64 of the bytes it spells, and their `{:?}` list.
fn forms(value: &str) -> Vec<(&'static str, String)> {
    let bytes = value.as_bytes();
    let mut forms = vec![
        ("raw", value.to_owned()),
        ("hex", hex(bytes)),
        ("upper-case hex", hex(bytes).to_ascii_uppercase()),
    ];
    if value.len() >= 2 * SLICE_LEN && value.is_ascii() {
        forms.push(("tail", value[value.len() - SLICE_LEN..].to_owned()));
        let middle = (value.len() - SLICE_LEN) / 2;
        forms.push(("middle", value[middle..middle + SLICE_LEN].to_owned()));
    }
    forms.extend(base64_forms("base64", bytes));
    if let Some(decoded) = unhex(value) {
        forms.push(("upper-case", value.to_ascii_uppercase()));
        forms.push(("byte list", format!("{decoded:?}")));
        forms.extend(base64_forms("base64 of the bytes", &decoded));
    }
    forms.retain(|(_, text)| text.len() >= MIN_SECRET_LEN);
    forms
}

/// The base64 and base64url text of `bytes` wherever they start inside a longer encoded
/// text: after 0, 1 or 2 other bytes. Characters that mix in a neighbour's bits are cut.
fn base64_forms(label: &'static str, bytes: &[u8]) -> Vec<(&'static str, String)> {
    let mut forms = Vec::new();
    for offset in 0..3 {
        let mut padded = vec![0u8; offset];
        padded.extend_from_slice(bytes);
        let leading = (offset * 8).div_ceil(6);
        let trailing = usize::from((padded.len() * 8) % 6 != 0);
        for encoded in [
            STANDARD_NO_PAD.encode(&padded),
            URL_SAFE_NO_PAD.encode(&padded),
        ] {
            let end = encoded.len().saturating_sub(trailing);
            if let Some(text) = encoded.get(leading..end) {
                forms.push((label, text.to_owned()));
            }
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// The bytes a hex text spells, when it is hex of at least 8 bytes.
fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() < 16 || text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    /// Distinct values, so that no other test of the binary searches for them.
    const IN_EVENT: &str = "planted_event_token_3vQ8xR2mT7pL4kN9";
    const IN_SPAN: &str = "planted_span_token_Zq8vR2mX7pL4kN9s";
    const RECORDED_LATE: &str = "planted_late_token_a81c5e0f9b7d2c46";
    const IN_LOG_AS_BASE64: &str = "planted_log_token_Hk2Jm5Np8Qr1St4V";
    const IN_UREQ_LOG: &str = "planted_ureq_token_Ww3Xx6Yy9Zz2Aa5B";
    const SIGNATURE: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn planted() -> Secrets {
        let mut secrets = Secrets::default();
        for (label, value) in [
            ("in an event", IN_EVENT),
            ("in a span", IN_SPAN),
            ("recorded late", RECORDED_LATE),
            ("in a log record", IN_LOG_AS_BASE64),
            ("in a ureq log record", IN_UREQ_LOG),
            ("a signature", SIGNATURE),
        ] {
            secrets.add(label, value);
        }
        secrets
    }

    fn found(leaks: &[String], label: &str) -> bool {
        leaks.iter().any(|leak| leak.starts_with(label))
    }

    #[test]
    fn the_detector_finds_a_planted_secret_wherever_it_is_captured() {
        let capture = capture();
        let secrets = planted();
        assert!(capture.leaks_of(&secrets, &Shown::default()).is_empty());

        // An event at TRACE on a thread the test does not run on.
        std::thread::spawn(|| tracing::trace!(target: "planted::worker", token = IN_EVENT))
            .join()
            .unwrap();
        let span = tracing::trace_span!(
            target: "planted::span",
            "call",
            header = %format!("Bearer {IN_SPAN}"),
            late = tracing::field::Empty,
        );
        span.record("late", RECORDED_LATE);
        log::trace!(target: "reqwest::planted", "{}", STANDARD.encode(IN_LOG_AS_BASE64));
        log::trace!(target: "ureq_proto::planted", "{IN_UREQ_LOG}");
        let mut shown = Shown::default();
        shown.debug(&[unhex(SIGNATURE).unwrap()]);
        shown.both(&format!("key=…{}", &SIGNATURE[40..]));

        let leaks = capture.leaks_of(&secrets, &shown);
        assert!(found(
            &leaks,
            "in an event (raw) in Event at TRACE from `planted::worker`"
        ));
        assert!(
            found(&leaks, "in a span (raw) in Span at TRACE"),
            "{leaks:?}"
        );
        assert!(found(&leaks, "recorded late (raw) in Span"), "{leaks:?}");
        assert!(
            found(&leaks, "in a log record (base64) in Log"),
            "{leaks:?}"
        );
        assert!(
            found(&leaks, "a signature (byte list) in formatted value"),
            "{leaks:?}"
        );
        assert!(
            found(&leaks, "a signature (tail) in formatted value"),
            "{leaks:?}"
        );
        assert!(
            !found(&leaks, "in a ureq log record"),
            "ureq's records are not captured (documented limitation)"
        );
    }

    #[test]
    fn every_encoding_of_a_secret_is_found_inside_other_text() {
        let secret = "alter_ak_abcdefghijklmnopqrstuv_x1y2z3";
        let mut secrets = Secrets::default();
        secrets.add("key", secret);
        let detector = Detector::new(&secrets);

        for prefix in ["", "u", "us", "use", "user:"] {
            let basic = STANDARD.encode(format!("{prefix}{secret}:rest"));
            let hits = detector.scan(&format!("Authorization: Basic {basic}"));
            assert!(hits.iter().any(|(_, form)| *form == "base64"), "{prefix:?}");
        }
        let cut = format!("shown as {}…", &secret[..30]);
        assert_eq!(detector.scan(&cut), [("key".to_owned(), "middle")]);
        assert!(!detector.scan(&hex(secret.as_bytes())).is_empty());
        assert!(
            detector
                .scan("alter_ak_abcde… (the public prefix)")
                .is_empty()
        );
    }

    #[test]
    fn harvest_takes_credential_headers_parts_and_token_fields() {
        let request = RecordedRequest {
            seq: 1,
            listener: Listener::Provider,
            method: "GET".into(),
            path: "/p?api_key=query-secret-1&page=2".into(),
            route: None,
            headers: vec![
                (
                    "authorization".into(),
                    "AWS4-HMAC-SHA256 Credential=AKIAABCDEFGHIJKLMNOP/20240101/us-east-1/s3/\
                     aws4_request, SignedHeaders=host, Signature=abcdef0123456789"
                        .into(),
                ),
                ("x-alter-nonce".into(), "not-a-credential".into()),
            ],
            body: br#"{"outer": {"session_token": "sess-secret-1"}, "n": "plain-text"}"#.to_vec(),
            status: Some(200),
            fault: None,
        };
        let mut secrets = Secrets::default();
        secrets.harvest(&[request]);

        let values: Vec<&str> = secrets.0.iter().map(|s| s.value.as_str()).collect();
        for expected in [
            "query-secret-1",
            "AKIAABCDEFGHIJKLMNOP",
            "abcdef0123456789",
            "sess-secret-1",
        ] {
            assert!(values.contains(&expected), "{expected}");
        }
        assert!(!values.contains(&"not-a-credential"));
        assert!(!values.contains(&"plain-text"));
    }
}

//! The two listeners: an accept loop per socket, HTTP/1.1 per connection (hyper), and one
//! wrapper around every request that records it, applies injected faults, and hands it to
//! the backend routes or the fake provider. Control requests (`/_testkit/…`) skip the
//! recorder and the faults.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt as _;

use crate::app::{AppState, RawBody, RawTarget, RoutePattern};
use crate::control;
use crate::faults::{self, FaultAction};
use crate::provider::{self, ProviderReply};
use crate::record::{Listener, RecordedRequest};

/// Largest request body the fake reads.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Serves `listener` until `shutdown` changes.
pub(crate) async fn serve(
    listener: TcpListener,
    which: Listener,
    state: AppState,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                // Answers go out at once: with Nagle's algorithm on, a client that sends
                // its request in two writes (ureq) waited milliseconds for some answers.
                let _ = stream.set_nodelay(true);
                let (state, router) = (state.clone(), router.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request| respond(state.clone(), which, router.clone(), request));
                    // A dropped or broken connection is the client's or a fault's doing; there
                    // is nobody to report it to.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
            _ = shutdown.changed() => break,
        }
    }
}

/// Returned to hyper to close the connection without answering.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for DropConnection {}

/// An answer before it is written.
struct Answer {
    route: Option<String>,
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

/// A request as the recorder keeps it.
struct Received {
    which: Listener,
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Bytes,
    /// The `seq` of the record made when the request arrived, for a delayed request: its
    /// answer completes that record instead of adding one.
    arrival: Option<u64>,
}

async fn respond(
    state: AppState,
    which: Listener,
    router: Router,
    request: Request<Incoming>,
) -> Result<Response<ReplyBody>, DropConnection> {
    let (parts, body) = request.into_parts();
    let body = http_body_util::Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|_| DropConnection)?
        .to_bytes();
    let raw_target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let target = match which {
        Listener::Backend => strip_prefix(raw_target, &state.mount_prefix),
        Listener::Provider => raw_target.to_owned(),
    };
    let mut received = Received {
        which,
        method: parts.method.as_str().to_owned(),
        target,
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        arrival: None,
    };

    // The control API must stay usable whatever a test armed: a `* /**` fault would
    // otherwise answer `DELETE /_testkit/faults` itself, and a test's own inspection calls
    // would show up in the very counts it inspects.
    if which == Listener::Backend && control::is_control_target(&received.target) {
        let answer = backend(router, &parts, &received).await;
        return Ok(build(&answer, ReplyBody::full(answer.body.clone())));
    }

    let fault = faults::take(
        &mut state.store.lock().faults,
        which,
        &received.method,
        &received.target,
    );
    let label = fault.as_ref().map(FaultAction::label);
    match &fault {
        Some(FaultAction::Drop) => {
            record(&state, received, None, None, label);
            return Err(DropConnection);
        }
        Some(FaultAction::Status {
            status,
            body,
            retry_after,
        }) => {
            let answer = fault_answer(*status, body.as_deref(), retry_after.as_deref());
            return Ok(finish(&state, received, answer, label));
        }
        Some(FaultAction::Malformed { status }) => {
            let mut answer = fault_answer(*status, Some("{\"detail\": {\"error\": \"trunc"), None);
            answer
                .headers
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            return Ok(finish(&state, received, answer, label));
        }
        Some(FaultAction::Delay { ms }) => {
            // Counted on arrival: a client that gives up during the delay closes the
            // connection, hyper then drops this future, and the request would go unseen.
            received.arrival = Some(record_arrival(&state, &received, label.clone()));
            tokio::time::sleep(Duration::from_millis(*ms)).await;
        }
        _ => {}
    }

    let answer = match which {
        Listener::Backend => backend(router, &parts, &received).await,
        Listener::Provider => {
            let headers = &parts.headers;
            match provider::handle(
                &state,
                &received.method,
                &received.target,
                headers,
                &received.body,
            ) {
                ProviderReply::Answer {
                    route,
                    status,
                    headers,
                    body,
                } => Answer {
                    route: (!route.is_empty()).then(|| route.to_owned()),
                    status,
                    headers: header_map(&headers),
                    body: Bytes::from(body),
                },
                ProviderReply::Drop => {
                    record(&state, received, Some("* /drop".to_owned()), None, None);
                    return Err(DropConnection);
                }
            }
        }
    };

    match fault {
        Some(FaultAction::ExecuteThenDrop) => {
            let route = answer.route;
            record(&state, received, route, None, label);
            Err(DropConnection)
        }
        Some(FaultAction::ExecuteThenStatus { status, body }) => {
            let mut replaced = fault_answer(status, body.as_deref(), None);
            replaced.route = answer.route;
            Ok(finish(&state, received, replaced, label))
        }
        Some(FaultAction::Truncate) => {
            let declared = answer.body.len() as u64;
            let half = answer.body.slice(..answer.body.len() / 2);
            let response = build(&answer, ReplyBody::truncated(half, declared));
            let route = answer.route;
            record(&state, received, route, Some(answer.status), label);
            Ok(response)
        }
        _ => Ok(finish(&state, received, answer, label)),
    }
}

/// Runs the backend routes on a request rebuilt from the buffered parts.
async fn backend(router: Router, parts: &http::request::Parts, received: &Received) -> Answer {
    let mut builder = Request::builder()
        .method(parts.method.clone())
        .uri(received.target.as_str());
    if let Some(headers) = builder.headers_mut() {
        headers.clone_from(&parts.headers);
    }
    let request = builder
        .extension(RawTarget(received.target.clone()))
        .extension(RawBody(received.body.clone()))
        .body(axum::body::Body::from(received.body.clone()));
    let Ok(request) = request else {
        return fault_answer(400, Some("{\"detail\": \"Bad Request\"}"), None);
    };

    let response = match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let route = response
        .extensions()
        .get::<RoutePattern>()
        .map(|pattern| pattern.0.clone());
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    Answer {
        route,
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    }
}

/// The answer of a `status` fault: the given body, or a JSON error naming the status.
fn fault_answer(status: u16, body: Option<&str>, retry_after: Option<&str>) -> Answer {
    let body = body.map_or_else(
        || {
            format!(
                "{{\"detail\":{{\"error\":\"injected_fault\",\"message\":\"fault injected by alter-testkit: status {status}\"}}}}"
            )
        },
        str::to_owned,
    );
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(RETRY_AFTER, value);
    }
    Answer {
        route: None,
        status,
        headers,
        body: Bytes::from(body),
    }
}

/// Records the exchange and builds the full response.
fn finish(
    state: &AppState,
    received: Received,
    answer: Answer,
    fault: Option<String>,
) -> Response<ReplyBody> {
    let response = build(&answer, ReplyBody::full(answer.body.clone()));
    record(state, received, answer.route, Some(answer.status), fault);
    response
}

fn build(answer: &Answer, body: ReplyBody) -> Response<ReplyBody> {
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in &answer.headers {
        // hyper writes the framing headers from the body itself.
        if name != CONTENT_LENGTH && name != TRANSFER_ENCODING {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    response
}

/// Records a request that is not answered yet (no route, no status); returns its `seq`.
fn record_arrival(state: &AppState, received: &Received, fault: Option<String>) -> u64 {
    let mut store = state.store.lock();
    let seq = store.requests.len() as u64 + 1;
    store.requests.push(RecordedRequest {
        seq,
        listener: received.which,
        method: received.method.clone(),
        path: received.target.clone(),
        route: None,
        headers: received.headers.clone(),
        body: received.body.to_vec(),
        status: None,
        fault,
    });
    seq
}

/// Records the exchange: completes the arrival record of a delayed request (unless it was
/// forgotten meanwhile), else adds a record.
fn record(
    state: &AppState,
    received: Received,
    route: Option<String>,
    status: Option<u16>,
    fault: Option<String>,
) {
    let mut store = state.store.lock();
    // `seq` restarts after `forget_requests`, so the request itself must match too.
    let arrived = received.arrival.and_then(|seq| {
        store.requests.iter_mut().find(|r| {
            r.seq == seq
                && r.status.is_none()
                && r.method == received.method
                && r.path == received.target
                && r.headers == received.headers
        })
    });
    if let Some(arrived) = arrived {
        arrived.route = route;
        arrived.status = status;
        return;
    }

    let seq = store.requests.len() as u64 + 1;
    store.requests.push(RecordedRequest {
        seq,
        listener: received.which,
        method: received.method,
        path: received.target,
        route,
        headers: received.headers,
        body: received.body.to_vec(),
        status,
        fault,
    });
}

fn header_map(pairs: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            map.append(name, value);
        }
    }
    map
}

/// `target` without the mount prefix; a target outside the prefix is kept as is (and then
/// matches no route).
fn strip_prefix(target: &str, prefix: &str) -> String {
    if prefix.is_empty() {
        return target.to_owned();
    }
    match target.strip_prefix(prefix) {
        Some(rest) if rest.starts_with('/') => rest.to_owned(),
        Some(rest) if rest.is_empty() || rest.starts_with('?') => format!("/{rest}"),
        _ => target.to_owned(),
    }
}

/// A response body: whole, or cut short after declaring its full length.
pub(crate) enum ReplyBody {
    /// The whole body.
    Full(Option<Bytes>),
    /// Half a body, then an error that makes hyper abort the connection.
    Truncated { data: Option<Bytes>, declared: u64 },
}

impl ReplyBody {
    fn full(bytes: Bytes) -> Self {
        Self::Full(Some(bytes))
    }

    fn truncated(data: Bytes, declared: u64) -> Self {
        Self::Truncated {
            data: Some(data),
            declared,
        }
    }
}

impl Body for ReplyBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            Self::Full(data) => Poll::Ready(
                data.take()
                    .filter(|d| !d.is_empty())
                    .map(|d| Ok(Frame::data(d))),
            ),
            Self::Truncated { data, .. } => match data.take() {
                Some(part) => Poll::Ready(Some(Ok(Frame::data(part)))),
                None => Poll::Ready(Some(Err(std::io::Error::other(
                    "body truncated on purpose",
                )))),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Self::Full(None))
            || matches!(self, Self::Full(Some(data)) if data.is_empty())
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
            Self::Truncated { declared, .. } => SizeHint::with_exact(*declared),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_prefix_is_removed_only_at_a_segment_boundary() {
        assert_eq!(strip_prefix("/sdk/x", ""), "/sdk/x");
        assert_eq!(strip_prefix("/api/sdk/x?a=1", "/api"), "/sdk/x?a=1");
        assert_eq!(strip_prefix("/api?x", "/api"), "/?x");
        assert_eq!(strip_prefix("/apix/sdk", "/api"), "/apix/sdk");
        assert_eq!(strip_prefix("/sdk/x", "/api"), "/sdk/x");
    }

    #[test]
    fn fault_answers_carry_retry_after_and_a_classifiable_body() {
        let answer = fault_answer(503, None, Some("2"));
        assert_eq!(answer.headers[RETRY_AFTER], "2");
        let error = alter_core::classify::classify_generic(503, &answer.body);
        assert_eq!(error.code(), Some("injected_fault"));
    }

    #[test]
    fn bodies_declare_their_length() {
        assert_eq!(
            ReplyBody::full(Bytes::from_static(b"abc"))
                .size_hint()
                .exact(),
            Some(3)
        );
        assert!(ReplyBody::full(Bytes::new()).is_end_stream());
        assert_eq!(
            ReplyBody::truncated(Bytes::from_static(b"a"), 10)
                .size_hint()
                .exact(),
            Some(10)
        );
    }
}

//! The HTTP stack: a trait so that callers can plug their own, and the default one, two
//! reqwest clients (rustls) that never follow redirects.

use std::time::Duration;

use alter_core::io::{MAX_RESPONSE_BODY, redact_urls, response_too_large};
use alter_core::{HttpRequest, HttpResponse, Target, TransportError, TransportErrorKind};

/// Sends the engine's requests. The default is [`ReqwestTransport`]; a custom one must
/// send requests exactly as given (no added credentials) and must not follow redirects.
#[async_trait::async_trait]
pub trait HttpTransport: Send + Sync + std::fmt::Debug {
    /// Sends one request and reads the whole answer.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// How many backend exchanges one client runs at once by default; further calls wait for
/// a free slot. Each exchange holds a connection (tens of KiB in the HTTP stack), so without
/// a cap, thousands of concurrent waits (`await_approval`) would hold thousands of sockets.
pub const DEFAULT_MAX_BACKEND_IN_FLIGHT: usize = 128;

/// Two reqwest clients: one for the backend, one for providers.
///
/// Each exchange is bounded by its request's timeout (the client's `timeout` option, or a
/// tighter cap the engine set), falling back to the timeout given to [`ReqwestTransport::new`]
/// only for requests that carry none. The bound covers the whole exchange, the wait for a
/// free backend slot included: a call never outlives its timeout because others held every
/// slot.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    backend: reqwest::Client,
    provider: reqwest::Client,
    backend_slots: std::sync::Arc<tokio::sync::Semaphore>,
    default_timeout: Duration,
}

impl ReqwestTransport {
    /// Clients whose exchanges time out after `timeout` unless the request says otherwise
    /// (requests built by a client always do: the client's own `timeout` option wins).
    ///
    /// # Errors
    ///
    /// `Sdk` when the TLS stack cannot be set up.
    pub fn new(timeout: Duration) -> alter_core::Result<Self> {
        Ok(Self {
            backend: client(timeout)?,
            provider: client(timeout)?,
            backend_slots: std::sync::Arc::new(tokio::sync::Semaphore::new(
                DEFAULT_MAX_BACKEND_IN_FLIGHT,
            )),
            default_timeout: timeout,
        })
    }

    /// At most `max` backend exchanges at once (at least 1). Defaults to
    /// [`DEFAULT_MAX_BACKEND_IN_FLIGHT`]. Provider calls are not capped. A call waiting for
    /// a slot spends its own timeout doing so, and ends with a timeout error if no slot
    /// frees in time.
    pub fn max_backend_in_flight(mut self, max: usize) -> Self {
        self.backend_slots = std::sync::Arc::new(tokio::sync::Semaphore::new(max.max(1)));
        self
    }

    /// One exchange without the overall bound: slot, send, headers, body.
    async fn exchange(
        &self,
        request: HttpRequest,
        limit: Duration,
    ) -> Result<HttpResponse, TransportError> {
        // The slot is held until the whole answer is read, and released on every path.
        let _slot = match request.target {
            Target::Backend => Some(self.backend_slots.acquire().await.map_err(|_| {
                TransportError::new(TransportErrorKind::Connect, "the client is shutting down")
            })?),
            Target::Provider => None,
        };
        let client = match request.target {
            Target::Backend => &self.backend,
            Target::Provider => &self.provider,
        };
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|error| {
            TransportError::new(
                TransportErrorKind::InvalidRequest,
                format!("bad method: {error}"),
            )
        })?;

        let mut builder = client
            .request(method, &request.url)
            .body(request.body)
            .timeout(limit);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }

        let mut response = builder.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if (body.len() + chunk.len()) as u64 > MAX_RESPONSE_BODY {
                return Err(response_too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

#[async_trait::async_trait]
impl HttpTransport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let limit = request.timeout.unwrap_or(self.default_timeout);

        // One bound around everything, so that the wait for a backend slot counts too.
        match tokio::time::timeout(limit, self.exchange(request, limit)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(TransportError::new(
                TransportErrorKind::Timeout,
                format!("no complete answer within {} ms", limit.as_millis()),
            )),
        }
    }
}

fn client(timeout: Duration) -> alter_core::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .use_rustls_tls()
        .build()
        .map_err(|error| alter_core::Error::sdk(format!("cannot build the HTTP client: {error}")))
}

/// Maps reqwest's error to the core's kinds: only a failed connection counts as
/// `Connect` (nothing was sent), and a request reqwest could not build is the caller's
/// `InvalidRequest` (nothing was sent, and it would fail again).
fn transport_error(error: reqwest::Error) -> TransportError {
    let kind = if error.is_builder() {
        TransportErrorKind::InvalidRequest
    } else if error.is_connect() {
        TransportErrorKind::Connect
    } else if error.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Io
    };
    TransportError::new(kind, describe(error))
}

/// reqwest's own text ("error sending request") and, when it adds something, the
/// innermost cause ("connection reset by peer"), with no URL query: reqwest's Display
/// quotes the URL, whose query may hold an injected credential.
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let outer = error.to_string();
    let mut innermost = None;
    let mut cause = std::error::Error::source(&error);
    while let Some(next) = cause {
        innermost = Some(next.to_string());
        cause = next.source();
    }
    let text = match innermost {
        Some(inner) if !outer.contains(&inner) => format!("{outer}: {inner}"),
        _ => outer,
    };
    redact_urls(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: String) -> HttpRequest {
        HttpRequest {
            target: Target::Provider,
            method: "GET".into(),
            url,
            headers: Vec::new(),
            body: Vec::new(),
            timeout: Some(Duration::from_secs(5)),
        }
    }

    #[tokio::test]
    async fn a_url_reqwest_cannot_carry_is_an_invalid_request() {
        let transport = ReqwestTransport::new(Duration::from_secs(5)).unwrap();
        let url = format!("http://127.0.0.1:9/{}", "a".repeat(70_000));

        let error = transport.send(request(url)).await.unwrap_err();

        assert_eq!(error.kind, TransportErrorKind::InvalidRequest);
        assert!(!error.message.contains("aaaa"), "the URL is not quoted");
    }

    #[tokio::test]
    async fn failures_name_their_innermost_cause_but_no_query() {
        // A port that was just released: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .unwrap()
            .port();
        let transport = ReqwestTransport::new(Duration::from_secs(5)).unwrap();
        let url = format!("http://127.0.0.1:{port}/x?api_key=k3y");

        let error = transport.send(request(url)).await.unwrap_err();

        assert_eq!(error.kind, TransportErrorKind::Connect);
        assert!(!error.message.contains("k3y"), "{}", error.message);
        let headline = "error sending request";
        assert!(error.message.starts_with(headline), "{}", error.message);
        assert!(
            error.message.len() > headline.len() + 2,
            "{}",
            error.message
        );
    }
}

//! The HTTP stack: a trait so that callers can plug their own, and the default one, two
//! reqwest clients (rustls) that never follow redirects.

use std::time::Duration;

use alter_core::io::{MAX_RESPONSE_BODY, response_too_large};
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
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    backend: reqwest::Client,
    provider: reqwest::Client,
    backend_slots: std::sync::Arc<tokio::sync::Semaphore>,
}

impl ReqwestTransport {
    /// Clients whose exchanges time out after `timeout`.
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
        })
    }

    /// At most `max` backend exchanges at once (at least 1). Defaults to
    /// [`DEFAULT_MAX_BACKEND_IN_FLIGHT`]. Provider calls are not capped.
    pub fn max_backend_in_flight(mut self, max: usize) -> Self {
        self.backend_slots = std::sync::Arc::new(tokio::sync::Semaphore::new(max.max(1)));
        self
    }
}

#[async_trait::async_trait]
impl HttpTransport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
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
            TransportError::new(TransportErrorKind::Connect, format!("bad method: {error}"))
        })?;

        let mut builder = client.request(method, &request.url).body(request.body);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(limit) = request.timeout {
            builder = builder.timeout(limit);
        }

        let response = builder.send().await.map_err(transport_error)?;
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
        let mut response = response;
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

fn client(timeout: Duration) -> alter_core::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .use_rustls_tls()
        .build()
        .map_err(|error| alter_core::Error::sdk(format!("cannot build the HTTP client: {error}")))
}

/// Maps reqwest's error to the core's kinds: only a failed connection counts as
/// `Connect` (nothing was sent).
fn transport_error(error: reqwest::Error) -> TransportError {
    // A request reqwest could not build never left this machine either.
    let kind = if error.is_connect() || error.is_builder() {
        TransportErrorKind::Connect
    } else if error.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Io
    };
    // reqwest's Display includes the URL, whose query may hold an injected credential.
    TransportError::new(kind, error.without_url().to_string())
}

//! The two ureq agents: one for the backend, one for providers. Neither follows redirects,
//! and neither treats an HTTP error status as a transport error.

use std::io::Read;
use std::time::Duration;

use alter_core::{HttpRequest, HttpResponse, Target, TransportError, TransportErrorKind};
use ureq::http;

use alter_core::io::{MAX_RESPONSE_BODY as MAX_BODY, response_too_large as too_large};

/// The HTTP stack of one client (shared by its constrained siblings and impersonations).
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    backend: ureq::Agent,
    provider: ureq::Agent,
}

impl Transport {
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            backend: agent(timeout),
            provider: agent(timeout),
        }
    }

    /// Sends the request on the client its target calls for.
    pub(crate) fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let agent = match request.target {
            Target::Backend => &self.backend,
            Target::Provider => &self.provider,
        };
        let timeout = request.timeout;
        let request = to_http(request)?;
        let request = match timeout {
            Some(limit) => agent
                .configure_request(request)
                .timeout_global(Some(limit))
                .build(),
            None => request,
        };

        let response = agent.run(request).map_err(transport_error)?;
        from_http(response)
    }
}

/// Idle connections an agent keeps for reuse. ureq keeps 3 a host by default, so a program
/// with more threads calling at once closed and reopened connections on most calls.
const IDLE_CONNECTIONS: usize = 64;

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_idle_connections(IDLE_CONNECTIONS)
        .max_idle_connections_per_host(IDLE_CONNECTIONS)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

fn to_http(request: HttpRequest) -> Result<http::Request<Vec<u8>>, TransportError> {
    let mut builder = http::Request::builder()
        .method(request.method.as_str())
        .uri(&request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    builder.body(request.body).map_err(|error| {
        // The engine validates headers and URLs before this point; reaching here means a
        // value the http crate refuses, and the request never left.
        TransportError::new(
            TransportErrorKind::Connect,
            format!("request not sendable: {error}"),
        )
    })
}

fn from_http(response: http::Response<ureq::Body>) -> Result<HttpResponse, TransportError> {
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
    response
        .into_body()
        .into_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .map_err(|error| {
            let kind = if error.kind() == std::io::ErrorKind::TimedOut {
                TransportErrorKind::Timeout
            } else {
                TransportErrorKind::Io
            };
            TransportError::new(kind, error.to_string())
        })?;
    if body.len() as u64 > MAX_BODY {
        return Err(too_large());
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// Maps ureq's error to the core's kinds: only failures before a connection existed count
/// as `Connect` (nothing was sent).
fn transport_error(error: ureq::Error) -> TransportError {
    let kind = match &error {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => TransportErrorKind::Connect,
        ureq::Error::Timeout(ureq::Timeout::Resolve | ureq::Timeout::Connect) => {
            TransportErrorKind::Connect
        }
        ureq::Error::Timeout(_) => TransportErrorKind::Timeout,
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            TransportErrorKind::Connect
        }
        _ => TransportErrorKind::Io,
    };
    TransportError::new(kind, error.to_string())
}

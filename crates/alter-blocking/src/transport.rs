//! The two ureq agents: one for the backend, one for providers. Neither follows redirects,
//! and neither treats an HTTP error status as a transport error.

use std::io::Read;
use std::time::Duration;

use alter_core::{HttpRequest, HttpResponse, Target, TransportError, TransportErrorKind};
use ureq::http;

use alter_core::io::{MAX_RESPONSE_BODY as MAX_BODY, redact_urls, response_too_large as too_large};

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
        // value the http crate refuses (a URL over 64 KiB, say): the request never left,
        // and would be refused again.
        TransportError::new(
            TransportErrorKind::InvalidRequest,
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
        .map_err(body_error)?;
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
/// as `Connect` (nothing was sent), and a request ureq refused to build is the caller's
/// `InvalidRequest`.
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
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            TransportErrorKind::Timeout
        }
        ureq::Error::Http(_) | ureq::Error::BadUri(_) | ureq::Error::RequireHttpsOnly(_) => {
            TransportErrorKind::InvalidRequest
        }
        // ureq raises it while reading an answer: the request was sent.
        ureq::Error::BodyExceedsLimit(_) => TransportErrorKind::ResponseTooLarge,
        _ => TransportErrorKind::Io,
    };
    TransportError::new(kind, redact_urls(&error.to_string()))
}

/// Maps a failure while reading the body: the request was sent and answered, so nothing
/// here is a connect failure. ureq hands its own errors (its global timeout among them)
/// wrapped in an IO error; unwrapped, a timeout reads as one, as in the async frontend.
fn body_error(error: std::io::Error) -> TransportError {
    let error = ureq::Error::from(error);
    let kind = match &error {
        ureq::Error::Timeout(_) => TransportErrorKind::Timeout,
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            TransportErrorKind::Timeout
        }
        ureq::Error::BodyExceedsLimit(_) => TransportErrorKind::ResponseTooLarge,
        _ => TransportErrorKind::Io,
    };
    TransportError::new(kind, redact_urls(&error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: String) -> HttpRequest {
        HttpRequest {
            target: Target::Backend,
            method: "GET".into(),
            url,
            headers: Vec::new(),
            body: Vec::new(),
            timeout: None,
        }
    }

    #[test]
    fn a_url_the_http_crate_refuses_is_an_invalid_request() {
        let url = format!("http://127.0.0.1:9/{}", "a".repeat(70_000));

        let error = to_http(request(url)).unwrap_err();

        assert_eq!(error.kind, TransportErrorKind::InvalidRequest);
        assert!(!error.may_have_reached_server());
    }

    #[test]
    fn ureq_build_failures_are_invalid_requests_without_the_query() {
        let error = transport_error(ureq::Error::BadUri("http://h/x?api_key=k3y".into()));

        assert_eq!(error.kind, TransportErrorKind::InvalidRequest);
        assert!(!error.message.contains("k3y"), "{}", error.message);
    }

    #[test]
    fn a_timeout_while_reading_the_body_is_a_timeout() {
        let wrapped = ureq::Error::Timeout(ureq::Timeout::Global).into_io();
        let timed_out = std::io::Error::from(std::io::ErrorKind::TimedOut);
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);

        assert_eq!(body_error(wrapped).kind, TransportErrorKind::Timeout);
        assert_eq!(body_error(timed_out).kind, TransportErrorKind::Timeout);
        assert_eq!(body_error(reset).kind, TransportErrorKind::Io);
    }

    #[test]
    fn a_body_over_ureqs_limit_reached_the_server_and_is_too_large() {
        let over = ureq::Error::BodyExceedsLimit(64);

        let error = transport_error(over);

        assert_eq!(error.kind, TransportErrorKind::ResponseTooLarge);
        assert!(error.may_have_reached_server());
        let while_reading = body_error(ureq::Error::BodyExceedsLimit(64).into_io());
        assert_eq!(while_reading.kind, TransportErrorKind::ResponseTooLarge);
    }
}

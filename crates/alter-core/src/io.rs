//! What crosses the IO boundary: requests the engine wants sent, responses and transport
//! failures the frontend reports back, and the clock and entropy readings it feeds in.

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Which of the two HTTP clients must carry a request.
///
/// The two are kept apart so that the backend API key can never reach a provider: the
/// provider client has no default headers at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The Alter backend: requests carry `x-api-key` and the HMAC headers.
    Backend,
    /// A third-party provider API: requests carry only the injected credential.
    Provider,
}

/// A fully built HTTP request, ready for the wire.
///
/// The frontend sends it as is: method, absolute URL, headers in order, body bytes. It must
/// not add authentication headers of its own and must not follow redirects.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Which client carries the request.
    pub target: Target,
    /// Upper-case HTTP method.
    pub method: String,
    /// Absolute URL, query included, already percent-encoded.
    pub url: String,
    /// Headers in the order they should be written. Names keep their case.
    pub headers: Vec<(String, String)>,
    /// Body bytes; empty means no body.
    pub body: Vec<u8>,
    /// How long the whole exchange may take, from waiting for a connection to the last
    /// body byte. The engine sets it on every request it builds: the client's timeout, or
    /// a tighter cap for calls the protocol bounds itself (the scope-mismatch report's 2 s,
    /// an approval poll near its deadline). `None` leaves the transport's own default.
    pub timeout: Option<Duration>,
}

impl HttpRequest {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The path and query of the URL (everything from the first `/` after the authority).
    pub fn path_and_query(&self) -> &str {
        path_and_query(&self.url)
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only the header names: values carry keys, signatures and provider credentials.
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("HttpRequest")
            .field("target", &self.target)
            .field("method", &self.method)
            .field("path", &strip_query(self.path_and_query()))
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// An HTTP response as the frontend received it.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers in received order; names as received.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// How a request failed below HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection was made: the request never left this machine.
    Connect,
    /// The request timed out; it may have reached the server.
    Timeout,
    /// Any other failure after the connection was made; it may have reached the server.
    Io,
    /// The server answered, but the body was larger than [`MAX_RESPONSE_BODY`] and was not
    /// read. The request reached the server; asking again would fetch the same oversized
    /// answer, so it is never retried.
    ResponseTooLarge,
    /// The HTTP stack refused to build the request (a URL or header it cannot encode, such
    /// as a URL over 64 KiB). Nothing was sent, and sending it again cannot help: it is a
    /// caller mistake, never retried.
    InvalidRequest,
}

/// A failure below HTTP, reported by the frontend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportError {
    /// What kind of failure.
    pub kind: TransportErrorKind,
    /// A short description without secrets (the frontend's error, stripped of URLs' queries).
    pub message: String,
}

impl TransportError {
    /// A failure of the given kind.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Whether the request may have reached the server (and so may have been executed).
    pub fn may_have_reached_server(&self) -> bool {
        !matches!(
            self.kind,
            TransportErrorKind::Connect | TransportErrorKind::InvalidRequest
        )
    }
}

/// The largest response body a frontend reads into memory (64 MiB); a larger one fails the
/// call rather than being cut silently.
pub const MAX_RESPONSE_BODY: u64 = 64 * 1024 * 1024;

/// The transport error of a response body over [`MAX_RESPONSE_BODY`]: kind
/// [`TransportErrorKind::ResponseTooLarge`], which the retry policy never retries.
pub fn response_too_large() -> TransportError {
    TransportError::new(
        TransportErrorKind::ResponseTooLarge,
        format!(
            "response body larger than {} MiB",
            MAX_RESPONSE_BODY / (1024 * 1024)
        ),
    )
}

/// `text` with every URL in it stripped of what can hold a credential: the query and
/// fragment are cut (an injected `?api_key=`), user info becomes `***@`. An HTTP stack's
/// error message may quote the URL, and a mistyped base URL is quoted in its own error.
///
/// ```
/// use alter_core::io::redact_urls;
///
/// let shown = redact_urls("error for https://h.example/a?api_key=s3cret: reset");
/// assert_eq!(shown, "error for https://h.example/a: reset");
/// assert_eq!(redact_urls("https://bob:s3cret@h.example/a"), "https://***@h.example/a");
/// ```
pub fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme) = rest.find("://") {
        let (before, url) = rest.split_at(scheme + "://".len());
        out.push_str(before);
        // The URL runs to the next character that cannot be part of one as quoted in a
        // message; its query or fragment, if any, is dropped.
        let end = url
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>'))
            .unwrap_or(url.len());
        let (url, after) = url.split_at(end);
        // Punctuation right after the URL belongs to the message.
        let (url, punctuation) = url.split_at(url.trim_end_matches([':', ',', ';', '.']).len());
        let kept = url.find(['?', '#']).map_or(url, |cut| &url[..cut]);
        let authority_end = kept.find('/').unwrap_or(kept.len());
        match kept[..authority_end].rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&kept[at..]);
            }
            None => out.push_str(kept),
        }
        out.push_str(punctuation);
        rest = after;
    }
    out.push_str(rest);
    out
}

/// One reading of the two clocks the protocol needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Monotonic time, for deadlines, sleeps and latency.
    pub monotonic: Instant,
    /// Wall-clock time, for the signed timestamp and AWS dates.
    pub wall: SystemTime,
}

impl Now {
    /// A reading from both clocks.
    pub fn new(monotonic: Instant, wall: SystemTime) -> Self {
        Self { monotonic, wall }
    }

    /// Whole seconds since the Unix epoch (0 for a wall clock set before 1970).
    pub fn unix_seconds(&self) -> u64 {
        self.wall
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// The source of the protocol's randomness: request nonces and correlation ids.
///
/// Frontends supply an operating-system CSPRNG; tests and the conformance runner supply a
/// scripted sequence.
pub trait Entropy: Send + Sync + fmt::Debug {
    /// Sixteen fresh random bytes.
    fn random_16(&self) -> [u8; 16];
}

pub(crate) fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

fn path_and_query(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[after_scheme + i..],
        None => "/",
    }
}

fn strip_query(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_request_shows_no_header_values_and_no_query() {
        let request = HttpRequest {
            target: Target::Backend,
            method: "GET".into(),
            url: "https://h.example/sdk/agents?name=secret-name".into(),
            headers: vec![("x-api-key".into(), "alter_key_topsecret".into())],
            body: b"{\"user_token\":\"jwt\"}".to_vec(),
            timeout: None,
        };

        let shown = format!("{request:?}");

        assert!(shown.contains("x-api-key"));
        assert!(!shown.contains("topsecret"));
        assert!(!shown.contains("secret-name"));
        assert!(!shown.contains("jwt"));
    }

    #[test]
    fn url_queries_and_user_info_are_cut_from_messages_and_the_rest_is_kept() {
        let cases = [
            ("no url here", "no url here"),
            (
                "error sending request for url (http://h:1/x?api_key=k1)",
                "error sending request for url (http://h:1/x)",
            ),
            (
                "a https://h/p?token=k2#frag, then http://g/q#k3.",
                "a https://h/p, then http://g/q.",
            ),
            ("bad: https://h/?k=k4: reset", "bad: https://h/: reset"),
            (
                "(https://bob:k5@h:1/p?x=1) and https://k6@g",
                "(https://***@h:1/p) and https://***@g",
            ),
            ("https://h/p@q", "https://h/p@q"),
        ];
        for (text, expected) in cases {
            assert_eq!(redact_urls(text), expected);
        }
    }

    #[test]
    fn only_connect_failures_and_refused_requests_never_left() {
        let reached = |kind| TransportError::new(kind, "x").may_have_reached_server();

        assert!(!reached(TransportErrorKind::Connect));
        assert!(!reached(TransportErrorKind::InvalidRequest));
        assert!(reached(TransportErrorKind::Timeout));
        assert!(reached(TransportErrorKind::Io));
    }

    #[test]
    fn path_and_query_of_absolute_urls() {
        assert_eq!(path_and_query("https://h/a/b?c=d"), "/a/b?c=d");
        assert_eq!(path_and_query("https://h"), "/");
    }
}

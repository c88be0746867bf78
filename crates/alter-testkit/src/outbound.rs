//! The provider calls the backend makes itself in proxy mode: credential injection with the
//! core's own planners, then a plain HTTP/1.1 request over loopback. Redirects are never
//! followed, and a provider body over the SDK's own limit
//! ([`MAX_RESPONSE_BODY`], 64 MiB) is refused with a 502 rather than read.

use std::time::{Duration, SystemTime};

use alter_core::io::MAX_RESPONSE_BODY;
use alter_core::retrieve::ProviderBody;
use alter_core::retrieve::injection::{
    Credential, SigV4Call, is_sigv4, plan_injection, plan_sigv4_injection,
};
use alter_core::retrieve::query::{append_query, with_injected_params};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use indexmap::IndexMap;

use crate::errors::Failure;
use crate::state::approvals::ProxyCall;

/// The User-Agent of provider calls the fake makes.
pub(crate) const USER_AGENT: &str = concat!("alter-testkit/", env!("CARGO_PKG_VERSION"));

/// How long one provider call may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(30);

/// The wire code of a proxied call whose provider could not be reached or answered badly.
const PROVIDER_UNREACHABLE: &str = "provider_unreachable";

/// The wire code of a proxied call whose provider body exceeded the limit.
const PROVIDER_RESPONSE_TOO_LARGE: &str = "provider_response_too_large";

/// Why a provider call brought back no answer to relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SendError {
    /// The wire code the proxy answers with.
    pub(crate) code: &'static str,
    /// What happened, in words; it goes into the audit row and the error body.
    pub(crate) message: String,
}

impl SendError {
    /// The provider could not be reached, or its answer could not be read.
    pub(crate) fn unreachable(message: impl Into<String>) -> Self {
        Self {
            code: PROVIDER_UNREACHABLE,
            message: message.into(),
        }
    }

    fn too_large(limit: usize) -> Self {
        Self {
            code: PROVIDER_RESPONSE_TOO_LARGE,
            message: format!("the provider's response body is larger than {limit} bytes"),
        }
    }

    /// The proxy's answer: 502 with the code and message in the usual error body.
    pub(crate) fn into_failure(self) -> Failure {
        Failure::new(502, self.code, self.message)
    }
}

/// A provider request ready to send.
#[derive(Clone)]
pub(crate) struct Outgoing {
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// Names of the headers that carry the credential (left out of the audit row).
    pub(crate) credential_headers: Vec<String>,
}

/// What the provider answered.
#[derive(Clone, Debug)]
pub(crate) struct Captured {
    pub(crate) status: u16,
    /// Lower-case names; repeated headers joined with `, `.
    pub(crate) headers: IndexMap<String, String>,
    pub(crate) body: Vec<u8>,
}

/// The HTTP client of proxy mode.
pub(crate) struct Outbound {
    client: Client<HttpConnector, Full<Bytes>>,
    /// The largest provider body read into memory.
    body_limit: usize,
}

impl Outbound {
    /// A client with a connection pool; must be created inside a Tokio runtime.
    pub(crate) fn new() -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            body_limit: usize::try_from(MAX_RESPONSE_BODY).unwrap_or(usize::MAX),
        }
    }

    /// Sends one request and reads the whole answer, up to the body limit.
    ///
    /// # Errors
    ///
    /// [`SendError`]: `provider_response_too_large` for a body over the limit,
    /// `provider_unreachable` for any other failure.
    pub(crate) async fn send(&self, outgoing: &Outgoing) -> Result<Captured, SendError> {
        let mut builder = http::Request::builder()
            .method(outgoing.method.as_str())
            .uri(outgoing.url.as_str());
        for (name, value) in &outgoing.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder
            .body(Full::new(Bytes::from(outgoing.body.clone())))
            .map_err(|error| {
                SendError::unreachable(format!("invalid provider request: {error}"))
            })?;

        let exchange = async {
            let response = self.client.request(request).await.map_err(|error| {
                SendError::unreachable(format!("provider call failed: {error}"))
            })?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, self.body_limit)
                .collect()
                .await
                .map_err(|error| {
                    if error.is::<LengthLimitError>() {
                        SendError::too_large(self.body_limit)
                    } else {
                        SendError::unreachable(format!("provider body failed: {error}"))
                    }
                })?
                .to_bytes();
            Ok::<_, SendError>((parts, body))
        };
        let (parts, body) = tokio::time::timeout(PROVIDER_TIMEOUT, exchange)
            .await
            .map_err(|_| SendError::unreachable("provider call timed out"))??;

        let mut headers: IndexMap<String, String> = IndexMap::new();
        for (name, value) in &parts.headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            headers
                .entry(name.as_str().to_owned())
                .and_modify(|joined| {
                    joined.push_str(", ");
                    joined.push_str(&value);
                })
                .or_insert(value);
        }
        Ok(Captured {
            status: parts.status.as_u16(),
            headers,
            body: body.to_vec(),
        })
    }
}

/// Refuses destinations other than plain HTTP on loopback: the fake never calls out.
pub(crate) fn check_destination(url: &str) -> Result<(), Failure> {
    let blocked = || {
        Failure::new(
            422,
            "blocked_destination",
            "the fake proxies only to http://127.0.0.1, http://localhost or http://[::1]",
        )
    };
    let uri: http::Uri = url.parse().map_err(|_| blocked())?;
    let loopback = matches!(uri.host(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if uri.scheme_str() == Some("http") && loopback {
        Ok(())
    } else {
        Err(blocked())
    }
}

/// Builds the provider request of a proxied call with the grant's credential injected.
pub(crate) fn build_request(
    credential: &Credential,
    call: &ProxyCall,
) -> Result<Outgoing, Failure> {
    let misconfigured = |error: alter_core::Error| {
        Failure::new(
            500,
            "credential_misconfigured",
            format!("cannot inject the grant's credential: {error}"),
        )
    };
    let mut headers = call.headers.clone();
    let has_content_type = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));

    if is_sigv4(credential) {
        let url = append_query(&call.url, &call.query_params);
        let body = match &call.body {
            Some(value) => ProviderBody::Json(value),
            None => ProviderBody::Empty,
        };
        let signed = SigV4Call {
            method: &call.method,
            url: &url,
            body,
        };
        let plan =
            plan_sigv4_injection(credential, &headers, USER_AGENT, &signed, SystemTime::now())
                .map_err(misconfigured)?;
        return Ok(Outgoing {
            method: call.method.clone(),
            url: plan.url,
            headers: plan.headers,
            body: plan.body,
            credential_headers: plan.credential_headers,
        });
    }

    let body = match &call.body {
        Some(value) => {
            if !has_content_type {
                headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
            }
            serde_json::to_vec(value).unwrap_or_default()
        }
        None => Vec::new(),
    };
    let plan = plan_injection(credential, &headers, USER_AGENT).map_err(misconfigured)?;
    let params = with_injected_params(&call.query_params, &plan.query_params);
    Ok(Outgoing {
        method: call.method.clone(),
        url: append_query(&call.url, &params),
        headers: plan.headers,
        body,
        credential_headers: plan.credential_headers,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::spec::CredentialSpec;

    fn call(url: &str) -> ProxyCall {
        ProxyCall {
            grant_id: "g".into(),
            method: "POST".into(),
            url: url.into(),
            headers: vec![("X-Trace".into(), "1".into())],
            body: Some(json!({"a": 1})),
            query_params: vec![("q".into(), json!("x y"))],
            reason: None,
        }
    }

    /// A one-shot provider on a loopback thread answering 200 with a `len`-byte body.
    fn provider_answering(len: usize) -> String {
        use std::io::{Read as _, Write as _};

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/big", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let answer = format!("HTTP/1.1 200 OK\r\ncontent-length: {len}\r\n\r\n");
            // The client may hang up once over its limit; that is the point.
            let _ = stream
                .write_all(answer.as_bytes())
                .and_then(|()| stream.write_all(&vec![b'x'; len]));
        });
        url
    }

    fn fetch(limit: usize, len: usize) -> Result<Captured, SendError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let outgoing = Outgoing {
            method: "GET".into(),
            url: provider_answering(len),
            headers: Vec::new(),
            body: Vec::new(),
            credential_headers: Vec::new(),
        };
        runtime.block_on(async move {
            let mut outbound = Outbound::new();
            outbound.body_limit = limit;
            outbound.send(&outgoing).await
        })
    }

    #[test]
    fn provider_bodies_over_the_limit_are_refused() {
        assert_eq!(fetch(64, 64).unwrap().body.len(), 64);

        let error = fetch(64, 65).unwrap_err();
        assert_eq!(error.code, "provider_response_too_large");
        assert!(error.message.contains("larger than 64 bytes"), "{error:?}");
        // The default is the SDK's own limit.
        assert_eq!(Outbound::new().body_limit, 64 * 1024 * 1024);
    }

    #[test]
    fn a_refused_body_answers_502_with_an_error_body() {
        let failure = SendError::too_large(10).into_failure();
        assert_eq!(
            (failure.status, failure.code()),
            (502, "provider_response_too_large")
        );
        let body: serde_json::Value = serde_json::from_slice(&failure.body()).unwrap();
        assert_eq!(
            body["detail"]["message"],
            "the provider's response body is larger than 10 bytes"
        );
    }

    #[test]
    fn only_loopback_http_is_allowed() {
        for ok in [
            "http://127.0.0.1:9/x",
            "http://localhost/x",
            "http://[::1]:80/",
        ] {
            assert!(check_destination(ok).is_ok(), "{ok}");
        }
        for refused in [
            "https://127.0.0.1/x",
            "http://example.com/",
            "http://10.0.0.1/",
            "nope",
        ] {
            assert_eq!(
                check_destination(refused).unwrap_err().code(),
                "blocked_destination",
                "{refused}"
            );
        }
    }

    #[test]
    fn injects_header_and_query_credentials() {
        let credential = CredentialSpec::query_param("api_key").resolve("tok".into(), "s".into());
        let outgoing = build_request(&credential, &call("http://127.0.0.1:1/p")).unwrap();

        assert_eq!(outgoing.url, "http://127.0.0.1:1/p?q=x+y&api_key=tok");
        assert!(
            outgoing
                .headers
                .contains(&("X-Api-Key".into(), "tok".into()))
        );
        assert!(
            outgoing
                .headers
                .contains(&("Content-Type".into(), "application/json".into()))
        );
        assert_eq!(outgoing.body, br#"{"a":1}"#);
    }

    #[test]
    fn signs_aws_requests() {
        let credential = CredentialSpec::aws_sigv4("us-east-1", "execute-api")
            .resolve("AKIDTEST".into(), "secret".into());
        let outgoing = build_request(&credential, &call("http://127.0.0.1:1/p")).unwrap();
        let authorization = outgoing
            .headers
            .iter()
            .find(|(name, _)| name == "Authorization")
            .map(|(_, value)| value.as_str())
            .unwrap();
        assert!(authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"));
        assert!(
            outgoing
                .credential_headers
                .iter()
                .any(|h| h == "authorization")
        );
    }
}

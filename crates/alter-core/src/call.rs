//! One backend call as an [`Operation`]: sign, send, retry what is safe to retry, and turn
//! the answer into a typed value or a typed error.

use std::fmt;
use std::sync::Arc;

use crate::engine::{BackendCall, Engine};
use crate::error::{Error, Result};
use crate::io::{HttpResponse, Now, TransportError};
use crate::limits::MAX_URL_LEN;
use crate::redact::Scrub;
use crate::retry::{Idempotency, RetryDecision, RetryReport, RetryState};
use crate::step::{Operation, Step};

/// Turns a backend answer into the call's value or error.
pub(crate) type Interpret<T> = Box<dyn FnMut(HttpResponse) -> Result<T> + Send>;

/// A single backend call with its retry policy.
///
/// Built by the endpoint constructors of [`crate::api`]; driven like any [`Operation`].
pub struct Call<T> {
    engine: Arc<Engine>,
    request: BackendCall,
    interpret: Interpret<T>,
    idempotency: Idempotency,
    cache_actor_id: bool,
    retries_enabled: bool,
    retry: Option<RetryState>,
    attempt: u32,
    sent_at: Option<std::time::Instant>,
    /// The secrets of the last attempt, removed from any error its answer makes: a server
    /// may echo the key or the signature back.
    scrub: Scrub,
}

impl<T> fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("method", &self.request.method)
            .field("route", &self.request.path.route())
            .field("idempotency", &self.idempotency)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

impl<T> Call<T> {
    pub(crate) fn new(
        engine: Arc<Engine>,
        request: BackendCall,
        idempotency: Idempotency,
        interpret: Interpret<T>,
    ) -> Self {
        Self {
            engine,
            request,
            interpret,
            idempotency,
            cache_actor_id: true,
            retries_enabled: true,
            retry: None,
            attempt: 0,
            sent_at: None,
            scrub: Scrub::new(),
        }
    }

    /// Calls that must not update the actor-id cache (PROTOCOL.md §2.2).
    pub(crate) fn without_actor_caching(mut self) -> Self {
        self.cache_actor_id = false;
        self
    }

    /// Calls whose caller retries on its own terms (the pollers): one attempt only.
    pub(crate) fn without_retry(mut self) -> Self {
        self.retries_enabled = false;
        self
    }

    /// Caps this call's HTTP exchange at `limit` (pollers: never past their deadline).
    ///
    /// A request's own timeout replaces the client's in the frontends, so the cap starts
    /// from the client's timeout: a far deadline must not lengthen the exchange.
    pub(crate) fn cap_timeout(mut self, limit: std::time::Duration) -> Self {
        let own = self
            .request
            .timeout
            .unwrap_or_else(|| self.engine.config().timeout);
        self.request.timeout = Some(own.min(limit));
        self
    }

    /// What the retry policy decided so far.
    pub fn retry_report(&self) -> Option<RetryReport> {
        self.retry.as_ref().map(RetryState::report)
    }

    fn send(&mut self, now: Now) -> Step<T> {
        self.attempt += 1;
        self.sent_at = Some(now.monotonic);

        let request = self.engine.sign(&self.request, now);
        self.scrub = Scrub::of_backend_request(&request);
        Step::Send(request)
    }

    /// Ends the call with this answer. Its attempt is already counted: `on_status` records
    /// every answer, success or failure, before the call gives up.
    fn finish(&mut self, response: HttpResponse) -> Step<T> {
        if self.cache_actor_id {
            self.engine.observe_actor_id(&response);
        }
        Step::Done(self.interpret_scrubbed(response))
    }

    /// The answer's value or error, with the attempt's secrets removed from the error.
    fn interpret_scrubbed(&mut self, response: HttpResponse) -> Result<T> {
        (self.interpret)(response).map_err(|error| error.scrubbed(&self.scrub))
    }
}

impl<T> Operation for Call<T> {
    type Output = T;

    fn start(&mut self, now: Now) -> Step<T> {
        // The one place every backend URL passes, so no caller value (a long query filter,
        // say) can grow a request past what servers accept.
        let url_len = self.engine.config().base_url.as_str().len() + self.request.path.wire().len();
        if url_len > MAX_URL_LEN {
            return Step::Done(Err(Error::invalid_input(format!(
                "the request URL would be {url_len} bytes long; the limit is {MAX_URL_LEN}"
            ))));
        }

        let step = self.send(now);
        if self.retries_enabled {
            let mut config = self.engine.config().retry.clone();
            if config.jitter_seed == 0 {
                // A seed per call, so that clients retrying together spread out: the first
                // attempt's nonce is already fresh randomness (no extra draw).
                if let Step::Send(request) = &step {
                    config.jitter_seed = seed_from_nonce(request);
                }
            }
            self.retry = Some(RetryState::new(&config, self.idempotency, now.monotonic));
        }
        step
    }

    fn on_response(&mut self, response: HttpResponse, now: Now) -> Step<T> {
        let latency = self
            .sent_at
            .map(|sent| now.monotonic.saturating_duration_since(sent));
        tracing::debug!(
            method = self.request.method,
            path = self.request.path.route(),
            status = response.status,
            attempt = self.attempt,
            latency_ms = latency.map(|l| l.as_millis() as u64),
            "alter backend call"
        );

        let Some(retry) = &mut self.retry else {
            return self.finish(response);
        };
        if matches!(response.status, 429 | 502..=504) {
            // A typed error at a retryable status (a 502 `grant_revoked`, say) is final:
            // asking again cannot change it, and `Error::is_transient` says the same.
            let outcome =
                (self.interpret)(response.clone()).map_err(|error| error.scrubbed(&self.scrub));
            if outcome.as_ref().is_err_and(|error| !error.is_transient()) {
                retry.on_final_answer(response.status);
                if self.cache_actor_id {
                    self.engine.observe_actor_id(&response);
                }
                return Step::Done(outcome);
            }
        }
        match retry.on_status(response.status, response.header("Retry-After"), now) {
            RetryDecision::Retry { at, .. } => Step::WaitUntil(at),
            RetryDecision::GiveUp => self.finish(response),
        }
    }

    fn on_transport_error(&mut self, error: TransportError, now: Now) -> Step<T> {
        tracing::debug!(
            method = self.request.method,
            path = self.request.path.route(),
            attempt = self.attempt,
            error = ?error.kind,
            "alter backend call failed below HTTP"
        );

        if let Some(retry) = &mut self.retry {
            if let RetryDecision::Retry { at, .. } = retry.on_transport_error(&error, now) {
                return Step::WaitUntil(at);
            }
        }

        let mut details = crate::error::Details::new();
        details.insert(
            "base_url".to_owned(),
            self.engine.config().base_url.as_str().to_owned().into(),
        );
        Step::Done(Err(
            Error::from_transport(&error, details).scrubbed(&self.scrub)
        ))
    }

    fn on_wake(&mut self, now: Now) -> Step<T> {
        // Every attempt is signed afresh: new timestamp, new nonce (PROTOCOL.md §16 D8).
        self.send(now)
    }
}

/// The first 64 bits of a signed request's nonce.
fn seed_from_nonce(request: &crate::io::HttpRequest) -> u64 {
    request
        .header(crate::signing::HEADER_NONCE)
        .and_then(|nonce| nonce.get(..16))
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .unwrap_or(0)
}

/// Wraps an operation whose errors the protocol swallows (token verification): any error
/// becomes `Ok(None)`, logged at debug level.
#[derive(Debug)]
pub struct ErrorsAsNone<O> {
    inner: O,
}

impl<O> ErrorsAsNone<O> {
    pub(crate) fn new(inner: O) -> Self {
        Self { inner }
    }

    fn absorb<T>(step: Step<Option<T>>) -> Step<Option<T>> {
        match step {
            Step::Done(Err(error)) => {
                tracing::debug!(
                    class = error.class_name(),
                    "treating a failed check as 'no'"
                );
                Step::Done(Ok(None))
            }
            other => other,
        }
    }
}

impl<O, T> Operation for ErrorsAsNone<O>
where
    O: Operation<Output = Option<T>>,
{
    type Output = Option<T>;

    fn start(&mut self, now: Now) -> Step<Option<T>> {
        Self::absorb(self.inner.start(now))
    }

    fn on_response(&mut self, response: HttpResponse, now: Now) -> Step<Option<T>> {
        Self::absorb(self.inner.on_response(response, now))
    }

    fn on_transport_error(&mut self, error: TransportError, now: Now) -> Step<Option<T>> {
        Self::absorb(self.inner.on_transport_error(error, now))
    }

    fn on_wake(&mut self, now: Now) -> Step<Option<T>> {
        Self::absorb(self.inner.on_wake(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{engine, test_now};

    #[test]
    fn a_backend_url_over_the_limit_fails_before_anything_is_sent() {
        let now = test_now();
        let engine = engine();

        let mut long = engine.agents_get_by_name(&"n".repeat(MAX_URL_LEN)).unwrap();
        let Step::Done(Err(error)) = long.start(now) else {
            panic!("a request was sent");
        };
        assert!(error.is_invalid_input(), "{error:?}");
        assert!(error.to_string().len() < 200, "{error}");

        let mut short = engine.agents_get_by_name("ops-bot").unwrap();
        assert!(matches!(short.start(now), Step::Send(_)));
    }

    fn answer(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_typed_error_at_a_gateway_status_is_not_retried() {
        let now = test_now();
        let engine = engine();

        let mut typed = engine.scopes_list();
        let _ = typed.start(now);
        let revoked = r#"{"error":"grant_revoked","message":"revoked"}"#;
        let Step::Done(Err(error)) = typed.on_response(answer(502, revoked), now) else {
            panic!("a typed 502 was retried");
        };
        assert_eq!(error.class_name(), "GrantRevokedError");
        assert_eq!(typed.retry_report().unwrap().total_attempts, 1);

        let mut untyped = engine.scopes_list();
        let _ = untyped.start(now);
        let step = untyped.on_response(answer(502, "bad gateway"), now);
        assert!(matches!(step, Step::WaitUntil(_)), "{step:?}");
    }
    /// Sends one backend call and answers it with a body that echoes the request's key
    /// and signature through `echo`; the error it makes, shown every way it can be.
    fn echoed_error(status: u16, echo: impl Fn(&str, &str) -> String) -> (String, [String; 2]) {
        let now = test_now();
        let engine = engine();
        let mut call = engine.scopes_list();
        let Step::Send(request) = call.start(now) else {
            panic!("nothing was sent");
        };
        let key = request.header("x-api-key").unwrap().to_owned();
        let signature = request
            .header(crate::signing::HEADER_SIGNATURE)
            .unwrap()
            .to_owned();

        let Step::Done(Err(error)) = call.on_response(answer(status, &echo(&key, &signature)), now)
        else {
            panic!("the echoing answer was not an error");
        };
        (format!("{error} {error:?}"), [key, signature])
    }

    fn assert_scrubbed(shown: &str, secrets: &[String]) {
        for secret in secrets {
            assert!(!shown.contains(secret.as_str()), "{shown}");
        }
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    #[test]
    fn a_400_echoing_the_key_and_signature_keeps_neither() {
        let (shown, secrets) = echoed_error(400, |key, signature| {
            let echo = format!("headers were x-api-key={key}; x-alter-signature={signature}");
            serde_json::json!({ "error": "bad_request", "message": echo }).to_string()
        });

        assert_scrubbed(&shown, &secrets);
    }

    #[test]
    fn a_401_detail_echoing_the_key_keeps_it_out_of_the_details() {
        let (shown, secrets) = echoed_error(401, |key, signature| {
            let echo = serde_json::json!({ key: signature, "seen": format!("key {key}") });
            serde_json::json!({ "detail": echo }).to_string()
        });

        assert_scrubbed(&shown, &secrets);
    }

    #[test]
    fn a_500_html_page_echoing_the_key_keeps_it_out_of_the_preview() {
        let (shown, secrets) = echoed_error(500, |key, signature| {
            format!(
                "<html><body><pre>x-api-key: {key}\nx-alter-signature: {signature}</pre></body></html>"
            )
        });

        assert_scrubbed(&shown, &secrets);
    }

    #[test]
    fn a_user_token_in_the_body_is_scrubbed_from_an_echo() {
        let now = test_now();
        let engine = engine();
        let params = crate::api::ConnectSessionParams {
            user_token: Some("eyJ.user-token.sig".into()),
            ..Default::default()
        };
        let mut call = engine.create_connect_session(params, None).unwrap();
        let _ = call.start(now);
        let echo = r#"{"error":"bad_request","message":"body had user_token eyJ.user-token.sig"}"#;

        let Step::Done(Err(error)) = call.on_response(answer(400, echo), now) else {
            panic!("the echoing answer was not an error");
        };

        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("eyJ.user-token.sig"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }
}

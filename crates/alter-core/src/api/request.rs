//! Retrieve mode, `request()`: fetch a credential, call the provider with it injected, then
//! upload the audit row (and a scope-mismatch report) in the background
//! (PROTOCOL.md §6, §5.1–5.3).

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use alter_types::{HttpMethod, RetryInfo, Secret, TokenResponse};
use serde_json::Value;

use super::{Object, body, generic, require, require_id};
use crate::call::Call;
use crate::engine::{Actor, ApiPath, BackendCall, Engine, check_header, check_method};
use crate::error::{Details, Error, ProviderFailure, Result};
use crate::io::{HttpRequest, HttpResponse, Now, Target, TransportError, TransportErrorKind};
use crate::json;
use crate::redact::Scrub;
use crate::retrieve::ProviderBody;
use crate::retrieve::audit::{self, AuditRow};
use crate::retrieve::challenge::{InsufficientScopeChallenge, insufficient_scope};
use crate::retrieve::context::validate_context;
use crate::retrieve::injection::is_stack_owned_header;
use crate::retrieve::injection::{self, Credential, InjectionRule, SigV4Call};
use crate::retrieve::query::{append_query, with_injected_params};
use crate::retrieve::template::{check_provider_url, check_sendable_url, template_url};
use crate::retry::Idempotency;
use crate::step::{Operation, Step};

/// The reference client's hard cap on the scope-mismatch report (PROTOCOL.md §5.3).
const REPORT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Which grant a retrieve-mode call uses.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrantTarget {
    /// A grant by id.
    Grant(String),
    /// The grant the backend resolves for this provider (identity or delegation mode).
    Provider {
        /// Provider id, e.g. `google`.
        provider: String,
        /// Picks one of several connected accounts.
        account: Option<String>,
        /// Picks among end users (agents acting for several users).
        app_user_id: Option<String>,
    },
}

/// A provider call in retrieve mode: the SDK fetches the credential and makes the call.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct RetrieveRequest {
    /// HTTP method.
    pub method: HttpMethod,
    /// Provider URL, `http://` or `https://`; may hold `{name}` placeholders.
    pub url: String,
    /// Which grant's credential to use.
    pub target: GrantTarget,
    /// JSON body.
    pub json: Option<Value>,
    /// Raw body (exclusive with `json`).
    pub body: Option<Vec<u8>>,
    /// Headers of the caller's own; the credential header replaces one of the same name.
    pub extra_headers: Vec<(String, String)>,
    /// Query parameters, appended to any query already in the URL.
    pub query_params: Vec<(String, Value)>,
    /// Values for the URL's `{name}` placeholders, each encoded as one path segment.
    pub path_params: Vec<(String, String)>,
    /// Why the call is made, for the audit trail.
    pub reason: Option<String>,
    /// Context sent as `X-Alter-Context` and stored with the audit row.
    pub context: Option<Vec<(String, String)>>,
    /// A caller for this call only, replacing the client's.
    pub caller: Option<String>,
    /// The end user's token; wins over the client's token getter.
    pub user_token: Option<Secret>,
    /// Return provider error answers instead of turning them into errors.
    pub raw: bool,
}

impl RetrieveRequest {
    /// A call through the grant `grant_id`.
    pub fn grant(
        method: impl Into<HttpMethod>,
        url: impl Into<String>,
        grant_id: impl Into<String>,
    ) -> Self {
        Self::new(
            method.into(),
            url.into(),
            GrantTarget::Grant(grant_id.into()),
        )
    }

    /// A call through whichever grant the backend resolves for `provider`.
    pub fn provider(
        method: impl Into<HttpMethod>,
        url: impl Into<String>,
        provider: impl Into<String>,
    ) -> Self {
        let target = GrantTarget::Provider {
            provider: provider.into(),
            account: None,
            app_user_id: None,
        };
        Self::new(method.into(), url.into(), target)
    }

    fn new(method: HttpMethod, url: String, target: GrantTarget) -> Self {
        Self {
            method,
            url,
            target,
            json: None,
            body: None,
            extra_headers: Vec::new(),
            query_params: Vec::new(),
            path_params: Vec::new(),
            reason: None,
            context: None,
            caller: None,
            user_token: None,
            raw: false,
        }
    }

    fn provider_body(&self) -> ProviderBody<'_> {
        match (&self.json, &self.body) {
            (Some(value), _) => ProviderBody::Json(value),
            (None, Some(bytes)) => ProviderBody::Raw(bytes),
            (None, None) => ProviderBody::Empty,
        }
    }
}

impl fmt::Debug for RetrieveRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bodies, header values and tokens may be secret: shapes only.
        f.debug_struct("RetrieveRequest")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("body", &self.provider_body())
            .field("extra_header_count", &self.extra_headers.len())
            .field("raw", &self.raw)
            .finish_non_exhaustive()
    }
}

/// The provider's answer to a retrieve-mode call.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct ProviderResponse {
    /// Status code (a redirect is returned as is, never followed).
    pub status: u16,
    /// Headers as received.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
    /// How the backend retried the token refresh, when it says.
    pub retry_info: Option<RetryInfo>,
}

impl ProviderResponse {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::io::find_header(&self.headers, name)
    }

    /// The body as JSON.
    ///
    /// # Errors
    ///
    /// `serde_json::Error` when the body is not JSON of shape `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_slice(&self.body)
    }
}

impl fmt::Debug for ProviderResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderResponse")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .field("retry_info", &self.retry_info)
            .finish_non_exhaustive()
    }
}

/// The retrieve-mode operation: token call, provider call, background uploads.
pub struct Retrieve {
    engine: Arc<Engine>,
    request: RetrieveRequest,
    /// The templated URL, without query parameters: what the token call and audit name.
    url: String,
    context: Option<String>,
    phase: Phase,
    background: VecDeque<HttpRequest>,
    outcome: Option<Result<ProviderResponse>>,
}

enum Phase {
    Token(Box<Call<TokenResponse>>),
    Provider(Box<InFlight>),
    Finishing,
}

/// What the provider call needs once its answer is in.
struct InFlight {
    token: TokenResponse,
    sent_at: Instant,
    sent_headers: Vec<(String, String)>,
    credential_headers: Vec<String>,
    /// The credential's secrets, removed from the audit row and the error before either
    /// leaves the exchange: a provider may echo what it was sent.
    scrub: Scrub,
}

impl fmt::Debug for Retrieve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let phase = match self.phase {
            Phase::Token(_) => "token",
            Phase::Provider(_) => "provider",
            Phase::Finishing => "finishing",
        };
        f.debug_struct("Retrieve")
            .field("request", &self.request)
            .field("phase", &phase)
            .field("background", &self.background.len())
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// `request()`: a provider call in retrieve mode.
    ///
    /// `getter_token` is the client's token getter's answer, used when the request carries
    /// no `user_token` of its own.
    ///
    /// # Errors
    ///
    /// Before any IO: `Sdk` for both `json` and `body` or a placeholder without a value;
    /// `InvalidInput` for a URL that is not http(s), has no plain `host[:port]` or is longer
    /// than 8 KiB (before or after templating), for empty tokens, ids or caller, oversized
    /// path parameters, header values with CR, LF or NUL, or a context over its limits.
    pub fn request(
        self: &Arc<Self>,
        request: RetrieveRequest,
        getter_token: Option<&Secret>,
    ) -> Result<Retrieve> {
        if request.json.is_some() && request.body.is_some() {
            return Err(Error::sdk(
                "give either a JSON body or a raw body, not both",
            ));
        }
        if let Some(token) = &request.user_token {
            require("user_token", token.expose_secret())?;
        }
        if let Some(caller) = &request.caller {
            crate::config::validate_caller(caller).map_err(|_| {
                Error::invalid_input("caller must be 1 to 255 printable ASCII characters")
            })?;
        }
        check_method(request.method.as_str())?;
        for (name, value) in &request.extra_headers {
            check_header(name, value)?;
            if is_stack_owned_header(name) {
                return Err(Error::invalid_input(format!(
                    "header '{name}' is set by the HTTP stack; do not pass it"
                )));
            }
        }
        check_provider_url(&request.url)?;
        let url = template_url(&request.url, &request.path_params)?;
        check_sendable_url(&url)?;
        let context = match &request.context {
            Some(map) => validate_context(map)?,
            None => None,
        };

        let token_body = token_body(&request, &url, getter_token)?;
        let actor = request
            .caller
            .clone()
            .map_or(Actor::Cached, Actor::Override);
        let caches_actor = actor == Actor::Cached;
        let call = BackendCall::new("POST", ApiPath::new("/sdk/token"))
            .json(token_body)
            .actor(actor)
            .context(context.clone());
        let mut token_call =
            Call::new(Arc::clone(self), call, Idempotency::Safe, Box::new(generic));
        if !caches_actor {
            token_call = token_call.without_actor_caching();
        }

        Ok(Retrieve {
            engine: Arc::clone(self),
            request,
            url,
            context,
            phase: Phase::Token(Box::new(token_call)),
            background: VecDeque::new(),
            outcome: None,
        })
    }
}

/// The `/sdk/token` body (PROTOCOL.md §5.1), keys in the reference order.
fn token_body(
    request: &RetrieveRequest,
    url: &str,
    getter_token: Option<&Secret>,
) -> Result<Vec<u8>> {
    let mut described = Object::new();
    described.insert("method".into(), request.method.as_str().into());
    described.insert("url".into(), url.into());

    let user_token = request.user_token.as_ref().or(getter_token);
    let mut object = Object::new();
    match &request.target {
        GrantTarget::Grant(grant_id) => {
            require_id("grant_id", grant_id)?;
            object.insert("grant_id".into(), grant_id.as_str().into());
            object.insert(
                "reason".into(),
                request.reason.clone().map_or(Value::Null, Value::from),
            );
            object.insert("request".into(), Value::Object(described));
            if let Some(token) = user_token {
                object.insert("user_token".into(), token.expose_secret().into());
            }
        }
        GrantTarget::Provider {
            provider,
            account,
            app_user_id,
        } => {
            require("provider", provider)?;
            object.insert("provider_id".into(), provider.as_str().into());
            object.insert(
                "reason".into(),
                request.reason.clone().map_or(Value::Null, Value::from),
            );
            object.insert("request".into(), Value::Object(described));
            if let Some(token) = user_token {
                object.insert("user_token".into(), token.expose_secret().into());
            }
            if let Some(app_user_id) = app_user_id {
                require("app_user_id", app_user_id)?;
                object.insert("app_user_id".into(), app_user_id.as_str().into());
            }
            if let Some(account) = account.as_deref().filter(|a| !a.is_empty()) {
                object.insert("account".into(), account.into());
            }
        }
    }
    Ok(body(object))
}

/// The credential part of a token response, in the injection module's terms.
fn credential_of(token: &TokenResponse) -> Credential {
    let additional_credentials = token
        .additional_credentials
        .iter()
        .flatten()
        .map(|(name, value)| (name.clone(), value.expose_secret().to_owned()))
        .collect();
    let additional_injections = token
        .additional_injections
        .iter()
        .flatten()
        .map(|rule| InjectionRule {
            target: rule.target.as_str().to_owned(),
            key: rule.key.clone(),
            value_source: rule.value_source.clone(),
        })
        .collect();
    Credential {
        access_token: token.access_token.expose_secret().to_owned(),
        injection_header: token.injection_header.clone(),
        injection_format: token.injection_format.clone(),
        additional_credentials,
        additional_injections,
    }
}

impl Retrieve {
    fn after_token(&mut self, result: Result<TokenResponse>, now: Now) -> Step<ProviderResponse> {
        let token = match result {
            Ok(token) => token,
            Err(error) => return Step::Done(Err(error)),
        };
        self.engine.set_last_retry_info(token.retry_info());

        match self.provider_request(&token, now) {
            Ok(Prepared {
                request,
                credential_headers,
                audit_headers,
            }) => {
                // Only the host: provider paths and queries carry ids and sometimes secrets.
                tracing::debug!(
                    method = request.method.as_str(),
                    host = host_of(&request.url),
                    "alter provider call"
                );
                let scrub = provider_scrub(&self.engine, &token, &request, &credential_headers);
                let sent_headers = audit_headers;
                self.phase = Phase::Provider(Box::new(InFlight {
                    token,
                    sent_at: now.monotonic,
                    sent_headers,
                    credential_headers,
                    scrub,
                }));
                Step::Send(request)
            }
            Err(error) => Step::Done(Err(error)),
        }
    }

    /// The provider request with the credential injected, the names of the headers that
    /// carry it, and the headers its audit row lists.
    fn provider_request(&self, token: &TokenResponse, now: Now) -> Result<Prepared> {
        let credential = credential_of(token);
        let user_agent = &self.engine.config().user_agent;
        let method = self.request.method.as_str();

        if injection::is_sigv4(&credential) {
            // The query is merged before signing so that what is signed is what is sent
            // (PROTOCOL.md §16 D3).
            let url = append_query(&self.url, &self.request.query_params);
            let call = SigV4Call {
                method,
                url: &url,
                body: self.request.provider_body(),
            };
            let plan = injection::plan_sigv4_injection(
                &credential,
                &self.request.extra_headers,
                user_agent,
                &call,
                now.wall,
            )?;
            // The SigV4 plan sets Content-Type itself, so the audit row lists it.
            let audit_headers = plan.headers.clone();
            return Ok(Prepared {
                request: provider_http(&self.engine, method, plan.url, plan.headers, plan.body),
                credential_headers: plan.credential_headers,
                audit_headers,
            });
        }

        let plan = injection::plan_injection(&credential, &self.request.extra_headers, user_agent)?;
        let params = with_injected_params(&self.request.query_params, &plan.query_params);
        let url = append_query(&self.url, &params);
        let mut headers = plan.headers;
        // The Content-Type of a JSON body stands for what the reference client's HTTP stack
        // adds later; the audit row does not list it (PROTOCOL.md §6.8).
        let audit_headers = headers.clone();
        let body = match self.request.provider_body() {
            ProviderBody::Empty => Vec::new(),
            ProviderBody::Raw(bytes) => bytes.to_vec(),
            ProviderBody::Json(value) => {
                if crate::io::find_header(&headers, "content-type").is_none() {
                    headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
                }
                serde_json::to_vec(value).map_err(|e| Error::invalid_input(e.to_string()))?
            }
        };
        Ok(Prepared {
            request: provider_http(&self.engine, method, url, headers, body),
            credential_headers: plan.credential_headers,
            audit_headers,
        })
    }

    fn after_provider(&mut self, response: HttpResponse, now: Now) -> Step<ProviderResponse> {
        let Phase::Provider(flight) = std::mem::replace(&mut self.phase, Phase::Finishing) else {
            return Step::Done(Err(Error::sdk("provider answer arrived out of order")));
        };
        let latency = now.monotonic.saturating_duration_since(flight.sent_at);
        tracing::debug!(
            status = response.status,
            latency_ms = latency.as_millis() as u64,
            "provider answered"
        );

        let content_type = response.header("content-type").map(str::to_owned);
        let mut response_body = audit::response_body(&response.body, content_type.as_deref());
        flight.scrub.string(&mut response_body);
        let mut response_headers = audit::response_headers(&response.headers);
        flight.scrub.object(&mut response_headers);
        let row = AuditRow {
            grant_id: &flight.token.grant_id,
            provider_id: flight.token.provider_id.as_deref(),
            method: self.request.method.as_str(),
            url: &self.url,
            request_headers: Some(audit::request_headers(
                &flight.sent_headers,
                &flight.credential_headers,
            )),
            request_body: audit::request_body(self.request.provider_body()),
            response_status: response.status,
            response_headers: Some(response_headers),
            response_body: response_body.clone(),
            latency_ms: audit::latency_ms(latency),
            reason: self.request.reason.as_deref(),
            context: self.request.context.as_deref(),
        };
        let audit = audit_request(&self.engine, self.context.as_deref(), &row, now);
        self.background.extend(audit);

        let outcome = self
            .judge(response, &flight, response_body, now)
            .map_err(|error| error.scrubbed(&flight.scrub));
        self.finish(outcome)
    }

    /// Turns the provider's answer into the call's result (PROTOCOL.md §6.7), queuing a
    /// scope-mismatch report when the provider names missing scopes.
    ///
    /// The challenge is scrubbed before it is parsed, so neither the report nor the error
    /// repeats a credential the provider echoed in it.
    fn judge(
        &mut self,
        response: HttpResponse,
        flight: &InFlight,
        response_body: String,
        now: Now,
    ) -> Result<ProviderResponse> {
        let token = &flight.token;
        if self.request.raw || response.status < 400 {
            return Ok(ProviderResponse {
                status: response.status,
                headers: response.headers,
                body: response.body,
                retry_info: token.retry_info(),
            });
        }

        let www_authenticate = flight
            .scrub
            .text(response.header("www-authenticate").unwrap_or_default())
            .into_owned();
        let challenge = insufficient_scope(&www_authenticate);
        if response.status == 403 {
            if let Some(challenge) = challenge {
                self.queue_report(token, &challenge, now);
                return Err(self.scope_error(token, Some(&challenge), response_body));
            }
            if token.scope_mismatch {
                return Err(self.scope_error(token, None, response_body));
            }
        }

        let mut details = Details::new();
        let caller_grant = match &self.request.target {
            GrantTarget::Grant(id) => Value::from(id.as_str()),
            GrantTarget::Provider { .. } => Value::Null,
        };
        details.insert("grant_id".into(), caller_grant);
        details.insert("method".into(), self.request.method.as_str().into());
        details.insert("url".into(), self.url.as_str().into());
        Err(Error::provider_api(ProviderFailure {
            message: format!("provider API returned error {}", response.status),
            status_code: Some(response.status),
            response_body: Some(response_body),
            details,
            grant_id: None,
            provider_id: None,
            missing_scopes: None,
            code: None,
        }))
    }

    fn scope_error(
        &self,
        token: &TokenResponse,
        challenge: Option<&InsufficientScopeChallenge>,
        response_body: String,
    ) -> Error {
        let provider_id = token.provider_id.clone();
        let mut details = Details::new();
        details.insert("grant_id".into(), token.grant_id.as_str().into());
        details.insert(
            "provider_id".into(),
            provider_id.clone().map_or(Value::Null, Value::from),
        );
        details.insert("method".into(), self.request.method.as_str().into());
        details.insert("url".into(), self.url.as_str().into());

        let missing_scopes = challenge.and_then(|c| c.missing_scopes.clone());
        let message = match challenge {
            Some(challenge) => {
                details.insert("source".into(), "provider_insufficient_scope".into());
                let missing = missing_scopes.clone().map_or(Value::Null, Value::from);
                details.insert("missing_scopes".into(), missing);
                let raw = Some(challenge.raw.clone()).filter(|raw| !raw.is_empty());
                details.insert(
                    "www_authenticate".into(),
                    raw.map_or(Value::Null, Value::from),
                );
                "the provider answered insufficient_scope: the grant must be re-authorized"
            }
            None => {
                details.insert("source".into(), "backend_flag".into());
                "the provider refused the call and the backend flags a scope mismatch: \
                 the grant must be re-authorized"
            }
        };

        Error::scope_reauth_required(ProviderFailure {
            message: message.to_owned(),
            status_code: Some(403),
            response_body: Some(response_body),
            details,
            grant_id: Some(token.grant_id.clone()),
            provider_id,
            missing_scopes,
            code: None,
        })
    }

    fn after_provider_failure(
        &mut self,
        error: TransportError,
        now: Now,
    ) -> Step<ProviderResponse> {
        let Phase::Provider(flight) = std::mem::replace(&mut self.phase, Phase::Finishing) else {
            return Step::Done(Err(Error::sdk("provider failure arrived out of order")));
        };
        let latency = now.monotonic.saturating_duration_since(flight.sent_at);

        let response_body = match error.kind {
            TransportErrorKind::Timeout => audit::timeout_body(self.engine.config().timeout),
            _ => audit::transport_error_body(&error.message),
        };
        let response_body = flight.scrub.text(&response_body).into_owned();
        let row = AuditRow {
            grant_id: &flight.token.grant_id,
            provider_id: flight.token.provider_id.as_deref(),
            method: self.request.method.as_str(),
            url: &self.url,
            request_headers: Some(audit::request_headers(
                &flight.sent_headers,
                &flight.credential_headers,
            )),
            request_body: audit::request_body(self.request.provider_body()),
            response_status: 0,
            response_headers: None,
            response_body,
            latency_ms: audit::latency_ms(latency),
            reason: self.request.reason.as_deref(),
            context: self.request.context.as_deref(),
        };
        let audit = audit_request(&self.engine, self.context.as_deref(), &row, now);
        self.background.extend(audit);

        let mut details = Details::new();
        let caller_grant = match &self.request.target {
            GrantTarget::Grant(id) => Value::from(id.as_str()),
            GrantTarget::Provider { .. } => Value::Null,
        };
        details.insert("grant_id".into(), caller_grant);
        details.insert("method".into(), self.request.method.as_str().into());
        details.insert("url".into(), self.url.as_str().into());
        details.insert("error".into(), error.message.clone().into());
        self.finish(Err(
            Error::from_transport(&error, details).scrubbed(&flight.scrub)
        ))
    }

    fn queue_report(
        &mut self,
        token: &TokenResponse,
        challenge: &InsufficientScopeChallenge,
        now: Now,
    ) {
        // The grant id comes from the backend; one that cannot be a path segment gets no
        // report rather than a request to another route.
        if require_id("grant_id", &token.grant_id).is_err() {
            tracing::debug!("scope-mismatch report not sent: unusable grant id");
            return;
        }
        let object = audit::scope_mismatch_report(challenge, &self.url, self.engine.random_16());
        let path = ApiPath::new("/sdk/grants")
            .param(&token.grant_id)
            .then("/report-scope-mismatch");
        let call = BackendCall::new("POST", path)
            .json(json::to_compact(&Value::Object(object)))
            .actor(Actor::None)
            .timeout(REPORT_TIMEOUT);
        self.background.push_back(self.engine.sign(&call, now));
    }

    fn finish(&mut self, outcome: Result<ProviderResponse>) -> Step<ProviderResponse> {
        self.outcome = Some(outcome);
        self.next_background()
    }

    fn next_background(&mut self) -> Step<ProviderResponse> {
        match self.background.pop_front() {
            Some(request) => Step::Detach(request),
            None => Step::Done(
                self.outcome
                    .take()
                    .unwrap_or_else(|| Err(Error::sdk("retrieve finished twice"))),
            ),
        }
    }
}

/// The signed audit upload of a row; `None` for a row whose grant id is not a UUID.
///
/// The audit endpoint's `grant_id` is a UUID (PROTOCOL.md §5.2), so such a row could not be
/// stored; it is dropped with a warning, because a provider call then goes unaudited.
fn audit_request(
    engine: &Engine,
    context: Option<&str>,
    row: &AuditRow<'_>,
    now: Now,
) -> Option<HttpRequest> {
    let Some(object) = row.to_json() else {
        // The length only: the id is the backend's text, and logs should not carry it.
        tracing::warn!(
            grant_id_len = row.grant_id.len(),
            "audit row not sent: the token response's grant_id is not a UUID"
        );
        return None;
    };
    let call = BackendCall::new("POST", ApiPath::new("/sdk/oauth/audit/api-call"))
        .json(json::to_compact(&Value::Object(object)))
        .context(context.map(str::to_owned));
    Some(engine.sign(&call, now))
}

/// The secrets of one provider exchange: the access token, every additional credential,
/// the full value of every header that carries them, and the API key (which a provider
/// should never see, but a misrouted echo must not repeat either).
fn provider_scrub(
    engine: &Engine,
    token: &TokenResponse,
    request: &HttpRequest,
    credential_headers: &[String],
) -> Scrub {
    let mut scrub = Scrub::new();
    scrub.add(token.access_token.expose_secret());
    for value in token
        .additional_credentials
        .iter()
        .flat_map(|map| map.values())
    {
        scrub.add(value.expose_secret());
    }
    for name in credential_headers {
        if let Some(value) = request.header(name) {
            scrub.add(value);
        }
    }
    scrub.add(engine.config().api_key.expose_secret());
    scrub
}

/// A provider request ready to send, with what its audit row needs to know about it.
struct Prepared {
    request: HttpRequest,
    credential_headers: Vec<String>,
    audit_headers: Vec<(String, String)>,
}

/// The host (and port) of an absolute URL, for logs.
fn host_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    // Userinfo would be a credential.
    authority.rsplit('@').next().unwrap_or_default()
}

fn provider_http(
    engine: &Engine,
    method: &str,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> HttpRequest {
    HttpRequest {
        target: Target::Provider,
        method: method.to_owned(),
        url,
        headers,
        body,
        timeout: Some(engine.config().timeout),
    }
}

impl Operation for Retrieve {
    type Output = ProviderResponse;

    fn start(&mut self, now: Now) -> Step<ProviderResponse> {
        self.engine.set_last_retry_info(None);
        let Phase::Token(call) = &mut self.phase else {
            return Step::Done(Err(Error::sdk("retrieve started twice")));
        };
        match crate::poll::split(call.start(now)) {
            Ok(result) => self.after_token(result, now),
            Err(step) => step,
        }
    }

    fn on_response(&mut self, response: HttpResponse, now: Now) -> Step<ProviderResponse> {
        match &mut self.phase {
            Phase::Token(call) => match crate::poll::split(call.on_response(response, now)) {
                Ok(result) => self.after_token(result, now),
                Err(step) => step,
            },
            Phase::Provider(_) => self.after_provider(response, now),
            Phase::Finishing => crate::poll::out_of_order(),
        }
    }

    fn on_transport_error(&mut self, error: TransportError, now: Now) -> Step<ProviderResponse> {
        match &mut self.phase {
            Phase::Token(call) => match crate::poll::split(call.on_transport_error(error, now)) {
                Ok(result) => self.after_token(result, now),
                Err(step) => step,
            },
            Phase::Provider(_) => self.after_provider_failure(error, now),
            Phase::Finishing => crate::poll::out_of_order(),
        }
    }

    fn on_wake(&mut self, now: Now) -> Step<ProviderResponse> {
        match &mut self.phase {
            Phase::Token(call) => match crate::poll::split(call.on_wake(now)) {
                Ok(result) => self.after_token(result, now),
                Err(step) => step,
            },
            Phase::Finishing => self.next_background(),
            Phase::Provider(_) => crate::poll::out_of_order(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::test_support::{engine, test_now, warnings_of};

    fn row(grant_id: &str) -> AuditRow<'_> {
        AuditRow {
            grant_id,
            provider_id: None,
            method: "GET",
            url: "https://api.example.com/v1",
            request_headers: None,
            request_body: Value::Null,
            response_status: 200,
            response_headers: None,
            response_body: String::new(),
            latency_ms: 5,
            reason: None,
            context: None,
        }
    }

    #[test]
    fn a_row_with_a_non_uuid_grant_is_dropped_with_a_warning() {
        let engine = engine();
        let (mut dropped, mut sent) = (None, None);

        let logs = warnings_of(|| {
            dropped = audit_request(&engine, None, &row("grant-secretish-42"), test_now());
            sent = audit_request(
                &engine,
                None,
                &row("5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"),
                test_now(),
            );
        });

        assert!(dropped.is_none());
        assert!(sent.is_some());
        assert!(logs.contains("WARN"), "{logs}");
        assert!(logs.contains("not a UUID"), "{logs}");
        assert!(!logs.contains("secretish"), "{logs}");
        assert_eq!(logs.lines().count(), 1, "{logs}");
    }
    const TOKEN: &str = "ya29.the-injected-access-token";
    const EXTRA: &str = "acct-secret-0123456789";
    const GRANT: &str = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b";

    /// What a retrieve call left behind: its result and the bodies it detached.
    struct Finished {
        result: Result<ProviderResponse>,
        detached: Vec<(String, Value)>,
    }

    /// Runs a retrieve call whose provider answers `provider`, with a token response
    /// carrying [`TOKEN`] and one additional credential [`EXTRA`].
    fn retrieve_answered(provider: HttpResponse) -> Finished {
        let now = test_now();
        let engine = engine();
        let request = RetrieveRequest::grant("GET", "https://api.example.com/v1/files", GRANT);
        let mut retrieve = engine.request(request, None).unwrap();
        assert!(matches!(retrieve.start(now), Step::Send(_)));
        let token = serde_json::json!({
            "access_token": TOKEN,
            "token_type": "Bearer",
            "grant_id": GRANT,
            "provider_id": "google",
            "additional_credentials": {"account_secret": EXTRA},
        });
        let token_answer = HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: token.to_string().into_bytes(),
        };
        let Step::Send(sent) = retrieve.on_response(token_answer, now) else {
            panic!("no provider request");
        };
        assert!(sent.header("authorization").unwrap().contains(TOKEN));

        let mut detached = Vec::new();
        let mut step = retrieve.on_response(provider, now);
        loop {
            match step {
                Step::Detach(request) => {
                    let body = serde_json::from_slice(&request.body).unwrap();
                    detached.push((request.path_and_query().to_owned(), body));
                    step = retrieve.on_wake(now);
                }
                Step::Done(result) => return Finished { result, detached },
                Step::Send(_) | Step::WaitUntil(_) => panic!("unexpected step"),
            }
        }
    }

    fn provider_answer(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn assert_clean(shown: &str) {
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(!shown.contains(EXTRA), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    fn error_shown(finished: &Finished) -> String {
        let Err(error) = &finished.result else {
            panic!("the provider error was not an error");
        };
        let body = match error {
            Error::ProviderApi { failure } | Error::ScopeReauthRequired { failure } => {
                failure.response_body.clone().unwrap_or_default()
            }
            _ => String::new(),
        };
        format!("{error} {error:?} {body}")
    }

    #[test]
    fn a_provider_challenge_echoing_the_token_is_scrubbed_from_error_and_report() {
        let challenge = format!(
            "Bearer error=\"insufficient_scope\", scope=\"drive\", \
             error_description=\"authorization=Bearer {TOKEN}\""
        );
        let finished = retrieve_answered(provider_answer(
            403,
            &[("WWW-Authenticate", &challenge)],
            "",
        ));

        let shown = error_shown(&finished);
        assert!(shown.contains("ScopeReauthRequired"), "{shown}");
        assert_clean(&shown);
        let report = finished
            .detached
            .iter()
            .find(|(path, _)| path.ends_with("/report-scope-mismatch"))
            .expect("a scope-mismatch report");
        assert_clean(&report.1.to_string());
    }

    #[test]
    fn a_provider_error_body_echoing_the_credentials_is_scrubbed() {
        let body = format!("{{\"error\":\"bad\",\"seen\":\"Bearer {TOKEN}, {EXTRA}\"}}");
        let finished = retrieve_answered(provider_answer(
            500,
            &[("content-type", "application/json")],
            &body,
        ));

        let shown = error_shown(&finished);
        assert!(shown.contains("ProviderApi"), "{shown}");
        assert_clean(&shown);
    }

    #[test]
    fn an_audit_row_never_repeats_an_echoed_credential() {
        let location = format!("https://api.example.com/next?api_key={TOKEN}");
        let echoed = format!("x-echo-{EXTRA}");
        let finished = retrieve_answered(provider_answer(
            302,
            &[("location", &location), (&echoed, "1")],
            &format!("redirecting with {TOKEN}"),
        ));

        assert!(finished.result.is_ok());
        let (_, row) = finished
            .detached
            .iter()
            .find(|(path, _)| path.ends_with("/audit/api-call"))
            .expect("an audit row");
        assert_clean(&row["response_headers"].to_string());
        assert_clean(&row["response_body"].to_string());
        assert_eq!(row["response_status"], 302);
    }

    #[test]
    fn a_transport_failure_message_echoing_the_token_is_scrubbed() {
        let now = test_now();
        let engine = engine();
        let request = RetrieveRequest::grant("GET", "https://api.example.com/v1", GRANT);
        let mut retrieve = engine.request(request, None).unwrap();
        let _ = retrieve.start(now);
        let token = serde_json::json!({"access_token": TOKEN, "grant_id": GRANT});
        let token_answer = provider_answer(200, &[], &token.to_string());
        assert!(matches!(
            retrieve.on_response(token_answer, now),
            Step::Send(_)
        ));
        let failure = TransportError::new(
            TransportErrorKind::Io,
            format!("reset after sending Authorization: Bearer {TOKEN}"),
        );

        let mut step = retrieve.on_transport_error(failure, now);
        let mut detached = Vec::new();
        let result = loop {
            match step {
                Step::Detach(request) => {
                    detached.push(String::from_utf8(request.body).unwrap());
                    step = retrieve.on_wake(now);
                }
                Step::Done(result) => break result,
                Step::Send(_) | Step::WaitUntil(_) => panic!("unexpected step"),
            }
        };

        let error = result.unwrap_err();
        let shown = format!("{error} {error:?} {}", detached.join(" "));
        assert!(!shown.contains(TOKEN), "{shown}");
        assert_eq!(detached.len(), 1);
    }
}

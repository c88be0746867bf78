//! The state one client shares with all its operations: configuration, signing key, scope
//! constraints, the actor-id cache, and the sources of randomness. It builds and signs every
//! backend request.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use alter_types::{CallerType, RetryInfo};

use crate::config::{ApiKey, BaseUrl, canonical_uuid, validate_caller};
use crate::encoding::{canonical_path_and_query, encode_path_segment, form_encode_pairs};
use crate::error::{Error, Result};
use crate::io::{Entropy, HttpRequest, HttpResponse, Now, Target};
use crate::limits::excerpt;
use crate::retry::RetryConfig;
use crate::signing::{SigningInput, SigningKey, hex_lower};

/// The User-Agent alter-rs sends unless told otherwise.
pub const DEFAULT_USER_AGENT: &str = concat!("alter-sdk-rust/", env!("CARGO_PKG_VERSION"));

/// The default timeout of one HTTP exchange.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long `close()` (and dropping a blocking client) waits for queued background uploads
/// by default.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything a client is configured with.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The API key (`x-api-key`); also the root of the signing key.
    pub api_key: ApiKey,
    /// Where the backend lives.
    pub base_url: BaseUrl,
    /// The `X-Alter-Caller` value sent on every backend call, when set.
    pub caller: Option<String>,
    /// The `X-Alter-Caller-Type` sent with the caller.
    pub caller_type: CallerType,
    /// The `User-Agent` of both HTTP clients.
    pub user_agent: String,
    /// The timeout of one HTTP exchange, applied by the frontend.
    pub timeout: Duration,
    /// How long closing the client waits for its queued background uploads; the rest are
    /// counted as dropped.
    pub close_timeout: Duration,
    /// How idempotent reads are retried.
    pub retry: RetryConfig,
}

impl ClientConfig {
    /// A configuration with defaults for everything but the key and the base URL.
    ///
    /// Defaults: no caller, caller type `service` (the App default), the alter-rs
    /// User-Agent, a 30 s timeout, a 10 s close timeout and [`RetryConfig::default`].
    pub fn new(api_key: ApiKey, base_url: BaseUrl) -> Self {
        Self {
            api_key,
            base_url,
            caller: None,
            caller_type: CallerType::Service,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
            retry: RetryConfig::default(),
        }
    }

    /// Checks the caller (PROTOCOL.md §1.3: 1 to 255 printable ASCII characters) and the
    /// retry policy's ranges ([`RetryConfig::validate`]).
    ///
    /// # Errors
    ///
    /// `Error::Sdk` when the caller is empty, too long or not printable ASCII;
    /// `Error::InvalidInput` when a retry setting is out of range.
    pub fn validate(&self) -> Result<()> {
        if let Some(caller) = &self.caller {
            validate_caller(caller)?;
        }
        self.retry.validate()
    }
}

/// Which actor headers a backend call carries (PROTOCOL.md §2.2, §2.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Actor {
    /// Only the client's default caller headers, no `X-Alter-Actor-ID`.
    None,
    /// The default caller headers plus the cached actor id.
    Cached,
    /// A per-call caller replacing the default one; the cached actor id is not sent.
    Override(String),
}

/// A backend path: the percent-encoded form sent on the wire and the canonical form that
/// is signed (PROTOCOL.md §3.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiPath {
    wire: String,
    /// The route with every parameter replaced by `{id}`, for logs.
    template: String,
}

impl ApiPath {
    /// A fixed path such as `/sdk/token`.
    pub(crate) fn new(path: &str) -> Self {
        Self {
            wire: path.to_owned(),
            template: path.to_owned(),
        }
    }

    /// Appends `/` and one path parameter, encoded as a full segment so it cannot escape it.
    pub(crate) fn param(mut self, value: &str) -> Self {
        self.wire.push('/');
        self.wire.push_str(&encode_path_segment(value));
        self.template.push_str("/{id}");
        self
    }

    /// Appends a fixed piece such as `/keys`.
    pub(crate) fn then(mut self, fixed: &str) -> Self {
        self.wire.push_str(fixed);
        self.template.push_str(fixed);
        self
    }

    /// Appends a query built from already ordered pairs.
    pub(crate) fn query<'a>(mut self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let query = form_encode_pairs(pairs);
        if !query.is_empty() {
            self.wire.push('?');
            self.wire.push_str(&query);
        }
        self
    }

    /// The path and query as sent.
    pub(crate) fn wire(&self) -> &str {
        &self.wire
    }

    /// The path without its query and with every id replaced by `{id}`, for logs: ids
    /// and query values (names, emails) stay out of log files.
    pub(crate) fn route(&self) -> &str {
        &self.template
    }
}

/// One backend request before signing.
#[derive(Clone, Debug)]
pub(crate) struct BackendCall {
    pub(crate) method: &'static str,
    pub(crate) path: ApiPath,
    /// JSON body bytes; `None` sends no body and no `Content-Type`.
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) actor: Actor,
    /// `X-Alter-Context` value.
    pub(crate) context: Option<String>,
    /// Further headers such as `Idempotency-Key`.
    pub(crate) extra_headers: Vec<(String, String)>,
    pub(crate) timeout: Option<Duration>,
}

impl BackendCall {
    pub(crate) fn new(method: &'static str, path: ApiPath) -> Self {
        Self {
            method,
            path,
            body: None,
            actor: Actor::Cached,
            context: None,
            extra_headers: Vec::new(),
            timeout: None,
        }
    }

    pub(crate) fn json(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }

    pub(crate) fn actor(mut self, actor: Actor) -> Self {
        self.actor = actor;
        self
    }

    pub(crate) fn context(mut self, context: Option<String>) -> Self {
        self.context = context;
        self
    }

    pub(crate) fn header(mut self, name: &str, value: String) -> Self {
        self.extra_headers.push((name.to_owned(), value));
        self
    }

    pub(crate) fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// The sans-IO heart of one client (and of its constrained siblings).
///
/// Cheap to share: operations hold an `Arc<Engine>`.
#[derive(Debug)]
pub struct Engine {
    config: ClientConfig,
    signing_key: SigningKey,
    constraints: Option<String>,
    actor_id: Mutex<Option<String>>,
    last_retry_info: Mutex<Option<RetryInfo>>,
    entropy: Arc<dyn Entropy>,
}

impl Engine {
    /// An engine for this configuration; the signing key is derived once, here.
    ///
    /// # Errors
    ///
    /// `Error::Sdk` or `Error::InvalidInput` when the configuration is invalid (see
    /// [`ClientConfig::validate`]).
    pub fn new(config: ClientConfig, entropy: Arc<dyn Entropy>) -> Result<Arc<Self>> {
        config.validate()?;

        let signing_key = SigningKey::derive(config.api_key.expose_secret());
        Ok(Arc::new(Self {
            config,
            signing_key,
            constraints: None,
            actor_id: Mutex::new(None),
            last_retry_info: Mutex::new(None),
            entropy,
        }))
    }

    /// A sibling whose every request carries these scope constraints (PROTOCOL.md §3.4).
    ///
    /// The sibling starts with a copy of this engine's actor-id cache.
    ///
    /// # Errors
    ///
    /// `Error::InvalidInput` when `scopes` is empty, holds an empty scope or a character
    /// that cannot travel in a header, or when this engine is already constrained.
    pub fn with_constraints<S: AsRef<str>>(&self, scopes: &[S]) -> Result<Arc<Self>> {
        if self.constraints.is_some() {
            return Err(Error::invalid_input("scope constraints cannot be nested"));
        }
        if scopes.is_empty() {
            return Err(Error::invalid_input(
                "scope constraints need at least one scope",
            ));
        }
        for scope in scopes {
            let scope = scope.as_ref();
            if scope.is_empty() {
                return Err(Error::invalid_input("a scope constraint cannot be empty"));
            }
            if scope.contains(',') || !is_header_safe(scope) {
                return Err(Error::invalid_input(
                    "a scope constraint must be printable ASCII without commas",
                ));
            }
        }

        let joined = scopes
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(",");
        Ok(Arc::new(Self {
            config: self.config.clone(),
            signing_key: SigningKey::derive(self.config.api_key.expose_secret()),
            constraints: Some(joined),
            actor_id: Mutex::new(self.actor_id()),
            last_retry_info: Mutex::new(None),
            entropy: Arc::clone(&self.entropy),
        }))
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The scope constraints this engine signs with, if any.
    pub fn constraints(&self) -> Option<&str> {
        self.constraints.as_deref()
    }

    /// The actor id the backend assigned to this client's caller, once seen.
    pub fn actor_id(&self) -> Option<String> {
        self.actor_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The retry information of the last retrieve-mode token call.
    pub fn last_retry_info(&self) -> Option<RetryInfo> {
        self.last_retry_info
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_last_retry_info(&self, info: Option<RetryInfo>) {
        *self
            .last_retry_info
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = info;
    }

    /// Sixteen fresh random bytes from the injected entropy source.
    pub(crate) fn random_16(&self) -> [u8; 16] {
        self.entropy.random_16()
    }

    /// Builds and signs a backend request at `now`, with a fresh nonce.
    pub(crate) fn sign(&self, call: &BackendCall, now: Now) -> HttpRequest {
        let body = call.body.as_deref().unwrap_or_default();
        let nonce = hex_lower(&self.random_16());
        let signed_path = canonical_path_and_query(call.path.wire());
        let signature = self.signing_key.sign(&SigningInput {
            method: call.method,
            path_with_query: &signed_path,
            timestamp: now.unix_seconds(),
            nonce: &nonce,
            body,
            scope_constraints: self.constraints.as_deref().unwrap_or_default(),
        });

        let mut headers = self.identity_headers(&call.actor);
        if let Some(context) = &call.context {
            headers.push(("X-Alter-Context".to_owned(), context.clone()));
        }
        headers.extend(signature.to_headers());
        if call.body.is_some() {
            headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
        }
        headers.extend(call.extra_headers.iter().cloned());

        HttpRequest {
            target: Target::Backend,
            method: call.method.to_owned(),
            url: self.config.base_url.join(call.path.wire()),
            headers,
            body: body.to_vec(),
            timeout: Some(call.timeout.unwrap_or(self.config.timeout)),
        }
    }

    /// `x-api-key`, `User-Agent`, and the caller and actor headers of PROTOCOL.md §2.1–2.2.
    fn identity_headers(&self, actor: &Actor) -> Vec<(String, String)> {
        let mut headers = vec![
            (
                "x-api-key".to_owned(),
                self.config.api_key.expose_secret().to_owned(),
            ),
            ("User-Agent".to_owned(), self.config.user_agent.clone()),
        ];

        let caller = match actor {
            Actor::Override(caller) => Some(caller.as_str()),
            Actor::None | Actor::Cached => self.config.caller.as_deref(),
        };
        if let Some(caller) = caller {
            headers.push(("X-Alter-Caller".to_owned(), caller.to_owned()));
            headers.push((
                "X-Alter-Caller-Type".to_owned(),
                self.config.caller_type.as_str().to_owned(),
            ));
        }

        if *actor == Actor::Cached {
            if let Some(actor_id) = self.actor_id() {
                headers.push(("X-Alter-Actor-ID".to_owned(), actor_id));
            }
        }
        headers
    }

    /// Caches the `X-Alter-Actor-ID` of a backend response (PROTOCOL.md §2.2): the first
    /// valid UUID wins; a different later value is ignored.
    pub(crate) fn observe_actor_id(&self, response: &HttpResponse) {
        let Some(raw) = response.header("X-Alter-Actor-ID") else {
            return;
        };
        let Some(actor_id) = canonical_uuid(raw) else {
            tracing::debug!("ignoring an X-Alter-Actor-ID that is not a UUID");
            return;
        };

        let mut cached = self.actor_id.lock().unwrap_or_else(PoisonError::into_inner);
        match cached.as_deref() {
            None => *cached = Some(actor_id),
            Some(existing) if existing != actor_id => {
                tracing::debug!("ignoring an X-Alter-Actor-ID that differs from the cached one");
            }
            Some(_) => {}
        }
    }
}

/// Whether a value can travel in an HTTP header as is: printable ASCII or tab, no CR/LF/NUL.
pub(crate) fn is_header_safe(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

/// Checks a caller-supplied header value before any IO: no control character but tab
/// (CR and LF would split the request, NUL and DEL are refused by HTTP stacks).
pub(crate) fn check_header_value(what: &str, value: &str) -> Result<()> {
    if value.chars().any(|c| c.is_ascii_control() && c != '\t') {
        return Err(Error::invalid_input(format!(
            "{what} must not contain control characters (CR, LF, NUL, DEL, …)"
        )));
    }
    Ok(())
}

/// Checks an HTTP method: a non-empty token (RFC 9110 §9.1), so that no HTTP stack refuses
/// it after the credential was fetched.
pub(crate) fn check_method(method: &str) -> Result<()> {
    if method.is_empty() || !method.chars().all(is_token_char) {
        return Err(Error::invalid_input(format!(
            "{:?} is not a valid HTTP method",
            excerpt(method)
        )));
    }
    Ok(())
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Checks a caller-supplied header: the name must be an HTTP token (RFC 9110 §5.6.2) and
/// the value free of control characters.
pub(crate) fn check_header(name: &str, value: &str) -> Result<()> {
    if name.is_empty() || !name.chars().all(is_token_char) {
        return Err(Error::invalid_input(format!(
            "header name {:?} is not a valid HTTP header name",
            excerpt(name)
        )));
    }
    check_header_value("header value", value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_for_logs_hide_ids_and_queries() {
        let path = ApiPath::new("/sdk/agents")
            .param("3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c")
            .then("/keys")
            .param("key 1/2")
            .query([("force", "true")]);

        assert_eq!(path.route(), "/sdk/agents/{id}/keys/{id}");
        assert_eq!(
            path.wire(),
            "/sdk/agents/3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c/keys/key%201%2F2?force=true"
        );
    }

    #[test]
    fn bad_methods_and_header_names_are_echoed_cut() {
        let long = "x y".repeat(10_000);

        for error in [
            check_method(&long).unwrap_err(),
            check_header(&long, "v").unwrap_err(),
        ] {
            assert!(error.to_string().len() < 300, "{error}");
        }
    }

    #[test]
    fn header_values_with_line_breaks_or_nul_are_refused() {
        assert!(check_header_value("caller", "ok value").is_ok());
        assert!(check_header_value("caller", "a\rb").is_err());
        assert!(check_header_value("caller", "a\nb").is_err());
        assert!(check_header_value("caller", "a\0b").is_err());
    }
}

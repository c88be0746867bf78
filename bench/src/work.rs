//! The calls every run makes, through our clients or through a bare HTTP stack with the
//! same core-signed bytes.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use alter_core::api::{ProxyOutcome, ProxyRequest};
use alter_core::config::{ApiKey, BaseUrl};
use alter_core::{ClientConfig, Engine, Entropy, HttpRequest, Now, Operation, Step};

use crate::ready::Backend;

/// Which backend route a run exercises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// `POST /sdk/proxy`, which the fake executes against its provider's `/echo/…`.
    Proxy,
    /// `GET /sdk/approvals/{id}` of a pending approval.
    Approval,
}

impl Route {
    /// `proxy` or `approval`.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "proxy" => Some(Self::Proxy),
            "approval" => Some(Self::Approval),
            _ => None,
        }
    }

    /// The name [`Route::parse`] reads.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Proxy => "proxy",
            Self::Approval => "approval",
        }
    }
}

/// One kind of call, with everything needed to make it again and again.
#[derive(Clone, Debug)]
pub(crate) struct Work {
    route: Route,
    echo_url: String,
    grant_id: String,
    approval_id: String,
}

impl Work {
    /// Calls of `route`; `approval_id` names the pending approval the status reads poll.
    pub(crate) fn new(route: Route, backend: &Backend, approval_id: String) -> Self {
        Self {
            route,
            echo_url: backend.echo_url(),
            grant_id: backend.grants.api_key_header.clone(),
            approval_id,
        }
    }

    fn proxy_request(&self) -> ProxyRequest {
        ProxyRequest::new("GET", self.echo_url.as_str(), self.grant_id.as_str())
    }

    /// One call through alter-async; `true` when it succeeded.
    pub(crate) async fn run_async(&self, app: &alter_async::App) -> bool {
        match self.route {
            Route::Proxy => matches!(
                app.proxy_request(self.proxy_request()).await,
                Ok(ProxyOutcome::Completed(_))
            ),
            Route::Approval => app.get_approval_status(&self.approval_id).await.is_ok(),
        }
    }

    /// One call through alter-blocking; `true` when it succeeded.
    pub(crate) fn run_blocking(&self, app: &alter_blocking::App) -> bool {
        match self.route {
            Route::Proxy => matches!(
                app.proxy_request(self.proxy_request()),
                Ok(ProxyOutcome::Completed(_))
            ),
            Route::Approval => app.get_approval_status(&self.approval_id).is_ok(),
        }
    }

    /// The request our clients would send for this call, built and signed by the core
    /// (fresh timestamp and nonce: the backend refuses a replayed nonce).
    pub(crate) fn signed(&self, engine: &Arc<Engine>) -> Result<HttpRequest, String> {
        let now = Now::new(Instant::now(), SystemTime::now());
        let step = match self.route {
            Route::Proxy => engine
                .proxy_request(self.proxy_request())
                .map(|mut op| first_request(op.start(now))),
            Route::Approval => engine
                .get_approval_status(&self.approval_id)
                .map(|mut op| first_request(op.start(now))),
        };
        step.map_err(|error| error.to_string())?
            .ok_or_else(|| "the core did not ask for a request".to_owned())
    }
}

fn first_request<T>(step: Step<T>) -> Option<HttpRequest> {
    match step {
        Step::Send(request) => Some(request),
        Step::Detach(_) | Step::WaitUntil(_) | Step::Done(_) => None,
    }
}

/// A core engine configured as our clients are by default, for the bare stacks.
pub(crate) fn engine(backend: &Backend) -> Result<Arc<Engine>, String> {
    let api_key = ApiKey::parse(&backend.app_key).map_err(|error| error.to_string())?;
    let base_url = BaseUrl::parse(&backend.base_url).map_err(|error| error.to_string())?;
    Engine::new(ClientConfig::new(api_key, base_url), Arc::new(OsEntropy))
        .map_err(|error| error.to_string())
}

/// An alter-async app on the fake.
pub(crate) fn async_app(backend: &Backend) -> Result<alter_async::App, String> {
    alter_async::App::builder()
        .base_url(backend.base_url.as_str())
        .api_key(backend.app_key.as_str())
        .build()
        .map_err(|error| error.to_string())
}

/// An alter-blocking app on the fake.
pub(crate) fn blocking_app(backend: &Backend) -> Result<alter_blocking::App, String> {
    alter_blocking::App::builder()
        .base_url(backend.base_url.as_str())
        .api_key(backend.app_key.as_str())
        .build()
        .map_err(|error| error.to_string())
}

/// Creates one approval that stays pending (a proxied call on the approval-gated grant).
pub(crate) async fn pending_approval(
    app: &alter_async::App,
    backend: &Backend,
) -> Result<String, String> {
    let request = ProxyRequest::new("GET", backend.echo_url(), backend.grants.hitl.as_str());
    match app.proxy_request(request).await {
        Ok(ProxyOutcome::Pending(pending)) => Ok(pending.approval_id.to_string()),
        Ok(_) => Err("the approval-gated grant executed at once".to_owned()),
        Err(error) => Err(format!("cannot create an approval: {error}")),
    }
}

/// The operating system's random generator, as our frontends use it.
#[derive(Debug)]
struct OsEntropy;

impl Entropy for OsEntropy {
    fn random_16(&self) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        if getrandom::fill(&mut bytes).is_err() {
            // Only the benchmark's bare client uses this; a nonce that is merely unique
            // (time and a counter) is enough for the fake backend's replay check.
            bytes = fallback_nonce();
        }
        bytes
    }
}

fn fallback_nonce() -> [u8; 16] {
    use std::sync::atomic::{AtomicU64, Ordering};

    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&nanos.to_le_bytes());
    bytes[8..].copy_from_slice(&count.to_le_bytes());
    bytes
}

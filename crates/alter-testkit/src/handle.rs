//! [`FakeAlter`]: the running fake, its seeded data, and the control methods tests call.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use alter_types::{ApprovalStatus, ApprovalStatusValue, AuthPollResponse, ConnectPollResponse};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::runtime::Handle;
use tokio::sync::watch;
use uuid::Uuid;

use crate::app::{AppState, Shared};
use crate::control::{self, ControlError};
use crate::faults::{FaultSpec, route_matches, split_route};
use crate::outbound::Outbound;
use crate::record::{AuditRecord, Listener, RecordedRequest, ScopeReport};
use crate::routes;
use crate::server::serve;
use crate::spec::{AuthCompletion, ConnectCompletion, GrantSpec, GrantStatus};
use crate::state::ids::Rng;
use crate::state::seed::seed;
use crate::state::{Settings, SharedStore, Store};

/// Ids of the grants every fake starts with, one per injection style and access path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeededGrants {
    /// Google OAuth grant of `user-alice` (`alice@example.com`): `Authorization: Bearer`.
    pub oauth_bearer: String,
    /// System grant whose API key goes in `X-Api-Key`.
    pub api_key_header: String,
    /// System grant injected as `X-Api-Key` plus the query parameter `api_key`.
    pub query_param: String,
    /// System grant injected as `Authorization: Bearer` plus `X-Account-Id`.
    pub multi_header: String,
    /// AWS credentials signed with SigV4 (region `us-east-1`, service `execute-api`).
    pub aws_sigv4: String,
    /// Grant whose proxy calls need a human approval.
    pub hitl: String,
    /// GitHub grant of `user-bob`, delegated to the seeded agent.
    pub agent_delegated: String,
    /// Managed-secret grant owned by the seeded agent (`X-Acme-Key`).
    pub managed_secret_agent: String,
}

impl SeededGrants {
    /// Every seeded grant id.
    pub fn all(&self) -> [&str; 8] {
        [
            &self.oauth_bearer,
            &self.api_key_header,
            &self.query_param,
            &self.multi_header,
            &self.aws_sigv4,
            &self.hitl,
            &self.agent_delegated,
            &self.managed_secret_agent,
        ]
    }
}

/// What a running fake tells its users: the binary prints it as its ready line, and
/// `GET /_testkit/state` answers it.
///
/// Its `Debug` output leaves out the keys and the user token.
#[derive(Clone, Serialize, Deserialize)]
pub struct ReadyInfo {
    /// The backend's base URL (give it to the SDK).
    pub base_url: String,
    /// The fake provider's base URL.
    pub provider_base_url: String,
    /// The app key (`alter_rk_…`).
    pub app_key: String,
    /// The app key's id (for `keys.rotate` and `keys.revoke`).
    pub app_key_id: Uuid,
    /// The seeded agent's key (`alter_ak_…`).
    pub agent_key: String,
    /// The seeded agent key's id.
    pub agent_key_id: Uuid,
    /// The seeded agent's id.
    pub agent_id: Uuid,
    /// The seeded managed secret's id.
    pub managed_secret_id: String,
    /// A user token of the seeded user `user-alice`.
    pub user_token: String,
    /// The seeded grants.
    pub grants: SeededGrants,
}

impl ReadyInfo {
    pub(crate) fn from_state(state: &AppState) -> Option<Self> {
        let store = state.store.lock();
        let seeded = store.seeded.as_ref()?;
        Some(Self {
            base_url: state.base_url.clone(),
            provider_base_url: state.provider_base_url.clone(),
            app_key: seeded.app_key.clone(),
            app_key_id: seeded.app_key_id,
            agent_key: seeded.agent_key.clone(),
            agent_key_id: seeded.agent_key_id,
            agent_id: seeded.agent_id,
            managed_secret_id: seeded.managed_secret_id.clone(),
            user_token: seeded.user_token.clone(),
            grants: seeded.grants.clone(),
        })
    }
}

impl fmt::Debug for ReadyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadyInfo")
            .field("base_url", &self.base_url)
            .field("provider_base_url", &self.provider_base_url)
            .field("agent_id", &self.agent_id)
            .field("managed_secret_id", &self.managed_secret_id)
            .field("grants", &self.grants)
            .finish_non_exhaustive()
    }
}

/// Why the fake could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// An address is not a loopback address; the fake never listens elsewhere.
    NotLoopback(SocketAddr),
    /// A listener could not be bound.
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The server thread or its runtime could not be started.
    Runtime(std::io::Error),
    /// The server thread ended before it was ready.
    ThreadExited,
    /// The seed data could not be created.
    Seed(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotLoopback(addr) => write!(f, "{addr} is not a loopback address"),
            Self::Bind { addr, .. } => write!(f, "cannot listen on {addr}"),
            Self::Runtime(_) => f.write_str("cannot start the server thread"),
            Self::ThreadExited => f.write_str("the server thread exited before it was ready"),
            Self::Seed(why) => write!(f, "cannot seed the fake: {why}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Bind { source, .. } | Self::Runtime(source) => Some(source),
            Self::NotLoopback(_) | Self::ThreadExited | Self::Seed(_) => None,
        }
    }
}

/// Options of a fake; see [`FakeAlter::builder`].
#[derive(Clone, Debug)]
pub struct Builder {
    addr: SocketAddr,
    provider_addr: SocketAddr,
    settings: Settings,
    seed: Option<u64>,
    mount_prefix: String,
}

impl Builder {
    /// Where the backend listens; must be loopback. Defaults to `127.0.0.1:0` (a free port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Where the fake provider listens; must be loopback. Defaults to `127.0.0.1:0`.
    pub fn provider_addr(mut self, addr: SocketAddr) -> Self {
        self.provider_addr = addr;
        self
    }

    /// How far a request's timestamp may be from the fake's clock. Defaults to 300 s.
    pub fn timestamp_window(mut self, window: Duration) -> Self {
        self.settings.timestamp_window = window;
        self
    }

    /// How long a pending approval waits before it expires on its own. Defaults to 900 s.
    pub fn approval_ttl(mut self, ttl: Duration) -> Self {
        self.settings.approval_ttl = ttl;
        self
    }

    /// How long connect and sign-in sessions stay pending. Defaults to 600 s.
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.settings.session_ttl = ttl;
        self
    }

    /// Makes keys, ids and tokens reproducible. Defaults to a random seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Serves the backend under a path prefix (e.g. `/api`), as behind a gateway; the base
    /// URL then ends with it and signatures cover the path without it. Defaults to none.
    pub fn mount_prefix(mut self, prefix: &str) -> Self {
        self.mount_prefix = prefix.trim_end_matches('/').to_owned();
        self
    }

    /// Starts the fake on its own thread and returns once both listeners are bound.
    ///
    /// # Errors
    ///
    /// [`StartError`] when an address is not loopback or cannot be bound, or the thread
    /// cannot start.
    pub fn start(self) -> Result<FakeAlter, StartError> {
        for addr in [self.addr, self.provider_addr] {
            if !addr.ip().is_loopback() {
                return Err(StartError::NotLoopback(addr));
            }
        }

        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("alter-testkit".to_owned())
            .spawn(move || run_server(self, ready_tx))
            .map_err(StartError::Runtime)?;

        match ready_rx.recv() {
            Ok(Ok(started)) => Ok(FakeAlter {
                info: started.info,
                state: started.state,
                runtime: started.runtime,
                shutdown: Some(started.shutdown),
                thread: Some(thread),
            }),
            Ok(Err(error)) => {
                let _ = thread.join();
                Err(error)
            }
            Err(_) => {
                let _ = thread.join();
                Err(StartError::ThreadExited)
            }
        }
    }
}

/// What the server thread hands back once it listens.
struct Started {
    info: ReadyInfo,
    state: AppState,
    runtime: Handle,
    shutdown: watch::Sender<bool>,
}

/// The server thread: a Tokio runtime serving both listeners until shutdown.
fn run_server(builder: Builder, ready: mpsc::Sender<Result<Started, StartError>>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = ready.send(Err(StartError::Runtime(error)));
            return;
        }
    };

    runtime.block_on(async move {
        let bind = |addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Bind { addr, source })
        };
        let (backend, provider) =
            match (bind(builder.addr).await, bind(builder.provider_addr).await) {
                (Ok(backend), Ok(provider)) => (backend, provider),
                (Err(error), _) | (_, Err(error)) => {
                    let _ = ready.send(Err(error));
                    return;
                }
            };
        let (Ok(backend_addr), Ok(provider_addr)) = (backend.local_addr(), provider.local_addr())
        else {
            let _ = ready.send(Err(StartError::ThreadExited));
            return;
        };

        let rng = builder.seed.map_or_else(Rng::from_entropy, Rng::seeded);
        let mut store = Store::new(builder.settings.clone(), rng);
        if let Err(why) = seed(&mut store) {
            let _ = ready.send(Err(StartError::Seed(why)));
            return;
        }
        let state = AppState(Arc::new(Shared {
            store: SharedStore::new(store),
            base_url: format!("http://{backend_addr}{}", builder.mount_prefix),
            mount_prefix: builder.mount_prefix.clone(),
            provider_base_url: format!("http://{provider_addr}"),
            outbound: Outbound::new(),
        }));
        let Some(info) = ReadyInfo::from_state(&state) else {
            let _ = ready.send(Err(StartError::ThreadExited));
            return;
        };

        let (shutdown, stop) = watch::channel(false);
        let router = routes::router(state.clone());
        let started = Started {
            info,
            state: state.clone(),
            runtime: Handle::current(),
            shutdown,
        };
        if ready.send(Ok(started)).is_err() {
            return;
        }
        tokio::join!(
            serve(
                backend,
                Listener::Backend,
                state.clone(),
                router.clone(),
                stop.clone()
            ),
            serve(provider, Listener::Provider, state, router, stop),
        );
    });

    // Connections still open are cut here: the test that owned the fake is over.
    runtime.shutdown_timeout(Duration::from_secs(1));
}

/// A running fake Alter backend and fake provider on loopback.
///
/// Start it with [`FakeAlter::start`] (or [`FakeAlter::builder`]); point an SDK at
/// [`base_url`](Self::base_url) with [`app_key`](Self::app_key) or
/// [`agent_key`](Self::agent_key). Dropping it stops both listeners and joins the server
/// thread. It works the same from plain code and from inside any async runtime: the server
/// has its own thread and runtime.
///
/// The control methods block until done; those that run a provider call
/// ([`approve`](Self::approve), [`execute`](Self::execute)) wait for it, over loopback.
pub struct FakeAlter {
    info: ReadyInfo,
    state: AppState,
    runtime: Handle,
    shutdown: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeAlter {
    /// Starts a fake with the default options on free loopback ports.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound or no thread can be started; use
    /// [`Builder::start`] to handle that as an error.
    pub fn start() -> Self {
        match Self::builder().start() {
            Ok(fake) => fake,
            Err(error) => panic!("alter-testkit could not start: {error}"),
        }
    }

    /// Options for a fake: fixed ports, timestamp window, TTLs, seed, mount prefix.
    pub fn builder() -> Builder {
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        Builder {
            addr: loopback,
            provider_addr: loopback,
            settings: Settings::default(),
            seed: None,
            mount_prefix: String::new(),
        }
    }

    /// Everything the binary prints in its ready line.
    pub fn ready_info(&self) -> &ReadyInfo {
        &self.info
    }

    /// The backend's base URL, e.g. `http://127.0.0.1:43127`.
    pub fn base_url(&self) -> &str {
        &self.info.base_url
    }

    /// The fake provider's base URL.
    pub fn provider_base_url(&self) -> &str {
        &self.info.provider_base_url
    }

    /// The app key (`alter_rk_…`), holding every scope.
    ///
    /// # Security
    ///
    /// A real key format with a valid checksum, valid only against this fake.
    pub fn app_key(&self) -> &str {
        &self.info.app_key
    }

    /// The seeded agent's key (`alter_ak_…`).
    pub fn agent_key(&self) -> &str {
        &self.info.agent_key
    }

    /// The seeded agent's id.
    pub fn agent_id(&self) -> Uuid {
        self.info.agent_id
    }

    /// The seeded managed secret's id.
    pub fn managed_secret_id(&self) -> &str {
        &self.info.managed_secret_id
    }

    /// A user token of the seeded user `user-alice`, owner of the `oauth_bearer` grant.
    pub fn user_token(&self) -> &str {
        &self.info.user_token
    }

    /// The seeded grants.
    pub fn grants(&self) -> &SeededGrants {
        &self.info.grants
    }

    /// Approves a pending approval and executes its provider call; returns the final
    /// status (`executed` or `failed`).
    ///
    /// # Errors
    ///
    /// [`ControlError::NotFound`] for an unknown id, [`ControlError::Conflict`] when it is
    /// not pending.
    pub fn approve(&self, approval_id: &str) -> Result<ApprovalStatus, ControlError> {
        let (state, id) = (self.state.clone(), approval_id.to_owned());
        self.block_on(async move { control::approve(&state, &id, true).await })
    }

    /// Approves a pending approval and leaves it `approved`; run it with
    /// [`execute`](Self::execute).
    ///
    /// # Errors
    ///
    /// As [`approve`](Self::approve).
    pub fn approve_without_executing(
        &self,
        approval_id: &str,
    ) -> Result<ApprovalStatus, ControlError> {
        let (state, id) = (self.state.clone(), approval_id.to_owned());
        self.block_on(async move { control::approve(&state, &id, false).await })
    }

    /// Executes an approved approval: `approved → executing → executed | failed`.
    ///
    /// # Errors
    ///
    /// [`ControlError::NotFound`], or [`ControlError::Conflict`] when it is not approved.
    pub fn execute(&self, approval_id: &str) -> Result<ApprovalStatus, ControlError> {
        let (state, id) = (self.state.clone(), approval_id.to_owned());
        self.block_on(async move { control::run(&state, &id).await })
    }

    /// Denies a pending approval, with an optional reason the SDK reports.
    ///
    /// # Errors
    ///
    /// [`ControlError::NotFound`], or [`ControlError::Conflict`] when it is not pending.
    pub fn deny(
        &self,
        approval_id: &str,
        reason: Option<&str>,
    ) -> Result<ApprovalStatus, ControlError> {
        control::deny(&self.state, approval_id, reason.map(str::to_owned))
    }

    /// Expires a pending approval.
    ///
    /// # Errors
    ///
    /// [`ControlError::NotFound`], or [`ControlError::Conflict`] when it is not pending.
    pub fn expire(&self, approval_id: &str) -> Result<ApprovalStatus, ControlError> {
        control::expire(&self.state, approval_id)
    }

    /// Every status an approval went through, in order.
    ///
    /// # Errors
    ///
    /// [`ControlError::NotFound`] for an unknown id.
    pub fn approval_history(
        &self,
        approval_id: &str,
    ) -> Result<Vec<ApprovalStatusValue>, ControlError> {
        control::history(&self.state, approval_id)
    }

    /// Tokens of the connect sessions still pending, oldest first; for completing a session
    /// that `connect()` opened internally.
    pub fn pending_connect_sessions(&self) -> Vec<String> {
        self.state.store.lock().pending_connect_tokens()
    }

    /// Tokens of the sign-in sessions still pending, oldest first; for completing the
    /// session `authenticate()` opened internally.
    pub fn pending_auth_sessions(&self) -> Vec<String> {
        self.state.store.lock().pending_auth_tokens()
    }

    /// Completes a connect session as the user would: a grant is created and the next poll
    /// answers `completed`. The token `latest` names the newest pending session.
    ///
    /// # Errors
    ///
    /// [`ControlError::NotFound`] for an unknown token, [`ControlError::Conflict`] when the
    /// session is no longer pending.
    pub fn complete_connect(
        &self,
        session_token: &str,
    ) -> Result<ConnectPollResponse, ControlError> {
        self.complete_connect_with(session_token, &ConnectCompletion::default())
    }

    /// Ends a connect session as `completion` says (completed with given details, error,
    /// or expired).
    ///
    /// # Errors
    ///
    /// As [`complete_connect`](Self::complete_connect).
    pub fn complete_connect_with(
        &self,
        session_token: &str,
        completion: &ConnectCompletion,
    ) -> Result<ConnectPollResponse, ControlError> {
        control::complete_connect(&self.state, session_token, completion)
    }

    /// Completes a sign-in session; returns the user token the next poll hands out. The
    /// token `latest` names the newest pending session.
    ///
    /// # Errors
    ///
    /// [`ControlError::NotFound`] for an unknown token, [`ControlError::Conflict`] when the
    /// session is no longer pending.
    pub fn complete_auth(&self, session_token: &str) -> Result<String, ControlError> {
        let poll = self.complete_auth_with(session_token, &AuthCompletion::default())?;
        poll.user_token
            .map(|token| token.expose_secret().to_owned())
            .ok_or_else(|| ControlError::Conflict("the sign-in issued no token".to_owned()))
    }

    /// Ends a sign-in session as `completion` says; returns what the next poll answers.
    ///
    /// # Errors
    ///
    /// As [`complete_auth`](Self::complete_auth).
    pub fn complete_auth_with(
        &self,
        session_token: &str,
        completion: &AuthCompletion,
    ) -> Result<AuthPollResponse, ControlError> {
        let poll = control::complete_auth(&self.state, session_token, completion)?;
        serde_json::from_value(poll).map_err(|error| ControlError::Invalid(error.to_string()))
    }

    /// Issues a user token for the end user `sub`, as a finished sign-in would.
    pub fn issue_user_token(&self, sub: &str) -> String {
        self.state
            .store
            .lock()
            .issue_user_token(sub, serde_json::Map::new())
    }

    /// Creates a grant; returns its id.
    ///
    /// # Errors
    ///
    /// [`ControlError::Invalid`] when the spec names an unknown agent or managed secret.
    pub fn add_grant(&self, spec: &GrantSpec) -> Result<String, ControlError> {
        control::add_grant(&self.state, spec)
    }

    /// Changes a grant's life-cycle state (revoked, expired, deleted, …).
    ///
    /// # Errors
    ///
    /// [`ControlError::NotFound`] for an unknown grant.
    pub fn set_grant_status(
        &self,
        grant_id: &str,
        status: GrantStatus,
    ) -> Result<(), ControlError> {
        control::set_grant_status(&self.state, grant_id, status)
    }

    /// Arms a fault; it hits the next matching requests, then disarms.
    ///
    /// # Panics
    ///
    /// When the fault fails [`FaultSpec::validate`] (a status outside `100..=599`, a delay over
    /// [`FaultAction::MAX_DELAY_MS`](crate::FaultAction::MAX_DELAY_MS), a path pattern not
    /// starting with `/`): a test that meant to inject a fault must not pass because none was
    /// armed. [`try_inject_fault`](Self::try_inject_fault) returns the reason instead.
    pub fn inject_fault(&self, fault: FaultSpec) {
        if let Err(error) = control::inject_fault(&self.state, fault) {
            panic!("alter-testkit: fault not armed: {error}");
        }
    }

    /// Arms a fault, or says why it cannot be armed.
    ///
    /// ```
    /// use alter_testkit::{ControlError, FakeAlter, FaultAction, FaultError, FaultSpec};
    ///
    /// let fake = FakeAlter::start();
    /// let refused = fake.try_inject_fault(FaultSpec::new("* /**", FaultAction::status(0)));
    /// assert_eq!(refused, Err(ControlError::InvalidFault(FaultError::Status(0))));
    /// ```
    ///
    /// # Errors
    ///
    /// [`ControlError::InvalidFault`] when the fault fails [`FaultSpec::validate`].
    pub fn try_inject_fault(&self, fault: FaultSpec) -> Result<(), ControlError> {
        control::inject_fault(&self.state, fault)
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.state.store.lock().faults.clear();
    }

    /// The audit rows stored so far (SDK uploads and the fake's own proxy rows).
    pub fn audit_rows(&self) -> Vec<AuditRecord> {
        self.state.store.lock().audit.clone()
    }

    /// The scope-mismatch reports stored so far.
    pub fn scope_reports(&self) -> Vec<ScopeReport> {
        self.state.store.lock().scope_reports.clone()
    }

    /// Every request both listeners received, in order, control requests (`/_testkit/…`,
    /// but for the `redirected` target) left out.
    pub fn recorded_requests(&self) -> Vec<RecordedRequest> {
        self.state.store.lock().requests.clone()
    }

    /// Forgets the recorded requests.
    pub fn forget_requests(&self) {
        self.state.store.lock().requests.clear();
    }

    /// How many recorded requests match `route`, written `METHOD /path/pattern` (see
    /// [`route_matches`](crate::route_matches)); for "at most once" checks.
    pub fn route_hits(&self, route: &str) -> usize {
        let (method, path) = split_route(route);
        self.state
            .store
            .lock()
            .requests
            .iter()
            .filter(|request| route_matches(&method, &path, &request.method, &request.path))
            .count()
    }

    /// Runs a future on the fake's runtime and waits for it from this thread.
    fn block_on<T: Send + 'static>(
        &self,
        future: impl Future<Output = Result<T, ControlError>> + Send + 'static,
    ) -> Result<T, ControlError> {
        let (tx, rx) = mpsc::channel();
        self.runtime.spawn(async move {
            let _ = tx.send(future.await);
        });
        rx.recv().unwrap_or(Err(ControlError::Stopped))
    }
}

impl fmt::Debug for FakeAlter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeAlter")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeAlter {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(true);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

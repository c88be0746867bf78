//! The public method surface of the `App` and `Agent` clients, written once for both
//! frontends.
//!
//! `alter-blocking` expands these macros with no keywords, `alter-async` with `async` and
//! `.await`, so the two clients have the same methods, arguments, documentation and
//! behaviour by construction. A frontend only provides, on its client type's `inner` field:
//!
//! - `fn engine(&self) -> &Arc<Engine>`;
//! - `[async] fn run<O: Operation>(&self, op: O) -> Result<O::Output>`: the driver loop;
//! - `[async] fn user_token(&self) -> Result<Option<Secret>>`: the token getter's answer;
//! - `fn ambient_context(&self) -> Option<Vec<(String, String)>>`: the trace context;
//! - `fn state(&self) -> &ClientState`: closing, installed token, URL handler
//!   ([`crate::lifecycle::ClientState`]).

/// Options of `await_approval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AwaitOptions {
    /// How long to wait for a decision. Defaults to 300 s.
    pub timeout: std::time::Duration,
    /// Time between two polls, at least 100 ms. Defaults to 2 s.
    pub poll_interval: std::time::Duration,
}

impl Default for AwaitOptions {
    fn default() -> Self {
        Self {
            timeout: crate::poll::DEFAULT_POLL_TIMEOUT,
            poll_interval: crate::poll::DEFAULT_POLL_INTERVAL,
        }
    }
}

impl AwaitOptions {
    /// Waits at most `timeout`.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Polls every `poll_interval` (at least 100 ms).
    pub fn poll_interval(mut self, poll_interval: std::time::Duration) -> Self {
        self.poll_interval = poll_interval;
        self
    }
}

/// Options of `connect`: the session to open and how long to wait for the end user.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// The connect session to open.
    pub session: crate::api::ConnectSessionParams,
    /// How long to wait for the end user; and the poll interval.
    pub wait: AwaitOptions,
}

impl ConnectOptions {
    /// Lets the end user connect one of these providers.
    pub fn providers(providers: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let mut options = Self::default();
        options.session.allowed_providers = Some(providers.into_iter().map(Into::into).collect());
        options
    }
}

/// Expands to the methods that `App` and `Agent` share.
#[doc(hidden)]
#[macro_export]
macro_rules! __alter_shared_methods {
    ([$($async:tt)*] [$($await:tt)*]) => {
        /// Calls a provider in retrieve mode: Alter hands this process the credential of the
        /// grant, the SDK injects it and makes the call, then uploads an audit row in the
        /// background. The credential never appears in logs or errors.
        ///
        /// When the request carries no `context`, the ambient trace context is used.
        ///
        /// # Errors
        ///
        /// Input errors before any IO; the backend's typed errors for the token call
        /// (`GrantNotFound`, `PolicyViolation`, `AmbiguousGrant`, …); `ProviderApi` or
        /// `ScopeReauthRequired` for a provider answer of 400 or more (unless `raw`);
        /// `Network` / `Timeout` for transport failures.
        pub $($async)* fn request(
            &self,
            mut request: $crate::api::RetrieveRequest,
        ) -> $crate::Result<$crate::api::ProviderResponse> {
            self.inner.state().ensure_open()?;
            if request.context.is_none() {
                request.context = self.inner.ambient_context();
            }
            let token = self.inner.user_token()$($await)*?;
            let op = self.inner.engine().request(request, token.as_ref())?;
            self.inner.run(op)$($await)*
        }

        /// Asks the backend to make a provider call with the grant's credential (proxy
        /// mode). Returns the provider's answer, or a pending approval when the grant
        /// requires a human's approval first. Never sent twice.
        ///
        /// # Errors
        ///
        /// Input errors (forbidden credential headers, CR/LF in values) before any IO;
        /// approval errors and `Backend` errors from the backend; `Network` / `Timeout`,
        /// whose `may_have_reached_server()` says whether the call may have executed.
        pub $($async)* fn proxy_request(
            &self,
            request: $crate::api::ProxyRequest,
        ) -> $crate::Result<$crate::api::ProxyOutcome> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().proxy_request(request)?;
            self.inner.run(op)$($await)*
        }

        /// The current state of an approval.
        ///
        /// # Errors
        ///
        /// `Backend` for an error answer (transient for 502/503/504); `Network` / `Timeout`.
        pub $($async)* fn get_approval_status(
            &self,
            approval_id: &str,
        ) -> $crate::Result<$crate::types::ApprovalStatus> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().get_approval_status(approval_id)?;
            self.inner.run(op)$($await)*
        }

        /// Waits until a human decides on an approval, then returns the executed call's
        /// result.
        ///
        /// # Errors
        ///
        /// `ApprovalDenied`, `ApprovalExpired`, `ApprovalExecutionFailed` for those
        /// decisions; `ApprovalTimeout` when no decision came in time (its source is the
        /// last transient failure, if any); non-transient backend errors at once.
        pub $($async)* fn await_approval(
            &self,
            approval_id: &str,
            options: $crate::surface::AwaitOptions,
        ) -> $crate::Result<$crate::types::ApprovalResult> {
            self.inner.state().ensure_open()?;
            let op = $crate::poll::AwaitApproval::new(
                self.inner.engine(),
                approval_id,
                options.timeout,
                options.poll_interval,
            )?;
            self.inner.run(op)$($await)*
        }

        /// Opens a connect session: a URL where the end user authorizes a provider.
        ///
        /// # Errors
        ///
        /// Input errors; the backend's typed errors; `Network` / `Timeout`.
        pub $($async)* fn create_connect_session(
            &self,
            params: $crate::api::ConnectSessionParams,
        ) -> $crate::Result<$crate::types::ConnectSession> {
            self.inner.state().ensure_open()?;
            let token = self.inner.user_token()$($await)*?;
            let op = self.inner.engine().create_connect_session(params, token.as_ref())?;
            self.inner.run(op)$($await)*
        }

        /// Opens a connect session, hands its URL to the client's URL handler, and waits
        /// until the end user has connected.
        ///
        /// # Errors
        ///
        /// Those of `create_connect_session`; `ConnectDenied`, `ConnectConfig`,
        /// `ConnectFlow` when the flow fails; `ConnectTimeout` at the deadline.
        pub $($async)* fn connect(
            &self,
            options: $crate::surface::ConnectOptions,
        ) -> $crate::Result<Vec<$crate::types::ConnectResult>> {
            let session = self.create_connect_session(options.session)$($await)*?;
            self.inner.state().show_url("connect", &session.connect_url);
            let op = $crate::poll::AwaitConnect::new(
                self.inner.engine(),
                session.session_token,
                options.wait.timeout,
                options.wait.poll_interval,
            );
            self.inner.run(op)$($await)*
        }

        /// Derives a narrower, short-lived key from this client's key.
        ///
        /// # Errors
        ///
        /// Input errors; `InsufficientScope` and other backend errors; `Network` / `Timeout`.
        pub $($async)* fn derive_key(
            &self,
            params: $crate::api::DeriveKey,
        ) -> $crate::Result<$crate::types::MintedKey> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().keys_derive(params)?;
            self.inner.run(op)$($await)*
        }

        /// Rotates a key; the old one keeps working for `overlap_days` (0 to 30).
        ///
        /// # Errors
        ///
        /// Input errors; backend errors; `Network` / `Timeout`.
        pub $($async)* fn rotate_key(
            &self,
            key_id: &str,
            overlap_days: u32,
        ) -> $crate::Result<$crate::types::MintedKey> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().keys_rotate(key_id, overlap_days)?;
            self.inner.run(op)$($await)*
        }

        /// Revokes a key (`force` also revokes a key still in its rotation overlap).
        ///
        /// # Errors
        ///
        /// Input errors; backend errors; `Network` / `Timeout`.
        pub $($async)* fn revoke_key(
            &self,
            key_id: &str,
            force: bool,
        ) -> $crate::Result<$crate::types::ApiKeyInfo> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().keys_revoke(key_id, force)?;
            self.inner.run(op)$($await)*
        }

        /// The catalogue of scopes keys can hold.
        ///
        /// # Errors
        ///
        /// Backend errors; `Network` / `Timeout`.
        pub $($async)* fn list_scopes(&self) -> $crate::Result<$crate::types::ScopeCatalog> {
            self.inner.state().ensure_open()?;
            self.inner.run(self.inner.engine().scopes_list())$($await)*
        }
    };
}

/// Expands to the methods only the operator `App` has.
#[doc(hidden)]
#[macro_export]
#[expect(
    clippy::crate_in_macro_def,
    reason = "`crate::` names the frontend that expands the macro: its Agent, builder and entropy"
)]
macro_rules! __alter_app_methods {
    ([$($async:tt)*] [$($await:tt)*]) => {
        /// An `Agent` that acts as the agent `agent_id` with this app's key
        /// (impersonation). It shares this app's connections and has no token getter.
        ///
        /// # Errors
        ///
        /// `InvalidInput` when `agent_id` is not a UUID; `Closed` after `close`.
        pub fn get_agent(&self, agent_id: &str) -> $crate::Result<crate::Agent> {
            self.inner.state().ensure_open()?;
            let config = self.inner.engine().config().impersonating(agent_id)?;
            let engine = $crate::Engine::new(
                config,
                std::sync::Arc::new(crate::entropy::OsEntropy),
            )?;
            Ok(crate::Agent { inner: std::sync::Arc::new(self.inner.derive(engine, false)) })
        }

        /// One page of the grants this app (or the token getter's end user) can see.
        ///
        /// # Errors
        ///
        /// Input errors; backend errors; `Network` / `Timeout`.
        pub $($async)* fn list_grants(
            &self,
            params: $crate::api::ListGrants,
        ) -> $crate::Result<$crate::types::UnifiedGrantListResult> {
            self.inner.state().ensure_open()?;
            let token = self.inner.user_token()$($await)*?;
            let op = self.inner.engine().list_grants(params, token.as_ref())?;
            self.inner.run(op)$($await)*
        }

        /// Revokes a grant.
        ///
        /// # Errors
        ///
        /// `GrantNotFound` when it does not exist, is not active or is not the end
        /// user's; other backend errors; `Network` / `Timeout`.
        pub $($async)* fn revoke_grant(
            &self,
            grant_id: &str,
            reason: Option<&str>,
        ) -> $crate::Result<$crate::types::RevokeGrantResult> {
            self.inner.state().ensure_open()?;
            let token = self.inner.user_token()$($await)*?;
            let op = self.inner.engine().revoke_grant(grant_id, reason, token.as_ref())?;
            self.inner.run(op)$($await)*
        }

        /// Withdraws an agent's delegation of a grant.
        ///
        /// # Errors
        ///
        /// `PolicyViolation` (`use_self_revoke_path`) with an agent key; backend errors.
        pub $($async)* fn revoke_delegation(
            &self,
            grant_id: &str,
            agent_id: &str,
        ) -> $crate::Result<()> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().revoke_delegation(grant_id, Some(agent_id))?;
            self.inner.run(op)$($await)*
        }

        /// Grants a principal access to a managed secret.
        ///
        /// An agent principal carries no agent id: it binds to the agent whose key signs
        /// the call. To grant a managed secret to an agent, call this on an `App` built
        /// with that agent's key (the quickstart does so right after minting the key).
        ///
        /// # Errors
        ///
        /// `GrantNotFound` when the secret does not exist; other backend errors.
        pub $($async)* fn create_managed_secret_grant(
            &self,
            managed_secret_id: &str,
            principal: &$crate::types::Principal,
            grant_policy: Option<&$crate::types::GrantPolicyInput>,
        ) -> $crate::Result<$crate::types::CreateGrantResult> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().create_managed_secret_grant(
                managed_secret_id,
                principal,
                grant_policy,
            )?;
            self.inner.run(op)$($await)*
        }

        /// Opens a session where an end user enters a managed secret for an agent.
        ///
        /// # Errors
        ///
        /// Input errors; backend errors; `Network` / `Timeout`.
        pub $($async)* fn create_managed_secret_connect_session(
            &self,
            params: $crate::api::ManagedSecretConnectParams,
        ) -> $crate::Result<$crate::types::ManagedSecretConnectSession> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().create_managed_secret_connect_session(params)?;
            self.inner.run(op)$($await)*
        }

        /// Checks an end user's token; its subject, or `None` when it is not valid (or
        /// could not be checked). Never an error.
        pub $($async)* fn verify_user_token(&self, token: &str) -> Option<String> {
            if self.inner.state().ensure_open().is_err() {
                return None;
            }
            let op = self.inner.engine().verify_user_token(token)?;
            self.inner.run(op)$($await)*.ok().flatten()
        }

        /// Creates an agent. With an idempotency key, a repeated create returns the same
        /// agent (without its key).
        ///
        /// # Errors
        ///
        /// `AgentNameExists`, `IdempotencyKeyBodyMismatch` and other agent errors.
        pub $($async)* fn create_agent(
            &self,
            params: $crate::api::CreateAgent,
        ) -> $crate::Result<$crate::types::AgentCreateResult> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().agents_create(params)?;
            self.inner.run(op)$($await)*
        }

        /// One page of agents.
        ///
        /// # Errors
        ///
        /// Input errors; agent errors; `Network` / `Timeout`.
        pub $($async)* fn list_agents(
            &self,
            params: $crate::api::ListAgents,
        ) -> $crate::Result<$crate::types::AgentListResult> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().agents_list(params)?;
            self.inner.run(op)$($await)*
        }

        /// An agent by id.
        ///
        /// # Errors
        ///
        /// `AgentNotFound` and other agent errors.
        pub $($async)* fn get_agent_info(
            &self,
            agent_id: &str,
        ) -> $crate::Result<$crate::types::AgentInfo> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().agents_get(agent_id)?;
            self.inner.run(op)$($await)*
        }

        /// An agent by name, or `None`.
        ///
        /// # Errors
        ///
        /// Agent errors; `Network` / `Timeout`.
        pub $($async)* fn get_agent_by_name(
            &self,
            name: &str,
        ) -> $crate::Result<Option<$crate::types::AgentInfo>> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().agents_get_by_name(name)?;
            self.inner.run(op)$($await)*
        }

        /// Changes an agent's display name, metadata, scopes (broaden only) or policy.
        ///
        /// # Errors
        ///
        /// `AgentScopeNarrowingNotSupported` and other agent errors.
        pub $($async)* fn update_agent(
            &self,
            agent_id: &str,
            params: $crate::api::UpdateAgent,
        ) -> $crate::Result<$crate::types::AgentInfo> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().agents_update(agent_id, params)?;
            self.inner.run(op)$($await)*
        }

        /// Revokes an agent and its keys.
        ///
        /// # Errors
        ///
        /// Agent errors; `Network` / `Timeout`.
        pub $($async)* fn delete_agent(
            &self,
            agent_id: &str,
        ) -> $crate::Result<$crate::types::AgentInfo> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().agents_delete(agent_id)?;
            self.inner.run(op)$($await)*
        }

        /// Mints a new key for an agent; its plaintext is returned once.
        ///
        /// # Errors
        ///
        /// `AgentInactive`, `AgentRevoked` and other agent errors.
        pub $($async)* fn mint_agent_key(
            &self,
            agent_id: &str,
        ) -> $crate::Result<$crate::types::AgentKeyMintResult> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().agents_mint_key(agent_id)?;
            self.inner.run(op)$($await)*
        }

        /// An agent's keys.
        ///
        /// # Errors
        ///
        /// Agent errors; `Network` / `Timeout`.
        pub $($async)* fn list_agent_keys(
            &self,
            agent_id: &str,
        ) -> $crate::Result<$crate::types::AgentKeyList> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().agents_list_keys(agent_id)?;
            self.inner.run(op)$($await)*
        }

        /// Marks an agent key deprecated (it keeps working).
        ///
        /// # Errors
        ///
        /// `KeyNotFound`, `KeyRevoked` and other agent errors.
        pub $($async)* fn deprecate_agent_key(
            &self,
            agent_id: &str,
            key_id: &str,
        ) -> $crate::Result<$crate::types::AgentKey> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().agents_deprecate_key(agent_id, key_id)?;
            self.inner.run(op)$($await)*
        }

        /// Clears an agent key's deprecation.
        ///
        /// # Errors
        ///
        /// `KeyNotFound`, `KeyRevoked` and other agent errors.
        pub $($async)* fn undeprecate_agent_key(
            &self,
            agent_id: &str,
            key_id: &str,
        ) -> $crate::Result<$crate::types::AgentKey> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().agents_undeprecate_key(agent_id, key_id)?;
            self.inner.run(op)$($await)*
        }

        /// Revokes an agent key (`force` also revokes the last active one).
        ///
        /// # Errors
        ///
        /// `LastActiveKey`, `KeyAlreadyRevoked` and other agent errors.
        pub $($async)* fn revoke_agent_key(
            &self,
            agent_id: &str,
            key_id: &str,
            force: bool,
        ) -> $crate::Result<$crate::types::AgentKey> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().agents_revoke_key(agent_id, key_id, force)?;
            self.inner.run(op)$($await)*
        }

        /// Signs an end user in through the identity provider: hands the sign-in URL to the
        /// client's URL handler, waits for the sign-in, and from then on sends the user's
        /// token wherever the protocol takes one.
        ///
        /// # Errors
        ///
        /// `Sdk` when the session cannot be opened or the sign-in fails or expires;
        /// `ConnectTimeout` at the deadline.
        pub $($async)* fn authenticate(
            &self,
            timeout: std::time::Duration,
        ) -> $crate::Result<$crate::types::AuthResult> {
            self.inner.state().ensure_open()?;
            let session = self.inner.run(self.inner.engine().create_auth_session())$($await)*?;
            self.inner.state().show_url("sign-in", &session.auth_url);
            let op = $crate::poll::AwaitSignIn::new(
                self.inner.engine(),
                session.session_token,
                timeout,
            );
            let result = self.inner.run(op)$($await)*?;
            self.inner.state().install_token(result.user_token.clone());
            Ok(result)
        }
    };
}

/// Expands to the methods only an `Agent` has.
#[doc(hidden)]
#[macro_export]
macro_rules! __alter_agent_methods {
    ([$($async:tt)*] [$($await:tt)*]) => {
        /// One page of the grants this agent can use (delegated OAuth grants and its
        /// managed-secret grants). Agents cannot filter by provider.
        ///
        /// # Errors
        ///
        /// `InvalidInput` when `params.provider_id` is set; backend errors.
        pub $($async)* fn list_grants(
            &self,
            params: $crate::api::ListGrants,
        ) -> $crate::Result<$crate::types::UnifiedGrantListResult> {
            self.inner.state().ensure_open()?;
            if params.provider_id.is_some() {
                return Err($crate::Error::invalid_input(
                    "an agent's grant list cannot be filtered by provider",
                ));
            }
            let op = self.inner.engine().list_grants(params, None)?;
            self.inner.run(op)$($await)*
        }

        /// Gives up this agent's delegation of a grant.
        ///
        /// # Errors
        ///
        /// `PolicyViolation` (`agent_key_required`) with an app key; backend errors.
        pub $($async)* fn revoke_delegation(&self, grant_id: &str) -> $crate::Result<()> {
            self.inner.state().ensure_open()?;
            let op = self.inner.engine().revoke_delegation(grant_id, None)?;
            self.inner.run(op)$($await)*
        }

        /// This agent, as the backend knows it.
        ///
        /// # Errors
        ///
        /// `MeRequiresAgentKey` with an app key; other agent errors.
        pub $($async)* fn me(&self) -> $crate::Result<$crate::types::AgentInfo> {
            self.inner.state().ensure_open()?;
            self.inner.run(self.inner.engine().agents_me())$($await)*
        }
    };
}

/// Options of `Agent::trace`: the ambient context every retrieve-mode call inside the trace
/// sends as `X-Alter-Context` (PROTOCOL.md §2.3).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TraceOptions {
    /// The run this work belongs to; inherited from an enclosing trace when unset.
    pub run_id: Option<String>,
    /// The conversation thread; inherited from an enclosing trace when unset.
    pub thread_id: Option<String>,
    /// `None`: the enclosing trace's agent becomes the parent; `Some(None)`: no parent;
    /// `Some(Some(name))`: this parent.
    pub parent: Option<Option<String>>,
    /// Free-form metadata (at most 20 keys; keys up to 64 bytes, values up to 512).
    pub metadata: Vec<(String, String)>,
}

impl TraceOptions {
    /// A trace for this run.
    pub fn run(run_id: impl Into<String>) -> Self {
        Self {
            run_id: Some(run_id.into()),
            ..Self::default()
        }
    }

    /// Sets the thread id.
    pub fn thread(mut self, thread_id: impl Into<String>) -> Self {
        self.thread_id = Some(thread_id.into());
        self
    }

    /// Adds a metadata entry.
    pub fn meta(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    /// The context of this trace inside `enclosing`, for the agent named `agent`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when the metadata breaks its limits or uses a reserved key.
    pub fn context(
        &self,
        enclosing: Option<&[(String, String)]>,
        agent: &str,
    ) -> crate::Result<Vec<(String, String)>> {
        use crate::retrieve::context::{ParentAgent, TraceScope, build_trace_context};

        let parent = match &self.parent {
            None => ParentAgent::Inherit,
            Some(None) => ParentAgent::Remove,
            Some(Some(name)) => ParentAgent::Explicit(name),
        };
        build_trace_context(&TraceScope {
            enclosing,
            agent,
            parent,
            run_id: self.run_id.as_deref(),
            thread_id: self.thread_id.as_deref(),
            metadata: &self.metadata,
        })
    }
}

/// The name a trace gives an agent that has no caller: `agent-local-<uuid>`, from 16
/// random bytes drawn once per client.
pub fn local_agent_name(random: [u8; 16]) -> String {
    format!(
        "agent-local-{}",
        uuid::Builder::from_random_bytes(random).into_uuid()
    )
}

/// Expands to the builder setters that delegate to [`crate::ClientOptions`] (a field named
/// `options`).
#[doc(hidden)]
#[macro_export]
macro_rules! __alter_option_setters {
    () => {
        /// The API key. Defaults to the `ALTER_API_KEY` environment variable.
        pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
            self.options = self.options.api_key(api_key);
            self
        }

        /// The backend's base URL. Defaults to `ALTER_BASE_URL`, else
        /// `https://backend.alterauth.com`. Plain `http://` only on loopback.
        pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
            self.options = self.options.base_url(base_url);
            self
        }

        /// Who, behind this key, is calling (`X-Alter-Caller`). Defaults to none.
        pub fn caller(mut self, caller: impl Into<String>) -> Self {
            self.options = self.options.caller(caller);
            self
        }

        /// The timeout of one HTTP exchange. Defaults to 30 s.
        pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
            self.options = self.options.timeout(timeout);
            self
        }

        /// How long `close()` waits for the queued background uploads (audit rows), and
        /// how long dropping a blocking client may block for them. Defaults to 10 s; above
        /// zero and at most one day. Uploads still unsent at the deadline are given up,
        /// counted in `dropped_uploads()` and logged as a warning (a count only).
        pub fn close_timeout(mut self, close_timeout: std::time::Duration) -> Self {
            self.options = self.options.close_timeout(close_timeout);
            self
        }

        /// How idempotent reads are retried. Defaults to
        /// [`RetryConfig::default`]($crate::retry::RetryConfig::default).
        pub fn retry(mut self, retry: $crate::retry::RetryConfig) -> Self {
            self.options = self.options.retry(retry);
            self
        }

        /// The `User-Agent` of both HTTP clients. Defaults to `alter-sdk-rust/<version>`.
        pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
            self.options = self.options.user_agent(user_agent);
            self
        }

        /// Hands sign-in and connect URLs to the user (`what` is `"sign-in"` or
        /// `"connect"`). Defaults to printing them on standard error.
        pub fn url_handler(mut self, handler: impl Fn(&str, &str) + Send + Sync + 'static) -> Self {
            self.url_handler = Some(std::sync::Arc::new(handler));
            self
        }
    };
}

/// Expands to the plain (never async) accessors both clients of both frontends have.
#[doc(hidden)]
#[macro_export]
#[expect(
    clippy::crate_in_macro_def,
    reason = "`crate::` names the frontend that expands the macro: its Agent, builder and entropy"
)]
macro_rules! __alter_client_basics {
    () => {
        /// A builder with every option at its default.
        pub fn builder() -> crate::builder::Builder<Self> {
            crate::builder::Builder::default()
        }

        /// A client configured entirely from `ALTER_API_KEY` and `ALTER_BASE_URL`.
        ///
        /// # Errors
        ///
        /// `Sdk` when `ALTER_API_KEY` is missing or malformed, or `ALTER_BASE_URL` is.
        pub fn from_env() -> $crate::Result<Self> {
            Self::builder().build()
        }

        /// A sibling whose every call is limited to these scopes (macaroon-style
        /// attenuation). It shares this client's connections; closing this client closes
        /// it too.
        ///
        /// # Errors
        ///
        /// `InvalidInput` for no scopes, an empty scope, or a sibling of a sibling;
        /// `Closed` after `close`.
        pub fn with_constraints<S: AsRef<str>>(&self, scopes: &[S]) -> $crate::Result<Self> {
            self.inner.state().ensure_open()?;
            let engine = self.inner.engine().with_constraints(scopes)?;
            Ok(Self {
                inner: std::sync::Arc::new(self.inner.derive(engine, true)),
            })
        }

        /// The actor id the backend assigned to this client's caller, once seen.
        pub fn actor_id(&self) -> Option<String> {
            self.inner.engine().actor_id()
        }

        /// The backend's token-refresh retries behind the last retrieve-mode call.
        pub fn last_retry_info(&self) -> Option<$crate::types::RetryInfo> {
            self.inner.engine().last_retry_info()
        }

        /// The backend's base URL.
        pub fn base_url(&self) -> &str {
            self.inner.engine().config().base_url.as_str()
        }

        /// How many background uploads were dropped: the queue was full, or `close()`
        /// stopped waiting before they were sent (its `close_timeout` deadline passed, or
        /// an async close's future was dropped). Each upload counts once, however many
        /// clones were closed; one cut off in flight at the deadline may still have been
        /// stored by the backend.
        ///
        /// Not counted here, only logged as warnings: an upload the backend refused or that
        /// failed in transit (audit uploads are never retried, PROTOCOL.md §9), and an audit
        /// row the protocol skips because the token response's `grant_id` is not a UUID.
        pub fn dropped_uploads(&self) -> u64 {
            self.inner.dropped_uploads()
        }
    };
}

/// Expands to the parts of a frontend's `Builder<C>` that name the client types: the
/// App-only caller type, and `build` for each client. The frontend's builder provides
/// `fn inner(self, role: Role) -> Result<Arc<Inner>>`.
#[doc(hidden)]
#[macro_export]
#[expect(
    clippy::crate_in_macro_def,
    reason = "`crate::` names the frontend that expands the macro: its App, Agent and builder"
)]
macro_rules! __alter_builder_finishers {
    () => {
        impl crate::builder::Builder<crate::App> {
            /// The caller type sent with the caller. Defaults to `service`.
            pub fn caller_type(mut self, caller_type: $crate::types::CallerType) -> Self {
                self.options = self.options.caller_type(caller_type);
                self
            }

            /// Builds the app; settings not given in code come from the environment.
            ///
            /// # Errors
            ///
            /// `Sdk` when there is no API key, the key, base URL or caller is malformed, or
            /// the HTTP stack cannot be set up.
            pub fn build(self) -> $crate::Result<crate::App> {
                Ok(crate::App {
                    inner: self.inner($crate::Role::App)?,
                })
            }
        }

        impl crate::builder::Builder<crate::Agent> {
            /// Builds the agent; settings not given in code come from the environment.
            ///
            /// # Errors
            ///
            /// `Sdk` when there is no API key, the key, base URL or caller is malformed, or
            /// the HTTP stack cannot be set up.
            pub fn build(self) -> $crate::Result<crate::Agent> {
                Ok(crate::Agent {
                    inner: self.inner($crate::Role::Agent)?,
                })
            }
        }
    };
}

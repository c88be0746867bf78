//! The agent client.

use std::future::Future;
use std::sync::Arc;

use alter_core::surface::TraceOptions;
use alter_core::{ClientOptions, Engine, Result, Role};

use alter_core::lifecycle::UrlHandler;

use crate::inner::{GetterError, Inner, TokenFuture, TokenGetter};
use crate::transport::{HttpTransport, ReqwestTransport};

/// An agent's client: retrieve-mode and proxied provider calls, approvals, its own grants
/// and keys. Operator calls (managing agents, revoking grants) do not exist on this type.
///
/// Cheap to clone; clones share connections and state.
///
/// # Example
///
/// ```no_run
/// use alter_async::{Agent, RetrieveRequest, TraceOptions};
///
/// # async fn run() -> alter_async::Result<()> {
/// let agent = Agent::builder().api_key("alter_ak_…").caller("research-agent").build()?;
/// let call = RetrieveRequest::provider("GET", "https://slack.com/api/auth.test", "slack");
/// let response = agent.trace(TraceOptions::run("run-1"), agent.request(call)).await??;
/// println!("{}", response.status);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Agent {
    pub(crate) inner: Arc<Inner>,
}

/// Builds an [`Agent`].
#[derive(Default)]
#[must_use]
pub struct AgentBuilder {
    options: ClientOptions,
    token_getter: Option<TokenGetter>,
    url_handler: Option<UrlHandler>,
    transport: Option<Arc<dyn HttpTransport>>,
}

impl std::fmt::Debug for AgentBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentBuilder")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl AgentBuilder {
    alter_core::__alter_option_setters!();

    /// Returns the end user's token for the calls that carry one. Called once per call.
    pub fn user_token_getter<F, Fut>(mut self, getter: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<String, GetterError>> + Send + 'static,
    {
        self.token_getter = Some(Arc::new(move || -> TokenFuture { Box::pin(getter()) }));
        self
    }

    /// The HTTP stack. Defaults to [`ReqwestTransport`] (rustls, no redirects).
    pub fn transport(mut self, transport: Arc<dyn HttpTransport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Builds the client; settings not given in code come from the environment.
    ///
    /// # Errors
    ///
    /// `Sdk` when there is no API key or the key, base URL or caller is malformed.
    pub fn build(self) -> Result<Agent> {
        let config = self
            .options
            .resolve(Role::Agent, |name| std::env::var(name).ok())?;
        let transport = match self.transport {
            Some(transport) => transport,
            None => Arc::new(ReqwestTransport::new(config.timeout)?),
        };
        let engine = Engine::new(config, Arc::new(crate::entropy::OsEntropy))?;
        let inner = Inner::new(engine, transport, self.token_getter, self.url_handler);
        Ok(Agent {
            inner: Arc::new(inner),
        })
    }
}

impl Agent {
    /// A builder with every option at its default.
    pub fn builder() -> AgentBuilder {
        AgentBuilder::default()
    }

    /// An agent configured entirely from `ALTER_API_KEY` and `ALTER_BASE_URL`.
    ///
    /// # Errors
    ///
    /// As [`AgentBuilder::build`].
    pub fn from_env() -> Result<Self> {
        Self::builder().build()
    }

    /// Runs `future` with `options`' context ambient: retrieve-mode calls inside it send
    /// the context as `X-Alter-Context`. Traces nest; an inner trace inherits the outer
    /// one's run, thread and metadata, and names it as parent agent.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when the metadata breaks its limits or uses a reserved key (the
    /// future is then not run).
    pub async fn trace<F: Future>(&self, options: TraceOptions, future: F) -> Result<F::Output> {
        let enclosing = crate::trace::current();
        let config = self.inner.engine().config();
        let state = self.inner.state();
        let agent = config
            .caller
            .as_deref()
            .unwrap_or_else(|| state.local_agent());
        let context = options.context(enclosing.as_deref(), agent)?;
        Ok(crate::trace::scope(context, future).await)
    }

    /// Refuses further calls (`Closed`) from now on; a client built with a builder also
    /// waits for its queued audit uploads (derived clients share their root's).
    pub async fn close(&self) {
        self.inner.close().await;
    }

    alter_core::__alter_client_basics!();
    alter_core::__alter_shared_methods!([async] [.await]);
    alter_core::__alter_agent_methods!([async] [.await]);
}

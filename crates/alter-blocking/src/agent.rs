//! The agent client.

use std::sync::Arc;

use alter_core::surface::TraceOptions;
use alter_core::{ClientOptions, Engine, Result, Role};

use alter_core::lifecycle::UrlHandler;

use crate::inner::{GetterError, Inner, TokenGetter};
use crate::trace::TraceGuard;

/// An agent's client: retrieve-mode and proxied provider calls, approvals, its own grants
/// and keys. Operator calls (managing agents, revoking grants) do not exist on this type.
///
/// Cheap to clone; clones share connections and state.
///
/// # Example
///
/// ```no_run
/// use alter_blocking::{Agent, RetrieveRequest};
///
/// let agent = Agent::builder().api_key("alter_ak_…").caller("research-agent").build()?;
/// let _trace = agent.trace(alter_blocking::TraceOptions::run("run-1"))?;
/// let response = agent.request(RetrieveRequest::provider("GET", "https://slack.com/api/auth.test", "slack"))?;
/// println!("{}", response.status);
/// # Ok::<(), alter_blocking::Error>(())
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
    pub fn user_token_getter(
        mut self,
        getter: impl Fn() -> std::result::Result<String, GetterError> + Send + Sync + 'static,
    ) -> Self {
        self.token_getter = Some(Arc::new(getter));
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
        let engine = Engine::new(config, Arc::new(crate::entropy::OsEntropy))?;
        Ok(Agent {
            inner: Arc::new(Inner::new(engine, self.token_getter, self.url_handler)),
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

    /// Makes `options`' context ambient on this thread until the guard is dropped:
    /// retrieve-mode calls send it as `X-Alter-Context`. Traces nest; an inner trace
    /// inherits the outer one's run, thread and metadata, and names it as parent agent.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when the metadata breaks its limits or uses a reserved key.
    pub fn trace(&self, options: TraceOptions) -> Result<TraceGuard> {
        let enclosing = crate::trace::current();
        let config = self.inner.engine().config();
        let state = self.inner.state();
        let agent = config
            .caller
            .as_deref()
            .unwrap_or_else(|| state.local_agent());
        let context = options.context(enclosing.as_deref(), agent)?;
        Ok(TraceGuard::enter(context))
    }

    /// Refuses further calls (`Closed`) from now on; a client built with a builder also
    /// waits for its queued audit uploads (derived clients share their root's).
    pub fn close(&self) {
        self.inner.close();
    }

    alter_core::__alter_client_basics!();
    alter_core::__alter_shared_methods!([] []);
    alter_core::__alter_agent_methods!([] []);
}

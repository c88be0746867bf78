//! The operator client.

use std::future::Future;
use std::sync::Arc;

use alter_core::api::{GrantPages, ListGrants};
use alter_core::types::{CallerType, GrantItem};
use alter_core::{ClientOptions, Engine, Result, Role};

use crate::agent::Agent;
use alter_core::lifecycle::UrlHandler;

use crate::inner::{GetterError, Inner, TokenFuture, TokenGetter};
use crate::transport::{HttpTransport, ReqwestTransport};

/// The operator's client: everything an app with a root (`rk`) key may do, including
/// managing agents and acting as one of them.
///
/// Cheap to clone; clones share connections and state. Call [`App::close`] before the
/// runtime shuts down: it waits for the queued audit uploads. Dropping the client without
/// closing it leaves the upload task to finish the queue only while the runtime runs.
///
/// # Example
///
/// ```no_run
/// use alter_async::App;
///
/// # async fn run() -> alter_async::Result<()> {
/// let app = App::builder().api_key("alter_rk_…").build()?;
/// let mut grants = app.grants(Default::default());
/// while let Some(grant) = grants.next().await {
///     println!("{:?}", grant?.grant_id());
/// }
/// app.close().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct App {
    pub(crate) inner: Arc<Inner>,
}

/// Builds an [`App`].
#[derive(Default)]
#[must_use]
pub struct AppBuilder {
    options: ClientOptions,
    caller_type: Option<CallerType>,
    token_getter: Option<TokenGetter>,
    url_handler: Option<UrlHandler>,
    transport: Option<Arc<dyn HttpTransport>>,
}

impl std::fmt::Debug for AppBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppBuilder")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl AppBuilder {
    alter_core::__alter_option_setters!();

    /// The caller type sent with the caller. Defaults to `service`.
    pub fn caller_type(mut self, caller_type: CallerType) -> Self {
        self.caller_type = Some(caller_type);
        self
    }

    /// Returns the end user's token for the calls that carry one (retrieve mode, grant
    /// list and revocation, connect sessions). Called once per such call.
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
    pub fn build(self) -> Result<App> {
        let mut options = self.options;
        if let Some(caller_type) = self.caller_type {
            options = options.caller_type(caller_type);
        }
        let config = options.resolve(Role::App, |name| std::env::var(name).ok())?;
        let transport = match self.transport {
            Some(transport) => transport,
            None => Arc::new(ReqwestTransport::new(config.timeout)?),
        };
        let engine = Engine::new(config, Arc::new(crate::entropy::OsEntropy))?;
        let inner = Inner::new(engine, transport, self.token_getter, self.url_handler);
        Ok(App {
            inner: Arc::new(inner),
        })
    }
}

impl App {
    /// A builder with every option at its default.
    pub fn builder() -> AppBuilder {
        AppBuilder::default()
    }

    /// An app configured entirely from `ALTER_API_KEY` and `ALTER_BASE_URL`.
    ///
    /// # Errors
    ///
    /// As [`AppBuilder::build`].
    pub fn from_env() -> Result<Self> {
        Self::builder().build()
    }

    /// An [`Agent`] that acts as the agent `agent_id` with this app's key (impersonation).
    /// It has no token getter.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `agent_id` is not a UUID; `Closed` after [`App::close`].
    pub fn get_agent(&self, agent_id: &str) -> Result<Agent> {
        self.inner.state().ensure_open()?;
        let config = self.inner.engine().config().impersonating(agent_id)?;
        let engine = Engine::new(config, Arc::new(crate::entropy::OsEntropy))?;
        Ok(Agent {
            inner: Arc::new(self.inner.derive(engine, false)),
        })
    }

    /// Every grant from `params`' page on, fetching pages as the iteration needs them.
    pub fn grants(&self, params: ListGrants) -> Grants<'_> {
        Grants {
            app: self,
            pages: GrantPages::new(params),
        }
    }

    /// Waits for the queued audit uploads, then refuses further calls (`Closed`).
    /// Siblings and impersonated agents are closed too.
    pub async fn close(&self) {
        self.inner.close().await;
    }

    alter_core::__alter_client_basics!();
    alter_core::__alter_shared_methods!([async] [.await]);
    alter_core::__alter_app_methods!([async] [.await]);
}

/// Walks every grant of a list; see [`App::grants`].
#[derive(Debug)]
pub struct Grants<'a> {
    app: &'a App,
    pages: GrantPages,
}

impl Grants<'_> {
    /// The next grant, fetching the next page when needed; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<GrantItem>> {
        loop {
            if let Some(grant) = self.pages.pop() {
                return Some(Ok(grant));
            }
            let params = self.pages.next_page()?.clone();
            match self.app.list_grants(params).await {
                Ok(page) => self.pages.on_page(page),
                Err(error) => {
                    self.pages.stop();
                    return Some(Err(error));
                }
            }
        }
    }
}

//! The one builder of both clients.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use alter_core::lifecycle::UrlHandler;
use alter_core::{ClientOptions, Engine, Result, Role};

use crate::inner::{GetterError, Inner, TokenFuture, TokenGetter};
use crate::transport::{HttpTransport, ReqwestTransport};
use crate::{Agent, App};

/// Builds an [`App`] ([`AppBuilder`]) or an [`Agent`] ([`AgentBuilder`]).
#[must_use]
pub struct Builder<C> {
    options: ClientOptions,
    token_getter: Option<TokenGetter>,
    url_handler: Option<UrlHandler>,
    transport: Option<Arc<dyn HttpTransport>>,
    client: PhantomData<fn() -> C>,
}

/// Builds an [`App`].
pub type AppBuilder = Builder<App>;

/// Builds an [`Agent`].
pub type AgentBuilder = Builder<Agent>;

impl<C> Default for Builder<C> {
    fn default() -> Self {
        Self {
            options: ClientOptions::default(),
            token_getter: None,
            url_handler: None,
            transport: None,
            client: PhantomData,
        }
    }
}

impl<C> std::fmt::Debug for Builder<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<C> Builder<C> {
    alter_core::__alter_option_setters!();

    /// Returns the end user's token for the calls that carry one (retrieve mode, grant
    /// list and revocation, connect sessions). Called once per such call; an error or an
    /// empty token fails that call.
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

    /// The client state; settings not given in code come from the environment.
    fn inner(self, role: Role) -> Result<Arc<Inner>> {
        let config = self
            .options
            .resolve(role, |name| std::env::var(name).ok())?;
        let transport = match self.transport {
            Some(transport) => transport,
            None => Arc::new(ReqwestTransport::new(config.timeout)?),
        };
        let engine = Engine::new(config, Arc::new(crate::entropy::OsEntropy))?;
        Ok(Arc::new(Inner::new(
            engine,
            transport,
            self.token_getter,
            self.url_handler,
        )))
    }
}

alter_core::__alter_builder_finishers!();

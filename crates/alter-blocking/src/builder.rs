//! The one builder of both clients.

use std::marker::PhantomData;
use std::sync::Arc;

use alter_core::lifecycle::UrlHandler;
use alter_core::{ClientOptions, Engine, Result, Role};

use crate::inner::{GetterError, Inner, TokenGetter};
use crate::{Agent, App};

/// Builds an [`App`] ([`AppBuilder`]) or an [`Agent`] ([`AgentBuilder`]).
#[must_use]
pub struct Builder<C> {
    options: ClientOptions,
    token_getter: Option<TokenGetter>,
    url_handler: Option<UrlHandler>,
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
    pub fn user_token_getter(
        mut self,
        getter: impl Fn() -> std::result::Result<String, GetterError> + Send + Sync + 'static,
    ) -> Self {
        self.token_getter = Some(Arc::new(getter));
        self
    }

    /// The client state; settings not given in code come from the environment.
    fn inner(self, role: Role) -> Result<Arc<Inner>> {
        let config = self
            .options
            .resolve(role, |name| std::env::var(name).ok())?;
        let engine = Engine::new(config, Arc::new(crate::entropy::OsEntropy))?;
        Ok(Arc::new(Inner::new(
            engine,
            self.token_getter,
            self.url_handler,
        )))
    }
}

alter_core::__alter_builder_finishers!();

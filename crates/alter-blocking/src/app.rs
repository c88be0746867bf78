//! The operator client.

use std::sync::Arc;

use alter_core::api::{GrantPages, ListGrants};
use alter_core::types::{CallerType, GrantItem};
use alter_core::{ClientOptions, Engine, Result, Role};

use crate::agent::Agent;
use alter_core::lifecycle::UrlHandler;

use crate::inner::{GetterError, Inner, TokenGetter};

/// The operator's client: everything an app with a root (`rk`) key may do, including
/// managing agents and acting as one of them.
///
/// Cheap to clone; clones share connections and state. Dropping the last clone flushes
/// the queued audit uploads.
///
/// # Example
///
/// ```no_run
/// use alter_blocking::App;
///
/// let app = App::builder().api_key("alter_rk_…").build()?;
/// for grant in app.grants(Default::default()) {
///     println!("{:?}", grant?.grant_id());
/// }
/// app.close();
/// # Ok::<(), alter_blocking::Error>(())
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
    pub fn build(self) -> Result<App> {
        let mut options = self.options;
        if let Some(caller_type) = self.caller_type {
            options = options.caller_type(caller_type);
        }
        let config = options.resolve(Role::App, |name| std::env::var(name).ok())?;
        let engine = Engine::new(config, Arc::new(crate::entropy::OsEntropy))?;
        Ok(App {
            inner: Arc::new(Inner::new(engine, self.token_getter, self.url_handler)),
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

    /// Refuses further calls (`Closed`) from now on; a client built with a builder also
    /// waits for its queued audit uploads (derived clients share their root's).
    /// Siblings and impersonated agents are closed too.
    pub fn close(&self) {
        self.inner.close();
    }

    alter_core::__alter_client_basics!();
    alter_core::__alter_shared_methods!([] []);
    alter_core::__alter_app_methods!([] []);
}

/// Iterates over every grant of a list; see [`App::grants`].
#[derive(Debug)]
pub struct Grants<'a> {
    app: &'a App,
    pages: GrantPages,
}

impl Iterator for Grants<'_> {
    type Item = Result<GrantItem>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(grant) = self.pages.pop() {
                return Some(Ok(grant));
            }
            let params = self.pages.next_page()?.clone();
            match self.app.list_grants(params) {
                Ok(page) => self.pages.on_page(page),
                Err(error) => {
                    self.pages.stop();
                    return Some(Err(error));
                }
            }
        }
    }
}

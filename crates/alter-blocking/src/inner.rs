//! What every blocking client shares: the engine, the HTTP stack, the upload worker, the
//! user-token getter, and the driver loop that runs the engine's operations.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime};

use alter_core::types::Secret;
use alter_core::{Engine, Error, Now, Operation, Result, Step};

use crate::transport::Transport;
use crate::uploader::Uploader;

/// The error a token getter may return.
pub type GetterError = Box<dyn std::error::Error + Send + Sync>;

/// Returns the end user's token (a JWT) for calls that carry one.
pub(crate) type TokenGetter =
    Arc<dyn Fn() -> std::result::Result<String, GetterError> + Send + Sync>;

/// Hands a sign-in or connect URL to the user.
pub(crate) type UrlHandler = Arc<dyn Fn(&str, &str) + Send + Sync>;

/// The state behind an `App` or `Agent`.
pub(crate) struct Inner {
    engine: Arc<Engine>,
    transport: Transport,
    uploader: Arc<Uploader>,
    token_getter: Option<TokenGetter>,
    installed_token: Arc<Mutex<Option<Secret>>>,
    url_handler: Option<UrlHandler>,
    /// Closing the client this one was derived from closes this one too.
    parent_closed: Arc<AtomicBool>,
    closed: Arc<AtomicBool>,
    /// The agent name traces use when the client has no caller.
    pub(crate) local_agent: String,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("base_url", &self.engine.config().base_url.as_str())
            .field("caller", &self.engine.config().caller)
            .field("constraints", &self.engine.constraints())
            .field("has_token_getter", &self.token_getter.is_some())
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Inner {
    pub(crate) fn new(
        engine: Arc<Engine>,
        token_getter: Option<TokenGetter>,
        url_handler: Option<UrlHandler>,
    ) -> Self {
        let transport = Transport::new(engine.config().timeout);
        let uploader = Arc::new(Uploader::start(transport.clone()));
        let local_agent = alter_core::surface::local_agent_name(crate::entropy::random_16());
        Self {
            engine,
            transport,
            uploader,
            token_getter,
            installed_token: Arc::new(Mutex::new(None)),
            url_handler,
            parent_closed: Arc::new(AtomicBool::new(false)),
            closed: Arc::new(AtomicBool::new(false)),
            local_agent,
        }
    }

    /// A client on another engine that shares this one's connections, uploads and
    /// lifetime (constrained siblings, impersonated agents).
    pub(crate) fn derive(&self, engine: Arc<Engine>, keep_token_getter: bool) -> Self {
        Self {
            engine,
            transport: self.transport.clone(),
            uploader: Arc::clone(&self.uploader),
            token_getter: if keep_token_getter {
                self.token_getter.clone()
            } else {
                None
            },
            installed_token: if keep_token_getter {
                Arc::clone(&self.installed_token)
            } else {
                Arc::new(Mutex::new(None))
            },
            url_handler: self.url_handler.clone(),
            parent_closed: Arc::clone(&self.closed),
            closed: Arc::new(AtomicBool::new(false)),
            local_agent: self.local_agent.clone(),
        }
    }

    pub(crate) fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Runs an operation to its end: the one driver loop of this frontend.
    pub(crate) fn run<O: Operation>(&self, mut op: O) -> Result<O::Output> {
        let mut step = op.start(now());
        loop {
            step = match step {
                Step::Send(request) => match self.transport.send(request) {
                    Ok(response) => op.on_response(response, now()),
                    Err(error) => op.on_transport_error(error, now()),
                },
                Step::Detach(request) => {
                    self.uploader.enqueue(request);
                    op.on_wake(now())
                }
                Step::WaitUntil(deadline) => {
                    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
                    op.on_wake(now())
                }
                Step::Done(result) => return result,
            };
        }
    }

    /// The end user's token: the one `authenticate` installed, else the getter's answer.
    pub(crate) fn user_token(&self) -> Result<Option<Secret>> {
        let installed = self
            .installed_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if installed.is_some() {
            return Ok(installed);
        }
        let Some(getter) = &self.token_getter else {
            return Ok(None);
        };
        match getter() {
            Ok(token) if !token.trim().is_empty() => Ok(Some(Secret::new(token))),
            Ok(_) => Err(Error::sdk("the user token getter returned an empty token")),
            Err(error) => Err(Error::sdk(format!("the user token getter failed: {error}"))),
        }
    }

    pub(crate) fn install_user_token(&self, token: Secret) {
        *self
            .installed_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(token);
    }

    pub(crate) fn ambient_context(&self) -> Option<Vec<(String, String)>> {
        crate::trace::current()
    }

    pub(crate) fn show_url(&self, what: &str, url: &str) {
        match &self.url_handler {
            Some(handler) => handler(what, url),
            None => eprintln!("Open this URL to finish the {what}: {url}"),
        }
    }

    pub(crate) fn ensure_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) || self.parent_closed.load(Ordering::Acquire) {
            return Err(Error::closed());
        }
        Ok(())
    }

    /// Marks the client closed and waits for the queued uploads.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.uploader.flush_and_stop();
    }

    pub(crate) fn dropped_uploads(&self) -> u64 {
        self.uploader.dropped()
    }
}

fn now() -> Now {
    Now::new(Instant::now(), SystemTime::now())
}

//! What every async client shares: the engine, the HTTP stack, the upload task, the
//! user-token getter, and the driver loop that runs the engine's operations.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use alter_core::lifecycle::{ClientState, UrlHandler, accept_getter_answer};
use alter_core::types::Secret;
use alter_core::{Engine, Now, Operation, Result, Step};

use crate::transport::HttpTransport;
use crate::uploader::Uploader;

/// The error a token getter may return.
pub type GetterError = Box<dyn std::error::Error + Send + Sync>;

/// The future a token getter returns.
pub type TokenFuture =
    Pin<Box<dyn Future<Output = std::result::Result<String, GetterError>> + Send>>;

/// Returns the end user's token (a JWT) for calls that carry one.
pub(crate) type TokenGetter = Arc<dyn Fn() -> TokenFuture + Send + Sync>;

/// The state behind an `App` or `Agent`.
pub(crate) struct Inner {
    engine: Arc<Engine>,
    transport: Arc<dyn HttpTransport>,
    uploader: Arc<Uploader>,
    token_getter: Option<TokenGetter>,
    state: ClientState,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("engine", &self.engine)
            .field("has_token_getter", &self.token_getter.is_some())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Inner {
    pub(crate) fn new(
        engine: Arc<Engine>,
        transport: Arc<dyn HttpTransport>,
        token_getter: Option<TokenGetter>,
        url_handler: Option<UrlHandler>,
    ) -> Self {
        let uploader = Arc::new(Uploader::new(
            Arc::clone(&transport),
            engine.config().close_timeout,
        ));
        let state = ClientState::new(url_handler, crate::entropy::random_16());
        Self {
            engine,
            transport,
            uploader,
            token_getter,
            state,
        }
    }

    /// A client on another engine that shares this one's connections, uploads and
    /// lifetime (constrained siblings keep the token getter; impersonated agents do not).
    pub(crate) fn derive(&self, engine: Arc<Engine>, keep_token_getter: bool) -> Self {
        Self {
            engine,
            transport: Arc::clone(&self.transport),
            uploader: Arc::clone(&self.uploader),
            token_getter: self.token_getter.clone().filter(|_| keep_token_getter),
            state: self.state.derive(keep_token_getter),
        }
    }

    pub(crate) fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub(crate) fn state(&self) -> &ClientState {
        &self.state
    }

    /// Runs an operation to its end: the one driver loop of this frontend.
    pub(crate) async fn run<O: Operation + Send>(&self, mut op: O) -> Result<O::Output> {
        let mut step = op.start(now());
        loop {
            step = match step {
                Step::Send(request) => match self.transport.send(request).await {
                    Ok(response) => op.on_response(response, now()),
                    Err(error) => op.on_transport_error(error, now()),
                },
                Step::Detach(request) => {
                    if let Some(late) = self.uploader.enqueue(request) {
                        crate::uploader::upload(self.transport.as_ref(), late).await;
                    }
                    op.on_wake(now())
                }
                Step::WaitUntil(deadline) => {
                    tokio::time::sleep_until(deadline.into()).await;
                    op.on_wake(now())
                }
                Step::Done(result) => return result,
            };
        }
    }

    /// The end user's token: the one `authenticate` installed, else the getter's answer.
    pub(crate) async fn user_token(&self) -> Result<Option<Secret>> {
        if let Some(token) = self.state.installed_token() {
            return Ok(Some(token));
        }
        match &self.token_getter {
            Some(getter) => accept_getter_answer(getter().await).map(Some),
            None => Ok(None),
        }
    }

    pub(crate) fn ambient_context(&self) -> Option<Vec<(String, String)>> {
        crate::trace::current()
    }

    /// Marks the client closed; a root client also waits for the queued uploads, until
    /// the close deadline (a derived client shares its root's uploads).
    pub(crate) async fn close(&self) {
        if self.state.close() {
            self.uploader.flush_and_stop().await;
        }
    }

    pub(crate) fn dropped_uploads(&self) -> u64 {
        self.uploader.dropped()
    }
}

fn now() -> Now {
    Now::new(Instant::now(), SystemTime::now())
}

//! The operator client.

use std::sync::Arc;

use alter_core::Result;
use alter_core::api::{GrantPages, ListGrants};
use alter_core::types::GrantItem;

use crate::inner::Inner;

/// The operator's client: everything an app with a root (`rk`) key may do, including
/// managing agents and acting as one of them.
///
/// Cheap to clone; clones share connections and state. Call [`App::close`] before the
/// runtime shuts down: it waits for the queued audit uploads (at most `close_timeout`). Dropping the client without
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

impl App {
    /// Every grant from `params`' page on, fetching pages as the iteration needs them.
    pub fn grants(&self, params: ListGrants) -> Grants<'_> {
        Grants {
            app: self,
            pages: GrantPages::new(params),
        }
    }

    /// Waits for the queued audit uploads, then refuses further calls (`Closed`).
    /// Siblings and impersonated agents are closed too.
    ///
    /// # Limitations
    ///
    /// The wait ends at the `close_timeout` deadline (a builder option, 10 s by default)
    /// even if uploads remain, so a hung audit endpoint cannot hold `close` longer. Uploads
    /// not sent by then are given up: the one in flight is cancelled (the backend may
    /// still have stored it), and all of them are counted in `dropped_uploads()` and
    /// logged as one warning (a count, never content).
    /// Dropping the `close` future (an outer timeout, a `select!`) ends the wait at that
    /// point, as the deadline would. Closes of clones that overlap wait once: the first
    /// stops the uploads, the others return when it has ended (never past its deadline).
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

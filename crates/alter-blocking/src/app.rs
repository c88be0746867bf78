//! The operator client.

use std::sync::Arc;

use alter_core::Result;
use alter_core::api::{GrantPages, ListGrants};
use alter_core::types::GrantItem;

use crate::inner::Inner;

/// The operator's client: everything an app with a root (`rk`) key may do, including
/// managing agents and acting as one of them.
///
/// Cheap to clone; clones share connections and state. Dropping the last clone flushes
/// the queued audit uploads as [`App::close`] does, blocking at most `close_timeout`.
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

impl App {
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
    ///
    /// # Limitations
    ///
    /// The wait ends at the `close_timeout` deadline (a builder option, 10 s by default)
    /// even if uploads remain, so a hung audit endpoint cannot hold `close` (or the drop of
    /// the last clone) longer. Uploads not sent by then are given up: they are counted in
    /// `dropped_uploads()` and logged as one warning (a count, never content). The upload
    /// in flight at the deadline is left to end on its own (within its timeout) on the
    /// background thread; it counts as dropped even if it still arrives. Closes of clones
    /// that overlap (on several threads) wait once: the first stops the uploads, the others
    /// return when it has ended (never past its deadline).
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

//! Client state that is not protocol but that both frontends keep the same way: whether the
//! client is closed, the user token `authenticate` installed, how URLs reach the user, the
//! name traces give an agent without a caller, the bookkeeping of background uploads and of
//! a bounded close ([`UploadLedger`]), and the uploads' log lines ([`log_upload_outcome`]).

mod upload_log;
mod uploads;

pub use upload_log::{log_upload_outcome, upload_path};
pub use uploads::{CloseTurn, Offer, UploadLedger};

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use alter_types::Secret;

use crate::error::{Error, Result};

/// Hands a sign-in or connect URL to the user: `(what, url)`.
pub type UrlHandler = Arc<dyn Fn(&str, &str) + Send + Sync>;

/// The frontend-independent state of one client.
pub struct ClientState {
    /// The closed flags of every client this one derives from, nearest last.
    ancestors_closed: Vec<Arc<AtomicBool>>,
    closed: Arc<AtomicBool>,
    installed_token: Arc<Mutex<Option<Secret>>>,
    url_handler: Option<UrlHandler>,
    local_agent: String,
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientState")
            .field("closed", &self.is_closed())
            .field("has_installed_token", &self.installed_token().is_some())
            .field("local_agent", &self.local_agent)
            .finish_non_exhaustive()
    }
}

impl ClientState {
    /// The state of a new client; `random` names it for traces when it has no caller.
    pub fn new(url_handler: Option<UrlHandler>, random: [u8; 16]) -> Self {
        Self {
            ancestors_closed: Vec::new(),
            closed: Arc::new(AtomicBool::new(false)),
            installed_token: Arc::new(Mutex::new(None)),
            url_handler,
            local_agent: crate::surface::local_agent_name(random),
        }
    }

    /// The state of a client derived from this one (a constrained sibling, or an
    /// impersonated agent when `share_token` is false): closing this one, or any client
    /// this one derives from, closes it too.
    pub fn derive(&self, share_token: bool) -> Self {
        let mut ancestors_closed = self.ancestors_closed.clone();
        ancestors_closed.push(Arc::clone(&self.closed));
        Self {
            ancestors_closed,
            closed: Arc::new(AtomicBool::new(false)),
            installed_token: if share_token {
                Arc::clone(&self.installed_token)
            } else {
                Arc::new(Mutex::new(None))
            },
            url_handler: self.url_handler.clone(),
            local_agent: self.local_agent.clone(),
        }
    }

    /// Whether this client, or any client it derives from, is closed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
            || self
                .ancestors_closed
                .iter()
                .any(|flag| flag.load(Ordering::Acquire))
    }

    /// Whether this client was built directly rather than derived: only such a client
    /// owns the shared connections and uploads, and stops them when it closes.
    pub fn is_root(&self) -> bool {
        self.ancestors_closed.is_empty()
    }

    /// Fails once the client is closed.
    ///
    /// # Errors
    ///
    /// `Closed` after `close`.
    pub fn ensure_open(&self) -> Result<()> {
        if self.is_closed() {
            return Err(Error::closed());
        }
        Ok(())
    }

    /// Marks the client closed. Returns whether the caller must also stop the background
    /// uploads: only a root client owns them ([`ClientState::is_root`]); a derived client
    /// shares its root's and leaves them running.
    #[must_use = "a root client must also stop its uploads"]
    pub fn close(&self) -> bool {
        self.closed.store(true, Ordering::Release);
        self.is_root()
    }

    /// The user token `authenticate` installed, if any.
    pub fn installed_token(&self) -> Option<Secret> {
        self.installed_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Installs the token later calls send as the end user's.
    pub fn install_token(&self, token: Secret) {
        *self
            .installed_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(token);
    }

    /// Hands a URL to the user: the configured handler, else a line on standard error.
    pub fn show_url(&self, what: &str, url: &str) {
        match &self.url_handler {
            Some(handler) => handler(what, url),
            None => eprintln!("Open this URL to finish the {what}: {url}"),
        }
    }

    /// The agent name traces use when the client has no caller.
    pub fn local_agent(&self) -> &str {
        &self.local_agent
    }
}

/// Checks a token getter's answer: the getter must give a non-blank token; it is never
/// silently skipped (PROTOCOL.md §5.1).
///
/// # Errors
///
/// `Sdk` when the getter failed or returned a blank token.
pub fn accept_getter_answer<E: fmt::Display>(
    answer: std::result::Result<String, E>,
) -> Result<Secret> {
    match answer {
        Ok(token) if !token.trim().is_empty() => Ok(Secret::new(token)),
        Ok(_) => Err(Error::sdk("the user token getter returned an empty token")),
        Err(error) => Err(Error::sdk(format!("the user token getter failed: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_a_client_closes_what_was_derived_from_it_but_not_the_reverse() {
        let parent = ClientState::new(None, [7; 16]);
        let child = parent.derive(true);

        assert!(
            !child.close(),
            "a derived client leaves the uploads to its root"
        );
        assert!(parent.ensure_open().is_ok());

        assert!(parent.close(), "the root stops the uploads");
        assert_eq!(
            child.ensure_open().unwrap_err().class_name(),
            "AlterSDKError"
        );
        assert!(parent.derive(true).is_closed());
    }

    #[test]
    fn closing_reaches_every_generation() {
        let app = ClientState::new(None, [7; 16]);
        let agent = app.derive(false);
        let constrained_agent = agent.derive(true);
        assert!(app.is_root() && !agent.is_root() && !constrained_agent.is_root());

        assert!(app.close());

        assert!(constrained_agent.is_closed());
    }

    #[test]
    fn installed_tokens_are_shared_only_when_asked() {
        let parent = ClientState::new(None, [7; 16]);
        let sibling = parent.derive(true);
        let impersonation = parent.derive(false);

        parent.install_token(Secret::new("jwt"));

        assert_eq!(sibling.installed_token(), Some(Secret::new("jwt")));
        assert_eq!(impersonation.installed_token(), None);
    }

    #[test]
    fn getter_answers_are_checked() {
        assert!(accept_getter_answer::<String>(Ok("jwt".into())).is_ok());
        assert!(accept_getter_answer::<String>(Ok("  ".into())).is_err());
        let failed = accept_getter_answer(Err("idp down")).unwrap_err();
        assert!(failed.to_string().contains("idp down"));
    }
}

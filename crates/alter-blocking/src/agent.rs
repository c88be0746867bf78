//! The agent client.

use std::sync::Arc;

use alter_core::Result;
use alter_core::surface::TraceOptions;

use crate::inner::Inner;
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
///
/// Operator calls do not exist on an agent, so they do not compile:
///
/// ```compile_fail
/// # fn run(agent: alter_blocking::Agent) {
/// let _ = agent.create_agent(alter_blocking::CreateAgent::new("sub-agent"));
/// # }
/// ```
///
/// ```compile_fail
/// # fn run(agent: alter_blocking::Agent) {
/// let _ = agent.revoke_grant("grant-id", None);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Agent {
    pub(crate) inner: Arc<Inner>,
}

impl Agent {
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
    alter_core::__alter_agent_methods!([] []);
}

//! The agent client.

use std::future::Future;
use std::sync::Arc;

use alter_core::Result;
use alter_core::surface::TraceOptions;

use crate::inner::Inner;

/// An agent's client: retrieve-mode and proxied provider calls, approvals, its own grants
/// and keys. Operator calls (managing agents, revoking grants) do not exist on this type.
///
/// Cheap to clone; clones share connections and state.
///
/// # Example
///
/// ```no_run
/// use alter_async::{Agent, RetrieveRequest, TraceOptions};
///
/// # async fn run() -> alter_async::Result<()> {
/// let agent = Agent::builder().api_key("alter_ak_…").caller("research-agent").build()?;
/// let call = RetrieveRequest::provider("GET", "https://slack.com/api/auth.test", "slack");
/// let response = agent.trace(TraceOptions::run("run-1"), agent.request(call)).await??;
/// println!("{}", response.status);
/// # Ok(())
/// # }
/// ```
///
/// Operator calls do not exist on an agent, so they do not compile:
///
/// ```compile_fail
/// # async fn run(agent: alter_async::Agent) {
/// let _ = agent.create_agent(alter_async::CreateAgent::new("sub-agent")).await;
/// # }
/// ```
///
/// ```compile_fail
/// # async fn run(agent: alter_async::Agent) {
/// let _ = agent.revoke_grant("grant-id", None).await;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Agent {
    pub(crate) inner: Arc<Inner>,
}

impl Agent {
    /// Runs `future` with `options`' context ambient: retrieve-mode calls inside it send
    /// the context as `X-Alter-Context`. Traces nest; an inner trace inherits the outer
    /// one's run, thread and metadata, and names it as parent agent.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when the metadata breaks its limits or uses a reserved key (the
    /// future is then not run).
    pub async fn trace<F: Future>(&self, options: TraceOptions, future: F) -> Result<F::Output> {
        let enclosing = crate::trace::current();
        let config = self.inner.engine().config();
        let state = self.inner.state();
        let agent = config
            .caller
            .as_deref()
            .unwrap_or_else(|| state.local_agent());
        let context = options.context(enclosing.as_deref(), agent)?;
        Ok(crate::trace::scope(context, future).await)
    }

    /// Refuses further calls (`Closed`) from now on; a client built with a builder also
    /// waits for its queued audit uploads (derived clients share their root's).
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
    alter_core::__alter_agent_methods!([async] [.await]);
}

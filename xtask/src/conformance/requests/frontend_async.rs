//! Client mode on `alter-async`: the planned calls on its `App` and `Agent` over reqwest,
//! on a multi-threaded tokio runtime.

use std::future::{Ready, ready};

use alter_async::{Agent, GetterError, RetrieveRequest};
use alter_core::Error;
use tokio::runtime::Runtime;

use super::frontend_calls::{ClientRun, Setup, UrlLog, define_calls, done, trace_options};
use super::plan::{PlannedCall, Trace};

define_calls!(alter_async, [async], [.await]);

/// Runs `calls` on an async client built as `setup` says, on `runtime`.
///
/// # Errors
///
/// A description when the client cannot be built or a call has no counterpart on it.
pub(crate) fn run(
    runtime: &Runtime,
    setup: &Setup<'_>,
    calls: Vec<PlannedCall>,
    urls: &UrlLog,
) -> Result<ClientRun, String> {
    runtime.block_on(calls::drive(setup, calls, urls))
}

/// The user-token getter that always answers `token`.
fn token_getter(
    token: String,
) -> impl Fn() -> Ready<Result<String, GetterError>> + Send + Sync + 'static {
    move || ready(Ok(token.clone()))
}

/// `agent.request(request)`, run by `agent.trace(...)` when the entry ran in a trace: the
/// trace's context is ambient for that future.
async fn request_in_trace(
    agent: &Agent,
    request: RetrieveRequest,
    trace: Option<Trace>,
) -> Result<(), Error> {
    match trace {
        Some(trace) => done(
            agent
                .trace(trace_options(trace), agent.request(request))
                .await?,
        ),
        None => done(agent.request(request).await),
    }
}

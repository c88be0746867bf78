//! Client mode on `alter-blocking`: the planned calls on its `App` and `Agent` over ureq.

use alter_blocking::{Agent, GetterError, RetrieveRequest};
use alter_core::Error;

use super::frontend_calls::{ClientRun, Setup, UrlLog, define_calls, done, trace_options};
use super::plan::{PlannedCall, Trace};

define_calls!(alter_blocking, [], []);

/// Runs `calls` on a blocking client built as `setup` says.
///
/// # Errors
///
/// A description when the client cannot be built or a call has no counterpart on it.
pub(crate) fn run(
    setup: &Setup<'_>,
    calls: Vec<PlannedCall>,
    urls: &UrlLog,
) -> Result<ClientRun, String> {
    calls::drive(setup, calls, urls)
}

/// The user-token getter that always answers `token`.
fn token_getter(token: String) -> impl Fn() -> Result<String, GetterError> + Send + Sync + 'static {
    move || Ok(token.clone())
}

/// `agent.request(request)`, inside `agent.trace(...)` when the entry ran in a trace: the
/// guard keeps the trace's context ambient on this thread until the call returns.
fn request_in_trace(
    agent: &Agent,
    request: RetrieveRequest,
    trace: Option<Trace>,
) -> Result<(), Error> {
    let _guard = trace
        .map(|trace| agent.trace(trace_options(trace)))
        .transpose()?;
    done(agent.request(request))
}

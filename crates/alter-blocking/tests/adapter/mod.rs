//! The helpers whose signatures differ between the two frontends (token getters,
//! `Agent::trace`), used by this crate's `frontend` and `secrets_in_logs` test binaries.

use alter_blocking::{
    Agent, AppBuilder, GetterError, ProviderResponse, Result, RetrieveRequest, TraceOptions,
};

/// A builder whose token getter answers `token`.
pub(crate) fn with_token(builder: AppBuilder, token: String) -> AppBuilder {
    builder.user_token_getter(move || Ok(token.clone()))
}

/// A builder whose token getter fails.
pub(crate) fn with_failing_getter(builder: AppBuilder) -> AppBuilder {
    builder.user_token_getter(|| Err(GetterError::from("the identity provider is down")))
}

/// `request` inside a trace (a guard on this thread).
pub(crate) fn traced_request(
    agent: &Agent,
    options: TraceOptions,
    request: RetrieveRequest,
) -> Result<ProviderResponse> {
    let _trace = agent.trace(options)?;
    agent.request(request)
}

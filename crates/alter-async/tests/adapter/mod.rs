//! The helpers whose signatures differ between the two frontends (token getters,
//! `Agent::trace`), used by this crate's `frontend` and `secrets_in_logs` test binaries.

use alter_async::{
    Agent, AppBuilder, GetterError, ProviderResponse, Result, RetrieveRequest, TraceOptions,
};

/// A builder whose token getter answers `token`.
pub(crate) fn with_token(builder: AppBuilder, token: String) -> AppBuilder {
    builder.user_token_getter(move || {
        let token = token.clone();
        async move { Ok(token) }
    })
}

/// A builder whose token getter fails.
pub(crate) fn with_failing_getter(builder: AppBuilder) -> AppBuilder {
    builder.user_token_getter(|| async { Err(GetterError::from("the identity provider is down")) })
}

/// `request` inside a trace (a task-local scope around the call).
pub(crate) async fn traced_request(
    agent: &Agent,
    options: TraceOptions,
    request: RetrieveRequest,
) -> Result<ProviderResponse> {
    agent.trace(options, agent.request(request)).await?
}

//! `alter-blocking` against `alter-testkit`: every operation, faults, redirects, audit and
//! the closed state, through the scenarios shared with `alter-async` (`common/`).

#[macro_use]
mod common;

/// The helpers whose signatures differ between the two frontends.
mod adapter {
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
}

mod support {
    frontend_support!(alter_blocking);
}

mod operations {
    operation_scenarios!(alter_blocking, #[test], [] []);
}

mod flows {
    flow_scenarios!(alter_blocking, #[test], [] []);
}

mod faults {
    fault_scenarios!(alter_blocking, #[test], [] []);
}

mod hygiene {
    hygiene_scenarios!(alter_blocking, #[test], [] []);
}

mod matrix {
    fault_matrix!(alter_blocking, "blocking", #[test], [] []);
}

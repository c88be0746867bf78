//! The ambient trace context of the current task (`Agent::trace`).

use std::future::Future;

tokio::task_local! {
    static CONTEXT: Vec<(String, String)>;
}

/// The context of the innermost trace of the current task.
pub(crate) fn current() -> Option<Vec<(String, String)>> {
    CONTEXT.try_with(Clone::clone).ok()
}

/// Runs `future` with `context` ambient.
pub(crate) async fn scope<F: Future>(context: Vec<(String, String)>, future: F) -> F::Output {
    CONTEXT.scope(context, future).await
}

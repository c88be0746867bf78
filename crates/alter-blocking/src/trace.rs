//! The ambient trace context of the current thread (`Agent::trace`).

use std::cell::RefCell;

thread_local! {
    static STACK: RefCell<Vec<Vec<(String, String)>>> = const { RefCell::new(Vec::new()) };
}

/// The context of the innermost trace on this thread.
pub(crate) fn current() -> Option<Vec<(String, String)>> {
    STACK.with(|stack| stack.borrow().last().cloned())
}

/// Keeps a trace's context ambient on this thread until dropped.
///
/// The guard cannot leave its thread. Guards must be dropped in reverse order of creation
/// (as scopes are); retrieve-mode
/// calls made on this thread meanwhile send the context as `X-Alter-Context`.
#[derive(Debug)]
#[must_use = "the trace ends when the guard is dropped"]
pub struct TraceGuard {
    depth: usize,
    /// The context lives in a thread-local: the guard must stay on its thread.
    not_send: std::marker::PhantomData<*const ()>,
}

impl TraceGuard {
    pub(crate) fn enter(context: Vec<(String, String)>) -> Self {
        let depth = STACK.with(|stack| {
            let mut stack = stack.borrow_mut();
            stack.push(context);
            stack.len()
        });
        Self {
            depth,
            not_send: std::marker::PhantomData,
        }
    }
}

impl Drop for TraceGuard {
    fn drop(&mut self) {
        STACK.with(|stack| stack.borrow_mut().truncate(self.depth - 1));
    }
}

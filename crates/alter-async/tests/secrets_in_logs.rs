//! Secrets never leak from `alter-async`: the shared secret scenarios
//! (`alter-blocking/tests/common/secrets.rs`) under a global TRACE capture
//! (`alter-blocking/tests/common/capture.rs`).
//!
//! Its own binary, because the capture is a global subscriber and logger: a global one is
//! what sees the tokio workers that run spawned tasks (the background audit uploader), the
//! testkit's server threads and reqwest's connection tasks.

#[path = "../../alter-blocking/tests/common/capture.rs"]
mod capture;

#[macro_use]
#[path = "../../alter-blocking/tests/common/support.rs"]
mod support_macro;

#[macro_use]
#[path = "../../alter-blocking/tests/common/secrets.rs"]
mod secrets_macro;

/// The helpers whose signatures differ between the two frontends.
mod adapter;

#[allow(
    dead_code,
    reason = "the shared helpers serve every scenario file; this one uses some"
)]
mod support {
    frontend_support!(alter_async);
}

mod secrets {
    secret_scenarios!(
        alter_async,
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)],
        [async] [.await]
    );
}

/// The capture sees what runs on tokio's worker threads, not only the test's own thread.
mod spawned {
    use crate::capture::{Secrets, Shown, capture};

    const FROM_A_TASK: &str = "planted_task_token_Rt5Yu8Io2Pa6Sd9F";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_event_from_a_spawned_task_is_captured() {
        let capture = capture();
        let mut secrets = Secrets::default();
        secrets.add("from a task", FROM_A_TASK);

        tokio::spawn(async {
            tracing::trace!(target: "planted::task", token = FROM_A_TASK);
        })
        .await
        .unwrap();

        // Spawned tasks of a multi-thread runtime run on its workers only.
        let leaks = capture.leaks_of(&secrets, &Shown::default());
        let expected = "from a task (raw) in Event at TRACE from `planted::task`";
        assert!(leaks.iter().any(|leak| leak == expected), "{leaks:?}");
    }
}

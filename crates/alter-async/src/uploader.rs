//! Background uploads (audit rows, scope-mismatch reports): one task behind a bounded
//! queue, so the caller never waits for them. Failures are logged, never raised.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use alter_core::HttpRequest;
use tokio::sync::mpsc::{Receiver, Sender, channel, error::TrySendError};
use tokio::task::JoinHandle;

use crate::transport::HttpTransport;

/// How many uploads may wait before new ones are dropped.
pub(crate) const QUEUE_CAPACITY: usize = 1024;

/// The upload task of one client. The task starts with the first upload, so a client can
/// be built outside a runtime.
#[derive(Debug)]
pub(crate) struct Uploader {
    transport: Arc<dyn HttpTransport>,
    state: Mutex<State>,
    dropped: AtomicU64,
}

#[derive(Debug)]
enum State {
    Idle,
    Running {
        sender: Sender<HttpRequest>,
        worker: JoinHandle<()>,
    },
    Closed,
}

impl Uploader {
    pub(crate) fn new(transport: Arc<dyn HttpTransport>) -> Self {
        Self {
            transport,
            state: Mutex::new(State::Idle),
            dropped: AtomicU64::new(0),
        }
    }

    /// Queues an upload; when the queue is full, or the client is closed, the upload is
    /// dropped and counted. Must be called inside a tokio runtime.
    pub(crate) fn enqueue(&self, request: HttpRequest) -> Option<HttpRequest> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if matches!(*state, State::Idle) {
            let (sender, receiver) = channel(QUEUE_CAPACITY);
            let worker = tokio::spawn(upload_all(Arc::clone(&self.transport), receiver));
            *state = State::Running { sender, worker };
        }

        match &*state {
            State::Running { sender, .. } => match sender.try_send(request) {
                Ok(()) => None,
                Err(TrySendError::Full(_)) => {
                    let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                    tracing::warn!(dropped, "background upload queue full: upload dropped");
                    None
                }
                Err(TrySendError::Closed(request)) => Some(request),
            },
            // After `close`, the caller sends it itself: a call that was already running
            // when the client closed still gets its audit row.
            State::Idle | State::Closed => Some(request),
        }
    }

    /// How many uploads were dropped.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Sends what is queued, then stops the task.
    pub(crate) async fn flush_and_stop(&self) {
        let previous = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *state, State::Closed)
        };
        // Dropping the sender ends the task's loop once the queue is empty.
        if let State::Running { sender, worker } = previous {
            drop(sender);
            if worker.await.is_err() {
                tracing::warn!("the upload task panicked or was cancelled");
            }
        }
    }
}

async fn upload_all(transport: Arc<dyn HttpTransport>, mut queue: Receiver<HttpRequest>) {
    while let Some(request) = queue.recv().await {
        upload(transport.as_ref(), request).await;
    }
}

/// Sends one upload and logs the outcome; failures are never raised.
pub(crate) async fn upload(transport: &dyn HttpTransport, request: HttpRequest) {
    let path = request
        .path_and_query()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    match transport.send(request).await {
        Ok(response) if (200..300).contains(&response.status) => {
            tracing::debug!(path, status = response.status, "background upload done");
        }
        Ok(response) => {
            tracing::warn!(path, status = response.status, "background upload refused");
        }
        Err(error) => {
            tracing::warn!(path, kind = ?error.kind, "background upload failed");
        }
    }
}

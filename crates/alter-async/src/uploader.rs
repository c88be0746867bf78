//! Background uploads (audit rows, scope-mismatch reports): one task behind a bounded
//! queue, so the caller never waits for them. Failures are logged, never raised. `close`
//! waits for the queue until the client's close deadline, then gives up the rest.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use alter_core::HttpRequest;
use alter_core::lifecycle::UploadLedger;
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
    ledger: Arc<UploadLedger>,
    close_timeout: Duration,
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
    /// An uploader whose `flush_and_stop` waits at most `close_timeout`.
    pub(crate) fn new(transport: Arc<dyn HttpTransport>, close_timeout: Duration) -> Self {
        Self {
            transport,
            state: Mutex::new(State::Idle),
            ledger: Arc::new(UploadLedger::default()),
            close_timeout,
        }
    }

    /// Queues an upload; when the queue is full, or the client is closed, the upload is
    /// dropped and counted. Must be called inside a tokio runtime.
    pub(crate) fn enqueue(&self, request: HttpRequest) -> Option<HttpRequest> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if matches!(*state, State::Idle) {
            let (sender, receiver) = channel(QUEUE_CAPACITY);
            let worker = tokio::spawn(upload_all(
                Arc::clone(&self.transport),
                receiver,
                Arc::clone(&self.ledger),
            ));
            *state = State::Running { sender, worker };
        }

        match &*state {
            State::Running { sender, .. } => {
                self.ledger.queued();
                match sender.try_send(request) {
                    Ok(()) => None,
                    Err(TrySendError::Full(_)) => {
                        let dropped = self.ledger.refused();
                        tracing::warn!(dropped, "background upload queue full: upload dropped");
                        None
                    }
                    Err(TrySendError::Closed(request)) => {
                        self.ledger.returned();
                        Some(request)
                    }
                }
            }
            // After `close`, the caller sends it itself: a call that was already running
            // when the client closed still gets its audit row.
            State::Idle | State::Closed => Some(request),
        }
    }

    /// How many uploads were dropped: the queue was full, or `close` gave them up.
    pub(crate) fn dropped(&self) -> u64 {
        self.ledger.dropped()
    }

    /// Sends what is queued, then stops the task; gives up at the close deadline, counting
    /// what was not sent as dropped.
    pub(crate) async fn flush_and_stop(&self) {
        let previous = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *state, State::Closed)
        };
        let deadline = self.ledger.begin_close(Instant::now(), self.close_timeout);

        // Dropping the sender ends the task's loop once the queue is empty.
        if let State::Running { sender, worker } = previous {
            drop(sender);
            let abort = worker.abort_handle();
            match tokio::time::timeout_at(deadline.into(), worker).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => tracing::warn!("the upload task panicked or was cancelled"),
                // Aborting drops the upload in flight; the ledger counts it with the rest.
                Err(_) => abort.abort(),
            }
        }
        self.ledger.end_close();
    }
}

async fn upload_all(
    transport: Arc<dyn HttpTransport>,
    mut queue: Receiver<HttpRequest>,
    ledger: Arc<UploadLedger>,
) {
    while let Some(mut request) = queue.recv().await {
        if ledger.admit(&mut request, Instant::now()) {
            upload(transport.as_ref(), request).await;
            ledger.settled();
        }
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

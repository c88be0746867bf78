//! Background uploads (audit rows, scope-mismatch reports): one task behind a bounded
//! queue, so the caller never waits for them. Failures are logged, never raised. `close`
//! waits for the queue until the client's close deadline, then gives up the rest; when
//! several closes overlap, the first does that and the others wait for it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use alter_core::HttpRequest;
use alter_core::lifecycle::{CloseTurn, Offer, UploadLedger, log_upload_outcome, upload_path};
use tokio::sync::mpsc::{Receiver, Sender, channel, error::TrySendError};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};

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
    /// Turns true once the first close has ended; later closes wait for it.
    ended: watch::Sender<bool>,
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
            ended: watch::Sender::new(false),
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
                self.ledger
                    .offer(request, |request| match sender.try_send(request) {
                        Ok(()) => Offer::Queued,
                        Err(TrySendError::Full(_)) => Offer::Full,
                        Err(TrySendError::Closed(request)) => Offer::Stopped(request),
                    })
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
    /// what was not sent as dropped. Only the first call stops the task; a concurrent or
    /// later call waits until the first one has ended, never past the same deadline.
    /// Dropping the first call's future ends its wait there, as the deadline would.
    pub(crate) async fn flush_and_stop(&self) {
        match self.ledger.begin_close(Instant::now(), self.close_timeout) {
            CloseTurn::Lead(deadline) => self.lead_close(deadline).await,
            CloseTurn::Follow(deadline) => self.follow_close(deadline).await,
        }
    }

    async fn lead_close(&self, deadline: Instant) {
        let previous = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *state, State::Closed)
        };
        // Ends the close however this future ends: awaited to the end, or dropped midway.
        let mut end = EndClose {
            ledger: &self.ledger,
            ended: &self.ended,
            worker: None,
        };

        // Dropping the sender ends the task's loop once the queue is empty.
        if let State::Running { sender, worker } = previous {
            drop(sender);
            end.worker = Some(worker.abort_handle());
            let finished = tokio::time::timeout_at(deadline.into(), worker).await;
            // Past the deadline `EndClose` aborts the task; the ledger counts the upload
            // in flight with the rest.
            if let Ok(Err(_)) = finished {
                tracing::warn!("the upload task panicked or was cancelled");
            }
        }
    }

    async fn follow_close(&self, deadline: Instant) {
        let mut ended = self.ended.subscribe();

        let waited = tokio::time::timeout_at(deadline.into(), ended.wait_for(|ended| *ended));
        if waited.await.is_err() {
            tracing::debug!("close deadline reached while another close was ending");
        }
    }
}

/// Ends the leading close when dropped: stops the upload task, gives up what it did not
/// send, and releases the closes waiting for this one.
struct EndClose<'a> {
    ledger: &'a UploadLedger,
    ended: &'a watch::Sender<bool>,
    worker: Option<AbortHandle>,
}

impl Drop for EndClose<'_> {
    fn drop(&mut self) {
        if let Some(worker) = &self.worker {
            worker.abort();
        }
        self.ledger.end_close();
        self.ended.send_replace(true);
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
    let path = upload_path(&request);
    let outcome = transport.send(request).await;
    log_upload_outcome(&path, &outcome);
}

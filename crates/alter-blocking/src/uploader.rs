//! Background uploads (audit rows, scope-mismatch reports): a worker thread behind a bounded
//! queue, so the caller never waits for them. Failures are logged, never raised. Closing
//! (or dropping) the client waits for the queue until the close deadline, then gives up the
//! rest; when several closes overlap, the first does that and the others wait for it.

use std::sync::mpsc::{
    Receiver, RecvTimeoutError, SyncSender, TrySendError, channel, sync_channel,
};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use alter_core::HttpRequest;
use alter_core::lifecycle::{CloseTurn, Offer, UploadLedger, log_upload_outcome, upload_path};

use crate::transport::Transport;

/// How many uploads may wait before new ones are dropped.
pub(crate) const QUEUE_CAPACITY: usize = 1024;

/// The upload worker of one client.
#[derive(Debug)]
pub(crate) struct Uploader {
    sender: Mutex<Option<SyncSender<HttpRequest>>>,
    worker: Mutex<Option<Worker>>,
    ledger: Arc<UploadLedger>,
    close_timeout: Duration,
    /// Set once the first close has ended; later closes wait for it on `ended_signal`.
    ended: Mutex<bool>,
    ended_signal: Condvar,
}

/// The worker thread, and the channel that disconnects when it ends: std's `join` has no
/// deadline, a receive does.
#[derive(Debug)]
struct Worker {
    thread: JoinHandle<()>,
    ended: Receiver<()>,
}

impl Uploader {
    /// Starts the worker; `flush_and_stop` waits for it at most `close_timeout`.
    pub(crate) fn start(transport: Transport, close_timeout: Duration) -> Self {
        let (sender, receiver) = sync_channel(QUEUE_CAPACITY);
        let (ended_sender, ended) = channel::<()>();
        let ledger = Arc::new(UploadLedger::default());
        let worker_ledger = Arc::clone(&ledger);
        let thread = std::thread::Builder::new()
            .name("alter-uploads".to_owned())
            .spawn(move || {
                // Dropped when the thread ends, however it ends: the close wait sees it.
                let _ended = ended_sender;
                upload_all(&transport, &receiver, &worker_ledger);
            })
            .ok();
        if thread.is_none() {
            tracing::warn!("could not start the upload thread; audit rows will not be sent");
        }
        Self {
            sender: Mutex::new(Some(sender)),
            worker: Mutex::new(thread.map(|thread| Worker { thread, ended })),
            ledger,
            close_timeout,
            ended: Mutex::new(false),
            ended_signal: Condvar::new(),
        }
    }

    /// Queues an upload; when the queue is full the upload is dropped and counted. After
    /// `close`, the upload is handed back for the caller to send itself: a call that was
    /// already running when the client closed still gets its audit row.
    pub(crate) fn enqueue(&self, request: HttpRequest) -> Option<HttpRequest> {
        let sender = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(sender) = sender.as_ref() else {
            return Some(request);
        };
        self.ledger
            .offer(request, |request| match sender.try_send(request) {
                Ok(()) => Offer::Queued,
                Err(TrySendError::Full(_)) => Offer::Full,
                Err(TrySendError::Disconnected(request)) => Offer::Stopped(request),
            })
    }

    /// How many uploads were dropped: the queue was full, or closing gave them up.
    pub(crate) fn dropped(&self) -> u64 {
        self.ledger.dropped()
    }

    /// Sends what is queued, then stops the worker; gives up at the close deadline,
    /// counting what was not sent as dropped. Past the deadline the worker is left to
    /// finish the upload in flight (its timeout was cut to the deadline when it started
    /// after `close`) and sends nothing more. Only the first call stops the worker; a
    /// concurrent or later call (another clone's `close`, the drop after `close`) waits
    /// until the first one has ended, never past the same deadline.
    pub(crate) fn flush_and_stop(&self) {
        match self.ledger.begin_close(Instant::now(), self.close_timeout) {
            CloseTurn::Lead(deadline) => self.lead_close(deadline),
            CloseTurn::Follow(deadline) => self.follow_close(deadline),
        }
    }

    fn lead_close(&self, deadline: Instant) {
        // Dropping the sender ends the worker's loop once the queue is empty.
        drop(
            self.sender
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let worker = self
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();

        if let Some(worker) = worker {
            let left = deadline.saturating_duration_since(Instant::now());
            match worker.ended.recv_timeout(left) {
                Err(RecvTimeoutError::Timeout) => {
                    tracing::debug!("close deadline reached; the upload thread is left to end");
                }
                Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                    if worker.thread.join().is_err() {
                        tracing::warn!("the upload thread panicked");
                    }
                }
            }
        }

        self.ledger.end_close();
        *self.ended.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.ended_signal.notify_all();
    }

    fn follow_close(&self, deadline: Instant) {
        let ended = self.ended.lock().unwrap_or_else(PoisonError::into_inner);
        let left = deadline.saturating_duration_since(Instant::now());

        let (ended, waited) = self
            .ended_signal
            .wait_timeout_while(ended, left, |ended| !*ended)
            .unwrap_or_else(PoisonError::into_inner);
        drop(ended);
        if waited.timed_out() {
            tracing::debug!("close deadline reached while another close was ending");
        }
    }
}

impl Drop for Uploader {
    fn drop(&mut self) {
        self.flush_and_stop();
    }
}

fn upload_all(transport: &Transport, queue: &Receiver<HttpRequest>, ledger: &UploadLedger) {
    for mut request in queue {
        if ledger.admit(&mut request, Instant::now()) {
            upload(transport, request);
            ledger.settled();
        }
    }
}

/// Sends one upload and logs the outcome; failures are never raised.
pub(crate) fn upload(transport: &Transport, request: HttpRequest) {
    let path = upload_path(&request);
    let outcome = transport.send(request);
    log_upload_outcome(&path, &outcome);
}

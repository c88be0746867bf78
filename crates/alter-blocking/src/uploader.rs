//! Background uploads (audit rows, scope-mismatch reports): a worker thread behind a bounded
//! queue, so the caller never waits for them. Failures are logged, never raised.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use alter_core::HttpRequest;

use crate::transport::Transport;

/// How many uploads may wait before new ones are dropped.
pub(crate) const QUEUE_CAPACITY: usize = 1024;

/// The upload worker of one client.
#[derive(Debug)]
pub(crate) struct Uploader {
    sender: Mutex<Option<SyncSender<HttpRequest>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
    dropped: Arc<AtomicU64>,
}

impl Uploader {
    pub(crate) fn start(transport: Transport) -> Self {
        let (sender, receiver) = sync_channel(QUEUE_CAPACITY);
        let worker = std::thread::Builder::new()
            .name("alter-uploads".to_owned())
            .spawn(move || upload_all(&transport, &receiver))
            .ok();
        if worker.is_none() {
            tracing::warn!("could not start the upload thread; audit rows will not be sent");
        }
        Self {
            sender: Mutex::new(Some(sender)),
            worker: Mutex::new(worker),
            dropped: Arc::new(AtomicU64::new(0)),
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
        match sender.try_send(request) {
            Ok(()) => None,
            Err(TrySendError::Full(_)) => {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(dropped, "background upload queue full: upload dropped");
                None
            }
            Err(TrySendError::Disconnected(request)) => Some(request),
        }
    }

    /// How many uploads were dropped because the queue was full or the client closed.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Sends what is queued, then stops the worker.
    pub(crate) fn flush_and_stop(&self) {
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
            if worker.join().is_err() {
                tracing::warn!("the upload thread panicked");
            }
        }
    }
}

impl Drop for Uploader {
    fn drop(&mut self) {
        self.flush_and_stop();
    }
}

fn upload_all(transport: &Transport, queue: &Receiver<HttpRequest>) {
    for request in queue {
        upload(transport, request);
    }
}

/// Sends one upload and logs the outcome; failures are never raised.
pub(crate) fn upload(transport: &Transport, request: HttpRequest) {
    let path = request
        .path_and_query()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    match transport.send(request) {
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

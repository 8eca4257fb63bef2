//! A running app from outside: [`StreamingHandle`] waits for it, stops it, and reads its
//! progress, through the state it shares with the batch loop.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::clock::{Control, StopMode, lock};
use crate::error::Error;
use crate::stop::StopHandle;
use crate::ui::Ui;

/// State shared by the batch loop and its handles.
pub(super) struct Shared {
    pub(super) control: Arc<Control>,
    pub(super) completed: AtomicU64,
    /// The progress line of the last batch.
    pub(super) last_progress: Mutex<Option<String>>,
}

/// A running app. Dropping it stops the app (as [`stop`](Self::stop) with `graceful = false`)
/// and waits for the batch in flight.
pub struct StreamingHandle {
    shared: Arc<Shared>,
    /// The UI (`with_ui`), served until the handle is dropped.
    ui: Option<Arc<Ui>>,
    thread: Option<JoinHandle<Result<(), Error>>>,
    /// The loop's result once joined, until handed to the caller.
    result: Option<Result<(), Error>>,
}

impl std::fmt::Debug for StreamingHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingHandle").field("completed_batches", &self.completed_batches()).finish_non_exhaustive()
    }
}

impl StreamingHandle {
    /// The handle on the batch loop running on `thread`.
    pub(super) fn new(shared: Arc<Shared>, thread: JoinHandle<Result<(), Error>>, ui: Option<Arc<Ui>>) -> Self {
        StreamingHandle { shared, ui, thread: Some(thread), result: None }
    }

    /// Where the UI and `/metrics` are served (with [`App::with_ui`](crate::App::with_ui)),
    /// until this handle is dropped.
    pub fn ui_addr(&self) -> Option<std::net::SocketAddr> {
        self.ui.as_ref().and_then(|u| u.addr())
    }

    fn join(&mut self) -> Result<(), Error> {
        if let Some(t) = self.thread.take() {
            let r = t.join().unwrap_or_else(|_| {
                // The loop catches handler panics; a panic here is in the runtime itself.
                Err(Error::Config("the batch loop thread panicked; this is a bug in streamc".to_owned()))
            });
            self.result = Some(r);
        }
        self.result.take().unwrap_or(Ok(()))
    }

    /// Waits until the app stops (a replay ends, a stop is requested, or an error occurs) and
    /// returns its error, if any.
    pub fn await_termination(mut self) -> Result<(), Error> {
        self.join()
    }

    /// Waits at most `d` for the app to stop; `Ok(true)` if it has stopped (an error it stopped
    /// with is returned once).
    pub fn await_termination_or_timeout(&mut self, d: Duration) -> Result<bool, Error> {
        if self.thread.is_some() && !self.shared.control.wait_finished(Some(d)) {
            return Ok(false);
        }
        self.join().map(|()| true)
    }

    /// Stops the app and waits for it. `graceful`: run one last batch with what was already
    /// received, then stop; otherwise finish the batch in flight (if any) and stop.
    pub fn stop(mut self, graceful: bool) -> Result<(), Error> {
        self.shared.control.request_stop(if graceful { StopMode::Graceful } else { StopMode::Immediate });
        self.join()
    }

    /// A handle that can request a stop from another thread.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle::new(Arc::clone(&self.shared.control))
    }

    /// The number of batches completed so far.
    pub fn completed_batches(&self) -> u64 {
        self.shared.completed.load(Ordering::SeqCst)
    }

    /// The progress line of the last completed batch (see [`App::with_progress`](crate::App::with_progress); kept whether
    /// or not the app writes a progress file), or `None` before the first batch completes.
    pub fn last_progress(&self) -> Option<String> {
        lock(&self.shared.last_progress).clone()
    }
}

impl Drop for StreamingHandle {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.shared.control.request_stop(StopMode::Immediate);
            let _ = t.join();
        }
    }
}

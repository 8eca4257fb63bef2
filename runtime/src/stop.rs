//! Stopping a running app from outside its batch loop: the [`StopHandle`] and the SIGINT/SIGTERM
//! watcher that uses one. A leaf under the app driver, so that the driver starts the watcher
//! without the command line module importing the driver back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::clock::{Control, StopMode};

/// Requests a stop of a running app from anywhere (a signal handler thread, another task).
#[derive(Clone, Debug)]
pub struct StopHandle {
    control: Arc<Control>,
}

impl StopHandle {
    /// A handle on the loop that `control` steers.
    pub(crate) fn new(control: Arc<Control>) -> Self {
        StopHandle { control }
    }

    /// Requests a stop after the batch in flight; does not wait.
    pub fn stop(&self) {
        self.control.request_stop(StopMode::Immediate);
    }

    /// Requests one last batch with what was already received, then a stop; does not wait.
    pub fn stop_gracefully(&self) {
        self.control.request_stop(StopMode::Graceful);
    }
}

/// Installs SIGINT/SIGTERM handlers that stop the app after the batch in flight (so
/// `await_termination` returns `Ok` and the program exits 0); a second signal kills the process.
pub(crate) fn stop_on_signals(stop: StopHandle) {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let installed = signal_hook::flag::register_conditional_shutdown(sig, 1, Arc::clone(&flag))
            .and_then(|_| signal_hook::flag::register(sig, Arc::clone(&flag)));
        if let Err(e) = installed {
            eprintln!("warning: cannot install a handler for signal {sig}: {e}");
        }
    }
    // A watcher thread, because a signal handler may only set a flag.
    let spawned = std::thread::Builder::new().name("streamc-signals".to_owned()).spawn(move || {
        while !flag.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
        stop.stop();
    });
    if let Err(e) = spawned {
        eprintln!("warning: cannot watch for signals: {e}");
    }
}

//! The live view of a running app (`--ui ADDR`, the runtime's `ui` feature): a web page with
//! charts of every batch (uPlot, vendored), the recent batches as a table, the plan, and
//! Prometheus `/metrics`.
//!
//! The batch loop calls [`Ui::record`] once per batch: it updates the metrics (atomics) and
//! appends the batch to a bounded list under a mutex held for a push. Everything else — HTTP,
//! encoding, server-sent events — runs on the server's own threads, so page loads never slow
//! the batches (`http.rs`). Without the feature, only [`BatchFigures`] and a [`Ui`] that cannot
//! be started are compiled.

mod figures;
#[cfg(feature = "ui")]
mod graph;
#[cfg(feature = "ui")]
mod http;
#[cfg(feature = "ui")]
mod monitor;

pub(crate) use figures::BatchFigures;

use crate::error::Error;

/// The UI of a running app: its monitor and server (stopped when dropped).
#[derive(Debug)]
pub(crate) struct Ui {
    #[cfg(feature = "ui")]
    monitor: std::sync::Arc<monitor::Monitor>,
    #[cfg(feature = "ui")]
    server: http::UiServer,
}

impl Ui {
    /// Serves the UI of app `name` with its plan (text, and graph in dot) on `addr`.
    #[cfg(feature = "ui")]
    pub(crate) fn start(addr: &str, name: &str, plan: &str, dot: &str) -> Result<Ui, Error> {
        let monitor = std::sync::Arc::new(monitor::Monitor::new(name, plan, dot));
        let server = http::UiServer::start(addr, std::sync::Arc::clone(&monitor))?;
        Ok(Ui { monitor, server })
    }

    /// Without the `ui` feature: an error that says how to get it.
    #[cfg(not(feature = "ui"))]
    pub(crate) fn start(addr: &str, _name: &str, _plan: &str, _dot: &str) -> Result<Ui, Error> {
        Err(Error::Usage(format!(
            "`--ui {addr}`: this app was built without the runtime's `ui` feature (`streamc run --ui ADDR` builds it with it)"
        )))
    }

    /// Takes in a finished batch; `progress` is its progress record (JSON).
    pub(crate) fn record(&self, figures: &BatchFigures, progress: &str) {
        #[cfg(feature = "ui")]
        self.monitor.record(figures, progress);
        #[cfg(not(feature = "ui"))]
        let _ = (figures, progress);
    }

    /// The app has stopped: the page's event streams end (the server stays up until the UI is
    /// dropped).
    pub(crate) fn finish(&self) {
        #[cfg(feature = "ui")]
        self.monitor.finish();
    }

    /// Where the UI is served.
    pub(crate) fn addr(&self) -> Option<std::net::SocketAddr> {
        #[cfg(feature = "ui")]
        return Some(self.server.addr());
        #[cfg(not(feature = "ui"))]
        None
    }
}

//! What one batch tells the UI ([`BatchFigures`]): compiled with or without the `ui` feature, so
//! that the batch loop is the same either way.

use std::time::Duration;

/// What one batch reports to the monitor (the figures of its progress record, and the phases
/// of its duration).
#[derive(Clone, Debug, Default)]
#[cfg_attr(not(feature = "ui"), allow(dead_code))]
pub(crate) struct BatchFigures {
    pub(crate) batch_id: u64,
    pub(crate) timestamp_ms: i64,
    pub(crate) input_rows: u64,
    pub(crate) input_rows_per_second: f64,
    pub(crate) processed_rows_per_second: f64,
    pub(crate) output_rows: u64,
    pub(crate) duration: Duration,
    /// Reading the sources' input for the batch.
    pub(crate) read: Duration,
    /// The handler: the operators and emitting rows.
    pub(crate) compute: Duration,
    /// Flushing the outputs (`end_batch`).
    pub(crate) sink: Duration,
    pub(crate) checkpoint: Duration,
    /// The time from the batch's due time to its start (Spark's scheduling delay).
    pub(crate) scheduling_delay: Duration,
    pub(crate) watermark_ms: Option<i64>,
    pub(crate) state_rows: u64,
    pub(crate) state_rows_updated: u64,
    pub(crate) late_rows_dropped: u64,
    pub(crate) malformed_rows: u64,
    /// Each stateful operator's figures.
    pub(crate) operators: Vec<crate::sink::StateReport>,
    /// Rows per operator (plan graph node), as the generated code reported them.
    pub(crate) rows: Vec<(&'static str, u64)>,
}

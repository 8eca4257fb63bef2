//! Spark Structured Streaming building blocks: event time, windows, the watermark, the state of
//! a streaming aggregation with its output modes, rows and the console sink's table, and a
//! reader for JSON-lines input. All pure: generated code calls them per record or per batch,
//! and the runtime's sources and sinks do the I/O.
//!
//! One batch of a windowed count with a watermark, as generated code runs it:
//!
//! ```
//! use streamc_runtime::structured::OutputMode;
//! use streamc_runtime::structured::agg::StreamingAgg;
//! use streamc_runtime::structured::json::{Json, parse_fields};
//! use streamc_runtime::structured::time::{MICROS_PER_MINUTE as MIN, Timestamp, parse_timestamp};
//! use streamc_runtime::structured::watermark::Watermark;
//! use streamc_runtime::structured::window::sliding_windows;
//!
//! let mut wm = Watermark::new(10 * MIN);
//! let mut counts: StreamingAgg<(Timestamp, Timestamp, String), i64> = StreamingAgg::new();
//! let mut fields = [Json::Missing, Json::Missing];
//! let mut dropped = 0;
//! for line in [r#"{"timestamp": "2024-01-01 12:02:00", "word": "cat"}"#] {
//!     parse_fields(line, &["timestamp", "word"], &mut fields).unwrap();
//!     let (Some(ts), Some(word)) = (fields[0].as_str().and_then(parse_timestamp), fields[1].as_str()) else {
//!         continue;
//!     };
//!     wm.observe(ts);
//!     for (start, end) in sliding_windows(ts, 10 * MIN, 5 * MIN, 0) {
//!         if wm.is_late(end) {
//!             dropped += 1;
//!             continue;
//!         }
//!         counts.update((start, end, word), |c| *c += 1, || 0);
//!     }
//! }
//! let rows = counts.finish_batch(OutputMode::Update, Some(wm.current()), |k| k.1);
//! wm.end_batch();
//! assert_eq!((rows.len(), dropped), (2, 0));
//! ```

pub mod agg;
pub mod arith;
pub mod binary;
pub mod calendar;
pub mod cast;
pub mod charset;
pub mod conv;
pub mod decimal;
pub mod double_key;
pub mod format;
pub mod group_state;
pub mod hll;
mod hll_bias;
pub mod join;
pub mod json;
pub mod memory;
pub mod nested;
pub mod nested_key;
#[cfg(feature = "parquet")]
pub mod parquet;
#[cfg(feature = "regex")]
pub mod regexp;
pub mod row;
pub mod scalar;
pub mod session;
pub mod sort;
pub mod static_table;
pub mod str_key;
pub mod text;
pub mod time;
pub mod void;
pub mod watermark;
pub mod window;

pub use agg::StreamingAgg;
pub use json::{Json, JsonError, parse_fields};
pub use row::{Cell, Row, console_table};
pub use time::{Timestamp, parse_timestamp};
pub use watermark::Watermark;
pub use window::sliding_windows;

/// What a streaming query writes each batch (Spark's `OutputMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputMode {
    /// Only rows that are final and will never change: for an aggregation with a watermark, the
    /// groups whose event time the watermark has passed.
    Append,
    /// The whole result table, every batch.
    Complete,
    /// The rows that changed in this batch.
    Update,
}

impl OutputMode {
    /// The mode named as in Spark's `outputMode("...")` (case-insensitive): `append`,
    /// `complete` or `update`.
    pub fn from_spark(name: &str) -> Option<Self> {
        [("append", OutputMode::Append), ("complete", OutputMode::Complete), ("update", OutputMode::Update)]
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, m)| m)
    }
}

/// Spark's `foreachBatch`: calls `f(batch_id, rows)` with a batch's output rows. Generated code
/// passes the user's closure here, so its argument types come from the rows'.
#[inline]
pub fn foreach_batch<R, F: FnOnce(u64, &[R])>(batch_id: u64, rows: &[R], f: F) {
    f(batch_id, rows)
}

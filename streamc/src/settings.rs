//! The settings every spec states, whichever kind of pipeline it holds (a leaf: both plan types
//! carry them).

use crate::span::SpanId;

/// Which front end a program came from (help lines show that front end's syntax).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Frontend {
    #[default]
    Yaml,
    Macro,
}

/// The application-wide settings of a spec, whichever kind of pipeline it holds.
#[derive(Debug, Default)]
pub struct AppSettings {
    /// Which front end wrote the spec.
    pub frontend: Frontend,
    /// The application name (YAML `app:`, or `app_name(..)` in `stream!`).
    pub name: String,
    /// Batch interval in milliseconds, with the span of its definition.
    pub batch_interval_ms: Option<(u64, SpanId)>,
    /// `checkpoint(dir)`: where stateful operators' state is saved.
    pub checkpoint_dir: Option<(String, SpanId)>,
    /// `max_line_bytes:`: the longest line a source accepts (the runtime's default if `None`).
    pub max_line_bytes: Option<(u64, SpanId)>,
    /// `max_rate:`: records per second per socket receiver (unlimited if `None`).
    pub max_rate: Option<(u64, SpanId)>,
    /// `multiple_watermark_policy: max`: a query with several inputs takes the latest of their
    /// watermarks (Spark's `spark.sql.streaming.multipleWatermarkPolicy`; default `min`).
    pub max_watermark_policy: bool,
}

impl AppSettings {
    /// The batch interval in ms (Spark's default of one second when the spec has none).
    pub fn interval_ms(&self) -> u64 {
        self.batch_interval_ms.map_or(1000, |(ms, _)| ms)
    }
}

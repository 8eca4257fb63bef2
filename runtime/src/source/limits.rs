//! What sources accept and how fast ([`InputLimits`] and their defaults), and the lines a
//! source skipped for breaking them ([`Skipped`]).

/// The default of `max_line_bytes` ([`AppBuilder::max_line_bytes`](crate::AppBuilder::max_line_bytes)):
/// 64 MiB, far above any sensible record, yet small enough that one runaway line cannot exhaust
/// memory.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 << 20;

/// The default of how much a socket receiver holds for the open batch before it stops reading
/// ([`AppBuilder::max_buffered_bytes`](crate::AppBuilder::max_buffered_bytes)): 64 MiB.
pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 64 << 20;

/// How much a source reads at once.
pub(super) const READ_CHUNK: usize = 64 * 1024;

/// What sources accept and how fast: set on the [`AppBuilder`](crate::AppBuilder), the same for
/// every source of the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InputLimits {
    /// A longer line (not counting its `'\n'`) is skipped and counted.
    pub(crate) max_line_bytes: usize,
    /// Records per second per socket receiver (Spark's `spark.streaming.receiver.maxRate`).
    pub(crate) max_rate: Option<u64>,
    /// A socket receiver stops reading while the open batch holds this many bytes.
    pub(crate) max_buffered_bytes: usize,
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_rate: None,
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
        }
    }
}

/// Lines a source dropped: not UTF-8, or longer than `max_line_bytes`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Skipped {
    pub(crate) invalid: usize,
    pub(crate) overlong: usize,
}

impl Skipped {
    pub(super) fn add(&mut self, other: Skipped) {
        self.invalid += other.invalid;
        self.overlong += other.overlong;
    }

    pub(super) fn total(&self) -> u64 {
        (self.invalid + self.overlong) as u64
    }

    /// `"2 lines of invalid UTF-8 and 1 line longer than ..."`, or `None` if nothing was skipped.
    pub(super) fn describe(&self, max_line_bytes: usize) -> Option<String> {
        let mut parts = Vec::new();
        if self.invalid > 0 {
            parts.push(format!("{} line{} of invalid UTF-8", self.invalid, plural(self.invalid)));
        }
        if self.overlong > 0 {
            parts.push(format!(
                "{} line{} longer than `max_line_bytes` ({max_line_bytes} bytes)",
                self.overlong,
                plural(self.overlong)
            ));
        }
        (!parts.is_empty()).then(|| parts.join(" and "))
    }
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

//! The event-time watermark of a streaming query (Spark's `withWatermark(col, delay)`).

use super::time::Timestamp;
use crate::error::Error;
use crate::persist::{Checkpointed, Persist, read_all};

/// The watermark: how far event time has progressed, minus the allowed lateness.
///
/// Spark's rules, as observed on Spark 4 (spark-oracle/README.md):
/// - The watermark is `max event time seen - delay`, computed at the **end** of a batch and used
///   from the **next** batch on; batch 0 runs with the watermark at 0 (1970-01-01). It never
///   moves back, and a batch without events leaves it where it is.
/// - A batch uses two values: [`current`](Self::current), the watermark of this batch, decides
///   what is final (emitted in append mode) and evicted from state; input is dropped as late
///   against the *previous* batch's watermark, [`for_late_events`](Self::for_late_events)
///   (Spark's `eventTimeWatermarkForLateEvents`). So a row can be accepted into a window that
///   the same batch then finalises.
///
/// Per batch: [`observe`](Self::observe) every event time (late ones too, as Spark's
/// `EventTimeWatermark` sees the input before the aggregation drops anything), drop the
/// (window, key) assignments that [`is_late`](Self::is_late), then [`end_batch`](Self::end_batch).
///
/// Invariants: `for_late_events() <= current()`; both only move forward.
///
/// ```
/// use streamc_runtime::structured::time::{MICROS_PER_MINUTE, Timestamp, parse_timestamp};
/// use streamc_runtime::structured::watermark::Watermark;
/// let mut wm = Watermark::new(10 * MICROS_PER_MINUTE);
/// wm.observe(parse_timestamp("2024-01-01 12:07:00").unwrap());
/// assert_eq!(wm.current(), Timestamp::EPOCH); // batch 0
/// assert!(wm.end_batch());
/// assert_eq!(wm.current(), parse_timestamp("2024-01-01 11:57:00").unwrap()); // batch 1
/// assert_eq!(wm.for_late_events(), Timestamp::EPOCH);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    delay_us: i64,
    current: Timestamp,
    late: Timestamp,
    max_seen: Option<Timestamp>,
}

impl Watermark {
    /// A watermark `delay_us` microseconds behind the latest event time, at 0 for batch 0.
    pub fn new(delay_us: i64) -> Self {
        Watermark { delay_us, current: Timestamp::EPOCH, late: Timestamp::EPOCH, max_seen: None }
    }

    /// The delay it was made with.
    pub fn delay_us(&self) -> i64 {
        self.delay_us
    }

    /// Records an event time of this batch.
    #[inline]
    pub fn observe(&mut self, ts: Timestamp) {
        if self.max_seen.is_none_or(|m| ts > m) {
            self.max_seen = Some(ts);
        }
    }

    /// The latest event time observed in this batch so far.
    pub fn max_seen(&self) -> Option<Timestamp> {
        self.max_seen
    }

    /// The watermark of this batch: state whose window ends at or before it is final (emitted
    /// in append mode) and evicted.
    #[inline]
    pub fn current(&self) -> Timestamp {
        self.current
    }

    /// The watermark input is checked against in this batch: the previous batch's
    /// [`current`](Self::current).
    #[inline]
    pub fn for_late_events(&self) -> Timestamp {
        self.late
    }

    /// Whether an assignment to a window (or an event time, without windows) ending at `end`
    /// is late and must be dropped: `end <= for_late_events()`. Spark counts these as
    /// `numRowsDroppedByWatermark`.
    #[inline]
    pub fn is_late(&self, end: Timestamp) -> bool {
        end <= self.late
    }

    /// Ends the batch: the next batch checks late input against this batch's watermark, and its
    /// own watermark becomes `max_seen - delay` if that is later than this one. Returns whether
    /// [`current`](Self::current) moved (Spark then may run a no-data batch to emit and evict).
    pub fn end_batch(&mut self) -> bool {
        self.late = self.current;
        let Some(max) = self.max_seen.take() else { return false };
        let candidate = Timestamp(max.0.saturating_sub(self.delay_us));
        if candidate > self.current {
            self.current = candidate;
            true
        } else {
            false
        }
    }
}

/// Saves both watermarks (the delay is configuration); a checkpoint is taken between batches,
/// when nothing has been observed yet.
impl Checkpointed for Watermark {
    fn save(&self, out: &mut Vec<u8>) {
        (self.current, self.late).write(out)
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let (current, late): (Timestamp, Timestamp) = read_all(bytes)?;
        if late > current {
            return Err(crate::persist::corrupt("the late-event watermark is after the current watermark"));
        }
        self.current = current;
        self.late = late;
        self.max_seen = None;
        Ok(())
    }
}

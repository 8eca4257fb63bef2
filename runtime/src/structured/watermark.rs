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
///
/// **Several inputs** (a `union` of sources, each with its own `withWatermark`): each input
/// keeps its own watermark (`max event time - its delay`, never moving back, 0 until the input
/// has seen an event), and the query's watermark is the **minimum** of them (Spark's default
/// `spark.sql.streaming.multipleWatermarkPolicy=min`), so an input that has not seen data yet
/// holds the watermark at 0.
///
/// ```
/// use streamc_runtime::structured::time::{MICROS_PER_MINUTE as MIN, Timestamp};
/// use streamc_runtime::structured::watermark::Watermark;
/// let mut wm = Watermark::with_inputs(&[10 * MIN, 5 * MIN]);
/// wm.observe_input(0, Timestamp(30 * MIN));
/// wm.end_batch();
/// assert_eq!(wm.current(), Timestamp::EPOCH); // input 1 has seen nothing yet
/// wm.observe_input(1, Timestamp(15 * MIN));
/// wm.end_batch();
/// assert_eq!(wm.current(), Timestamp(10 * MIN)); // min(30 - 10, 15 - 5)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    delays_us: Vec<i64>,
    current: Timestamp,
    late: Timestamp,
    max_seen: Vec<Option<Timestamp>>,
    /// Each input's own watermark (inputs > 1 only).
    per_input: Vec<Timestamp>,
    /// Whether the query's watermark is the inputs' maximum (Spark's
    /// `multipleWatermarkPolicy=max`) rather than their minimum.
    max_policy: bool,
}

impl Watermark {
    /// A watermark `delay_us` microseconds behind the latest event time, at 0 for batch 0.
    pub fn new(delay_us: i64) -> Self {
        Self::with_inputs(&[delay_us])
    }

    /// The watermark of an operator after another one (Spark's per-operator watermarks, a
    /// later stage of a query): the given values for this batch and for its late rows, observing
    /// nothing itself.
    ///
    /// ```
    /// use streamc_runtime::structured::time::Timestamp;
    /// use streamc_runtime::structured::watermark::Watermark;
    /// let wm = Watermark::view(Timestamp(20), Timestamp(10));
    /// assert!(wm.is_late(Timestamp(10)) && !wm.is_late(Timestamp(11)));
    /// assert_eq!(wm.current(), Timestamp(20));
    /// ```
    pub fn view(current: Timestamp, late: Timestamp) -> Self {
        let mut w = Self::new(0);
        w.current = current;
        w.late = late.min(current);
        w
    }

    /// The watermark of a query with several inputs, each with its delay (see the type's docs).
    ///
    /// # Panics
    /// If `delays_us` is empty.
    pub fn with_inputs(delays_us: &[i64]) -> Self {
        assert!(!delays_us.is_empty(), "a watermark has at least one input");
        Watermark {
            delays_us: delays_us.to_vec(),
            current: Timestamp::EPOCH,
            late: Timestamp::EPOCH,
            max_seen: vec![None; delays_us.len()],
            per_input: vec![Timestamp::EPOCH; delays_us.len()],
            max_policy: false,
        }
    }

    /// The same watermark with Spark's `multipleWatermarkPolicy`: `max` makes the query's
    /// watermark the latest of its inputs' (the default, `min`, the earliest).
    ///
    /// ```
    /// use streamc_runtime::structured::time::{MICROS_PER_MINUTE as MIN, Timestamp};
    /// use streamc_runtime::structured::watermark::Watermark;
    /// let mut wm = Watermark::with_inputs(&[10 * MIN, 5 * MIN]).with_max_policy(true);
    /// wm.observe_input(0, Timestamp(30 * MIN));
    /// wm.end_batch();
    /// assert_eq!(wm.current(), Timestamp(20 * MIN)); // max(30 - 10, nothing yet)
    /// ```
    pub fn with_max_policy(mut self, max: bool) -> Self {
        self.max_policy = max;
        self
    }

    /// The delay of the first input.
    pub fn delay_us(&self) -> i64 {
        self.delays_us[0]
    }

    /// Records an event time of this batch (of the first input).
    #[inline]
    pub fn observe(&mut self, ts: Timestamp) {
        self.observe_input(0, ts)
    }

    /// Records an event time of this batch seen by input `input`.
    #[inline]
    pub fn observe_input(&mut self, input: usize, ts: Timestamp) {
        let m = &mut self.max_seen[input];
        if m.is_none_or(|m| ts > m) {
            *m = Some(ts);
        }
    }

    /// The watermark a worker uses over a part of this batch: the same for late input, with no
    /// event time observed yet. [`absorb`](Self::absorb) takes its observations back.
    pub fn for_part(&self) -> Watermark {
        Watermark { max_seen: vec![None; self.max_seen.len()], ..self.clone() }
    }

    /// Takes in the event times a worker's [`for_part`](Self::for_part) observed.
    pub fn absorb(&mut self, part: &Watermark) {
        for (input, ts) in part.max_seen.iter().enumerate() {
            if let Some(ts) = *ts {
                self.observe_input(input, ts);
            }
        }
    }

    /// Per input, the latest event time observed in this batch so far: what a worker's
    /// [`for_part`](Self::for_part) hands back to [`absorb`](Self::absorb).
    pub fn observed(&self) -> &[Option<Timestamp>] {
        &self.max_seen
    }

    /// A worker's part with the event times `observed` (read back from another process); only
    /// [`absorb`](Self::absorb) reads it.
    pub fn observed_part(observed: Vec<Option<Timestamp>>) -> Watermark {
        let n = observed.len().max(1);
        Watermark { max_seen: observed, ..Watermark::with_inputs(&vec![0; n]) }
    }

    /// The latest event time observed in this batch so far (over every input).
    pub fn max_seen(&self) -> Option<Timestamp> {
        self.max_seen.iter().flatten().max().copied()
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
        let candidate = if self.delays_us.len() == 1 {
            let Some(max) = self.max_seen[0].take() else { return false };
            Timestamp(max.0.saturating_sub(self.delays_us[0]))
        } else {
            for ((seen, own), delay) in self.max_seen.iter_mut().zip(&mut self.per_input).zip(&self.delays_us) {
                if let Some(max) = seen.take() {
                    *own = (*own).max(Timestamp(max.0.saturating_sub(*delay)));
                }
            }
            let each = self.per_input.iter().copied();
            if self.max_policy { each.max() } else { each.min() }.unwrap_or(Timestamp::EPOCH)
        };
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
        if self.delays_us.len() == 1 {
            (self.current, self.late).write(out)
        } else {
            (self.current, self.late, self.per_input.clone()).write(out)
        }
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let (current, late, per_input) = if self.delays_us.len() == 1 {
            // One input: its own watermark is not kept (it is `current`).
            let (current, late): (Timestamp, Timestamp) = read_all(bytes)?;
            (current, late, self.per_input.clone())
        } else {
            let (current, late, per): (Timestamp, Timestamp, Vec<Timestamp>) = read_all(bytes)?;
            if per.len() != self.delays_us.len() {
                return Err(crate::persist::corrupt(&format!(
                    "the checkpoint has watermarks of {} inputs, the query has {}",
                    per.len(),
                    self.delays_us.len()
                )));
            }
            (current, late, per)
        };
        if late > current {
            return Err(crate::persist::corrupt("the late-event watermark is after the current watermark"));
        }
        self.current = current;
        self.late = late;
        self.per_input = per_input;
        self.max_seen.iter_mut().for_each(|m| *m = None);
        Ok(())
    }
}

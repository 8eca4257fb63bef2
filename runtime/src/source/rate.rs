//! Spark's `rate` source: rows numbered 0, 1, 2, … timed by the batch clock.

use super::text::TextBatch;

/// Spark's `rate` source: rows `value` = 0, 1, 2, … with `timestamp` = start + value / rate,
/// as many per batch as event time has advanced by the batch's time. Each line of its batch
/// is `<timestamp in µs> <value>`. Not checkpointed: a restarted query counts from 0 again.
pub(crate) struct RateSource {
    rows_per_second: u64,
    start_ms: Option<i64>,
    next: u64,
}

impl RateSource {
    pub(crate) fn new(rows_per_second: u64) -> Self {
        RateSource { rows_per_second: rows_per_second.max(1), start_ms: None, next: 0 }
    }

    /// The rows due by `time_ms`: the first batch starts the clock and has none.
    pub(crate) fn fill(&mut self, batch: &mut TextBatch, time_ms: i64) {
        let start = *self.start_ms.get_or_insert(time_ms);
        let elapsed = u64::try_from(time_ms.saturating_sub(start)).unwrap_or(0);
        let due = elapsed.saturating_mul(self.rows_per_second) / 1000;
        let mut line = String::new();
        while self.next < due {
            let at_us = start
                .saturating_mul(1000)
                .saturating_add((self.next.saturating_mul(1_000_000) / self.rows_per_second) as i64);
            line.clear();
            let _ = std::fmt::Write::write_fmt(&mut line, format_args!("{at_us} {}", self.next));
            batch.push_line(&line);
            self.next += 1;
        }
    }
}

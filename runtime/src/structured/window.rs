//! Event-time windows: which windows of Spark's `window(col, len, slide, start)` an event
//! falls in.

use super::time::Timestamp;

/// The windows `[start, end)` of length `len_us` every `slide_us` containing `ts`, in ascending
/// order of start, as Spark's `window` function assigns them: windows are aligned to the epoch
/// shifted by `start_us` (window starts are `start_us + k * slide_us` for integers `k`), ends
/// are exclusive, and a tumbling window is `slide_us == len_us` (exactly one window).
///
/// An event on a boundary belongs to the window starting there, not to the one ending there.
/// When `len_us` is not a multiple of `slide_us`, only the windows that really contain `ts` are
/// produced (Spark's extra filter). Alignment uses the mathematical (floor) remainder, so
/// negative times are assigned like positive ones. A window end past the largest timestamp
/// saturates.
///
/// # Panics
/// If `slide_us <= 0` or `len_us < slide_us` (Spark rejects both when the query is analysed; the
/// compiler checks them before generating a call).
///
/// ```
/// use streamc_runtime::structured::time::parse_timestamp;
/// use streamc_runtime::structured::window::sliding_windows;
/// use streamc_runtime::fmt::spark_string;
/// const MIN: i64 = 60_000_000;
/// let ts = parse_timestamp("2024-01-01 12:02:00").unwrap();
/// let w: Vec<String> = sliding_windows(ts, 10 * MIN, 5 * MIN, 0)
///     .map(|(s, e)| format!("[{}, {})", spark_string(&s), spark_string(&e)))
///     .collect();
/// assert_eq!(w, ["[2024-01-01 11:55:00, 2024-01-01 12:05:00)", "[2024-01-01 12:00:00, 2024-01-01 12:10:00)"]);
/// ```
#[inline]
pub fn sliding_windows(ts: Timestamp, len_us: i64, slide_us: i64, start_us: i64) -> SlidingWindows {
    assert!(slide_us > 0, "a window's slide must be positive, found {slide_us} µs");
    assert!(len_us >= slide_us, "a window's length ({len_us} µs) must be at least its slide ({slide_us} µs)");
    // The latest window start at or before `ts`.
    let last_start = ts.0.saturating_sub((ts.0 as i128 - start_us as i128).rem_euclid(slide_us as i128) as i64);
    // At most ceil(len / slide) windows overlap an instant; the earliest candidate starts that
    // many slides (minus one) before the last.
    let overlapping = (len_us - 1) / slide_us; // ceil(len / slide) - 1
    let mut next = last_start.saturating_sub(overlapping.saturating_mul(slide_us));
    // Skip candidates that end at or before `ts` (only when `len` is not a multiple of `slide`).
    while next.saturating_add(len_us) <= ts.0 && next < last_start {
        next += slide_us;
    }
    SlidingWindows { next, last: last_start, len: len_us, slide: slide_us, done: false }
}

/// The tumbling window `[start, end)` of length `len_us` (aligned to the epoch shifted by
/// `start_us`) that contains `ts`: Spark's `window(col, len)`.
///
/// # Panics
/// If `len_us <= 0`.
#[inline]
pub fn tumbling_window(ts: Timestamp, len_us: i64, start_us: i64) -> (Timestamp, Timestamp) {
    sliding_windows(ts, len_us, len_us, start_us).next().expect("every instant is in one tumbling window")
}

/// The iterator of [`sliding_windows`]: `(window start, window end)` pairs.
#[derive(Debug, Clone)]
pub struct SlidingWindows {
    next: i64,
    last: i64,
    len: i64,
    slide: i64,
    done: bool,
}

impl Iterator for SlidingWindows {
    type Item = (Timestamp, Timestamp);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let start = self.next;
        if start >= self.last {
            self.done = true;
        } else {
            self.next += self.slide;
        }
        Some((Timestamp(start), Timestamp(start.saturating_add(self.len))))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = if self.done { 0 } else { ((self.last - self.next) / self.slide + 1) as usize };
        (n, Some(n))
    }
}

impl ExactSizeIterator for SlidingWindows {}

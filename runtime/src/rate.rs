//! A token bucket that limits how many records per second a receiver hands over (Spark's
//! `spark.streaming.receiver.maxRate`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// At most `rate` records per second on average, with bursts of at most a tenth of a second's
/// worth (at least one record): over any span of `t` seconds, at most `rate × t + rate / 10`.
///
/// Invariant: `0 ≤ tokens ≤ burst` after [`refill`](Self::refill); [`take`](Self::take) may
/// drive it below zero by the records of one step, which later refills repay.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_second: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

/// The longest single sleep, so a stop is noticed quickly.
const SLICE: Duration = Duration::from_millis(20);

impl RateLimiter {
    /// A limiter of `per_second` records per second (0 counts as 1).
    pub(crate) fn new(per_second: u64) -> Self {
        let per_second = per_second.max(1) as f64;
        let burst = (per_second / 10.0).max(1.0);
        RateLimiter { per_second, burst, tokens: burst, last: Instant::now() }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let earned = now.duration_since(self.last).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + earned).min(self.burst);
        self.last = now;
    }

    /// Waits until at least one record may pass; returns how many may pass now, or `None` if
    /// `stop` was set while waiting.
    pub(crate) fn acquire(&mut self, stop: &AtomicBool) -> Option<usize> {
        loop {
            if stop.load(Ordering::SeqCst) {
                return None;
            }
            self.refill();
            if self.tokens >= 1.0 {
                return Some(self.tokens as usize);
            }
            let wait = Duration::from_secs_f64((1.0 - self.tokens) / self.per_second);
            std::thread::sleep(wait.min(SLICE));
        }
    }

    /// Records that `n` records passed.
    pub(crate) fn take(&mut self, n: usize) {
        self.tokens -= n as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_at_most_the_rate_plus_one_burst() {
        let stop = AtomicBool::new(false);
        let mut r = RateLimiter::new(1000);
        let start = Instant::now();
        let mut passed = 0;
        while passed < 300 {
            let n = r.acquire(&stop).unwrap().min(300 - passed);
            r.take(n);
            passed += n;
        }
        // 300 records at 1000/s with a burst of 100: at least 200 ms.
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(190), "{took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
    }

    #[test]
    fn a_stop_ends_the_wait() {
        let stop = AtomicBool::new(false);
        let mut r = RateLimiter::new(1);
        let n = r.acquire(&stop).unwrap();
        r.take(n);
        stop.store(true, Ordering::SeqCst);
        assert_eq!(r.acquire(&stop), None);
    }
}

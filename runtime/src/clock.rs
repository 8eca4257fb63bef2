//! The batch clock: when each micro-batch is sealed, from the system clock, a manual clock
//! driven by tests, or a replay that runs batches back to back; and the stop signal that can
//! interrupt the wait.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A clock that only moves when told to, for deterministic tests.
///
/// Cloning gives another handle on the same clock: give one to the app with
/// [`App::with_manual_clock`](crate::App::with_manual_clock) and keep one to advance time. The
/// app runs the batch with time `T` as soon as the clock reaches `T`.
///
/// ```
/// use std::time::Duration;
/// use streamc_runtime::ManualClock;
/// let clock = ManualClock::new(0);
/// clock.advance(Duration::from_millis(1500));
/// assert_eq!(clock.time_ms(), 1500);
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

#[derive(Debug)]
struct ManualInner {
    ms: Mutex<i64>,
    moved: Condvar,
}

impl ManualClock {
    /// A clock showing `start_ms` milliseconds since the epoch.
    pub fn new(start_ms: i64) -> Self {
        ManualClock { inner: Arc::new(ManualInner { ms: Mutex::new(start_ms), moved: Condvar::new() }) }
    }

    /// Moves the clock forward by `d` (whole milliseconds) and wakes the batch loop.
    pub fn advance(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let mut now = lock(&self.inner.ms);
        *now = now.saturating_add(ms);
        drop(now);
        self.inner.moved.notify_all();
    }

    /// The current time in milliseconds since the epoch.
    pub fn time_ms(&self) -> i64 {
        *lock(&self.inner.ms)
    }

    fn wake(&self) {
        // Taking the lock orders this wake-up after a waiter's check of the stop flag.
        drop(lock(&self.inner.ms));
        self.inner.moved.notify_all();
    }
}

/// Locks ignoring poison: every value behind these mutexes stays consistent even if a holder
/// panicked (they are plain counters, flags and buffers).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How a stop was requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StopMode {
    /// Run one last batch with what was already received, then stop.
    Graceful,
    /// Finish the batch in flight (if any) and stop.
    Immediate,
}

/// The signal shared by the batch loop and the handles that control it: stop requests going in,
/// "finished" coming out.
#[derive(Debug)]
pub(crate) struct Control {
    state: Mutex<ControlState>,
    cv: Condvar,
    /// The manual clock the loop may be waiting on, woken on a stop request.
    manual: Option<ManualClock>,
}

#[derive(Debug, Default)]
struct ControlState {
    stop: Option<StopMode>,
    finished: bool,
}

impl Control {
    pub(crate) fn new(manual: Option<ManualClock>) -> Arc<Self> {
        Arc::new(Control { state: Mutex::new(ControlState::default()), cv: Condvar::new(), manual })
    }

    /// Requests a stop; an immediate stop overrides a graceful one, never the reverse.
    pub(crate) fn request_stop(&self, mode: StopMode) {
        let mut s = lock(&self.state);
        if s.stop != Some(StopMode::Immediate) {
            s.stop = Some(mode);
        }
        drop(s);
        self.cv.notify_all();
        if let Some(m) = &self.manual {
            m.wake();
        }
    }

    pub(crate) fn stop_requested(&self) -> Option<StopMode> {
        lock(&self.state).stop
    }

    pub(crate) fn set_finished(&self) {
        lock(&self.state).finished = true;
        self.cv.notify_all();
    }

    /// Waits until the batch loop has finished or `timeout` passed; true if finished.
    pub(crate) fn wait_finished(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut s = lock(&self.state);
        while !s.finished {
            match deadline {
                None => s = self.cv.wait(s).unwrap_or_else(PoisonError::into_inner),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    s = self.cv.wait_timeout(s, d - now).unwrap_or_else(PoisonError::into_inner).0;
                }
            }
        }
        true
    }

    /// Sleeps until `deadline` unless a stop is requested first.
    fn sleep_until(&self, deadline: Instant) -> Option<StopMode> {
        let mut s = lock(&self.state);
        loop {
            if let Some(m) = s.stop {
                return Some(m);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            s = self.cv.wait_timeout(s, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
    }
}

/// What ended a wait for the next batch time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// The batch time was reached.
    Reached,
    /// A stop was requested first.
    Stop(StopMode),
}

/// The time source of the batch loop.
#[derive(Clone, Debug)]
pub(crate) enum BatchClock {
    /// Wall-clock time; batches at multiples of the interval since the epoch.
    System,
    /// A [`ManualClock`] advanced by a test.
    Manual(ManualClock),
    /// Replay: virtual time from 0, batches run back to back without waiting.
    Replay,
}

/// The first batch time after `now_ms`: the next multiple of the interval, as Spark's
/// `RecurringTimer` does, so batch times are comparable across runs and sources.
pub(crate) fn first_batch_time(now_ms: i64, interval_ms: i64) -> i64 {
    (now_ms.div_euclid(interval_ms) + 1) * interval_ms
}

fn system_now_ms() -> i64 {
    // A clock before 1970 is a broken machine; treat it as the epoch rather than fail.
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl BatchClock {
    /// The time of the first batch.
    pub(crate) fn first_batch_time(&self, interval_ms: i64) -> i64 {
        match self {
            BatchClock::System => first_batch_time(system_now_ms(), interval_ms),
            BatchClock::Manual(c) => first_batch_time(c.time_ms(), interval_ms),
            BatchClock::Replay => interval_ms,
        }
    }

    /// Blocks until the clock reaches `t` (the end of the batch's interval) or a stop is
    /// requested.
    pub(crate) fn wait_until(&self, t: i64, control: &Control) -> Wake {
        match self {
            BatchClock::Replay => match control.stop_requested() {
                Some(m) => Wake::Stop(m),
                None => Wake::Reached,
            },
            BatchClock::System => loop {
                // Re-read the wall clock after each wake-up: sleeps can end early or late, and
                // the wall clock can be adjusted while we sleep.
                let now = system_now_ms();
                if now >= t {
                    return match control.stop_requested() {
                        Some(m) => Wake::Stop(m),
                        None => Wake::Reached,
                    };
                }
                let wait = Duration::from_millis((t - now) as u64);
                if let Some(m) = control.sleep_until(Instant::now() + wait) {
                    return Wake::Stop(m);
                }
            },
            BatchClock::Manual(c) => {
                let mut now = lock(&c.inner.ms);
                loop {
                    if let Some(m) = control.stop_requested() {
                        return Wake::Stop(m);
                    }
                    if *now >= t {
                        return Wake::Reached;
                    }
                    // The timeout is a safety net only: advance() and stop requests notify.
                    now = c
                        .inner
                        .moved
                        .wait_timeout(now, Duration::from_millis(100))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_batch_time_is_the_next_multiple() {
        assert_eq!(first_batch_time(0, 1000), 1000);
        assert_eq!(first_batch_time(999, 1000), 1000);
        assert_eq!(first_batch_time(1000, 1000), 2000);
        assert_eq!(first_batch_time(1_700_000_000_123, 500), 1_700_000_000_500);
    }

    #[test]
    fn manual_wait_is_released_by_advance_and_by_stop() {
        let clock = ManualClock::new(0);
        let control = Control::new(Some(clock.clone()));
        let bc = BatchClock::Manual(clock.clone());
        std::thread::scope(|s| {
            let h = s.spawn(|| bc.wait_until(1000, &control));
            std::thread::sleep(Duration::from_millis(20));
            clock.advance(Duration::from_millis(1000));
            assert_eq!(h.join().unwrap(), Wake::Reached);
            let h = s.spawn(|| bc.wait_until(2000, &control));
            std::thread::sleep(Duration::from_millis(20));
            control.request_stop(StopMode::Graceful);
            assert_eq!(h.join().unwrap(), Wake::Stop(StopMode::Graceful));
        });
        control.request_stop(StopMode::Immediate);
        control.request_stop(StopMode::Graceful);
        assert_eq!(control.stop_requested(), Some(StopMode::Immediate));
    }
}

//! The batch clock: when each micro-batch is sealed, from the system clock, a manual clock
//! driven by tests, or a replay that runs batches back to back; the [`Trigger`] that says which
//! batches run; the stop signal that can interrupt the wait; and ISO-8601 timestamps for
//! progress reports.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// When a Structured Streaming query runs its batches (Spark's `Trigger`).
///
/// Batch ids count the batches that ran, no-data batches included. A replay (`--replay`)
/// ignores the trigger: each replay file is one batch, followed by the no-data batches the last
/// one requested, as with [`AvailableNow`](Self::AvailableNow).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// Spark's `Trigger.ProcessingTime(interval)`: a batch every batch interval, with what
    /// arrived meanwhile (for a file stream, the new files, up to its maximum). An app whose
    /// sources are all file streams skips, as Spark does, the ticks with no new file unless the
    /// previous batch [requested a no-data batch](crate::BatchOutput::request_no_data_batch);
    /// skipped ticks use no batch id.
    #[default]
    ProcessingTime,
    /// Spark's `Trigger.Once`: one batch with everything available (a file stream's
    /// `max_files_per_trigger` does not apply, as in Spark), then the app stops. As in Spark,
    /// an app whose sources are all file streams runs no batch when there is no new file (and
    /// no no-data batch is due).
    Once,
    /// Spark's `Trigger.AvailableNow`: the files present at the start, in batches of at most
    /// `max_files_per_trigger`, back to back without waiting for the clock; then, while the
    /// previous batch [requested one](crate::BatchOutput::request_no_data_batch), a batch with
    /// no input (Spark's trailing no-data batch, which advances the watermark); then the app
    /// stops. An app without file streams runs one batch, as with [`Once`](Self::Once).
    AvailableNow,
}

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
    /// The current time in ms since the epoch: the manual clock's for a manual clock, the
    /// system clock's otherwise.
    pub(crate) fn now_ms(&self) -> i64 {
        match self {
            BatchClock::Manual(c) => c.time_ms(),
            BatchClock::System | BatchClock::Replay => system_now_ms(),
        }
    }

    /// The time of the first batch.
    pub(crate) fn first_batch_time(&self, interval_ms: i64) -> i64 {
        match self {
            BatchClock::System => first_batch_time(system_now_ms(), interval_ms),
            BatchClock::Manual(c) => first_batch_time(c.time_ms(), interval_ms),
            BatchClock::Replay => interval_ms,
        }
    }

    /// Whether the clock has reached `t`: [`wait_until`](Self::wait_until) would not wait.
    pub(crate) fn reached(&self, t: i64) -> bool {
        match self {
            BatchClock::Replay => true,
            BatchClock::System => system_now_ms() >= t,
            BatchClock::Manual(c) => c.time_ms() >= t,
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

/// Formats `ms` milliseconds since the epoch as ISO-8601 UTC with milliseconds, the form of
/// Spark's progress timestamps.
///
/// ```
/// use streamc_runtime::clock::iso8601_utc;
/// assert_eq!(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
/// assert_eq!(iso8601_utc(1_704_110_460_000), "2024-01-01T12:01:00.000Z");
/// ```
pub fn iso8601_utc(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, min, s, milli) = (in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1000 % 60, in_day % 1000);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

/// The proleptic Gregorian date of day `z` since 1970-01-01 (Howard Hinnant's `civil_from_days`,
/// exact for every `i64` day this module can produce).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_known_instants() {
        assert_eq!(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_utc(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso8601_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601_utc(1_709_164_800_123), "2024-02-29T00:00:00.123Z");
        assert_eq!(iso8601_utc(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }

    #[test]
    fn civil_days_are_consecutive() {
        // Law: day n + 1 is the calendar day after day n, across 800 years.
        let mut prev = civil_from_days(-146_097);
        for z in -146_096..146_097 {
            let (y, m, d) = civil_from_days(z);
            let (py, pm, pd) = prev;
            let next_day = (y, m, d) == (py, pm, pd + 1);
            let next_month = d == 1 && ((y, m) == (py, pm + 1) || (y == py + 1 && m == 1 && pm == 12));
            assert!(next_day || next_month, "{prev:?} -> {:?}", (y, m, d));
            prev = (y, m, d);
        }
    }

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

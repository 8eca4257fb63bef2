//! Batches split over worker threads, for stages that end in a per-batch aggregation
//! (`reduce_by_key`): each worker runs the fused stage over its share of the batch's lines into
//! its own partial table, and the partial tables are merged in line order (two-phase
//! aggregation), so the result is the one a single thread computes.
//!
//! This is the seam between generated stage code and the engine that schedules it. Generated
//! code hands a stage's *partial* — a pure function of one part of a source's lines that returns
//! its partial tables — to [`BatchInput::run_partials`](crate::BatchInput::run_partials), and
//! merges what comes back in part order (or, on `None`, runs the stage's sequential loops over
//! the whole batch). The embedded engine decides from the batch size and `--workers` and runs
//! the parts with [`Parts`] on scoped threads; another engine (one part per cluster worker,
//! partials exchanged by key hash) can keep the same contract, and so the same generated code.
//!
//! The stage borrows the user's closures' environment from every worker, so it must be `Sync` (as
//! Spark's closures must be serializable): the compiler generates this path for YAML pipelines,
//! whose closures capture nothing, and for `stream!` pipelines that opt in with `workers(..)`.
//!
//! ```
//! use streamc_runtime::TextBatch;
//! use streamc_runtime::parallel::Parts;
//! let mut batch = TextBatch::new();
//! for l in ["a b", "b c", "c d"] {
//!     batch.push_line(l);
//! }
//! let parts = Parts::new(batch.split_lines(2), |part| part.map(|l| l.len()).sum::<usize>());
//! let sums = parts.run();
//! assert_eq!(sums.iter().sum::<usize>(), 9);
//! ```

use std::marker::PhantomData;
use std::time::{Duration, Instant};

use crate::source::Lines;

/// A batch's lines split into parts, and the stage to run on each.
pub struct Parts<'t, F, R> {
    parts: Vec<Lines<'t>>,
    stage: F,
    out: PhantomData<fn() -> R>,
}

impl<'t, F, R> Parts<'t, F, R>
where
    F: Fn(Lines<'t>) -> R,
{
    /// The stage `stage` over each of `parts` (from [`TextBatch::split_lines`](crate::TextBatch::split_lines)).
    pub fn new(parts: Vec<Lines<'t>>, stage: F) -> Self {
        Parts { parts, stage, out: PhantomData }
    }
}

impl<'t, F, R> Parts<'t, F, R>
where
    F: Fn(Lines<'t>) -> R + Sync,
    R: Send,
{
    /// Runs every part on its own thread (the first on the calling thread); results in part
    /// order. A panic in a worker is resumed on the calling thread.
    pub fn run(&self) -> Vec<R> {
        let stage = &self.stage;
        if self.parts.len() <= 1 {
            return self.parts.iter().map(|p| stage(p.clone())).collect();
        }
        // The first part runs on the calling thread, the others on one thread each.
        std::thread::scope(|scope| {
            let handles: Vec<_> = self.parts[1..]
                .iter()
                .map(|p| {
                    let p = p.clone();
                    scope.spawn(move || stage(p))
                })
                .collect();
            let mut out = Vec::with_capacity(self.parts.len());
            out.push(stage(self.parts[0].clone()));
            out.extend(handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))));
            out
        })
    }

    /// Runs `lead` over the first part on this thread, and the stage over every other part on
    /// threads of their own, at the same time; returns the other parts' results, in part order.
    /// The first part's work goes straight into whatever `lead` changes (the query's own state),
    /// so nothing of it is merged afterwards.
    pub fn run_leading(self, lead: impl FnOnce(Lines<'t>)) -> Vec<R> {
        self.run_leading_timed(lead).0
    }

    /// [`run_leading`](Self::run_leading), with each part's bytes and the time it took (the
    /// first part's first).
    pub fn run_leading_timed(self, lead: impl FnOnce(Lines<'t>)) -> (Vec<R>, Vec<(usize, Duration)>) {
        let mut parts = self.parts.into_iter();
        let Some(first) = parts.next() else { return (Vec::new(), Vec::new()) };
        let stage = &self.stage;
        let rest: Vec<Lines<'t>> = parts.collect();
        if rest.is_empty() {
            let (bytes, start) = (first.len_bytes(), Instant::now());
            lead(first);
            return (Vec::new(), vec![(bytes, start.elapsed())]);
        }
        std::thread::scope(|scope| {
            let handles: Vec<_> = rest
                .into_iter()
                .map(|p| {
                    scope.spawn(move || {
                        let (bytes, start) = (p.len_bytes(), Instant::now());
                        let r = stage(p);
                        (r, (bytes, start.elapsed()))
                    })
                })
                .collect();
            let (bytes, start) = (first.len_bytes(), Instant::now());
            lead(first);
            let mut times = vec![(bytes, start.elapsed())];
            let mut out = Vec::with_capacity(handles.len());
            for h in handles {
                let (r, t) = h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                out.push(r);
                times.push(t);
            }
            (out, times)
        })
    }
}

/// How much of a batch the batch thread's own part takes, per query
/// ([`Parts::run_leading`]): that part goes straight into the query's large state, a slower
/// path per line than a worker's into a small partial, so an even cut leaves the workers
/// waiting. After each split batch the share moves halfway to the one that would have made every
/// part take the same time (measured: bytes per second of the first part and of the others);
/// the first batch cuts evenly. The output does not depend on the cut.
#[derive(Debug, Default)]
pub struct LeadShares(std::sync::Mutex<Vec<(&'static str, f64)>>);

impl LeadShares {
    /// The first part's share of the bytes for `query` split over `n` parts.
    pub fn share(&self, query: &'static str, n: usize) -> f64 {
        let even = 1.0 / n.max(1) as f64;
        let shares = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        shares.iter().find(|(q, _)| *q == query).map_or(even, |&(_, s)| s)
    }

    /// Learns from a split batch of `query`: the first part's bytes and time, and each other
    /// part's. Parts that took under a millisecond say nothing.
    pub fn learn(&self, query: &'static str, first: (usize, Duration), others: &[(usize, Duration)]) {
        const MIN: Duration = Duration::from_millis(1);
        if first.1 < MIN || others.is_empty() || others.iter().any(|o| o.1 < MIN) {
            return;
        }
        let rate = |(bytes, t): (usize, Duration)| bytes as f64 / t.as_secs_f64();
        let lead = rate(first);
        let rest: f64 = others.iter().map(|&o| rate(o)).sum();
        if !(lead > 0.0 && rest > 0.0) {
            return;
        }
        // Equal times: the first part's bytes over its rate equal each other's over theirs.
        let ideal = lead / (lead + rest);
        let n = others.len() + 1;
        let mut shares = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let even = 1.0 / n as f64;
        let i = match shares.iter().position(|(q, _)| *q == query) {
            Some(i) => i,
            None => {
                shares.push((query, even));
                shares.len() - 1
            }
        };
        let next = 0.5 * shares[i].1 + 0.5 * ideal;
        shares[i].1 = next.clamp(0.25 * even, even * 1.5);
    }
}

/// `items` mapped by `f`, in order, the work cut into `parts` runs of about as many items, each
/// on a thread of its own (this thread takes the first): a batch's output rows built on its
/// workers. One part, or a few items, run here.
pub fn map_in_parts<T: Send, U: Send>(mut items: Vec<T>, parts: usize, f: impl Fn(T) -> U + Sync) -> Vec<U> {
    /// Fewer items than this per part are not worth a thread.
    const MIN_PART: usize = 4096;
    let parts = parts.min(items.len() / MIN_PART).max(1);
    if parts == 1 {
        return items.into_iter().map(f).collect();
    }
    let size = items.len().div_ceil(parts);
    // The later runs cut off the end, last first; the first stays in `items`.
    let mut rest: Vec<Vec<T>> = Vec::with_capacity(parts - 1);
    for k in (1..parts).rev() {
        if k * size < items.len() {
            rest.push(items.split_off(k * size));
        }
    }
    rest.reverse();
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            rest.into_iter().map(|chunk| scope.spawn(move || chunk.into_iter().map(f).collect::<Vec<U>>())).collect();
        let mut out: Vec<U> = items.into_iter().map(f).collect();
        for h in handles {
            out.extend(h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TextBatch;

    fn batch(n: usize) -> TextBatch {
        let mut b = TextBatch::new();
        for i in 0..n {
            b.push_line(&format!("line {i}"));
        }
        b
    }

    #[test]
    fn split_lines_keeps_every_line_once_in_order() {
        let b = batch(1000);
        for n in 1..9 {
            let parts = b.split_lines(n);
            assert!(parts.len() <= n);
            let joined: Vec<&str> = parts.into_iter().flatten().collect();
            assert_eq!(joined, b.lines().collect::<Vec<_>>(), "{n} parts");
        }
        assert!(TextBatch::new().split_lines(4).into_iter().flatten().next().is_none());
    }

    #[test]
    fn stages_run_on_worker_threads() {
        let b = batch(100);
        let main = std::thread::current().id();
        let parts = Parts::new(b.split_lines(4), |p| (p.count(), std::thread::current().id() != main));
        let out = parts.run();
        assert_eq!(out.iter().map(|o| o.0).sum::<usize>(), 100);
        // The first part on the calling thread, the others each on a worker.
        assert_eq!(out.iter().map(|o| o.1).collect::<Vec<_>>(), [false, true, true, true]);
    }

    #[test]
    fn a_led_split_keeps_every_line_once_in_order_and_sizes_the_first_part() {
        let b = batch(1000);
        let all: Vec<&str> = b.lines().collect();
        for n in 1..6 {
            for first in [0.0, 0.05, 0.2, 0.5, 0.9, 1.0] {
                let parts = b.split_lines_led(n, first);
                assert!(!parts.is_empty() && parts.len() <= n, "{n} parts, first {first}");
                assert!(parts.iter().all(|p| p.len_bytes() > 0), "no empty part");
                let joined: Vec<&str> = parts.iter().cloned().flatten().collect();
                assert_eq!(joined, all, "{n} parts, first {first}");
                if n > 1 && first > 0.0 && first < 1.0 {
                    let share = parts[0].len_bytes() as f64 / b.len_bytes() as f64;
                    assert!((share - first).abs() < 0.02, "first part {share} of the bytes, asked {first}");
                }
            }
        }
        assert!(TextBatch::new().split_lines_led(3, 0.3).is_empty());
    }

    #[test]
    fn mapping_in_parts_keeps_every_item_in_order() {
        for n in [0, 1, 4095, 4096, 8192, 8193, 20_000, 40_001] {
            for parts in 1..5 {
                let items: Vec<usize> = (0..n).collect();
                let out = map_in_parts(items, parts, |i| i * 2);
                assert_eq!(out, (0..n).map(|i| i * 2).collect::<Vec<_>>(), "{n} items in {parts} parts");
            }
        }
    }

    #[test]
    fn the_lead_takes_the_first_part_on_this_thread() {
        let b = batch(100);
        let main = std::thread::current().id();
        let mut led = Vec::new();
        let out = Parts::new(b.split_lines(3), |p| (p.count(), std::thread::current().id() != main))
            .run_leading(|p| led.extend(p.map(str::to_owned)));
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|o| o.1), "the other parts run on threads of their own");
        assert_eq!(led.len() + out.iter().map(|o| o.0).sum::<usize>(), 100);
        assert_eq!(led.first().map(String::as_str), Some("line 0"));
        let mut one = 0;
        let out = Parts::new(b.split_lines(1), |p| p.count()).run_leading(|p| one = p.count());
        assert!(out.is_empty());
        assert_eq!(one, 100);
    }
}

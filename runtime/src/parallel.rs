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
use std::sync::Arc;

use crate::source::Lines;

/// A batch's lines split into parts, and the stage to run on each.
pub struct Parts<'t, F, R> {
    parts: Vec<Lines<'t>>,
    stage: F,
    idle: Option<Idle>,
    out: PhantomData<fn() -> R>,
}

/// Work for a worker thread whose part is done while the batch's thread still merges and
/// evicts (a replay reading its next file ahead, [`BatchInput`](crate::BatchInput)): called on
/// the worker once its part is done; it must not block (it starts a thread of its own).
#[derive(Clone)]
pub struct Idle(Arc<dyn Fn() + Send + Sync>);

impl Idle {
    /// The work `start` starts.
    pub fn new(start: impl Fn() + Send + Sync + 'static) -> Self {
        Idle(Arc::new(start))
    }

    /// Starts it.
    pub fn start(&self) {
        (self.0)()
    }
}

impl std::fmt::Debug for Idle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Idle")
    }
}

impl<'t, F, R> Parts<'t, F, R>
where
    F: Fn(Lines<'t>) -> R,
{
    /// The stage `stage` over each of `parts` (from [`TextBatch::split_lines`](crate::TextBatch::split_lines)).
    pub fn new(parts: Vec<Lines<'t>>, stage: F) -> Self {
        Parts { parts, stage, idle: None, out: PhantomData }
    }

    /// Gives the worker threads [`Idle`] work to start when their part is done (not called
    /// when the batch runs in one part: no core is idle then).
    pub fn with_idle(mut self, idle: Option<Idle>) -> Self {
        self.idle = idle;
        self
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
        // The first part runs on the calling thread, the others on one thread each.
        let mut head = None;
        let rest = self.run_first(|p| head = Some((self.stage)(p)));
        head.into_iter().chain(rest).collect()
    }

    /// [`run`](Self::run), but the first part goes to `first` on the calling thread, which may
    /// apply it to state the stage cannot touch (the query's own state, rather than a partial
    /// to merge), while the other parts run on their threads; their results come back, in part
    /// order. A panic in a worker is resumed on the calling thread. One part spawns no thread.
    pub fn run_first(&self, first: impl FnOnce(Lines<'t>)) -> Vec<R> {
        let stage = &self.stage;
        let Some((head, rest)) = self.parts.split_first() else { return Vec::new() };
        if rest.is_empty() {
            first(head.clone());
            return Vec::new();
        }
        let idle = self.idle.as_ref();
        std::thread::scope(|scope| {
            let handles: Vec<_> = rest
                .iter()
                .map(|p| {
                    let p = p.clone();
                    scope.spawn(move || {
                        let r = stage(p);
                        if let Some(idle) = idle {
                            idle.start();
                        }
                        r
                    })
                })
                .collect();
            first(head.clone());
            handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
        })
    }
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
    fn the_first_part_goes_to_first_on_the_calling_thread() {
        let b = batch(100);
        let main = std::thread::current().id();
        for n in 1..5 {
            let parts = Parts::new(b.split_lines(n), |p| (p.collect::<Vec<_>>(), std::thread::current().id() != main));
            let mut head = Vec::new();
            let rest = parts.run_first(|p| {
                assert_eq!(std::thread::current().id(), main);
                head.extend(p);
            });
            assert_eq!(rest.len(), b.split_lines(n).len() - 1, "{n} parts");
            assert!(rest.iter().all(|r| r.1), "the other parts run on worker threads");
            let all: Vec<&str> = head.into_iter().chain(rest.into_iter().flat_map(|r| r.0)).collect();
            assert_eq!(all, b.lines().collect::<Vec<_>>(), "{n} parts, in order");
        }
    }

    #[test]
    fn idle_work_starts_on_each_worker_when_its_part_is_done_and_never_without_a_split() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let b = batch(100);
        for n in 1..5 {
            let started = Arc::new(AtomicUsize::new(0));
            let counter = Arc::clone(&started);
            let main = std::thread::current().id();
            let idle = Idle::new(move || {
                assert_ne!(std::thread::current().id(), main, "idle work starts on a worker");
                counter.fetch_add(1, Ordering::SeqCst);
            });
            let parts = Parts::new(b.split_lines(n), |p| p.count()).with_idle(Some(idle));
            let counts = parts.run();
            assert_eq!(counts.iter().sum::<usize>(), 100);
            assert_eq!(started.load(Ordering::SeqCst), counts.len() - 1, "{n} parts");
        }
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
}

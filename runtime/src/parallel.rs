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
//! the parts with [`Parts`] on its kept worker threads ([`Pool`]); another engine (one part per cluster worker,
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
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::source::{Chunks, Lines};

/// A batch's lines split into parts, and the stage to run on each.
pub struct Parts<'t, F, R> {
    parts: Vec<Lines<'t>>,
    stage: F,
    idle: Option<Idle>,
    pool: Option<Pool>,
    /// Whether the calling thread, its first part done, takes blocks of the last part from its
    /// back ([`with_stealing`](Self::with_stealing)).
    steal: bool,
    out: PhantomData<fn() -> R>,
}

/// The chunks a part that may be taken from is cut into: small enough that the two threads end
/// within a chunk of each other (~0.1 ms of the structured bench's work), large enough that
/// claiming one (an atomic) costs nothing.
pub const STEAL_CHUNK_BYTES: usize = 64 << 10;

/// Work for a worker thread whose part is done while the batch's thread still merges and
/// evicts (a replay reading its next file ahead, [`BatchInput`](crate::BatchInput)): called on
/// the worker once its part is done; it must not block (it starts a job of the worker's
/// [`Pool`], or a thread of its own).
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

/// How long one part of a split batch took, and its size.
#[derive(Clone, Copy, Debug)]
pub struct PartTime {
    /// The part's bytes of text.
    pub bytes: usize,
    /// The time its stage took.
    pub took: Duration,
}

/// The share of a split batch's bytes its first part gets, learned from the parts' times
/// ([`Parts::run_first_timed`]), so that the parts end together: the first part runs on the
/// batch's thread straight into the stage's state, where most keys are found, while the others
/// build partials of new keys and run a little slower per byte (~10 % on the structured bench).
/// Only for stages whose partials merge exactly, whatever the cut (the output never depends on
/// it): Structured queries' `run_partials_first`.
#[derive(Debug)]
pub struct Balance {
    /// The other parts' time per byte over the first part's, smoothed over the last batches.
    ratio: Mutex<f64>,
}

impl Default for Balance {
    fn default() -> Self {
        Balance { ratio: Mutex::new(1.0) }
    }
}

impl Balance {
    /// The first part's share of `n` parts: `r / (r + n - 1)` for the learned ratio `r`.
    pub fn first_share(&self, n: usize) -> f64 {
        let r = *self.ratio.lock().unwrap_or_else(PoisonError::into_inner);
        r / (r + n.saturating_sub(1).max(1) as f64)
    }

    /// Learns from one split batch's part times (the first part's first): a quarter of the
    /// new ratio, bounded to 0.5–2 (a part slowed by something else than its bytes — a thread
    /// descheduled — moves the share a little, once).
    pub fn learn(&self, times: &[PartTime]) {
        let Some((head, rest)) = times.split_first() else { return };
        let rest_bytes: usize = rest.iter().map(|t| t.bytes).sum();
        let rest_took: f64 = rest.iter().map(|t| t.took.as_secs_f64()).sum();
        let head_took = head.took.as_secs_f64();
        if head.bytes == 0 || rest_bytes == 0 || head_took <= 0.0 || rest_took <= 0.0 {
            return;
        }
        let r = (rest_took / rest_bytes as f64) / (head_took / head.bytes as f64);
        let mut ratio = self.ratio.lock().unwrap_or_else(PoisonError::into_inner);
        *ratio = 0.75 * *ratio + 0.25 * r.clamp(0.5, 2.0);
    }
}

/// Worker threads kept for the batches of a run: a split batch's parts after the first run on
/// them (a `rayon` pool), rather than on threads started per batch, and a worker whose part is
/// done runs its idle work (a replay's read-ahead) as its next job. On the structured bench
/// (2 workers, 2 cores) threads started per batch began their part 2–4 ms late in about a
/// fifth of the batches, and a read-ahead on a thread of its own held the core the batch's
/// thread needed to merge: the kept pool took the run from 189–199 to 159–167 ms, together with
/// [`Balance`].
#[derive(Clone)]
pub struct Pool {
    threads: Arc<rayon_core::ThreadPool>,
}

impl Pool {
    /// A pool of `threads` threads named `streamc-worker-<i>`, or `None` when they cannot be
    /// started (the parts then run on threads started per batch).
    pub fn new(threads: usize) -> Option<Self> {
        let threads = rayon_core::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|i| format!("streamc-worker-{i}"))
            .build()
            .ok()?;
        Some(Pool { threads: Arc::new(threads) })
    }

    /// The threads, for a scope of jobs.
    pub(crate) fn threads(&self) -> &rayon_core::ThreadPool {
        &self.threads
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pool({} threads)", self.threads.current_num_threads())
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
        Parts { parts, stage, idle: None, pool: None, steal: false, out: PhantomData }
    }

    /// Gives the worker threads [`Idle`] work to start when their part is done (not called
    /// when the batch runs in one part: no core is idle then).
    pub fn with_idle(mut self, idle: Option<Idle>) -> Self {
        self.idle = idle;
        self
    }

    /// Lets [`run_first_timed`](Self::run_first_timed)'s calling thread, once its first part
    /// is done, take the back half of what is left of the last part (in chunks of
    /// [`STEAL_CHUNK_BYTES`], [`Chunks`]), again and again while at least two chunks are left,
    /// running the stage over each block taken; the last part's worker reads its part from the
    /// front, a chunk at a time, until it meets them. The parts then end within a chunk of each
    /// other whatever the split got wrong or however late the worker started. The results
    /// come in line order all the same: the blocks' after the last part's. Only for stages
    /// whose partials merge exactly, whatever the cut.
    pub fn with_stealing(mut self) -> Self {
        self.steal = true;
        self
    }

    /// Runs the parts after the first on `pool`'s threads rather than on threads started for
    /// this run (`None`: started for it, as without a call).
    pub fn with_pool(mut self, pool: Option<Pool>) -> Self {
        self.pool = pool;
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
    /// order (then, [`with_stealing`](Self::with_stealing), the results of the blocks the
    /// calling thread took, in line order). A panic in a worker is resumed on the calling
    /// thread. One part spawns no thread.
    pub fn run_first(&self, first: impl FnOnce(Lines<'t>)) -> Vec<R> {
        self.run_first_timed(first).0
    }

    /// [`run_first`](Self::run_first), and how long each part took (a worker's idle work not
    /// counted), in part order; no timing when the batch ran in one part.
    pub fn run_first_timed(&self, first: impl FnOnce(Lines<'t>)) -> (Vec<R>, Vec<PartTime>) {
        let stage = &self.stage;
        let Some((head, rest)) = self.parts.split_first() else { return (Vec::new(), Vec::new()) };
        if rest.is_empty() {
            first(head.clone());
            return (Vec::new(), Vec::new());
        }
        // The last part in chunks, when the calling thread may take from it.
        let shared = self.steal.then(|| Arc::new(Chunks::new(rest[rest.len() - 1].text(), STEAL_CHUNK_BYTES)));
        let mut rest: Vec<Lines<'t>> = rest.to_vec();
        if let (Some(chunks), Some(last)) = (&shared, rest.last_mut()) {
            *last = Lines::claiming(Arc::clone(chunks));
        }
        let idle = self.idle.as_ref();
        // A worker's part, then its idle work.
        let work = move |p: Lines<'t>| {
            let (bytes, started) = (p.len_bytes(), Instant::now());
            let r = stage(p);
            let time = PartTime { bytes, took: started.elapsed() };
            if let Some(idle) = idle {
                idle.start();
            }
            (r, time)
        };
        let mut head_time = None;
        // The blocks the calling thread took from the last part, in the order taken (each lies
        // before the ones taken earlier).
        let mut stolen = Vec::new();
        let mut first = Some(first);
        let mut run_head = || {
            let first = first.take().expect("the first part runs once");
            let started = Instant::now();
            first(head.clone());
            head_time = Some(PartTime { bytes: head.len_bytes(), took: started.elapsed() });
            if let Some(chunks) = &shared {
                while let Some(block) = chunks.steal_back() {
                    stolen.push(stage(Lines::of(block)));
                }
            }
        };
        let done: Vec<(R, PartTime)> = match &self.pool {
            None => std::thread::scope(|scope| {
                let handles: Vec<_> = rest
                    .iter()
                    .map(|p| {
                        let p = p.clone();
                        scope.spawn(move || work(p))
                    })
                    .collect();
                run_head();
                handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
            }),
            Some(pool) => {
                // Each worker's result, put by the job that computed it; a job that panics puts
                // none (the scope resumes its panic here, after every job has ended).
                let results: Vec<Mutex<Option<(R, PartTime)>>> = rest.iter().map(|_| Mutex::new(None)).collect();
                pool.threads.in_place_scope(|scope| {
                    for (p, result) in rest.iter().zip(&results) {
                        let p = p.clone();
                        scope.spawn(move |_| {
                            let r = work(p);
                            *result.lock().unwrap_or_else(PoisonError::into_inner) = Some(r);
                        });
                    }
                    run_head();
                });
                results
                    .into_iter()
                    .map(|r| {
                        r.into_inner()
                            .unwrap_or_else(PoisonError::into_inner)
                            .expect("every job of the scope ended, and none panicked")
                    })
                    .collect()
            }
        };
        let mut times = Vec::with_capacity(done.len() + 1);
        times.extend(head_time);
        let mut results: Vec<R> = done
            .into_iter()
            .map(|(r, t)| {
                times.push(t);
                r
            })
            .collect();
        if let (Some(chunks), Some(last)) = (&shared, times.last_mut()) {
            // The last part's worker read what it claimed.
            last.bytes = chunks.front_bytes();
        }
        results.extend(stolen.into_iter().rev());
        (results, times)
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

    /// Without a pool (threads started per run) and with pools smaller, as large and larger
    /// than the parts after the first.
    fn pools() -> Vec<Option<Pool>> {
        vec![None, Pool::new(1), Pool::new(3), Pool::new(5)]
    }

    #[test]
    fn the_first_part_goes_to_first_on_the_calling_thread() {
        let b = batch(100);
        let main = std::thread::current().id();
        for pool in pools() {
            for n in 1..5 {
                let parts =
                    Parts::new(b.split_lines(n), |p| (p.collect::<Vec<_>>(), std::thread::current().id() != main))
                        .with_pool(pool.clone());
                let mut head = Vec::new();
                let rest = parts.run_first(|p| {
                    assert_eq!(std::thread::current().id(), main);
                    head.extend(p);
                });
                assert_eq!(rest.len(), b.split_lines(n).len() - 1, "{n} parts, {pool:?}");
                assert!(rest.iter().all(|r| r.1), "the other parts run on worker threads");
                let all: Vec<&str> = head.into_iter().chain(rest.into_iter().flat_map(|r| r.0)).collect();
                assert_eq!(all, b.lines().collect::<Vec<_>>(), "{n} parts, {pool:?}, in order");
            }
        }
    }

    #[test]
    fn idle_work_starts_on_each_worker_when_its_part_is_done_and_never_without_a_split() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let b = batch(100);
        for pool in pools() {
            for n in 1..5 {
                let started = Arc::new(AtomicUsize::new(0));
                let counter = Arc::clone(&started);
                let main = std::thread::current().id();
                let idle = Idle::new(move || {
                    assert_ne!(std::thread::current().id(), main, "idle work starts on a worker");
                    counter.fetch_add(1, Ordering::SeqCst);
                });
                let parts = Parts::new(b.split_lines(n), |p| p.count()).with_idle(Some(idle)).with_pool(pool.clone());
                let counts = parts.run();
                assert_eq!(counts.iter().sum::<usize>(), 100);
                assert_eq!(started.load(Ordering::SeqCst), counts.len() - 1, "{n} parts, {pool:?}");
            }
        }
    }

    #[test]
    fn stages_run_on_worker_threads() {
        let b = batch(100);
        let main = std::thread::current().id();
        for pool in pools() {
            let parts = Parts::new(b.split_lines(4), |p| (p.count(), std::thread::current().id() != main))
                .with_pool(pool.clone());
            let out = parts.run();
            assert_eq!(out.iter().map(|o| o.0).sum::<usize>(), 100);
            // The first part on the calling thread, the others on workers.
            assert_eq!(out.iter().map(|o| o.1).collect::<Vec<_>>(), [false, true, true, true], "{pool:?}");
        }
    }

    #[test]
    fn a_panic_in_a_worker_is_resumed_on_the_calling_thread_after_the_first_part() {
        let b = batch(100);
        for pool in pools() {
            let first_ran = std::cell::Cell::new(false);
            let parts = Parts::new(b.split_lines(3), |p| {
                let lines: Vec<&str> = p.collect();
                assert!(!lines.contains(&"line 99"), "a bad line");
                lines.len()
            })
            .with_pool(pool.clone());
            let caught =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parts.run_first(|_| first_ran.set(true))));
            let message = caught.expect_err("the last part panics");
            let text = message
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| message.downcast_ref::<&str>().map(|m| m.to_string()));
            assert_eq!(text.as_deref(), Some("a bad line"), "{pool:?}");
            assert!(first_ran.get(), "{pool:?}");
            // The pool is still usable.
            let counts = Parts::new(b.split_lines(3), |p| p.count()).with_pool(pool.clone()).run();
            assert_eq!(counts.iter().sum::<usize>(), 100, "{pool:?}");
        }
    }

    #[test]
    fn with_stealing_the_calling_thread_takes_from_a_late_worker_and_results_stay_in_line_order() {
        // Lines long enough for many chunks.
        let mut b = TextBatch::new();
        for i in 0..40_000 {
            b.push_line(&format!("line {i} {}", "y".repeat(i % 50)));
        }
        let all: Vec<String> = b.lines().map(str::to_owned).collect();
        let main = std::thread::current().id();
        for pool in pools() {
            for (n, share) in [(2, 0.5), (2, 0.05), (2, 0.95), (3, 0.3)] {
                // A worker that starts its part only once the calling thread has taken a block
                // of the last part (the stage runs on the calling thread only for blocks taken).
                let took = std::sync::atomic::AtomicBool::new(false);
                let stage = |p: Lines<'_>| {
                    if std::thread::current().id() == main {
                        took.store(true, std::sync::atomic::Ordering::SeqCst);
                    } else {
                        let waited = Instant::now();
                        while !took.load(std::sync::atomic::Ordering::SeqCst)
                            && waited.elapsed() < Duration::from_secs(10)
                        {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    }
                    p.map(str::to_owned).collect::<Vec<String>>()
                };
                let mut head = Vec::new();
                let parts = Parts::new(b.split_lines_first(n, share), stage).with_pool(pool.clone()).with_stealing();
                let (results, times) = parts.run_first_timed(|p| head.extend(p.map(str::to_owned)));
                assert!(results.len() > n - 1, "{pool:?}, {n} parts, share {share}: nothing was taken");
                let joined: Vec<String> = head.into_iter().chain(results.into_iter().flatten()).collect();
                assert_eq!(joined, all, "{pool:?}, {n} parts, share {share}");
                assert_eq!(times.len(), n);
                // The last part's time counts the bytes its worker read, not the blocks taken.
                assert!(times[n - 1].bytes < b.split_lines_first(n, share)[n - 1].len_bytes());
            }
        }
    }

    #[test]
    fn a_batch_cut_with_any_first_share_keeps_every_line_once_in_order() {
        let mut b = batch(1000);
        b.push_line(&"x".repeat(5000));
        for n in 1..6 {
            for share in [0.0, 0.01, 0.2, 1.0 / n as f64, 0.5, 0.9, 1.0, -1.0, 2.0] {
                let parts = b.split_lines_first(n, share);
                assert!(!parts.is_empty() && parts.len() <= n, "{n} parts, share {share}");
                assert!(parts.iter().all(|p| p.len_bytes() > 0), "{n} parts, share {share}: no empty part");
                let joined: Vec<&str> = parts.iter().cloned().flatten().collect();
                assert_eq!(joined, b.lines().collect::<Vec<_>>(), "{n} parts, share {share}");
                // The first part ends at the end of the line its share of the bytes falls in.
                let want =
                    if n == 1 { b.as_str().len() } else { (b.as_str().len() as f64 * share.clamp(0.0, 1.0)) as usize };
                let first = parts[0].len_bytes();
                assert!(first >= want.min(b.as_str().len()), "{n} parts, share {share}");
                assert!(first <= want + 5001, "{n} parts, share {share}");
            }
        }
        assert!(TextBatch::new().split_lines_first(3, 0.5).is_empty());
    }

    #[test]
    fn the_first_share_moves_toward_the_parts_ending_together_and_stays_bounded() {
        let time = |bytes, ms| PartTime { bytes, took: Duration::from_millis(ms) };
        let balance = Balance::default();
        assert!((balance.first_share(2) - 0.5).abs() < 1e-9);
        assert!((balance.first_share(4) - 0.25).abs() < 1e-9);
        // The other parts take twice as long per byte: the first part should get 2/3 of 2.
        for _ in 0..40 {
            balance.learn(&[time(1000, 10), time(1000, 20)]);
        }
        assert!((balance.first_share(2) - 2.0 / 3.0).abs() < 0.01, "{}", balance.first_share(2));
        // A part 100 times slower (a descheduled thread) counts as twice.
        for _ in 0..40 {
            balance.learn(&[time(1000, 1), time(1000, 100)]);
        }
        assert!((balance.first_share(2) - 2.0 / 3.0).abs() < 0.01);
        // Times it cannot learn from change nothing.
        balance.learn(&[time(0, 10), time(1000, 10)]);
        balance.learn(&[time(1000, 10)]);
        balance.learn(&[]);
        assert!((balance.first_share(2) - 2.0 / 3.0).abs() < 0.01);
        for _ in 0..40 {
            balance.learn(&[time(1000, 100), time(1000, 1)]);
        }
        assert!((balance.first_share(2) - 1.0 / 3.0).abs() < 0.01);
    }
}

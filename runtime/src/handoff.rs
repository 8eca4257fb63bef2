//! A batch split over worker threads by handing rows off to the batch thread, for a stage that
//! ends in state only the batch thread may touch (a Structured aggregation): the batch's lines
//! are cut into chunks of about [`CHUNK_BYTES`]; workers take chunks in order and run the part
//! of the loop before the state (parsing, filters, projections: `produce`) into a buffer of
//! rows per chunk; the batch thread finishes the chunks *in line order*: a chunk a worker has
//! buffered is handed to it as rows to apply to the state, and when the next chunk is not
//! buffered yet it takes the next unclaimed chunk itself (the whole loop straight into the
//! state when that chunk is the next in order, otherwise buffering it like a worker).
//!
//! Every row reaches the state in the order one thread would have applied it, so the state,
//! its key order and its output are one pass's; nothing is merged afterwards except what the
//! produce side counts on its own (each buffered chunk's `R`: observed event times, counters).
//! Unlike per-worker partial states (`parallel::Parts`), no key is inserted twice and no
//! partial is merged: the workers' share of the work is the parsing, the batch thread's the
//! state, and the chunks balance the two however their costs compare.
//!
//! Workers stay at most [`AHEAD`] chunks ahead of the batch thread, so the rows buffered at
//! once are bounded however slow the state is. A panic on either side ends the others (no
//! thread waits for work that will not come) and is resumed on the calling thread.
//!
//! ```
//! use streamc_runtime::TextBatch;
//! use streamc_runtime::handoff::{Handoff, hand_off};
//! let mut batch = TextBatch::new();
//! for i in 0..10_000 {
//!     batch.push_line(&format!("{i}"));
//! }
//! let mut applied: Vec<u64> = Vec::new();
//! let counted = hand_off(
//!     batch.lines(),
//!     2,
//!     |lines, rows: &mut Vec<u64>| {
//!         rows.extend(lines.map(|l| l.parse::<u64>().unwrap()));
//!         rows.len()
//!     },
//!     |work| match work {
//!         Handoff::Lines(lines) => applied.extend(lines.map(|l| l.parse::<u64>().unwrap())),
//!         Handoff::Rows(rows) => applied.extend(rows.drain(..)),
//!     },
//!     None,
//!     None,
//! );
//! assert_eq!(applied, (0..10_000).collect::<Vec<_>>());
//! assert!(counted.iter().sum::<usize>() <= 10_000);
//! ```

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::parallel::{Idle, Pool};
use crate::source::Lines;

/// The size of a chunk: small enough that the last chunks balance the threads (a chunk of JSON
/// events takes well under a millisecond), large enough that claiming one costs nothing.
pub const CHUNK_BYTES: usize = 64 << 10;

/// How many chunks workers may buffer ahead of the one the batch thread applies next.
pub const AHEAD: usize = 64;

/// What the batch thread is given by [`hand_off`], in line order.
pub enum Handoff<'t, 'b, T> {
    /// Lines to run the whole loop over, straight into the state.
    Lines(Lines<'t>),
    /// The rows `produce` buffered from the next lines, to apply in order (the buffer is
    /// cleared after the call: drain it or leave it).
    Rows(&'b mut Vec<T>),
}

/// A chunk a worker (or the batch thread) has buffered.
type Buffered<T, R> = Mutex<Option<(Vec<T>, R)>>;

struct Shared<T, R> {
    /// The next chunk to claim.
    next: AtomicUsize,
    /// The chunks the batch thread has finished.
    applied: AtomicUsize,
    buffered: Vec<Buffered<T, R>>,
    /// The rows the last buffered chunk held: the room the next buffer starts with.
    room: AtomicUsize,
    /// Set when a thread panicked: the others stop waiting.
    failed: AtomicBool,
    /// Guards the waits: a buffered chunk (for the batch thread) or progress (for a worker too
    /// far ahead).
    lock: Mutex<()>,
    changed: Condvar,
}

impl<T, R> Shared<T, R> {
    fn lock(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notify(&self) {
        let _g = self.lock();
        self.changed.notify_all();
    }

    fn take(&self, c: usize) -> Option<(Vec<T>, R)> {
        self.buffered[c].lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn put(&self, c: usize, done: (Vec<T>, R)) {
        *self.buffered[c].lock().unwrap_or_else(PoisonError::into_inner) = Some(done);
        self.notify();
    }
}

/// Marks the run failed if the thread holding it unwinds, so that no other thread waits on it.
struct FailOnUnwind<'a, T, R>(&'a Shared<T, R>);

impl<T, R> Drop for FailOnUnwind<'_, T, R> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.failed.store(true, Ordering::SeqCst);
            self.0.notify();
        }
    }
}

/// Runs a stage over `lines` on `workers` threads (the calling thread one of them) as the
/// module docs say: `produce` buffers a chunk's rows and returns what it counted on its own;
/// `consume`, on the calling thread only, gets every chunk in line order, as lines or as rows.
/// Returns the `R` of every chunk that was buffered, in chunk order. One worker, or one chunk,
/// hands the lines to `consume` whole and starts no thread. The workers other than the calling
/// thread are jobs of `pool` ([`Pool`]), or threads started for the run without one.
pub fn hand_off<'t, T, R, P, C>(
    lines: Lines<'t>,
    workers: usize,
    produce: P,
    mut consume: C,
    idle: Option<&Idle>,
    pool: Option<&Pool>,
) -> Vec<R>
where
    T: Send,
    R: Send,
    P: Fn(Lines<'t>, &mut Vec<T>) -> R + Sync,
    C: FnMut(Handoff<'t, '_, T>),
{
    let chunks = lines.len_bytes().div_ceil(CHUNK_BYTES);
    if workers <= 1 || chunks <= 1 {
        consume(Handoff::Lines(lines));
        return Vec::new();
    }
    let chunks = lines.split(chunks);
    let m = chunks.len();
    let shared = Shared {
        next: AtomicUsize::new(0),
        applied: AtomicUsize::new(0),
        room: AtomicUsize::new(0),
        buffered: (0..m).map(|_| Mutex::new(None)).collect(),
        failed: AtomicBool::new(false),
        lock: Mutex::new(()),
        changed: Condvar::new(),
    };
    let (shared, chunks, produce) = (&shared, &chunks, &produce);
    let buffer = move |c: usize| {
        // Room for as many rows as the last chunk buffered, and an eighth more.
        let room = shared.room.load(Ordering::Relaxed);
        let mut rows = Vec::with_capacity(room + room / 8);
        let r = produce(chunks[c].clone(), &mut rows);
        shared.room.store(rows.len(), Ordering::Relaxed);
        shared.put(c, (rows, r));
    };
    // A worker: claims chunks in order and buffers them, then starts its idle work.
    let work = move || {
        let _fail = FailOnUnwind(shared);
        loop {
            let c = shared.next.fetch_add(1, Ordering::Relaxed);
            if c >= m {
                break;
            }
            // Not too far ahead of the batch thread.
            let mut g = shared.lock();
            while c >= shared.applied.load(Ordering::SeqCst) + AHEAD && !shared.failed.load(Ordering::SeqCst) {
                g = shared.changed.wait(g).unwrap_or_else(PoisonError::into_inner);
            }
            drop(g);
            if shared.failed.load(Ordering::SeqCst) {
                return;
            }
            buffer(c);
        }
        if let Some(idle) = idle {
            idle.start();
        }
    };
    let mut out = Vec::new();
    // The batch thread: finishes every chunk in line order.
    let mut apply = || {
        catch_unwind(AssertUnwindSafe(|| {
            let _fail = FailOnUnwind(shared);
            let mut applied = 0;
            while applied < m {
                if let Some((mut rows, r)) = shared.take(applied) {
                    consume(Handoff::Rows(&mut rows));
                    out.push(r);
                } else {
                    let c = shared.next.fetch_add(1, Ordering::Relaxed);
                    if c == applied {
                        consume(Handoff::Lines(chunks[c].clone()));
                    } else if c < m {
                        // A later chunk: buffer it, then see to the next one again.
                        buffer(c);
                        continue;
                    } else {
                        // Every chunk is claimed: wait for a worker to buffer the next one.
                        let mut g = shared.lock();
                        loop {
                            if shared.failed.load(Ordering::SeqCst) {
                                return;
                            }
                            if let Some(done) = shared.take(applied) {
                                drop(g);
                                let (mut rows, r) = done;
                                consume(Handoff::Rows(&mut rows));
                                out.push(r);
                                break;
                            }
                            g = shared.changed.wait(g).unwrap_or_else(PoisonError::into_inner);
                        }
                    }
                }
                applied += 1;
                shared.applied.store(applied, Ordering::SeqCst);
                shared.notify();
            }
        }))
    };
    // A worker's panic first (the batch thread only stopped for it), then the batch thread's.
    let finished = match pool {
        Some(pool) => {
            let mut finished = None;
            // The scope resumes a job's panic once every job has ended.
            pool.threads().in_place_scope(|scope| {
                for _ in 1..workers {
                    scope.spawn(move |_| work());
                }
                finished = Some(apply());
            });
            finished.expect("the batch thread's part ran")
        }
        None => std::thread::scope(|scope| {
            let handles: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
            let finished = apply();
            for h in handles {
                if let Err(panic) = h.join() {
                    resume_unwind(panic);
                }
            }
            finished
        }),
    };
    if let Err(panic) = finished {
        resume_unwind(panic);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TextBatch;
    use std::sync::Arc;

    fn batch(n: usize) -> TextBatch {
        let mut b = TextBatch::new();
        for i in 0..n {
            b.push_line(&format!("line {i:06} of a batch"));
        }
        b
    }

    /// Every line once, in order, whichever way each chunk went; the `R`s of the buffered
    /// chunks only.
    #[test]
    fn every_row_reaches_the_batch_thread_once_in_line_order() {
        let b = batch(60_000);
        let want: Vec<&str> = b.lines().collect();
        let main = std::thread::current().id();
        for (pool, workers) in pools().into_iter().flat_map(|p| (1..5).map(move |w| (p.clone(), w))) {
            let mut got: Vec<&str> = Vec::new();
            let (mut as_lines, mut as_rows) = (0, 0);
            let counted = hand_off(
                b.lines(),
                workers,
                |lines, rows: &mut Vec<&str>| {
                    rows.extend(lines);
                    rows.len()
                },
                |work| {
                    assert_eq!(std::thread::current().id(), main);
                    match work {
                        Handoff::Lines(lines) => {
                            as_lines += 1;
                            got.extend(lines);
                        }
                        Handoff::Rows(rows) => {
                            as_rows += 1;
                            got.append(rows);
                        }
                    }
                },
                None,
                pool.as_ref(),
            );
            assert!(got == want, "{workers} workers, {pool:?}");
            assert_eq!(counted.len(), as_rows);
            let chunks = b.len_bytes().div_ceil(CHUNK_BYTES);
            if workers == 1 {
                assert_eq!((as_lines, as_rows), (1, 0));
            } else {
                assert_eq!(as_lines + as_rows, chunks, "{workers} workers, {pool:?}");
                assert!(as_rows > 0, "workers buffered some chunks");
                let produced: usize = counted.iter().sum();
                assert!(produced < want.len() || as_lines == 0);
            }
        }
    }

    #[test]
    fn a_small_batch_goes_to_the_batch_thread_whole() {
        let b = batch(100);
        for pool in pools() {
            let mut calls = 0;
            let out = hand_off(
                b.lines(),
                4,
                |_, _: &mut Vec<()>| unreachable!("no chunk is buffered"),
                |work| {
                    calls += 1;
                    assert!(matches!(work, Handoff::Lines(l) if l.clone().count() == 100));
                },
                None,
                pool.as_ref(),
            );
            assert!(out.is_empty());
            assert_eq!(calls, 1);
        }
    }

    /// A slow batch thread: workers stop at `AHEAD` chunks buffered.
    #[test]
    fn workers_buffer_at_most_ahead_chunks_beyond_the_batch_thread() {
        let b = batch(400_000);
        let chunks = b.len_bytes().div_ceil(CHUNK_BYTES);
        assert!(chunks > AHEAD * 2);
        let buffered = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        hand_off(
            b.lines(),
            3,
            |lines, rows: &mut Vec<usize>| {
                rows.push(lines.count());
                let now = buffered.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
            },
            |work| {
                if let Handoff::Rows(_) = work {
                    buffered.fetch_sub(1, Ordering::SeqCst);
                }
                std::thread::sleep(std::time::Duration::from_micros(200));
            },
            None,
            Pool::new(2).as_ref(),
        );
        // Claimed but waiting chunks are not buffered yet: at most AHEAD (and one per worker
        // being produced as the batch thread finishes one).
        assert!(most.load(Ordering::SeqCst) <= AHEAD + 2, "{}", most.load(Ordering::SeqCst));
    }

    #[test]
    fn a_panic_on_a_worker_or_the_batch_thread_reaches_the_caller() {
        let b = batch(60_000);
        let main = std::thread::current().id();
        for pool in pools() {
            let worker = catch_unwind(AssertUnwindSafe(|| {
                hand_off(
                    b.lines(),
                    2,
                    |lines, _: &mut Vec<()>| {
                        if std::thread::current().id() != main && lines.clone().any(|l| l.ends_with("batch")) {
                            panic!("worker failed");
                        }
                    },
                    |_| std::thread::sleep(std::time::Duration::from_millis(1)),
                    None,
                    pool.as_ref(),
                )
            }));
            assert_eq!(worker.unwrap_err().downcast_ref::<&str>(), Some(&"worker failed"), "{pool:?}");
            let batch_thread = catch_unwind(AssertUnwindSafe(|| {
                hand_off(b.lines(), 2, |_, _: &mut Vec<()>| {}, |_| panic!("batch thread failed"), None, pool.as_ref())
            }));
            assert_eq!(batch_thread.unwrap_err().downcast_ref::<&str>(), Some(&"batch thread failed"), "{pool:?}");
            // A pool is still usable after a panic.
            let counted =
                hand_off(b.lines(), 2, |l, r: &mut Vec<usize>| r.push(l.count()), |_| {}, None, pool.as_ref());
            assert!(counted.len() <= b.len_bytes().div_ceil(CHUNK_BYTES));
        }
    }

    #[test]
    fn idle_work_starts_on_each_worker_when_no_chunk_is_left() {
        let b = batch(60_000);
        for pool in pools() {
            let started = Arc::new(AtomicUsize::new(0));
            let counter = Arc::clone(&started);
            let idle = Idle::new(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            });
            hand_off(b.lines(), 3, |l, r: &mut Vec<usize>| r.push(l.count()), |_| {}, Some(&idle), pool.as_ref());
            assert_eq!(started.load(Ordering::SeqCst), 2, "{pool:?}");
        }
    }

    /// Without a pool (threads started per run), and with pools smaller than, as large as and
    /// larger than the workers besides the batch thread.
    fn pools() -> Vec<Option<Pool>> {
        vec![None, Pool::new(1), Pool::new(2), Pool::new(4)]
    }
}

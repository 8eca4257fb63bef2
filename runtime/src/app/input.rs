//! What a batch handler reads: [`BatchInput`], the batch's time, id and records, and on the
//! first batch of a resumed run the states of the checkpoint it resumed from.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::checkpoint;
use crate::error::Error;
use crate::ids::SourceId;
use crate::parallel::{Balance, Idle, Parts, Pool};
use crate::persist::{Checkpointed, SavedParts};
use crate::ship::{Received, Shipped, ship_all};
use crate::source::{Lines, TextBatch};

/// The processes of a cluster as the batch loop sees them (the `cluster` feature's
/// `cluster::Peers` on timely dataflow): rounds in which every process contributes a message
/// and gets every process's message back, in process order.
pub trait Collective: Send + Sync + std::fmt::Debug {
    /// This process's index, from 0.
    fn index(&self) -> usize;
    /// The number of processes.
    fn count(&self) -> usize;
    /// One round: `out[j]` goes to process `j`; returns what every process sent this one, in
    /// process order. Every process must run the same rounds in the same order.
    fn exchange(&self, out: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>, Error>;
    /// One round in which every process sends `mine` to every process.
    fn all_gather(&self, mine: Vec<u8>) -> Result<Vec<Vec<u8>>, Error> {
        self.exchange(vec![mine; self.count()])
    }
    /// What this process's rounds have moved since it connected.
    fn traffic(&self) -> Traffic {
        Traffic::default()
    }
    /// Starts measuring this process's work before the next round: from the end of its last
    /// round to the start of the next ([`work_before_round`](Self::work_before_round)).
    fn start_work_clock(&self) {}
    /// The work measured since [`start_work_clock`](Self::start_work_clock), once a round has
    /// started since (`None` otherwise, or when no round had ended before).
    fn work_before_round(&self) -> Option<std::time::Duration> {
        None
    }
    /// Offers this process's share of `session` (a batch's read in shares, `steal.rs`) to the
    /// processes that end theirs first: their requests come out of the returned receiver, to
    /// be [answered](Self::answer), until [`withdraw`](Self::withdraw). `None`: nothing is
    /// offered (an engine without stealing).
    fn offer(&self, _session: u64) -> Option<std::sync::mpsc::Receiver<StealRequest>> {
        None
    }
    /// `session` is over on this process: requests for it are answered "done".
    fn withdraw(&self, _session: u64) {}
    /// Answers `request` with a block of the offered share (where it starts in the share, its
    /// text), or with none: "done", nothing more is left.
    fn answer(&self, _request: &StealRequest, _block: Option<(u64, &[u8])>) -> Result<(), Error> {
        Ok(())
    }
    /// Whether process `p` has asked this one for a block of `session` (it asks once its own
    /// share is done: it has none left to lend).
    fn has_asked(&self, _session: u64, _p: usize) -> bool {
        false
    }
    /// Asks process `from` for a block of its share of `session`, waiting for the answer.
    fn steal(&self, _session: u64, _from: usize) -> Result<Stolen, Error> {
        Ok(Stolen::Done)
    }
}

/// A request for a block of this process's offered share ([`Collective::offer`]).
#[derive(Debug)]
pub struct StealRequest {
    /// The process that asks.
    pub from: usize,
    /// The session it asks about.
    pub session: u64,
    /// Its number for the request.
    pub id: u64,
}

/// The answer to [`Collective::steal`].
#[derive(Debug)]
pub enum Stolen {
    /// A block of the share: where it starts in the share (bytes), and its lines.
    Block { offset: u64, text: Vec<u8> },
    /// Nothing is left, nor will be.
    Done,
    /// The process has not begun the session yet: ask again.
    NotYet,
}

/// What a process's rounds moved ([`Collective::traffic`]): counted from the start, and per
/// batch in the progress line's `exchange` ([`Traffic::since`]). A message to this process
/// itself never leaves it and is not counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Rounds run.
    pub rounds: u64,
    /// Bytes sent to other processes.
    pub bytes_sent: u64,
    /// Bytes received from other processes.
    pub bytes_received: u64,
    /// Time spent in rounds, in µs: sending, waiting for the slowest process, receiving.
    pub round_micros: u64,
    /// Blocks of lines this process took from other processes' shares (`steal.rs`).
    pub blocks_taken: u64,
    /// Their bytes.
    pub bytes_taken: u64,
}

impl Traffic {
    /// What was moved since `earlier`.
    pub fn since(self, earlier: Traffic) -> Traffic {
        Traffic {
            rounds: self.rounds.saturating_sub(earlier.rounds),
            bytes_sent: self.bytes_sent.saturating_sub(earlier.bytes_sent),
            bytes_received: self.bytes_received.saturating_sub(earlier.bytes_received),
            round_micros: self.round_micros.saturating_sub(earlier.round_micros),
            blocks_taken: self.blocks_taken.saturating_sub(earlier.blocks_taken),
            bytes_taken: self.bytes_taken.saturating_sub(earlier.bytes_taken),
        }
    }
}

/// What a batch handler reads: the batch time, each source's records, and on the first batch
/// after a restart the state saved in the checkpoint.
#[derive(Debug)]
pub struct BatchInput {
    pub(super) time_ms: i64,
    pub(super) zero_ms: i64,
    pub(super) batch_id: u64,
    /// The checkpoint interval, when the app has a checkpoint directory.
    pub(super) checkpoint_interval_ms: Option<i64>,
    /// Structured Streaming apps checkpoint every batch.
    pub(super) checkpoint_every_batch: bool,
    pub(super) texts: Vec<TextBatch>,
    /// The checkpoint resumed from: set for the first batch of a resumed run only.
    pub(super) restore: Option<Restored>,
    /// Worker threads for large batches ([`App::with_workers`](crate::App::with_workers)).
    pub(super) workers: usize,
    /// Parts run on worker threads in this batch, over all stages (the progress line's
    /// `numParallelParts`).
    pub(super) parts_run: AtomicU64,
    /// The sessions of this batch's reads in shares so far (`steal.rs`).
    pub(super) sessions: AtomicU64,
    /// What became of this process's shares of the batch (`steal.rs`).
    pub(super) lending: std::sync::Mutex<super::lending::Lending>,
    /// The cluster this process is one of, if any.
    pub(super) peers: Option<std::sync::Arc<dyn Collective>>,
    /// The partials other processes sent in this batch, which the merged state borrows from.
    pub(super) received: Received,
    /// What a worker thread starts when its part of a split batch is done (the replay's next
    /// file read ahead), outside a cluster.
    pub(super) idle: Option<Idle>,
    /// The threads a split batch's parts after the first run on ([`Pool`]).
    pub(super) pool: Option<Pool>,
    /// The first part's share of a split batch for `run_partials_first` ([`Balance`]).
    pub(super) balance: Balance,
}

/// The states of the checkpoint a run resumed from, and the file they came from.
#[derive(Debug)]
pub(super) struct Restored {
    pub(super) path: PathBuf,
    /// The commit's format version: from version 4 on, states are restored with their parts.
    pub(super) version: u32,
    pub(super) states: Vec<(String, Vec<u8>)>,
    /// Per state with parts: each part's id, stamp and bytes, sorted by id.
    pub(super) parts: checkpoint::LoadedParts,
    /// Per sharded state: each process's snapshot, in process order.
    pub(super) shards: checkpoint::LoadedShards,
}

/// Batches smaller than this are not split over workers: starting threads would cost more than
/// it saves.
pub const MIN_PARALLEL_BYTES: usize = 1 << 20;

impl BatchInput {
    /// How many workers should share `text` ([`App::with_workers`](crate::App::with_workers)): 1 for a small batch.
    #[inline]
    pub fn workers_for(&self, text: &TextBatch) -> usize {
        if self.workers <= 1 || text.len_bytes() < MIN_PARALLEL_BYTES {
            1
        } else {
            self.workers.min(text.len_lines().max(1))
        }
    }

    /// Runs a stage split into partials (the engine's side of the seam between generated stage
    /// code and the loop that drives it): `Some` with one partial per part of `text`'s lines, in
    /// part order, when the batch is worth splitting ([`Self::workers_for`]: this engine runs
    /// the parts on its kept worker threads, [`Parts`]); `None` when the stage should run in one piece,
    /// over the whole batch. `partial` must be a pure function of its part; the caller merges
    /// the partials in order, so the result equals the one-piece run. See [`crate::parallel`].
    pub fn run_partials<'t, R, F>(&self, text: &'t TextBatch, partial: F) -> Option<Vec<R>>
    where
        F: Fn(Lines<'t>) -> R + Sync,
        R: Send,
    {
        let workers = self.workers_for(text);
        (workers > 1).then(|| self.split(text, workers, partial).run())
    }

    /// `text` cut into `workers` parts for `partial`, counted in the progress line's parts, with
    /// this batch's idle work for the workers ([`Parts::with_idle`]).
    fn split<'t, R, F>(&self, text: &'t TextBatch, workers: usize, partial: F) -> Parts<'t, F, R>
    where
        F: Fn(Lines<'t>) -> R,
    {
        self.parts(text.split_lines(workers), partial)
    }

    /// [`split`](Self::split) into the given parts.
    fn parts<'t, R, F>(&self, parts: Vec<Lines<'t>>, partial: F) -> Parts<'t, F, R>
    where
        F: Fn(Lines<'t>) -> R,
    {
        if parts.len() > 1 {
            self.parts_run.fetch_add(parts.len() as u64, Ordering::Relaxed);
        }
        Parts::new(parts, partial).with_idle(self.idle.clone()).with_pool(self.pool.clone())
    }

    /// [`run_partials`](Self::run_partials), but the first part of a split batch goes to
    /// `first` on this thread, which applies it to the stage's state directly (no partial of it
    /// to build and merge): the partials of the other parts, in order, to merge after it. A
    /// batch that runs in one piece goes to `first` whole, and no partial comes back.
    ///
    /// The partials must merge exactly (the output must not depend on where the batch is cut):
    /// the first part's share is learned from the last batches' times ([`Balance`]), and this
    /// thread, its part done, takes blocks of the last part from its back while its worker
    /// reads it from the front ([`Parts::with_stealing`]); a block taken is one more partial,
    /// after the last part's.
    pub fn run_partials_first<'t, R, F, G>(&self, text: &'t TextBatch, partial: F, first: G) -> Vec<R>
    where
        F: Fn(Lines<'t>) -> R + Sync,
        R: Send,
        G: FnOnce(Lines<'t>),
    {
        let workers = self.workers_for(text);
        if workers <= 1 {
            first(text.lines());
            return Vec::new();
        }
        let parts = text.split_lines_first(workers, self.balance.first_share(workers));
        let (partials, times) = self.parts(parts, partial).with_stealing().run_first_timed(first);
        self.balance.learn(&times);
        partials
    }

    /// Runs a stage whose state only this thread may touch over `text` on the batch's workers,
    /// [`handoff::hand_off`](crate::handoff::hand_off): workers buffer the rows `produce`
    /// makes of chunks of the lines, and `consume` (on this thread) gets every chunk in line
    /// order, as lines to run whole or as buffered rows to finish. Returns the `R` of every
    /// buffered chunk, in order. A batch that is not worth splitting goes to `consume` whole.
    /// Outside a cluster only ([`in_cluster`](Self::in_cluster)): a cluster's processes build
    /// partials to exchange.
    pub fn run_handoff<'t, T, R, P, C>(&self, text: &'t TextBatch, produce: P, consume: C) -> Vec<R>
    where
        T: Send,
        R: Send,
        P: Fn(Lines<'t>, &mut Vec<T>) -> R + Sync,
        C: FnMut(crate::handoff::Handoff<'t, '_, T>),
    {
        let workers = self.workers_for(text);
        if workers > 1 {
            // The progress line's parts: the threads the batch ran on.
            self.parts_run.fetch_add(workers as u64, Ordering::Relaxed);
        }
        crate::handoff::hand_off(text.lines(), workers, produce, consume, self.idle.as_ref(), self.pool.as_ref())
    }

    /// Whether this process is one of a cluster's.
    #[inline]
    pub fn in_cluster(&self) -> bool {
        self.peers.is_some()
    }

    /// [`run_partials_shipped`](Self::run_partials_shipped) with [`run_partials_first`]'s
    /// first part outside a cluster; in a cluster every part is a partial (`first` is not
    /// called), as the partials cross processes.
    ///
    /// [`run_partials_first`]: Self::run_partials_first
    pub fn run_partials_shipped_first<'t, R, F, G>(
        &'t self,
        text: &'t TextBatch,
        partial: F,
        first: G,
    ) -> Result<Vec<R>, Error>
    where
        F: Fn(Lines<'t>) -> R + Sync,
        R: Send + Shipped<'t>,
        G: FnOnce(Lines<'t>),
    {
        self.first_or_cluster(text, partial, first, |input, partial| input.run_partials_shipped(text, partial))
    }

    /// Outside a cluster, [`run_partials_first`](Self::run_partials_first); in one, `cluster`
    /// (every part a partial), and the whole batch to `first` if it gives none.
    pub(super) fn first_or_cluster<'t, R, F, G>(
        &'t self,
        text: &'t TextBatch,
        partial: F,
        first: G,
        cluster: impl FnOnce(&'t Self, F) -> Result<Option<Vec<R>>, Error>,
    ) -> Result<Vec<R>, Error>
    where
        F: Fn(Lines<'t>) -> R + Sync,
        R: Send,
        G: FnOnce(Lines<'t>),
    {
        if self.peers.is_none() {
            return Ok(self.run_partials_first(text, partial, first));
        }
        Ok(cluster(self, partial)?.unwrap_or_else(|| {
            first(text.lines());
            Vec::new()
        }))
    }

    /// [`run_partials`](Self::run_partials) for partials that can cross a process boundary:
    /// in a cluster, every process runs `partial` over its share of `text` (the batch cut into
    /// one part per process at line boundaries, and a large share cut again over the process's
    /// workers, `share_parts`; a process whose share is empty contributes
    /// no partial), and every process gets every partial back, in process and worker order,
    /// that is line order, so each merges the whole batch as one process would. Fails when a peer cannot be reached or sent
    /// bytes that do not read back. Outside a cluster, the same as `run_partials`.
    pub fn run_partials_shipped<'t, R, F>(&'t self, text: &'t TextBatch, partial: F) -> Result<Option<Vec<R>>, Error>
    where
        F: Fn(Lines<'t>) -> R + Sync,
        R: Send + Shipped<'t>,
    {
        let Some(peers) = &self.peers else { return Ok(self.run_partials(text, partial)) };
        let (me, n) = (peers.index(), peers.count());
        let mine: Vec<R> = Parts::new(self.share_parts(text, me, n), &partial).with_pool(self.pool.clone()).run();
        let all = peers.all_gather(ship_all(&mine))?;
        let out = self.in_process_order(all, me, mine, "partials")?;
        // Every process's part counts: the progress line says how the batch was split.
        self.parts_run.fetch_add(out.len() as u64, Ordering::Relaxed);
        Ok(Some(out))
    }

    /// The share of `text` of process `me` of a cluster of `n` (the batch cut at line
    /// boundaries, the same cut on every process), in parts for this process's worker threads:
    /// one part unless the share is worth splitting ([`MIN_PARALLEL_BYTES`], `--workers`). No
    /// part when the share is empty.
    pub(super) fn share_parts<'t>(&self, text: &'t TextBatch, me: usize, n: usize) -> Vec<Lines<'t>> {
        let Some(share) = text.split_part(me, n) else { return Vec::new() };
        if self.workers <= 1 || share.len_bytes() < MIN_PARALLEL_BYTES {
            return vec![share];
        }
        let workers = self.workers.min(share.size_hint().0.max(1));
        share.split(workers)
    }

    /// Whether this process writes the outputs and checkpoints: outside a cluster always, in a
    /// cluster only process 0.
    pub fn is_leader(&self) -> bool {
        self.peers.as_ref().is_none_or(|p| p.index() == 0)
    }

    /// The records of source `id` in this batch.
    #[inline]
    pub fn text(&self, id: SourceId) -> &TextBatch {
        &self.texts[id.index()]
    }

    /// A Kafka source's batch (`kafka_direct_stream`), read as records.
    pub fn kafka_records(&self, id: SourceId) -> crate::kafka_record::KafkaRecords<'_> {
        crate::kafka_record::KafkaRecords(&self.texts[id.index()])
    }

    /// The batch id: 0 for the first batch, then one more per batch run (no-data batches
    /// included; ticks skipped for lack of input are not batches), continued after a restart
    /// from a checkpoint.
    #[inline]
    pub fn batch_id(&self) -> u64 {
        self.batch_id
    }

    /// The batch time: the end of the interval the batch covers, in milliseconds since the
    /// epoch (since the start, for a replay).
    #[inline]
    pub fn time_ms(&self) -> i64 {
        self.time_ms
    }

    /// Spark's zero time: the first batch time minus the batch interval (0 for a replay). A run
    /// resumed from a checkpoint has the zero time of the run that wrote it.
    #[inline]
    pub fn zero_ms(&self) -> i64 {
        self.zero_ms
    }

    /// Whether `time − zero` is a multiple of `ms`: Spark's rule for the batches on which a
    /// stream with slide (or checkpoint interval) `ms` is computed. False for `ms == 0`.
    ///
    /// ```
    /// # use streamc_runtime::{AppBuilder, BatchInput, BatchOutput, Error, ManualClock, Seconds};
    /// # use std::sync::mpsc;
    /// // A manual clock at 1.5 s: the first batch is at 2 s, so the zero time is 1 s.
    /// let clock = ManualClock::new(1500);
    /// let (tx, rx) = mpsc::channel();
    /// let app = AppBuilder::new("doc", Seconds(1))
    ///     .build(move |input: &BatchInput, _: &mut BatchOutput| -> Result<(), Error> {
    ///         tx.send((input.time_ms(), input.zero_ms(), input.is_multiple_of(2000))).unwrap();
    ///         Ok(())
    ///     })
    ///     .with_manual_clock(clock.clone())
    ///     .with_max_batches(2);
    /// let handle = app.start()?;
    /// clock.advance(Seconds(2));
    /// handle.await_termination()?;
    /// assert_eq!(rx.try_iter().collect::<Vec<_>>(), [(2000, 1000, false), (3000, 1000, true)]);
    /// # Ok::<(), Error>(())
    /// ```
    #[inline]
    pub fn is_multiple_of(&self, ms: u64) -> bool {
        let since_zero = i128::from(self.time_ms) - i128::from(self.zero_ms);
        ms != 0 && since_zero % i128::from(ms) == 0
    }

    /// Whether this batch saves state: the app has a checkpoint directory and `time − zero` is a
    /// multiple of its checkpoint interval (or, for a Structured Streaming app, always).
    /// Generated code then calls [`BatchOutput::save_state`](crate::BatchOutput::save_state) for every state it keeps.
    #[inline]
    pub fn is_checkpoint_batch(&self) -> bool {
        self.checkpoint_interval_ms.is_some_and(|ms| self.checkpoint_every_batch || self.is_multiple_of(ms as u64))
    }

    /// Restores `state` from the snapshot saved under `name`, on the first batch of a run
    /// resumed from a checkpoint that holds `name`; on every other batch (and for names the
    /// checkpoint does not hold) does nothing.
    ///
    /// A snapshot that `state` rejects is an [`Error::Checkpoint`] naming the checkpoint file;
    /// returned with `?`, it stops the app.
    pub fn restore<S: Checkpointed + ?Sized>(&self, name: &str, state: &mut S) -> Result<(), Error> {
        let Some(r) = &self.restore else { return Ok(()) };
        let Some((_, bytes)) = r.states.iter().find(|(n, _)| n == name) else { return Ok(()) };
        let restored = if r.version >= checkpoint::PARTS_VERSION {
            let parts = r.parts.iter().find(|(n, _)| n == name).map_or(&[][..], |(_, p)| p.as_slice());
            state.restore_with_parts(bytes, &SavedParts::new(parts))
        } else {
            state.restore(bytes)
        };
        restored.map_err(|e| Error::Checkpoint {
            path: r.path.clone(),
            message: format!("cannot restore state `{name}` from checkpoint `{}`: {e}", r.path.display()),
        })
    }
}

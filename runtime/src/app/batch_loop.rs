//! The batch loop: one thread that, at every tick, decides the next batch (clock, trigger,
//! planned files), fills it from the sources, runs the generated handler on it, and then writes
//! its outputs, its checkpoint and its progress line.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::handle::Shared;
use super::input::{BatchInput, Collective, Restored};
use super::progress_bar::Bar;
use crate::checkpoint::{self, Checkpoint, PlannedBatch, QueryCheckpoint};
use crate::clock::{BatchClock, StopMode, Trigger, Wake, lock};
use crate::error::Error;
use crate::parallel::{Balance, Idle, Pool};
use crate::persist::{Persist, read_bytes};
use crate::ship::Received;
use crate::sink::commit::{Commit, ShardWriting};
use crate::sink::{BatchOutput, HeldEntries, Progress, Publishing, SavedStates};
use crate::source::{RunningSource, Share, TextBatch};
use crate::ui::{BatchFigures, Ui};

mod last_round;
mod shares;

pub(super) use shares::ShareBalance;

/// The running batch loop: one thread, one batch at a time, in time order.
pub(super) struct BatchLoop<F> {
    pub(super) first_batch_ms: i64,
    pub(super) zero_ms: i64,
    /// The checkpoint resumed from, for the first batch.
    pub(super) restore: Option<Restored>,
    /// The checkpoint directory and interval.
    pub(super) checkpoint: Option<(PathBuf, i64)>,
    /// The directory's lock, released when the loop ends.
    pub(super) _lock: Option<std::fs::File>,
    /// Per replayed source: its name, its number of files, and the files skipped at start.
    pub(super) replay_positions: Vec<(String, u64, u64)>,
    pub(super) max_batches: Option<u64>,
    pub(super) workers: usize,
    pub(super) name: String,
    /// The pipeline, as its checkpoints record it.
    pub(super) pipeline: Vec<(String, String)>,
    pub(super) handler: F,
    pub(super) sources: Vec<RunningSource>,
    /// Per source: read in shares on a cluster ([`crate::AppBuilder::read_in_shares`]).
    pub(super) in_shares: Vec<bool>,
    pub(super) output: BatchOutput,
    pub(super) clock: BatchClock,
    pub(super) interval_ms: i64,
    pub(super) replay_batches: Option<usize>,
    pub(super) shared: Arc<Shared>,
    pub(super) log: bool,
    pub(super) trigger: Trigger,
    /// Structured Streaming rules: a checkpoint after every batch (with a checkpoint directory).
    pub(super) structured: bool,
    /// Skip `ProcessingTime` ticks with no new file and no requested no-data batch.
    pub(super) skip_empty_ticks: bool,
    /// Whether some source is a live `file_stream` (whose batches are planned and logged).
    pub(super) has_file_streams: bool,
    pub(super) next_batch_id: u64,
    /// Whether the checkpoint's batch requested a no-data batch.
    pub(super) no_data_pending: bool,
    /// Batches planned by a crashed run, to re-run first with the same files.
    pub(super) planned_log: VecDeque<PlannedBatch>,
    pub(super) query_id: String,
    pub(super) run_id: String,
    pub(super) progress: Option<(PathBuf, BufWriter<File>)>,
    pub(super) source_descriptions: Vec<String>,
    /// The UI, which takes in every batch's figures.
    pub(super) ui: Option<Arc<Ui>>,
    /// The cluster this process is one of: process 0 decides every batch and writes outputs
    /// and checkpoints; the others follow its decisions.
    pub(super) peers: Option<Arc<dyn Collective>>,
    /// The next batch's decision, when process 0 took it before the last batch's last round
    /// and that round carried it ([`end_round`](Self::end_round)): the batch then needs no
    /// round of its own to agree on.
    pub(super) agreed: Option<Result<Next, Error>>,
    /// This process's shard of the last batch's commit, being written while this batch runs
    /// (`last_round.rs`).
    pub(super) shard_writing: Option<ShardWriting>,
    /// On process 0, the last batch's commit, written once every process has reported its
    /// shard durable (`last_round.rs`).
    pub(super) held: Option<Commit>,
    /// This process's data files of the last batch's file sinks cut in pieces, being made
    /// durable while this batch runs (`sink/publishing.rs`).
    pub(super) publishing: Option<Publishing>,
    /// On process 0, the last batch's metadata entries of those sinks, written once every
    /// process has reported its data files durable.
    pub(super) held_entries: Option<HeldEntries>,
    /// On process 0 of a cluster, each process's share of the batches read in shares, learned
    /// from their work (`shares.rs`).
    pub(super) shares: ShareBalance,
}

/// What the loop does next.
pub(super) enum Next {
    /// Run a batch.
    Run(Batch),
    /// Let this `ProcessingTime` tick pass without a batch (nothing new); stop after it if
    /// `last`.
    Skip { last: bool },
    /// Stop.
    Stop,
}

/// Per source: for a planned source (file stream, Kafka), what the batch reads; `None` for the
/// others.
type Plan = Vec<Option<Vec<String>>>;

/// A batch about to run.
pub(super) struct Batch {
    /// Per source: for a live file stream, the files the batch reads; `None` for other sources.
    planned: Vec<Option<Vec<String>>>,
    /// A no-data batch: no source is read.
    no_data: bool,
    /// Stop after this batch (a graceful stop, or the trigger's last batch).
    last: bool,
    /// The files come from the write-ahead log of a crashed run (already logged).
    from_log: bool,
    /// In a cluster, the bounds of the processes' shares of the sources read in shares
    /// (`source::Share::of_cuts`), as process 0 decided them; empty: even shares.
    cuts: Vec<u64>,
}

impl Batch {
    /// A batch of `planned` files with even shares (process 0's [`BatchLoop::decide`] gives it
    /// the learned ones).
    fn new(planned: Plan, no_data: bool, last: bool, from_log: bool) -> Batch {
        Batch { planned, no_data, last, from_log, cuts: Vec::new() }
    }
}

/// What a batch's last round gives ([`BatchLoop::end_round`]).
struct EndOfBatch {
    /// Each source's lines and dropped lines in the batch.
    counts: Vec<(u64, u64)>,
    /// On process 0, the shards' checksums in process order, when they were written in the
    /// batch.
    shards: Vec<u64>,
    /// The batch's shards are being written while the next batch runs: process 0 holds its
    /// commit until every process has reported its shard durable.
    shards_later: bool,
    /// On process 0, when it decided the next batch in the round: each planned source's files
    /// taken up to this batch, as they were before that decision planned the next batch's
    /// (what this batch's commit records).
    taken: Option<Vec<(String, Vec<String>)>>,
    /// On process 0, the time it took to put out what the outputs deferred to the last round
    /// and to commit file sinks written in pieces: the batch's sink phase, though after the
    /// round.
    sink: Duration,
}

/// What deciding the next batch takes ([`BatchLoop::next`]): its time, the batches run before
/// it, its replay file, id, and whether a no-data batch was requested.
#[derive(Clone, Copy)]
struct NextArgs {
    t: i64,
    ran: u64,
    replay_index: usize,
    batch_id: u64,
    no_data_requested: bool,
}

impl<F> BatchLoop<F>
where
    F: FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error>,
{
    /// Plans the files of batch `batch_id`: a crashed run's plan if it logged one, otherwise
    /// each file stream's next files (all of them, with `unlimited`).
    fn plan(&mut self, batch_id: u64, unlimited: bool) -> Result<(Plan, bool), Error> {
        if self.planned_log.front().is_some_and(|p| p.batch_id == batch_id) {
            let p = self.planned_log.pop_front().expect("checked");
            let planned = self
                .sources
                .iter_mut()
                .map(|s| {
                    let f = s.planned_mut()?;
                    let files = p.files.iter().find(|(n, _)| n == f.name()).map(|(_, v)| v.clone()).unwrap_or_default();
                    f.take_planned(&files);
                    Some(files)
                })
                .collect();
            return Ok((planned, true));
        }
        // Logged ids run consecutively from the first batch, so a front entry of another id is
        // stale; dropping it keeps `AvailableNow` from waiting on it forever.
        self.planned_log.clear();
        let mut planned = Vec::with_capacity(self.sources.len());
        for s in &mut self.sources {
            planned.push(match s.planned_mut() {
                Some(f) => Some(f.plan(unlimited)?),
                None => None,
            });
        }
        Ok((planned, false))
    }

    /// The plan of a no-data batch: every planned source reads nothing.
    fn no_data_plan(&self) -> Plan {
        self.sources.iter().map(|s| s.planned().map(|_| Vec::new())).collect()
    }

    /// In a cluster, makes every process take process 0's decision (`decided`, which only
    /// process 0 computes): one round in which process 0 sends it and the others read it.
    /// Outside a cluster, `decided` as it is.
    fn agree(&mut self, decided: Result<Next, Error>) -> Result<Next, Error> {
        let Some(peers) = self.peers.clone() else { return decided };
        let leader = peers.index() == 0;
        let mut mine = Vec::new();
        if leader {
            self.write_decision(&decided, &mut mine);
        }
        let all = peers.all_gather(mine)?;
        if leader {
            return decided;
        }
        self.read_decision(all.first().map_or(&[][..], Vec::as_slice))
    }

    /// Process 0's decision as the others read it ([`read_decision`](Self::read_decision)).
    fn write_decision(&self, decided: &Result<Next, Error>, out: &mut Vec<u8>) {
        match decided {
            Ok(Next::Stop) => 0u8.write(out),
            Ok(Next::Skip { last }) => (1u8, *last).write(out),
            // With whether process 0's outputs read every record (`--jsonl`): the others
            // then send it every record of a batch in parts (`BatchInput::gather_output`).
            Ok(Next::Run(b)) => {
                let every = self.output.reads_every_record();
                (2u8, (b.planned.clone(), b.no_data, b.last, b.from_log, every, b.cuts.clone())).write(out)
            }
            Err(e) => (3u8, e.to_string()).write(out),
        }
    }

    /// Process 0's decision, on another process: an error when process 0's deciding failed.
    fn read_decision(&mut self, mut m: &[u8]) -> Result<Next, Error> {
        let bad = |e: Error| Error::Cluster(format!("process 0 sent a batch decision that does not read back: {e}"));
        Ok(match u8::read(&mut m).map_err(bad)? {
            0 => Next::Stop,
            1 => Next::Skip { last: bool::read(&mut m).map_err(bad)? },
            2 => {
                let (planned, no_data, last, from_log, every, cuts) = Persist::read(&mut m).map_err(bad)?;
                self.output.set_leader_reads_every_record(every);
                Next::Run(Batch { planned, no_data, last, from_log, cuts })
            }
            _ => {
                let e = String::read(&mut m).map_err(bad)?;
                return Err(Error::Cluster(format!("process 0 stopped: {e}")));
            }
        })
    }

    /// Whether process 0 can decide the batch `next` describes now, without waiting for the
    /// clock (a replay, the `Once` and `AvailableNow` triggers, or a `ProcessingTime` tick
    /// already due) and before this batch's runs would stop the run.
    fn decides_now(&self, next: &NextArgs) -> bool {
        let due = match (self.replay_batches, self.trigger) {
            (None, Trigger::Once | Trigger::AvailableNow) => true,
            _ => self.clock.reached(next.t),
        };
        due && self.shared.control.stop_requested().is_none()
    }

    /// Each planned source's files taken so far (a commit records them).
    fn taken(&self) -> Vec<(String, Vec<String>)> {
        self.sources.iter().filter_map(|s| s.planned().map(|f| (f.name().to_owned(), f.taken()))).collect()
    }

    /// Process 0's decision of the batch `a` describes (`--max-batches` first, then
    /// [`next`](Self::next)).
    fn decide(&mut self, a: NextArgs) -> Result<Next, Error> {
        if self.max_batches.is_some_and(|n| a.ran >= n) {
            return Ok(Next::Stop);
        }
        let mut next = self.next(a.t, a.ran, a.replay_index, a.batch_id, a.no_data_requested);
        if let Ok(Next::Run(b)) = &mut next
            && self.peers.as_ref().is_some_and(|p| p.count() > 1)
        {
            b.cuts = self.shares.cuts();
        }
        next
    }

    /// In a cluster, sends the batch's text of every live source ([`RunningSource::is_live`]),
    /// which process 0 alone read, to the other processes: one round, when the app has one.
    fn share_live(&mut self, texts: &mut [TextBatch], cuts: &[u64]) -> Result<(), Error> {
        let Some(peers) = &self.peers else { return Ok(()) };
        if !self.sources.iter().any(RunningSource::is_live) {
            return Ok(());
        }
        let (me, n) = (peers.index(), peers.count());
        let live: Vec<usize> = self.sources.iter().zip(0..).filter(|(s, _)| s.is_live()).map(|(_, i)| i).collect();
        let mut out = vec![Vec::new(); n];
        if me == 0 {
            for &i in &live {
                // Each process its share of a source read in shares; otherwise the whole text.
                let shares = if self.in_shares[i] { texts[i].split_lines_in_shares(n, cuts) } else { Vec::new() };
                let skipped = if self.in_shares[i] { 0 } else { texts[i].skipped_lines() };
                for (k, o) in out.iter_mut().enumerate().skip(1) {
                    let text =
                        if self.in_shares[i] { shares.get(k).map_or("", |l| l.text()) } else { texts[i].as_str() };
                    // The text as a string writes itself (read back borrowed), then the lines dropped.
                    (text.len() as u64).write(o);
                    o.extend_from_slice(text.as_bytes());
                    skipped.write(o);
                }
                if self.in_shares[i] && n > 1 {
                    // Process 0 keeps its own share (the dropped lines are counted here once).
                    let mut mine = TextBatch::new();
                    mine.push_text(shares.first().map_or("", |l| l.text()).as_bytes());
                    mine.add_skipped(texts[i].skipped_lines());
                    mine.share_only = true;
                    texts[i] = mine;
                }
            }
        }
        let got = peers.exchange(out)?;
        if me == 0 {
            return Ok(());
        }
        let bad =
            |e: Error| Error::Cluster(format!("process 0 sent a batch of a live source that does not read back: {e}"));
        let mut m = got[0].as_slice();
        for &i in &live {
            let text = read_bytes(&mut m, "live source text").map_err(bad)?;
            texts[i].clear();
            texts[i].push_text(text);
            texts[i].add_skipped(u64::read(&mut m).map_err(bad)?);
            texts[i].share_only = self.in_shares[i] && n > 1;
        }
        Ok(())
    }

    /// Decides the next batch: waits for the clock (replay and `ProcessingTime`), applies the
    /// trigger, and plans the batch's files.
    fn next(
        &mut self,
        t: i64,
        ran: u64,
        replay_index: usize,
        batch_id: u64,
        no_data_requested: bool,
    ) -> Result<Next, Error> {
        let control = &self.shared.control;
        let stop_state = || match control.stop_requested() {
            None => Some(false),
            Some(StopMode::Graceful) => Some(true),
            Some(StopMode::Immediate) => None,
        };
        if let Some(n) = self.replay_batches {
            let no_data = replay_index >= n;
            if no_data && !no_data_requested {
                return Ok(Next::Stop);
            }
            let last = match self.clock.wait_until(t, control) {
                Wake::Reached => false,
                Wake::Stop(StopMode::Graceful) => true,
                Wake::Stop(StopMode::Immediate) => return Ok(Next::Stop),
            };
            let planned = vec![None; self.sources.len()];
            return Ok(Next::Run(Batch::new(planned, no_data, last, false)));
        }
        Ok(match self.trigger {
            Trigger::ProcessingTime => {
                let last = match self.clock.wait_until(t, control) {
                    Wake::Reached => false,
                    Wake::Stop(StopMode::Graceful) => true,
                    Wake::Stop(StopMode::Immediate) => return Ok(Next::Stop),
                };
                let (planned, from_log) = self.plan(batch_id, false)?;
                let nothing_new = planned.iter().flatten().all(Vec::is_empty);
                if self.skip_empty_ticks && nothing_new && !from_log && !no_data_requested {
                    return Ok(Next::Skip { last });
                }
                Next::Run(Batch::new(planned, false, last, from_log))
            }
            Trigger::Once => {
                if ran > 0 || stop_state().is_none() {
                    return Ok(Next::Stop);
                }
                let (planned, from_log) = self.plan(batch_id, true)?;
                // As Spark: with nothing new and no no-data batch due, `Once` runs no batch.
                if self.skip_empty_ticks
                    && !from_log
                    && !no_data_requested
                    && planned.iter().flatten().all(Vec::is_empty)
                {
                    return Ok(Next::Stop);
                }
                Next::Run(Batch::new(planned, false, true, from_log))
            }
            Trigger::AvailableNow => {
                let Some(last) = stop_state() else { return Ok(Next::Stop) };
                let pending = !self.planned_log.is_empty()
                    || self.sources.iter().any(|s| s.planned().is_some_and(|f| f.has_snapshot_files()));
                if pending || (ran == 0 && !self.has_file_streams) {
                    let (planned, from_log) = self.plan(batch_id, false)?;
                    Next::Run(Batch::new(planned, false, last, from_log))
                } else if no_data_requested {
                    Next::Run(Batch::new(self.no_data_plan(), true, last, false))
                } else {
                    Next::Stop
                }
            }
        })
    }

    /// What a worker thread whose part of a split batch is done starts: the replays read their
    /// next files ahead (outside a cluster, whose processes read shares of them).
    fn read_ahead(&self) -> Option<Idle> {
        if self.peers.as_ref().is_some_and(|p| p.count() > 1) {
            return None;
        }
        let mut all: Vec<Idle> = self.sources.iter().filter_map(|s| s.read_ahead()).collect();
        match all.len() {
            0 | 1 => all.pop(),
            _ => Some(Idle::new(move || all.iter().for_each(Idle::start))),
        }
    }

    /// Runs batches until the trigger, a stop or an error ends the run; the last batch's commit
    /// is on disk when this returns (unless writing it failed: then its error, if the run had
    /// none).
    pub(super) fn run(&mut self) -> Result<(), Error> {
        let ran = self.run_batches();
        let closed = if ran.is_ok() { self.close_round() } else { Ok(()) };
        let settled = self.output.settle_commit();
        ran.and(closed).and(settled)
    }

    fn run_batches(&mut self) -> Result<(), Error> {
        let mut input = BatchInput {
            time_ms: 0,
            zero_ms: self.zero_ms,
            batch_id: self.next_batch_id,
            checkpoint_interval_ms: self.checkpoint.as_ref().map(|&(_, ms)| ms),
            checkpoint_every_batch: self.structured,
            texts: vec![TextBatch::new(); self.sources.len()],
            restore: self.restore.take(),
            workers: self.workers,
            parts_run: AtomicU64::new(0),
            sessions: AtomicU64::new(0),
            lending: std::sync::Mutex::default(),
            peers: self.peers.clone(),
            received: Received::default(),
            idle: self.read_ahead(),
            pool: if self.workers > 1 { Pool::new(self.workers - 1) } else { None },
            balance: Balance::default(),
        };
        let leader = input.is_leader();
        let mut t = self.first_batch_ms;
        // Data batches of the replay run so far.
        let mut replay_index = 0usize;
        // A known set of files: the replay's, or what an `AvailableNow` run found at start.
        let snapshot: usize = self.sources.iter().map(|s| s.planned().map_or(0, |f| f.snapshot_files())).sum();
        let mut bar = Bar::new(self.replay_batches.or((self.trigger == Trigger::AvailableNow).then_some(snapshot)));
        // Batches run by this run.
        let mut ran = 0u64;
        let mut batch_id = self.next_batch_id;
        let mut no_data_requested = self.no_data_pending;
        let mut previous_start: Option<Instant> = None;
        let (mut total_records, mut total_busy) = (0u64, Duration::ZERO);
        let result = loop {
            // The batch's exchange figures include the round that decides it (the last batch's
            // last round, when that round carried the decision).
            let traffic = self.peers.as_ref().map(|p| p.traffic());
            // Only process 0 decides; the others take its decision in `agree`, or in the last
            // batch's last round, which carried it.
            let agreed = match self.agreed.take() {
                Some(agreed) => agreed,
                None => {
                    let decided = if leader {
                        self.decide(NextArgs { t, ran, replay_index, batch_id, no_data_requested })
                    } else {
                        Ok(Next::Stop)
                    };
                    self.agree(decided)
                }
            };
            let batch = match agreed {
                Err(e) => break Err(e),
                Ok(Next::Run(b)) => b,
                Ok(Next::Skip { last }) => {
                    if last {
                        break Ok(());
                    }
                    // Idle ticks do not keep the last batch's commit waiting for its shards.
                    if let Err(e) = self.close_round() {
                        break Err(e);
                    }
                    t += self.interval_ms;
                    continue;
                }
                Ok(Next::Stop) => break Ok(()),
            };
            let started = Instant::now();
            let started_ms = self.clock.now_ms();
            // Log the batch's files before reading them: a re-run after a crash reads these.
            if let Some((dir, _)) = &self.checkpoint
                && leader
                && self.has_file_streams
                && !batch.from_log
            {
                let files = self
                    .sources
                    .iter()
                    .zip(&batch.planned)
                    .filter_map(|(s, p)| Some((s.planned()?.name().to_owned(), p.clone()?)))
                    .collect();
                checkpoint::write_planned(dir, &PlannedBatch { app: self.name.clone(), batch_id, time_ms: t, files })?;
            }
            input.time_ms = t;
            input.batch_id = batch_id;
            input.parts_run.store(0, Ordering::Relaxed);
            input.sessions.store(0, Ordering::Relaxed);
            *super::lending::Lending::of(&input.lending) = Default::default();
            input.received = Received::default();
            let cluster = self.peers.as_ref().map(|p| (p.index(), p.count())).filter(|&(_, n)| n > 1);
            for (((src, text), planned), &in_shares) in
                self.sources.iter_mut().zip(&mut input.texts).zip(&batch.planned).zip(&self.in_shares)
            {
                text.clear();
                if batch.no_data {
                    continue;
                }
                let share = cluster.filter(|_| in_shares).map(|(me, n)| Share::of_cuts(me, n, &batch.cuts));
                match (src.planned_mut(), planned, share) {
                    (Some(f), Some(files), Some(share)) => text.share_only = f.read_share(files, text, share)?,
                    (Some(f), Some(files), None) => f.read(files, text)?,
                    _ => src.fill(text, t, share)?,
                }
            }
            self.share_live(&mut input.texts, &batch.cuts)?;
            if self.replay_batches.is_some() && !batch.no_data {
                replay_index += 1;
            }
            let read = started.elapsed();
            self.output.begin_batch(t, batch_id);
            // This process's work up to the batch's first round of data, which process 0 learns
            // the next batches' shares from (`shares.rs`).
            if let Some(p) = &self.peers {
                p.start_work_clock();
            }
            let handler = &mut self.handler;
            let output = &mut self.output;
            match catch_unwind(AssertUnwindSafe(|| handler(&input, output))) {
                Ok(r) => r?,
                Err(payload) => {
                    let message = payload
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a non-string panic payload".to_owned());
                    break Err(Error::Panic { batch_time_ms: t, message });
                }
            }
            let computed = started.elapsed();
            // The last commit started is on disk before this batch puts anything there (the
            // last batch's; in a cluster that writes shards on a thread, the one before).
            self.output.settle_commit()?;
            self.output.end_batch()?;
            let sunk = started.elapsed();
            // Only the first batch of a resumed run restores.
            input.restore = None;
            let SavedStates { states, parts, part_files, new_file } = self.output.take_states();
            let requested = self.output.reports().no_data_requested;
            let next = (!batch.last).then_some(NextArgs {
                t: t + self.interval_ms,
                ran: ran + 1,
                replay_index,
                batch_id: batch_id + 1,
                no_data_requested: requested,
            });
            // As it would have been without the blocks taken (`steal.rs`).
            let work = self
                .peers
                .as_ref()
                .and_then(|p| p.work_before_round())
                .map(|w| super::lending::Lending::of(&input.lending).own_work(w));
            let EndOfBatch { counts, shards, shards_later, taken, sink: deferred } =
                self.end_round(t, &input.texts, next, work)?;
            let records: usize = counts.iter().map(|&(lines, _)| lines as usize).sum();
            // A planned source's positions (a DStream's Kafka offsets) are committed with the
            // state, at the checkpoint batches (every batch of a stateless DStream app).
            if let Some((dir, _)) = &self.checkpoint
                && leader
                && (self.structured
                    || !states.is_empty()
                    || !shards.is_empty()
                    || shards_later
                    || (self.has_file_streams && input.is_checkpoint_batch()))
            {
                let c = Checkpoint {
                    app: self.name.clone(),
                    time_ms: t,
                    zero_ms: self.zero_ms,
                    interval_ms: self.interval_ms,
                    replay: self
                        .replay_positions
                        .iter()
                        .map(|(name, len, skipped)| (name.clone(), (skipped + replay_index as u64).min(*len)))
                        .collect(),
                    states,
                    pipeline: self.pipeline.clone(),
                    parts,
                    part_files,
                    shards,
                };
                let q = QueryCheckpoint {
                    batch_id,
                    query_id: self.query_id.clone(),
                    files: taken.unwrap_or_else(|| self.taken()),
                    no_data_pending: requested,
                };
                // The next batch's snapshots refer to these parts: it writes its commit only if
                // this one was written.
                self.output.parts_committed(&c.parts, &c.part_files);
                let commit = Commit {
                    dir: dir.clone(),
                    checkpoint: c,
                    query: q,
                    part_file: new_file,
                    log: self.log.then(|| self.name.clone()),
                    entries: self.output.take_unsynced(),
                };
                if shards_later {
                    self.held = Some(commit);
                } else {
                    let background = self.output.commits_in_background();
                    commit.start(self.output.committing(), background)?;
                }
            }
            // Without a commit in this batch, its sinks' entries are made durable now.
            crate::sink::make_durable(&self.output.take_unsynced())?;
            let busy = started.elapsed();
            let since_previous = previous_start.map(|p| started - p);
            let line = Progress {
                id: &self.query_id,
                run_id: &self.run_id,
                name: &self.name,
                timestamp_ms: started_ms,
                batch_id,
                sources: self
                    .source_descriptions
                    .iter()
                    .zip(&counts)
                    .map(|(d, &(lines, skipped))| (d.clone(), lines, skipped))
                    .collect(),
                since_previous,
                duration: busy,
                sink: self.output.sink_description(),
                output_rows: self.output.emitted(),
                parallel_parts: input.parts_run.load(Ordering::Relaxed),
                exchange: traffic.zip(self.peers.as_ref()).map(|(before, p)| p.traffic().since(before)),
            }
            .to_json(self.output.reports());
            if let Some((path, w)) = &mut self.progress {
                w.write_all(line.as_bytes())
                    .and_then(|()| w.write_all(b"\n"))
                    .and_then(|()| w.flush())
                    .map_err(|source| Error::Output { path: path.clone(), source })?;
            }
            if let Some(ui) = &self.ui {
                let reports = self.output.reports();
                let input_rows = records as u64;
                let rate = |secs: f64| if secs > 0.0 { input_rows as f64 / secs } else { 0.0 };
                let figures = BatchFigures {
                    batch_id,
                    timestamp_ms: started_ms,
                    input_rows,
                    input_rows_per_second: since_previous.map_or(0.0, |d| rate(d.as_secs_f64())),
                    processed_rows_per_second: rate(busy.as_secs_f64().max(0.001)),
                    output_rows: self.output.emitted(),
                    duration: busy,
                    read,
                    compute: computed - read,
                    sink: sunk - computed + deferred,
                    checkpoint: busy.saturating_sub(sunk + deferred),
                    scheduling_delay: Duration::from_millis(u64::try_from(started_ms - t).unwrap_or(0)),
                    watermark_ms: reports.watermark_us.map(|w| w.div_euclid(1000)),
                    state_rows: reports.state.iter().map(|s| s.rows_total).sum(),
                    state_rows_updated: reports.state.iter().map(|s| s.rows_updated).sum(),
                    late_rows_dropped: reports.state.iter().map(|s| s.dropped_by_watermark).sum(),
                    operators: reports.state.clone(),
                    malformed_rows: reports.malformed,
                    rows: reports.rows.clone(),
                };
                ui.record(&figures, &line);
            }
            *lock(&self.shared.last_progress) = Some(line);
            previous_start = Some(started);
            total_records += records as u64;
            total_busy += busy;
            if self.log {
                let malformed = self.output.reports().malformed;
                eprintln!(
                    "streamc: `{}` batch {batch_id} at {t} ms{}: {records} input records{}, {} output records, processed in {:.3} ms",
                    self.name,
                    if batch.no_data { " (no data)" } else { "" },
                    if malformed > 0 { format!(" ({malformed} malformed, dropped)") } else { String::new() },
                    self.output.emitted(),
                    busy.as_secs_f64() * 1e3
                );
            }
            let files = match self.replay_batches {
                Some(_) => u64::from(!batch.no_data),
                None => batch.planned.iter().flatten().map(|f| f.len() as u64).sum(),
            };
            bar.batch(records as u64, files);
            self.shared.completed.fetch_add(1, Ordering::SeqCst);
            no_data_requested = requested;
            batch_id += 1;
            ran += 1;
            if batch.last {
                break Ok(());
            }
            t += self.interval_ms;
        };
        bar.finish();
        if self.log {
            eprintln!(
                "streamc: `{}` ran {} batches, {total_records} input records, busy {:.3} s",
                self.name,
                self.shared.completed.load(Ordering::SeqCst),
                total_busy.as_secs_f64()
            );
        }
        result
    }
}

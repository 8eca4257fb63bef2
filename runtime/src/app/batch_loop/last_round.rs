//! A cluster batch's last round ([`BatchLoop::end_round`]), with the first phase of its commit,
//! and the round that closes a run whose last shards are still being written
//! ([`BatchLoop::close_round`]).
//!
//! The two phases of a cluster's commit: every process writes its shard (its piece of the
//! key-partitioned states), then process 0 writes the commit that names every shard. A shard is
//! written on a thread while the next batch runs ([`ShardWriting`]); the process reports it
//! durable in that next batch's last round, and process 0 then writes the commit of the batch
//! before. So a process does not wait for its shard's fsync before the round (a 2-process
//! Structured batch did, ~1.7 ms on this disk, while the embedded engine writes its state with
//! the commit on a thread of its own), and the newest commit is one batch older than it would
//! be: a crash re-runs one batch more. The data files of file sinks cut in pieces go the same
//! way (`sink/publishing.rs`). When the commit is written in line (an app with a Kafka sink),
//! or with one process, the shard and the files are written and reported in their own batch.

use std::time::{Duration, Instant};

use super::{BatchLoop, EndOfBatch, NextArgs};
use crate::app::input::BatchInput;
use crate::checkpoint;
use crate::error::Error;
use crate::persist::Persist;
use crate::sink::BatchOutput;
use crate::sink::Publishing;
use crate::sink::commit::ShardWriting;
use crate::source::TextBatch;

/// A shard as a round reports it: none, its checksum once durable, or what failed.
type Report = Option<Result<u64, Error>>;

fn write_report(report: &Report, m: &mut Vec<u8>) {
    match report {
        None => 0u8.write(m),
        Some(Ok(sum)) => (1u8, *sum).write(m),
        Some(Err(e)) => (2u8, e.to_string()).write(m),
    }
}

/// A report of process `p` that does not read back.
fn bad_report(p: usize, e: Error) -> Error {
    Error::Cluster(format!("process {p} sent a batch report that does not read back: {e}"))
}

/// Writes whether this process's data files of file sinks cut in pieces are durable and in
/// place, or what failed.
fn write_published(published: &Result<(), Error>, m: &mut Vec<u8>) {
    match published {
        Ok(()) => 0u8.write(m),
        Err(e) => (1u8, e.to_string()).write(m),
    }
}

/// Process `p`'s report of its data files of the batch at `t`, read from `m`.
fn read_published(m: &mut &[u8], p: usize, t: i64) -> Result<(), Error> {
    if u8::read(m).map_err(|e| bad_report(p, e))? != 0 {
        let e = String::read(m).map_err(|e| bad_report(p, e))?;
        return Err(Error::Cluster(format!("process {p} could not write its data files of batch {t} ms: {e}")));
    }
    Ok(())
}

/// Process `p`'s report of its shard of the commit of time `t`, read from `m`: its checksum,
/// or `None` when it reports none; `sharded` says whether process 0 has one.
fn read_report(m: &mut &[u8], p: usize, t: i64, sharded: bool) -> Result<Option<u64>, Error> {
    let bad = |e: Error| bad_report(p, e);
    match u8::read(m).map_err(bad)? {
        0 if !sharded => Ok(None),
        1 if sharded => Ok(Some(u64::read(m).map_err(bad)?)),
        0 | 1 => {
            let (they, we) = if sharded { ("no", "one") } else { ("a", "none") };
            Err(Error::Cluster(format!(
                "process {p} saved {they} shard in batch {t} ms and process 0 {we}; this is a bug in streamc"
            )))
        }
        _ => {
            let e = String::read(m).map_err(bad)?;
            Err(Error::Cluster(format!("process {p} could not write its shard of batch {t} ms: {e}")))
        }
    }
}

impl<F> BatchLoop<F>
where
    F: FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error>,
{
    /// The batch's last round, in a cluster, and the first phase of its commit at `t`: every
    /// process starts writing its shard (if the batch saved any; module docs), reports the
    /// shard of the batch before durable (or what failed), publishes its data files of file
    /// sinks whose rows were cut in pieces ([`BatchOutput::publish_data_files`]) and reports
    /// them durable, with its sources' counts when they were read in shares; process 0 then
    /// writes the commit of the batch before (`held`, now that every shard it names is
    /// durable) and commits those file sinks ([`BatchOutput::commit_pieces`]). When the shards
    /// are written later, so are the data files (`sink/publishing.rs`): each process starts
    /// publishing its files on a thread and reports the batch before's, and process 0 writes
    /// that batch's metadata entries ([`BatchOutput::write_held_entries`]) just before its
    /// commit and holds this batch's. Returns each
    /// source's lines and dropped lines of the batch (on process 0 of a cluster reading in
    /// shares, added up over the processes; elsewhere this process's own) and, on process 0,
    /// the shards' checksums in process order when they were written in the batch (empty
    /// elsewhere, when no state was sharded, or when they are being written: then
    /// [`EndOfBatch::shards_later`]). No round when nothing of this is needed (the same on
    /// every process: they run the same code on the same plan).
    ///
    /// When there is a round and `next` (the batch after this one) can be decided without
    /// waiting ([`decides_now`](Self::decides_now)), process 0 decides it before the round and
    /// the round carries the decision to the others ([`agreed`](Self::agreed)): that batch
    /// then has no round of its own to agree on it. Its commit records what the planned sources
    /// had taken before that decision planned the next batch's files
    /// ([`EndOfBatch::taken`]).
    ///
    /// The round also carries each process's `work` before the batch's first round of data
    /// ([`crate::app::Collective::work_before_round`]), from which process 0 learns the shares of
    /// the batches it decides next (`shares.rs`).
    pub(super) fn end_round(
        &mut self,
        t: i64,
        texts: &[TextBatch],
        next: Option<NextArgs>,
        work: Option<Duration>,
    ) -> Result<EndOfBatch, Error> {
        let mut counts: Vec<(u64, u64)> = texts.iter().map(|t| (t.len_lines() as u64, t.skipped_lines())).collect();
        let shard = self.output.take_shard();
        let Some(peers) = self.peers.clone() else {
            let shards = Vec::new();
            return Ok(EndOfBatch { counts, shards, shards_later: false, taken: None, sink: Duration::ZERO });
        };
        let me = peers.index();
        // The shards are written while the next batch runs when the commit is too.
        let later = peers.count() > 1 && self.output.commits_in_background();
        let before = self.shard_writing.take().map(ShardWriting::finish);
        let written = match (shard, &self.checkpoint) {
            (Some((bytes, sum)), Some((dir, _))) if later => {
                self.shard_writing = Some(ShardWriting::start(dir, t, me, bytes, sum)?);
                None
            }
            (Some((bytes, sum)), Some((dir, _))) => Some(checkpoint::write_shard(dir, t, me, &bytes).map(|_| sum)),
            _ => None,
        };
        // What the round reports, and of which batch: the shard written in line in this one, or
        // the one written while it ran (at most one of them).
        let (report_t, report) = match (written, before) {
            (Some(w), _) => (t, Some(w)),
            (None, Some((bt, r))) => (bt, Some(r)),
            (None, None) => (t, None),
        };
        let shards_later = self.shard_writing.is_some();
        let pieces = self.output.in_pieces();
        // The data files of file sinks cut in pieces: made durable in line before the round,
        // or, when the shards are written later, on a thread while the next batch runs and
        // reported in its round (`sink/publishing.rs`); the round then reports the last
        // batch's.
        let published_before = self.publishing.take().map(|p| (p.time_ms, p.finish()));
        let reports_files = pieces || published_before.is_some();
        let (published_t, published) = if later {
            if pieces {
                self.publishing = Some(self.output.start_publishing(t)?);
            }
            published_before.unwrap_or((t, Ok(())))
        } else if pieces {
            (t, self.output.publish_data_files())
        } else {
            (t, Ok(()))
        };
        let in_shares = texts.iter().any(|t| t.share_only);
        let deferred = self.output.has_deferred();
        if peers.count() == 1 || !(report.is_some() || reports_files || in_shares || deferred) {
            let sum = report.transpose()?;
            published?;
            let sink = self.put_out_deferred(&[])?;
            let shards = sum.into_iter().collect();
            return Ok(EndOfBatch { counts, shards, shards_later, taken: None, sink });
        }
        let mut out = vec![Vec::new(); peers.count()];
        let mut taken = None;
        if me == 0 {
            // The others learn from the round whether it carries a decision (process 0's clock
            // and stop requests are its own).
            if let Some(n) = next.filter(|n| self.decides_now(n)) {
                taken = Some(self.taken());
                let decided = self.decide(n);
                let mut m = Vec::new();
                self.write_decision(&decided, &mut m);
                out.iter_mut().skip(1).for_each(|o| o.clone_from(&m));
                self.agreed = Some(decided);
            }
        } else {
            let m = &mut out[0];
            counts.write(m);
            write_report(&report, m);
            write_published(&published, m);
            // In µs; 0: not measured.
            work.map_or(0, |w| w.as_micros().max(1) as u64).write(m);
            self.output.deferred_message(m);
        }
        // Every process waits here until every shard it reports and data file is durable (or
        // has failed).
        let got = peers.exchange(out)?;
        let sharded = report.is_some();
        let sum = report.transpose()?;
        published?;
        if me != 0 {
            if let Some(decision) = got.first().filter(|m| !m.is_empty()) {
                self.agreed = Some(self.read_decision(decision));
            }
            return Ok(EndOfBatch { counts, shards: Vec::new(), shards_later, taken: None, sink: Duration::ZERO });
        }
        let mut sums: Vec<u64> = sum.into_iter().collect();
        let mut rows = Vec::with_capacity(got.len());
        let mut works: Vec<Duration> = vec![work.unwrap_or_default()];
        for (p, report) in got.iter().enumerate().skip(1) {
            let bad = |e: Error| bad_report(p, e);
            let mut m = report.as_slice();
            let theirs: Vec<(u64, u64)> = Persist::read(&mut m).map_err(bad)?;
            for ((mine, text), (lines, skipped)) in counts.iter_mut().zip(texts).zip(theirs) {
                if text.share_only {
                    *mine = (mine.0 + lines, mine.1 + skipped);
                }
            }
            sums.extend(read_report(&mut m, p, report_t, sharded)?);
            read_published(&mut m, p, published_t)?;
            works.push(Duration::from_micros(u64::read(&mut m).map_err(bad)?));
            rows.push(m);
        }
        // Only from a batch read in shares, as the shares it learns are for those.
        if in_shares {
            self.shares.learn(&works);
        }
        // This batch's deferred outputs first: they wait for the commit in flight (an output
        // waits for it, `BatchOutput::settle_commit`), which is the one started in the last
        // batch's round, long written, rather than the one started here. The commit of the batch
        // before is then written while the next batch runs (it had kept process 0 ~2 ms a batch
        // from its next batch, while the others had started theirs).
        let (sink, shards) = if later {
            // This batch's files are reported in the next batch's round; the last batch's
            // entries are written now, before its commit.
            let started = Instant::now();
            self.output.emit_deferred(&rows)?;
            let entries = self.output.hold_entries();
            if let Some(held) = std::mem::replace(&mut self.held_entries, entries) {
                self.output.write_held_entries(held)?;
            }
            self.commit_held(sums)?;
            (started.elapsed(), Vec::new())
        } else {
            (self.put_out_deferred(&rows)?, sums)
        };
        Ok(EndOfBatch { counts, shards, shards_later, taken, sink })
    }

    /// On process 0: writes the commit held for its shards (on a thread, [`crate::sink::commit`]),
    /// now that every process reported its shard durable (`sums`, in process order), with the
    /// file sinks' metadata entries of its batch written since (made durable first); without a
    /// held commit, those entries are made durable now.
    fn commit_held(&mut self, sums: Vec<u64>) -> Result<(), Error> {
        match self.held.take() {
            Some(mut held) => {
                held.checkpoint.shards = sums;
                held.entries.extend(self.output.take_unsynced());
                held.start(self.output.committing(), true)
            }
            None if sums.is_empty() => crate::sink::make_durable(&self.output.take_unsynced()),
            None => Err(Error::Cluster(
                "the processes reported shards of a batch with no commit to write; this is a bug in streamc".to_owned(),
            )),
        }
    }

    /// After the last batch of a run that ended well, or at a tick the processes let pass
    /// without a batch: when they are still writing the last batch's shards (module docs), one
    /// more round in which each reports its shard durable, and process 0 writes the batch's
    /// commit. Nothing otherwise (the same on every process).
    pub(super) fn close_round(&mut self) -> Result<(), Error> {
        let writing = self.shard_writing.take();
        let publishing = self.publishing.take();
        if writing.is_none() && publishing.is_none() {
            return Ok(());
        }
        let (t, report) = match writing.map(ShardWriting::finish) {
            Some((t, r)) => (t, Some(r)),
            None => (publishing.as_ref().map_or(0, |p| p.time_ms), None),
        };
        let published = publishing.map_or(Ok(()), Publishing::finish);
        let Some(peers) = self.peers.clone() else { return report.transpose().and(published).map(|_| ()) };
        let me = peers.index();
        let mut out = vec![Vec::new(); peers.count()];
        if me != 0 {
            write_report(&report, &mut out[0]);
            write_published(&published, &mut out[0]);
            peers.exchange(out)?;
            return report.transpose().and(published).map(|_| ());
        }
        let got = peers.exchange(out)?;
        let sharded = report.is_some();
        let mut sums: Vec<u64> = report.transpose()?.into_iter().collect();
        published?;
        for (p, m) in got.iter().enumerate().skip(1) {
            let mut m = m.as_slice();
            sums.extend(read_report(&mut m, p, t, sharded)?);
            read_published(&mut m, p, t)?;
        }
        if let Some(held) = self.held_entries.take() {
            self.output.write_held_entries(held)?;
        }
        self.commit_held(sums)
    }

    /// On process 0 (or a cluster of one), after the batch's last round: puts out the rows of
    /// partitioned aggregations, which the round carried (the others' `rows`), then commits
    /// the file sinks whose rows were cut in pieces, every data file being in place and
    /// durable (before the batch ends, as Spark's, so that its progress line finds its rows in
    /// the sinks). Returns the time it took: the batch's sink phase, though it comes after the
    /// round.
    fn put_out_deferred(&mut self, rows: &[&[u8]]) -> Result<Duration, Error> {
        let started = Instant::now();
        self.output.emit_deferred(rows)?;
        self.output.commit_pieces()?;
        Ok(started.elapsed())
    }
}

//! A batch's commit written while the next batch runs. Once a batch's outputs are done — its
//! data files in place and durable, a file sink's metadata entry in place (as Spark's, before the
//! batch ends: its progress line finds its rows in the sinks) — what is left is process 0's
//! checkpoint commit: the metadata entries made durable (they are not fsynced when written:
//! [`Commit::entries`]), the state's part file, the commit file, the pruning of old ones, each
//! fsynced. [`Commit::start`] does that on a thread of its own, and the batch loop goes on with
//! the next batch: it reads its input and runs its query, and waits for the commit
//! ([`Committing::settle`]) before it puts anything out (the outputs' first write,
//! [`BatchOutput::settle_commit`](super::BatchOutput::settle_commit); its end; its shards) and
//! before the run ends. A commit that fails stops the app before the next batch's outputs, as
//! when it was written in line.
//!
//! What a crash can leave is what it could leave before, and one more case: a batch's commit not
//! written while the next batch's write-ahead entry is (it is written before the batch reads its
//! files). A restart resumes from the last commit and runs both batches again with the files
//! their entries name, as after any crash. An app with a Kafka sink commits in line (its
//! writer's rows are its own checkpoint of what a batch wrote).
//!
//! In a cluster of several processes, each process's shard of a batch's commit is written on a
//! thread too ([`ShardWriting`]) and reported durable in the next batch's last round; process 0
//! starts the batch's commit then (`app/batch_loop/last_round.rs`), once it has put out that
//! next batch's outputs (which wait for the commit started a batch earlier, not this one; a
//! failed commit then stops the app after one more batch's outputs). The newest commit is then
//! up to two batches behind the newest batch put out, and a crash re-runs both (their outputs
//! again: a file sink skips the batches it has committed; a console prints them again, as
//! after any crash).

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use crate::checkpoint::{self, Checkpoint, QueryCheckpoint};
use crate::error::Error;

/// A cluster process's shard of a batch's commit (the first of the commit's two phases), written
/// on a thread of its own while the next batch runs; the process reports it durable in that
/// batch's last round, and process 0 writes the commit then ([`crate::checkpoint`]).
pub(crate) struct ShardWriting {
    time_ms: i64,
    sum: u64,
    writer: JoinHandle<Result<PathBuf, Error>>,
}

impl ShardWriting {
    /// Starts writing `bytes` (checksum `sum`) as process `process`'s shard of the commit of time
    /// `time_ms` in `dir`.
    pub(crate) fn start(dir: &Path, time_ms: i64, process: usize, bytes: Vec<u8>, sum: u64) -> Result<Self, Error> {
        let dir = dir.to_owned();
        let writer = std::thread::Builder::new()
            .name("streamc-shard".to_owned())
            .spawn(move || checkpoint::write_shard(&dir, time_ms, process, &bytes))
            .map_err(|source| Error::Thread { name: "streamc-shard".to_owned(), source })?;
        Ok(ShardWriting { time_ms, sum, writer })
    }

    /// Waits until the shard is durable: the time of its commit, and its checksum or what
    /// failed.
    pub(crate) fn finish(self) -> (i64, Result<u64, Error>) {
        let written = match self.writer.join() {
            Ok(w) => w.map(|_| self.sum),
            Err(_) => Err(Error::Panic {
                batch_time_ms: self.time_ms,
                message: "the thread writing the batch's shard panicked".to_owned(),
            }),
        };
        (self.time_ms, written)
    }
}

/// What a batch's commit writes (process 0 of a cluster, or the one process).
pub(crate) struct Commit {
    pub(crate) dir: PathBuf,
    pub(crate) checkpoint: Checkpoint,
    pub(crate) query: QueryCheckpoint,
    /// The part file of the commit, when it has new parts.
    pub(crate) part_file: Option<Vec<u8>>,
    /// The app's name, for `--log`'s line (`None`: no line).
    pub(crate) log: Option<String>,
    /// The file sinks' metadata entries of the batch, in place but not yet durable: made
    /// durable first ([`BatchOutput::take_unsynced`](super::BatchOutput::take_unsynced)).
    pub(crate) entries: Vec<PathBuf>,
}

/// The thread writing a commit: what came of it, and the index it updated.
type Writer = JoinHandle<(Result<(), Error>, checkpoint::PartIndex)>;

/// A commit on its way to disk, and the index of what the directory's commits refer to (which
/// the commit updates, and gets back when it is done).
#[derive(Debug, Default)]
pub(crate) struct Committing {
    /// The batch's time, and the thread writing its commit.
    in_flight: Option<(i64, Writer)>,
    /// The index while no commit is in flight.
    index: checkpoint::PartIndex,
}

impl Commit {
    fn write(self, index: &mut checkpoint::PartIndex) -> Result<(), Error> {
        // A commit says its batch's outputs are done: the sinks' entries are on disk first.
        super::files::make_durable(&self.entries)?;
        let c = &self.checkpoint;
        let path = checkpoint::write(&self.dir, c, Some(&self.query), self.part_file.as_deref(), index)?;
        if let Some(name) = &self.log {
            eprintln!("streamc: `{name}` batch {} ms: checkpoint `{}`", c.time_ms, path.display());
        }
        Ok(())
    }

    /// Writes the commit: on a thread of its own when `background`, else before returning. A
    /// commit in flight is settled first.
    pub(crate) fn start(self, committing: &mut Committing, background: bool) -> Result<(), Error> {
        committing.settle()?;
        if !background {
            return self.write(&mut committing.index);
        }
        let mut index = std::mem::take(&mut committing.index);
        let time_ms = self.checkpoint.time_ms;
        let handle = std::thread::Builder::new()
            .name("streamc-commit".to_owned())
            .spawn(move || {
                let written = self.write(&mut index);
                (written, index)
            })
            .map_err(|source| Error::Thread { name: "streamc-commit".to_owned(), source })?;
        committing.in_flight = Some((time_ms, handle));
        Ok(())
    }
}

impl Committing {
    /// Waits for the commit in flight, if any: its error, if it failed.
    pub(crate) fn settle(&mut self) -> Result<(), Error> {
        let Some((batch_time_ms, handle)) = self.in_flight.take() else { return Ok(()) };
        match handle.join() {
            Ok((written, index)) => {
                self.index = index;
                written
            }
            Err(_) => Err(Error::Panic {
                batch_time_ms,
                message: "the thread writing the batch's checkpoint commit panicked".to_owned(),
            }),
        }
    }
}

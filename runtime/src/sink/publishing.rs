//! A cluster's file sinks cut in pieces, committed a batch behind: each process's data files of
//! a batch are made durable and put in place on a thread while the next batch runs
//! ([`Publishing`]), every process reports them in that next batch's last round, and process 0
//! then writes the batch's metadata log entries ([`HeldEntries`]), before the batch's held
//! checkpoint commit, which is a batch behind already (its shards are written the same way,
//! `app/batch_loop/last_round.rs`).
//!
//! In line, each process's fsync of its data file, ~1.7 ms on this project's disk, took ~12 %
//! of a 2-process Structured batch of ~13 ms: the batch thread waited for it before the round.
//! What a reader of the sink sees is unchanged but for when: a batch's files are listed in its
//! entry, in place and durable, or the entry does not exist yet; a restart re-runs every batch
//! after the last checkpoint commit, which comes after its entries.

use std::path::PathBuf;
use std::thread::JoinHandle;

use super::files::{PendingFile, write_metadata_entry};
use super::{BatchOutput, OutputKind, file_sink_committed};
use crate::error::Error;

/// This process's data files of a batch, being made durable and put in place on a thread.
#[derive(Debug)]
pub(crate) struct Publishing {
    /// The batch's time.
    pub(crate) time_ms: i64,
    writer: Option<JoinHandle<Result<(), Error>>>,
}

impl Publishing {
    /// Waits until every file is durable and in place (or one failed).
    pub(crate) fn finish(self) -> Result<(), Error> {
        match self.writer {
            None => Ok(()),
            Some(w) => w.join().unwrap_or_else(|_| {
                Err(Error::Cluster("the thread publishing the batch's data files panicked".to_owned()))
            }),
        }
    }
}

/// On process 0, the metadata log entries a batch's file sinks cut in pieces are to get once
/// every process has reported the batch's data files durable: per sink, its directory and every
/// process's files, in process order.
#[derive(Debug)]
pub(crate) struct HeldEntries {
    batch_id: u64,
    sinks: Vec<(PathBuf, Vec<PathBuf>)>,
}

impl BatchOutput {
    /// Starts making this process's pending data files of the batch (at `time_ms`) durable and
    /// putting them in place, on a thread (none when there are none).
    pub(crate) fn start_publishing(&mut self, time_ms: i64) -> Result<Publishing, Error> {
        let pending: Vec<PendingFile> = self.json.iter_mut().flat_map(|j| j.pending.drain(..)).collect();
        if pending.is_empty() {
            return Ok(Publishing { time_ms, writer: None });
        }
        let writer = std::thread::Builder::new()
            .name("streamc-publish".to_owned())
            .spawn(move || pending.into_iter().try_for_each(PendingFile::publish))
            .map_err(|source| Error::Thread { name: "streamc-publish".to_owned(), source })?;
        Ok(Publishing { time_ms, writer: Some(writer) })
    }

    /// On process 0, after the batch's last round: the metadata entries its file sinks cut in
    /// pieces are to get (unless the batch was committed before), held until every process
    /// has reported the files durable. `None` on the other processes, or when the batch cut
    /// no file sink's rows in pieces.
    pub(crate) fn hold_entries(&mut self) -> Option<HeldEntries> {
        if self.silent || !self.in_pieces {
            return None;
        }
        let sinks = self
            .outputs
            .iter()
            .zip(&mut self.json)
            .filter_map(|(spec, j)| match &spec.kind {
                OutputKind::JsonFiles { dir, .. } | OutputKind::ParquetFiles { dir, .. } if !j.committed => {
                    Some((dir.clone(), std::mem::take(&mut j.files)))
                }
                _ => None,
            })
            .collect();
        Some(HeldEntries { batch_id: self.batch_id, sinks })
    }

    /// Writes held metadata entries, now that every process has reported their files durable:
    /// in place, made durable with the checkpoint commit of their batch
    /// ([`take_unsynced`](Self::take_unsynced)).
    pub(crate) fn write_held_entries(&mut self, held: HeldEntries) -> Result<(), Error> {
        for (dir, files) in held.sinks {
            if !file_sink_committed(&dir, held.batch_id) {
                self.unsynced.extend(write_metadata_entry(&dir, held.batch_id, &files)?);
            }
        }
        Ok(())
    }
}

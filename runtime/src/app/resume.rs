//! Resuming from a checkpoint: the newest usable commit of the app's checkpoint directory,
//! checked against the app that starts (same batch interval, same pipeline), and what the
//! resumed run continues from (batch ids, replay positions, first batch, states to restore).

use std::path::Path;

use super::input::Restored;
use crate::checkpoint::{self, Loaded, QueryCheckpoint};
use crate::error::Error;
use crate::sink::BatchOutput;

/// The commit a run resumes from, checked against the app.
#[derive(Debug)]
pub(super) struct Resume {
    loaded: Loaded,
}

impl Resume {
    /// The newest usable commit of `dir` for app `app`, or `None` for a fresh start; the
    /// temporary files a crashed write left in `dir` are deleted.
    ///
    /// Fails if the directory has commits but none is usable, or if the commit was written with
    /// another batch interval than `interval_ms` or by another pipeline than `pipeline`: the
    /// saved state could not be continued.
    pub(super) fn load(
        dir: &Path,
        app: &str,
        interval_ms: i64,
        pipeline: &[(String, String)],
    ) -> Result<Option<Resume>, Error> {
        let found = checkpoint::load_latest(dir, app)?;
        checkpoint::remove_stale_temp_files(dir);
        let Some(l) = found else { return Ok(None) };
        if l.checkpoint.interval_ms != interval_ms {
            return Err(Error::Checkpoint {
                path: l.path.clone(),
                message: format!(
                    "checkpoint `{}` was written with a batch interval of {} ms, but `{app}` has {interval_ms} ms\n\
                     help: restore the batch interval, or use another checkpoint directory",
                    l.path.display(),
                    l.checkpoint.interval_ms,
                ),
            });
        }
        let changes = checkpoint::pipeline_changes(&l.checkpoint.pipeline, pipeline);
        if !changes.is_empty() {
            return Err(Error::Checkpoint {
                path: l.path.clone(),
                message: format!(
                    "checkpoint `{}` was written by a different pipeline, whose state this one cannot continue:\n  - {}\n\
                     help: restore the pipeline as it was, or start from an empty checkpoint directory (`--checkpoint NEW_DIR`)",
                    l.path.display(),
                    changes.join("\n  - ")
                ),
            });
        }
        Ok(Some(Resume { loaded: l }))
    }

    /// The commit's Structured Streaming section, if it has one.
    pub(super) fn query(&self) -> Option<&QueryCheckpoint> {
        self.loaded.query.as_ref()
    }

    /// The id of the first batch of the resumed run: the one after the commit's.
    pub(super) fn next_batch_id(&self, interval_ms: i64) -> u64 {
        match &self.loaded.query {
            Some(q) => q.batch_id + 1,
            // A checkpoint without a query section: one batch per interval since the zero time.
            None => {
                let c = &self.loaded.checkpoint;
                u64::try_from((c.time_ms - c.zero_ms) / interval_ms).unwrap_or(0)
            }
        }
    }

    /// How many of the `len` replay files of source `source` the checkpointed run had consumed.
    pub(super) fn replay_consumed(&self, source: &str, len: u64) -> u64 {
        self.loaded.checkpoint.replay.iter().find(|(n, _)| n == source).map_or(0, |&(_, next)| next.min(len))
    }

    /// The time of the commit's batch, in ms.
    pub(super) fn time_ms(&self) -> i64 {
        self.loaded.checkpoint.time_ms
    }

    /// The commit's file.
    pub(super) fn path(&self) -> &Path {
        &self.loaded.path
    }

    /// Hands the commit over to the run: tells `output` which parts are on disk already (they
    /// are not written again), and returns the zero time and the states to restore on the first
    /// batch.
    pub(super) fn into_restored(self, output: &mut BatchOutput) -> (i64, Restored) {
        let l = self.loaded;
        output.parts_committed(&l.checkpoint.parts, &l.checkpoint.part_files);
        let restored = Restored {
            path: l.path,
            version: l.version,
            states: l.checkpoint.states,
            parts: l.parts,
            shards: l.shards,
        };
        (l.checkpoint.zero_ms, restored)
    }
}

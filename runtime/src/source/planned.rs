//! The interface of sources whose batches are planned before they run.

use super::share::Share;
use super::text::TextBatch;
use crate::error::Error;

/// A source whose batches are planned before they run, and whose plan the checkpoint's
/// write-ahead log records (`offsets/<N>`), so that a batch re-run after a crash reads the same
/// records: the structured file source (a plan is a list of files) and Kafka (a list of offset
/// ranges, `topic partition from until`).
pub(crate) trait Planned {
    /// The source's name.
    fn name(&self) -> &str;
    /// Chooses the next batch's input and marks it taken (all that is there, with `unlimited`).
    fn plan(&mut self, unlimited: bool) -> Result<Vec<String>, Error>;
    /// Marks the input a crashed run's batch had planned (being re-run) as taken.
    fn take_planned(&mut self, planned: &[String]);
    /// Reads a planned batch's input into `batch`.
    fn read(&mut self, planned: &[String], batch: &mut TextBatch) -> Result<(), Error>;
    /// Reads a cluster process's share of a planned batch's input into `batch`, if the source
    /// can read shares (`true`); otherwise reads all of it (`false`).
    fn read_share(&mut self, planned: &[String], batch: &mut TextBatch, share: Share) -> Result<bool, Error> {
        let _ = share;
        self.read(planned, batch)?;
        Ok(false)
    }
    /// What the checkpoint records of the source after a batch: the files taken, or the
    /// offsets to read next.
    fn taken(&self) -> Vec<String>;
    /// Under `AvailableNow`: fixes what the run will read (what is there now), less `reserved`
    /// (planned by a crashed run's batches, which run first).
    fn take_snapshot(&mut self, reserved: &std::collections::HashSet<&str>) -> Result<(), Error>;
    /// How much of the snapshot is left (files, or records), for the progress bar.
    fn snapshot_files(&self) -> usize;
    /// Whether the snapshot has input left.
    fn has_snapshot_files(&self) -> bool;
}

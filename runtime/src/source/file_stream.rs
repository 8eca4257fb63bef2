//! Structured Streaming's file source: every file of a directory, old and new, read once, in
//! batches that are planned (and logged) before they run.

use std::collections::{HashSet, VecDeque};
use std::io::{self};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::files::is_ignored_name;
use super::limits::InputLimits;
use super::share::{Share, share_ranges};
use super::text::TextBatch;
use crate::error::Error;

/// Structured Streaming's file source (`spark.readStream.text(dir)`, also behind json and csv):
/// every file of the directory, including those present at the start, read once.
///
/// Each batch takes up to `max_files_per_trigger` files not taken before, oldest first by
/// (modification time, name); names that [`is_ignored_name`] rejects are never taken (write
/// `.name.tmp`, then rename). The batch loop *plans* a batch (chooses its files, which the checkpoint's
/// write-ahead log records before the batch runs) and then *reads* it, so a batch re-run after a
/// crash reads the files it read the first time. Files are known by name: rewriting a file does
/// not make it new again. Names that are not UTF-8 are skipped with a warning, because the
/// checkpoint records names as strings. A planned file that has disappeared (or cannot be read)
/// when its batch reads it is skipped with a warning naming it (Spark's `ignoreMissingFiles`),
/// and the batch goes on without it; it stays taken, so it is not tried again.
pub(crate) struct StructuredFileSource {
    name: String,
    dir: PathBuf,
    max_files: Option<usize>,
    /// Every file taken so far (by this run or, from the checkpoint, by earlier ones).
    seen: HashSet<String>,
    /// With `Trigger::AvailableNow`: the files present at start not yet taken, in order.
    snapshot: Option<VecDeque<String>>,
    /// Whether listing the directory is failing (warn once per outage).
    listing_failed: bool,
    warned_non_utf8: bool,
    max_line_bytes: usize,
}

impl StructuredFileSource {
    /// A source over `dir` that has already taken the files `taken` (from a checkpoint).
    pub(crate) fn start(
        name: &str,
        dir: &Path,
        max_files: Option<usize>,
        taken: impl IntoIterator<Item = String>,
        limits: InputLimits,
    ) -> Result<Self, Error> {
        if max_files == Some(0) {
            return Err(Error::Config(format!("source `{name}`: `max_files_per_trigger` must be at least 1, found 0")));
        }
        // Fail now rather than warn on every batch: a missing directory at start is a mistake.
        std::fs::read_dir(dir).map_err(|source| Error::Io { path: dir.to_owned(), source })?;
        Ok(StructuredFileSource {
            name: name.to_owned(),
            dir: dir.to_owned(),
            max_files,
            seen: taken.into_iter().collect(),
            snapshot: None,
            listing_failed: false,
            warned_non_utf8: false,
            max_line_bytes: limits.max_line_bytes,
        })
    }

    /// The visible regular files not taken yet, by (modification time, name).
    fn list_new(&mut self) -> io::Result<Vec<String>> {
        let mut found = Vec::new();
        for e in std::fs::read_dir(&self.dir)? {
            let e = e?;
            let os_name = e.file_name();
            let Some(name) = os_name.to_str() else {
                if !self.warned_non_utf8 {
                    eprintln!(
                        "warning: source `{}`: skipping `{}` and any other file whose name is not UTF-8",
                        self.name,
                        e.path().display()
                    );
                    self.warned_non_utf8 = true;
                }
                continue;
            };
            if is_ignored_name(name.as_bytes()) || self.seen.contains(name) {
                continue;
            }
            // Follow symlinks: a link to a file is a file to read.
            let Ok(meta) = std::fs::metadata(e.path()) else { continue };
            if meta.is_file() {
                found.push((meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), name.to_owned()));
            }
        }
        found.sort();
        Ok(found.into_iter().map(|(_, n)| n).collect())
    }

    /// [`list_new`](Self::list_new), warning once per outage instead of failing: a directory
    /// that cannot be listed for a while gives empty batches.
    fn list_new_or_warn(&mut self) -> Vec<String> {
        match self.list_new() {
            Ok(f) => {
                self.listing_failed = false;
                f
            }
            Err(e) => {
                if !self.listing_failed {
                    eprintln!(
                        "warning: source `{}`: cannot list `{}`: {e}; no new files until it can be listed",
                        self.name,
                        self.dir.display()
                    );
                    self.listing_failed = true;
                }
                Vec::new()
            }
        }
    }

    /// Fixes the files that `Trigger::AvailableNow` will read: those present now, less the ones
    /// in `reserved` (planned by batches a crashed run had started, which run first).
    pub(crate) fn take_snapshot(&mut self, reserved: &HashSet<&str>) -> Result<(), Error> {
        let files = self.list_new().map_err(|source| Error::Io { path: self.dir.clone(), source })?;
        self.snapshot = Some(files.into_iter().filter(|f| !reserved.contains(f.as_str())).collect());
        Ok(())
    }

    /// The files an `AvailableNow` snapshot has left (0 without one).
    pub(crate) fn snapshot_files(&self) -> usize {
        self.snapshot.as_ref().map_or(0, VecDeque::len)
    }

    /// Whether an `AvailableNow` snapshot has files left.
    pub(crate) fn has_snapshot_files(&self) -> bool {
        self.snapshot.as_ref().is_some_and(|s| !s.is_empty())
    }

    /// Chooses the files of the next batch and marks them taken: up to `max_files_per_trigger`
    /// (all, with `unlimited`) from the snapshot if there is one, otherwise from a listing.
    pub(crate) fn plan(&mut self, unlimited: bool) -> Vec<String> {
        let limit = if unlimited { usize::MAX } else { self.max_files.unwrap_or(usize::MAX) };
        let files: Vec<String> = match &mut self.snapshot {
            Some(s) => {
                let n = limit.min(s.len());
                s.drain(..n).collect()
            }
            None => {
                let mut f = self.list_new_or_warn();
                f.truncate(limit);
                f
            }
        };
        self.seen.extend(files.iter().cloned());
        files
    }

    /// Marks files planned by a crashed run's batch (being re-run) as taken.
    pub(crate) fn take_planned(&mut self, files: &[String]) {
        self.seen.extend(files.iter().cloned());
    }

    /// Every file taken so far, sorted: the checkpoint's record of this source.
    pub(crate) fn taken(&self) -> Vec<String> {
        let mut v: Vec<String> = self.seen.iter().cloned().collect();
        v.sort();
        v
    }

    /// Reads the planned `files` into `batch`, remembering each file for
    /// [`TextBatch::origin`]. A planned file that cannot be read is skipped with a warning (see
    /// the type's documentation); lines are bounded by `max_line_bytes`.
    pub(crate) fn read(&self, files: &[String], batch: &mut TextBatch) -> Result<(), Error> {
        self.read_share(files, batch, None)
    }

    /// [`read`](Self::read), or with `share` only a cluster process's byte ranges of the files
    /// ([`share_ranges`]; a file that cannot be measured counts as empty, with the warning that
    /// reading it would give).
    pub(crate) fn read_share(
        &self,
        files: &[String],
        batch: &mut TextBatch,
        share: Option<Share>,
    ) -> Result<(), Error> {
        let ranges: Vec<(usize, u64, u64)> = match share {
            None => (0..files.len()).map(|i| (i, 0, u64::MAX)).collect(),
            Some(share) => {
                let sizes: Vec<u64> =
                    files.iter().map(|f| std::fs::metadata(self.dir.join(f)).map_or(0, |m| m.len())).collect();
                share_ranges(&sizes, share)
            }
        };
        for (i, lo, hi) in ranges {
            let f = &files[i];
            let path = self.dir.join(f);
            let read = if share.is_some() {
                batch.read_file_range(&path, lo, hi, self.max_line_bytes)
            } else {
                batch.read_file(&path, self.max_line_bytes)
            };
            match read {
                Ok(read) => {
                    if let Some(what) = read.skipped.describe(self.max_line_bytes) {
                        eprintln!("warning: source `{}`: skipped {what} in `{}`", self.name, path.display());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => eprintln!(
                    "warning: source `{}`: `{}` disappeared before it could be read; the batch goes on without it",
                    self.name,
                    path.display()
                ),
                Err(e) => eprintln!(
                    "warning: source `{}`: cannot read `{}`: {e}; the batch goes on without it",
                    self.name,
                    path.display()
                ),
            }
        }
        Ok(())
    }
}

impl super::planned::Planned for StructuredFileSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn plan(&mut self, unlimited: bool) -> Result<Vec<String>, Error> {
        Ok(StructuredFileSource::plan(self, unlimited))
    }
    fn take_planned(&mut self, planned: &[String]) {
        StructuredFileSource::take_planned(self, planned);
    }
    fn read(&mut self, planned: &[String], batch: &mut TextBatch) -> Result<(), Error> {
        StructuredFileSource::read(self, planned, batch)
    }
    fn read_share(&mut self, planned: &[String], batch: &mut TextBatch, share: Share) -> Result<bool, Error> {
        StructuredFileSource::read_share(self, planned, batch, Some(share))?;
        Ok(true)
    }
    fn taken(&self) -> Vec<String> {
        StructuredFileSource::taken(self)
    }
    fn take_snapshot(&mut self, reserved: &HashSet<&str>) -> Result<(), Error> {
        StructuredFileSource::take_snapshot(self, reserved)
    }
    fn snapshot_files(&self) -> usize {
        StructuredFileSource::snapshot_files(self)
    }
    fn has_snapshot_files(&self) -> bool {
        StructuredFileSource::has_snapshot_files(self)
    }
}

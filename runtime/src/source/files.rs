//! Spark's `textFileStream`: the files that appear in a directory, each read once, whole, into
//! the batch after it appears.

use std::collections::HashSet;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::limits::InputLimits;
use super::text::TextBatch;
use crate::error::Error;

/// Whether a file name is one that file sources never read: hidden or in-progress names, as
/// Spark and Hadoop skip them. Names starting with `.` or `_` (Spark: hidden files, `_SUCCESS`,
/// `_temporary`), and names ending in `.tmp`, `.COPYING` or `._COPYING_` (what `hadoop fs -put`
/// writes before renaming into place).
pub(crate) fn is_ignored_name(name: &[u8]) -> bool {
    matches!(name.first(), Some(b'.' | b'_'))
        || [&b".tmp"[..], b".COPYING", b"._COPYING_"].iter().any(|s| name.ends_with(s))
}

/// A file's size and modification time: if either changes while it is read, it is still being
/// written.
fn fingerprint(path: &Path) -> io::Result<(u64, Option<SystemTime>)> {
    let m = std::fs::metadata(path)?;
    Ok((m.len(), m.modified().ok()))
}

/// Spark's `textFileStream`: every file that appears in the directory is read whole into the
/// batch during which it was first seen, exactly once.
///
/// Files present when the app starts are not read (as in Spark). Names that
/// [`is_ignored_name`] rejects are never read, so a writer can write `.name.tmp` and rename it
/// to `name` when complete: a rename within a directory is atomic, so the source never reads a
/// half-written file. A file whose size or modification time changes while it is read is still
/// being written: its lines are dropped and it is read again in the next batch. A file that
/// disappears (or cannot be read) after it was listed is skipped with a warning and not tried
/// again. A file is remembered by name; rewriting it later does not make it new again.
pub(crate) struct FileSource {
    name: String,
    dir: PathBuf,
    seen: HashSet<OsString>,
    /// Whether listing the directory is failing (warn once per outage).
    listing_failed: bool,
    max_line_bytes: usize,
    /// Files put back because they changed while read (noted once each).
    deferred: HashSet<PathBuf>,
}

impl FileSource {
    /// Records the files already present, which will never be read.
    pub(crate) fn start(name: &str, dir: &Path, limits: InputLimits) -> Result<Self, Error> {
        let mut seen = HashSet::new();
        let entries = std::fs::read_dir(dir).map_err(|source| Error::Io { path: dir.to_owned(), source })?;
        for e in entries {
            let e = e.map_err(|source| Error::Io { path: dir.to_owned(), source })?;
            seen.insert(e.file_name());
        }
        Ok(FileSource {
            name: name.to_owned(),
            dir: dir.to_owned(),
            seen,
            listing_failed: false,
            max_line_bytes: limits.max_line_bytes,
            deferred: HashSet::new(),
        })
    }

    fn new_files(&mut self) -> io::Result<Vec<PathBuf>> {
        let mut found = Vec::new();
        for e in std::fs::read_dir(&self.dir)? {
            let e = e?;
            let name = e.file_name();
            if is_ignored_name(name.as_encoded_bytes()) || self.seen.contains(&name) {
                continue;
            }
            // Follow symlinks: a link to a file is a file to read.
            if std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()) {
                self.seen.insert(name);
                found.push(e.path());
            }
        }
        // Name order, so that a batch with several new files is deterministic.
        found.sort();
        Ok(found)
    }

    pub(super) fn fill(&mut self, batch: &mut TextBatch, time_ms: i64) {
        let files = match self.new_files() {
            Ok(f) => {
                self.listing_failed = false;
                f
            }
            Err(e) => {
                if !self.listing_failed {
                    eprintln!(
                        "warning: source `{}`: cannot list `{}`: {e}; batches stay empty until it can be listed",
                        self.name,
                        self.dir.display()
                    );
                    self.listing_failed = true;
                }
                return;
            }
        };
        for path in files {
            let read = fingerprint(&path).and_then(|before| {
                let mark = batch.mark();
                let read = batch.read_file(&path, self.max_line_bytes)?;
                let after = fingerprint(&path)?;
                Ok((before == after && read.bytes == before.0).then_some(read).ok_or(mark))
            });
            match read {
                Ok(Ok(read)) => {
                    if let Some(what) = read.skipped.describe(self.max_line_bytes) {
                        eprintln!(
                            "warning: source `{}`: skipped {what} in `{}` (batch at {time_ms} ms)",
                            self.name,
                            path.display()
                        );
                    }
                }
                Ok(Err(mark)) => {
                    // Still being written: forget what was read, and read it again next batch.
                    batch.rollback(mark);
                    if let Some(name) = path.file_name() {
                        self.seen.remove(name);
                    }
                    if self.deferred.insert(path.clone()) {
                        eprintln!(
                            "note: source `{}`: `{}` changed while it was read (still being written?); \
                             reading it again in the next batch",
                            self.name,
                            path.display()
                        );
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => eprintln!(
                    "warning: source `{}`: `{}` disappeared before it could be read; skipping it",
                    self.name,
                    path.display()
                ),
                Err(e) => {
                    eprintln!("warning: source `{}`: cannot read `{}`: {e}; skipping it", self.name, path.display())
                }
            }
        }
    }
}

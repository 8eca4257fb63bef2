//! Replay: a directory of files, one batch per file, in name order (`--replay`).

use std::io::{self};
use std::path::{Path, PathBuf};

use super::limits::InputLimits;
use super::text::{TextBatch, share_ranges};
use crate::error::Error;

/// Replay input: file `i` of the directory (regular files in name order) is the records of
/// batch `i`; after the last file, batches are empty. Lines longer than `max_line_bytes` and
/// lines that are not UTF-8 are skipped with a warning; a file that disappeared after the
/// listing gives an empty batch, with a warning.
pub(crate) struct ReplaySource {
    files: std::vec::IntoIter<PathBuf>,
    max_line_bytes: usize,
}

impl ReplaySource {
    /// Lists the replay files of `dir`.
    pub(crate) fn open(dir: &Path, limits: InputLimits) -> Result<Self, Error> {
        let io_err = |source| Error::Io { path: dir.to_owned(), source };
        let mut files = Vec::new();
        for e in std::fs::read_dir(dir).map_err(io_err)? {
            let path = e.map_err(io_err)?.path();
            if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                files.push(path);
            }
        }
        files.sort();
        Ok(ReplaySource { files: files.into_iter(), max_line_bytes: limits.max_line_bytes })
    }

    /// The number of batches this replay provides.
    pub(crate) fn len(&self) -> usize {
        self.files.len()
    }

    /// Skips the first `n` files without reading them (a resumed run continues after the files
    /// its checkpoint had consumed).
    pub(crate) fn skip(&mut self, n: usize) {
        for _ in 0..n {
            if self.files.next().is_none() {
                break;
            }
        }
    }

    /// Reads the next file into `batch`: all of it, or with `share = Some((me, n))` process
    /// `me`'s byte range of it for a cluster of `n` ([`share_ranges`]).
    pub(super) fn fill(&mut self, batch: &mut TextBatch, share: Option<(usize, usize)>) -> Result<(), Error> {
        let Some(path) = self.files.next() else {
            return Ok(());
        };
        let read = match share {
            None => batch.read_file(&path, self.max_line_bytes),
            Some((me, n)) => match std::fs::metadata(&path) {
                Ok(m) => match share_ranges(&[m.len()], me, n).first() {
                    Some(&(_, lo, hi)) => batch.read_file_range(&path, lo, hi, self.max_line_bytes),
                    None => Ok(Default::default()),
                },
                Err(e) => Err(e),
            },
        };
        match read {
            Ok(read) => {
                if let Some(what) = read.skipped.describe(self.max_line_bytes) {
                    eprintln!("warning: skipped {what} in `{}`", path.display());
                }
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                eprintln!("warning: replay file `{}` disappeared; its batch is empty", path.display());
                Ok(())
            }
            Err(source) => Err(Error::Io { path, source }),
        }
    }
}

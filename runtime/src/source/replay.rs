//! Replay: a directory of files, one batch per file, in name order (`--replay`).

use std::io::{self};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use super::limits::InputLimits;
use super::text::{FileRead, TextBatch};
use crate::error::Error;

/// Replay input: file `i` of the directory (regular files in name order) is the records of
/// batch `i`; after the last file, batches are empty. Lines longer than `max_line_bytes` and
/// lines that are not UTF-8 are skipped with a warning; a file that disappeared after the
/// listing gives an empty batch, with a warning.
///
/// With [`read_ahead`](Self::read_ahead) (an app on more than one worker), the next file is read
/// on a thread of its own while a batch runs, into the text buffer the batch before used; each
/// file's warnings and errors still come with its own batch.
pub(crate) struct ReplaySource {
    files: std::vec::IntoIter<PathBuf>,
    max_line_bytes: usize,
    read_ahead: bool,
    /// The next file, being read.
    ahead: Option<JoinHandle<Read>>,
}

/// A file read into a batch of its own.
struct Read {
    path: PathBuf,
    text: TextBatch,
    result: io::Result<FileRead>,
}

impl Read {
    fn of(path: PathBuf, mut text: TextBatch, max_line_bytes: usize) -> Read {
        text.clear();
        let result = text.read_file(&path, max_line_bytes);
        Read { path, text, result }
    }
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
        Ok(ReplaySource {
            files: files.into_iter(),
            max_line_bytes: limits.max_line_bytes,
            read_ahead: false,
            ahead: None,
        })
    }

    /// Reads each next file while the batch before runs (one more thread; the text of two
    /// batches in memory).
    pub(crate) fn read_ahead(&mut self, on: bool) {
        self.read_ahead = on;
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

    pub(super) fn fill(&mut self, batch: &mut TextBatch) -> Result<(), Error> {
        if !self.read_ahead {
            let Some(path) = self.files.next() else {
                return Ok(());
            };
            let result = batch.read_file(&path, self.max_line_bytes);
            return self.report(path, result);
        }
        let read = match self.ahead.take() {
            Some(h) => h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => match self.files.next() {
                Some(path) => Read::of(path, TextBatch::new(), self.max_line_bytes),
                None => return Ok(()),
            },
        };
        let Read { path, mut text, result } = read;
        std::mem::swap(batch, &mut text);
        // The batch's old buffer takes the next file.
        if let Some(next) = self.files.next() {
            let max = self.max_line_bytes;
            let named = next.clone();
            let spawned =
                std::thread::Builder::new().name("streamc-read-ahead".into()).spawn(move || Read::of(next, text, max));
            match spawned {
                Ok(h) => self.ahead = Some(h),
                // No thread for the next file: the run stops here, before this batch runs.
                Err(source) => return Err(Error::Io { path: named, source }),
            }
        }
        self.report(path, result)
    }

    /// The warnings or the error of reading `path`.
    fn report(&self, path: PathBuf, result: io::Result<FileRead>) -> Result<(), Error> {
        match result {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn batches(dir: &Path, ahead: bool, remove_after_listing: Option<&str>) -> Vec<Vec<String>> {
        let mut r = ReplaySource::open(dir, InputLimits::default()).unwrap();
        r.read_ahead(ahead);
        if let Some(name) = remove_after_listing {
            std::fs::remove_file(dir.join(name)).unwrap();
        }
        let mut out = Vec::new();
        let mut text = TextBatch::new();
        for _ in 0..r.len() + 1 {
            text.clear();
            r.fill(&mut text).unwrap();
            out.push(text.lines().map(str::to_owned).collect());
        }
        out
    }

    /// Reading ahead gives every file's lines to its own batch, in name order, an empty batch
    /// for a file gone after the listing and empty batches after the last file, as reading each
    /// file when its batch comes does.
    #[test]
    fn reading_ahead_gives_each_batch_its_own_file() {
        let dir = std::env::temp_dir().join(format!("streamc-replay-ahead-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in [("b", "3\n4\n5\n"), ("a", "1\n2\n"), ("c", ""), ("d", "6"), ("e", "7\n")] {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let want: Vec<Vec<String>> = [vec!["1", "2"], vec!["3", "4", "5"], vec![], vec!["6"], vec!["7"], vec![]]
            .into_iter()
            .map(|b| b.into_iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(batches(&dir, false, None), want);
        assert_eq!(batches(&dir, true, None), want);
        let mut gone = want.clone();
        gone[3].clear();
        assert_eq!(batches(&dir, true, Some("d")), gone);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

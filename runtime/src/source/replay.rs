//! Replay: a directory of files, one batch per file, in name order (`--replay`).

use std::io::{self};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};

use super::limits::InputLimits;
use super::share::{Share, share_ranges};
use super::text::{TextBatch, WholeRead, read_whole};
use crate::error::Error;
use crate::parallel::Idle;

/// Replay input: file `i` of the directory (regular files in name order) is the records of
/// batch `i`; after the last file, batches are empty. Lines longer than `max_line_bytes` and
/// lines that are not UTF-8 are skipped with a warning; a file that disappeared after the
/// listing gives an empty batch, with a warning.
pub(crate) struct ReplaySource {
    files: std::vec::IntoIter<PathBuf>,
    max_line_bytes: usize,
    /// The next file read ahead while the batch before it finishes ([`Self::read_ahead`]).
    ahead: Arc<Mutex<Ahead>>,
}

/// The read-ahead of a replay's next file: started by a worker thread whose part of a split
/// batch is done ([`ReplaySource::read_ahead`], [`Ahead::start`]), and taken by the next
/// [`ReplaySource::fill`], which reads the file itself when nothing (or another file) was read
/// ahead, or the read failed (so its errors and warnings are the usual ones).
#[derive(Default)]
struct Ahead {
    /// The file the next `fill` reads.
    next: Option<PathBuf>,
    max_line_bytes: usize,
    /// A buffer to read into: the one the last read-ahead text replaced in the batch.
    spare: Vec<u8>,
    /// The running read's result, when it ends (a read that panicked sends nothing).
    running: Option<Receiver<(PathBuf, io::Result<WholeRead>)>>,
}

impl Ahead {
    /// Starts reading `next`, unless a read runs or there is no next file: on a worker thread
    /// of the batches' pool (`parallel::Pool`) as that thread's next job, when called from one,
    /// since the thread is free once its part is done; on a thread of its own otherwise.
    fn start(&mut self) {
        if self.running.is_some() {
            return;
        }
        let Some(path) = self.next.take() else { return };
        let (max, buffer) = (self.max_line_bytes, std::mem::take(&mut self.spare));
        let (done, running) = std::sync::mpsc::sync_channel(1);
        let read = move || {
            let read = read_whole(&path, max, buffer);
            // The receiver is gone only when the replay is.
            let _ = done.send((path, read));
        };
        if rayon_core::current_thread_index().is_some() {
            rayon_core::spawn(read);
        } else if std::thread::Builder::new().name("streamc-read-ahead".into()).spawn(read).is_err() {
            // Without a thread, the next batch reads its file itself.
            return;
        }
        self.running = Some(running);
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
        let ahead = Ahead { next: files.first().cloned(), max_line_bytes: limits.max_line_bytes, ..Ahead::default() };
        Ok(ReplaySource {
            files: files.into_iter(),
            max_line_bytes: limits.max_line_bytes,
            ahead: Arc::new(Mutex::new(ahead)),
        })
    }

    /// What a worker thread starts when its part of a split batch is done: reading the next
    /// file (a whole file within `max_line_bytes`) as the worker's next job (or on a thread of
    /// its own, [`Ahead::start`]) while the batch's thread merges, evicts and writes, on the
    /// core the worker leaves idle. A batch that is
    /// not split reads no file ahead.
    pub(crate) fn read_ahead(&self) -> Idle {
        let ahead = Arc::clone(&self.ahead);
        Idle::new(move || ahead.lock().unwrap_or_else(|p| p.into_inner()).start())
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
        self.lock_ahead().next = self.files.as_slice().first().cloned();
    }

    fn lock_ahead(&self) -> std::sync::MutexGuard<'_, Ahead> {
        self.ahead.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The text of `path` if it was read ahead (whole, valid UTF-8): the text, its lines and
    /// the file's size.
    fn take_ahead(&self, path: &Path) -> Option<(String, usize, u64)> {
        let running = self.lock_ahead().running.take()?;
        let (read_path, read) = running.recv().ok()?;
        match read {
            Ok(WholeRead::Text { text, lines, bytes }) if read_path == path => Some((text, lines, bytes)),
            Ok(WholeRead::NotWhole(buffer)) => {
                self.lock_ahead().spare = buffer;
                None
            }
            _ => None,
        }
    }

    /// Reads the next file into `batch`: all of it, or with `share` a cluster process's byte
    /// range of it ([`share_ranges`]).
    pub(super) fn fill(&mut self, batch: &mut TextBatch, share: Option<Share>) -> Result<(), Error> {
        let Some(path) = self.files.next() else {
            return Ok(());
        };
        let ahead = if share.is_none() { self.take_ahead(&path) } else { None };
        self.lock_ahead().next = self.files.as_slice().first().cloned();
        if let Some((text, lines, bytes)) = ahead {
            let (_, spare) = batch.push_whole(&path, text, lines, bytes);
            self.lock_ahead().spare = spare.into_bytes();
            return Ok(());
        }
        let read = match share {
            None => batch.read_file(&path, self.max_line_bytes),
            Some(share) => match std::fs::metadata(&path) {
                Ok(m) => match share_ranges(&[m.len()], share).first() {
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

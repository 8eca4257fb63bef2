//! Planned batches (`offsets/<N>`, Spark's offset log): the files a batch reads, written
//! before it runs so that a batch re-run after a crash reads the same files.

use std::io;
use std::path::{Path, PathBuf};

use super::format::{Invalid, Reader, checked_body, put_files, seal};
use super::layout::{FORMAT_VERSION, LEGACY_PLANNED_PREFIX, OFFSETS, planned_file_name, planned_path};
use super::store::write_atomic;
use crate::codec;
use crate::error::Error;

const PLANNED_MAGIC: &[u8; 8] = b"SCOFFS\r\n";

/// One entry of the write-ahead log: the files batch `batch_id` reads, written before it runs.
///
/// Law: `PlannedBatch::decode(&p.encode()) == Ok(p)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedBatch {
    /// The name of the app that planned it.
    pub app: String,
    /// The batch's id.
    pub batch_id: u64,
    /// The batch's time, in ms.
    pub time_ms: i64,
    /// Per file source: its name and the files the batch reads, in reading order.
    pub files: Vec<(String, Vec<String>)>,
}

impl PlannedBatch {
    /// The file's bytes, checksum included.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(PLANNED_MAGIC);
        codec::put_u32(&mut out, FORMAT_VERSION);
        codec::put_str32(&mut out, &self.app);
        codec::put_u64(&mut out, self.batch_id);
        codec::put_i64(&mut out, self.time_ms);
        put_files(&mut out, &self.files);
        seal(&mut out);
        out
    }

    /// Reads a file's bytes, checking the checksum and the format version.
    pub fn decode(bytes: &[u8]) -> Result<Self, Invalid> {
        let mut r = Reader(checked_body(bytes, PLANNED_MAGIC, "planned batch")?);
        r.version()?;
        let app = r.str("app name")?;
        let batch_id = r.u64("batch id")?;
        let time_ms = r.i64("batch time")?;
        let files = r.files("planned files")?;
        r.end()?;
        Ok(PlannedBatch { app, batch_id, time_ms, files })
    }
}

/// Writes planned batch `p` atomically as `dir/offsets/<N>`; returns the path written.
pub(crate) fn write_planned(dir: &Path, p: &PlannedBatch) -> Result<PathBuf, Error> {
    write_atomic(&dir.join(OFFSETS), &planned_file_name(p.batch_id), &p.encode())
}

/// The planned batch `batch_id` of app `app` in `dir` (or, failing that, in the flat layout), if
/// a run planned it. A file that is not usable is reported on stderr and treated as absent: the
/// batch is then planned afresh.
pub(crate) fn read_planned(dir: &Path, app: &str, batch_id: u64) -> Option<PlannedBatch> {
    let mut path = planned_path(dir, batch_id);
    let mut read = std::fs::read(&path);
    if matches!(&read, Err(e) if e.kind() == io::ErrorKind::NotFound) {
        path = dir.join(format!("{LEGACY_PLANNED_PREFIX}{}", planned_file_name(batch_id)));
        read = std::fs::read(&path);
    }
    let bytes = match read {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => {
            eprintln!("warning: cannot read planned batch `{}`: {e}; planning it afresh", path.display());
            return None;
        }
    };
    let checked = PlannedBatch::decode(&bytes).and_then(|p| {
        if p.app != app {
            Err(Invalid::Mismatch(format!("written by app `{}`, this app is `{app}`", p.app)))
        } else if p.batch_id != batch_id {
            Err(Invalid::Corrupt(format!("it holds batch {}", p.batch_id)))
        } else {
            Ok(p)
        }
    });
    match checked {
        Ok(p) => Some(p),
        Err(why) => {
            eprintln!("warning: planned batch `{}` {why}; planning it afresh", path.display());
            None
        }
    }
}

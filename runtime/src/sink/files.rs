//! The file sinks' files: Structured Streaming's JSON and parquet sinks (data files and the
//! `_spark_metadata` log that commits them, exactly once) and `save_as_text_files`' directories,
//! all written atomically.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::fmt::json_string;
use crate::structured::row::Row;

/// The data file of a JSON file sink for part `part` of batch `batch_id`:
/// `dir/part-<batch_id:05>-<part:04>.json`.
///
/// ```
/// use std::path::Path;
/// let p = streamc_runtime::sink::json_part_path(Path::new("out"), 3, 0);
/// assert_eq!(p, Path::new("out/part-00003-0000.json"));
/// ```
pub fn json_part_path(dir: &Path, batch_id: u64, part: u32) -> PathBuf {
    dir.join(format!("part-{batch_id:05}-{part:04}.json"))
}

/// The data file of a parquet file sink for part `part` of batch `batch_id`:
/// `dir/part-<batch_id:05>-<part:04>.parquet`.
pub fn parquet_part_path(dir: &Path, batch_id: u64, part: u32) -> PathBuf {
    dir.join(format!("part-{batch_id:05}-{part:04}.parquet"))
}

/// The data file of process `process` of a cluster for part `part` of batch `batch_id` of a
/// file sink whose rows the processes write in parts (each the rows of the keys it owns):
/// process 0's is [`json_part_path`]'s (or [`parquet_part_path`]'s), another process's has
/// `-p<process>` after the part (`ext` being `json` or `parquet`).
///
/// ```
/// use std::path::Path;
/// let p = streamc_runtime::sink::process_part_path(Path::new("out"), 3, 0, 2, "json");
/// assert_eq!(p, Path::new("out/part-00003-0000-p2.json"));
/// let p = streamc_runtime::sink::process_part_path(Path::new("out"), 3, 0, 0, "json");
/// assert_eq!(p, streamc_runtime::sink::json_part_path(Path::new("out"), 3, 0));
/// ```
pub fn process_part_path(dir: &Path, batch_id: u64, part: u32, process: usize, ext: &str) -> PathBuf {
    if process == 0 {
        dir.join(format!("part-{batch_id:05}-{part:04}.{ext}"))
    } else {
        dir.join(format!("part-{batch_id:05}-{part:04}-p{process}.{ext}"))
    }
}

/// The metadata log entry of a JSON file sink for batch `batch_id`:
/// `dir/_spark_metadata/<batch_id>`. Its existence means the batch is committed.
pub fn json_metadata_path(dir: &Path, batch_id: u64) -> PathBuf {
    dir.join("_spark_metadata").join(batch_id.to_string())
}

/// Every how many batches a file sink's metadata log is compacted (Spark's
/// `spark.sql.streaming.fileSink.log.compactInterval`, default 10): batch `N` with
/// `(N + 1) % 10 == 0` writes `_spark_metadata/N.compact`, holding the entries of every batch so
/// far, and the plain entries it covers are deleted, so the log does not grow a file per batch.
pub const COMPACT_INTERVAL: u64 = 10;

/// Whether batch `batch_id` is committed in the file sink at `dir`: its own metadata entry,
/// whole (`v1`, then one JSON object a line: an entry cut short is not), or a compacted one at
/// or after it.
pub fn file_sink_committed(dir: &Path, batch_id: u64) -> bool {
    if entry_whole(&json_metadata_path(dir, batch_id)) {
        return true;
    }
    let first_compact = batch_id - batch_id % COMPACT_INTERVAL + COMPACT_INTERVAL - 1;
    let log = dir.join("_spark_metadata");
    // A compaction at `first_compact` or any later one covers the batch.
    std::fs::read_dir(&log).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".compact"))
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|c| c >= first_compact)
        })
    })
}

/// Whether the metadata entry at `path` is there and whole: `v1`, then one JSON object a line.
/// A plain entry is put in place without an fsync and made durable with the batch's checkpoint
/// commit ([`write_metadata_entry`]); a machine that stopped between the two (a power cut, not a
/// killed process: the page cache outlives that) can leave it empty or cut short, and the batch,
/// which its checkpoint does not count as done, then writes it again.
fn entry_whole(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else { return false };
    let mut lines = text.split('\n');
    lines.next() == Some("v1") && lines.all(|l| l.starts_with('{') && l.ends_with('}'))
}

/// Writes batch `batch_id`'s metadata entry for `files`: plain, or compacted with every entry
/// before it (see [`COMPACT_INTERVAL`]), after which the entries it covers are deleted. A plain
/// entry is put in place (whole, through its temporary name) but not fsynced: its path is
/// returned, to be made durable before the batch's checkpoint commit
/// ([`make_durable`]; Spark's own log on a local disk is never fsynced). A compacted one is
/// durable before the entries it covers are deleted.
pub(super) fn write_metadata_entry(dir: &Path, batch_id: u64, files: &[PathBuf]) -> Result<Option<PathBuf>, Error> {
    let entry = json_metadata(files)?;
    if !(batch_id + 1).is_multiple_of(COMPACT_INTERVAL) {
        let path = json_metadata_path(dir, batch_id);
        write_temp(&path, entry.as_bytes(), false)?.put_in_place()?;
        return Ok(Some(path));
    }
    let log = dir.join("_spark_metadata");
    let read = |path: &Path| -> Result<Vec<String>, Error> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(text.lines().skip(1).filter(|l| !l.is_empty()).map(str::to_owned).collect()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(Error::Io { path: path.to_owned(), source }),
        }
    };
    let mut lines = Vec::new();
    if let Some(prev) = batch_id.checked_sub(COMPACT_INTERVAL) {
        lines.extend(read(&log.join(format!("{prev}.compact")))?);
    }
    for b in (batch_id + 1 - COMPACT_INTERVAL)..batch_id {
        lines.extend(read(&json_metadata_path(dir, b))?);
    }
    lines.extend(entry.lines().skip(1).map(str::to_owned));
    let mut text = String::from("v1");
    for l in &lines {
        text.push('\n');
        text.push_str(l);
    }
    write_file_atomic(&log.join(format!("{batch_id}.compact")), text.as_bytes())?;
    // Covered now: a crash before these deletions leaves entries that say the same again.
    if let Some(prev) = batch_id.checked_sub(COMPACT_INTERVAL) {
        let _ = std::fs::remove_file(log.join(format!("{prev}.compact")));
    }
    for b in (batch_id + 1 - COMPACT_INTERVAL)..batch_id {
        let _ = std::fs::remove_file(json_metadata_path(dir, b));
    }
    Ok(None)
}

/// Makes the files at `paths` durable (fsync), and their directories (the names they were put
/// in place under). A file no longer there is skipped: an entry a later batch's compaction
/// took in (durable before it deleted the entry) while the commit that makes it durable was
/// held (a cluster's commits are a batch behind).
pub(crate) fn make_durable(paths: &[PathBuf]) -> Result<(), Error> {
    let mut dirs: Vec<&Path> = Vec::new();
    for path in paths {
        match File::open(path) {
            Ok(f) => f.sync_all().map_err(out_err(path))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(out_err(path)(e)),
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dirs.contains(&dir)
        {
            dirs.push(dir);
        }
    }
    for dir in dirs {
        File::open(dir).and_then(|f| f.sync_all()).map_err(out_err(dir))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` through a hidden temporary file in the same directory (fsynced,
/// then renamed), so readers see the whole file or none; an existing file is replaced.
pub(super) fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_temp(path, bytes, false)?.publish()
}

/// A data file written under its temporary name, not yet durable nor in place: its write-back
/// to the disk started ([`write_file_pending`]) while the batch goes on (formatting other
/// outputs, encoding the state), and [`publish`](Self::publish) waits for it and renames the
/// file into place. The sink's metadata entry is written after every pending file of the batch
/// is published, so a reader (and a restart) sees the same files as before, in place and
/// durable, or none; what this overlaps is the disk's work with the batch's.
#[derive(Debug)]
pub(super) struct PendingFile {
    file: File,
    tmp: PathBuf,
    path: PathBuf,
}

/// Writes `bytes` to `path`'s temporary name (as [`write_file_atomic`]) and starts writing it
/// back to the disk without waiting (Linux: `sync_file_range(SYNC_FILE_RANGE_WRITE)`; elsewhere
/// the wait is all in [`PendingFile::publish`]).
pub(super) fn write_file_pending(path: &Path, bytes: &[u8]) -> Result<PendingFile, Error> {
    write_temp(path, bytes, true)
}

/// Writes `bytes` to `path`'s hidden temporary name in the same directory (created if needed),
/// starting its write-back when `write_back` (not when it is published at once).
fn write_temp(path: &Path, bytes: &[u8], write_back: bool) -> Result<PendingFile, Error> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(out_err(&parent))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = parent.join(temp_name(&name, TMP));
    let written = File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        if write_back {
            crate::write_back::start(&f);
        }
        Ok(f)
    });
    match written {
        Ok(file) => Ok(PendingFile { file, tmp, path: path.to_owned() }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(out_err(path)(e))
        }
    }
}

impl PendingFile {
    /// Waits until the file is durable (fsync) and renames it into place.
    pub(super) fn publish(self) -> Result<(), Error> {
        if let Err(e) = self.file.sync_all() {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(out_err(&self.path)(e));
        }
        self.put_in_place()
    }

    /// Renames the file into place, durable or not.
    fn put_in_place(self) -> Result<(), Error> {
        drop(self.file);
        std::fs::rename(&self.tmp, &self.path).map_err(out_err(&self.path))
    }
}

/// Spark's metadata log entry for one batch of a file sink: `v1`, then one JSON line per data
/// file (`SinkFileStatus`).
fn json_metadata(files: &[PathBuf]) -> Result<String, Error> {
    let mut s = String::from("v1");
    for f in files {
        let meta = std::fs::metadata(f).map_err(|source| Error::Output { path: f.clone(), source })?;
        let abs = std::fs::canonicalize(f).unwrap_or_else(|_| f.clone());
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis());
        s.push_str("\n{\"path\":");
        json_string(&format!("file://{}", abs.display()), &mut s);
        let _ = write!(
            s,
            ",\"size\":{},\"isDir\":false,\"modificationTime\":{modified},\"blockReplication\":1,\"blockSize\":33554432,\"action\":\"add\"}}",
            meta.len()
        );
    }
    Ok(s)
}

/// The directory `save_as_text_files` writes for a batch: `{prefix}-{time_ms}`, plus
/// `.{suffix}` if the suffix is not empty (Spark's `rddToFileName`).
pub fn text_files_dir(prefix: &str, suffix: &str, time_ms: i64) -> PathBuf {
    if suffix.is_empty() {
        PathBuf::from(format!("{prefix}-{time_ms}"))
    } else {
        PathBuf::from(format!("{prefix}-{time_ms}.{suffix}"))
    }
}

/// Writes `text` as `dir/part-00000` plus an empty `dir/_SUCCESS`, as Spark's `saveAsTextFile`
/// of a single partition does.
///
/// Everything is written into a hidden temporary directory beside `dir` and renamed into place,
/// so a reader sees the whole output or nothing (and a file-stream source reading the parent
/// directory skips the temporary one, whose name starts with `.`). An existing `dir` is replaced,
/// as Spark Streaming does (it disables Hadoop's output-exists check for streaming jobs so that a
/// re-run batch can be written again).
pub fn write_text_files(dir: &Path, text: &str) -> Result<(), Error> {
    publish_text_dir(dir, |tmp| {
        let part = tmp.join("part-00000");
        let mut f = File::create(&part).map_err(out_err(&dir.join("part-00000")))?;
        f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(out_err(&dir.join("part-00000")))
    })
}

/// The error of writing `path`.
fn out_err(path: &Path) -> impl FnOnce(io::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Output { path, source }
}

/// `dir`'s name and its parent directory (`.` for a bare name).
fn name_and_parent(dir: &Path) -> Result<(String, PathBuf), Error> {
    let name = dir
        .file_name()
        .ok_or_else(|| Error::Output {
            path: dir.to_owned(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a directory name"),
        })?
        .to_string_lossy()
        .into_owned();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    Ok((name, parent))
}

/// Process `process`'s part of `save_as_text_files`' directory `dir` on a cluster: a hidden
/// file beside `dir` (`.<name>.part-<process:05>.streamc-part`), which process 0 moves into the
/// directory when it commits the batch ([`commit_text_parts`]).
fn text_part_path(dir: &Path, process: usize) -> Result<PathBuf, Error> {
    let (name, parent) = name_and_parent(dir)?;
    Ok(parent.join(format!(".{name}.part-{process:05}.streamc-part")))
}

/// Writes `text`, process `process`'s records of a batch, as its part of directory `dir`
/// (fsynced: on disk when this returns). See [`commit_text_parts`].
pub(super) fn write_text_part(dir: &Path, process: usize, text: &str) -> Result<(), Error> {
    let path = text_part_path(dir, process)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(out_err(parent))?;
    }
    let mut f = File::create(&path).map_err(out_err(&path))?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(out_err(&path))
}

/// Publishes directory `dir` from the parts `processes` processes wrote
/// ([`write_text_part`]): `part-00000` … one per process, in process order, as Spark's
/// `saveAsTextFile` writes one per partition, then `_SUCCESS`, all at once as
/// [`write_text_files`] does.
pub(super) fn commit_text_parts(dir: &Path, processes: usize) -> Result<(), Error> {
    publish_text_dir(dir, |tmp| {
        for k in 0..processes {
            let from = text_part_path(dir, k)?;
            std::fs::rename(&from, tmp.join(format!("part-{k:05}"))).map_err(out_err(&from))?;
        }
        Ok(())
    })
}

/// Fills a hidden temporary directory beside `dir` (`fill`), adds `_SUCCESS` and renames it to
/// `dir`, replacing an older `dir`.
fn publish_text_dir(dir: &Path, fill: impl FnOnce(&Path) -> Result<(), Error>) -> Result<(), Error> {
    let (name, parent) = name_and_parent(dir)?;
    std::fs::create_dir_all(&parent).map_err(out_err(&parent))?;
    let tmp = parent.join(temp_name(&name, TMP));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(out_err(&tmp))?;
    }
    std::fs::create_dir(&tmp).map_err(out_err(&tmp))?;
    fill(&tmp)?;
    File::create(tmp.join("_SUCCESS")).map_err(out_err(&dir.join("_SUCCESS")))?;
    if dir.exists() {
        // Move the old output aside first: renaming onto a non-empty directory fails.
        let old = parent.join(temp_name(&name, OLD));
        std::fs::rename(dir, &old).map_err(out_err(dir))?;
        std::fs::rename(&tmp, dir).map_err(out_err(dir))?;
        std::fs::remove_dir_all(&old).map_err(out_err(&old))?;
    } else {
        std::fs::rename(&tmp, dir).map_err(out_err(dir))?;
    }
    Ok(())
}

/// One batch's rows as a parquet file (`path` names it in errors).
#[cfg(feature = "parquet")]
pub(super) fn parquet_file<R: Row>(
    path: &Path,
    names: &[String],
    types: &[String],
    rows: &[R],
) -> Result<Vec<u8>, Error> {
    crate::structured::parquet::parquet_bytes(names, types, rows)
        .map_err(|e| Error::Output { path: path.to_owned(), source: io::Error::other(e) })
}

#[cfg(not(feature = "parquet"))]
pub(super) fn parquet_file<R: Row>(path: &Path, _: &[String], _: &[String], _: &[R]) -> Result<Vec<u8>, Error> {
    Err(Error::Config(format!(
        "cannot write `{}`: the parquet sink needs streamc-runtime's `parquet` feature (`streamc run` turns it on for specs with a parquet sink)",
        path.display()
    )))
}

/// Removes what an earlier run of process `process` left half written in file sink `dir`: the
/// hidden temporary names (`.<name>.streamc-tmp-<pid>`, another process id than this one's) of
/// the data files this process writes ([`process_part_path`]) and, on process 0, of the metadata
/// log's entries. A run stopped between writing a batch's data file and publishing it (a kill, a
/// second SIGTERM) leaves one; the batch is run again after the restart and writes its own.
/// Other processes' names are left to them: they may be writing now. Returns how many files
/// were removed. Best effort: a directory that cannot be listed is left to the sink's own
/// writes to report (naming it), a file that cannot be removed is left with a warning.
pub(super) fn remove_stale_temporaries(dir: &Path, process: usize) -> usize {
    let mut removed = sweep_temporaries(dir, |name| part_file_of(name) == Some(process));
    if process == 0 {
        removed += sweep_temporaries(&dir.join("_spark_metadata"), |name| {
            all_digits(name.strip_suffix(".compact").unwrap_or(name))
        });
    }
    removed
}

/// Removes the files of `dir` that are an earlier run's temporary names
/// ([`earlier_temp`]) of a name `is_ours`; how many.
fn sweep_temporaries(dir: &Path, is_ours: impl Fn(&str) -> bool) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for e in entries.flatten() {
        if e.file_name().to_str().and_then(|n| earlier_temp(n, TMP)).is_some_and(&is_ours) {
            removed += usize::from(remove_stale(&e.path(), false));
        }
    }
    removed
}

/// The kinds of hidden names this module writes under: a file or directory being written, and
/// a batch directory being replaced.
const TMP: &str = "tmp";
const OLD: &str = "old";

/// The hidden name of `name` of kind `kind` for this process: `.<name>.streamc-<kind>-<pid>`.
fn temp_name(name: &str, kind: &str) -> String {
    format!(".{name}.streamc-{kind}-{}", std::process::id())
}

/// The name behind `file_name` when it is a [`temp_name`] of kind `kind` that another process
/// id than this one's made (an earlier run's); `None` for any other name.
fn earlier_temp<'a>(file_name: &'a str, kind: &str) -> Option<&'a str> {
    let (name, pid) = file_name.strip_prefix('.')?.rsplit_once(&format!(".streamc-{kind}-"))?;
    (all_digits(pid) && pid != std::process::id().to_string()).then_some(name)
}

/// Whether `s` is one or more ASCII digits.
fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Removes the stale temporary file (or directory) at `path`; whether it did (else a warning).
fn remove_stale(path: &Path, is_dir: bool) -> bool {
    let gone = if is_dir { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
    match gone {
        Ok(()) => true,
        Err(e) => {
            eprintln!("warning: cannot remove `{}`, left by an earlier run: {e}", path.display());
            false
        }
    }
}

/// The process whose data file `name` is ([`process_part_path`]: `part-<batch>-<part>.<ext>`
/// for process 0, `part-<batch>-<part>-p<process>.<ext>` for another), or `None` for any other
/// name.
fn part_file_of(name: &str) -> Option<usize> {
    let stem = name.strip_suffix(".json").or_else(|| name.strip_suffix(".parquet"))?;
    let mut fields = stem.strip_prefix("part-")?.split('-');
    let (batch, part) = (fields.next()?, fields.next()?);
    if !all_digits(batch) || !all_digits(part) {
        return None;
    }
    match fields.next() {
        None => Some(0),
        Some(p) => {
            let k = p.strip_prefix('p').filter(|k| all_digits(k))?.parse().ok()?;
            (fields.next().is_none() && k > 0).then_some(k)
        }
    }
}

/// Removes what an earlier run of process `process` left half written of `save_as_text_files`
/// with `prefix` and `suffix` ([`text_files_dir`]'s names): beside the batch directories, on
/// process 0 the hidden directories a batch was being filled or replaced in
/// (`.<name>.streamc-tmp-<pid>`, `.<name>.streamc-old-<pid>`, another process id than this
/// one's), and this process's hidden part files (`.<name>.part-<process:05>.streamc-part`,
/// [`write_text_part`]). Returns how many were removed; best effort, as
/// [`remove_stale_temporaries`].
pub(super) fn remove_stale_text_temporaries(prefix: &str, suffix: &str, process: usize) -> usize {
    // A batch directory's name is `<base>-<time>`, then `.<suffix>` when there is one.
    let tail = if suffix.is_empty() { String::new() } else { format!(".{suffix}") };
    let Ok((probe_name, parent)) = name_and_parent(&text_files_dir(prefix, suffix, 0)) else { return 0 };
    let Some(base) = probe_name.strip_suffix(&format!("-0{tail}")) else { return 0 };
    let is_batch_dir = |name: &str| {
        name.strip_prefix(base)
            .and_then(|n| n.strip_prefix('-'))
            .and_then(|n| n.strip_suffix(tail.as_str()))
            .is_some_and(|t| all_digits(t.strip_prefix('-').unwrap_or(t)))
    };
    let part = format!(".part-{process:05}.streamc-part");
    let Ok(entries) = std::fs::read_dir(&parent) else { return 0 };
    let mut removed = 0;
    for e in entries.flatten() {
        let file_name = e.file_name();
        let Some(file_name) = file_name.to_str() else { continue };
        let stale_dir =
            process == 0 && [TMP, OLD].iter().any(|kind| earlier_temp(file_name, kind).is_some_and(is_batch_dir));
        let stale_part =
            file_name.strip_prefix('.').and_then(|n| n.strip_suffix(part.as_str())).is_some_and(is_batch_dir);
        if !(stale_dir || stale_part) {
            continue;
        }
        removed += usize::from(remove_stale(&e.path(), stale_dir));
    }
    removed
}

//! Sinks: what an output operator does with a batch's records (`print`, `save_as_text_files`,
//! and Structured Streaming's `console` and exactly-once JSON file sink), the machine-readable
//! jsonl copy of every output, the state snapshots a batch hands over for its checkpoint, and
//! the per-batch progress report (Spark's `StreamingQueryProgress`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::checkpoint::{NewParts, PartRef};
use crate::error::Error;
use crate::fmt::{Record, SparkFmt, json_string};
use crate::ids::OutputId;
use crate::persist::{Checkpointed, Parts};
use crate::structured::row::{Row, console_table};

/// An output as declared by the app.
#[derive(Clone, Debug)]
pub(crate) struct OutputSpec {
    pub(crate) name: String,
    pub(crate) kind: OutputKind,
}

#[derive(Clone, Debug)]
pub(crate) enum OutputKind {
    /// Spark's `DStream.print(num)`.
    Print { num: usize },
    /// Spark's `DStream.saveAsTextFiles(prefix, suffix)`.
    SaveAsTextFiles { prefix: String, suffix: String },
    /// Structured Streaming's console sink (`format("console")`).
    Console { columns: Vec<String>, num_rows: usize, truncate: bool },
    /// Structured Streaming's file sink in JSON format, exactly once per batch.
    JsonFiles { columns: Vec<String>, dir: PathBuf },
    /// Structured Streaming's file sink in parquet format (feature `parquet`), exactly once per
    /// batch as [`JsonFiles`](Self::JsonFiles); `types` are the columns' SQL types.
    ParquetFiles { columns: Vec<String>, types: Vec<String>, dir: PathBuf },
    /// Structured Streaming's memory sink: rows kept in the process's memory table of the
    /// output's name ([`crate::structured::memory`]); `complete` replaces them every batch.
    Memory { columns: Vec<String>, complete: bool },
}

impl OutputKind {
    /// The sink's `description` in a progress report, in the shape of Spark's.
    pub(crate) fn progress_description(&self) -> String {
        match self {
            OutputKind::Print { num } => format!("DStream.print({num})"),
            OutputKind::SaveAsTextFiles { prefix, suffix } => format!("DStream.saveAsTextFiles({prefix}, {suffix})"),
            OutputKind::Console { num_rows, truncate, .. } => {
                format!("ConsoleSink[numRows: {num_rows}, truncate: {truncate}]")
            }
            OutputKind::JsonFiles { dir, .. } | OutputKind::ParquetFiles { dir, .. } => {
                format!("FileSink[{}]", dir.display())
            }
            OutputKind::Memory { .. } => "MemorySink".to_owned(),
        }
    }
}

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

/// Whether batch `batch_id` is committed in the file sink at `dir`: its own metadata entry, or
/// a compacted one at or after it.
pub fn file_sink_committed(dir: &Path, batch_id: u64) -> bool {
    if json_metadata_path(dir, batch_id).exists() {
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

/// Writes batch `batch_id`'s metadata entry for `files`: plain, or compacted with every entry
/// before it (see [`COMPACT_INTERVAL`]), after which the entries it covers are deleted.
fn write_metadata_entry(dir: &Path, batch_id: u64, files: &[PathBuf]) -> Result<(), Error> {
    let entry = json_metadata(files)?;
    if !(batch_id + 1).is_multiple_of(COMPACT_INTERVAL) {
        return write_file_atomic(&json_metadata_path(dir, batch_id), entry.as_bytes());
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
    Ok(())
}

/// Writes `bytes` to `path` through a hidden temporary file in the same directory (fsynced,
/// then renamed), so readers see the whole file or none; an existing file is replaced.
fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let out_err = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Output { path, source }
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(out_err(&parent))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = parent.join(format!(".{name}.streamc-tmp-{}", std::process::id()));
    let written = File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(out_err(path)(e));
    }
    std::fs::rename(&tmp, path).map_err(out_err(path))
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

/// Where `print` writes: standard output, or a writer given by a test.
pub(crate) enum PrintTarget {
    Stdout,
    Writer(Box<dyn Write + Send>),
}

/// The dashes of Spark's `print` header.
const DASHES: &str = "-------------------------------------------";

/// Appends Spark's `DStream.print` block for one batch: a header with the batch time, the first
/// `num` records (one per line, as Scala's `toString`), `...` if there are more, then an empty
/// line. Empty batches get the header and the empty line.
///
/// ```
/// let mut s = String::new();
/// streamc_runtime::sink::format_print(2000, 2, &[("a", 1), ("b", 2), ("c", 3)], &mut s);
/// assert_eq!(s, "-------------------------------------------\nTime: 2000 ms\n\
///                -------------------------------------------\n(a,1)\n(b,2)\n...\n\n");
/// ```
pub fn format_print<T: SparkFmt>(time_ms: i64, num: usize, records: &[T], out: &mut String) {
    use std::fmt::Write as _;
    let _ = write!(out, "{DASHES}\nTime: {time_ms} ms\n{DASHES}\n");
    for r in records.iter().take(num) {
        r.spark_fmt(out);
        out.push('\n');
    }
    if records.len() > num {
        out.push_str("...\n");
    }
    out.push('\n');
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
    let out_err = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Output { path, source }
    };
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
    std::fs::create_dir_all(&parent).map_err(out_err(&parent))?;
    let tmp = parent.join(format!(".{name}.streamc-tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(out_err(&tmp))?;
    }
    std::fs::create_dir(&tmp).map_err(out_err(&tmp))?;
    let part = tmp.join("part-00000");
    let mut f = File::create(&part).map_err(out_err(&dir.join("part-00000")))?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(out_err(&dir.join("part-00000")))?;
    File::create(tmp.join("_SUCCESS")).map_err(out_err(&dir.join("_SUCCESS")))?;
    if dir.exists() {
        // Move the old output aside first: renaming onto a non-empty directory fails.
        let old = parent.join(format!(".{name}.streamc-old-{}", std::process::id()));
        std::fs::rename(dir, &old).map_err(out_err(dir))?;
        std::fs::rename(&tmp, dir).map_err(out_err(dir))?;
        std::fs::remove_dir_all(&old).map_err(out_err(&old))?;
    } else {
        std::fs::rename(&tmp, dir).map_err(out_err(dir))?;
    }
    Ok(())
}

/// What a batch reported for its progress line, besides what the runtime measures.
#[derive(Clone, Debug, Default)]
pub(crate) struct Reports {
    /// The watermark after the batch, in µs since the epoch.
    pub(crate) watermark_us: Option<i64>,
    /// Rows in state, rows updated, rows dropped by the watermark.
    pub(crate) state: Vec<(u64, u64, u64)>,
    /// Malformed records dropped.
    pub(crate) malformed: u64,
    /// Whether the batch asked for a no-data batch after it.
    pub(crate) no_data_requested: bool,
}

/// What a JSON file sink did in the current batch.
#[derive(Clone, Debug, Default)]
struct JsonBatch {
    /// The batch's metadata log entry already existed: a re-run of a committed batch.
    committed: bool,
    /// The data files written in this batch, in order.
    files: Vec<PathBuf>,
}

/// Converts a count reported by generated code (any integer type) to `u64`; negative counts are
/// a bug in the caller and read as 0.
fn count<N: TryInto<u64>>(n: N) -> u64 {
    n.try_into().unwrap_or(0)
}

/// What a batch handler hands its results to; each [`emit`](Self::emit) performs one output
/// operator for the current batch, and [`save_state`](Self::save_state) adds a state to the
/// batch's checkpoint.
pub struct BatchOutput {
    outputs: Vec<OutputSpec>,
    time_ms: i64,
    batch_id: u64,
    reports: Reports,
    /// Per output, for JSON file sinks: what the current batch wrote.
    json: Vec<JsonBatch>,
    print: PrintTarget,
    jsonl: Option<(PathBuf, BufWriter<File>)>,
    /// Reused across emits so that formatting allocates only while batches grow.
    buf: String,
    emitted: u64,
    /// Streams already written to the jsonl file in this batch.
    jsonl_streams: Vec<String>,
    /// Whether the app has a checkpoint directory; without one, `save_state` does nothing.
    checkpointing: bool,
    /// The snapshots saved in this batch, by name, in the order first saved.
    states: Vec<(String, Vec<u8>)>,
    /// Per state saved in this batch that added parts: the parts its snapshot uses.
    parts: Vec<(String, Vec<PartRef>)>,
    /// The part file of this batch's commit: the parts no earlier commit wrote.
    new_parts: Option<NewParts>,
    /// Per state: the parts the newest commit uses, which are on disk, by (id, stamp), with the
    /// time of their part file ([`parts_committed`](Self::parts_committed)).
    on_disk: HashMap<String, HashMap<(i64, u64), i64>>,
    /// The part files the newest commit uses: time and checksum.
    on_disk_files: HashMap<i64, u64>,
}

/// The snapshots of a batch ([`BatchOutput::take_states`]).
pub(crate) struct SavedStates {
    /// Per state: its name and its bytes.
    pub(crate) states: Vec<(String, Vec<u8>)>,
    /// Per state with parts: its name and the parts its snapshot uses.
    pub(crate) parts: Vec<(String, Vec<PartRef>)>,
    /// The part files those parts are in: time and checksum, by time.
    pub(crate) part_files: Vec<(i64, u64)>,
    /// The bytes of the part file to write before the commit, if there are new parts.
    pub(crate) new_file: Option<Vec<u8>>,
}

impl std::fmt::Debug for BatchOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchOutput").field("time_ms", &self.time_ms).finish_non_exhaustive()
    }
}

impl BatchOutput {
    pub(crate) fn new(outputs: Vec<OutputSpec>, print: PrintTarget, jsonl: Option<&Path>) -> Result<Self, Error> {
        let jsonl = match jsonl {
            None => None,
            Some(path) => {
                // Truncate: the file is the machine-readable record of this run.
                let f = File::create(path).map_err(|source| Error::Output { path: path.to_owned(), source })?;
                Some((path.to_owned(), BufWriter::new(f)))
            }
        };
        Ok(BatchOutput {
            json: vec![JsonBatch::default(); outputs.len()],
            outputs,
            time_ms: 0,
            batch_id: 0,
            reports: Reports::default(),
            print,
            jsonl,
            buf: String::new(),
            emitted: 0,
            jsonl_streams: Vec::new(),
            checkpointing: false,
            states: Vec::new(),
            parts: Vec::new(),
            new_parts: None,
            on_disk: HashMap::new(),
            on_disk_files: HashMap::new(),
        })
    }

    pub(crate) fn set_checkpointing(&mut self, on: bool) {
        self.checkpointing = on;
    }

    /// The time of the batch being output, in milliseconds since the epoch (or since the start
    /// of a replay).
    pub fn time_ms(&self) -> i64 {
        self.time_ms
    }

    /// The id of the batch being output (0, 1, 2, …, continued after a restart).
    pub fn batch_id(&self) -> u64 {
        self.batch_id
    }

    pub(crate) fn begin_batch(&mut self, time_ms: i64, batch_id: u64) {
        self.time_ms = time_ms;
        self.batch_id = batch_id;
        self.emitted = 0;
        self.jsonl_streams.clear();
        self.states.clear();
        self.reports = Reports::default();
        for j in &mut self.json {
            j.committed = false;
            j.files.clear();
        }
    }

    /// Reports the event-time watermark after this batch, in µs since the epoch, for the
    /// progress line (`eventTime.watermark`).
    pub fn report_watermark(&mut self, micros_since_epoch: i64) {
        self.reports.watermark_us = Some(micros_since_epoch);
    }

    /// Reports the state of the batch's stateful operator for the progress line
    /// (`stateOperators`): rows in state after the batch, rows updated, and input rows dropped
    /// as later than the watermark. Counts of any integer type; a negative one reads as 0.
    pub fn report_state<A: TryInto<u64>, B: TryInto<u64>, C: TryInto<u64>>(
        &mut self,
        rows_total: A,
        rows_updated: B,
        dropped_by_watermark: C,
    ) {
        // One entry per stateful operator, in the order they report (Spark lists each).
        self.reports.state.push((count(rows_total), count(rows_updated), count(dropped_by_watermark)));
    }

    /// Reports `n` malformed records dropped in this batch (Spark's `DROPMALFORMED` mode); they
    /// appear in the progress line as `numMalformedRowsDropped` (a streamc addition). Adds up
    /// over calls within a batch.
    pub fn report_malformed<N: TryInto<u64>>(&mut self, n: N) {
        self.reports.malformed += count(n);
    }

    /// Asks for a batch with no input after this one, if the trigger runs one: Spark runs such
    /// a *no-data batch* when the watermark has moved so that a stateful operator has rows to
    /// emit or evict. See [`Trigger`](crate::Trigger).
    pub fn request_no_data_batch(&mut self) {
        self.reports.no_data_requested = true;
    }

    pub(crate) fn reports(&self) -> &Reports {
        &self.reports
    }

    /// The description of the sinks for the progress line.
    pub(crate) fn sink_description(&self) -> String {
        let d: Vec<String> = self.outputs.iter().map(|o| o.kind.progress_description()).collect();
        d.join(", ")
    }

    /// Adds a snapshot of `state` ([`Checkpointed::save_with_parts`]) under `name` to this
    /// batch's checkpoint; saving a name twice in a batch keeps the last snapshot.
    ///
    /// After the handler returns `Ok` and the batch's outputs are written, the runtime writes one
    /// checkpoint file holding every state saved in the batch, after the files of the parts
    /// that are not on disk yet (see [`crate::checkpoint`]). Generated code calls this on
    /// [`BatchInput::is_checkpoint_batch`] batches; without a checkpoint directory it does
    /// nothing.
    ///
    /// [`BatchInput::is_checkpoint_batch`]: crate::BatchInput::is_checkpoint_batch
    pub fn save_state<S: Checkpointed + ?Sized>(&mut self, name: &str, state: &S) {
        if !self.checkpointing {
            return;
        }
        let mut bytes = Vec::new();
        let new = self.new_parts.get_or_insert_with(|| NewParts::new(self.time_ms));
        let mut parts = Parts::new(name, self.on_disk.get(name), new);
        state.save_with_parts(&mut bytes, &mut parts);
        let refs = parts.finish();
        match self.states.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = bytes,
            None => self.states.push((name.to_owned(), bytes)),
        }
        self.parts.retain(|(n, _)| n != name);
        if !refs.is_empty() {
            self.parts.push((name.to_owned(), refs));
        }
    }

    /// The snapshots saved in this batch, taken out (empty if none was saved).
    pub(crate) fn take_states(&mut self) -> SavedStates {
        let states = std::mem::take(&mut self.states);
        let parts = std::mem::take(&mut self.parts);
        let new = self.new_parts.take().and_then(|n| Some((n.time, n.finish()?)));
        let mut part_files: Vec<(i64, u64)> = Vec::new();
        for r in parts.iter().flat_map(|(_, refs)| refs) {
            if let Err(i) = part_files.binary_search_by_key(&r.file, |&(t, _)| t) {
                let sum = match &new {
                    Some((t, (_, sum))) if *t == r.file => *sum,
                    _ => self.on_disk_files[&r.file],
                };
                part_files.insert(i, (r.file, sum));
            }
        }
        // A state saved twice in the batch may have left parts no snapshot uses: the file is
        // written only if one does.
        let new_file = new.filter(|(t, _)| part_files.iter().any(|(f, _)| f == t)).map(|(_, (bytes, _))| bytes);
        SavedStates { states, parts, part_files, new_file }
    }

    /// Records that the newest commit (written, or resumed from) uses `parts`, in `part_files`:
    /// these are on disk, and later snapshots refer to them rather than writing them again.
    pub(crate) fn parts_committed(&mut self, parts: &[(String, Vec<PartRef>)], part_files: &[(i64, u64)]) {
        self.on_disk = parts
            .iter()
            .map(|(name, refs)| (name.clone(), refs.iter().map(|r| ((r.id, r.stamp), r.file)).collect()))
            .collect();
        self.on_disk_files = part_files.iter().copied().collect();
    }

    /// Records emitted in the current batch, over all outputs.
    pub(crate) fn emitted(&self) -> u64 {
        self.emitted
    }

    /// Commits the batch in every JSON file sink (writes its metadata log entry, unless the
    /// entry exists already), then flushes the jsonl file, so that after a batch its lines are
    /// complete on disk.
    pub(crate) fn end_batch(&mut self) -> Result<(), Error> {
        for (spec, j) in self.outputs.iter().zip(&self.json) {
            let (OutputKind::JsonFiles { dir, .. } | OutputKind::ParquetFiles { dir, .. }) = &spec.kind else {
                continue;
            };
            if j.committed || file_sink_committed(dir, self.batch_id) {
                continue;
            }
            write_metadata_entry(dir, self.batch_id, &j.files)?;
        }
        if let Some((path, w)) = &mut self.jsonl {
            w.flush().map_err(|source| Error::Output { path: path.clone(), source })?;
        }
        Ok(())
    }

    /// Performs output operator `out` on this batch's `records`.
    ///
    /// Fails with [`Error::Output`] naming the path that could not be written (or
    /// [`Error::Stdout`]); the app then stops with that error.
    pub fn emit<T: Record>(&mut self, out: OutputId, records: &[T]) -> Result<(), Error> {
        let spec = &self.outputs[out.index()];
        self.emitted += records.len() as u64;
        self.buf.clear();
        match &spec.kind {
            OutputKind::Print { num } => {
                format_print(self.time_ms, *num, records, &mut self.buf);
                match &mut self.print {
                    PrintTarget::Stdout => {
                        let mut o = io::stdout().lock();
                        o.write_all(self.buf.as_bytes()).and_then(|()| o.flush()).map_err(Error::Stdout)?;
                    }
                    PrintTarget::Writer(w) => {
                        w.write_all(self.buf.as_bytes()).and_then(|()| w.flush()).map_err(Error::Stdout)?;
                    }
                }
            }
            OutputKind::SaveAsTextFiles { prefix, suffix } => {
                for r in records {
                    r.spark_fmt(&mut self.buf);
                    self.buf.push('\n');
                }
                write_text_files(&text_files_dir(prefix, suffix, self.time_ms), &self.buf)?;
            }
            OutputKind::Console { .. }
            | OutputKind::JsonFiles { .. }
            | OutputKind::ParquetFiles { .. }
            | OutputKind::Memory { .. } => {
                return Err(Error::Config(format!(
                    "output `{}` is a Structured Streaming sink, emitted with `emit`; this is a bug in streamc\n\
                     help: generated code emits rows to it with `emit_rows`",
                    spec.name
                )));
            }
        }
        // One jsonl line per stream and batch: a stream with several outputs (print and save)
        // is written once, so a consumer of the contract never counts a record twice.
        if let Some((path, w)) = &mut self.jsonl
            && !self.jsonl_streams.contains(&spec.name)
        {
            self.jsonl_streams.push(spec.name.clone());
            self.buf.clear();
            self.buf.push_str("{\"output\":");
            json_string(&spec.name, &mut self.buf);
            self.buf.push_str(",\"batch_time_ms\":");
            self.buf.push_str(&self.time_ms.to_string());
            self.buf.push_str(",\"records\":[");
            for (i, r) in records.iter().enumerate() {
                if i > 0 {
                    self.buf.push(',');
                }
                r.to_json(&mut self.buf);
            }
            self.buf.push_str("]}\n");
            w.write_all(self.buf.as_bytes()).map_err(|source| Error::Output { path: path.clone(), source })?;
        }
        Ok(())
    }
}

impl BatchOutput {
    /// Performs Structured Streaming output `out` on this batch's `rows`:
    ///
    /// - `console`: prints Spark's console sink block for the batch
    ///   ([`console_table`]) to standard output (or the print writer);
    /// - `json_files`: writes the rows as JSON lines to `dir/part-<N:05>-0000.json` (through a
    ///   temporary file and a rename; a second emit in the same batch writes part `0001`, and so
    ///   on; an empty emit writes no file). The batch is committed after the handler returns, by
    ///   writing the metadata log entry `dir/_spark_metadata/<N>` listing the batch's files. If
    ///   that entry already exists (a batch re-run after a crash), nothing is written: each
    ///   batch's rows are in the directory exactly once.
    ///
    /// With [`App::with_jsonl`](crate::App::with_jsonl), also writes the line
    /// `{"output":NAME,"batch_id":N,"batch_time_ms":T,"records":[{"col":value,...},...]}`.
    pub fn emit_rows<R: Row>(&mut self, out: OutputId, rows: &[R]) -> Result<(), Error> {
        let spec = &self.outputs[out.index()];
        let columns: Vec<&str> = match &spec.kind {
            OutputKind::Console { columns, .. }
            | OutputKind::JsonFiles { columns, .. }
            | OutputKind::ParquetFiles { columns, .. }
            | OutputKind::Memory { columns, .. } => columns.iter().map(String::as_str).collect(),
            OutputKind::Print { .. } | OutputKind::SaveAsTextFiles { .. } => {
                return Err(Error::Config(format!(
                    "output `{}` is a DStream output, emitted with `emit_rows`; this is a bug in streamc",
                    spec.name
                )));
            }
        };
        if columns.len() != R::COLUMNS {
            return Err(Error::Config(format!(
                "output `{}` has {} columns but its rows have {}; this is a bug in streamc",
                spec.name,
                columns.len(),
                R::COLUMNS
            )));
        }
        self.emitted += rows.len() as u64;
        self.buf.clear();
        match &spec.kind {
            OutputKind::Console { num_rows, truncate, .. } => {
                console_table(self.batch_id, &columns, rows, *num_rows, *truncate, &mut self.buf);
                match &mut self.print {
                    PrintTarget::Stdout => {
                        let mut o = io::stdout().lock();
                        o.write_all(self.buf.as_bytes()).and_then(|()| o.flush()).map_err(Error::Stdout)?;
                    }
                    PrintTarget::Writer(w) => {
                        w.write_all(self.buf.as_bytes()).and_then(|()| w.flush()).map_err(Error::Stdout)?;
                    }
                }
            }
            OutputKind::JsonFiles { dir, .. } => {
                let j = &mut self.json[out.index()];
                if !j.committed && file_sink_committed(dir, self.batch_id) {
                    j.committed = true;
                }
                if !j.committed && !rows.is_empty() {
                    for r in rows {
                        r.json_object(&columns, &mut self.buf);
                        self.buf.push('\n');
                    }
                    let part = u32::try_from(j.files.len()).expect("fewer than 2^32 emits in a batch");
                    let path = json_part_path(dir, self.batch_id, part);
                    write_file_atomic(&path, self.buf.as_bytes())?;
                    j.files.push(path);
                }
            }
            OutputKind::ParquetFiles { dir, types, columns: names } => {
                let j = &mut self.json[out.index()];
                if !j.committed && file_sink_committed(dir, self.batch_id) {
                    j.committed = true;
                }
                if !j.committed && !rows.is_empty() {
                    let part = u32::try_from(j.files.len()).expect("fewer than 2^32 emits in a batch");
                    let path = parquet_part_path(dir, self.batch_id, part);
                    write_file_atomic(&path, &parquet_file(&path, names, types, rows)?)?;
                    j.files.push(path);
                }
            }
            OutputKind::Memory { complete, .. } => {
                let json: Vec<String> = rows
                    .iter()
                    .map(|r| {
                        let mut o = String::new();
                        r.json_object(&columns, &mut o);
                        o
                    })
                    .collect();
                crate::structured::memory::record(&spec.name, self.batch_id, json, *complete);
            }
            OutputKind::Print { .. } | OutputKind::SaveAsTextFiles { .. } => unreachable!("checked above"),
        }
        if let Some((path, w)) = &mut self.jsonl
            && !self.jsonl_streams.contains(&spec.name)
        {
            self.jsonl_streams.push(spec.name.clone());
            self.buf.clear();
            self.buf.push_str("{\"output\":");
            json_string(&spec.name, &mut self.buf);
            let _ =
                write!(self.buf, ",\"batch_id\":{},\"batch_time_ms\":{},\"records\":[", self.batch_id, self.time_ms);
            for (i, r) in rows.iter().enumerate() {
                if i > 0 {
                    self.buf.push(',');
                }
                r.json_object(&columns, &mut self.buf);
            }
            self.buf.push_str("]}\n");
            w.write_all(self.buf.as_bytes()).map_err(|source| Error::Output { path: path.clone(), source })?;
        }
        Ok(())
    }
}

/// What one progress line says about a batch, besides the batch's [`Reports`].
pub(crate) struct Progress<'a> {
    pub(crate) id: &'a str,
    pub(crate) run_id: &'a str,
    pub(crate) name: &'a str,
    /// The batch start, ms since the epoch.
    pub(crate) timestamp_ms: i64,
    pub(crate) batch_id: u64,
    /// Per source: its description, its input rows and the lines it dropped.
    pub(crate) sources: Vec<(String, u64, u64)>,
    /// The time since the previous batch's start (`None` for a run's first batch).
    pub(crate) since_previous: Option<Duration>,
    /// How long the batch took.
    pub(crate) duration: Duration,
    pub(crate) sink: String,
    pub(crate) output_rows: u64,
}

/// A rate as Spark computes it: `rows` over `secs`, 0 over an unknown (infinite) time.
fn rate(rows: u64, secs: Option<f64>) -> f64 {
    match secs {
        Some(s) if s > 0.0 => rows as f64 / s,
        _ => 0.0,
    }
}

/// A JSON number for a rate (`{:?}` keeps `.0` on whole numbers, as Spark's JSON does).
fn push_rate(out: &mut String, r: f64) {
    if r.is_finite() {
        let _ = write!(out, "{r:?}");
    } else {
        out.push_str("0.0");
    }
}

impl Progress<'_> {
    /// The progress line (without newline), shaped like Spark's `StreamingQueryProgress.json`.
    pub(crate) fn to_json(&self, reports: &Reports) -> String {
        let rows: u64 = self.sources.iter().map(|(_, n, _)| n).sum();
        let input_secs = self.since_previous.map(|d| d.as_secs_f64());
        // As Spark: at least 1 ms, so that a fast batch has a finite rate.
        let processing_secs = Some(self.duration.as_secs_f64().max(0.001));
        let mut s = String::with_capacity(512);
        s.push_str("{\"id\":");
        json_string(self.id, &mut s);
        s.push_str(",\"runId\":");
        json_string(self.run_id, &mut s);
        s.push_str(",\"name\":");
        json_string(self.name, &mut s);
        s.push_str(",\"timestamp\":");
        json_string(&crate::clock::iso8601_utc(self.timestamp_ms), &mut s);
        let _ = write!(s, ",\"batchId\":{},\"numInputRows\":{rows},\"inputRowsPerSecond\":", self.batch_id);
        push_rate(&mut s, rate(rows, input_secs));
        s.push_str(",\"processedRowsPerSecond\":");
        push_rate(&mut s, rate(rows, processing_secs));
        let _ = write!(s, ",\"durationMs\":{{\"triggerExecution\":{}}}", self.duration.as_millis());
        if let Some(w) = reports.watermark_us {
            s.push_str(",\"eventTime\":{\"watermark\":");
            json_string(&crate::clock::iso8601_utc(w.div_euclid(1000)), &mut s);
            s.push('}');
        }
        if !reports.state.is_empty() {
            s.push_str(",\"stateOperators\":[");
            for (i, (total, updated, dropped)) in reports.state.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                let _ = write!(
                    s,
                    "{{\"numRowsTotal\":{total},\"numRowsUpdated\":{updated},\"numRowsDroppedByWatermark\":{dropped}}}"
                );
            }
            s.push(']');
        }
        if reports.malformed > 0 {
            let _ = write!(s, ",\"numMalformedRowsDropped\":{}", reports.malformed);
        }
        s.push_str(",\"sources\":[");
        for (i, (description, n, skipped)) in self.sources.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str("{\"description\":");
            json_string(description, &mut s);
            let _ = write!(s, ",\"numInputRows\":{n},\"inputRowsPerSecond\":");
            push_rate(&mut s, rate(*n, input_secs));
            s.push_str(",\"processedRowsPerSecond\":");
            push_rate(&mut s, rate(*n, processing_secs));
            // Spark's `SourceProgress.metrics` (a map of strings) holds source-specific counts.
            if *skipped > 0 {
                let _ = write!(s, ",\"metrics\":{{\"numSkippedLines\":\"{skipped}\"}}");
            }
            s.push('}');
        }
        s.push_str("],\"sink\":{\"description\":");
        json_string(&self.sink, &mut s);
        let _ = write!(s, ",\"numOutputRows\":{}}}}}", self.output_rows);
        s
    }
}

/// One batch's rows as a parquet file (`path` names it in errors).
#[cfg(feature = "parquet")]
fn parquet_file<R: Row>(path: &Path, names: &[String], types: &[String], rows: &[R]) -> Result<Vec<u8>, Error> {
    crate::structured::parquet::parquet_bytes(names, types, rows)
        .map_err(|e| Error::Output { path: path.to_owned(), source: io::Error::other(e) })
}

#[cfg(not(feature = "parquet"))]
fn parquet_file<R: Row>(path: &Path, _: &[String], _: &[String], _: &[R]) -> Result<Vec<u8>, Error> {
    Err(Error::Config(format!(
        "cannot write `{}`: the parquet sink needs streamc-runtime's `parquet` feature (`streamc run` turns it on for specs with a parquet sink)",
        path.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_json_shape() {
        let p = Progress {
            id: "i",
            run_id: "r",
            name: "q",
            timestamp_ms: 1_704_110_460_000,
            batch_id: 4,
            sources: vec![("FileStreamSource[d]".to_owned(), 10, 0)],
            since_previous: Some(Duration::from_secs(2)),
            duration: Duration::from_millis(500),
            sink: "FileSink[o]".to_owned(),
            output_rows: 3,
        };
        let reports = Reports {
            watermark_us: Some(1_704_110_460_000_000),
            state: vec![(5, 2, 1)],
            malformed: 0,
            no_data_requested: false,
        };
        assert_eq!(
            p.to_json(&reports),
            "{\"id\":\"i\",\"runId\":\"r\",\"name\":\"q\",\"timestamp\":\"2024-01-01T12:01:00.000Z\",\"batchId\":4,\
             \"numInputRows\":10,\"inputRowsPerSecond\":5.0,\"processedRowsPerSecond\":20.0,\"durationMs\":{\"triggerExecution\":500},\
             \"eventTime\":{\"watermark\":\"2024-01-01T12:01:00.000Z\"},\
             \"stateOperators\":[{\"numRowsTotal\":5,\"numRowsUpdated\":2,\"numRowsDroppedByWatermark\":1}],\
             \"sources\":[{\"description\":\"FileStreamSource[d]\",\"numInputRows\":10,\"inputRowsPerSecond\":5.0,\"processedRowsPerSecond\":20.0}],\
             \"sink\":{\"description\":\"FileSink[o]\",\"numOutputRows\":3}}"
        );
        let first = Progress { since_previous: None, duration: Duration::ZERO, ..p };
        let json = first.to_json(&Reports::default());
        assert!(json.contains("\"inputRowsPerSecond\":0.0,\"processedRowsPerSecond\":10000.0,"), "{json}");
        assert!(!json.contains("eventTime") && !json.contains("stateOperators"), "{json}");
    }

    #[test]
    fn print_is_byte_exact() {
        let mut s = String::new();
        format_print(1000, 10, &[("a", 2i64), ("", 3)], &mut s);
        assert_eq!(
            s,
            "-------------------------------------------\n\
             Time: 1000 ms\n\
             -------------------------------------------\n\
             (a,2)\n\
             (,3)\n\
             \n"
        );
        s.clear();
        format_print::<i64>(3000, 10, &[], &mut s);
        assert_eq!(
            s,
            "-------------------------------------------\nTime: 3000 ms\n-------------------------------------------\n\n"
        );
        s.clear();
        format_print(5, 1, &[1i64, 2], &mut s);
        assert!(s.ends_with("---\n1\n...\n\n"), "{s:?}");
        s.clear();
        format_print(5, 2, &[1i64, 2], &mut s);
        assert!(s.ends_with("---\n1\n2\n\n"), "{s:?}");
    }

    #[test]
    fn text_files_dir_names() {
        assert_eq!(text_files_dir("out/counts", "txt", 1000), PathBuf::from("out/counts-1000.txt"));
        assert_eq!(text_files_dir("c", "", 7), PathBuf::from("c-7"));
    }
}

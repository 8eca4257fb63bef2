//! The app: declaring sources and outputs, starting them, and the batch loop that seals a
//! micro-batch at every tick, runs the generated handler on it, and writes a checkpoint after
//! the batches whose handler saved state.
//!
//! Batch times follow Spark: the *zero time* is the first batch time minus the interval (0 for a
//! replay, whose batch `i` runs at `(i + 1) × interval`), and periodic things (windowed outputs,
//! checkpoints) happen on the batches whose `time − zero` is a multiple of their period. A run
//! resumed from a checkpoint keeps the checkpoint's zero time, so these batches do not move.
//!
//! Structured Streaming apps (those with a [`file_stream`](AppBuilder::file_stream) source, a
//! `console` or `json_files` output, or a [`Trigger`] other than the default) differ from
//! DStream apps in four ways: batches also have ids (0, 1, 2, …, continued after a restart);
//! the [`Trigger`] decides which batches run; with a checkpoint directory every batch is a
//! checkpoint batch (Spark commits every batch), and each batch's files are logged before it
//! runs, so a re-run reads them again; and a progress line (Spark's `StreamingQueryProgress`)
//! follows every batch.

use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::checkpoint::{self, Checkpoint, PlannedBatch, QueryCheckpoint};
use crate::clock::{BatchClock, Control, ManualClock, StopMode, Trigger, Wake, lock};
use crate::error::Error;
use crate::persist::{Checkpointed, SavedParts};
use crate::sink::{OutputKind, OutputSpec, PrintTarget, Progress, SavedStates};
use crate::source::{
    FileSource, InputLimits, RateSource, ReplaySource, RunningSource, SocketSource, SourceKind, StructuredFileSource,
    TextBatch,
};

pub use crate::ids::{OutputId, SourceId};
pub use crate::sink::BatchOutput;
pub use crate::stop::StopHandle;

#[derive(Clone, Debug)]
pub(crate) struct SourceSpec {
    pub(crate) name: String,
    pub(crate) kind: SourceKind,
}

/// Declares an app: its batch interval, sources and outputs (the "describe" phase; nothing runs
/// until [`App::start`]).
#[derive(Clone, Debug)]
pub struct AppBuilder {
    name: String,
    interval: Duration,
    sources: Vec<SourceSpec>,
    outputs: Vec<OutputSpec>,
    checkpoint_dir: Option<PathBuf>,
    checkpoint_interval_ms: Option<u64>,
    trigger: Trigger,
    /// Bounds on what the sources accept (line length, rate, buffered bytes).
    limits: InputLimits,
    /// What each stateful operator is ([`describe_state`](Self::describe_state)).
    state_descriptions: Vec<(String, String)>,
}

impl AppBuilder {
    /// An app named `name` whose micro-batches are `batch_interval` long.
    pub fn new(name: &str, batch_interval: Duration) -> Self {
        AppBuilder {
            name: name.to_owned(),
            interval: batch_interval,
            sources: Vec::new(),
            outputs: Vec::new(),
            checkpoint_dir: None,
            checkpoint_interval_ms: None,
            trigger: Trigger::ProcessingTime,
            limits: InputLimits::default(),
            state_descriptions: Vec::new(),
        }
    }

    /// Declares what the state saved as `name` is (its operator, keys, values or aggregates),
    /// for checkpoints: a restart whose pipeline describes a state differently, or has other
    /// sources or stateful operators, is refused with the differences named, instead of
    /// misreading the saved state (Spark forbids such changes too). Generated code calls this
    /// for every state it keeps.
    pub fn describe_state(&mut self, name: &str, description: &str) {
        self.state_descriptions.push((name.to_owned(), description.to_owned()));
    }

    /// The pipeline as checkpoints record it ([`Checkpoint::pipeline`](crate::checkpoint::Checkpoint::pipeline)).
    fn pipeline(&self) -> Vec<(String, String)> {
        let sources = self.sources.iter().map(|s| (format!("source `{}`", s.name), s.kind.kind_name().to_owned()));
        let states = self.state_descriptions.iter().map(|(n, d)| (format!("stateful operator `{n}`"), d.clone()));
        sources.chain(states).collect()
    }

    /// The longest line, in bytes without its `'\n'`, that a source accepts (default
    /// [`DEFAULT_MAX_LINE_BYTES`](crate::source::DEFAULT_MAX_LINE_BYTES), 64 MiB). A longer line,
    /// from a file, a replay file or a socket, is skipped as it streams past (never held whole
    /// in memory) and counted in a warning. At least 1.
    pub fn max_line_bytes(&mut self, n: usize) {
        self.limits.max_line_bytes = n.max(1);
    }

    /// At most `n` records per second from each socket receiver (Spark's
    /// `spark.streaming.receiver.maxRate`; default unlimited). Lines beyond the rate wait in
    /// the connection, so a fast server is slowed down by TCP flow control.
    pub fn max_rate(&mut self, n: u64) {
        self.limits.max_rate = Some(n.max(1));
    }

    /// How many bytes a socket receiver holds for the open batch before it stops reading
    /// (default [`DEFAULT_MAX_BUFFERED_BYTES`](crate::source::DEFAULT_MAX_BUFFERED_BYTES),
    /// 64 MiB): with a server faster than the pipeline, memory stays bounded and the server
    /// waits (TCP flow control). A batch then holds at most this plus one read (64 KiB) and one line.
    pub fn max_buffered_bytes(&mut self, n: usize) {
        self.limits.max_buffered_bytes = n.max(1);
    }

    /// Sets when batches run (Spark's `trigger`); the default, [`Trigger::ProcessingTime`], runs
    /// one every batch interval.
    pub fn trigger(&mut self, trigger: Trigger) {
        self.trigger = trigger;
    }

    /// Whether the app follows Structured Streaming's rules (see the module documentation).
    fn is_structured(&self) -> bool {
        self.trigger != Trigger::ProcessingTime
            || self.sources.iter().any(|s| matches!(s.kind, SourceKind::FileStream { .. }))
            || self.outputs.iter().any(|o| {
                matches!(
                    o.kind,
                    OutputKind::Console { .. }
                        | OutputKind::JsonFiles { .. }
                        | OutputKind::ParquetFiles { .. }
                        | OutputKind::Memory { .. }
                )
            })
    }

    /// Spark's `ssc.checkpoint(dir)` plus the app's checkpoint interval: the batches whose
    /// `time − zero` is a multiple of `interval_ms` are [checkpoint
    /// batches](BatchInput::is_checkpoint_batch), and the state they save is written to `dir`
    /// (see [`crate::checkpoint`]). `interval_ms` must be a positive multiple of the batch
    /// interval ([`App::start`] checks). [`App::with_checkpoint_dir`] overrides `dir`.
    pub fn checkpoint(&mut self, dir: impl AsRef<Path>, interval_ms: u64) {
        self.checkpoint_dir = Some(dir.as_ref().to_owned());
        self.checkpoint_interval_ms = Some(interval_ms);
    }

    fn source(&mut self, name: &str, kind: SourceKind) -> SourceId {
        let id = SourceId::new(self.sources.len());
        self.sources.push(SourceSpec { name: name.to_owned(), kind });
        id
    }

    fn output(&mut self, name: &str, kind: OutputKind) -> OutputId {
        let id = OutputId::new(self.outputs.len());
        self.outputs.push(OutputSpec { name: name.to_owned(), kind });
        id
    }

    /// Spark's `socketTextStream(host, port)`: lines read by a TCP client from `host:port`.
    ///
    /// The client reconnects with backoff (100 ms doubling to 5 s) whenever the connection
    /// cannot be made or ends; batches are empty meanwhile. Lines that are not valid UTF-8 are
    /// skipped with a warning.
    pub fn socket_text_stream(&mut self, name: &str, host: &str, port: u16) -> SourceId {
        self.source(name, SourceKind::Socket { host: host.to_owned(), port })
    }

    /// Spark's `textFileStream(dir)`: the lines of files that appear in `dir` after the start.
    ///
    /// Names starting with `.` or `_` are ignored: write `.name.tmp`, then rename it to `name`.
    /// Each file is read once, in the batch during which it appeared.
    pub fn text_file_stream(&mut self, name: &str, dir: impl AsRef<Path>) -> SourceId {
        self.source(name, SourceKind::TextFiles { dir: dir.as_ref().to_owned() })
    }

    /// Structured Streaming's file source (`spark.readStream.text(dir)`; json and csv read
    /// their lines through it): the lines of every file of `dir`, including the files already
    /// there at the start (unlike [`text_file_stream`](Self::text_file_stream)).
    ///
    /// Each batch reads up to `max_files_per_trigger` files (`None`: all) not read before,
    /// oldest first by (modification time, name); names starting with `.` or `_` are ignored.
    /// Each file is read once, also across restarts from a checkpoint, and a batch re-run after
    /// a crash reads the same files ([`crate::checkpoint`]). [`TextBatch::origin`] gives each
    /// line's file and line number.
    pub fn file_stream(&mut self, name: &str, dir: impl AsRef<Path>, max_files_per_trigger: Option<usize>) -> SourceId {
        self.source(name, SourceKind::FileStream { dir: dir.as_ref().to_owned(), max_files_per_trigger })
    }

    /// Structured Streaming's console sink (`format("console")`, options `numRows` and
    /// `truncate`): each batch's rows, emitted with [`BatchOutput::emit_rows`], printed as
    /// Spark prints them (a `Batch: N` banner, then the table of the first `num_rows` rows) on
    /// standard output. `columns` names the rows' columns.
    pub fn console(&mut self, name: &str, columns: &[&str], num_rows: usize, truncate: bool) -> OutputId {
        let columns = columns.iter().map(|c| (*c).to_owned()).collect();
        self.output(name, OutputKind::Console { columns, num_rows, truncate })
    }

    /// Structured Streaming's `rate` source (`format("rate").option("rowsPerSecond", n)`): rows
    /// of `<timestamp µs> <value>` lines, `rows_per_second` of them per second of batch time.
    pub fn rate_stream(&mut self, name: &str, rows_per_second: u64) -> SourceId {
        self.source(name, SourceKind::Rate { rows_per_second })
    }

    /// Structured Streaming's file sink in JSON format (`format("json").option("path", dir)`),
    /// exactly once: batch `N`'s rows, emitted with [`BatchOutput::emit_rows`], become the JSON
    /// lines of `dir/part-<N:05>-0000.json`, committed by the metadata log entry
    /// `dir/_spark_metadata/<N>`; a committed batch is never written again. Append mode only
    /// (the compiler checks). `columns` names the JSON fields.
    pub fn json_files(&mut self, name: &str, columns: &[&str], dir: impl AsRef<Path>) -> OutputId {
        let columns = columns.iter().map(|c| (*c).to_owned()).collect();
        self.output(name, OutputKind::JsonFiles { columns, dir: dir.as_ref().to_owned() })
    }

    /// Structured Streaming's file sink in parquet format (`format("parquet")`; needs the
    /// `parquet` feature), exactly once like [`json_files`](Self::json_files): batch `N`'s rows
    /// become `dir/part-<N:05>-0000.parquet`, committed by `dir/_spark_metadata/<N>`. `types`
    /// are the columns' SQL types (`string`, `bigint`, `double`, `boolean`, `timestamp`).
    pub fn parquet_files(&mut self, name: &str, columns: &[&str], types: &[&str], dir: impl AsRef<Path>) -> OutputId {
        let columns = columns.iter().map(|c| (*c).to_owned()).collect();
        let types = types.iter().map(|c| (*c).to_owned()).collect();
        self.output(name, OutputKind::ParquetFiles { columns, types, dir: dir.as_ref().to_owned() })
    }

    /// Structured Streaming's memory sink (`format("memory").queryName(name)`): each batch's rows,
    /// emitted with [`BatchOutput::emit_rows`], are kept as JSON objects in the process's memory
    /// table `name`, read with [`structured::memory::rows`](crate::structured::memory::rows);
    /// in complete mode (`complete`) each batch replaces the table, otherwise it appends.
    pub fn memory(&mut self, name: &str, columns: &[&str], complete: bool) -> OutputId {
        let columns = columns.iter().map(|c| (*c).to_owned()).collect();
        self.output(name, OutputKind::Memory { columns, complete })
    }

    /// Spark's `print(num)`: the first `num` records of every batch on standard output.
    pub fn print(&mut self, name: &str, num: usize) -> OutputId {
        self.output(name, OutputKind::Print { num })
    }

    /// Spark's `saveAsTextFiles(prefix, suffix)`: one directory per batch,
    /// `{prefix}-{time_ms}[.{suffix}]`, holding `part-00000` and `_SUCCESS`.
    pub fn save_as_text_files(&mut self, name: &str, prefix: &str, suffix: &str) -> OutputId {
        self.output(name, OutputKind::SaveAsTextFiles { prefix: prefix.to_owned(), suffix: suffix.to_owned() })
    }

    /// The app that runs `handler` on every batch.
    pub fn build<F>(self, handler: F) -> App<F>
    where
        F: FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send + 'static,
    {
        App {
            spec: self,
            handler,
            replay: Vec::new(),
            replay_all: None,
            jsonl: None,
            progress: None,
            manual_clock: None,
            print: None,
            stop_on_signals: false,
            max_batches: None,
            workers: None,
        }
    }
}

/// What a batch handler reads: the batch time, each source's records, and on the first batch
/// after a restart the state saved in the checkpoint.
#[derive(Debug)]
pub struct BatchInput {
    time_ms: i64,
    zero_ms: i64,
    batch_id: u64,
    /// The checkpoint interval, when the app has a checkpoint directory.
    checkpoint_interval_ms: Option<i64>,
    /// Structured Streaming apps checkpoint every batch.
    checkpoint_every_batch: bool,
    texts: Vec<TextBatch>,
    /// The checkpoint resumed from: set for the first batch of a resumed run only.
    restore: Option<Restored>,
    /// Worker threads for large batches ([`App::with_workers`]).
    workers: usize,
}

/// The states of the checkpoint a run resumed from, and the file they came from.
#[derive(Debug)]
struct Restored {
    path: PathBuf,
    /// The commit's format version: from version 4 on, states are restored with their parts.
    version: u32,
    states: Vec<(String, Vec<u8>)>,
    /// Per state with parts: each part's id, stamp and bytes, sorted by id.
    parts: checkpoint::LoadedParts,
}

/// Batches smaller than this are not split over workers: starting threads would cost more than
/// it saves.
pub const MIN_PARALLEL_BYTES: usize = 1 << 20;

impl BatchInput {
    /// How many workers should share `text` ([`App::with_workers`]): 1 for a small batch.
    #[inline]
    pub fn workers_for(&self, text: &TextBatch) -> usize {
        if self.workers <= 1 || text.len_bytes() < MIN_PARALLEL_BYTES {
            1
        } else {
            self.workers.min(text.len_lines().max(1))
        }
    }

    /// The records of source `id` in this batch.
    #[inline]
    pub fn text(&self, id: SourceId) -> &TextBatch {
        &self.texts[id.index()]
    }

    /// The batch id: 0 for the first batch, then one more per batch run (no-data batches
    /// included; ticks skipped for lack of input are not batches), continued after a restart
    /// from a checkpoint.
    #[inline]
    pub fn batch_id(&self) -> u64 {
        self.batch_id
    }

    /// The batch time: the end of the interval the batch covers, in milliseconds since the
    /// epoch (since the start, for a replay).
    #[inline]
    pub fn time_ms(&self) -> i64 {
        self.time_ms
    }

    /// Spark's zero time: the first batch time minus the batch interval (0 for a replay). A run
    /// resumed from a checkpoint has the zero time of the run that wrote it.
    #[inline]
    pub fn zero_ms(&self) -> i64 {
        self.zero_ms
    }

    /// Whether `time − zero` is a multiple of `ms`: Spark's rule for the batches on which a
    /// stream with slide (or checkpoint interval) `ms` is computed. False for `ms == 0`.
    ///
    /// ```
    /// # use streamc_runtime::{AppBuilder, BatchInput, BatchOutput, Error, ManualClock, Seconds};
    /// # use std::sync::mpsc;
    /// // A manual clock at 1.5 s: the first batch is at 2 s, so the zero time is 1 s.
    /// let clock = ManualClock::new(1500);
    /// let (tx, rx) = mpsc::channel();
    /// let app = AppBuilder::new("doc", Seconds(1))
    ///     .build(move |input: &BatchInput, _: &mut BatchOutput| -> Result<(), Error> {
    ///         tx.send((input.time_ms(), input.zero_ms(), input.is_multiple_of(2000))).unwrap();
    ///         Ok(())
    ///     })
    ///     .with_manual_clock(clock.clone())
    ///     .with_max_batches(2);
    /// let handle = app.start()?;
    /// clock.advance(Seconds(2));
    /// handle.await_termination()?;
    /// assert_eq!(rx.try_iter().collect::<Vec<_>>(), [(2000, 1000, false), (3000, 1000, true)]);
    /// # Ok::<(), Error>(())
    /// ```
    #[inline]
    pub fn is_multiple_of(&self, ms: u64) -> bool {
        let since_zero = i128::from(self.time_ms) - i128::from(self.zero_ms);
        ms != 0 && since_zero % i128::from(ms) == 0
    }

    /// Whether this batch saves state: the app has a checkpoint directory and `time − zero` is a
    /// multiple of its checkpoint interval (or, for a Structured Streaming app, always).
    /// Generated code then calls [`BatchOutput::save_state`] for every state it keeps.
    #[inline]
    pub fn is_checkpoint_batch(&self) -> bool {
        self.checkpoint_interval_ms.is_some_and(|ms| self.checkpoint_every_batch || self.is_multiple_of(ms as u64))
    }

    /// Restores `state` from the snapshot saved under `name`, on the first batch of a run
    /// resumed from a checkpoint that holds `name`; on every other batch (and for names the
    /// checkpoint does not hold) does nothing.
    ///
    /// A snapshot that `state` rejects is an [`Error::Checkpoint`] naming the checkpoint file;
    /// returned with `?`, it stops the app.
    pub fn restore<S: Checkpointed + ?Sized>(&self, name: &str, state: &mut S) -> Result<(), Error> {
        let Some(r) = &self.restore else { return Ok(()) };
        let Some((_, bytes)) = r.states.iter().find(|(n, _)| n == name) else { return Ok(()) };
        let restored = if r.version >= checkpoint::PARTS_VERSION {
            let parts = r.parts.iter().find(|(n, _)| n == name).map_or(&[][..], |(_, p)| p.as_slice());
            state.restore_with_parts(bytes, &SavedParts::new(parts))
        } else {
            state.restore(bytes)
        };
        restored.map_err(|e| Error::Checkpoint {
            path: r.path.clone(),
            message: format!("cannot restore state `{name}` from checkpoint `{}`: {e}", r.path.display()),
        })
    }
}

/// The smallest multiple of the batch interval that is at least 10 s: Spark's default checkpoint
/// interval for stateful streams, used when the app sets a directory but no interval.
fn default_checkpoint_interval_ms(interval_ms: i64) -> i64 {
    let n = (10_000 + interval_ms - 1) / interval_ms;
    n.max(1) * interval_ms
}

/// A declared app with its handler, ready to [`start`](Self::start).
pub struct App<F> {
    spec: AppBuilder,
    handler: F,
    replay: Vec<(String, PathBuf)>,
    replay_all: Option<PathBuf>,
    jsonl: Option<PathBuf>,
    progress: Option<PathBuf>,
    manual_clock: Option<ManualClock>,
    /// A replacement for stdout (tests, benchmarks); boxed because it is chosen at setup and
    /// written once per batch, never per record.
    print: Option<Box<dyn Write + Send>>,
    /// Stop (after the batch in flight) on SIGINT/SIGTERM; set by `with_cli_args`.
    pub(crate) stop_on_signals: bool,
    max_batches: Option<u64>,
    /// Worker threads for large batches; `None`: the number of cores.
    workers: Option<usize>,
}

impl<F> std::fmt::Debug for App<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("spec", &self.spec).finish_non_exhaustive()
    }
}

/// Spark's `StreamingContext.getOrCreate(checkpointPath, creatingFunc)`: the app built by
/// `create`, checkpointing into `dir`.
///
/// Unlike Spark, `create` is always called, because the app's code is compiled in rather than
/// deserialized from the checkpoint. The checkpoint is read when the app
/// [starts](App::start): if `dir` holds a valid checkpoint, the app resumes from it (the batch
/// after the checkpoint's, the same zero time, replay files after the ones already consumed,
/// and the saved states handed to [`BatchInput::restore`] on the first batch); otherwise it
/// starts afresh. A directory whose checkpoints are all corrupt makes `start` fail.
///
/// ```
/// use streamc_runtime::{AppBuilder, BatchInput, BatchOutput, Error, Seconds};
///
/// let dir = std::env::temp_dir().join(format!("streamc-doc-get-or-create-{}", std::process::id()));
/// let app = streamc_runtime::get_or_create(&dir, || {
///     let mut b = AppBuilder::new("doc", Seconds(1));
///     b.socket_text_stream("lines", "localhost", 9999);
///     b.build(|_: &BatchInput, _: &mut BatchOutput| -> Result<(), Error> { Ok(()) })
/// });
/// assert_eq!(app.checkpoint_dir(), Some(dir.as_path()));
/// ```
pub fn get_or_create<F>(dir: impl AsRef<Path>, create: impl FnOnce() -> App<F>) -> App<F>
where
    F: FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send + 'static,
{
    create().with_checkpoint_dir(dir)
}

/// The handler type of [`App::placeholder`].
pub type PlaceholderHandler = fn(&BatchInput, &mut BatchOutput) -> Result<(), Error>;

impl App<PlaceholderHandler> {
    /// An app with no source, no output and a handler that does nothing.
    ///
    /// The `stream!` macro expands to this after its `compile_error!`s when the program has
    /// errors, so that the surrounding user code (`app.start()?`, `app.run_main()`) still
    /// type-checks and rustc reports only the real errors. It is never meant to run.
    #[doc(hidden)]
    pub fn placeholder() -> Self {
        fn nothing(_: &BatchInput, _: &mut BatchOutput) -> Result<(), Error> {
            Ok(())
        }
        AppBuilder::new("placeholder", Duration::from_secs(1)).build(nothing as PlaceholderHandler)
    }
}

/// State shared by the batch loop and its handles.
struct Shared {
    control: Arc<Control>,
    completed: AtomicU64,
    /// The progress line of the last batch.
    last_progress: Mutex<Option<String>>,
}

/// A random (version 4) UUID in its usual text form, for query and run ids.
///
/// From std's randomly keyed hasher, so no dependency: ids need to be unique, not secret.
fn new_uuid() -> String {
    use std::hash::{BuildHasher, RandomState};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let seed = (nanos, n, std::process::id());
    let a = RandomState::new().hash_one((seed, 1u8));
    let b = RandomState::new().hash_one((seed, 2u8));
    let a = (a & !0xf000) | 0x4000; // version 4
    let b = (b & !(0xc000 << 48)) | (0x8000 << 48); // RFC 4122 variant
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

impl<F> App<F>
where
    F: FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send + 'static,
{
    /// The app's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The names of the app's sources, in declaration order.
    pub fn source_names(&self) -> impl Iterator<Item = &str> {
        self.spec.sources.iter().map(|s| s.name.as_str())
    }

    pub(crate) fn describe_sources(&self) -> Vec<String> {
        self.spec.sources.iter().map(|s| format!("`{}` ({})", s.name, s.kind.describe())).collect()
    }

    /// Replaces source `source_name`'s input by the files of `dir`: each regular file, in name
    /// order, is the records of one batch. Batch `i` (from 0) gets time `(i + 1) * interval` ms,
    /// batches run back to back, and the app stops by itself after the last file of the longest
    /// replay directory. Every source must then be replayed (checked by [`start`](Self::start)).
    pub fn with_replay(mut self, source_name: &str, dir: impl AsRef<Path>) -> Self {
        self.replay.push((source_name.to_owned(), dir.as_ref().to_owned()));
        self
    }

    /// [`with_replay`](Self::with_replay) for the app's only source (an app with several
    /// sources fails to start).
    pub fn with_replay_all(mut self, dir: impl AsRef<Path>) -> Self {
        self.replay_all = Some(dir.as_ref().to_owned());
        self
    }

    /// Also writes every output of every batch to `path` as JSON lines,
    /// `{"output":NAME,"batch_time_ms":T,"records":[...]}` (Structured Streaming outputs add
    /// `"batch_id":N` before the time, and their records are objects keyed by column name),
    /// flushed after each batch. The file is truncated at start.
    pub fn with_jsonl(mut self, path: impl AsRef<Path>) -> Self {
        self.jsonl = Some(path.as_ref().to_owned());
        self
    }

    /// After every batch, appends its progress line to `path` (truncated at start): a JSON object
    /// shaped like Spark's `StreamingQueryProgress` (`id`, `runId`, `name`, `timestamp`,
    /// `batchId`, `numInputRows`, rates, `durationMs`, `eventTime` and `stateOperators` when
    /// the handler reported them, `sources`, `sink`). The same as `--progress PATH`;
    /// [`StreamingHandle::last_progress`] gives the last line without a file.
    pub fn with_progress(mut self, path: impl AsRef<Path>) -> Self {
        self.progress = Some(path.as_ref().to_owned());
        self
    }

    /// Drives batch times from `clock` instead of the system clock; the first batch is at the
    /// next multiple of the interval after the clock's time at start.
    pub fn with_manual_clock(mut self, clock: ManualClock) -> Self {
        self.manual_clock = Some(clock);
        self
    }

    /// Sends `print` output to `w` instead of standard output (for tests and embedding).
    pub fn with_print_writer(mut self, w: impl Write + Send + 'static) -> Self {
        self.print = Some(Box::new(w));
        self
    }

    /// Checkpoints into `dir` instead of the directory given to [`AppBuilder::checkpoint`] (or
    /// at all, if none was: the checkpoint interval is then Spark's default, the smallest
    /// multiple of the batch interval that is at least 10 s). The same as `--checkpoint DIR`.
    ///
    /// At [`start`](Self::start), a valid checkpoint in `dir` is resumed from; see
    /// [`get_or_create`](crate::get_or_create).
    pub fn with_checkpoint_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.spec.checkpoint_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// [`AppBuilder::max_line_bytes`] on a built app (a `stream!` app, say).
    pub fn with_max_line_bytes(mut self, n: usize) -> Self {
        self.spec.max_line_bytes(n);
        self
    }

    /// [`AppBuilder::max_rate`] on a built app.
    pub fn with_max_rate(mut self, n: u64) -> Self {
        self.spec.max_rate(n);
        self
    }

    /// The checkpoint directory, if the app has one.
    pub fn checkpoint_dir(&self) -> Option<&Path> {
        self.spec.checkpoint_dir.as_deref()
    }

    /// Splits large batches over `n` worker threads (`--workers N`; default: the number of cores
    /// the process may use). Stages that end in a per-batch aggregation (`reduce_by_key`) then
    /// run on each worker's share of the batch's lines and the partial results are merged in
    /// line order (two-phase aggregation), so the output is the same as with one worker.
    pub fn with_workers(mut self, n: usize) -> Self {
        self.workers = Some(n.max(1));
        self
    }

    /// Stops after `n` batches of this run (after the `n`th batch's outputs and checkpoint), as
    /// if a stop had been requested; `await_termination` then returns `Ok`. The same as
    /// `--max-batches N`.
    pub fn with_max_batches(mut self, n: u64) -> Self {
        self.max_batches = Some(n);
        self
    }

    /// Which replay directory each source gets, or `None` when nothing is replayed.
    fn replay_plan(&self) -> Result<Option<Vec<PathBuf>>, Error> {
        let sources = &self.spec.sources;
        if let Some(dir) = &self.replay_all {
            if sources.len() != 1 {
                let names: Vec<String> = sources.iter().map(|s| format!("`{}`", s.name)).collect();
                return Err(Error::Config(format!(
                    "replaying one directory needs an app with exactly one source, but `{}` has {}{}{}\nhelp: replay each source with `--replay NAME=DIR`",
                    self.spec.name,
                    sources.len(),
                    if names.is_empty() { "" } else { ": " },
                    names.join(", ")
                )));
            }
            if !self.replay.is_empty() {
                return Err(Error::Config(
                    "replay was given both for all sources and per source; give one or the other".to_owned(),
                ));
            }
            return Ok(Some(vec![dir.clone()]));
        }
        if self.replay.is_empty() {
            return Ok(None);
        }
        let mut plan: Vec<Option<PathBuf>> = vec![None; sources.len()];
        for (name, dir) in &self.replay {
            let Some(i) = sources.iter().position(|s| &s.name == name) else {
                let names: Vec<String> = sources.iter().map(|s| format!("`{}`", s.name)).collect();
                return Err(Error::Config(format!(
                    "replay given for `{name}`, but the app has no source of that name (sources: {})",
                    names.join(", ")
                )));
            };
            if plan[i].is_some() {
                return Err(Error::Config(format!("replay given twice for source `{name}`")));
            }
            plan[i] = Some(dir.clone());
        }
        plan.into_iter()
            .zip(sources)
            .map(|(dir, s)| {
                dir.ok_or_else(|| {
                    Error::Config(format!(
                        "source `{}` has no replay input; when replaying, every source must be replayed\nhelp: add `--replay {}=DIR`",
                        s.name, s.name
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The checkpoint directory and interval, checked, if the app has a directory.
    fn checkpoint_config(&self, interval_ms: i64) -> Result<Option<(PathBuf, i64)>, Error> {
        let Some(dir) = &self.spec.checkpoint_dir else { return Ok(None) };
        let every = match self.spec.checkpoint_interval_ms {
            None => default_checkpoint_interval_ms(interval_ms),
            Some(ms) => match i64::try_from(ms) {
                Ok(ms) if ms > 0 && ms % interval_ms == 0 => ms,
                _ => {
                    return Err(Error::Config(format!(
                        "the checkpoint interval of `{}` must be a positive multiple of its batch interval ({interval_ms} ms), found {ms} ms",
                        self.spec.name
                    )));
                }
            },
        };
        Ok(Some((dir.clone(), every)))
    }

    /// Starts the sources and the batch loop.
    ///
    /// With a checkpoint directory, first reads the newest usable checkpoint in it (skipping,
    /// with a warning on stderr, newer files that are corrupt) and resumes from it: the first
    /// batch is the one after the checkpoint's, the zero time is the checkpoint's, each replayed
    /// source continues with the file after those already consumed, and the saved states are
    /// offered to [`BatchInput::restore`] on that first batch. Batches after the checkpoint that
    /// a stopped run had already output are run and output again: outputs are at least once
    /// (`save_as_text_files` replaces a batch's directory, so its result is the same; `print`
    /// and jsonl lines repeat; a `json_files` sink skips batches it has committed). With no
    /// checkpoint file the run starts afresh.
    ///
    /// A Structured Streaming app resumed from a checkpoint also continues its batch ids and
    /// its query id, its file streams skip the files already read, and a batch that a crashed
    /// run had planned is re-run with the same files. Under [`Trigger::ProcessingTime`] its
    /// first batch is at the next tick of the clock rather than right after the checkpoint's:
    /// the ticks missed while it was down had no batch to catch up on.
    ///
    /// Fails if the configuration cannot run (a zero interval, a checkpoint interval that is not
    /// a multiple of it, duplicate source names, replay for some sources only, a missing replay
    /// or source directory, an unwritable jsonl or progress file), or if the checkpoint
    /// directory has checkpoint files but none is usable, or one written with another batch
    /// interval.
    pub fn start(self) -> Result<StreamingHandle, Error> {
        let interval_ms = i64::try_from(self.spec.interval.as_millis()).unwrap_or(i64::MAX);
        if interval_ms <= 0 {
            return Err(Error::Config(format!(
                "the batch interval of `{}` must be at least 1 ms, found {:?}",
                self.spec.name, self.spec.interval
            )));
        }
        for (i, s) in self.spec.sources.iter().enumerate() {
            if self.spec.sources[..i].iter().any(|t| t.name == s.name) {
                return Err(Error::Config(format!("two sources are named `{}`; source names must be unique", s.name)));
            }
        }
        let structured = self.spec.is_structured();
        let plan = self.replay_plan()?;
        let ckpt_config = self.checkpoint_config(interval_ms)?;
        let resume = match &ckpt_config {
            Some((dir, _)) => {
                let found = checkpoint::load_latest(dir, &self.spec.name)?;
                checkpoint::remove_stale_temp_files(dir);
                found
            }
            None => None,
        };
        if let Some(l) = &resume
            && l.checkpoint.interval_ms != interval_ms
        {
            return Err(Error::Checkpoint {
                path: l.path.clone(),
                message: format!(
                    "checkpoint `{}` was written with a batch interval of {} ms, but `{}` has {interval_ms} ms\n\
                     help: restore the batch interval, or use another checkpoint directory",
                    l.path.display(),
                    l.checkpoint.interval_ms,
                    self.spec.name
                ),
            });
        }
        let pipeline = self.spec.pipeline();
        if let Some(l) = &resume {
            let changes = checkpoint::pipeline_changes(&l.checkpoint.pipeline, &pipeline);
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
        }
        let query = resume.as_ref().and_then(|l| l.query.clone());
        let next_batch_id = match (&resume, &query) {
            (_, Some(q)) => q.batch_id + 1,
            // A checkpoint without a query section: one batch per interval since the zero time.
            (Some(l), None) => {
                let c = &l.checkpoint;
                u64::try_from((c.time_ms - c.zero_ms) / interval_ms).unwrap_or(0)
            }
            (None, None) => 0,
        };
        let mut running = Vec::with_capacity(self.spec.sources.len());
        let mut replay_batches = None;
        let mut replay_positions = Vec::new();
        let mut planned_log = VecDeque::new();
        match plan {
            Some(dirs) => {
                let mut longest = 0;
                for (dir, spec) in dirs.into_iter().zip(&self.spec.sources) {
                    let mut r = ReplaySource::open(&dir, self.spec.limits)?;
                    let len = r.len() as u64;
                    // The files the checkpointed run had consumed are skipped, unread.
                    let skip = resume
                        .as_ref()
                        .and_then(|l| l.checkpoint.replay.iter().find(|(n, _)| *n == spec.name))
                        .map_or(0, |&(_, next)| next.min(len));
                    r.skip(skip as usize);
                    let r = RunningSource::Replay(r);
                    longest = longest.max((len - skip) as usize);
                    replay_positions.push((spec.name.clone(), len, skip));
                    running.push(r);
                }
                replay_batches = Some(longest);
            }
            None => {
                for s in &self.spec.sources {
                    // Take the file source's snapshot now, before start returns, so that a file
                    // written right after start counts as new.
                    match &s.kind {
                        SourceKind::TextFiles { dir } => {
                            running.push(RunningSource::Files(FileSource::start(&s.name, dir, self.spec.limits)?));
                        }
                        SourceKind::FileStream { dir, max_files_per_trigger } => {
                            let taken = query
                                .as_ref()
                                .and_then(|q| q.files.iter().find(|(n, _)| *n == s.name))
                                .map(|(_, files)| files.clone())
                                .unwrap_or_default();
                            let f = StructuredFileSource::start(
                                &s.name,
                                dir,
                                *max_files_per_trigger,
                                taken,
                                self.spec.limits,
                            )?;
                            running.push(RunningSource::Structured(f));
                        }
                        SourceKind::Rate { rows_per_second } => {
                            running.push(RunningSource::Rate(RateSource::new(*rows_per_second)));
                        }
                        SourceKind::Socket { .. } => {}
                    }
                }
                // The batches a crashed run had planned but not committed, in id order.
                if let Some((dir, _)) = &ckpt_config
                    && running.iter().any(|r| matches!(r, RunningSource::Structured(_)))
                {
                    let mut id = next_batch_id;
                    while let Some(p) = checkpoint::read_planned(dir, &self.spec.name, id) {
                        planned_log.push_back(p);
                        id += 1;
                    }
                }
                if self.spec.trigger == Trigger::AvailableNow {
                    for r in &mut running {
                        if let RunningSource::Structured(f) = r {
                            let reserved: HashSet<&str> = planned_log
                                .iter()
                                .flat_map(|p: &PlannedBatch| &p.files)
                                .filter(|(n, _)| n == f.name())
                                .flat_map(|(_, files)| files.iter().map(String::as_str))
                                .collect();
                            f.take_snapshot(&reserved)?;
                        }
                    }
                }
            }
        }
        let mut output = BatchOutput::new(
            self.spec.outputs.clone(),
            match self.print {
                Some(w) => PrintTarget::Writer(w),
                None => PrintTarget::Stdout,
            },
            self.jsonl.as_deref(),
        )?;
        output.set_checkpointing(ckpt_config.is_some());
        let progress = match &self.progress {
            None => None,
            Some(path) => {
                let f = File::create(path).map_err(|source| Error::Output { path: path.clone(), source })?;
                Some((path.clone(), BufWriter::new(f)))
            }
        };
        let source_descriptions: Vec<String> =
            self.spec.sources.iter().map(|s| s.kind.progress_description()).collect();
        // Sockets last: nothing can fail after a thread is running.
        if replay_batches.is_none() {
            let mut files = running.drain(..);
            let mut all = Vec::with_capacity(self.spec.sources.len());
            for s in &self.spec.sources {
                match &s.kind {
                    SourceKind::TextFiles { .. } | SourceKind::FileStream { .. } | SourceKind::Rate { .. } => {
                        all.push(files.next().expect("one per spec"))
                    }
                    SourceKind::Socket { host, port } => {
                        all.push(RunningSource::Socket(SocketSource::start(&s.name, host, *port, self.spec.limits)?))
                    }
                }
            }
            drop(files);
            running = all;
        }
        let clock = match (&replay_batches, &self.manual_clock) {
            (Some(_), _) => BatchClock::Replay,
            (None, Some(c)) => BatchClock::Manual(c.clone()),
            (None, None) => BatchClock::System,
        };
        let manual = match &clock {
            BatchClock::Manual(c) => Some(c.clone()),
            _ => None,
        };
        let shared = Arc::new(Shared {
            control: Control::new(manual),
            completed: AtomicU64::new(0),
            last_progress: Mutex::new(None),
        });
        let log = std::env::var_os("STREAMC_LOG").is_some();
        // The first batch time is fixed here, not in the loop thread: the clock may move as soon
        // as start returns (a test advancing a manual clock), and that must already count. A
        // resumed run continues after its checkpoint, catching up on the batches missed while
        // it was down (as Spark does) before it follows the clock again.
        let (first_batch_ms, zero_ms, restore) = match resume {
            Some(l) => {
                if log {
                    eprintln!(
                        "streamc: `{}` resumes from checkpoint `{}` (batch {} ms)",
                        self.spec.name,
                        l.path.display(),
                        l.checkpoint.time_ms
                    );
                }
                let mut first = l.checkpoint.time_ms + interval_ms;
                if structured && replay_batches.is_none() && self.spec.trigger == Trigger::ProcessingTime {
                    first = first.max(clock.first_batch_time(interval_ms));
                }
                // The parts of the commit resumed from are on disk: not written again.
                output.parts_committed(&l.checkpoint.parts, &l.checkpoint.part_files);
                let restored =
                    Restored { path: l.path, version: l.version, states: l.checkpoint.states, parts: l.parts };
                (first, l.checkpoint.zero_ms, Some(restored))
            }
            None => {
                let first = clock.first_batch_time(interval_ms);
                (first, first - interval_ms, None)
            }
        };
        let has_file_streams = running.iter().any(|r| matches!(r, RunningSource::Structured(_)));
        // The query id is the checkpoint directory's (its `metadata`, written on first use).
        let new_query_id = || query.as_ref().map_or_else(new_uuid, |q| q.query_id.clone());
        let query_id = match &ckpt_config {
            Some((dir, _)) => checkpoint::query_id(dir, &self.spec.name, new_query_id)?,
            None => new_query_id(),
        };
        let mut batch_loop = BatchLoop {
            first_batch_ms,
            zero_ms,
            restore,
            checkpoint: ckpt_config,
            part_index: checkpoint::PartIndex::default(),
            replay_positions,
            max_batches: self.max_batches,
            workers: self
                .workers
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get)),
            name: self.spec.name.clone(),
            pipeline,
            handler: self.handler,
            sources: running,
            output,
            clock,
            interval_ms,
            replay_batches,
            shared: Arc::clone(&shared),
            log,
            trigger: self.spec.trigger,
            structured,
            // Spark skips ticks with no new data; with a socket we cannot tell cheaply, so an app
            // with one keeps DStream's batch at every tick.
            skip_empty_ticks: structured
                && has_file_streams
                && self.spec.sources.iter().all(|s| matches!(s.kind, SourceKind::FileStream { .. })),
            has_file_streams,
            next_batch_id,
            no_data_pending: query.as_ref().is_some_and(|q| q.no_data_pending),
            planned_log,
            query_id,
            run_id: new_uuid(),
            progress,
            source_descriptions,
        };
        let thread_name = format!("streamc-batches-{}", self.spec.name);
        let thread = std::thread::Builder::new()
            .name(thread_name.clone())
            .spawn(move || {
                let r = batch_loop.run();
                for s in &mut batch_loop.sources {
                    s.shut_down();
                }
                batch_loop.shared.control.set_finished();
                r
            })
            .map_err(|source| Error::Thread { name: thread_name, source })?;
        let handle = StreamingHandle { shared, thread: Some(thread), result: None };
        if self.stop_on_signals {
            crate::stop::stop_on_signals(handle.stop_handle());
        }
        Ok(handle)
    }
}

/// The running batch loop: one thread, one batch at a time, in time order.
struct BatchLoop<F> {
    first_batch_ms: i64,
    zero_ms: i64,
    /// The checkpoint resumed from, for the first batch.
    restore: Option<Restored>,
    /// The checkpoint directory and interval.
    checkpoint: Option<(PathBuf, i64)>,
    /// What the directory's commits refer to, for pruning parts.
    part_index: checkpoint::PartIndex,
    /// Per replayed source: its name, its number of files, and the files skipped at start.
    replay_positions: Vec<(String, u64, u64)>,
    max_batches: Option<u64>,
    workers: usize,
    name: String,
    /// The pipeline, as its checkpoints record it.
    pipeline: Vec<(String, String)>,
    handler: F,
    sources: Vec<RunningSource>,
    output: BatchOutput,
    clock: BatchClock,
    interval_ms: i64,
    replay_batches: Option<usize>,
    shared: Arc<Shared>,
    log: bool,
    trigger: Trigger,
    /// Structured Streaming rules: a checkpoint after every batch (with a checkpoint directory).
    structured: bool,
    /// Skip `ProcessingTime` ticks with no new file and no requested no-data batch.
    skip_empty_ticks: bool,
    /// Whether some source is a live `file_stream` (whose batches are planned and logged).
    has_file_streams: bool,
    next_batch_id: u64,
    /// Whether the checkpoint's batch requested a no-data batch.
    no_data_pending: bool,
    /// Batches planned by a crashed run, to re-run first with the same files.
    planned_log: VecDeque<PlannedBatch>,
    query_id: String,
    run_id: String,
    progress: Option<(PathBuf, BufWriter<File>)>,
    source_descriptions: Vec<String>,
}

/// What the loop does next.
enum Next {
    /// Run a batch.
    Run(Batch),
    /// Let this `ProcessingTime` tick pass without a batch (nothing new); stop after it if
    /// `last`.
    Skip { last: bool },
    /// Stop.
    Stop,
}

/// A batch about to run.
struct Batch {
    /// Per source: for a live file stream, the files the batch reads; `None` for other sources.
    planned: Vec<Option<Vec<String>>>,
    /// A no-data batch: no source is read.
    no_data: bool,
    /// Stop after this batch (a graceful stop, or the trigger's last batch).
    last: bool,
    /// The files come from the write-ahead log of a crashed run (already logged).
    from_log: bool,
}

impl<F> BatchLoop<F>
where
    F: FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error>,
{
    /// Plans the files of batch `batch_id`: a crashed run's plan if it logged one, otherwise
    /// each file stream's next files (all of them, with `unlimited`).
    fn plan(&mut self, batch_id: u64, unlimited: bool) -> (Vec<Option<Vec<String>>>, bool) {
        if self.planned_log.front().is_some_and(|p| p.batch_id == batch_id) {
            let p = self.planned_log.pop_front().expect("checked");
            let planned = self
                .sources
                .iter_mut()
                .map(|s| match s {
                    RunningSource::Structured(f) => {
                        let files =
                            p.files.iter().find(|(n, _)| n == f.name()).map(|(_, v)| v.clone()).unwrap_or_default();
                        f.take_planned(&files);
                        Some(files)
                    }
                    _ => None,
                })
                .collect();
            return (planned, true);
        }
        // Logged ids run consecutively from the first batch, so a front entry of another id is
        // stale; dropping it keeps `AvailableNow` from waiting on it forever.
        self.planned_log.clear();
        let planned = self
            .sources
            .iter_mut()
            .map(|s| match s {
                RunningSource::Structured(f) => Some(f.plan(unlimited)),
                _ => None,
            })
            .collect();
        (planned, false)
    }

    /// The plan of a no-data batch: every file stream reads nothing.
    fn no_data_plan(&self) -> Vec<Option<Vec<String>>> {
        self.sources.iter().map(|s| matches!(s, RunningSource::Structured(_)).then(Vec::new)).collect()
    }

    /// Decides the next batch: waits for the clock (replay and `ProcessingTime`), applies the
    /// trigger, and plans the batch's files.
    fn next(&mut self, t: i64, ran: u64, replay_index: usize, batch_id: u64, no_data_requested: bool) -> Next {
        let control = &self.shared.control;
        let stop_state = || match control.stop_requested() {
            None => Some(false),
            Some(StopMode::Graceful) => Some(true),
            Some(StopMode::Immediate) => None,
        };
        if let Some(n) = self.replay_batches {
            let no_data = replay_index >= n;
            if no_data && !no_data_requested {
                return Next::Stop;
            }
            let last = match self.clock.wait_until(t, control) {
                Wake::Reached => false,
                Wake::Stop(StopMode::Graceful) => true,
                Wake::Stop(StopMode::Immediate) => return Next::Stop,
            };
            let planned = vec![None; self.sources.len()];
            return Next::Run(Batch { planned, no_data, last, from_log: false });
        }
        match self.trigger {
            Trigger::ProcessingTime => {
                let last = match self.clock.wait_until(t, control) {
                    Wake::Reached => false,
                    Wake::Stop(StopMode::Graceful) => true,
                    Wake::Stop(StopMode::Immediate) => return Next::Stop,
                };
                let (planned, from_log) = self.plan(batch_id, false);
                let nothing_new = planned.iter().flatten().all(Vec::is_empty);
                if self.skip_empty_ticks && nothing_new && !from_log && !no_data_requested {
                    return Next::Skip { last };
                }
                Next::Run(Batch { planned, no_data: false, last, from_log })
            }
            Trigger::Once => {
                if ran > 0 || stop_state().is_none() {
                    return Next::Stop;
                }
                let (planned, from_log) = self.plan(batch_id, true);
                // As Spark: with nothing new and no no-data batch due, `Once` runs no batch.
                if self.skip_empty_ticks
                    && !from_log
                    && !no_data_requested
                    && planned.iter().flatten().all(Vec::is_empty)
                {
                    return Next::Stop;
                }
                Next::Run(Batch { planned, no_data: false, last: true, from_log })
            }
            Trigger::AvailableNow => {
                let Some(last) = stop_state() else { return Next::Stop };
                let pending = !self.planned_log.is_empty()
                    || self.sources.iter().any(|s| matches!(s, RunningSource::Structured(f) if f.has_snapshot_files()));
                if pending || (ran == 0 && !self.has_file_streams) {
                    let (planned, from_log) = self.plan(batch_id, false);
                    Next::Run(Batch { planned, no_data: false, last, from_log })
                } else if no_data_requested {
                    Next::Run(Batch { planned: self.no_data_plan(), no_data: true, last, from_log: false })
                } else {
                    Next::Stop
                }
            }
        }
    }

    fn run(&mut self) -> Result<(), Error> {
        let mut input = BatchInput {
            time_ms: 0,
            zero_ms: self.zero_ms,
            batch_id: self.next_batch_id,
            checkpoint_interval_ms: self.checkpoint.as_ref().map(|&(_, ms)| ms),
            checkpoint_every_batch: self.structured,
            texts: vec![TextBatch::new(); self.sources.len()],
            restore: self.restore.take(),
            workers: self.workers,
        };
        let mut t = self.first_batch_ms;
        // Data batches of the replay run so far.
        let mut replay_index = 0usize;
        // Batches run by this run.
        let mut ran = 0u64;
        let mut batch_id = self.next_batch_id;
        let mut no_data_requested = self.no_data_pending;
        let mut previous_start: Option<Instant> = None;
        let (mut total_records, mut total_busy) = (0u64, Duration::ZERO);
        let result = loop {
            if self.max_batches.is_some_and(|n| ran >= n) {
                break Ok(());
            }
            let batch = match self.next(t, ran, replay_index, batch_id, no_data_requested) {
                Next::Run(b) => b,
                Next::Skip { last } => {
                    if last {
                        break Ok(());
                    }
                    t += self.interval_ms;
                    continue;
                }
                Next::Stop => break Ok(()),
            };
            let started = Instant::now();
            let started_ms = self.clock.now_ms();
            // Log the batch's files before reading them: a re-run after a crash reads these.
            if let Some((dir, _)) = &self.checkpoint
                && self.has_file_streams
                && !batch.from_log
            {
                let files = self
                    .sources
                    .iter()
                    .zip(&batch.planned)
                    .filter_map(|(s, p)| match (s, p) {
                        (RunningSource::Structured(f), Some(files)) => Some((f.name().to_owned(), files.clone())),
                        _ => None,
                    })
                    .collect();
                checkpoint::write_planned(dir, &PlannedBatch { app: self.name.clone(), batch_id, time_ms: t, files })?;
            }
            input.time_ms = t;
            input.batch_id = batch_id;
            for ((src, text), planned) in self.sources.iter_mut().zip(&mut input.texts).zip(&batch.planned) {
                text.clear();
                if batch.no_data {
                    continue;
                }
                match (src, planned) {
                    (RunningSource::Structured(f), Some(files)) => f.read(files, text)?,
                    (src, _) => src.fill(text, t)?,
                }
            }
            if self.replay_batches.is_some() && !batch.no_data {
                replay_index += 1;
            }
            let records: usize = input.texts.iter().map(TextBatch::len_lines).sum();
            self.output.begin_batch(t, batch_id);
            let handler = &mut self.handler;
            let output = &mut self.output;
            match catch_unwind(AssertUnwindSafe(|| handler(&input, output))) {
                Ok(r) => r?,
                Err(payload) => {
                    let message = payload
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a non-string panic payload".to_owned());
                    break Err(Error::Panic { batch_time_ms: t, message });
                }
            }
            self.output.end_batch()?;
            // Only the first batch of a resumed run restores.
            input.restore = None;
            let SavedStates { states, parts, part_files, new_file } = self.output.take_states();
            let requested = self.output.reports().no_data_requested;
            if let Some((dir, _)) = &self.checkpoint
                && (self.structured || !states.is_empty())
            {
                let c = Checkpoint {
                    app: self.name.clone(),
                    time_ms: t,
                    zero_ms: self.zero_ms,
                    interval_ms: self.interval_ms,
                    replay: self
                        .replay_positions
                        .iter()
                        .map(|(name, len, skipped)| (name.clone(), (skipped + replay_index as u64).min(*len)))
                        .collect(),
                    states,
                    pipeline: self.pipeline.clone(),
                    parts,
                    part_files,
                };
                let q = QueryCheckpoint {
                    batch_id,
                    query_id: self.query_id.clone(),
                    files: self
                        .sources
                        .iter()
                        .filter_map(|s| match s {
                            RunningSource::Structured(f) => Some((f.name().to_owned(), f.taken())),
                            _ => None,
                        })
                        .collect(),
                    no_data_pending: requested,
                };
                let path = checkpoint::write(dir, &c, Some(&q), new_file.as_deref(), &mut self.part_index)?;
                self.output.parts_committed(&c.parts, &c.part_files);
                if self.log {
                    eprintln!("streamc: `{}` batch {t} ms: checkpoint `{}`", self.name, path.display());
                }
            }
            let busy = started.elapsed();
            let line = Progress {
                id: &self.query_id,
                run_id: &self.run_id,
                name: &self.name,
                timestamp_ms: started_ms,
                batch_id,
                sources: self
                    .source_descriptions
                    .iter()
                    .zip(&input.texts)
                    .map(|(d, text)| (d.clone(), text.len_lines() as u64, text.skipped_lines()))
                    .collect(),
                since_previous: previous_start.map(|p| started - p),
                duration: busy,
                sink: self.output.sink_description(),
                output_rows: self.output.emitted(),
            }
            .to_json(self.output.reports());
            if let Some((path, w)) = &mut self.progress {
                w.write_all(line.as_bytes())
                    .and_then(|()| w.write_all(b"\n"))
                    .and_then(|()| w.flush())
                    .map_err(|source| Error::Output { path: path.clone(), source })?;
            }
            *lock(&self.shared.last_progress) = Some(line);
            previous_start = Some(started);
            total_records += records as u64;
            total_busy += busy;
            if self.log {
                let malformed = self.output.reports().malformed;
                eprintln!(
                    "streamc: `{}` batch {batch_id} at {t} ms{}: {records} input records{}, {} output records, processed in {:.3} ms",
                    self.name,
                    if batch.no_data { " (no data)" } else { "" },
                    if malformed > 0 { format!(" ({malformed} malformed, dropped)") } else { String::new() },
                    self.output.emitted(),
                    busy.as_secs_f64() * 1e3
                );
            }
            self.shared.completed.fetch_add(1, Ordering::SeqCst);
            no_data_requested = requested;
            batch_id += 1;
            ran += 1;
            if batch.last {
                break Ok(());
            }
            t += self.interval_ms;
        };
        if self.log {
            eprintln!(
                "streamc: `{}` ran {} batches, {total_records} input records, busy {:.3} s",
                self.name,
                self.shared.completed.load(Ordering::SeqCst),
                total_busy.as_secs_f64()
            );
        }
        result
    }
}

/// A running app. Dropping it stops the app (as [`stop`](Self::stop) with `graceful = false`)
/// and waits for the batch in flight.
pub struct StreamingHandle {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<Result<(), Error>>>,
    /// The loop's result once joined, until handed to the caller.
    result: Option<Result<(), Error>>,
}

impl std::fmt::Debug for StreamingHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingHandle").field("completed_batches", &self.completed_batches()).finish_non_exhaustive()
    }
}

impl StreamingHandle {
    fn join(&mut self) -> Result<(), Error> {
        if let Some(t) = self.thread.take() {
            let r = t.join().unwrap_or_else(|_| {
                // The loop catches handler panics; a panic here is in the runtime itself.
                Err(Error::Config("the batch loop thread panicked; this is a bug in streamc".to_owned()))
            });
            self.result = Some(r);
        }
        self.result.take().unwrap_or(Ok(()))
    }

    /// Waits until the app stops (a replay ends, a stop is requested, or an error occurs) and
    /// returns its error, if any.
    pub fn await_termination(mut self) -> Result<(), Error> {
        self.join()
    }

    /// Waits at most `d` for the app to stop; `Ok(true)` if it has stopped (an error it stopped
    /// with is returned once).
    pub fn await_termination_or_timeout(&mut self, d: Duration) -> Result<bool, Error> {
        if self.thread.is_some() && !self.shared.control.wait_finished(Some(d)) {
            return Ok(false);
        }
        self.join().map(|()| true)
    }

    /// Stops the app and waits for it. `graceful`: run one last batch with what was already
    /// received, then stop; otherwise finish the batch in flight (if any) and stop.
    pub fn stop(mut self, graceful: bool) -> Result<(), Error> {
        self.shared.control.request_stop(if graceful { StopMode::Graceful } else { StopMode::Immediate });
        self.join()
    }

    /// A handle that can request a stop from another thread.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle::new(Arc::clone(&self.shared.control))
    }

    /// The number of batches completed so far.
    pub fn completed_batches(&self) -> u64 {
        self.shared.completed.load(Ordering::SeqCst)
    }

    /// The progress line of the last completed batch (see [`App::with_progress`]; kept whether
    /// or not the app writes a progress file), or `None` before the first batch completes.
    pub fn last_progress(&self) -> Option<String> {
        lock(&self.shared.last_progress).clone()
    }
}

impl Drop for StreamingHandle {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.shared.control.request_stop(StopMode::Immediate);
            let _ = t.join();
        }
    }
}

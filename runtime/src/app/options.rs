//! A built app before it starts: [`App`], its handler and its run options (replay, jsonl,
//! progress file, clock, checkpoint directory, workers, batch limit), and
//! [`get_or_create`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::builder::AppBuilder;
use super::input::BatchInput;
use crate::clock::ManualClock;
use crate::error::Error;
use crate::sink::BatchOutput;

impl AppBuilder {
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
            ui: None,
            manual_clock: None,
            print: None,
            stop_on_signals: false,
            max_batches: None,
            workers: None,
            cpu_share: None,
            cluster: None,
        }
    }
}

/// A declared app with its handler, ready to [`start`](Self::start).
pub struct App<F> {
    pub(super) spec: AppBuilder,
    pub(super) handler: F,
    pub(super) replay: Vec<(String, PathBuf)>,
    pub(super) replay_all: Option<PathBuf>,
    pub(super) jsonl: Option<PathBuf>,
    pub(super) progress: Option<PathBuf>,
    pub(super) manual_clock: Option<ManualClock>,
    /// A replacement for stdout (tests, benchmarks); boxed because it is chosen at setup and
    /// written once per batch, never per record.
    pub(super) print: Option<Box<dyn Write + Send>>,
    /// Stop (after the batch in flight) on SIGINT/SIGTERM; set by `with_cli_args`.
    pub(crate) stop_on_signals: bool,
    pub(super) max_batches: Option<u64>,
    /// Worker threads for large batches; `None`: the number of cores.
    pub(super) workers: Option<usize>,
    /// The share of the CPUs this process keeps to: `(i, n)`, the `i`-th of `n` parts
    /// (`--cpu-share I/N`, `crate::cpus`).
    pub(super) cpu_share: Option<(usize, usize)>,
    /// Where to serve the UI and `/metrics` (`--ui ADDR`; the runtime's `ui` feature).
    pub(super) ui: Option<String>,
    /// The cluster this process is a member of: its hostfile and index (`--hostfile`,
    /// `--process`; the runtime's `cluster` feature).
    pub(super) cluster: Option<(PathBuf, usize)>,
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
    /// [`StreamingHandle::last_progress`](crate::StreamingHandle::last_progress) gives the last line without a file.
    pub fn with_progress(mut self, path: impl AsRef<Path>) -> Self {
        self.progress = Some(path.as_ref().to_owned());
        self
    }

    /// Serves a live web page of the app's batches (charts, the recent batches, the plan) and
    /// Prometheus `/metrics` on `addr` (`HOST:PORT`, port 0 for any free one; see
    /// [`StreamingHandle::ui_addr`](crate::StreamingHandle::ui_addr)) while the app runs. The same as `--ui ADDR`. Needs the
    /// runtime's `ui` feature (`streamc run --ui` turns it on): without it, starting fails.
    pub fn with_ui(mut self, addr: &str) -> Self {
        self.ui = Some(addr.to_owned());
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
    /// [`get_or_create`].
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

    /// Keeps the process (the thread that [`start`](Self::start)s it, and every thread it
    /// starts) to share `i` of `n` of the CPUs it may run on: the `i`-th of `n` consecutive
    /// parts of nearly equal size (`--cpu-share I/N`). `streamc run --processes N` gives each of
    /// the N processes its share when each can have a CPU per worker: unpinned, one process's
    /// communication threads preempted the other's batch thread. Nothing is pinned when there
    /// are fewer CPUs than parts, or off Linux.
    pub fn with_cpu_share(mut self, i: usize, n: usize) -> Self {
        self.cpu_share = Some((i, n));
        self
    }

    /// Runs as process `process` of the cluster whose members `hostfile` lists (`--hostfile`,
    /// `--process`; the runtime's `cluster` feature): every process reads the batches' input
    /// and runs its share of each split stage, the partials are gathered on every process, and
    /// process 0 writes the outputs and checkpoints (see `crate::cluster`).
    pub fn with_cluster(mut self, hostfile: PathBuf, process: usize) -> Self {
        self.cluster = Some((hostfile, process));
        self
    }

    /// Stops after `n` batches of this run (after the `n`th batch's outputs and checkpoint), as
    /// if a stop had been requested; `await_termination` then returns `Ok`. The same as
    /// `--max-batches N`.
    pub fn with_max_batches(mut self, n: u64) -> Self {
        self.max_batches = Some(n);
        self
    }
}

//! Starting an app: [`App::start`] as its named steps. Check the configuration, resume from
//! the newest checkpoint, start the sources, open the outputs, start the sockets, fix the clock
//! and the first batch, then run the batch loop on its own thread.

use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use super::batch_loop::BatchLoop;
use super::handle::{Shared, StreamingHandle};
use super::input::{BatchInput, Collective, Restored};
use super::options::App;
use super::resume::Resume;
use crate::checkpoint::{self, PlannedBatch, QueryCheckpoint};
use crate::clock::{BatchClock, Control, Trigger};
use crate::error::Error;
use crate::sink::{BatchOutput, PrintTarget};
use crate::source::{
    FileSource, KafkaLines, RateSource, ReplaySource, RunningSource, SocketSource, SourceKind, StructuredFileSource,
};
use crate::ui::Ui;

/// The smallest multiple of the batch interval that is at least 10 s: Spark's default checkpoint
/// interval for stateful streams, used when the app sets a directory but no interval.
fn default_checkpoint_interval_ms(interval_ms: i64) -> i64 {
    let n = (10_000 + interval_ms - 1) / interval_ms;
    n.max(1) * interval_ms
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

/// What [`App::start`] checked and settled before it opens anything.
struct Setup {
    interval_ms: i64,
    /// Structured Streaming rules apply ([`AppBuilder::is_structured`](crate::AppBuilder)).
    structured: bool,
    /// Per source, its replay directory; `None` when nothing is replayed.
    replay: Option<Vec<PathBuf>>,
    /// The checkpoint directory and interval.
    checkpoint: Option<(PathBuf, i64)>,
    /// The pipeline, as its checkpoints record it.
    pipeline: Vec<(String, String)>,
    /// `STREAMC_LOG` is set: batches, checkpoints and the resume are logged on stderr. Read once,
    /// here.
    log: bool,
    /// The cluster this process is one of, once connected.
    peers: Option<Arc<dyn Collective>>,
    /// The checkpoint directory's lock, held while the app runs (process 0 only).
    lock: Option<std::fs::File>,
}

/// The app's sources once started, and what the loop needs to know about them.
struct Sources {
    running: Vec<RunningSource>,
    /// For a replay: the number of data batches (the longest replay's remaining files).
    replay_batches: Option<usize>,
    /// Per replayed source: its name, its number of files, and the files skipped at start.
    replay_positions: Vec<(String, u64, u64)>,
    /// Batches planned by a crashed run, to re-run first with the same files.
    planned_log: VecDeque<PlannedBatch>,
}

/// Where the run begins: its first batch time and id, its zero time, the states to restore,
/// and whether the checkpoint's batch requested a no-data batch.
struct FirstBatch {
    time_ms: i64,
    zero_ms: i64,
    restore: Option<Restored>,
    batch_id: u64,
    no_data_pending: bool,
}

/// Where the batches' results go: the outputs, the progress file and the UI if there are.
struct Outputs {
    output: BatchOutput,
    progress: Option<(PathBuf, BufWriter<File>)>,
    ui: Option<Arc<Ui>>,
}

impl<F> App<F>
where
    F: FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send + 'static,
{
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
    pub fn start(mut self) -> Result<StreamingHandle, Error> {
        let setup = self.validate()?;
        // Before any thread starts: they inherit it.
        if let Some((i, n)) = self.cpu_share {
            crate::cpus::take_share(i, n)?;
        }
        // In a cluster, process 0 writes the outputs, progress and checkpoints; the others
        // compute the same batches and write nothing.
        let leader = self.cluster.as_ref().is_none_or(|(_, p)| *p == 0);
        if !leader {
            self.jsonl = None;
            self.progress = None;
            self.ui = None;
        }
        // Process 0 writes the checkpoint: it holds the directory's lock while the app runs.
        let mut setup = setup;
        if let (Some((dir, _)), true) = (&setup.checkpoint, leader) {
            setup.lock = Some(checkpoint::lock(dir, &self.spec.name)?);
        }
        let resume = match &setup.checkpoint {
            Some((dir, _)) => Resume::load(dir, &self.spec.name, setup.interval_ms, &setup.pipeline)?,
            None => None,
        };
        let query = resume.as_ref().and_then(|r| r.query().cloned());
        let next_batch_id = resume.as_ref().map_or(0, |r| r.next_batch_id(setup.interval_ms));
        let mut sources = self.start_sources(&setup, resume.as_ref(), query.as_ref(), next_batch_id)?;
        let mut outputs = Outputs { output: self.open_outputs(&setup)?, progress: self.open_progress()?, ui: None };
        outputs.output.remove_stale_temporaries(self.cluster.as_ref().map_or(0, |(_, p)| *p));
        if !leader {
            outputs.output.set_silent();
        }
        // Before the sockets: a UI that cannot be served stops the app before it reads anything.
        let ui = match &self.ui {
            Some(addr) => {
                let (text, dot) = &self.spec.plan;
                let ui = Ui::start(addr, &self.spec.name, text, dot)?;
                if let Some(a) = ui.addr() {
                    eprintln!("streamc: `{}`: UI at http://{a}/ (metrics at http://{a}/metrics)", self.spec.name);
                }
                Some(Arc::new(ui))
            }
            None => None,
        };
        // Sockets last: nothing can fail after a thread is running.
        self.start_sockets(&mut sources, leader)?;
        let clock = self.batch_clock(sources.replay_batches.is_some());
        let mut first = self.first_batch(&setup, &clock, &sources, resume, &mut outputs.output);
        first.batch_id = next_batch_id;
        first.no_data_pending = query.as_ref().is_some_and(|q| q.no_data_pending);
        // Every process has read the checkpoint: connecting is the barrier after which process 0
        // writes to it.
        setup.peers = self.connect_cluster()?;
        // The query id is the checkpoint directory's (its `metadata`, written on first use).
        let new_query_id = || query.as_ref().map_or_else(new_uuid, |q| q.query_id.clone());
        let query_id = match &setup.checkpoint {
            Some((dir, _)) if leader => checkpoint::query_id(dir, &self.spec.name, new_query_id)?,
            _ => new_query_id(),
        };
        outputs.ui = ui;
        self.run_loop(setup, sources, outputs, clock, first, query_id)
    }

    /// Checks what can be checked before anything is opened: the batch interval, unique source
    /// names, the replay plan and the checkpoint interval.
    fn validate(&self) -> Result<Setup, Error> {
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
        Ok(Setup {
            interval_ms,
            structured: self.spec.is_structured(),
            replay: self.replay_plan()?,
            checkpoint: self.checkpoint_config(interval_ms)?,
            pipeline: self.spec.pipeline(),
            log: std::env::var_os("STREAMC_LOG").is_some(),
            peers: None,
            lock: None,
        })
    }

    /// Opens every source but the sockets: the replay directories (skipping the files a resumed
    /// run had consumed), or the file, file stream and rate sources; then reads the batches a
    /// crashed run had planned, and under `AvailableNow` takes the file streams' snapshots.
    fn start_sources(
        &self,
        setup: &Setup,
        resume: Option<&Resume>,
        query: Option<&QueryCheckpoint>,
        next_batch_id: u64,
    ) -> Result<Sources, Error> {
        let limits = self.spec.limits;
        let mut running = Vec::with_capacity(self.spec.sources.len());
        if let Some(dirs) = &setup.replay {
            let mut longest = 0;
            let mut replay_positions = Vec::new();
            for (dir, spec) in dirs.iter().zip(&self.spec.sources) {
                let mut r = ReplaySource::open(dir, limits)?;
                let len = r.len() as u64;
                // The files the checkpointed run had consumed are skipped, unread.
                let skip = resume.map_or(0, |r| r.replay_consumed(&spec.name, len));
                r.skip(skip as usize);
                longest = longest.max((len - skip) as usize);
                replay_positions.push((spec.name.clone(), len, skip));
                running.push(RunningSource::Replay(r));
            }
            return Ok(Sources {
                running,
                replay_batches: Some(longest),
                replay_positions,
                planned_log: VecDeque::new(),
            });
        }
        for s in &self.spec.sources {
            // Take the file source's snapshot now, before start returns, so that a file
            // written right after start counts as new.
            match &s.kind {
                SourceKind::TextFiles { dir } => {
                    running.push(RunningSource::Files(FileSource::start(&s.name, dir, limits)?));
                }
                SourceKind::FileStream { dir, max_files_per_trigger } => {
                    let taken = query
                        .and_then(|q| q.files.iter().find(|(n, _)| *n == s.name))
                        .map(|(_, files)| files.clone())
                        .unwrap_or_default();
                    let f = StructuredFileSource::start(&s.name, dir, *max_files_per_trigger, taken, limits)?;
                    running.push(RunningSource::Structured(f));
                }
                SourceKind::Rate { rows_per_second } => {
                    running.push(RunningSource::Rate(RateSource::new(*rows_per_second)));
                }
                SourceKind::Kafka { options, lines } => running.push(kafka_source(&s.name, options, *lines, query)?),
                SourceKind::Socket { .. } => {}
            }
        }
        // The batches a crashed run had planned but not committed, in id order.
        let mut planned_log = VecDeque::new();
        if let Some((dir, _)) = &setup.checkpoint
            && running.iter().any(|r| r.planned().is_some())
        {
            let mut id = next_batch_id;
            while let Some(p) = checkpoint::read_planned(dir, &self.spec.name, id) {
                planned_log.push_back(p);
                id += 1;
            }
        }
        if self.spec.trigger == Trigger::AvailableNow {
            for r in &mut running {
                if let Some(f) = r.planned_mut() {
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
        Ok(Sources { running, replay_batches: None, replay_positions: Vec::new(), planned_log })
    }

    /// The outputs: standard output (or the print writer) and the jsonl file.
    fn open_outputs(&mut self, setup: &Setup) -> Result<BatchOutput, Error> {
        let print = match self.print.take() {
            Some(w) => PrintTarget::Writer(w),
            None => PrintTarget::Stdout,
        };
        let mut output = BatchOutput::new(self.spec.outputs.clone(), print, self.jsonl.as_deref())?;
        output.set_checkpointing(setup.checkpoint.is_some());
        Ok(output)
    }

    /// The progress file, truncated, if the app writes one.
    fn open_progress(&self) -> Result<Option<(PathBuf, BufWriter<File>)>, Error> {
        let Some(path) = &self.progress else { return Ok(None) };
        let f = File::create(path).map_err(|source| Error::Output { path: path.clone(), source })?;
        Ok(Some((path.clone(), BufWriter::new(f))))
    }

    /// Connects the socket sources, putting every source in declaration order (a replay has
    /// none to start).
    fn start_sockets(&self, sources: &mut Sources, leader: bool) -> Result<(), Error> {
        if sources.replay_batches.is_some() {
            return Ok(());
        }
        let mut started = sources.running.drain(..);
        let mut all = Vec::with_capacity(self.spec.sources.len());
        for s in &self.spec.sources {
            match &s.kind {
                SourceKind::FileStream { .. } | SourceKind::Kafka { .. } => {
                    all.push(started.next().expect("one per spec"));
                }
                // In a cluster, process 0 alone reads a live source (`BatchLoop::share_live`).
                SourceKind::TextFiles { .. } | SourceKind::Rate { .. } if !leader => {
                    drop(started.next().expect("one per spec"));
                    all.push(RunningSource::FromLeader);
                }
                SourceKind::Socket { .. } if !leader => all.push(RunningSource::FromLeader),
                SourceKind::TextFiles { .. } | SourceKind::Rate { .. } => {
                    all.push(started.next().expect("one per spec"))
                }
                SourceKind::Socket { host, port, stamped } => all.push(RunningSource::Socket(SocketSource::start(
                    &s.name,
                    host,
                    *port,
                    *stamped,
                    self.spec.limits,
                )?)),
            }
        }
        drop(started);
        sources.running = all;
        Ok(())
    }

    /// The clock that times the batches: a replay runs back to back, otherwise the manual clock
    /// if the app has one, or the system clock.
    fn batch_clock(&self, replay: bool) -> BatchClock {
        match (replay, &self.manual_clock) {
            (true, _) => BatchClock::Replay,
            (false, Some(c)) => BatchClock::Manual(c.clone()),
            (false, None) => BatchClock::System,
        }
    }

    /// The first batch time, fixed here and not in the loop thread: the clock may move as soon
    /// as start returns (a test advancing a manual clock), and that must already count. A
    /// resumed run continues after its checkpoint, catching up on the batches missed while it
    /// was down (as Spark does) before it follows the clock again.
    fn first_batch(
        &self,
        setup: &Setup,
        clock: &BatchClock,
        sources: &Sources,
        resume: Option<Resume>,
        output: &mut BatchOutput,
    ) -> FirstBatch {
        let interval_ms = setup.interval_ms;
        let Some(r) = resume else {
            let first = clock.first_batch_time(interval_ms);
            return FirstBatch {
                time_ms: first,
                zero_ms: first - interval_ms,
                restore: None,
                batch_id: 0,
                no_data_pending: false,
            };
        };
        if setup.log {
            eprintln!(
                "streamc: `{}` resumes from checkpoint `{}` (batch {} ms)",
                self.spec.name,
                r.path().display(),
                r.time_ms()
            );
        }
        let mut first = r.time_ms() + interval_ms;
        if setup.structured && sources.replay_batches.is_none() && self.spec.trigger == Trigger::ProcessingTime {
            first = first.max(clock.first_batch_time(interval_ms));
        }
        // The parts of the commit resumed from are on disk: not written again.
        let (zero_ms, restored) = r.into_restored(output);
        FirstBatch { time_ms: first, zero_ms, restore: Some(restored), batch_id: 0, no_data_pending: false }
    }

    /// Runs the batch loop on its own thread and returns the handle on it (watching for
    /// SIGINT/SIGTERM if the command line asked for it).
    fn run_loop(
        self,
        setup: Setup,
        sources: Sources,
        outputs: Outputs,
        clock: BatchClock,
        first: FirstBatch,
        query_id: String,
    ) -> Result<StreamingHandle, Error> {
        let mut outputs = outputs;
        outputs.output.set_query_id(&query_id);
        let ui = outputs.ui;
        let manual = match &clock {
            BatchClock::Manual(c) => Some(c.clone()),
            _ => None,
        };
        let shared = Arc::new(Shared {
            control: Control::new(manual),
            completed: AtomicU64::new(0),
            last_progress: Mutex::new(None),
        });
        let has_file_streams = sources.running.iter().any(|r| r.planned().is_some());
        let source_descriptions: Vec<String> =
            self.spec.sources.iter().map(|s| s.kind.progress_description()).collect();
        let peers_count = setup.peers.as_ref().map_or(1, |p| p.count());
        let mut batch_loop = BatchLoop {
            first_batch_ms: first.time_ms,
            zero_ms: first.zero_ms,
            restore: first.restore,
            checkpoint: setup.checkpoint,
            _lock: setup.lock,
            replay_positions: sources.replay_positions,
            max_batches: self.max_batches,
            workers: self
                .workers
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get)),
            name: self.spec.name.clone(),
            pipeline: setup.pipeline,
            handler: self.handler,
            sources: sources.running,
            in_shares: self.spec.sources.iter().map(|s| s.in_shares).collect(),
            output: outputs.output,
            clock,
            interval_ms: setup.interval_ms,
            replay_batches: sources.replay_batches,
            shared: Arc::clone(&shared),
            log: setup.log,
            trigger: self.spec.trigger,
            structured: setup.structured,
            // Spark skips ticks with no new data; with a socket we cannot tell cheaply, so an app
            // with one keeps DStream's batch at every tick.
            skip_empty_ticks: setup.structured
                && has_file_streams
                && self
                    .spec
                    .sources
                    .iter()
                    .all(|s| matches!(s.kind, SourceKind::FileStream { .. } | SourceKind::Kafka { .. })),
            has_file_streams,
            next_batch_id: first.batch_id,
            no_data_pending: first.no_data_pending,
            planned_log: sources.planned_log,
            query_id,
            run_id: new_uuid(),
            progress: outputs.progress,
            source_descriptions,
            ui: ui.clone(),
            peers: setup.peers,
            agreed: None,
            shard_writing: None,
            held: None,
            publishing: None,
            held_entries: None,
            shares: super::batch_loop::ShareBalance::new(peers_count),
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
                if let Some(ui) = &batch_loop.ui {
                    ui.finish();
                }
                r
            })
            .map_err(|source| Error::Thread { name: thread_name, source })?;
        let handle = StreamingHandle::new(shared, thread, ui);
        if self.stop_on_signals {
            crate::stop::stop_on_signals(handle.stop_handle());
        }
        Ok(handle)
    }

    /// Connects to the other processes of the cluster (`--hostfile`, `--process`).
    #[cfg(feature = "cluster")]
    fn connect_cluster(&self) -> Result<Option<Arc<dyn Collective>>, Error> {
        let Some((hostfile, process)) = &self.cluster else { return Ok(None) };
        let m = crate::cluster::Membership::from_hostfile(hostfile, *process)?;
        Ok(Some(Arc::new(crate::cluster::Peers::connect(&m)?)))
    }

    #[cfg(not(feature = "cluster"))]
    fn connect_cluster(&self) -> Result<Option<Arc<dyn Collective>>, Error> {
        match &self.cluster {
            None => Ok(None),
            Some(_) => Err(Error::Config(
                "this build of streamc-runtime cannot run as a cluster\nhelp: turn on the runtime's `cluster` feature \
                 (`streamc run --processes N` and `streamc build --cluster` do it)"
                    .to_owned(),
            )),
        }
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
}

/// Connects a Kafka source at the positions the checkpoint recorded.
#[cfg(feature = "kafka")]
fn kafka_source(
    name: &str,
    options: &[(String, String)],
    lines: KafkaLines,
    query: Option<&QueryCheckpoint>,
) -> Result<RunningSource, Error> {
    let taken = query.and_then(|q| q.files.iter().find(|(n, _)| n == name)).map(|(_, p)| p.clone()).unwrap_or_default();
    let k = crate::source::kafka::KafkaSource::start(name, options, lines, taken)?;
    Ok(RunningSource::Kafka(Box::new(k)))
}

/// Without the `kafka` feature, a Kafka source cannot start.
#[cfg(not(feature = "kafka"))]
fn kafka_source(
    name: &str,
    _options: &[(String, String)],
    _lines: KafkaLines,
    _query: Option<&QueryCheckpoint>,
) -> Result<RunningSource, Error> {
    Err(Error::Config(format!(
        "source `{name}` reads Kafka, but this build of streamc-runtime has no Kafka support\nhelp: turn on the runtime's `kafka` feature (`streamc run` and `build` do it for specs that use Kafka)"
    )))
}

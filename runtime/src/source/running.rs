//! A source as the app declares it ([`SourceKind`]) and while it runs ([`RunningSource`]), which
//! the batch loop fills at every batch time.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use super::file_stream::StructuredFileSource;
use super::files::FileSource;
use super::limits::plural;
use super::planned::Planned;
use super::rate::RateSource;
use super::replay::ReplaySource;
use super::share::Share;
use super::socket::SocketSource;
use super::text::TextBatch;
use crate::error::Error;

/// A source as declared by the app, before it runs.
#[derive(Clone, Debug)]
pub(crate) enum SourceKind {
    /// Spark's `socketTextStream`: a TCP client reading lines.
    /// With `stamped` (Structured Streaming's `includeTimestamp`), each line becomes the JSON
    /// line `{"value":..,"timestamp":..}` of the time it was received.
    Socket { host: String, port: u16, stamped: bool },
    /// Spark's `textFileStream`: files that appear in a directory.
    TextFiles { dir: PathBuf },
    /// Structured Streaming's file source: every file of a directory, old and new, once.
    FileStream { dir: PathBuf, max_files_per_trigger: Option<usize> },
    /// Structured Streaming's `rate` source: `rows_per_second` rows per second of event time.
    Rate { rows_per_second: u64 },
    /// Structured Streaming's Kafka source, or the DStream's direct stream (feature `kafka`):
    /// Spark's options as written (`kafka.bootstrap.servers`, `subscribe`, ...); `lines` says
    /// what each record's line is.
    Kafka { options: Vec<(String, String)>, lines: super::KafkaLines },
}

impl SourceKind {
    pub(crate) fn describe(&self) -> String {
        match self {
            SourceKind::Socket { host, port, .. } => format!("socket {host}:{port}"),
            SourceKind::TextFiles { dir } => format!("files in `{}`", dir.display()),
            SourceKind::FileStream { dir, max_files_per_trigger: None } => format!("file stream `{}`", dir.display()),
            SourceKind::FileStream { dir, max_files_per_trigger: Some(n) } => {
                format!("file stream `{}`, at most {n} file{} per batch", dir.display(), plural(*n))
            }
            SourceKind::Rate { rows_per_second } => format!("rate source, {rows_per_second} rows per second"),
            SourceKind::Kafka { options, .. } => format!("Kafka source ({})", kafka_topics(options)),
        }
    }

    /// The kind of source, as a checkpoint records it (a restart must read the same kinds).
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            SourceKind::Socket { .. } => "socket",
            SourceKind::TextFiles { .. } => "text files",
            SourceKind::FileStream { .. } => "file stream",
            SourceKind::Rate { .. } => "rate",
            SourceKind::Kafka { .. } => "kafka",
        }
    }

    /// The source's `description` in a progress report, in the shape of Spark's.
    pub(crate) fn progress_description(&self) -> String {
        match self {
            SourceKind::Socket { host, port, .. } => format!("TextSocketSource[host: {host}, port: {port}]"),
            SourceKind::TextFiles { dir } => format!("FileInputDStream[{}]", dir.display()),
            SourceKind::FileStream { dir, .. } => format!("FileStreamSource[{}]", dir.display()),
            SourceKind::Rate { rows_per_second } => format!("RateStreamV2[rowsPerSecond={rows_per_second}]"),
            SourceKind::Kafka { options, .. } => format!("KafkaV2[{}]", kafka_topics(options)),
        }
    }
}

/// What a Kafka source reads, as Spark's description says it: `Subscribe[a,b]`,
/// `SubscribePattern[p]` or `Assign[..]`.
fn kafka_topics(options: &[(String, String)]) -> String {
    let get = |k: &str| options.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match (get("subscribe"), get("subscribePattern"), get("assign")) {
        (Some(t), _, _) => format!("Subscribe[{t}]"),
        (_, Some(p), _) => format!("SubscribePattern[{p}]"),
        (_, _, Some(a)) => format!("Assign[{a}]"),
        _ => "no topics".to_owned(),
    }
}

/// A source while the app runs; the batch loop calls [`fill`](Self::fill) at every batch time
/// (a structured file source is planned and read by the batch loop instead).
pub(crate) enum RunningSource {
    Socket(SocketSource),
    Files(FileSource),
    Replay(ReplaySource),
    Structured(StructuredFileSource),
    Rate(RateSource),
    #[cfg(feature = "kafka")]
    Kafka(Box<super::kafka::KafkaSource>),
    /// A live source on a cluster process other than process 0: process 0 reads it, and the
    /// batch's text arrives from it in a round (`BatchLoop::share_live`).
    FromLeader,
}

impl RunningSource {
    /// Moves everything received for the batch with time `time_ms` into `batch` (cleared first);
    /// with `share` a source that can (a replay) reads only that cluster process's share, and
    /// marks the batch so ([`TextBatch::share_only`]).
    pub(crate) fn fill(&mut self, batch: &mut TextBatch, time_ms: i64, share: Option<Share>) -> Result<(), Error> {
        batch.clear();
        match self {
            RunningSource::Socket(s) => {
                s.fill(batch, time_ms);
                Ok(())
            }
            RunningSource::Files(s) => {
                s.fill(batch, time_ms);
                Ok(())
            }
            RunningSource::Replay(s) => {
                batch.share_only = share.is_some();
                s.fill(batch, share)
            }
            RunningSource::Rate(s) => {
                s.fill(batch, time_ms);
                Ok(())
            }
            // Read through `Planned::read` with the batch's plan.
            RunningSource::Structured(_) => Ok(()),
            RunningSource::FromLeader => Ok(()),
            #[cfg(feature = "kafka")]
            RunningSource::Kafka(_) => Ok(()),
        }
    }

    /// What a worker thread starts when its part of a split batch is done: a replay reads its
    /// next file ahead ([`ReplaySource::read_ahead`]); other sources have nothing to start.
    pub(crate) fn read_ahead(&self) -> Option<crate::parallel::Idle> {
        match self {
            RunningSource::Replay(r) => Some(r.read_ahead()),
            _ => None,
        }
    }

    /// Whether the source is live: what it reads depends on when it is read (a socket, a
    /// DStream's file stream, the rate source), so in a cluster process 0 alone reads it and
    /// sends the batch's text to the others.
    pub(crate) fn is_live(&self) -> bool {
        matches!(
            self,
            RunningSource::Socket(_) | RunningSource::Files(_) | RunningSource::Rate(_) | RunningSource::FromLeader
        )
    }

    /// The source as a planned one (file stream, Kafka), if it is one.
    pub(crate) fn planned(&self) -> Option<&dyn Planned> {
        match self {
            RunningSource::Structured(f) => Some(f),
            #[cfg(feature = "kafka")]
            RunningSource::Kafka(k) => Some(&**k),
            _ => None,
        }
    }

    /// [`planned`](Self::planned), mutable.
    pub(crate) fn planned_mut(&mut self) -> Option<&mut dyn Planned> {
        match self {
            RunningSource::Structured(f) => Some(f),
            #[cfg(feature = "kafka")]
            RunningSource::Kafka(k) => Some(&mut **k),
            _ => None,
        }
    }

    /// Stops background work and waits for it (a socket thread notices within its read timeout).
    pub(crate) fn shut_down(&mut self) {
        if let RunningSource::Socket(s) = self {
            s.stop.store(true, Ordering::SeqCst);
            if let Some(t) = s.thread.take() {
                let _ = t.join();
            }
        }
    }
}

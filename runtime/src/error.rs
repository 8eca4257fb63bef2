//! The runtime's one error type: every failure a running app can report, naming what failed.

use std::io;
use std::path::PathBuf;

/// An error from starting or running an app.
///
/// Messages follow rustc's voice (lowercase, no trailing period, names in backticks) and always
/// name the path or source involved, because they are printed as the whole diagnosis by
/// [`App::run_main`](crate::App::run_main).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input could not be read (a replay directory or file, a source directory).
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The file or directory that could not be read.
        path: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// An output could not be written (a `save_as_text_files` directory, the jsonl file).
    #[error("cannot write output `{}`: {source}", path.display())]
    Output {
        /// The file or directory that could not be written.
        path: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// Standard output could not be written (for example a closed pipe).
    #[error("cannot write to standard output: {0}")]
    Stdout(#[source] io::Error),
    /// A query failed on its data, as Spark fails a batch (an ANSI cast of a malformed value).
    #[error("query `{query}` failed: {message}")]
    Query {
        /// The query's name.
        query: String,
        /// Spark's message, with its error class first (`[CAST_INVALID_INPUT] ...`).
        message: String,
    },
    /// The app is configured in a way that cannot run (for example replay for some sources only).
    #[error("{0}")]
    Config(String),
    /// The processes of a cluster could not connect, or one of them went away.
    #[error("cluster: {0}")]
    Cluster(String),
    /// The command line of a generated binary is malformed.
    #[error("{0}")]
    Usage(String),
    /// A runtime thread could not be started.
    #[error("cannot start thread `{name}`: {source}")]
    Thread {
        /// The name of the thread.
        name: String,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// A checkpoint could not be written (its temporary file, the final file, or the directory);
    /// the outputs of the batch it was for are complete.
    #[error("cannot write checkpoint `{}`: {source}", path.display())]
    CheckpointWrite {
        /// The file or directory that could not be written.
        path: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// A checkpoint could not be used: a directory whose checkpoint files are all corrupt, a
    /// checkpoint that does not fit the app, or a saved state that its `restore` rejected.
    #[error("{message}")]
    Checkpoint {
        /// The checkpoint file, or the directory when no file was usable.
        path: PathBuf,
        /// The whole diagnosis, naming `path`.
        message: String,
    },
    /// A record could not be parsed and the query fails fast on malformed records (Spark's
    /// `FAILFAST` mode); with `DROPMALFORMED` such records are dropped and counted instead (see
    /// [`BatchOutput::report_malformed`](crate::BatchOutput::report_malformed)).
    #[error("malformed record at {}:{line}: {message}", path.display())]
    Malformed {
        /// The file the record was read from ([`TextBatch::origin`](crate::TextBatch::origin)).
        path: PathBuf,
        /// The record's 1-based line number in that file.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// The batch handler (user code) panicked; the panic message was already printed by the
    /// panic hook, this carries it too so that callers can report it.
    #[error("the batch handler panicked at batch time {batch_time_ms} ms: {message}")]
    Panic {
        /// The batch whose handler panicked.
        batch_time_ms: i64,
        /// The panic payload, if it was a string.
        message: String,
    },
}

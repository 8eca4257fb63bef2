//! Checkpoints: the checkpoint directory's layout, its files (state snapshots, batch positions,
//! planned batches), written atomically with a checksum, and [`get_or_create`], Spark's
//! `StreamingContext.getOrCreate`.
//!
//! # Layout (version 3)
//!
//! ```text
//! DIR/
//! ├── metadata                     which app and query the directory belongs to (JSON)
//! ├── offsets/                     planned batches (Spark's offset log), by batch id
//! │   ├── 00000000000000000006     written before batch 6 runs: the files it reads
//! │   └── 00000000000000000007
//! └── commits/                     commits, by batch time in ms
//!     ├── 00000000000000004000     written after the batch at 4000 ms: position, query, pipeline,
//!     └── 00000000000000005000       and every state snapshot of that batch
//! ```
//!
//! Numbers in names are zero-padded to 20 digits so that names sort by number.
//!
//! - `metadata` is written once, when a run first uses the directory, and never changes: one
//!   line of JSON, `{"version":3,"app":"NAME","id":"QUERY_ID"}`, ending in a newline. A run of
//!   another app is refused, and the query id (Spark's `StreamingQuery.id`) is the same for
//!   every run over the directory. A metadata file that cannot be read is an error naming it
//!   (it has no checksum: JSON's structure, the final newline, the version and the check that
//!   the newest commit carries the same query id stand for one).
//! - `offsets/<N>` ([`PlannedBatch`]) is written, by apps with Structured Streaming file
//!   sources, before batch `N` runs and records the files it will read, so that a batch re-run
//!   after a crash reads the same files. A damaged one is reported and the batch planned afresh.
//! - `commits/<T>` ([`Checkpoint`] plus its [`QueryCheckpoint`]) is written after the batch at
//!   time `T` (DStream apps: after the batches whose handler saved state; Structured Streaming
//!   apps: after every batch). The state snapshots stay inside the commit rather than in a
//!   `state/` directory of their own: one file is one atomic write with one checksum, so a
//!   commit can never be paired with a missing or foreign snapshot. On restart the newest
//!   usable commit is resumed from; a newer one that is damaged is reported with a warning and
//!   skipped; if there are commits but none is usable, the run stops with an error naming the
//!   directory.
//!
//! Every file is written as `.<name>.tmp` beside its final name, fsynced, renamed into place,
//! and its directory fsynced (a directory created for it is made durable by fsyncing its
//! parent): a reader sees a complete file or none. Temporary files a crash left behind are
//! deleted when a run starts. After each commit the newest [`KEEP`] commits and [`KEEP_PLANNED`]
//! planned batches are kept, older ones deleted.
//!
//! The flat layout of earlier versions, `DIR/checkpoint-<T>` and `DIR/offsets-<N>` (same file
//! formats, no metadata), is still read: its files count as commits and planned batches beside
//! the new ones, so an old directory resumes, gets its `metadata` (with the query id of its
//! newest commit), is written in the new layout from then on, and loses its old files to the
//! retention above as new commits are written.
//!
//! # Commit file format (version 3; version 2, without the pipeline section, is read too)
//!
//! All integers little-endian; a *string* is a `u32` byte length then UTF-8 bytes; *bytes* is a
//! `u64` length then the bytes; *names* is a `u32` count then that many strings.
//!
//! | field              | encoding                                                     |
//! |--------------------|--------------------------------------------------------------|
//! | magic              | the 8 bytes `SCCKPT\r\n`                                     |
//! | version            | `u32`, [`FORMAT_VERSION`]                                    |
//! | app name           | string                                                       |
//! | batch time `T`     | `i64` ms                                                     |
//! | zero time          | `i64` ms (Spark's `zeroTime`: first batch time − interval)   |
//! | batch interval     | `i64` ms                                                     |
//! | replay positions   | `u32` count, then per source: name (string), `u64` next file |
//! | states             | `u32` count, then per state: name (string), bytes            |
//! | query (v2)         | `u8` 0 (none) or 1 then a [`QueryCheckpoint`]:               |
//! | · batch id         | `u64`, the id of the batch after which it was written        |
//! | · query id         | string                                                       |
//! | · files read       | `u32` count, then per file source: name (string), names      |
//! | · no-data pending  | `u8` 0 or 1                                                  |
//! | pipeline (v3)      | `u32` count, then per entry: key (string), value (string)    |
//! | checksum           | `u64` FNV-1a 64 of every byte before it                      |
//!
//! A planned batch (`offsets/<N>`): magic `SCOFFS\r\n`, version `u32`, app name (string),
//! batch id `u64`, batch time `i64`, `u32` count then per file source: name (string), names;
//! checksum as above. Version 1 files are not read.
//!
//! FNV-1a changes its value for any single changed byte (each step is a bijection of the hash
//! for a fixed input byte), and the length prefixes plus the trailing checksum make a truncated
//! file fail to decode.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::app::{App, BatchInput, BatchOutput};
use crate::error::Error;

/// How many commits are kept; older ones are deleted after each commit. More than one, so that
/// a commit damaged on disk after its write leaves an older one to resume from.
pub const KEEP: usize = 3;

/// How many planned batches are kept: enough to re-run, from the oldest commit kept, the batches
/// after it.
pub const KEEP_PLANNED: usize = KEEP + 1;

/// The name of the directory's metadata file.
pub const METADATA: &str = "metadata";

/// The name of the subdirectory of commits.
pub const COMMITS: &str = "commits";

/// The name of the subdirectory of planned batches.
pub const OFFSETS: &str = "offsets";

/// The version of the file formats and of the directory layout written (the `version` of
/// `metadata`); commits and planned batches of other versions are not read.
pub const FORMAT_VERSION: u32 = 3;

/// The oldest version still read (its checkpoints have no pipeline section, so a change of
/// pipeline is not detected on them).
pub const OLDEST_READ_VERSION: u32 = 2;

const MAGIC: &[u8; 8] = b"SCCKPT\r\n";
const PLANNED_MAGIC: &[u8; 8] = b"SCOFFS\r\n";
/// The commit files of the flat layout: `DIR/checkpoint-<T>`.
const LEGACY_PREFIX: &str = "checkpoint-";
/// The planned batches of the flat layout: `DIR/offsets-<N>`.
const LEGACY_PLANNED_PREFIX: &str = "offsets-";

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

/// The contents of one commit file (`commits/<T>`), apart from its query section.
///
/// Law: `Checkpoint::decode(&c.encode()) == Ok(c)`, and `decode` fails on any truncation or any
/// changed byte of an encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The name of the app that wrote it.
    pub app: String,
    /// The time of the batch after which it was written, in ms.
    pub time_ms: i64,
    /// The app's zero time (first batch time − batch interval), in ms.
    pub zero_ms: i64,
    /// The batch interval, in ms.
    pub interval_ms: i64,
    /// Per replayed source: its name and the index of the next replay file to read.
    pub replay: Vec<(String, u64)>,
    /// Every state saved in the batch: its name and its [`Checkpointed::save`] bytes.
    ///
    /// [`Checkpointed::save`]: crate::persist::Checkpointed::save
    pub states: Vec<(String, Vec<u8>)>,
    /// What the pipeline that wrote it was (version 3): `source NAME` → its kind and `state
    /// NAME` → its description ([`AppBuilder::describe_state`](crate::AppBuilder::describe_state)),
    /// so that a restart with a changed pipeline is refused, naming what changed.
    pub pipeline: Vec<(String, String)>,
}

/// How the pipeline of `now` differs from the one that wrote `saved` (both as
/// [`Checkpoint::pipeline`]): one sentence per source or stateful operator that is gone, new, or
/// changed. Empty when they agree (or when `saved` is empty: a version 2 checkpoint).
pub fn pipeline_changes(saved: &[(String, String)], now: &[(String, String)]) -> Vec<String> {
    if saved.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (k, v) in saved {
        match now.iter().find(|(n, _)| n == k) {
            None => out.push(format!("{k} ({v}) is gone")),
            Some((_, w)) if w != v => out.push(format!("{k} was `{v}`, now `{w}`")),
            Some(_) => {}
        }
    }
    for (k, v) in now {
        if !saved.iter().any(|(n, _)| n == k) {
            out.push(format!("{k} ({v}) is new"));
        }
    }
    out
}

/// The Structured Streaming part of a checkpoint: where the query is, so that a restart
/// continues its batch ids and does not read a file twice.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryCheckpoint {
    /// The id of the batch after which the checkpoint was written.
    pub batch_id: u64,
    /// The query's id, stable across restarts (Spark's `StreamingQuery.id`).
    pub query_id: String,
    /// Per file source: its name and every file it has read, sorted.
    pub files: Vec<(String, Vec<String>)>,
    /// Whether that batch requested a no-data batch after it.
    pub no_data_pending: bool,
}

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

/// The file name, inside [`OFFSETS`], of the planned batch `batch_id`: zero-padded so names sort
/// by id.
///
/// ```
/// assert_eq!(streamc_runtime::checkpoint::planned_file_name(7), "00000000000000000007");
/// ```
pub fn planned_file_name(batch_id: u64) -> String {
    format!("{batch_id:020}")
}

/// Where the planned batch `batch_id` of checkpoint directory `dir` is written.
///
/// ```
/// use std::path::Path;
/// let p = streamc_runtime::checkpoint::planned_path(Path::new("ck"), 7);
/// assert_eq!(p, Path::new("ck/offsets/00000000000000000007"));
/// ```
pub fn planned_path(dir: &Path, batch_id: u64) -> PathBuf {
    dir.join(OFFSETS).join(planned_file_name(batch_id))
}

/// Why a file is not a usable checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// The bytes are damaged: truncated, empty, a wrong checksum or a malformed field.
    Corrupt(String),
    /// The file is intact but not for this program: another format version or app.
    Mismatch(String),
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalid::Corrupt(why) => write!(f, "is corrupt ({why})"),
            Invalid::Mismatch(why) => write!(f, "cannot be used ({why})"),
        }
    }
}

/// FNV-1a, 64 bits: the checksum of checkpoint files.
///
/// ```
/// assert_eq!(streamc_runtime::checkpoint::fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
/// assert_eq!(streamc_runtime::checkpoint::fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
/// ```
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The file name, inside [`COMMITS`], of the commit of batch time `time_ms`: zero-padded so
/// names sort by time.
///
/// ```
/// assert_eq!(streamc_runtime::checkpoint::file_name(4000), "00000000000000004000");
/// ```
pub fn file_name(time_ms: i64) -> String {
    format!("{time_ms:020}")
}

/// Where the commit of batch time `time_ms` of checkpoint directory `dir` is written.
///
/// ```
/// use std::path::Path;
/// let p = streamc_runtime::checkpoint::commit_path(Path::new("ck"), 4000);
/// assert_eq!(p, Path::new("ck/commits/00000000000000004000"));
/// ```
pub fn commit_path(dir: &Path, time_ms: i64) -> PathBuf {
    dir.join(COMMITS).join(file_name(time_ms))
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    let len = u32::try_from(s.len()).expect("a name shorter than 4 GiB");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_files(out: &mut Vec<u8>, files: &[(String, Vec<String>)]) {
    out.extend_from_slice(&u32::try_from(files.len()).expect("fewer than 2^32 sources").to_le_bytes());
    for (source, names) in files {
        put_str(out, source);
        out.extend_from_slice(&u32::try_from(names.len()).expect("fewer than 2^32 files").to_le_bytes());
        for n in names {
            put_str(out, n);
        }
    }
}

/// Checks the magic and the checksum of `bytes`; returns the body after the magic.
fn checked_body<'a>(bytes: &'a [u8], magic: &[u8; 8], what: &str) -> Result<&'a [u8], Invalid> {
    if bytes.is_empty() {
        return Err(Invalid::Corrupt("the file is empty".to_owned()));
    }
    if bytes.len() < magic.len() + 4 + 8 {
        return Err(Invalid::Corrupt(format!("only {} bytes long", bytes.len())));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    if !body.starts_with(magic) {
        return Err(Invalid::Corrupt(format!("not a streamc {what} file")));
    }
    let want = u64::from_le_bytes(sum.try_into().expect("8 bytes"));
    if fnv1a64(body) != want {
        return Err(Invalid::Corrupt("checksum mismatch".to_owned()));
    }
    Ok(&body[magic.len()..])
}

/// A reader over the checkpoint bytes; every read fails on truncation.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Invalid> {
        if self.0.len() < n {
            return Err(Invalid::Corrupt(format!("truncated in the {what}")));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self, what: &str) -> Result<u32, Invalid> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }

    fn u64(&mut self, what: &str) -> Result<u64, Invalid> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().expect("8 bytes")))
    }

    fn i64(&mut self, what: &str) -> Result<i64, Invalid> {
        Ok(i64::from_le_bytes(self.take(8, what)?.try_into().expect("8 bytes")))
    }

    fn str(&mut self, what: &str) -> Result<String, Invalid> {
        let len = self.u32(what)? as usize;
        let bytes = self.take(len, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| Invalid::Corrupt(format!("the {what} is not UTF-8")))
    }

    fn bytes(&mut self, what: &str) -> Result<Vec<u8>, Invalid> {
        let len = usize::try_from(self.u64(what)?).map_err(|_| Invalid::Corrupt(format!("the {what} is too long")))?;
        Ok(self.take(len, what)?.to_vec())
    }

    fn flag(&mut self, what: &str) -> Result<bool, Invalid> {
        match self.take(1, what)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(Invalid::Corrupt(format!("the {what} is {b}, not 0 or 1"))),
        }
    }

    fn files(&mut self, what: &str) -> Result<Vec<(String, Vec<String>)>, Invalid> {
        let n = self.u32(what)?;
        let mut files = Vec::new();
        for _ in 0..n {
            let source = self.str(what)?;
            let m = self.u32(what)?;
            // No `with_capacity(m)`: a damaged count must not allocate gigabytes.
            let mut names = Vec::new();
            for _ in 0..m {
                names.push(self.str(what)?);
            }
            files.push((source, names));
        }
        Ok(files)
    }

    fn version(&mut self) -> Result<u32, Invalid> {
        let version = self.u32("version")?;
        if !(OLDEST_READ_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(Invalid::Mismatch(format!(
                "format version {version}, this runtime reads versions {OLDEST_READ_VERSION} to {FORMAT_VERSION}"
            )));
        }
        Ok(version)
    }

    fn end(&self) -> Result<(), Invalid> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Invalid::Corrupt(format!("{} unexpected bytes at the end", self.0.len())))
        }
    }
}

impl Checkpoint {
    /// The file's bytes, checksum included, with no query section.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_with(None)
    }

    /// The file's bytes, checksum included, with `query` as its query section.
    pub fn encode_with(&self, query: Option<&QueryCheckpoint>) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.states.iter().map(|(n, b)| n.len() + b.len() + 12).sum::<usize>());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        put_str(&mut out, &self.app);
        out.extend_from_slice(&self.time_ms.to_le_bytes());
        out.extend_from_slice(&self.zero_ms.to_le_bytes());
        out.extend_from_slice(&self.interval_ms.to_le_bytes());
        out.extend_from_slice(&u32::try_from(self.replay.len()).expect("fewer than 2^32 sources").to_le_bytes());
        for (name, next) in &self.replay {
            put_str(&mut out, name);
            out.extend_from_slice(&next.to_le_bytes());
        }
        out.extend_from_slice(&u32::try_from(self.states.len()).expect("fewer than 2^32 states").to_le_bytes());
        for (name, bytes) in &self.states {
            put_str(&mut out, name);
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        match query {
            None => out.push(0),
            Some(q) => {
                out.push(1);
                out.extend_from_slice(&q.batch_id.to_le_bytes());
                put_str(&mut out, &q.query_id);
                put_files(&mut out, &q.files);
                out.push(u8::from(q.no_data_pending));
            }
        }
        out.extend_from_slice(&u32::try_from(self.pipeline.len()).expect("fewer than 2^32 entries").to_le_bytes());
        for (k, v) in &self.pipeline {
            put_str(&mut out, k);
            put_str(&mut out, v);
        }
        let sum = fnv1a64(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Reads a file's bytes, checking the checksum and the format version (not the app name).
    pub fn decode(bytes: &[u8]) -> Result<Self, Invalid> {
        Self::decode_with(bytes).map(|(c, _)| c)
    }

    /// [`decode`](Self::decode), also returning the query section.
    pub fn decode_with(bytes: &[u8]) -> Result<(Self, Option<QueryCheckpoint>), Invalid> {
        let mut r = Reader(checked_body(bytes, MAGIC, "checkpoint")?);
        let version = r.version()?;
        let app = r.str("app name")?;
        let time_ms = r.i64("batch time")?;
        let zero_ms = r.i64("zero time")?;
        let interval_ms = r.i64("batch interval")?;
        let n = r.u32("replay positions")?;
        let mut replay = Vec::new();
        for _ in 0..n {
            let name = r.str("replay positions")?;
            replay.push((name, r.u64("replay positions")?));
        }
        let n = r.u32("states")?;
        let mut states = Vec::new();
        for _ in 0..n {
            let name = r.str("state name")?;
            states.push((name, r.bytes("state bytes")?));
        }
        let query = if r.flag("query section flag")? {
            let batch_id = r.u64("batch id")?;
            let query_id = r.str("query id")?;
            let files = r.files("files read")?;
            let no_data_pending = r.flag("no-data flag")?;
            Some(QueryCheckpoint { batch_id, query_id, files, no_data_pending })
        } else {
            None
        };
        let mut pipeline = Vec::new();
        if version >= 3 {
            for _ in 0..r.u32("pipeline")? {
                let k = r.str("pipeline")?;
                pipeline.push((k, r.str("pipeline")?));
            }
        }
        r.end()?;
        Ok((Checkpoint { app, time_ms, zero_ms, interval_ms, replay, states, pipeline }, query))
    }
}

impl PlannedBatch {
    /// The file's bytes, checksum included.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(PLANNED_MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        put_str(&mut out, &self.app);
        out.extend_from_slice(&self.batch_id.to_le_bytes());
        out.extend_from_slice(&self.time_ms.to_le_bytes());
        put_files(&mut out, &self.files);
        let sum = fnv1a64(&out);
        out.extend_from_slice(&sum.to_le_bytes());
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

/// The contents of a checkpoint directory's [`METADATA`] file.
///
/// Law: `Metadata::decode(&m.encode()) == Ok(m)`, and `decode` fails on any truncation of an
/// encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// The layout version, [`FORMAT_VERSION`] when written by this runtime.
    pub version: u32,
    /// The name of the app the directory belongs to.
    pub app: String,
    /// The query's id, the same for every run over the directory.
    pub id: String,
}

impl Metadata {
    /// The file's bytes: one line of JSON, newline included.
    ///
    /// ```
    /// use streamc_runtime::checkpoint::Metadata;
    /// let m = Metadata { version: 3, app: "wc".into(), id: "q-1".into() };
    /// assert_eq!(m.encode(), b"{\"version\":3,\"app\":\"wc\",\"id\":\"q-1\"}\n");
    /// ```
    pub fn encode(&self) -> Vec<u8> {
        let mut out = format!("{{\"version\":{},\"app\":", self.version);
        json_string(&mut out, &self.app);
        out.push_str(",\"id\":");
        json_string(&mut out, &self.id);
        out.push_str("}\n");
        out.into_bytes()
    }

    /// Reads a file's bytes, checking the format version (not the app name). Keys other than
    /// `version`, `app` and `id` are ignored.
    pub fn decode(bytes: &[u8]) -> Result<Self, Invalid> {
        if bytes.is_empty() {
            return Err(Invalid::Corrupt("the file is empty".to_owned()));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| Invalid::Corrupt("not UTF-8".to_owned()))?;
        // Written as one line ending in a newline: a missing newline is a truncated file.
        let Some(line) = text.strip_suffix('\n') else {
            return Err(Invalid::Corrupt("truncated: no newline at the end".to_owned()));
        };
        let fields = JsonObject::parse(line).map_err(|why| Invalid::Corrupt(format!("not a JSON object: {why}")))?;
        let field = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let version = match field("version") {
            Some(JsonValue::Number(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
            Some(JsonValue::String(_)) => return Err(Invalid::Corrupt("`version` is not a number".to_owned())),
            None => return Err(Invalid::Corrupt("no `version`".to_owned())),
        };
        if !(3..=FORMAT_VERSION).contains(&version) {
            return Err(Invalid::Mismatch(format!(
                "layout version {version}, this runtime reads version {FORMAT_VERSION}"
            )));
        }
        let string = |key: &str| match field(key) {
            Some(JsonValue::String(s)) => Ok(s.clone()),
            Some(JsonValue::Number(_)) => Err(Invalid::Corrupt(format!("`{key}` is not a string"))),
            None => Err(Invalid::Corrupt(format!("no `{key}`"))),
        };
        Ok(Metadata { version, app: string("app")?, id: string("id")? })
    }
}

/// Appends `s` as a JSON string.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A value of the metadata's JSON: the file has strings and whole numbers only.
enum JsonValue {
    String(String),
    Number(u64),
}

/// A flat JSON object, parsed by hand: the runtime has no JSON dependency, and the metadata file
/// needs only this much.
struct JsonObject;

impl JsonObject {
    fn parse(text: &str) -> Result<Vec<(String, JsonValue)>, String> {
        let mut p = text.trim().chars().peekable();
        let mut fields = Vec::new();
        let skip_ws = |p: &mut std::iter::Peekable<std::str::Chars<'_>>| {
            while p.next_if(|c| c.is_ascii_whitespace()).is_some() {}
        };
        if p.next() != Some('{') {
            return Err("it does not start with `{`".to_owned());
        }
        skip_ws(&mut p);
        if p.next_if_eq(&'}').is_none() {
            loop {
                skip_ws(&mut p);
                let key = Self::string(&mut p)?;
                skip_ws(&mut p);
                if p.next() != Some(':') {
                    return Err(format!("no `:` after `{key}`"));
                }
                skip_ws(&mut p);
                let value = match p.peek() {
                    Some('"') => JsonValue::String(Self::string(&mut p)?),
                    Some(c) if c.is_ascii_digit() => {
                        let mut n: u64 = 0;
                        while let Some(d) = p.next_if(char::is_ascii_digit) {
                            n = n
                                .checked_mul(10)
                                .and_then(|n| n.checked_add(u64::from(d as u8 - b'0')))
                                .ok_or_else(|| format!("`{key}` is too large"))?;
                        }
                        JsonValue::Number(n)
                    }
                    _ => return Err(format!("`{key}` is neither a string nor a whole number")),
                };
                fields.push((key, value));
                skip_ws(&mut p);
                match p.next() {
                    Some(',') => continue,
                    Some('}') => break,
                    _ => return Err("no `,` or `}` after a value".to_owned()),
                }
            }
        }
        if p.next().is_some() {
            return Err("text after the closing `}`".to_owned());
        }
        Ok(fields)
    }

    fn string(p: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<String, String> {
        if p.next() != Some('"') {
            return Err("a key or value is not a string".to_owned());
        }
        let mut s = String::new();
        loop {
            match p.next().ok_or("an unterminated string")? {
                '"' => return Ok(s),
                '\\' => match p.next().ok_or("an unterminated string")? {
                    '"' => s.push('"'),
                    '\\' => s.push('\\'),
                    '/' => s.push('/'),
                    'b' => s.push('\u{8}'),
                    'f' => s.push('\u{c}'),
                    'n' => s.push('\n'),
                    'r' => s.push('\r'),
                    't' => s.push('\t'),
                    'u' => {
                        let hex: String = (0..4).filter_map(|_| p.next()).collect();
                        let code = u32::from_str_radix(&hex, 16).map_err(|_| format!("a bad escape `\\u{hex}`"))?;
                        // Only what `json_string` writes: control characters, never surrogates.
                        s.push(char::from_u32(code).ok_or_else(|| format!("a bad escape `\\u{hex}`"))?);
                    }
                    c => return Err(format!("a bad escape `\\{c}`")),
                },
                c => s.push(c),
            }
        }
    }
}

/// The commits of `dir` with their batch times, oldest first (at one time, a commit of the flat
/// layout before the one in [`COMMITS`]); `None` if `dir` does not exist. Other names
/// (temporary files included) are ignored.
fn list_commits(dir: &Path) -> Result<Option<Vec<(i64, PathBuf)>>, Error> {
    list_both(dir, COMMITS, LEGACY_PREFIX)
}

/// The planned batches of `dir`, as [`list_commits`] lists commits.
fn list_planned(dir: &Path) -> Result<Option<Vec<(u64, PathBuf)>>, Error> {
    list_both(dir, OFFSETS, LEGACY_PLANNED_PREFIX)
}

/// The files numbered `N` in `dir/sub` and named `legacy_prefix` then `N` in `dir`, ordered by
/// `N` and, for the same `N`, the flat layout's first; `None` if `dir` does not exist.
fn list_both<N: std::str::FromStr + Ord + Copy>(
    dir: &Path,
    sub: &str,
    legacy_prefix: &str,
) -> Result<Option<Vec<(N, PathBuf)>>, Error> {
    let Some(legacy) = list_prefixed::<N>(dir, legacy_prefix)? else { return Ok(None) };
    let current = list_prefixed::<N>(&dir.join(sub), "")?.unwrap_or_default();
    let mut all: Vec<(N, bool, PathBuf)> = legacy.into_iter().map(|(n, p)| (n, false, p)).collect();
    all.extend(current.into_iter().map(|(n, p)| (n, true, p)));
    all.sort_by_key(|a| (a.0, a.1));
    Ok(Some(all.into_iter().map(|(n, _, p)| (n, p)).collect()))
}

/// The files of `dir` named `prefix` then a number, with the number, in number order; `None` if
/// `dir` does not exist.
fn list_prefixed<N: std::str::FromStr + Ord>(dir: &Path, prefix: &str) -> Result<Option<Vec<(N, PathBuf)>>, Error> {
    let io_err = |source| Error::Io { path: dir.to_owned(), source };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(e)),
    };
    let mut files = Vec::new();
    for e in entries {
        let e = e.map_err(io_err)?;
        let name = e.file_name();
        // Only digits (and a sign) after the prefix: `str::parse` would also accept `+5`.
        let Some(t) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .filter(|t| !t.is_empty() && t.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<N>().ok())
        else {
            continue;
        };
        files.push((t, e.path()));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Some(files))
}

/// A checkpoint read from a file.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) path: PathBuf,
    pub(crate) checkpoint: Checkpoint,
    pub(crate) query: Option<QueryCheckpoint>,
}

/// The metadata of `dir` for app `app`; `None` if there is none (a fresh directory, or one of
/// the flat layout). A metadata file that cannot be read, or that names another app, is an
/// error naming it: guessing would mix two queries' files.
fn read_metadata(dir: &Path, app: &str) -> Result<Option<Metadata>, Error> {
    let path = dir.join(METADATA);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::Io { path, source: e }),
    };
    let why = match Metadata::decode(&bytes) {
        Ok(m) if m.app == app => return Ok(Some(m)),
        Ok(m) => {
            return Err(Error::Checkpoint {
                message: format!(
                    "checkpoint metadata `{}` was written by app `{}`, this app is `{app}`\n\
                     help: use another checkpoint directory (`--checkpoint NEW_DIR`) for `{app}`",
                    path.display(),
                    m.app
                ),
                path,
            });
        }
        Err(why) => why,
    };
    Err(Error::Checkpoint {
        message: format!(
            "checkpoint metadata `{}` {why}\n\
             help: delete `{}` to have it written again (with the query id of the newest commit), \
             or start afresh in another checkpoint directory (`--checkpoint NEW_DIR`)",
            path.display(),
            path.display()
        ),
        path,
    })
}

/// The newest usable commit of `dir` for app `app`, with its path; `None` for a fresh start
/// (no directory, or no commit in it).
///
/// First checks the directory's metadata ([`read_metadata`]). Each newer commit that is not
/// usable is reported on stderr and skipped. If there are commits but none is usable, fails
/// naming the directory and every file's problem: resuming from nothing would silently drop
/// the state the files were meant to keep.
pub(crate) fn load_latest(dir: &Path, app: &str) -> Result<Option<Loaded>, Error> {
    let metadata = read_metadata(dir, app)?;
    let Some(files) = list_commits(dir)? else {
        return Ok(None);
    };
    let mut problems = Vec::new();
    for (i, (_, path)) in files.iter().enumerate().rev() {
        let checked = match std::fs::read(path) {
            Ok(bytes) => Checkpoint::decode_with(&bytes).and_then(|(c, q)| {
                if c.app == app {
                    Ok((c, q))
                } else {
                    Err(Invalid::Mismatch(format!("written by app `{}`, this app is `{app}`", c.app)))
                }
            }),
            Err(e) => Err(Invalid::Corrupt(format!("cannot read it: {e}"))),
        };
        match checked {
            Ok((checkpoint, query)) => {
                if let (Some(m), Some(q)) = (&metadata, &query)
                    && m.id != q.query_id
                {
                    let meta = dir.join(METADATA);
                    return Err(Error::Checkpoint {
                        message: format!(
                            "checkpoint metadata `{}` names query `{}`, but commit `{}` was written by query `{}`\n\
                             help: delete `{}` to have it written again from the newest commit, \
                             or start afresh in another checkpoint directory (`--checkpoint NEW_DIR`)",
                            meta.display(),
                            m.id,
                            path.display(),
                            q.query_id,
                            meta.display()
                        ),
                        path: meta,
                    });
                }
                return Ok(Some(Loaded { path: path.clone(), checkpoint, query }));
            }
            Err(why) => {
                if i > 0 {
                    eprintln!("warning: checkpoint `{}` {why}; using the previous one", path.display());
                }
                problems.push(format!("`{}` {why}", path.display()));
            }
        }
    }
    if problems.is_empty() {
        return Ok(None);
    }
    Err(Error::Checkpoint {
        path: dir.to_owned(),
        message: format!(
            "no usable checkpoint in `{}`: {}\nhelp: remove the directory (or its `{COMMITS}` subdirectory) to start afresh",
            dir.display(),
            problems.join("; ")
        ),
    })
}

/// The query id of the checkpoint directory `dir` of app `app`: its metadata's, or, when it has
/// none yet (a fresh directory, or one of the flat layout), `new_id()`, which is then written
/// as its metadata. Called when a run starts, after [`load_latest`].
pub(crate) fn query_id(dir: &Path, app: &str, new_id: impl FnOnce() -> String) -> Result<String, Error> {
    if let Some(m) = read_metadata(dir, app)? {
        return Ok(m.id);
    }
    let m = Metadata { version: FORMAT_VERSION, app: app.to_owned(), id: new_id() };
    write_atomic(dir, METADATA, &m.encode())?;
    Ok(m.id)
}

/// Deletes the temporary files a crashed write may have left in `dir` and its subdirectories;
/// failures are ignored (a leftover temporary file is never read).
pub(crate) fn remove_stale_temp_files(dir: &Path) {
    for d in [dir.to_owned(), dir.join(COMMITS), dir.join(OFFSETS)] {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            // Every temporary name is `.NAME.tmp`; in `dir` itself only the ones this module
            // writes are touched, as the directory may hold the user's files too.
            let name = e.file_name();
            let Some(n) = name.to_str() else { continue };
            let ours = n.starts_with('.')
                && n.ends_with(".tmp")
                && (d != dir
                    || n.starts_with(&format!(".{LEGACY_PREFIX}"))
                    || n.starts_with(&format!(".{LEGACY_PLANNED_PREFIX}"))
                    || n == format!(".{METADATA}.tmp"));
            if ours {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Writes `c` (with `query` as its query section) atomically as `dir/commits/<T>`, then deletes
/// all but the newest [`KEEP`] commits and the newest [`KEEP_PLANNED`] planned batches (of
/// either layout). Returns the path written.
pub(crate) fn write(dir: &Path, c: &Checkpoint, query: Option<&QueryCheckpoint>) -> Result<PathBuf, Error> {
    let path = write_atomic(&dir.join(COMMITS), &file_name(c.time_ms), &c.encode_with(query))?;
    let err = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::CheckpointWrite { path, source }
    };
    if let Some(files) = list_commits(dir)? {
        for (_, old) in files.iter().rev().skip(KEEP) {
            std::fs::remove_file(old).map_err(err(old))?;
        }
    }
    if let Some(files) = list_planned(dir)? {
        for (_, old) in files.iter().rev().skip(KEEP_PLANNED) {
            std::fs::remove_file(old).map_err(err(old))?;
        }
    }
    Ok(path)
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

/// Writes `bytes` as `dir/name` through `dir/.name.tmp`: fsynced, renamed, directory fsynced.
/// Creates `dir` if needed, fsyncing its parent so that the new directory survives a crash too.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, Error> {
    let err = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::CheckpointWrite { path, source }
    };
    if !dir.is_dir() {
        std::fs::create_dir_all(dir).map_err(err(dir))?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent).map_err(err(parent))?;
        }
    }
    let tmp = dir.join(format!(".{name}.tmp"));
    let path = dir.join(name);
    let written = File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(&tmp)(e));
    }
    std::fs::rename(&tmp, &path).map_err(err(&path))?;
    sync_dir(dir).map_err(err(dir))?;
    Ok(path)
}

/// Makes the rename durable: on Unix a rename is persisted by fsyncing the directory.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Other systems cannot open a directory as a file; the rename is as durable as they allow.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_changes_name_what_is_gone_new_or_different() {
        let saved = vec![
            ("source `a`".to_owned(), "socket".to_owned()),
            ("stateful operator `q/state`".to_owned(), "group by [word] aggregate [count]".to_owned()),
        ];
        assert!(pipeline_changes(&saved, &saved).is_empty());
        assert!(pipeline_changes(&[], &saved).is_empty(), "a version 2 checkpoint is not checked");
        let now = vec![
            ("source `b`".to_owned(), "socket".to_owned()),
            ("stateful operator `q/state`".to_owned(), "group by [category] aggregate [count]".to_owned()),
        ];
        assert_eq!(
            pipeline_changes(&saved, &now),
            [
                "source `a` (socket) is gone",
                "stateful operator `q/state` was `group by [word] aggregate [count]`, now `group by [category] aggregate [count]`",
                "source `b` (socket) is new",
            ]
        );
    }

    #[test]
    fn the_pipeline_section_round_trips_and_version_2_files_still_read() {
        let c = Checkpoint {
            app: "a".into(),
            time_ms: 5,
            zero_ms: 0,
            interval_ms: 1,
            replay: Vec::new(),
            states: vec![("s".into(), vec![1, 2])],
            pipeline: vec![("source `x`".into(), "rate".into())],
        };
        let (back, _) = Checkpoint::decode_with(&c.encode()).unwrap();
        assert_eq!(back.pipeline, c.pipeline);
        // The same checkpoint as version 2 wrote it: no pipeline section.
        let mut v2 = c.encode();
        v2.truncate(v2.len() - 8);
        let section = 4 + (4 + "source `x`".len()) + (4 + "rate".len());
        v2.truncate(v2.len() - section);
        v2[8..12].copy_from_slice(&2u32.to_le_bytes());
        let sum = fnv1a64(&v2);
        v2.extend_from_slice(&sum.to_le_bytes());
        let (old, _) = Checkpoint::decode_with(&v2).unwrap();
        assert!(old.pipeline.is_empty());
        assert_eq!(old.states, c.states);
    }

    fn sample() -> Checkpoint {
        Checkpoint {
            app: "stateful".to_owned(),
            time_ms: 4000,
            zero_ms: 0,
            interval_ms: 1000,
            replay: vec![("lines".to_owned(), 4)],
            states: vec![("counts".to_owned(), b"a=1\nb=2\n".to_vec()), ("empty".to_owned(), Vec::new())],
            pipeline: vec![(
                "stateful operator `counts`".to_owned(),
                "update_state_by_key over (String, i64)".to_owned(),
            )],
        }
    }

    fn query() -> QueryCheckpoint {
        QueryCheckpoint {
            batch_id: 7,
            query_id: "q-1".to_owned(),
            files: vec![
                ("events".to_owned(), vec!["a.json".to_owned(), "b.json".to_owned()]),
                ("none".to_owned(), vec![]),
            ],
            no_data_pending: true,
        }
    }

    #[test]
    fn encode_decode_round_trip() {
        let c = sample();
        assert_eq!(Checkpoint::decode(&c.encode()), Ok(c.clone()));
        assert_eq!(Checkpoint::decode_with(&c.encode()), Ok((c.clone(), None)));
        assert_eq!(Checkpoint::decode_with(&c.encode_with(Some(&query()))), Ok((c, Some(query()))));
        let none = Checkpoint { replay: Vec::new(), states: Vec::new(), ..sample() };
        assert_eq!(Checkpoint::decode(&none.encode()), Ok(none));
        let p = PlannedBatch { app: "a".to_owned(), batch_id: 3, time_ms: 4000, files: query().files };
        assert_eq!(PlannedBatch::decode(&p.encode()), Ok(p));
    }

    #[test]
    fn planned_batches_are_not_checkpoints() {
        let p = PlannedBatch { app: "a".to_owned(), batch_id: 3, time_ms: 4000, files: Vec::new() };
        assert!(matches!(Checkpoint::decode(&p.encode()), Err(Invalid::Corrupt(_))));
        assert!(matches!(PlannedBatch::decode(&sample().encode()), Err(Invalid::Corrupt(_))));
    }

    #[test]
    fn every_truncation_and_every_byte_flip_is_detected() {
        let bytes = sample().encode_with(Some(&query()));
        for n in 0..bytes.len() {
            assert!(matches!(Checkpoint::decode(&bytes[..n]), Err(Invalid::Corrupt(_))), "truncated to {n}");
        }
        for i in 0..bytes.len() {
            for bit in [0x01, 0x80] {
                let mut b = bytes.clone();
                b[i] ^= bit;
                assert!(matches!(Checkpoint::decode(&b), Err(Invalid::Corrupt(_))), "byte {i} bit {bit:#x}");
            }
        }
    }

    #[test]
    fn another_version_is_a_mismatch() {
        let mut bytes = sample().encode();
        bytes.truncate(bytes.len() - 8);
        bytes[MAGIC.len()..MAGIC.len() + 4].copy_from_slice(&1u32.to_le_bytes());
        let sum = fnv1a64(&bytes);
        bytes.extend_from_slice(&sum.to_le_bytes());
        assert!(matches!(Checkpoint::decode(&bytes), Err(Invalid::Mismatch(m)) if m.contains("version 1")));
    }

    #[test]
    fn metadata_round_trips_and_every_truncation_is_detected() {
        let m = Metadata { version: FORMAT_VERSION, app: "odd \"name\" \\ \u{1}é".to_owned(), id: "q-1".to_owned() };
        let bytes = m.encode();
        assert_eq!(Metadata::decode(&bytes), Ok(m));
        for n in 0..bytes.len() {
            assert!(matches!(Metadata::decode(&bytes[..n]), Err(Invalid::Corrupt(_))), "truncated to {n}");
        }
    }

    #[test]
    fn metadata_is_read_as_json_and_checks_its_version() {
        let hand = b"{ \"id\": \"q\", \"note\": \"ignored\",\n  \"app\": \"a\", \"version\": 3 }\n";
        assert_eq!(Metadata::decode(hand), Ok(Metadata { version: 3, app: "a".to_owned(), id: "q".to_owned() }));
        let newer = b"{\"version\":4,\"app\":\"a\",\"id\":\"q\"}\n";
        assert!(matches!(Metadata::decode(newer), Err(Invalid::Mismatch(m)) if m.contains("layout version 4")));
        for bad in
            [&b"{\"version\":3,\"app\":\"a\"}\n"[..], b"{\"version\":\"3\",\"app\":\"a\",\"id\":\"q\"}\n", b"[]\n"]
        {
            assert!(matches!(Metadata::decode(bad), Err(Invalid::Corrupt(_))), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn names_sort_by_time() {
        let mut names: Vec<String> = [10_000, 9000, 100_000, 1000].into_iter().map(file_name).collect();
        names.sort();
        assert_eq!(names, [file_name(1000), file_name(9000), file_name(10_000), file_name(100_000)]);
    }
}

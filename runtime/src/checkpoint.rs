//! Checkpoints: the checkpoint directory's layout, its files (state snapshots, batch positions,
//! planned batches), written atomically with a checksum, and [`get_or_create`], Spark's
//! `StreamingContext.getOrCreate`.
//!
//! # Layout (version 4)
//!
//! ```text
//! DIR/
//! ├── metadata                     which app and query the directory belongs to (JSON)
//! ├── offsets/                     planned batches (Spark's offset log), by batch id
//! │   ├── 00000000000000000006     written before batch 6 runs: the files it reads
//! │   └── 00000000000000000007
//! ├── commits/                     commits, by batch time in ms
//! │   ├── 00000000000000004000     written after the batch at 4000 ms: position, query, pipeline,
//! │   └── 00000000000000005000       every state snapshot of that batch, and the parts it uses
//! └── parts/                       immutable parts of state snapshots (version 4), by batch time
//!     ├── 00000000000000002000     the parts the commit of 2000 ms used first (say, a window's
//!     └── 00000000000000004000       panes of the batches at 1000 and 2000 ms), used by later
//!                                    commits too
//! ```
//!
//! Numbers in names are zero-padded to 20 digits so that names sort by number.
//!
//! - `metadata` is written once, when a run first uses the directory, and never changes: one
//!   line of JSON, `{"version":4,"app":"NAME","id":"QUERY_ID"}`, ending in a newline (a
//!   directory first used by an earlier runtime keeps its `"version":3`). A run of
//!   another app is refused, and the query id (Spark's `StreamingQuery.id`) is the same for
//!   every run over the directory. A metadata file that cannot be read is an error naming it
//!   (it has no checksum: JSON's structure, the final newline, the version and the check that
//!   the newest commit carries the same query id stand for one).
//! - `offsets/<N>` ([`PlannedBatch`]) is written, by apps with Structured Streaming file
//!   sources, before batch `N` runs and records the files it will read, so that a batch re-run
//!   after a crash reads the same files. A damaged one is reported and the batch planned afresh.
//! - `commits/<T>` ([`Checkpoint`] plus its [`QueryCheckpoint`]) is written after the batch at
//!   time `T` (DStream apps: after the batches whose handler saved state; Structured Streaming
//!   apps: after every batch). It holds every state snapshot of the batch but the *parts* a
//!   state hands over ([`Checkpointed::save_with_parts`]): immutable pieces with a stable id
//!   and stamp, such as a window's panes, which are written once, into the part file of the
//!   first commit that uses them, and which that commit and every later one refers to (by id,
//!   stamp and part file, with each part file's checksum). On restart the newest usable commit
//!   is resumed from; a newer one that is damaged, or one of whose part files is missing,
//!   damaged or not the one it wrote, is reported with a warning and skipped; if there are
//!   commits but none is usable, the run stops with an error naming the directory.
//! - `parts/<T>` ([`PartFile`]) is written just before `commits/<T>`, if that commit uses parts
//!   no earlier commit wrote (in this run or, after a restart, the commit resumed from): those
//!   parts, of every state. A part is never written again while the newest commit uses it.
//!
//! Every file is written as `.<name>.tmp` beside its final name, fsynced, renamed into place,
//! and its directory fsynced (a directory created for it is made durable by fsyncing its
//! parent): a reader sees a complete file or none, and a commit's part file is durable before
//! the commit. Temporary files a crash left behind are deleted when a run starts. After each
//! commit the newest [`KEEP`] commits and [`KEEP_PLANNED`] planned batches are kept, older ones
//! deleted, and then the part files no kept commit uses (those orphaned by a crash between a
//! part file and its commit included): a part file is deleted only after the commits that use
//! it, so no commit ever refers to a missing part.
//!
//! The flat layout of earlier versions, `DIR/checkpoint-<T>` and `DIR/offsets-<N>` (same file
//! formats, no metadata), is still read: its files count as commits and planned batches beside
//! the new ones, so an old directory resumes, gets its `metadata` (with the query id of its
//! newest commit), is written in the new layout from then on, and loses its old files to the
//! retention above as new commits are written.
//!
//! # Commit file format (version 4; versions 2 and 3 are read too)
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
//! | part files (v4)    | `u32` count, then per part file, by time: `i64` time, `u64`  |
//! |                    | the checksum the file ends with                              |
//! | parts (v4)         | `u32` count, then per state with parts: name (string), `u32` |
//! |                    | count, then per part: id `i64`, stamp `u64`, part file `i64` |
//! | checksum           | `u64` FNV-1a 64 of every byte before it                      |
//!
//! The states of a version 4 commit were saved with [`Checkpointed::save_with_parts`] and are
//! restored with [`Checkpointed::restore_with_parts`]; those of versions 2 and 3 with
//! [`Checkpointed::restore`]. Version 2 has no pipeline section, so a change of pipeline is not
//! detected on it.
//!
//! A part file (`parts/<T>`): magic `SCPART\r\n`, version `u32`, `u32` count, then per part:
//! state name (string), id `i64`, stamp `u64`, the part's bytes (bytes); checksum as above.
//!
//! A planned batch (`offsets/<N>`): magic `SCOFFS\r\n`, version `u32`, app name (string),
//! batch id `u64`, batch time `i64`, `u32` count then per file source: name (string), names;
//! checksum as above. Version 1 files are not read.
//!
//! [`Checkpointed::save_with_parts`]: crate::persist::Checkpointed::save_with_parts
//! [`Checkpointed::restore_with_parts`]: crate::persist::Checkpointed::restore_with_parts
//! [`Checkpointed::restore`]: crate::persist::Checkpointed::restore
//!
//! FNV-1a changes its value for any single changed byte (each step is a bijection of the hash
//! for a fixed input byte), and the length prefixes plus the trailing checksum make a truncated
//! file fail to decode.

use std::collections::{HashMap, HashSet};
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

/// The name of the subdirectory of part files.
pub const PARTS: &str = "parts";

/// The version of the file formats and of the directory layout written (the `version` of
/// `metadata`); commits and planned batches of other versions are not read.
pub const FORMAT_VERSION: u32 = 4;

/// The oldest version still read (its checkpoints have no pipeline section, so a change of
/// pipeline is not detected on them).
pub const OLDEST_READ_VERSION: u32 = 2;

/// The first version whose commits have parts (and whose states are restored with
/// [`Checkpointed::restore_with_parts`](crate::persist::Checkpointed::restore_with_parts)).
pub const PARTS_VERSION: u32 = 4;

const MAGIC: &[u8; 8] = b"SCCKPT\r\n";
const PLANNED_MAGIC: &[u8; 8] = b"SCOFFS\r\n";
const PART_MAGIC: &[u8; 8] = b"SCPART\r\n";
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
    /// Per state that handed over parts (version 4): its name and the parts its snapshot uses,
    /// in the order the state added them.
    pub parts: Vec<(String, Vec<PartRef>)>,
    /// The part files (`parts/<T>`) those parts are in (version 4): per file, its time `T` and
    /// the checksum it ends with, by time.
    pub part_files: Vec<(i64, u64)>,
}

/// A commit's reference to a part of a state's snapshot, in the part file `parts/<file>`
/// ([`part_file_path`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PartRef {
    /// The part's id, unique within the state's snapshot (a window pane: its batch time).
    pub id: i64,
    /// What the part's content is at (a window pane: its length, as a pane only grows): a part
    /// with the same id and stamp has the same bytes.
    pub stamp: u64,
    /// The time of the commit that wrote it, which names its part file.
    pub file: i64,
}

/// One part in a part file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// The name of the state it belongs to.
    pub state: String,
    /// The part's id.
    pub id: i64,
    /// The part's stamp.
    pub stamp: u64,
    /// The bytes the state wrote.
    pub bytes: Vec<u8>,
}

/// The contents of a part file (`parts/<T>`): the parts first used by the commit of time `T`,
/// of every state of that commit.
///
/// Law: `PartFile::decode(&f.encode()) == Ok(f)`, and `decode` fails on any truncation or any
/// changed byte of an encoding.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartFile {
    /// The parts, in the order they were added.
    pub parts: Vec<Part>,
}

impl PartFile {
    /// The file's bytes, checksum included.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = PartFileWriter::default();
        for p in &self.parts {
            w.add(&p.state, p.id, p.stamp, |out| out.extend_from_slice(&p.bytes));
        }
        w.finish().0
    }

    /// Reads a file's bytes, checking the checksum and the format version.
    pub fn decode(bytes: &[u8]) -> Result<Self, Invalid> {
        let mut r = Reader(checked_body(bytes, PART_MAGIC, "part")?);
        r.version()?;
        let n = r.u32("part count")?;
        let mut parts = Vec::new();
        for _ in 0..n {
            let state = r.str("state name")?;
            let id = r.i64("part id")?;
            let stamp = r.u64("part stamp")?;
            let bytes = r.bytes("part bytes")?;
            parts.push(Part { state, id, stamp, bytes });
        }
        r.end()?;
        Ok(PartFile { parts })
    }
}

/// A part file being written: the bytes of its parts, appended in place as states add them.
#[derive(Debug)]
pub(crate) struct PartFileWriter {
    out: Vec<u8>,
    count: u32,
}

impl Default for PartFileWriter {
    fn default() -> Self {
        let mut out = Vec::new();
        out.extend_from_slice(PART_MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        // The count, patched in by `finish`.
        out.extend_from_slice(&0u32.to_le_bytes());
        PartFileWriter { out, count: 0 }
    }
}

impl PartFileWriter {
    /// Adds part `id` (of `stamp`) of state `state`, with what `write` appends as its bytes.
    pub(crate) fn add(&mut self, state: &str, id: i64, stamp: u64, write: impl FnOnce(&mut Vec<u8>)) {
        let out = &mut self.out;
        put_str(out, state);
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&stamp.to_le_bytes());
        // The length is patched in once `write` has written the bytes in place.
        let at = out.len();
        out.extend_from_slice(&0u64.to_le_bytes());
        write(out);
        let len = (out.len() - at - 8) as u64;
        out[at..at + 8].copy_from_slice(&len.to_le_bytes());
        self.count = self.count.checked_add(1).expect("fewer than 2^32 parts");
    }

    /// The file's bytes, checksum included, and the checksum.
    pub(crate) fn finish(mut self) -> (Vec<u8>, u64) {
        let at = PART_MAGIC.len() + 4;
        self.out[at..at + 4].copy_from_slice(&self.count.to_le_bytes());
        let sum = fnv1a64(&self.out);
        self.out.extend_from_slice(&sum.to_le_bytes());
        (self.out, sum)
    }
}

/// The part file of the commit being prepared: the parts it uses first, of every state, each
/// added once.
#[derive(Debug)]
pub(crate) struct NewParts {
    /// The time of the commit, which names the file.
    pub(crate) time: i64,
    writer: Option<PartFileWriter>,
    added: HashMap<String, HashSet<(i64, u64)>>,
}

impl NewParts {
    pub(crate) fn new(time: i64) -> Self {
        NewParts { time, writer: None, added: HashMap::new() }
    }

    /// Adds part `id` (of `stamp`) of state `state`, with what `write` appends as its bytes,
    /// unless it is in the file already.
    pub(crate) fn add(&mut self, state: &str, id: i64, stamp: u64, write: impl FnOnce(&mut Vec<u8>)) {
        let added = match self.added.get_mut(state) {
            Some(a) => a,
            None => self.added.entry(state.to_owned()).or_default(),
        };
        if added.insert((id, stamp)) {
            self.writer.get_or_insert_with(PartFileWriter::default).add(state, id, stamp, write);
        }
    }

    /// The file's bytes and checksum; `None` if no part was added.
    pub(crate) fn finish(self) -> Option<(Vec<u8>, u64)> {
        self.writer.map(PartFileWriter::finish)
    }
}

/// Where the part file of the commit of time `time_ms` of checkpoint directory `dir` is written.
///
/// ```
/// use std::path::Path;
/// let p = streamc_runtime::checkpoint::part_file_path(Path::new("ck"), 4000);
/// assert_eq!(p, Path::new("ck/parts/00000000000000004000"));
/// ```
pub fn part_file_path(dir: &Path, time_ms: i64) -> PathBuf {
    dir.join(PARTS).join(file_name(time_ms))
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
        out.extend_from_slice(&u32::try_from(self.part_files.len()).expect("fewer than 2^32 files").to_le_bytes());
        for (time, checksum) in &self.part_files {
            out.extend_from_slice(&time.to_le_bytes());
            out.extend_from_slice(&checksum.to_le_bytes());
        }
        out.extend_from_slice(&u32::try_from(self.parts.len()).expect("fewer than 2^32 states").to_le_bytes());
        for (name, parts) in &self.parts {
            put_str(&mut out, name);
            out.extend_from_slice(&u32::try_from(parts.len()).expect("fewer than 2^32 parts").to_le_bytes());
            for p in parts {
                out.extend_from_slice(&p.id.to_le_bytes());
                out.extend_from_slice(&p.stamp.to_le_bytes());
                out.extend_from_slice(&p.file.to_le_bytes());
            }
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
        Self::decode_versioned(bytes).map(|(c, q, _)| (c, q))
    }

    /// [`decode_with`](Self::decode_with), also returning the file's format version.
    pub fn decode_versioned(bytes: &[u8]) -> Result<(Self, Option<QueryCheckpoint>, u32), Invalid> {
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
        let (mut parts, mut part_files) = (Vec::new(), Vec::new());
        if version >= PARTS_VERSION {
            for _ in 0..r.u32("part files")? {
                let time = r.i64("part files")?;
                if part_files.last().is_some_and(|&(t, _)| t >= time) {
                    return Err(Invalid::Corrupt("the part files are not in time order".to_owned()));
                }
                part_files.push((time, r.u64("part files")?));
            }
            for _ in 0..r.u32("parts")? {
                let name = r.str("parts")?;
                let (mut refs, mut ids) = (Vec::new(), HashSet::new());
                for _ in 0..r.u32("parts")? {
                    let id = r.i64("part id")?;
                    let stamp = r.u64("part stamp")?;
                    let file = r.i64("part file")?;
                    if !ids.insert(id) {
                        return Err(Invalid::Corrupt(format!("state `{name}` uses part {id} twice")));
                    }
                    if part_files.binary_search_by_key(&file, |&(t, _)| t).is_err() {
                        return Err(Invalid::Corrupt(format!("part {id} of state `{name}` is in an unlisted file")));
                    }
                    refs.push(PartRef { id, stamp, file });
                }
                parts.push((name, refs));
            }
        }
        r.end()?;
        let c = Checkpoint { app, time_ms, zero_ms, interval_ms, replay, states, pipeline, parts, part_files };
        Ok((c, query, version))
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
    /// The commit file's format version.
    pub(crate) version: u32,
    /// Per state with parts: each part's id, stamp and bytes, by id.
    pub(crate) parts: LoadedParts,
}

/// The parts of a commit, read and checked: per state, `(id, stamp, bytes)` sorted by id.
pub(crate) type LoadedParts = Vec<(String, Vec<(i64, u64, Vec<u8>)>)>;

/// Reads and checks every part commit `c` of `dir` uses: a part file that is missing, damaged or
/// not the one the commit wrote (another checksum), or that lacks a part, makes the commit
/// unusable.
fn load_parts(dir: &Path, c: &Checkpoint) -> Result<LoadedParts, Invalid> {
    let mut found: HashMap<(i64, &str, i64, u64), Vec<u8>> = HashMap::new();
    let mut files = Vec::with_capacity(c.part_files.len());
    for &(time, checksum) in &c.part_files {
        let path = part_file_path(dir, time);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Invalid::Corrupt(format!("its part file `{}` is missing", path.display())));
            }
            Err(e) => return Err(Invalid::Corrupt(format!("cannot read its part file `{}`: {e}", path.display()))),
        };
        let file = PartFile::decode(&bytes)
            .map_err(|why| Invalid::Corrupt(format!("its part file `{}` {why}", path.display())))?;
        if bytes[bytes.len() - 8..] != checksum.to_le_bytes() {
            return Err(Invalid::Corrupt(format!("its part file `{}` is not the one it wrote", path.display())));
        }
        files.push((time, path, file));
    }
    for (time, _, file) in &mut files {
        for p in &mut file.parts {
            found.insert((*time, p.state.as_str(), p.id, p.stamp), std::mem::take(&mut p.bytes));
        }
    }
    let mut out = Vec::with_capacity(c.parts.len());
    for (state, refs) in &c.parts {
        let mut parts = Vec::with_capacity(refs.len());
        for r in refs {
            let Some(bytes) = found.remove(&(r.file, state.as_str(), r.id, r.stamp)) else {
                return Err(Invalid::Corrupt(format!(
                    "its part file `{}` lacks part {} (stamp {}) of state `{state}`",
                    part_file_path(dir, r.file).display(),
                    r.id,
                    r.stamp
                )));
            };
            parts.push((r.id, r.stamp, bytes));
        }
        parts.sort_unstable_by_key(|p| p.0);
        out.push((state.clone(), parts));
    }
    Ok(out)
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
            Ok(bytes) => Checkpoint::decode_versioned(&bytes).and_then(|(c, q, v)| {
                if c.app == app {
                    let parts = load_parts(dir, &c)?;
                    Ok((c, q, v, parts))
                } else {
                    Err(Invalid::Mismatch(format!("written by app `{}`, this app is `{app}`", c.app)))
                }
            }),
            Err(e) => Err(Invalid::Corrupt(format!("cannot read it: {e}"))),
        };
        match checked {
            Ok((checkpoint, query, version, parts)) => {
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
                return Ok(Some(Loaded { path: path.clone(), checkpoint, query, version, parts }));
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
    for d in [dir.to_owned(), dir.join(COMMITS), dir.join(OFFSETS), dir.join(PARTS)] {
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

/// The part files the commits of a checkpoint directory use, by commit path, so that pruning
/// reads a commit at most once per run: a commit this run wrote is recorded as it is written, one
/// of an earlier run read when first needed.
#[derive(Debug, Default)]
pub(crate) struct PartIndex {
    by_commit: HashMap<PathBuf, Vec<i64>>,
}

/// Writes `part_file` (the part file of this commit, if it has new parts: its bytes) atomically as
/// `dir/parts/<T>`, then `c` (with `query` as its query section) atomically as
/// `dir/commits/<T>`, then deletes all but the newest [`KEEP`] commits and the newest
/// [`KEEP_PLANNED`] planned batches (of either layout), and the part files none of the kept
/// commits uses. Returns the path of the commit.
pub(crate) fn write(
    dir: &Path,
    c: &Checkpoint,
    query: Option<&QueryCheckpoint>,
    part_file: Option<&[u8]>,
    index: &mut PartIndex,
) -> Result<PathBuf, Error> {
    if let Some(bytes) = part_file {
        write_atomic(&dir.join(PARTS), &file_name(c.time_ms), bytes)?;
    }
    let path = write_atomic(&dir.join(COMMITS), &file_name(c.time_ms), &c.encode_with(query))?;
    index.by_commit.insert(path.clone(), c.part_files.iter().map(|&(t, _)| t).collect());
    let err = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::CheckpointWrite { path, source }
    };
    if let Some(files) = list_commits(dir)? {
        let mut removed_from: Vec<&Path> = Vec::new();
        for (_, old) in files.iter().rev().skip(KEEP) {
            std::fs::remove_file(old).map_err(err(old))?;
            index.by_commit.remove(old);
            if let Some(parent) = old.parent().filter(|p| !removed_from.contains(p)) {
                removed_from.push(parent);
            }
        }
        let kept: Vec<&Path> = files.iter().rev().take(KEEP).map(|(_, p)| p.as_path()).collect();
        prune_parts(dir, &kept, index, &removed_from)?;
    }
    if let Some(files) = list_planned(dir)? {
        for (_, old) in files.iter().rev().skip(KEEP_PLANNED) {
            std::fs::remove_file(old).map_err(err(old))?;
        }
    }
    Ok(path)
}

/// Deletes the part files of `dir` that none of the commits `kept` uses. `removed_from`: the
/// directories commits were just deleted from, whose deletions are made durable first, so that no
/// commit a crash brings back uses a deleted part file. A kept commit that cannot be read leaves
/// every part file in place (what it uses is unknown); one that cannot be decoded uses none (it
/// is unusable anyway).
fn prune_parts(dir: &Path, kept: &[&Path], index: &mut PartIndex, removed_from: &[&Path]) -> Result<(), Error> {
    let Some(files) = list_prefixed::<i64>(&dir.join(PARTS), "")? else { return Ok(()) };
    let mut used: HashSet<i64> = HashSet::new();
    for &commit in kept {
        if !index.by_commit.contains_key(commit) {
            let Ok(bytes) = std::fs::read(commit) else { return Ok(()) };
            let times = Checkpoint::decode(&bytes).map(|c| c.part_files.iter().map(|&(t, _)| t).collect());
            index.by_commit.insert(commit.to_owned(), times.unwrap_or_default());
        }
        used.extend(&index.by_commit[commit]);
    }
    let doomed: Vec<&PathBuf> = files.iter().filter(|(t, _)| !used.contains(t)).map(|(_, p)| p).collect();
    if doomed.is_empty() {
        return Ok(());
    }
    for d in removed_from {
        sync_dir(d).map_err(|source| Error::CheckpointWrite { path: d.to_path_buf(), source })?;
    }
    for p in doomed {
        match std::fs::remove_file(p) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::CheckpointWrite { path: p.clone(), source }),
        }
    }
    Ok(())
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
            parts: Vec::new(),
            part_files: Vec::new(),
        };
        let (back, _) = Checkpoint::decode_with(&c.encode()).unwrap();
        assert_eq!(back.pipeline, c.pipeline);
        // The same checkpoint as version 3 wrote it: no part sections.
        let mut v3 = c.encode();
        v3.truncate(v3.len() - 8 - 4 - 4);
        v3[8..12].copy_from_slice(&3u32.to_le_bytes());
        let sum = fnv1a64(&v3);
        v3.extend_from_slice(&sum.to_le_bytes());
        let (old, _, version) = Checkpoint::decode_versioned(&v3).unwrap();
        assert_eq!((old, version), (c.clone(), 3));
        // The same checkpoint as version 2 wrote it: no pipeline section either.
        let mut v2 = c.encode();
        v2.truncate(v2.len() - 8 - 4 - 4);
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
            parts: vec![(
                "counts".to_owned(),
                vec![PartRef { id: 3000, stamp: 2, file: 3000 }, PartRef { id: 4000, stamp: 1, file: 4000 }],
            )],
            part_files: vec![(3000, 7), (4000, 9)],
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
        let none = Checkpoint {
            replay: Vec::new(),
            states: Vec::new(),
            parts: Vec::new(),
            part_files: Vec::new(),
            ..sample()
        };
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
        let newer = b"{\"version\":5,\"app\":\"a\",\"id\":\"q\"}\n";
        assert!(matches!(Metadata::decode(newer), Err(Invalid::Mismatch(m)) if m.contains("layout version 5")));
        for bad in
            [&b"{\"version\":3,\"app\":\"a\"}\n"[..], b"{\"version\":\"3\",\"app\":\"a\",\"id\":\"q\"}\n", b"[]\n"]
        {
            assert!(matches!(Metadata::decode(bad), Err(Invalid::Corrupt(_))), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn part_files_round_trip_and_every_truncation_and_byte_flip_is_detected() {
        let part =
            |state: &str, id, stamp, bytes: &[u8]| Part { state: state.into(), id, stamp, bytes: bytes.to_vec() };
        let f = PartFile { parts: vec![part("q/state", -5, 3, b"abc"), part("w", 7, 0, b"")] };
        let bytes = f.encode();
        assert_eq!(PartFile::decode(&bytes), Ok(f.clone()));
        let mut n = NewParts::new(9);
        n.add("q/state", -5, 3, |out| out.extend_from_slice(b"abc"));
        n.add("w", 7, 0, |_| {});
        n.add("q/state", -5, 3, |_| panic!("added twice"));
        let (same, sum) = n.finish().unwrap();
        assert_eq!(same, bytes);
        assert_eq!(sum.to_le_bytes(), bytes[bytes.len() - 8..]);
        assert!(NewParts::new(1).finish().is_none());
        assert_eq!(PartFile::decode(&PartFile::default().encode()), Ok(PartFile::default()));
        for n in 0..bytes.len() {
            assert!(matches!(PartFile::decode(&bytes[..n]), Err(Invalid::Corrupt(_))), "truncated to {n}");
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            assert!(matches!(PartFile::decode(&b), Err(Invalid::Corrupt(_))), "byte {i}");
        }
        // Neither a commit nor a planned batch.
        assert!(matches!(Checkpoint::decode(&bytes), Err(Invalid::Corrupt(_))));
        assert!(matches!(PartFile::decode(&sample().encode()), Err(Invalid::Corrupt(_))));
    }

    #[test]
    fn a_commit_using_a_part_twice_or_an_unlisted_file_is_corrupt() {
        let mut c = sample();
        c.parts[0].1[1].id = 3000;
        assert!(matches!(Checkpoint::decode(&c.encode()), Err(Invalid::Corrupt(m)) if m.contains("part 3000 twice")));
        let mut c = sample();
        c.parts[0].1[1].file = 5000;
        assert!(matches!(Checkpoint::decode(&c.encode()), Err(Invalid::Corrupt(m)) if m.contains("unlisted file")));
        let mut c = sample();
        c.part_files.reverse();
        assert!(matches!(Checkpoint::decode(&c.encode()), Err(Invalid::Corrupt(m)) if m.contains("time order")));
    }

    #[test]
    fn names_sort_by_time() {
        let mut names: Vec<String> = [10_000, 9000, 100_000, 1000].into_iter().map(file_name).collect();
        names.sort();
        assert_eq!(names, [file_name(1000), file_name(9000), file_name(10_000), file_name(100_000)]);
    }
}

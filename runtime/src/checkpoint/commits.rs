//! Commits (`commits/<T>`): what a checkpoint holds after a batch ([`Checkpoint`], with its
//! Structured Streaming [`QueryCheckpoint`]), its binary format, and how two pipelines differ.

use std::collections::HashSet;

use super::format::{Invalid, Reader, checked_body, put_files, seal};
use super::layout::{FORMAT_VERSION, PARTS_VERSION, SHARDS_VERSION};
use super::parts::PartRef;
use crate::codec;

pub(super) const MAGIC: &[u8; 8] = b"SCCKPT\r\n";

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
    /// The shard files of the commit (version 5): per process of the cluster that wrote it, in
    /// process order, the checksum its file `shards/<T>-<process>` ends with. Empty when no
    /// state is sharded (always, outside a cluster).
    pub shards: Vec<u64>,
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

impl Checkpoint {
    /// The file's bytes, checksum included, with no query section.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_with(None)
    }

    /// The file's bytes, checksum included, with `query` as its query section.
    pub fn encode_with(&self, query: Option<&QueryCheckpoint>) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.states.iter().map(|(n, b)| n.len() + b.len() + 12).sum::<usize>());
        out.extend_from_slice(MAGIC);
        codec::put_u32(&mut out, FORMAT_VERSION);
        codec::put_str32(&mut out, &self.app);
        codec::put_i64(&mut out, self.time_ms);
        codec::put_i64(&mut out, self.zero_ms);
        codec::put_i64(&mut out, self.interval_ms);
        codec::put_count(&mut out, self.replay.len(), "sources");
        for (name, next) in &self.replay {
            codec::put_str32(&mut out, name);
            codec::put_u64(&mut out, *next);
        }
        codec::put_count(&mut out, self.states.len(), "states");
        for (name, bytes) in &self.states {
            codec::put_str32(&mut out, name);
            codec::put_u64(&mut out, bytes.len() as u64);
            out.extend_from_slice(bytes);
        }
        match query {
            None => out.push(0),
            Some(q) => {
                out.push(1);
                codec::put_u64(&mut out, q.batch_id);
                codec::put_str32(&mut out, &q.query_id);
                put_files(&mut out, &q.files);
                out.push(u8::from(q.no_data_pending));
            }
        }
        codec::put_count(&mut out, self.pipeline.len(), "entries");
        for (k, v) in &self.pipeline {
            codec::put_str32(&mut out, k);
            codec::put_str32(&mut out, v);
        }
        codec::put_count(&mut out, self.part_files.len(), "files");
        for &(time, checksum) in &self.part_files {
            codec::put_i64(&mut out, time);
            codec::put_u64(&mut out, checksum);
        }
        codec::put_count(&mut out, self.parts.len(), "states");
        for (name, parts) in &self.parts {
            codec::put_str32(&mut out, name);
            codec::put_count(&mut out, parts.len(), "parts");
            for p in parts {
                codec::put_i64(&mut out, p.id);
                codec::put_u64(&mut out, p.stamp);
                codec::put_i64(&mut out, p.file);
            }
        }
        codec::put_count(&mut out, self.shards.len(), "shards");
        for &sum in &self.shards {
            codec::put_u64(&mut out, sum);
        }
        seal(&mut out);
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
        let mut shards = Vec::new();
        if version >= SHARDS_VERSION {
            for _ in 0..r.u32("shards")? {
                shards.push(r.u64("shards")?);
            }
        }
        r.end()?;
        let c = Checkpoint { app, time_ms, zero_ms, interval_ms, replay, states, pipeline, parts, part_files, shards };
        Ok((c, query, version))
    }
}

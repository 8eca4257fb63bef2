//! Checkpoints: the checkpoint directory's layout, its files (state snapshots, batch positions,
//! planned batches), written atomically with a checksum. The app driver resumes from them
//! ([`get_or_create`](crate::get_or_create), Spark's `StreamingContext.getOrCreate`).
//!
//! # Layout (version 6)
//!
//! ```text
//! DIR/
//! ├── metadata                     which app and query the directory belongs to (JSON)
//! ├── lock                         locked by the running app (its pid): one run at a time
//! ├── offsets/                     planned batches (Spark's offset log), by batch id
//! │   ├── 00000000000000000006     written before batch 6 runs: the files it reads
//! │   └── 00000000000000000007
//! ├── commits/                     commits, by batch time in ms
//! │   ├── 00000000000000004000     written after the batch at 4000 ms: position, query, pipeline,
//! │   └── 00000000000000005000       every state snapshot of that batch, and the parts it uses
//! ├── parts/                       immutable parts of state snapshots (version 4), by batch time
//! │   ├── 00000000000000002000     the parts the commit of 2000 ms used first (say, a window's
//! │   └── 00000000000000004000       panes of the batches at 1000 and 2000 ms), used by later
//! │                                  commits too
//! └── shards/                      in a cluster (version 5): each process's part of the
//!     ├── 00000000000000005000-0     key-partitioned states, written by that process, used by
//!     └── 00000000000000005000-1     the commit of its time only
//! ```
//!
//! Numbers in names are zero-padded to 20 digits so that names sort by number.
//!
//! - `metadata` is written once, when a run first uses the directory, and never changes: one
//!   line of JSON, `{"version":6,"app":"NAME","id":"QUERY_ID"}`, ending in a newline (a
//!   directory first used by an earlier runtime keeps its `"version":3`, `4` or `5`). A run of
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
//! - `shards/<T>-<P>` (a [`PartFile`] whose parts have the process `P` as id and the number of
//!   processes as stamp) is written by process `P` of a cluster, for a commit at time `T`: its
//!   piece of every key-partitioned state (a Structured aggregation's keys it owns). The commit
//!   is the second phase: process 0 writes `commits/<T>` only after every process has reported
//!   its shard durable (in the next batch's last round, the shard being written while that
//!   batch runs), naming each shard file's checksum. A commit whose shard file is
//!   missing, damaged or not the one it names is unusable, like one with a bad part file. Shard
//!   files are deleted with their commit; those newer than the newest commit (a crash between
//!   the phases) are left for the re-run of their batch to replace.
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
//! # Commit file format (version 6; versions 2 to 5 are read too: 6 differs from 5 only in how
//! shards are cut by key, [`OWNERSHIP_VERSION`])
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
//! | shards (v5)        | `u32` count of processes, then per process, in order: `u64`  |
//! |                    | the checksum its shard file ends with (0 processes: none)    |
//! | checksum           | `u64` xxHash3 64 of every byte before it (FNV-1a 64 in files |
//! |                    | written before 2026-12-04, still read)                       |
//!
//! The states of a version 4 or 5 commit were saved with [`Checkpointed::save_with_parts`] and are
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
//! A damaged file fails its checksum but for a chance of 2^-64 (xxHash3 mixes every input byte
//! into all 64 bits), and the length prefixes plus the trailing checksum make a truncated file
//! fail to decode. The checksum is xxHash3 because it reads 8 bytes at a time: FNV-1a, one byte
//! at a time, took 80 ms of a 1 M-group state's checkpoint (`cargo bench --bench state`).

mod commits;
mod format;
mod layout;
mod metadata;
mod offsets;
mod parts;
mod store;
#[cfg(test)]
mod tests;

pub use commits::{Checkpoint, QueryCheckpoint, pipeline_changes};
pub use format::{Invalid, checksum, fnv1a64};
pub use layout::{
    COMMITS, FORMAT_VERSION, KEEP, KEEP_PLANNED, LOCK, METADATA, OFFSETS, OLDEST_READ_VERSION, OWNERSHIP_VERSION,
    PARTS, PARTS_VERSION, SHARDS, SHARDS_VERSION, commit_path, file_name, part_file_path, planned_file_name,
    planned_path, shard_file_path,
};
pub use metadata::Metadata;
pub use offsets::PlannedBatch;
pub(crate) use offsets::{read_planned, write_planned};
pub(crate) use parts::{NewParts, PartFileWriter};
pub use parts::{Part, PartFile, PartRef};
pub(crate) use store::{
    Loaded, LoadedParts, LoadedShards, PartIndex, load_latest, lock, query_id, remove_stale_temp_files, write,
    write_shard,
};

//! Where things are in a checkpoint directory: the names of its files and subdirectories, the
//! versions of its layout, and how many commits and planned batches it keeps.

use std::path::{Path, PathBuf};

/// How many commits are kept; older ones are deleted after each commit. More than one, so that
/// a commit damaged on disk after its write leaves an older one to resume from.
pub const KEEP: usize = 3;

/// How many planned batches are kept: enough to re-run, from the oldest commit kept, the batches
/// after it.
pub const KEEP_PLANNED: usize = KEEP + 1;

/// The name of the directory's metadata file.
pub const METADATA: &str = "metadata";

/// The name of the file a running app locks (`flock`) for as long as it uses the directory, so
/// that a second run on it stops at start rather than interleave its writes; it holds the
/// running process's id.
pub const LOCK: &str = "lock";

/// The name of the subdirectory of commits.
pub const COMMITS: &str = "commits";

/// The name of the subdirectory of planned batches.
pub const OFFSETS: &str = "offsets";

/// The name of the subdirectory of part files.
pub const PARTS: &str = "parts";

/// The name of the subdirectory of shard files: the parts of a key-partitioned state that each
/// process of a cluster writes itself.
pub const SHARDS: &str = "shards";

/// The version of the file formats and of the directory layout written (the `version` of
/// `metadata`); commits and planned batches of other versions are not read.
pub const FORMAT_VERSION: u32 = 6;

/// The oldest version still read (its checkpoints have no pipeline section, so a change of
/// pipeline is not detected on them).
pub const OLDEST_READ_VERSION: u32 = 2;

/// The first version whose commits have parts (and whose states are restored with
/// [`Checkpointed::restore_with_parts`](crate::persist::Checkpointed::restore_with_parts)).
pub const PARTS_VERSION: u32 = 4;

/// The first version whose commits may name shard files ([`shard_file_path`]).
pub const SHARDS_VERSION: u32 = 5;

/// The first version whose shards are cut by key as [`crate::partition::owner`] cuts them now
/// (from the bits of a keyed table's hash that the table does not use); a version 5 cluster cut
/// them by another hash, so a restart from its shards puts them together and cuts them again
/// (as for another number of processes).
pub const OWNERSHIP_VERSION: u32 = 6;

/// The commit files of the flat layout: `DIR/checkpoint-<T>`.
pub(super) const LEGACY_PREFIX: &str = "checkpoint-";
/// The planned batches of the flat layout: `DIR/offsets-<N>`.
pub(super) const LEGACY_PLANNED_PREFIX: &str = "offsets-";

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

/// Where process `process` of a cluster writes its shard of the commit of time `time_ms`.
///
/// ```
/// use std::path::Path;
/// let p = streamc_runtime::checkpoint::shard_file_path(Path::new("ck"), 4000, 1);
/// assert_eq!(p, Path::new("ck/shards/00000000000000004000-1"));
/// ```
pub fn shard_file_path(dir: &Path, time_ms: i64, process: usize) -> PathBuf {
    dir.join(SHARDS).join(shard_file_name(time_ms, process))
}

/// The file name, inside [`SHARDS`], of process `process`'s shard of the commit of time
/// `time_ms`.
pub(super) fn shard_file_name(time_ms: i64, process: usize) -> String {
    format!("{}-{process}", file_name(time_ms))
}

/// The commit time and the process of a shard file's name; `None` for other names.
pub(super) fn parse_shard_file_name(name: &str) -> Option<(i64, usize)> {
    let (time, process) = name.rsplit_once('-')?;
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let time_digits = time.strip_prefix('-').unwrap_or(time);
    if !digits(time_digits) || !digits(process) {
        return None;
    }
    Some((time.parse().ok()?, process.parse().ok()?))
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

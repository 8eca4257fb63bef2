//! The checkpoint directory on disk: listing its commits and planned batches (of either
//! layout), choosing the newest usable commit on restart, writing a commit atomically, and
//! deleting what no kept commit needs.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::commits::{Checkpoint, QueryCheckpoint};
use super::format::Invalid;
use super::layout::{
    COMMITS, FORMAT_VERSION, KEEP, KEEP_PLANNED, LEGACY_PLANNED_PREFIX, LEGACY_PREFIX, LOCK, METADATA, OFFSETS, PARTS,
    SHARDS, file_name, parse_shard_file_name, part_file_path, shard_file_name, shard_file_path,
};
use super::metadata::{Metadata, read_metadata};
use super::parts::PartFile;
use crate::error::Error;

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
    /// Per sharded state: the snapshot of each process's shard, in process order.
    pub(crate) shards: LoadedShards,
}

/// The shards of a commit, read and checked: per state, the snapshot each process wrote, in
/// process order.
pub(crate) type LoadedShards = Vec<(String, Vec<Vec<u8>>)>;

/// The parts of a commit, read and checked: per state, `(id, stamp, bytes)` sorted by id.
pub(crate) type LoadedParts = Vec<(String, Vec<(i64, u64, Vec<u8>)>)>;

/// Reads the part file (`what`: "part" or "shard") a commit names at `path` with `checksum`:
/// missing, unreadable, damaged, or another file than the one the commit wrote makes the commit
/// unusable.
fn read_part_file(path: &Path, what: &str, checksum: u64) -> Result<PartFile, Invalid> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Invalid::Corrupt(format!("its {what} file `{}` is missing", path.display())));
        }
        Err(e) => return Err(Invalid::Corrupt(format!("cannot read its {what} file `{}`: {e}", path.display()))),
    };
    let file = PartFile::decode(&bytes)
        .map_err(|why| Invalid::Corrupt(format!("its {what} file `{}` {why}", path.display())))?;
    if bytes[bytes.len() - 8..] != checksum.to_le_bytes() {
        return Err(Invalid::Corrupt(format!("its {what} file `{}` is not the one it wrote", path.display())));
    }
    Ok(file)
}

/// Reads and checks every part commit `c` of `dir` uses: a part file that is missing, damaged or
/// not the one the commit wrote (another checksum), or that lacks a part, makes the commit
/// unusable.
fn load_parts(dir: &Path, c: &Checkpoint) -> Result<LoadedParts, Invalid> {
    let mut found: HashMap<(i64, &str, i64, u64), Vec<u8>> = HashMap::new();
    let mut files = Vec::with_capacity(c.part_files.len());
    for &(time, checksum) in &c.part_files {
        let path = part_file_path(dir, time);
        let file = read_part_file(&path, "part", checksum)?;
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

/// Reads and checks the shard files of commit `c` of `dir`: one per process that wrote it, each
/// the one the commit names (its checksum), each holding one piece of every sharded state.
fn load_shards(dir: &Path, c: &Checkpoint) -> Result<LoadedShards, Invalid> {
    let n = c.shards.len();
    let mut out: LoadedShards = Vec::new();
    for (process, &checksum) in c.shards.iter().enumerate() {
        let path = shard_file_path(dir, c.time_ms, process);
        let file = read_part_file(&path, "shard", checksum)?;
        let mut states = 0;
        for p in file.parts {
            // A shard's part: id the process, stamp the number of processes.
            if p.id != process as i64 || p.stamp != n as u64 {
                return Err(Invalid::Corrupt(format!(
                    "its shard file `{}` holds the shard of process {} of {} for state `{}`",
                    path.display(),
                    p.id,
                    p.stamp,
                    p.state
                )));
            }
            let slot = match out.iter_mut().position(|(s, _)| *s == p.state) {
                Some(i) => i,
                None if process == 0 => {
                    out.push((p.state, Vec::with_capacity(n)));
                    out.len() - 1
                }
                None => {
                    return Err(Invalid::Corrupt(format!(
                        "its shard file `{}` holds state `{}`, which process 0's does not",
                        path.display(),
                        p.state
                    )));
                }
            };
            if out[slot].1.len() != process {
                return Err(Invalid::Corrupt(format!("its shard file `{}` holds a state twice", path.display())));
            }
            out[slot].1.push(p.bytes);
            states += 1;
        }
        if states != out.len() {
            return Err(Invalid::Corrupt(format!(
                "its shard file `{}` lacks a state that process 0's holds",
                path.display()
            )));
        }
    }
    Ok(out)
}

/// Writes process `process`'s shard of the commit of time `time_ms` (a part file's bytes:
/// [`crate::checkpoint::PartFile`]) atomically as `dir/shards/<T>-<process>`: the first of the
/// two phases of a cluster's commit.
pub(crate) fn write_shard(dir: &Path, time_ms: i64, process: usize, bytes: &[u8]) -> Result<PathBuf, Error> {
    write_atomic(&dir.join(SHARDS), &shard_file_name(time_ms, process), bytes)
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
                    let shards = load_shards(dir, &c)?;
                    Ok((c, q, v, parts, shards))
                } else {
                    Err(Invalid::Mismatch(format!("written by app `{}`, this app is `{app}`", c.app)))
                }
            }),
            Err(e) => Err(Invalid::Corrupt(format!("cannot read it: {e}"))),
        };
        match checked {
            Ok((checkpoint, query, version, parts, shards)) => {
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
                return Ok(Some(Loaded { path: path.clone(), checkpoint, query, version, parts, shards }));
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

/// Locks checkpoint directory `dir` (creating it) for a run of app `app`, or fails with which
/// process holds it: two runs writing one directory would lose each other's commits. The lock
/// is the returned file's: it lasts until the file is closed, and the system releases it when
/// the process dies (a SIGKILLed run leaves no stale lock). On a file system without locks the
/// run goes on, with a warning.
pub(crate) fn lock(dir: &Path, app: &str) -> Result<std::fs::File, Error> {
    use std::io::{Read, Seek, Write};
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(LOCK);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    // A lock is held by an open file description, and a child process that another thread of
    // this process is starting shares ours until it execs: a run that has just ended can leave
    // its lock held for that moment. So a taken lock is tried again for a short while.
    match try_lock_for(&file, std::time::Duration::from_secs(2)) {
        Ok(()) => {
            // The holder's pid, for the message of a run that finds the directory taken.
            let _ = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| write!(file, "{}", std::process::id()));
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() { String::new() } else { format!(" (pid {holder})") };
            Err(Error::Config(format!(
                "the checkpoint directory `{}` is in use by another run of `{app}`{who}\nhelp: stop that run first, or give this one its own directory (`--checkpoint DIR`)",
                dir.display()
            )))
        }
        Err(std::fs::TryLockError::Error(e)) => {
            eprintln!(
                "warning: cannot lock the checkpoint directory `{}` ({e}); nothing stops a second run from using it at the same time",
                dir.display()
            );
            Ok(file)
        }
    }
}

/// Tries to lock `file` until it is locked or `patience` has passed.
fn try_lock_for(file: &std::fs::File, patience: std::time::Duration) -> Result<(), std::fs::TryLockError> {
    let start = std::time::Instant::now();
    loop {
        match file.try_lock() {
            Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < patience => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            r => return r,
        }
    }
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
    for d in [dir.to_owned(), dir.join(COMMITS), dir.join(OFFSETS), dir.join(PARTS), dir.join(SHARDS)] {
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
        let kept_times: Vec<i64> = files.iter().rev().take(KEEP).map(|&(t, _)| t).collect();
        prune_shards(dir, &kept_times, c.time_ms)?;
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

/// Deletes the shard files of `dir` of commits older than `newest` that are not `kept` (a shard
/// file is used by the commit of its time only). Shard files newer than the newest commit are
/// left: they belong to a batch being committed, or to one a crash interrupted, which its re-run
/// writes again.
fn prune_shards(dir: &Path, kept: &[i64], newest: i64) -> Result<(), Error> {
    let shards = dir.join(SHARDS);
    let entries = match std::fs::read_dir(&shards) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(Error::CheckpointWrite { path: shards, source }),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((time, _)) = name.to_str().and_then(parse_shard_file_name) else { continue };
        if time < newest && !kept.contains(&time) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::CheckpointWrite { path: entry.path(), source }),
            }
        }
    }
    Ok(())
}

/// Writes `bytes` as `dir/name` through `dir/.name.tmp`: fsynced, renamed, directory fsynced.
/// Creates `dir` if needed, fsyncing its parent so that the new directory survives a crash too.
pub(super) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, Error> {
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

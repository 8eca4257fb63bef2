//! Incremental checkpoints: window panes written once as parts (in the part file `parts/<T>` of
//! the first commit that uses them), referred to by later commits, pruned with the commits that
//! use them, checked on restart, and version 3 directories (whole snapshots) still resumed.
//!
//! The app keeps the three window states as generated code does (a `window`, a
//! `reduce_by_key_and_window` with and without an inverse), over replayed batches of words; its
//! reference is an uninterrupted run over the same files.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::{Captured, TempDir};
use streamc_runtime::checkpoint::{Checkpoint, FORMAT_VERSION, PartFile, commit_path, fnv1a64, part_file_path};
use streamc_runtime::persist::Checkpointed;
use streamc_runtime::window::{InvKeyedWindow, KeyedWindow, Window};
use streamc_runtime::{App, AppBuilder, BatchInput, BatchOutput, Error, Milliseconds};

const BATCHES: usize = 16;
const STATES: [&str; 3] = ["inv", "plain", "raw"];

type Handler = Box<dyn FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send>;

/// What the handler saw of the checkpoint directory at the start of each batch: every part file
/// with its inode (a file written again through a rename gets another inode) and its parts.
type Seen = Arc<Mutex<Vec<PartFiles>>>;

/// Part files by path: inode, and (state, id, stamp) of each part.
type PartFiles = BTreeMap<PathBuf, (u64, Vec<(String, i64, u64)>)>;

/// Whole snapshots (`Checkpointed::save`) of the states at each checkpoint batch, by batch time.
type Snapshots = Arc<Mutex<BTreeMap<i64, Vec<(String, Vec<u8>)>>>>;

/// Every part file under `ckpt/parts`, with its inode and parts.
fn part_files(ckpt: &Path) -> PartFiles {
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeMap::new();
    let Ok(files) = std::fs::read_dir(ckpt.join("parts")) else { return out };
    for f in files {
        let f = f.unwrap();
        if f.file_name().to_str().unwrap().starts_with('.') {
            continue;
        }
        let parts = match PartFile::decode(&std::fs::read(f.path()).unwrap()) {
            Ok(file) => file.parts.into_iter().map(|p| (p.state, p.id, p.stamp)).collect(),
            Err(_) => Vec::new(),
        };
        out.insert(f.path(), (f.metadata().unwrap().ino(), parts));
    }
    out
}

/// The windowed app: interval 1 s, windows of 4 s sliding by 1 s (the raw window: 3 s),
/// checkpoint interval 2 s.
fn windowed(ckpt: &Path, print: &Captured, seen: &Seen, snapshots: &Snapshots) -> App<Handler> {
    let mut b = AppBuilder::new("windowed", Milliseconds(1000));
    b.checkpoint(ckpt, 2000);
    let src = b.socket_text_stream("lines", "localhost", 9999);
    let out_inv = b.print("inv", 1000);
    let out_plain = b.print("plain", 1000);
    let out_raw = b.print("raw", 1000);
    let mut inv = InvKeyedWindow::<String, i64>::new(4000, 1000);
    let mut plain = KeyedWindow::<String, i64>::new(4000);
    let mut raw = Window::<String>::new(3000);
    let (ckpt, seen, snapshots) = (ckpt.to_owned(), Arc::clone(seen), Arc::clone(snapshots));
    let handler: Handler = Box::new(move |input: &BatchInput, output: &mut BatchOutput| -> Result<(), Error> {
        input.restore("inv", &mut inv)?;
        input.restore("plain", &mut plain)?;
        input.restore("raw", &mut raw)?;
        seen.lock().unwrap().push(part_files(&ckpt));
        let t = input.time_ms();
        let mut counts = BTreeMap::new();
        let mut lines = Vec::new();
        for line in input.text(src).lines() {
            lines.push(line.to_owned());
            for w in line.split_whitespace() {
                *counts.entry(w.to_owned()).or_insert(0i64) += 1;
            }
        }
        let pane: Vec<(String, i64)> = counts.into_iter().collect();
        plain.push_pane(t, pane.clone());
        inv.push_pane(t, pane);
        raw.push(t, lines);
        let mut w: Vec<(String, i64)> =
            inv.slide(t, &mut |a, b| a + b, &mut |a, b| a - b, &mut |kv: &(String, i64)| kv.1 != 0).to_vec();
        w.sort();
        output.emit(out_inv, &w)?;
        output.emit(out_plain, plain.reduce(t, &mut |a, b| a + b, &mut |_| true))?;
        output.emit(out_raw, &raw.collect(t))?;
        if input.is_checkpoint_batch() {
            output.save_state("inv", &inv);
            output.save_state("plain", &plain);
            output.save_state("raw", &raw);
            let whole = |s: &dyn Checkpointed| {
                let mut b = Vec::new();
                s.save(&mut b);
                b
            };
            snapshots.lock().unwrap().insert(
                t,
                vec![
                    ("inv".to_owned(), whole(&inv)),
                    ("plain".to_owned(), whole(&plain)),
                    ("raw".to_owned(), whole(&raw)),
                ],
            );
        }
        Ok(())
    });
    b.build(handler).with_print_writer(print.clone())
}

/// `BATCHES` replay files of words from a small vocabulary (deterministic), a few empty.
fn input(dir: &TempDir) -> PathBuf {
    let input = dir.join("in");
    std::fs::create_dir(&input).unwrap();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 0..BATCHES {
        let mut text = String::new();
        if i % 7 != 3 {
            for j in 0..(5 + i * 3) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                text.push_str(&format!("w{}", x % 23));
                text.push(if j % 4 == 3 { '\n' } else { ' ' });
            }
        }
        std::fs::write(input.join(format!("b{i:02}.txt")), text).unwrap();
    }
    input
}

struct Run {
    jsonl: String,
    seen: Vec<PartFiles>,
    snapshots: BTreeMap<i64, Vec<(String, Vec<u8>)>>,
}

fn run(input: &Path, ckpt: &Path, jsonl: &Path, max_batches: Option<u64>) -> Result<Run, Error> {
    let (seen, snapshots) = (Seen::default(), Snapshots::default());
    let mut app = windowed(ckpt, &Captured::default(), &seen, &snapshots).with_replay_all(input).with_jsonl(jsonl);
    if let Some(n) = max_batches {
        app = app.with_max_batches(n);
    }
    app.start()?.await_termination()?;
    let seen = seen.lock().unwrap().clone();
    let snapshots = snapshots.lock().unwrap().clone();
    Ok(Run { jsonl: std::fs::read_to_string(jsonl).unwrap(), seen, snapshots })
}

/// The jsonl lines of the batches after `after_ms`.
fn jsonl_after(jsonl: &str, after_ms: i64) -> String {
    jsonl
        .lines()
        .filter(|l| {
            let t = l.split("\"batch_time_ms\":").nth(1).unwrap().split(',').next().unwrap();
            t.parse::<i64>().unwrap() > after_ms
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

fn commit_times(ckpt: &Path) -> Vec<i64> {
    let mut v: Vec<i64> = std::fs::read_dir(ckpt.join("commits"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.'))
        .map(|n| n.parse().unwrap())
        .collect();
    v.sort();
    v
}

fn commit(ckpt: &Path, t: i64) -> Checkpoint {
    Checkpoint::decode(&std::fs::read(commit_path(ckpt, t)).unwrap()).unwrap()
}

/// The part files the commits in `ckpt/commits` use.
fn referenced(ckpt: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for t in commit_times(ckpt) {
        out.extend(commit(ckpt, t).part_files.iter().map(|&(f, _)| part_file_path(ckpt, f)));
    }
    out
}

fn paths(files: PartFiles) -> BTreeSet<PathBuf> {
    files.into_keys().collect()
}

#[test]
fn a_resumed_run_equals_an_uninterrupted_one() {
    let dir = TempDir::new("parts-resume");
    let input = input(&dir);
    let reference = run(&input, &dir.join("ckpt-ref"), &dir.join("ref.jsonl"), None).unwrap();
    assert_eq!(reference.seen.len(), BATCHES);
    let ckpt = dir.join("ckpt");
    // Runs of 3 batches, each resuming after the newest commit of the one before: every resume
    // restores the three windows from a version 4 commit and its parts.
    let mut from = 0;
    while from < BATCHES as i64 * 1000 {
        let r = run(&input, &ckpt, &dir.join("step.jsonl"), Some(3)).unwrap();
        let last = *commit_times(&ckpt).last().unwrap();
        let upto = (from + 3000).min(BATCHES as i64 * 1000);
        let want: String = jsonl_after(&reference.jsonl, from)
            .lines()
            .take_while(|l| {
                let t: i64 = l.split("\"batch_time_ms\":").nth(1).unwrap().split(',').next().unwrap().parse().unwrap();
                t <= upto
            })
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(r.jsonl, want, "the run after {from} ms");
        assert!(from < last, "progress");
        from = last;
    }
    let c = commit(&ckpt, BATCHES as i64 * 1000);
    assert_eq!(c.parts.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), STATES);
}

#[test]
fn each_pane_is_written_once_and_pruned_with_the_last_commit_using_it() {
    let dir = TempDir::new("parts-once");
    let input = input(&dir);
    let ckpt = dir.join("ckpt");
    // A part file orphaned by a crash between its write and its commit: removed by the first
    // prune.
    let orphan = part_file_path(&ckpt, 99_000);
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, b"orphan").unwrap();
    let first = run(&input, &ckpt, &dir.join("a.jsonl"), Some(9)).unwrap();
    let second = run(&input, &ckpt, &dir.join("b.jsonl"), None).unwrap();
    let mut seen = first.seen;
    seen.extend(second.seen);
    seen.push(part_files(&ckpt));
    // A part file is never written again (the same inode for as long as it exists), across the
    // commits of a run and across a restart; no part is in two files.
    let mut files: PartFiles = BTreeMap::new();
    for snapshot in &seen {
        for (path, file) in snapshot {
            assert_eq!(files.entry(path.clone()).or_insert(file.clone()), file, "{} was written again", path.display());
        }
    }
    files.remove(&orphan);
    let mut parts = BTreeSet::new();
    for (path, (_, in_file)) in &files {
        for p in in_file {
            assert!(parts.insert(p.clone()), "{p:?} is in two files, one of them {}", path.display());
        }
    }
    // Every pane of batches 1..=16 but the empty ones (batches 4 and 11), per state, was written
    // once: every pane is in some checkpoint (windows of 3 and 4 batches, a checkpoint every 2).
    // They are in the files of the commits of 2000, 4000, ..., 16000 ms, one file each.
    assert_eq!(parts.len(), 3 * 14);
    let mut names: Vec<_> = files.keys().map(|p| p.file_name().unwrap().to_str().unwrap().to_owned()).collect();
    names.sort();
    assert_eq!(names, (1..=8).map(|i| streamc_runtime::checkpoint::file_name(i * 2000)).collect::<Vec<_>>());
    for (state, id, stamp) in &parts {
        assert!(STATES.contains(&state.as_str()) && id % 1000 == 0 && *stamp > 0);
    }
    assert_eq!(first.snapshots.len() + second.snapshots.len(), 8);

    // Pruning: exactly the part files the kept commits use are left, the orphan is gone.
    assert_eq!(commit_times(&ckpt), [12_000, 14_000, 16_000]);
    assert_eq!(paths(part_files(&ckpt)), referenced(&ckpt));
    assert!(!orphan.exists());
    // After its slide at 12 s, the inverse window keeps the panes of (8, 12] s: those of the
    // files of 10 s (panes of 9 and 10 s) and 12 s.
    let files: Vec<i64> = commit(&ckpt, 12_000).part_files.iter().map(|&(t, _)| t).collect();
    assert_eq!(files, [10_000, 12_000]);
}

/// Replaces `path` with an intact part file of other parts.
fn write_foreign_part(path: &Path) {
    let part = streamc_runtime::checkpoint::Part { state: "inv".into(), id: 6000, stamp: 1, bytes: vec![0; 9] };
    std::fs::write(path, PartFile { parts: vec![part] }.encode()).unwrap();
}

/// Flips one byte in the middle of `path`.
fn flip_a_byte(path: &Path) {
    let mut b = std::fs::read(path).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0x20;
    std::fs::write(path, b).unwrap();
}

/// The child half of `a_damaged_part_makes_the_commit_unusable`: resumes over the directory its
/// parent prepared; does nothing when run as a test of its own.
#[test]
fn child_resumes_over_damaged_part() {
    let Some(dir) = std::env::var_os("STREAMC_TEST_PARTS_CHILD") else { return };
    let dir = PathBuf::from(dir);
    run(&dir.join("in"), &dir.join("ckpt"), &dir.join("child.jsonl"), None).unwrap();
}

fn run_child(dir: &Path) -> (bool, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_resumes_over_damaged_part", "--nocapture", "--test-threads=1"])
        .env("STREAMC_TEST_PARTS_CHILD", dir)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_missing_or_damaged_part_makes_its_commit_unusable() {
    type Damage = fn(&Path);
    let damages: [(&str, Damage); 3] = [
        ("missing", |p| std::fs::remove_file(p).unwrap()),
        ("flipped", flip_a_byte),
        // Intact, but not the part the commit wrote: a foreign one.
        ("foreign", write_foreign_part),
    ];
    for (how, damage) in damages {
        let dir = TempDir::new("parts-damaged");
        let input = input(&dir);
        let reference = run(&input, &dir.join("ckpt-ref"), &dir.join("ref.jsonl"), None).unwrap();
        let ckpt = dir.join("ckpt");
        run(&input, &ckpt, &dir.join("first.jsonl"), Some(7)).unwrap();
        assert_eq!(commit_times(&ckpt), [2000, 4000, 6000]);
        // The part file of the newest commit, which only that commit uses: the panes of 5000 and
        // 6000 ms.
        let c = commit(&ckpt, 6000);
        assert_eq!(c.part_files.iter().map(|&(t, _)| t).collect::<Vec<_>>(), [4000, 6000]);
        assert!(!commit(&ckpt, 4000).part_files.iter().any(|&(t, _)| t == 6000));
        let part = part_file_path(&ckpt, 6000);
        damage(&part);

        let (ok, stderr) = run_child(dir.path());
        assert!(ok, "{how}: {stderr}");
        let warning = format!(
            "warning: checkpoint `{}` is corrupt (its part file `{}` ",
            commit_path(&ckpt, 6000).display(),
            part.display()
        );
        assert!(stderr.contains(&warning) && stderr.contains("; using the previous one"), "{how}: {stderr}");
        // Resumed from the commit of batch 4000.
        let got = std::fs::read_to_string(dir.join("child.jsonl")).unwrap();
        assert_eq!(got, jsonl_after(&reference.jsonl, 4000), "{how}");
        // The run wrote the part again (with the commit of batch 6000) and pruned what no kept
        // commit uses.
        assert_eq!(paths(part_files(&ckpt)), referenced(&ckpt));
    }

    // When the part is used by every commit, no commit is usable: an error naming the directory.
    let dir = TempDir::new("parts-all-damaged");
    let input = input(&dir);
    let ckpt = dir.join("ckpt");
    run(&input, &ckpt, &dir.join("first.jsonl"), Some(5)).unwrap();
    assert_eq!(commit_times(&ckpt), [2000, 4000]);
    assert_eq!(commit(&ckpt, 4000).part_files[0].0, 2000);
    std::fs::remove_file(part_file_path(&ckpt, 2000)).unwrap();
    let err = windowed(&ckpt, &Captured::default(), &Seen::default(), &Snapshots::default())
        .with_replay_all(&input)
        .start()
        .unwrap_err();
    match err {
        Error::Checkpoint { path, message } => {
            assert_eq!(path, ckpt);
            assert!(message.starts_with(&format!("no usable checkpoint in `{}`: ", ckpt.display())), "{message}");
            assert_eq!(message.matches("is missing").count(), 2, "{message}");
        }
        other => panic!("{other:?}"),
    }
}

/// `c` as a version 3 commit file: no parts section, states as whole snapshots.
fn encode_v3(c: &Checkpoint, query: Option<&streamc_runtime::checkpoint::QueryCheckpoint>) -> Vec<u8> {
    let c = Checkpoint { parts: Vec::new(), part_files: Vec::new(), shards: Vec::new(), ..c.clone() };
    let mut bytes = c.encode_with(query);
    bytes.truncate(bytes.len() - 8 - 4 - 4 - 4);
    bytes[8..12].copy_from_slice(&3u32.to_le_bytes());
    let sum = fnv1a64(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    bytes
}

#[test]
fn a_version_3_directory_resumes_and_moves_to_parts() {
    let dir = TempDir::new("parts-v3");
    let input = input(&dir);
    let reference = run(&input, &dir.join("ckpt-ref"), &dir.join("ref.jsonl"), None).unwrap();
    let ckpt = dir.join("ckpt");
    let first = run(&input, &ckpt, &dir.join("first.jsonl"), Some(7)).unwrap();
    // Rewrite the directory as version 3 wrote it: whole snapshots in the commits, no `parts/`,
    // metadata of layout version 3.
    for t in commit_times(&ckpt) {
        let path = commit_path(&ckpt, t);
        let (c, q) = Checkpoint::decode_with(&std::fs::read(&path).unwrap()).unwrap();
        let c = Checkpoint { states: first.snapshots[&t].clone(), ..c };
        std::fs::write(&path, encode_v3(&c, q.as_ref())).unwrap();
        let (_, _, v) = Checkpoint::decode_versioned(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(v, 3);
    }
    std::fs::remove_dir_all(ckpt.join("parts")).unwrap();
    let meta = std::fs::read_to_string(ckpt.join("metadata"))
        .unwrap()
        .replace(&format!("\"version\":{FORMAT_VERSION}"), "\"version\":3");
    assert!(meta.contains("\"version\":3"), "{meta}");
    std::fs::write(ckpt.join("metadata"), meta).unwrap();

    let second = run(&input, &ckpt, &dir.join("second.jsonl"), None).unwrap();
    assert_eq!(second.jsonl, jsonl_after(&reference.jsonl, 6000));
    // The new commits are of the current version, with parts; the metadata keeps its version.
    let last = std::fs::read(commit_path(&ckpt, BATCHES as i64 * 1000)).unwrap();
    assert_eq!(Checkpoint::decode_versioned(&last).unwrap().2, FORMAT_VERSION);
    assert_eq!(commit_times(&ckpt), [12_000, 14_000, 16_000]);
    assert_eq!(paths(part_files(&ckpt)), referenced(&ckpt));
    assert!(std::fs::read_to_string(ckpt.join("metadata")).unwrap().contains("\"version\":3"));
}

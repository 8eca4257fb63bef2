//! Crash test of incremental checkpoints in a DStream app: windowed word counts (with an inverse
//! function, without one, and a plain `window`), whose panes are checkpointed as parts, over a
//! replayed input, are run once uninterrupted, then again against one checkpoint directory while
//! being killed with SIGKILL at pseudo-random moments (`STREAMC_CRASH_KILLS`, default 30) and
//! restarted, then run to the end. Every batch any run output must be the uninterrupted run's
//! (a resumed run repeats the batches after its checkpoint: at least once), and the directory
//! must end with exactly the part files its kept commits use.
//!
//! `STREAMC_CRASH_SEED=S` picks another schedule.
#![cfg(unix)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Rng, TempDir};
use streamc_runtime::checkpoint::{Checkpoint, PartFile, commit_path, part_file_path};
use streamc_runtime::prelude::*;

const BATCHES: usize = 40;
const WORDS_PER_BATCH: usize = 6000;
const VOCAB: u64 = 4000;

/// The app, as the `stream!` macro generates it: an 8 s inverse window checkpointed every 2 s,
/// a 6 s window sliding by 2 s without inverse, and a 3 s `window` of the lines.
fn app(
    ckpt: &Path,
    input: &Path,
    jsonl: &Path,
) -> App<impl FnMut(&streamc_runtime::BatchInput, &mut streamc_runtime::BatchOutput) -> Result<(), Error> + use<>> {
    stream! {
        app_name("window_crash");
        batch_interval(Seconds(1));
        checkpoint("target/window-crash-unused");
        let lines = socket_text_stream("localhost", 9999);
        let words = lines.flat_map(|line| java_split(line, " "));
        let pairs = words.map(|word| (word, 1i64));
        let counts = pairs.reduce_by_key_and_window(
            |a, b| a + b,
            |a, b| a - b,
            Seconds(8),
            Seconds(1),
            |kv: &(String, i64)| kv.1 != 0
        );
        counts.checkpoint(Seconds(2));
        counts.print(3);
        let plain = pairs.reduce_by_key_and_window(|a, b| a + b, Seconds(6), Seconds(2));
        plain.print(3);
        let recent = lines.window(Seconds(3), Seconds(1)).count();
        recent.print();
    }
    .with_replay_all(input)
    .with_checkpoint_dir(ckpt)
    .with_jsonl(jsonl)
    .with_print_writer(std::io::sink())
}

/// The child process: runs the app over the directory and files named in its environment.
#[test]
fn child_runs_the_windowed_app() {
    let Some(dir) = std::env::var_os("STREAMC_WINDOW_CRASH_DIR") else { return };
    let dir = PathBuf::from(dir);
    let ckpt = dir.join(std::env::var("STREAMC_WINDOW_CRASH_CKPT").unwrap());
    let jsonl = dir.join(std::env::var("STREAMC_WINDOW_CRASH_JSONL").unwrap());
    app(&ckpt, &dir.join("in"), &jsonl).start().unwrap().await_termination().unwrap();
}

fn child(dir: &Path, ckpt: &str, jsonl: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_runs_the_windowed_app", "--nocapture", "--test-threads=1"])
        .env("STREAMC_WINDOW_CRASH_DIR", dir)
        .env("STREAMC_WINDOW_CRASH_CKPT", ckpt)
        .env("STREAMC_WINDOW_CRASH_JSONL", jsonl)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn write_input(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let mut rng = Rng(0x77_1d0e);
    for b in 0..BATCHES {
        let mut text = String::new();
        for i in 0..WORDS_PER_BATCH {
            // Skewed: low word numbers are frequent, so keys stay in the window for long.
            let r = rng.next() % VOCAB;
            let w = r * r / VOCAB;
            text.push_str(&format!("w{w}"));
            text.push(if i % 10 == 9 { '\n' } else { ' ' });
        }
        std::fs::write(dir.join(format!("b{b:03}.txt")), text).unwrap();
    }
}

/// The complete lines of a jsonl file (a killed run may have left half a line), by (output,
/// batch time).
fn lines(path: &Path) -> Vec<((String, i64), String)> {
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    complete
        .lines()
        .map(|l| {
            let output = l.split("\"output\":\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
            let t = l.split("\"batch_time_ms\":").nth(1).unwrap().split(',').next().unwrap().parse().unwrap();
            ((output, t), l.to_owned())
        })
        .collect()
}

#[test]
fn windows_resume_exactly_across_sigkills() {
    let kills: usize = std::env::var("STREAMC_CRASH_KILLS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    let seed: u64 = std::env::var("STREAMC_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
    let dir = TempDir::new("window-crash");
    write_input(&dir.join("in"));

    let started = Instant::now();
    let reference = child(dir.path(), "ckpt-ref", "ref.jsonl").wait_with_output().unwrap();
    assert!(reference.status.success(), "{}", String::from_utf8_lossy(&reference.stderr));
    let full = started.elapsed();
    let want: BTreeMap<(String, i64), String> = lines(&dir.join("ref.jsonl")).into_iter().collect();
    assert_eq!(want.keys().filter(|(o, _)| o == "counts").count(), BATCHES);

    // Kills at moments spread over a run's length: some before the first commit, some in
    // batches, some in checkpoint writes, some after the replay is done.
    let mut rng = Rng(seed);
    let (mut killed, mut run, mut finished, mut pruned) = (0, 0, 0, 0);
    while killed < kills {
        let mut c = child(dir.path(), "ckpt", &format!("run-{run}.jsonl"));
        let wait = Duration::from_micros(rng.next() % (full.as_micros() as u64 / 2).max(1));
        std::thread::sleep(wait);
        if c.try_wait().unwrap().is_none() {
            c.kill().unwrap();
            killed += 1;
        }
        let out = c.wait_with_output().unwrap();
        // A run that was not killed ended by itself, successfully.
        if !out.status.success() {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(out.status.signal(), Some(9), "run {run}: {}", String::from_utf8_lossy(&out.stderr));
        }
        if out.status.success() {
            finished += 1;
        }
        if String::from_utf8_lossy(&out.stderr).contains("warning") {
            panic!("run {run}: {}", String::from_utf8_lossy(&out.stderr));
        }
        run += 1;
        let (commits, exact) = check_directory(&dir.join("ckpt"));
        pruned += usize::from(commits == 3 && exact);
        // Once the replay is done every restart has nothing to do: start over in a fresh
        // directory, so that kills keep landing in batches.
        if dir.join("ckpt").join("commits").join(streamc_runtime::checkpoint::file_name(BATCHES as i64 * 1000)).exists()
        {
            check_outputs(&dir, run, &want);
            std::fs::remove_dir_all(dir.join("ckpt")).unwrap();
            for r in 0..run {
                let _ = std::fs::remove_file(dir.join(&format!("run-{r}.jsonl")));
            }
            run = 0;
        }
    }
    eprintln!(
        "{killed} kills over {} runs ({finished} ended by themselves, {pruned} left 3 commits and \
         their parts only); an uninterrupted run takes {full:?}",
        killed + finished
    );
    let last = child(dir.path(), "ckpt", &format!("run-{run}.jsonl")).wait_with_output().unwrap();
    assert!(last.status.success(), "{}", String::from_utf8_lossy(&last.stderr));
    check_outputs(&dir, run + 1, &want);
    // The last run wrote commits (a finished directory was started over), so it pruned.
    assert_eq!(check_directory(&dir.join("ckpt")), (3, true));
}

/// Every line of runs `0..runs` is the reference's, and together they cover every batch.
fn check_outputs(dir: &TempDir, runs: usize, want: &BTreeMap<(String, i64), String>) {
    let mut covered = BTreeSet::new();
    for r in 0..runs {
        for (key, line) in lines(&dir.join(&format!("run-{r}.jsonl"))) {
            assert_eq!(Some(&line), want.get(&key), "run {r}, {key:?}");
            covered.insert(key);
        }
    }
    assert_eq!(covered, want.keys().cloned().collect::<BTreeSet<_>>());
}

/// What a crash may leave: every commit in the directory is complete and every part it uses is
/// there, intact and the one it wrote (no kept commit ever points to a missing part). Returns
/// the number of commits, and whether the part files are exactly those the commits use (true
/// after every prune; a kill between a commit and its prune leaves an older commit, and parts
/// only that commit uses, for the next commit to delete).
fn check_directory(ckpt: &Path) -> (usize, bool) {
    let mut used = BTreeSet::new();
    let mut commits = 0;
    let Ok(entries) = std::fs::read_dir(ckpt.join("commits")) else { return (0, true) };
    for e in entries {
        let path = e.unwrap().path();
        if path.file_name().unwrap().to_str().unwrap().starts_with('.') {
            continue; // a temporary file, removed when the next run starts
        }
        let c = Checkpoint::decode(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(path, commit_path(ckpt, c.time_ms));
        commits += 1;
        for &(t, checksum) in &c.part_files {
            let path = part_file_path(ckpt, t);
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(bytes[bytes.len() - 8..], checksum.to_le_bytes(), "{}", path.display());
            let file = PartFile::decode(&bytes).unwrap();
            for r in c.parts.iter().flat_map(|(state, refs)| refs.iter().map(move |r| (state, r))) {
                if r.1.file == t {
                    assert!(file.parts.iter().any(|p| p.state == *r.0 && (p.id, p.stamp) == (r.1.id, r.1.stamp)));
                }
            }
            used.insert(path);
        }
    }
    let mut on_disk = BTreeSet::new();
    if let Ok(files) = std::fs::read_dir(ckpt.join("parts")) {
        for f in files {
            let path = f.unwrap().path();
            if !path.file_name().unwrap().to_str().unwrap().starts_with('.') {
                on_disk.insert(path);
            }
        }
    }
    assert!(on_disk.is_superset(&used));
    (commits, on_disk == used)
}

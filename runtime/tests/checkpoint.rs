//! Checkpoints and restarts through the public API, with a handler written as generated code
//! writes a stateful app: a running word count restored from and saved to checkpoints, and a
//! "windowed" output that is only emitted on batches whose `time − zero` is a multiple of 3 s.
//!
//! The reference for every restart is an uninterrupted run over the same replay files: the
//! batches a resumed run outputs must be exactly the uninterrupted run's batches after the
//! checkpoint it resumed from.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use common::{Captured, TempDir};
use streamc_runtime::checkpoint::{Checkpoint, FORMAT_VERSION, Metadata, commit_path, file_name, planned_file_name};
use streamc_runtime::persist::Checkpointed;
use streamc_runtime::{App, AppBuilder, BatchInput, BatchOutput, Error, ManualClock, Milliseconds, Trigger};

/// A running word count, encoded as `word count` lines: the test's own state type, so that the
/// tests depend only on the `Checkpointed` trait.
#[derive(Default)]
struct Counts(BTreeMap<String, i64>);

impl Checkpointed for Counts {
    fn save(&self, out: &mut Vec<u8>) {
        for (w, n) in &self.0 {
            out.extend_from_slice(format!("{w} {n}\n").as_bytes());
        }
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let text = std::str::from_utf8(bytes).map_err(|_| Error::Config("corrupt checkpoint: not UTF-8".to_owned()))?;
        let mut m = BTreeMap::new();
        for line in text.lines() {
            let (w, n) = line
                .split_once(' ')
                .and_then(|(w, n)| Some((w, n.parse::<i64>().ok()?)))
                .ok_or_else(|| Error::Config(format!("corrupt checkpoint: bad line `{line}`")))?;
            m.insert(w.to_owned(), n);
        }
        self.0 = m;
        Ok(())
    }
}

/// What the handler saw of one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seen {
    time: i64,
    zero: i64,
    every_3s: bool,
    checkpoint: bool,
}

type Handler = Box<dyn FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send>;

/// The stateful app: interval 1 s, checkpoint interval 2 s into `ckpt`.
fn stateful(ckpt: &Path, print: &Captured, seen: &Arc<Mutex<Vec<Seen>>>) -> App<Handler> {
    let mut b = AppBuilder::new("stateful", Milliseconds(1000));
    b.checkpoint(ckpt, 2000);
    let src = b.socket_text_stream("lines", "localhost", 9999);
    let out = b.print("counts", 100);
    let every = b.print("total_every_3s", 10);
    let mut st_counts = Counts::default();
    let seen = Arc::clone(seen);
    let handler: Handler = Box::new(move |input: &BatchInput, output: &mut BatchOutput| -> Result<(), Error> {
        input.restore("counts", &mut st_counts)?;
        let active = input.is_multiple_of(3000);
        seen.lock().unwrap().push(Seen {
            time: input.time_ms(),
            zero: input.zero_ms(),
            every_3s: active,
            checkpoint: input.is_checkpoint_batch(),
        });
        for line in input.text(src).lines() {
            for w in line.split_whitespace() {
                *st_counts.0.entry(w.to_owned()).or_insert(0) += 1;
            }
        }
        let records: Vec<(&str, i64)> = st_counts.0.iter().map(|(w, n)| (w.as_str(), *n)).collect();
        output.emit(out, &records)?;
        if active {
            output.emit(every, &[st_counts.0.values().sum::<i64>()])?;
        }
        if input.is_checkpoint_batch() {
            output.save_state("counts", &st_counts);
        }
        Ok(())
    });
    b.build(handler).with_print_writer(print.clone())
}

/// Eight replay files, one batch each; every batch adds words, so a lost or stale state shows.
fn eight_batches(dir: &TempDir) -> PathBuf {
    let input = dir.join("in");
    std::fs::create_dir(&input).unwrap();
    let batches = ["a b", "b c\nc", "", "a", "d d d", "a b c d", "e", "a\ne"];
    for (i, text) in batches.iter().enumerate() {
        std::fs::write(input.join(format!("b{i}.txt")), text).unwrap();
    }
    input
}

/// The outputs of one run.
struct Run {
    jsonl: String,
    print: String,
    seen: Vec<Seen>,
}

fn run(input: &Path, ckpt: &Path, jsonl: &Path, max_batches: Option<u64>) -> Result<Run, Error> {
    let print = Captured::default();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut app = stateful(ckpt, &print, &seen).with_replay_all(input).with_jsonl(jsonl);
    if let Some(n) = max_batches {
        app = app.with_max_batches(n);
    }
    app.start()?.await_termination()?;
    let seen = seen.lock().unwrap().clone();
    Ok(Run { jsonl: std::fs::read_to_string(jsonl).unwrap(), print: print.text(), seen })
}

/// The jsonl lines of the batches after `after_ms` up to `upto_ms`.
fn jsonl_between(jsonl: &str, after_ms: i64, upto_ms: i64) -> String {
    jsonl
        .lines()
        .filter(|l| {
            let t = l.split("\"batch_time_ms\":").nth(1).unwrap().split(',').next().unwrap();
            (after_ms + 1..=upto_ms).contains(&t.parse::<i64>().unwrap())
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The jsonl lines of the batches after `after_ms`.
fn jsonl_after(jsonl: &str, after_ms: i64) -> String {
    jsonl_between(jsonl, after_ms, i64::MAX)
}

const HEADER: &str = "-------------------------------------------\nTime: ";

/// The print blocks of the batches after `after_ms`.
fn print_after(print: &str, after_ms: i64) -> String {
    print
        .split(HEADER)
        .filter(|b| !b.is_empty())
        .filter(|b| b.split(' ').next().unwrap().parse::<i64>().unwrap() > after_ms)
        .map(|b| format!("{HEADER}{b}"))
        .collect()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

/// The names in the checkpoint directory's `commits/`.
fn commits(ckpt: &Path) -> Vec<String> {
    names(&ckpt.join("commits"))
}

fn uninterrupted(dir: &TempDir, input: &Path) -> Run {
    run(input, &dir.join("ckpt-reference"), &dir.join("reference.jsonl"), None).unwrap()
}

#[test]
fn uninterrupted_run_checkpoints_every_second_batch_and_keeps_three() {
    let dir = TempDir::new("ckpt-full");
    let input = eight_batches(&dir);
    let r = uninterrupted(&dir, &input);

    // The running counts and the 3 s output, on the batches Spark's rule picks (zero = 0).
    assert!(r.jsonl.starts_with(concat!(
        r#"{"output":"counts","batch_time_ms":1000,"records":[["a",1],["b",1]]}"#,
        "\n",
        r#"{"output":"counts","batch_time_ms":2000,"records":[["a",1],["b",2],["c",2]]}"#,
        "\n",
        r#"{"output":"counts","batch_time_ms":3000,"records":[["a",1],["b",2],["c",2]]}"#,
        "\n",
        r#"{"output":"total_every_3s","batch_time_ms":3000,"records":[5]}"#,
        "\n",
    )));
    assert!(r.jsonl.ends_with(concat!(
        r#"{"output":"counts","batch_time_ms":8000,"records":[["a",4],["b",3],["c",3],["d",4],["e",2]]}"#,
        "\n"
    )));
    assert_eq!(r.jsonl.matches("total_every_3s").count(), 2, "{}", r.jsonl);
    assert!(r.jsonl.contains(r#"{"output":"total_every_3s","batch_time_ms":6000,"records":[13]}"#));

    let want: Vec<Seen> =
        (1..=8).map(|i| Seen { time: i * 1000, zero: 0, every_3s: i % 3 == 0, checkpoint: i % 2 == 0 }).collect();
    assert_eq!(r.seen, want);

    // Only complete commits, the newest three, no temporary file.
    let ckpt = dir.join("ckpt-reference");
    assert_eq!(names(&ckpt), ["commits", "lock", "metadata"]);
    assert_eq!(commits(&ckpt), [file_name(4000), file_name(6000), file_name(8000)]);
    assert_eq!(file_name(4000), "00000000000000004000");
    for (t, next) in [(4000, 4), (6000, 6), (8000, 8)] {
        let c = Checkpoint::decode(&std::fs::read(commit_path(&ckpt, t)).unwrap()).unwrap();
        assert_eq!((c.app.as_str(), c.time_ms, c.zero_ms, c.interval_ms), ("stateful", t, 0, 1000));
        assert_eq!(c.replay, [("lines".to_owned(), next)]);
        assert_eq!(c.states.len(), 1);
        assert_eq!(c.states[0].0, "counts");
    }
}

#[test]
fn restart_resumes_after_the_last_checkpoint_with_the_same_outputs() {
    let dir = TempDir::new("ckpt-restart");
    let input = eight_batches(&dir);
    let reference = uninterrupted(&dir, &input);
    let ckpt = dir.join("ckpt");

    let first = run(&input, &ckpt, &dir.join("first.jsonl"), Some(5)).unwrap();
    assert_eq!(first.seen.iter().map(|s| s.time).collect::<Vec<_>>(), [1000, 2000, 3000, 4000, 5000]);
    assert_eq!(first.jsonl, jsonl_between(&reference.jsonl, 0, 5000));
    assert_eq!(commits(&ckpt), [file_name(2000), file_name(4000)]);

    // Resumes after batch 4000 (batch 5000 is output again: at least once), to the end.
    let second = run(&input, &ckpt, &dir.join("second.jsonl"), None).unwrap();
    assert_eq!(second.seen.first().map(|s| s.time), Some(5000));
    assert!(second.seen.iter().all(|s| s.zero == 0));
    assert_eq!(second.seen.iter().filter(|s| s.checkpoint).map(|s| s.time).collect::<Vec<_>>(), [6000, 8000]);
    assert_eq!(second.seen.iter().filter(|s| s.every_3s).map(|s| s.time).collect::<Vec<_>>(), [6000]);
    assert_eq!(second.jsonl, jsonl_after(&reference.jsonl, 4000));
    assert_eq!(second.print, print_after(&reference.print, 4000));
    assert_eq!(commits(&ckpt), [file_name(4000), file_name(6000), file_name(8000)]);

    // A third run over the finished replay has nothing left to do.
    let third = run(&input, &ckpt, &dir.join("third.jsonl"), None).unwrap();
    assert!(third.seen.is_empty() && third.jsonl.is_empty());
}

#[test]
fn repeated_short_runs_equal_one_long_run() {
    let dir = TempDir::new("ckpt-steps");
    let input = eight_batches(&dir);
    let reference = uninterrupted(&dir, &input);
    let ckpt = dir.join("ckpt");
    // Each run of 3 batches resumes after the last even batch of the previous one.
    let mut from = 0;
    while from < 8000 {
        let r = run(&input, &ckpt, &dir.join("step.jsonl"), Some(3)).unwrap();
        assert_eq!(r.seen[0].time, from + 1000);
        let upto = r.seen.last().unwrap().time;
        assert_eq!(r.jsonl, jsonl_between(&reference.jsonl, from, upto), "run starting after {from}");
        from = upto - upto % 2000;
    }
}

fn flip_a_byte(path: &Path) {
    let mut b = std::fs::read(path).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0x20;
    std::fs::write(path, b).unwrap();
}

/// Runs this test binary's `child_resumes_over_corrupt_checkpoint` in a child process (so that
/// its stderr can be read), over `dir` prepared by the caller; returns the child's stderr.
fn run_child(dir: &Path) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_resumes_over_corrupt_checkpoint", "--nocapture", "--test-threads=1"])
        .env("STREAMC_TEST_CHILD_DIR", dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "child failed:\n{stderr}\n{}", String::from_utf8_lossy(&out.stdout));
    stderr
}

/// The child half of `corrupt_newest_checkpoint_is_skipped_with_a_warning`; does nothing when run
/// as a test of its own.
#[test]
fn child_resumes_over_corrupt_checkpoint() {
    let Some(dir) = std::env::var_os("STREAMC_TEST_CHILD_DIR") else { return };
    let dir = PathBuf::from(dir);
    let r = run(&dir.join("in"), &dir.join("ckpt"), &dir.join("child.jsonl"), None).unwrap();
    assert_eq!(r.seen[0].time, 3000);
}

#[test]
fn corrupt_newest_checkpoint_is_skipped_with_a_warning() {
    for (how, damage) in [("flipped", flip_a_byte as fn(&Path)), ("empty", |p: &Path| std::fs::write(p, b"").unwrap())]
    {
        let dir = TempDir::new("ckpt-corrupt");
        let input = eight_batches(&dir);
        let reference = uninterrupted(&dir, &input);
        let ckpt = dir.join("ckpt");
        run(&input, &ckpt, &dir.join("first.jsonl"), Some(5)).unwrap();
        let newest = commit_path(&ckpt, 4000);
        damage(&newest);

        let stderr = run_child(dir.path());
        let warning = format!("warning: checkpoint `{}` is corrupt (", newest.display());
        assert!(stderr.contains(&warning) && stderr.contains("); using the previous one"), "{how}: {stderr}");
        // Resumed from batch 2000's checkpoint: batches 3000 to 8000 as in the reference.
        let got = std::fs::read_to_string(dir.join("child.jsonl")).unwrap();
        assert_eq!(got, jsonl_after(&reference.jsonl, 2000), "{how}");
        // The damaged file was pruned as the oldest once newer ones were written.
        assert_eq!(commits(&ckpt), [file_name(4000), file_name(6000), file_name(8000)]);
        assert!(Checkpoint::decode(&std::fs::read(&newest).unwrap()).is_ok());
    }
}

#[test]
fn all_checkpoints_corrupt_is_an_error_naming_the_directory() {
    let dir = TempDir::new("ckpt-all-corrupt");
    let input = eight_batches(&dir);
    let ckpt = dir.join("ckpt");
    run(&input, &ckpt, &dir.join("first.jsonl"), Some(5)).unwrap();
    flip_a_byte(&commit_path(&ckpt, 2000));
    std::fs::write(commit_path(&ckpt, 4000), b"").unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let err = stateful(&ckpt, &Captured::default(), &seen).with_replay_all(&input).start().unwrap_err();
    match &err {
        Error::Checkpoint { path, message } => {
            assert_eq!(path, &ckpt);
            assert!(message.starts_with(&format!("no usable checkpoint in `{}`: ", ckpt.display())), "{message}");
            assert!(message.contains("checksum mismatch") && message.contains("the file is empty"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn a_checkpoint_of_another_app_is_not_used() {
    let dir = TempDir::new("ckpt-other-app");
    let ckpt = dir.join("ckpt");
    std::fs::create_dir_all(ckpt.join("commits")).unwrap();
    let c = Checkpoint {
        app: "other".to_owned(),
        time_ms: 2000,
        zero_ms: 0,
        interval_ms: 1000,
        replay: Vec::new(),
        states: Vec::new(),
        pipeline: Vec::new(),
        parts: Vec::new(),
        part_files: Vec::new(),
        shards: Vec::new(),
    };
    std::fs::write(commit_path(&ckpt, 2000), c.encode()).unwrap();
    let input = eight_batches(&dir);
    let err = stateful(&ckpt, &Captured::default(), &Arc::default()).with_replay_all(&input).start();
    let message = err.unwrap_err().to_string();
    assert!(message.contains("written by app `other`, this app is `stateful`"), "{message}");

    // A directory whose metadata names another app is refused before any commit is read.
    let meta = ckpt.join("metadata");
    std::fs::write(&meta, Metadata { version: 3, app: "other".to_owned(), id: "q".to_owned() }.encode()).unwrap();
    match stateful(&ckpt, &Captured::default(), &Arc::default()).with_replay_all(&input).start() {
        Err(Error::Checkpoint { path, message }) => {
            assert_eq!(path, meta);
            assert_eq!(
                message,
                format!(
                    "checkpoint metadata `{}` was written by app `other`, this app is `stateful`\n\
                     help: use another checkpoint directory (`--checkpoint NEW_DIR`) for `stateful`",
                    meta.display()
                )
            );
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("the app started"),
    }
}

#[test]
fn a_state_that_cannot_be_restored_stops_the_app_naming_the_file() {
    let dir = TempDir::new("ckpt-bad-state");
    let ckpt = dir.join("ckpt");
    std::fs::create_dir_all(ckpt.join("commits")).unwrap();
    // A valid file (checksum and all) whose state bytes `Counts` rejects.
    let c = Checkpoint {
        app: "stateful".to_owned(),
        time_ms: 2000,
        zero_ms: 0,
        interval_ms: 1000,
        replay: vec![("lines".to_owned(), 2)],
        states: vec![("counts".to_owned(), b"no-count-here\n".to_vec())],
        pipeline: Vec::new(),
        parts: Vec::new(),
        part_files: Vec::new(),
        shards: Vec::new(),
    };
    let path = commit_path(&ckpt, 2000);
    std::fs::write(&path, c.encode()).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let jsonl = dir.join("out.jsonl");
    let app = stateful(&ckpt, &Captured::default(), &seen).with_replay_all(eight_batches(&dir)).with_jsonl(&jsonl);
    match app.start().unwrap().await_termination() {
        Err(Error::Checkpoint { path: p, message }) => {
            assert_eq!(p, path);
            assert!(
                message.starts_with(&format!("cannot restore state `counts` from checkpoint `{}`: ", path.display())),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&jsonl).unwrap(), "");
}

#[test]
fn a_failed_write_stops_the_app_after_the_batch_outputs() {
    let dir = TempDir::new("ckpt-write-fails");
    let ckpt = dir.join("ckpt");
    // A directory where the temporary file of batch 2000's commit must go.
    let blocker = ckpt.join("commits").join(format!(".{}.tmp", file_name(2000)));
    std::fs::create_dir_all(&blocker).unwrap();
    let jsonl = dir.join("out.jsonl");
    match run(&eight_batches(&dir), &ckpt, &jsonl, None) {
        Err(Error::CheckpointWrite { path, .. }) => assert_eq!(path, blocker),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("the run succeeded"),
    }
    let got = std::fs::read_to_string(&jsonl).unwrap();
    assert!(got.lines().last().unwrap().contains("\"batch_time_ms\":2000"), "{got}");
    assert_eq!(names(&ckpt), ["commits", "lock", "metadata"]);
    assert_eq!(commits(&ckpt), [format!(".{}.tmp", file_name(2000))]);
}

#[test]
fn a_checkpoint_with_another_batch_interval_is_an_error() {
    let dir = TempDir::new("ckpt-interval");
    let input = eight_batches(&dir);
    let ckpt = dir.join("ckpt");
    run(&input, &ckpt, &dir.join("first.jsonl"), Some(2)).unwrap();
    let mut b = AppBuilder::new("stateful", Milliseconds(500));
    b.checkpoint(&ckpt, 1000);
    b.socket_text_stream("lines", "localhost", 9999);
    let err = b.build(|_: &BatchInput, _: &mut BatchOutput| Ok(())).with_replay_all(&input).start().unwrap_err();
    assert!(
        err.to_string().contains("was written with a batch interval of 1000 ms, but `stateful` has 500 ms"),
        "{err}"
    );
}

#[test]
fn checkpoint_interval_must_be_a_multiple_of_the_batch_interval() {
    let mut b = AppBuilder::new("odd", Milliseconds(1000));
    b.checkpoint(std::env::temp_dir().join("streamc-never-created"), 1500);
    let err = b.build(|_: &BatchInput, _: &mut BatchOutput| Ok(())).start().unwrap_err();
    assert_eq!(
        err.to_string(),
        "the checkpoint interval of `odd` must be a positive multiple of its batch interval (1000 ms), found 1500 ms"
    );
}

/// Records `(time, zero, is_multiple_of(2000), is_checkpoint_batch)` of every batch.
#[allow(clippy::type_complexity)] // an `impl Trait` return type cannot be named by an alias
fn probe(
    b: AppBuilder,
) -> (App<impl FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send + 'static>, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let app = b.build(move |input: &BatchInput, output: &mut BatchOutput| {
        s.lock().unwrap().push(Seen {
            time: input.time_ms(),
            zero: input.zero_ms(),
            every_3s: input.is_multiple_of(2000),
            checkpoint: input.is_checkpoint_batch(),
        });
        output.save_state("s", &Counts::default());
        Ok(())
    });
    (app, seen)
}

#[test]
fn periodic_batches_count_from_the_zero_time_of_a_live_clock() {
    let dir = TempDir::new("ckpt-manual");
    let ckpt = dir.join("ckpt");
    // The clock is at 1.5 s: the first batch is at 2 s, so the zero time is 1 s.
    let mut b = AppBuilder::new("live", Milliseconds(1000));
    b.checkpoint(&ckpt, 2000);
    let (app, seen) = probe(b);
    let clock = ManualClock::new(1500);
    let handle = app.with_manual_clock(clock.clone()).with_max_batches(4).start().unwrap();
    clock.advance(Milliseconds(4000));
    handle.await_termination().unwrap();
    let got = seen.lock().unwrap().clone();
    let want: Vec<Seen> = [(2000, false), (3000, true), (4000, false), (5000, true)]
        .into_iter()
        .map(|(time, on)| Seen { time, zero: 1000, every_3s: on, checkpoint: on })
        .collect();
    assert_eq!(got, want);
    // save_state was called on every batch: a checkpoint for each, the newest three kept.
    assert_eq!(commits(&ckpt), [file_name(3000), file_name(4000), file_name(5000)]);

    // A restart on a later clock keeps the zero time and catches up from the checkpoint on.
    let mut b = AppBuilder::new("live", Milliseconds(1000));
    b.checkpoint(&ckpt, 2000);
    let (app, seen) = probe(b);
    let clock = ManualClock::new(20_000);
    app.with_manual_clock(clock).with_max_batches(2).start().unwrap().await_termination().unwrap();
    let got = seen.lock().unwrap().clone();
    assert_eq!(
        got,
        [
            Seen { time: 6000, zero: 1000, every_3s: false, checkpoint: false },
            Seen { time: 7000, zero: 1000, every_3s: true, checkpoint: true }
        ]
    );
}

#[test]
fn without_a_checkpoint_directory_nothing_is_checkpointed() {
    let dir = TempDir::new("ckpt-none");
    let input = eight_batches(&dir);
    let mut b = AppBuilder::new("plain", Milliseconds(1000));
    b.socket_text_stream("lines", "localhost", 9999);
    let (app, seen) = probe(b);
    app.with_replay_all(&input).start().unwrap().await_termination().unwrap();
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 8);
    assert!(got.iter().all(|s| !s.checkpoint && s.zero == 0));
    assert_eq!(got.iter().filter(|s| s.every_3s).count(), 4);
    assert_eq!(names(dir.path()), ["in"]);
}

#[test]
fn get_or_create_and_the_command_line_override_the_directory() {
    let dir = TempDir::new("ckpt-override");
    let input = eight_batches(&dir);
    let declared = dir.join("declared");
    let chosen = dir.join("chosen");
    let app = streamc_runtime::get_or_create(&chosen, || {
        stateful(&declared, &Captured::default(), &Arc::default()).with_replay_all(&input)
    });
    app.with_max_batches(3).start().unwrap().await_termination().unwrap();
    assert!(!declared.exists());
    assert_eq!(commits(&chosen), [file_name(2000)]);

    // `--checkpoint` and `--max-batches` on the command line; this run resumes after 2000.
    let from_cli = dir.join("cli");
    let args = |a: &[&Path]| -> Vec<String> {
        let mut v = vec!["prog".to_owned()];
        v.extend(a.iter().map(|p| p.to_str().unwrap().to_owned()));
        v
    };
    let jsonl = dir.join("cli.jsonl");
    for _ in 0..2 {
        let app = stateful(&declared, &Captured::default(), &Arc::default());
        let code = app.run_main_with_args(args(&[
            Path::new("--replay"),
            &input,
            Path::new("--checkpoint"),
            &from_cli,
            Path::new("--max-batches"),
            Path::new("3"),
            Path::new("--jsonl"),
            &jsonl,
        ]));
        assert_eq!(code, ExitCode::SUCCESS);
    }
    assert!(!declared.exists());
    // First run: batches 1000-3000, checkpoint 2000; second run: 3000-5000, checkpoint 4000.
    assert_eq!(commits(&from_cli), [file_name(2000), file_name(4000)]);
    let got = std::fs::read_to_string(&jsonl).unwrap();
    assert!(got.starts_with(r#"{"output":"counts","batch_time_ms":3000,"#), "{got}");
}

/// The checkpoint directory's metadata.
fn metadata(ckpt: &Path) -> Metadata {
    Metadata::decode(&std::fs::read(ckpt.join("metadata")).unwrap()).unwrap()
}

/// The query section of a commit file: (batch id, query id).
fn commit_query(path: &Path) -> (u64, String) {
    let q = Checkpoint::decode_with(&std::fs::read(path).unwrap()).unwrap().1.unwrap();
    (q.batch_id, q.query_id)
}

/// Writes `text` as `dir/name` with modification time `mtime_s` seconds after the epoch, so the
/// file source's (modification time, name) order is under the test's control.
fn write_file(dir: &Path, name: &str, text: &str, mtime_s: u64) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(mtime_s)).unwrap();
}

type Batches = Arc<Mutex<Vec<(u64, Vec<String>)>>>;

/// A Structured Streaming app over the file stream `events` in `input`, one file a batch, until
/// the files present at its start are read (`AvailableNow`); records each batch's id and lines.
fn words(input: &Path, ckpt: &Path, batches: &Batches) -> App<Handler> {
    let mut b = AppBuilder::new("words", Milliseconds(1000));
    b.trigger(Trigger::AvailableNow);
    let src = b.file_stream("events", input, Some(1));
    let batches = Arc::clone(batches);
    let handler: Handler = Box::new(move |input: &BatchInput, _: &mut BatchOutput| {
        batches.lock().unwrap().push((input.batch_id(), input.text(src).lines().map(str::to_owned).collect()));
        Ok(())
    });
    b.build(handler).with_manual_clock(ManualClock::new(0)).with_checkpoint_dir(ckpt)
}

/// `input` with the files `f1.txt` … `fN.txt`, holding `w1` … `wN` and read in that order.
fn numbered_files(dir: &TempDir, n: u64) -> PathBuf {
    let input = dir.join("events");
    std::fs::create_dir(&input).unwrap();
    for i in 1..=n {
        write_file(&input, &format!("f{i}.txt"), &format!("w{i}\n"), 100 * i);
    }
    input
}

fn lines(batches: &Batches) -> Vec<(u64, Vec<String>)> {
    batches.lock().unwrap().clone()
}

#[test]
fn a_run_leaves_the_documented_layout() {
    let dir = TempDir::new("ckpt-layout");
    let input = eight_batches(&dir);
    let ckpt = dir.join("ckpt");
    // Temporary files of crashed writes, in each directory of the layout (and of the flat one),
    // are deleted when a run starts; a file of the user's own is not.
    std::fs::create_dir_all(ckpt.join("commits")).unwrap();
    std::fs::create_dir_all(ckpt.join("offsets")).unwrap();
    for leftover in [
        ".metadata.tmp",
        "commits/.00000000000000001000.tmp",
        "offsets/.00000000000000000001.tmp",
        ".checkpoint-00000000000000001000.tmp",
        ".offsets-00000000000000000001.tmp",
    ] {
        std::fs::write(ckpt.join(leftover), b"partial").unwrap();
    }
    std::fs::write(ckpt.join(".notes.tmp"), b"mine").unwrap();
    run(&input, &ckpt, &dir.join("out.jsonl"), None).unwrap();
    assert_eq!(names(&ckpt), [".notes.tmp", "commits", "lock", "metadata", "offsets"]);
    assert_eq!(commits(&ckpt), [file_name(4000), file_name(6000), file_name(8000)]);
    // A DStream app plans no batches.
    assert!(names(&ckpt.join("offsets")).is_empty());
    // The metadata names the app and the query, whose id every commit carries.
    let (_, id) = commit_query(&commit_path(&ckpt, 8000));
    assert_eq!(
        std::fs::read_to_string(ckpt.join("metadata")).unwrap(),
        format!("{{\"version\":{FORMAT_VERSION},\"app\":\"stateful\",\"id\":\"{id}\"}}\n")
    );
    for t in [4000, 6000] {
        assert_eq!(commit_query(&commit_path(&ckpt, t)).1, id);
    }

    // A Structured Streaming app with a file source also plans its batches: five files, five
    // batches; the newest three commits and four planned batches are kept.
    let ss = dir.join("ss");
    let batches = Batches::default();
    words(&numbered_files(&dir, 5), &ss, &batches).start().unwrap().await_termination().unwrap();
    assert_eq!(lines(&batches).iter().map(|(id, _)| *id).collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
    assert_eq!(names(&ss), ["commits", "lock", "metadata", "offsets"]);
    let id = metadata(&ss).id;
    let committed: Vec<(u64, String)> =
        commits(&ss).iter().map(|n| commit_query(&ss.join("commits").join(n))).collect();
    assert_eq!(committed, [(2, id.clone()), (3, id.clone()), (4, id)]);
    assert_eq!(names(&ss.join("offsets")), (1..=4).map(planned_file_name).collect::<Vec<_>>());
    for n in 1..=4 {
        let p = streamc_runtime::checkpoint::PlannedBatch::decode(
            &std::fs::read(streamc_runtime::checkpoint::planned_path(&ss, n)).unwrap(),
        )
        .unwrap();
        assert_eq!((p.app.as_str(), p.batch_id, p.files.len()), ("words", n, 1));
        assert_eq!(p.files[0].0, "events");
        assert!(p.files[0].1.len() == 1 && p.files[0].1[0].ends_with(&format!("f{}.txt", n + 1)), "{p:?}");
    }
}

/// Turns the checkpoint directory `ckpt` into the flat layout of earlier versions: commits as
/// `checkpoint-<T>` and planned batches as `offsets-<N>` in `ckpt` itself, and no metadata.
/// Returns the query id its metadata held.
fn to_flat_layout(ckpt: &Path) -> String {
    let id = metadata(ckpt).id;
    std::fs::remove_file(ckpt.join("metadata")).unwrap();
    // The flat layout's runs took no lock.
    std::fs::remove_file(ckpt.join("lock")).unwrap();
    for (sub, prefix) in [("commits", "checkpoint-"), ("offsets", "offsets-")] {
        if ckpt.join(sub).exists() {
            for name in names(&ckpt.join(sub)) {
                std::fs::rename(ckpt.join(sub).join(&name), ckpt.join(format!("{prefix}{name}"))).unwrap();
            }
            std::fs::remove_dir(ckpt.join(sub)).unwrap();
        }
    }
    id
}

#[test]
fn a_directory_of_the_flat_layout_resumes_and_moves_to_the_new_one() {
    let dir = TempDir::new("ckpt-flat");
    let input = eight_batches(&dir);
    let reference = uninterrupted(&dir, &input);
    let ckpt = dir.join("ckpt");
    run(&input, &ckpt, &dir.join("first.jsonl"), Some(5)).unwrap();
    let id = to_flat_layout(&ckpt);
    let flat = |t: i64| format!("checkpoint-{t:020}");
    assert_eq!(names(&ckpt), [flat(2000), flat(4000)]);

    // Resumes after batch 4000 with its state, exactly as from the new layout.
    let second = run(&input, &ckpt, &dir.join("second.jsonl"), None).unwrap();
    assert_eq!(second.seen.first().map(|s| s.time), Some(5000));
    assert_eq!(second.jsonl, jsonl_after(&reference.jsonl, 4000));
    // Written in the new layout from then on, with the query id of the flat commits; the flat
    // files count towards the three commits kept, so the oldest is gone.
    assert_eq!(names(&ckpt), [flat(4000), "commits".to_owned(), "lock".to_owned(), "metadata".to_owned()]);
    assert_eq!(commits(&ckpt), [file_name(6000), file_name(8000)]);
    assert_eq!(metadata(&ckpt), Metadata { version: FORMAT_VERSION, app: "stateful".to_owned(), id: id.clone() });
    assert_eq!(commit_query(&commit_path(&ckpt, 8000)).1, id);
}

#[test]
fn a_planned_batch_of_the_flat_layout_is_re_run_with_its_files() {
    let dir = TempDir::new("ckpt-flat-planned");
    let input = numbered_files(&dir, 4);
    let ckpt = dir.join("ckpt");
    let batches = Batches::default();
    words(&input, &ckpt, &batches).start().unwrap().await_termination().unwrap();
    assert_eq!(lines(&batches).len(), 4);
    let id = to_flat_layout(&ckpt);
    // A crash after batch 3 ran and before its commit: its planned batch (`offsets-3`) is there,
    // its commit is not.
    let newest = names(&ckpt).into_iter().rfind(|n| n.starts_with("checkpoint-")).unwrap();
    assert_eq!(commit_query(&ckpt.join(&newest)).0, 3);
    std::fs::remove_file(ckpt.join(newest)).unwrap();
    assert!(ckpt.join(format!("offsets-{:020}", 3)).exists());
    // A new file older than all others: a batch 3 planned afresh would read it first.
    write_file(&input, "f0.txt", "w0\n", 50);

    let batches = Batches::default();
    words(&input, &ckpt, &batches).start().unwrap().await_termination().unwrap();
    let w = |s: &str| vec![s.to_owned()];
    assert_eq!(lines(&batches), [(3, w("w4")), (4, w("w0"))]);
    assert_eq!(metadata(&ckpt).id, id, "the query id continues");
    assert!(names(&ckpt.join("offsets")) == [planned_file_name(4)], "batch 3 was not planned again");
}

#[test]
fn a_zero_length_metadata_file_is_an_error_naming_it() {
    let dir = TempDir::new("ckpt-empty-metadata");
    let input = eight_batches(&dir);
    let reference = uninterrupted(&dir, &input);
    let ckpt = dir.join("ckpt");
    run(&input, &ckpt, &dir.join("first.jsonl"), Some(5)).unwrap();
    let meta = ckpt.join("metadata");
    let id = metadata(&ckpt).id;
    std::fs::write(&meta, b"").unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    match stateful(&ckpt, &Captured::default(), &seen).with_replay_all(&input).start() {
        Err(Error::Checkpoint { path, message }) => {
            assert_eq!(path, meta);
            assert_eq!(
                message,
                format!(
                    "checkpoint metadata `{m}` is corrupt (the file is empty)\n\
                     help: delete `{m}` to have it written again (with the query id of the newest commit), \
                     or start afresh in another checkpoint directory (`--checkpoint NEW_DIR`)",
                    m = meta.display()
                )
            );
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("the app started"),
    }
    assert!(seen.lock().unwrap().is_empty());

    // Doing what the help says: the run resumes, and the metadata is back with the same id.
    std::fs::remove_file(&meta).unwrap();
    let second = run(&input, &ckpt, &dir.join("second.jsonl"), None).unwrap();
    assert_eq!(second.jsonl, jsonl_after(&reference.jsonl, 4000));
    assert_eq!(metadata(&ckpt).id, id);
}

#[test]
fn a_second_run_on_a_checkpoint_in_use_stops_at_start_and_the_lock_ends_with_the_run() {
    let dir = TempDir::new("ckpt-lock");
    let ckpt = dir.path().join("ckpt");
    let (print, seen) = (Captured::default(), Arc::new(Mutex::new(Vec::new())));
    // Its socket's port has no server: the run goes on, with empty batches, until stopped.
    let first = stateful(&ckpt, &print, &seen).start().expect("the first run starts");
    let Err(second) = stateful(&ckpt, &print, &seen).start() else { panic!("a second run on the directory started") };
    let message = second.to_string();
    assert!(message.contains("is in use by another run of `stateful`"), "{message}");
    assert!(message.contains(&format!("(pid {})", std::process::id())), "{message}");
    first.stop(false).unwrap();
    // Stopped, the first run has let go of the directory.
    let third = stateful(&ckpt, &print, &seen).start().expect("a run after the first one ended");
    third.stop(false).unwrap();
}

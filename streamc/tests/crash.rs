//! Crash test of the exactly-once JSON file sink: a windowed count (watermark, sliding windows,
//! append mode, late rows) over a replayed input is run once uninterrupted, then again against
//! one checkpoint directory and one sink directory while being killed with SIGKILL at
//! pseudo-random moments (at least `STREAMC_CRASH_KILLS`, default 30) and restarted until a run
//! ends by itself. The committed output (every line of every data file that `_spark_metadata`
//! lists) must be the uninterrupted run's: no row lost, none duplicated.
//!
//! `STREAMC_CRASH_KILLS=N` asks for more kills, `STREAMC_CRASH_SEED=S` for another schedule;
//! `STREAMC_CACHE_DIR` (default `target/streamc-cache`) is where the app is built.
#![cfg(unix)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::kill::{Guard, Rng, kill_cluster_series};
use common::{root, scratch};

/// Input: one replay file per batch.
const BATCHES: usize = 40;
/// Rows per batch: enough (with many distinct words, so a large state to checkpoint) that a
/// batch takes tens of milliseconds and kills land inside batches.
const ROWS_PER_BATCH: usize = 20_000;
const WORDS: u64 = 20_000;

/// Writes `BATCHES` replay files of JSON events: batch `b` holds events of the two minutes
/// `[01:00 + 2b min, 01:00 + 2(b+1) min)`, and 5% late rows 5 to 30 minutes earlier (some within
/// the 10-minute watermark, some behind it and dropped).
fn write_input(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let mut rng = Rng(0x5eed_0fc4_a5e5);
    let mut text = String::with_capacity(ROWS_PER_BATCH * 56);
    for b in 0..BATCHES {
        text.clear();
        for _ in 0..ROWS_PER_BATCH {
            let mut secs = 3600 + b as u64 * 120 + rng.below(120);
            if rng.below(20) == 0 {
                secs -= 300 + rng.below(1500);
            }
            let word = rng.below(WORDS);
            let _ = writeln!(
                text,
                "{{\"timestamp\": \"2024-01-01T{:02}:{:02}:{:02}Z\", \"word\": \"w{word:05}\"}}",
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            );
        }
        std::fs::write(dir.join(format!("b{b:05}")), &text).unwrap();
    }
}

fn write_spec(dir: &Path, sink: &Path) -> PathBuf {
    write_counts_spec(dir, sink, "")
}

/// The windowed counts spec, with `more` steps after its aggregation.
fn write_counts_spec(dir: &Path, sink: &Path, more: &str) -> PathBuf {
    // The spec's own source directory and checkpoint are never used: the runs replay their
    // input and name their checkpoint directory.
    let unused = dir.join("unused-source");
    std::fs::create_dir_all(&unused).unwrap();
    write_counts_spec_reading(dir, sink, more, &unused)
}

/// [`write_counts_spec`] whose JSON file source reads `source` (a file a batch).
fn write_counts_spec_reading(dir: &Path, sink: &Path, more: &str, source: &Path) -> PathBuf {
    let spec = dir.join("crash_counts.yaml");
    let yaml = format!(
        r#"app: crash_counts
trigger: available_now
checkpoint: {ckpt}
sources:
  - name: events
    json: {{ path: {unused}, max_files_per_trigger: 1 }}
    schema: {{ timestamp: timestamp, word: string }}
queries:
  - name: windowed_counts
    from: events
    steps:
      - with_watermark: {{ column: timestamp, delay: 10 minutes }}
      - group_by: ["window(timestamp, '10 minutes', '5 minutes')", word]
        agg: ["count(*)"]{more}
    output_mode: append
    sink: [{{ json: {sink} }}]
"#,
        ckpt = dir.join("unused-checkpoint").display(),
        unused = source.display(),
        sink = sink.display(),
    );
    std::fs::write(&spec, yaml).unwrap();
    spec
}

/// The committed contents of a JSON file sink: batch id → canonical JSON rows (sorted), read
/// from every data file its `_spark_metadata` log lists (plain entries `N` and compactions
/// `N.compact`, which list every file up to batch `N`; a data file's batch is in its name,
/// `part-<batch>-<part>.json`). Checks that every listed file exists, is not a temporary file,
/// and has the listed size; returns also the hidden (temporary) names found in the sink and its
/// log, which a killed write may leave and which no reader sees.
fn committed(sink: &Path) -> (BTreeMap<u64, Vec<String>>, Vec<String>) {
    let log = sink.join("_spark_metadata");
    let mut hidden = Vec::new();
    for dir in [sink, &log] {
        for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("list {}: {e}", dir.display())) {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                hidden.push(format!("{}/{name}", dir.display()));
            }
        }
    }
    let mut files: BTreeMap<PathBuf, u64> = BTreeMap::new();
    for e in std::fs::read_dir(&log).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let id: u64 = name
            .strip_suffix(".compact")
            .unwrap_or(&name)
            .parse()
            .unwrap_or_else(|_| panic!("unexpected file {name} in {}", log.display()));
        let text = std::fs::read_to_string(e.path()).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("v1"), "metadata {name}: version line");
        for l in lines {
            let status: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("metadata {name}: {l}: {e}"));
            let url = status["path"].as_str().unwrap_or_else(|| panic!("metadata {name}: no path in {l}"));
            let path = PathBuf::from(url.strip_prefix("file://").unwrap_or_else(|| panic!("metadata {name}: {url}")));
            let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                !file_name.starts_with('.') && !file_name.contains("tmp"),
                "metadata {name} commits a temporary file: {}",
                path.display()
            );
            let size = std::fs::metadata(&path)
                .unwrap_or_else(|e| panic!("metadata {name} lists {}, which cannot be read: {e}", path.display()))
                .len();
            assert_eq!(status["size"].as_u64(), Some(size), "metadata {name}: size of {}", path.display());
            let batch: u64 = file_name[5..10].parse().unwrap_or_else(|_| panic!("a data file name: {file_name}"));
            assert!(batch <= id, "metadata {name} lists {file_name} of a later batch");
            files.insert(path, batch);
        }
    }
    let mut batches: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for (path, batch) in files {
        let data = std::fs::read_to_string(&path).unwrap();
        // The sink writes rows deterministically (columns in the query's order), so the lines
        // themselves are compared.
        batches.entry(batch).or_default().extend(data.lines().map(str::to_owned));
    }
    for rows in batches.values_mut() {
        rows.sort();
    }
    (batches, hidden)
}

fn multiset(batches: &BTreeMap<u64, Vec<String>>) -> Vec<String> {
    let mut all: Vec<String> = batches.values().flatten().cloned().collect();
    all.sort();
    all
}

/// What differs between two sorted multisets: (missing from `got`, extra in `got`).
fn diff(expected: &[String], got: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut missing, mut extra) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < expected.len() || j < got.len() {
        match (expected.get(i), got.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                missing.push(a.clone());
                i += 1;
            }
            (Some(_), Some(b)) | (None, Some(b)) => {
                extra.push(b.clone());
                j += 1;
            }
            (Some(a), None) => {
                missing.push(a.clone());
                i += 1;
            }
            (None, None) => unreachable!(),
        }
    }
    (missing, extra)
}

/// How many batches the sink has committed (one past the newest `_spark_metadata` entry, plain
/// or compacted): the progress so far.
fn committed_batches(sink: &Path) -> usize {
    std::fs::read_dir(sink.join("_spark_metadata"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.strip_suffix(".compact").unwrap_or(&name).parse::<usize>().ok()
                })
                .max()
                .map_or(0, |n| n + 1)
        })
        .unwrap_or(0)
}

/// The app binary `streamc run` built, from its `streamc: compiling `SPEC` (crate DIR)` line:
/// cargo puts it in the cache's target directory.
fn app_binary(stderr: &str, cache: &Path) -> PathBuf {
    let crate_dir = stderr
        .lines()
        .find_map(|l| l.strip_prefix("streamc: compiling ").and_then(|r| r.rsplit_once("(crate ")))
        .map(|(_, d)| PathBuf::from(d.trim_end_matches(')')))
        .unwrap_or_else(|| panic!("no crate directory in streamc's output: {stderr}"));
    let exe = cache.join("target").join("release").join(crate_dir.file_name().unwrap());
    assert!(exe.is_file(), "no app binary at {}", exe.display());
    exe
}

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{name} must be a whole number, found `{v}`")),
        Err(_) => default,
    }
}

#[test]
fn json_sink_is_exactly_once_across_sigkills() {
    let t0 = Instant::now();
    let dir = scratch("crash");
    let input = dir.join("in");
    write_input(&input);
    // One spec, so one build: the reference run and the crash series share the sink directory
    // one after the other (the reference's output is read, then moved aside).
    let sink = dir.join("out");
    let spec = write_spec(&dir, &sink);
    crash_series(&dir, &spec, &sink, &[input.display().to_string()], 10_000, t0);
}

/// Two chained aggregations (Spark 3.4's multiple stateful operators): counts per word in
/// sliding 10-minute windows, then per word in 30-minute windows of `window_time(window)`.
/// Both aggregations' states are checkpointed and restored, so each closed 30-minute window
/// is committed once with the counts of the uninterrupted run.
#[test]
fn chained_aggregation_states_survive_sigkills() {
    let t0 = Instant::now();
    let dir = scratch("crash-chained");
    let input = dir.join("in");
    write_input(&input);
    let sink = dir.join("out");
    let more = "\n      - group_by: [\"window(window_time(window), '30 minutes')\", word]\n        agg: [\"count(*) AS windows\", \"sum(count) AS total\"]";
    let spec = write_counts_spec(&dir, &sink, more);
    crash_series(&dir, &spec, &sink, &[input.display().to_string()], 10_000, t0);
}

/// A stream-stream left outer join (impressions and clicks, a 15-minute range, watermarks on
/// both inputs) under the same kills: the join's buffered rows on both sides are checkpointed
/// and restored, so the joined rows and the NULL-padded rows of unmatched impressions (emitted
/// when the watermark evicts them) are committed exactly once.
#[test]
fn stream_join_state_survives_sigkills() {
    let t0 = Instant::now();
    let dir = scratch("crash-join");
    let (imp, clk) = (dir.join("impressions"), dir.join("clicks"));
    write_join_input(&imp, &clk);
    let sink = dir.join("out");
    let spec = write_join_spec(&dir, &sink);
    let replay = [format!("impressions={}", imp.display()), format!("clicks={}", clk.display())];
    crash_series(&dir, &spec, &sink, &replay, 10_000, t0);
}

/// Impressions and clicks, one file per batch each: batch `b` has impressions of ads
/// `ad<b>_<i>` in the two minutes from `01:00 + 2b min`; about half get a click 0 to 20 minutes
/// later (so some fall outside the 15-minute range), written to the batch its time falls in.
fn write_join_input(imp: &Path, clk: &Path) {
    std::fs::create_dir_all(imp).unwrap();
    std::fs::create_dir_all(clk).unwrap();
    let mut rng = Rng(0x00ad_c11c);
    let mut clicks: Vec<String> = vec![String::new(); BATCHES];
    for b in 0..BATCHES {
        let mut text = String::new();
        for i in 0..ROWS_PER_BATCH / 4 {
            let secs = 3600 + b as u64 * 120 + rng.below(120);
            let ts = |s: u64| format!("2024-01-01T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60);
            let _ = writeln!(text, "{{\"impressionAdId\": \"ad{b}_{i}\", \"impressionTime\": \"{}\"}}", ts(secs));
            if rng.below(2) == 0 {
                let at = secs + rng.below(1200);
                let cb = ((at - 3600) / 120) as usize;
                if cb < BATCHES {
                    let _ = writeln!(clicks[cb], "{{\"adId\": \"ad{b}_{i}\", \"clickTime\": \"{}\"}}", ts(at));
                }
            }
        }
        std::fs::write(imp.join(format!("b{b:05}")), &text).unwrap();
    }
    for (b, text) in clicks.iter().enumerate() {
        std::fs::write(clk.join(format!("b{b:05}")), text).unwrap();
    }
}

fn write_join_spec(dir: &Path, sink: &Path) -> PathBuf {
    let spec = dir.join("crash_join.yaml");
    let unused = dir.join("unused-source");
    std::fs::create_dir_all(&unused).unwrap();
    let yaml = format!(
        r#"app: crash_join
trigger: available_now
checkpoint: {ckpt}
sources:
  - name: impressions
    json: {{ path: {unused}, max_files_per_trigger: 1 }}
    schema: {{ impressionAdId: string, impressionTime: timestamp }}
  - name: clicks
    json: {{ path: {unused}, max_files_per_trigger: 1 }}
    schema: {{ adId: string, clickTime: timestamp }}
queries:
  - name: attributed
    sql: >-
      SELECT impressionAdId, impressionTime, clickTime FROM impressions
      LEFT JOIN (SELECT adId AS clickAdId, clickTime FROM clicks) c
      ON clickAdId = impressionAdId AND clickTime >= impressionTime
      AND clickTime <= impressionTime + INTERVAL 15 MINUTES
    watermark:
      - {{ column: impressionTime, delay: 10 minutes }}
      - {{ source: clicks, column: clickTime, delay: 5 minutes }}
    output_mode: append
    sink: [{{ json: {sink} }}]
"#,
        ckpt = dir.join("unused-checkpoint").display(),
        unused = unused.display(),
        sink = sink.display(),
    );
    std::fs::write(&spec, yaml).unwrap();
    spec
}

/// Runs `spec` over `replay` (`--replay` values) once uninterrupted, then against one checkpoint
/// and sink directory under SIGKILLs at pseudo-random moments (at least `STREAMC_CRASH_KILLS`,
/// default 30), restarting until a run ends by itself; the committed sink must be the
/// uninterrupted run's.
fn crash_series(dir: &Path, spec: &Path, sink: &Path, replay: &[String], min_rows: usize, t0: Instant) {
    // One series at a time: the kills are spread over the reference run's time, measured alone.
    static SERIES: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _alone = SERIES.lock().unwrap_or_else(|e| e.into_inner());
    let kills_wanted = env_u64("STREAMC_CRASH_KILLS", 30);
    let seed = env_u64("STREAMC_CRASH_SEED", 0x00c0_ffee);
    let (dir, spec, sink) = (dir.to_path_buf(), spec.to_path_buf(), sink.to_path_buf());
    let replay_args: Vec<String> = replay.iter().flat_map(|r| ["--replay".to_string(), r.clone()]).collect();
    let cache = std::env::var_os("STREAMC_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target").join("streamc-cache"));
    let generated = t0.elapsed();

    // (1) The uninterrupted run, through `streamc run` (which builds the app).
    let ref_ckpt = dir.join("ckpt-reference");
    let t = Instant::now();
    let result = Command::new(env!("CARGO_BIN_EXE_streamc"))
        .current_dir(root())
        .env("STREAMC_CACHE_DIR", &cache)
        .args(["run"])
        .arg(&spec)
        .args(&replay_args)
        .arg("--jsonl")
        .arg(dir.join("reference.jsonl"))
        .arg("--checkpoint")
        .arg(&ref_ckpt)
        .args(["--", "--progress"])
        .arg(dir.join("reference-progress.jsonl"))
        .stdout(Stdio::null())
        .output()
        .expect("run streamc");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "streamc run failed: {stderr}");
    let build_and_reference = t.elapsed();
    let exe = app_binary(&stderr, &cache);

    let (reference, ref_hidden) = committed(&sink);
    assert!(ref_hidden.is_empty(), "an uninterrupted run left temporary files: {ref_hidden:?}");
    let expected = multiset(&reference);
    assert!(expected.len() > min_rows, "too little output to test with: {} rows", expected.len());
    // The sink holds exactly what the run output.
    let mut from_jsonl: Vec<String> = std::fs::read_to_string(dir.join("reference.jsonl"))
        .unwrap()
        .lines()
        .flat_map(|l| serde_json::from_str::<Value>(l).unwrap()["records"].as_array().unwrap().clone())
        .map(|r| r.to_string())
        .collect();
    from_jsonl.sort();
    let mut canonical: Vec<String> =
        expected.iter().map(|r| serde_json::from_str::<Value>(r).expect("a JSON row").to_string()).collect();
    canonical.sort();
    assert!(from_jsonl == canonical, "the reference sink differs from the reference run's --jsonl output");
    // The run's own time, batch by batch (without the build): what the kills are spread over.
    let progress: Vec<Value> = std::fs::read_to_string(dir.join("reference-progress.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let run_ms: u64 = progress.iter().map(|p| p["durationMs"]["triggerExecution"].as_u64().unwrap()).sum();
    let total_batches = progress.len();
    assert_eq!(total_batches, committed_batches(&sink), "every batch is committed");
    let log_files = std::fs::read_dir(sink.join("_spark_metadata")).unwrap().count();
    assert!(log_files <= 10, "the metadata log is compacted: {log_files} files for {total_batches} batches");

    // A run on the finished checkpoint: starts, restores, finds nothing to do, exits 0, writes
    // nothing. Its time is the cost of a restart.
    let t = Instant::now();
    let status = Command::new(&exe)
        .args(&replay_args)
        .arg("--checkpoint")
        .arg(&ref_ckpt)
        .stdout(Stdio::null())
        .status()
        .expect("run the app");
    let restart = t.elapsed();
    assert!(status.success(), "re-running a finished query failed: {status}");
    assert_eq!(committed(&sink).0, reference, "re-running a finished query changed the sink");
    std::fs::rename(&sink, dir.join("out-reference")).unwrap();

    // (2) The crash series: one checkpoint directory, one sink directory; run, kill, restart.
    let ckpt = dir.join("ckpt-crash");
    let log = dir.join("crash-run.stderr");
    let spawn = || {
        let child = Command::new(&exe)
            .args(&replay_args)
            .arg("--checkpoint")
            .arg(&ckpt)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start the app");
        Guard(Some(child))
    };
    let mut rng = Rng(seed);
    let mut kills = 0u64;
    let mut runs = 0u64;
    let mut delays = Vec::new();
    let series = Instant::now();
    let mut finished_early = false;
    while kills < kills_wanted {
        // Spread the remaining kills over the remaining work: each run is killed after the
        // restart cost plus a random share of what is left (twice the average share at most;
        // one share is kept for the last, uninterrupted run, so that the last kill still lands
        // before the end), so that the kill points sweep the whole run; one in five is killed
        // almost at once (during start-up, restore or the re-run of the batch in flight).
        let left = total_batches.saturating_sub(committed_batches(&sink)) as f64 / total_batches as f64;
        let share = run_ms as f64 * left / (kills_wanted - kills + 1) as f64;
        let delay = if rng.below(5) == 0 {
            Duration::from_micros(rng.below(10_000))
        } else {
            restart + Duration::from_secs_f64(2.0 * share * rng.unit() / 1e3)
        };
        delays.push(delay);
        let child = spawn();
        runs += 1;
        let pid = child.pid();
        std::thread::sleep(delay);
        let status = child.kill_and_wait();
        if status.success() {
            // Ended by itself before the kill.
            finished_early = true;
            break;
        }
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(9),
            "run {runs} (pid {pid}) failed by itself: {status}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        kills += 1;
    }
    if !finished_early {
        // Run to the end; a run that fails is a failure, one that hangs is killed (by the guard).
        runs += 1;
        let status = spawn().wait_at_most(Duration::from_secs(60)).expect("the last run did not end in 60 s");
        assert!(status.success(), "the last run failed: {status}\n{}", std::fs::read_to_string(&log).unwrap());
    }
    let series_time = series.elapsed();

    // (3) The committed output is the uninterrupted run's.
    let (got, hidden) = committed(&sink);
    let all = multiset(&got);
    let mut report = String::new();
    if all != expected {
        let (missing, extra) = diff(&expected, &all);
        let _ = writeln!(report, "{} rows lost, {} rows duplicated or unexpected", missing.len(), extra.len());
        for (id, rows) in &reference {
            match got.get(id) {
                None => {
                    let _ = writeln!(report, "batch {id}: not committed ({} rows)", rows.len());
                }
                Some(g) if g != rows => {
                    let (m, e) = diff(rows, g);
                    let _ = writeln!(report, "batch {id}: {} rows lost, {} extra", m.len(), e.len());
                }
                Some(_) => {}
            }
        }
        for id in got.keys().filter(|id| !reference.contains_key(id)) {
            let _ = writeln!(report, "batch {id}: committed only after crashes ({} rows)", got[id].len());
        }
        for r in missing.iter().take(5) {
            let _ = writeln!(report, "  lost: {r}");
        }
        for r in extra.iter().take(5) {
            let _ = writeln!(report, "  extra: {r}");
        }
    }
    eprintln!(
        "crash test: {} rows in {} batches; input {:.1?}, build + reference run {:.1?} (run {run_ms} ms), restart {:.0?}; \
         {kills} kills in {runs} runs{}, series {:.1?}, total {:.1?}; {} hidden temporary files left",
        expected.len(),
        total_batches,
        generated,
        build_and_reference,
        restart,
        if finished_early { ", ended by itself before the last kill" } else { "" },
        series_time,
        t0.elapsed(),
        hidden.len()
    );
    let ms: Vec<u128> = delays.iter().map(Duration::as_millis).collect();
    eprintln!("crash test: kill delays (ms): {ms:?}");
    assert!(report.is_empty(), "after {kills} kills the sink differs from the uninterrupted run:\n{report}");
    // Each restart removes what the run it follows left half written.
    assert!(hidden.is_empty(), "temporary files left: {hidden:?}");
    assert!(kills >= kills_wanted, "only {kills} of {kills_wanted} kills landed before the query finished by itself");
}

/// The sink's directory disappears mid-run (a regular file takes its place, which even root
/// cannot write into): the query stops with an error naming the path, the checkpoint still
/// describes the last committed batch, and a restart after the directory is back commits
/// exactly the uninterrupted run's rows.
#[test]
fn a_broken_sink_stops_the_query_and_a_restart_loses_nothing() {
    let dir = scratch("sink-failure");
    let input = dir.join("in");
    write_input(&input);
    let sink = dir.join("out");
    let spec = write_spec(&dir, &sink);
    let cache = root().join("target").join("streamc-cache");
    let run = |ckpt: &Path, max_batches: Option<u64>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamc"));
        cmd.current_dir(root())
            .env("STREAMC_CACHE_DIR", &cache)
            .arg("run")
            .arg(&spec)
            .arg("--replay")
            .arg(&input)
            .arg("--checkpoint")
            .arg(ckpt)
            .stdout(Stdio::null());
        if let Some(n) = max_batches {
            cmd.args(["--", "--max-batches", &n.to_string()]);
        }
        cmd.output().expect("run streamc")
    };
    // The uninterrupted run, then its output moved aside.
    let out = run(&dir.join("ckpt-reference"), None);
    assert!(out.status.success(), "reference run: {}", String::from_utf8_lossy(&out.stderr));
    let (reference, _) = committed(&sink);
    std::fs::rename(&sink, dir.join("out-reference")).unwrap();

    let ckpt = dir.join("ckpt");
    let out = run(&ckpt, Some(10));
    assert!(out.status.success(), "first 10 batches: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(committed_batches(&sink), 10);
    // The directory goes away; a file stands in its way.
    std::fs::rename(&sink, dir.join("out-aside")).unwrap();
    std::fs::write(&sink, "not a directory").unwrap();
    let out = run(&ckpt, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a run that cannot write its sink must fail");
    assert!(stderr.contains(&sink.display().to_string()), "the error names the sink's path: {stderr}");
    // Fixed: the directory is back, and the run resumes after the last committed batch.
    std::fs::remove_file(&sink).unwrap();
    std::fs::rename(dir.join("out-aside"), &sink).unwrap();
    let out = run(&ckpt, None);
    assert!(out.status.success(), "resumed run: {}", String::from_utf8_lossy(&out.stderr));
    let (resumed, hidden) = committed(&sink);
    assert!(hidden.is_empty(), "temporary files left: {hidden:?}");
    let (missing, extra) = diff(&multiset(&reference), &multiset(&resumed));
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} rows lost, {} duplicated (first: {:?} / {:?})",
        missing.len(),
        extra.len(),
        missing.first(),
        extra.first()
    );
    assert_eq!(resumed.keys().collect::<Vec<_>>(), reference.keys().collect::<Vec<_>>(), "the same batches");
}

/// A restart with a changed stateful pipeline is refused, naming what changed; the unchanged
/// pipeline resumes from the same checkpoint.
#[test]
fn a_changed_pipeline_is_refused_on_restart() {
    let dir = scratch("pipeline-change");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    for b in 0..4 {
        std::fs::write(
            input.join(format!("b{b:05}")),
            format!("{{\"timestamp\": \"2024-01-01T12:0{b}:00Z\", \"word\": \"w{b}\", \"num\": {b}}}\n"),
        )
        .unwrap();
    }
    let spec = |window: &str, key: &str| {
        let path = dir.join(format!("spec-{}-{key}.yaml", window.replace(' ', "")));
        std::fs::write(
            &path,
            format!(
                r#"app: pipeline_change
trigger: available_now
sources:
  - name: events
    json: {{ path: {unused}, max_files_per_trigger: 1 }}
    schema: {{ timestamp: timestamp, word: string, num: long }}
queries:
  - name: counts
    from: events
    steps:
      - with_watermark: {{ column: timestamp, delay: 10 minutes }}
      - group_by: ["window(timestamp, '{window}')", {key}]
    output_mode: append
    sink: console
"#,
                unused = dir.join("unused").display()
            ),
        )
        .unwrap();
        path
    };
    let ckpt = dir.join("ckpt");
    let run = |spec: &Path, max_batches: &str| {
        Command::new(env!("CARGO_BIN_EXE_streamc"))
            .current_dir(root())
            .env("STREAMC_CACHE_DIR", root().join("target").join("streamc-cache"))
            .arg("run")
            .arg(spec)
            .arg("--replay")
            .arg(&input)
            .arg("--checkpoint")
            .arg(&ckpt)
            .args(["--", "--max-batches", max_batches])
            .stdout(Stdio::null())
            .output()
            .expect("run streamc")
    };
    let out = run(&spec("10 minutes", "word"), "2");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for (changed, what) in
        [(spec("5 minutes", "word"), "window(timestamp, 300000 ms"), (spec("10 minutes", "num"), "num AS num bigint")]
    {
        let out = run(&changed, "2");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "a changed pipeline must not resume: {stderr}");
        assert!(
            stderr.contains("stateful operator `counts/state` was") && stderr.contains(what),
            "the error names the changed operator: {stderr}"
        );
    }
    let out = run(&spec("10 minutes", "word"), "2");
    assert!(out.status.success(), "the unchanged pipeline resumes: {}", String::from_utf8_lossy(&out.stderr));
}

/// SIGTERM stops the app after the batch in flight, committed and checkpointed, with exit code
/// 0; two signals in a row exit at once. Either way a restart completes the run with exactly
/// the uninterrupted run's committed rows.
#[test]
fn sigterm_finishes_the_batch_in_flight_and_a_second_exits_at_once() {
    let dir = scratch("sigterm");
    let input = dir.join("in");
    write_input(&input);
    let sink = dir.join("out");
    let spec = write_spec(&dir, &sink);
    let cache = root().join("target").join("streamc-cache");
    let result = Command::new(env!("CARGO_BIN_EXE_streamc"))
        .current_dir(root())
        .env("STREAMC_CACHE_DIR", &cache)
        .arg("run")
        .arg(&spec)
        .arg("--replay")
        .arg(&input)
        .arg("--checkpoint")
        .arg(dir.join("ckpt-reference"))
        .stdout(Stdio::null())
        .output()
        .expect("run streamc");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "reference run: {stderr}");
    let exe = app_binary(&stderr, &cache);
    let (reference, _) = committed(&sink);
    std::fs::rename(&sink, dir.join("out-reference")).unwrap();

    let ckpt = dir.join("ckpt");
    let start = || {
        Guard(Some(
            Command::new(&exe)
                .arg("--replay")
                .arg(&input)
                .arg("--checkpoint")
                .arg(&ckpt)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start the app"),
        ))
    };
    let signal = |pid: u32| {
        let ok = Command::new("kill").arg("-TERM").arg(pid.to_string()).status().expect("kill").success();
        assert!(ok, "kill -TERM {pid}");
    };
    let wait_for_batches = |n: usize| {
        let t = Instant::now();
        while committed_batches(&sink) < n && t.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    // One SIGTERM: a clean stop, exit code 0.
    let app = start();
    wait_for_batches(3);
    signal(app.pid());
    let status = app.wait_at_most(Duration::from_secs(30)).expect("the app stops after SIGTERM");
    assert!(status.success(), "exit status after one SIGTERM: {status}");
    let first_stop = committed_batches(&sink);
    assert!(first_stop < BATCHES, "SIGTERM came too late to test anything ({first_stop} batches done)");
    // The batch in flight was finished and committed, and no later one was started: there is
    // no planned batch (`offsets/N`) past the committed ones (with `--replay` no batch is
    // planned, so this holds trivially), and the newest commit (`commits/<T>`) is the sink's
    // last batch.
    let planned_after = ckpt.join("offsets").join(format!("{first_stop:020}"));
    assert!(!planned_after.exists(), "a batch was started after SIGTERM: {}", planned_after.display());
    let newest = std::fs::read_dir(ckpt.join("commits")).unwrap().map(|e| e.unwrap().path()).max().unwrap();
    let (_, query) = streamc_runtime::checkpoint::Checkpoint::decode_with(&std::fs::read(&newest).unwrap()).unwrap();
    assert_eq!(query.unwrap().batch_id + 1, first_stop as u64, "newest commit {}", newest.display());
    // Two in a row: the app exits at once (not necessarily 0), leaving a usable checkpoint.
    let app = start();
    wait_for_batches(first_stop + 3);
    signal(app.pid());
    signal(app.pid());
    app.wait_at_most(Duration::from_secs(10)).expect("the app exits at once after a second SIGTERM");
    // The rest of the run, resumed.
    let app = start();
    let status = app.wait_at_most(Duration::from_secs(120)).expect("the resumed run ends");
    assert!(status.success(), "resumed run: {status}");
    let (got, hidden) = committed(&sink);
    assert!(hidden.is_empty(), "temporary files left: {hidden:?}");
    let (missing, extra) = diff(&multiset(&reference), &multiset(&got));
    assert!(missing.is_empty() && extra.is_empty(), "{} rows lost, {} duplicated", missing.len(), extra.len());
}

/// The same windowed count on a supervised cluster of 2 processes (`streamc run --processes 2`,
/// timely dataflow between them), with one of its processes SIGKILLed at pseudo-random moments
/// (at least `STREAMC_CLUSTER_KILLS`, default 20, each within an eightieth of an uninterrupted
/// cluster run's time after the cluster started: while connecting, restoring, inside a batch or
/// its rounds of messages, or writing the checkpoint of its partitioned state). Each kill makes
/// the other process fail on its lost connection and the supervisor restart both from the last
/// commit; the committed output must be one uninterrupted single-process run's.
#[test]
fn a_cluster_loses_nothing_when_its_processes_are_killed() {
    cluster_kill_series("cluster-crash", false);
}

/// [`a_cluster_loses_nothing_when_its_processes_are_killed`] with the query's own file source
/// (`AvailableNow`, a file a batch) instead of a replay: process 0 plans each batch's files
/// while the batch before ends (its last round carries the decision), and a restart resumes
/// from the files the last commit records and the write-ahead entries after it. (The narrow
/// case of a kill after a commit and before the next batch's write-ahead entry, where a commit
/// that recorded the next batch's files would lose them, is rarely hit by these kills; the
/// commit records the files taken before that planning, `EndOfBatch::taken`.)
#[test]
fn a_cluster_reading_files_loses_nothing_when_its_processes_are_killed() {
    cluster_kill_series("cluster-crash-files", true);
}

fn cluster_kill_series(name: &str, file_source: bool) {
    let dir = scratch(name);
    let input = dir.join("in");
    write_input(&input);
    let sink = dir.join("out");
    let spec = if file_source { write_counts_spec_reading(&dir, &sink, "", &input) } else { write_spec(&dir, &sink) };
    let streamc = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamc"));
        cmd.current_dir(root()).env(
            "STREAMC_CACHE_DIR",
            std::env::var_os("STREAMC_CACHE_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| root().join("target").join("streamc-cache")),
        );
        cmd.arg("run").arg(&spec);
        if !file_source {
            cmd.arg("--replay").arg(&input);
        }
        cmd.arg("--checkpoint");
        cmd
    };
    let reference = streamc().arg(dir.join("ckpt-reference")).stdout(Stdio::null()).output().expect("run streamc");
    assert!(reference.status.success(), "the reference run failed: {}", String::from_utf8_lossy(&reference.stderr));
    let expected = multiset(&committed(&sink).0);
    assert!(expected.len() > 10_000, "too little output to test with: {} rows", expected.len());
    std::fs::rename(&sink, dir.join("out-reference")).unwrap();

    // An uninterrupted cluster run gives the same rows; its duration sets how soon after each
    // start a kill comes, so that the kills land before the run would end by itself. (The
    // shorter of two runs: the first may build the app, and either may share the cores with
    // another test.)
    let mut run_time = Duration::MAX;
    for k in 0..2 {
        let _ = std::fs::remove_dir_all(dir.join("out-plain"));
        let timed = Instant::now();
        let plain = streamc()
            .arg(dir.join(format!("ckpt-plain{k}")))
            .args(["--processes", "2"])
            .stdout(Stdio::null())
            .output()
            .unwrap();
        run_time = run_time.min(timed.elapsed());
        assert!(plain.status.success(), "the uninterrupted cluster failed: {}", String::from_utf8_lossy(&plain.stderr));
        assert!(multiset(&committed(&sink).0) == expected, "an uninterrupted cluster run differs from one process's");
        // Each process wrote the rows of its keys to data files of its own, which process 0
        // committed with its own.
        let mut writers: Vec<bool> = vec![false; 2];
        for e in std::fs::read_dir(&sink).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.starts_with("part-") {
                writers[usize::from(name.contains("-p1."))] = true;
            }
        }
        assert_eq!(writers, [true, true], "data files of processes 0 and 1 in the sink");
        std::fs::rename(&sink, dir.join("out-plain")).unwrap();
    }
    // At most a quarter of the run's length in all: a start progresses at most as long as it
    // lives, so the kills cannot let the run finish before the last of them (with `run_time /
    // wanted` a series of late kills could; with half the run's length, a run timed while
    // another test loaded the cores once let 19 of 20 kills finish it).
    let wanted = env_u64("STREAMC_CLUSTER_KILLS", 20) as usize;
    let window = (run_time.as_millis() as u64 / (4 * wanted as u64)).clamp(10, 1500);

    let log = dir.join("cluster.stderr");
    let t = Instant::now();
    let (status, kills, starts) = kill_cluster_series(
        streamc().arg(dir.join("ckpt")).args(["--processes", "2"]).stdin(Stdio::null()).stdout(Stdio::null()),
        &log,
        2,
        wanted,
        Duration::from_millis(window),
        env_u64("STREAMC_CRASH_SEED", 0x00c0_ffee),
        &mut || true,
    );
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "the supervised cluster failed: {status}\n{stderr}");
    let (got, hidden) = committed(&sink);
    assert!(hidden.is_empty(), "temporary files left after the cluster's restarts: {hidden:?}");
    let got = multiset(&got);
    if got != expected {
        let (missing, extra) = diff(&expected, &got);
        panic!(
            "after {kills} kills the cluster's sink differs from one process's: {} rows lost, {} extra, e.g. {:?} {:?}\n{stderr}",
            missing.len(),
            extra.len(),
            missing.first(),
            extra.first()
        );
    }
    eprintln!(
        "cluster crash test: {} rows, {kills} kills within {window} ms of a start, {} cluster starts, {:.1?} \
         (uninterrupted: {run_time:.1?})",
        got.len(),
        starts,
        t.elapsed()
    );
    assert!(kills >= wanted, "only {kills} of {wanted} kills landed before the cluster finished by itself");
}

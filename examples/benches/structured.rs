//! Structured Streaming throughput: the pipeline streamc compiles for JSON events →
//! `with_watermark(timestamp, 10 minutes)` → `group_by(window(timestamp, '10 minutes',
//! '5 minutes'), word).count()` in append mode, replayed over a generated corpus (one file per
//! batch), against a hand-written Rust loop over the same files that does the same work with the
//! same pieces of the runtime: `json::parse_fields`, `time::parse_timestamp`,
//! `window::sliding_windows`, `watermark::Watermark` and `agg::StreamingAgg`. In one run,
//! alternating; prints events/s of both and the ratio.
//!
//! `cargo bench -p streamc-examples --bench structured` (env: `STREAMC_BENCH_MB`, default 100;
//! `STREAMC_BENCH_RUNS`, default 5; `STREAMC_BENCH_PROFILE=W` runs only the compiled pipeline on
//! W workers, for `perf record`). The corpus is generated once into
//! `target/bench-corpus/events-<MB>m/` (20 files of JSON lines
//! `{"timestamp": "2024-01-01 12:02:00", "word": "..."}`; Zipf-like (s = 1) words over a
//! 10k-word vocabulary; each file covers the next 30 minutes of event time; 5 % of the events
//! are up to 4 minutes late, 0.2 % 30–90 minutes late (some of those are dropped by the
//! watermark); deterministic seed).
//!
//! The compiled pipeline is generated at build time (`benches/suite/build.rs`) from
//! `examples/windowed_event_counts.yaml`, the example spec, with its checkpoint and JSON sink
//! taken off (the loop keeps no checkpoint and writes no files); the console sink's text goes to
//! `std::io::sink()`, and the source path is replaced by `with_replay_all(corpus)`.
//!
//! Every side runs with the allocator settings a generated app's `main` makes
//! (`cli::keep_freed_memory`: freed memory kept for the next batch, not returned and faulted in
//! again).
//!
//! A second baseline shares no code with streamc: serde_json reads each line into a typed
//! struct (`timestamp` and `word` borrowed), a hand-written parser of the corpus's
//! `yyyy-MM-dd HH:mm:ss` timestamps, the windows, watermark and late filter written out, counts
//! in a hashbrown map (foldhash) keyed by (window start, word id) with words interned once. The
//! compiled pipeline also runs with 2 workers (`with_workers(2)`), and over the same events as
//! CSV (`timestamp,word` lines, `target/bench-corpus/events-csv-<MB>m/`) with the query's source
//! read as CSV.
//!
//! Under `cargo test` (which runs this target, `test = true` in Cargo.toml, without `--bench`)
//! only the agreement check runs, untimed, on a 1 MB corpus: the generated pipeline and the
//! loop must emit the same rows and counts.

#[path = "common/mod.rs"]
mod common;

use common::{Rng, Zipf};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use streamc_runtime::fmt::spark_string;
use streamc_runtime::structured::OutputMode;
use streamc_runtime::structured::agg::StreamingAgg;
use streamc_runtime::structured::json::{Json, parse_fields};
use streamc_runtime::structured::time::{MICROS_PER_MINUTE, Timestamp, parse_timestamp};
use streamc_runtime::structured::watermark::Watermark;
use streamc_runtime::structured::window::sliding_windows;
use streamc_runtime::{App, BatchInput, BatchOutput, Error};

const VOCAB: usize = 10_000;
const FILES: usize = 20;
/// Event time covered by each file.
const FILE_SPAN_US: i64 = 30 * MICROS_PER_MINUTE;
const DELAY_US: i64 = 10 * MICROS_PER_MINUTE;
const WINDOW_US: i64 = 10 * MICROS_PER_MINUTE;
const SLIDE_US: i64 = 5 * MICROS_PER_MINUTE;

/// Writes the corpus once (a marker file beside the directory says it is complete: every file
/// in the directory is a batch of the replay).
pub(crate) fn corpus(mb: usize) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-corpus");
    let dir = root.join(format!("events-{mb}m"));
    let done = root.join(format!("events-{mb}m.done"));
    if done.exists() {
        return dir;
    }
    eprintln!("generating a {mb} MB corpus in {} ...", dir.display());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create corpus dir");
    let mut rng = Rng(7);
    let zipf = Zipf::new(&mut rng, VOCAB);
    let t0 = parse_timestamp("2024-01-01 00:00:00").expect("start time").0;
    let per_file = mb * (1 << 20) / FILES;
    for f in 0..FILES {
        let mut text = String::with_capacity(per_file + 256);
        let file_start = t0 + f as i64 * FILE_SPAN_US;
        while text.len() < per_file {
            // Event time advances with the position in the file; a little disorder.
            let mut t = file_start + (text.len() as f64 / per_file as f64 * FILE_SPAN_US as f64) as i64;
            let d = rng.unit();
            if d < 0.002 {
                t -= ((30.0 + 60.0 * rng.unit()) * MICROS_PER_MINUTE as f64) as i64;
            } else if d < 0.052 {
                t -= (rng.unit() * 4.0 * MICROS_PER_MINUTE as f64) as i64;
            }
            let t = Timestamp(t - t.rem_euclid(1_000_000)); // whole seconds
            text.push_str("{\"timestamp\": \"");
            text.push_str(&spark_string(&t));
            text.push_str("\", \"word\": \"");
            text.push_str(zipf.sample(&mut rng));
            text.push_str("\"}\n");
        }
        std::fs::write(dir.join(format!("part-{f:05}.json")), text).expect("write corpus");
    }
    std::fs::write(&done, "").expect("write marker");
    dir
}

/// The corpus as CSV (`timestamp,word` lines, the same events), written once beside it.
pub(crate) fn csv_corpus(mb: usize) -> PathBuf {
    let json = corpus(mb);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-corpus");
    let dir = root.join(format!("events-csv-{mb}m"));
    let done = root.join(format!("events-csv-{mb}m.done"));
    if done.exists() {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create csv corpus dir");
    for f in files(&json) {
        let text = std::fs::read_to_string(&f).expect("read corpus");
        let mut csv = String::with_capacity(text.len() / 2);
        for line in text.lines() {
            // {"timestamp": "<t>", "word": "<w>"}: the corpus's one shape, no escapes.
            let mut quoted = line.split('"').skip(1).step_by(2);
            let (_, t, _, w) = (quoted.next(), quoted.next(), quoted.next(), quoted.next());
            csv.push_str(t.expect("timestamp"));
            csv.push(',');
            csv.push_str(w.expect("word"));
            csv.push('\n');
        }
        std::fs::write(dir.join(f.file_name().expect("name")).with_extension("csv"), csv).expect("write csv");
    }
    std::fs::write(&done, "").expect("write marker");
    dir
}

pub(crate) fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("read corpus").map(|e| e.expect("entry").path()).collect();
    files.sort();
    files
}

/// What a run computed, to check that both sides did the same work.
#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
pub(crate) struct Totals {
    pub(crate) events: u64,
    /// Rows emitted (final windows) and the sum of their counts.
    pub(crate) rows: u64,
    pub(crate) counted: u64,
    /// (window, word) assignments dropped as late.
    pub(crate) late: u64,
}

/// One batch of the hand-written loop: the same steps as the generated stage, written directly.
fn batch(
    text: &str,
    agg: &mut StreamingAgg<(Timestamp, Timestamp, String), i64>,
    wm: &mut Watermark,
    totals: &mut Totals,
) -> bool {
    let mut fields = [Json::Missing, Json::Missing];
    for line in text.lines() {
        totals.events += 1;
        if parse_fields(line, &["timestamp", "word"], &mut fields).is_err() {
            continue;
        }
        let ts = match &fields[0] {
            Json::Str(s) => parse_timestamp(s),
            _ => None,
        };
        let Some(ts) = ts else { continue };
        wm.observe(ts);
        let Json::Str(word) = &fields[1] else { continue };
        for (ws, we) in sliding_windows(ts, WINDOW_US, SLIDE_US, 0) {
            if wm.is_late(we) {
                totals.late += 1;
                continue;
            }
            agg.update((ws, we, &**word), |c| *c += 1, || 0);
        }
    }
    let rows = agg.finish_batch(OutputMode::Append, Some(wm.current()), |k| k.1);
    totals.rows += rows.len() as u64;
    totals.counted += rows.iter().map(|r| r.1 as u64).sum::<u64>();
    black_box(rows);
    wm.end_batch()
}

/// The baseline: read each file (one batch each), then one batch without data if the watermark
/// moved in the last one, as the replay does.
pub(crate) fn hand_written(files: &[PathBuf]) -> (Duration, Totals) {
    let start = Instant::now();
    let mut agg = StreamingAgg::new();
    let mut wm = Watermark::new(DELAY_US);
    let mut totals = Totals::default();
    let mut moved = false;
    for f in files {
        let text = std::fs::read_to_string(f).expect("read");
        moved = batch(&text, &mut agg, &mut wm, &mut totals);
    }
    if moved {
        batch("", &mut agg, &mut wm, &mut totals);
    }
    (start.elapsed(), totals)
}

pub(crate) fn compiled(dir: &Path, workers: usize) -> Duration {
    let start = Instant::now();
    let handle = compiled_app()
        .with_replay_all(dir)
        .with_print_writer(std::io::sink())
        .with_workers(workers)
        .start()
        .expect("start");
    handle.await_termination().expect("run");
    start.elapsed()
}

/// The compiled pipeline over the CSV corpus (the same query with a CSV source).
pub(crate) fn compiled_csv(dir: &Path) -> Duration {
    let start = Instant::now();
    let handle = compiled_csv_app()
        .with_replay_all(dir)
        .with_print_writer(std::io::sink())
        .with_workers(1)
        .start()
        .expect("start");
    handle.await_termination().expect("run");
    start.elapsed()
}

/// One untimed run of the compiled pipeline with `with_jsonl`, to check it emits the same rows.
pub(crate) fn compiled_totals(dir: &Path) -> (u64, u64) {
    let out = std::env::temp_dir().join(format!("streamc-structured-bench-{}.jsonl", std::process::id()));
    let handle =
        compiled_app().with_replay_all(dir).with_print_writer(std::io::sink()).with_jsonl(&out).start().expect("start");
    handle.await_termination().expect("run");
    jsonl_totals(&out)
}

/// [`compiled_totals`] of the CSV pipeline over the CSV corpus.
pub(crate) fn compiled_csv_totals(dir: &Path) -> (u64, u64) {
    let out = std::env::temp_dir().join(format!("streamc-structured-bench-csv-{}.jsonl", std::process::id()));
    let handle = compiled_csv_app()
        .with_replay_all(dir)
        .with_print_writer(std::io::sink())
        .with_jsonl(&out)
        .start()
        .expect("start");
    handle.await_termination().expect("run");
    jsonl_totals(&out)
}

/// The rows and the sum of their counts in a `with_jsonl` file (removed after).
fn jsonl_totals(out: &Path) -> (u64, u64) {
    let text = std::fs::read_to_string(out).expect("read jsonl");
    let _ = std::fs::remove_file(out);
    let (mut rows, mut counted) = (0, 0);
    for part in text.split("\"count\":").skip(1) {
        let n: String = part.chars().take_while(char::is_ascii_digit).collect();
        rows += 1;
        counted += n.parse::<u64>().expect("count");
    }
    (rows, counted)
}

/// The serde_json baseline's event: both fields borrowed from the line when unescaped.
#[derive(serde::Deserialize)]
struct Event<'a> {
    #[serde(borrow)]
    timestamp: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    word: std::borrow::Cow<'a, str>,
}

/// The serde_json baseline over the files (see the module docs): the same windows, watermark,
/// late drops and append-mode emission as the pipeline.
pub(crate) fn serde_baseline(files: &[PathBuf]) -> (Duration, Totals) {
    type Map<K, V> = hashbrown::HashMap<K, V, foldhash::fast::FixedState>;
    let start = Instant::now();
    let mut words: Map<String, u32> = Map::default();
    let mut names: Vec<String> = Vec::new();
    let mut counts: Map<(i64, u32), i64> = Map::default();
    let (mut watermark, mut late_mark, mut max_seen) = (0i64, 0i64, None::<i64>);
    let mut totals = Totals::default();
    let mut batch = |text: &str, totals: &mut Totals| -> bool {
        for line in text.lines() {
            totals.events += 1;
            let Ok(e) = serde_json::from_str::<Event<'_>>(line) else { continue };
            let Some(ts) = common::timestamp_us(&e.timestamp) else { continue };
            max_seen = Some(max_seen.map_or(ts, |m| m.max(ts)));
            let id = match words.get(&*e.word) {
                Some(&id) => id,
                None => {
                    let id = names.len() as u32;
                    names.push(e.word.to_string());
                    words.insert(e.word.to_string(), id);
                    id
                }
            };
            // Windows of 10 minutes every 5 containing ts: starts at the last slide boundary
            // at or before ts, and the one before.
            let last = ts - ts.rem_euclid(SLIDE_US);
            for ws in [last - SLIDE_US, last] {
                if ws + WINDOW_US <= ts {
                    continue;
                }
                if ws + WINDOW_US <= late_mark {
                    totals.late += 1;
                    continue;
                }
                *counts.entry((ws, id)).or_insert(0) += 1;
            }
        }
        // Append mode: windows the watermark has passed are emitted and dropped.
        let mut emitted = Vec::new();
        counts.retain(|&(ws, id), &mut c| {
            if ws + WINDOW_US <= watermark {
                emitted.push((ws, id, c));
                false
            } else {
                true
            }
        });
        totals.rows += emitted.len() as u64;
        totals.counted += emitted.iter().map(|e| e.2 as u64).sum::<u64>();
        black_box(emitted);
        // The next batch checks late input against this batch's watermark.
        late_mark = watermark;
        let next = max_seen.map_or(watermark, |m| (m - DELAY_US).max(watermark));
        let moved = next != watermark;
        watermark = next;
        moved
    };
    let mut moved = false;
    for f in files {
        let text = std::fs::read_to_string(f).expect("read");
        moved = batch(&text, &mut totals);
    }
    if moved {
        batch("", &mut totals);
    }
    (start.elapsed(), totals)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test` runs this `harness = false` target (`test =
    // true`) without it, unoptimised: there, only check on a 1 MB corpus that the generated
    // pipeline and the loop agree, untimed.
    let bench = std::env::args().any(|a| a == "--bench");
    // The allocator as a generated app's `main` sets it (freed memory kept for the next batch):
    // for every side of the comparison alike.
    streamc_runtime::cli::keep_freed_memory();
    if !bench || std::env::args().any(|a| a == "--test") {
        let dir = corpus(1);
        let (_, totals) = hand_written(&files(&dir));
        assert_eq!(compiled_totals(&dir), (totals.rows, totals.counted), "the pipeline and the loop disagree");
        assert_eq!(serde_baseline(&files(&dir)).1, totals, "the serde_json baseline and the loop disagree");
        assert_eq!(compiled_csv_totals(&csv_corpus(1)), (totals.rows, totals.counted), "the CSV pipeline disagrees");
        return;
    }
    let mb: usize = std::env::var("STREAMC_BENCH_MB").ok().and_then(|s| s.parse().ok()).unwrap_or(100);
    let runs: usize = std::env::var("STREAMC_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let dir = corpus(mb);
    let files = files(&dir);
    // `STREAMC_BENCH_PROFILE=W`: only the compiled pipeline on W workers, `runs` times (to run
    // under `perf record`).
    if let Some(w) = std::env::var("STREAMC_BENCH_PROFILE").ok().and_then(|s| s.parse().ok()) {
        for _ in 0..runs {
            println!("compiled pipeline, {w} workers: {:.1} ms", compiled(&dir, w).as_secs_f64() * 1e3);
        }
        return;
    }
    let (_, totals) = hand_written(&files); // warms the page cache
    assert_eq!(compiled_totals(&dir), (totals.rows, totals.counted), "the pipeline and the loop disagree");
    assert_eq!(serde_baseline(&files).1, totals, "the serde_json baseline and the loop disagree");
    let csv = csv_corpus(mb);
    assert_eq!(compiled_csv_totals(&csv), (totals.rows, totals.counted), "the CSV pipeline and the loop disagree");
    let (mut base, mut serde, mut comp, mut comp2, mut comp_csv) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        base.push(hand_written(&files).0);
        serde.push(serde_baseline(&files).0);
        comp.push(compiled(&dir, 1));
        comp2.push(compiled(&dir, 2));
        comp_csv.push(compiled_csv(&csv));
    }
    // Each round runs every side back to back: the ratio within a round is paired (a host whose
    // speed drifts between rounds slows both sides of it alike).
    let paired = |num: &[Duration], den: &[Duration]| {
        let mut r: Vec<f64> = num.iter().zip(den).map(|(n, d)| n.as_secs_f64() / d.as_secs_f64()).collect();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    };
    let (paired_serde, paired_workers) = (paired(&serde, &comp), paired(&comp, &comp2));
    let (b, sj, c, c2, cc) = (
        common::median(base),
        common::median(serde),
        common::median(comp),
        common::median(comp2),
        common::median(comp_csv),
    );
    let rate = |d: Duration| totals.events as f64 / d.as_secs_f64() / 1e6;
    println!(
        "corpus: {mb} MB, {} files, {} events, {} windowed rows emitted, {} late assignments dropped; median of {runs} runs",
        files.len(),
        totals.events,
        totals.rows,
        totals.late
    );
    println!("hand-written loop : {:>8.1} ms  {:>6.2} M events/s", b.as_secs_f64() * 1e3, rate(b));
    println!("serde_json + hashbrown: {:>8.1} ms  {:>6.2} M events/s", sj.as_secs_f64() * 1e3, rate(sj));
    println!("streamc pipeline  : {:>8.1} ms  {:>6.2} M events/s", c.as_secs_f64() * 1e3, rate(c));
    println!("streamc, 2 workers: {:>8.1} ms  {:>6.2} M events/s", c2.as_secs_f64() * 1e3, rate(c2));
    println!("streamc, CSV source: {:>7.1} ms  {:>6.2} M events/s", cc.as_secs_f64() * 1e3, rate(cc));
    println!("ratio (streamc / hand-written events/s): {:.2}x (target >= 0.85x)", b.as_secs_f64() / c.as_secs_f64());
    println!("ratio (streamc / serde_json baseline): {:.2}x (target >= 1.5x)", sj.as_secs_f64() / c.as_secs_f64());
    println!("ratio (2 workers / 1 worker): {:.2}x (target >= 1.7x)", c.as_secs_f64() / c2.as_secs_f64());
    println!(
        "paired, the median of each round's ratio: streamc / serde_json {paired_serde:.2}x, 2 workers / 1 worker {paired_workers:.2}x"
    );
}

/// The same over CSV (`structured_csv_app.rs` of the build script).
fn compiled_csv_app() -> App<impl FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send + 'static> {
    include!(concat!(env!("OUT_DIR"), "/structured_csv_app.rs"))
}

/// The compiled pipeline: the app expression generated from `examples/windowed_event_counts.yaml`
/// (see the module docs).
fn compiled_app() -> App<impl FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send + 'static> {
    include!(concat!(env!("OUT_DIR"), "/structured_app.rs"))
}

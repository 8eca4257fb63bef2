//! Structured Streaming throughput: the pipeline streamc compiles for JSON events →
//! `with_watermark(timestamp, 10 minutes)` → `group_by(window(timestamp, '10 minutes',
//! '5 minutes'), word).count()` in append mode, replayed over a generated corpus (one file per
//! batch), against a hand-written Rust loop over the same files that does the same work with the
//! same pieces of the runtime: `json::parse_fields`, `time::parse_timestamp`,
//! `window::sliding_windows`, `watermark::Watermark` and `agg::StreamingAgg`. In one run,
//! alternating; prints events/s of both and the ratio.
//!
//! `cargo bench -p streamc-examples --bench structured` (env: `STREAMC_BENCH_MB`, default 100;
//! `STREAMC_BENCH_RUNS`, default 5). The corpus is generated once into
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

pub(crate) fn compiled(dir: &Path) -> Duration {
    let start = Instant::now();
    let handle = compiled_app().with_replay_all(dir).with_print_writer(std::io::sink()).start().expect("start");
    handle.await_termination().expect("run");
    start.elapsed()
}

/// One untimed run of the compiled pipeline with `with_jsonl`, to check it emits the same rows.
pub(crate) fn compiled_totals(dir: &Path) -> (u64, u64) {
    let out = std::env::temp_dir().join(format!("streamc-structured-bench-{}.jsonl", std::process::id()));
    let handle =
        compiled_app().with_replay_all(dir).with_print_writer(std::io::sink()).with_jsonl(&out).start().expect("start");
    handle.await_termination().expect("run");
    let text = std::fs::read_to_string(&out).expect("read jsonl");
    let _ = std::fs::remove_file(&out);
    let (mut rows, mut counted) = (0, 0);
    for part in text.split("\"count\":").skip(1) {
        let n: String = part.chars().take_while(char::is_ascii_digit).collect();
        rows += 1;
        counted += n.parse::<u64>().expect("count");
    }
    (rows, counted)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test` runs this `harness = false` target (`test =
    // true`) without it, unoptimised: there, only check on a 1 MB corpus that the generated
    // pipeline and the loop agree, untimed.
    let bench = std::env::args().any(|a| a == "--bench");
    if !bench || std::env::args().any(|a| a == "--test") {
        let dir = corpus(1);
        let (_, totals) = hand_written(&files(&dir));
        assert_eq!(compiled_totals(&dir), (totals.rows, totals.counted), "the pipeline and the loop disagree");
        return;
    }
    let mb: usize = std::env::var("STREAMC_BENCH_MB").ok().and_then(|s| s.parse().ok()).unwrap_or(100);
    let runs: usize = std::env::var("STREAMC_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let dir = corpus(mb);
    let files = files(&dir);
    let (_, totals) = hand_written(&files); // warms the page cache
    assert_eq!(compiled_totals(&dir), (totals.rows, totals.counted), "the pipeline and the loop disagree");
    let mut base = Vec::new();
    let mut comp = Vec::new();
    for _ in 0..runs {
        base.push(hand_written(&files).0);
        comp.push(compiled(&dir));
    }
    let (b, c) = (median(base), median(comp));
    let rate = |d: Duration| totals.events as f64 / d.as_secs_f64() / 1e6;
    println!(
        "corpus: {mb} MB, {} files, {} events, {} windowed rows emitted, {} late assignments dropped; median of {runs} runs",
        files.len(),
        totals.events,
        totals.rows,
        totals.late
    );
    println!("hand-written loop : {:>8.1} ms  {:>6.2} M events/s", b.as_secs_f64() * 1e3, rate(b));
    println!("streamc pipeline  : {:>8.1} ms  {:>6.2} M events/s", c.as_secs_f64() * 1e3, rate(c));
    println!("ratio (streamc / hand-written events/s): {:.2}x (target >= 0.85x)", b.as_secs_f64() / c.as_secs_f64());
}

/// The compiled pipeline: the app expression generated from `examples/windowed_event_counts.yaml`
/// (see the module docs).
fn compiled_app() -> App<impl FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send + 'static> {
    include!(concat!(env!("OUT_DIR"), "/structured_app.rs"))
}

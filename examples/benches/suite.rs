//! The benchmark suite of issue 6: every benchmark in one process run, one table of results and
//! ratios measured side by side in that run (the machines are shared: compare ratios, not
//! absolute figures).
//!
//! `cargo bench -p streamc-examples --bench suite` prints a markdown table, writes an SVG chart
//! of throughput (`STREAMC_SUITE_SVG`, default `target/bench-suite/throughput.svg`) and, with
//! `STREAMC_SUITE_JSON=FILE`, the rows as JSON (relative paths are from the workspace root).
//! Under `cargo test` (no `--bench`) it does nothing.
//!
//! 1. word count: hand-written loop vs `stream!` vs YAML (1 and 2 workers) vs `stream!` with fusion off;
//! 2. windowed word count, `reduce_by_key_and_window` with and without the inverse;
//! 3. `map_with_state` running count over 1 M keys (time per batch, memory per key);
//! 4. structured: JSON events → event-time window count with a watermark, vs a hand-written loop;
//! 5. Nexmark q0, q1, q2, q5, q7, q8 (events/s per core, next to Flink's published figures);
//! 6. end-to-end latency over a socket with 10 ms batches;
//! 7. compile time: `streamc build` + `cargo build --release`, cold and warm; expansion time;
//! 8. equal work with Spark: the Structured word count (complete mode, checkpointed) in Spark
//!    (local[2] and local[1]) and in streamc on the same files, only when `SPARK_PY` is set.
//!
//! Sizes (defaults finish in a few minutes on 2 cores): `STREAMC_SUITE_RUNS` (3),
//! `STREAMC_SUITE_WC_MB` (100), `STREAMC_SUITE_WINDOW_LENGTHS` (`2,60`; of 2, 5, 10, 20, 40, 60),
//! `STREAMC_SUITE_WINDOW_VOCAB` (100000), `STREAMC_SUITE_EVENTS_MB` (100),
//! `STREAMC_SUITE_NEXMARK_EVENTS` (2000000), `STREAMC_SUITE_NEXMARK_FILES` (20),
//! `STREAMC_SUITE_LATENCY_RATE` (100000 records/s), `STREAMC_SUITE_LATENCY_SECS` (5),
//! `STREAMC_SUITE_COLD` (1: include the cold build), `STREAMC_SUITE_ONLY` (e.g. `1,5`: a subset).

// The suite reuses the standalone benches' code (corpora, pipelines, baselines) as modules; each
// one's own `main` and report are not used here. Each of them loads `common/mod.rs` itself, as it
// must when built alone, hence the same file as several modules.
#![allow(clippy::duplicate_mod)]

#[allow(dead_code)]
#[path = "state.rs"]
mod state;
#[allow(dead_code)]
#[path = "structured.rs"]
mod structured;
#[allow(dead_code)]
#[path = "windows.rs"]
mod windows;
#[allow(dead_code)]
#[path = "word_count.rs"]
mod word_count;

#[allow(dead_code)]
mod common;
#[path = "suite/compile.rs"]
mod compile;
#[path = "suite/latency.rs"]
mod latency;
#[path = "suite/nexmark.rs"]
mod nexmark;
#[path = "suite/report.rs"]
mod report;
#[path = "suite/wordcount.rs"]
mod wordcount;

use report::Row;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Benchmark 2: the windowed word count of `benches/windows.rs`, per-batch time at the steady
/// state, with and without the inverse function, for the window lengths asked.
fn windowed(rows: &mut Vec<Row>, lengths: &[usize], vocab: usize, runs: usize) {
    let dir = windows::corpus(vocab);
    let ckpt = std::env::temp_dir().join(format!("streamc-suite-windows-{}", std::process::id()));
    let stamps: windows::Stamps = Arc::default();
    let mut base = Vec::new();
    let mut res = vec![vec![Vec::new(); lengths.len()]; 2];
    for _ in 0..runs {
        windows::run(windows::unwindowed(&stamps), &dir, None);
        base.push(windows::measure(&stamps).mean_all);
        for (li, &len) in lengths.iter().enumerate() {
            for (k, inverse) in [true, false].into_iter().enumerate() {
                windows::run_windowed(inverse, len, &stamps, &dir, &ckpt);
                res[k][li].push(windows::measure(&stamps).mean_all);
            }
        }
    }
    let b = "2. windowed word count";
    let words = windows::WORDS_PER_BATCH as f64;
    let base = median(base);
    rows.push(
        Row::new(b, &format!("no window, reduce_by_key ({} k words/batch)", words / 1e3), base, "ms/batch")
            .chart(words / base * 1e3),
    );
    for (k, form) in ["with inverse", "without inverse"].into_iter().enumerate() {
        let first = median(res[k][0].clone());
        for (li, &len) in lengths.iter().enumerate() {
            let ms = median(res[k][li].clone());
            let mut row = Row::new(b, &format!("window {len} batches, {form}"), ms, "ms/batch").chart(words / ms * 1e3);
            if li > 0 {
                row = row.ratio(ms / first, &format!("of window {}", lengths[0]));
                if k == 0 {
                    row = row.target(&format!("≤ 1.5× window {}", lengths[0]), ms / first <= 1.5);
                }
            }
            rows.push(row);
        }
    }
}

/// Benchmark 3: the `map_with_state` running count of `benches/state.rs` over 1 M keys, and the
/// state type's memory per key against the bound.
fn stateful(rows: &mut Vec<Row>) {
    let dir = state::corpus();
    let ckpt = std::env::temp_dir().join(format!("streamc-suite-state-{}", std::process::id()));
    let samples: state::Samples = Arc::default();
    let r = state::run_pipeline(state::map_with_state_app(&samples), &dir, &ckpt, &samples);
    let text = state::key_text();
    let d = state::direct_map_with_state(&text, 1, &ckpt);
    let b = "3. map_with_state, 1 M keys";
    let per = state::PER_BATCH as f64;
    rows.push(Row::new(b, "insert batch (100 k new keys)", r.insert_ms, "ms").chart(per / r.insert_ms * 1e3));
    rows.push(Row::new(b, "touch batch (100 k of 1 M keys)", r.touch_ms, "ms").chart(per / r.touch_ms * 1e3));
    rows.push(Row::new(b, "checkpoint of 1 M keys (extra time of its batch)", r.ckpt_gap_ms - r.touch_ms, "ms"));
    // Raw bytes of a key and its value: the key's text and an i64.
    let raw = (text.len() - state::KEYS) as f64 / state::KEYS as f64 + 8.0;
    let bound = 2.0 * raw + 16.0;
    rows.push(
        Row::new(b, &format!("state heap bytes/key (raw key + value: {raw:.1} B)"), d.heap_per_key, "B")
            .ratio(d.heap_per_key / bound, "of the bound")
            .target(&format!("≤ 2×raw + 16 = {bound:.1} B"), d.heap_per_key <= bound),
    );
    rows.push(Row::new(b, "pipeline heap bytes/key (slope 100 k → 1 M keys)", r.heap_per_key, "B"));
}

/// Benchmark 4: the structured windowed count of `benches/structured.rs` against its
/// hand-written loop (same runtime pieces) and the serde_json baseline (no shared code), after
/// checking all emit the same rows; and the pipeline on 2 workers.
fn structured_bench(rows: &mut Vec<Row>, mb: usize, runs: usize) {
    let dir = structured::corpus(mb);
    let files = structured::files(&dir);
    let (_, totals) = structured::hand_written(&files);
    assert_eq!(
        structured::compiled_totals(&dir),
        (totals.rows, totals.counted),
        "the structured pipeline and the loop disagree"
    );
    assert_eq!(structured::serde_baseline(&files).1, totals, "the serde_json baseline and the loop disagree");
    let (mut hand, mut serde, mut comp, mut comp2) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        hand.push(structured::hand_written(&files).0);
        serde.push(structured::serde_baseline(&files).0);
        comp.push(structured::compiled(&dir, 1));
        comp2.push(structured::compiled(&dir, 2));
    }
    let med = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64()
    };
    let (h, sj, c, c2) = (med(hand), med(serde), med(comp), med(comp2));
    let ev = totals.events as f64;
    let b = "4. structured window count";
    rows.push(
        Row::new(b, &format!("hand-written loop ({mb} MB, {:.2} M events)", ev / 1e6), ev / h / 1e6, "M events/s")
            .chart(ev / h),
    );
    rows.push(Row::new(b, "serde_json + hashbrown baseline", ev / sj / 1e6, "M events/s").chart(ev / sj));
    rows.push(
        Row::new(b, "compiled pipeline", ev / c / 1e6, "M events/s")
            .ratio(h / c, "of hand-written")
            .target("≥ 0.85× hand-written", h / c >= 0.85)
            .chart(ev / c),
    );
    rows.push(
        Row::new(b, "compiled pipeline vs serde_json baseline", sj / c, "×")
            .target("≥ 1.5× the serde_json baseline (issue 17)", sj / c >= 1.5),
    );
    rows.push(
        Row::new(b, "compiled pipeline, 2 workers", ev / c2 / 1e6, "M events/s")
            .ratio(c / c2, "of 1 worker")
            .target("≥ 1.7× 1 worker (issue 17)", c / c2 >= 1.7)
            .chart(ev / c2),
    );
}

fn machine() -> Vec<(&'static str, String)> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|x| x.1.trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let date = std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let rustc = std::process::Command::new("rustc")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    vec![
        ("date", date),
        ("cpu", cpu),
        ("cores", cores.to_string()),
        ("load_at_start", load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")),
        ("rustc", rustc),
        ("command", "cargo bench -p streamc-examples --bench suite".to_owned()),
    ]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: do nothing there.
    if wordcount::child() || !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let only: Option<Vec<u32>> =
        std::env::var("STREAMC_SUITE_ONLY").ok().map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect());
    let on = |n: u32| only.as_ref().is_none_or(|o| o.contains(&n));
    let runs: usize = env_or("STREAMC_SUITE_RUNS", 3).max(1);
    let mut context = machine();
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut step = |n: u32, name: &str, f: &mut dyn FnMut(&mut Vec<Row>)| {
        if on(n) {
            eprintln!("suite: {n}. {name} ...");
            let t = Instant::now();
            f(&mut rows);
            eprintln!("suite: {n}. {name}: {:.1} s", t.elapsed().as_secs_f64());
        }
    };
    let wc_mb: usize = env_or("STREAMC_SUITE_WC_MB", 100);
    let mut wc = None;
    step(1, "word count", &mut |rows| wc = Some(wordcount::run(rows, wc_mb, runs)));
    step(2, "windowed word count", &mut |rows| {
        let lengths: Vec<usize> = std::env::var("STREAMC_SUITE_WINDOW_LENGTHS")
            .unwrap_or_else(|_| "2,60".to_owned())
            .split(',')
            .filter_map(|x| x.trim().parse().ok())
            .collect();
        windowed(rows, &lengths, env_or("STREAMC_SUITE_WINDOW_VOCAB", 100_000), 1.max(runs / 3));
    });
    step(3, "map_with_state over 1 M keys", &mut |rows| stateful(rows));
    step(4, "structured window count", &mut |rows| {
        structured_bench(rows, env_or("STREAMC_SUITE_EVENTS_MB", 100), runs)
    });
    step(5, "Nexmark", &mut |rows| {
        nexmark::run(
            rows,
            env_or("STREAMC_SUITE_NEXMARK_EVENTS", 2_000_000),
            env_or("STREAMC_SUITE_NEXMARK_FILES", 20),
            runs,
        )
    });
    step(6, "latency", &mut |rows| {
        latency::run(rows, env_or("STREAMC_SUITE_LATENCY_RATE", 100_000), env_or("STREAMC_SUITE_LATENCY_SECS", 5.0))
    });
    step(7, "compile time", &mut |rows| compile::run(rows, env_or("STREAMC_SUITE_COLD", 1) != 0));
    if let Some(wc) = &wc {
        step(8, "Spark word count, equal work", &mut |rows| wordcount::spark(rows, wc_mb, wc, runs));
    }
    context.push(("suite_seconds", format!("{:.0}", started.elapsed().as_secs_f64())));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    context.push(("load_at_end", load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")));

    println!();
    for (k, v) in &context {
        println!("{k}: {v}");
    }
    println!();
    print!("{}", report::markdown(&rows));
    // `cargo bench` runs the suite in `examples/`: relative paths are taken from the workspace.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let svg_path = workspace
        .join(std::env::var("STREAMC_SUITE_SVG").unwrap_or_else(|_| "target/bench-suite/throughput.svg".to_owned()));
    if let Some(parent) = svg_path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let date = context.iter().find(|c| c.0 == "date").map_or(String::new(), |c| c.1.clone());
    let title = format!("streamc benchmark suite — throughput ({date}, {} cores)", context[2].1);
    match std::fs::write(&svg_path, report::svg(&rows, &title)) {
        Ok(()) => eprintln!("suite: chart written to {}", svg_path.display()),
        Err(e) => eprintln!("suite: cannot write {}: {e}", svg_path.display()),
    }
    if let Ok(path) = std::env::var("STREAMC_SUITE_JSON") {
        let path = workspace.join(path);
        match std::fs::write(&path, report::json(&rows, &context)) {
            Ok(()) => eprintln!("suite: results written to {}", path.display()),
            Err(e) => eprintln!("suite: cannot write {}: {e}", path.display()),
        }
    }
}

//! Windowed word count: per-batch time of `reduce_by_key_and_window` with and without the
//! inverse function, for window lengths of 2 to 60 batches (slide: one batch), in one run.
//!
//! `cargo bench -p streamc-examples --bench windows` (env: `STREAMC_BENCH_RUNS`, default 3;
//! `STREAMC_BENCH_VOCAB`, default 100000; for profiling one configuration,
//! `STREAMC_BENCH_LENGTHS=60 STREAMC_BENCH_FORMS=inverse`, the ratios then being relative to the
//! first length given). The corpus is generated once into
//! `target/bench-corpus/windows-v<VOCAB>-b100`: 100 files (one per batch) of 20 000 words each,
//! Zipf-like (s = 1) over the vocabulary, lines of 5..15 words, deterministic seed — the shape of
//! the word count benchmark's corpus, in many small batches.
//!
//! Each configuration is a `stream!` pipeline replayed over the corpus, with a checkpoint
//! directory (the inverse form needs one; both forms then checkpoint their panes every 10
//! batches, Spark's default), and a `foreach_batch` output that records `Instant::now()` per
//! batch. The handler runs batches in order, back to back, so the gap between two consecutive
//! stamps is one batch: reading its file, splitting, the per-batch `reduce_by_key`, the window
//! step, and (on every 10th gap) the previous batch's checkpoint write. Only the steady-state
//! batches, after the longest window has filled, are measured; configurations alternate within
//! each run and the median over runs is printed.

#[path = "common/mod.rs"]
mod common;

use common::{Rng, Zipf};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use streamc_runtime::prelude::*;
use streamc_runtime::{BatchInput, BatchOutput};

pub(crate) const BATCHES: usize = 100;
pub(crate) const WORDS_PER_BATCH: usize = 20_000;
const LENGTHS: [usize; 6] = [2, 5, 10, 20, 40, 60];
/// Steady state: the batches after the longest window has filled (and one more, so that every
/// measured gap starts at a steady-state batch): 39 gaps, 3 of them after a checkpoint.
pub(crate) const FIRST_MEASURED: usize = 61;
/// The default checkpoint interval of a window sliding by 1 s: 10 s, i.e. every 10 batches.
const CHECKPOINT_EVERY: usize = 10;

/// The corpus directory: the batch files are in `batches/` (every file there is a batch), and
/// a `done` marker next to it.
pub(crate) fn corpus(vocab: usize) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/bench-corpus")
        .join(format!("windows-v{vocab}-b{BATCHES}"));
    let dir = root.join("batches");
    if root.join("done").exists() {
        return dir;
    }
    eprintln!("generating {BATCHES} batches of {WORDS_PER_BATCH} words in {} ...", dir.display());
    std::fs::create_dir_all(&dir).expect("create corpus dir");
    let mut rng = Rng(42);
    let zipf = Zipf::new(&mut rng, vocab);
    for f in 0..BATCHES {
        let mut text = String::new();
        let mut n = 0;
        while n < WORDS_PER_BATCH {
            let line = (5 + (rng.next() % 11) as usize).min(WORDS_PER_BATCH - n);
            for i in 0..line {
                if i > 0 {
                    text.push(' ');
                }
                text.push_str(zipf.sample(&mut rng));
            }
            text.push('\n');
            n += line;
        }
        std::fs::write(dir.join(format!("part-{f:05}.txt")), text).expect("write corpus");
    }
    std::fs::write(root.join("done"), "").expect("write marker");
    dir
}

/// The distinct words of each batch file (the entries of its pane).
pub(crate) fn pane_sizes(dir: &Path) -> Vec<usize> {
    (0..BATCHES)
        .map(|f| {
            let text = std::fs::read_to_string(dir.join(format!("part-{f:05}.txt"))).expect("read");
            text.split(['\n', ' ']).filter(|w| !w.is_empty()).collect::<HashSet<_>>().len()
        })
        .collect()
}

/// Per batch: when its `foreach_batch` ran, and how many records it had.
pub(crate) type Stamps = Arc<Mutex<Vec<(Instant, usize)>>>;

/// The windowed word count with the inverse function (and Spark's usual filter, which drops the
/// keys whose count went back to 0, so the output equals the form without inverse), or without.
macro_rules! windowed {
    (inverse, $len:tt, $stamps:ident) => {
        stream! {
            app_name("bench_windows");
            batch_interval(Seconds(1));
            checkpoint("target/bench-tmp/windows-checkpoint");
            let lines = socket_text_stream("localhost", 9999);
            let words = lines.flat_map(|line| java_split(line, " "));
            let pairs = words.map(|word| (word, 1i64));
            let counts = pairs.reduce_by_key_and_window(
                |a, b| a + b,
                |a, b| a - b,
                Seconds($len),
                Seconds(1),
                |kv: &(String, i64)| kv.1 != 0
            );
            counts.foreach_batch(|_time_ms, records| {
                $stamps.lock().expect("stamps").push((Instant::now(), records.len()))
            });
        }
    };
    (plain, $len:tt, $stamps:ident) => {
        stream! {
            app_name("bench_windows");
            batch_interval(Seconds(1));
            checkpoint("target/bench-tmp/windows-checkpoint");
            let lines = socket_text_stream("localhost", 9999);
            let words = lines.flat_map(|line| java_split(line, " "));
            let pairs = words.map(|word| (word, 1i64));
            let counts = pairs.reduce_by_key_and_window(|a, b| a + b, Seconds($len), Seconds(1));
            counts.foreach_batch(|_time_ms, records| {
                $stamps.lock().expect("stamps").push((Instant::now(), records.len()))
            });
        }
    };
}

/// No window: the per-batch word count, the fixed part of every configuration's batch.
pub(crate) fn unwindowed(
    stamps: &Stamps,
) -> App<impl FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + use<>> {
    let stamps = Arc::clone(stamps);
    stream! {
        app_name("bench_windows");
        batch_interval(Seconds(1));
        let lines = socket_text_stream("localhost", 9999);
        let words = lines.flat_map(|line| java_split(line, " "));
        let pairs = words.map(|word| (word, 1i64));
        let counts = pairs.reduce_by_key(|a, b| a + b);
        counts.foreach_batch(|_time_ms, records| {
            stamps.lock().expect("stamps").push((Instant::now(), records.len()))
        });
    }
}

/// Runs the windowed word count of window length `len` (one of [`LENGTHS`]) over `corpus`.
pub(crate) fn run_windowed(inverse: bool, len: usize, stamps: &Stamps, corpus: &Path, ckpt: &Path) {
    macro_rules! run_app {
        ($kind:ident, $len:tt) => {{
            let s = Arc::clone(stamps);
            run(windowed!($kind, $len, s), corpus, Some(ckpt))
        }};
    }
    match (inverse, len) {
        (true, 2) => run_app!(inverse, 2),
        (true, 5) => run_app!(inverse, 5),
        (true, 10) => run_app!(inverse, 10),
        (true, 20) => run_app!(inverse, 20),
        (true, 40) => run_app!(inverse, 40),
        (true, 60) => run_app!(inverse, 60),
        (false, 2) => run_app!(plain, 2),
        (false, 5) => run_app!(plain, 5),
        (false, 10) => run_app!(plain, 10),
        (false, 20) => run_app!(plain, 20),
        (false, 40) => run_app!(plain, 40),
        (false, 60) => run_app!(plain, 60),
        _ => unreachable!("window length {len} not in LENGTHS"),
    }
}

pub(crate) fn run<F>(app: App<F>, corpus: &Path, ckpt: Option<&Path>)
where
    F: FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send + 'static,
{
    let app = app.with_replay_all(corpus);
    let app = match ckpt {
        Some(dir) => {
            // A checkpoint left in the directory would be resumed from.
            let _ = std::fs::remove_dir_all(dir);
            app.with_checkpoint_dir(dir)
        }
        None => app,
    };
    app.start().expect("start").await_termination().expect("run");
    if let Some(dir) = ckpt {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// What one run of one configuration measured, over the steady-state gaps.
#[derive(Clone, Copy, Default)]
pub(crate) struct Measure {
    /// Mean gap over every steady-state batch (checkpoint writes included).
    pub(crate) mean_all: f64,
    /// Mean gap over the batches that follow no checkpoint write.
    pub(crate) mean_plain: f64,
    /// Mean gap over the batches that follow a checkpoint write.
    pub(crate) mean_ckpt: f64,
    /// Mean records in the window's output (the keys of the window).
    pub(crate) keys: f64,
}

pub(crate) fn measure(stamps: &Stamps) -> Measure {
    let s = std::mem::take(&mut *stamps.lock().expect("stamps"));
    assert_eq!(s.len(), BATCHES, "one foreach_batch per batch");
    let ms = |i: usize| (s[i].0 - s[i - 1].0).as_secs_f64() * 1e3;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    // Gap `i` ends with batch `i`; it holds the checkpoint of batch `i - 1` when batch `i - 1`
    // (time `i` s) is a checkpoint batch.
    let all: Vec<usize> = (FIRST_MEASURED..BATCHES).collect();
    let (ck, plain): (Vec<usize>, Vec<usize>) = all.iter().partition(|&&i| i % CHECKPOINT_EVERY == 0);
    let gaps = |v: &[usize]| v.iter().map(|&i| ms(i)).collect::<Vec<_>>();
    Measure {
        mean_all: mean(&gaps(&all)),
        mean_plain: mean(&gaps(&plain)),
        mean_ckpt: mean(&gaps(&ck)),
        keys: all.iter().map(|&i| s[i].1 as f64).sum::<f64>() / all.len() as f64,
    }
}

/// The median; NaN for a configuration that was not run.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: stay quick there.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runs: usize = std::env::var("STREAMC_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let vocab: usize = std::env::var("STREAMC_BENCH_VOCAB").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    // A subset of the window lengths, for profiling one configuration: `STREAMC_BENCH_LENGTHS=2,60`.
    let lengths: Vec<usize> = std::env::var("STREAMC_BENCH_LENGTHS")
        .ok()
        .map(|s| s.split(',').map(|x| x.trim().parse().expect("a window length")).collect())
        .unwrap_or_else(|| LENGTHS.to_vec());
    // `inverse`, `plain` or `both` (the default).
    let forms = std::env::var("STREAMC_BENCH_FORMS").unwrap_or_else(|_| "both".to_owned());
    let dir = corpus(vocab);
    let ckpt = std::env::temp_dir().join(format!("streamc-bench-windows-{}", std::process::id()));
    let panes = pane_sizes(&dir);
    let stamps: Stamps = Arc::default();

    let started = Instant::now();
    let mut base = Vec::new();
    // [inverse?][length] -> one Measure per run
    let mut results = vec![vec![Vec::<Measure>::new(); lengths.len()]; 2];
    for _ in 0..runs {
        run(unwindowed(&stamps), &dir, None);
        base.push(measure(&stamps).mean_all);
        for (li, &len) in lengths.iter().enumerate() {
            for (k, inverse) in [true, false].into_iter().enumerate() {
                if forms != "both" && (forms == "inverse") != inverse {
                    continue;
                }
                run_windowed(inverse, len, &stamps, &dir, &ckpt);
                results[k][li].push(measure(&stamps));
            }
        }
    }
    let elapsed: Duration = started.elapsed();

    let med = |k: usize, li: usize, f: fn(&Measure) -> f64| median(results[k][li].iter().map(f).collect());
    let base = median(base);
    println!(
        "corpus: {BATCHES} batches x {WORDS_PER_BATCH} words, Zipf over {vocab} words; slide 1 batch; \
         batches {FIRST_MEASURED}..{BATCHES} measured; median of {runs} runs ({:.0} s)",
        elapsed.as_secs_f64()
    );
    println!("no window (reduce_by_key per batch): {base:.2} ms/batch");
    println!();
    println!(
        "{:>6} {:>9} {:>9} | {:>10} {:>6} {:>10} {:>9} | {:>10} {:>6} {:>10} {:>9}",
        "window",
        "keys",
        "pane",
        "inverse",
        "ratio",
        "inv excl.",
        "inv ckpt",
        "no inverse",
        "ratio",
        "no-inv ex.",
        "noinv ckpt"
    );
    println!(
        "{:>6} {:>9} {:>9} | {:>10} {:>6} {:>10} {:>9} | {:>10} {:>6} {:>10} {:>9}",
        "", "in win.", "entries", "ms/batch", "vs 2", "ckpt ms", "batch ms", "ms/batch", "vs 2", "ckpt ms", "batch ms"
    );
    let (inv0, plain0) = (med(0, 0, |m| m.mean_all), med(1, 0, |m| m.mean_all));
    for (li, &len) in lengths.iter().enumerate() {
        let entries: f64 =
            (FIRST_MEASURED..BATCHES).map(|i| panes[i + 1 - len..=i].iter().sum::<usize>() as f64).sum::<f64>()
                / (BATCHES - FIRST_MEASURED) as f64;
        let (inv, plain) = (med(0, li, |m| m.mean_all), med(1, li, |m| m.mean_all));
        println!(
            "{:>6} {:>9.0} {:>9.0} | {:>10.2} {:>5.2}x {:>10.2} {:>9.2} | {:>10.2} {:>5.2}x {:>10.2} {:>9.2}",
            len,
            med(0, li, |m| m.keys),
            entries,
            inv,
            inv / inv0,
            med(0, li, |m| m.mean_plain),
            med(0, li, |m| m.mean_ckpt),
            plain,
            plain / plain0,
            med(1, li, |m| m.mean_plain),
            med(1, li, |m| m.mean_ckpt),
        );
    }
    let flat = med(0, lengths.len() - 1, |m| m.mean_all) / inv0;
    println!();
    println!(
        "target: with the inverse, window 60 / window 2 <= 1.5x: {flat:.2}x ({})",
        if flat <= 1.5 { "met" } else { "missed" }
    );
}

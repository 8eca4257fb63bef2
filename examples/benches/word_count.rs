//! Word count throughput: the pipeline streamc compiles (the seed's word count, replayed over a
//! generated corpus, one file per batch) against a hand-written Rust loop over the same files
//! with the same hash map (hashbrown + foldhash), in one run, alternating, and prints the ratio.
//!
//! `cargo bench -p streamc-examples --bench word_count` (env: `STREAMC_BENCH_MB`, default 100;
//! `STREAMC_BENCH_RUNS`, default 5). The corpus is generated once into
//! `target/bench-corpus/zipf-<MB>m`: Zipf-like (s = 1) over a 100k-word vocabulary, lines of
//! 5..15 words separated by single spaces, deterministic seed — the same shape as
//! `../shared/corpus/gen_words.py`.

#[path = "common/mod.rs"]
mod common;

use common::{Rng, Zipf};
use foldhash::fast::FixedState;
use hashbrown::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use streamc_runtime::prelude::*;

const VOCAB: usize = 100_000;
pub(crate) const FILES: usize = 20;

pub(crate) fn corpus(mb: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-corpus").join(format!("zipf-{mb}m"));
    if dir.join("done").exists() {
        return dir;
    }
    eprintln!("generating a {mb} MB corpus in {} ...", dir.display());
    std::fs::create_dir_all(&dir).expect("create corpus dir");
    let mut rng = Rng(42);
    let zipf = Zipf::new(&mut rng, VOCAB);
    let per_file = mb * (1 << 20) / FILES;
    for f in 0..FILES {
        let mut text = String::with_capacity(per_file + 256);
        while text.len() < per_file {
            let n = 5 + (rng.next() % 11) as usize;
            for i in 0..n {
                if i > 0 {
                    text.push(' ');
                }
                text.push_str(zipf.sample(&mut rng));
            }
            text.push('\n');
        }
        std::fs::write(dir.join(format!("part-{f:05}.txt")), text).expect("write corpus");
    }
    std::fs::write(dir.join("done"), "").expect("write marker");
    dir
}

pub(crate) fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
}

/// The baseline: read each file, split lines on ' ', count per file in a hashbrown map with
/// foldhash (the same hash map and hasher the runtime uses), keyed by `&str` into the file.
pub(crate) fn hand_written(files: &[PathBuf]) -> (Duration, u64) {
    let start = Instant::now();
    let mut words = 0u64;
    for f in files {
        let text = std::fs::read_to_string(f).expect("read");
        let mut counts: HashMap<&str, i64, FixedState> = HashMap::with_hasher(FixedState::with_seed(1));
        for line in text.lines() {
            for w in line.split(' ') {
                *counts.entry(w).or_insert(0) += 1;
                words += 1;
            }
        }
        black_box(&counts);
    }
    (start.elapsed(), words)
}

/// The compiled pipeline: the seed's word count from `stream!`, replayed over the corpus.
pub(crate) fn compiled(dir: &Path) -> Duration {
    let app = stream! {
        app_name("bench_word_count");
        batch_interval(Seconds(1));
        let lines = socket_text_stream("localhost", 9999);
        let words = lines.flat_map(|line| java_split(line, " "));
        let pairs = words.map(|word| (word, 1i64));
        let word_counts = pairs.reduce_by_key(|a, b| a + b);
        word_counts.print();
    };
    let start = Instant::now();
    let handle = app.with_replay_all(dir).with_print_writer(std::io::sink()).start().expect("start");
    handle.await_termination().expect("run");
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: stay quick there.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let mb: usize = std::env::var("STREAMC_BENCH_MB").ok().and_then(|s| s.parse().ok()).unwrap_or(100);
    let runs: usize = std::env::var("STREAMC_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let dir = corpus(mb);
    let files = files(&dir);
    let (_, words) = hand_written(&files); // warm the page cache
    let mut base = Vec::new();
    let mut comp = Vec::new();
    for _ in 0..runs {
        base.push(hand_written(&files).0);
        comp.push(compiled(&dir));
    }
    let (b, c) = (median(base), median(comp));
    let rate = |d: Duration| words as f64 / d.as_secs_f64() / 1e6;
    println!("corpus: {mb} MB, {} files, {words} words, median of {runs} runs", files.len());
    println!("hand-written loop : {:>8.1} ms  {:>7.1} M words/s", b.as_secs_f64() * 1e3, rate(b));
    println!("streamc pipeline  : {:>8.1} ms  {:>7.1} M words/s", c.as_secs_f64() * 1e3, rate(c));
    println!("ratio (streamc / hand-written words/s): {:.2}x", b.as_secs_f64() / c.as_secs_f64());
}

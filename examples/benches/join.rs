//! Stream-stream join throughput: the pipeline streamc compiles for two JSON sources,
//! impressions `{adId, impressionTime}` and clicks `{adId, clickTime}`, each with a 5-minute
//! watermark, left-outer joined on the ad with a 10-minute range (`clickTime >= impressionTime AND
//! clickTime <= impressionTime + INTERVAL 10 MINUTES`), append mode, against a hand-written
//! symmetric hash join that shares no code with streamc: serde_json reads each line into a typed
//! struct, hashbrown maps (foldhash) hold each side's rows by ad with a matched flag, and the
//! watermarks, late drops, state eviction and NULL-padded rows are written out as Spark defines
//! them. Both build every output row (strings of the buffered side copied, as the pipeline's
//! rows own them) and count them; neither writes files or checkpoints. In one run, alternating;
//! prints input rows/s of both, the ratio, and the most rows the two states held at the end of a
//! batch (counted by the hand-written join).
//!
//! `cargo bench -p streamc-examples --bench join` (env: `STREAMC_BENCH_ROWS`, rows per source,
//! default 1 000 000; `STREAMC_BENCH_RUNS`, default 5). The corpus is generated once into
//! `target/bench-corpus/join-<rows>/{impressions,clicks}/` (20 files per source, 5 minutes of
//! event time each; 200 000 ads; each click follows a random impression by 0–12 minutes, so
//! some fall outside the range; 1 % of the rows of each file are 10–20 minutes late, behind the
//! watermark; deterministic seed).
//!
//! Under `cargo test` (`test = true` in Cargo.toml) only the agreement check runs, untimed, on
//! 20 000 rows per source: the pipeline and the hand-written join must emit the same rows.

#[path = "common/mod.rs"]
#[allow(dead_code)]
mod common;

use common::Rng;
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use streamc_runtime::prelude::*;

const FILES: usize = 20;
const FILE_SPAN_US: i64 = 5 * 60 * 1_000_000;
const ADS: u64 = 200_000;
const DELAY_US: i64 = 5 * 60 * 1_000_000;
const RANGE_US: i64 = 10 * 60 * 1_000_000;

/// Writes the corpus once (a marker beside the directory says it is complete).
fn corpus(rows: usize) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-corpus");
    let dir = root.join(format!("join-{rows}"));
    let done = root.join(format!("join-{rows}.done"));
    if done.exists() {
        return dir;
    }
    eprintln!("generating a join corpus of {rows} rows per source in {} ...", dir.display());
    let _ = std::fs::remove_dir_all(&dir);
    let (imp_dir, clk_dir) = (dir.join("impressions"), dir.join("clicks"));
    std::fs::create_dir_all(&imp_dir).unwrap();
    std::fs::create_dir_all(&clk_dir).unwrap();
    let mut rng = Rng(11);
    let t0 = 1_704_070_800_000_000i64; // 2024-01-01 01:00:00 (late rows stay on that day)
    let per_file = rows / FILES;
    let ts = |us: i64| {
        let s = us / 1_000_000;
        let rem = s.rem_euclid(86_400);
        format!("2024-01-01 {:02}:{:02}:{:02}", rem / 3600, rem / 60 % 60, rem % 60)
    };
    let mut recent: Vec<(u64, i64)> = Vec::new();
    for f in 0..FILES {
        let (mut imp, mut clk) = (String::new(), String::new());
        let start = t0 + f as i64 * FILE_SPAN_US;
        for i in 0..per_file {
            let mut t = start + (i as i64 * FILE_SPAN_US) / per_file as i64;
            if rng.next().is_multiple_of(100) {
                t -= 600_000_000 + (rng.next() % 600) as i64 * 1_000_000;
            }
            let ad = rng.next() % ADS;
            let _ = writeln!(imp, "{{\"adId\": \"ad{ad}\", \"impressionTime\": \"{}\"}}", ts(t));
            recent.push((ad, t));
        }
        // Clicks of this file's span: each follows a recent impression by 0–12 minutes.
        let keep = recent.len().saturating_sub(3 * per_file);
        recent.drain(..keep);
        for i in 0..per_file {
            let (ad, it) = recent[(rng.next() % recent.len() as u64) as usize];
            let mut t =
                (start + (i as i64 * FILE_SPAN_US) / per_file as i64).max(it + (rng.next() % 720) as i64 * 1_000_000);
            if rng.next().is_multiple_of(100) {
                t -= 600_000_000 + (rng.next() % 600) as i64 * 1_000_000;
            }
            let _ = writeln!(clk, "{{\"adId\": \"ad{ad}\", \"clickTime\": \"{}\"}}", ts(t));
        }
        std::fs::write(imp_dir.join(format!("part-{f:03}.json")), imp).unwrap();
        std::fs::write(clk_dir.join(format!("part-{f:03}.json")), clk).unwrap();
    }
    std::fs::write(&done, "").unwrap();
    dir
}

static ROWS_OUT: AtomicU64 = AtomicU64::new(0);
static NULL_ROWS: AtomicU64 = AtomicU64::new(0);

/// The compiled pipeline: the query of the module docs, its rows counted by `foreach_batch`.
fn compiled(dir: &Path) -> (Duration, u64, u64) {
    ROWS_OUT.store(0, Ordering::Relaxed);
    NULL_ROWS.store(0, Ordering::Relaxed);
    let app = stream! {
        app_name("join_bench");
        trigger(AvailableNow);
        let impressions = read_stream
            .json("unused")
            .schema("adId STRING, impressionTime TIMESTAMP")
            .max_files_per_trigger(1);
        let clicks = read_stream
            .json("unused")
            .schema("adId STRING, clickTime TIMESTAMP")
            .max_files_per_trigger(1);
        let click_rows = clicks
            .with_watermark("clickTime", "5 minutes")
            .select(["adId AS clickAdId", "clickTime"]);
        let joined = impressions
            .with_watermark("impressionTime", "5 minutes")
            .join(
                click_rows,
                expr("clickAdId = adId AND clickTime >= impressionTime AND clickTime <= impressionTime + INTERVAL 10 MINUTES"),
                "left_outer",
            );
        joined.write_stream().output_mode("append").foreach_batch(|_batch_id, rows| {
            ROWS_OUT.fetch_add(rows.len() as u64, Ordering::Relaxed);
            let nulls = rows.iter().filter(|r| r.clickTime.is_none()).count();
            NULL_ROWS.fetch_add(nulls as u64, Ordering::Relaxed);
        });
    };
    let start = Instant::now();
    let handle = app
        .with_replay("impressions", dir.join("impressions"))
        .with_replay("clicks", dir.join("clicks"))
        .with_print_writer(std::io::sink())
        .start()
        .expect("start");
    handle.await_termination().expect("run");
    (start.elapsed(), ROWS_OUT.load(Ordering::Relaxed), NULL_ROWS.load(Ordering::Relaxed))
}

#[derive(serde::Deserialize)]
struct Impression<'a> {
    #[serde(borrow, rename = "adId")]
    ad: std::borrow::Cow<'a, str>,
    #[serde(borrow, rename = "impressionTime")]
    time: std::borrow::Cow<'a, str>,
}

#[derive(serde::Deserialize)]
struct Click<'a> {
    #[serde(borrow, rename = "adId")]
    ad: std::borrow::Cow<'a, str>,
    #[serde(borrow, rename = "clickTime")]
    time: std::borrow::Cow<'a, str>,
}

type Map<K, V> = hashbrown::HashMap<K, V, foldhash::fast::FixedState>;

/// An output row: impression ad and time, click ad and time (NULL-padded: `None`).
type Joined<'a> = (std::borrow::Cow<'a, str>, i64, Option<String>, Option<i64>);

/// A buffered row: (ad, event time µs, matched).
type Buffered = Vec<(String, i64, bool)>;

/// The hand-written symmetric hash join (see the module docs). Returns the time, the rows out,
/// the NULL-padded rows among them and the largest number of rows both states held.
fn hand_written(dir: &Path) -> (Duration, u64, u64, usize) {
    let start = Instant::now();
    let files = |side: &str| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join(side)).unwrap().map(|e| e.unwrap().path()).collect();
        v.sort();
        v
    };
    let (imp_files, clk_files) = (files("impressions"), files("clicks"));
    let mut left: Map<String, Buffered> = Map::default();
    let mut right: Map<String, Buffered> = Map::default();
    let (mut left_rows, mut right_rows) = (0usize, 0usize);
    // Per input: the max event time seen; the query's watermark is their minimum (inputs that
    // have seen nothing hold it at 0), the late check uses the previous batch's.
    let (mut max_l, mut max_r) = (None::<i64>, None::<i64>);
    let (mut own_l, mut own_r) = (0i64, 0i64);
    let (mut wm, mut late) = (0i64, 0i64);
    let (mut out, mut nulls, mut peak) = (0u64, 0u64, 0usize);
    let batches = imp_files.len().max(clk_files.len());
    let mut b = 0;
    loop {
        let imp_text = imp_files.get(b).map(|f| std::fs::read_to_string(f).unwrap()).unwrap_or_default();
        let clk_text = clk_files.get(b).map(|f| std::fs::read_to_string(f).unwrap()).unwrap_or_default();
        // State watermarks (ms, Spark's rounding): impressions go when impressionTime <
        // wm - range, clicks when clickTime < wm.
        let left_bound_us = ((wm - RANGE_US) / 1000 - 1) * 1000;
        let right_bound_us = (wm / 1000 - 1) * 1000;
        let mut rows: Vec<Joined<'_>> = Vec::new();
        for line in imp_text.lines() {
            let Ok(e) = serde_json::from_str::<Impression<'_>>(line) else { continue };
            let Some(t) = common::timestamp_us(&e.time) else { continue };
            max_l = Some(max_l.map_or(t, |m| m.max(t)));
            if t <= late {
                continue;
            }
            let mut any = false;
            if let Some(cs) = right.get_mut(&*e.ad) {
                for (ad, ct, matched) in cs.iter_mut() {
                    if *ct >= t && *ct <= t + RANGE_US {
                        *matched = true;
                        any = true;
                        rows.push((e.ad.clone(), t, Some(ad.clone()), Some(*ct)));
                    }
                }
            }
            if t > left_bound_us {
                left.entry(e.ad.to_string()).or_default().push((e.ad.to_string(), t, any));
                left_rows += 1;
            } else if !any {
                rows.push((e.ad.clone(), t, None, None));
            }
        }
        for line in clk_text.lines() {
            let Ok(e) = serde_json::from_str::<Click<'_>>(line) else { continue };
            let Some(t) = common::timestamp_us(&e.time) else { continue };
            max_r = Some(max_r.map_or(t, |m| m.max(t)));
            if t <= late {
                continue;
            }
            let mut any = false;
            if let Some(is) = left.get_mut(&*e.ad) {
                for (ad, it, matched) in is.iter_mut() {
                    if t >= *it && t <= *it + RANGE_US {
                        *matched = true;
                        any = true;
                        rows.push((std::borrow::Cow::Owned(ad.clone()), *it, Some(e.ad.to_string()), Some(t)));
                    }
                }
            }
            if t > right_bound_us {
                right.entry(e.ad.to_string()).or_default().push((e.ad.to_string(), t, any));
                right_rows += 1;
            }
        }
        // Eviction: unmatched impressions come out NULL-padded.
        left.retain(|_, v| {
            v.retain(|(ad, it, matched)| {
                if *it <= left_bound_us {
                    if !*matched {
                        rows.push((std::borrow::Cow::Owned(ad.clone()), *it, None, None));
                    }
                    left_rows -= 1;
                    false
                } else {
                    true
                }
            });
            !v.is_empty()
        });
        right.retain(|_, v| {
            v.retain(|(_, ct, _)| {
                let keep = *ct > right_bound_us;
                if !keep {
                    right_rows -= 1;
                }
                keep
            });
            !v.is_empty()
        });
        out += rows.len() as u64;
        nulls += rows.iter().filter(|r| r.3.is_none()).count() as u64;
        black_box(&rows);
        peak = peak.max(left_rows + right_rows);
        // The next watermark: each input's own, then their minimum.
        late = wm;
        if let Some(m) = max_l.take() {
            own_l = own_l.max(m - DELAY_US);
        }
        if let Some(m) = max_r.take() {
            own_r = own_r.max(m - DELAY_US);
        }
        let next = own_l.min(own_r).max(wm);
        let moved = next != wm;
        wm = next;
        b += 1;
        // After the input, one batch without data when the watermark moved (as the replay).
        if b >= batches && !(moved && b == batches) {
            break;
        }
    }
    (start.elapsed(), out, nulls, peak)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    if !bench || std::env::args().any(|a| a == "--test") {
        let dir = corpus(20_000);
        let (_, rows, nulls, _) = hand_written(&dir);
        let (_, c_rows, c_nulls) = compiled(&dir);
        assert!(rows > 1000 && nulls > 100, "too little output: {rows} rows, {nulls} NULL-padded");
        assert_eq!((c_rows, c_nulls), (rows, nulls), "the pipeline and the hand-written join disagree");
        return;
    }
    let n: usize = std::env::var("STREAMC_BENCH_ROWS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let runs: usize = std::env::var("STREAMC_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let dir = corpus(n);
    let (_, rows, nulls, peak) = hand_written(&dir); // warms the page cache
    let (_, c_rows, c_nulls) = compiled(&dir);
    assert_eq!((c_rows, c_nulls), (rows, nulls), "the pipeline and the hand-written join disagree");
    let (mut base, mut comp) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        base.push(hand_written(&dir).0);
        comp.push(compiled(&dir).0);
    }
    let (b, c) = (common::median(base), common::median(comp));
    let rate = |d: Duration| (2 * n) as f64 / d.as_secs_f64() / 1e6;
    println!(
        "corpus: {n} impressions + {n} clicks in {FILES} batches each; {rows} rows out ({nulls} NULL-padded); \
         at most {peak} rows in the join's state; median of {runs} runs"
    );
    println!("hand-written hash join: {:>8.1} ms  {:>6.2} M input rows/s", b.as_secs_f64() * 1e3, rate(b));
    println!("streamc pipeline      : {:>8.1} ms  {:>6.2} M input rows/s", c.as_secs_f64() * 1e3, rate(c));
    println!("ratio (streamc / hand-written rows/s): {:.2}x", b.as_secs_f64() / c.as_secs_f64());
}

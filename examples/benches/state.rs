//! Keyed state over 1 M keys: memory per key and the cost of a checkpoint, for `map_with_state`
//! (and `update_state_by_key` for comparison), in one run; and the checkpoint of a Structured
//! aggregation's state of 1 M groups.
//!
//! `cargo bench -p streamc-examples --bench state` (env: `STREAMC_BENCH_RUNS`, default 3, for
//! the direct timings). The corpus is generated once into `target/bench-corpus/state-1m`: 22
//! files (one per batch) of 100 000 lines, one key per line; files 0..10 insert the keys
//! `k0`..`k999999` (100 000 new keys each), files 10..22 each touch a tenth of them (the keys
//! `k<j>` with `j % 10 == file % 10`).
//!
//! Two measurements:
//!
//! * **Pipeline**: the running count written with `stream!` (`map((key, 1))` then
//!   `map_with_state` or `update_state_by_key`), replayed over the corpus with a checkpoint
//!   directory, so that batches 10 and 20 (times 10 s and 20 s, Spark's default interval for
//!   both operators with a 1 s batch) write a checkpoint of the whole state. A `foreach_batch`
//!   output records per batch `Instant::now()`, the live heap bytes and the process RSS. The gap
//!   between two stamps is one batch; the gap after a checkpoint batch also holds its checkpoint
//!   (`save` of the state, encoding with the checksum, write, fsync, rename).
//! * **Direct**: the runtime's state types (`streamc_runtime::state::MapWithState`,
//!   `UpdateState`) filled with the same 1 M keys outside any app; live heap before and after,
//!   and the time of `Checkpointed::save`, of what `Checkpoint::encode` does with the saved
//!   bytes (a copy and the xxHash3 checksum, `checkpoint::checksum`), and of writing the file with
//!   an fsync.
//!
//! Memory is counted by a counting global allocator in this binary (bytes requested from the
//! system allocator and not yet freed: exact, but without the allocator's own per-block
//! overhead), and also read as RSS from `/proc/self/status` (`VmRSS`: what the process really
//! holds, allocator overhead and freed-but-kept memory included).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use streamc_runtime::checkpoint::checksum;
use streamc_runtime::persist::Checkpointed;
use streamc_runtime::prelude::*;
use streamc_runtime::state::{KeyedGroup, MapWithState, UpdateState};
use streamc_runtime::{BatchInput, BatchOutput};

/// Counts the bytes currently allocated through the global allocator.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` with the caller's arguments, so `System`'s
// guarantees hold; the counter is only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl).
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl).
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl).
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// The resident set size in bytes (`VmRSS` of `/proc/self/status`), 0 if unavailable.
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .map_or(0, |kb| kb * 1024)
}

pub(crate) const KEYS: usize = 1_000_000;
const INSERT_BATCHES: usize = 10;
const TOUCH_BATCHES: usize = 12;
const BATCHES: usize = INSERT_BATCHES + TOUCH_BATCHES;
pub(crate) const PER_BATCH: usize = KEYS / INSERT_BATCHES;
/// Batches 10 and 20 (times 10 s and 20 s) are checkpoint batches: gaps 10 and 20 hold their
/// checkpoints (gap `i` ends with batch index `i`, and batch index `i - 1` has time `i` s).
const CHECKPOINT_GAPS: [usize; 2] = [10, 20];

/// The corpus directory: the batch files are in `batches/`, and a `done` marker next to it.
pub(crate) fn corpus() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-corpus/state-1m");
    let dir = root.join("batches");
    if root.join("done").exists() {
        return dir;
    }
    eprintln!("generating {BATCHES} batches of {PER_BATCH} keys in {} ...", dir.display());
    std::fs::create_dir_all(&dir).expect("create corpus dir");
    for f in 0..BATCHES {
        let keys: Box<dyn Iterator<Item = usize>> = if f < INSERT_BATCHES {
            Box::new(f * PER_BATCH..(f + 1) * PER_BATCH)
        } else {
            Box::new((f % 10..KEYS).step_by(10))
        };
        let mut text = String::new();
        for k in keys {
            text.push_str(&format!("k{k}\n"));
        }
        std::fs::write(dir.join(format!("part-{f:05}.txt")), text).expect("write corpus");
    }
    std::fs::write(root.join("done"), "").expect("write marker");
    dir
}

/// What a `foreach_batch` saw: when, the live heap, the RSS, the records.
#[derive(Clone, Copy)]
pub(crate) struct Sample {
    at: Instant,
    heap: usize,
    rss: usize,
    records: usize,
}

impl Sample {
    fn now(records: usize) -> Self {
        Sample { at: Instant::now(), heap: live(), rss: rss(), records }
    }
}

pub(crate) type Samples = Arc<Mutex<Vec<Sample>>>;

pub(crate) fn map_with_state_app(
    samples: &Samples,
) -> App<impl FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + use<>> {
    let samples = Arc::clone(samples);
    stream! {
        app_name("bench_state");
        batch_interval(Seconds(1));
        checkpoint("target/bench-tmp/state-checkpoint");
        let lines = socket_text_stream("localhost", 9999);
        let pairs = lines.map(|key| (key, 1i64));
        let counts = pairs.map_with_state(
            StateSpec::function(|key: &String, one: Option<i64>, state: &mut State<i64>| {
                let sum = one.unwrap_or(0) + state.get_option().unwrap_or(0);
                state.update(sum);
                (key.clone(), sum)
            })
        );
        counts.foreach_batch(|_time_ms, records| samples.lock().expect("samples").push(Sample::now(records.len())));
    }
}

fn update_state_app(samples: &Samples) -> App<impl FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + use<>> {
    let samples = Arc::clone(samples);
    stream! {
        app_name("bench_state");
        batch_interval(Seconds(1));
        checkpoint("target/bench-tmp/state-checkpoint");
        let lines = socket_text_stream("localhost", 9999);
        let pairs = lines.map(|key| (key, 1i64));
        let counts = pairs.update_state_by_key(|values: &[i64], state: Option<i64>| {
            Some(values.iter().sum::<i64>() + state.unwrap_or(0))
        });
        counts.foreach_batch(|_time_ms, records| samples.lock().expect("samples").push(Sample::now(records.len())));
    }
}

/// What one pipeline run measured.
pub(crate) struct PipelineResult {
    /// Live heap and RSS growth per key, from batch 0 (100 k keys) to batch 9 (1 M keys), both
    /// sampled in the batch's `foreach_batch`, so the batch's own buffers cancel out.
    pub(crate) heap_per_key: f64,
    pub(crate) rss_per_key: f64,
    /// Live heap at batch 9 minus before the start, per key: state plus the batch's buffers.
    pub(crate) heap_abs_per_key: f64,
    /// Median gap of the touch batches that follow no checkpoint.
    pub(crate) touch_ms: f64,
    /// Mean of the two gaps that hold a checkpoint of the 1 M-key state.
    pub(crate) ckpt_gap_ms: f64,
    /// Mean gap of the insert batches 1..10.
    pub(crate) insert_ms: f64,
    /// The largest checkpoint file written.
    pub(crate) ckpt_bytes: u64,
    pub(crate) records_touch: usize,
}

pub(crate) fn run_pipeline<F>(app: App<F>, corpus: &Path, ckpt: &Path, samples: &Samples) -> PipelineResult
where
    F: FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send + 'static,
{
    // A checkpoint left in the directory would be resumed from.
    let _ = std::fs::remove_dir_all(ckpt);
    let before = live();
    app.with_replay_all(corpus).with_checkpoint_dir(ckpt).start().expect("start").await_termination().expect("run");
    let ckpt_bytes = std::fs::read_dir(ckpt)
        .expect("checkpoint dir")
        .filter_map(|e| e.ok()?.metadata().ok().map(|m| m.len()))
        .max()
        .unwrap_or(0);
    let _ = std::fs::remove_dir_all(ckpt);
    let s = std::mem::take(&mut *samples.lock().expect("samples"));
    assert_eq!(s.len(), BATCHES, "one foreach_batch per batch");
    let gap = |i: usize| (s[i].at - s[i - 1].at).as_secs_f64() * 1e3;
    let mut touch: Vec<f64> = (INSERT_BATCHES + 1..BATCHES).filter(|i| !CHECKPOINT_GAPS.contains(i)).map(gap).collect();
    touch.sort_by(f64::total_cmp);
    let grown = (KEYS - PER_BATCH) as f64;
    let last_insert = INSERT_BATCHES - 1;
    PipelineResult {
        heap_per_key: (s[last_insert].heap as f64 - s[0].heap as f64) / grown,
        rss_per_key: (s[last_insert].rss as f64 - s[0].rss as f64) / grown,
        heap_abs_per_key: (s[last_insert].heap as f64 - before as f64) / KEYS as f64,
        touch_ms: touch[touch.len() / 2],
        ckpt_gap_ms: CHECKPOINT_GAPS.iter().map(|&i| gap(i)).sum::<f64>() / CHECKPOINT_GAPS.len() as f64,
        insert_ms: (1..INSERT_BATCHES).map(gap).sum::<f64>() / (INSERT_BATCHES - 1) as f64,
        ckpt_bytes,
        records_touch: s[BATCHES - 1].records,
    }
}

/// The keys `k0`..`k999999`, one per line, in one string (allocated before any measurement).
pub(crate) fn key_text() -> String {
    let mut text = String::with_capacity(KEYS * 8);
    for k in 0..KEYS {
        text.push_str(&format!("k{k}\n"));
    }
    text
}

/// What the direct measurement of one state type found.
pub(crate) struct Direct {
    pub(crate) heap_per_key: f64,
    pub(crate) rss_per_key: f64,
    pub(crate) fill_ms: f64,
    pub(crate) save_ms: f64,
    pub(crate) encode_ms: f64,
    /// Writing the encoded file and `sync_all` (what `checkpoint::write` does before its rename
    /// and directory fsync).
    pub(crate) write_ms: f64,
    pub(crate) bytes: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Times `save`, the encoding (copy + checksum), and writing the file with an fsync, of `state` (`runs`
/// times each, median).
fn time_checkpoint(state: &impl Checkpointed, runs: usize, scratch: &Path) -> (f64, f64, f64, usize) {
    let (mut saves, mut encodes, mut writes, mut bytes) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for _ in 0..runs {
        let t = Instant::now();
        // As `BatchOutput::save_state` does: a fresh vector per save.
        let mut out = Vec::new();
        state.save(&mut out);
        saves.push(t.elapsed().as_secs_f64() * 1e3);
        bytes = out.len();
        // What `Checkpoint::encode` does with a state's bytes: copy them into the file's buffer
        // (after a few header bytes) and checksum the whole buffer.
        let t = Instant::now();
        let mut file = Vec::with_capacity(out.len() + 128);
        file.extend_from_slice(b"SCCKPT\r\n");
        file.extend_from_slice(&out);
        let sum = checksum(&file);
        file.extend_from_slice(&sum.to_le_bytes());
        encodes.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        std::fs::create_dir_all(scratch).expect("scratch dir");
        let path = scratch.join("checkpoint.tmp");
        let mut f = std::fs::File::create(&path).expect("create");
        f.write_all(&file).expect("write");
        f.sync_all().expect("fsync");
        writes.push(t.elapsed().as_secs_f64() * 1e3);
        let _ = std::fs::remove_dir_all(scratch);
    }
    (median(saves), median(encodes), median(writes), bytes)
}

pub(crate) fn direct_map_with_state(text: &str, runs: usize, scratch: &Path) -> Direct {
    let (heap0, rss0) = (live(), rss());
    let t = Instant::now();
    let mut state = MapWithState::<String, i64>::new(None);
    let mut f = |_: &String, one: Option<i64>, s: &mut State<i64>| {
        let sum = one.unwrap_or(0) + s.get_option().unwrap_or(0);
        s.update(sum);
    };
    for key in text.lines() {
        state.call(key, 1i64, 1000, &mut f);
    }
    let fill_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(state.len(), KEYS);
    let (heap, rss) = ((live() - heap0) as f64 / KEYS as f64, (rss() as f64 - rss0 as f64) / KEYS as f64);
    let (save_ms, encode_ms, write_ms, bytes) = time_checkpoint(&state, runs, scratch);
    Direct { heap_per_key: heap, rss_per_key: rss, fill_ms, save_ms, encode_ms, write_ms, bytes }
}

fn direct_update_state(text: &str, runs: usize, scratch: &Path) -> Direct {
    let (heap0, rss0) = (live(), rss());
    let t = Instant::now();
    let mut state = UpdateState::<String, i64>::new();
    let mut group = KeyedGroup::new();
    for key in text.lines() {
        group.push(key, 1i64);
    }
    state.update(group, &mut |vs: &[i64], s: Option<i64>| Some(vs.iter().sum::<i64>() + s.unwrap_or(0)));
    let fill_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(state.len(), KEYS);
    let (heap, rss) = ((live() - heap0) as f64 / KEYS as f64, (rss() as f64 - rss0 as f64) / KEYS as f64);
    let (save_ms, encode_ms, write_ms, bytes) = time_checkpoint(&state, runs, scratch);
    Direct { heap_per_key: heap, rss_per_key: rss, fill_ms, save_ms, encode_ms, write_ms, bytes }
}

/// A Structured aggregation's state of 1 M groups (issue 17: its checkpoint in ≤ 100 ms): the
/// windowed count's shape, `StreamingAgg<(Timestamp, Timestamp, String), i64>`, 1 M words in
/// one window.
fn direct_streaming_agg(text: &str, runs: usize, scratch: &Path) -> Direct {
    use streamc_runtime::structured::agg::StreamingAgg;
    use streamc_runtime::structured::time::Timestamp;
    let (heap0, rss0) = (live(), rss());
    let t = Instant::now();
    let mut state = StreamingAgg::<(Timestamp, Timestamp, String), i64>::new();
    let (ws, we) = (Timestamp(0), Timestamp(600_000_000));
    for key in text.lines() {
        state.update((ws, we, key), |c| *c += 1, || 0);
    }
    let fill_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(state.len(), KEYS);
    let (heap, rss) = ((live() - heap0) as f64 / KEYS as f64, (rss() as f64 - rss0 as f64) / KEYS as f64);
    let (save_ms, encode_ms, write_ms, bytes) = time_checkpoint(&state, runs, scratch);
    Direct { heap_per_key: heap, rss_per_key: rss, fill_ms, save_ms, encode_ms, write_ms, bytes }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: stay quick there.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runs: usize = std::env::var("STREAMC_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let started = Instant::now();
    let dir = corpus();
    let ckpt = std::env::temp_dir().join(format!("streamc-bench-state-{}", std::process::id()));
    let samples: Samples = Arc::default();

    let mws = run_pipeline(map_with_state_app(&samples), &dir, &ckpt, &samples);
    let usk = run_pipeline(update_state_app(&samples), &dir, &ckpt, &samples);
    let text = key_text();
    let d_mws = direct_map_with_state(&text, runs, &ckpt);
    let d_usk = direct_update_state(&text, runs, &ckpt);
    let d_agg = direct_streaming_agg(&text, runs, &ckpt);
    let elapsed: Duration = started.elapsed();

    println!(
        "{KEYS} keys: {INSERT_BATCHES} batches inserting {PER_BATCH} keys each, then {TOUCH_BATCHES} batches \
         touching {PER_BATCH} of them; checkpoints after batches 10 and 20 ({:.0} s)",
        elapsed.as_secs_f64()
    );
    println!();
    println!("pipeline (stream!, replay)          {:>16} {:>20}", "map_with_state", "update_state_by_key");
    let row = |name: &str, a: String, b: String| println!("{name:<36}{a:>16} {b:>20}");
    let f1 = |x: f64| format!("{x:.1}");
    let f2 = |x: f64| format!("{x:.2}");
    row("heap bytes/key (slope 100k..1M)", f1(mws.heap_per_key), f1(usk.heap_per_key));
    row("RSS bytes/key (slope 100k..1M)", f1(mws.rss_per_key), f1(usk.rss_per_key));
    row("heap bytes/key (abs., with batch)", f1(mws.heap_abs_per_key), f1(usk.heap_abs_per_key));
    row("insert batch, 100k new keys (ms)", f2(mws.insert_ms), f2(usk.insert_ms));
    row("touch batch, 100k of 1M keys (ms)", f2(mws.touch_ms), f2(usk.touch_ms));
    row("  its output records", mws.records_touch.to_string(), usk.records_touch.to_string());
    row("touch batch + checkpoint (ms)", f2(mws.ckpt_gap_ms), f2(usk.ckpt_gap_ms));
    row("  checkpoint alone (difference, ms)", f2(mws.ckpt_gap_ms - mws.touch_ms), f2(usk.ckpt_gap_ms - usk.touch_ms));
    row("checkpoint file (MB)", f2(mws.ckpt_bytes as f64 / 1e6), f2(usk.ckpt_bytes as f64 / 1e6));
    println!();
    println!("direct (state type, 1M keys)        {:>16} {:>20}", "MapWithState", "UpdateState");
    row("heap bytes/key", f1(d_mws.heap_per_key), f1(d_usk.heap_per_key));
    row("RSS bytes/key", f1(d_mws.rss_per_key), f1(d_usk.rss_per_key));
    row("fill 1M keys (ms)", f1(d_mws.fill_ms), f1(d_usk.fill_ms));
    row(&format!("Checkpointed::save (ms, median of {runs})"), f2(d_mws.save_ms), f2(d_usk.save_ms));
    row("encode: copy + xxHash3 (ms)", f2(d_mws.encode_ms), f2(d_usk.encode_ms));
    row("write + fsync of the file (ms)", f2(d_mws.write_ms), f2(d_usk.write_ms));
    row("saved state (MB)", f2(d_mws.bytes as f64 / 1e6), f2(d_usk.bytes as f64 / 1e6));
    println!();
    let total = d_agg.save_ms + d_agg.encode_ms + d_agg.write_ms;
    println!(
        "Structured aggregation, 1M groups (StreamingAgg<(Timestamp, Timestamp, String), i64>): \
         heap {:.1} B/group, save {:.2} ms + encode {:.2} ms + write and fsync {:.2} ms = {total:.1} ms \
         for {:.2} MB (target <= 100 ms: {})",
        d_agg.heap_per_key,
        d_agg.save_ms,
        d_agg.encode_ms,
        d_agg.write_ms,
        d_agg.bytes as f64 / 1e6,
        if total <= 100.0 { "met" } else { "missed" }
    );
}

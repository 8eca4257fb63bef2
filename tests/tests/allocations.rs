//! Allocations per batch do not grow with records (issue 18): a counting global allocator
//! measures every batch of compiled `stream!` pipelines in steady state; a batch of ten times
//! the records over the same keys must allocate about as much as the smaller one (what grows is
//! a per-record allocation, which the design rules out).

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use streamc_runtime::prelude::*;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The allocations of this thread alone (a test that measures its own thread is not
    /// disturbed by the harness or by threads another test left finishing).
    static ON_THIS_THREAD: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn count() {
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    let _ = ON_THIS_THREAD.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is `System.dealloc`'s.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller's contract is `System.realloc`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// The allocation counter after each batch, recorded by the pipelines' `foreach_batch`.
static AFTER: Mutex<Vec<u64>> = Mutex::new(Vec::new());

fn record() {
    let n = ALLOCATIONS.load(Ordering::Relaxed);
    AFTER.lock().unwrap().push(n);
}

/// One tests at a time: the counter is process-wide.
static ONE: Mutex<()> = Mutex::new(());

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/streamc-tests/allocations").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Batches of `lines(k)` lines each: five of `n` lines (warm-up, then the measured one), one of
/// `10 n`, and one more of `n`; every batch uses the same 200 keys.
fn write_batches(dir: &Path, n: usize, line: impl Fn(usize) -> String) {
    for (b, size) in [n, n, n, n, n, 10 * n, n].into_iter().enumerate() {
        let mut text = String::new();
        for i in 0..size {
            text.push_str(&line(i));
            text.push('\n');
        }
        std::fs::write(dir.join(format!("batch-{b:03}.txt")), text).unwrap();
    }
}

/// Allocations of each batch: the differences between consecutive records.
fn per_batch() -> Vec<u64> {
    let after = std::mem::take(&mut *AFTER.lock().unwrap());
    after.windows(2).map(|w| w[1] - w[0]).collect()
}

/// The batch of ten times the records allocates at most `slack` more than the one before it.
fn assert_flat(what: &str, allocs: &[u64], slack: u64) {
    eprintln!("{what}: allocations per batch {allocs:?}");
    let (small, big) = (allocs[4], allocs[5]);
    assert!(big <= small + slack, "{what}: {small} allocations for n records, {big} for 10 n: {allocs:?}");
}

#[test]
fn structured_aggregation_allocates_per_batch_not_per_record() {
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("structured");
    // 600 distinct (window, word) groups: minutes i % 60 in 10-minute windows, words i % 200.
    write_batches(&dir, 2000, |i| {
        format!("{{\"timestamp\": \"2024-03-01 09:{:02}:00\", \"word\": \"w{}\"}}", i % 60, i % 200)
    });
    let app = || {
        stream! {
            app_name("allocations_structured");
            trigger(AvailableNow);
            let events = read_stream.json("/tmp/streamc-never-created/allocations").schema("timestamp TIMESTAMP, word STRING");
            let counts = events.with_watermark("timestamp", "10 minutes").group_by(["window(timestamp, '10 minutes')", "word"]).count();
            counts.write_stream().output_mode("update").foreach_batch(|_batch_id, _rows| record());
        }
    };
    AFTER.lock().unwrap().clear();
    record();
    app()
        .with_replay_all(&dir)
        .with_print_writer(std::io::sink())
        .with_workers(1)
        .start()
        .unwrap()
        .await_termination()
        .unwrap();
    assert_flat("structured", &per_batch(), 16);
    // On 2 workers the batch of 10 n records (over 1 MiB) is split: each part's partial state
    // copies each group it meets once, so the batch allocates per group and part (at most
    // 2 × 600 more), not per record (20 000).
    AFTER.lock().unwrap().clear();
    record();
    app()
        .with_replay_all(&dir)
        .with_print_writer(std::io::sink())
        .with_workers(2)
        .start()
        .unwrap()
        .await_termination()
        .unwrap();
    assert_flat("structured on 2 workers", &per_batch(), 2 * 600 + 64);
}

#[test]
fn dstream_word_counts_allocate_per_batch_not_per_record() {
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("dstream");
    write_batches(&dir, 2000, |i| format!("w{} w{} w{}", i % 200, (i * 7) % 200, (i * 13) % 200));
    let app = stream! {
        app_name("allocations_word_count");
        batch_interval(Seconds(1));
        let lines = socket_text_stream("localhost", 9);
        let words = lines.flat_map(|line| java_split(line, " "));
        let pairs = words.map(|word| (word, 1i64));
        let counts = pairs.reduce_by_key(|a, b| a + b);
        counts.foreach_batch(|_time_ms, _records| record());
    };
    AFTER.lock().unwrap().clear();
    record();
    app.with_replay_all(&dir).with_print_writer(std::io::sink()).start().unwrap().await_termination().unwrap();
    assert_flat("word count", &per_batch(), 16);
}

#[test]
fn dstream_windowed_counts_allocate_per_batch_not_per_record() {
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("windowed");
    write_batches(&dir, 2000, |i| format!("w{} w{}", i % 200, (i * 7) % 200));
    let app = stream! {
        app_name("allocations_windowed");
        batch_interval(Seconds(1));
        let lines = socket_text_stream("localhost", 9);
        let words = lines.flat_map(|line| java_split(line, " "));
        let pairs = words.map(|word| (word, 1i64));
        let counts = pairs.reduce_by_key_and_window(|a, b| a + b, Seconds(3), Seconds(1));
        counts.foreach_batch(|_time_ms, _records| record());
    };
    AFTER.lock().unwrap().clear();
    record();
    app.with_replay_all(&dir).with_print_writer(std::io::sink()).start().unwrap().await_termination().unwrap();
    assert_flat("windowed count", &per_batch(), 16);
}

#[test]
fn string_extremes_allocate_per_batch_not_per_record() {
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("extremes");
    write_batches(&dir, 2000, |i| format!("{{\"n\": {}, \"word\": \"w{}\"}}", i % 20, i % 200));
    let app = stream! {
        app_name("allocations_extremes");
        trigger(AvailableNow);
        let events = read_stream.json("/tmp/streamc-never-created/allocations").schema("n BIGINT, word STRING");
        let extremes = events.group_by(["n"]).agg(["min(word) AS lo", "max(word) AS hi"]);
        extremes.write_stream().output_mode("update").foreach_batch(|_batch_id, _rows| record());
    };
    AFTER.lock().unwrap().clear();
    record();
    app.with_replay_all(&dir).with_print_writer(std::io::sink()).start().unwrap().await_termination().unwrap();
    assert_flat("min/max of strings", &per_batch(), 16);
}

/// Batches whose lines are `line(i)` for `i` in `0..sizes[b]`.
fn write_sized(dir: &Path, sizes: &[usize], line: impl Fn(usize) -> String) {
    for (b, &size) in sizes.iter().enumerate() {
        let text: String = (0..size).map(|i| line(i) + "\n").collect();
        std::fs::write(dir.join(format!("batch-{b:03}.txt")), text).unwrap();
    }
}

#[test]
fn update_state_allocates_per_batch_not_per_key() {
    // Every key's state is the batch's output; it is read in place, not copied per key.
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("update_state");
    // 5000 keys, then small batches over 10 of them: the state stays at 5000 keys.
    write_sized(&dir, &[5000, 10, 10, 10, 10], |i| format!("k{i}"));
    let app = stream! {
        app_name("allocations_update_state");
        batch_interval(Seconds(1));
        checkpoint("/tmp/streamc-never-created/allocations-update-state");
        let lines = socket_text_stream("localhost", 9);
        let pairs = lines.map(|k| (k, 1i64));
        let totals = pairs.update_state_by_key(|vs: &[i64], s: Option<i64>| Some(s.unwrap_or(0) + vs.iter().sum::<i64>()));
        totals.foreach_batch(|_time_ms, _records| record());
    };
    AFTER.lock().unwrap().clear();
    record();
    app.with_replay_all(&dir).with_print_writer(std::io::sink()).start().unwrap().await_termination().unwrap();
    let allocs = per_batch();
    eprintln!("update_state: allocations per batch {allocs:?}");
    // A copy of every key would be 5000 allocations a batch.
    assert!(allocs[2..].iter().all(|&n| n < 500), "allocations grow with the keys in state: {allocs:?}");
}

#[test]
fn windowed_lines_split_allocate_per_batch_not_per_record() {
    // `window` hands its lines on borrowed, so their words are borrowed too.
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("window_split");
    write_batches(&dir, 2000, |i| format!("w{} w{}", i % 200, (i * 7) % 200));
    let app = stream! {
        app_name("allocations_window_split");
        batch_interval(Seconds(1));
        let lines = socket_text_stream("localhost", 9);
        let recent = lines.window(Seconds(1), Seconds(1));
        let words = recent.flat_map(|line| java_split(line, " "));
        let counts = words.count_by_value();
        counts.foreach_batch(|_time_ms, _records| record());
    };
    AFTER.lock().unwrap().clear();
    record();
    app.with_replay_all(&dir).with_print_writer(std::io::sink()).start().unwrap().await_termination().unwrap();
    // A window keeps its lines: one copy of each line entering it, and none per word or slide.
    let allocs = per_batch();
    eprintln!("window then split: allocations per batch {allocs:?}");
    assert!(allocs[5] <= allocs[4] + 10 * 2000, "more than a copy per line entering the window: {allocs:?}");
    assert!(allocs[5] < 2 * 10 * 2000, "a copy per word: {allocs:?}");
}

#[test]
fn non_aggregating_rows_allocate_per_batch_not_per_record() {
    // The rows of a query without aggregation borrow their strings from the batch.
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("projection");
    write_batches(&dir, 2000, |i| {
        format!("{{\"n\": {}, \"word\": \"w{}\", \"tag\": \"t{}\"}}", i % 20, i % 200, i % 7)
    });
    let app = stream! {
        app_name("allocations_projection");
        trigger(AvailableNow);
        let events = read_stream.json("/tmp/streamc-never-created/allocations").schema("n BIGINT, word STRING, tag STRING");
        let picked = events.where_("n > 0").select(["word", "tag", "n + 1 AS m"]);
        picked.write_stream().output_mode("append").foreach_batch(|_batch_id, _rows| record());
    };
    AFTER.lock().unwrap().clear();
    record();
    app.with_replay_all(&dir).with_print_writer(std::io::sink()).start().unwrap().await_termination().unwrap();
    assert_flat("non-aggregating rows", &per_batch(), 16);
}

#[test]
fn five_functions_in_a_select_list_allocate_per_batch_not_per_record() {
    // Issue 12: functions that build no new string (lengths, arithmetic, a substring and a
    // coalesce that borrow from the batch, a CASE of literals) cost no allocation per row.
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("five_functions");
    write_batches(&dir, 2000, |i| {
        format!(
            "{{\"n\": {}, \"word\": \"word{}\", \"tag\": {}}}",
            i % 20,
            i % 200,
            if i % 3 == 0 { "null".to_string() } else { format!("\"t{}\"", i % 7) }
        )
    });
    let app = stream! {
        app_name("allocations_five_functions");
        trigger(AvailableNow);
        let events = read_stream.json("/tmp/streamc-never-created/allocations").schema("n BIGINT, word STRING, tag STRING");
        let picked = events.select([
            "length(word) AS l",
            "abs(n - 10) AS a",
            "substring(word, 2, 3) AS s",
            "coalesce(tag, word) AS c",
            "CASE WHEN n > 3 THEN 'big' ELSE 'small' END AS k",
        ]);
        picked.write_stream().output_mode("append").foreach_batch(|_batch_id, _rows| record());
    };
    AFTER.lock().unwrap().clear();
    record();
    app.with_replay_all(&dir).with_print_writer(std::io::sink()).start().unwrap().await_termination().unwrap();
    assert_flat("five functions", &per_batch(), 16);
}

/// A grouping key with a double inside probes the state from the row's own value, written
/// normalized into a buffer the thread reuses (`NestedKey::probe`): a key already present
/// allocates nothing; only a new one copies its bytes.
#[test]
fn nested_key_probe_of_a_present_key_allocates_nothing() {
    use std::hash::BuildHasher;
    use streamc_runtime::owned::IntoOwned;
    use streamc_runtime::persist::Persist;
    use streamc_runtime::structured::nested_key::{NestedKey, normal_double, write_len, write_tag};
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let row: Vec<Option<f64>> = vec![Some(-0.0), Some(f64::NAN), None];
    let probe = |v: &Vec<Option<f64>>| {
        NestedKey::<Vec<Option<f64>>>::probe(|out| {
            write_len(v.len(), out);
            for x in v {
                write_tag(x.is_some(), out);
                if let Some(x) = x {
                    normal_double(*x).write(out);
                }
            }
        })
    };
    let hasher = std::collections::hash_map::RandomState::new();
    let present = probe(&row).into_owned();
    let hash = hasher.hash_one(&present);
    let mine = || ON_THIS_THREAD.with(std::cell::Cell::get);
    let before = mine();
    for _ in 0..1000 {
        let p = probe(&row);
        assert!(p.eq_owned(&present) && hasher.hash_one(&p) == hash);
    }
    assert_eq!(mine() - before, 0, "allocations for 1000 probes of a present key");
    assert_eq!(present.get()[0].map(f64::to_bits), Some(0f64.to_bits()));
}

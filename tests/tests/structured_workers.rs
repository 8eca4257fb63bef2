//! Structured queries on worker threads (`--workers N`): batches over 1 MiB are split at line
//! boundaries, each worker aggregates its part, and the partials are merged in part order. The
//! output, the state and the progress figures must be those of one worker: the same rows in the
//! same order, the same late rows dropped, malformed records, watermark and state sizes.

use std::path::{Path, PathBuf};
use streamc_runtime::prelude::*;
use streamc_runtime::{App, BatchInput, BatchOutput, Error};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/streamc-tests/structured_workers").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Three batches of about 1.5 MB of events: 40 000 words, a minute of event time per 2 000
/// lines, some events 40 minutes late (dropped by a 10-minute watermark), some malformed lines
/// and some with a field of the wrong type.
fn batches(dir: &Path) {
    let mut seed = 7u64;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for b in 0..3 {
        let mut text = String::new();
        for i in 0..30_000u64 {
            let minute = (b * 30_000 + i) / 2_000;
            let late = if next(50) == 0 { 40 } else { 0 };
            let t = (minute + 60).saturating_sub(late);
            let (w, n) = (next(40_000), next(1_000));
            match next(400) {
                0 => text.push_str("{\"timestamp\": \"2024-01-01 02:00:00\", \"word\": broken\n"),
                1 => text.push_str(&format!(
                    "{{\"timestamp\": \"2024-01-01 {:02}:{:02}:00\", \"word\": \"w{w}\", \"n\": \"many\"}}\n",
                    t / 60,
                    t % 60
                )),
                _ => text.push_str(&format!(
                    "{{\"timestamp\": \"2024-01-01 {:02}:{:02}:{:02}\", \"word\": \"w{w}\", \"n\": {n}}}\n",
                    t / 60,
                    t % 60,
                    i % 60
                )),
            }
        }
        assert!(text.len() > 1 << 20);
        std::fs::write(dir.join(format!("batch-{b}.json")), text).unwrap();
    }
}

/// Runs `app` over the batches with `workers`; its JSON lines output and progress records.
fn run<F>(app: App<F>, dir: &Path, name: &str, workers: usize) -> (String, Vec<String>)
where
    F: FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send + 'static,
{
    let jsonl = dir.join(format!("{name}-{workers}.jsonl"));
    let progress = dir.join(format!("{name}-{workers}.progress"));
    app.with_replay_all(dir.join("in"))
        .with_print_writer(std::io::sink())
        .with_jsonl(&jsonl)
        .with_progress(&progress)
        .with_workers(workers)
        .start()
        .unwrap()
        .await_termination()
        .unwrap();
    let out = std::fs::read_to_string(&jsonl).unwrap();
    let records = std::fs::read_to_string(&progress).unwrap().lines().map(str::to_owned).collect();
    (out, records)
}

/// The figures of a progress record that workers must not change (not timings, not the split).
fn figures(record: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(record).unwrap();
    format!(
        "batch {} rows {} watermark {} state {} malformed {} sink {}",
        v["batchId"],
        v["numInputRows"],
        v["eventTime"]["watermark"],
        v["stateOperators"],
        v["numMalformedRowsDropped"],
        v["sink"]["numOutputRows"]
    )
}

/// Runs the app with 1 and 3 workers, checks that they agree, and returns the progress records.
fn same_on_workers<F>(name: &str, app: impl Fn() -> App<F>) -> Vec<String>
where
    F: FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send + 'static,
{
    let dir = scratch(name);
    std::fs::create_dir_all(dir.join("in")).unwrap();
    batches(&dir.join("in"));
    let (one, one_progress) = run(app(), &dir, name, 1);
    let (three, three_progress) = run(app(), &dir, name, 3);
    assert!(!one.is_empty());
    assert!(one == three, "3 workers changed the output of {name}");
    assert_eq!(one_progress.len(), three_progress.len());
    for (a, b) in one_progress.iter().zip(&three_progress) {
        assert_eq!(figures(a), figures(b));
    }
    // The batches were split: three parts each.
    let parts = three_progress.iter().filter(|r| r.contains("\"numParallelParts\":3")).count();
    assert_eq!(parts, 3, "{three_progress:?}");
    assert!(one_progress.iter().all(|r| !r.contains("numParallelParts")));
    one_progress
}

#[test]
fn windowed_counts_with_late_rows_on_workers_equal_one_worker() {
    let progress = same_on_workers("windowed", || {
        stream! {
            app_name("workers_windowed");
            trigger(AvailableNow);
            let events = read_stream.json("/tmp/streamc-never-created/workers").schema("timestamp TIMESTAMP, word STRING, n BIGINT");
            let windowed = events
                .with_watermark("timestamp", "10 minutes")
                .group_by(["window(timestamp, '10 minutes', '5 minutes')", "word"])
                .agg(["count(*) AS c", "sum(n) AS total", "max(n) AS top"]);
            windowed.write_stream().output_mode("append").console();
        }
    });
    // Late rows were dropped (the merge of the workers' late groups is exercised).
    assert!(progress.iter().any(|r| !r.contains("\"numRowsDroppedByWatermark\":0")), "{progress:?}");
}

#[test]
fn grouped_aggregates_after_a_filter_on_workers_equal_one_worker() {
    let progress = same_on_workers("grouped", || {
        stream! {
            app_name("workers_grouped");
            trigger(AvailableNow);
            let events = read_stream.json("/tmp/streamc-never-created/workers").schema("timestamp TIMESTAMP, word STRING, n BIGINT").mode("drop_malformed");
            let grouped = events
                .where_("n > 100")
                .select(["substring(word, 1, 3) AS prefix", "n"])
                .group_by(["prefix"])
                .agg(["count(*) AS c", "min(n) AS lo", "sum(n) AS total", "first(n) AS head", "last(n) AS tail"]);
            grouped.write_stream().output_mode("update").console();
        }
    });
    assert!(progress.iter().all(|r| r.contains("\"numMalformedRowsDropped\":1")), "{progress:?}");
}

/// Aggregates of doubles (`avg`, a sum of doubles) are not associative, so partial states
/// merged afterwards could differ from one pass in the last bits; the batch thread applies the
/// workers' rows in line order instead (rows handed off), so the output is one worker's exactly.
#[test]
fn averages_and_sums_of_doubles_on_workers_equal_one_worker_exactly() {
    same_on_workers("doubles", || {
        stream! {
            app_name("workers_doubles");
            trigger(AvailableNow);
            let events = read_stream.json("/tmp/streamc-never-created/workers").schema("timestamp TIMESTAMP, word STRING, n BIGINT");
            let windowed = events
                .with_watermark("timestamp", "10 minutes")
                .where_("n > 10")
                .select(["timestamp", "word", "n", "CAST(n AS DOUBLE) AS x"])
                .group_by(["window(timestamp, '10 minutes', '5 minutes')", "word"])
                .agg(["avg(n) AS mean", "sum(x) AS total", "count(*) AS c"]);
            windowed.write_stream().output_mode("update").console();
        }
    });
}

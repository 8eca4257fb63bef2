//! Structured Streaming conformance with Apache Spark: the specs of `tests/data/conformance/ss-*`
//! replay the inputs Spark ran (one file per batch, `available_now`), and every query's rows are
//! compared, batch by batch, with Spark's (`tests/data/spark/ss/`, verbatim oracle output).

use serde_json::Value;
use std::collections::BTreeMap;

mod common;
use common::{canon, jsonl, root, scratch};

/// Writes one replay file per batch of a `{"batches": [...]}` input (strings as text lines,
/// objects as JSON lines); runs the spec; returns (query, batch id) → sorted rows.
/// Rows by (query, batch id), each batch's rows canonical and sorted.
type Rows = BTreeMap<(String, u64), Vec<String>>;

fn run(spec: &str, input: &str, name: &str) -> Rows {
    run_with_progress(spec, input, name).0
}

/// [`run`], also returning the progress records.
fn run_with_progress(spec: &str, input: &str, name: &str) -> (Rows, Vec<Value>) {
    let dir = scratch(name);
    let replay = dir.join("in");
    std::fs::create_dir_all(&replay).unwrap();
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("tests/data/spark").join(input)).unwrap()).unwrap();
    for (i, b) in v["batches"].as_array().unwrap().iter().enumerate() {
        let text: String = b
            .as_array()
            .unwrap()
            .iter()
            .map(|item| match item {
                Value::String(s) => format!("{s}\n"),
                other => format!("{other}\n"),
            })
            .collect();
        std::fs::write(replay.join(format!("b{i:05}")), text).unwrap();
    }
    let out = dir.join("out.jsonl");
    let result = common::streamc_quick()
        .args(["run", spec, "--replay"])
        .arg(&replay)
        .args(common::cluster_args())
        .arg("--jsonl")
        .arg(&out)
        .arg("--checkpoint")
        .arg(dir.join("checkpoint"))
        .args(["--", "--progress"])
        .arg(dir.join("progress.jsonl"))
        .output()
        .expect("run streamc");
    assert!(result.status.success(), "streamc run failed: {}", String::from_utf8_lossy(&result.stderr));
    let rows = jsonl(&out)
        .into_iter()
        .map(|l| ((l["output"].as_str().unwrap().to_string(), l["batch_id"].as_u64().unwrap()), canon(&l["records"])))
        .collect();
    (rows, jsonl(&dir.join("progress.jsonl")))
}

fn spark(golden: &str) -> BTreeMap<u64, Vec<String>> {
    jsonl(&root().join("tests/data/spark/ss").join(golden))
        .into_iter()
        .map(|l| (l["batch"].as_u64().unwrap(), canon(&l["rows"])))
        .collect()
}

fn compare(got: &BTreeMap<(String, u64), Vec<String>>, query: &str, golden: &str, failures: &mut Vec<String>) {
    let expected = spark(golden);
    let actual: BTreeMap<u64, Vec<String>> = got
        .iter()
        .filter(|((q, b), _)| q == query && expected.contains_key(b))
        .map(|((_, b), r)| (*b, r.clone()))
        .collect();
    if actual != expected {
        failures.push(format!("{query} vs {golden}:\n  spark:   {expected:?}\n  streamc: {actual:?}"));
    }
    // Batches Spark ran must all exist here too (no missing trailing no-data batch).
    assert!(expected.keys().all(|b| actual.contains_key(b)), "{query}: missing batches");
}

#[test]
fn windowed_counts_with_watermark_match_spark_in_every_output_mode() {
    let got = run("tests/data/conformance/ss-events.yaml", "ss/events.json", "ss-events");
    let mut failures = Vec::new();
    compare(&got, "ss-window-append", "ss-window-append.jsonl", &mut failures);
    compare(&got, "ss-window-update", "ss-window-update.jsonl", &mut failures);
    compare(&got, "ss-window-complete", "ss-window-complete.jsonl", &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn word_counts_match_spark_in_complete_and_update_modes() {
    let got = run("tests/data/conformance/ss-text.yaml", "wordcount.json", "ss-text");
    let edge = run("tests/data/conformance/ss-text.yaml", "split-edge.json", "ss-text-edge");
    let mut failures = Vec::new();
    compare(&got, "ss-wordcount-complete", "ss-wordcount-complete.jsonl", &mut failures);
    compare(&got, "ss-wordcount-update", "ss-wordcount-update.jsonl", &mut failures);
    // Spark SQL's split keeps every empty string (unlike DStreams' Java split).
    compare(&edge, "ss-wordcount-update", "ss-split-edge-update.jsonl", &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs an example as it is (its own file source and trigger) with `--jsonl` and `--progress`.
fn run_example(spec: &str, name: &str) -> (Rows, Vec<Value>) {
    let dir = scratch(name);
    let (out, progress) = (dir.join("out.jsonl"), dir.join("progress.jsonl"));
    let result = common::streamc_quick()
        .args(["run", spec])
        .args(common::cluster_args())
        .arg("--jsonl")
        .arg(&out)
        .arg("--checkpoint")
        .arg(dir.join("checkpoint"))
        .args(["--", "--progress"])
        .arg(&progress)
        .output()
        .expect("run streamc");
    assert!(result.status.success(), "streamc run failed: {}", String::from_utf8_lossy(&result.stderr));
    let rows = jsonl(&out)
        .into_iter()
        .map(|l| ((l["output"].as_str().unwrap().to_string(), l["batch_id"].as_u64().unwrap()), canon(&l["records"])))
        .collect();
    (rows, jsonl(&progress))
}

#[test]
fn windowed_event_count_examples_match_spark_and_report_progress() {
    let (rows, progress) = run_example("examples/windowed_event_counts.yaml", "example-append");
    let mut failures = Vec::new();
    compare(&rows, "windowed_counts", "ss-window-append.jsonl", &mut failures);
    let (update, _) = run_example("examples/windowed_event_counts_update.yaml", "example-update");
    compare(&update, "windowed_counts", "ss-window-update.jsonl", &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Spark's per-batch progress: input rows, watermark, rows dropped as late, state rows.
    let meta = jsonl(&root().join("tests/data/spark/ss/ss-window-append.meta.jsonl"));
    assert_eq!(progress.len(), meta.len(), "one progress record per batch, the no-data batch included");
    for (p, m) in progress.iter().zip(&meta) {
        assert_eq!(p["batchId"], m["batch"]);
        assert_eq!(p["numInputRows"], m["input_rows"], "batch {}", m["batch"]);
        assert_eq!(p["eventTime"]["watermark"], m["watermark"], "batch {}", m["batch"]);
        assert_eq!(
            p["stateOperators"][0]["numRowsDroppedByWatermark"], m["dropped_by_watermark"],
            "batch {}",
            m["batch"]
        );
        assert_eq!(p["stateOperators"][0]["numRowsTotal"], m["state_rows"], "batch {}", m["batch"]);
    }
}

#[test]
fn windowed_event_count_sql_example_matches_spark() {
    // The `sql:` twin of examples/windowed_event_counts.yaml: the same rows as Spark's, batch by
    // batch (windows, watermark, late rows), and the same progress.
    let (rows, progress) = run_example("examples/windowed_event_counts_sql.yaml", "example-sql-append");
    let mut failures = Vec::new();
    compare(&rows, "windowed_counts", "ss-window-append.jsonl", &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let meta = jsonl(&root().join("tests/data/spark/ss/ss-window-append.meta.jsonl"));
    assert_eq!(progress.len(), meta.len(), "one progress record per batch, the no-data batch included");
    for (p, m) in progress.iter().zip(&meta) {
        assert_eq!(p["eventTime"]["watermark"], m["watermark"], "batch {}", m["batch"]);
        assert_eq!(p["stateOperators"][0]["numRowsTotal"], m["state_rows"], "batch {}", m["batch"]);
    }
}

/// Inputs designed to pin Spark's rules (late data split across sliding windows, window edges,
/// a watermark that must not go back, empty batches, the trailing no-data batch): every
/// workload's rows, and in append mode the watermark, late rows and state rows of each batch.
#[test]
fn edge_cases_match_spark_rows_watermarks_and_late_counts() {
    let dir = root().join("tests/data/spark/ss-cases");
    let mut failures = Vec::new();
    for input in ["late-split", "edges", "watermark-moves", "many-words", "empty-ends"] {
        let (got, progress) = run_with_progress(
            "tests/data/conformance/ss-events.yaml",
            &format!("ss-cases/{input}.json"),
            &format!("ss-case-{input}"),
        );
        for workload in ["ss-window-append", "ss-window-update", "ss-window-complete"] {
            compare(&got, workload, &format!("../ss-cases/{input}.{workload}.jsonl"), &mut failures);
        }
        let meta = jsonl(&dir.join(format!("{input}.ss-window-append.jsonl")));
        for m in &meta {
            let Some(p) = progress.iter().find(|p| p["batchId"] == m["batch"]) else {
                failures.push(format!("{input}: no progress for batch {}", m["batch"]));
                continue;
            };
            let ours = (
                &p["eventTime"]["watermark"],
                &p["stateOperators"][0]["numRowsDroppedByWatermark"],
                &p["stateOperators"][0]["numRowsTotal"],
            );
            let spark = (&m["watermark"], &m["dropped_by_watermark"], &m["state_rows"]);
            if ours != spark {
                failures.push(format!(
                    "{input} batch {}: (watermark, dropped, state rows) spark {spark:?}, streamc {ours:?}",
                    m["batch"]
                ));
            }
        }
        assert_eq!(progress.len(), meta.len(), "{input}: the batches Spark ran, the no-data batch included");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

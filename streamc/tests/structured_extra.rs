//! Conformance with Apache Spark for the Structured Streaming operators beyond windowed counts:
//! `drop_duplicates`, a `union` of inputs with their own watermarks (the query's is the
//! minimum), session windows, and stream-static joins. Inputs and Spark's outputs are in
//! `tests/data/spark/ss-extra` (`oracle_extra.py`, real Spark 4.3, one file per batch); each
//! input is replayed through the spec of its family in `tests/data/conformance/ss-*.yaml`, and
//! every case's rows, watermark, late-row count and state rows are compared batch by batch.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;
use common::{canon, jsonl, root};

fn extra() -> PathBuf {
    root().join("tests/data/spark/ss-extra")
}

/// The spec family and query that ran a case's workload.
fn query_of(case: &Value) -> (&'static str, String) {
    let wl = case["workload"].as_str().unwrap();
    let family = wl.split('-').next().unwrap();
    let spec = match family {
        "dedup" => "ss-dedup.yaml",
        "union" => "ss-union.yaml",
        "session" => "ss-session.yaml",
        "join" => "ss-join.yaml",
        "date" => "ss-date.yaml",
        other => panic!("no spec for workload family {other}"),
    };
    let query = match wl {
        "dedup-append" => {
            let keys: Vec<&str> = case["keys"]
                .as_array()
                .map_or(vec!["word", "timestamp"], |k| k.iter().map(|k| k.as_str().unwrap()).collect());
            match &keys[..] {
                ["word", "timestamp"] => "dedup-wt".to_string(),
                ["word"] => "dedup-w".to_string(),
                ["timestamp"] => "dedup-t".to_string(),
                other => panic!("no query for dedup keys {other:?}"),
            }
        }
        "dedup-update" => "dedup-wt-update".to_string(),
        other => other.to_string(),
    };
    (spec, query)
}

fn write_batches(dir: &Path, batches: &Value) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, b) in batches.as_array().unwrap().iter().enumerate() {
        let text: String = b.as_array().unwrap().iter().map(|item| format!("{item}\n")).collect();
        std::fs::write(dir.join(format!("b{i:05}")), text).unwrap();
    }
}

/// Rows by (query, batch id), each batch's rows canonical and sorted.
type Rows = BTreeMap<(String, u64), Vec<String>>;

/// Runs `spec` over one input; returns its rows and the progress records.
fn run(spec: &str, case: &Value, name: &str) -> (Rows, Vec<Value>) {
    let dir = root().join("target").join("streamc-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    write_batches(&dir.join("a"), &case["batches"]);
    let mut cmd = common::streamc_quick();
    cmd.args(["run", &format!("tests/data/conformance/{spec}")])
        .arg("--replay")
        .arg(format!("events={}", dir.join("a").display()));
    if let Some(b) = case.get("batches_b") {
        write_batches(&dir.join("b"), b);
        cmd.arg("--replay").arg(format!("events_b={}", dir.join("b").display()));
    }
    let out = dir.join("out.jsonl");
    let result = cmd
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

#[test]
fn extra_operators_match_spark_batch_by_batch() {
    let cases = jsonl(&extra().join("cases.jsonl"));
    let mut golden: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for l in jsonl(&extra().join("all.jsonl")) {
        golden.entry(l["case"].as_str().unwrap().to_string()).or_default().push(l);
    }
    let static_rows: Vec<Value> = jsonl(&extra().join("joins-static.json"));
    // One run per (spec, input): cases that differ only in the query share it.
    let mut groups: BTreeMap<(String, String), Vec<&Value>> = BTreeMap::new();
    for c in &cases {
        let (spec, _) = query_of(c);
        let input = format!("{}{}", c["batches"], c.get("batches_b").map_or(String::new(), Value::to_string));
        groups.entry((spec.to_string(), input)).or_default().push(c);
    }
    let mut failures = Vec::new();
    let mut compared = 0;
    for (n, ((spec, _), group)) in groups.iter().enumerate() {
        let (rows, progress) = run(spec, group[0], &format!("ss-extra-{n}"));
        let spec_text = std::fs::read_to_string(root().join("tests/data/conformance").join(spec)).unwrap();
        let queries: Vec<&str> =
            spec_text.lines().filter_map(|l| l.trim().strip_prefix("- name: ")).filter(|q| q.contains('-')).collect();
        for case in group {
            let id = case["id"].as_str().unwrap();
            if let Some(s) = case.get("static") {
                assert_eq!(s.as_array().unwrap(), &static_rows, "{id}: joins-static.json must hold the case's table");
            }
            let (_, query) = query_of(case);
            let Some(expected) = golden.get(id) else { panic!("{id}: no Spark output") };
            assert!(expected[0].get("error").is_none(), "{id}: Spark refused it: {}", expected[0]["error"]);
            let qi = queries.iter().position(|q| *q == query).unwrap_or_else(|| panic!("{query} not in {spec}"));
            for e in expected {
                compared += 1;
                let b = e["batch"].as_u64().unwrap();
                let ours = rows.get(&(query.clone(), b)).cloned().unwrap_or_default();
                let theirs = canon(&e["rows"]);
                if ours != theirs {
                    failures.push(format!("{id} batch {b}: rows\n  spark:   {theirs:?}\n  streamc: {ours:?}"));
                }
                if e["watermark"].is_null() {
                    continue;
                }
                let Some(p) = progress.iter().find(|p| p["batchId"] == b) else {
                    failures.push(format!("{id}: no progress for batch {b}"));
                    continue;
                };
                let op = &p["stateOperators"][qi];
                let ours = (&p["eventTime"]["watermark"], &op["numRowsDroppedByWatermark"], &op["numRowsTotal"]);
                let theirs = (&e["watermark"], &e["dropped_by_watermark"], &e["state_rows"]);
                if ours != theirs {
                    failures.push(format!(
                        "{id} batch {b}: (watermark, dropped, state rows) spark {theirs:?}, streamc {ours:?}"
                    ));
                }
            }
            // A complete-mode query never asks for a no-data batch; run beside an append query in
            // one app, it sees the one the append query asks for, which Spark ran alone.
            if !expected[0]["watermark"].is_null() && !id.ends_with("complete") && progress.len() != expected.len() {
                failures.push(format!(
                    "{id}: Spark ran {} batches (a no-data batch included), streamc {}",
                    expected.len(),
                    progress.len()
                ));
            }
        }
    }
    eprintln!("{compared} batches compared");
    assert!(compared > 100, "only {compared} batches compared");
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

/// `foreach_batch` gets every batch's id and typed rows; a `memory` sink beside it compiles and
/// runs (its table is in the app's process: see the runtime's `structured::memory` tests).
#[test]
fn foreach_batch_sees_each_batch_rows() {
    let dir = root().join("target").join("streamc-tests").join("ss-foreach");
    let _ = std::fs::remove_dir_all(&dir);
    let batches: Value = serde_json::json!([
        [{"timestamp": "2024-01-01 12:00:00", "word": "a"}, {"timestamp": "2024-01-01 12:00:00", "word": "b"}],
        [],
        [{"timestamp": "2024-01-01 12:00:00", "word": "a"}]
    ]);
    write_batches(&dir.join("a"), &batches);
    let result = common::streamc_quick()
        .args(["run", "tests/data/conformance/ss-foreach.yaml", "--replay"])
        .arg(dir.join("a"))
        .output()
        .expect("run streamc");
    assert!(result.status.success(), "streamc run failed: {}", String::from_utf8_lossy(&result.stderr));
    let stdout = String::from_utf8_lossy(&result.stdout);
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("foreach_batch")).collect();
    assert_eq!(
        lines,
        ["foreach_batch 0: 2 rows, 2 events", "foreach_batch 1: 2 rows, 2 events", "foreach_batch 2: 2 rows, 3 events"]
    );
}

/// The parquet sink writes the same rows as the JSON sink, one committed file per batch with
/// rows (timestamps as µs since the epoch in parquet).
#[test]
fn parquet_sink_holds_the_json_sinks_rows() {
    let dir = root().join("target").join("streamc-tests").join("ss-parquet");
    let _ = std::fs::remove_dir_all(&dir);
    let input: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/data/spark/ss-cases/late-split.json")).unwrap(),
    )
    .unwrap();
    write_batches(&dir.join("in"), &input["batches"]);
    let result = common::streamc_quick()
        .args(["run", "tests/data/conformance/ss-parquet.yaml", "--replay"])
        .arg(dir.join("in"))
        .arg("--checkpoint")
        .arg(dir.join("checkpoint"))
        .output()
        .expect("run streamc");
    assert!(result.status.success(), "streamc run failed: {}", String::from_utf8_lossy(&result.stderr));
    let micros = |v: &Value| -> Value {
        let mut o = v.clone();
        for k in ["window_start", "window_end"] {
            let t = streamc_runtime::structured::time::parse_timestamp(v[k].as_str().unwrap()).unwrap();
            o[k] = Value::from(t.0);
        }
        o
    };
    let mut batches = 0;
    for entry in std::fs::read_dir(dir.join("json")).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).filter(|n| n.ends_with(".json")) else { continue };
        let json: Vec<String> = jsonl(&path).iter().map(|v| micros(v).to_string()).collect();
        let pq = dir.join("parquet").join(name.replace(".json", ".parquet"));
        let rows = streamc_runtime::structured::parquet::read_json_rows(&pq).unwrap();
        let parquet: Vec<String> = rows.iter().map(|r| serde_json::from_str::<Value>(r).unwrap().to_string()).collect();
        assert_eq!(parquet, json, "{name}");
        let batch: u64 = name[5..10].parse().unwrap();
        assert!(
            streamc_runtime::sink::file_sink_committed(&dir.join("parquet"), batch),
            "parquet batch {batch} is not committed"
        );
        batches += 1;
    }
    assert!(batches >= 2, "only {batches} batches had rows");
}

/// The rate source emits values 0, 1, 2, … without gaps or repeats, with timestamps that
/// advance 10 ms per row at 100 rows per second.
#[test]
fn rate_source_counts_up_with_event_times() {
    let dir = root().join("target").join("streamc-tests").join("ss-rate");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out.jsonl");
    let result = common::streamc_quick()
        .args(["run", "tests/data/conformance/ss-rate.yaml", "--jsonl"])
        .arg(&out)
        .args(["--", "--max-batches", "6"])
        .output()
        .expect("run streamc");
    assert!(result.status.success(), "streamc run failed: {}", String::from_utf8_lossy(&result.stderr));
    let rows: Vec<Value> = jsonl(&out).iter().flat_map(|l| l["records"].as_array().unwrap().clone()).collect();
    assert!(rows.len() >= 20, "only {} rows in 6 batches of 100 ms", rows.len());
    let mut last_ts = None;
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["value"].as_i64(), Some(i as i64), "{r}");
        assert_eq!(r["even"].as_bool(), Some(i % 2 == 0), "{r}");
        let ts = streamc_runtime::structured::time::parse_timestamp(r["timestamp"].as_str().unwrap()).unwrap();
        if let Some(prev) = last_ts {
            assert_eq!(ts.0 - prev, 10_000, "{r}");
        }
        last_ts = Some(ts.0);
    }
}

/// The SQL twins of the examples give the DataFrame-style examples' rows, batch by batch.
#[test]
fn sql_example_twins_agree_with_their_dataframe_examples() {
    let run_example = |spec: &str, replay: &str| -> Rows {
        let dir = root().join("target").join("streamc-tests").join(format!("twin-{spec}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out.jsonl");
        let result = common::streamc_quick()
            .args(["run", &format!("examples/{spec}.yaml"), "--replay", replay, "--jsonl"])
            .arg(&out)
            .arg("--checkpoint")
            .arg(dir.join("checkpoint"))
            .output()
            .expect("run streamc");
        assert!(result.status.success(), "{spec}: {}", String::from_utf8_lossy(&result.stderr));
        jsonl(&out)
            .into_iter()
            .map(|l| {
                ((l["output"].as_str().unwrap().to_string(), l["batch_id"].as_u64().unwrap()), canon(&l["records"]))
            })
            .collect()
    };
    for (frame, sql, replay) in [
        ("structured_word_count", "structured_word_count_sql", "examples/data/words"),
        ("windowed_event_counts_update", "windowed_event_counts_update_sql", "examples/data/events"),
    ] {
        let (a, b) = (run_example(frame, replay), run_example(sql, replay));
        assert!(a.values().any(|rows| !rows.is_empty()), "{frame} emitted nothing");
        assert_eq!(a, b, "{frame} and {sql} differ");
    }
}

//! The Structured Streaming examples written with `stream!` (`examples/src/bin/*.rs`) against
//! their YAML twins (`examples/*.yaml`): the same batches, the same rows, the same console
//! output, and (append mode) the same rows committed by the JSON file sink.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{root, run_ok, scratch};

/// `streamc run examples/<example>.yaml <args>`.
fn run_yaml(example: &str, args: &[&str], jsonl: &Path, checkpoint: &Path) -> Output {
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_streamc"))
            .current_dir(root())
            .env("STREAMC_CACHE_DIR", root().join("target").join("streamc-cache"))
            .args(["run", &format!("examples/{example}.yaml")])
            .args(args)
            .arg("--jsonl")
            .arg(jsonl)
            .arg("--checkpoint")
            .arg(checkpoint),
    )
}

/// `cargo run -p streamc-examples --bin <example> -- <args>`: the `stream!` twin.
fn run_macro(example: &str, args: &[&str], jsonl: &Path, checkpoint: &Path) -> Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run_ok(
        Command::new(cargo)
            .current_dir(root())
            .args(["run", "-q", "-p", "streamc-examples", "--bin", example, "--"])
            .args(args)
            .arg("--jsonl")
            .arg(jsonl)
            .arg("--checkpoint")
            .arg(checkpoint),
    )
}

/// Every jsonl record as (output, batch id, rows); the batch time is left out (it is the wall
/// clock's outside replay).
fn batches(path: &Path) -> Vec<(String, u64, Value)> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("json line");
            (v["output"].as_str().unwrap().to_string(), v["batch_id"].as_u64().unwrap(), v["records"].clone())
        })
        .collect()
}

/// The rows a JSON file sink committed (files listed in `_spark_metadata`), sorted.
fn committed_rows(dir: &Path) -> Vec<String> {
    let mut rows = Vec::new();
    let meta = dir.join("_spark_metadata");
    for entry in std::fs::read_dir(&meta).unwrap_or_else(|e| panic!("read {}: {e}", meta.display())) {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines().skip(1) {
            let file: Value = serde_json::from_str(line).unwrap();
            let path = file["path"].as_str().unwrap().trim_start_matches("file://").to_string();
            for row in std::fs::read_to_string(&path).unwrap().lines() {
                rows.push(serde_json::from_str::<Value>(row).unwrap().to_string());
            }
        }
    }
    rows.sort();
    rows
}

fn sorted_rows(records: &[(String, u64, Value)]) -> Vec<String> {
    let mut rows: Vec<String> =
        records.iter().flat_map(|(_, _, r)| r.as_array().unwrap().iter().map(Value::to_string)).collect();
    rows.sort();
    rows
}

#[test]
fn windowed_event_counts_in_stream_macro_equal_the_yaml_spec() {
    for (example, json_sink) in [
        ("windowed_event_counts", Some("target/windowed_event_counts-macro-out")),
        ("windowed_event_counts_update", None),
        ("chained_windows", Some("target/chained_windows-macro-out")),
    ] {
        let dir = scratch(&format!("structured-macro-{example}"));
        let (yaml, rust) = (dir.join("yaml.jsonl"), dir.join("macro.jsonl"));
        if let Some(out) = json_sink {
            let _ = std::fs::remove_dir_all(root().join(out));
        }
        let yaml_out = run_yaml(example, &[], &yaml, &dir.join("ck-yaml"));
        let macro_out = run_macro(example, &[], &rust, &dir.join("ck-macro"));
        let (y, m) = (batches(&yaml), batches(&rust));
        assert!(y.iter().any(|(_, _, r)| !r.as_array().unwrap().is_empty()), "{example}: no rows at all");
        let query = if example == "chained_windows" { "hourly_counts" } else { "windowed_counts" };
        assert!(y.iter().all(|(q, _, _)| q == query), "{example}: query names {y:?}");
        assert_eq!(y, m, "{example}: YAML vs stream! batches");
        assert_eq!(
            String::from_utf8_lossy(&yaml_out.stdout),
            String::from_utf8_lossy(&macro_out.stdout),
            "{example}: console output"
        );
        if let Some(out) = json_sink {
            assert_eq!(committed_rows(&root().join(out)), sorted_rows(&y), "{example}: JSON sink rows");
        }
    }
}

#[test]
fn structured_word_count_in_stream_macro_equals_the_yaml_spec_under_replay() {
    let example = "structured_word_count";
    let dir = scratch(&format!("structured-macro-{example}"));
    let (yaml, rust) = (dir.join("yaml.jsonl"), dir.join("macro.jsonl"));
    let replay = ["--replay", "examples/data/words"];
    let yaml_out = run_yaml(example, &replay, &yaml, &dir.join("ck-yaml"));
    let macro_out = run_macro(example, &replay, &rust, &dir.join("ck-macro"));
    let y = std::fs::read_to_string(&yaml).unwrap();
    assert!(y.contains("\"word_counts\""), "{example}: no output: {y}");
    assert_eq!(y, std::fs::read_to_string(&rust).unwrap(), "{example}: YAML vs stream! (times included)");
    assert_eq!(
        String::from_utf8_lossy(&yaml_out.stdout),
        String::from_utf8_lossy(&macro_out.stdout),
        "{example}: console output"
    );
}

#[test]
fn ad_clicks_stream_join_in_stream_macro_equals_the_yaml_spec() {
    let example = "ad_clicks";
    let dir = scratch(&format!("structured-macro-{example}"));
    let (yaml, rust) = (dir.join("yaml.jsonl"), dir.join("macro.jsonl"));
    let yaml_out = run_yaml(example, &[], &yaml, &dir.join("ck-yaml"));
    let macro_out = run_macro(example, &[], &rust, &dir.join("ck-macro"));
    let (y, m) = (batches(&yaml), batches(&rust));
    let rows = sorted_rows(&y);
    // Joined pairs, and the impression nobody clicked, NULL-padded once the watermark passed it.
    assert!(rows.iter().any(|r| r.contains("\"ad1\"")), "{example}: no joined row: {rows:?}");
    assert!(
        rows.contains(
            &r#"{"clickAdId":null,"clickTime":null,"impressionAdId":"ad3","impressionTime":"2024-03-01 09:02:00"}"#
                .to_string()
        ),
        "{example}: {rows:?}"
    );
    assert_eq!(y, m, "{example}: YAML vs stream! batches");
    assert_eq!(
        String::from_utf8_lossy(&yaml_out.stdout),
        String::from_utf8_lossy(&macro_out.stdout),
        "{example}: console output"
    );
}

/// Spark's StructuredSessionization (`mapGroupsWithState` with a 10 s processing-time timeout)
/// under replay, whose clock advances 5 s per file: the YAML spec and its `stream!` twin give the
/// same batches, and those are what Spark's rules give for this input — a key's function runs
/// in each batch with its rows; a session not updated by batch time `t` with a timeout set at
/// `t0` (timeout `t0 + 10 s`) times out in the first batch whose time is after that.
#[test]
fn structured_sessionization_in_stream_macro_equals_the_yaml_spec_and_spark_rules() {
    let example = "structured_sessionization";
    let dir = scratch(&format!("structured-macro-{example}"));
    let (yaml, rust) = (dir.join("yaml.jsonl"), dir.join("macro.jsonl"));
    let replay = ["--replay", "examples/data/sessions"];
    let yaml_out = run_yaml(example, &replay, &yaml, &dir.join("ck-yaml"));
    let macro_out = run_macro(example, &replay, &rust, &dir.join("ck-macro"));
    let (y, m) = (batches(&yaml), batches(&rust));
    assert_eq!(y, m, "{example}: YAML vs stream! batches");
    assert_eq!(
        String::from_utf8_lossy(&yaml_out.stdout),
        String::from_utf8_lossy(&macro_out.stdout),
        "{example}: console output"
    );
    let row = |id: &str, d: i64, n: i64, e: bool| {
        serde_json::json!({"id": id, "durationMs": d, "numEvents": n, "expired": e}).to_string()
    };
    let expected: Vec<(u64, Vec<String>)> = vec![
        (0, vec![row("alice", 3000, 2, false), row("bob", 0, 1, false)]),
        (1, vec![row("bob", 6000, 2, false), row("carol", 0, 1, false)]),
        (2, vec![row("carol", 5000, 2, false)]),
        (3, vec![row("alice", 3000, 2, true)]),
        (4, vec![row("alice", 0, 1, false), row("bob", 6000, 2, true)]),
        (5, vec![row("carol", 5000, 2, true)]),
        (6, vec![]),
        (7, vec![row("alice", 0, 1, true)]),
    ];
    let got: Vec<(u64, Vec<String>)> = y
        .iter()
        .map(|(_, b, r)| {
            let mut rows: Vec<String> = r.as_array().unwrap().iter().map(Value::to_string).collect();
            rows.sort();
            (*b, rows)
        })
        .collect();
    let expected: Vec<(u64, Vec<String>)> = expected
        .into_iter()
        .map(|(b, mut rows)| {
            rows.sort();
            (b, rows)
        })
        .collect();
    assert_eq!(got, expected, "{example}: sessions");
}

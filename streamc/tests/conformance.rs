//! Conformance with Apache Spark: every DStream case of `tests/data/spark/ds-cases.jsonl`
//! (inputs, window and slide) is replayed through `tests/data/conformance/ds.yaml`, and each
//! stream's output is compared, batch by batch, with what Spark emitted
//! (`tests/data/spark/ds-conformance.jsonl`, produced by ../shared/spark-oracle; see the README
//! there). A windowed stream must emit exactly in the batches Spark emitted in, and nowhere else.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

mod common;
use common::{root, scratch};

fn read_jsonl(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines().map(|l| serde_json::from_str(l).expect("json line")).collect()
}

/// Rows as a sorted multiset of (word, count), whatever their JSON shape.
fn rows(records: &Value) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = records
        .as_array()
        .expect("array")
        .iter()
        .map(|r| match r {
            Value::Array(a) => (a[0].as_str().expect("word").to_string(), a[1].as_i64().expect("count")),
            Value::Object(o) => (o["word"].as_str().expect("word").to_string(), o["count"].as_i64().expect("count")),
            other => panic!("unexpected record {other}"),
        })
        .collect();
    out.sort();
    out
}

/// Runs the conformance app over one input; returns (stream, batch index) → rows.
fn run(
    spec: &str,
    input: &str,
    batches: &[Vec<String>],
    total: usize,
) -> BTreeMap<(String, usize), Vec<(String, i64)>> {
    let dir = scratch(&format!("conformance-{}-{input}", spec.trim_end_matches(".yaml")));
    let replay = dir.join("in");
    std::fs::create_dir_all(&replay).unwrap();
    for i in 0..total {
        let text: String = batches.get(i).map(|b| b.iter().map(|l| format!("{l}\n")).collect()).unwrap_or_default();
        std::fs::write(replay.join(format!("b{i:05}.txt")), text).unwrap();
    }
    let jsonl = dir.join("out.jsonl");
    let out = common::streamc_quick()
        .arg("run")
        .arg(Path::new("tests/data/conformance").join(spec))
        .arg("--replay")
        .arg(&replay)
        .args(common::cluster_args())
        .arg("--jsonl")
        .arg(&jsonl)
        .arg("--checkpoint")
        .arg(dir.join("checkpoint"))
        .output()
        .expect("run streamc");
    assert!(out.status.success(), "streamc run failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut got = BTreeMap::new();
    for line in read_jsonl(&jsonl) {
        let stream = line["output"].as_str().unwrap().to_string();
        let batch = (line["batch_time_ms"].as_i64().unwrap() / 1000 - 1) as usize;
        got.insert((stream, batch), rows(&line["records"]));
    }
    got
}

#[test]
fn dstream_operators_match_apache_spark_batch_by_batch() {
    let data = root().join("tests/data/spark");
    let cases = read_jsonl(&data.join("ds-cases.jsonl"));
    let spark = read_jsonl(&data.join("ds-conformance.jsonl"));
    // Cases grouped by input (the case id's first part); each input runs once, long enough for
    // the longest case.
    let mut inputs: BTreeMap<String, (Vec<Vec<String>>, usize)> = BTreeMap::new();
    for c in &cases {
        let id = c["id"].as_str().unwrap();
        let input = id.split('/').next().unwrap().to_string();
        let batches: Vec<Vec<String>> = c["batches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_string()).collect())
            .collect();
        let total = batches.len() + c["extra_batches"].as_u64().unwrap_or(0) as usize;
        let e = inputs.entry(input).or_insert((batches, 0));
        e.1 = e.1.max(total);
    }
    let mut failures = Vec::new();
    let mut compared = 0;
    // `ds.yaml` has every workload; the `ds-keyed*.yaml` have them again in the shapes a
    // cluster partitions by key: each table and window from its own chain, each keyed state
    // alone on its source.
    for spec in ["ds.yaml", "ds-keyed.yaml", "ds-keyed-update.yaml", "ds-keyed-mapwithstate.yaml"] {
        let text = std::fs::read_to_string(root().join("tests/data/conformance").join(spec)).unwrap();
        let printed: Vec<&str> = text.lines().filter_map(|l| l.trim().strip_prefix("- print: ")).collect();
        for (input, (batches, total)) in &inputs {
            let got = run(spec, input, batches, *total);
            compared += compare(&cases, &spark, input, batches.len(), &printed, &got, &mut failures);
        }
    }
    assert!(compared > 200, "compared only {compared} batches");
    assert!(failures.is_empty(), "{} of the cases differ from Spark:\n{}", failures.len(), failures.join("\n"));
}

/// Compares the streams of `printed` that `got` has for the cases of `input` with Spark's
/// answers; returns how many batches it compared.
fn compare(
    cases: &[Value],
    spark: &[Value],
    input: &str,
    input_batches: usize,
    printed: &[&str],
    got: &BTreeMap<(String, usize), Vec<(String, i64)>>,
    failures: &mut Vec<String>,
) -> usize {
    let mut compared = 0;
    {
        for c in cases.iter().filter(|c| c["id"].as_str().unwrap().starts_with(&format!("{input}/"))) {
            let id = c["id"].as_str().unwrap();
            let stream = id.split_once('/').unwrap().1;
            if !printed.contains(&stream) {
                continue;
            }
            let case_total = input_batches + c["extra_batches"].as_u64().unwrap_or(0) as usize;
            let mut streams = vec![(stream.to_string(), "rows")];
            if c["workload"] == "ds-mapwithstate" {
                streams.push((format!("{stream}/state"), "state"));
            }
            for (name, field) in streams {
                let expected: BTreeMap<usize, Vec<(String, i64)>> = spark
                    .iter()
                    .filter(|l| l["case"] == id)
                    .map(|l| (l["batch"].as_u64().unwrap() as usize, rows(&l[field])))
                    .collect();
                let actual: BTreeMap<usize, Vec<(String, i64)>> = got
                    .iter()
                    .filter(|((s, b), _)| *s == name && *b < case_total)
                    .map(|((_, b), r)| (*b, r.clone()))
                    .collect();
                compared += expected.len();
                if expected != actual {
                    failures.push(format!("{id} ({name}):\n  spark:   {expected:?}\n  streamc: {actual:?}"));
                }
            }
        }
    }
    compared
}

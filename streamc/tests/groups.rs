//! Arbitrary stateful processing against Apache Spark: `tests/data/spark/groups/spec.yaml` holds
//! Rust twins of the Scala `mapGroupsWithState` / `flatMapGroupsWithState` programs of
//! `oracle.scala` (sessions closed by an event-time timeout in append mode, a running count
//! without timeout, a count that expires by event time in update mode). Each runs over the same
//! batches (`input/`, one file per batch, with late rows), and every batch's rows must be what
//! Spark 4.3 emitted (`answers.jsonl`, made by `regen.sh`), as multisets. A batch streamc runs
//! that Spark did not (the app's queries share batches) must be empty.

use std::collections::BTreeMap;

mod common;
use common::{canon, jsonl, root, scratch};

#[test]
fn map_groups_with_state_matches_spark_batch_by_batch() {
    let data = root().join("tests/data/spark/groups");
    let out = scratch("groups").join("out.jsonl");
    let o = common::streamc_quick()
        .arg("run")
        .arg(data.join("spec.yaml"))
        .arg("--replay")
        .arg(data.join("input"))
        .args(common::cluster_args())
        .arg("--jsonl")
        .arg(&out)
        .output()
        .expect("run streamc");
    assert!(o.status.success(), "streamc run failed:\n{}", String::from_utf8_lossy(&o.stderr));
    let mut ours: BTreeMap<(String, u64), Vec<String>> = BTreeMap::new();
    for l in jsonl(&out) {
        ours.insert((l["output"].as_str().unwrap().to_string(), l["batch_id"].as_u64().unwrap()), canon(&l["records"]));
    }
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut theirs_keys = Vec::new();
    for a in jsonl(&data.join("answers.jsonl")) {
        let key = (a["query"].as_str().unwrap().to_string(), a["batch"].as_u64().unwrap());
        let theirs = canon(&a["rows"]);
        let got = ours.get(&key).cloned().unwrap_or_default();
        compared += 1;
        if got != theirs {
            failures.push(format!("{} batch {}:\n  spark:   {theirs:?}\n  streamc: {got:?}", key.0, key.1));
        }
        theirs_keys.push(key);
    }
    for (key, rows) in &ours {
        if !theirs_keys.contains(key) && !rows.is_empty() {
            failures.push(format!("{} batch {}: streamc emitted {rows:?} in a batch Spark did not run", key.0, key.1));
        }
    }
    assert!(compared >= 18, "only {compared} batches compared");
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

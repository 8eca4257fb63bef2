//! SQL conformance with Apache Spark: every case of `tests/data/spark/sql/<topic>.cases.jsonl`
//! (a Spark SQL query over the JSON source `events`, an output mode, an optional watermark and
//! the input batches) runs through `streamc`, and its rows are compared batch by batch with what
//! Spark 4.3 emitted (`<topic>.answers.jsonl`, `sql_oracle.py`'s stdout, verbatim; `regen.sh`
//! remakes it). A query Spark refuses, streamc must refuse too: at `streamc check`, or by
//! failing the run where Spark fails the batch (ANSI casts).
//!
//! Cases with the same input, schema, watermark and output mode run as queries of one app, so
//! the whole set builds a handful of crates. A case may carry `steps` (the same query as YAML
//! `steps:`), which runs beside the SQL and must give Spark's rows too.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{jsonl, root, scratch};

fn dir() -> PathBuf {
    root().join("tests/data/spark/sql")
}

/// A case id as a query name: `global-agg/where-complete` → `global_agg_where_complete`.
fn query_name(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// The streaming inputs of a case: (name, schema, watermark, batches). A case reads the one
/// source `events` (`schema`, `watermark`, `batches`), or the `sources` it names (joins).
fn inputs(case: &Value) -> Vec<(String, &Value, &Value, &Value)> {
    match case.get("sources").and_then(Value::as_object) {
        Some(m) => m.iter().map(|(n, s)| (n.clone(), &s["schema"], &s["watermark"], &s["batches"])).collect(),
        None => vec![("events".to_string(), &case["schema"], &case["watermark"], &case["batches"])],
    }
}

/// One query of a spec: the SQL form, and the `steps:` form when the case has one.
fn queries_yaml(case: &Value) -> String {
    let name = query_name(case["id"].as_str().unwrap());
    let mode = case["output_mode"].as_str().unwrap_or("append");
    let wm = &case["watermark"];
    // A case Spark runs as a DataFrame program (`dataframe`, no SQL) runs as YAML steps only.
    let mut y =
        if case.get("sql").is_some() { format!("  - name: {name}\n    sql: {}\n", case["sql"]) } else { String::new() };
    if case.get("sql").is_some() {
        if case.get("sources").is_some() {
            let wms: Vec<String> = inputs(case)
                .iter()
                .filter(|(_, _, w, _)| !w.is_null())
                .map(|(n, _, w, _)| format!("{{ source: {n}, column: {}, delay: {} }}", w["column"], w["delay"]))
                .collect();
            if !wms.is_empty() {
                y += &format!("    watermark: [{}]\n", wms.join(", "));
            }
        } else if !wm.is_null() {
            y += &format!("    watermark: {{ column: {}, delay: {} }}\n", wm["column"], wm["delay"]);
        }
        y += &format!("    output_mode: {mode}\n    sink: console\n");
    }
    if let Some(steps) = case.get("steps") {
        let mut all = Vec::new();
        if !wm.is_null() {
            all.push(serde_json::json!({"with_watermark": {"column": wm["column"], "delay": wm["delay"]}}));
        }
        all.extend(steps.as_array().unwrap().iter().cloned());
        // Each step as a flow map with its operation first (`group_by` before its `agg`).
        let steps: Vec<String> = all
            .iter()
            .map(|s| {
                let mut fields: Vec<(&String, &Value)> = s.as_object().unwrap().iter().collect();
                fields.sort_by_key(|(k, _)| *k == "agg");
                let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("{{ {} }}", fields.join(", "))
            })
            .collect();
        y += &format!(
            "  - name: {name}_steps\n    from: {}\n    steps: [{}]\n    output_mode: {mode}\n    sink: console\n",
            case.get("from").and_then(Value::as_str).unwrap_or("events"),
            steps.join(", ")
        );
    }
    y
}

fn spec_yaml(app: &str, case: &Value, queries: &str) -> String {
    let mut sources = String::new();
    for (name, schema, _, _) in inputs(case) {
        let cols: Vec<String> = schema.as_object().unwrap().iter().map(|(c, t)| format!("{c}: {t}")).collect();
        // A CSV source (`"format": "csv"`) with Spark's reader options, as the spec spells them.
        let src = case.get("sources").and_then(|s| s.get(&name));
        let format = src.and_then(|s| s["format"].as_str()).unwrap_or("json");
        let options: String = src
            .and_then(|s| s["options"].as_object())
            .map(|o| o.iter().map(|(k, v)| format!(", {k}: {v}")).collect())
            .unwrap_or_default();
        sources += &format!(
            "  - name: {name}\n    {format}: {{ path: target/sql-never-read, max_files_per_trigger: 1{options} }}\n    schema: {{ {} }}\n",
            cols.join(", ")
        );
    }
    // A case's Spark settings become the spec's (the one setting cases use so far).
    let policy = match case["conf"]["spark.sql.streaming.multipleWatermarkPolicy"].as_str() {
        Some(p) => format!("multiple_watermark_policy: {p}\n"),
        None => String::new(),
    };
    format!("app: {app}\ntrigger: available_now\n{policy}sources:\n{sources}queries:\n{queries}")
}

fn streamc(args: &[&str], spec: &Path) -> Command {
    // ~180 small apps: built unoptimised (same semantics), each in ~1.3 s instead of ~2-7 s.
    let mut cmd = common::streamc_quick();
    cmd.arg(args[0]).arg(spec).args(&args[1..]);
    cmd
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Spark's value formats: floats rounded to 9 digits (as sql_oracle.py prints them).
fn norm(v: &Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap();
            let r = (x * 1e9).round() / 1e9;
            serde_json::Number::from_f64(if r.is_finite() { r } else { x }).map_or(Value::Null, Value::Number)
        }
        // The oracle prints timestamps to the second (`YYYY-MM-DD HH:MM:SS`).
        Value::String(s)
            if s.len() > 20
                && s.as_bytes()[19] == b'.'
                && s[..19].bytes().enumerate().all(|(i, b)| match i {
                    4 | 7 => b == b'-',
                    10 => b == b' ',
                    13 | 16 => b == b':',
                    _ => b.is_ascii_digit(),
                }) =>
        {
            Value::String(s[..19].to_string())
        }
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), norm(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(norm).collect()),
        other => other.clone(),
    }
}

/// A batch's rows as canonical strings: sorted, unless the case's order is part of its answer
/// (`ORDER BY`).
fn canon(rows: &Value, ordered: bool) -> Vec<String> {
    let mut v: Vec<String> = rows.as_array().expect("rows").iter().map(|r| norm(r).to_string()).collect();
    if !ordered {
        v.sort();
    }
    v
}

/// Writes one replay file per batch.
fn write_batches(dir: &Path, batches: &Value) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, b) in batches.as_array().unwrap().iter().enumerate() {
        // Rows as JSON lines; a CSV source's lines as they are.
        let text: String = b
            .as_array()
            .unwrap()
            .iter()
            .map(|r| match r.as_str() {
                Some(line) => format!("{line}\n"),
                None => format!("{r}\n"),
            })
            .collect();
        std::fs::write(dir.join(format!("b{i:05}")), text).unwrap();
    }
}

struct Case {
    case: Value,
    /// Spark's rows per batch, or its error.
    spark: Result<BTreeMap<u64, Vec<String>>, String>,
}

fn load() -> Vec<Case> {
    let mut topics: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".cases.jsonl"))
        .collect();
    topics.sort();
    // `STREAMC_SQL_TOPIC=stream-join cargo test --test sql` runs one topic.
    if let Ok(only) = std::env::var("STREAMC_SQL_TOPIC") {
        topics.retain(|t| t.file_name().is_some_and(|f| f.to_string_lossy() == format!("{only}.cases.jsonl")));
    }
    let mut out = Vec::new();
    for t in topics {
        let answers = PathBuf::from(t.to_string_lossy().replace(".cases.jsonl", ".answers.jsonl"));
        let mut by_case: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for a in jsonl(&answers) {
            by_case.entry(a["case"].as_str().unwrap().to_string()).or_default().push(a);
        }
        for case in jsonl(&t) {
            let id = case["id"].as_str().unwrap().to_string();
            let answers = by_case.remove(&id).unwrap_or_else(|| panic!("{id}: no answer from Spark; run regen.sh"));
            let ordered = case["ordered"].as_bool().unwrap_or(false);
            let spark = match answers[0].get("error") {
                Some(e) => Err(e.as_str().unwrap().to_string()),
                None => {
                    Ok(answers.iter().map(|a| (a["batch"].as_u64().unwrap(), canon(&a["rows"], ordered))).collect())
                }
            };
            out.push(Case { case, spark });
        }
        assert!(by_case.is_empty(), "{}: answers without a case: {:?}", answers.display(), by_case.keys());
    }
    out
}

/// `streamc check` of one case alone: Ok, or the diagnostics.
fn check_alone(case: &Value, work: &Path) -> Result<(), String> {
    let name = query_name(case["id"].as_str().unwrap());
    let spec = work.join(format!("{name}.yaml"));
    std::fs::write(&spec, spec_yaml(&name, case, &queries_yaml(case))).unwrap();
    let o = streamc(&["check"], &spec).output().expect("run streamc check");
    if o.status.success() { Ok(()) } else { Err(stderr(&o)) }
}

/// Runs `cases` as the queries of one app over their shared input; (query, batch) → rows (in
/// emitted order), or the run's error.
fn run_group(cases: &[&Case], work: &Path, n: usize) -> Result<BTreeMap<(String, u64), Vec<String>>, String> {
    let first = &cases[0].case;
    let group = work.join(format!("group{n}"));
    std::fs::create_dir_all(&group).unwrap();
    let queries: String = cases.iter().map(|c| queries_yaml(&c.case)).collect();
    let spec = group.join("spec.yaml");
    std::fs::write(&spec, spec_yaml(&format!("sql_conformance_{n}"), first, &queries)).unwrap();
    let out = group.join("out.jsonl");
    let mut cmd = streamc(&["run"], &spec);
    for (name, _, _, batches) in inputs(first) {
        let dir = group.join(format!("in-{name}"));
        write_batches(&dir, batches);
        cmd.arg("--replay").arg(format!("{name}={}", dir.display()));
    }
    let o = cmd.args(common::cluster_args()).arg("--jsonl").arg(&out).output().expect("run streamc");
    if !o.status.success() {
        return Err(stderr(&o));
    }
    Ok(jsonl(&out)
        .into_iter()
        .map(|l| {
            ((l["output"].as_str().unwrap().to_string(), l["batch_id"].as_u64().unwrap()), canon(&l["records"], true))
        })
        .collect())
}

#[test]
fn sql_queries_match_spark_batch_by_batch() {
    let work = scratch("sql-conformance");
    let cases = load();
    let mut failures = Vec::new();
    let mut runnable = Vec::new();
    let mut must_fail_at_run = Vec::new();
    for c in &cases {
        let id = c.case["id"].as_str().unwrap();
        match (&c.spark, check_alone(&c.case, &work)) {
            (Ok(_), Ok(())) => runnable.push(c),
            (Ok(_), Err(e)) => failures.push(format!("{id}: Spark runs it, streamc refuses it:\n{e}")),
            (Err(_), Err(_)) => {}
            (Err(_), Ok(())) => must_fail_at_run.push(c),
        }
    }
    // One app per (schema, input, watermark, output mode).
    let mut groups: BTreeMap<String, Vec<&Case>> = BTreeMap::new();
    for c in runnable {
        let k = ["schema", "batches", "watermark", "sources", "conf", "output_mode"]
            .map(|f| c.case[f].to_string())
            .join("|");
        groups.entry(k).or_default().push(c);
    }
    let mut compared = 0;
    for (n, group) in groups.values().enumerate() {
        let rows = match run_group(group, &work, n) {
            Ok(r) => r,
            Err(e) => {
                let ids: Vec<&str> = group.iter().map(|c| c.case["id"].as_str().unwrap()).collect();
                failures.push(format!("{ids:?}: streamc run failed:\n{e}"));
                continue;
            }
        };
        for c in group {
            let id = c.case["id"].as_str().unwrap();
            let Ok(spark) = &c.spark else { unreachable!() };
            let mut names = Vec::new();
            if c.case.get("sql").is_some() {
                names.push(query_name(id));
            }
            if c.case.get("steps").is_some() {
                names.push(format!("{}_steps", query_name(id)));
            }
            for q in names {
                let ordered = c.case["ordered"].as_bool().unwrap_or(false);
                for (b, theirs) in spark {
                    compared += 1;
                    let mut ours = rows.get(&(q.clone(), *b)).cloned().unwrap_or_default();
                    if !ordered {
                        ours.sort();
                    }
                    if &ours != theirs {
                        failures.push(format!("{id} ({q}) batch {b}:\n  spark:   {theirs:?}\n  streamc: {ours:?}"));
                    }
                }
                for ((rq, b), ours) in &rows {
                    if rq == &q && !spark.contains_key(b) && !ours.is_empty() {
                        failures
                            .push(format!("{id} ({q}): streamc emitted {ours:?} in batch {b}, which Spark never ran"));
                    }
                }
            }
        }
    }
    // Where Spark fails a batch (an ANSI cast of a bad value), the streamc run must fail too.
    for (k, c) in must_fail_at_run.iter().enumerate() {
        let id = c.case["id"].as_str().unwrap();
        let Err(spark) = &c.spark else { unreachable!() };
        if run_group(&[c], &work, 1000 + k).is_ok() {
            failures.push(format!("{id}: Spark refuses it ({spark}); streamc accepts and runs it"));
        }
    }
    eprintln!("{} cases, {compared} batches compared", cases.len());
    assert!(compared > 0, "no batch compared");
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

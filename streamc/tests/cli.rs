//! End-to-end tests of the `streamc` command: check, build and run real specs — replayed, over a
//! real TCP socket, and over a watched directory — and compare every batch with counts computed
//! independently here and with Apache Spark's own outputs (`tests/data/spark`).

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{root, run_ok, scratch, streamc};

/// Java's `String.split(" ")`, written independently of the runtime's.
fn java_split(line: &str) -> Vec<String> {
    if !line.contains(' ') {
        return vec![line.to_string()];
    }
    let mut parts: Vec<String> = line.split(' ').map(str::to_string).collect();
    while parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts
}

fn count_words(lines: &[&str]) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for line in lines {
        for w in java_split(line) {
            *counts.entry(w).or_insert(0) += 1;
        }
    }
    counts
}

/// Reads a jsonl file into (output, batch time, records as word → count) per line.
fn read_counts(path: &Path) -> Vec<(String, i64, BTreeMap<String, i64>)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("jsonl line");
            let records = v["records"].as_array().expect("records");
            let mut counts = BTreeMap::new();
            for r in records {
                let word = r[0].as_str().expect("word").to_string();
                let n = r[1].as_i64().expect("count");
                assert!(counts.insert(word.clone(), n).is_none(), "key `{word}` emitted twice in one batch");
            }
            (v["output"].as_str().expect("output").to_string(), v["batch_time_ms"].as_i64().expect("time"), counts)
        })
        .collect()
}

/// Writes one replay file per batch.
fn replay_dir(name: &str, batches: &[Vec<String>]) -> PathBuf {
    let dir = scratch(name);
    for (i, lines) in batches.iter().enumerate() {
        let mut text = String::new();
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        std::fs::write(dir.join(format!("batch-{i:05}.txt")), text).expect("write batch");
    }
    dir
}

#[test]
fn replayed_word_count_gives_the_independently_computed_counts() {
    let out_dir = scratch("replay");
    let jsonl = out_dir.join("out.jsonl");
    let out = run_ok(
        streamc().args(["run", "examples/word_count.yaml", "--replay", "examples/data/words", "--jsonl"]).arg(&jsonl),
    );
    let data = root().join("examples/data/words");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&data).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let got = read_counts(&jsonl);
    assert_eq!(got.len(), files.len(), "one jsonl line per batch");
    for (i, (f, (output, time, counts))) in files.iter().zip(&got).enumerate() {
        let text = std::fs::read_to_string(f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(output, "word_counts");
        assert_eq!(*time, 1000 * (i as i64 + 1), "batch {i} time");
        assert_eq!(counts, &count_words(&lines), "batch {i} ({})", f.display());
    }
    // Spark's print format on stdout, for every batch, empty ones included.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let dashes = "-".repeat(43);
    assert!(stdout.starts_with(&format!("{dashes}\nTime: 1000 ms\n{dashes}\n(the,2)\n")), "{stdout}");
    assert!(stdout.contains(&format!("{dashes}\nTime: 3000 ms\n{dashes}\n\n")), "{stdout}");
    assert_eq!(stdout.matches("Time: ").count(), files.len());
}

/// Spark's rows for one case of a golden file, per batch, as word → count.
fn spark_rows(golden: &str, case: Option<&str>) -> Vec<BTreeMap<String, i64>> {
    let text = std::fs::read_to_string(root().join("tests/data/spark").join(golden)).expect("golden");
    let mut batches = Vec::new();
    for l in text.lines() {
        let v: Value = serde_json::from_str(l).expect("golden line");
        if case.is_some_and(|c| v["case"] != c) {
            continue;
        }
        assert_eq!(v["batch"].as_u64(), Some(batches.len() as u64));
        let mut counts = BTreeMap::new();
        for r in v["rows"].as_array().expect("rows") {
            counts.insert(r["word"].as_str().unwrap().to_string(), r["count"].as_i64().unwrap());
        }
        batches.push(counts);
    }
    batches
}

fn spark_input(file: &str, total_batches: usize) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(root().join("tests/data/spark").join(file)).expect("input");
    let v: Value = serde_json::from_str(&text).expect("input json");
    let mut batches: Vec<Vec<String>> = v["batches"]
        .as_array()
        .expect("batches")
        .iter()
        .map(|b| b.as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_string()).collect())
        .collect();
    // The oracle runs trailing empty batches; replay the same number.
    batches.resize(total_batches, Vec::new());
    batches
}

fn assert_matches_spark(name: &str, input: &str, golden: &str, case: Option<&str>) {
    let expected = spark_rows(golden, case);
    let dir = replay_dir(&format!("{name}-in"), &spark_input(input, expected.len()));
    let jsonl = scratch(&format!("{name}-out")).join("out.jsonl");
    run_ok(streamc().args(["run", "examples/word_count.yaml", "--replay"]).arg(&dir).arg("--jsonl").arg(&jsonl));
    let got: Vec<BTreeMap<String, i64>> = read_counts(&jsonl).into_iter().map(|(_, _, c)| c).collect();
    assert_eq!(got, expected, "streamc vs Apache Spark, batch by batch");
}

#[test]
fn word_count_matches_spark_reduce_by_key() {
    assert_matches_spark("spark-rbk", "wordcount.json", "ds-scala.jsonl", Some("ds-reducebykey"));
}

#[test]
fn word_count_matches_spark_on_split_edge_cases() {
    assert_matches_spark("spark-split", "split-edge.json", "ds-split-edge-scala.jsonl", None);
}

#[test]
fn yaml_and_macro_word_counts_give_identical_output() {
    let dir = scratch("twins");
    let yaml = dir.join("yaml.jsonl");
    let rust = dir.join("macro.jsonl");
    let yaml_out = run_ok(
        streamc().args(["run", "examples/word_count.yaml", "--replay", "examples/data/words", "--jsonl"]).arg(&yaml),
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let macro_out = run_ok(
        Command::new(cargo)
            .current_dir(root())
            .args(["run", "-q", "-p", "streamc-examples", "--bin", "network_word_count", "--"])
            .args(["--replay", "examples/data/words", "--jsonl"])
            .arg(&rust),
    );
    assert!(read_counts(&yaml).iter().any(|(_, _, c)| !c.is_empty()), "the word count printed no records");
    assert_eq!(std::fs::read_to_string(&yaml).unwrap(), std::fs::read_to_string(&rust).unwrap());
    assert_eq!(yaml_out.stdout, macro_out.stdout);
}

fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The app's connection to the test's server, blocking. The first run may compile the
/// runtime: minutes are allowed.
fn accept_app(listener: &TcpListener) -> std::net::TcpStream {
    listener.set_nonblocking(true).unwrap();
    let mut conn = None;
    wait_for("the app to connect", Duration::from_secs(600), || {
        conn = listener.accept().ok().map(|(s, _)| s);
        conn.is_some()
    });
    let conn = conn.unwrap();
    conn.set_nonblocking(false).unwrap();
    conn
}

/// Sends SIGINT (what Ctrl-C sends) and waits for a clean exit.
fn interrupt(mut child: Child) -> Output {
    let status = Command::new("kill").arg("-INT").arg(child.id().to_string()).status().expect("kill");
    assert!(status.success());
    let start = Instant::now();
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the app did not stop within 30 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

fn jsonl_lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map(|t| t.lines().count()).unwrap_or(0)
}

#[test]
fn socket_word_count_over_tcp_with_pauses_across_batches() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    let dir = scratch("socket");
    let spec = dir.join("socket.yaml");
    let template = std::fs::read_to_string(root().join("examples/word_count.yaml")).unwrap();
    let text = template
        .replace("batch_interval: 1s", "batch_interval: 300ms")
        .replace("port: 9999", &format!("port: {port}"))
        .replace("host: localhost", "host: 127.0.0.1");
    std::fs::write(&spec, text).unwrap();
    let jsonl = dir.join("out.jsonl");
    let child = streamc()
        .arg("run")
        .arg(&spec)
        .arg("--jsonl")
        .arg(&jsonl)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut conn = accept_app(&listener);
    let groups: [&[&str]; 3] = [&["the cat sat", "the dog"], &["the cat ran"], &["dog dog owl", "a  b", "b "]];
    for group in groups {
        // One write per group, so a group lands in one batch.
        let text: String = group.iter().map(|l| format!("{l}\n")).collect();
        conn.write_all(text.as_bytes()).unwrap();
        conn.flush().unwrap();
        std::thread::sleep(Duration::from_millis(700));
    }
    let before = jsonl_lines(&jsonl);
    wait_for("two more batches", Duration::from_secs(10), || jsonl_lines(&jsonl) >= before + 2);
    let out = interrupt(child);
    assert!(out.status.success(), "exit status {}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    let batches = read_counts(&jsonl);
    // Every word sent is counted exactly once over all batches.
    let mut total: BTreeMap<String, i64> = BTreeMap::new();
    let mut non_empty = 0;
    for (_, time, counts) in &batches {
        assert_eq!(time % 300, 0, "batch times are multiples of the interval");
        non_empty += usize::from(!counts.is_empty());
        for (w, n) in counts {
            *total.entry(w.clone()).or_insert(0) += n;
        }
    }
    let all: Vec<&str> = groups.iter().flat_map(|g| g.iter().copied()).collect();
    assert_eq!(total, count_words(&all));
    assert!(non_empty >= 3, "the pauses put the groups into different batches: {batches:?}");
    // Each group arrived within one batch interval, so a group's words are never split: the
    // batch holding "sat" holds the whole first group.
    let first = batches.iter().find(|(_, _, c)| c.contains_key("sat")).unwrap();
    assert_eq!(first.2, count_words(groups[0]));
}

#[test]
fn text_file_stream_reads_each_new_file_once() {
    let dir = scratch("files");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("old.txt"), "old words are not read\n").unwrap();
    let spec = dir.join("files.yaml");
    let text = format!(
        "app: files\nbatch_interval: 200ms\nstreams:\n  - name: lines\n    text_file_stream: {}\n  \
         - name: words\n    flat_map: {{ split: \" \" }}\n  - name: pairs\n    map: {{ pair_with: 1 }}\n  \
         - name: counts\n    reduce_by_key: sum\noutputs:\n  - print: counts\n",
        input.display()
    );
    std::fs::write(&spec, text).unwrap();
    let jsonl = dir.join("out.jsonl");
    let child = streamc()
        .arg("run")
        .arg(&spec)
        .arg("--jsonl")
        .arg(&jsonl)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the first batch", Duration::from_secs(600), || jsonl_lines(&jsonl) >= 1);
    // Written elsewhere, renamed in: the file is complete when it appears.
    std::fs::write(input.join(".new.txt.tmp"), "the cat sat\nthe dog\n").unwrap();
    std::fs::rename(input.join(".new.txt.tmp"), input.join("new.txt")).unwrap();
    let seen = || read_counts(&jsonl).iter().any(|(_, _, c)| !c.is_empty());
    wait_for("the new file's batch", Duration::from_secs(10), seen);
    let n = jsonl_lines(&jsonl);
    wait_for("two more batches", Duration::from_secs(10), || jsonl_lines(&jsonl) >= n + 2);
    let out = interrupt(child);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let non_empty: Vec<_> = read_counts(&jsonl).into_iter().filter(|(_, _, c)| !c.is_empty()).collect();
    assert_eq!(non_empty.len(), 1, "the new file is read once: {non_empty:?}");
    assert_eq!(non_empty[0].2, count_words(&["the cat sat", "the dog"]));
}

#[test]
fn check_reports_errors_with_locations_and_exit_code() {
    let bad = streamc().args(["check", "tests/data/check/err/unknown_operator.yaml"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("--> tests/data/check/err/unknown_operator.yaml:8:5"), "{stderr}");
    assert!(stderr.contains("did you mean `flat_map`?"), "{stderr}");
    let good = run_ok(streamc().args(["check", "examples/word_count.yaml"]));
    assert!(String::from_utf8_lossy(&good.stdout).starts_with("ok: "));
    let missing = streamc().args(["check", "no/such/spec.yaml"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read spec `no/such/spec.yaml`"));
}

#[test]
fn build_writes_a_standalone_crate_that_cargo_builds_and_runs() {
    let dir = scratch("build");
    let out = dir.join("wc");
    run_ok(streamc().args(["build", "examples/word_count.yaml", "-o"]).arg(&out));
    let main = std::fs::read_to_string(out.join("src/main.rs")).unwrap();
    assert!(main.contains("fn main()"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run_ok(
        Command::new(&cargo)
            .current_dir(&out)
            .env("CARGO_TARGET_DIR", root().join("target").join("streamc-cache").join("target"))
            .args(["run", "-q", "--release", "--", "--replay"])
            .arg(root().join("examples/data/words")),
    );
}

/// The lines of a jsonl file by batch time, for one output.
fn by_time(path: &Path, output: &str) -> BTreeMap<i64, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let v: Value = serde_json::from_str(l).ok()?;
            (v["output"] == output).then(|| (v["batch_time_ms"].as_i64().unwrap(), v["records"].to_string()))
        })
        .collect()
}

#[test]
fn stateful_word_count_resumes_from_its_checkpoint_with_identical_output() {
    // Twelve batches: checkpoints are every 10 batches for map_with_state, so stop after 11.
    let batches: Vec<Vec<String>> = (0..14)
        .map(|i| vec![format!("w{} hello w{}", i % 3, i % 5), if i % 4 == 0 { String::new() } else { "world".into() }])
        .collect();
    let input = replay_dir("restart-in", &batches);
    let dir = scratch("restart");
    let full = dir.join("full.jsonl");
    run_ok(
        streamc()
            .args(["run", "examples/stateful_word_count.yaml", "--replay"])
            .arg(&input)
            .arg("--jsonl")
            .arg(&full)
            .arg("--checkpoint")
            .arg(dir.join("ck-full")),
    );
    let first = dir.join("first.jsonl");
    let second = dir.join("second.jsonl");
    let ck = dir.join("ck");
    run_ok(
        streamc()
            .args(["run", "examples/stateful_word_count.yaml", "--replay"])
            .arg(&input)
            .arg("--jsonl")
            .arg(&first)
            .arg("--checkpoint")
            .arg(&ck)
            .args(["--", "--max-batches", "11"]),
    );
    let names: Vec<String> = std::fs::read_dir(ck.join("commits"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "one commit (batch 10): {names:?}");
    run_ok(
        streamc()
            .args(["run", "examples/stateful_word_count.yaml", "--replay"])
            .arg(&input)
            .arg("--jsonl")
            .arg(&second)
            .arg("--checkpoint")
            .arg(&ck),
    );
    let full = by_time(&full, "state_dstream");
    let first = by_time(&first, "state_dstream");
    let second = by_time(&second, "state_dstream");
    assert_eq!(full.len(), 14);
    assert_eq!(first.keys().copied().collect::<Vec<_>>(), (1..=11).map(|i| i * 1000).collect::<Vec<_>>());
    // The resumed run starts after the checkpoint of batch 10 and matches the uninterrupted run.
    assert_eq!(second.keys().copied().collect::<Vec<_>>(), (11..=14).map(|i| i * 1000).collect::<Vec<_>>());
    for (t, records) in &second {
        assert_eq!(records, &full[t], "batch {t} after the restart");
    }
    for (t, records) in &first {
        assert_eq!(records, &full[t], "batch {t} before the stop");
    }
}

/// 25 one-second batches of words: long enough that the windowed word count's 10-second slide
/// fires twice (at 10 s and 20 s) with a 30-second window, with empty batches between.
fn twin_input() -> PathBuf {
    let words = ["spark", "stream", "rust", "cat", "dog", "sat"];
    let batches: Vec<Vec<String>> = (0..25usize)
        .map(|i| match i % 7 {
            3 => Vec::new(),
            _ => (0..1 + i % 3)
                .map(|j| format!("{} {} {}", words[(i + j) % 6], words[(i * 2 + j) % 6], words[i % 6]))
                .collect(),
        })
        .collect();
    replay_dir("twin-input", &batches)
}

#[test]
fn examples_run_under_replay_and_their_macro_twins_agree() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let input = twin_input();
    // Batches with records each example must print at least: the windowed count fires on its
    // slide (twice in 25 s); the stateful counts print their state every batch.
    for (example, least) in [("windowed_word_count", 2), ("stateful_word_count", 20), ("update_state_word_count", 20)] {
        let dir = scratch(&format!("twin-{example}"));
        let yaml = dir.join("yaml.jsonl");
        let rust = dir.join("macro.jsonl");
        let yaml_out = run_ok(
            streamc()
                .args(["run", &format!("examples/{example}.yaml"), "--replay"])
                .arg(&input)
                .arg("--jsonl")
                .arg(&yaml)
                .arg("--checkpoint")
                .arg(dir.join("ck-yaml")),
        );
        let macro_out = run_ok(
            Command::new(&cargo)
                .current_dir(root())
                .args(["run", "-q", "-p", "streamc-examples", "--bin", example, "--", "--replay"])
                .arg(&input)
                .arg("--jsonl")
                .arg(&rust)
                .arg("--checkpoint")
                .arg(dir.join("ck-macro")),
        );
        let with_records = std::fs::read_to_string(&yaml)
            .unwrap()
            .lines()
            .filter(|l| !serde_json::from_str::<Value>(l).unwrap()["records"].as_array().unwrap().is_empty())
            .count();
        assert!(with_records >= least, "{example}: {with_records} batches with records, expected at least {least}");
        assert_eq!(
            std::fs::read_to_string(&yaml).unwrap(),
            std::fs::read_to_string(&rust).unwrap(),
            "{example}: YAML vs stream!"
        );
        assert_eq!(yaml_out.stdout, macro_out.stdout, "{example}: printed output");
    }
}

#[test]
fn every_operator_runs_with_independently_checked_results() {
    let dir = scratch("every-operator");
    let jsonl = dir.join("out.jsonl");
    run_ok(
        streamc()
            .args(["run", "tests/data/check/ok/every_operator.yaml", "--replay", "examples/data/words", "--jsonl"])
            .arg(&jsonl)
            .arg("--checkpoint")
            .arg(dir.join("ck")),
    );
    let data = root().join("examples/data/words");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&data).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let texts: Vec<String> = files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
    let lines: Vec<Vec<&str>> = texts.iter().map(|t| t.lines().collect()).collect();
    let records = |output: &str| -> Vec<Value> {
        let text = std::fs::read_to_string(&jsonl).unwrap();
        text.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v["output"] == output)
            .map(|v| v["records"].clone())
            .collect()
    };
    let mut running: BTreeMap<String, i64> = BTreeMap::new();
    for (i, batch) in lines.iter().enumerate() {
        let counts = count_words(batch);
        let words: i64 = counts.values().sum();
        assert_eq!(records("counted")[i], serde_json::json!([words]), "count, batch {i}");
        let by_value: BTreeMap<String, i64> = records("by_value")[i]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r[0].as_str().unwrap().into(), r[1].as_i64().unwrap()))
            .collect();
        assert_eq!(by_value, counts, "count_by_value, batch {i}");
        // The words of owned (upper-cased) lines, split from the batch's scratch.
        let shouted: BTreeMap<String, i64> = records("shouted_counts")[i]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r[0].as_str().unwrap().into(), r[1].as_i64().unwrap()))
            .collect();
        let mut upper: BTreeMap<String, i64> = BTreeMap::new();
        for (w, n) in &counts {
            *upper.entry(w.to_uppercase()).or_insert(0) += n;
        }
        assert_eq!(shouted, upper, "split of owned strings, batch {i}");
        // join of (w, 1) with (w, len): every pair of occurrences of a word.
        let joined = records("joined")[i].as_array().unwrap().len() as i64;
        assert_eq!(joined, counts.values().map(|n| n * n).sum::<i64>(), "join, batch {i}");
        // union of the pairs with themselves: twice the words.
        assert_eq!(records("both")[i].as_array().unwrap().len() as i64, 2 * words, "union, batch {i}");
        for (w, n) in counts {
            *running.entry(w).or_insert(0) += n;
        }
        let got: BTreeMap<String, i64> = records("running")[i]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r[0].as_str().unwrap().into(), r[1].as_i64().unwrap()))
            .collect();
        assert_eq!(got, running, "update_state_by_key, batch {i}");
    }
}

/// Batches large enough to be split over workers (two-phase `reduce_by_key`, `count_by_value`,
/// window panes) give exactly the single-threaded output, key order included, and the
/// independently computed counts.
#[test]
fn keyed_tables_on_two_workers_equal_one_worker() {
    let dir = scratch("workers");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut batches = Vec::new();
    for b in 0..2 {
        let mut text = String::new();
        // About 2 MiB per batch (over the 1 MiB at which batches are split), with edge cases
        // (empty lines, double spaces, trailing spaces) spread over the whole batch.
        for i in 0..120_000 {
            let mut line = Vec::new();
            for _ in 0..3 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                line.push(format!("w{}", (seed % 5000) * (seed % 7)));
            }
            let line = match i % 50 {
                0 => String::new(),
                1 => format!("{}  {} ", line[0], line[1]),
                _ => line.join(" "),
            };
            text.push_str(&line);
            text.push('\n');
        }
        std::fs::write(input.join(format!("b{b}")), &text).unwrap();
        batches.push(text);
    }
    let run = |spec: &str, workers: &str| {
        let name = Path::new(spec).file_stem().unwrap().to_string_lossy().into_owned();
        let jsonl = dir.join(format!("{name}-{workers}.jsonl"));
        let progress = dir.join(format!("{name}-{workers}.progress"));
        run_ok(
            streamc()
                .args(["run", spec, "--replay"])
                .arg(&input)
                .arg("--jsonl")
                .arg(&jsonl)
                .arg("--checkpoint")
                .arg(dir.join(format!("ck-{name}-{workers}")))
                .args(["--", "--workers", workers, "--progress"])
                .arg(&progress)
                .stdout(Stdio::null()),
        );
        // Parts the batches ran in on worker threads, per batch (the progress lines).
        let parts: Vec<u64> = std::fs::read_to_string(&progress)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["numParallelParts"].as_u64().unwrap_or(0))
            .collect();
        (std::fs::read_to_string(&jsonl).unwrap(), parts)
    };
    // `reduce_by_key`, then the other per-batch keyed tables that are split the same way:
    // `count_by_value` and the panes of a window with an inverse function.
    for spec in
        ["examples/word_count.yaml", "tests/data/workers/count_by_value.yaml", "tests/data/workers/windowed.yaml"]
    {
        let ((one, one_parts), (two, two_parts)) = (run(spec, "1"), run(spec, "2"));
        assert!(!one.is_empty(), "{spec} printed nothing");
        // The 2-worker run did split every batch (both hold over 1 MiB); the 1-worker run none.
        assert_eq!(one_parts, [0, 0], "{spec}: one worker");
        assert!(two_parts.len() == 2 && two_parts.iter().all(|&p| p >= 2), "{spec}: parts per batch {two_parts:?}");
        assert!(one == two, "2 workers changed the output of {spec} (values or key order)");
    }
    for ((_, _, counts), text) in read_counts(&dir.join("word_count-2.jsonl")).iter().zip(&batches) {
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(counts, &count_words(&lines));
    }
    // The window of 2 batches holds both batches: its counts are their sum.
    let mut both: Vec<&str> = batches[0].lines().collect();
    both.extend(batches[1].lines());
    let windowed = read_counts(&dir.join("windowed-2.jsonl"));
    assert_eq!(windowed.len(), 2, "one output per batch");
    assert_eq!(windowed[1].2, count_words(&both));
}

/// `explain` and `graph` print the plan of a good spec (the texts are goldens, see
/// `tests/tests/golden.rs`), and refuse a bad one with its diagnostics and exit code 1.
#[test]
fn explain_and_graph_print_the_plan_or_the_errors() {
    let out = run_ok(streamc().args(["explain", "examples/word_count.yaml"]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("== Physical Plan ==\n*(1) lines -> words (flat_map)"), "{text}");
    let out = run_ok(streamc().args(["graph", "--format", "mermaid", "examples/structured_word_count.yaml"]));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("flowchart TD\n"));
    for cmd in ["explain", "graph"] {
        let out = streamc().args([cmd, "tests/data/check/err/closure_arity.yaml"]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("closure_arity.yaml:"), "{cmd}: {stderr}");
        assert!(out.stdout.is_empty(), "{cmd}");
    }
}

/// A replay, or an `AvailableNow` run, shows a progress bar (files done, rows/s, time left)
/// when stderr is a terminal (a pseudo-terminal from util-linux's `script` here), and never
/// when it is not.
#[test]
fn replay_progress_bar_only_on_a_terminal() {
    let dir = scratch("progress-bar");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    for i in 0..30 {
        std::fs::write(input.join(format!("b{i:02}")), "a b c\nb c\n").unwrap();
    }
    // Built (and cached) first, so that the terminal run only runs.
    let piped = run_ok(streamc().args(["run", "examples/word_count.yaml", "--replay"]).arg(&input));
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert!(!stderr.contains(" files ·"), "a bar without a terminal: {stderr}");
    let cmd = format!("{} run examples/word_count.yaml --replay {}", env!("CARGO_BIN_EXE_streamc"), input.display());
    let mut script = Command::new("script");
    script.args(["-qec", &cmd, "/dev/null"]);
    script.env("STREAMC_CACHE_DIR", root().join("target").join("streamc-cache")).current_dir(root());
    let out = run_ok(&mut script);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("/30 files ·") && shown.contains("rows/s"), "no progress bar on a terminal:\n{shown}");

    // `AvailableNow` over a directory: the files there at start, several per batch.
    let events = dir.join("events");
    std::fs::create_dir_all(&events).unwrap();
    for i in 0..12 {
        std::fs::write(events.join(format!("e{i:02}.json")), "{\"word\": \"a\"}\n{\"word\": \"b\"}\n").unwrap();
    }
    let spec = dir.join("available_now.yaml");
    let yaml = format!(
        "app: available_now\ntrigger: available_now\nsources:\n  - name: events\n    json: {{ path: {}, max_files_per_trigger: 5 }}\n    schema: {{ word: string }}\nqueries:\n  - name: words\n    from: events\n    steps:\n      - group_by: [word]\n        agg: [\"count(*)\"]\n    output_mode: complete\n    sink: console\n",
        events.display()
    );
    std::fs::write(&spec, yaml).unwrap();
    let cmd =
        format!("{} run {} --checkpoint {}", env!("CARGO_BIN_EXE_streamc"), spec.display(), dir.join("ck").display());
    let mut script = Command::new("script");
    script.args(["-qec", &cmd, "/dev/null"]);
    script.env("STREAMC_CACHE_DIR", root().join("target").join("streamc-cache")).current_dir(root());
    let out = run_ok(&mut script);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("/12 files ·"), "no progress bar for AvailableNow on a terminal:\n{shown}");
}

/// Spark's StructuredNetworkWordCountWindowed: a socket source with `include_timestamp`.
/// Replayed, the lines come with their times as JSON; live, each line gets the time it arrived.
#[test]
fn a_socket_with_include_timestamp_gives_each_line_the_time_it_arrived() {
    let dir = scratch("socket-timestamps");
    let replay = dir.join("replay");
    std::fs::create_dir_all(&replay).unwrap();
    let line = |v: &str, t: &str| format!("{{\"value\":\"{v}\",\"timestamp\":\"2024-01-01 00:00:{t}\"}}\n");
    std::fs::write(replay.join("0.txt"), line("the cat", "03") + &line("the dog", "07")).unwrap();
    std::fs::write(replay.join("1.txt"), line("cat", "12")).unwrap();
    let out = dir.join("windowed.jsonl");
    let spec = root().join("examples/structured_network_word_count_windowed.yaml");
    let replayed = format!("lines={}", replay.display());
    run_ok(streamc().arg("run").arg(&spec).args(["--replay", &replayed, "--jsonl", out.to_str().unwrap()]));
    let batches: Vec<Vec<String>> = common::jsonl(&out)
        .iter()
        .map(|b| {
            let mut rows: Vec<String> = b["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let start = r["window"]["start"].as_str().unwrap();
                    format!("{} {} {}", &start[14..19], r["word"].as_str().unwrap(), r["count"])
                })
                .collect();
            rows.sort();
            rows
        })
        .collect();
    // 10-second windows every 5 seconds: each time is in two of them (starts shown as mm:ss).
    assert_eq!(
        batches,
        [
            vec![
                "00:00 cat 1",
                "00:00 dog 1",
                "00:00 the 2",
                "00:05 dog 1",
                "00:05 the 1",
                "59:55 cat 1",
                "59:55 the 1"
            ],
            vec![
                "00:00 cat 1",
                "00:00 dog 1",
                "00:00 the 2",
                "00:05 cat 1",
                "00:05 dog 1",
                "00:05 the 1",
                "00:10 cat 1",
                "59:55 cat 1",
                "59:55 the 1"
            ],
        ]
    );

    // Live: the time a line gets is between just before it was sent and just after it was read.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    let live = dir.join("live.yaml");
    std::fs::write(
        &live,
        format!(
            "app: socket_times\nbatch_interval: 200ms\nsources:\n  - name: lines\n    socket: {{ host: 127.0.0.1, port: {port}, include_timestamp: true }}\nqueries:\n  - name: rows\n    sql: SELECT value, CAST(timestamp AS DOUBLE) AS t FROM lines\n    output_mode: append\n    sink: console\n"
        ),
    )
    .unwrap();
    let jsonl = dir.join("live.jsonl");
    let child = streamc()
        .arg("run")
        .arg(&live)
        .args(["--jsonl", jsonl.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut conn = accept_app(&listener);
    let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let before = now();
    conn.write_all(b"hello there\nagain\n").unwrap();
    conn.flush().unwrap();
    let rows = || -> Vec<Value> {
        std::fs::read_to_string(&jsonl)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .flat_map(|b| b["records"].as_array().cloned().unwrap_or_default())
            .collect()
    };
    wait_for("the two lines", Duration::from_secs(30), || rows().len() >= 2);
    let after = now();
    let o = interrupt(child);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = rows();
    assert_eq!(got.iter().map(|r| r["value"].as_str().unwrap()).collect::<Vec<_>>(), ["hello there", "again"]);
    for r in &got {
        let t = r["t"].as_f64().unwrap();
        // Milliseconds, as Spark's: rounded down, so up to 1 ms before `before`.
        assert!(t >= before - 0.001 && t <= after, "a line stamped {t}, sent at {before}, read by {after}");
    }
}

#[test]
fn run_removes_the_least_recently_used_app_builds_beyond_streamc_cache_keep() {
    let dir = scratch("cache_prune");
    // A cache of its own whose target directory is the tests' shared one (the runtime is built
    // there once): only this cache's apps are candidates for removal.
    let cache = dir.join("cache");
    let shared_target = root().join("target").join("streamc-cache").join("target");
    let release = shared_target.join("release");
    std::fs::create_dir_all(release.join("deps")).unwrap();
    std::fs::create_dir_all(&cache).unwrap();
    std::os::unix::fs::symlink(&shared_target, cache.join("target")).unwrap();
    // An app built two days ago and not used since: its crate, binary and deps.
    let old = "cache_probe_old-00000000000000aa";
    std::fs::create_dir_all(cache.join(old).join("src")).unwrap();
    std::fs::write(cache.join(old).join("Cargo.toml"), "[package]\n").unwrap();
    let used = std::fs::File::create(cache.join(old).join(".used")).unwrap();
    used.set_modified(std::time::SystemTime::now() - Duration::from_secs(2 * 86_400)).unwrap();
    std::fs::write(release.join(old), "an old binary").unwrap();
    let old_deps = release.join("deps").join("cache_probe_old_00000000000000aa-0123456789abcdef");
    std::fs::write(&old_deps, "an old binary").unwrap();
    // A spec of its own name, so that the app it makes is this test's alone.
    let spec = dir.join("cache_probe.yaml");
    std::fs::copy(root().join("examples/word_count.yaml"), &spec).unwrap();
    let run = |keep: &str| {
        streamc()
            .env("STREAMC_CACHE_DIR", &cache)
            .env("STREAMC_CACHE_KEEP", keep)
            .arg("run")
            .arg(&spec)
            .arg("--replay")
            .arg(root().join("examples/data/words"))
            .output()
            .unwrap()
    };

    // A STREAMC_CACHE_KEEP that is not a number stops the run before anything is built.
    let bad = run("lots");
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success() && err.contains("STREAMC_CACHE_KEEP must be a number"), "{err}");
    assert!(cache.join(old).exists());
    // So does a STREAMC_APP_PROFILE that names no profile.
    let bad =
        streamc().env("STREAMC_CACHE_DIR", &cache).env("STREAMC_APP_PROFILE", "fast").arg("run").arg(&spec).output();
    let bad = bad.unwrap();
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success() && err.contains("STREAMC_APP_PROFILE=\"fast\": expected `release`"), "{err}");
    assert!(cache.join(old).exists());

    let out = run("0");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("removed 1 unused app build ("), "{err}");
    assert!(!cache.join(old).exists() && !release.join(old).exists() && !old_deps.exists());
    // The app just built and run was used now: it stays, with its binary.
    let kept: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("cache_probe-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(cache.join(&kept[0]).join(".used").exists() && release.join(&kept[0]).exists());
}

//! The cluster engine (`streamc run --processes N`, timely dataflow between local processes):
//! every example gives, batch by batch, what one process gives, while the progress line shows
//! each batch split over the processes. Keyed state is partitioned by key: a DStream batch's
//! keyed tables, windows and states (`reduce_by_key`, `reduce_by_key_and_window`,
//! `update_state_by_key`, `map_with_state`), a Structured aggregation's, deduplication's and
//! session windows' state; each process emits its keys' rows and the rows are gathered in
//! process order, so a batch has the same records in another order (as Spark's, whose order
//! follows its partitions). Stages that are not partitioned give the same records in the same
//! order. Partitioned checkpoints resume on any number of processes.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;

mod common;
// Apps built unoptimised: small inputs, apps rebuilt after every change of the runtime.
use common::{root, run_ok, scratch, streamc_quick as streamc};

/// A replay directory of word lines: `batches` files of about `lines` lines each, with the
/// edge cases of Java's split (empty lines, double and trailing spaces).
fn words(name: &str, batches: usize, lines: usize) -> PathBuf {
    let dir = scratch(name).join("in");
    std::fs::create_dir_all(&dir).unwrap();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for b in 0..batches {
        let mut text = String::new();
        for i in 0..lines + b * 7 {
            let mut w = Vec::new();
            for _ in 0..3 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                w.push(format!("w{}", seed % 97));
            }
            text.push_str(&match i % 40 {
                0 => String::new(),
                1 => format!("{}  {} ", w[0], w[1]),
                _ => w.join(" "),
            });
            text.push('\n');
        }
        std::fs::write(dir.join(format!("b{b:03}")), text).unwrap();
    }
    dir
}

/// Runs `args` with `processes` processes; returns the jsonl, the printed output and each
/// batch's `numParallelParts`.
fn run(name: &str, args: &[&str], processes: usize) -> (String, Vec<u8>, Vec<u64>) {
    let dir = root().join("target").join("streamc-tests").join(format!("{name}-p{processes}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    run_in(&dir, args, processes)
}

/// [`run`] with its files (checkpoint included: a second run resumes) in `dir`.
fn run_in(dir: &Path, args: &[&str], processes: usize) -> (String, Vec<u8>, Vec<u64>) {
    run_with(dir, args, processes, &[])
}

/// [`run_in`] with `extra` arguments for the app (after `--`).
fn run_with(dir: &Path, args: &[&str], processes: usize, extra: &[&str]) -> (String, Vec<u8>, Vec<u64>) {
    let (jsonl, progress) = (dir.join("out.jsonl"), dir.join("progress.jsonl"));
    let _ = std::fs::remove_file(&jsonl);
    let _ = std::fs::remove_file(&progress);
    let mut cmd = streamc();
    cmd.args(["run"]).args(args).arg("--jsonl").arg(&jsonl).arg("--checkpoint").arg(dir.join("ck"));
    if processes > 1 {
        cmd.arg("--processes").arg(processes.to_string());
    }
    cmd.arg("--").arg("--progress").arg(&progress).args(extra).stdin(Stdio::null());
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let supervisor = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{cmd:?} failed: {}\nstderr:\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    // Built unoptimised (this file's `streamc`), and `streamc run` says so.
    assert!(String::from_utf8_lossy(&out.stderr).contains("STREAMC_APP_PROFILE=quick: the app is built unoptimised"));
    // The supervisor's hostfile went with it.
    let hostfile = root().join("target/streamc-cache/cluster").join(format!("hosts-{supervisor}"));
    assert!(!hostfile.exists(), "{} is left behind", hostfile.display());
    let parts = std::fs::read_to_string(&progress)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["numParallelParts"].as_u64().unwrap_or(0))
        .collect();
    (std::fs::read_to_string(&jsonl).unwrap(), out.stdout, parts)
}

/// The `numInputRows` of every batch of [`run`]`(name, .., processes)`'s progress.
fn input_rows(name: &str, processes: usize) -> Vec<u64> {
    let progress =
        root().join("target").join("streamc-tests").join(format!("{name}-p{processes}")).join("progress.jsonl");
    std::fs::read_to_string(progress)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["numInputRows"].as_u64().unwrap())
        .collect()
}

/// A jsonl's batches, each with its records as a sorted multiset.
fn batches(jsonl: &str) -> Vec<(String, u64, Vec<String>)> {
    jsonl
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let mut records: Vec<String> =
                v["records"].as_array().unwrap().iter().map(|r| serde_json::to_string(r).unwrap()).collect();
            records.sort();
            // A Structured batch's id, or a DStream batch's time.
            let batch = v["batch_id"].as_u64().or_else(|| v["batch_time_ms"].as_u64()).unwrap();
            (v["output"].as_str().unwrap().to_owned(), batch, records)
        })
        .collect()
}

#[test]
fn examples_on_two_and_three_processes_equal_one_process() {
    let input = words("cluster-words", 24, 300);
    let input = input.to_str().unwrap();
    let joins = join_inputs("cluster-joins", 16, 200);
    let events = events("cluster-events", 8, 300);
    let events = events.to_str().unwrap();
    // With whether the pipeline's stage is split over the processes: stages that end in a
    // per-batch keyed table or a Structured aggregation are; the others (`update_state_by_key`
    // reads whole groups) run on every process over the whole batch, and still agree. And with
    // whether the order is one process's (DStreams) or the state is partitioned (Structured).
    let cases: Vec<(&str, bool, bool, Vec<&str>)> = vec![
        // Their keyed tables (and the window's panes) are partitioned by key: the records are
        // one process's, in process order.
        ("word_count", true, false, vec!["examples/word_count.yaml", "--replay", input]),
        ("windowed_word_count", true, false, vec!["examples/windowed_word_count.yaml", "--replay", input]),
        ("chained_windows", true, true, vec!["examples/chained_windows.yaml", "--replay", input]),
        // Each pair goes to the process that owns its key, whose part of the state it updates.
        ("stateful_word_count", true, false, vec!["examples/stateful_word_count.yaml", "--replay", input]),
        ("structured_word_count", true, false, vec!["examples/structured_word_count.yaml", "--replay", input]),
        (
            "windowed_event_counts",
            true,
            false,
            vec!["examples/windowed_event_counts.yaml", "--replay", "examples/data/events"],
        ),
        (
            "windowed_event_counts_update",
            true,
            false,
            vec!["examples/windowed_event_counts_update.yaml", "--replay", "examples/data/events"],
        ),
        (
            "windowed_event_counts_sql",
            true,
            false,
            vec!["examples/windowed_event_counts_sql.yaml", "--replay", "examples/data/events"],
        ),
        ("update_state_word_count", true, false, vec!["examples/update_state_word_count.yaml", "--replay", input]),
        // Two keyed tables joined, cogrouped and put in a union on each process's part.
        ("keyed_join", true, false, vec!["tests/data/cluster/keyed_join.yaml", "--replay", input]),
        // Pairs made over each process's share of the batch and sent by key to keyed operators.
        ("shared_pairs", true, false, vec!["tests/data/cluster/shared_pairs.yaml", "--replay", input]),
        // Stream-stream joins partitioned by join key: each process joins the keys it owns.
        (
            "stream_join",
            false,
            false,
            vec!["tests/data/cluster/stream_join.yaml", "--replay", &joins[0], "--replay", &joins[1]],
        ),
        // Deduplications: each row sent to the process that owns its key, which keeps its state.
        ("dedup", true, false, vec!["tests/data/cluster/dedup.yaml", "--replay", events]),
        // Session windows: each key's events sent to the process that owns it.
        ("sessions", true, false, vec!["tests/data/cluster/sessions.yaml", "--replay", events]),
        // A stream-stream join over its own file streams (`available_now`: process 0 plans each
        // batch's files), partitioned by join key, and mapGroupsWithState sessions, which every
        // process runs whole: not split.
        ("ad_clicks", false, false, vec!["examples/ad_clicks.yaml"]),
        (
            "structured_network_word_count_windowed",
            true,
            false,
            vec!["examples/structured_network_word_count_windowed.yaml", "--replay", "examples/data/stamped_lines"],
        ),
        (
            "structured_sessionization",
            false,
            false,
            vec!["examples/structured_sessionization.yaml", "--replay", "examples/data/sessions"],
        ),
    ];
    for (name, split, ordered, args) in &cases {
        let (one, one_out, one_parts) = run(name, args, 1);
        assert!(one.lines().count() > 1, "{name}: {one}");
        assert!(one_parts.iter().all(|&p| p == 0), "{name}: one process split a small batch: {one_parts:?}");
        for n in [2, 3] {
            let (many, many_out, parts) = run(name, args, n);
            if *ordered {
                assert!(one == many, "{name}: {n} processes changed the output\none:\n{one}\n{n}:\n{many}");
                assert_eq!(
                    String::from_utf8_lossy(&one_out),
                    String::from_utf8_lossy(&many_out),
                    "{name}: {n} processes changed the printed output"
                );
            } else {
                assert!(
                    batches(&one) == batches(&many),
                    "{name}: {n} processes changed the records\none:\n{one}\n{n}:\n{many}"
                );
                // The console shows the same batches, of the same sizes.
                assert_eq!(one_out.split(|&b| b == b'\n').count(), many_out.split(|&b| b == b'\n').count(), "{name}");
            }
            // Each batch's input rows are counted once, over all processes (sources whose
            // readers all run over shares are read in shares: each process its byte ranges).
            assert_eq!(input_rows(name, n), input_rows(name, 1), "{name}: numInputRows on {n} processes");
            // Batches were split: a part per process with lines (a small file has fewer lines than
            // there are processes).
            if *split {
                assert!(parts.iter().any(|&p| p >= 2), "{name}: parts per batch on {n} processes: {parts:?}");
            }
        }
    }
}

/// A `print` without `--jsonl` reads only each batch's first records: in a cluster each process
/// sends process 0 only its first ones and the count of the rest (`BatchInput::gather_output`).
/// The word count printed by 2 processes shows, batch by batch, the block one process prints —
/// its header, as many records and `...` when there are more — with records of that batch (in
/// the cluster's order: each process's keys), and counts every record in `numOutputRows`.
#[test]
fn a_print_without_jsonl_shows_the_first_records_of_every_process() {
    let input = words("cluster-print", 12, 400);
    let input = input.to_str().unwrap();
    let args = ["examples/word_count.yaml", "--replay", input];
    // Every record of every batch, from one process's `--jsonl`, as `print` writes them.
    let (all, _, _) = run("print-all", &args, 1);
    let records: BTreeMap<u64, BTreeSet<String>> = all
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let shown =
                v["records"].as_array().unwrap().iter().map(|r| format!("({},{})", r[0].as_str().unwrap(), r[1]));
            (v["batch_time_ms"].as_u64().unwrap(), shown.collect())
        })
        .collect();
    let printed = |processes: usize| {
        let dir = scratch(&format!("cluster-print-p{processes}"));
        let mut cmd = streamc();
        cmd.args(["run"]).args(args).arg("--checkpoint").arg(dir.join("ck"));
        if processes > 1 {
            cmd.args(["--processes", &processes.to_string()]);
        }
        cmd.arg("--").arg("--progress").arg(dir.join("progress.jsonl")).stdin(Stdio::null());
        let out = String::from_utf8(run_ok(&mut cmd).stdout).unwrap();
        let rows: Vec<u64> = std::fs::read_to_string(dir.join("progress.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["sink"]["numOutputRows"].as_u64().unwrap())
            .collect();
        // Each block: its time and its lines after the header.
        let blocks: Vec<(u64, Vec<String>)> = out
            .split("-------------------------------------------\nTime: ")
            .skip(1)
            .map(|b| {
                let (time, rest) = b.split_once(" ms\n-------------------------------------------\n").unwrap();
                (time.parse().unwrap(), rest.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect())
            })
            .collect();
        (blocks, rows)
    };
    let (one, one_rows) = printed(1);
    let (two, two_rows) = printed(2);
    assert_eq!(one_rows, two_rows, "numOutputRows on 2 processes");
    assert_eq!(one.len(), two.len(), "printed batches");
    assert!(one.iter().any(|(_, lines)| lines.last().is_some_and(|l| l == "...")), "no batch had more than 10 records");
    for ((t1, lines1), (t2, lines2)) in one.iter().zip(&two) {
        assert_eq!(t1, t2);
        assert_eq!(lines1.len(), lines2.len(), "batch {t1}: {lines1:?} / {lines2:?}");
        assert_eq!(lines1.last() == Some(&"...".to_owned()), lines2.last() == Some(&"...".to_owned()));
        let batch = &records[t1];
        for line in lines2.iter().filter(|l| *l != "...") {
            assert!(batch.contains(line), "batch {t1}: {line} is not one of its records");
        }
    }
}

#[test]
fn processes_split_large_shares_over_their_workers() {
    // Batches of over 2 MiB: each process's share is large enough for its 2 workers.
    let words = words("cluster-big-words", 3, 200_000);
    let events = events("cluster-big-events", 3, 50_000);
    let cases = [
        ("big_word_count", false, vec!["examples/word_count.yaml", "--replay", words.to_str().unwrap()]),
        (
            "big_windowed_events",
            false,
            vec!["examples/windowed_event_counts.yaml", "--replay", events.to_str().unwrap()],
        ),
    ];
    for (name, ordered, args) in &cases {
        let dir = |n: usize| {
            let d = root().join("target").join("streamc-tests").join(format!("{name}-p{n}"));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).unwrap();
            d
        };
        let (one, _, _) = run_with(&dir(1), args, 1, &["--workers", "1"]);
        let (two, _, parts) = run_with(&dir(2), args, 2, &["--workers", "2"]);
        assert!(parts.contains(&4), "{name}: 2 processes × 2 workers: {parts:?}");
        if *ordered {
            assert!(one == two, "{name}: workers in processes changed the output");
        } else {
            assert!(batches(&one) == batches(&two), "{name}: workers in processes changed the records");
        }
    }
}

/// Replay arguments (`impressions=DIR`, `clicks=DIR`) of `batches` batches of ad impressions
/// (`lines` a batch, two minutes of event time each) and their clicks, 0 to 20 minutes later
/// (some past the join's 15-minute range, some never): for `tests/data/cluster/stream_join.yaml`.
fn join_inputs(name: &str, batches: usize, lines: usize) -> [String; 2] {
    let (imp, clk) = (scratch(name).join("impressions"), scratch(name).join("clicks"));
    std::fs::create_dir_all(&imp).unwrap();
    std::fs::create_dir_all(&clk).unwrap();
    let mut seed = 0x00ad_c11c_u64;
    let mut below = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let ts = |s: u64| format!("2024-01-01T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60);
    let mut clicks = vec![String::new(); batches];
    for b in 0..batches {
        let mut text = String::new();
        for i in 0..lines {
            let secs = 3600 + b as u64 * 120 + below(120);
            // Ads repeat across batches, so a key has rows in several batches.
            let ad = format!("ad{}", (b * lines + i) % (lines * 3));
            text.push_str(&format!("{{\"impressionAdId\": \"{ad}\", \"impressionTime\": \"{}\"}}\n", ts(secs)));
            if below(2) == 0 {
                let at = secs + below(1200);
                let cb = ((at - 3600) / 120) as usize;
                if cb < batches {
                    clicks[cb].push_str(&format!("{{\"adId\": \"{ad}\", \"clickTime\": \"{}\"}}\n", ts(at)));
                }
            }
        }
        std::fs::write(imp.join(format!("b{b:05}")), text).unwrap();
    }
    for (b, text) in clicks.iter().enumerate() {
        std::fs::write(clk.join(format!("b{b:05}")), text).unwrap();
    }
    [format!("impressions={}", imp.display()), format!("clicks={}", clk.display())]
}

/// JSON events `{timestamp, word}` over about an hour, a few minutes out of order, `batches`
/// files: a windowed count's watermark closes windows, and drops some late rows.
fn events(name: &str, batches: usize, lines: usize) -> PathBuf {
    let dir = scratch(name).join("in");
    std::fs::create_dir_all(&dir).unwrap();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for b in 0..batches {
        let mut text = String::new();
        for i in 0..lines {
            let t = (b * lines + i) as u64 * 3600 / (batches * lines) as u64;
            let t = t.saturating_sub(next() % 900);
            let w = format!("w{}", next() % 61);
            text.push_str(&format!(
                "{{\"timestamp\": \"2024-01-01 {:02}:{:02}:{:02}\", \"word\": \"{w}\"}}\n",
                t / 3600,
                t / 60 % 60,
                t % 60
            ));
        }
        std::fs::write(dir.join(format!("part-{b:05}.json")), text).unwrap();
    }
    dir
}

#[test]
fn a_partitioned_state_resumes_on_another_number_of_processes() {
    // A Structured aggregation: batches 0-3 on 2 processes, 4-7 on 3, the rest on one. Each run
    // restores the state the previous one's processes wrote as shards (put together and cut
    // again) and keeps the keys its own processes own.
    let events = events("cluster-resume", 12, 400);
    resumes_on_2_3_and_1_processes(
        "cluster-resume",
        &["examples/windowed_event_counts.yaml", "--replay", events.to_str().unwrap()],
        &["--max-batches", "4"],
        true,
    );
    // A stream-stream join's two states, partitioned by join key.
    let joins = join_inputs("cluster-resume-joins", 16, 200);
    resumes_on_2_3_and_1_processes(
        "cluster-resume-join",
        &["tests/data/cluster/stream_join.yaml", "--replay", &joins[0], "--replay", &joins[1]],
        &["--max-batches", "5"],
        false,
    );
    // Deduplication states (without a watermark, evicted by it, and within it) and session
    // windows.
    for spec in ["tests/data/cluster/dedup.yaml", "tests/data/cluster/sessions.yaml"] {
        let name = Path::new(spec).file_stem().unwrap().to_str().unwrap();
        resumes_on_2_3_and_1_processes(
            &format!("cluster-resume-{name}"),
            &[spec, "--replay", events.to_str().unwrap()],
            &["--max-batches", "4"],
            true,
        );
    }
    // DStream states: a window's panes, `update_state_by_key`'s and `map_with_state`'s
    // (checkpointed every 10 s: batches 0-9 are the first run's commit, 10-19 the second's).
    let words = words("cluster-resume-words", 32, 200);
    for spec in [
        "examples/windowed_word_count.yaml",
        "examples/update_state_word_count.yaml",
        "examples/stateful_word_count.yaml",
        // States after keyed tables (`update_state_by_key`, an inverse window, `map_with_state`).
        "tests/data/cluster/keyed_join.yaml",
        "tests/data/cluster/shared_pairs.yaml",
    ] {
        let name = Path::new(spec).file_stem().unwrap().to_str().unwrap();
        resumes_on_2_3_and_1_processes(
            &format!("cluster-resume-{name}"),
            &[spec, "--replay", words.to_str().unwrap()],
            &["--max-batches", "12"],
            true,
        );
    }
}

/// A cluster of version 5 cut its shards by another ownership hash than today's: restarted on
/// as many processes, it puts them together and cuts them again rather than reading each
/// process's own (`restore_partitioned`). The commits of a 2-process run are marked version 5
/// and the run resumes on 2 processes: the batches must be those of one uninterrupted run. (The
/// old hash's cut itself is not reproduced: a shard names its process, so shards cannot be
/// swapped to stand for it; this pins that the path for older shards restores them whole.)
#[test]
fn shards_of_a_version_5_cluster_are_cut_again() {
    use streamc_runtime::checkpoint::{Checkpoint, checksum};
    let events = events("cluster-v5-shards", 8, 300);
    let args = ["examples/windowed_event_counts.yaml", "--replay", events.to_str().unwrap()];
    let (whole, _, _) = run("cluster-v5-shards-whole", &args, 1);
    let dir = root().join("target").join("streamc-tests").join("cluster-v5-shards-steps");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (first, _, _) = run_with(&dir, &args, 2, &["--max-batches", "4"]);
    let mut sharded = 0;
    for commit in std::fs::read_dir(dir.join("ck").join("commits")).unwrap().map(|e| e.unwrap().path()) {
        let (c, q, _) = Checkpoint::decode_versioned(&std::fs::read(&commit).unwrap()).unwrap();
        sharded += usize::from(c.shards.len() == 2);
        let mut bytes = c.encode_with(q.as_ref());
        bytes[8..12].copy_from_slice(&5u32.to_le_bytes());
        let body = bytes.len() - 8;
        let sum = checksum(&bytes[..body]);
        bytes[body..].copy_from_slice(&sum.to_le_bytes());
        assert_eq!(Checkpoint::decode_versioned(&bytes).unwrap().2, 5);
        std::fs::write(&commit, bytes).unwrap();
    }
    assert!(sharded > 0, "no commit of the first run names shards");
    let (rest, _, _) = run_with(&dir, &args, 2, &[]);
    let mut got = batches(&first);
    for b in batches(&rest) {
        match got.iter().find(|(o, id, _)| *o == b.0 && *id == b.1) {
            Some(seen) => assert!(*seen == b, "batch {} changed when repeated", b.1),
            None => got.push(b),
        }
    }
    let whole = batches(&whole);
    assert!(whole.len() >= 4 && whole.iter().map(|b| b.2.len()).sum::<usize>() > 100, "{whole:?}");
    assert!(got == whole, "resumed from version 5 shards:\n{got:?}\nuninterrupted:\n{whole:?}");
}

/// `split`: whether the query's batches are split over the processes (a join's are not: each
/// process reads both inputs whole and joins the keys it owns).
fn resumes_on_2_3_and_1_processes(name: &str, args: &[&str], step: &[&str], split: bool) {
    let (whole, _, _) = run(&format!("{name}-whole"), args, 1);
    let dir = root().join("target").join("streamc-tests").join(format!("{name}-steps"));
    let _ = std::fs::remove_dir_all(&dir);
    let (mut got, mut cluster_newest) = (Vec::new(), None);
    for (processes, extra) in [(2, step), (3, step), (1, &[][..])] {
        std::fs::create_dir_all(&dir).unwrap();
        let (jsonl, _, parts) = run_with(&dir, args, processes, extra);
        if processes > 1 && split {
            // A part per process for each query whose batch was split.
            let split = |p: u64| p > 0 && (p as usize).is_multiple_of(processes);
            assert!(parts.iter().any(|&p| split(p)), "{processes} processes: {parts:?}");
        }
        // Each process of a cluster wrote its own shard of the state; a run of one process
        // writes whole snapshots (no shard newer than the last cluster's), and the shards go
        // with the commits that used them.
        let shards: BTreeSet<(String, String)> = match std::fs::read_dir(dir.join("ck").join("shards")) {
            Ok(d) => d
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .map(|n| n.rsplit_once('-').map(|(t, p)| (t.to_owned(), p.to_owned())).unwrap())
                .collect(),
            Err(_) => BTreeSet::new(),
        };
        let newest = shards.iter().map(|(t, _)| t.clone()).max();
        let of_newest: Vec<&str> =
            shards.iter().filter(|(t, _)| Some(t) == newest.as_ref()).map(|(_, p)| p.as_str()).collect();
        match processes {
            1 => assert!(shards.is_empty() || newest == cluster_newest, "{name}: {shards:?}"),
            2 => assert_eq!(of_newest, ["0", "1"]),
            _ => assert_eq!(of_newest, ["0", "1", "2"]),
        }
        cluster_newest = newest;
        // A DStream run repeats the batches after its checkpoint's (its outputs are at least
        // once): a repeated batch has the same records.
        for (output, batch, records) in batches(&jsonl) {
            match got.iter().position(|(o, b, _)| *o == output && *b == batch) {
                Some(i) => assert!(got[i].2 == records, "{name}: batch {batch} of `{output}` changed when repeated"),
                None => got.push((output, batch, records)),
            }
        }
    }
    let whole = batches(&whole);
    assert!(whole.len() >= 2 && whole.iter().map(|b| b.2.len()).sum::<usize>() > 100, "{name}: {whole:?}");
    assert!(got == whole, "{name}: resumed on 2, 3 and 1 processes:\n{got:?}\nuninterrupted:\n{whole:?}");
}

#[test]
fn a_socket_is_read_by_process_0_and_its_batches_split_over_the_cluster() {
    let dir = scratch("cluster-socket");
    // A server on an ephemeral port that sends every line at once, then holds the connection
    // until the app closes it.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let lines: Vec<String> = (0..20_000).map(|i| format!("w{} w{} common", i % 7, i % 13)).collect();
    let text = lines.join("\n") + "\n";
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.write_all(text.as_bytes()).unwrap();
        let _ = s.read(&mut [0u8; 1]);
    });
    let spec = dir.join("socket_word_count.yaml");
    let yaml = std::fs::read_to_string(root().join("examples/word_count.yaml"))
        .unwrap()
        .replace("batch_interval: 1s", "batch_interval: 200ms")
        .replace("{ host: localhost, port: 9999 }", &format!("{{ host: 127.0.0.1, port: {port} }}"));
    assert!(yaml.contains(&port.to_string()) && yaml.contains("200ms"), "{yaml}");
    std::fs::write(&spec, yaml).unwrap();
    let (jsonl, _, parts) = run_with(&dir, &[spec.to_str().unwrap()], 2, &["--max-batches", "10"]);
    // Every word counted once over the batches, whichever batches the lines fell in.
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for w in lines.iter().flat_map(|l| l.split(' ')) {
        *expected.entry(w.to_owned()).or_default() += 1;
    }
    let mut got: BTreeMap<String, i64> = BTreeMap::new();
    for l in jsonl.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        for r in v["records"].as_array().unwrap() {
            *got.entry(r[0].as_str().unwrap().to_owned()).or_default() += r[1].as_i64().unwrap();
        }
    }
    assert_eq!(got, expected);
    // The batches with lines were split over both processes (a block one of them took from the
    // back of the other's share is one more part).
    assert!(parts.iter().any(|&p| p >= 2), "{parts:?}");
}

#[test]
fn a_cluster_refuses_a_bad_hostfile_with_a_clear_error() {
    let dir = scratch("cluster-refusals");
    let hosts = dir.join("hosts");
    std::fs::write(&hosts, "127.0.0.1:1\nlocalhost\n").unwrap();
    let out = streamc()
        .args(["run", "examples/word_count.yaml", "--replay", "examples/data/words", "--hostfile"])
        .arg(&hosts)
        .args(["--process", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:2: `localhost` is not `host:port`", hosts.display())), "{err}");
    let _ = Path::new(&hosts);
}

/// Every batch directory a `save_as_text_files` output wrote under `sink`: its name and the
/// lines of all its part files (one per process of a cluster, in process order), sorted.
fn saved_batches(sink: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(sink).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        if name.starts_with('.') || !e.path().join("_SUCCESS").exists() {
            continue;
        }
        let mut lines = Vec::new();
        for k in 0.. {
            match std::fs::read_to_string(e.path().join(format!("part-{k:05}"))) {
                Ok(text) => lines.extend(text.lines().map(str::to_owned)),
                Err(_) if k > 0 => break,
                Err(err) => panic!("{name}/part-00000: {err}"),
            }
        }
        lines.sort();
        out.insert(name, lines);
    }
    out
}

/// How many parts each batch directory under `sink` has.
fn parts_per_batch(sink: &Path) -> BTreeSet<usize> {
    std::fs::read_dir(sink)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("_SUCCESS").exists())
        .map(|p| std::fs::read_dir(p).unwrap().filter(|f| f.as_ref().unwrap().file_name() != "_SUCCESS").count())
        .collect()
}

/// `update_state_by_key` partitioned over a cluster of 2 (each pair shuffled to its key's
/// owner, each process's part of the state in its shard of a two-phase commit every 2 batches),
/// with one of its processes SIGKILLed at ≥ 20 pseudo-random moments (`STREAMC_CLUSTER_KILLS`)
/// and the cluster restarted by the supervisor each time: every batch's output (every key's
/// running total, so a state lost or counted twice shows) is one uninterrupted process's.
#[test]
fn a_partitioned_dstream_state_resumes_exactly_after_kills() {
    let dir = scratch("cluster-dstream-crash");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for b in 0..40 {
        let mut text = String::new();
        for _ in 0..10_000 {
            for k in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push_str(&format!("{}w{}", if k == 0 { "" } else { " " }, seed % 5000));
            }
            text.push('\n');
        }
        std::fs::write(input.join(format!("b{b:03}")), text).unwrap();
    }
    let spec = |sink: &Path| {
        let path = dir.join(format!("{}.yaml", sink.file_name().unwrap().to_str().unwrap()));
        std::fs::write(
            &path,
            format!(
                "app: dstream_crash\nbatch_interval: 1s\ncheckpoint: {}\nstreams:\n  - name: lines\n    socket_text_stream: {{ port: 9 }}\n  \
                 - name: words\n    flat_map: {{ split: \" \" }}\n  - name: pairs\n    map: {{ pair_with: 1 }}\n  \
                 - name: totals\n    checkpoint_interval: 2s\n    update_state_by_key: sum\noutputs:\n  \
                 - save_as_text_files: {{ from: totals, prefix: {}/totals, suffix: txt }}\n",
                dir.join("ck-spec").display(),
                sink.display()
            ),
        )
        .unwrap();
        path
    };
    let run = |sink: &Path, ck: &str, processes: usize| {
        let mut cmd = streamc();
        cmd.args(["run"]).arg(spec(sink)).arg("--replay").arg(&input).arg("--checkpoint").arg(dir.join(ck));
        if processes > 1 {
            cmd.args(["--processes", &processes.to_string()]);
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::null());
        cmd
    };
    let reference = dir.join("reference");
    run_ok(&mut run(&reference, "ck-reference", 1));
    let expected = saved_batches(&reference);
    assert_eq!(expected.len(), 40, "{:?}", expected.keys());
    // An uninterrupted cluster gives the same; its time from the cluster's start (after
    // `streamc run` checked the build) sets how soon after each start a kill comes.
    let plain = dir.join("plain");
    let mut child = run(&plain, "ck-plain", 2).stderr(Stdio::piped()).spawn().unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while std::io::BufRead::read_line(&mut err, &mut line).unwrap() > 0 && !line.contains("streamc: cluster of 2") {
        line.clear();
    }
    let t = std::time::Instant::now();
    assert!(child.wait().unwrap().success(), "the uninterrupted cluster failed");
    let run_time = t.elapsed();
    assert!(saved_batches(&plain) == expected, "an uninterrupted cluster differs from one process");
    // Each process wrote its own part of every batch; process 0 committed them together.
    assert_eq!(parts_per_batch(&plain), BTreeSet::from([2]), "parts per batch directory");
    assert_eq!(parts_per_batch(&reference), BTreeSet::from([1]), "parts per batch directory");
    // At most half the run's length in all, so the kills land before the run would end.
    let wanted: usize = std::env::var("STREAMC_CLUSTER_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let window = (run_time / (2 * wanted as u32)).max(std::time::Duration::from_millis(10));
    // Each start is killed after it wrote a batch no start wrote before, so that every start
    // resumes from a later commit and the kills land in batches and in their commits.
    let killed = dir.join("killed");
    let mut written = 0;
    let mut progressed = || {
        // Batch directories (not the hidden parts and temporary directories of a batch).
        let now = std::fs::read_dir(&killed)
            .map_or(0, |d| d.filter(|e| !e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.')).count());
        let before = written;
        written = now.max(before);
        now > before
    };
    let (status, kills, starts) = common::kill::kill_cluster_series(
        &mut run(&killed, "ck-killed", 2),
        &dir.join("killed.stderr"),
        2,
        wanted,
        window,
        0x5eed_c105,
        &mut progressed,
    );
    let stderr = std::fs::read_to_string(dir.join("killed.stderr")).unwrap_or_default();
    assert!(status.success(), "the supervised cluster failed: {status}\n{stderr}");
    let got = saved_batches(&killed);
    let differ: Vec<&String> = expected.keys().filter(|k| got.get(*k) != expected.get(*k)).collect();
    assert!(differ.is_empty() && got.len() == expected.len(), "after {kills} kills these batches differ: {differ:?}");
    eprintln!(
        "dstream cluster crash test: {kills} kills within {window:?} of a start, {starts} cluster starts \
         (uninterrupted: {run_time:?})"
    );
    assert!(kills >= wanted, "only {kills} of {wanted} kills landed before the cluster finished by itself");
}

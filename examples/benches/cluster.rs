//! The cluster engine against the embedded one, same run, alternating: word count over the
//! 100 MB Zipf corpus (`examples/word_count.yaml`), a DStream windowed count over it
//! (`examples/windowed_word_count.yaml`) and the Structured windowed aggregation over 100 MB of
//! JSON events (`examples/windowed_event_counts.yaml`), each as
//! - the embedded engine on one worker (`--workers 1`): the yardstick;
//! - the cluster engine with one process (a one-line hostfile: one timely worker);
//! - the cluster engine with 2 processes of one worker each (the 1.7× target on 2 cores,
//!   reported against both the embedded yardstick and the 1-process cluster),
//!   each kept to its share of the CPUs (`--cpu-share I/2`) as `streamc run --processes 2`
//!   starts them on a machine with a core per process;
//! - the same 2 processes without `--cpu-share` (what pinning buys).
//!
//! Every side is the app binary `streamc run` builds (the cluster sides with the `cluster`
//! feature), started directly (the processes of a cluster by this bench, with a hostfile of
//! free ports on 127.0.0.1), replaying one file per batch into a fresh checkpoint and a fresh
//! directory (where the Structured query's JSON file sink writes), its standard output to
//! /dev/null; the time is from the start of the processes to the end of the last one. Before
//! timing, each side's `--jsonl` output must equal the yardstick's (as multisets per batch).
//!
//! `cargo build --release -p streamc && cargo bench -p streamc-examples --bench cluster`
//! (env: `STREAMC_BENCH_MB`, default 100; `STREAMC_BENCH_RUNS`, default 5).

#![allow(clippy::duplicate_mod)]

#[allow(dead_code)]
#[path = "structured.rs"]
mod structured;
#[allow(dead_code)]
#[path = "word_count.rs"]
mod word_count;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Builds the spec's app with `streamc run` (one short replay) and returns its binary.
fn app_binary(spec: &str, cluster: bool) -> PathBuf {
    let streamc = root().join("target/release/streamc");
    assert!(streamc.exists(), "build the CLI first: cargo build --release -p streamc");
    let cache = root().join("target/bench-cluster-cache");
    let scratch = root().join("target/bench-cluster/build");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(scratch.join("in")).unwrap();
    let mut cmd = Command::new(&streamc);
    // Timed: an optimised build, whatever the caller's environment says.
    cmd.current_dir(root()).env("STREAMC_CACHE_DIR", &cache).env_remove("STREAMC_APP_PROFILE");
    cmd.args(["run", spec, "--replay"]);
    cmd.arg(scratch.join("in")).arg("--checkpoint").arg(scratch.join("ck"));
    if cluster {
        cmd.args(["--processes", "2"]);
    }
    let out = cmd.stdin(Stdio::null()).output().expect("run streamc");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "building {spec} failed:\n{err}");
    let name = err
        .lines()
        .find_map(|l| l.split("(crate ").nth(1))
        .and_then(|c| Path::new(c.trim_end_matches(')')).file_name().map(|n| n.to_string_lossy().into_owned()))
        .expect("the crate streamc compiled");
    cache.join("target/release").join(name)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One run: `processes` = 0 is the embedded engine on one worker; n ≥ 1 a cluster of n, each
/// process kept to its share of the CPUs when `pin`. Returns its time and process 0's exchange
/// per batch.
fn run(bin: &Path, input: &Path, processes: usize, pin: bool, jsonl: Option<&Path>) -> (Duration, Exchange) {
    let dir = root().join("target/bench-cluster/run");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let start = |i: usize, hosts: Option<&Path>| -> Child {
        let mut cmd = Command::new(bin);
        // In the run's fresh directory, so that a file sink's relative path is a new, empty sink
        // every run (a sink that has a batch committed skips writing it again).
        cmd.current_dir(&dir).arg("--replay").arg(input).arg("--checkpoint").arg(dir.join("ck"));
        cmd.args(["--workers", "1"]);
        if let Some(h) = hosts {
            cmd.arg("--hostfile").arg(h).args(["--process", &i.to_string()]);
            if pin {
                cmd.arg("--cpu-share").arg(format!("{i}/{processes}"));
            }
        }
        // Process 0 writes its progress (a line per batch), for the exchange figures; the
        // checking run (not timed) also its records.
        if i == 0 {
            cmd.arg("--progress").arg(dir.join("progress.jsonl"));
            if let Some(j) = jsonl {
                cmd.arg("--jsonl").arg(j);
            }
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::inherit()).spawn().expect("start the app")
    };
    let t = Instant::now();
    let children: Vec<Child> = if processes == 0 {
        vec![start(0, None)]
    } else {
        let hosts = dir.join("hosts");
        let lines: Vec<String> = (0..processes).map(|_| format!("127.0.0.1:{}", free_port())).collect();
        std::fs::write(&hosts, lines.join("\n")).unwrap();
        (0..processes).map(|i| start(i, Some(&hosts))).collect()
    };
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a run of {} failed", bin.display());
    }
    let elapsed = t.elapsed();
    (elapsed, exchange_per_batch(&dir.join("progress.jsonl")))
}

/// Process 0's exchange per batch: (batches, rounds, KB sent, KB received, ms in rounds,
/// blocks it took from the other's share, their KB).
type Exchange = (usize, f64, f64, f64, f64, f64, f64);

/// A jsonl's batches with their records sorted.
fn batches(path: &Path) -> Vec<(String, u64, Vec<String>)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let mut rs: Vec<String> = v["records"].as_array().unwrap().iter().map(|r| r.to_string()).collect();
            rs.sort();
            (v["output"].to_string(), v["batch_time_ms"].as_u64().or(v["batch_id"].as_u64()).unwrap_or(0), rs)
        })
        .collect()
}

/// Process 0's exchange per batch, from a progress file: (batches, rounds, KB sent, KB received,
/// ms in rounds, blocks taken, KB taken), averaged over the batches that read input.
fn exchange_per_batch(path: &Path) -> Exchange {
    let text = std::fs::read_to_string(path).unwrap();
    let mut sums = [0f64; 6];
    let mut n = 0;
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let x = &v["exchange"];
        if v["numInputRows"].as_u64().unwrap_or(0) == 0 || x.is_null() {
            continue;
        }
        n += 1;
        for (s, k) in
            sums.iter_mut().zip(["rounds", "bytesSent", "bytesReceived", "durationMs", "blocksTaken", "bytesTaken"])
        {
            *s += x[k].as_f64().unwrap_or(0.0);
        }
    }
    let avg = |s: f64| if n == 0 { 0.0 } else { s / n as f64 };
    (n, avg(sums[0]), avg(sums[1]) / 1024.0, avg(sums[2]) / 1024.0, avg(sums[3]), avg(sums[4]), avg(sums[5]) / 1024.0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mb = env_usize("STREAMC_BENCH_MB", 100);
    let runs = env_usize("STREAMC_BENCH_RUNS", 5);
    let words = word_count::corpus(mb);
    let events = structured::corpus(mb);
    let cases = [
        ("word count (DStream)", "examples/word_count.yaml", &words),
        ("windowed word count (DStream)", "examples/windowed_word_count.yaml", &words),
        ("windowed event counts (Structured)", "examples/windowed_event_counts.yaml", &events),
    ];
    println!("{mb} MB per corpus, median of {runs} alternating runs");
    println!(
        "| query | embedded, 1 worker | cluster, 1 process | cluster, 2 processes | 2 processes / embedded | 2 processes / 1 process | 1 process / embedded | 2 processes unpinned / embedded |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut exchanges = Vec::new();
    for (name, spec, input) in cases {
        let embedded = app_binary(spec, false);
        let cluster = app_binary(spec, true);
        let sides: [(&Path, usize, bool); 4] =
            [(&embedded, 0, false), (&cluster, 1, false), (&cluster, 2, true), (&cluster, 2, false)];
        // The same records first.
        let check = root().join("target/bench-cluster");
        let mut outputs = Vec::new();
        for (k, (bin, n, pin)) in sides.iter().enumerate() {
            let j = check.join(format!("check-{k}.jsonl"));
            let _ = std::fs::remove_file(&j);
            run(bin, input, *n, *pin, Some(&j));
            outputs.push(batches(&j));
        }
        assert!(outputs.iter().all(|o| *o == outputs[0]), "{name}: the sides disagree");
        let mut times: [Vec<Duration>; 4] = Default::default();
        let mut exchange = None;
        for _ in 0..runs {
            for (k, (bin, n, pin)) in sides.iter().enumerate() {
                let (time, x) = run(bin, input, *n, *pin, None);
                times[k].push(time);
                if *n == 2 && *pin {
                    exchange = Some(x);
                }
            }
        }
        exchanges.push((name, exchange.expect("a timed run of 2 processes")));
        let [e, one, two, unpinned] = times.map(median);
        println!(
            "| {name} | {:.3} s | {:.3} s | {:.3} s | {:.2}× | {:.2}× | {:.2}× | {:.2}× |",
            e.as_secs_f64(),
            one.as_secs_f64(),
            two.as_secs_f64(),
            e.as_secs_f64() / two.as_secs_f64(),
            one.as_secs_f64() / two.as_secs_f64(),
            e.as_secs_f64() / one.as_secs_f64(),
            e.as_secs_f64() / unpinned.as_secs_f64()
        );
    }
    println!("\nExchange per batch with input, process 0 of 2 (its progress line's `exchange`, last timed run):");
    println!("| query | batches | rounds | KB sent | KB received | ms in rounds | blocks taken | KB taken |");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, (n, rounds, sent, received, ms, blocks, taken)) in exchanges {
        println!("| {name} | {n} | {rounds:.1} | {sent:.0} | {received:.0} | {ms:.1} | {blocks:.2} | {taken:.0} |");
    }
}

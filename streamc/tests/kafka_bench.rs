//! The Kafka benchmark (not a test: `#[ignore]`, no timed assertion). Run it with
//!
//! ```text
//! cargo test --release -p streamc --test kafka_bench -- --ignored --nocapture
//! ```
//!
//! (`STREAMC_KAFKA_BENCH_RECORDS`, default 5 000 000). One tansu broker on 127.0.0.1; a topic of
//! JSON events (3 partitions) is read, in the same run, by
//! - the broker-side limit: a consume-only loop with the same client (rdkafka), reading every
//!   record and touching its bytes;
//! - streamc end to end: the compiled query (JSON events → watermark → 1-minute windowed count
//!   per word → Kafka sink), timed without its build, with its CPU time.
//!
//! It prints records/s of each, records per CPU-second of streamc, and the ratio.
#![cfg(unix)]

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{root, scratch};

fn tansu() -> PathBuf {
    let o = Command::new(root().join("tests/setup/kafka-broker.sh")).arg("install").output().unwrap();
    assert!(o.status.success());
    PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
}

const WORDS: &[&str] = &["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "and", "cat"];

/// CPU seconds (user + system) of the waited-for children of this process so far
/// (`/proc/self/stat`'s `cutime` and `cstime`, in clock ticks of 1/100 s).
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields from the state (field 3): cutime is field 16, cstime field 17.
    (f[13].parse::<f64>().unwrap() + f[14].parse::<f64>().unwrap()) / 100.0
}

/// A child process killed and reaped when dropped.
struct Stop(std::process::Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[ignore = "a benchmark: run with --ignored --nocapture"]
fn kafka_windowed_count_end_to_end_against_the_consume_only_limit() {
    let n: u64 = std::env::var("STREAMC_KAFKA_BENCH_RECORDS").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000_000);
    let dir = scratch("kafka-bench");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("tcp://127.0.0.1:{port}");
    let bin = tansu();
    let broker = Command::new(&bin)
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
            "--storage-engine",
            "memory://tansu/",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Stopped when the benchmark ends, however it ends.
    let _broker = Stop(broker);
    std::thread::sleep(Duration::from_millis(300));
    let servers = format!("127.0.0.1:{port}");
    for (t, p) in [("events", "3"), ("tiny", "1"), ("out", "1"), ("tiny_out", "1")] {
        let o = Command::new(&bin).args(["topic", "create", t, "--partitions", p, "--broker", &url]).output().unwrap();
        assert!(o.status.success());
    }
    // Produce: batched for speed, then one record per partition on its own, which makes the
    // partition's end (tansu: the last request's first offset + 1) exact.
    let t = Instant::now();
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &servers)
        .set("linger.ms", "20")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .unwrap();
    let mut line = String::new();
    let mut bytes = 0u64;
    for i in 0..n {
        let secs = 3600 + i * 7200 / n;
        line.clear();
        use std::fmt::Write as _;
        let _ = write!(
            line,
            r#"{{"timestamp": "2024-01-01 {:02}:{:02}:{:02}", "word": "{}", "n": {}}}"#,
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            WORDS[(i.wrapping_mul(2_654_435_761) >> 7) as usize % WORDS.len()],
            i % 1000
        );
        bytes += line.len() as u64;
        let mut r: BaseRecord<'_, (), str> = BaseRecord::to("events").payload(line.as_str()).partition((i % 3) as i32);
        loop {
            match producer.send(r) {
                Ok(()) => break,
                Err((_, back)) => {
                    producer.poll(Duration::from_millis(5));
                    r = back;
                }
            }
        }
    }
    producer.flush(Duration::from_secs(600)).unwrap();
    let single: BaseProducer =
        ClientConfig::new().set("bootstrap.servers", &servers).set("linger.ms", "0").create().unwrap();
    let fence = r#"{"timestamp": "2024-01-01 03:00:00", "word": "end", "n": 0}"#;
    for p in 0..3 {
        single.send(BaseRecord::<(), str>::to("events").payload(fence).partition(p)).unwrap();
        single.flush(Duration::from_secs(30)).unwrap();
    }
    single.send(BaseRecord::<(), str>::to("tiny").payload(fence).partition(0)).unwrap();
    single.flush(Duration::from_secs(30)).unwrap();
    let total = n + 3;
    eprintln!("produced {total} records ({:.0} MB) in {:.1} s", bytes as f64 / 1e6, t.elapsed().as_secs_f64());

    // (1) The broker-side limit: consume every record with the same client.
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &servers)
        .set("group.id", "bench")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..3 {
        tpl.add_partition_offset("events", p, Offset::Beginning).unwrap();
    }
    c.assign(&tpl).unwrap();
    let t = Instant::now();
    let (mut got, mut touched) = (0u64, 0u64);
    while got < total {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(500)) {
            got += 1;
            touched += m.payload().map_or(0, |p| p.iter().map(|b| u64::from(*b)).sum::<u64>() & 1);
        }
        assert!(t.elapsed() < Duration::from_secs(1200), "consumed {got} of {total}");
    }
    let consume = t.elapsed().as_secs_f64();
    drop(c);

    // (2) streamc: build on the tiny topic, then time the app alone on the big one.
    let spec = dir.join("bench.yaml");
    std::fs::write(
        &spec,
        r#"app: kafka_bench
trigger: available_now
sources:
  - name: events
    kafka: { kafka.bootstrap.servers: "${KAFKA_BOOTSTRAP_SERVERS}", subscribe: "${IN_TOPIC}", startingOffsets: earliest, maxOffsetsPerTrigger: 500000 }
    schema: { timestamp: timestamp, word: string, n: long }
queries:
  - name: counts
    from: events
    steps:
      - with_watermark: { column: timestamp, delay: 1 minute }
      - group_by: ["window(timestamp, '1 minute')", word]
        agg: ["count(*) AS c"]
      - select: ["word AS key", "concat(CAST(window_start AS STRING), ' ', CAST(c AS STRING)) AS value"]
    output_mode: append
    sink: [{ kafka: { kafka.bootstrap.servers: "${KAFKA_BOOTSTRAP_SERVERS}", topic: "${OUT_TOPIC}" } }]
"#,
    )
    .unwrap();
    let cache =
        std::env::var_os("STREAMC_CACHE_DIR").map_or_else(|| root().join("target/streamc-cache"), PathBuf::from);
    let o = Command::new(env!("CARGO_BIN_EXE_streamc"))
        .current_dir(root())
        .env("STREAMC_CACHE_DIR", &cache)
        // Timed: an optimised build, whatever the caller's environment says.
        .env_remove("STREAMC_APP_PROFILE")
        .env("KAFKA_BOOTSTRAP_SERVERS", &servers)
        .env("IN_TOPIC", "tiny")
        .env("OUT_TOPIC", "tiny_out")
        .args(["run"])
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let crate_dir = stderr
        .lines()
        .find_map(|l| l.strip_prefix("streamc: compiling ").and_then(|r| r.rsplit_once("(crate ")))
        .map(|(_, d)| PathBuf::from(d.trim_end_matches(')')))
        .expect("the app's crate");
    let exe = cache.join("target/release").join(crate_dir.file_name().unwrap());
    let progress = dir.join("progress.jsonl");
    let cpu0 = children_cpu();
    let t = Instant::now();
    let status = Command::new(&exe)
        .env("KAFKA_BOOTSTRAP_SERVERS", &servers)
        .env("IN_TOPIC", "events")
        .env("OUT_TOPIC", "out")
        .arg("--progress")
        .arg(&progress)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    let run = t.elapsed().as_secs_f64();
    let cpu = children_cpu() - cpu0;
    assert!(status.success());
    let read: u64 = std::fs::read_to_string(&progress)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["numInputRows"].as_u64().unwrap())
        .sum();
    assert_eq!(read, total, "streamc read every record");
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    eprintln!(
        "consume-only (rdkafka, touching every byte): {:.0} records/s ({touched} odd sums)",
        total as f64 / consume
    );
    eprintln!(
        "streamc (parse, watermark, windowed count, Kafka sink): {:.0} records/s wall, {:.0} records per CPU-second ({cpu:.1} CPU s on {cores} cores)",
        total as f64 / run,
        total as f64 / cpu
    );
    eprintln!("ratio streamc / consume-only: {:.2}×", consume / run);
}

//! Kafka, against a real broker: tansu (a Kafka-protocol broker, built once by
//! `tests/setup/kafka-broker.sh install` into `~/.cache/streamc/tansu`; a missing one is built
//! here), one broker per test on 127.0.0.1 with an ephemeral port, stopped when the test ends.
//! Records are produced and read back with rdkafka, the client the runtime uses.
//!
//! - the Structured word count over a 3-partition topic into a Kafka topic, in batches that
//!   `maxOffsetsPerTrigger` bounds;
//! - JSON events through a windowed count into a Kafka sink, the process SIGKILLed at 30 moments
//!   and restarted: with `exactly_once`, a `read_committed` consumer of the output topic sees
//!   exactly the uninterrupted run's records; by default, each of them at least once;
//! - malformed JSON values under each parse mode;
//! - a topic that appears mid-run under `subscribePattern` is read from its start;
//! - a broker that goes away: retries, then a clear error, and the checkpoint stays usable;
//! - `minOffsetsPerTrigger` holds a batch back until enough records are there or
//!   `maxTriggerDelay` has passed;
//! - `startingTimestamp` / `startingOffsetsByTimestamp` start at the records' times, and
//!   `includeHeaders` reads each record's headers;
//! - keys and values are binary: copied from topic to topic byte for byte (headers too), base64
//!   in JSON.
#![cfg(unix)]

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{jsonl, root, scratch};

/// The tansu binary: `$STREAMC_TANSU`, else the setup script's cache (built if missing).
fn tansu() -> PathBuf {
    if let Some(p) = std::env::var_os("STREAMC_TANSU") {
        return PathBuf::from(p);
    }
    static BUILT: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = &*built {
        return p.clone();
    }
    let o = Command::new(root().join("tests/setup/kafka-broker.sh"))
        .arg("install")
        .stderr(Stdio::inherit())
        .output()
        .expect("run tests/setup/kafka-broker.sh");
    assert!(o.status.success(), "installing the tansu broker failed");
    let p = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
    *built = Some(p.clone());
    p
}

/// A record to produce: its partition, value and one header.
struct Stamped<'a> {
    partition: i32,
    value: &'a str,
    header: Option<(&'a str, &'a [u8])>,
}

/// A broker of this test: killed and reaped when dropped.
struct Broker {
    child: Option<Child>,
    port: u16,
}

impl Broker {
    fn start() -> Broker {
        let port = free_port();
        Broker::on(port, port)
    }

    /// A broker on `port` that tells clients to find it at `advertised` (a [`Proxy`]'s port).
    fn on(port: u16, advertised: u16) -> Broker {
        let url = format!("tcp://127.0.0.1:{port}");
        let shown = format!("tcp://127.0.0.1:{advertised}");
        let child = Command::new(tansu())
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &shown])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tansu");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "the broker did not listen in 20 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        Broker { child: Some(child), port }
    }

    fn servers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn create_topic(&self, name: &str, partitions: u32) {
        let o = Command::new(tansu())
            .args(["topic", "create", name, "--partitions", &partitions.to_string()])
            .args(["--broker", &format!("tcp://127.0.0.1:{}", self.port)])
            .output()
            .expect("tansu topic create");
        assert!(o.status.success(), "creating topic {name}: {}", String::from_utf8_lossy(&o.stderr));
    }

    /// Produces `values` to `topic`, round-robin over `partitions`, one record per request
    /// (tansu reports a partition's end as the last request's first offset + 1).
    fn produce(&self, topic: &str, partitions: i32, values: &[String]) {
        let p: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", self.servers())
            .set("linger.ms", "0")
            .set("batch.num.messages", "1")
            .create()
            .unwrap();
        for (i, v) in values.iter().enumerate() {
            let mut r: BaseRecord<'_, (), str> =
                BaseRecord::to(topic).payload(v.as_str()).partition(i as i32 % partitions);
            loop {
                match p.send(r) {
                    Ok(()) => break,
                    Err((_, back)) => {
                        p.poll(Duration::from_millis(10));
                        r = back;
                    }
                }
            }
            p.poll(Duration::ZERO);
        }
        p.flush(Duration::from_secs(30)).unwrap();
    }

    /// Produces records to `topic` (timestamped now), one per request.
    fn produce_stamped(&self, topic: &str, records: &[Stamped<'_>]) {
        let p: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", self.servers())
            .set("linger.ms", "0")
            .set("batch.num.messages", "1")
            .create()
            .unwrap();
        for &Stamped { partition, value, header } in records {
            let mut r: BaseRecord<'_, (), str> = BaseRecord::to(topic).payload(value).partition(partition);
            if let Some((key, v)) = header {
                r = r.headers(OwnedHeaders::new().insert(Header { key, value: Some(v) }));
            }
            p.send(r).map_err(|(e, _)| e).unwrap();
            p.flush(Duration::from_secs(30)).unwrap();
        }
    }

    /// Every record of `topic` (`read_committed`): (partition, key, value), in partition order.
    fn consume(&self, topic: &str, partitions: i32) -> Vec<(i32, Option<String>, Option<String>)> {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", self.servers())
            .set("group.id", "streamc-test")
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .create()
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(topic, p, Offset::Beginning).unwrap();
        }
        c.assign(&tpl).unwrap();
        let mut out = Vec::new();
        let mut idle = Instant::now();
        while idle.elapsed() < Duration::from_secs(3) {
            if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
                let s = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
                out.push((m.partition(), s(m.key()), s(m.payload())));
                idle = Instant::now();
            }
        }
        out
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A TCP forwarder from its port to a broker's: stopped, it cuts every connection and refuses
/// new ones, as a broker that goes away; started again on the same port, the broker is back.
struct Proxy {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    conns: std::sync::Arc<std::sync::Mutex<Vec<TcpStream>>>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    fn start(port: u16, to: u16) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind the proxy's port");
        listener.set_nonblocking(true).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let conns = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (halt, open) = (stop.clone(), conns.clone());
        let accept = std::thread::spawn(move || {
            while !halt.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = client.set_nonblocking(false);
                let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else { continue };
                let mut list = open.lock().unwrap();
                list.push(client.try_clone().unwrap());
                list.push(server.try_clone().unwrap());
                for (mut from, mut into) in
                    [(client.try_clone().unwrap(), server.try_clone().unwrap()), (server, client)]
                {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut into);
                        let _ = into.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Proxy { stop, conns, accept: Some(accept) }
    }

    fn stop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `streamc run SPEC ARGS...` with `KAFKA_BOOTSTRAP_SERVERS` set.
fn streamc_run(spec: &Path, servers: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamc"));
    cmd.current_dir(root()).env("STREAMC_CACHE_DIR", cache()).env("KAFKA_BOOTSTRAP_SERVERS", servers);
    // Release builds (`app_binary` finds them there), whatever the caller's environment says.
    cmd.env_remove("STREAMC_APP_PROFILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.arg("run").arg(spec).args(args).stdout(Stdio::piped()).output().expect("run streamc")
}

fn cache() -> PathBuf {
    std::env::var_os("STREAMC_CACHE_DIR").map_or_else(|| root().join("target").join("streamc-cache"), PathBuf::from)
}

fn ok(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "streamc run failed:\n{err}");
    err
}

/// The app binary `streamc run` built (from its `compiling ... (crate DIR)` line).
fn app_binary(stderr: &str) -> PathBuf {
    let dir = stderr
        .lines()
        .find_map(|l| l.strip_prefix("streamc: compiling ").and_then(|r| r.rsplit_once("(crate ")))
        .map(|(_, d)| PathBuf::from(d.trim_end_matches(')')))
        .unwrap_or_else(|| panic!("no crate directory in streamc's output: {stderr}"));
    let exe = cache().join("target").join("release").join(dir.file_name().unwrap());
    assert!(exe.is_file(), "no app binary at {}", exe.display());
    exe
}

const WORDS: &[&str] = &["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog"];

/// 300 lines of 5 of [`WORDS`] (word `k` of line `i` is `WORDS[pick(i, k) % 8]`), and how often
/// each word occurs in them.
fn word_lines(pick: impl Fn(usize, usize) -> usize) -> (Vec<String>, BTreeMap<String, u64>) {
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    let lines = (0..300)
        .map(|i| {
            let words: Vec<&str> = (0..5).map(|k| WORDS[pick(i, k) % WORDS.len()]).collect();
            for w in &words {
                *expected.entry((*w).to_owned()).or_default() += 1;
            }
            words.join(" ")
        })
        .collect();
    (lines, expected)
}

#[test]
fn structured_kafka_word_count_reads_bounded_batches_and_writes_a_topic() {
    let dir = scratch("kafka-word-count");
    let broker = Broker::start();
    broker.create_topic("lines", 3);
    broker.create_topic("counts", 1);
    let (lines, expected) = word_lines(|i, k| i * 7 + k * 3 + i / 5);
    broker.produce("lines", 3, &lines);
    let progress = dir.join("progress.jsonl");
    let o = streamc_run(
        &root().join("examples/kafka_word_count.yaml"),
        &broker.servers(),
        &["--checkpoint", dir.join("ck").to_str().unwrap(), "--", "--progress", progress.to_str().unwrap()],
        &[],
    );
    ok(&o);
    // maxOffsetsPerTrigger: 100 over three partitions of 100 records each: 99, 99, 99, then 3.
    let inputs: Vec<u64> = jsonl(&progress).iter().map(|p| p["numInputRows"].as_u64().unwrap()).collect();
    assert_eq!(inputs, [99, 99, 99, 3], "records per batch");
    // Update mode: the last record of each word holds its count.
    let mut last: BTreeMap<String, u64> = BTreeMap::new();
    for (_, k, v) in broker.consume("counts", 1) {
        last.insert(k.expect("a key"), v.expect("a value").parse().unwrap());
    }
    assert_eq!(last, expected, "counts in the output topic");
    // A second run on the checkpoint reads nothing new and writes nothing.
    let before = broker.consume("counts", 1).len();
    ok(&streamc_run(
        &root().join("examples/kafka_word_count.yaml"),
        &broker.servers(),
        &["--checkpoint", dir.join("ck").to_str().unwrap()],
        &[],
    ));
    assert_eq!(broker.consume("counts", 1).len(), before, "a finished query wrote again");
}

#[test]
fn a_cluster_of_two_processes_reads_the_planned_offsets_and_writes_once() {
    let dir = scratch("kafka-cluster");
    let broker = Broker::start();
    broker.create_topic("lines", 3);
    broker.create_topic("counts", 1);
    let (lines, expected) = word_lines(|i, k| i * 5 + k * 7 + i / 3);
    broker.produce("lines", 3, &lines);
    let progress = dir.join("progress.jsonl");
    let ck = dir.join("ck");
    let args =
        ["--checkpoint", ck.to_str().unwrap(), "--processes", "2", "--", "--progress", progress.to_str().unwrap()];
    let err = ok(&streamc_run(&root().join("examples/kafka_word_count.yaml"), &broker.servers(), &args, &[]));
    assert!(err.contains("cluster of 2 processes"), "{err}");
    // Process 0 plans every batch (maxOffsetsPerTrigger as with one process); each process
    // reads its block of the planned partitions (the query runs over shares: 1 of the 3
    // partitions on process 0, 2 on process 1), the input rows are counted once, and process 0
    // alone writes the output topic.
    let inputs: Vec<u64> = jsonl(&progress).iter().map(|p| p["numInputRows"].as_u64().unwrap()).collect();
    assert_eq!(inputs, [99, 99, 99, 3], "records per batch");
    assert!(
        jsonl(&progress).iter().all(|p| p["numParallelParts"].as_u64() == Some(2)),
        "batches split over 2 processes"
    );
    let written = broker.consume("counts", 1);
    let mut last: BTreeMap<String, u64> = BTreeMap::new();
    for (_, k, v) in &written {
        last.insert(k.clone().expect("a key"), v.clone().expect("a value").parse().unwrap());
    }
    assert_eq!(last, expected, "counts in the output topic");
    // Update mode writes each word once per batch it changed in: not once per process.
    assert!(written.len() <= 4 * WORDS.len(), "{} records written", written.len());
}

/// 30 000 JSON events over an hour of event time, with late ones, as 60 batches of at most 500
/// records (3 partitions).
fn events() -> Vec<String> {
    let mut out = Vec::new();
    let mut x: u64 = 0x5eed;
    for i in 0..30_000u64 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let mut secs = 3600 + i * 3600 / 30_000;
        if (x >> 33).is_multiple_of(20) {
            secs -= 60 + (x >> 40) % 900;
        }
        let word = WORDS[((x >> 20) % 8) as usize];
        out.push(format!(
            r#"{{"timestamp": "2024-01-01 {:02}:{:02}:{:02}", "word": "{word}"}}"#,
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        ));
    }
    out
}

fn write_events_spec(dir: &Path, exactly_once: bool) -> PathBuf {
    let spec = dir.join("kafka_events.yaml");
    std::fs::write(
        &spec,
        format!(
            r#"app: kafka_events
trigger: available_now
checkpoint: unused-checkpoint
sources:
  - name: events
    kafka: {{ kafka.bootstrap.servers: "${{KAFKA_BOOTSTRAP_SERVERS}}", subscribe: events, startingOffsets: earliest, maxOffsetsPerTrigger: 500 }}
    schema: {{ timestamp: timestamp, word: string }}
queries:
  - name: counts
    from: events
    steps:
      - with_watermark: {{ column: timestamp, delay: 5 minutes }}
      - group_by: ["window(timestamp, '2 minutes')", word]
        agg: ["count(*) AS n"]
      - select: ["word AS key", "concat(CAST(window_start AS STRING), ' ', word, ' ', CAST(n AS STRING)) AS value"]
    output_mode: append
    sink: [{{ kafka: {{ kafka.bootstrap.servers: "${{KAFKA_BOOTSTRAP_SERVERS}}", topic: "${{OUT_TOPIC}}", exactly_once: {exactly_once} }} }}]
"#
        ),
    )
    .unwrap();
    spec
}

/// Runs the events query once uninterrupted (into topic `reference`), then, with one checkpoint,
/// kills it 30 times at pseudo-random moments and restarts it until it ends by itself (into
/// topic `crashed`); returns both topics' values, sorted.
fn crash_series(dir: &Path, exactly_once: bool) -> (Vec<String>, Vec<String>) {
    let broker = Broker::start();
    broker.create_topic("events", 3);
    // Three output partitions: keyed records go by Kafka's partitioner (murmur2 of the key).
    broker.create_topic("reference", 3);
    broker.create_topic("crashed", 3);
    let t0 = Instant::now();
    broker.produce("events", 3, &events());
    let produced = t0.elapsed().as_secs_f64();
    let spec = write_events_spec(dir, exactly_once);
    let servers = broker.servers();
    let t = Instant::now();
    let o = streamc_run(
        &spec,
        &servers,
        &["--checkpoint", dir.join("ck-reference").to_str().unwrap()],
        &[("OUT_TOPIC", "reference")],
    );
    let exe = app_binary(&ok(&o));
    let run = t.elapsed().as_secs_f64();
    let values = |topic: &str| {
        let mut v: Vec<String> = broker.consume(topic, 3).into_iter().map(|(_, _, v)| v.unwrap()).collect();
        v.sort();
        v
    };
    let reference = values("reference");
    assert!(reference.len() > 200, "too little output to test with: {}", reference.len());
    // Each run on its own: up to ~1.5 s of work; kill somewhere in it.
    let ckpt = dir.join("ck-crash");
    let mut kills = 0;
    let mut x: u64 = 0xc0ffee;
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs < 200, "the query did not finish after {runs} runs");
        let mut child = Command::new(&exe)
            .args(["--checkpoint", ckpt.to_str().unwrap()])
            .env("KAFKA_BOOTSTRAP_SERVERS", &servers)
            .env("OUT_TOPIC", "crashed")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if kills >= 30 {
            let status = child.wait().unwrap();
            assert!(status.success(), "the last run failed: {status}");
            break;
        }
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let delay = Duration::from_millis(100 + (x >> 33) % 1500);
        std::thread::sleep(delay);
        match child.try_wait().unwrap() {
            Some(status) => {
                assert!(status.success(), "a run failed: {status}");
                break;
            }
            None => {
                let _ = child.kill();
                let _ = child.wait();
                kills += 1;
            }
        }
    }
    // Seen with --nocapture: where a slow run's time went (planning that waited behind the
    // reading client's fetch once made the reference run 130 s instead of 5 s).
    eprintln!(
        "crash series: produced in {produced:.1} s, reference run {run:.1} s (build included), {runs} runs, {kills} kills, {:.1} s in all",
        t0.elapsed().as_secs_f64()
    );
    assert!(kills >= 30, "only {kills} kills landed before the query finished (reference run {run:.1} s)");
    (reference, values("crashed"))
}

#[test]
fn exactly_once_kafka_sink_survives_sigkills() {
    let dir = scratch("kafka-exactly-once");
    let (reference, crashed) = crash_series(&dir, true);
    eprintln!("exactly once: {} records after the crashes, {} in the reference run", crashed.len(), reference.len());
    assert!(
        crashed == reference,
        "{} records after the crashes, {} in the reference run",
        crashed.len(),
        reference.len()
    );
}

#[test]
fn default_kafka_sink_writes_every_record_at_least_once_across_sigkills() {
    let dir = scratch("kafka-at-least-once");
    let (reference, crashed) = crash_series(&dir, false);
    let mut missing = reference.clone();
    for v in &crashed {
        if let Some(i) = missing.iter().position(|r| r == v) {
            missing.swap_remove(i);
        }
    }
    assert!(missing.is_empty(), "{} reference records missing after the crashes", missing.len());
    eprintln!("at least once: {} records after the crashes, {} in the reference run", crashed.len(), reference.len());
    assert!(crashed.len() >= reference.len());
}

#[test]
fn malformed_json_values_follow_the_parse_mode() {
    let dir = scratch("kafka-malformed");
    let broker = Broker::start();
    broker.create_topic("raw", 1);
    let values: Vec<String> = [
        "{\"word\": \"a\", \"num\": 1}",
        "not json",
        "{\"word\": \"b\", \"num\": \"x\"}",
        "{\"word\": \"c\", \"num\": 3}",
    ]
    .map(str::to_owned)
    .to_vec();
    broker.produce("raw", 1, &values);
    let spec = |mode: &str| {
        let p = dir.join(format!("{mode}.yaml"));
        std::fs::write(
            &p,
            format!(
                r#"app: malformed_{mode}
trigger: available_now
sources:
  - name: raw
    kafka: {{ kafka.bootstrap.servers: "${{KAFKA_BOOTSTRAP_SERVERS}}", subscribe: raw, startingOffsets: earliest, mode: {mode} }}
    schema: {{ word: string, num: long }}
queries:
  - name: rows
    from: raw
    steps: [{{ select: [word, num] }}]
    output_mode: append
    sink: console
"#
            ),
        )
        .unwrap();
        p
    };
    let rows = |mode: &str| -> Vec<String> {
        let out = dir.join(format!("{mode}.jsonl"));
        ok(&streamc_run(&spec(mode), &broker.servers(), &["--jsonl", out.to_str().unwrap()], &[]));
        let mut v: Vec<String> =
            jsonl(&out).iter().flat_map(|l| l["records"].as_array().unwrap().clone()).map(|r| r.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(
        rows("permissive"),
        [
            r#"{"num":1,"word":"a"}"#,
            r#"{"num":3,"word":"c"}"#,
            r#"{"num":null,"word":"b"}"#,
            r#"{"num":null,"word":null}"#
        ]
    );
    assert_eq!(rows("drop_malformed"), [r#"{"num":1,"word":"a"}"#, r#"{"num":3,"word":"c"}"#]);
    let o = streamc_run(&spec("fail_fast"), &broker.servers(), &[], &[]);
    assert!(!o.status.success(), "fail_fast accepted a malformed record");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("does not match the schema"), "fail_fast's error: {err}");
}

#[test]
fn a_topic_that_appears_under_a_subscribe_pattern_is_read_from_its_start() {
    let dir = scratch("kafka-pattern");
    let broker = Broker::start();
    broker.create_topic("logs-a", 2);
    broker.produce("logs-a", 2, &["a1".into(), "a2".into()]);
    let spec = dir.join("pattern.yaml");
    std::fs::write(
        &spec,
        r#"app: kafka_pattern
trigger: available_now
sources:
  - name: logs
    kafka: { kafka.bootstrap.servers: "${KAFKA_BOOTSTRAP_SERVERS}", subscribePattern: "logs-.*", startingOffsets: earliest }
queries:
  - name: rows
    sql: SELECT topic, CAST(value AS STRING) AS value FROM logs
    output_mode: append
    sink: console
"#,
    )
    .unwrap();
    let ck = dir.join("ck");
    let run = |n: usize| -> Vec<String> {
        let out = dir.join(format!("run{n}.jsonl"));
        ok(&streamc_run(
            &spec,
            &broker.servers(),
            &["--checkpoint", ck.to_str().unwrap(), "--jsonl", out.to_str().unwrap()],
            &[],
        ));
        let mut v: Vec<String> = jsonl(&out)
            .iter()
            .flat_map(|l| l["records"].as_array().unwrap().clone())
            .map(|r| format!("{}/{}", r["topic"].as_str().unwrap(), r["value"].as_str().unwrap()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(run(1), ["logs-a/a1", "logs-a/a2"]);
    // A new topic (and new records of the old one) after the first run: the new topic is read
    // from its first record, though the query started `latest` for nothing and `earliest` here.
    broker.create_topic("logs-b", 1);
    broker.produce("logs-b", 1, &["b1".into(), "b2".into()]);
    broker.produce("logs-a", 2, &["a3".into()]);
    broker.create_topic("other", 1);
    broker.produce("other", 1, &["x".into()]);
    assert_eq!(run(2), ["logs-a/a3", "logs-b/b1", "logs-b/b2"]);
}

#[test]
fn a_broker_that_goes_away_ends_the_query_with_a_clear_error_after_its_retries() {
    let dir = scratch("kafka-broker-gone");
    let mut broker = Broker::start();
    broker.create_topic("lines", 1);
    broker.produce("lines", 1, &["a b".into()]);
    let spec = dir.join("gone.yaml");
    std::fs::write(
        &spec,
        r#"app: kafka_gone
batch_interval: 200ms
sources:
  - name: lines
    kafka: { kafka.bootstrap.servers: "${KAFKA_BOOTSTRAP_SERVERS}", subscribe: lines, startingOffsets: earliest, fetchOffset.numRetries: 2, fetchOffset.retryIntervalMs: 200, kafka.socket.timeout.ms: 2000, kafka.metadata.max.age.ms: 1000 }
queries:
  - name: rows
    sql: SELECT CAST(value AS STRING) AS value FROM lines
    output_mode: append
    sink: console
"#,
    )
    .unwrap();
    // Build, then run the app itself: it reads the record, then the broker goes away.
    let built = streamc_run(&spec, &broker.servers(), &["--", "--max-batches", "1"], &[]);
    let exe = app_binary(&ok(&built));
    let child = Command::new(&exe)
        .args(["--checkpoint", dir.join("ck").to_str().unwrap()])
        .env("KAFKA_BOOTSTRAP_SERVERS", broker.servers())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    broker.stop();
    let started = Instant::now();
    let o = child.wait_with_output().unwrap();
    let waited = started.elapsed();
    let err = String::from_utf8_lossy(&o.stderr);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success(), "the query went on without its broker: {err}");
    assert!(out.contains("|    a b|") || out.contains("a b"), "the record before the broker went away: {out}");
    assert!(err.contains("Kafka source `lines`") && err.contains("is the broker"), "the error: {err}");
    assert!(waited < Duration::from_secs(120), "the query took {waited:?} to give up");
}

#[test]
fn direct_kafka_word_count_dstream_reads_records_and_resumes_from_its_checkpoint() {
    let dir = scratch("kafka-direct-word-count");
    let broker = Broker::start();
    broker.create_topic("lines", 3);
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    let lines: Vec<String> = (0..90)
        .map(|i: usize| {
            let words: Vec<&str> = (0..4).map(|k| WORDS[(i * 5 + k) % WORDS.len()]).collect();
            for w in &words {
                *expected.entry((*w).to_owned()).or_default() += 1;
            }
            words.join(" ")
        })
        .collect();
    broker.produce("lines", 3, &lines);
    let counts = |n: usize| -> BTreeMap<String, u64> {
        let out = dir.join(format!("run{n}.jsonl"));
        let ck = dir.join("ck");
        ok(&streamc_run(
            &root().join("examples/kafka_direct_word_count.yaml"),
            &broker.servers(),
            &["--checkpoint", ck.to_str().unwrap(), "--jsonl", out.to_str().unwrap(), "--", "--max-batches", "2"],
            &[],
        ));
        let mut total: BTreeMap<String, u64> = BTreeMap::new();
        for l in jsonl(&out) {
            for r in l["records"].as_array().unwrap() {
                let pair = r.as_array().expect("a (word, count) pair");
                *total.entry(pair[0].as_str().unwrap().to_owned()).or_default() += pair[1].as_u64().unwrap();
            }
        }
        total
    };
    assert_eq!(counts(1), expected, "the first run counts every record once");
    // The offsets are in the checkpoint: a second run reads only what came after.
    broker.produce("lines", 3, &["fox fox".into()]);
    assert_eq!(counts(2), BTreeMap::from([("fox".to_owned(), 2)]), "the second run reads only the new record");
}

/// Batches of `progress` as their numbers of input rows.
fn batch_sizes(progress: &Path) -> Vec<u64> {
    batches(progress).iter().map(|b| b["numInputRows"].as_u64().unwrap()).collect()
}

/// Batches of `progress`, parsed.
fn batches(progress: &Path) -> Vec<serde_json::Value> {
    // Only whole lines: the app may be writing the next one.
    let text = std::fs::read_to_string(progress).unwrap_or_default();
    let whole = text.rfind('\n').map_or("", |end| &text[..end]);
    whole.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A progress line's `timestamp` (`2026-12-06T22:19:54.331Z`, when its trigger started) in
/// milliseconds since 1970, read by the runtime's timestamp parser.
fn trigger_ms(batch: &serde_json::Value) -> i64 {
    let t = batch["timestamp"].as_str().unwrap();
    streamc_runtime::structured::parse_timestamp(t).unwrap_or_else(|| panic!("progress timestamp {t:?}")).0 / 1000
}

#[test]
fn min_offsets_per_trigger_holds_batches_back_until_enough_records_or_the_delay() {
    let dir = scratch("kafka-min-offsets");
    let broker = Broker::start();
    broker.create_topic("lines", 2);
    let spec = dir.join("min.yaml");
    std::fs::write(
        &spec,
        r#"app: kafka_min_offsets
batch_interval: 100ms
sources:
  - name: lines
    kafka: { kafka.bootstrap.servers: "${KAFKA_BOOTSTRAP_SERVERS}", subscribe: lines, startingOffsets: earliest, minOffsetsPerTrigger: 20, maxTriggerDelay: "${DELAY}" }
queries:
  - name: rows
    sql: SELECT CAST(value AS STRING) AS value FROM lines
    output_mode: append
    sink: console
"#,
    )
    .unwrap();
    let values = |from: usize, n: usize| (from..from + n).map(|i| format!("r{i}")).collect::<Vec<_>>();
    broker.produce("lines", 2, &values(0, 10));
    let built = streamc_run(&spec, &broker.servers(), &["--", "--max-batches", "1"], &[("DELAY", "1h")]);
    let exe = app_binary(&ok(&built));
    let ck = dir.join("ck");
    let run = |delay: &str, batches: &str, progress: &Path| {
        Command::new(&exe)
            .args(["--checkpoint", ck.to_str().unwrap(), "--max-batches", batches])
            .args(["--progress", progress.to_str().unwrap()])
            .env("KAFKA_BOOTSTRAP_SERVERS", broker.servers())
            .env("DELAY", delay)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let wait_for = |progress: &Path, n: usize| {
        let started = Instant::now();
        while batch_sizes(progress).len() < n {
            assert!(started.elapsed() < Duration::from_secs(120), "no batch {n} in 120 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // A first batch is never held back (Spark: no batch yet is long ago); then 19 new records
    // are too few for an hour, and the 20th lets the batch go.
    let first = dir.join("first.jsonl");
    let app = run("1h", "2", &first);
    wait_for(&first, 1);
    broker.produce("lines", 2, &values(10, 19));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(batch_sizes(&first), [10], "19 records of a minimum of 20 ran a batch");
    broker.produce("lines", 2, &values(29, 1));
    let o = app.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(batch_sizes(&first), [10, 20]);
    // With a delay of 1 s, 3 records go after it (the restart's first batch is not held back).
    broker.produce("lines", 2, &values(30, 5));
    let second = dir.join("second.jsonl");
    let app = run("1s", "2", &second);
    wait_for(&second, 1);
    broker.produce("lines", 2, &values(35, 3));
    let o = app.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(batch_sizes(&second), [5, 3]);
    // The delay runs from the last batch's trigger, as the app's own progress lines say (a
    // clock started here, after the first batch's line appeared, started late by however long
    // that batch took).
    let b = batches(&second);
    // (Each trigger asks the broker for offsets before it checks the delay: 800 ms, not 1000, and
    // records let go at once would be ~100-300 ms behind.)
    let held = trigger_ms(&b[1]) - trigger_ms(&b[0]);
    assert!(held >= 800, "3 records of 20 went {held} ms after the last batch, before the 1 s delay");
}

#[test]
fn starting_timestamps_pick_the_first_record_at_or_after_them_and_headers_are_read() {
    let dir = scratch("kafka-timestamps");
    let broker = Broker::start();
    broker.create_topic("events", 2);
    // Two groups of records a second apart; the time between them starts the query. (tansu
    // answers a time with the first record stored after it, so record times are now.)
    broker.produce_stamped(
        "events",
        &[
            Stamped { partition: 0, value: "a", header: None },
            Stamped { partition: 0, value: "b", header: Some(("trace", b"t-1")) },
            Stamped { partition: 1, value: "x", header: None },
        ],
    );
    std::thread::sleep(Duration::from_millis(1100));
    let between = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    std::thread::sleep(Duration::from_millis(1100));
    broker.produce_stamped(
        "events",
        &[
            Stamped { partition: 0, value: "c", header: None },
            Stamped { partition: 1, value: "y", header: Some(("bin", &[0, 255])) },
        ],
    );
    let spec = dir.join("stamped.yaml");
    let write = |start: &str| {
        std::fs::write(
            &spec,
            format!(
                r#"app: kafka_timestamps
trigger: available_now
sources:
  - name: events
    kafka: {{ kafka.bootstrap.servers: "${{KAFKA_BOOTSTRAP_SERVERS}}", subscribe: events, includeHeaders: true, {start} }}
queries:
  - name: rows
    sql: SELECT partition, CAST(value AS STRING) AS value, headers FROM events
    output_mode: append
    sink: console
"#
            ),
        )
        .unwrap();
    };
    let rows = |n: usize| -> Result<Vec<String>, String> {
        let out = dir.join(format!("run{n}.jsonl"));
        let o = streamc_run(
            &spec,
            &broker.servers(),
            &["--checkpoint", dir.join(format!("ck{n}")).to_str().unwrap(), "--jsonl", out.to_str().unwrap()],
            &[],
        );
        if !o.status.success() {
            return Err(String::from_utf8_lossy(&o.stderr).into_owned());
        }
        let mut v: Vec<String> =
            jsonl(&out).iter().flat_map(|l| l["records"].as_array().unwrap().clone()).map(|r| r.to_string()).collect();
        v.sort();
        Ok(v)
    };
    // Headers: Spark's array of (key, binary value), null for a record without any.
    write("startingOffsets: earliest");
    assert_eq!(
        rows(1).unwrap(),
        [
            r#"{"headers":[{"key":"bin","value":"AP8="}],"partition":1,"value":"y"}"#,
            r#"{"headers":[{"key":"trace","value":"dC0x"}],"partition":0,"value":"b"}"#,
            r#"{"headers":null,"partition":0,"value":"a"}"#,
            r#"{"headers":null,"partition":0,"value":"c"}"#,
            r#"{"headers":null,"partition":1,"value":"x"}"#,
        ]
    );
    let values = |rows: Vec<String>| -> Vec<String> {
        let mut v: Vec<String> = rows
            .iter()
            .map(|r| serde_json::from_str::<serde_json::Value>(r).unwrap()["value"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    write(&format!("startingTimestamp: {between}"));
    assert_eq!(values(rows(2).unwrap()), ["c", "y"]);
    write(&format!(r#"startingOffsetsByTimestamp: '{{"events":{{"0":{between},"1":0}}}}'"#));
    assert_eq!(values(rows(3).unwrap()), ["c", "x", "y"]);
    // Per-partition timestamps must name every partition, as Spark requires.
    write(&format!(r#"startingOffsetsByTimestamp: '{{"events":{{"0":{between}}}}}'"#));
    let err = rows(4).unwrap_err();
    assert!(err.contains("do not match with topic-partitions assigned"), "{err}");
    assert!(err.contains("Set(events-0, events-1)"), "{err}");
}

#[test]
fn a_broker_that_goes_away_and_comes_back_loses_and_repeats_nothing() {
    let dir = scratch("kafka-broker-back");
    // Every client reaches the broker through the proxy (its bootstrap address and the address
    // the broker advertises), so stopping the proxy takes the broker away from the app.
    let front = free_port();
    let broker = Broker::on(free_port(), front);
    let mut proxy = Proxy::start(front, broker.port);
    broker.create_topic("lines", 2);
    let spec = dir.join("back.yaml");
    std::fs::write(
        &spec,
        r#"app: kafka_back
batch_interval: 200ms
sources:
  - name: lines
    kafka: { kafka.bootstrap.servers: "${KAFKA_BOOTSTRAP_SERVERS}", subscribe: lines, startingOffsets: earliest, minOffsetsPerTrigger: 4, maxTriggerDelay: 1h, fetchOffset.numRetries: 60, fetchOffset.retryIntervalMs: 500, kafka.socket.timeout.ms: 2000, kafka.reconnect.backoff.max.ms: 500 }
queries:
  - name: rows
    sql: SELECT CAST(value AS STRING) AS value FROM lines
    output_mode: append
    sink: console
"#,
    )
    .unwrap();
    let servers = format!("127.0.0.1:{front}");
    let values = |from: usize, n: usize| (from..from + n).map(|i| format!("r{i}")).collect::<Vec<_>>();
    broker.produce("lines", 2, &values(0, 6));
    // Build (the build's own run, without a checkpoint, reads one batch).
    let built = streamc_run(&spec, &servers, &["--", "--max-batches", "1"], &[]);
    let exe = app_binary(&ok(&built));
    let (out, progress) = (dir.join("out.jsonl"), dir.join("progress.jsonl"));
    let child = Command::new(&exe)
        .args(["--checkpoint", dir.join("ck").to_str().unwrap(), "--max-batches", "2"])
        .args(["--jsonl", out.to_str().unwrap(), "--progress", progress.to_str().unwrap()])
        .env("KAFKA_BOOTSTRAP_SERVERS", &servers)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while batch_sizes(&progress).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(120), "no first batch in 120 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Away for 4 s: the app's requests fail and are retried; then it is back, with new records
    // (`minOffsetsPerTrigger` makes their batch wait for all 4).
    proxy.stop();
    std::thread::sleep(Duration::from_secs(4));
    proxy = Proxy::start(front, broker.port);
    broker.produce("lines", 2, &values(6, 4));
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "the query did not survive the broker's absence: {err}");
    assert_eq!(batch_sizes(&progress), [6, 4], "records per batch");
    let mut got: Vec<String> = jsonl(&out)
        .iter()
        .flat_map(|l| l["records"].as_array().unwrap().clone())
        .map(|r| r["value"].as_str().unwrap().to_owned())
        .collect();
    got.sort_by_key(|v| v[1..].parse::<u32>().unwrap());
    assert_eq!(got, values(0, 10), "every record once");
    drop(proxy);
}

#[test]
fn binary_keys_values_and_headers_go_from_topic_to_topic_byte_for_byte() {
    let dir = scratch("kafka-binary");
    let broker = Broker::start();
    broker.create_topic("raw", 1);
    broker.create_topic("copy", 1);
    // Bytes that are not UTF-8, and text.
    let p: BaseProducer = ClientConfig::new().set("bootstrap.servers", broker.servers()).create().unwrap();
    let records: [(&[u8], &[u8]); 2] = [(&[0xff, 0x00], &[0xc3, 0x28, 0x41]), (b"k", b"hello")];
    for (i, (k, v)) in records.into_iter().enumerate() {
        let mut r = BaseRecord::<'_, [u8], [u8]>::to("raw").key(k).payload(v).partition(0);
        if i == 0 {
            r = r.headers(OwnedHeaders::new().insert(Header { key: "h", value: Some(&[1u8, 2][..]) }));
        }
        p.send(r).map_err(|(e, _)| e).unwrap();
        p.flush(Duration::from_secs(30)).unwrap();
    }
    let spec = dir.join("binary.yaml");
    std::fs::write(
        &spec,
        r#"app: kafka_binary
trigger: available_now
sources:
  - name: raw
    kafka: { kafka.bootstrap.servers: "${KAFKA_BOOTSTRAP_SERVERS}", subscribe: raw, startingOffsets: earliest, includeHeaders: true }
queries:
  - name: copied
    sql: SELECT key, value, headers FROM raw
    output_mode: append
    sink: [console, { kafka: { kafka.bootstrap.servers: "${KAFKA_BOOTSTRAP_SERVERS}", topic: copy } }]
"#,
    )
    .unwrap();
    let out = dir.join("rows.jsonl");
    ok(&streamc_run(&spec, &broker.servers(), &["--jsonl", out.to_str().unwrap()], &[]));
    // JSON shows binary as base64 (Spark's JSON writer).
    let rows: Vec<String> =
        jsonl(&out).iter().flat_map(|l| l["records"].as_array().unwrap().clone()).map(|r| r.to_string()).collect();
    assert_eq!(
        rows,
        [
            r#"{"headers":[{"key":"h","value":"AQI="}],"key":"/wA=","value":"wyhB"}"#,
            r#"{"headers":null,"key":"aw==","value":"aGVsbG8="}"#
        ]
    );
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.servers())
        .set("group.id", "streamc-test")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("copy", 0, Offset::Beginning).unwrap();
    c.assign(&tpl).unwrap();
    type Copied = (Vec<u8>, Vec<u8>, Vec<(String, Vec<u8>)>);
    let mut copied: Vec<Copied> = Vec::new();
    let started = Instant::now();
    while copied.len() < 2 && started.elapsed() < Duration::from_secs(30) {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
            let headers = m
                .headers()
                .map(|h| h.iter().map(|x| (x.key.to_owned(), x.value.unwrap_or_default().to_vec())).collect())
                .unwrap_or_default();
            copied.push((m.key().unwrap_or_default().to_vec(), m.payload().unwrap_or_default().to_vec(), headers));
        }
    }
    let want: Vec<Copied> = vec![
        (records[0].0.to_vec(), records[0].1.to_vec(), vec![("h".to_owned(), vec![1, 2])]),
        (records[1].0.to_vec(), records[1].1.to_vec(), vec![]),
    ];
    assert_eq!(copied, want, "the copy's records");
}

//! The UI of a running app (`with_ui`, the runtime's `ui` feature): `/metrics` parsed with a
//! Prometheus text parser and checked against the run's known row counts, the page and its
//! vendored chart library, the batches as JSON and as server-sent events, and the refusal of
//! anything but GET of its own paths.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;
use streamc_runtime::prelude::*;
use streamc_runtime::{AppBuilder, BatchInput, BatchOutput};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/streamc-tests/ui").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One HTTP request; the status line and the body.
fn request(addr: SocketAddr, head: &str) -> (String, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (headers.lines().next().unwrap_or("").to_owned(), body.to_owned())
}

fn get(addr: SocketAddr, path: &str) -> (String, String) {
    request(addr, &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"))
}

#[test]
fn metrics_page_and_events_of_a_run() {
    let dir = scratch("word_count");
    // 3 batches of 4, 0 and 7 lines: 11 input rows.
    let batches = ["a b\nb c\nc d\nd a\n", "", "x\ny\nz\nx\ny\nz\nq\n"];
    for (i, b) in batches.iter().enumerate() {
        std::fs::write(dir.join(format!("b{i}.txt")), b).unwrap();
    }
    let app = stream! {
        app_name("ui_word_count");
        batch_interval(Seconds(1));
        let lines = socket_text_stream("localhost", 9);
        let words = lines.flat_map(|line| java_split(line, " "));
        let counts = words.map(|w| (w, 1i64)).reduce_by_key(|a, b| a + b);
        counts.print();
    };
    let mut handle =
        app.with_replay_all(&dir).with_print_writer(std::io::sink()).with_ui("127.0.0.1:0").start().unwrap();
    // The app has finished its replay; the UI serves until the handle is dropped.
    assert!(handle.await_termination_or_timeout(Duration::from_secs(60)).unwrap(), "the replay did not finish");
    let addr = handle.ui_addr().expect("the UI's address");
    assert!(addr.ip().is_loopback());

    // `/metrics`, parsed as Prometheus does.
    let (status, body) = get(addr, "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    let lines = body.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("a Prometheus text exposition");
    let value = |name: &str| -> f64 {
        let s = scrape.samples.iter().find(|s| s.metric == name).unwrap_or_else(|| panic!("no `{name}` in\n{body}"));
        assert_eq!(s.labels.get("query"), Some("ui_word_count"), "{name}");
        match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{name}: {other:?}"),
        }
    };
    assert_eq!(value("streamc_batches_total"), 3.0);
    assert_eq!(value("streamc_input_rows_total"), 11.0);
    // Output rows: the distinct words of each batch (4, 0, 4).
    assert_eq!(value("streamc_output_rows_total"), 8.0);
    assert!(scrape.samples.iter().any(|s| s.metric == "streamc_batch_duration_seconds_count"), "{body}");
    // Rows per operator, fused ones too (node of the plan graph, and its name): 15 words in
    // all, as many pairs, and 8 distinct words per batch.
    let operator = |name: &str, node: &str| -> f64 {
        let s = scrape
            .samples
            .iter()
            .find(|s| s.metric == name && s.labels.get("node") == Some(node))
            .unwrap_or_else(|| panic!("no `{name}` of node {node} in\n{body}"));
        match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{name}: {other:?}"),
        }
    };
    assert_eq!(operator("streamc_operator_output_rows_total", "n1"), 15.0);
    assert_eq!(operator("streamc_operator_output_rows_total", "n2"), 15.0);
    assert_eq!(operator("streamc_operator_output_rows_total", "n3"), 8.0);
    let words = scrape.samples.iter().find(|s| s.labels.get("node") == Some("n1")).unwrap();
    assert_eq!(words.labels.get("operator"), Some("words"), "{body}");

    // The recent batches, and the same as server-sent events of a finished app.
    let (status, batches_json) = get(addr, "/api/batches");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(
        batches_json.matches("\"batchId\"").count(),
        6,
        "3 batches, each with its progress record: {batches_json}"
    );
    assert!(batches_json.contains("\"inputRows\":7"), "{batches_json}");
    // Rows per operator, by graph node, as the generated code reports them: in the last batch
    // 7 words (fused: counted as they pass), 7 pairs, 4 distinct words.
    assert!(batches_json.contains("\"rows\":{\"n3\":4,\"n1\":7,\"n2\":7}"), "{batches_json}");
    let (_, events) = get(addr, "/events");
    assert!(events.contains("event: end"), "{events}");

    // The page, its chart library and the plan.
    let (status, page) = get(addr, "/");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(page.contains("<script src=\"/uPlot.min.js\">"));
    let (status, js) = get(addr, "/uPlot.min.js");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(js.contains("uPlot"));
    let (_, plan) = get(addr, "/api/plan");
    assert!(plan.contains("== Physical Plan =="), "{plan}");
    let (status, svg) = get(addr, "/api/plan.svg");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(svg.contains("<svg") && svg.contains("reduce_by_key") && svg.contains("*(1)"), "{svg}");
    // The last batch's rows, in the nodes.
    assert!(svg.contains("7 rows") && svg.contains("4 rows"), "{svg}");

    // Only GET of its own paths.
    assert_eq!(
        request(addr, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").0,
        "HTTP/1.1 405 Method Not Allowed"
    );
    assert_eq!(get(addr, "/../etc/passwd").0, "HTTP/1.1 404 Not Found");
    drop(handle);
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(), "the UI stops with the app's handle");
}

/// A Structured query's operators: rows read, rows through a filter (fused: counted in the
/// loop), the aggregation's output and its state (rows and memory), in the batches' JSON, the
/// metrics and the graph's nodes.
#[test]
fn structured_operators_report_rows_and_state() {
    let dir = scratch("structured");
    // Batch 0: 6 rows, 4 with n > 1, 2 words; batch 1: 3 rows, 1 with n > 1, a third word.
    let batches = [
        "{\"n\":1,\"word\":\"a\"}\n{\"n\":2,\"word\":\"a\"}\n{\"n\":3,\"word\":\"bb\"}\n\
         {\"n\":4,\"word\":\"bb\"}\n{\"n\":5,\"word\":\"a\"}\n{\"n\":0,\"word\":\"c\"}\n",
        "{\"n\":1,\"word\":\"a\"}\n{\"n\":9,\"word\":\"ccc\"}\n{\"n\":0,\"word\":\"a\"}\n",
    ];
    for (i, b) in batches.iter().enumerate() {
        std::fs::write(dir.join(format!("b{i}.json")), b).unwrap();
    }
    let app = stream! {
        app_name("ui_structured");
        trigger(AvailableNow);
        let events = read_stream.json("/tmp/streamc-never-created/ui").schema("n BIGINT, word STRING");
        let counts = events.where_("n > 1").group_by(["word"]).count();
        counts.write_stream().output_mode("complete").memory();
    };
    let mut handle =
        app.with_replay_all(&dir).with_print_writer(std::io::sink()).with_ui("127.0.0.1:0").start().unwrap();
    assert!(handle.await_termination_or_timeout(Duration::from_secs(60)).unwrap(), "the replay did not finish");
    let addr = handle.ui_addr().unwrap();
    let (_, nodes) = get(addr, "/api/nodes");
    // n0 the source, n1 its read, n2 the filter, n3 the aggregation, n4 the sink.
    assert!(nodes.contains("\"n2\":\"filter · (n > 1)\"") && nodes.contains("\"n3\":\"aggregate (state)"), "{nodes}");
    let (_, batches_json) = get(addr, "/api/batches");
    let batch: Vec<&str> = batches_json.split("{\"seq\":").skip(1).collect();
    assert_eq!(batch.len(), 2, "{batches_json}");
    assert!(batch[0].contains("\"rows\":{\"n1\":6,\"n2\":4,\"n3\":2,\"n4\":2}"), "{}", batch[0]);
    assert!(batch[1].contains("\"rows\":{\"n1\":3,\"n2\":1,\"n3\":3,\"n4\":3}"), "{}", batch[1]);
    // The aggregation's state: 3 words after batch 1, 1 updated, with an estimate of memory
    // (the table and entries, at least a pointer-sized word per row).
    let state = batch[1].split("\"operators\":[").nth(1).unwrap();
    assert!(
        state.starts_with("{\"node\":\"n3\",\"operator\":\"stateStoreSave\",\"rows\":3,\"updated\":1,\"memoryBytes\":"),
        "{state}"
    );
    let memory: u64 = state.split("\"memoryBytes\":").nth(1).unwrap().split(',').next().unwrap().parse().unwrap();
    assert!((3 * 8..1 << 20).contains(&memory), "{memory}");
    assert!(
        batch[1].contains(
            "\"operatorName\":\"stateStoreSave\",\"numRowsTotal\":3,\"numRowsUpdated\":1,\"memoryUsedBytes\":"
        ),
        "{}",
        batch[1]
    );
    let (_, metrics) = get(addr, "/metrics");
    assert!(
        metrics
            .contains("streamc_operator_output_rows_total{query=\"ui_structured\",node=\"n2\",operator=\"filter\"} 5"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "streamc_operator_state_rows{query=\"ui_structured\",node=\"n3\",operator=\"aggregate (state)\"} 3"
        ),
        "{metrics}"
    );
    let (_, svg) = get(addr, "/api/plan.svg");
    assert!(svg.contains("state: 3 rows"), "{svg}");
    std::fs::write(dir.join("plan.svg"), &svg).unwrap();
}

/// The page in a real browser (Debian's `chromium`, headless; installed by
/// `tests/setup/install-chromium.sh` when missing, which `.ci/run` also calls first): a live app — a socket source fed by
/// the test, 100 ms batches — whose page is loaded; every chart must have drawn points and the
/// batch table must have rows. A screenshot goes to `target/streamc-tests/ui/page.png`.
#[test]
fn page_draws_batches_in_a_real_browser() {
    let find = || {
        ["chromium", "chromium-browser", "google-chrome"]
            .into_iter()
            .find(|c| std::process::Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
    };
    let chromium = find()
        .or_else(|| {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("setup/install-chromium.sh");
            let ok = std::process::Command::new(&script).status().is_ok_and(|s| s.success());
            assert!(ok, "no chromium, and {} could not install it", script.display());
            find()
        })
        .expect("chromium after installing it");
    let dir = scratch("browser");
    // The source: a line every 10 ms, until the test ends.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let feeding = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let feed = std::sync::Arc::clone(&feeding);
    let feeder = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut i = 0u64;
        while feed.load(std::sync::atomic::Ordering::SeqCst) {
            if conn.write_all(format!("w{} w{}\n", i % 7, i % 3).as_bytes()).is_err() {
                break;
            }
            i += 1;
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let mut b = AppBuilder::new("ui_browser", Milliseconds(100));
    // The plan of the app this one stands in for: the word count's, as `streamc` compiles it.
    let spec =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/word_count.yaml")).unwrap();
    let c = streamc::compile_yaml(&spec);
    let phys = c.physical.as_ref().unwrap();
    let dot = streamc::explain::graph(&c.program, phys, streamc::explain::GraphFormat::Dot).unwrap();
    b.plan(&streamc::explain::explain(&c.program, phys), &dot);
    let src = b.socket_text_stream("lines", "127.0.0.1", port);
    let out = b.print("lines", 5);
    // A stateful operator too: the lines of the last second, as node n3 of the plan.
    let mut recent = streamc_runtime::window::Window::new(1000);
    let app = b.build(move |input: &BatchInput, output: &mut BatchOutput| {
        let lines: Vec<&str> = input.text(src).lines().collect();
        output.report_rows("n1", lines.len());
        recent.push(input.time_ms(), lines.iter().map(|l| l.to_string()).collect());
        output.report_operator_state("n3", "window", &recent, lines.len(), 0u64);
        output.emit(out, &lines)
    });
    let handle = app.with_print_writer(std::io::sink()).with_ui("127.0.0.1:0").start().unwrap();
    let addr = handle.ui_addr().unwrap();
    while handle.completed_batches() < 5 {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Live batches are pushed as server-sent events.
    let mut events = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    events.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    events.write_all(b"GET /events HTTP/1.1\r\n\r\n").unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains("\ndata: [{") {
        let n = events.read(&mut buf).expect("an event within 10 s");
        assert!(n > 0, "the event stream ended: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream"), "{seen}");
    drop(events);
    let url = format!("http://{addr}/");
    // `--timeout`: the page is dumped 5 s after it starts loading, its event stream still open.
    // One chromium run, in its own process group so a hung one is killed with its children;
    // `None` when it did not finish within `limit`. A fresh profile each run.
    let run = |extra: &[&str], attempt: u32, limit: Duration| -> Option<String> {
        use std::os::unix::process::CommandExt;
        let log = dir.join(format!("chromium-{attempt}.log"));
        let mut child = std::process::Command::new(chromium)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"])
            .args(["--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            .arg(format!("--user-data-dir={}", dir.join(format!("profile-{attempt}")).display()))
            .args(["--timeout=5000", "--window-size=1400,1300"])
            .args(extra)
            .arg(&url)
            // No session bus here: fail fast instead of waiting for one.
            .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
            .process_group(0)
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // Read the dump while chromium writes it: a page larger than the pipe's buffer would
        // otherwise block chromium's write and it would never exit.
        let mut out = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut dom = String::new();
            out.read_to_string(&mut dom).map(|_| dom)
        });
        let deadline = std::time::Instant::now() + limit;
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let group = format!("-{}", child.id());
                let _ = std::process::Command::new("kill").args(["-KILL", "--", &group]).status();
                let _ = child.kill();
                let _ = child.wait();
                // Not joined: a child chromium left running would keep the pipe open.
                drop(reader);
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(30).collect();
                eprintln!("chromium run {attempt} did not finish within {limit:?}; the end of its log:");
                tail.iter().rev().for_each(|l| eprintln!("  {l}"));
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(reader.join().unwrap().expect("chromium's output as text"))
    };
    // A loaded machine (CI builds beside this test) has once kept chromium from finishing; a
    // run that hangs is retried with a fresh profile, and three hung runs fail the test.
    let attempts = std::cell::Cell::new(0);
    let browser = |extra: &[&str]| {
        for _ in 0..3 {
            attempts.set(attempts.get() + 1);
            if let Some(out) = run(extra, attempts.get(), Duration::from_secs(60)) {
                return out;
            }
        }
        panic!("chromium did not finish in 3 runs of 60 s each (logs in {})", dir.display());
    };
    let dom = browser(&["--dump-dom"]);
    std::fs::write(dir.join("page.html"), &dom).unwrap();
    for chart in ["rates", "durations", "state", "memory", "watermark"] {
        let tag = format!("id=\"{chart}\" data-points=\"");
        let at = dom.find(&tag).unwrap_or_else(|| panic!("no chart `{chart}` in the page:\n{dom}"));
        let n: u64 = dom[at + tag.len()..].split('"').next().unwrap().parse().unwrap();
        assert!(n >= 5, "chart `{chart}` drew {n} points");
    }
    assert!(dom.contains("<canvas"), "uPlot drew no canvas");
    assert!(dom.contains("data-loaded=\"yes\""), "the plan's drawing did not load");
    assert!(dom.contains("<tbody id=\"operator-rows\"><tr><td>n1</td><td>words · flat_map"), "no rows per operator");
    assert!(dom.contains("<tr><td>n3</td><td>word_counts · reduce_by_key"), "no state per operator");
    // The state charts have a series per operator, labelled from the graph.
    assert!(dom.contains("word_counts (n3)"), "no series of the stateful operator");
    // Every batch once, in order (the page's first load and its event stream do not overlap
    // or leave a gap).
    let ids: Vec<u64> = dom
        .split("<tbody id=\"batch-rows\">")
        .nth(1)
        .and_then(|b| b.split("</tbody>").next())
        .unwrap_or("")
        .split("<tr><td>")
        .skip(1)
        .map(|r| r.split('<').next().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1] + 1), "batches missing or repeated: {ids:?}");
    let rows = dom.split("<tbody id=\"batch-rows\">").nth(1).and_then(|b| b.split("</tbody>").next()).unwrap_or("");
    assert!(rows.matches("<tr>").count() >= 5, "the batch table has too few rows: {rows}");
    let shot = dir.join("page.png");
    browser(&[&format!("--screenshot={}", shot.display())]);
    assert!(std::fs::metadata(&shot).map(|m| m.len() > 10_000).unwrap_or(false), "no screenshot at {}", shot.display());
    feeding.store(false, std::sync::atomic::Ordering::SeqCst);
    handle.stop(false).unwrap();
    let _ = feeder.join();
}

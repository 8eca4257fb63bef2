//! Does the UI slow the batch loop? The same app (a word count over a socket source fed 50 000
//! lines per 100 ms batch) runs 60 batches three times: without `--ui`, with the UI and no
//! client, and with the UI and 50 clients that each load the page (the page, uPlot, its CSS,
//! `/api/batches`, `/api/plan`, `/metrics`) and then hold its event stream for a second, over
//! and over. Prints the time of each batch's work (the handler: counting and emitting; p50, p90,
//! max) and the ratio to the run without UI.
//!
//! `cargo bench -p streamc-examples --bench ui_overload`

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use streamc_runtime::{AppBuilder, BatchInput, BatchOutput, Error, Milliseconds};

const BATCHES: u64 = 60;
const LINES_PER_BATCH: usize = 50_000;

/// Feeds `LINES_PER_BATCH` lines every 100 ms to the first connection, until `stop`.
fn feeder(stop: Arc<AtomicBool>) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut i = 0u64;
        let mut chunk = String::new();
        while !stop.load(Ordering::SeqCst) {
            chunk.clear();
            for _ in 0..LINES_PER_BATCH {
                chunk.push_str(&format!("w{} w{} w{} w{}\n", i % 1000, i % 77, i % 13, i % 5));
                i += 1;
            }
            if conn.write_all(chunk.as_bytes()).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    (port, t)
}

fn get(addr: SocketAddr, path: &str, hold: Option<Duration>) -> usize {
    let Ok(mut s) = TcpStream::connect(addr) else { return 0 };
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    if s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).is_err() {
        return 0;
    }
    let start = Instant::now();
    let mut buf = [0u8; 16 * 1024];
    let mut n = 0;
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(_) if hold.is_some_and(|h| start.elapsed() < h) => continue,
            Err(_) => break,
        }
        if hold.is_some_and(|h| start.elapsed() >= h) {
            break;
        }
    }
    n
}

/// One run; the batch durations in ms, and the requests served.
fn run(ui: bool, clients: usize) -> (Vec<f64>, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let (port, feed) = feeder(Arc::clone(&stop));
    let mut b = AppBuilder::new("ui_overload", Milliseconds(100));
    let src = b.socket_text_stream("lines", "127.0.0.1", port);
    let out = b.print("counts", 10);
    let times = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = Arc::clone(&times);
    let app = b.build(move |input: &BatchInput, output: &mut BatchOutput| -> Result<(), Error> {
        let started = Instant::now();
        let mut counts: HashMap<&str, i64> = HashMap::new();
        for line in input.text(src).lines() {
            for w in line.split(' ') {
                *counts.entry(w).or_insert(0) += 1;
            }
        }
        let v: Vec<(&str, i64)> = counts.into_iter().collect();
        let r = output.emit(out, &v);
        record.lock().unwrap().push(started.elapsed().as_secs_f64() * 1e3);
        r
    });
    let mut app = app.with_print_writer(std::io::sink()).with_max_batches(BATCHES);
    if ui {
        app = app.with_ui("127.0.0.1:0");
    }
    let mut handle = app.start().unwrap();
    let served = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    if let Some(addr) = handle.ui_addr() {
        for _ in 0..clients {
            let (stop, served) = (Arc::clone(&stop), Arc::clone(&served));
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    for p in ["/", "/uPlot.min.js", "/uPlot.min.css", "/api/batches", "/api/plan", "/metrics"] {
                        if get(addr, p, None) > 0 {
                            served.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    get(addr, "/events", Some(Duration::from_secs(1)));
                    served.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
    }
    while !handle.await_termination_or_timeout(Duration::from_millis(100)).unwrap() {}
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        let _ = t.join();
    }
    drop(handle);
    let _ = feed.join();
    // The first 5 batches warm up.
    let durations = times.lock().unwrap().iter().skip(5).copied().collect();
    (durations, served.load(Ordering::Relaxed))
}

fn summary(mut d: Vec<f64>) -> (f64, f64, f64) {
    d.sort_by(f64::total_cmp);
    let at = |q: f64| d[((d.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.9), *d.last().unwrap())
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return; // `cargo test` builds benches; nothing to check here
    }
    let (base, _) = run(false, 0);
    let (idle, _) = run(true, 0);
    let (loaded, served) = run(true, 50);
    let (b50, b90, bmax) = summary(base);
    println!(
        "ui_overload: batch duration in ms over {} batches of {LINES_PER_BATCH} lines (after 5 warm-up)",
        BATCHES - 5
    );
    println!("  without UI             p50 {b50:>6.2}  p90 {b90:>6.2}  max {bmax:>6.2}");
    for (name, d) in [("UI, no client", idle), ("UI, 50 clients", loaded)] {
        let (p50, p90, max) = summary(d);
        println!("  {name:<22} p50 {p50:>6.2}  p90 {p90:>6.2}  max {max:>6.2}   p50 ratio {:.2}×", p50 / b50);
    }
    println!("  requests served to the 50 clients: {served}");
}

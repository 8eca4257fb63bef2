//! Hostile and unlucky input at the sources: a 100 MB line, invalid UTF-8 and garbage, files
//! that vanish or cannot be read or are still being written, and socket servers that stall,
//! disconnect, or send far faster than the pipeline processes (memory stays bounded: measured
//! as the process's resident set size).

mod common;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use common::{Captured, TempDir, wait_for};
use streamc_runtime::{App, AppBuilder, BatchInput, BatchOutput, Error, ManualClock, Seconds, SourceId, Trigger};

type Seen = Arc<Mutex<Vec<(i64, Vec<String>)>>>;
type Handler = Box<dyn FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send>;

/// Tests that measure memory run one at a time, so that one's allocations do not count in the
/// other's resident set.
static MEMORY: Mutex<()> = Mutex::new(());

/// An app whose one source `src` is recorded batch by batch into `seen`.
fn recorder(b: AppBuilder, src: SourceId, seen: &Seen) -> App<Handler> {
    let seen = Arc::clone(seen);
    b.build(Box::new(move |input: &BatchInput, _: &mut BatchOutput| {
        let lines = input.text(src).lines().map(str::to_owned).collect();
        seen.lock().unwrap().push((input.time_ms(), lines));
        Ok(())
    }) as Handler)
}

fn all_lines(seen: &Seen) -> Vec<String> {
    seen.lock().unwrap().iter().flat_map(|(_, l)| l.clone()).collect()
}

/// This process's resident set size in bytes (Linux: `VmRSS` of /proc/self/status).
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line");
    kb * 1024
}

/// Samples [`rss_bytes`] every 10 ms until dropped; [`peak`](Self::peak) is the largest seen.
struct RssSampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    fn start() -> Self {
        let peak = Arc::new(AtomicU64::new(rss_bytes()));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (Arc::clone(&peak), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                p.fetch_max(rss_bytes(), Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        RssSampler { peak, stop, thread: Some(thread) }
    }

    fn peak(&self) -> u64 {
        self.peak.fetch_max(rss_bytes(), Ordering::SeqCst).max(rss_bytes())
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

const MIB: u64 = 1 << 20;

// ----- files ------------------------------------------------------------------------------------

#[test]
fn a_100_mb_line_is_skipped_with_bounded_memory_and_the_other_lines_are_kept() {
    let _one_at_a_time = MEMORY.lock().unwrap_or_else(|e| e.into_inner());
    let dir = TempDir::new("bigline");
    let mut b = AppBuilder::new("big", Seconds(1));
    b.max_line_bytes(1 << 20);
    let src = b.text_file_stream("files", dir.path());
    let clock = ManualClock::new(0);
    let seen = Seen::default();
    // Written under an ignored name, streamed from a small buffer, then renamed into place.
    let tmp = dir.join("big.txt.tmp");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp).unwrap());
        f.write_all(b"before\n").unwrap();
        let block = vec![b'x'; 1 << 20];
        for _ in 0..100 {
            f.write_all(&block).unwrap();
        }
        f.write_all(b"\nafter\n").unwrap();
    }
    let baseline = rss_bytes();
    let sampler = RssSampler::start();
    let handle = recorder(b, src, &seen).with_manual_clock(clock.clone()).start().unwrap();
    clock.advance(Duration::from_secs(1));
    wait_for(10, "batch 1", || handle.completed_batches() >= 1);
    std::fs::rename(&tmp, dir.join("big.txt")).unwrap();
    clock.advance(Duration::from_secs(1));
    wait_for(15, "batch 2", || handle.completed_batches() >= 2);
    handle.stop(false).unwrap();
    let grew = sampler.peak().saturating_sub(baseline);
    eprintln!("a 100 MiB line: resident memory grew by {} KiB", grew / 1024);
    assert_eq!(*seen.lock().unwrap(), [(1000, vec![]), (2000, vec!["before".to_owned(), "after".to_owned()])]);
    // Reading the whole file would take 100 MiB; the bounded reader holds at most one line of
    // 1 MiB and a 64 KiB buffer (measured: 1.1–1.4 MiB). The README states this bound.
    assert!(grew < 8 * MIB, "resident memory grew by {} MiB reading a 100 MiB line", grew / MIB);
}

#[test]
fn replay_files_skip_overlong_and_invalid_lines() {
    let dir = TempDir::new("replaylong");
    std::fs::write(dir.join("0"), b"short\nthis line is too long\n\xff\xfe\nok").unwrap();
    let mut b = AppBuilder::new("r", Seconds(1));
    b.max_line_bytes(8);
    let src = b.socket_text_stream("lines", "127.0.0.1", 9);
    let seen = Seen::default();
    recorder(b, src, &seen).with_replay_all(dir.path()).start().unwrap().await_termination().unwrap();
    assert_eq!(*seen.lock().unwrap(), [(1000, vec!["short".to_owned(), "ok".to_owned()])]);
}

/// On Linux, `/proc/self/mem` is a "regular file" that fails to read at offset 0 (EIO), and
/// `/proc/self/status` is one whose listed size (0) is never what is read: a file that cannot be
/// read and one that is "still being written", on demand.
fn proc_links(dir: &Path) {
    std::os::unix::fs::symlink("/proc/self/mem", dir.join("unreadable")).unwrap();
    std::os::unix::fs::symlink("/proc/self/status", dir.join("growing")).unwrap();
}

#[test]
fn text_file_stream_skips_unreadable_files_and_defers_files_still_being_written() {
    let dir = TempDir::new("unlucky");
    let mut b = AppBuilder::new("u", Seconds(1));
    let src = b.text_file_stream("files", dir.path());
    let clock = ManualClock::new(0);
    let seen = Seen::default();
    let handle = recorder(b, src, &seen).with_manual_clock(clock.clone()).start().unwrap();
    proc_links(dir.path());
    std::fs::write(dir.join("good.txt"), "fine\n").unwrap();
    // In-progress names are never read.
    std::fs::write(dir.join("part.COPYING"), "no\n").unwrap();
    std::fs::write(dir.join("part._COPYING_"), "no\n").unwrap();
    for n in 1..=3 {
        clock.advance(Duration::from_secs(1));
        wait_for(5, "a batch", || handle.completed_batches() >= n);
    }
    handle.stop(false).unwrap();
    // The batches go on: the unreadable file is skipped (once), the one whose size keeps
    // changing is never taken.
    assert_eq!(*seen.lock().unwrap(), [(1000, vec!["fine".to_owned()]), (2000, vec![]), (3000, vec![])]);
}

/// A Structured Streaming app over `dir` that records each batch's lines.
fn structured(dir: &Path, trigger: Trigger, seen: &Seen, on_batch: impl Fn(u64) + Send + 'static) -> App<Handler> {
    let mut b = AppBuilder::new("s", Seconds(1));
    b.trigger(trigger);
    let src = b.file_stream("events", dir, Some(1));
    let seen = Arc::clone(seen);
    b.build(Box::new(move |input: &BatchInput, _: &mut BatchOutput| {
        let lines = input.text(src).lines().map(str::to_owned).collect();
        seen.lock().unwrap().push((input.batch_id() as i64, lines));
        on_batch(input.batch_id());
        Ok(())
    }) as Handler)
        .with_manual_clock(ManualClock::new(0))
        .with_print_writer(Captured::default())
}

fn write_with_mtime(path: &Path, text: &str, secs: u64) {
    std::fs::write(path, text).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)).unwrap();
}

#[test]
fn a_file_stream_goes_on_without_a_planned_file_that_vanished_or_cannot_be_read() {
    let dir = TempDir::new("vanish");
    write_with_mtime(&dir.join("a.txt"), "a\n", 100);
    write_with_mtime(&dir.join("b.txt"), "b\n", 200);
    write_with_mtime(&dir.join("c.txt"), "c\n", 300);
    let seen = Seen::default();
    // `AvailableNow` fixes its files at start, one per batch: a, b, c. The first batch's
    // handler deletes b, so batch 1 is planned with a file that is gone when it is read.
    let b_path = dir.join("b.txt");
    let app = structured(dir.path(), Trigger::AvailableNow, &seen, move |id| {
        if id == 0 {
            std::fs::remove_file(&b_path).unwrap();
        }
    });
    app.start().unwrap().await_termination().unwrap();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(*seen.lock().unwrap(), [(0, s(&["a"])), (1, s(&[])), (2, s(&["c"]))]);

    // A file that cannot be read is skipped the same way, and not tried again.
    let dir = TempDir::new("unreadable");
    proc_links(dir.path());
    std::fs::remove_file(dir.join("growing")).unwrap();
    write_with_mtime(&dir.join("z.txt"), "z\n", 100);
    let seen = Seen::default();
    structured(dir.path(), Trigger::AvailableNow, &seen, |_| {}).start().unwrap().await_termination().unwrap();
    let lines: Vec<Vec<String>> = seen.lock().unwrap().iter().map(|(_, l)| l.clone()).collect();
    assert_eq!(lines.concat(), ["z"]);
}

// ----- sockets ----------------------------------------------------------------------------------

/// Seals a batch on the manual clock and waits for it to complete.
fn tick(clock: &ManualClock, handle: &streamc_runtime::StreamingHandle, n: &mut u64) {
    clock.advance(Duration::from_secs(1));
    *n += 1;
    let want = *n;
    wait_for(10, "a batch", || handle.completed_batches() >= want);
}

#[test]
fn a_stalled_server_gives_empty_batches_and_a_disconnecting_one_is_reconnected() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let go = Arc::new(AtomicBool::new(false));
    let go2 = Arc::clone(&go);
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().unwrap();
        c.write_all(b"a\npar").unwrap();
        // Stall, connection open, in the middle of a line, until the test has seen batches go on.
        while !go2.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
        c.write_all(b"tial\n").unwrap();
        drop(c);
        // Disconnected; the client comes back.
        let (mut c, _) = listener.accept().unwrap();
        c.write_all(b"after reconnect\n").unwrap();
        drop(c);
    });
    let mut b = AppBuilder::new("stall", Seconds(1));
    let src = b.socket_text_stream("lines", "127.0.0.1", port);
    let clock = ManualClock::new(0);
    let seen = Seen::default();
    let handle = recorder(b, src, &seen).with_manual_clock(clock.clone()).start().unwrap();
    let mut n = 0;
    wait_for(10, "the first line", || {
        tick(&clock, &handle, &mut n);
        all_lines(&seen) == ["a"]
    });
    // Three more batches while the server stalls: they run, empty.
    for _ in 0..3 {
        tick(&clock, &handle, &mut n);
    }
    go.store(true, Ordering::SeqCst);
    wait_for(15, "the rest", || {
        tick(&clock, &handle, &mut n);
        all_lines(&seen) == ["a", "partial", "after reconnect"]
    });
    handle.stop(false).unwrap();
    server.join().unwrap();
    let batches = seen.lock().unwrap().clone();
    assert_eq!(batches.len() as u64, n);
    let first = batches.iter().position(|(_, l)| !l.is_empty()).unwrap();
    assert!(batches[first + 1..first + 4].iter().all(|(_, l)| l.is_empty()), "{batches:?}");
}

#[test]
fn garbage_invalid_utf8_and_overlong_socket_lines_are_skipped() {
    let _one_at_a_time = MEMORY.lock().unwrap_or_else(|e| e.into_inner());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().unwrap();
        // 3 MiB of binary garbage without a newline, then good and bad lines.
        let mut x: u32 = 12345;
        let garbage: Vec<u8> = (0..3 << 20)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                match (x >> 16) as u8 {
                    b'\n' => 0,
                    b => b,
                }
            })
            .collect();
        c.write_all(&garbage).unwrap();
        c.write_all(b"\nok\n\xff\xfe\xfd\nfine\n").unwrap();
        // Stay connected until the client goes: the test ends it.
        let _ = c.set_read_timeout(Some(Duration::from_secs(20)));
        let _ = std::io::Read::read(&mut c, &mut [0u8; 1]);
    });
    let mut b = AppBuilder::new("garbage", Seconds(1));
    b.max_line_bytes(1 << 20);
    let src = b.socket_text_stream("lines", "127.0.0.1", port);
    let clock = ManualClock::new(0);
    let seen = Seen::default();
    let handle = recorder(b, src, &seen).with_manual_clock(clock.clone()).start().unwrap();
    let mut n = 0;
    wait_for(15, "the good lines", || {
        tick(&clock, &handle, &mut n);
        all_lines(&seen).len() >= 2
    });
    handle.stop(false).unwrap();
    server.join().unwrap();
    assert_eq!(all_lines(&seen), ["ok", "fine"]);
}

#[test]
fn a_producer_far_faster_than_the_pipeline_is_slowed_down_and_memory_stays_bounded() {
    let _one_at_a_time = MEMORY.lock().unwrap_or_else(|e| e.into_inner());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let sent = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (sent2, stop2) = (Arc::clone(&sent), Arc::clone(&stop));
    // 100-byte lines, written as fast as TCP accepts them.
    let server = std::thread::spawn(move || {
        let (c, _) = listener.accept().unwrap();
        let mut c: TcpStream = c;
        c.set_write_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut block = Vec::new();
        for i in 0..655 {
            block.extend_from_slice(format!("{:099}\n", i).as_bytes());
        }
        while !stop2.load(Ordering::SeqCst) {
            match c.write(&block) {
                Ok(n) => {
                    sent2.fetch_add(n as u64, Ordering::SeqCst);
                    // Keep line boundaries: finish a partly written block.
                    let mut rest = &block[n..];
                    while !rest.is_empty() && !stop2.load(Ordering::SeqCst) {
                        match c.write(rest) {
                            Ok(m) => {
                                sent2.fetch_add(m as u64, Ordering::SeqCst);
                                rest = &rest[m..];
                            }
                            Err(e)
                                if e.kind() == std::io::ErrorKind::WouldBlock
                                    || e.kind() == std::io::ErrorKind::TimedOut => {}
                            Err(_) => return,
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return,
            }
        }
    });

    let cap = 2 << 20;
    let mut b = AppBuilder::new("flood", Seconds(1));
    b.max_buffered_bytes(cap);
    let src = b.socket_text_stream("lines", "127.0.0.1", port);
    let clock = ManualClock::new(0);
    let per_batch = Arc::new(Mutex::new(Vec::new()));
    let bad = Arc::new(AtomicU64::new(0));
    let (pb, bad2) = (Arc::clone(&per_batch), Arc::clone(&bad));
    let app = b.build(Box::new(move |input: &BatchInput, _: &mut BatchOutput| {
        let text = input.text(src);
        let broken = text.lines().filter(|l| l.len() != 99 || !l.bytes().all(|c| c.is_ascii_digit())).count();
        bad2.fetch_add(broken as u64, Ordering::SeqCst);
        pb.lock().unwrap().push(text.as_str().len() as u64);
        // A slow pipeline: 100 ms a batch.
        std::thread::sleep(Duration::from_millis(100));
        Ok(())
    }) as Handler);
    let baseline = rss_bytes();
    let sampler = RssSampler::start();
    let handle = app.with_manual_clock(clock.clone()).start().unwrap();
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < Duration::from_secs(3) {
        tick(&clock, &handle, &mut n);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let grew = sampler.peak().saturating_sub(baseline);
    stop.store(true, Ordering::SeqCst);
    handle.stop(false).unwrap();
    server.join().unwrap();

    let received: u64 = per_batch.lock().unwrap().iter().sum();
    let biggest = per_batch.lock().unwrap().iter().copied().max().unwrap_or(0);
    let sent = sent.load(Ordering::SeqCst);
    eprintln!(
        "flood: {n} batches in {elapsed:.1} s; received {} MiB, the producer got {} MiB into the socket, \
         resident memory grew by {} MiB",
        received / MIB,
        sent / MIB,
        grew / MIB
    );
    assert_eq!(bad.load(Ordering::SeqCst), 0, "every line arrives whole");
    assert!(received > 0);
    // A batch holds at most the buffer bound plus one read (64 KiB) and one line (100 bytes).
    assert!(biggest <= cap as u64 + 64 * 1024 + 100, "a batch of {biggest} bytes");
    // TCP pushed back: what the producer wrote is what was received plus what the receiver and
    // the kernel's socket buffers hold (a few MiB at most), not what an unthrottled loopback
    // producer writes in 3 s (gigabytes).
    assert!(sent <= received + cap as u64 + 32 * MIB, "sent {sent} bytes, received {received}");
    // Measured: 4–6 MiB with the 2 MiB bound (without it, hundreds of MiB). The README states
    // this bound.
    assert!(grew < 16 * MIB, "resident memory grew by {} MiB", grew / MIB);
}

#[test]
fn max_rate_limits_records_per_second() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let lines = 6000;
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().unwrap();
        let text: String = (0..lines).map(|i| format!("{i}\n")).collect();
        c.write_all(text.as_bytes()).unwrap();
        let _ = c.set_read_timeout(Some(Duration::from_secs(20)));
        let _ = std::io::Read::read(&mut c, &mut [0u8; 1]);
    });
    let mut b = AppBuilder::new("rate", Seconds(1));
    b.max_rate(2000);
    let src = b.socket_text_stream("lines", "127.0.0.1", port);
    let clock = ManualClock::new(0);
    let seen = Seen::default();
    let handle = recorder(b, src, &seen).with_manual_clock(clock.clone()).start().unwrap();
    let started = Instant::now();
    let mut n = 0;
    wait_for(15, "every line", || {
        std::thread::sleep(Duration::from_millis(200));
        tick(&clock, &handle, &mut n);
        all_lines(&seen).len() >= lines
    });
    let took = started.elapsed();
    handle.stop(false).unwrap();
    server.join().unwrap();
    let expected: Vec<String> = (0..lines).map(|i| i.to_string()).collect();
    assert_eq!(all_lines(&seen), expected);
    // 6000 lines at 2000 a second, with a burst of 200: at least 2.9 s.
    assert!(took >= Duration::from_millis(2800), "6000 lines at max_rate 2000 took {took:?}");
}

/// The lines a source dropped show in the batch's progress record, as the source's
/// `numSkippedLines` metric (Spark's `SourceProgress.metrics`), besides the warning.
#[test]
fn skipped_lines_are_counted_in_the_progress_record() {
    let dir = TempDir::new("skipprogress");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("0"), b"short\nthis line is too long\n\xff\xfe\nok\n").unwrap();
    std::fs::write(input.join("1"), b"fine\n").unwrap();
    let mut b = AppBuilder::new("r", Seconds(1));
    b.max_line_bytes(8);
    let src = b.socket_text_stream("lines", "127.0.0.1", 9);
    let seen = Seen::default();
    let progress = dir.join("progress.jsonl");
    recorder(b, src, &seen)
        .with_replay_all(&input)
        .with_progress(&progress)
        .start()
        .unwrap()
        .await_termination()
        .unwrap();
    let lines: Vec<String> = std::fs::read_to_string(&progress).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].contains(r#""numInputRows":2"#) && lines[0].contains(r#""metrics":{"numSkippedLines":"2"}"#),
        "{}",
        lines[0]
    );
    assert!(!lines[1].contains("numSkippedLines"), "{}", lines[1]);
}

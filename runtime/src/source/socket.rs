//! Spark's `socketTextStream`: a client thread reading lines from a TCP server into the open
//! batch, with bounded memory and reconnection.

use std::io::{self, Read};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::limits::{InputLimits, READ_CHUNK, Skipped};
use super::text::{LineSplitter, TextBatch};
use crate::clock::lock;
use crate::error::Error;
use crate::rate::RateLimiter;

/// What the socket thread has received since the last batch was sealed.
#[derive(Default)]
struct Pending {
    batch: TextBatch,
    skipped: Skipped,
}

/// Spark's `socketTextStream`: a client thread that connects to `host:port`, reads lines into
/// the open batch, and reconnects with backoff when the connection fails or ends.
///
/// Memory is bounded whatever the server does: a line waits for its end only up to
/// `max_line_bytes` (a longer one is dropped and counted), and while the open batch holds
/// `max_buffered_bytes` the thread stops reading, so the kernel's socket buffers fill and TCP
/// makes the sender wait. With `max_rate` the thread hands over at most that many lines per
/// second (and so reads no faster). A server that stalls gives empty batches.
pub(crate) struct SocketSource {
    name: String,
    pending: Arc<Mutex<Pending>>,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) thread: Option<JoinHandle<()>>,
    max_line_bytes: usize,
}

/// How long a read blocks before the thread looks at the stop flag again.
const READ_TIMEOUT: Duration = Duration::from_millis(100);
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// How often a receiver whose batch is full looks again.
const FULL_POLL: Duration = Duration::from_millis(5);

impl SocketSource {
    /// Connects to `host:port`; with `stamped`, each line becomes the JSON line of its text and
    /// the time it was received (Spark's `includeTimestamp`).
    pub(crate) fn start(name: &str, host: &str, port: u16, stamped: bool, limits: InputLimits) -> Result<Self, Error> {
        let pending = Arc::new(Mutex::new(Pending::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let client = SocketClient {
            name: name.to_owned(),
            host: host.to_owned(),
            port,
            pending: Arc::clone(&pending),
            stop: Arc::clone(&stop),
            limits,
            warned_full: false,
            stamped,
        };
        let thread_name = format!("streamc-source-{name}");
        let thread = std::thread::Builder::new()
            .name(thread_name.clone())
            .spawn(move || client.run())
            .map_err(|source| Error::Thread { name: thread_name, source })?;
        Ok(SocketSource {
            name: name.to_owned(),
            pending,
            stop,
            thread: Some(thread),
            max_line_bytes: limits.max_line_bytes,
        })
    }

    pub(super) fn fill(&mut self, batch: &mut TextBatch, time_ms: i64) {
        // Swap rather than copy: the batch gets the received lines, the socket thread gets the
        // (cleared) buffer of the previous batch to reuse.
        let skipped = {
            let mut p = lock(&self.pending);
            std::mem::swap(&mut p.batch, batch);
            std::mem::take(&mut p.skipped)
        };
        batch.skipped_lines += skipped.total();
        if let Some(what) = skipped.describe(self.max_line_bytes) {
            eprintln!("warning: source `{}`: skipped {what} in the batch at {time_ms} ms", self.name);
        }
    }
}

struct SocketClient {
    name: String,
    host: String,
    port: u16,
    pending: Arc<Mutex<Pending>>,
    stop: Arc<AtomicBool>,
    limits: InputLimits,
    /// Whether the "receiving faster than processing" note was given (once per run).
    warned_full: bool,
    /// Each line as `{"value":..,"timestamp":..}` with the time it was received.
    stamped: bool,
}

impl SocketClient {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn run(mut self) {
        let mut backoff = BACKOFF_START;
        // Warn once per outage, not once per retry: a server that is down for a minute should
        // not flood stderr.
        let mut in_outage = false;
        while !self.stopped() {
            match self.connect() {
                Ok(stream) => {
                    if in_outage {
                        eprintln!("note: source `{}`: connected to {}:{}", self.name, self.host, self.port);
                    }
                    backoff = BACKOFF_START;
                    let why = self.read_all(stream);
                    if self.stopped() {
                        return;
                    }
                    eprintln!(
                        "warning: source `{}`: connection to {}:{} {why}; reconnecting",
                        self.name, self.host, self.port
                    );
                    in_outage = true;
                }
                Err(e) => {
                    if !in_outage {
                        eprintln!(
                            "warning: source `{}`: cannot connect to {}:{}: {e}; retrying (batches stay empty meanwhile)",
                            self.name, self.host, self.port
                        );
                        in_outage = true;
                    }
                }
            }
            self.sleep(backoff);
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// Sleeps in short slices so a stop is noticed quickly.
    fn sleep(&self, d: Duration) {
        let end = Instant::now() + d;
        while !self.stopped() {
            let now = Instant::now();
            if now >= end {
                return;
            }
            std::thread::sleep((end - now).min(Duration::from_millis(20)));
        }
    }

    fn connect(&self) -> io::Result<TcpStream> {
        let mut last = None;
        for addr in (self.host.as_str(), self.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("the host name resolved to no address")))
    }

    /// Reads until the connection ends or the app stops; returns why it ended, for the warning.
    fn read_all(&mut self, mut stream: TcpStream) -> String {
        if let Err(e) = stream.set_read_timeout(Some(READ_TIMEOUT)) {
            return format!("failed: {e}");
        }
        let mut lines = LineSplitter::new(self.limits.max_line_bytes, false);
        let mut rate = self.limits.max_rate.map(RateLimiter::new);
        // Lines split off a chunk, handed to the open batch outside the chunk loop's lock.
        let mut staged = TextBatch::new();
        let mut chunk = vec![0u8; READ_CHUNK];
        loop {
            // Backpressure: read nothing while the open batch is full.
            if !self.wait_for_room() {
                return "stopped".to_owned();
            }
            let n = match stream.read(&mut chunk) {
                Ok(0) => {
                    lines.finish(&mut staged);
                    self.deliver(&mut staged, &mut lines);
                    return "was closed by the server".to_owned();
                }
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                    ) =>
                {
                    if self.stopped() {
                        return "stopped".to_owned();
                    }
                    continue;
                }
                Err(e) => {
                    lines.finish(&mut staged);
                    self.deliver(&mut staged, &mut lines);
                    return format!("failed: {e}");
                }
            };
            let mut data = &chunk[..n];
            while !data.is_empty() {
                let budget = match &mut rate {
                    None => usize::MAX,
                    Some(r) => match r.acquire(&self.stop) {
                        Some(b) => b,
                        None => return "stopped".to_owned(),
                    },
                };
                let (used, ended) = lines.feed(data, &mut staged, budget);
                if let Some(r) = &mut rate {
                    r.take(ended);
                }
                data = &data[used..];
                self.deliver(&mut staged, &mut lines);
                if !data.is_empty() && !self.wait_for_room() {
                    return "stopped".to_owned();
                }
            }
        }
    }

    /// Waits while the open batch holds `max_buffered_bytes`; false if the app stopped meanwhile.
    fn wait_for_room(&mut self) -> bool {
        loop {
            if self.stopped() {
                return false;
            }
            if lock(&self.pending).batch.len_bytes() < self.limits.max_buffered_bytes {
                return true;
            }
            if !self.warned_full {
                eprintln!(
                    "note: source `{}`: receiving faster than batches are processed; pausing reads while {} bytes wait \
                     (the server is slowed down by TCP flow control)",
                    self.name, self.limits.max_buffered_bytes
                );
                self.warned_full = true;
            }
            std::thread::sleep(FULL_POLL);
        }
    }

    /// Moves the staged lines (and what was skipped) into the open batch. UTF-8 was checked
    /// before taking the lock so the batch loop never waits on validation.
    fn deliver(&self, staged: &mut TextBatch, lines: &mut LineSplitter) {
        let skipped = std::mem::take(&mut lines.skipped);
        if staged.is_empty() && skipped == Skipped::default() {
            return;
        }
        if self.stamped && !staged.is_empty() {
            let now =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
            *staged = stamp(staged, crate::structured::time::Timestamp::from_millis(now));
        }
        let mut p = lock(&self.pending);
        p.batch.append(staged);
        p.skipped.add(skipped);
        drop(p);
        staged.clear();
    }
}

/// `lines` as the JSON lines `{"value":"<line>","timestamp":"<at>"}` (Spark's socket source with
/// `includeTimestamp` stamps each line with the time it was read, in ms).
fn stamp(lines: &TextBatch, at: crate::structured::time::Timestamp) -> TextBatch {
    let mut time = String::new();
    crate::fmt::ToJson::to_json(&at, &mut time);
    let mut out = TextBatch::new();
    let mut line = String::new();
    for l in lines.lines() {
        line.clear();
        line.push_str("{\"value\":");
        crate::fmt::json_string(l, &mut line);
        line.push_str(",\"timestamp\":");
        line.push_str(&time);
        line.push('}');
        out.push_line(&line);
    }
    out
}

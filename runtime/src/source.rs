//! Sources: where a batch's records come from (a TCP socket, new files in a directory, or replay
//! files), and [`TextBatch`], the form in which text records reach generated code.

use std::collections::{HashSet, VecDeque};
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crate::clock::lock;
use crate::error::Error;
use crate::rate::RateLimiter;
use crate::witness::Ty;

/// The text records (lines) of one source for one batch.
///
/// All lines live in one `String`, each terminated by `'\n'`, so a batch is one allocation and
/// [`lines`](Self::lines) hands out `&str` slices of it: generated code and keyed state borrow
/// records instead of copying them.
///
/// Lines read from files remember where they came from: [`origin`](Self::origin) turns a line
/// slice back into its file and line number, for error messages. Two batches are equal when
/// their lines are, wherever the lines came from.
#[derive(Clone, Default)]
pub struct TextBatch {
    /// Invariant: empty, or ends with `'\n'`; `lines` is the number of `'\n'` in it.
    buf: String,
    lines: usize,
    /// Where each run of lines came from, by increasing `start`; lines before the first entry
    /// have no origin.
    origins: Vec<Origin>,
    /// Lines dropped while this batch was filled (not UTF-8, or over `max_line_bytes`).
    skipped_lines: u64,
}

/// A position in a [`TextBatch`] to roll back to.
#[derive(Clone, Copy, Debug)]
struct Mark {
    buf: usize,
    lines: usize,
    origins: usize,
}

/// The start of the lines of one file (or of lines with no file) in a [`TextBatch`].
#[derive(Clone, Debug)]
struct Origin {
    /// The byte offset in `buf` of the run's first line.
    start: usize,
    /// The file, or `None` for lines pushed by other means after a file's.
    path: Option<PathBuf>,
    /// The 1-based line numbers in the file of the lines skipped as invalid UTF-8, ascending:
    /// the file's line numbers count them, the batch does not hold them.
    skipped: Vec<usize>,
}

impl PartialEq for TextBatch {
    fn eq(&self, other: &Self) -> bool {
        self.buf == other.buf
    }
}

impl Eq for TextBatch {}

impl std::fmt::Debug for TextBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.lines()).finish()
    }
}

impl TextBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// A batch of the given lines (each must not contain `'\n'`; if one does, it counts as
    /// several lines).
    pub fn from_lines<I>(lines: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut b = Self::new();
        for l in lines {
            b.push_line(l.as_ref());
        }
        b
    }

    /// Appends one line (a `'\n'` inside it splits it into several).
    pub fn push_line(&mut self, line: &str) {
        self.end_file_origin();
        self.buf.push_str(line);
        self.buf.push('\n');
        self.lines += 1 + memchr::memchr_iter(b'\n', line.as_bytes()).count();
    }

    /// Appends `bytes` as lines: each `'\n'` ends one, and a last line without terminator still
    /// counts. Lines that are not valid UTF-8 are skipped; returns how many were.
    pub fn push_text(&mut self, bytes: &[u8]) -> usize {
        self.end_file_origin();
        let mut lines = LineSplitter::new(usize::MAX, false);
        lines.feed(bytes, self, usize::MAX);
        lines.finish(self);
        self.skipped_lines += lines.skipped.total();
        lines.skipped.invalid
    }

    /// Appends the contents of file `path` as [`push_text`](Self::push_text) does, remembering
    /// the file for [`origin`](Self::origin). Returns how many lines were skipped as invalid
    /// UTF-8.
    pub fn push_file(&mut self, path: &Path, bytes: &[u8]) -> usize {
        let start = self.buf.len();
        let mut lines = LineSplitter::new(usize::MAX, true);
        lines.feed(bytes, self, usize::MAX);
        lines.finish(self);
        self.origins.push(Origin { start, path: Some(path.to_owned()), skipped: lines.skipped_lines });
        self.skipped_lines += lines.skipped.total();
        lines.skipped.invalid
    }

    /// Reads file `path` into the batch as [`push_file`](Self::push_file) does, but through a
    /// fixed-size buffer: memory holds the lines kept plus at most one line of up to
    /// `max_line_bytes`; a longer line is skipped (and counted) as it streams past, so a 100 MB
    /// file of one line costs no more than a short one. On an error nothing of the file is kept.
    pub(crate) fn read_file(&mut self, path: &Path, max_line_bytes: usize) -> io::Result<FileRead> {
        let mark = self.mark();
        let result = (|| {
            let mut r = BufReader::with_capacity(READ_CHUNK, File::open(path)?);
            let mut lines = LineSplitter::new(max_line_bytes, true);
            let mut bytes = 0u64;
            loop {
                let chunk = match r.fill_buf() {
                    Ok(c) => c,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                if chunk.is_empty() {
                    break;
                }
                let n = chunk.len();
                lines.feed(chunk, self, usize::MAX);
                r.consume(n);
                bytes += n as u64;
            }
            lines.finish(self);
            self.origins.push(Origin { start: mark.buf, path: Some(path.to_owned()), skipped: lines.skipped_lines });
            self.skipped_lines += lines.skipped.total();
            Ok(FileRead { skipped: lines.skipped, bytes })
        })();
        if result.is_err() {
            self.rollback(mark);
        }
        result
    }

    /// The batch's current end, to [`rollback`](Self::rollback) to.
    fn mark(&self) -> Mark {
        Mark { buf: self.buf.len(), lines: self.lines, origins: self.origins.len() }
    }

    /// Removes every line appended since `mark` was taken.
    fn rollback(&mut self, mark: Mark) {
        self.buf.truncate(mark.buf);
        self.lines = mark.lines;
        self.origins.truncate(mark.origins);
    }

    /// Lines appended after a file's are not from that file: start a run with no origin.
    fn end_file_origin(&mut self) {
        if self.origins.last().is_some_and(|o| o.path.is_some()) {
            self.origins.push(Origin { start: self.buf.len(), path: None, skipped: Vec::new() });
        }
    }

    /// The size of the batch's text in bytes (a bound on the memory it holds, less spare capacity).
    pub(crate) fn len_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Appends every line of `other` (with their origins).
    pub fn append(&mut self, other: &TextBatch) {
        let shift = self.buf.len();
        if other.origins.first().is_none_or(|o| o.start > 0) {
            self.end_file_origin();
        }
        self.origins.extend(other.origins.iter().map(|o| Origin { start: o.start + shift, ..o.clone() }));
        self.buf.push_str(&other.buf);
        self.lines += other.lines;
        self.skipped_lines += other.skipped_lines;
    }

    /// Removes every line, keeping the allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.lines = 0;
        self.origins.clear();
        self.skipped_lines = 0;
    }

    /// How many lines the source dropped while filling this batch: not UTF-8, or longer than
    /// `max_line_bytes` (each is also reported in a warning). Progress records show it as the
    /// source's `numSkippedLines` metric.
    pub fn skipped_lines(&self) -> u64 {
        self.skipped_lines
    }

    /// The file and 1-based line number that `line` (a line of this batch, or any slice of one)
    /// was read from; `None` for a slice of another string or a line that came from no file.
    ///
    /// Found from the slice's address, so it costs a count of the lines before it in its file:
    /// meant for error messages, not for every record.
    ///
    /// ```
    /// # use std::path::Path;
    /// let mut b = streamc_runtime::TextBatch::new();
    /// b.push_file(Path::new("a.txt"), b"x\ny\n");
    /// b.push_file(Path::new("b.txt"), b"z\n");
    /// let lines: Vec<&str> = b.lines().collect();
    /// assert_eq!(b.origin(lines[1]), Some((Path::new("a.txt"), 2)));
    /// assert_eq!(b.origin(lines[2]), Some((Path::new("b.txt"), 1)));
    /// assert_eq!(b.origin("z"), None);
    /// ```
    pub fn origin(&self, line: &str) -> Option<(&Path, usize)> {
        let offset = (line.as_ptr() as usize).checked_sub(self.buf.as_ptr() as usize)?;
        if offset.checked_add(line.len())? > self.buf.len() || offset >= self.buf.len() {
            return None;
        }
        let i = self.origins.partition_point(|o| o.start <= offset).checked_sub(1)?;
        let o = &self.origins[i];
        let path = o.path.as_deref()?;
        let mut n = memchr::memchr_iter(b'\n', &self.buf.as_bytes()[o.start..offset]).count() + 1;
        // The skipped lines before this one count in the file's numbering.
        for &s in &o.skipped {
            if s > n {
                break;
            }
            n += 1;
        }
        Some((path, n))
    }

    /// The lines, without their terminator (nor a `'\r'` before it).
    #[inline]
    pub fn lines(&self) -> Lines<'_> {
        Lines { rest: &self.buf, remaining: self.lines }
    }

    /// The lines split into at most `n` consecutive runs of about equal bytes (never splitting
    /// a line), in order, for workers that each take one.
    pub fn split_lines(&self, n: usize) -> Vec<Lines<'_>> {
        let bytes = self.buf.as_bytes();
        let mut out = Vec::with_capacity(n);
        let mut start = 0;
        for k in 1..=n {
            if start >= bytes.len() {
                break;
            }
            let target = (bytes.len() * k / n).max(start);
            let end = if k == n {
                bytes.len()
            } else {
                match memchr::memchr(b'\n', &bytes[target.min(bytes.len() - 1)..]) {
                    Some(i) => target.min(bytes.len() - 1) + i + 1,
                    None => bytes.len(),
                }
            };
            let rest = &self.buf[start..end];
            out.push(Lines { rest, remaining: memchr::memchr_iter(b'\n', rest.as_bytes()).count() });
            start = end;
        }
        out
    }

    /// The number of lines.
    #[inline]
    pub fn len_lines(&self) -> usize {
        self.lines
    }

    /// Whether the batch has no line.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.lines == 0
    }

    /// The witness of this batch's record type, `&str` borrowed from the batch.
    #[inline(always)]
    pub fn ty(&self) -> Ty<&'_ str> {
        Ty::new()
    }

    /// All lines as one string, each terminated by `'\n'`.
    pub fn as_str(&self) -> &str {
        &self.buf
    }
}

/// The iterator of [`TextBatch::lines`].
#[derive(Clone, Debug)]
pub struct Lines<'a> {
    rest: &'a str,
    remaining: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'\n', self.rest.as_bytes()).unwrap_or(self.rest.len());
        let line = &self.rest[..end];
        self.rest = self.rest.get(end + 1..).unwrap_or_default();
        self.remaining -= 1;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Lines<'_> {}
impl std::iter::FusedIterator for Lines<'_> {}

// ----- bounded line splitting ---------------------------------------------------------------

/// The default of `max_line_bytes` ([`AppBuilder::max_line_bytes`](crate::AppBuilder::max_line_bytes)):
/// 64 MiB, far above any sensible record, yet small enough that one runaway line cannot exhaust
/// memory.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 << 20;

/// The default of how much a socket receiver holds for the open batch before it stops reading
/// ([`AppBuilder::max_buffered_bytes`](crate::AppBuilder::max_buffered_bytes)): 64 MiB.
pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 64 << 20;

/// How much a source reads at once.
const READ_CHUNK: usize = 64 * 1024;

/// What sources accept and how fast: set on the [`AppBuilder`](crate::AppBuilder), the same for
/// every source of the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InputLimits {
    /// A longer line (not counting its `'\n'`) is skipped and counted.
    pub(crate) max_line_bytes: usize,
    /// Records per second per socket receiver (Spark's `spark.streaming.receiver.maxRate`).
    pub(crate) max_rate: Option<u64>,
    /// A socket receiver stops reading while the open batch holds this many bytes.
    pub(crate) max_buffered_bytes: usize,
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_rate: None,
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
        }
    }
}

/// Lines a source dropped: not UTF-8, or longer than `max_line_bytes`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Skipped {
    pub(crate) invalid: usize,
    pub(crate) overlong: usize,
}

impl Skipped {
    fn add(&mut self, other: Skipped) {
        self.invalid += other.invalid;
        self.overlong += other.overlong;
    }

    fn total(&self) -> u64 {
        (self.invalid + self.overlong) as u64
    }

    /// `"2 lines of invalid UTF-8 and 1 line longer than ..."`, or `None` if nothing was skipped.
    fn describe(&self, max_line_bytes: usize) -> Option<String> {
        let mut parts = Vec::new();
        if self.invalid > 0 {
            parts.push(format!("{} line{} of invalid UTF-8", self.invalid, plural(self.invalid)));
        }
        if self.overlong > 0 {
            parts.push(format!(
                "{} line{} longer than `max_line_bytes` ({max_line_bytes} bytes)",
                self.overlong,
                plural(self.overlong)
            ));
        }
        (!parts.is_empty()).then(|| parts.join(" and "))
    }
}

/// What [`TextBatch::read_file`] read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FileRead {
    pub(crate) skipped: Skipped,
    /// The bytes read from the file.
    pub(crate) bytes: u64,
}

/// Splits a byte stream, fed in chunks, into the lines of a [`TextBatch`], with bounded memory:
/// a line split across chunks waits in `partial` only while it is at most `max_line` bytes;
/// past that its bytes are dropped until its `'\n'`, and it counts as one overlong line.
/// Lines that are not UTF-8 are skipped and counted (never replaced: a record is either what
/// was sent or absent).
struct LineSplitter {
    max_line: usize,
    /// The start of a line whose end has not been fed yet (at most `max_line` bytes).
    partial: Vec<u8>,
    /// The current line is over the limit: drop bytes until its end.
    discarding: bool,
    /// Lines ended so far, kept or not.
    line_no: usize,
    skipped: Skipped,
    /// The 1-based numbers of the skipped lines, when `note_lines`.
    skipped_lines: Vec<usize>,
    note_lines: bool,
}

impl LineSplitter {
    fn new(max_line: usize, note_lines: bool) -> Self {
        LineSplitter {
            max_line,
            partial: Vec::new(),
            discarding: false,
            line_no: 0,
            skipped: Skipped::default(),
            skipped_lines: Vec::new(),
            note_lines,
        }
    }

    /// Feeds `bytes`; the lines they complete go to `out`. Stops after `max_lines` lines have
    /// ended (kept or skipped). Returns the bytes consumed and the lines ended.
    fn feed(&mut self, bytes: &[u8], out: &mut TextBatch, max_lines: usize) -> (usize, usize) {
        let mut rest = bytes;
        let mut ended = 0;
        // A line pending from the previous chunk is ended first, on its own, so that the fast
        // path below serves every chunk, not only the first.
        if (!self.partial.is_empty() || self.discarding) && max_lines > 0 {
            match memchr::memchr(b'\n', rest) {
                Some(i) => {
                    self.end_line(&rest[..i], out);
                    ended += 1;
                    rest = &rest[i + 1..];
                }
                None => {
                    self.extend_partial(rest);
                    return (bytes.len(), 0);
                }
            }
        }
        // Fast path, the normal case: no line pending, every complete line in the chunk valid and
        // short enough; they are copied in one go.
        if max_lines == usize::MAX
            && self.partial.is_empty()
            && !self.discarding
            && let Some(last) = memchr::memrchr(b'\n', rest)
            && last <= self.max_line
            && let Ok(text) = std::str::from_utf8(&rest[..=last])
        {
            let n = memchr::memchr_iter(b'\n', text.as_bytes()).count();
            out.buf.push_str(text);
            out.lines += n;
            self.line_no += n;
            ended += n;
            rest = &rest[last + 1..];
        }
        while !rest.is_empty() && ended < max_lines {
            match memchr::memchr(b'\n', rest) {
                Some(i) => {
                    self.end_line(&rest[..i], out);
                    ended += 1;
                    rest = &rest[i + 1..];
                }
                None => {
                    self.extend_partial(rest);
                    rest = &[];
                }
            }
        }
        (bytes.len() - rest.len(), ended)
    }

    /// The end of the input: a last line without terminator still counts (as Java's readLine).
    fn finish(&mut self, out: &mut TextBatch) {
        if self.discarding || !self.partial.is_empty() {
            self.end_line(&[], out);
        }
    }

    fn extend_partial(&mut self, bytes: &[u8]) {
        if self.discarding {
            return;
        }
        if self.partial.len() + bytes.len() > self.max_line {
            self.discarding = true;
            // Give back what a long partial line took.
            self.partial = Vec::new();
        } else {
            self.partial.extend_from_slice(bytes);
        }
    }

    /// Ends the current line with `tail` (its bytes since the last feed).
    fn end_line(&mut self, tail: &[u8], out: &mut TextBatch) {
        self.line_no += 1;
        if self.discarding || self.partial.len() + tail.len() > self.max_line {
            self.discarding = false;
            self.partial.clear();
            self.skipped.overlong += 1;
            self.note_skipped();
            return;
        }
        let line: &[u8] = if self.partial.is_empty() {
            tail
        } else {
            self.partial.extend_from_slice(tail);
            &self.partial
        };
        match std::str::from_utf8(line) {
            Ok(l) => {
                out.buf.push_str(l);
                out.buf.push('\n');
                out.lines += 1;
            }
            Err(_) => {
                self.skipped.invalid += 1;
                self.note_skipped();
            }
        }
        self.partial.clear();
        if self.partial.capacity() > READ_CHUNK {
            self.partial = Vec::new();
        }
    }

    fn note_skipped(&mut self) {
        if self.note_lines {
            self.skipped_lines.push(self.line_no);
        }
    }
}

// ----- declared sources ---------------------------------------------------------------------

/// A source as declared by the app, before it runs.
#[derive(Clone, Debug)]
pub(crate) enum SourceKind {
    /// Spark's `socketTextStream`: a TCP client reading lines.
    Socket { host: String, port: u16 },
    /// Spark's `textFileStream`: files that appear in a directory.
    TextFiles { dir: PathBuf },
    /// Structured Streaming's file source: every file of a directory, old and new, once.
    FileStream { dir: PathBuf, max_files_per_trigger: Option<usize> },
    /// Structured Streaming's `rate` source: `rows_per_second` rows per second of event time.
    Rate { rows_per_second: u64 },
}

impl SourceKind {
    pub(crate) fn describe(&self) -> String {
        match self {
            SourceKind::Socket { host, port } => format!("socket {host}:{port}"),
            SourceKind::TextFiles { dir } => format!("files in `{}`", dir.display()),
            SourceKind::FileStream { dir, max_files_per_trigger: None } => format!("file stream `{}`", dir.display()),
            SourceKind::FileStream { dir, max_files_per_trigger: Some(n) } => {
                format!("file stream `{}`, at most {n} file{} per batch", dir.display(), plural(*n))
            }
            SourceKind::Rate { rows_per_second } => format!("rate source, {rows_per_second} rows per second"),
        }
    }

    /// The kind of source, as a checkpoint records it (a restart must read the same kinds).
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            SourceKind::Socket { .. } => "socket",
            SourceKind::TextFiles { .. } => "text files",
            SourceKind::FileStream { .. } => "file stream",
            SourceKind::Rate { .. } => "rate",
        }
    }

    /// The source's `description` in a progress report, in the shape of Spark's.
    pub(crate) fn progress_description(&self) -> String {
        match self {
            SourceKind::Socket { host, port } => format!("TextSocketSource[host: {host}, port: {port}]"),
            SourceKind::TextFiles { dir } => format!("FileInputDStream[{}]", dir.display()),
            SourceKind::FileStream { dir, .. } => format!("FileStreamSource[{}]", dir.display()),
            SourceKind::Rate { rows_per_second } => format!("RateStreamV2[rowsPerSecond={rows_per_second}]"),
        }
    }
}

/// A source while the app runs; the batch loop calls [`fill`](Self::fill) at every batch time
/// (a structured file source is planned and read by the batch loop instead).
pub(crate) enum RunningSource {
    Socket(SocketSource),
    Files(FileSource),
    Replay(ReplaySource),
    Structured(StructuredFileSource),
    Rate(RateSource),
}

/// Spark's `rate` source: rows `value` = 0, 1, 2, … with `timestamp` = start + value / rate,
/// as many per batch as event time has advanced by the batch's time. Each line of its batch
/// is `<timestamp in µs> <value>`. Not checkpointed: a restarted query counts from 0 again.
pub(crate) struct RateSource {
    rows_per_second: u64,
    start_ms: Option<i64>,
    next: u64,
}

impl RateSource {
    pub(crate) fn new(rows_per_second: u64) -> Self {
        RateSource { rows_per_second: rows_per_second.max(1), start_ms: None, next: 0 }
    }

    /// The rows due by `time_ms`: the first batch starts the clock and has none.
    pub(crate) fn fill(&mut self, batch: &mut TextBatch, time_ms: i64) {
        let start = *self.start_ms.get_or_insert(time_ms);
        let elapsed = u64::try_from(time_ms.saturating_sub(start)).unwrap_or(0);
        let due = elapsed.saturating_mul(self.rows_per_second) / 1000;
        let mut line = String::new();
        while self.next < due {
            let at_us = start
                .saturating_mul(1000)
                .saturating_add((self.next.saturating_mul(1_000_000) / self.rows_per_second) as i64);
            line.clear();
            let _ = std::fmt::Write::write_fmt(&mut line, format_args!("{at_us} {}", self.next));
            batch.push_line(&line);
            self.next += 1;
        }
    }
}

impl RunningSource {
    /// Moves everything received for the batch with time `time_ms` into `batch` (cleared first).
    pub(crate) fn fill(&mut self, batch: &mut TextBatch, time_ms: i64) -> Result<(), Error> {
        batch.clear();
        match self {
            RunningSource::Socket(s) => {
                s.fill(batch, time_ms);
                Ok(())
            }
            RunningSource::Files(s) => {
                s.fill(batch, time_ms);
                Ok(())
            }
            RunningSource::Replay(s) => s.fill(batch),
            RunningSource::Rate(s) => {
                s.fill(batch, time_ms);
                Ok(())
            }
            // Read through `StructuredFileSource::read` with the batch's planned files.
            RunningSource::Structured(_) => Ok(()),
        }
    }

    /// Stops background work and waits for it (a socket thread notices within its read timeout).
    pub(crate) fn shut_down(&mut self) {
        if let RunningSource::Socket(s) = self {
            s.stop.store(true, Ordering::SeqCst);
            if let Some(t) = s.thread.take() {
                let _ = t.join();
            }
        }
    }
}

// ----- socket -------------------------------------------------------------------------------

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
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    max_line_bytes: usize,
}

/// How long a read blocks before the thread looks at the stop flag again.
const READ_TIMEOUT: Duration = Duration::from_millis(100);
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// How often a receiver whose batch is full looks again.
const FULL_POLL: Duration = Duration::from_millis(5);

impl SocketSource {
    pub(crate) fn start(name: &str, host: &str, port: u16, limits: InputLimits) -> Result<Self, Error> {
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

    fn fill(&mut self, batch: &mut TextBatch, time_ms: i64) {
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

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
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
        let mut p = lock(&self.pending);
        p.batch.append(staged);
        p.skipped.add(skipped);
        drop(p);
        staged.clear();
    }
}

// ----- directory of new files ---------------------------------------------------------------

/// Whether a file name is one that file sources never read: hidden or in-progress names, as
/// Spark and Hadoop skip them. Names starting with `.` or `_` (Spark: hidden files, `_SUCCESS`,
/// `_temporary`), and names ending in `.tmp`, `.COPYING` or `._COPYING_` (what `hadoop fs -put`
/// writes before renaming into place).
pub(crate) fn is_ignored_name(name: &[u8]) -> bool {
    matches!(name.first(), Some(b'.' | b'_'))
        || [&b".tmp"[..], b".COPYING", b"._COPYING_"].iter().any(|s| name.ends_with(s))
}

/// A file's size and modification time: if either changes while it is read, it is still being
/// written.
fn fingerprint(path: &Path) -> io::Result<(u64, Option<SystemTime>)> {
    let m = std::fs::metadata(path)?;
    Ok((m.len(), m.modified().ok()))
}

/// Spark's `textFileStream`: every file that appears in the directory is read whole into the
/// batch during which it was first seen, exactly once.
///
/// Files present when the app starts are not read (as in Spark). Names that
/// [`is_ignored_name`] rejects are never read, so a writer can write `.name.tmp` and rename it
/// to `name` when complete: a rename within a directory is atomic, so the source never reads a
/// half-written file. A file whose size or modification time changes while it is read is still
/// being written: its lines are dropped and it is read again in the next batch. A file that
/// disappears (or cannot be read) after it was listed is skipped with a warning and not tried
/// again. A file is remembered by name; rewriting it later does not make it new again.
pub(crate) struct FileSource {
    name: String,
    dir: PathBuf,
    seen: HashSet<OsString>,
    /// Whether listing the directory is failing (warn once per outage).
    listing_failed: bool,
    max_line_bytes: usize,
    /// Files put back because they changed while read (noted once each).
    deferred: HashSet<PathBuf>,
}

impl FileSource {
    /// Records the files already present, which will never be read.
    pub(crate) fn start(name: &str, dir: &Path, limits: InputLimits) -> Result<Self, Error> {
        let mut seen = HashSet::new();
        let entries = std::fs::read_dir(dir).map_err(|source| Error::Io { path: dir.to_owned(), source })?;
        for e in entries {
            let e = e.map_err(|source| Error::Io { path: dir.to_owned(), source })?;
            seen.insert(e.file_name());
        }
        Ok(FileSource {
            name: name.to_owned(),
            dir: dir.to_owned(),
            seen,
            listing_failed: false,
            max_line_bytes: limits.max_line_bytes,
            deferred: HashSet::new(),
        })
    }

    fn new_files(&mut self) -> io::Result<Vec<PathBuf>> {
        let mut found = Vec::new();
        for e in std::fs::read_dir(&self.dir)? {
            let e = e?;
            let name = e.file_name();
            if is_ignored_name(name.as_encoded_bytes()) || self.seen.contains(&name) {
                continue;
            }
            // Follow symlinks: a link to a file is a file to read.
            if std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()) {
                self.seen.insert(name);
                found.push(e.path());
            }
        }
        // Name order, so that a batch with several new files is deterministic.
        found.sort();
        Ok(found)
    }

    fn fill(&mut self, batch: &mut TextBatch, time_ms: i64) {
        let files = match self.new_files() {
            Ok(f) => {
                self.listing_failed = false;
                f
            }
            Err(e) => {
                if !self.listing_failed {
                    eprintln!(
                        "warning: source `{}`: cannot list `{}`: {e}; batches stay empty until it can be listed",
                        self.name,
                        self.dir.display()
                    );
                    self.listing_failed = true;
                }
                return;
            }
        };
        for path in files {
            let read = fingerprint(&path).and_then(|before| {
                let mark = batch.mark();
                let read = batch.read_file(&path, self.max_line_bytes)?;
                let after = fingerprint(&path)?;
                Ok((before == after && read.bytes == before.0).then_some(read).ok_or(mark))
            });
            match read {
                Ok(Ok(read)) => {
                    if let Some(what) = read.skipped.describe(self.max_line_bytes) {
                        eprintln!(
                            "warning: source `{}`: skipped {what} in `{}` (batch at {time_ms} ms)",
                            self.name,
                            path.display()
                        );
                    }
                }
                Ok(Err(mark)) => {
                    // Still being written: forget what was read, and read it again next batch.
                    batch.rollback(mark);
                    if let Some(name) = path.file_name() {
                        self.seen.remove(name);
                    }
                    if self.deferred.insert(path.clone()) {
                        eprintln!(
                            "note: source `{}`: `{}` changed while it was read (still being written?); \
                             reading it again in the next batch",
                            self.name,
                            path.display()
                        );
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => eprintln!(
                    "warning: source `{}`: `{}` disappeared before it could be read; skipping it",
                    self.name,
                    path.display()
                ),
                Err(e) => {
                    eprintln!("warning: source `{}`: cannot read `{}`: {e}; skipping it", self.name, path.display())
                }
            }
        }
    }
}

// ----- replay -------------------------------------------------------------------------------

/// Replay input: file `i` of the directory (regular files in name order) is the records of
/// batch `i`; after the last file, batches are empty. Lines longer than `max_line_bytes` and
/// lines that are not UTF-8 are skipped with a warning; a file that disappeared after the
/// listing gives an empty batch, with a warning.
pub(crate) struct ReplaySource {
    files: std::vec::IntoIter<PathBuf>,
    max_line_bytes: usize,
}

impl ReplaySource {
    /// Lists the replay files of `dir`.
    pub(crate) fn open(dir: &Path, limits: InputLimits) -> Result<Self, Error> {
        let io_err = |source| Error::Io { path: dir.to_owned(), source };
        let mut files = Vec::new();
        for e in std::fs::read_dir(dir).map_err(io_err)? {
            let path = e.map_err(io_err)?.path();
            if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                files.push(path);
            }
        }
        files.sort();
        Ok(ReplaySource { files: files.into_iter(), max_line_bytes: limits.max_line_bytes })
    }

    /// The number of batches this replay provides.
    pub(crate) fn len(&self) -> usize {
        self.files.len()
    }

    /// Skips the first `n` files without reading them (a resumed run continues after the files
    /// its checkpoint had consumed).
    pub(crate) fn skip(&mut self, n: usize) {
        for _ in 0..n {
            if self.files.next().is_none() {
                break;
            }
        }
    }

    fn fill(&mut self, batch: &mut TextBatch) -> Result<(), Error> {
        let Some(path) = self.files.next() else {
            return Ok(());
        };
        match batch.read_file(&path, self.max_line_bytes) {
            Ok(read) => {
                if let Some(what) = read.skipped.describe(self.max_line_bytes) {
                    eprintln!("warning: skipped {what} in `{}`", path.display());
                }
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                eprintln!("warning: replay file `{}` disappeared; its batch is empty", path.display());
                Ok(())
            }
            Err(source) => Err(Error::Io { path, source }),
        }
    }
}

// ----- structured file source ---------------------------------------------------------------

/// Structured Streaming's file source (`spark.readStream.text(dir)`, also behind json and csv):
/// every file of the directory, including those present at the start, read once.
///
/// Each batch takes up to `max_files_per_trigger` files not taken before, oldest first by
/// (modification time, name); names that [`is_ignored_name`] rejects are never taken (write
/// `.name.tmp`, then rename). The batch loop *plans* a batch (chooses its files, which the checkpoint's
/// write-ahead log records before the batch runs) and then *reads* it, so a batch re-run after a
/// crash reads the files it read the first time. Files are known by name: rewriting a file does
/// not make it new again. Names that are not UTF-8 are skipped with a warning, because the
/// checkpoint records names as strings. A planned file that has disappeared (or cannot be read)
/// when its batch reads it is skipped with a warning naming it (Spark's `ignoreMissingFiles`),
/// and the batch goes on without it; it stays taken, so it is not tried again.
pub(crate) struct StructuredFileSource {
    name: String,
    dir: PathBuf,
    max_files: Option<usize>,
    /// Every file taken so far (by this run or, from the checkpoint, by earlier ones).
    seen: HashSet<String>,
    /// With `Trigger::AvailableNow`: the files present at start not yet taken, in order.
    snapshot: Option<VecDeque<String>>,
    /// Whether listing the directory is failing (warn once per outage).
    listing_failed: bool,
    warned_non_utf8: bool,
    max_line_bytes: usize,
}

impl StructuredFileSource {
    /// A source over `dir` that has already taken the files `taken` (from a checkpoint).
    pub(crate) fn start(
        name: &str,
        dir: &Path,
        max_files: Option<usize>,
        taken: impl IntoIterator<Item = String>,
        limits: InputLimits,
    ) -> Result<Self, Error> {
        if max_files == Some(0) {
            return Err(Error::Config(format!("source `{name}`: `max_files_per_trigger` must be at least 1, found 0")));
        }
        // Fail now rather than warn on every batch: a missing directory at start is a mistake.
        std::fs::read_dir(dir).map_err(|source| Error::Io { path: dir.to_owned(), source })?;
        Ok(StructuredFileSource {
            name: name.to_owned(),
            dir: dir.to_owned(),
            max_files,
            seen: taken.into_iter().collect(),
            snapshot: None,
            listing_failed: false,
            warned_non_utf8: false,
            max_line_bytes: limits.max_line_bytes,
        })
    }

    /// The source's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The visible regular files not taken yet, by (modification time, name).
    fn list_new(&mut self) -> io::Result<Vec<String>> {
        let mut found = Vec::new();
        for e in std::fs::read_dir(&self.dir)? {
            let e = e?;
            let os_name = e.file_name();
            let Some(name) = os_name.to_str() else {
                if !self.warned_non_utf8 {
                    eprintln!(
                        "warning: source `{}`: skipping `{}` and any other file whose name is not UTF-8",
                        self.name,
                        e.path().display()
                    );
                    self.warned_non_utf8 = true;
                }
                continue;
            };
            if is_ignored_name(name.as_bytes()) || self.seen.contains(name) {
                continue;
            }
            // Follow symlinks: a link to a file is a file to read.
            let Ok(meta) = std::fs::metadata(e.path()) else { continue };
            if meta.is_file() {
                found.push((meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), name.to_owned()));
            }
        }
        found.sort();
        Ok(found.into_iter().map(|(_, n)| n).collect())
    }

    /// [`list_new`](Self::list_new), warning once per outage instead of failing: a directory
    /// that cannot be listed for a while gives empty batches.
    fn list_new_or_warn(&mut self) -> Vec<String> {
        match self.list_new() {
            Ok(f) => {
                self.listing_failed = false;
                f
            }
            Err(e) => {
                if !self.listing_failed {
                    eprintln!(
                        "warning: source `{}`: cannot list `{}`: {e}; no new files until it can be listed",
                        self.name,
                        self.dir.display()
                    );
                    self.listing_failed = true;
                }
                Vec::new()
            }
        }
    }

    /// Fixes the files that `Trigger::AvailableNow` will read: those present now, less the ones
    /// in `reserved` (planned by batches a crashed run had started, which run first).
    pub(crate) fn take_snapshot(&mut self, reserved: &HashSet<&str>) -> Result<(), Error> {
        let files = self.list_new().map_err(|source| Error::Io { path: self.dir.clone(), source })?;
        self.snapshot = Some(files.into_iter().filter(|f| !reserved.contains(f.as_str())).collect());
        Ok(())
    }

    /// Whether an `AvailableNow` snapshot has files left.
    pub(crate) fn has_snapshot_files(&self) -> bool {
        self.snapshot.as_ref().is_some_and(|s| !s.is_empty())
    }

    /// Chooses the files of the next batch and marks them taken: up to `max_files_per_trigger`
    /// (all, with `unlimited`) from the snapshot if there is one, otherwise from a listing.
    pub(crate) fn plan(&mut self, unlimited: bool) -> Vec<String> {
        let limit = if unlimited { usize::MAX } else { self.max_files.unwrap_or(usize::MAX) };
        let files: Vec<String> = match &mut self.snapshot {
            Some(s) => {
                let n = limit.min(s.len());
                s.drain(..n).collect()
            }
            None => {
                let mut f = self.list_new_or_warn();
                f.truncate(limit);
                f
            }
        };
        self.seen.extend(files.iter().cloned());
        files
    }

    /// Marks files planned by a crashed run's batch (being re-run) as taken.
    pub(crate) fn take_planned(&mut self, files: &[String]) {
        self.seen.extend(files.iter().cloned());
    }

    /// Every file taken so far, sorted: the checkpoint's record of this source.
    pub(crate) fn taken(&self) -> Vec<String> {
        let mut v: Vec<String> = self.seen.iter().cloned().collect();
        v.sort();
        v
    }

    /// Reads the planned `files` into `batch`, remembering each file for
    /// [`TextBatch::origin`]. A planned file that cannot be read is skipped with a warning (see
    /// the type's documentation); lines are bounded by `max_line_bytes`.
    pub(crate) fn read(&self, files: &[String], batch: &mut TextBatch) -> Result<(), Error> {
        for f in files {
            let path = self.dir.join(f);
            match batch.read_file(&path, self.max_line_bytes) {
                Ok(read) => {
                    if let Some(what) = read.skipped.describe(self.max_line_bytes) {
                        eprintln!("warning: source `{}`: skipped {what} in `{}`", self.name, path.display());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => eprintln!(
                    "warning: source `{}`: `{}` disappeared before it could be read; the batch goes on without it",
                    self.name,
                    path.display()
                ),
                Err(e) => eprintln!(
                    "warning: source `{}`: cannot read `{}`: {e}; the batch goes on without it",
                    self.name,
                    path.display()
                ),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_strip_terminators_and_count() {
        let mut b = TextBatch::new();
        assert!(b.is_empty());
        assert_eq!(b.push_text(b"a b\r\n\nlast"), 0);
        b.push_line("");
        let v: Vec<&str> = b.lines().collect();
        assert_eq!(v, ["a b", "", "last", ""]);
        assert_eq!(b.len_lines(), 4);
        assert_eq!(b.lines().len(), 4);
        assert_eq!(b.as_str(), "a b\r\n\nlast\n\n");
    }

    #[test]
    fn invalid_utf8_lines_are_skipped_and_counted() {
        let mut b = TextBatch::new();
        assert_eq!(b.push_text(b"ok\n\xff\xfe\nfine\n\xc3"), 2);
        assert_eq!(b.lines().collect::<Vec<_>>(), ["ok", "fine"]);
        assert_eq!(b.len_lines(), 2);
        assert_eq!(b.push_text(b""), 0);
        assert_eq!(b.len_lines(), 2);
    }

    #[test]
    fn origins_give_file_and_line_also_after_skipped_lines() {
        let mut b = TextBatch::new();
        b.push_line("no file");
        assert_eq!(b.push_file(Path::new("a"), b"a1\n\xff\na3\r\na4"), 1);
        b.push_file(Path::new("empty"), b"");
        b.push_file(Path::new("b"), b"b1\n");
        b.push_line("after");
        let lines: Vec<&str> = b.lines().collect();
        assert_eq!(lines, ["no file", "a1", "a3", "a4", "b1", "after"]);
        let got: Vec<Option<(&Path, usize)>> = lines.iter().map(|l| b.origin(l)).collect();
        assert_eq!(
            got,
            [
                None,
                Some((Path::new("a"), 1)),
                Some((Path::new("a"), 3)),
                Some((Path::new("a"), 4)),
                Some((Path::new("b"), 1)),
                None
            ]
        );
        // A field of a line has the line's origin.
        assert_eq!(b.origin(&lines[2][1..]), Some((Path::new("a"), 3)));
        let mut c = TextBatch::from_lines(["first"]);
        c.append(&b);
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(c.origin(lines[5]), Some((Path::new("b"), 1)));
        assert_eq!(c.origin(lines[1]), None);
        assert_eq!(c, TextBatch::from_lines(["first", "no file", "a1", "a3\r", "a4", "b1", "after"]));
    }

    /// Feeds `text` in chunks of `chunk` bytes through a splitter with `max_line`.
    fn split(text: &[u8], chunk: usize, max_line: usize) -> (TextBatch, Skipped, Vec<usize>) {
        let mut b = TextBatch::new();
        let mut s = LineSplitter::new(max_line, true);
        for c in text.chunks(chunk) {
            assert_eq!(s.feed(c, &mut b, usize::MAX).0, c.len());
            assert!(s.partial.len() <= max_line);
        }
        s.finish(&mut b);
        (b, s.skipped, s.skipped_lines)
    }

    #[test]
    fn overlong_lines_are_skipped_and_counted_however_the_input_is_chunked() {
        let text = b"short\n0123456789abc\nfits-10ch\n\xff\nlast-but-too-long";
        for chunk in [1, 2, 3, 7, 64, 1000] {
            let (b, skipped, lines) = split(text, chunk, 10);
            assert_eq!(b.lines().collect::<Vec<_>>(), ["short", "fits-10ch"], "chunk {chunk}");
            assert_eq!(skipped, Skipped { invalid: 1, overlong: 2 }, "chunk {chunk}");
            assert_eq!(lines, [2, 4, 5], "chunk {chunk}");
        }
        // Exactly the limit is kept; the terminator does not count.
        let (b, skipped, _) = split(b"0123456789\n0123456789", 4, 10);
        assert_eq!(b.len_lines(), 2);
        assert_eq!(skipped, Skipped::default());
    }

    #[test]
    fn a_line_budget_stops_the_splitter_after_that_many_lines() {
        let mut b = TextBatch::new();
        let mut s = LineSplitter::new(100, false);
        let text = b"a\nb\nc\nd";
        let (used, ended) = s.feed(text, &mut b, 2);
        assert_eq!((used, ended), (4, 2));
        let (used2, ended2) = s.feed(&text[used..], &mut b, 2);
        assert_eq!((used2, ended2), (3, 1));
        s.finish(&mut b);
        assert_eq!(b.lines().collect::<Vec<_>>(), ["a", "b", "c", "d"]);
    }

    #[test]
    fn read_file_streams_a_huge_line_and_keeps_line_numbers() {
        let dir = std::env::temp_dir().join(format!("streamc-source-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.txt");
        let mut text = b"first\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 3 * READ_CHUNK + 5));
        text.extend(b"\nthird\n");
        std::fs::write(&path, &text).unwrap();
        let mut b = TextBatch::from_lines(["before"]);
        let read = b.read_file(&path, 1000).unwrap();
        assert_eq!(read.skipped, Skipped { invalid: 0, overlong: 1 });
        assert_eq!(read.bytes, text.len() as u64);
        let lines: Vec<&str> = b.lines().collect();
        assert_eq!(lines, ["before", "first", "third"]);
        assert_eq!(b.origin(lines[2]), Some((path.as_path(), 3)));
        // A file that is gone leaves the batch as it was.
        let err = b.read_file(&dir.join("gone"), 1000).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(b.len_lines(), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ignored_names() {
        for n in [".x", "_SUCCESS", "a.tmp", "a._COPYING_", "a.COPYING"] {
            assert!(is_ignored_name(n.as_bytes()), "{n}");
        }
        for n in ["a", "a.txt", "tmp", "a.tmp.txt"] {
            assert!(!is_ignored_name(n.as_bytes()), "{n}");
        }
    }

    #[test]
    fn append_and_clear() {
        let mut a = TextBatch::from_lines(["x"]);
        a.append(&TextBatch::from_lines(["y", "z"]));
        assert_eq!(a.lines().collect::<Vec<_>>(), ["x", "y", "z"]);
        a.clear();
        assert!(a.is_empty());
        assert_eq!(a.lines().next(), None);
    }
}

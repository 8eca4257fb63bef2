//! Sources: where a batch's records come from (a TCP socket, new files in a directory, or replay
//! files), and [`TextBatch`], the form in which text records reach generated code.

use std::collections::{HashSet, VecDeque};
use std::ffi::OsString;
use std::io::{self, Read};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crate::clock::lock;
use crate::error::Error;
use crate::ops::Ty;

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
        self.push_text_noting(bytes, None)
    }

    /// Appends the contents of file `path` as [`push_text`](Self::push_text) does, remembering
    /// the file for [`origin`](Self::origin). Returns how many lines were skipped as invalid
    /// UTF-8.
    pub fn push_file(&mut self, path: &Path, bytes: &[u8]) -> usize {
        let start = self.buf.len();
        let mut skipped = Vec::new();
        let invalid = self.push_text_noting(bytes, Some(&mut skipped));
        self.origins.push(Origin { start, path: Some(path.to_owned()), skipped });
        invalid
    }

    /// Lines appended after a file's are not from that file: start a run with no origin.
    fn end_file_origin(&mut self) {
        if self.origins.last().is_some_and(|o| o.path.is_some()) {
            self.origins.push(Origin { start: self.buf.len(), path: None, skipped: Vec::new() });
        }
    }

    /// [`push_text`](Self::push_text), also noting the 1-based line numbers of skipped lines.
    fn push_text_noting(&mut self, bytes: &[u8], mut skipped: Option<&mut Vec<usize>>) -> usize {
        if bytes.is_empty() {
            return 0;
        }
        // Fast path: the whole chunk is valid (the normal case) and is copied in one go.
        if let Ok(s) = std::str::from_utf8(bytes) {
            self.buf.push_str(s);
            self.lines += memchr::memchr_iter(b'\n', bytes).count();
            if !s.ends_with('\n') {
                self.buf.push('\n');
                self.lines += 1;
            }
            return 0;
        }
        let mut invalid = 0;
        let mut rest = bytes;
        let mut line_no = 0;
        while !rest.is_empty() {
            let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
            line_no += 1;
            match std::str::from_utf8(&rest[..end]) {
                Ok(line) => {
                    self.buf.push_str(line);
                    self.buf.push('\n');
                    self.lines += 1;
                }
                Err(_) => {
                    invalid += 1;
                    if let Some(s) = skipped.as_deref_mut() {
                        s.push(line_no);
                    }
                }
            }
            rest = rest.get(end + 1..).unwrap_or_default();
        }
        invalid
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
    }

    /// Removes every line, keeping the allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.lines = 0;
        self.origins.clear();
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
        }
    }

    /// The source's `description` in a progress report, in the shape of Spark's.
    pub(crate) fn progress_description(&self) -> String {
        match self {
            SourceKind::Socket { host, port } => format!("TextSocketSource[host: {host}, port: {port}]"),
            SourceKind::TextFiles { dir } => format!("FileInputDStream[{}]", dir.display()),
            SourceKind::FileStream { dir, .. } => format!("FileStreamSource[{}]", dir.display()),
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
    invalid: usize,
}

/// Spark's `socketTextStream`: a client thread that connects to `host:port`, reads lines into
/// the open batch, and reconnects with backoff when the connection fails or ends.
pub(crate) struct SocketSource {
    name: String,
    pending: Arc<Mutex<Pending>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How long a read blocks before the thread looks at the stop flag again.
const READ_TIMEOUT: Duration = Duration::from_millis(100);
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

impl SocketSource {
    pub(crate) fn start(name: &str, host: &str, port: u16) -> Result<Self, Error> {
        let pending = Arc::new(Mutex::new(Pending::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let client = SocketClient {
            name: name.to_owned(),
            host: host.to_owned(),
            port,
            pending: Arc::clone(&pending),
            stop: Arc::clone(&stop),
        };
        let thread_name = format!("streamc-source-{name}");
        let thread = std::thread::Builder::new()
            .name(thread_name.clone())
            .spawn(move || client.run())
            .map_err(|source| Error::Thread { name: thread_name, source })?;
        Ok(SocketSource { name: name.to_owned(), pending, stop, thread: Some(thread) })
    }

    fn fill(&mut self, batch: &mut TextBatch, time_ms: i64) {
        // Swap rather than copy: the batch gets the received lines, the socket thread gets the
        // (cleared) buffer of the previous batch to reuse.
        let invalid = {
            let mut p = lock(&self.pending);
            std::mem::swap(&mut p.batch, batch);
            std::mem::take(&mut p.invalid)
        };
        if invalid > 0 {
            eprintln!(
                "warning: source `{}`: skipped {invalid} line{} of invalid UTF-8 in the batch at {time_ms} ms",
                self.name,
                plural(invalid)
            );
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
}

impl SocketClient {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn run(self) {
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
    fn read_all(&self, mut stream: TcpStream) -> String {
        if let Err(e) = stream.set_read_timeout(Some(READ_TIMEOUT)) {
            return format!("failed: {e}");
        }
        // Bytes after the last '\n' seen: a line split across reads waits here for its end.
        let mut carry: Vec<u8> = Vec::with_capacity(64 * 1024);
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            if self.stopped() {
                return "stopped".to_owned();
            }
            match stream.read(&mut chunk) {
                Ok(0) => {
                    // As Java's readLine, a last line without terminator still counts.
                    self.deliver(&carry);
                    return "was closed by the server".to_owned();
                }
                Ok(n) => {
                    let new = &chunk[..n];
                    match memchr::memrchr(b'\n', new) {
                        Some(last) => {
                            carry.extend_from_slice(&new[..=last]);
                            self.deliver(&carry);
                            carry.clear();
                            carry.extend_from_slice(&new[last + 1..]);
                        }
                        None => carry.extend_from_slice(new),
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => {
                    self.deliver(&carry);
                    return format!("failed: {e}");
                }
            }
        }
    }

    /// Adds complete lines to the open batch. UTF-8 is checked before taking the lock so the
    /// batch loop never waits on validation.
    fn deliver(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut staged = TextBatch::new();
        let invalid = staged.push_text(bytes);
        let mut p = lock(&self.pending);
        p.batch.append(&staged);
        p.invalid += invalid;
    }
}

// ----- directory of new files ---------------------------------------------------------------

/// Spark's `textFileStream`: every file that appears in the directory is read whole into the
/// batch during which it was first seen, exactly once.
///
/// Files present when the app starts are not read (as in Spark). Names starting with `.` or `_`
/// are ignored, so a writer can write `.name.tmp` and rename it to `name` when complete: a rename
/// within a directory is atomic, so the source never reads a half-written file. A file is
/// remembered by name; rewriting it later does not make it new again.
pub(crate) struct FileSource {
    name: String,
    dir: PathBuf,
    seen: HashSet<OsString>,
    /// Whether listing the directory is failing (warn once per outage).
    listing_failed: bool,
}

impl FileSource {
    /// Records the files already present, which will never be read.
    pub(crate) fn start(name: &str, dir: &Path) -> Result<Self, Error> {
        let mut seen = HashSet::new();
        let entries = std::fs::read_dir(dir).map_err(|source| Error::Io { path: dir.to_owned(), source })?;
        for e in entries {
            let e = e.map_err(|source| Error::Io { path: dir.to_owned(), source })?;
            seen.insert(e.file_name());
        }
        Ok(FileSource { name: name.to_owned(), dir: dir.to_owned(), seen, listing_failed: false })
    }

    fn new_files(&mut self) -> io::Result<Vec<PathBuf>> {
        let mut found = Vec::new();
        for e in std::fs::read_dir(&self.dir)? {
            let e = e?;
            let name = e.file_name();
            let visible = !matches!(name.as_encoded_bytes().first(), Some(b'.' | b'_'));
            if !visible || self.seen.contains(&name) {
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
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let invalid = batch.push_file(&path, &bytes);
                    if invalid > 0 {
                        eprintln!(
                            "warning: source `{}`: skipped {invalid} line{} of invalid UTF-8 in `{}` (batch at {time_ms} ms)",
                            self.name,
                            plural(invalid),
                            path.display()
                        );
                    }
                }
                Err(e) => {
                    eprintln!("warning: source `{}`: cannot read `{}`: {e}; skipping it", self.name, path.display())
                }
            }
        }
    }
}

// ----- replay -------------------------------------------------------------------------------

/// Replay input: file `i` of the directory (regular files in name order) is the records of
/// batch `i`; after the last file, batches are empty.
pub(crate) struct ReplaySource {
    files: std::vec::IntoIter<PathBuf>,
}

impl ReplaySource {
    /// Lists the replay files of `dir`.
    pub(crate) fn open(dir: &Path) -> Result<Self, Error> {
        let io_err = |source| Error::Io { path: dir.to_owned(), source };
        let mut files = Vec::new();
        for e in std::fs::read_dir(dir).map_err(io_err)? {
            let path = e.map_err(io_err)?.path();
            if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                files.push(path);
            }
        }
        files.sort();
        Ok(ReplaySource { files: files.into_iter() })
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
        let bytes = std::fs::read(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
        let invalid = batch.push_file(&path, &bytes);
        if invalid > 0 {
            eprintln!("warning: skipped {invalid} line{} of invalid UTF-8 in `{}`", plural(invalid), path.display());
        }
        Ok(())
    }
}

// ----- structured file source ---------------------------------------------------------------

/// Structured Streaming's file source (`spark.readStream.text(dir)`, also behind json and csv):
/// every file of the directory, including those present at the start, read once.
///
/// Each batch takes up to `max_files_per_trigger` files not taken before, oldest first by
/// (modification time, name); names starting with `.` or `_` are ignored (write `.name.tmp`,
/// then rename). The batch loop *plans* a batch (chooses its files, which the checkpoint's
/// write-ahead log records before the batch runs) and then *reads* it, so a batch re-run after a
/// crash reads the files it read the first time. Files are known by name: rewriting a file does
/// not make it new again. Names that are not UTF-8 are skipped with a warning, because the
/// checkpoint records names as strings.
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
}

impl StructuredFileSource {
    /// A source over `dir` that has already taken the files `taken` (from a checkpoint).
    pub(crate) fn start(
        name: &str,
        dir: &Path,
        max_files: Option<usize>,
        taken: impl IntoIterator<Item = String>,
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
            if name.starts_with(['.', '_']) || self.seen.contains(name) {
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
    /// [`TextBatch::origin`]. A planned file that cannot be read stops the app, as in Spark:
    /// skipping it would make the batch differ from the one planned.
    pub(crate) fn read(&self, files: &[String], batch: &mut TextBatch) -> Result<(), Error> {
        for f in files {
            let path = self.dir.join(f);
            let bytes = std::fs::read(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
            let invalid = batch.push_file(&path, &bytes);
            if invalid > 0 {
                eprintln!(
                    "warning: source `{}`: skipped {invalid} line{} of invalid UTF-8 in `{}`",
                    self.name,
                    plural(invalid),
                    path.display()
                );
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

//! [`TextBatch`], the form in which text records reach generated code (a batch's lines in one
//! buffer), and the bounded line splitting that fills it from bytes read in chunks.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::limits::{READ_CHUNK, Skipped};
use super::lines::{Lines, cut_text, part_ends, split_text};
use super::share::Share;
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
    pub(super) skipped_lines: u64,
    /// The batch holds only this cluster process's share of the source's lines (read as byte
    /// ranges, [`read_file_range`](Self::read_file_range)): [`split_part`](Self::split_part)
    /// gives all of them.
    pub(crate) share_only: bool,
}

/// A position in a [`TextBatch`] to roll back to.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mark {
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

    /// Counts `n` more lines as dropped (a cluster process taking a batch process 0 read).
    pub(crate) fn add_skipped(&mut self, n: u64) {
        self.skipped_lines += n;
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
    /// file of one line costs no more than a short one (a file no larger than `max_line_bytes`
    /// is read in one go, [`read_whole_file`](Self::read_whole_file): the same bound). On an
    /// error nothing of the file is kept.
    pub(crate) fn read_file(&mut self, path: &Path, max_line_bytes: usize) -> io::Result<FileRead> {
        if let Some(read) = self.read_whole_file(path, max_line_bytes)? {
            return Ok(read);
        }
        self.read_range_split(path, 0, u64::MAX, max_line_bytes)
    }

    /// [`read_file`](Self::read_file)'s common case in one read, without the line splitter
    /// ([`read_whole`]): a file of at most `max_line_bytes` that is valid UTF-8 becomes the
    /// batch's text (its first file without a copy). `None` (nothing kept) for any other file,
    /// which the splitter then reads.
    fn read_whole_file(&mut self, path: &Path, max_line_bytes: usize) -> io::Result<Option<FileRead>> {
        let buffer = if self.buf.is_empty() { std::mem::take(&mut self.buf).into_bytes() } else { Vec::new() };
        match read_whole(path, max_line_bytes, buffer)? {
            WholeRead::Text { text, lines, bytes } => {
                // The batch's own buffer, if it was empty, was read into: nothing to keep.
                Ok(Some(self.push_whole(path, text, lines, bytes).0))
            }
            WholeRead::NotWhole(buffer) => {
                self.give_back(self.buf.is_empty(), buffer);
                Ok(None)
            }
        }
    }

    /// Appends a whole file's text read by [`read_whole`] (its lines, each ending in `'\n'`,
    /// `lines` of them, `bytes` read), remembering `path` for [`origin`](Self::origin). Into an
    /// empty batch the text moves without a copy, and the batch's old (empty) buffer comes back
    /// for a next read; otherwise the text is copied and comes back.
    pub(crate) fn push_whole(&mut self, path: &Path, text: String, lines: usize, bytes: u64) -> (FileRead, String) {
        self.push_read(Some(path.to_owned()), text, lines, bytes)
    }

    /// [`push_whole`](Self::push_whole) with the lines' origin given (`None`: lines whose
    /// numbers in their file are not known, a byte range's).
    fn push_read(&mut self, origin: Option<PathBuf>, text: String, lines: usize, bytes: u64) -> (FileRead, String) {
        let start = self.buf.len();
        let spare = if self.buf.is_empty() {
            std::mem::replace(&mut self.buf, text)
        } else {
            self.buf.push_str(&text);
            text
        };
        self.lines += lines;
        self.origins.push(Origin { start, path: origin, skipped: Vec::new() });
        (FileRead { skipped: Skipped::default(), bytes }, spare)
    }

    /// Reads the lines of file `path` that start at a byte offset in `lo..hi`, as
    /// [`read_file`](Self::read_file) reads all of them: a line that starts before `lo` belongs
    /// to the range before, the one that crosses `hi` to this one, so the ranges of a cut of the
    /// file read each line once (Hadoop's rule for splits of a text file). Lines of a range
    /// that starts inside the file have no origin (their line numbers are not known without
    /// reading what comes before: a query that reports them reads whole files).
    ///
    /// The common case, a range of valid UTF-8 within `max_line_bytes`, is read in one read
    /// ([`read_range_at_once`](Self::read_range_at_once)); any other goes through the line
    /// splitter, which skips and counts the lines it must.
    pub(crate) fn read_file_range(
        &mut self,
        path: &Path,
        lo: u64,
        hi: u64,
        max_line_bytes: usize,
    ) -> io::Result<FileRead> {
        if hi <= lo {
            return Ok(FileRead { skipped: Skipped::default(), bytes: 0 });
        }
        if let Some(read) = self.read_range_at_once(path, lo, hi, max_line_bytes)? {
            return Ok(read);
        }
        self.read_range_split(path, lo, hi, max_line_bytes)
    }

    /// [`read_file_range`](Self::read_file_range) in one read of the range into the batch
    /// (into its own buffer when it is empty), without the line splitter's copy through a
    /// reader's buffer: the range's start moved past the end of the line holding byte
    /// `lo - 1` (a few bytes read first), its end to the end of the line crossing `hi`. `None`,
    /// with the batch as it was, when the lines are not valid UTF-8 or could be longer than
    /// `max_line_bytes` (more than that many bytes in all), or the file changed meanwhile:
    /// the splitter then reads the range.
    fn read_range_at_once(
        &mut self,
        path: &Path,
        lo: u64,
        hi: u64,
        max_line_bytes: usize,
    ) -> io::Result<Option<FileRead>> {
        use std::io::Read as _;
        let limit = max_line_bytes as u64;
        let mut f = File::open(path)?;
        let size = f.metadata()?.len();
        // Where this range's first line starts.
        let mut start = lo;
        if lo > 0 {
            f.seek(SeekFrom::Start(lo - 1))?;
            let mut probe = [0u8; 256];
            let mut at = lo - 1;
            loop {
                let n = f.read(&mut probe)?;
                if n == 0 {
                    break;
                }
                if let Some(i) = memchr::memchr(b'\n', &probe[..n]) {
                    at += i as u64 + 1;
                    break;
                }
                at += n as u64;
                if at - (lo - 1) > limit {
                    return Ok(None);
                }
            }
            start = at;
        }
        let end = hi.min(size);
        let origin = (lo == 0).then(|| path.to_owned());
        if start >= end {
            // Every line starting in the range started before it.
            self.origins.push(Origin { start: self.buf.len(), path: origin, skipped: Vec::new() });
            return Ok(Some(FileRead { skipped: Skipped::default(), bytes: 0 }));
        }
        if end - start > limit {
            return Ok(None);
        }
        let into_own = self.buf.is_empty();
        let mut text = if into_own { std::mem::take(&mut self.buf).into_bytes() } else { Vec::new() };
        text.clear();
        let read = (|| -> io::Result<bool> {
            f.seek(SeekFrom::Start(start))?;
            (&mut f).take(end - start).read_to_end(&mut text)?;
            if text.len() as u64 != end - start {
                return Ok(false);
            }
            // The line crossing `hi` is read to its end.
            let mut chunk = [0u8; 4096];
            while end < size && text.last() != Some(&b'\n') {
                let n = f.read(&mut chunk)?;
                if n == 0 {
                    break;
                }
                let take = memchr::memchr(b'\n', &chunk[..n]).map_or(n, |i| i + 1);
                text.extend_from_slice(&chunk[..take]);
                if text.len() as u64 > limit {
                    return Ok(false);
                }
            }
            Ok(true)
        })();
        let mut text = match (read, crate::utf8::into_string(text)) {
            (Ok(true), Ok(t)) => t,
            (read, text) => {
                self.give_back(into_own, text.map_or_else(|e| e.into_bytes(), String::into_bytes));
                return read.map(|_| None);
            }
        };
        let bytes = text.len() as u64;
        let lines = end_lines(&mut text);
        // Into the batch's own buffer, taken above, the text moves without a copy.
        Ok(Some(self.push_read(origin, text, lines, bytes).0))
    }

    /// Puts back the batch's own (empty) buffer after a read into it was not kept.
    fn give_back(&mut self, into_own: bool, mut buffer: Vec<u8>) {
        if into_own {
            buffer.clear();
            self.buf = String::from_utf8(buffer).expect("an empty vector is UTF-8");
        }
    }

    /// [`read_file_range`](Self::read_file_range) through the line splitter.
    pub(super) fn read_range_split(
        &mut self,
        path: &Path,
        lo: u64,
        hi: u64,
        max_line_bytes: usize,
    ) -> io::Result<FileRead> {
        if hi <= lo {
            return Ok(FileRead { skipped: Skipped::default(), bytes: 0 });
        }
        let mark = self.mark();
        let result = (|| {
            let mut f = File::open(path)?;
            let mut start = lo;
            if lo > 0 {
                // The line holding byte `lo - 1` is the range before's, unless it ends there.
                f.seek(SeekFrom::Start(lo - 1))?;
                let mut r = BufReader::with_capacity(READ_CHUNK, &mut f);
                let mut skipped = Vec::new();
                r.read_until(b'\n', &mut skipped)?;
                start = lo - 1 + skipped.len() as u64;
                drop(r);
                f.seek(SeekFrom::Start(start))?;
            }
            let mut lines = LineSplitter::new(max_line_bytes, lo == 0);
            let mut bytes = 0u64;
            let mut pos = start;
            // Past `hi`: the line that crosses it is read to its end.
            let mut last = if start > lo { b'\n' } else { 0 };
            let mut r = BufReader::with_capacity(READ_CHUNK, f);
            loop {
                let chunk = match r.fill_buf() {
                    Ok(c) => c,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                if chunk.is_empty() {
                    break;
                }
                let take = if pos < hi {
                    let before = usize::try_from(hi - pos).unwrap_or(usize::MAX).min(chunk.len());
                    last = chunk[before - 1];
                    before
                } else if last == b'\n' {
                    0
                } else {
                    match memchr::memchr(b'\n', chunk) {
                        Some(i) => {
                            last = b'\n';
                            i + 1
                        }
                        None => chunk.len(),
                    }
                };
                if take == 0 {
                    break;
                }
                lines.feed(&chunk[..take], self, usize::MAX);
                r.consume(take);
                pos += take as u64;
                bytes += take as u64;
            }
            lines.finish(self);
            let origin = (lo == 0).then(|| path.to_owned());
            self.origins.push(Origin { start: mark.buf, path: origin, skipped: lines.skipped_lines });
            self.skipped_lines += lines.skipped.total();
            Ok(FileRead { skipped: lines.skipped, bytes })
        })();
        if result.is_err() {
            self.rollback(mark);
        }
        result
    }

    /// The batch's current end, to [`rollback`](Self::rollback) to.
    pub(super) fn mark(&self) -> Mark {
        Mark { buf: self.buf.len(), lines: self.lines, origins: self.origins.len() }
    }

    /// Removes every line appended since `mark` was taken.
    pub(super) fn rollback(&mut self, mark: Mark) {
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
        self.share_only = false;
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

    /// Whether `line` (a line of this batch) is the first line of the file it was read from: a
    /// CSV header (Spark's `header` option) when the file's first line was not skipped.
    ///
    /// ```
    /// # use std::path::Path;
    /// let mut b = streamc_runtime::TextBatch::new();
    /// b.push_file(Path::new("a.csv"), b"h\nx\n");
    /// b.push_file(Path::new("b.csv"), b"h\n");
    /// let lines: Vec<&str> = b.lines().collect();
    /// let firsts: Vec<bool> = lines.iter().map(|l| b.starts_file(l)).collect();
    /// assert_eq!(firsts, [true, false, true]);
    /// ```
    pub fn starts_file(&self, line: &str) -> bool {
        let Some(offset) = (line.as_ptr() as usize).checked_sub(self.buf.as_ptr() as usize) else { return false };
        let i = self.origins.partition_point(|o| o.start < offset);
        self.origins.get(i).is_some_and(|o| o.start == offset && o.path.is_some() && o.skipped.first() != Some(&1))
    }

    /// The lines, without their terminator (nor a `'\r'` before it).
    #[inline]
    pub fn lines(&self) -> Lines<'_> {
        Lines::of(&self.buf)
    }

    /// The lines split into at most `n` consecutive runs of about equal bytes (never splitting
    /// a line), in order, for workers that each take one.
    pub fn split_lines(&self, n: usize) -> Vec<Lines<'_>> {
        split_text(&self.buf, n)
    }

    /// The lines cut into the shares of a cluster's `n` processes that `cuts` bounds
    /// ([`Share::of_cuts`]; even shares when `cuts` is empty), in process order, never
    /// splitting a line: at most `n` runs (a process past the last has none).
    pub(crate) fn split_lines_in_shares(&self, n: usize, cuts: &[u64]) -> Vec<Lines<'_>> {
        let len = self.buf.len() as u64;
        cut_text(&self.buf, (1..n).map(|k| Share::of_cuts(k, n, cuts).range(len).0 as usize))
    }

    /// The lines split into at most `n` consecutive runs (never splitting a line), in order:
    /// the first about `first_share` (0 to 1) of the bytes, the others an even share of the
    /// rest each. [`split_lines`](Self::split_lines) is `first_share` = `1 / n`.
    pub fn split_lines_first(&self, n: usize, first_share: f64) -> Vec<Lines<'_>> {
        let len = self.buf.len();
        let first = (len as f64 * first_share.clamp(0.0, 1.0)) as usize;
        let targets = (1..n).map(|k| first + (len - first.min(len)) * (k - 1) / (n - 1).max(1));
        cut_text(&self.buf, targets)
    }

    /// Part `k` of [`split_lines`](Self::split_lines)`(n)` alone (a cluster process's share):
    /// only its own lines are counted. `None` when the batch has fewer parts.
    pub fn split_part(&self, k: usize, n: usize) -> Option<Lines<'_>> {
        if self.share_only {
            return (!self.is_empty()).then(|| self.lines());
        }
        let ends = part_ends(&self.buf, n);
        let end = *ends.get(k)?;
        let start = if k == 0 { 0 } else { ends[k - 1] };
        let rest = &self.buf[start..end];
        Some(Lines::of(rest))
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

/// What [`TextBatch::read_file`] read.
#[derive(Clone, Copy, Debug, Default)]
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
pub(super) struct LineSplitter {
    max_line: usize,
    /// The start of a line whose end has not been fed yet (at most `max_line` bytes).
    pub(super) partial: Vec<u8>,
    /// The current line is over the limit: drop bytes until its end.
    discarding: bool,
    /// Lines ended so far, kept or not.
    line_no: usize,
    pub(super) skipped: Skipped,
    /// The 1-based numbers of the skipped lines, when `note_lines`.
    pub(super) skipped_lines: Vec<usize>,
    note_lines: bool,
}

impl LineSplitter {
    pub(super) fn new(max_line: usize, note_lines: bool) -> Self {
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
    pub(super) fn feed(&mut self, bytes: &[u8], out: &mut TextBatch, max_lines: usize) -> (usize, usize) {
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
            && let Some(text) = crate::utf8::as_str(&rest[..=last])
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
    pub(super) fn finish(&mut self, out: &mut TextBatch) {
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

/// What [`read_whole`] read.
pub(crate) enum WholeRead {
    /// The file's text, with a `'\n'` added after a last line without one, its number of
    /// lines and the file's size.
    Text { text: String, lines: usize, bytes: u64 },
    /// The file is larger than the limit or not valid UTF-8: the line splitter must read it.
    /// The buffer comes back for reuse.
    NotWhole(Vec<u8>),
}

/// Reads file `path` in one read into `buffer` (cleared first) when it is no larger than
/// `max_line_bytes` (so no line of it is over the limit, and memory holds no more than the line
/// splitter's bound) and valid UTF-8.
pub(crate) fn read_whole(path: &Path, max_line_bytes: usize, mut buffer: Vec<u8>) -> io::Result<WholeRead> {
    use std::io::Read as _;
    let mut f = File::open(path)?;
    let size = f.metadata()?.len();
    buffer.clear();
    if size > max_line_bytes as u64 {
        return Ok(WholeRead::NotWhole(buffer));
    }
    buffer.reserve((size as usize).saturating_add(1));
    // A file that grew past the limit since its size was read goes to the splitter too.
    (&mut f).take((max_line_bytes as u64).saturating_add(1)).read_to_end(&mut buffer)?;
    if buffer.len() > max_line_bytes {
        return Ok(WholeRead::NotWhole(buffer));
    }
    let mut text = match crate::utf8::into_string(buffer) {
        Ok(t) => t,
        Err(e) => return Ok(WholeRead::NotWhole(e.into_bytes())),
    };
    let bytes = text.len() as u64;
    let lines = end_lines(&mut text);
    Ok(WholeRead::Text { text, lines, bytes })
}

/// Ends `text`'s last line with `'\n'` if it has none (a file without a final newline);
/// returns its number of lines.
fn end_lines(text: &mut String) -> usize {
    let mut lines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
        lines += 1;
    }
    lines
}

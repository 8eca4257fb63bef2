//! The lines of a batch's text ([`Lines`]), and the cuts of it into parts at line boundaries
//! that split a batch over workers.

use std::sync::Arc;

use super::chunks::{Chunks, Pass};

/// The iterator of [`TextBatch::lines`](super::TextBatch::lines).
#[derive(Clone, Debug)]
pub struct Lines<'a> {
    /// The lines left, each ending in `'\n'` (their number is counted only when asked for, by
    /// whoever iterates them: a worker's part is not counted by the thread that cuts it).
    rest: &'a str,
    /// Where more lines come from once `rest` is read: the chunks of a part shared with the
    /// batch's thread ([`Chunks`]), claimed one at a time from the front.
    more: Option<Arc<Chunks<'a>>>,
    /// With `more`, which pass over the part this is ([`Chunks::next_for`]): not begun yet, the
    /// one that claims, or one that reads again what that one claimed (and which chunk next).
    pass: Pass,
}

impl<'a> Lines<'a> {
    /// The lines of `text`.
    #[inline]
    pub(crate) fn of(text: &'a str) -> Lines<'a> {
        Lines { rest: text, more: None, pass: Pass::NotBegun }
    }

    /// The lines of the chunks claimed from the front of `chunks` as the lines run out (a
    /// worker's part that the batch's thread may take blocks of from the back). Its clones
    /// read the part one after another (not at once): the first to begin claims the chunks,
    /// the later ones read the chunks it claimed.
    pub fn claiming(chunks: Arc<Chunks<'a>>) -> Lines<'a> {
        Lines { rest: "", more: Some(chunks), pass: Pass::NotBegun }
    }

    /// The next chunk into `rest`; whether there was one.
    #[cold]
    #[inline(never)]
    fn claim(&mut self) -> bool {
        match self.more.as_ref().and_then(|c| c.next_for(&mut self.pass)) {
            Some(chunk) => {
                self.rest = chunk;
                true
            }
            None => false,
        }
    }

    /// No lines (a cluster process whose share of a batch is empty).
    pub fn take_none(self) -> Lines<'a> {
        Lines::of(&self.rest[..0])
    }

    /// Cuts the lines left into at most `n` parts at line boundaries, as
    /// [`TextBatch::split_lines`](super::TextBatch::split_lines) cuts a batch (a cluster process's share over its workers).
    pub fn split(self, n: usize) -> Vec<Lines<'a>> {
        debug_assert!(self.more.is_none(), "a part that claims chunks is not cut again");
        split_text(self.rest, n)
    }

    /// The lines left as text, each ending in `'\n'`.
    pub(crate) fn text(&self) -> &'a str {
        debug_assert!(self.more.is_none(), "the text of a part that claims chunks is not known yet");
        self.rest
    }

    /// The bytes of the lines left (in hand: a part that claims chunks may get more).
    pub fn len_bytes(&self) -> usize {
        self.rest.len()
    }
}

/// `text` (empty, or lines each ending in `'\n'`) cut into at most `n` parts of about as many
/// bytes, at line boundaries; no part is empty.
pub(super) fn split_text(text: &str, n: usize) -> Vec<Lines<'_>> {
    parts_at(text, part_ends(text, n))
}

/// `text` cut into the lines before each of `targets` (byte offsets, in order) and the rest:
/// a cut at a target moves to the end of the line the target is in, empty parts are left out.
pub(super) fn cut_text(text: &str, targets: impl Iterator<Item = usize>) -> Vec<Lines<'_>> {
    let bytes = text.as_bytes();
    let mut ends = Vec::new();
    let mut start = 0;
    for target in targets {
        if start >= bytes.len() {
            break;
        }
        let target = target.max(start);
        let end = match memchr::memchr(b'\n', &bytes[target.min(bytes.len() - 1)..]) {
            Some(i) => target.min(bytes.len() - 1) + i + 1,
            None => bytes.len(),
        };
        ends.push(end);
        start = end;
    }
    if start < bytes.len() {
        ends.push(bytes.len());
    }
    parts_at(text, ends)
}

/// The parts of `text` that end at `ends` (increasing; the last is the text's end).
fn parts_at(text: &str, ends: Vec<usize>) -> Vec<Lines<'_>> {
    let mut out = Vec::with_capacity(ends.len());
    let mut start = 0;
    for end in ends {
        out.push(Lines::of(&text[start..end]));
        start = end;
    }
    out
}

/// Where each part of [`split_text`] ends, without counting the parts' lines.
pub(super) fn part_ends(text: &str, n: usize) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut ends = Vec::with_capacity(n);
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
        ends.push(end);
        start = end;
    }
    ends
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    #[inline(always)]
    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() && !self.claim() {
            return None;
        }
        let end = line_end(self.rest.as_bytes()).unwrap_or(self.rest.len());
        let line = &self.rest[..end];
        self.rest = self.rest.get(end + 1..).unwrap_or_default();
        Some(line.strip_suffix('\r').unwrap_or(line))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let b = self.rest.as_bytes();
        let n = memchr::memchr_iter(b'\n', b).count() + usize::from(b.last().is_some_and(|&c| c != b'\n'));
        // Chunks still to claim have more, unless the batch's thread takes them.
        (n, self.more.is_none().then_some(n))
    }
}

/// The index of the first `'\n'` in `b`. A record's line is short: its first 64 bytes are
/// searched here, 16 at a time (SSE2, which every x86-64 processor has), inlined into the loop
/// that reads the lines; `memchr` (its call and its set-up) takes over past them.
#[inline(always)]
pub(super) fn line_end(b: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
        let mut at = 0;
        while at < 64
            && let Some(chunk) = b.get(at..at + 16)
        {
            // SAFETY: SSE2 is part of x86-64, so these instructions exist; `chunk` is 16 readable
            // bytes, and the load has no alignment requirement.
            let found = unsafe {
                let bytes = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
                _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\n' as i8)))
            };
            if found != 0 {
                return Some(at + found.trailing_zeros() as usize);
            }
            at += 16;
        }
        memchr::memchr(b'\n', &b[at..]).map(|i| at + i)
    }
    #[cfg(not(target_arch = "x86_64"))]
    memchr::memchr(b'\n', b)
}

impl std::iter::FusedIterator for Lines<'_> {}

//! A part of a split batch that its worker and the batch's thread share: the worker reads it
//! from the front, a chunk at a time ([`Lines`](super::Lines) claims the next chunk as it runs
//! out), and the batch's thread, once its own part is done, takes blocks of chunks from the
//! back ([`steal_back`](Chunks::steal_back)). Both then end at about the same time whatever
//! the learned split got wrong and however late the worker started; every line is read once,
//! and the blocks taken from the back follow the worker's chunks in line order.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A pass over a part that claims chunks ([`Lines::claiming`](super::Lines::claiming)): a stage may read its part more
/// than once (a DStream partial has a loop per chain from the source), one pass after another;
/// the first claims the chunks, and each later one reads the chunks it claimed, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pass {
    NotBegun,
    Claiming,
    /// Reading again; the next chunk's index.
    Again(u32),
}

/// A part's text cut into chunks at line boundaries, and which of them are taken.
pub struct Chunks<'a> {
    text: &'a str,
    /// Where each chunk ends (increasing; the last is the text's end): chunk `i` is
    /// `text[ends[i - 1]..ends[i]]`, chunk 0 starts at 0.
    ends: Vec<usize>,
    /// `front | back << 32`: the chunks before `front` are the worker's, those from `back` on
    /// the batch thread's; the ones between are left.
    state: AtomicU64,
    /// Whether the reader yields its core before each chunk ([`yielding`](Self::yielding)).
    yielding: bool,
    /// Whether a pass claiming the chunks has begun ([`next_for`](Self::next_for)).
    claimed: AtomicBool,
}

impl std::fmt::Debug for Chunks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (front, back) = unpack(self.state.load(Ordering::Relaxed));
        f.debug_struct("Chunks").field("chunks", &self.ends.len()).field("front", &front).field("back", &back).finish()
    }
}

fn pack(front: u32, back: u32) -> u64 {
    u64::from(front) | u64::from(back) << 32
}

fn unpack(s: u64) -> (u32, u32) {
    (s as u32, (s >> 32) as u32)
}

impl<'a> Chunks<'a> {
    /// `text` (lines, each ending in `'\n'` but perhaps the last) in chunks of about
    /// `chunk_bytes`, each ending at the end of a line.
    pub fn new(text: &'a str, chunk_bytes: usize) -> Self {
        let bytes = text.as_bytes();
        let step = chunk_bytes.max(1);
        let mut ends = Vec::with_capacity(bytes.len() / step + 1);
        let mut start = 0;
        while start < bytes.len() {
            let target = start + step;
            let end = if target >= bytes.len() {
                bytes.len()
            } else {
                memchr::memchr(b'\n', &bytes[target - 1..]).map_or(bytes.len(), |i| target + i)
            };
            ends.push(end);
            start = end;
        }
        let n = u32::try_from(ends.len()).expect("fewer than 2^32 chunks");
        Chunks { text, ends, state: AtomicU64::new(pack(0, n)), yielding: false, claimed: AtomicBool::new(false) }
    }

    /// The reader yields its core to the threads waiting for it before it claims each chunk:
    /// for a share that the threads of its own process lend to other processes
    /// (`app/steal.rs`), whose requests would otherwise wait for the reader's time slice to
    /// end (0.3–3.5 ms a request on a 2-process word count, each process on one core).
    pub fn yielding(mut self) -> Self {
        self.yielding = true;
        self
    }

    fn chunk_text(&self, from: u32, to: u32) -> &'a str {
        let start = if from == 0 { 0 } else { self.ends[from as usize - 1] };
        let end = if to == 0 { 0 } else { self.ends[to as usize - 1] };
        &self.text[start..end]
    }

    /// The next chunk of the pass `pass` over the chunks (a [`Lines`](super::Lines) of them):
    /// the first pass to begin claims them from the front ([`claim_front`](Self::claim_front));
    /// a later one (begun once the first is done) reads the chunks the first claimed, in order.
    pub(super) fn next_for(&self, pass: &mut Pass) -> Option<&'a str> {
        if *pass == Pass::NotBegun {
            *pass = if self.claimed.swap(true, Ordering::Relaxed) { Pass::Again(0) } else { Pass::Claiming };
        }
        match pass {
            Pass::Again(next) => {
                let (front, _) = unpack(self.state.load(Ordering::Relaxed));
                if *next >= front {
                    return None;
                }
                *next += 1;
                Some(self.chunk_text(*next - 1, *next))
            }
            _ => self.claim_front(),
        }
    }

    /// The next chunk from the front, for the worker; `None` once the two ends have met.
    pub fn claim_front(&self) -> Option<&'a str> {
        if self.yielding {
            std::thread::yield_now();
        }
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            let (front, back) = unpack(s);
            if front >= back {
                return None;
            }
            match self.state.compare_exchange_weak(s, pack(front + 1, back), Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Some(self.chunk_text(front, front + 1)),
                Err(now) => s = now,
            }
        }
    }

    /// The back half of the chunks left (the upper one when their number is odd), for the
    /// batch's thread, while at least two are left (the last one is the worker's: it is
    /// reading it or about to). Each block taken lies before the ones taken earlier.
    pub fn steal_back(&self) -> Option<&'a str> {
        self.steal_back_from(2)
    }

    /// [`steal_back`](Self::steal_back) while at least `left` chunks (2 or more) are left: a
    /// block taken costs its taker a fixed price, worth paying only for enough lines.
    pub fn steal_back_from(&self, left: u32) -> Option<&'a str> {
        let left = left.max(2);
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            let (front, back) = unpack(s);
            if back.saturating_sub(front) < left {
                return None;
            }
            let from = back - (back - front) / 2;
            match self.state.compare_exchange_weak(s, pack(front, from), Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Some(self.chunk_text(from, back)),
                Err(now) => s = now,
            }
        }
    }

    /// The bytes the worker claimed from the front.
    pub fn front_bytes(&self) -> usize {
        let (front, _) = unpack(self.state.load(Ordering::Relaxed));
        self.chunk_text(0, front).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: usize) -> String {
        (0..lines).map(|i| format!("line {i} {}\n", "x".repeat(i % 13))).collect()
    }

    #[test]
    fn chunks_end_at_line_ends_and_cover_the_text() {
        for (lines, chunk) in [(0, 10), (1, 1), (1, 1000), (50, 1), (50, 17), (500, 64), (500, 100_000)] {
            let t = text(lines);
            let c = Chunks::new(&t, chunk);
            let mut all = String::new();
            while let Some(piece) = c.claim_front() {
                assert!(piece.ends_with('\n'), "{lines} lines, chunks of {chunk}: {piece:?}");
                assert!(!piece.is_empty());
                all.push_str(piece);
            }
            assert_eq!(all, t, "{lines} lines, chunks of {chunk}");
            assert_eq!(c.front_bytes(), t.len());
        }
    }

    #[test]
    fn a_last_line_without_its_newline_is_in_the_last_chunk() {
        let c = Chunks::new("a\nb\nc", 1);
        let pieces: Vec<&str> = std::iter::from_fn(|| c.claim_front()).collect();
        assert_eq!(pieces, ["a\n", "b\n", "c"]);
    }

    #[test]
    fn the_back_is_taken_in_halves_and_the_front_and_back_meet_without_overlap() {
        let t = text(1000);
        let c = Chunks::new(&t, 100);
        let left = |c: &Chunks| {
            let (front, back) = unpack(c.state.load(Ordering::Relaxed));
            back - front
        };
        let mut front = String::from(c.claim_front().unwrap());
        let mut stolen = Vec::new();
        loop {
            let before = left(&c);
            let Some(block) = c.steal_back() else { break };
            // Half of what was left, the upper half when odd.
            assert_eq!(left(&c), before - before / 2);
            stolen.push(block);
            // The worker reads on between the thefts.
            front.extend(c.claim_front());
        }
        assert_eq!(left(&c), 1);
        assert!(stolen.len() >= 3);
        front.extend(std::iter::from_fn(|| c.claim_front()));
        assert_eq!(c.claim_front(), None);
        // Each block lies before the one taken before it; the worker's chunks come first.
        let back: String = stolen.iter().rev().copied().collect();
        assert_eq!(format!("{front}{back}"), t);
        assert_eq!(c.front_bytes(), front.len());
    }

    #[test]
    fn two_threads_take_every_chunk_once() {
        let t = text(20_000);
        for _ in 0..20 {
            let c = Chunks::new(&t, 256);
            let (front, back) = std::thread::scope(|s| {
                let worker = s.spawn(|| {
                    let mut got = 0usize;
                    while let Some(piece) = c.claim_front() {
                        got += piece.len();
                    }
                    got
                });
                let mut blocks = Vec::new();
                while let Some(b) = c.steal_back() {
                    blocks.push(b);
                }
                (worker.join().unwrap(), blocks)
            });
            let back_bytes: usize = back.iter().map(|b| b.len()).sum();
            assert_eq!(front + back_bytes, t.len());
            assert_eq!(front, c.front_bytes());
            let joined: String = back.iter().rev().copied().collect();
            assert_eq!(&t[front..], joined);
        }
    }
}

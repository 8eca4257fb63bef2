//! [`Scratch`]: text made in the middle of a batch (an owned `String` element) kept until the
//! batch ends, so that pieces of it can be borrowed like the batch's own text.
//!
//! A `flat_map: { split }` over owned strings would otherwise allocate a `String` for every
//! piece. The element is instead copied into the operator's scratch (a bump arena, reset at the
//! start of every batch and reusing its memory), and the pieces are `&str` slices of the copy:
//! after the first batches, no allocation at all.

use bumpalo::Bump;

/// A bump arena of text that lives for one batch (see the module doc).
///
/// ```
/// use streamc_runtime::scratch::Scratch;
/// let mut scratch = Scratch::new();
/// for batch in [["a b", "c"], ["d", "e f"]] {
///     scratch.reset();
///     let words: Vec<&str> = batch.iter().flat_map(|l| scratch.keep(&l.to_string()).split(' ')).collect();
///     assert_eq!(words.len(), 3);
/// }
/// ```
#[derive(Debug, Default)]
pub struct Scratch {
    arena: Bump,
}

impl Scratch {
    /// An empty scratch.
    pub fn new() -> Scratch {
        Scratch { arena: Bump::new() }
    }

    /// Forgets the last batch's text, keeping the memory for the next batch.
    pub fn reset(&mut self) {
        self.arena.reset();
    }

    /// A copy of `s` that lives until the next [`reset`](Scratch::reset).
    #[inline]
    pub fn keep(&self, s: &str) -> &str {
        self.arena.alloc_str(s)
    }
}

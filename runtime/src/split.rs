//! Java's `String.split` for a literal delimiter, as Spark DStream programs call it
//! (`line.split(" ")`), as an allocation-free iterator.
//!
//! Java's rules (limit 0): pieces between delimiters are yielded left to right, interior and
//! leading empty strings are kept, trailing empty strings are dropped, and an input in which the
//! delimiter does not occur is the one piece (so `""` gives `[""]` while `" "` gives `[]`).
//! Matches do not overlap and are found left to right, which matters for multi-byte delimiters:
//! `"baaa"` split on `"aa"` is `["b", "a"]`.
//!
//! Java treats the delimiter as a regular expression; streamc only passes literals (the compiler
//! rejects patterns with regex metacharacters), so this module implements the literal case.

use memchr::memmem;

/// Splits `s` on the literal `delim` with Java's `String.split` semantics (see the module doc).
///
/// An empty `delim` splits into single characters, as Java 8+ does (`"abc".split("")` is
/// `[a, b, c]`, and `"".split("")` is `[""]`); the compiler rejects an empty delimiter, so this
/// only has to be sane.
///
/// ```
/// use streamc_runtime::split::java_split;
/// let v: Vec<&str> = java_split("a  b ", " ").collect();
/// assert_eq!(v, ["a", "", "b"]);
/// ```
#[inline]
pub fn java_split<'a>(s: &'a str, delim: &'a str) -> JavaSplit<'a> {
    JavaSplit { rest: s, delim, state: State::Start, pending_empty: 0, queued: None }
}

/// The iterator returned by [`java_split`].
#[derive(Clone, Debug)]
pub struct JavaSplit<'a> {
    /// The input not yet split.
    rest: &'a str,
    delim: &'a str,
    state: State,
    /// Empty pieces already known to be followed by a non-empty piece, still to be yielded.
    pending_empty: usize,
    /// The non-empty piece found while looking past a run of empty pieces.
    queued: Option<&'a str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Nothing yielded yet; Java's "no match, whole input" rule is decided here.
    Start,
    /// At least one delimiter was found; `rest` follows the last one consumed.
    Running,
    /// Every piece has been found (some may still be pending or queued).
    Done,
}

impl<'a> JavaSplit<'a> {
    #[inline(always)]
    fn find_delim(&self, hay: &str) -> Option<usize> {
        // A single byte is the common case (`" "`, `","`); memchr is the fastest search there is.
        match self.delim.as_bytes() {
            [b] => memchr::memchr(*b, hay.as_bytes()),
            d => memmem::find(hay.as_bytes(), d),
        }
    }

    /// Takes the next piece at a match found at `i` in `rest`, or the remainder as the last piece.
    #[inline(always)]
    fn take_piece(&mut self, at: Option<usize>) -> &'a str {
        match at {
            Some(i) => {
                let piece = &self.rest[..i];
                self.rest = &self.rest[i + self.delim.len()..];
                piece
            }
            None => {
                self.state = State::Done;
                std::mem::take(&mut self.rest)
            }
        }
    }

    #[cold]
    fn next_char(&mut self) -> Option<&'a str> {
        if self.state == State::Start {
            self.state = State::Running;
            if self.rest.is_empty() {
                self.state = State::Done;
                return Some("");
            }
        }
        let c = self.rest.chars().next()?;
        let (piece, rest) = self.rest.split_at(c.len_utf8());
        self.rest = rest;
        Some(piece)
    }
}

impl<'a> Iterator for JavaSplit<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        if self.pending_empty > 0 {
            self.pending_empty -= 1;
            return Some("");
        }
        if let Some(q) = self.queued.take() {
            return Some(q);
        }
        if self.delim.is_empty() {
            return self.next_char();
        }
        let at = match self.state {
            State::Done => return None,
            State::Start => {
                let at = self.find_delim(self.rest);
                if at.is_none() {
                    // Java: no match at all means the whole input, even when it is empty.
                    self.state = State::Done;
                    return Some(std::mem::take(&mut self.rest));
                }
                self.state = State::Running;
                at
            }
            State::Running => self.find_delim(self.rest),
        };
        let piece = self.take_piece(at);
        if !piece.is_empty() {
            return Some(piece);
        }
        // An empty piece is kept only if a non-empty piece follows it: look past the run of
        // empty pieces. Each byte is still searched once, so this costs nothing extra.
        let mut empties = 1usize;
        loop {
            if self.state == State::Done {
                return None; // only trailing empty strings were left
            }
            let at = self.find_delim(self.rest);
            let piece = self.take_piece(at);
            if piece.is_empty() {
                empties += 1;
            } else {
                self.queued = Some(piece);
                self.pending_empty = empties - 1;
                return Some("");
            }
        }
    }
}

impl std::iter::FusedIterator for JavaSplit<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str, d: &str) -> Vec<String> {
        java_split(s, d).map(str::to_owned).collect()
    }

    /// The reference: `str::split` then Java's two special rules, written as plainly as possible.
    fn reference(s: &str, d: &str) -> Vec<String> {
        if !s.contains(d) {
            return vec![s.to_owned()];
        }
        let mut v: Vec<String> = s.split(d).map(str::to_owned).collect();
        while v.last().is_some_and(String::is_empty) {
            v.pop();
        }
        v
    }

    #[test]
    fn spark_verified_lines() {
        // Spark's own output for these lines split on " " (../shared/spark-oracle split-edge).
        assert_eq!(split("a  b", " "), ["a", "", "b"]);
        assert_eq!(split(" a", " "), ["", "a"]);
        assert_eq!(split("b ", " "), ["b"]);
        assert_eq!(split("", " "), [""]);
        assert_eq!(split("a b", " "), ["a", "b"]);
    }

    #[test]
    fn edge_cases() {
        let none: [&str; 0] = [];
        assert_eq!(split(" ", " "), none);
        assert_eq!(split("   ", " "), none);
        assert_eq!(split("abc", " "), ["abc"]);
        assert_eq!(split("  a", " "), ["", "", "a"]);
        assert_eq!(split("a   ", " "), ["a"]);
        assert_eq!(split(" a  b  ", " "), ["", "a", "", "b"]);
        assert_eq!(split("a,b,,c,,", ","), ["a", "b", "", "c"]);
        // Multi-byte delimiters: non-overlapping, left to right.
        assert_eq!(split("baaa", "aa"), ["b", "a"]);
        assert_eq!(split("aaaa", "aa"), none);
        assert_eq!(split("aaa", "aa"), ["", "a"]);
        assert_eq!(split("x::y::", "::"), ["x", "y"]);
        assert_eq!(split("é→ü→", "→"), ["é", "ü"]);
    }

    #[test]
    fn empty_delimiter_splits_chars() {
        assert_eq!(split("abc", ""), ["a", "b", "c"]);
        assert_eq!(split("é!", ""), ["é", "!"]);
        assert_eq!(split("", ""), [""]);
    }

    #[test]
    fn fused_after_end() {
        let mut it = java_split("a b", " ");
        assert_eq!(it.next(), Some("a"));
        assert_eq!(it.next(), Some("b"));
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);
    }

    #[test]
    fn matches_reference_on_all_small_inputs() {
        // Every string of length <= 7 over a small alphabet, for one- and two-byte delimiters:
        // exhaustive where a random property test would only sample.
        let alphabet = ['a', ' ', ','];
        for delim in [" ", ",", "  ", " ,", "a a"] {
            let mut inputs = vec![String::new()];
            for _ in 0..7 {
                let mut next = Vec::new();
                for s in &inputs {
                    for c in alphabet {
                        let mut t = s.clone();
                        t.push(c);
                        next.push(t);
                    }
                }
                for s in &next {
                    assert_eq!(split(s, delim), reference(s, delim), "input {s:?} delim {delim:?}");
                }
                inputs = next;
            }
            assert_eq!(split("", delim), reference("", delim));
        }
    }
}

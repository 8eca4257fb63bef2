//! A JSON reader that learns the layout of the lines it reads ([`JsonShape`]).

use super::{JsonError, Parser, Value, plain_run, scan_noting};

/// [`scan_fields`] that learns the layout of the lines it reads: the bytes around the values
/// (braces, keys, colons, commas, whitespace) of the last line read the general way, and which
/// of its values are requested keys'. A line laid out the same way is read by comparing those
/// bytes in place and skipping each value; only then is `field` called, for each requested key
/// the line has, in the line's order, with the value where it lies (the others' values are
/// skipped, as [`scan_fields`] skips them). Any other line (a key missing, added, repeated or
/// moved, other spacing, a malformed value) is read by [`scan_fields`], and its layout learned
/// unless it has a requested key twice or more than `SHAPE_VALUES` (32) values. What `field` is
/// called with, and what the scan returns, are [`scan_fields`]'s for every line: the fast path
/// takes only lines whose tokens are those of the learned line, and validates every value before
/// calling `field`.
///
/// Generated code keeps one per loop over a batch's lines (records of a file usually share
/// their layout). A layout is used only for the keys it was learned for: the same slice, which
/// the shape borrows for as long as it lives (so that its address names the same keys).
///
/// [`scan_fields`]: super::scan_fields
///
/// ```
/// use streamc_runtime::structured::json::JsonShape;
/// let mut shape = JsonShape::default();
/// let mut rows = Vec::new();
/// for line in [r#"{"ts": 1, "w": "a"}"#, r#"{"ts": 2, "w": "b"}"#, r#"{"w": "c", "ts": 3}"#] {
///     let (mut ts, mut w) = (None, None);
///     shape
///         .scan_fields(line, &["ts", "w"], |k, v| {
///             let j = v.json()?;
///             match k {
///                 0 => ts = j.as_i64(),
///                 _ => w = j.as_str().map(str::to_owned),
///             }
///             Ok(())
///         })
///         .unwrap();
///     rows.push((ts, w));
/// }
/// assert_eq!(rows[1], (Some(2), Some("b".to_owned())));
/// assert_eq!(rows[2], (Some(3), Some("c".to_owned())));
/// ```
#[derive(Debug, Clone, Default)]
pub struct JsonShape<'k> {
    /// The learned line's bytes around its values, one gap after another: before the first value
    /// (`{"ts": `), between each value and the next (`, "w": `), after the last (`}`).
    gaps: Vec<u8>,
    /// Where each gap ends in `gaps`: one more than the values; empty before a layout is learned.
    ends: Vec<usize>,
    /// Per value of the learned line, the index of its key among the requested keys, or
    /// [`UNREAD`].
    slots: Vec<usize>,
    /// Whether the learned line had exactly the requested keys, in order (`slots` is `0..n`):
    /// the common layout, read by a loop the compiler unrolls over the keys.
    dense: bool,
    /// Where each value starts in the line being read (the fast path's first pass).
    starts: [usize; SHAPE_VALUES],
    /// Where each value's closing quote is when it is a string without escapes (0 otherwise).
    quotes: [usize; SHAPE_VALUES],
    /// Each value's span in a line read the general way, to learn its layout from.
    spans: Vec<(usize, usize, usize)>,
    /// The keys the layout was learned for: borrowed for as long as the layout is kept, so that
    /// the same slice (address and length) is the same keys.
    keys: &'k [&'k str],
}

impl<'k> JsonShape<'k> {
    /// [`super::scan_fields`] of `line`, the same result; see the type's docs.
    #[inline]
    pub fn scan_fields<'a, F>(&mut self, line: &'a str, keys: &'k [&'k str], mut field: F) -> Result<(), JsonError>
    where
        F: FnMut(usize, &mut Value<'a, '_>) -> Result<(), JsonError>,
    {
        if std::ptr::eq(self.keys, keys) && !self.ends.is_empty() && self.locate(line) {
            let mut p = Parser { s: line, b: line.as_bytes(), i: 0 };
            if self.dense {
                for k in 0..keys.len() {
                    p.i = self.starts[k];
                    field(k, &mut Value { p: &mut p, read: false, quote: self.quotes[k] })?;
                }
                return Ok(());
            }
            return self.read_slots(line, field);
        }
        self.scan_and_learn(line, keys, field)
    }

    /// The fast path for a layout that is not `0..n` (other keys, another order, a requested key
    /// missing): `field` for each requested key's value in the line's order; out of line, so that
    /// the common layout's loop stays small.
    #[inline(never)]
    fn read_slots<'a, F>(&self, line: &'a str, mut field: F) -> Result<(), JsonError>
    where
        F: FnMut(usize, &mut Value<'a, '_>) -> Result<(), JsonError>,
    {
        let mut p = Parser { s: line, b: line.as_bytes(), i: 0 };
        for (v, &k) in self.slots.iter().enumerate() {
            if k != UNREAD {
                p.i = self.starts[v];
                field(k, &mut Value { p: &mut p, read: false, quote: self.quotes[v] })?;
            }
        }
        Ok(())
    }

    /// Whether `line` has the learned layout and every value in it is well formed; sets
    /// `starts`.
    #[inline(always)]
    fn locate(&mut self, line: &str) -> bool {
        let b = line.as_bytes();
        let mut i = 0;
        let mut from = 0;
        let values = self.ends.len() - 1;
        for (g, &end) in self.ends.iter().enumerate() {
            let gap = &self.gaps[from..end];
            from = end;
            if !b.get(i..i + gap.len()).is_some_and(|here| same_bytes(here, gap)) {
                return false;
            }
            i += gap.len();
            if g == values {
                break;
            }
            self.starts[g] = i;
            self.quotes[g] = 0;
            // A string without escapes is the common value: its end found in place.
            if b.get(i) == Some(&b'"') {
                let end = plain_run(b, i + 1);
                if b.get(end) == Some(&b'"') {
                    self.quotes[g] = end;
                    i = end + 1;
                    continue;
                }
            }
            let mut p = Parser { s: line, b, i };
            if p.skip_value(0).is_err() {
                return false;
            }
            i = p.i;
        }
        i == b.len()
    }

    /// [`super::scan_fields`], noting where each value is; then the layout learned if the line
    /// had no requested key twice and at most [`SHAPE_VALUES`] values.
    #[inline(never)]
    fn scan_and_learn<'a, F>(&mut self, line: &'a str, keys: &'k [&'k str], field: F) -> Result<(), JsonError>
    where
        F: FnMut(usize, &mut Value<'a, '_>) -> Result<(), JsonError>,
    {
        let spans = &mut self.spans;
        spans.clear();
        scan_noting(line, keys, field, |k, start, end| spans.push((k.unwrap_or(UNREAD), start, end)))?;
        // Each requested key at most once (a repeated one is read twice by `scan_fields`).
        let mut seen = 0u64;
        let once = keys.len() <= 64
            && self.spans.iter().all(|&(k, _, _)| {
                let bit = if k == UNREAD { 0 } else { 1u64 << k };
                let fresh = seen & bit == 0;
                seen |= bit;
                fresh
            });
        if once && self.spans.len() <= SHAPE_VALUES {
            self.gaps.clear();
            self.ends.clear();
            self.slots.clear();
            let mut at = 0;
            for &(k, start, end) in &self.spans {
                self.gaps.extend_from_slice(&line.as_bytes()[at..start]);
                self.ends.push(self.gaps.len());
                self.slots.push(k);
                at = end;
            }
            self.gaps.extend_from_slice(&line.as_bytes()[at..]);
            self.ends.push(self.gaps.len());
            self.dense = self.slots.len() == keys.len() && self.slots.iter().enumerate().all(|(v, &k)| v == k);
            self.keys = keys;
        }
        Ok(())
    }
}

/// The most values a line whose layout a [`JsonShape`] learns may have (lines of more fields are
/// read the general way).
pub const SHAPE_VALUES: usize = 32;

/// A value of the learned line that no requested key names (skipped).
const UNREAD: usize = usize::MAX;

/// `a == b` for slices of the same length, the length usually short: in overlapping words.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    debug_assert_eq!(n, b.len());
    let w8 = |x: &[u8], i: usize| u64::from_le_bytes(x[i..i + 8].try_into().expect("8 bytes"));
    let w4 = |x: &[u8], i: usize| u32::from_le_bytes(x[i..i + 4].try_into().expect("4 bytes"));
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            if w8(a, i) != w8(b, i) {
                return false;
            }
            i += 8;
        }
        w8(a, n - 8) == w8(b, n - 8)
    } else if n >= 4 {
        w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4)
    } else {
        a.iter().zip(b).all(|(x, y)| x == y)
    }
}

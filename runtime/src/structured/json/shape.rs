//! A JSON reader that learns the layout of the lines it reads ([`JsonShape`]).

use super::{JsonError, Parser, Value, plain_run, scan_noting};

/// [`scan_fields`] that learns the layout of the lines it reads: the bytes around the values
/// (braces, keys, colons, commas, whitespace) of the last line that had exactly the requested
/// keys, in order, and nothing else. A line laid out the same way is read by comparing those
/// bytes in place and skipping each value; only then is `field` called, for every key in order,
/// with the value where it lies. Any other line (a key missing, added, repeated or moved, other
/// spacing, a malformed value) is read by [`scan_fields`], and its layout learned when it has
/// the requested keys in order. What `field` is called with, and what the scan returns, are
/// [`scan_fields`]'s for every line: the fast path takes only lines whose tokens are those of
/// the learned line, and validates every value before calling `field`.
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
    /// Where each gap ends in `gaps`: one more than the keys; empty before a layout is learned.
    ends: Vec<usize>,
    /// Where each value starts in the line being read (the fast path's first pass).
    starts: [usize; SHAPE_KEYS],
    /// Where each value's closing quote is when it is a string without escapes (0 otherwise).
    quotes: [usize; SHAPE_KEYS],
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
        if std::ptr::eq(self.keys, keys) && self.ends.len() == keys.len() + 1 && self.locate(line) {
            let mut p = Parser { s: line, b: line.as_bytes(), i: 0 };
            for k in 0..keys.len() {
                p.i = self.starts[k];
                field(k, &mut Value { p: &mut p, read: false, quote: self.quotes[k] })?;
            }
            return Ok(());
        }
        self.scan_and_learn(line, keys, field)
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
    /// had the requested keys, each once, in order, and no other.
    #[inline(never)]
    fn scan_and_learn<'a, F>(&mut self, line: &'a str, keys: &'k [&'k str], field: F) -> Result<(), JsonError>
    where
        F: FnMut(usize, &mut Value<'a, '_>) -> Result<(), JsonError>,
    {
        let spans = &mut self.spans;
        spans.clear();
        scan_noting(line, keys, field, |k, start, end| spans.push((k.unwrap_or(usize::MAX), start, end)))?;
        let learn = keys.len() <= SHAPE_KEYS && self.spans.len() == keys.len();
        if learn && self.spans.iter().enumerate().all(|(i, s)| s.0 == i) {
            self.gaps.clear();
            self.ends.clear();
            let mut at = 0;
            for &(_, start, end) in &self.spans {
                self.gaps.extend_from_slice(&line.as_bytes()[at..start]);
                self.ends.push(self.gaps.len());
                at = end;
            }
            self.gaps.extend_from_slice(&line.as_bytes()[at..]);
            self.ends.push(self.gaps.len());
            self.keys = keys;
        }
        Ok(())
    }
}

/// The most keys a [`JsonShape`] learns a layout of (a query reading more fields of a source
/// reads every line the general way).
const SHAPE_KEYS: usize = 16;

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

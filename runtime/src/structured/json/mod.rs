//! A one-pass reader of the few fields a Structured Streaming query needs from a JSON line
//! (Spark's `spark.readStream.schema(...).json(dir)`): no tree is built, unwanted values are only
//! validated and skipped, and strings without escapes are borrowed from the line.

mod nested;
mod shape;
pub use nested::{compact, parse_value, scan_array};
pub use shape::JsonShape;
use std::borrow::Cow;

/// The value of one requested field of a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    /// The object has no field of that name (Spark reads it as `null` too; the difference is
    /// kept so that generated code can tell them apart).
    Missing,
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number without a fraction or an exponent that fits an `i64`.
    Int(i64),
    /// Any other number (a fraction, an exponent, or an integer too large for an `i64`), with
    /// its text when it was read from JSON text (a decimal column reads its digits exactly).
    Float(f64, Option<&'a str>),
    /// A string: borrowed from the line when it has no escapes, decoded otherwise.
    Str(Cow<'a, str>),
    /// A nested object or array: its text, validated but not decoded (generated code reads it
    /// with [`scan_fields`], [`scan_object`] or [`scan_array`] when the column is nested).
    Raw(&'a str),
}

impl<'a> Json<'a> {
    /// The string, if the value is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if the value is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The number as an `f64`, if the value is a number (integers convert).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Int(i) => Some(*i as f64),
            Json::Float(f, _) => Some(*f),
            _ => None,
        }
    }

    /// Whether the value is absent or `null` (both read as SQL `NULL`).
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Missing | Json::Null)
    }
}

/// A line that is not one well-formed JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed JSON at byte {offset}: {message}")]
pub struct JsonError {
    /// The byte offset in the line where the problem was found.
    pub offset: usize,
    /// What was expected there.
    pub message: &'static str,
}

/// How deep objects and arrays may nest inside the line's object; deeper input is an error
/// rather than a stack overflow.
pub const MAX_DEPTH: usize = 128;

/// Parses one JSON object (one line of a JSON-lines file) and sets `out[i]` to the value of the
/// field `names[i]`, or [`Json::Missing`] when the object has no such field. When a field
/// appears twice the last value wins. Surrounding whitespace is allowed; anything else after
/// the object is an error.
///
/// `out` must be at least as long as `names`; extra slots are left untouched.
///
/// ```
/// use streamc_runtime::structured::json::{Json, parse_fields};
/// let mut out = [Json::Missing, Json::Missing, Json::Missing];
/// parse_fields(r#"{"word": "cat", "n": [1, 2], "ts": 3}"#, &["ts", "word", "gone"], &mut out).unwrap();
/// assert_eq!(out[0], Json::Int(3));
/// assert_eq!(out[1].as_str(), Some("cat"));
/// assert_eq!(out[2], Json::Missing);
/// ```
pub fn parse_fields<'a>(line: &'a str, names: &[&str], out: &mut [Json<'a>]) -> Result<(), JsonError> {
    assert!(out.len() >= names.len(), "`out` has {} slots for {} names", out.len(), names.len());
    for slot in out.iter_mut().take(names.len()) {
        *slot = Json::Missing;
    }
    object(line, |p| {
        let key = p.string()?;
        p.colon()?;
        match names.iter().position(|n| *n == key) {
            Some(k) => out[k] = p.value()?,
            None => p.skip_value(0)?,
        }
        Ok(())
    })
}

/// Scans one JSON object (one line of a JSON-lines file) field by field: `field` gets each key
/// (decoded, borrowed from the line when it has no escapes) and the [`Value`] after it, which it
/// reads ([`Value::json`]) or leaves; a value it leaves is validated and skipped without being
/// decoded. The grammar, the errors and what a field's value reads as are those of
/// [`parse_fields`], which is this with a lookup of the requested names; generated code calls
/// this with a `match` on the key over exactly the fields its query reads (Spark's column
/// pruning: a malformed value of a field the query does not read does not make the record
/// malformed). An error returned by `field` ends the scan with it.
///
/// ```
/// use streamc_runtime::structured::json::{Json, scan_object};
/// let (mut word, mut n) = (None, None);
/// scan_object(r#"{"word": "cat", "skip": {"a": [1, 2]}, "n": 3}"#, |key, value| {
///     match key {
///         "word" => word = value.json()?.as_str().map(str::to_owned),
///         "n" => n = value.json()?.as_i64(),
///         _ => {}
///     }
///     Ok(())
/// })
/// .unwrap();
/// assert_eq!((word.as_deref(), n), (Some("cat"), Some(3)));
/// ```
#[inline]
pub fn scan_object<'a, F>(line: &'a str, mut field: F) -> Result<(), JsonError>
where
    F: FnMut(&str, &mut Value<'a, '_>) -> Result<(), JsonError>,
{
    object(line, |p| {
        let key = p.string()?;
        p.colon()?;
        let mut v = Value::at(p);
        field(&key, &mut v)?;
        if !v.read {
            p.skip_value(0)?;
        }
        Ok(())
    })
}

/// [`scan_object`] over a fixed set of keys: `field` gets the index in `keys` of each key that is
/// one of them (the value to read or leave) and is not called for other keys, whose values are
/// validated and skipped. Records of a file usually list their keys in the same order, so the
/// key after the one matched last is tried first by comparing the line's bytes with it (no
/// decoding); a key that differs, or is written with escapes, is decoded and looked up. What is
/// read is exactly [`scan_object`]'s with a `match` on the key.
///
/// ```
/// use streamc_runtime::structured::json::scan_fields;
/// let (mut ts, mut word) = (None, None);
/// scan_fields(r#"{"ts": 3, "skip": [1], "w\u006frd": "cat"}"#, &["ts", "word"], |k, value| {
///     let v = value.json()?;
///     match k {
///         0 => ts = v.as_i64(),
///         _ => word = v.as_str().map(str::to_owned),
///     }
///     Ok(())
/// })
/// .unwrap();
/// assert_eq!((ts, word.as_deref()), (Some(3), Some("cat")));
/// ```
#[inline]
pub fn scan_fields<'a, F>(line: &'a str, keys: &[&str], field: F) -> Result<(), JsonError>
where
    F: FnMut(usize, &mut Value<'a, '_>) -> Result<(), JsonError>,
{
    scan_noting(line, keys, field, |_, _, _| {})
}

/// [`scan_fields`], telling `noted` each key's index in `keys` (`None`: not one of them) and
/// where its value starts and ends.
#[inline(always)]
fn scan_noting<'a, F>(
    line: &'a str,
    keys: &[&str],
    mut field: F,
    mut noted: impl FnMut(Option<usize>, usize, usize),
) -> Result<(), JsonError>
where
    F: FnMut(usize, &mut Value<'a, '_>) -> Result<(), JsonError>,
{
    let mut next = 0usize;
    object(line, |p| {
        let index = key_index(p, keys, next)?;
        p.colon()?;
        let start = p.i;
        match index {
            Some(k) => {
                next = k + 1;
                let mut v = Value::at(p);
                field(k, &mut v)?;
                if !v.read {
                    p.skip_value(0)?;
                }
            }
            None => p.skip_value(0)?,
        }
        noted(index, start, p.i);
        Ok(())
    })
}

/// The index in `keys` of the key at `p` (its opening quote), read up to its closing quote; the
/// key at `next` is tried first in place.
#[inline(always)]
fn key_index(p: &mut Parser<'_>, keys: &[&str], next: usize) -> Result<Option<usize>, JsonError> {
    let guess = keys.get(next).map(|k| k.as_bytes()).filter(|k| {
        let at = p.i + 1;
        p.b.get(at..at + k.len()).is_some_and(|b| super::str_key::short_eq(b, k))
            && p.b.get(at + k.len()) == Some(&b'"')
    });
    Ok(match guess {
        Some(k) => {
            p.i += k.len() + 2;
            Some(next)
        }
        None => {
            let key = p.string()?;
            keys.iter().position(|k| *k == key)
        }
    })
}

/// The error generated code returns from a field whose value does not convert to its column's
/// type (the record is then malformed).
pub fn mismatch() -> JsonError {
    JsonError { offset: 0, message: "a value does not match the schema's type" }
}

/// One JSON object as the whole line (surrounding whitespace allowed): `entry` is called at the
/// opening quote of each key and reads the key, the `:` ([`Parser::colon`]) and the value; the
/// braces, commas and what may follow the object are checked here.
#[inline]
fn object<'a>(line: &'a str, mut entry: impl FnMut(&mut Parser<'a>) -> Result<(), JsonError>) -> Result<(), JsonError> {
    let mut p = Parser { s: line, b: line.as_bytes(), i: 0 };
    p.ws();
    p.expect(b'{', "expected `{` at the start of a JSON object")?;
    p.ws();
    if p.peek() == Some(b'}') {
        p.i += 1;
    } else {
        loop {
            p.ws();
            if p.peek() != Some(b'"') {
                return Err(p.err("expected a string key"));
            }
            entry(&mut p)?;
            p.ws();
            match p.peek() {
                Some(b',') => p.i += 1,
                Some(b'}') => {
                    p.i += 1;
                    break;
                }
                _ => return Err(p.err("expected `,` or `}` after an object value")),
            }
        }
    }
    p.ws();
    if p.i < p.b.len() {
        return Err(p.err("unexpected characters after the JSON object"));
    }
    Ok(())
}

/// The value of a field in [`scan_object`]: read it with [`json`](Self::json), or leave it to
/// be skipped.
pub struct Value<'a, 'p> {
    p: &'p mut Parser<'a>,
    read: bool,
    /// Where the value's closing quote is, when it is known to be a string without escapes
    /// ([`JsonShape`] found it so); 0 when not known.
    quote: usize,
}

impl<'a, 'p> Value<'a, 'p> {
    /// The value at `p`'s position, not read yet.
    #[inline(always)]
    fn at(p: &'p mut Parser<'a>) -> Self {
        Value { p, read: false, quote: 0 }
    }

    /// Reads the value (once; a second call is `Missing`): as [`parse_fields`] reads a
    /// requested field.
    #[inline]
    pub fn json(&mut self) -> Result<Json<'a>, JsonError> {
        if let Some(s) = self.known_plain() {
            return Ok(Json::Str(Cow::Borrowed(s)));
        }
        if std::mem::replace(&mut self.read, true) {
            return Ok(Json::Missing);
        }
        self.p.value()
    }

    /// The string, when [`JsonShape`] found the value to be one without escapes (then read);
    /// `None` (nothing read) otherwise. Always inlined: it is the fast path's whole read.
    #[inline(always)]
    pub(crate) fn known_plain(&mut self) -> Option<&'a str> {
        if self.quote == 0 || self.read {
            return None;
        }
        let start = self.p.i + 1;
        self.read = true;
        self.p.i = self.quote + 1;
        Some(&self.p.s[start..self.quote])
    }

    /// A string value without escapes, taken where it lies; `None` (nothing read) for any
    /// other value.
    #[inline]
    pub(crate) fn plain_str(&mut self) -> Option<&'a str> {
        if self.read || self.p.peek() != Some(b'"') {
            return None;
        }
        let start = self.p.i + 1;
        let end = plain_run(self.p.b, start);
        if self.p.b.get(end) != Some(&b'"') {
            return None;
        }
        self.read = true;
        self.p.i = end + 1;
        Some(&self.p.s[start..end])
    }

    /// A string value (escapes decoded), or `None` (nothing read) for any other value.
    #[inline]
    pub(crate) fn str(&mut self) -> Option<Result<Cow<'a, str>, JsonError>> {
        if self.read || self.p.peek() != Some(b'"') {
            return None;
        }
        self.read = true;
        Some(self.p.string())
    }

    /// An integer of at most 18 digits read in one pass, or `None` (nothing read) for any other
    /// value (which [`json`](Self::json) then reads).
    #[inline]
    pub(crate) fn small_int(&mut self) -> Option<i64> {
        if self.read {
            return None;
        }
        let (b, start) = (self.p.b, self.p.i);
        let neg = b.get(start) == Some(&b'-');
        let first = start + usize::from(neg);
        let mut i = first;
        let mut n: i64 = 0;
        // 18 digits cannot overflow an i64; a longer number takes the general path.
        while let Some(&c @ b'0'..=b'9') = b.get(i) {
            if i - first == 18 {
                break;
            }
            n = n * 10 + i64::from(c - b'0');
            i += 1;
        }
        let digits = i - first;
        // A leading zero is allowed only alone; what follows must end the number.
        let ends = !matches!(b.get(i), Some(b'0'..=b'9' | b'.' | b'e' | b'E'));
        if digits > 0 && ends && (digits == 1 || b[first] != b'0') {
            self.read = true;
            self.p.i = i;
            return Some(if neg { -n } else { n });
        }
        None
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;

/// The high bit of each byte of `w` (8 bytes, little-endian) that is a quote, a backslash or a
/// control character: exact for the lowest (a byte above one may be marked too, by the borrow).
#[inline(always)]
fn specials(w: u64) -> u64 {
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // A zero byte of `w ^ c` is a byte equal to `c`; `w - 0x20…` borrows below 0x20.
    let quote = w ^ (ONES * u64::from(b'"'));
    let slash = w ^ (ONES * u64::from(b'\\'));
    ((quote.wrapping_sub(ONES) & !quote) | (slash.wrapping_sub(ONES) & !slash) | (w.wrapping_sub(ONES * 0x20) & !w))
        & HIGHS
}

/// The index of the first byte at or after `i` that ends a run of plain string bytes: a quote, a
/// backslash or a control character (or the end). Eight bytes at a time (SWAR).
#[inline]
fn plain_run(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        // `get(i..i + 8)` gave exactly 8 bytes.
        let special = specials(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        if special != 0 {
            return i + (special.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    // Fewer than 8 bytes left: the last 8 bytes of `b`, those before `i` made plain.
    let n = b.len();
    if i < n && n >= 8 {
        let start = n - 8;
        let before = (1u64 << (8 * (i - start))) - 1;
        let w = u64::from_le_bytes(b[start..].try_into().expect("8 bytes"));
        let special = specials((w & !before) | ((ONES * u64::from(b'A')) & before));
        return if special != 0 { start + (special.trailing_zeros() / 8) as usize } else { n };
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn err(&self, message: &'static str) -> JsonError {
        JsonError { offset: self.i, message }
    }

    /// An error about the byte just consumed by [`bump`](Self::bump).
    fn err_before(&self, message: &'static str) -> JsonError {
        JsonError { offset: self.i.saturating_sub(1), message }
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// The `:` after an object key, with the whitespace around it.
    #[inline]
    fn colon(&mut self) -> Result<(), JsonError> {
        self.ws();
        self.expect(b':', "expected `:` after an object key")?;
        self.ws();
        Ok(())
    }

    fn expect(&mut self, c: u8, message: &'static str) -> Result<(), JsonError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(message))
        }
    }

    /// A value the caller asked for.
    fn value(&mut self) -> Result<Json<'a>, JsonError> {
        match self.peek() {
            Some(b'"') => self.string().map(Json::Str),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true", Json::Bool(true)),
            Some(b'f') => self.literal(b"false", Json::Bool(false)),
            Some(b'n') => self.literal(b"null", Json::Null),
            Some(b'{' | b'[') => {
                let start = self.i;
                self.skip_value(0)?;
                Ok(Json::Raw(&self.s[start..self.i]))
            }
            _ => Err(self.err("expected a JSON value")),
        }
    }

    fn literal(&mut self, word: &'static [u8], v: Json<'a>) -> Result<Json<'a>, JsonError> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("expected `true`, `false` or `null`"))
        }
    }

    /// Validates and skips a value without decoding it.
    fn skip_value(&mut self, depth: usize) -> Result<(), JsonError> {
        match self.peek() {
            Some(b'"') => self.skip_string(),
            Some(b'{') => {
                if depth >= MAX_DEPTH {
                    return Err(self.err("objects and arrays nest too deeply"));
                }
                self.i += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return Err(self.err("expected a string key"));
                    }
                    self.skip_string()?;
                    self.ws();
                    self.expect(b':', "expected `:` after an object key")?;
                    self.ws();
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(self.err("expected `,` or `}` after an object value")),
                    }
                }
            }
            Some(b'[') => {
                if depth >= MAX_DEPTH {
                    return Err(self.err("objects and arrays nest too deeply"));
                }
                self.i += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(self.err("expected `,` or `]` after an array element")),
                    }
                }
            }
            _ => self.value().map(drop),
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, as an `Int` when it can be one.
    fn number(&mut self) -> Result<Json<'a>, JsonError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.err("expected a digit")),
        }
        let mut integral = true;
        if self.peek() == Some(b'.') {
            integral = false;
            self.i += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("expected a digit after `.`"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            integral = false;
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("expected a digit in the exponent"));
            }
            self.digits();
        }
        let text = &self.s[start..self.i];
        if integral && let Ok(n) = text.parse::<i64>() {
            return Ok(Json::Int(n));
        }
        // The grammar above is a subset of what `f64::from_str` accepts, so this cannot fail;
        // an error is still reported rather than a panic.
        text.parse::<f64>()
            .map(|f| Json::Float(f, Some(text)))
            .map_err(|_| JsonError { offset: start, message: "malformed number" })
    }

    #[inline]
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    /// A string starting at the opening quote: borrowed when it has no escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        self.i += 1; // the opening quote
        let start = self.i;
        self.i = plain_run(self.b, self.i);
        loop {
            match self.peek() {
                Some(b'"') => {
                    let s = &self.s[start..self.i];
                    self.i += 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b'\\') => break,
                Some(0x00..=0x1f) => return Err(self.err("control character in a string")),
                Some(_) => self.i += 1,
                None => return Err(self.err("unterminated string")),
            }
        }
        // Escapes: decode from here on into an owned string.
        let mut out = String::with_capacity(self.i - start + 16);
        out.push_str(&self.s[start..self.i]);
        let mut run = self.i;
        loop {
            match self.peek() {
                Some(b'"') => {
                    out.push_str(&self.s[run..self.i]);
                    self.i += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    out.push_str(&self.s[run..self.i]);
                    self.i += 1;
                    self.escape(&mut out)?;
                    run = self.i;
                }
                Some(0x00..=0x1f) => return Err(self.err("control character in a string")),
                Some(_) => self.i += 1,
                None => return Err(self.err("unterminated string")),
            }
        }
    }

    /// Decodes the escape after a backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let c = match self.bump() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => self.unicode()?,
            _ => return Err(self.err_before("unknown escape in a string")),
        };
        out.push(c);
        Ok(())
    }

    /// Decodes the four hex digits (and a low surrogate's `\\u` escape after a high one) of a `\\u` escape
    /// whose `\\u` was just consumed.
    fn unicode(&mut self) -> Result<char, JsonError> {
        let at = self.i - 2;
        let unpaired = JsonError { offset: at, message: "unpaired surrogate in a `\\u` escape" };
        let hi = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if !self.b[self.i..].starts_with(b"\\u") {
                return Err(unpaired);
            }
            self.i += 2;
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(unpaired);
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else {
            hi
        };
        char::from_u32(code).ok_or(unpaired)
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err("expected four hex digits after `\\u`")),
            };
            v = v * 16 + u32::from(d);
            self.i += 1;
        }
        Ok(v)
    }

    /// Validates and skips a string (escapes checked, nothing decoded).
    fn skip_string(&mut self) -> Result<(), JsonError> {
        self.i += 1;
        loop {
            self.i = plain_run(self.b, self.i);
            match self.bump() {
                Some(b'"') => return Ok(()),
                Some(b'\\') => match self.bump() {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {}
                    Some(b'u') => {
                        self.unicode()?;
                    }
                    _ => return Err(self.err_before("unknown escape in a string")),
                },
                Some(0x00..=0x1f) => return Err(self.err_before("control character in a string")),
                Some(_) => {}
                None => return Err(self.err("unterminated string")),
            }
        }
    }
}
#[cfg(test)]
mod tests;

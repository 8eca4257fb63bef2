//! Typed column values from parsed records, as generated Structured Streaming code reads them:
//! `Ok(Some(v))` a value, `Ok(None)` SQL NULL (absent or `null`), `Err(())` a value of the wrong
//! type (the source's malformed-record mode decides: null, drop, or fail).

// `Err(())` carries no detail on purpose: the generated code only branches on it.
#![allow(clippy::result_unit_err)]

use std::borrow::Cow;

use super::json::{Json, JsonError, Value};
use super::time::{Date, Timestamp, parse_date, parse_timestamp};

/// A `string` column: JSON strings as they are; numbers and booleans as their text (Spark reads
/// `1` into a string column as "1").
pub fn string(v: Json<'_>) -> Result<Option<Cow<'_, str>>, ()> {
    match v {
        Json::Missing | Json::Null => Ok(None),
        Json::Str(s) => Ok(Some(s)),
        Json::Int(i) => Ok(Some(Cow::Owned(i.to_string()))),
        Json::Float(f, _) => Ok(Some(Cow::Owned(f.to_string()))),
        Json::Bool(b) => Ok(Some(Cow::Borrowed(if b { "true" } else { "false" }))),
        // Spark keeps a nested object or array read into a string column as its JSON text.
        Json::Raw(r) => Ok(Some(super::json::compact(r))),
    }
}

/// A `bigint` column: JSON integers only (Spark's JSON reader refuses `1.5`, `1e3` and
/// `"7"` for an integral column: a value of the wrong type). A CSV field is converted by
/// [`csv_number`] first.
pub fn long(v: Json<'_>) -> Result<Option<i64>, ()> {
    match v {
        Json::Missing | Json::Null => Ok(None),
        Json::Int(i) => Ok(Some(i)),
        _ => Err(()),
    }
}

/// A narrower integer column: as [`long`], in range (out of range is a value of the wrong type).
fn narrow<T: TryFrom<i64>>(v: Json<'_>) -> Result<Option<T>, ()> {
    long(v).and_then(|x| x.map(T::try_from).transpose().map_err(|_| ()))
}

/// An `int` column (see `narrow`).
pub fn int(v: Json<'_>) -> Result<Option<i32>, ()> {
    narrow(v)
}

/// A `smallint` column.
pub fn short(v: Json<'_>) -> Result<Option<i16>, ()> {
    narrow(v)
}

/// A `tinyint` column.
pub fn byte(v: Json<'_>) -> Result<Option<i8>, ()> {
    narrow(v)
}

/// The non-finite values Spark's JSON reader takes as text for a `float` or `double` column.
fn special_float(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" | "+Infinity" | "+INF" => Some(f64::INFINITY),
        "-Infinity" | "-INF" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// A `double` column: JSON numbers, and the texts `NaN`, `Infinity`, `-Infinity`, `+INF`,
/// `-INF` (Spark's reader takes no other string: `"1.5"` is a value of the wrong type).
pub fn double(v: Json<'_>) -> Result<Option<f64>, ()> {
    match v {
        Json::Missing | Json::Null => Ok(None),
        Json::Int(i) => Ok(Some(i as f64)),
        Json::Float(f, _) => Ok(Some(f)),
        Json::Str(s) => special_float(&s).map(Some).ok_or(()),
        _ => Err(()),
    }
}

/// A `float` column: a JSON number rounded to the nearest float (`1e40` is infinite).
pub fn float(v: Json<'_>) -> Result<Option<f32>, ()> {
    double(v).map(|x| x.map(|x| x as f32))
}

/// A CSV field as the JSON value a number column reads: an integer or a number (surrounding
/// whitespace trimmed; Java's `NaN`/`Infinity` forms too), other text as it is (which a number
/// column refuses).
pub fn csv_number(v: Json<'_>) -> Json<'_> {
    let Json::Str(s) = &v else { return v };
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Json::Int(i);
    }
    let t = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    match t.parse::<f64>() {
        Ok(x) if !t.bytes().any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E')) => Json::Float(x, None),
        _ => match special_float(t) {
            Some(x) => Json::Float(x, None),
            None => v,
        },
    }
}

/// A `boolean` column.
pub fn boolean(v: Json<'_>) -> Result<Option<bool>, ()> {
    match v {
        Json::Missing | Json::Null => Ok(None),
        Json::Bool(b) => Ok(Some(b)),
        Json::Str(s) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Json::Str(s) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        _ => Err(()),
    }
}

/// A `timestamp` column: ISO-8601 / Spark timestamp text, or epoch milliseconds.
pub fn timestamp(v: Json<'_>) -> Result<Option<Timestamp>, ()> {
    match v {
        Json::Missing | Json::Null => Ok(None),
        Json::Str(s) => parse_timestamp(&s).map(Some).ok_or(()),
        Json::Int(ms) => Ok(Some(Timestamp::from_millis(ms))),
        _ => Err(()),
    }
}

/// The CSV reader's options that split a line (Spark's `sep`, `quote`, `escape`, `nullValue`).
#[derive(Debug, Clone, Copy)]
pub struct CsvFormat<'f> {
    pub sep: char,
    pub quote: char,
    pub escape: char,
    pub null_value: &'f str,
}

/// Spark's defaults: `,`, `"`, `\`, and the empty text for NULL.
pub const CSV: CsvFormat<'static> = CsvFormat { sep: ',', quote: '"', escape: '\\', null_value: "" };

/// Splits a CSV line into fields as Spark's CSV reader (univocity) does with `format`: a value
/// that starts with the quote character is quoted, and inside it the escape character before a
/// quote (or, when the escape is the quote, a doubled quote) is a quote; a quoted value whose
/// closing quote is not followed by the separator is kept as written up to the next separator
/// (`"a""b"` stays `"a""b"` with the default escape, as in Spark). A value equal to `nullValue`
/// (unquoted) is NULL. Fields beyond `out` are an error, as is an unterminated quote; missing
/// trailing fields stay `Missing` (null).
///
/// ```
/// use streamc_runtime::structured::conv::{CSV, CsvFormat, parse_csv_with};
/// use streamc_runtime::structured::json::Json;
/// let mut out = [Json::Missing, Json::Missing, Json::Missing];
/// parse_csv_with(r#"1,"c\"d","a""b""#, &mut out, &CSV).unwrap();
/// assert_eq!((out[1].as_str(), out[2].as_str()), (Some("c\"d"), Some(r#""a""b""#)));
/// let semi = CsvFormat { sep: ';', escape: '"', null_value: "NA", ..CSV };
/// parse_csv_with(r#"NA;"a""b";x"#, &mut out, &semi).unwrap();
/// assert_eq!((&out[0], out[1].as_str()), (&Json::Null, Some(r#"a"b"#)));
/// ```
pub fn parse_csv_with<'a>(line: &'a str, out: &mut [Json<'a>], f: &CsvFormat<'_>) -> Result<(), ()> {
    let (mut i, mut k) = (0, 0);
    let at = |i: usize| line[i..].chars().next();
    loop {
        if k >= out.len() {
            return Err(());
        }
        let start = i;
        if at(i) == Some(f.quote) {
            let mut s = String::new();
            i += f.quote.len_utf8();
            let mut closed = false;
            while let Some(c) = at(i) {
                let next = line[i + c.len_utf8()..].chars().next();
                if c == f.escape && next == Some(f.quote) {
                    s.push(f.quote);
                    i += c.len_utf8() + f.quote.len_utf8();
                } else if c == f.quote {
                    i += c.len_utf8();
                    closed = true;
                    break;
                } else {
                    s.push(c);
                    i += c.len_utf8();
                }
            }
            if !closed {
                return Err(());
            }
            if at(i).is_none_or(|c| c == f.sep) {
                out[k] = if s == f.null_value { Json::Null } else { Json::Str(Cow::Owned(s)) };
            } else {
                // A quote inside an unescaped value: the value as written, to the separator.
                let end = line[i..].find(f.sep).map_or(line.len(), |p| i + p);
                out[k] = Json::Str(Cow::Borrowed(&line[start..end]));
                i = end;
            }
        } else {
            let end = line[i..].find(f.sep).map_or(line.len(), |p| i + p);
            let field = &line[i..end];
            out[k] =
                if field == f.null_value || field.is_empty() { Json::Null } else { Json::Str(Cow::Borrowed(field)) };
            i = end;
        }
        k += 1;
        match at(i) {
            None => return Ok(()),
            Some(c) if c == f.sep => i += c.len_utf8(),
            Some(_) => return Err(()),
        }
    }
}

/// A `timestamp` column read with Spark's `timestampFormat` (a Java datetime pattern).
pub fn timestamp_with(v: Json<'_>, pattern: &str) -> Result<Option<Timestamp>, ()> {
    match v {
        Json::Missing | Json::Null => Ok(None),
        Json::Str(s) => super::scalar::parse_with_pattern(&s, pattern).map(Some).ok_or(()),
        other => timestamp(other),
    }
}

/// A `date` column read with Spark's `dateFormat`.
pub fn date_with(v: Json<'_>, pattern: &str) -> Result<Option<Date>, ()> {
    match v {
        Json::Missing | Json::Null => Ok(None),
        Json::Str(s) => {
            super::scalar::parse_with_pattern(&s, pattern).map(|t| Some(super::scalar::date_of(t))).ok_or(())
        }
        other => date(other),
    }
}

/// Splits a CSV line into fields (comma-separated; a field in double quotes may contain commas
/// and doubled quotes): [`parse_csv_with`] with `"` as the escape. Fields beyond `out` are an
/// error, as are unterminated quotes; missing trailing fields stay `Missing` (null).
pub fn parse_csv<'a>(line: &'a str, out: &mut [Json<'a>]) -> Result<(), ()> {
    parse_csv_with(line, out, &CsvFormat { escape: '"', ..CSV })
}

/// A `date` column: `yyyy-MM-dd` text (a time after it is dropped), or days since the epoch.
pub fn date(v: Json<'_>) -> Result<Option<Date>, ()> {
    match v {
        Json::Missing | Json::Null => Ok(None),
        Json::Str(s) => parse_date(&s).map(Some).ok_or(()),
        Json::Int(i) => i32::try_from(i).map(|d| Some(Date(d))).map_err(|_| ()),
        _ => Err(()),
    }
}

/// The typed readers of a JSON field that generated code calls for the common column types:
/// the value read in place, without a [`Json`] in between, else as [`Value::json`] and the
/// column's conversion.
impl<'a> Value<'a, '_> {
    /// Reads the value as a `string` column ([`string`] of [`json`](Self::json)) into `out`, the
    /// column's variable: a string without escapes is written where it is kept, not moved there
    /// through a temporary (whose 16-byte reload from two 8-byte stores stalled the hot loop of a
    /// JSON source).
    #[inline(always)]
    pub fn string_into(&mut self, out: &mut Result<Option<Cow<'a, str>>, ()>) -> Result<(), JsonError> {
        match self.known_plain() {
            Some(s) => *out = Ok(Some(Cow::Borrowed(s))),
            None => *out = self.string_read()?,
        }
        Ok(())
    }

    #[inline]
    fn string_read(&mut self) -> Result<Result<Option<Cow<'a, str>>, ()>, JsonError> {
        match self.str() {
            Some(s) => s.map(|s| Ok(Some(s))),
            None => Ok(string(self.json()?)),
        }
    }

    /// Reads the value as a `timestamp` column (the default formats): [`timestamp`] of
    /// [`json`](Self::json).
    #[inline(always)]
    pub fn timestamp(&mut self) -> Result<Result<Option<Timestamp>, ()>, JsonError> {
        match self.known_plain() {
            Some(s) => Ok(parse_timestamp(s).map(Some).ok_or(())),
            None => self.timestamp_read(),
        }
    }

    #[inline]
    fn timestamp_read(&mut self) -> Result<Result<Option<Timestamp>, ()>, JsonError> {
        match self.plain_str() {
            Some(s) => Ok(parse_timestamp(s).map(Some).ok_or(())),
            None => Ok(timestamp(self.json()?)),
        }
    }

    /// Reads the value as a `bigint` column: [`long`] of [`json`](Self::json).
    #[inline]
    pub fn long(&mut self) -> Result<Result<Option<i64>, ()>, JsonError> {
        match self.small_int() {
            Some(n) => Ok(Ok(Some(n))),
            None => Ok(long(self.json()?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(long(Json::Int(3)), Ok(Some(3)));
        // Spark's JSON reader takes no text for a number column; a CSV field is converted first.
        assert_eq!(long(Json::Str("42".into())), Err(()));
        assert_eq!(long(csv_number(Json::Str(" 42".into()))), Ok(Some(42)));
        assert_eq!(long(csv_number(Json::Str("x".into()))), Err(()));
        assert_eq!(double(csv_number(Json::Str("1.5".into()))), Ok(Some(1.5)));
        assert_eq!(double(Json::Str("1.5".into())), Err(()));
        assert_eq!(double(Json::Str("-INF".into())), Ok(Some(f64::NEG_INFINITY)));
        assert_eq!(int(Json::Int(3_000_000_000)), Err(()));
        assert_eq!(long(Json::Null), Ok(None));
        assert_eq!(string(Json::Int(1)).unwrap().as_deref(), Some("1"));
        assert_eq!(timestamp(Json::Int(1000)), Ok(Some(Timestamp::from_millis(1000))));
        assert!(timestamp(Json::Str("nope".into())).is_err());
        assert_eq!(boolean(Json::Bool(true)), Ok(Some(true)));
    }

    #[test]
    fn csv_fields() {
        let mut out: [Json<'_>; 3] = std::array::from_fn(|_| Json::Missing);
        parse_csv(r#"a,"b,""c""",7"#, &mut out).unwrap();
        assert_eq!(out[0].as_str(), Some("a"));
        assert_eq!(out[1].as_str(), Some(r#"b,"c""#));
        assert_eq!(out[2].as_str(), Some("7"));
        let mut two: [Json<'_>; 2] = std::array::from_fn(|_| Json::Missing);
        assert!(parse_csv("a,b,c", &mut two).is_err());
        assert!(parse_csv("\"open", &mut two).is_err());
    }
}

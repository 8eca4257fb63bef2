//! Rows of a typed table and how Spark's console sink prints a batch of them
//! (`Dataset.showString`).

use std::fmt::Write as _;

use super::time::{Date, Timestamp};
use crate::fmt::{SparkFmt, ToJson, json_string};

/// A value as a cell of Spark's `show()` (its `ToPrettyString`): like [`SparkFmt`] for scalars
/// and strings, but SQL `NULL` (`None`) prints as `NULL`, a present `Option` as its value, and
/// an array as `[a, b]`.
///
/// This is its own trait rather than [`SparkFmt`] because `SparkFmt` is Scala's `toString`,
/// which prints `Some(x)` and `None`.
pub trait Cell {
    /// Appends the cell text of `self` to `out`.
    fn cell(&self, out: &mut String);
    /// The cell as a typed value, for columnar sinks (parquet); [`Value::Other`] for what has
    /// no SQL scalar type here.
    fn value(&self) -> Value<'_> {
        Value::Other
    }
}

/// A cell's typed value (see [`Cell::value`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    Null,
    Str(&'a str),
    Long(i64),
    Double(f64),
    Bool(bool),
    Timestamp(Timestamp),
    Date(Date),
    /// Spark's `binary`.
    Bytes(&'a [u8]),
    Other,
}

impl<T: Cell + ?Sized> Cell for &T {
    #[inline]
    fn cell(&self, out: &mut String) {
        (**self).cell(out)
    }
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}

impl<T: Cell + ?Sized> Cell for Box<T> {
    fn cell(&self, out: &mut String) {
        (**self).cell(out)
    }
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}

macro_rules! spark_fmt_cells {
    ($($t:ty)*) => {$(
        impl Cell for $t {
            #[inline]
            fn cell(&self, out: &mut String) {
                self.spark_fmt(out)
            }
        }
    )*};
}

spark_fmt_cells!(char i128 isize u8 u16 u32 u64 u128 usize);

impl Cell for Date {
    fn cell(&self, out: &mut String) {
        self.spark_fmt(out)
    }
    fn value(&self) -> Value<'_> {
        Value::Date(*self)
    }
}

macro_rules! valued_cells {
    ($($t:ty => |$x:ident| $v:expr;)*) => {$(
        impl Cell for $t {
            #[inline]
            fn cell(&self, out: &mut String) {
                self.spark_fmt(out)
            }
            fn value(&self) -> Value<'_> {
                let $x = self;
                $v
            }
        }
    )*};
}

valued_cells! {
    str => |x| Value::Str(x);
    String => |x| Value::Str(x);
    std::borrow::Cow<'_, str> => |x| Value::Str(x);
    bool => |x| Value::Bool(*x);
    i8 => |x| Value::Long(i64::from(*x));
    i16 => |x| Value::Long(i64::from(*x));
    i32 => |x| Value::Long(i64::from(*x));
    f32 => |x| Value::Double(f64::from(*x));
    i64 => |x| Value::Long(*x);
    f64 => |x| Value::Double(*x);
    Timestamp => |x| Value::Timestamp(*x);
}

impl<T: Cell> Cell for Option<T> {
    fn cell(&self, out: &mut String) {
        match self {
            Some(x) => x.cell(out),
            None => out.push_str("NULL"),
        }
    }
    fn value(&self) -> Value<'_> {
        match self {
            Some(x) => x.value(),
            None => Value::Null,
        }
    }
}

impl<T: Cell> Cell for [T] {
    fn cell(&self, out: &mut String) {
        out.push('[');
        for (i, x) in self.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            x.cell(out);
        }
        out.push(']');
    }
}

impl<T: Cell> Cell for Vec<T> {
    fn cell(&self, out: &mut String) {
        self.as_slice().cell(out)
    }
}

/// A row of a typed table: a fixed number of columns, printable as console cells and as a JSON
/// object. Implemented for tuples of 1 to 6 values that are [`Cell`] and [`ToJson`].
///
/// ```
/// use streamc_runtime::structured::row::Row;
/// let r = ("cat", Some(2i64), None::<f64>);
/// let mut cells = Vec::new();
/// r.cells(&mut cells);
/// assert_eq!(cells, ["cat", "2", "NULL"]);
/// let mut json = String::new();
/// r.json_object(&["word", "count", "avg"], &mut json);
/// assert_eq!(json, r#"{"word":"cat","count":2,"avg":null}"#);
/// ```
pub trait Row {
    /// The number of columns.
    const COLUMNS: usize;
    /// Appends the console text of every column to `out`, one string per column.
    fn cells(&self, out: &mut Vec<String>);
    /// Appends the row as a JSON object, `{"name":value,...}` with `names[i]` for column `i`; a
    /// `None` is `null` (Spark's JSON writer would leave the field out instead).
    ///
    /// # Panics
    /// If `names` has fewer than [`COLUMNS`](Self::COLUMNS) names.
    fn json_object(&self, names: &[&str], out: &mut String) {
        self.json_object_keyed(&JsonKeys::new(names), out)
    }
    /// [`json_object`](Self::json_object) with the names escaped once, for many rows.
    ///
    /// # Panics
    /// If `keys` has fewer than [`COLUMNS`](Self::COLUMNS) names.
    fn json_object_keyed(&self, keys: &JsonKeys, out: &mut String);
    /// The typed value of column `i` (see [`Cell::value`]); `Value::Other` past the last.
    fn value(&self, i: usize) -> Value<'_>;
    /// Appends column `i` as JSON (as [`json_object`](Self::json_object) writes it); nothing
    /// past the last.
    fn json_cell(&self, i: usize, out: &mut String);
}

/// The column names of rows written as JSON objects, each escaped once as the text before its
/// value: `{"a":` for the first, `,"b":` for the others ([`Row::json_object_keyed`]: a sink
/// writes many rows under the same names).
///
/// ```
/// use streamc_runtime::structured::row::{JsonKeys, Row};
/// let keys = JsonKeys::new(&["word", "say \"hi\""]);
/// let mut json = String::new();
/// ("cat", 2i64).json_object_keyed(&keys, &mut json);
/// assert_eq!(json, r#"{"word":"cat","say \"hi\"":2}"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsonKeys {
    keys: Vec<String>,
}

impl JsonKeys {
    /// The keys of `names`, in order.
    pub fn new(names: &[&str]) -> Self {
        let keys = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let mut key = String::from(if i == 0 { "{" } else { "," });
                json_string(name, &mut key);
                key.push(':');
                key
            })
            .collect();
        JsonKeys { keys }
    }

    /// The text before column `i`'s value.
    #[inline]
    pub fn key(&self, i: usize) -> &str {
        &self.keys[i]
    }

    /// Panics unless there is a key for each of `columns` columns.
    #[inline]
    pub fn check(&self, columns: usize) {
        assert!(
            self.keys.len() >= columns,
            "a row of {columns} columns needs {columns} names, found {}",
            self.keys.len()
        );
    }
}

macro_rules! rows {
    ($($n:literal => ($($i:tt $t:ident),+))*) => {$(
        impl<$($t: Cell + ToJson),+> Row for ($($t,)+) {
            const COLUMNS: usize = $n;
            fn cells(&self, out: &mut Vec<String>) {
                $(
                    let mut s = String::new();
                    self.$i.cell(&mut s);
                    out.push(s);
                )+
            }
            fn json_object_keyed(&self, keys: &JsonKeys, out: &mut String) {
                keys.check($n);
                $(
                    out.push_str(keys.key($i));
                    self.$i.to_json(out);
                )+
                out.push('}');
            }
            fn value(&self, i: usize) -> Value<'_> {
                match i {
                    $($i => self.$i.value(),)+
                    _ => Value::Other,
                }
            }
            fn json_cell(&self, i: usize, out: &mut String) {
                match i {
                    $($i => self.$i.to_json(out),)+
                    _ => {}
                }
            }
        }
    )*};
}

rows! {
    1 => (0 A)
    2 => (0 A, 1 B)
    3 => (0 A, 1 B, 2 C)
    4 => (0 A, 1 B, 2 C, 3 D)
    5 => (0 A, 1 B, 2 C, 3 D, 4 E)
    6 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 G)
}

/// Declares a row struct, one public field per column in order, and implements [`Row`] for it
/// (what streamc generates for every query's output; the field types must be [`Cell`] and
/// [`ToJson`]).
///
/// ```
/// use streamc_runtime::structured::row::Row;
/// streamc_runtime::row_struct! {
///     /// A row of a word count.
///     struct Counts { word: Option<String>, count: i64 }
/// }
/// let r = Counts { word: Some("cat".into()), count: 2 };
/// let mut json = String::new();
/// r.json_object(&["word", "count"], &mut json);
/// assert_eq!(json, r#"{"word":"cat","count":2}"#);
/// assert_eq!(Counts::COLUMNS, 2);
///
/// // A row may borrow its text from the batch.
/// streamc_runtime::row_struct! {
///     struct Words<'a> { word: Option<std::borrow::Cow<'a, str>> }
/// }
/// let line = String::from("cat");
/// let mut json = String::new();
/// Words { word: Some(line.as_str().into()) }.json_object(&["word"], &mut json);
/// assert_eq!(json, r#"{"word":"cat"}"#);
/// ```
#[macro_export]
macro_rules! row_struct {
    ($(#[$meta:meta])* struct $name:ident $(<$lt:lifetime>)? { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        #[allow(non_camel_case_types, non_snake_case, dead_code)]
        struct $name $(<$lt>)? {
            $(pub $field: $ty,)*
        }
        impl $(<$lt>)? $crate::structured::row::Row for $name $(<$lt>)? {
            const COLUMNS: usize = [$(stringify!($field)),*].len();
            fn cells(&self, out: &mut ::std::vec::Vec<::std::string::String>) {
                $(
                    let mut s = ::std::string::String::new();
                    $crate::structured::row::Cell::cell(&self.$field, &mut s);
                    out.push(s);
                )*
            }
            fn json_object_keyed(&self, keys: &$crate::structured::row::JsonKeys, out: &mut ::std::string::String) {
                keys.check(<Self as $crate::structured::row::Row>::COLUMNS);
                let mut k = 0usize;
                $(
                    out.push_str(keys.key(k));
                    $crate::fmt::ToJson::to_json(&self.$field, out);
                    k += 1;
                )*
                if k == 0 {
                    out.push('{');
                }
                out.push('}');
            }
            fn value(&self, i: usize) -> $crate::structured::row::Value<'_> {
                let mut k = 0usize;
                $(
                    if i == k {
                        return $crate::structured::row::Cell::value(&self.$field);
                    }
                    k += 1;
                )*
                let _ = k;
                $crate::structured::row::Value::Other
            }
            fn json_cell(&self, i: usize, out: &mut ::std::string::String) {
                let mut k = 0usize;
                $(
                    if i == k {
                        return $crate::fmt::ToJson::to_json(&self.$field, out);
                    }
                    k += 1;
                )*
                let _ = (k, i, out);
            }
        }
    };
}

/// The number of rows Spark's console sink shows by default (its `numRows` option).
pub const DEFAULT_NUM_ROWS: usize = 20;

/// The width at which `show(truncate = true)` cuts a cell (Spark's `truncate = 20`).
pub const TRUNCATE_WIDTH: usize = 20;

/// Appends what Spark's console sink prints for one batch: a banner with the batch id, then the
/// batch as `Dataset.show(num_rows, truncate)` prints it, then the empty line of `println`.
///
/// The table follows `Dataset.showString` exactly:
/// - the header is the column names, the body the first `num_rows` rows; each column is as wide
///   as its widest cell or name, and at least 3;
/// - with `truncate` (the console sink's default), a cell longer than 20 characters is cut to
///   its first 17 and `...` (names are never cut), and every cell and name is padded on the
///   left (right-aligned); without it, padded on the right (left-aligned);
/// - widths count UTF-16 units as Java does, plus one for each East Asian full-width character
///   (Spark's `stringHalfWidth`); a cut never splits a character;
/// - newlines, tabs and the other control characters Spark escapes (`\n \r \t \f \b \v \a`)
///   are shown as two-character escapes so they do not break the table;
/// - borders are `+---+` lines above and below the header and below the body (so an empty batch
///   shows the header between three borders, two of them adjacent), and when there were more
///   rows than shown, `only showing top N rows` (`row` for N = 1) follows.
///
/// ```
/// use streamc_runtime::structured::row::console_table;
/// let mut out = String::new();
/// console_table(0, &["word", "count"], &[("cat", 1i64)], 20, true, &mut out);
/// assert_eq!(out, "-------------------------------------------\nBatch: 0\n-------------------------------------------\n\
///                  +----+-----+\n|word|count|\n+----+-----+\n| cat|    1|\n+----+-----+\n\n");
/// ```
pub fn console_table<R: Row>(
    batch_id: u64,
    names: &[&str],
    rows: &[R],
    num_rows: usize,
    truncate: bool,
    out: &mut String,
) {
    let shown: Vec<Vec<String>> = rows.iter().take(num_rows).map(row_cells).collect();
    console_cells(batch_id, names, &shown, rows.len(), num_rows, truncate, out);
}

/// Appends `Dataset.showString(num_rows, truncate = if truncate { 20 } else { 0 })` without
/// the console banner; see [`console_table`].
pub fn show_string<R: Row>(names: &[&str], rows: &[R], num_rows: usize, truncate: bool, out: &mut String) {
    let shown = &rows[..rows.len().min(num_rows)];
    let cells: Vec<Vec<String>> = shown.iter().map(row_cells).collect();
    show_cells(names, &cells, rows.len(), num_rows, truncate, out);
}

/// The cells of `row` as the console shows them, before escaping and cutting.
pub(crate) fn row_cells<R: Row>(row: &R) -> Vec<String> {
    let mut cells = Vec::with_capacity(R::COLUMNS);
    row.cells(&mut cells);
    cells
}

/// [`console_table`] for a batch of `total` rows of which `shown` are the first rows' cells (at
/// least the first `num_rows`, or all of them): how process 0 of a cluster shows rows the
/// processes held in parts.
pub(crate) fn console_cells(
    batch_id: u64,
    names: &[&str],
    shown: &[Vec<String>],
    total: usize,
    num_rows: usize,
    truncate: bool,
    out: &mut String,
) {
    let _ = write!(
        out,
        "-------------------------------------------\nBatch: {batch_id}\n-------------------------------------------\n"
    );
    show_cells(names, shown, total, num_rows, truncate, out);
    out.push('\n');
}

/// [`show_string`] over the first rows' cells (`shown`, of which the first `num_rows` are
/// shown) of a batch of `total` rows.
fn show_cells(names: &[&str], shown: &[Vec<String>], total: usize, num_rows: usize, truncate: bool, out: &mut String) {
    let shown = &shown[..shown.len().min(num_rows)];
    let mut grid: Vec<Vec<String>> = Vec::with_capacity(shown.len() + 1);
    grid.push(names.iter().map(|n| escape_meta(n)).collect());
    for cells in shown {
        grid.push(
            cells
                .iter()
                .map(|c| {
                    let c = escape_meta(c);
                    if truncate { cut(c, TRUNCATE_WIDTH) } else { c }
                })
                .collect(),
        );
    }
    let columns = names.len();
    let mut widths = vec![3usize; columns];
    for row in &grid {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(half_width(c));
        }
    }
    let mut sep = String::from("+");
    for w in &widths {
        sep.extend(std::iter::repeat_n('-', *w));
        sep.push('+');
    }
    sep.push('\n');
    out.push_str(&sep);
    for (i, row) in grid.iter().enumerate() {
        out.push('|');
        for (c, w) in row.iter().zip(&widths) {
            let pad = w.saturating_sub(half_width(c));
            if truncate {
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(c);
            } else {
                out.push_str(c);
                out.extend(std::iter::repeat_n(' ', pad));
            }
            out.push('|');
        }
        out.push('\n');
        if i == 0 {
            out.push_str(&sep);
        }
    }
    out.push_str(&sep);
    if total > num_rows {
        let _ = writeln!(out, "only showing top {num_rows} {}", if num_rows == 1 { "row" } else { "rows" });
    }
}

/// Spark's `SchemaUtils.escapeMetaCharacters`.
fn escape_meta(s: &str) -> String {
    if !s.bytes().any(|b| matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x08 | 0x0b | 0x07)) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            '\u{7}' => out.push_str("\\a"),
            c => out.push(c),
        }
    }
    out
}

/// Java's `String.length()`: UTF-16 units.
fn java_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Spark's `Utils.stringHalfWidth`: the Java length plus one per full-width character.
fn half_width(s: &str) -> usize {
    java_len(s) + s.chars().filter(|&c| is_full_width(c)).count()
}

/// The character ranges of Spark's `Utils.fullWidthRegex`.
fn is_full_width(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{115F}'
        | '\u{2E80}'..='\u{A4CF}'
        | '\u{AC00}'..='\u{D7A3}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FE10}'..='\u{FE19}'
        | '\u{FE30}'..='\u{FE6F}'
        | '\u{FF00}'..='\u{FF60}'
        | '\u{FFE0}'..='\u{FFE6}')
}

/// `getRows`' truncation: a cell longer than `width` (in Java's units) becomes its first
/// `width - 3` units and `...` (just the first `width` when `width < 4`).
fn cut(s: String, width: usize) -> String {
    if java_len(&s) <= width {
        return s;
    }
    let keep = if width < 4 { width } else { width - 3 };
    let mut units = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if units + c.len_utf16() > keep {
            break;
        }
        units += c.len_utf16();
        end = i + c.len_utf8();
    }
    let mut t = s[..end].to_owned();
    if width >= 4 {
        t.push_str("...");
    }
    t
}

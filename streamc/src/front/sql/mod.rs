//! The SQL front end of Structured Streaming queries: a query's `sql:` text (Spark SQL, parsed
//! by `sqlparser` behind the `sql` cargo feature) is lowered to the same `from` and steps as
//! `from:` + `steps:` in YAML, so the checker and codegen never know which one was written.
//! Unsupported SQL is reported with Spark's wording where Spark has one, at its spot in the text.

use crate::span::{SpanId, SpanInfo, SpanTable};

pub use lowered::{Lowered, Pos, SqlError};

/// Lowers one SQL query, or reports every problem found in it; `streams` names the spec's
/// streaming sources (a `JOIN` of one of them, or of a subquery, is a stream-stream join; of any
/// other name, a join with a static table). `at` gives the span of a place in the text: each
/// item of a select list, `GROUP BY` and the aggregates carries its own, so that the checker's
/// errors about an item point at it (steps and errors come back with a [`Pos`]).
pub fn lower(sql: &str, streams: &[String], at: &mut dyn FnMut(Pos) -> SpanId) -> Result<Lowered, Vec<SqlError>> {
    imp::lower(sql, streams, at)
}

/// The span of `pos` inside the YAML string node `value` whose text is `sql`, in whatever style
/// the scalar is written: plain or quoted, on one line or folded over several (a line break read
/// as a space), a `|` or `>` block. Each byte of the SQL is found in the node's source text
/// (`source_offsets`); when it cannot be (an escape by code such as `\x20`), the span of the
/// whole value.
pub fn span_in(spans: &mut SpanTable, src: &str, value: SpanId, sql: &str, pos: Option<Pos>) -> SpanId {
    let (Some(pos), SpanInfo::Text { start, len, .. }) = (pos, spans.get(value).clone()) else {
        return value;
    };
    let Some(raw) = src.get(start..(start + len).min(src.len())) else { return value };
    let Some(map) = source_offsets(raw, sql) else { return value };
    let Some(&last) = map.last() else { return value };
    // A place at the end of the text (an unfinished query) is just after its last character.
    let (from, to) = if pos.start >= map.len() {
        (last + 1, last + 2)
    } else {
        let end = (pos.start + pos.len.max(1)).min(map.len()) - 1;
        (map[pos.start], map[end] + 1)
    };
    let off = start + from;
    let line = src[..off].matches('\n').count() + 1;
    let column = src[..off].rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    spans.add(SpanInfo::Text { line: line as u32, column: column as u32, start: off, len: to - from })
}

/// Where each byte of a YAML string scalar's `value` is in its source text `raw`, or None when
/// the value cannot be matched byte by byte. The source has the value's bytes in order, with only
/// the scalar's syntax between them: indentation and line breaks (a folded line break is one
/// space, or a line break, of the value), quotes (`''` is one `'`), a backslash before an escaped
/// quote or line break, and before the first byte a block header (`|`, `>-`, `|2+`); a byte may
/// be written as a one-letter escape (`\t`). Escapes by code (`\x20`, `\u00e9`) are not followed.
fn source_offsets(raw: &str, value: &str) -> Option<Vec<usize>> {
    let raw = raw.as_bytes();
    let mut map = Vec::with_capacity(value.len());
    let mut j = 0;
    for &b in value.as_bytes() {
        loop {
            let r = *raw.get(j)?;
            if r == b || (b.is_ascii_whitespace() && r.is_ascii_whitespace()) {
                map.push(j);
                j += 1;
                break;
            }
            // A double-quoted scalar's one-letter escape of this byte (`\t`, `\n`, ...).
            if r == b'\\' && raw.get(j + 1).and_then(|&e| escaped(e)) == Some(b) {
                map.push(j);
                j += 2;
                break;
            }
            let header = map.is_empty() && matches!(r, b'|' | b'>' | b'+' | b'-' | b'0'..=b'9');
            if !(header || r.is_ascii_whitespace() || matches!(r, b'\'' | b'"' | b'\\')) {
                return None;
            }
            j += 1;
        }
    }
    Some(map)
}

/// The byte a double-quoted YAML scalar's one-letter escape `\e` stands for.
fn escaped(e: u8) -> Option<u8> {
    Some(match e {
        b't' => b'\t',
        b'n' => b'\n',
        b'r' => b'\r',
        b'0' => 0,
        b'a' => 7,
        b'b' => 8,
        b'v' => 11,
        b'f' => 12,
        b'e' => 27,
        b'"' | b'\\' | b'/' | b' ' => e,
        _ => return None,
    })
}

#[cfg(not(feature = "sql"))]
mod imp {
    use super::lowered::{Lowered, Pos, SqlError};
    use crate::span::SpanId;

    pub fn lower(
        _sql: &str,
        _streams: &[String],
        _at: &mut dyn FnMut(Pos) -> SpanId,
    ) -> Result<Lowered, Vec<SqlError>> {
        Err(vec![SqlError {
            pos: None,
            message: "`sql:` queries need streamc built with its `sql` feature".into(),
            help: Some(
                "rebuild streamc with `--features sql` (on by default), or write the query with `from:` and `steps:`"
                    .into(),
            ),
        }])
    }
}

mod lowered;

#[cfg(feature = "sql")]
mod cx;
#[cfg(feature = "sql")]
mod dialect;
#[cfg(feature = "sql")]
mod expr;
#[cfg(feature = "sql")]
mod from;
#[cfg(feature = "sql")]
mod select;
#[cfg(feature = "sql")]
use cx as imp;

#[cfg(all(test, feature = "sql"))]
mod tests;

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

/// The span of `pos` inside the YAML string node `value` whose text is `sql`, when the SQL can be
/// found verbatim there (a one-line plain or quoted scalar without escapes, or a `|` block);
/// otherwise the span of the whole value.
pub fn span_in(spans: &mut SpanTable, src: &str, value: SpanId, sql: &str, pos: Option<Pos>) -> SpanId {
    let (Some(pos), SpanInfo::Text { start, len, .. }) = (pos, spans.get(value).clone()) else {
        return value;
    };
    let Some(raw) = src.get(start..(start + len).min(src.len())) else { return value };
    // Each line of the SQL must appear in the node's raw text, in order; a line's offset in the
    // SQL text then maps to the same offset in its YAML line.
    let mut cursor = 0;
    let mut sql_line_start = 0;
    for line in sql.split_inclusive('\n') {
        let text = line.trim_end_matches(['\n', '\r']);
        let Some(found) = raw[cursor..].find(text) else { return value };
        let at = start + cursor + found;
        let line_end = sql_line_start + line.len();
        if pos.start < line_end || line_end == sql.len() {
            let off = at + (pos.start - sql_line_start).min(text.len());
            let len = pos.len.max(1).min(text.len().saturating_sub(pos.start - sql_line_start).max(1));
            let line_no = src[..off].matches('\n').count() + 1;
            let col = src[..off].rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            return spans.add(SpanInfo::Text { line: line_no as u32, column: col as u32, start: off, len });
        }
        cursor += found + text.len();
        sql_line_start = line_end;
    }
    value
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

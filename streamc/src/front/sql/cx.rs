//! The SQL lowering context: the query's text and errors, positions in the text, the query
//! and its clauses that are not a select list, and the small readers of sqlparser's AST.

use super::dialect::SparkDialect;
use super::lowered::{Lowered, Pos, SqlError};
use crate::span::SpanId;
use crate::table::expr::Expr;
use crate::table::functions;
use crate::table::spark::LIMIT;
use crate::table::{SortKey, Step};
use sqlparser::ast::{self, BinaryOperator, GroupByExpr, ObjectName, SelectItem, SetExpr, Spanned, Statement, Value};
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Span};

pub fn lower(sql: &str, streams: &[String], at: &mut dyn FnMut(Pos) -> SpanId) -> Result<Lowered, Vec<SqlError>> {
    let mut cx = Cx { sql, errors: Vec::new(), streams, depth: 0, at };
    // Spark SQL is Hive's dialect: backquoted names, `LATERAL VIEW`, no trailing commas.
    // Backslash escapes are tokenized (so `'it\'s'` is one string) but kept raw: Spark's own
    // unescaping (`unescape`) differs from sqlparser's (`\%`, `\_` keep their backslash).
    let parsed = Parser::new(&SparkDialect)
        .with_options(sqlparser::parser::ParserOptions::new().with_unescape(false))
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements());
    let statements = match parsed {
        Ok(s) => s,
        Err(e) => return Err(vec![cx.parse_error(e)]),
    };
    let query = match &statements[..] {
        [Statement::Query(q)] => q,
        [] => {
            return Err(vec![cx.err(None, "the `sql:` text has no query", Some("write `SELECT ... FROM <source>`"))]);
        }
        [other] => {
            let pos = cx.pos(other.span());
            return Err(vec![cx.err(
                pos,
                "expected a `SELECT` query",
                Some("a streaming query is one `SELECT ... FROM <source>`"),
            )]);
        }
        [_, second, ..] => {
            let pos = cx.pos(second.span());
            return Err(vec![cx.err(
                pos,
                "expected one query, found several statements",
                Some("write one query per entry of `queries:`"),
            )]);
        }
    };
    let lowered = cx.query(query);
    match lowered {
        Some(l) if cx.errors.is_empty() => Ok(l),
        _ if cx.errors.is_empty() => Err(vec![cx.err(None, "cannot lower this SQL query (a bug in streamc)", None)]),
        _ => Err(cx.errors),
    }
}

pub(super) struct Cx<'a> {
    pub(super) sql: &'a str,
    pub(super) errors: Vec<SqlError>,
    /// The names of the spec's streaming sources: a `JOIN` of one is a stream-stream join (any
    /// other name is joined as a static table).
    pub(super) streams: &'a [String],
    /// How many subqueries deep the select being lowered is (0: the query's own select).
    pub(super) depth: usize,
    /// The span of a place in the text, for the items of list-valued steps (a step's own
    /// position is given back as a `Pos` beside it).
    pub(super) at: &'a mut dyn FnMut(Pos) -> SpanId,
}

/// What a name may be qualified with: the table's name or alias.
pub(super) type Qualifiers = Vec<String>;

impl Cx<'_> {
    /// The span of a select item (or key, or aggregate) at `pos`, when it has a position.
    pub(super) fn item_span(&mut self, pos: Option<Pos>) -> Option<SpanId> {
        pos.map(|p| (self.at)(p))
    }

    pub(super) fn err(&self, pos: Option<Pos>, message: impl Into<String>, help: Option<&str>) -> SqlError {
        SqlError { pos, message: message.into(), help: help.map(str::to_string) }
    }

    pub(super) fn error(&mut self, pos: Option<Pos>, message: impl Into<String>, help: Option<&str>) {
        let e = self.err(pos, message, help);
        self.errors.push(e);
    }

    /// sqlparser's message, with its ` at Line: L, Column: C` turned into a position.
    pub(super) fn parse_error(&self, e: ParserError) -> SqlError {
        let msg = match e {
            ParserError::TokenizerError(m) | ParserError::ParserError(m) => m,
            ParserError::RecursionLimitExceeded => "recursion limit exceeded (the query nests too deeply)".into(),
        };
        let (text, pos) = match msg.rsplit_once(" at Line: ") {
            Some((text, at)) => {
                let mut nums = at.split(", Column: ").map(|n| n.trim().parse::<u64>().ok());
                let loc = match (nums.next().flatten(), nums.next().flatten()) {
                    (Some(line), Some(column)) => self.offset(Location { line, column }),
                    _ => None,
                };
                (text.to_string(), loc.map(|start| Pos { start, len: 1 }))
            }
            // An error at the end of the text has no location: point at its last character.
            None => {
                let end = self.sql.trim_end();
                let last = end.char_indices().next_back().map_or(0, |(i, _)| i);
                (msg, Some(Pos { start: last, len: end.len() - last }))
            }
        };
        self.err(pos, format!("cannot parse the SQL: {text}"), None)
    }

    /// The byte offset of a sqlparser location (1-based line and column in characters).
    pub(super) fn offset(&self, loc: Location) -> Option<usize> {
        if loc.line == 0 || loc.column == 0 {
            return None;
        }
        let line = self.sql.split_inclusive('\n').nth(loc.line as usize - 1)?;
        let line_start = line.as_ptr() as usize - self.sql.as_ptr() as usize;
        let col = line.char_indices().nth(loc.column as usize - 1).map_or(line.len(), |(i, _)| i);
        Some(line_start + col)
    }

    pub(super) fn pos(&self, span: Span) -> Option<Pos> {
        let start = self.offset(span.start)?;
        let end = self.offset(span.end).unwrap_or(start + 1).max(start + 1);
        Some(self.balanced(Pos { start, len: end - start }))
    }

    /// `pos` widened over the parentheses that sqlparser leaves out of some spans (a call's
    /// closing `)`, a subquery's opening `(`), so that the text shown is balanced.
    pub(super) fn balanced(&self, pos: Pos) -> Pos {
        let Some(text) = self.sql.get(pos.start..pos.start + pos.len) else { return pos };
        let (mut depth, mut min, mut quoted) = (0i32, 0i32, false);
        for c in text.chars() {
            match c {
                '\'' => quoted = !quoted,
                '(' if !quoted => depth += 1,
                ')' if !quoted => {
                    depth -= 1;
                    min = min.min(depth);
                }
                _ => {}
            }
        }
        let (mut start, mut end) = (pos.start, pos.start + pos.len);
        for _ in 0..-min {
            match self.sql[..start].trim_end().strip_suffix('(') {
                Some(before) => start = before.len(),
                None => break,
            }
        }
        for _ in 0..(depth - min) {
            let rest = &self.sql[end..];
            match rest.trim_start().strip_prefix(')') {
                Some(after) => end = self.sql.len() - after.len(),
                None => break,
            }
        }
        Pos { start, len: end - start }
    }

    pub(super) fn query(&mut self, q: &ast::Query) -> Option<Lowered> {
        if let Some(w) = &q.with {
            let pos = self.pos(w.span());
            self.error(
                pos,
                "`WITH` (common table expressions) is not supported by streamc yet",
                Some("write the inner query in `FROM ( ... )`"),
            );
        }
        let mut tail = Vec::new();
        if let Some(o) = &q.order_by {
            let pos = self.pos(o.span());
            match &o.kind {
                ast::OrderByKind::Expressions(items) => {
                    let mut keys = Vec::new();
                    for item in items {
                        let ipos = self.pos(item.span());
                        match &item.expr {
                            ast::Expr::Identifier(id) if item.with_fill.is_none() => {
                                let descending = matches!(item.options.sort, Some(ast::OrderBySort::Desc));
                                if matches!(item.options.sort, Some(ast::OrderBySort::Using(_))) {
                                    self.error(ipos, "`ORDER BY ... USING` is not supported by streamc", None);
                                }
                                let nulls_first = item.options.nulls_first.unwrap_or(!descending);
                                // A problem with the column points at its name.
                                let npos = self.pos(id.span);
                                let span = self.item_span(npos);
                                keys.push(SortKey { column: id.value.clone(), descending, nulls_first, span });
                            }
                            _ => self.error(
                                ipos,
                                format!("streamc orders by output columns only, not by `{}`", item.expr),
                                Some("name the expression in the select list (`... AS c`) and write `ORDER BY c`"),
                            ),
                        }
                    }
                    tail.push((Step::OrderBy(keys), pos));
                }
                ast::OrderByKind::All(_) => self.error(pos, "`ORDER BY ALL` is not supported by streamc", None),
            }
        }
        if let Some(l) = &q.limit_clause {
            let pos = self.pos(l.span());
            match l {
                ast::LimitClause::LimitOffset { limit: Some(n), offset: None, limit_by } if limit_by.is_empty() => {
                    match n {
                        ast::Expr::Value(v)
                            if let Value::Number(n, _) = &v.value
                                && let Ok(n) = n.parse::<u64>() =>
                        {
                            tail.push((Step::Limit(n), pos));
                        }
                        _ => self.error(pos, "`LIMIT` takes a number of rows", None),
                    }
                }
                _ => self.error(pos, "only `LIMIT n` (no `OFFSET`) is supported by streamc", None),
            }
        }
        if let Some(f) = &q.fetch {
            let pos = self.pos(f.span());
            self.error(pos, LIMIT, None);
        }
        let mut lowered = match &*q.body {
            SetExpr::Select(s) => self.select(s),
            SetExpr::Query(inner) => self.query(inner),
            SetExpr::SetOperation { .. } => self.union(&q.body),
            other => {
                let pos = self.pos(other.span());
                self.error(pos, "expected `SELECT ... FROM <source>`", None);
                None
            }
        }?;
        lowered.steps.extend(tail);
        Some(lowered)
    }

    pub(super) fn list_pos(&self, spans: impl Iterator<Item = Span>) -> Option<Pos> {
        let spans: Vec<Span> = spans.collect();
        let first = self.pos(*spans.first()?)?;
        let last = self.pos(*spans.last()?)?;
        Some(Pos { start: first.start, len: (last.start + last.len).saturating_sub(first.start).max(1) })
    }
}

pub(super) const UNION_HELP: &str = "union the sources first, then filter, project or aggregate: `SELECT ... FROM (SELECT * FROM a UNION ALL SELECT * FROM b) WHERE ...`";

/// The terms of `a AND b AND ...` (through parentheses).
pub(super) fn and_terms<'e>(e: &'e ast::Expr, out: &mut Vec<&'e ast::Expr>) {
    match e {
        ast::Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
            and_terms(left, out);
            and_terms(right, out);
        }
        ast::Expr::Nested(inner) => and_terms(inner, out),
        other => out.push(other),
    }
}

pub(super) const SUPPORTED: &str = "expressions are columns, literals, `+ - * / %`, comparisons, `AND OR NOT`, `CAST`, `CASE`, `IS [NOT] NULL`, `[NOT] LIKE`, `IN`, `BETWEEN` and function calls";

pub(super) fn single_name(n: &ObjectName) -> Option<String> {
    match &n.0[..] {
        [part] => part.as_ident().map(|i| i.value.clone()),
        _ => None,
    }
}

pub(super) fn item_expr(i: &SelectItem) -> Option<&ast::Expr> {
    match i {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
        _ => None,
    }
}

pub(super) fn group_exprs(g: &GroupByExpr) -> &[ast::Expr] {
    match g {
        GroupByExpr::Expressions(e, _) => e,
        GroupByExpr::All(_) => &[],
    }
}

/// `count(..)`, `sum(..)`, ...: a call of an aggregate function at the top of a select item.
pub(super) fn is_aggregate(e: &ast::Expr) -> bool {
    match e {
        // `count(*) OVER (..)` is a window function, reported as such by `expr`.
        ast::Expr::Function(f) if f.over.is_none() => {
            single_name(&f.name).is_some_and(|n| functions::aggregate(&n.to_ascii_lowercase()).is_some())
        }
        ast::Expr::Nested(x) => is_aggregate(x),
        _ => false,
    }
}

/// `window` or `session_window` when `e` is a call of one (a time window key).
pub(super) fn time_window(e: &Expr) -> Option<&'static str> {
    match e {
        Expr::Call(f, _) if f == "window" => Some("window"),
        Expr::Call(f, _) if f == "session_window" => Some("session_window"),
        _ => None,
    }
}

/// The struct columns of Spark's time windows and the fields a select item reads of one:
/// `window.start` → ("window", ["start"]), `session_window.end` → ("session_window",
/// ["end"]), `window` → both fields.
pub(super) fn window_bound(e: &ast::Expr) -> Option<(&'static str, &'static [&'static str])> {
    let kind = |name: &str| ["window", "session_window"].into_iter().find(|k| name.eq_ignore_ascii_case(k));
    match e {
        ast::Expr::CompoundIdentifier(p) if p.len() == 2 => {
            let k = kind(&p[0].value)?;
            match p[1].value.to_ascii_lowercase().as_str() {
                "start" => Some((k, &["start"])),
                "end" => Some((k, &["end"])),
                _ => None,
            }
        }
        ast::Expr::Identifier(i) if i.quote_style.is_none() => Some((kind(&i.value)?, &["start", "end"])),
        _ => None,
    }
}

/// The columns an expression reads, in order of first use.
pub(super) fn columns(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Column(c) => {
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
        Expr::Call(_, args) => args.iter().for_each(|a| columns(a, out)),
        Expr::Unary(_, x) | Expr::Cast(x, _, _) | Expr::TryCast(x, _, _) => columns(x, out),
        Expr::Binary(_, a, b) => {
            columns(a, out);
            columns(b, out);
        }
        Expr::Str(_) | Expr::Int(_) | Expr::Float(_) | Expr::Bool(_) | Expr::Null | Expr::Star => {}
    }
}

//! The SQL front end of Structured Streaming queries: a query's `sql:` text (Spark SQL, parsed
//! by `sqlparser` behind the `sql` cargo feature) is lowered to the same `from` and steps as
//! `from:` + `steps:` in YAML, so the checker and codegen never know which one was written.
//! Unsupported SQL is reported with Spark's wording where Spark has one, at its spot in the text.

use crate::span::{SpanId, SpanInfo, SpanTable};
use crate::table::Step;

/// A byte range of the SQL text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub start: usize,
    pub len: usize,
}

/// A user mistake in the SQL text: where (None: the whole text), what, and how to fix it.
#[derive(Clone, Debug, PartialEq)]
pub struct SqlError {
    pub pos: Option<Pos>,
    pub message: String,
    pub help: Option<String>,
}

/// A lowered query: the source it reads and its steps, each with the SQL text it came from.
#[derive(Clone, Debug)]
pub struct Lowered {
    pub from: (String, Option<Pos>),
    pub steps: Vec<(Step, Option<Pos>)>,
}

/// Lowers the SQL text of one query, or reports every problem found in it.
pub fn lower(sql: &str) -> Result<Lowered, Vec<SqlError>> {
    imp::lower(sql)
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
    use super::{Lowered, SqlError};

    pub fn lower(_sql: &str) -> Result<Lowered, Vec<SqlError>> {
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

#[cfg(feature = "sql")]
mod imp {
    use super::{Lowered, Pos, SqlError};
    use crate::expr::{BinOp, Expr, UnOp};
    use crate::table::Step;
    use sqlparser::ast::{
        self, BinaryOperator, Distinct, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, ObjectName,
        ObjectNamePart, SelectItem, SetExpr, Spanned, Statement, TableFactor, UnaryOperator, Value,
    };
    use sqlparser::dialect::HiveDialect;
    use sqlparser::parser::{Parser, ParserError};
    use sqlparser::tokenizer::{Location, Span};

    const SORT: &str = "Sorting is not supported on streaming DataFrames/Datasets, unless it is on aggregated DataFrame/Dataset in Complete output mode";
    const LIMIT: &str = "Limits are not supported on streaming DataFrames/Datasets";
    const AGGREGATES: [&str; 6] = ["count", "sum", "avg", "mean", "min", "max"];

    pub fn lower(sql: &str) -> Result<Lowered, Vec<SqlError>> {
        let mut cx = Cx { sql, errors: Vec::new() };
        // Spark SQL is Hive's dialect: backquoted names, `LATERAL VIEW`, no trailing commas.
        let statements = match Parser::parse_sql(&HiveDialect {}, sql) {
            Ok(s) => s,
            Err(e) => return Err(vec![cx.parse_error(e)]),
        };
        let query = match &statements[..] {
            [Statement::Query(q)] => q,
            [] => {
                return Err(vec![cx.err(
                    None,
                    "the `sql:` text has no query",
                    Some("write `SELECT ... FROM <source>`"),
                )]);
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
            _ if cx.errors.is_empty() => {
                Err(vec![cx.err(None, "cannot lower this SQL query (a bug in streamc)", None)])
            }
            _ => Err(cx.errors),
        }
    }

    struct Cx<'a> {
        sql: &'a str,
        errors: Vec<SqlError>,
    }

    /// What a name may be qualified with: the table's name or alias.
    type Qualifiers = Vec<String>;

    impl Cx<'_> {
        fn err(&self, pos: Option<Pos>, message: impl Into<String>, help: Option<&str>) -> SqlError {
            SqlError { pos, message: message.into(), help: help.map(str::to_string) }
        }

        fn error(&mut self, pos: Option<Pos>, message: impl Into<String>, help: Option<&str>) {
            let e = self.err(pos, message, help);
            self.errors.push(e);
        }

        /// sqlparser's message, with its ` at Line: L, Column: C` turned into a position.
        fn parse_error(&self, e: ParserError) -> SqlError {
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
        fn offset(&self, loc: Location) -> Option<usize> {
            if loc.line == 0 || loc.column == 0 {
                return None;
            }
            let line = self.sql.split_inclusive('\n').nth(loc.line as usize - 1)?;
            let line_start = line.as_ptr() as usize - self.sql.as_ptr() as usize;
            let col = line.char_indices().nth(loc.column as usize - 1).map_or(line.len(), |(i, _)| i);
            Some(line_start + col)
        }

        fn pos(&self, span: Span) -> Option<Pos> {
            let start = self.offset(span.start)?;
            let end = self.offset(span.end).unwrap_or(start + 1).max(start + 1);
            Some(Pos { start, len: end - start })
        }

        fn query(&mut self, q: &ast::Query) -> Option<Lowered> {
            if let Some(w) = &q.with {
                let pos = self.pos(w.span());
                self.error(
                    pos,
                    "`WITH` (common table expressions) is not supported by streamc yet",
                    Some("write the inner query in `FROM ( ... )`"),
                );
            }
            if let Some(o) = &q.order_by {
                let pos = self.pos(o.span());
                self.error(pos, SORT, Some("streamc does not sort yet; remove `ORDER BY`"));
            }
            if let Some(l) = &q.limit_clause {
                let pos = self.pos(l.span());
                self.error(
                    pos,
                    LIMIT,
                    Some("remove `LIMIT`; the console sink shows 20 rows, `{ console: { num_rows: N } }` more"),
                );
            }
            if let Some(f) = &q.fetch {
                let pos = self.pos(f.span());
                self.error(pos, LIMIT, None);
            }
            match &*q.body {
                SetExpr::Select(s) => self.select(s),
                SetExpr::Query(inner) => self.query(inner),
                SetExpr::SetOperation { op, .. } => {
                    let pos = self.pos(q.body.span());
                    self.error(pos, format!("`{op}` of streaming queries is not supported by streamc yet"), None);
                    None
                }
                other => {
                    let pos = self.pos(other.span());
                    self.error(pos, "expected `SELECT ... FROM <source>`", None);
                    None
                }
            }
        }

        fn select(&mut self, s: &ast::Select) -> Option<Lowered> {
            let whole = self.pos(s.span());
            let select_pos = self.pos(s.select_token.0.span);
            if matches!(s.distinct, Some(Distinct::Distinct | Distinct::On(_))) {
                self.error(
                    select_pos,
                    "`DISTINCT` is not supported by streamc yet",
                    Some("deduplication needs a watermark-bounded state; group by the columns instead"),
                );
            }
            if let Some(t) = &s.top {
                let _ = t;
                self.error(select_pos, LIMIT, None);
            }
            if let Some(h) = &s.having {
                let pos = self.pos(h.span());
                self.error(
                    pos,
                    "`HAVING` is not supported by streamc yet",
                    Some("a streaming query here has no step after its aggregation"),
                );
            }
            for e in &s.sort_by {
                let pos = self.pos(e.span());
                self.error(pos, SORT, None);
            }
            if !s.cluster_by.is_empty() || !s.distribute_by.is_empty() {
                self.error(whole, "`CLUSTER BY` and `DISTRIBUTE BY` are not supported by streamc", None);
            }
            if s.qualify.is_some() || !s.named_window.is_empty() {
                self.error(whole, "Non-time-based windows are not supported on streaming DataFrames/Datasets", None);
            }
            if s.into.is_some() || s.prewhere.is_some() || !s.connect_by.is_empty() || s.exclude.is_some() {
                self.error(
                    whole,
                    "this form of `SELECT` is not supported by streamc",
                    Some("write `SELECT ... FROM <source> [WHERE ...] [GROUP BY ...]`"),
                );
            }

            // FROM: one source table or a subquery over one.
            let (Lowered { from, mut steps }, quals) = match &s.from[..] {
                [] => {
                    self.error(select_pos, "a streaming query needs a source: `FROM <source>`", None);
                    return None;
                }
                [t] => {
                    for j in &t.joins {
                        let pos = self.pos(j.span());
                        self.error(pos, "joins are not supported by streamc yet", Some("a query reads one source"));
                    }
                    self.relation(&t.relation)?
                }
                [_, second, ..] => {
                    let pos = self.pos(second.span());
                    self.error(
                        pos,
                        "several tables in `FROM` (a cross join) are not supported by streamc yet",
                        Some("a query reads one source"),
                    );
                    return None;
                }
            };

            // LATERAL VIEW explode(..) t AS name: every row once per array element, with the
            // columns that the rest of the query uses.
            let mut quals = quals;
            for lv in &s.lateral_views {
                let pos = self.pos(lv.span());
                let name = match &lv.lateral_col_alias[..] {
                    [a] => a.value.clone(),
                    _ => {
                        self.error(
                            pos,
                            "`LATERAL VIEW` needs one column name: `LATERAL VIEW explode(..) t AS word`",
                            None,
                        );
                        return None;
                    }
                };
                if lv.outer {
                    self.error(pos, "`LATERAL VIEW OUTER` is not supported by streamc yet", None);
                }
                if let Some(last) = lv.lateral_view_name.0.last().and_then(ObjectNamePart::as_ident) {
                    quals.push(last.value.clone());
                }
                let array = self.expr(&lv.lateral_view, &quals)?;
                let mut used = Vec::new();
                for item in &s.projection {
                    if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item
                        && let Some(x) = self.expr_quiet(e, &quals)
                    {
                        columns(&x, &mut used);
                    }
                }
                for e in s.selection.iter().chain(group_exprs(&s.group_by)) {
                    if let Some(x) = self.expr_quiet(e, &quals) {
                        columns(&x, &mut used);
                    }
                }
                let mut items: Vec<(Expr, Option<String>)> =
                    used.into_iter().filter(|c| c != &name && c != "window").map(|c| (Expr::Column(c), None)).collect();
                items.push((array, Some(name)));
                steps.push((Step::Select(items), pos));
            }

            if let Some(w) = &s.selection {
                let pos = self.pos(w.span());
                if let Some(e) = self.expr(w, &quals) {
                    steps.push((Step::Where(e), pos));
                }
            }

            let keys = match &s.group_by {
                GroupByExpr::Expressions(keys, modifiers) => {
                    if !modifiers.is_empty() {
                        self.error(whole, "`GROUP BY ... WITH ROLLUP/CUBE` is not supported by streamc yet", None);
                    }
                    keys.clone()
                }
                GroupByExpr::All(_) => {
                    self.error(whole, "`GROUP BY ALL` is not supported by streamc", Some("name the grouping columns"));
                    Vec::new()
                }
            };
            let aggregating = !keys.is_empty() || s.projection.iter().any(|i| item_expr(i).is_some_and(is_aggregate));
            if aggregating {
                if let Some(step) = self.aggregate(s, &keys, &quals) {
                    steps.push(step);
                }
            } else {
                self.projection(s, &quals, &mut steps);
            }
            Some(Lowered { from, steps })
        }

        /// `FROM name [alias]` or `FROM (subquery) [alias]`: the source, the steps so far, and
        /// the names columns may be qualified with.
        fn relation(&mut self, r: &TableFactor) -> Option<(Lowered, Qualifiers)> {
            let pos = self.pos(r.span());
            match r {
                TableFactor::Table { name, alias, args: None, .. } => {
                    let Some(table) = single_name(name) else {
                        self.error(
                            pos,
                            format!("expected a source name, found `{name}`"),
                            Some("name a source of `sources:`"),
                        );
                        return None;
                    };
                    let mut quals = vec![table.clone()];
                    quals.extend(alias.iter().map(|a| a.name.value.clone()));
                    Some((Lowered { from: (table, pos), steps: Vec::new() }, quals))
                }
                TableFactor::Derived { subquery, alias, lateral: false, .. } => {
                    let inner = self.query(subquery)?;
                    Some((inner, alias.iter().map(|a| a.name.value.clone()).collect()))
                }
                TableFactor::NestedJoin { .. } => {
                    self.error(pos, "joins are not supported by streamc yet", Some("a query reads one source"));
                    None
                }
                _ => {
                    self.error(
                        pos,
                        format!("`{r}` is not supported as a source by streamc"),
                        Some("read a source of `sources:` or a subquery"),
                    );
                    None
                }
            }
        }

        /// The select list of a query without aggregates: `*` (every column), `*, expr AS name`
        /// (added columns), or a projection.
        fn projection(&mut self, s: &ast::Select, quals: &Qualifiers, steps: &mut Vec<(Step, Option<Pos>)>) {
            let pos = self.list_pos(s.projection.iter().map(Spanned::span));
            if let [SelectItem::Wildcard(_), rest @ ..] = &s.projection[..] {
                for item in rest {
                    let ipos = self.pos(item.span());
                    match item {
                        SelectItem::ExprWithAlias { expr, alias } => {
                            if let Some(e) = self.expr(expr, quals) {
                                steps.push((Step::WithColumn(alias.value.clone(), e), ipos));
                            }
                        }
                        _ => self.error(ipos, "after `*`, each select item needs a name: `expr AS name`", None),
                    }
                }
                return;
            }
            let mut items = Vec::new();
            for item in &s.projection {
                let ipos = self.pos(item.span());
                match item {
                    SelectItem::UnnamedExpr(e) => items.extend(self.expr(e, quals).map(|e| (e, None))),
                    SelectItem::ExprWithAlias { expr, alias } => {
                        items.extend(self.expr(expr, quals).map(|e| (e, Some(alias.value.clone()))))
                    }
                    _ => self.error(
                        ipos,
                        format!("`{item}` is not supported in a select list by streamc"),
                        Some("`*` is allowed first only"),
                    ),
                }
            }
            steps.push((Step::Select(items), pos));
        }

        /// The select list and `GROUP BY` of an aggregation: one `GroupBy` step whose keys are
        /// the selected keys (in select order) and whose aggregates are the selected aggregates.
        /// streamc outputs the window bounds, then the keys, then the aggregates, so the select
        /// list must list them in that order, and select every key.
        fn aggregate(
            &mut self,
            s: &ast::Select,
            keys: &[ast::Expr],
            quals: &Qualifiers,
        ) -> Option<(Step, Option<Pos>)> {
            let pos = self.list_pos(s.projection.iter().map(Spanned::span));
            let mut window = None;
            let mut group: Vec<(Expr, Option<Pos>, bool)> = Vec::new();
            for k in keys {
                let kpos = self.pos(k.span());
                let e = self.expr(k, quals)?;
                if matches!(&e, Expr::Call(f, _) if f == "window") {
                    window = Some(e.clone());
                }
                group.push((e, kpos, false));
            }
            // (rank, expr, alias): 0 window bounds, 1 keys, 2 aggregates.
            let mut out_keys = Vec::new();
            let mut aggs = Vec::new();
            let mut last_rank = 0;
            let mut bounds = Vec::new();
            for item in &s.projection {
                let ipos = self.pos(item.span());
                let (e, alias) = match item {
                    SelectItem::UnnamedExpr(e) => (e, None),
                    SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias.value.clone())),
                    _ => {
                        self.error(
                            ipos,
                            format!("`{item}` is not supported in the select list of an aggregation"),
                            Some("select the grouping keys and aggregates by name"),
                        );
                        continue;
                    }
                };
                let rank;
                if let Some(bound) = window_bound(e) {
                    rank = 0;
                    if window.is_none() {
                        self.error(ipos, format!("`{e}` needs `GROUP BY window(<time>, <duration>, ...)`"), None);
                        continue;
                    }
                    for b in bound {
                        let name = format!("window_{b}");
                        if alias.as_ref().is_some_and(|a| a != &name && !(bound.len() == 2 && a == "window")) {
                            self.error(
                                ipos,
                                format!("streamc names the window's {b} `{name}`"),
                                Some(&format!("write `window.{b} AS {name}`")),
                            );
                        }
                        bounds.push(name);
                    }
                    if let Some(g) = group.iter_mut().find(|g| Some(&g.0) == window.as_ref()) {
                        g.2 = true;
                    }
                } else if is_aggregate(e) {
                    rank = 2;
                    let Some(x) = self.expr(e, quals) else { continue };
                    aggs.push((x, alias));
                } else {
                    rank = 1;
                    let Some(x) = self.expr(e, quals) else { continue };
                    match group.iter_mut().find(|g| g.0 == x) {
                        Some(g) if matches!(&x, Expr::Call(f, _) if f == "window") => {
                            g.2 = true;
                            self.error(
                                ipos,
                                "streamc flattens the window into `window_start` and `window_end`",
                                Some("select `window.start AS window_start, window.end AS window_end`"),
                            );
                        }
                        Some(g) => {
                            g.2 = true;
                            out_keys.push((x, alias));
                        }
                        None => {
                            // Spark's MISSING_AGGREGATION.
                            self.error(ipos, format!("The non-aggregating expression `{e}` is based on columns which are not participating in the GROUP BY clause"), Some(&format!("add `{e}` to `GROUP BY`, or wrap it in an aggregate such as `max({e})`")));
                            continue;
                        }
                    }
                }
                if rank < last_rank {
                    self.error(
                        ipos,
                        "streamc outputs the window bounds, then the grouping keys, then the aggregates",
                        Some("list the select items in that order"),
                    );
                }
                last_rank = last_rank.max(rank);
            }
            if bounds.len() == 1 || (bounds.len() == 2 && bounds[0] != "window_start") || bounds.len() > 2 {
                self.error(
                    pos,
                    "select both window bounds, in order: `window.start AS window_start, window.end AS window_end`",
                    None,
                );
            }
            for (e, kpos, selected) in &group {
                if !selected {
                    let (what, help) = if matches!(e, Expr::Call(f, _) if f == "window") {
                        (
                            "window".to_string(),
                            "select `window.start AS window_start, window.end AS window_end`".to_string(),
                        )
                    } else {
                        (format!("key `{e}`"), format!("select `{e}`"))
                    };
                    let msg = format!("the grouping {what} is not selected; streamc outputs every grouping key");
                    self.error(*kpos, msg, Some(&help));
                }
            }
            let mut all_keys: Vec<(Expr, Option<String>)> = window.into_iter().map(|w| (w, None)).collect();
            all_keys.extend(out_keys);
            Some((Step::GroupBy { keys: all_keys, aggs }, pos))
        }

        fn list_pos(&self, spans: impl Iterator<Item = Span>) -> Option<Pos> {
            let spans: Vec<Span> = spans.collect();
            let first = self.pos(*spans.first()?)?;
            let last = self.pos(*spans.last()?)?;
            Some(Pos { start: first.start, len: (last.start + last.len).saturating_sub(first.start).max(1) })
        }

        /// An expression without reporting (to collect the columns a query uses).
        fn expr_quiet(&mut self, e: &ast::Expr, quals: &Qualifiers) -> Option<Expr> {
            let n = self.errors.len();
            let x = self.expr(e, quals);
            self.errors.truncate(n);
            x
        }

        fn expr(&mut self, e: &ast::Expr, quals: &Qualifiers) -> Option<Expr> {
            use ast::Expr as S;
            let pos = self.pos(e.span());
            Some(match e {
                S::Identifier(id) if id.quote_style == Some('"') => Expr::Str(id.value.clone()),
                S::Identifier(id) => Expr::Column(id.value.clone()),
                S::CompoundIdentifier(parts) => match &parts[..] {
                    [q, c] if quals.iter().any(|x| x == &q.value) => Expr::Column(c.value.clone()),
                    [w, _] if w.value.eq_ignore_ascii_case("window") => {
                        self.error(
                            pos,
                            format!("`{e}` is only allowed in the select list of `GROUP BY window(..)`"),
                            None,
                        );
                        return None;
                    }
                    _ => {
                        let help =
                            format!("columns are qualified with the source's name or alias ({})", quals.join(", "));
                        self.error(pos, format!("`{e}` is not a column streamc knows"), Some(&help));
                        return None;
                    }
                },
                S::Value(v) => match &v.value {
                    Value::Number(n, _) => match (n.parse::<i64>(), n.parse::<f64>()) {
                        (Ok(i), _) => Expr::Int(i),
                        (_, Ok(x)) if x.is_finite() => Expr::Float(x),
                        _ => {
                            self.error(pos, format!("invalid number `{n}`"), None);
                            return None;
                        }
                    },
                    Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Expr::Str(s.clone()),
                    Value::Boolean(b) => Expr::Bool(*b),
                    Value::Null => Expr::Null,
                    other => {
                        self.error(pos, format!("the literal `{other}` is not supported by streamc"), None);
                        return None;
                    }
                },
                S::Nested(inner) => self.expr(inner, quals)?,
                S::UnaryOp { op, expr } => {
                    let x = self.expr(expr, quals)?;
                    match op {
                        UnaryOperator::Not => Expr::Unary(UnOp::Not, Box::new(x)),
                        UnaryOperator::Minus => Expr::Unary(UnOp::Neg, Box::new(x)),
                        UnaryOperator::Plus => x,
                        other => {
                            self.error(pos, format!("the operator `{other}` is not supported by streamc"), None);
                            return None;
                        }
                    }
                }
                S::BinaryOp { left, op, right } => {
                    let op = match op {
                        BinaryOperator::Or => BinOp::Or,
                        BinaryOperator::And => BinOp::And,
                        BinaryOperator::Eq => BinOp::Eq,
                        BinaryOperator::NotEq => BinOp::Ne,
                        BinaryOperator::Lt => BinOp::Lt,
                        BinaryOperator::LtEq => BinOp::Le,
                        BinaryOperator::Gt => BinOp::Gt,
                        BinaryOperator::GtEq => BinOp::Ge,
                        BinaryOperator::Plus => BinOp::Add,
                        BinaryOperator::Minus => BinOp::Sub,
                        BinaryOperator::Multiply => BinOp::Mul,
                        BinaryOperator::Divide => BinOp::Div,
                        BinaryOperator::Modulo => BinOp::Mod,
                        other => {
                            self.error(
                                pos,
                                format!("the operator `{other}` is not supported by streamc"),
                                Some(SUPPORTED),
                            );
                            return None;
                        }
                    };
                    let (a, b) = (self.expr(left, quals), self.expr(right, quals));
                    Expr::Binary(op, Box::new(a?), Box::new(b?))
                }
                S::Function(f) => {
                    let Some(name) = single_name(&f.name) else {
                        self.error(pos, format!("unknown function `{}`", f.name), None);
                        return None;
                    };
                    if f.over.is_some() {
                        self.error(
                            pos,
                            "Non-time-based windows are not supported on streaming DataFrames/Datasets",
                            Some("group by `window(<time>, <duration>)` instead of `OVER (...)`"),
                        );
                        return None;
                    }
                    if f.filter.is_some()
                        || !f.within_group.is_empty()
                        || !matches!(f.parameters, FunctionArguments::None)
                    {
                        self.error(pos, format!("this form of `{name}(..)` is not supported by streamc"), None);
                        return None;
                    }
                    let args = match &f.args {
                        FunctionArguments::None => Vec::new(),
                        FunctionArguments::List(list) => {
                            if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
                                self.error(pos, format!("`{name}(DISTINCT ..)` and clauses in arguments are not supported by streamc yet"), None);
                                return None;
                            }
                            let mut args = Vec::new();
                            for a in &list.args {
                                match a {
                                    FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => args.push(self.expr(x, quals)),
                                    FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => args.push(Some(Expr::Star)),
                                    other => {
                                        let apos = self.pos(other.span());
                                        self.error(
                                            apos,
                                            format!("the argument `{other}` is not supported by streamc"),
                                            None,
                                        );
                                        args.push(None);
                                    }
                                }
                            }
                            args.into_iter().collect::<Option<Vec<_>>>()?
                        }
                        FunctionArguments::Subquery(_) => {
                            self.error(pos, "subqueries in expressions are not supported by streamc", None);
                            return None;
                        }
                    };
                    Expr::Call(name.to_ascii_lowercase(), args)
                }
                other => {
                    self.error(pos, format!("`{other}` is not supported by streamc's SQL yet"), Some(SUPPORTED));
                    return None;
                }
            })
        }
    }

    const SUPPORTED: &str =
        "expressions are columns, literals, `+ - * / %`, comparisons, `AND OR NOT` and function calls";

    fn single_name(n: &ObjectName) -> Option<String> {
        match &n.0[..] {
            [part] => part.as_ident().map(|i| i.value.clone()),
            _ => None,
        }
    }

    fn item_expr(i: &SelectItem) -> Option<&ast::Expr> {
        match i {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
            _ => None,
        }
    }

    fn group_exprs(g: &GroupByExpr) -> &[ast::Expr] {
        match g {
            GroupByExpr::Expressions(e, _) => e,
            GroupByExpr::All(_) => &[],
        }
    }

    /// `count(..)`, `sum(..)`, ...: a call of an aggregate function at the top of a select item.
    fn is_aggregate(e: &ast::Expr) -> bool {
        match e {
            // `count(*) OVER (..)` is a window function, reported as such by `expr`.
            ast::Expr::Function(f) if f.over.is_none() => {
                single_name(&f.name).is_some_and(|n| AGGREGATES.contains(&n.to_ascii_lowercase().as_str()))
            }
            ast::Expr::Nested(x) => is_aggregate(x),
            _ => false,
        }
    }

    /// `window.start` → ["start"], `window.end` → ["end"], `window` → both.
    fn window_bound(e: &ast::Expr) -> Option<&'static [&'static str]> {
        match e {
            ast::Expr::CompoundIdentifier(p) if p.len() == 2 && p[0].value.eq_ignore_ascii_case("window") => {
                match p[1].value.to_ascii_lowercase().as_str() {
                    "start" => Some(&["start"]),
                    "end" => Some(&["end"]),
                    _ => None,
                }
            }
            ast::Expr::Identifier(i) if i.value.eq_ignore_ascii_case("window") && i.quote_style.is_none() => {
                Some(&["start", "end"])
            }
            _ => None,
        }
    }

    /// The columns an expression reads, in order of first use.
    fn columns(e: &Expr, out: &mut Vec<String>) {
        match e {
            Expr::Column(c) => {
                if !out.contains(c) {
                    out.push(c.clone());
                }
            }
            Expr::Call(_, args) => args.iter().for_each(|a| columns(a, out)),
            Expr::Unary(_, x) => columns(x, out),
            Expr::Binary(_, a, b) => {
                columns(a, out);
                columns(b, out);
            }
            Expr::Str(_) | Expr::Int(_) | Expr::Float(_) | Expr::Bool(_) | Expr::Null | Expr::Star => {}
        }
    }
}

#[cfg(all(test, feature = "sql"))]
mod tests {
    use super::*;

    fn steps(sql: &str) -> String {
        let l = lower(sql).unwrap_or_else(|e| panic!("{e:?}"));
        let mut out = format!("from {}", l.from.0);
        for (s, _) in &l.steps {
            out.push_str(&match s {
                Step::Select(items) => format!("; select {}", list(items)),
                Step::Where(e) => format!("; where {e}"),
                Step::WithColumn(n, e) => format!("; with_column {n} = {e}"),
                Step::WithWatermark { column, delay_ms } => format!("; watermark {column} {delay_ms}"),
                Step::GroupBy { keys, aggs } => format!("; group_by {} agg {}", list(keys), list(aggs)),
                other => format!("; {other:?}"),
            });
        }
        out
    }

    fn list(items: &[(crate::expr::Expr, Option<String>)]) -> String {
        let v: Vec<String> = items
            .iter()
            .map(|(e, a)| match a {
                Some(a) => format!("{e} AS {a}"),
                None => e.to_string(),
            })
            .collect();
        format!("[{}]", v.join(", "))
    }

    fn errors(sql: &str) -> Vec<(Option<Pos>, String)> {
        lower(sql).expect_err("an error").into_iter().map(|e| (e.pos, e.message)).collect()
    }

    #[test]
    fn lowers_windowed_counts_and_word_counts() {
        assert_eq!(
            steps(
                "SELECT window.start AS window_start, window.end AS window_end, word, count(*) AS count FROM events GROUP BY window(timestamp, '10 minutes', '5 minutes'), word"
            ),
            "from events; group_by [window(timestamp, '10 minutes', '5 minutes'), word] agg [count(*) AS count]"
        );
        assert_eq!(
            steps("SELECT word, count(*) FROM (SELECT explode(split(value, ' ')) AS word FROM lines) GROUP BY word"),
            "from lines; select [explode(split(value, ' ')) AS word]; group_by [word] agg [count(*)]"
        );
        assert_eq!(
            steps(
                "SELECT word, count(*) FROM lines LATERAL VIEW explode(split(value, ' ')) t AS word WHERE length(word) > 2 GROUP BY word"
            ),
            "from lines; select [explode(split(value, ' ')) AS word]; where (length(word) > 2); group_by [word] agg [count(*)]"
        );
        assert_eq!(
            steps("SELECT e.word AS w, -(n + 1) * 2 FROM events e WHERE NOT (n >= 3 OR word <> \"a\") AND true"),
            "from events; where ((NOT ((n >= 3) OR (word != 'a'))) AND true); select [word AS w, ((-(n + 1)) * 2)]"
        );
        assert_eq!(steps("SELECT *, length(word) AS n FROM events"), "from events; with_column n = length(word)");
        assert_eq!(steps("SELECT count(*) FROM events"), "from events; group_by [] agg [count(*)]");
    }

    #[test]
    fn unsupported_sql_points_at_its_clause() {
        let sql = "SELECT word FROM events ORDER BY word LIMIT 3";
        let e = errors(sql);
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].1.starts_with("Sorting is not supported on streaming DataFrames/Datasets"));
        assert_eq!(&sql[e[0].0.unwrap().start..], "word LIMIT 3");
        assert_eq!(e[1].1, "Limits are not supported on streaming DataFrames/Datasets");
        let e = errors("SELECT a FROM t WHERE ) x");
        assert_eq!(e[0].0, Some(Pos { start: 22, len: 1 }));
        assert!(e[0].1.starts_with("cannot parse the SQL: Expected: an expression, found: )"), "{e:?}");
        let sql = "SELECT word, n FROM events GROUP BY word";
        let e = errors(sql);
        assert!(e[0].1.contains("non-aggregating expression `n`"), "{e:?}");
        assert_eq!(&sql[e[0].0.unwrap().start..][..1], "n");
        assert!(errors("SELECT a FROM t JOIN u ON t.a = u.a")[0].1.starts_with("joins"));
        assert!(errors("SELECT DISTINCT a FROM t")[0].1.contains("DISTINCT"));
        assert!(errors("SELECT a, count(*) FROM t GROUP BY a HAVING count(*) > 1")[0].1.contains("HAVING"));
        assert!(errors("SELECT a FROM t, u")[0].1.contains("several tables"));
    }
}

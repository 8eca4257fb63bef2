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
    use crate::table::JoinHow;
    use crate::table::Step;
    use crate::table::expr::{BinOp, Expr, UnOp};
    use crate::table::functions;
    use crate::table::spark::{LIMIT, SORT};
    use sqlparser::ast::{
        self, BinaryOperator, DataType, Distinct, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr,
        JoinConstraint, JoinOperator, ObjectName, ObjectNamePart, SelectItem, SetExpr, SetOperator, SetQuantifier,
        Spanned, Statement, TableFactor, UnaryOperator, Value,
    };
    use sqlparser::dialect::HiveDialect;
    use sqlparser::parser::{Parser, ParserError};
    use sqlparser::tokenizer::{Location, Span};

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
            Some(self.balanced(Pos { start, len: end - start }))
        }

        /// `pos` widened over the parentheses that sqlparser leaves out of some spans (a call's
        /// closing `)`, a subquery's opening `(`), so that the text shown is balanced.
        fn balanced(&self, pos: Pos) -> Pos {
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
                SetExpr::SetOperation { .. } => self.union(&q.body),
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
            // Spark plans `SELECT DISTINCT` as an aggregation grouped by every selected column
            // (`ReplaceDistinctWithAggregate`), not as `dropDuplicates`: its output modes and
            // watermark rules are those of `GROUP BY`, so it is lowered to one.
            let distinct_pos = select_pos.and_then(|p| self.word_after(p.start, "distinct"));
            let distinct = match &s.distinct {
                Some(Distinct::Distinct) => true,
                Some(Distinct::On(_)) => {
                    self.error(
                        distinct_pos.or(select_pos),
                        "`DISTINCT ON` is not supported by Spark SQL",
                        Some("write `SELECT DISTINCT a, b` (every selected column), or `GROUP BY` the columns and aggregate the others"),
                    );
                    false
                }
                Some(Distinct::All) | None => false,
            };
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

            // FROM: one source table or a subquery over one, joined with static tables.
            let (Lowered { from, mut steps }, quals) = match &s.from[..] {
                [] => {
                    self.error(select_pos, "a streaming query needs a source: `FROM <source>`", None);
                    return None;
                }
                [t] => {
                    let (mut lowered, mut quals) = self.relation(&t.relation)?;
                    for j in &t.joins {
                        if let Some((step, pos, table_quals)) = self.join(j, &quals) {
                            lowered.steps.push((step, pos));
                            quals.extend(table_quals);
                        }
                    }
                    (lowered, quals)
                }
                [_, second, ..] => {
                    let pos = self.pos(second.span());
                    self.error(
                        pos,
                        "several tables in `FROM` (a cross join) are not supported by streamc yet",
                        Some("join a static table on equal columns: `FROM <stream> JOIN <table> USING (col)`"),
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
                let mut items: Vec<(Expr, Option<String>)> = used
                    .into_iter()
                    .filter(|c| c != &name && c != "window" && c != "session_window")
                    .map(|c| (Expr::Column(c), None))
                    .collect();
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
                if distinct {
                    self.error(
                        distinct_pos,
                        "Multiple streaming aggregations are not supported with streaming DataFrames/Datasets",
                        Some("the rows of an aggregation are distinct already; remove `DISTINCT`"),
                    );
                }
                if let Some(step) = self.aggregate(s, &keys, &quals) {
                    steps.push(step);
                }
            } else if distinct {
                self.distinct(s, &quals, distinct_pos, &mut steps);
            } else {
                self.projection(s, &quals, &mut steps);
            }
            Some(Lowered { from, steps })
        }

        /// `SELECT DISTINCT items`: Spark's aggregation grouped by every selected column, without
        /// aggregate functions (so `append` needs a watermark on a selected event-time column).
        fn distinct(
            &mut self,
            s: &ast::Select,
            quals: &Qualifiers,
            distinct_pos: Option<Pos>,
            steps: &mut Vec<(Step, Option<Pos>)>,
        ) {
            if matches!(s.projection.first(), Some(SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..))) {
                self.error(
                    distinct_pos,
                    "`SELECT DISTINCT *` is not supported by streamc yet",
                    Some("name the columns: `SELECT DISTINCT a, b FROM ...`"),
                );
                return;
            }
            let pos = self.list_pos(s.projection.iter().map(Spanned::span));
            let n = steps.len();
            self.projection(s, quals, steps);
            let Some((Step::Select(items), _)) = steps.get(n) else { return };
            // A generator cannot be a grouping key: project first, then group by the columns.
            let keys = if items.iter().any(|(e, _)| matches!(e, Expr::Call(f, _) if f == "explode")) {
                items
                    .iter()
                    .map(|(e, alias)| {
                        let name = match (alias, e) {
                            (Some(a), _) => a.clone(),
                            (None, Expr::Call(f, _)) if f == "explode" => "col".to_string(),
                            (None, e) => crate::table::column_name(e),
                        };
                        (Expr::Column(name), None)
                    })
                    .collect()
            } else {
                let Some((Step::Select(items), _)) = steps.pop() else { return };
                items
            };
            steps.push((Step::GroupBy { keys, aggs: Vec::new() }, pos));
        }

        /// `[INNER | LEFT [OUTER]] JOIN table [alias] USING (cols)` or `ON a.col = b.col [AND
        /// ...]`: a join with a static table of `sources:` (the checker makes sure it is one).
        /// Returns the step and the names the table's columns may be qualified with.
        fn join(&mut self, j: &ast::Join, left: &Qualifiers) -> Option<(Step, Option<Pos>, Qualifiers)> {
            let rel_pos = self.pos(j.relation.span());
            let kw = rel_pos.and_then(|p| self.join_keywords(p.start));
            let whole = match (kw, self.pos(j.span())) {
                (Some(k), Some(p)) => Some(Pos { start: k.start, len: (p.start + p.len).saturating_sub(k.start) }),
                (k, p) => p.or(k),
            };
            let written = kw.map_or_else(|| "JOIN".to_string(), |k| self.sql[k.start..k.start + k.len].to_uppercase());
            let written = written.split_whitespace().collect::<Vec<_>>().join(" ");
            let (how, constraint) = match &j.join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) => (JoinHow::Inner, c),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (JoinHow::LeftOuter, c),
                JoinOperator::Right(_) | JoinOperator::RightOuter(_) | JoinOperator::FullOuter(_) => {
                    self.error(
                        kw.or(whole),
                        format!("`{written}` of a stream with a static table is not supported on streaming DataFrames/Datasets"),
                        Some("write the stream first and join with `JOIN` (inner) or `LEFT [OUTER] JOIN`: `FROM <stream> LEFT JOIN <table> USING (col)`"),
                    );
                    return None;
                }
                _ => {
                    self.error(
                        kw.or(whole),
                        format!("`{written}` is not supported by streamc yet"),
                        Some("streamc joins a stream with a static table with `JOIN` (inner) or `LEFT [OUTER] JOIN`, on equal columns"),
                    );
                    return None;
                }
            };
            let TableFactor::Table { name, alias, args: None, .. } = &j.relation else {
                self.error(
                    rel_pos,
                    format!("expected the name of a static table, found `{}`", j.relation),
                    Some("join a `static:` source of `sources:` by name; a subquery cannot be joined"),
                );
                return None;
            };
            let Some(table) = single_name(name) else {
                self.error(
                    rel_pos,
                    format!("expected a source name, found `{name}`"),
                    Some("name a source of `sources:`"),
                );
                return None;
            };
            let mut right = vec![table.clone()];
            right.extend(alias.iter().map(|a| a.name.value.clone()));
            let mut on: Vec<String> = Vec::new();
            match constraint {
                JoinConstraint::Using(names) => {
                    for n in names {
                        match single_name(n) {
                            Some(c) if !on.contains(&c) => on.push(c),
                            Some(_) => {}
                            None => {
                                let npos = self.pos(n.span());
                                self.error(npos, format!("expected a column name, found `{n}`"), None);
                            }
                        }
                    }
                }
                JoinConstraint::On(e) => {
                    let mut conjuncts = Vec::new();
                    and_terms(e, &mut conjuncts);
                    for c in conjuncts {
                        if let Some(col) = self.join_key(c, left, &right)
                            && !on.contains(&col)
                        {
                            on.push(col);
                        }
                    }
                }
                JoinConstraint::Natural => {
                    self.error(
                        kw.or(whole),
                        "`NATURAL JOIN` is not supported by streamc",
                        Some("name the columns: `JOIN <table> USING (col, ...)`"),
                    );
                    return None;
                }
                JoinConstraint::None => {
                    self.error(
                        whole,
                        format!("`{written}` needs the columns to join on"),
                        Some(&format!("write `{written} {table} USING (col)` or `ON <stream>.col = {table}.col`")),
                    );
                    return None;
                }
                JoinConstraint::UsingAlias(..) => {
                    self.error(whole, "`USING (..) AS alias` is not supported by streamc", None);
                    return None;
                }
            }
            if on.is_empty() {
                return None;
            }
            Some((Step::Join { table, on, how }, whole, right))
        }

        /// One `a.col = b.col` term of a join's `ON`: the column, when both sides name it, one
        /// side from each table.
        fn join_key(&mut self, e: &ast::Expr, left: &Qualifiers, right: &Qualifiers) -> Option<String> {
            let pos = self.pos(e.span());
            const HELP: &str = "join on columns of the same name, `ON <stream>.col = <table>.col [AND ...]` or `USING (col)`; filter other conditions in `WHERE`";
            let ast::Expr::BinaryOp { left: a, op: BinaryOperator::Eq, right: b } = e else {
                self.error(pos, format!("streamc joins on equal columns, found `{e}`"), Some(HELP));
                return None;
            };
            // Which table a column reference names: Some(true) the stream, Some(false) the
            // table, None unqualified.
            let side = |x: &ast::Expr| -> Option<(Option<bool>, String)> {
                match x {
                    ast::Expr::Identifier(id) => Some((None, id.value.clone())),
                    ast::Expr::CompoundIdentifier(p) if p.len() == 2 => {
                        let q = &p[0].value;
                        let s = if right.contains(q) {
                            Some(false)
                        } else if left.contains(q) {
                            Some(true)
                        } else {
                            return None;
                        };
                        Some((s, p[1].value.clone()))
                    }
                    _ => None,
                }
            };
            match (side(a), side(b)) {
                (Some((sa, ca)), Some((sb, cb))) if ca == cb && (sa.is_none() || sb.is_none() || sa != sb) => Some(ca),
                (Some((_, ca)), Some((_, cb))) if ca != cb => {
                    self.error(pos, format!("streamc joins on columns of the same name, found `{e}`"), Some(HELP));
                    None
                }
                (Some(_), Some(_)) => {
                    self.error(pos, format!("`{e}` compares columns of the same table"), Some(HELP));
                    None
                }
                _ => {
                    let qs: Vec<&str> = left.iter().chain(right).map(String::as_str).collect();
                    let help = format!(
                        "the sides of a join's `=` are columns, qualified with a table's name or alias ({})",
                        qs.join(", ")
                    );
                    self.error(pos, format!("streamc joins on equal columns, found `{e}`"), Some(&help));
                    None
                }
            }
        }

        /// The `INNER`/`LEFT`/`OUTER`/`JOIN`... keywords written just before byte `at` (the
        /// joined table): sqlparser keeps no span for them.
        fn join_keywords(&self, at: usize) -> Option<Pos> {
            const KEYWORDS: [&str; 10] =
                ["join", "inner", "left", "right", "full", "outer", "cross", "natural", "semi", "anti"];
            let text = &self.sql[..at];
            let mut start = None;
            let mut end = None;
            let mut rest = text.trim_end();
            loop {
                let word_start = rest.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
                let word = &rest[word_start..];
                if word.is_empty() || !KEYWORDS.contains(&word.to_ascii_lowercase().as_str()) {
                    break;
                }
                end.get_or_insert(rest.len());
                start = Some(word_start);
                rest = rest[..word_start].trim_end();
            }
            let (start, end) = (start?, end?);
            Some(Pos { start, len: end - start })
        }

        /// The position of `word` (a keyword, any case) as the next word after byte `from`.
        fn word_after(&self, from: usize, word: &str) -> Option<Pos> {
            let lower = self.sql.get(from..)?.to_ascii_lowercase();
            let i = lower.find(word)?;
            Some(Pos { start: from + i, len: word.len() })
        }

        /// `SELECT * FROM a UNION ALL SELECT * FROM b ...` (or the same column list on every
        /// side): the first source, a `Union` step per other source, then the shared projection.
        fn union(&mut self, body: &SetExpr) -> Option<Lowered> {
            let mut sides = Vec::new();
            if !self.union_sides(body, &mut sides) {
                return None;
            }
            let mut lowered: Option<(Lowered, &ast::Select, Qualifiers, Vec<String>)> = None;
            for s in sides {
                let (table, tpos, quals) = self.union_side(s)?;
                let items = self.union_items(s, &quals)?;
                match &mut lowered {
                    None => lowered = Some((Lowered { from: (table, tpos), steps: Vec::new() }, s, quals, items)),
                    Some((l, _, _, first)) => {
                        if &items != first {
                            let pos = self.list_pos(s.projection.iter().map(Spanned::span));
                            self.error(
                                pos,
                                "the sides of `UNION ALL` select different columns",
                                Some("select `*` or the same columns on every side, and project after the union: `SELECT ... FROM (SELECT * FROM a UNION ALL SELECT * FROM b)`"),
                            );
                            return None;
                        }
                        l.steps.push((Step::Union { source: table, watermark: None }, tpos));
                    }
                }
            }
            let (mut l, first, quals, items) = lowered?;
            if items != ["*"] {
                self.projection(first, &quals, &mut l.steps);
            }
            Some(l)
        }

        /// The `SELECT`s of `a UNION ALL b UNION ALL c`, in order; false after an error.
        fn union_sides<'q>(&mut self, e: &'q SetExpr, out: &mut Vec<&'q ast::Select>) -> bool {
            match e {
                SetExpr::SetOperation { left, op, set_quantifier, right } => {
                    let (lpos, rpos) = (self.pos(left.span()), self.pos(right.span()));
                    // The operator's keywords, between the two sides (sqlparser keeps no span).
                    let pos = lpos.zip(rpos).and_then(|(l, r)| {
                        let between = self.sql.get(l.start + l.len..r.start)?;
                        let trimmed = between.trim_matches(|c: char| c.is_whitespace() || c == '(' || c == ')');
                        let at = l.start + l.len + between.find(trimmed)?;
                        Some(Pos { start: at, len: trimmed.len().max(1) })
                    });
                    match (op, set_quantifier) {
                        (SetOperator::Union, SetQuantifier::All) => {}
                        (SetOperator::Union, SetQuantifier::None | SetQuantifier::Distinct) => {
                            self.error(
                                pos,
                                "`UNION` (distinct) of streaming queries is not supported by streamc yet",
                                Some("write `UNION ALL`; for distinct rows, `SELECT DISTINCT cols FROM (... UNION ALL ...)`"),
                            );
                            return false;
                        }
                        (op, q) => {
                            let what = format!("{op} {q}");
                            self.error(
                                pos,
                                format!("`{}` of streaming queries is not supported by streamc", what.trim()),
                                Some("streamc unions streams with `UNION ALL`"),
                            );
                            return false;
                        }
                    }
                    self.union_sides(left, out) && self.union_sides(right, out)
                }
                SetExpr::Select(s) => {
                    out.push(s);
                    true
                }
                other => {
                    let pos = self.pos(other.span());
                    self.error(pos, "each side of `UNION ALL` is `SELECT * FROM <source>`", Some(UNION_HELP));
                    false
                }
            }
        }

        /// A side of `UNION ALL`: the source it reads, its position and qualifiers, when the side
        /// is a plain `SELECT ... FROM <source>`.
        fn union_side(&mut self, s: &ast::Select) -> Option<(String, Option<Pos>, Qualifiers)> {
            let group_by = group_exprs(&s.group_by);
            let wrong: Option<Span> = match &s.from[..] {
                [t] if !t.joins.is_empty() => Some(t.joins[0].span()),
                [t] if !matches!(t.relation, TableFactor::Table { args: None, .. }) => Some(t.relation.span()),
                [_] => s
                    .selection
                    .as_ref()
                    .map(Spanned::span)
                    .or_else(|| s.lateral_views.first().map(Spanned::span))
                    .or_else(|| group_by.first().map(Spanned::span))
                    .or_else(|| s.having.as_ref().map(Spanned::span))
                    .or_else(|| s.projection.iter().filter_map(item_expr).find(|e| is_aggregate(e)).map(Spanned::span))
                    .or_else(|| s.distinct.is_some().then_some(s.select_token.0.span))
                    .or_else(|| (!matches!(s.group_by, GroupByExpr::Expressions(..))).then(|| s.span())),
                _ => Some(s.span()),
            };
            if let Some(span) = wrong {
                let mut pos = self.pos(span);
                // A subquery's span leaves out its parentheses.
                if let (Some(p), [t]) = (pos, &s.from[..])
                    && matches!(t.relation, TableFactor::Derived { alias: None, .. })
                    && let (Some(before), Some(after)) = (
                        self.sql[..p.start].trim_end().strip_suffix('('),
                        self.sql[p.start + p.len..].trim_start().strip_prefix(')'),
                    )
                {
                    let end = self.sql.len() - after.len();
                    pos = Some(Pos { start: before.len(), len: end - before.len() });
                }
                self.error(pos, "each side of `UNION ALL` is `SELECT * FROM <source>`", Some(UNION_HELP));
                return None;
            }
            let (Lowered { from, .. }, quals) = self.relation(&s.from[0].relation)?;
            Some((from.0, from.1, quals))
        }

        /// A side's select list, to compare with the other sides' (`*` for `SELECT *`).
        fn union_items(&mut self, s: &ast::Select, quals: &Qualifiers) -> Option<Vec<String>> {
            let mut out = Vec::new();
            for item in &s.projection {
                out.push(match item {
                    SelectItem::Wildcard(_) => "*".to_string(),
                    SelectItem::UnnamedExpr(e) => self.expr(e, quals)?.to_string(),
                    SelectItem::ExprWithAlias { expr, alias } => {
                        format!("{} AS {}", self.expr(expr, quals)?, alias.value)
                    }
                    other => {
                        let pos = self.pos(other.span());
                        self.error(pos, format!("`{other}` is not supported in a select list by streamc"), None);
                        return None;
                    }
                });
            }
            Some(out)
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
                    self.error(
                        pos,
                        "parenthesized joins are not supported by streamc",
                        Some("write `FROM <stream> JOIN <table> USING (col)`"),
                    );
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
            // The time window key (`window(..)` or `session_window(..)`) and its function name.
            let mut window: Option<(Expr, &'static str)> = None;
            let mut group: Vec<(Expr, Option<Pos>, bool)> = Vec::new();
            for k in keys {
                let kpos = self.pos(k.span());
                let e = self.expr(k, quals)?;
                if let Some(kind) = time_window(&e) {
                    if let Some((w, _)) = &window {
                        let msg = format!("a query groups by one time window, found `{e}` after `{w}`");
                        self.error(kpos, msg, Some("group by one `window(..)` or `session_window(..)`"));
                    } else {
                        window = Some((e.clone(), kind));
                    }
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
                if let Some((kind, bound)) = window_bound(e) {
                    rank = 0;
                    let Some((w, _)) = window.as_ref().filter(|(_, k)| *k == kind) else {
                        let args = if kind == "window" { "<time>, <duration>, ..." } else { "<time>, <gap>" };
                        self.error(ipos, format!("`{e}` needs `GROUP BY {kind}({args})`"), None);
                        continue;
                    };
                    for b in bound {
                        let name = format!("{kind}_{b}");
                        if alias.as_ref().is_some_and(|a| a != &name && !(bound.len() == 2 && a == kind)) {
                            self.error(
                                ipos,
                                format!("streamc names the {kind}'s {b} `{name}`"),
                                Some(&format!("write `{kind}.{b} AS {name}`")),
                            );
                        }
                        bounds.push(name);
                    }
                    if let Some(g) = group.iter_mut().find(|g| &g.0 == w) {
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
                        Some(g) if time_window(&x).is_some() => {
                            g.2 = true;
                            let kind = time_window(&x).unwrap_or("window");
                            self.error(
                                ipos,
                                format!("streamc flattens the {kind} into `{kind}_start` and `{kind}_end`"),
                                Some(&format!("select `{kind}.start AS {kind}_start, {kind}.end AS {kind}_end`")),
                            );
                        }
                        Some(g) => {
                            g.2 = true;
                            out_keys.push((x, alias));
                        }
                        // A misspelt aggregate (`cout(*)`) or function: say so, not MISSING_AGGREGATION.
                        None if let Expr::Call(f, _) = &x
                            && functions::scalar(f).is_none()
                            && functions::aggregate(f).is_none() =>
                        {
                            let e = functions::unknown_function(f);
                            self.error(ipos, e.message, e.help.as_deref());
                            continue;
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
            let kind = window.as_ref().map_or("window", |(_, k)| *k);
            if bounds.len() == 1 || (bounds.len() == 2 && bounds[0] != format!("{kind}_start")) || bounds.len() > 2 {
                self.error(
                    pos,
                    format!(
                        "select both {kind} bounds, in order: `{kind}.start AS {kind}_start, {kind}.end AS {kind}_end`"
                    ),
                    None,
                );
            }
            for (e, kpos, selected) in &group {
                if !selected {
                    let (what, help) = if let Some(kind) = time_window(e) {
                        (kind.to_string(), format!("select `{kind}.start AS {kind}_start, {kind}.end AS {kind}_end`"))
                    } else {
                        (format!("key `{e}`"), format!("select `{e}`"))
                    };
                    let msg = format!("the grouping {what} is not selected; streamc outputs every grouping key");
                    self.error(*kpos, msg, Some(&help));
                }
            }
            let mut all_keys: Vec<(Expr, Option<String>)> = window.into_iter().map(|(w, _)| (w, None)).collect();
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
                    [w, _]
                        if w.value.eq_ignore_ascii_case("window") || w.value.eq_ignore_ascii_case("session_window") =>
                    {
                        let kind = w.value.to_ascii_lowercase();
                        self.error(
                            pos,
                            format!("`{e}` is only allowed in the select list of `GROUP BY {kind}(..)`"),
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
                S::TypedString(ts) => {
                    // The span is the string's: widen it over the type name before it.
                    let ty = ts.data_type.to_string();
                    let pos = pos.map(|p| match self.sql[..p.start].trim_end() {
                        before if before.to_ascii_uppercase().ends_with(&ty.to_ascii_uppercase()) => {
                            let start = before.len() - ty.len();
                            Pos { start, len: p.start + p.len - start }
                        }
                        _ => p,
                    });
                    let help = match (&ts.data_type, &ts.value.value) {
                        (DataType::Date, Value::SingleQuotedString(s)) => format!("write `to_date('{s}')`"),
                        _ => "compare with a column, or convert a string with `to_date('yyyy-mm-dd')`".to_string(),
                    };
                    self.error(
                        pos,
                        format!("typed literals such as `{e}` are not supported by streamc yet"),
                        Some(&help),
                    );
                    return None;
                }
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

    const UNION_HELP: &str = "union the sources first, then filter, project or aggregate: `SELECT ... FROM (SELECT * FROM a UNION ALL SELECT * FROM b) WHERE ...`";

    /// The terms of `a AND b AND ...` (through parentheses).
    fn and_terms<'e>(e: &'e ast::Expr, out: &mut Vec<&'e ast::Expr>) {
        match e {
            ast::Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
                and_terms(left, out);
                and_terms(right, out);
            }
            ast::Expr::Nested(inner) => and_terms(inner, out),
            other => out.push(other),
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
                single_name(&f.name).is_some_and(|n| functions::aggregate(&n.to_ascii_lowercase()).is_some())
            }
            ast::Expr::Nested(x) => is_aggregate(x),
            _ => false,
        }
    }

    /// `window` or `session_window` when `e` is a call of one (a time window key).
    fn time_window(e: &Expr) -> Option<&'static str> {
        match e {
            Expr::Call(f, _) if f == "window" => Some("window"),
            Expr::Call(f, _) if f == "session_window" => Some("session_window"),
            _ => None,
        }
    }

    /// The struct columns of Spark's time windows and the fields a select item reads of one:
    /// `window.start` → ("window", ["start"]), `session_window.end` → ("session_window",
    /// ["end"]), `window` → both fields.
    fn window_bound(e: &ast::Expr) -> Option<(&'static str, &'static [&'static str])> {
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

    fn list(items: &[(crate::table::expr::Expr, Option<String>)]) -> String {
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
        assert!(errors("SELECT DISTINCT ON (a) a FROM t")[0].1.contains("DISTINCT ON"));
        assert!(errors("SELECT a, count(*) FROM t GROUP BY a HAVING count(*) > 1")[0].1.contains("HAVING"));
        assert!(errors("SELECT a FROM t, u")[0].1.contains("several tables"));
    }

    /// The text at an error's position.
    fn at(sql: &str, pos: Option<Pos>) -> &str {
        let p = pos.expect("a position");
        &sql[p.start..p.start + p.len]
    }

    #[test]
    fn lowers_session_windows_like_windows() {
        assert_eq!(
            steps(
                "SELECT session_window.start AS session_window_start, session_window.end AS session_window_end, word, count(*) AS n FROM events GROUP BY session_window(timestamp, '5 minutes'), word"
            ),
            "from events; group_by [session_window(timestamp, '5 minutes'), word] agg [count(*) AS n]"
        );
        // The whole struct column, aliased to its name, is both bounds (as `window`).
        assert_eq!(
            steps("SELECT session_window, count(*) FROM events GROUP BY session_window(timestamp, '1 minute')")
                .split("; ")
                .nth(1),
            Some("group_by [session_window(timestamp, '1 minute')] agg [count(*)]")
        );
        let sql = "SELECT session_window.start AS s, session_window.end AS session_window_end, count(*) FROM events GROUP BY session_window(timestamp, '5 minutes')";
        let e = errors(sql);
        assert_eq!(e[0].1, "streamc names the session_window's start `session_window_start`");
        assert_eq!(at(sql, e[0].0), "session_window.start AS s");
        let sql = "SELECT count(*), session_window.start AS session_window_start, session_window.end AS session_window_end FROM events GROUP BY session_window(timestamp, '5 minutes')";
        let e = errors(sql);
        assert!(e[0].1.starts_with("streamc outputs the window bounds, then"), "{e:?}");
        assert_eq!(at(sql, e[0].0), "session_window.start AS session_window_start");
        let sql = "SELECT session_window.start AS session_window_start, count(*) FROM events GROUP BY window(timestamp, '5 minutes')";
        let e = errors(sql);
        assert_eq!(e[0].1, "`session_window.start` needs `GROUP BY session_window(<time>, <gap>)`");
        assert_eq!(at(sql, e[0].0), "session_window.start AS session_window_start");
        let sql = "SELECT word, count(*) FROM events GROUP BY session_window(timestamp, '5 minutes'), word";
        let e = errors(sql);
        assert!(e[0].1.starts_with("the grouping session_window is not selected"), "{e:?}");
        assert_eq!(at(sql, e[0].0), "session_window(timestamp, '5 minutes')");
        let sql = "SELECT window.start AS window_start, window.end AS window_end, count(*) FROM events GROUP BY window(timestamp, '5 minutes'), session_window(timestamp, '1 minute')";
        let e = errors(sql);
        assert!(e[0].1.starts_with("a query groups by one time window"), "{e:?}");
        assert_eq!(at(sql, e[0].0), "session_window(timestamp, '1 minute')");
        let sql = "SELECT session_window.end FROM events";
        assert_eq!(at(sql, errors(sql)[0].0), "session_window.end");
    }

    #[test]
    fn lowers_joins_with_static_tables() {
        assert_eq!(
            steps("SELECT word, category FROM events JOIN categories USING (word)"),
            "from events; Join { table: \"categories\", on: [\"word\"], how: Inner }; select [word, category]"
        );
        assert_eq!(
            steps(
                "SELECT e.word, c.category AS cat FROM events e LEFT OUTER JOIN categories AS c ON e.word = c.word AND (c.lang = e.lang) WHERE c.category <> 'x'"
            ),
            "from events; Join { table: \"categories\", on: [\"word\", \"lang\"], how: LeftOuter }; where (category != 'x'); select [word, category AS cat]"
        );
        assert_eq!(
            steps(
                "SELECT * FROM events LEFT JOIN categories ON events.word = categories.word INNER JOIN langs USING (lang)"
            ),
            "from events; Join { table: \"categories\", on: [\"word\"], how: LeftOuter }; Join { table: \"langs\", on: [\"lang\"], how: Inner }"
        );
        // The checker reports problems of the join (a stream, not a static table) at its text.
        let sql = "SELECT word FROM events JOIN other ON events.word = other.word";
        let l = lower(sql).expect("lowers");
        assert_eq!(at(sql, l.steps[0].1), "JOIN other ON events.word = other.word");

        let sql = "SELECT word FROM events RIGHT OUTER JOIN categories USING (word)";
        let e = errors(sql);
        assert_eq!(
            e[0].1,
            "`RIGHT OUTER JOIN` of a stream with a static table is not supported on streaming DataFrames/Datasets"
        );
        assert_eq!(at(sql, e[0].0), "RIGHT OUTER JOIN");
        let sql = "SELECT word FROM events full join categories USING (word)";
        assert_eq!(at(sql, errors(sql)[0].0), "full join");
        let sql = "SELECT word FROM events CROSS JOIN categories";
        let e = errors(sql);
        assert_eq!(e[0].1, "`CROSS JOIN` is not supported by streamc yet");
        assert_eq!(at(sql, e[0].0), "CROSS JOIN");
        let sql = "SELECT word FROM events LEFT SEMI JOIN categories USING (word)";
        assert_eq!(at(sql, errors(sql)[0].0), "LEFT SEMI JOIN");
        let sql = "SELECT word FROM events JOIN categories ON events.word = categories.name";
        let e = errors(sql);
        assert_eq!(e[0].1, "streamc joins on columns of the same name, found `events.word = categories.name`");
        assert_eq!(at(sql, e[0].0), "events.word = categories.name");
        let sql = "SELECT word FROM events e JOIN categories c ON e.word = c.word AND e.n > c.n";
        let e = errors(sql);
        assert_eq!(e[0].1, "streamc joins on equal columns, found `e.n > c.n`");
        assert_eq!(at(sql, e[0].0), "e.n > c.n");
        let sql = "SELECT word FROM events e JOIN categories c ON e.word = e.word";
        assert_eq!(errors(sql)[0].1, "`e.word = e.word` compares columns of the same table");
        let sql = "SELECT word FROM events JOIN categories ON x.word = categories.word";
        assert_eq!(at(sql, errors(sql)[0].0), "x.word = categories.word");
        let sql = "SELECT word FROM events JOIN (SELECT * FROM categories) c USING (word)";
        assert_eq!(at(sql, errors(sql)[0].0), "(SELECT * FROM categories) c");
        let sql = "SELECT word FROM events NATURAL JOIN categories";
        assert_eq!(errors(sql)[0].1, "`NATURAL JOIN` is not supported by streamc");
        let sql = "SELECT word FROM events JOIN categories";
        assert_eq!(errors(sql)[0].1, "`JOIN` needs the columns to join on");
        let sql = "SELECT c.category FROM events JOIN categories USING (word)";
        assert!(errors(sql)[0].1.contains("`c.category` is not a column streamc knows"));
    }

    #[test]
    fn lowers_select_distinct_as_spark_does_an_aggregation() {
        assert_eq!(
            steps("SELECT DISTINCT word, upper(word) AS w FROM events WHERE word <> ''"),
            "from events; where (word != ''); group_by [word, upper(word) AS w] agg []"
        );
        assert_eq!(
            steps("SELECT DISTINCT explode(split(value, ' ')) AS word FROM lines"),
            "from lines; select [explode(split(value, ' ')) AS word]; group_by [word] agg []"
        );
        let sql = "SELECT DISTINCT word, count(*) FROM events GROUP BY word";
        let e = errors(sql);
        assert_eq!(e[0].1, "Multiple streaming aggregations are not supported with streaming DataFrames/Datasets");
        assert_eq!(at(sql, e[0].0), "DISTINCT");
        let sql = "select distinct * from events";
        let e = errors(sql);
        assert_eq!(e[0].1, "`SELECT DISTINCT *` is not supported by streamc yet");
        assert_eq!(at(sql, e[0].0), "distinct");
        let sql = "SELECT DISTINCT ON (word) word FROM events";
        assert_eq!(at(sql, errors(sql)[0].0), "DISTINCT");
    }

    #[test]
    fn lowers_union_all_of_sources() {
        assert_eq!(
            steps("SELECT * FROM a UNION ALL SELECT * FROM b UNION ALL SELECT * FROM c"),
            "from a; Union { source: \"b\", watermark: None }; Union { source: \"c\", watermark: None }"
        );
        assert_eq!(
            steps("SELECT a.word, ts FROM a UNION ALL SELECT word, b.ts FROM b"),
            "from a; Union { source: \"b\", watermark: None }; select [word, ts]"
        );
        assert_eq!(
            steps("SELECT word, count(*) FROM (SELECT * FROM a UNION ALL SELECT * FROM b) GROUP BY word"),
            "from a; Union { source: \"b\", watermark: None }; group_by [word] agg [count(*)]"
        );
        let sql = "SELECT * FROM a UNION SELECT * FROM b";
        let e = errors(sql);
        assert_eq!(e[0].1, "`UNION` (distinct) of streaming queries is not supported by streamc yet");
        assert_eq!(at(sql, e[0].0), "UNION");
        let sql = "SELECT * FROM a EXCEPT SELECT * FROM b";
        let e = errors(sql);
        assert_eq!(e[0].1, "`EXCEPT` of streaming queries is not supported by streamc");
        assert_eq!(at(sql, e[0].0), "EXCEPT");
        let sql = "SELECT * FROM a UNION ALL SELECT * FROM b WHERE n > 1";
        let e = errors(sql);
        assert_eq!(e[0].1, "each side of `UNION ALL` is `SELECT * FROM <source>`");
        assert_eq!(at(sql, e[0].0), "n > 1");
        let sql = "SELECT word FROM a UNION ALL SELECT upper(word) FROM b";
        let e = errors(sql);
        assert_eq!(e[0].1, "the sides of `UNION ALL` select different columns");
        assert_eq!(at(sql, e[0].0), "upper(word)");
        let sql = "SELECT * FROM a UNION ALL SELECT * FROM (SELECT * FROM b)";
        assert_eq!(at(sql, errors(sql)[0].0), "(SELECT * FROM b)");
    }

    #[test]
    fn to_date_is_a_function_and_date_literals_are_errors() {
        assert_eq!(
            steps("SELECT to_date(timestamp) AS day, word FROM events"),
            "from events; select [to_date(timestamp) AS day, word]"
        );
        let sql = "SELECT word FROM events WHERE to_date(timestamp) = DATE '2024-01-01'";
        let e = lower(sql).expect_err("an error");
        assert_eq!(e[0].message, "typed literals such as `DATE '2024-01-01'` are not supported by streamc yet");
        assert_eq!(e[0].help.as_deref(), Some("write `to_date('2024-01-01')`"));
        assert_eq!(at(sql, e[0].pos), "DATE '2024-01-01'");
    }
}

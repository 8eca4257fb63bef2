//! `FROM` lowered to a source and steps: a source or subquery, joins with static tables, and
//! `UNION ALL` of sources.

use super::lowered::{Lowered, Pos};
use crate::table::Step;
use crate::table::{ColName, JoinHow};
use sqlparser::ast::{
    self, BinaryOperator, GroupByExpr, JoinConstraint, JoinOperator, SelectItem, SetExpr, SetOperator, SetQuantifier,
    Spanned, TableFactor,
};
use sqlparser::tokenizer::Span;

use super::cx::*;

impl Cx<'_> {
    /// `[INNER | LEFT [OUTER]] JOIN table [alias] USING (cols)` or `ON a.col = b.col [AND
    /// ...]`: a join with a static table of `sources:` (the checker makes sure it is one).
    /// Returns the step and the names the table's columns may be qualified with.
    pub(super) fn join(&mut self, j: &ast::Join, left: &Qualifiers) -> Option<(Step, Option<Pos>, Qualifiers)> {
        let rel_pos = self.pos(j.relation.span());
        let kw = rel_pos.and_then(|p| self.join_keywords(p.start));
        let whole = match (kw, self.pos(j.span())) {
            (Some(k), Some(p)) => Some(Pos { start: k.start, len: (p.start + p.len).saturating_sub(k.start) }),
            (k, p) => p.or(k),
        };
        let written = kw.map_or_else(|| "JOIN".to_string(), |k| self.sql[k.start..k.start + k.len].to_uppercase());
        let written = written.split_whitespace().collect::<Vec<_>>().join(" ");
        let stream = match &j.relation {
            TableFactor::Table { name, .. } => single_name(name).is_some_and(|n| self.streams.contains(&n)),
            TableFactor::Derived { .. } => true,
            _ => false,
        };
        if stream {
            return self.stream_join(j, left, kw.or(whole), &written, whole);
        }
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
            self.error(rel_pos, format!("expected a source name, found `{name}`"), Some("name a source of `sources:`"));
            return None;
        };
        let mut right = vec![table.clone()];
        right.extend(alias.iter().map(|a| a.name.value.clone()));
        // Each key keeps its place in the text (the name in `USING`, the `=` in `ON`).
        let mut on: Vec<ColName> = Vec::new();
        match constraint {
            JoinConstraint::Using(names) => {
                for n in names {
                    let npos = self.pos(n.span());
                    match single_name(n) {
                        Some(c) if !on.iter().any(|k| k.name == c) => on.push(ColName::at(c, self.item_span(npos))),
                        Some(_) => {}
                        None => self.error(npos, format!("expected a column name, found `{n}`"), None),
                    }
                }
            }
            JoinConstraint::On(e) => {
                let mut conjuncts = Vec::new();
                and_terms(e, &mut conjuncts);
                for c in conjuncts {
                    if let Some(col) = self.join_key(c, left, &right)
                        && !on.iter().any(|k| k.name == col)
                    {
                        let cpos = self.pos(c.span());
                        on.push(ColName::at(col, self.item_span(cpos)));
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

    /// A join with a streaming source or a subquery over one: `[INNER | LEFT [OUTER] | RIGHT
    /// [OUTER] | FULL [OUTER] | LEFT SEMI] JOIN <stream or (SELECT ... FROM stream)> [alias] ON
    /// <condition>` (or `USING (cols)`, which streamc cannot keep apart on both sides).
    fn stream_join(
        &mut self,
        j: &ast::Join,
        left: &Qualifiers,
        kw: Option<Pos>,
        written: &str,
        whole: Option<Pos>,
    ) -> Option<(Step, Option<Pos>, Qualifiers)> {
        let (how, constraint) = match &j.join_operator {
            JoinOperator::Join(c) | JoinOperator::Inner(c) => (JoinHow::Inner, c),
            JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (JoinHow::LeftOuter, c),
            JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (JoinHow::RightOuter, c),
            JoinOperator::FullOuter(c) => (JoinHow::FullOuter, c),
            JoinOperator::LeftSemi(c) | JoinOperator::Semi(c) => (JoinHow::LeftSemi, c),
            _ => {
                self.error(
                    kw,
                    format!("`{written}` of two streams is not supported by streamc"),
                    Some("streams join with `JOIN`, `LEFT|RIGHT|FULL [OUTER] JOIN` or `LEFT SEMI JOIN ... ON <condition>`"),
                );
                return None;
            }
        };
        let (lowered, quals) = self.relation(&j.relation)?;
        let JoinConstraint::On(on) = constraint else {
            let what = if matches!(constraint, JoinConstraint::Using(_)) {
                format!("`{written} ... USING (..)` of two streams is not supported by streamc yet")
            } else {
                format!("`{written}` of two streams needs its condition")
            };
            self.error(
                whole,
                format!("{what}: write `ON left.col = right.col [AND ...]`"),
                Some("write `ON` with the columns of both sides (name them apart: `JOIN (SELECT adId AS clickAdId, ... FROM clicks) ON clickAdId = adId`)"),
            );
            return None;
        };
        let mut all = left.clone();
        all.extend(quals.iter().cloned());
        let on = self.expr(on, &all)?;
        let steps = lowered.steps.into_iter().map(|(s, _)| (s, crate::span::SpanId::default())).collect();
        let join = crate::table::StreamJoin {
            source: lowered.from.0,
            source_span: crate::span::SpanId::default(),
            watermark: None,
            steps,
            on,
            how,
        };
        Some((Step::StreamJoin(Box::new(join)), whole, quals))
    }

    /// One `a.col = b.col` term of a join's `ON`: the column, when both sides name it, one
    /// side from each table.
    pub(super) fn join_key(&mut self, e: &ast::Expr, left: &Qualifiers, right: &Qualifiers) -> Option<String> {
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
    pub(super) fn join_keywords(&self, at: usize) -> Option<Pos> {
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
    pub(super) fn word_after(&self, from: usize, word: &str) -> Option<Pos> {
        let lower = self.sql.get(from..)?.to_ascii_lowercase();
        let i = lower.find(word)?;
        Some(Pos { start: from + i, len: word.len() })
    }

    /// `SELECT * FROM a UNION ALL SELECT * FROM b ...` (or the same column list on every
    /// side): the first source, a `Union` step per other source, then the shared projection.
    pub(super) fn union(&mut self, body: &SetExpr) -> Option<Lowered> {
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
    pub(super) fn union_sides<'q>(&mut self, e: &'q SetExpr, out: &mut Vec<&'q ast::Select>) -> bool {
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
                            Some(
                                "write `UNION ALL`; for distinct rows, `SELECT DISTINCT cols FROM (... UNION ALL ...)`",
                            ),
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
    pub(super) fn union_side(&mut self, s: &ast::Select) -> Option<(String, Option<Pos>, Qualifiers)> {
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
    pub(super) fn union_items(&mut self, s: &ast::Select, quals: &Qualifiers) -> Option<Vec<String>> {
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
    pub(super) fn relation(&mut self, r: &TableFactor) -> Option<(Lowered, Qualifiers)> {
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
                self.depth += 1;
                let inner = self.query(subquery);
                self.depth -= 1;
                Some((inner?, alias.iter().map(|a| a.name.value.clone()).collect()))
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
}

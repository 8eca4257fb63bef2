//! `SELECT` lowered to steps: the select list, `WHERE`, `LATERAL VIEW`, `DISTINCT` and the
//! aggregation of `GROUP BY`.

use super::lowered::{Lowered, Pos};
use crate::span::SpanId;
use crate::table::expr::Expr;
use crate::table::functions;
use crate::table::spark::{LIMIT, SORT};
use crate::table::{Item, Step};
use sqlparser::ast::{self, Distinct, GroupByExpr, ObjectNamePart, SelectItem, Spanned};

use super::cx::*;

impl Cx<'_> {
    pub(super) fn select(&mut self, s: &ast::Select) -> Option<Lowered> {
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
                    self.error(pos, "`LATERAL VIEW` needs one column name: `LATERAL VIEW explode(..) t AS word`", None);
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
            let array_pos = self.pos(lv.lateral_view.span());
            let array_span = self.item_span(array_pos);
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
            let mut items: Vec<Item> = used
                .into_iter()
                .filter(|c| c != &name && c != "window" && c != "session_window")
                .map(|c| Item::new(Expr::Column(c), None))
                .collect();
            items.push(Item::at(array, Some(name), array_span));
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
            if let Some((step, pos, post)) = self.aggregate(s, &keys, &quals) {
                let (mut step, mut post) = ((step, pos), post);
                let mut filter = None;
                if let (Some(h), Step::GroupBy { aggs, keys, .. }) = (&s.having, &mut step.0) {
                    let hpos = self.pos(h.span());
                    let hspan = self.item_span(hpos);
                    if let Some(e) = self.expr(h, &quals) {
                        // An aggregate that is not selected is computed under a hidden name
                        // and dropped by a projection after the filter.
                        let before = aggs.len();
                        let e = hoist(&e, &mut *aggs, hspan);
                        if aggs.len() > before && post.is_none() {
                            let mut items: Vec<Item> = Vec::new();
                            for k in keys.iter() {
                                let column = |name: String| Item::at(Expr::Column(name), None, k.span);
                                match time_window(&k.expr) {
                                    Some(kind) => {
                                        let w = k.alias.as_deref().unwrap_or(kind);
                                        items.push(column(format!("{w}_start")));
                                        items.push(column(format!("{w}_end")));
                                    }
                                    None => items.push(column(
                                        k.alias.clone().unwrap_or_else(|| crate::table::column_name(&k.expr)),
                                    )),
                                }
                            }
                            items.extend(aggs[..before].iter().map(|a| {
                                let name = a.alias.clone().unwrap_or_else(|| agg_name(&a.expr));
                                Item::at(Expr::Column(name), None, a.span)
                            }));
                            post = Some(items);
                        }
                        filter = Some((Step::Where(e), hpos));
                    }
                }
                steps.push(step);
                steps.extend(filter);
                if let Some(items) = post {
                    steps.push((Step::Select(items), pos));
                }
            }
        } else if let Some(h) = &s.having {
            let pos = self.pos(h.span());
            self.error(pos, "`HAVING` needs an aggregation (`GROUP BY` or aggregate functions)", None);
        } else if distinct {
            self.distinct(s, &quals, distinct_pos, &mut steps);
        } else {
            self.projection(s, &quals, &mut steps);
        }
        Some(Lowered { from, steps })
    }

    /// `SELECT DISTINCT items`: Spark's aggregation grouped by every selected column, without
    /// aggregate functions (so `append` needs a watermark on a selected event-time column).
    pub(super) fn distinct(
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
        let keys = if items.iter().any(|it| matches!(&it.expr, Expr::Call(f, _) if f == "explode")) {
            items
                .iter()
                .map(|it| {
                    let name = match (&it.alias, &it.expr) {
                        (Some(a), _) => a.clone(),
                        (None, Expr::Call(f, _)) if f == "explode" => "col".to_string(),
                        (None, e) => crate::table::column_name(e),
                    };
                    Item::at(Expr::Column(name), None, it.span)
                })
                .collect()
        } else {
            let Some((Step::Select(items), _)) = steps.pop() else { return };
            items
        };
        steps.push((Step::GroupBy { keys, aggs: Vec::new(), distinct: true }, pos));
    }

    /// The select list of a query without aggregates: `*` (every column), `*, expr AS name`
    /// (added columns), or a projection.
    pub(super) fn projection(&mut self, s: &ast::Select, quals: &Qualifiers, steps: &mut Vec<(Step, Option<Pos>)>) {
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
            let ispan = self.item_span(ipos);
            match item {
                SelectItem::UnnamedExpr(e) => items.extend(self.expr(e, quals).map(|e| Item::at(e, None, ispan))),
                SelectItem::ExprWithAlias { expr, alias } => {
                    items.extend(self.expr(expr, quals).map(|e| Item::at(e, Some(alias.value.clone()), ispan)))
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
    pub(super) fn aggregate(
        &mut self,
        s: &ast::Select,
        keys: &[ast::Expr],
        quals: &Qualifiers,
    ) -> Option<(Step, Option<Pos>, Option<Items>)> {
        let pos = self.list_pos(s.projection.iter().map(Spanned::span));
        // The time window key (`window(..)` or `session_window(..)`) and its function name.
        let mut window: Option<(Expr, &'static str, Option<SpanId>)> = None;
        let mut group: Vec<(Expr, Option<Pos>, bool)> = Vec::new();
        for k in keys {
            let kpos = self.pos(k.span());
            let e = self.expr(k, quals)?;
            if let Some(kind) = time_window(&e) {
                if let Some((w, ..)) = &window {
                    let msg = format!("a query groups by one time window, found `{e}` after `{w}`");
                    self.error(kpos, msg, Some("group by one `window(..)` or `session_window(..)`"));
                } else {
                    window = Some((e.clone(), kind, self.item_span(kpos)));
                }
            }
            group.push((e, kpos, false));
        }
        // (rank, expr, alias): 0 window bounds, 1 keys, 2 aggregates.
        let mut out_keys = Vec::new();
        let mut aggs = Vec::new();
        let mut last_rank = 0;
        let mut bounds = Vec::new();
        let mut window_alias: Option<String> = None;
        // The select list after the aggregation, when an item computes over aggregates.
        let mut post: Vec<Item> = Vec::new();
        let mut computed = false;
        for item in &s.projection {
            let ipos = self.pos(item.span());
            let ispan = self.item_span(ipos);
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
                let Some((w, ..)) = window.as_ref().filter(|(_, k, _)| *k == kind) else {
                    let args = if kind == "window" { "<time>, <duration>, ..." } else { "<time>, <gap>" };
                    self.error(ipos, format!("`{e}` needs `GROUP BY {kind}({args})`"), None);
                    continue;
                };
                // The whole window under another name (`window AS w`, which a later stage reads
                // with `window_time(w)`): its bounds are `w_start` and `w_end`.
                let whole = alias.as_ref().filter(|_| bound.len() == 2);
                if let Some(a) = whole {
                    window_alias = Some(a.clone());
                }
                // The whole window, unnamed, in the query's own select: Spark's struct column
                // `window` (a subquery's stays flat, for the stage after it to read).
                let as_struct = alias.is_none() && bound.len() == 2 && self.depth == 0;
                if as_struct {
                    computed = true;
                    let field = |b: &str| [Expr::Str(b.into()), Expr::Column(format!("{kind}_{b}"))];
                    let fields = [field("start"), field("end")].concat();
                    post.push(Item::at(Expr::Call("named_struct".into(), fields), Some(kind.to_string()), ispan));
                }
                for b in bound {
                    let name = format!("{}_{b}", whole.map_or(kind, |a| a.as_str()));
                    if !as_struct {
                        post.push(Item::at(Expr::Column(name.clone()), None, ispan));
                    }
                    if alias.as_ref().is_some_and(|a| a != &name && bound.len() == 1) {
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
                let name = alias.clone().unwrap_or_else(|| agg_name(&x));
                aggs.push(Item::at(x, alias, ispan));
                post.push(Item::at(Expr::Column(name), None, ispan));
                continue_rank(&mut last_rank, rank);
                continue;
            } else if let Some(x) = self.expr_quiet(e, quals).filter(contains_aggregate) {
                // An expression over aggregates (`count(*) * 2`): the aggregates are computed
                // under hidden names, then a projection after the aggregation computes it.
                rank = 2;
                let name = alias.clone().unwrap_or_else(|| crate::table::column_name(&x));
                let x = hoist(&x, &mut aggs, ispan);
                computed = true;
                post.push(Item::at(x, Some(name), ispan));
                continue_rank(&mut last_rank, rank);
                continue;
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
                        let name = alias.clone().unwrap_or_else(|| crate::table::column_name(&x));
                        post.push(Item::at(Expr::Column(name), None, ispan));
                        out_keys.push(Item::at(x, alias, ispan));
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
        let kind = window.as_ref().map_or("window", |(_, k, _)| *k);
        let named = window_alias.as_deref().unwrap_or(kind);
        if bounds.len() == 1 || (bounds.len() == 2 && bounds[0] != format!("{named}_start")) || bounds.len() > 2 {
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
        let mut all_keys: Vec<Item> =
            window.into_iter().map(|(w, _, wspan)| Item::at(w, window_alias.clone(), wspan)).collect();
        all_keys.extend(out_keys);
        let post = computed.then_some(post);
        Some((Step::GroupBy { keys: all_keys, aggs, distinct: false }, pos, post))
    }
}

/// Select items: expressions with their aliases and positions.
type Items = Vec<Item>;

fn continue_rank(last: &mut usize, rank: usize) {
    *last = (*last).max(rank);
}

/// Spark's default name of an aggregate's column (`count(*)` → `count`... as the registry says).
fn agg_name(x: &Expr) -> String {
    match x {
        Expr::Call(f, args) => {
            let arg = match args.first() {
                None | Some(Expr::Star) => None,
                Some(a) => Some(a),
            };
            crate::table::functions::aggregate(f).map_or_else(|| x.to_string(), |d| (d.column)(f, arg))
        }
        other => other.to_string(),
    }
}

fn contains_aggregate(e: &Expr) -> bool {
    e.calls(&|f| crate::table::functions::aggregate(f).is_some())
}

/// `e` with each aggregate call replaced by the column of that aggregate in `aggs` (added under
/// a hidden name when it is not there, at `span`: the item or `HAVING` it was written in).
fn hoist(e: &Expr, aggs: &mut Vec<Item>, span: Option<SpanId>) -> Expr {
    match e {
        Expr::Call(f, _) if crate::table::functions::aggregate(f).is_some() => {
            if let Some(a) = aggs.iter().find(|a| a.expr == *e) {
                return Expr::Column(a.alias.clone().unwrap_or_else(|| agg_name(&a.expr)));
            }
            let name = format!("__agg{}", aggs.len());
            aggs.push(Item::at(e.clone(), Some(name.clone()), span));
            Expr::Column(name)
        }
        Expr::Call(f, args) => Expr::Call(f.clone(), args.iter().map(|a| hoist(a, aggs, span)).collect()),
        Expr::Unary(op, x) => Expr::Unary(*op, Box::new(hoist(x, aggs, span))),
        Expr::Binary(op, a, b) => Expr::Binary(*op, Box::new(hoist(a, aggs, span)), Box::new(hoist(b, aggs, span))),
        other => other.clone(),
    }
}

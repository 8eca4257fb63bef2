//! Reading a chain of table methods: its root (`read_stream` or a bound table), its steps
//! (`select`, `where_`, `group_by` + `count`/`agg`, ...) and where it ends (`write_stream`).

use super::*;

impl Cx<'_> {
    /// Lowers one chain: a source, table steps, and possibly `write_stream()` and its sink.
    pub(super) fn chain(&mut self, expr: &syn::Expr, binding: Option<(&str, SpanId)>) -> Option<Done> {
        let (root, links) = flatten(expr);
        let mut links = &links[..];
        let mut tab = match root {
            Root::Name(n, span) if n == "read_stream" => {
                let (src, rest) = split_source(links);
                links = rest;
                let whole = links.is_empty();
                self.source(span, src, binding.filter(|_| whole).map(|(n, _)| n))?
            }
            Root::Call(n, span, args) if n == "read_stream" => {
                if !args.is_empty() {
                    let s = self.span(span);
                    self.diags.error(s, "`read_stream` takes no arguments").help("write `read_stream.json(\"dir\")`");
                    return None;
                }
                let (src, rest) = split_source(links);
                links = rest;
                let whole = links.is_empty();
                self.source(span, src, binding.filter(|_| whole).map(|(n, _)| n))?
            }
            Root::Name(n, span) if n == "read" || (n == "spark" && links.first().is_some_and(|l| l.name == "read")) => {
                // Spark's `spark.read`: a static table, for joins.
                let skip = usize::from(n == "spark");
                let (src, rest) = split_source(&links[skip..]);
                if !rest.is_empty() {
                    let s = self.span(rest[0].span);
                    self.diags
                        .error(s, "a static table is only joined with a stream")
                        .help("bind it (`let categories = read.json(\"file\").schema(\"..\");`) and write `events.join(categories, [\"word\"], \"inner\")`");
                    return None;
                }
                links = rest;
                let tab = self.source(span, src, binding.map(|(n, _)| n))?;
                let source = &mut self.table.sources[tab.source];
                match source.kind.clone() {
                    SourceKind::Files { format: format @ (Format::Json | Format::Csv), path, .. } => {
                        source.kind = SourceKind::Static { format, path };
                    }
                    _ => {
                        let s = self.span(span);
                        self.diags
                            .error(s, "a static table is read from a JSON or CSV file: `read.json(\"file\")` or `read.csv(\"file\")`");
                        return None;
                    }
                }
                tab
            }
            Root::Name(n, span) if n == "spark" && links.first().is_some_and(|l| l.name == "read_stream") => {
                let (src, rest) = split_source(&links[1..]);
                links = rest;
                let whole = links.is_empty();
                self.source(span, src, binding.filter(|_| whole).map(|(n, _)| n))?
            }
            Root::Name(n, span) => {
                let s = self.span(span);
                self.table_named(&n, s)?
            }
            Root::Call(n, span, _) => {
                let s = self.span(span);
                if SOURCE_NAMES.contains(&n.as_str()) {
                    self.diags
                        .error(s, format!("`{n}` is a DStream source, but this `stream!` block is a Structured Streaming program"))
                        .help("a `stream!` block holds either DStreams or Structured Streaming tables, not both; read a table with `read_stream.socket(\"localhost\", 9999)`");
                } else {
                    self.diags
                        .error(s, format!("expected a table, found a call of `{n}`"))
                        .help("a table starts at `read_stream.<format>(..)` or at a table's name");
                }
                return None;
            }
            Root::Other(span) => {
                let s = self.span(span);
                self.diags.error(
                    s,
                    "expected a table expression: `read_stream.<format>(..)`, a table name, or `table.method(..)`",
                );
                return None;
            }
        };
        if let Some((name, _)) = binding
            && links.is_empty()
        {
            tab.binding = Some(name.to_string());
        }
        while let Some((link, rest)) = links.split_first() {
            links = rest;
            if link.name == "write_stream" {
                self.query(tab, link, rest, binding)?;
                return Some(Done::Query);
            }
            self.step(&mut tab, link)?;
        }
        if let Some((name, _)) = binding {
            tab.binding = Some(name.to_string());
        }
        Some(Done::Table(tab))
    }

    pub(super) fn table_named(&mut self, name: &str, span: SpanId) -> Option<Tab> {
        if let Some(t) = self.tables.get(name) {
            let mut t = t.clone();
            t.binding = Some(name.to_string());
            return Some(t);
        }
        if self.poisoned.iter().any(|p| p == name) {
            return None;
        }
        if self.queries.iter().any(|q| q == name) {
            self.diags
                .error(span, format!("`{name}` is a query, not a table"))
                .help("bind the table before `write_stream()` and start the second query from it");
        } else if self.later.iter().any(|l| l == name) {
            self.diags
                .error(span, format!("table `{name}` is used before it is defined"))
                .help(format!("move `let {name} = ...;` above this statement"));
        } else {
            let known: Vec<&str> = self.tables.keys().map(String::as_str).collect();
            let d = self.diags.error(span, format!("table `{name}` is not defined"));
            d.label("no table has this name");
            match suggest(name, &known) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("a table starts at `read_stream.<format>(..)`, e.g. `read_stream.json(\"dir\")`"),
            };
        }
        None
    }

    /// One table method.
    pub(super) fn step(&mut self, tab: &mut Tab, l: &Link<'_>) -> Option<()> {
        let span = self.span(l.span);
        let name = l.name.as_str();
        if tab.group.is_some() && !matches!(name, "count" | "agg") {
            self.diags
                .error(span, format!("`{name}` after `group_by`: the grouped table needs `.count()` or `.agg([..])` first"))
                .help("write `.group_by([\"word\"]).count()` or `.group_by([\"word\"]).agg([\"count(*)\", \"max(x) AS m\"])`");
            return None;
        }
        if !l.call {
            self.diags
                .error(span, format!("expected a method call, found the field `{name}`"))
                .help(format!("write `.{name}(..)`"));
            return None;
        }
        match name {
            "select" | "select_expr" => {
                let e = self.exprs(l, true)?;
                let s = self.step_span(&e.lits, span);
                tab.steps.push((Step::Select(e.items), s));
            }
            "where_" | "where" | "filter" => {
                let [x] = self.args::<1>(l, span, "1 argument (a condition such as `\"length(word) > 3\"`)")?;
                let (e, s) = self.expr(x)?;
                tab.steps.push((Step::Where(e), s));
            }
            "with_column" => {
                let [n, x] = self.args::<2>(l, span, "2 arguments (a column name and an expression)")?;
                let n = self.str_arg(n, "column name")?;
                let (e, s) = self.expr(x)?;
                tab.steps.push((Step::WithColumn(n, e), s));
            }
            "with_watermark" => {
                let [c, d] =
                    self.args::<2>(l, span, "2 arguments (an event-time column and a delay such as `\"10 minutes\"`)")?;
                let cs = self.span(c.span());
                let column = self.str_arg(c, "event-time column")?;
                let ds = self.span(d.span());
                let delay = match lit_str(d) {
                    Some(s) => duration::parse_delay_ms(&s.value()),
                    None => duration_of(d),
                };
                let delay_ms = match delay {
                    Ok(ms) => ms,
                    Err(msg) => {
                        self.diags.error(ds, msg).help("write a delay such as `\"10 minutes\"` or `Minutes(10)`");
                        return None;
                    }
                };
                tab.steps.push((Step::WithWatermark { column, delay_ms }, cs));
            }
            "group_by" => {
                let keys = self.exprs(l, true)?;
                tab.group = Some(Group { keys, method_span: span });
            }
            "drop_duplicates" | "drop_duplicates_within_watermark" => {
                let mut cols = Vec::new();
                for a in &l.args {
                    let items: Vec<&syn::Expr> = match a {
                        syn::Expr::Array(arr) => arr.elems.iter().collect(),
                        other => vec![other],
                    };
                    for e in items {
                        let es = self.span(e.span());
                        cols.push(ColName::at(self.str_arg(e, "column name")?, Some(es)));
                    }
                }
                let step = if l.name == "drop_duplicates" {
                    Step::DropDuplicates(cols)
                } else {
                    Step::DropDuplicatesWithinWatermark(cols)
                };
                tab.steps.push((step, span));
            }
            "map_groups_with_state" | "flat_map_groups_with_state" => {
                // `.map_groups_with_state(["key"], "StateType", "timeout", "output schema",
                // |key, rows, state| ..)`; the flat form has its output mode before the closure.
                let flat = l.name == "flat_map_groups_with_state";
                let want = if flat {
                    "6 arguments (the key columns, the state's Rust type, the timeout, the output schema, `\"append\"` or `\"update\"`, and the function `|key, rows, state| ..`)"
                } else {
                    "5 arguments (the key columns, the state's Rust type, the timeout (`\"none\"`, `\"processing_time\"` or `\"event_time\"`), the output schema such as `\"id STRING, n BIGINT\"`, and the function `|key, rows, state| ..`)"
                };
                let n = if flat { 6 } else { 5 };
                if l.args.len() != n {
                    self.diags.error(span, format!("`{}` takes {want}, found {}", l.name, l.args.len()));
                    return None;
                }
                let a: Vec<&syn::Expr> = l.args.to_vec();
                let mut keys = Vec::new();
                match a[0] {
                    syn::Expr::Array(arr) => {
                        for e in &arr.elems {
                            keys.push(self.str_arg(e, "key column")?);
                        }
                    }
                    other => keys.push(self.str_arg(other, "key column")?),
                }
                let state = self.str_arg(a[1], "state type")?;
                let ts = self.span(a[2].span());
                let t = self.str_arg(a[2], "timeout")?;
                let Some(timeout) = crate::table::GroupTimeout::parse(&t) else {
                    self.diags
                        .error(ts, format!("unknown timeout `{t}`"))
                        .help("the timeouts are `none`, `processing_time` and `event_time`");
                    return None;
                };
                let output = self.schema(a[3])?;
                let mode = if flat {
                    let ms = self.span(a[4].span());
                    match self.str_arg(a[4], "output mode")?.as_str() {
                        "append" => Some(crate::table::OutputMode::Append),
                        "update" => Some(crate::table::OutputMode::Update),
                        other => {
                            self.diags.error(
                                ms,
                                format!(
                                    "`flat_map_groups_with_state` runs in `append` or `update` mode, not `{other}`"
                                ),
                            );
                            return None;
                        }
                    }
                } else {
                    None
                };
                let function = a[n - 1].to_token_stream().to_string();
                let g = crate::table::GroupsWithState { flat, keys, state, output, function, timeout, mode };
                tab.steps.push((Step::GroupsWithState(Box::new(g)), span));
            }
            "union" => {
                let [other] = self.args::<1>(l, span, "1 argument (a table bound with `let`)")?;
                let os = self.span(other.span());
                let Some(name) = path_name(other) else {
                    self.diags
                        .error(os, "`union` takes the name of a table")
                        .help("bind the other input first: `let b = read_stream.json(\"dir\").schema(\"..\").with_watermark(\"timestamp\", \"5 minutes\");`");
                    return None;
                };
                let t = self.table_named(&name, os)?;
                let watermark = match &t.steps[..] {
                    [] => None,
                    [(Step::WithWatermark { column, delay_ms }, _)] => Some((column.clone(), *delay_ms)),
                    _ => {
                        self.diags
                            .error(
                                os,
                                format!("`{name}` must be a source, or a source with `with_watermark`, to be unioned"),
                            )
                            .help("put the other steps after the `union`");
                        return None;
                    }
                };
                let source = self.table.sources[t.source].name.clone();
                tab.steps.push((Step::Union { source, watermark }, span));
            }
            "join" => {
                let (table, on, how) = match &l.args[..] {
                    [t, on] => (t, on, None),
                    [t, on, how] => (t, on, Some(how)),
                    _ => {
                        self.diags
                            .error(span, format!("`join` takes 2 or 3 arguments (a static table, the key columns, and `\"inner\"` or `\"left_outer\"`), found {}", l.args.len()))
                            .help("write `events.join(categories, [\"word\"], \"left_outer\")`");
                        return None;
                    }
                };
                let ts = self.span(table.span());
                let Some(table) = path_name(table) else {
                    self.diags.error(ts, "`join` takes the name of a static table (`let t = read.json(\"file\")...;`)");
                    return None;
                };
                let t = self.table_named(&table, ts)?;
                if !matches!(self.table.sources[t.source].kind, crate::table::SourceKind::Static { .. }) {
                    // A stream-stream join: `left.join(right, "condition", "how")`, the right
                    // table a source with its `with_watermark` first and row steps after.
                    let mut steps = t.steps.clone();
                    let watermark = match steps.first() {
                        Some((Step::WithWatermark { column, delay_ms }, _)) => {
                            let w = (column.clone(), *delay_ms);
                            steps.remove(0);
                            Some(w)
                        }
                        _ => None,
                    };
                    let cond = match on {
                        syn::Expr::Call(c) if path_name(&c.func).as_deref() == Some("expr") && c.args.len() == 1 => {
                            &c.args[0]
                        }
                        other => other,
                    };
                    let (on, _) = self.expr(cond)?;
                    let how = match how {
                        None => JoinHow::Inner,
                        Some(h) => {
                            let hs = self.span(h.span());
                            let text = self.str_arg(h, "join type")?;
                            match JoinHow::parse(&text) {
                                Some(how) => how,
                                None => {
                                    self.diags
                                        .error(hs, format!("unsupported join type `{text}`"))
                                        .help("a stream-stream join is `inner`, `left_outer`, `right_outer`, `full_outer` or `left_semi`");
                                    return None;
                                }
                            }
                        }
                    };
                    let source = self.table.sources[t.source].name.clone();
                    let join = crate::table::StreamJoin { source, source_span: ts, watermark, steps, on, how };
                    tab.steps.push((Step::StreamJoin(Box::new(join)), span));
                    return Some(());
                }
                let table = self.table.sources[t.source].name.clone();
                let items: Vec<&syn::Expr> = match on {
                    syn::Expr::Array(arr) => arr.elems.iter().collect(),
                    other => vec![other],
                };
                let mut cols = Vec::new();
                for e in items {
                    let es = self.span(e.span());
                    cols.push(ColName::at(self.str_arg(e, "join column")?, Some(es)));
                }
                let how = match how {
                    None => JoinHow::Inner,
                    Some(h) => {
                        let hs = self.span(h.span());
                        match self.str_arg(h, "join type")?.to_ascii_lowercase().as_str() {
                            "inner" => JoinHow::Inner,
                            "left" | "left_outer" | "leftouter" => JoinHow::LeftOuter,
                            other => {
                                self.diags
                                    .error(hs, format!("unsupported join type `{other}`"))
                                    .help("a stream-static join is `inner` or `left_outer`");
                                return None;
                            }
                        }
                    }
                };
                tab.steps.push((Step::Join { table, on: cols, how }, span));
            }
            "order_by" | "orderBy" | "sort" => {
                let mut keys = Vec::new();
                for a in &l.args {
                    let items: Vec<&syn::Expr> = match a {
                        syn::Expr::Array(arr) => arr.elems.iter().collect(),
                        other => vec![other],
                    };
                    for e in items {
                        let es = self.span(e.span());
                        let text = self.str_arg(e, "sort key such as `\"count DESC\"`")?;
                        match crate::table::SortKey::parse(&text, Some(es)) {
                            Ok(mut k) => {
                                // The column's name within the key (`"cnt DESC"`), as in YAML.
                                if let (Some(lit), Some(i)) = (lit_str(e), text.find(&k.column)) {
                                    k.span = Some(self.inside_range(lit, i..i + k.column.len()));
                                }
                                keys.push(k)
                            }
                            Err(m) => {
                                self.diags.error(es, m);
                                return None;
                            }
                        }
                    }
                }
                tab.steps.push((Step::OrderBy(keys), span));
            }
            "limit" => {
                let [n] = self.args::<1>(l, span, "1 argument (a number of rows)")?;
                let ns = self.span(n.span());
                match crate::front::syntax::int_literal(n) {
                    Some(n) if n >= 0 => tab.steps.push((Step::Limit(n as u64), span)),
                    _ => {
                        self.diags.error(ns, "`limit` takes a number of rows");
                        return None;
                    }
                }
            }
            "count" | "agg" => {
                let aggs = if name == "count" {
                    self.args::<0>(l, span, "no arguments")?;
                    Exprs {
                        items: vec![Item::new(Expr::Call("count".into(), vec![Expr::Star]), None)],
                        lits: Vec::new(),
                    }
                } else {
                    self.exprs(l, true)?
                };
                let Some(group) = tab.group.take() else {
                    if name == "count" {
                        self.diags.error(span, "`count` on a streaming table needs `group_by` first").help(
                            "write `.group_by([\"word\"]).count()`, or `.agg([\"count(*)\"])` for one running total",
                        );
                        return None;
                    }
                    // Spark's `df.agg(..)`: one group for the whole table.
                    let s = self.step_span(&aggs.lits, span);
                    tab.steps.push((Step::GroupBy { keys: Vec::new(), aggs: aggs.items, distinct: false }, s));
                    return Some(());
                };
                let lits: Vec<SpanId> = group.keys.lits.iter().chain(&aggs.lits).copied().collect();
                let s = self.step_span(&lits, group.method_span);
                tab.steps.push((Step::GroupBy { keys: group.keys.items, aggs: aggs.items, distinct: false }, s));
            }
            other => {
                self.unknown_method(other, span);
                return None;
            }
        }
        Some(())
    }

    pub(super) fn unknown_method(&mut self, name: &str, span: SpanId) {
        if is_dstream_method(name) {
            self.diags
                .error(span, format!("`{name}` is a DStream operator, not a method of Structured Streaming tables"))
                .help("a `stream!` block holds either DStreams or Structured Streaming tables, not both; the table methods are select, where_, filter, with_column, with_watermark, group_by + count/agg, and write_stream");
            return;
        }
        let d = self.diags.error(span, format!("unknown table method `{name}`"));
        d.label("not a Structured Streaming method");
        match name {
            "distinct" => d.help("deduplication needs a watermark-bounded state; not supported by streamc yet"),
            _ => match suggest(name, TABLE_METHODS) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("the table methods are select, where_, filter, with_column, with_watermark, group_by + count/agg, order_by, limit, and write_stream"),
            },
        };
    }
}

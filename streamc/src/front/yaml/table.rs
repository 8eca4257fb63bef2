//! The Structured Streaming part of a YAML spec: `sources:` with schemas and `queries:` of
//! steps (or SQL), with their output modes and sinks.

use super::node::Node;
use super::reader::Reader;
use crate::diag::suggest;
use crate::span::SpanId;
use crate::table::ReadOptions;
use crate::table::{
    ColName, ColTy, Column, Format, JoinHow, Malformed, OutputMode, Query, Sink, SourceKind, Step, TablePlan,
    TableSource,
};
use serde_saphyr::Spanned;

/// A `watermark:` beside `sql:`: the source it is on (None: the `FROM` source), the
/// `with_watermark` step and its span.
type Watermark = (Option<(String, SpanId)>, Step, SpanId);

/// Reads the Structured Streaming part of a spec.
pub(super) struct Tables<'r, 'a> {
    pub(super) r: &'r mut Reader<'a>,
}

impl Tables<'_, '_> {
    /// `sources:` of a Structured Streaming spec: a list of named sources with a schema.
    pub(super) fn sources(&mut self, node: &Spanned<Node>, table: &mut TablePlan) {
        let Node::Seq(items) = &node.value else {
            let span = self.r.span_of(node);
            self.r.diags.error(span, format!("expected a list of sources, found {}", node.value.kind()));
            return;
        };
        for item in items {
            let span = self.r.span_of(item);
            let Node::Map(entries) = &item.value else {
                self.r.diags.error(
                    span,
                    format!("expected a source (`name:`, a format and a `schema:`), found {}", item.value.kind()),
                );
                continue;
            };
            let (mut name, mut kind, mut schema, mut malformed) = (None, None, None, Malformed::default());
            let mut own_schema = false;
            let mut options = ReadOptions::default();
            // A format whose settings were wrong (reported already).
            let mut bad_format = false;
            for (k, v) in entries {
                let kspan = self.r.span_of(k);
                match k.value.as_str() {
                    "name" => name = self.r.string(v, "name"),
                    "socket" => {
                        let Some(f) =
                            self.r.fields(v, "socket", &["host", "port", "include_timestamp", "includeTimestamp"])
                        else {
                            continue;
                        };
                        let stamp = f.get("include_timestamp").or_else(|| f.get("includeTimestamp"));
                        let include_timestamp = match stamp {
                            None => false,
                            Some(s) => match s.value {
                                Node::Bool(b) => b,
                                ref other => {
                                    let span = self.r.span_of(s);
                                    self.r.diags.error(
                                        span,
                                        format!("`include_timestamp` is true or false, found {}", other.kind()),
                                    );
                                    continue;
                                }
                            },
                        };
                        let host = match f.get("host") {
                            Some(h) => self.r.string(h, "host").unwrap_or_default(),
                            None => "localhost".into(),
                        };
                        let port =
                            f.get("port").and_then(|p| self.r.int(p, "port")).and_then(|p| u16::try_from(p).ok());
                        match port {
                            Some(port) => kind = Some(SourceKind::Socket { host, port, include_timestamp }),
                            None => {
                                self.r.diags.error(kspan, "`socket` needs a `port` between 0 and 65535");
                            }
                        }
                        schema.get_or_insert_with(|| crate::table::socket_columns(include_timestamp));
                    }
                    fmt @ ("json" | "csv" | "text") => {
                        let reader: &[&str] = match fmt {
                            "csv" => ReadOptions::CSV,
                            "json" => ReadOptions::JSON,
                            _ => &[],
                        };
                        let allowed: Vec<&str> =
                            ["path", "max_files_per_trigger", "mode"].iter().chain(reader).copied().collect();
                        let Some(f) = self.r.fields(v, fmt, &allowed) else {
                            continue;
                        };
                        // Spark's reader options, as Spark spells them.
                        for key in reader {
                            let Some(node) = f.get(*key) else { continue };
                            let vspan = self.r.span_of(node);
                            let text = match &node.value {
                                Node::Str(t) => Some(t.clone()),
                                Node::Bool(b) => Some(b.to_string()),
                                _ => None,
                            };
                            let Some(text) = text else {
                                self.r.diags.error(vspan, format!("`{key}` is a string, found {}", node.value.kind()));
                                continue;
                            };
                            if let Some(Err(e)) = options.set(key, &text) {
                                self.r.diags.error(vspan, e);
                            }
                        }
                        let Some(path) = f.get("path").and_then(|p| self.r.string(p, "path")) else {
                            self.r.diags.error(kspan, format!("`{fmt}` needs a `path` (a directory)"));
                            continue;
                        };
                        let max_files = match f.get("max_files_per_trigger") {
                            Some(n) => match self.r.int(n, "max_files_per_trigger") {
                                Some(v) if v > 0 => Some(v as u64),
                                Some(v) => {
                                    let s = self.r.span_of(n);
                                    self.r
                                        .diags
                                        .error(s, format!("`max_files_per_trigger` must be positive, found `{v}`"));
                                    None
                                }
                                None => None,
                            },
                            None => None,
                        };
                        if let Some(m) = f.get("mode") {
                            match self.r.string(m, "mode").as_deref() {
                                Some("permissive" | "PERMISSIVE") => malformed = Malformed::Permissive,
                                Some("drop_malformed" | "DROPMALFORMED") => malformed = Malformed::DropMalformed,
                                Some("fail_fast" | "FAILFAST") => malformed = Malformed::FailFast,
                                Some(other) => {
                                    let s = self.r.span_of(m);
                                    self.r
                                        .diags
                                        .error(s, format!("unknown mode `{other}`"))
                                        .help("the modes are `permissive`, `drop_malformed` and `fail_fast`");
                                }
                                None => {}
                            }
                        }
                        let format = match fmt {
                            "json" => Format::Json,
                            "csv" => Format::Csv,
                            _ => Format::Text,
                        };
                        if format == Format::Text {
                            schema.get_or_insert_with(|| vec![Column { name: "value".into(), ty: ColTy::String }]);
                        }
                        kind = Some(SourceKind::Files { format, path, max_files });
                    }
                    "static" => {
                        let Some(f) = self.r.fields(v, "static", &["json", "csv"]) else { continue };
                        let found = [("json", Format::Json), ("csv", Format::Csv)]
                            .into_iter()
                            .find_map(|(k, fmt)| f.get(k).map(|p| (p, fmt)));
                        match found {
                            Some((p, format)) => {
                                if let Some(path) = self.r.string(p, "path") {
                                    kind = Some(SourceKind::Static { format, path });
                                }
                            }
                            None => {
                                self.r
                                    .diags
                                    .error(kspan, "`static` needs the table's file: `json: PATH` or `csv: PATH`")
                                    .help("write `static: { json: data/categories.json }`");
                            }
                        }
                    }
                    "rate" => {
                        let Some(f) = self.r.fields(v, "rate", &["rows_per_second"]) else { continue };
                        let rows = match f.get("rows_per_second") {
                            Some(n) => match self.r.int(n, "rows_per_second") {
                                Some(r) if r > 0 => r as u64,
                                Some(r) => {
                                    let s = self.r.span_of(n);
                                    self.r.diags.error(s, format!("`rows_per_second` must be positive, found `{r}`"));
                                    continue;
                                }
                                None => continue,
                            },
                            None => 1,
                        };
                        kind = Some(SourceKind::Rate { rows_per_second: rows });
                        schema.get_or_insert_with(|| {
                            vec![
                                Column { name: "timestamp".into(), ty: ColTy::Timestamp },
                                Column { name: "value".into(), ty: ColTy::Long },
                            ]
                        });
                    }
                    "kafka" => match super::kafka::options(self.r, v, false) {
                        Some(k) => {
                            kind = Some(SourceKind::Kafka { options: k.options, json_value: false });
                            malformed = k.mode.unwrap_or_default();
                        }
                        None => bad_format = true,
                    },
                    "schema" => {
                        own_schema = true;
                        let Node::Map(cols) = &v.value else {
                            let s = self.r.span_of(v);
                            self.r.diags.error(s, "expected the schema as a mapping `column: type`");
                            continue;
                        };
                        let mut out = Vec::new();
                        for (c, t) in cols {
                            let Some(tn) = self.r.string(t, "a column type") else { continue };
                            match ColTy::parse(&tn) {
                                Some(ty) => out.push(Column { name: c.value.clone(), ty }),
                                None => {
                                    let s = self.r.span_of(t);
                                    let d = self.r.diags.error(s, format!("unknown column type `{tn}`"));
                                    let types = ["string", "boolean", "int", "long", "double", "timestamp", "date"];
                                    match suggest(&tn, &types) {
                                        Some(t) => d.help(format!("did you mean `{t}`?")),
                                        None => d.help(
                                            "the types are string, boolean, int, long, double, timestamp and date",
                                        ),
                                    };
                                }
                            }
                        }
                        schema = Some(out);
                    }
                    other => {
                        let d = self.r.diags.error(kspan, format!("unknown source setting `{other}`"));
                        match suggest(other, &["name", "socket", "json", "csv", "text", "rate", "kafka", "static", "schema"]) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None => d.help(
                                "a source has `name`, one of `socket`/`json`/`csv`/`text`/`rate`/`kafka`/`static`, and `schema`",
                            ),
                        };
                    }
                }
            }
            let Some(name) = name else {
                self.r.diags.error(span, "this source has no `name`");
                continue;
            };
            if bad_format {
                continue;
            }
            let Some(kind) = kind else {
                self.r
                    .diags
                    .error(span, format!("source `{name}` has no format"))
                    .help("add `json: { path: DIR }`, `csv:`, `text:` or `socket:`");
                continue;
            };
            let mut kind = kind;
            if let SourceKind::Kafka { json_value, options } = &mut kind {
                // Spark's columns, or (with a schema) the record's value as a JSON document.
                *json_value = own_schema;
                let headers = crate::table::kafka::includes_headers(options);
                if !own_schema {
                    schema = Some(crate::table::kafka::columns(headers));
                } else if headers {
                    self.r
                        .diags
                        .error(span, format!("source `{name}` reads each record's value as JSON of its `schema`, which has no headers"))
                        .help("drop `schema:` to read Spark's columns with `headers`, and parse the value with `from_json(CAST(value AS STRING), ...)`");
                    continue;
                }
            }
            let Some(schema) = schema else {
                self.r
                    .diags
                    .error(span, format!("source `{name}` has no `schema`"))
                    .help("add `schema: { timestamp: timestamp, word: string }`");
                continue;
            };
            table.sources.push(TableSource { name, span, kind, schema, malformed, options });
        }
    }

    /// `queries:` of a Structured Streaming spec.
    pub(super) fn queries(&mut self, node: &Spanned<Node>, table: &mut TablePlan) {
        let Node::Seq(items) = &node.value else {
            let span = self.r.span_of(node);
            self.r.diags.error(span, format!("expected a list of queries, found {}", node.value.kind()));
            return;
        };
        for item in items {
            let span = self.r.span_of(item);
            let Node::Map(entries) = &item.value else {
                self.r.diags.error(span, format!("expected a query, found {}", item.value.kind()));
                continue;
            };
            let (mut name, mut from, mut steps, mut mode, mut sinks) = (None, None, Vec::new(), None, Vec::new());
            // `sql:` (instead of `from:` + `steps:`) and the `watermark:` given beside it.
            let (mut sql, mut watermark) = (None, None);
            let mut watermarks: Vec<Watermark> = Vec::new();
            for (k, v) in entries {
                let kspan = self.r.span_of(k);
                match k.value.as_str() {
                    "name" => name = self.r.string(v, "name"),
                    "sql" => {
                        let s = self.r.span_of(v);
                        sql = self.r.string(v, "sql").map(|text| (text, s, kspan));
                    }
                    "watermark" => {
                        // One `{ column, delay }` (on the `FROM` source), or a list of them, each
                        // with the `source` it is on (a joined stream's too).
                        let items: Vec<&Spanned<Node>> = match &v.value {
                            Node::Seq(items) => items.iter().collect(),
                            _ => vec![v],
                        };
                        for item in items {
                            let s = self.r.span_of(item);
                            let f = self.r.fields(item, "watermark", &["source", "column", "delay"]);
                            match f.as_ref().map(|f| (f.get("source"), f.get("column"), f.get("delay"))) {
                                Some((src, Some(c), Some(d))) => {
                                    let (column, delay_ms) = (self.r.string(c, "column"), self.r.delay(d, "delay"));
                                    let source =
                                        src.and_then(|x| self.r.string(x, "source").map(|n| (n, self.r.span_of(x))));
                                    if let (Some(column), Some(delay_ms)) = (column, delay_ms) {
                                        watermarks.push((source, Step::WithWatermark { column, delay_ms }, s));
                                    }
                                    watermark = Some(kspan);
                                }
                                Some(_) => {
                                    self.r
                                        .diags
                                        .error(s, "`watermark` needs a `column` and a `delay`")
                                        .help("write `watermark: { column: timestamp, delay: 10 minutes }`");
                                }
                                None => {}
                            }
                        }
                    }
                    "from" => {
                        let s = self.r.span_of(v);
                        from = self.r.string(v, "from").map(|f| (f, s));
                    }
                    "steps" => {
                        if let Node::Seq(list) = &v.value {
                            for st in list {
                                if let Some(step) = self.step(st) {
                                    steps.push(step);
                                }
                            }
                        } else {
                            let s = self.r.span_of(v);
                            self.r.diags.error(s, "expected a list of steps");
                        }
                    }
                    "output_mode" => {
                        let s = self.r.span_of(v);
                        mode = match self.r.string(v, "output_mode").as_deref() {
                            Some("append") => Some((OutputMode::Append, s)),
                            Some("complete") => Some((OutputMode::Complete, s)),
                            Some("update") => Some((OutputMode::Update, s)),
                            Some(other) => {
                                self.r
                                    .diags
                                    .error(s, format!("unknown output mode `{other}`"))
                                    .help("the output modes are `append`, `complete` and `update`");
                                None
                            }
                            None => None,
                        };
                    }
                    "sink" | "sinks" => {
                        let list: Vec<&Spanned<Node>> = match &v.value {
                            Node::Seq(l) => l.iter().collect(),
                            _ => vec![v],
                        };
                        for sn in list {
                            let s = self.r.span_of(sn);
                            match &sn.value {
                                Node::Str(c) if c == "console" => {
                                    sinks.push((Sink::Console { num_rows: 20, truncate: true }, s))
                                }
                                Node::Str(c) if c == "memory" => sinks.push((Sink::Memory, s)),
                                Node::Map(m) if m.len() == 1 => {
                                    let (sk, sv) = &m[0];
                                    match sk.value.as_str() {
                                        "console" => {
                                            let Some(f) = self.r.fields(sv, "console", &["num_rows", "truncate"])
                                            else {
                                                continue;
                                            };
                                            let num_rows = f
                                                .get("num_rows")
                                                .and_then(|n| self.r.int(n, "num_rows"))
                                                .map_or(20, |n| n.max(0) as usize);
                                            let truncate = match f.get("truncate").map(|t| &t.value) {
                                                Some(Node::Bool(b)) => *b,
                                                _ => true,
                                            };
                                            sinks.push((Sink::Console { num_rows, truncate }, s));
                                        }
                                        "json" => {
                                            if let Some(path) = self.r.string(sv, "json") {
                                                sinks.push((Sink::Json { path }, s));
                                            }
                                        }
                                        "parquet" => {
                                            if let Some(path) = self.r.string(sv, "parquet") {
                                                sinks.push((Sink::Parquet { path }, s));
                                            }
                                        }
                                        "kafka" => {
                                            if let Some(k) = super::kafka::options(self.r, sv, true) {
                                                let (options, exactly_once) = (k.options, k.exactly_once);
                                                sinks.push((Sink::Kafka { options, exactly_once }, s));
                                            }
                                        }
                                        "foreach_batch" => {
                                            let span = self.r.span_of(sv);
                                            if let Some(closure) = self.r.string(sv, "foreach_batch") {
                                                if closure.parse::<proc_macro2::TokenStream>().is_err() {
                                                    self.r.diags.error(span, "`foreach_batch` needs a Rust closure `|batch_id, rows| { ... }`, and this does not parse as Rust tokens");
                                                    continue;
                                                }
                                                sinks.push((Sink::ForeachBatch { closure, span }, s));
                                            }
                                        }
                                        other => {
                                            let sks = self.r.span_of(sk);
                                            self.r.diags
                                                .error(sks, format!("unknown sink `{other}`"))
                                                .help("the sinks are `console`, `memory`, `json: DIR`, `parquet: DIR`, `kafka: { options }` and `foreach_batch: CLOSURE`");
                                        }
                                    }
                                }
                                other => {
                                    self.r.diags.error(
                                        s,
                                        format!("expected a sink (`console` or `json: DIR`), found {}", other.kind()),
                                    );
                                }
                            }
                        }
                    }
                    other => {
                        let d = self.r.diags.error(kspan, format!("unknown query setting `{other}`"));
                        match suggest(other, &["name", "from", "steps", "sql", "watermark", "output_mode", "sink"]) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None => {
                                d.help("a query has `name`, `from` and `steps` (or `sql`), `output_mode` and `sink`")
                            }
                        };
                    }
                }
            }
            match (sql, watermark) {
                (Some((text, s, kspan)), _) => {
                    if from.is_some() || !steps.is_empty() {
                        self.r
                            .diags
                            .error(kspan, "a query has either `sql` or `from` and `steps`, not both")
                            .help("move the steps into the SQL, or remove `sql`");
                        continue;
                    }
                    let streams: Vec<String> = table
                        .sources
                        .iter()
                        .filter(|s| !matches!(s.kind, crate::table::SourceKind::Static { .. }))
                        .map(|s| s.name.clone())
                        .collect();
                    // Select items, keys and aggregates are spans in the YAML file, as the steps.
                    let (spans, src) = (&mut *self.r.spans, self.r.src);
                    let mut at = |p| crate::front::sql::span_in(spans, src, s, &text, Some(p));
                    let lowered = match crate::front::sql::lower(&text, &streams, &mut at) {
                        Ok(l) => l,
                        Err(errors) => {
                            for e in errors {
                                let at = crate::front::sql::span_in(self.r.spans, self.r.src, s, &text, e.pos);
                                let d = self.r.diags.error(at, e.message);
                                if let Some(h) = e.help {
                                    d.help(h);
                                }
                            }
                            continue;
                        }
                    };
                    let from_span = crate::front::sql::span_in(self.r.spans, self.r.src, s, &text, lowered.from.1);
                    from = Some((lowered.from.0.clone(), from_span));
                    let mut lowered_steps = Vec::new();
                    for (mut step, pos) in lowered.steps {
                        let at = crate::front::sql::span_in(self.r.spans, self.r.src, s, &text, pos);
                        if let Step::StreamJoin(j) = &mut step {
                            // The joined side's own steps and source point at the join.
                            j.source_span = at;
                            for (_, sp) in &mut j.steps {
                                *sp = at;
                            }
                        }
                        lowered_steps.push((step, at));
                    }
                    for (source, w, ws) in watermarks.drain(..) {
                        // No `source`, or the `FROM` source: a first step.
                        let Some((name, nspan)) = source.filter(|(n, _)| *n != lowered.from.0) else {
                            steps.push((w, ws));
                            continue;
                        };
                        let other = lowered_steps.iter_mut().find_map(|(st, _)| match st {
                            Step::StreamJoin(j) if j.source == name => Some(&mut j.watermark),
                            Step::Union { source, watermark } if *source == name => Some(watermark),
                            _ => None,
                        });
                        match (other, w) {
                            (Some(slot), Step::WithWatermark { column, delay_ms }) => *slot = Some((column, delay_ms)),
                            _ => {
                                self.r.diags.error(nspan, format!("the query reads no stream `{name}` to put this watermark on")).help(
                                    "a watermark is on the `FROM` source (no `source:`) or on a joined or unioned stream (`source: NAME`)",
                                );
                            }
                        }
                    }
                    steps.extend(lowered_steps);
                }
                (None, Some(kspan)) => {
                    self.r
                        .diags
                        .error(kspan, "`watermark` goes with `sql`")
                        .help("with `steps`, write a `with_watermark: { column, delay }` step");
                }
                (None, None) => {}
            }
            let name = name.unwrap_or_else(|| format!("query{}", table.queries.len()));
            let Some(from) = from else {
                self.r.diags.error(span, format!("query `{name}` has no `from`")).help("add `from: <source name>`");
                continue;
            };
            let mode = mode.unwrap_or((OutputMode::Append, span));
            if sinks.is_empty() {
                self.r
                    .diags
                    .error(span, format!("query `{name}` has no sink"))
                    .help("add `sink: console` or `sink: { json: DIR }`");
                continue;
            }
            table.queries.push(Query { name, span, from, steps, mode, sinks });
        }
    }

    /// A list of column names: `[a, b]`, or one name; none when absent or null. Each name keeps
    /// its place, for the diagnostics about it.
    pub(super) fn column_list(&mut self, value: Option<&Spanned<Node>>) -> Option<Vec<ColName>> {
        let items: Vec<&Spanned<Node>> = match value.map(|v| (v, &v.value)) {
            None | Some((_, Node::Null)) => Vec::new(),
            Some((_, Node::Seq(items))) => items.iter().collect(),
            Some((v, _)) => vec![v],
        };
        let mut names = Vec::new();
        for it in items {
            let name = self.r.string(it, "a column name")?;
            names.push(ColName::at(name, Some(self.r.span_of(it))));
        }
        Some(names)
    }

    /// One step of a query.
    pub(super) fn step(&mut self, node: &Spanned<Node>) -> Option<(Step, SpanId)> {
        let span = self.r.span_of(node);
        let Node::Map(entries) = &node.value else {
            self.r.diags.error(span, format!("expected a step such as `where: \"...\"`, found {}", node.value.kind()));
            return None;
        };
        let (key, value) = &entries[0];
        let kspan = self.r.span_of(key);
        let step = match key.value.as_str() {
            "select" => {
                let items = self.expr_list(value, true)?;
                Step::Select(items)
            }
            "where" | "filter" => {
                let s = self.r.string(value, "where")?;
                let vspan = self.r.span_of(value);
                Step::Where(self.r.expr(&s, vspan)?)
            }
            "with_column" => {
                let f = self.r.fields(value, "with_column", &["name", "expr"])?;
                let name = self.r.string(f.get("name")?, "name")?;
                let e = f.get("expr")?;
                let vspan = self.r.span_of(e);
                let text = self.r.string(e, "expr")?;
                Step::WithColumn(name, self.r.expr(&text, vspan)?)
            }
            "with_watermark" => {
                let f = self.r.fields(value, "with_watermark", &["column", "delay"])?;
                let column = self.r.string(f.get("column")?, "column")?;
                let delay_ms = self.r.delay(f.get("delay")?, "delay")?;
                Step::WithWatermark { column, delay_ms }
            }
            "drop_duplicates"
            | "dropDuplicates"
            | "drop_duplicates_within_watermark"
            | "dropDuplicatesWithinWatermark" => {
                let cols = self.column_list(Some(value))?;
                if key.value.contains("ithin") {
                    Step::DropDuplicatesWithinWatermark(cols)
                } else {
                    Step::DropDuplicates(cols)
                }
            }
            "union" => match &value.value {
                Node::Map(_) => {
                    let f = self.r.fields(value, "union", &["source", "watermark"])?;
                    let source = self.r.string(f.get("source")?, "source")?;
                    let watermark = match f.get("watermark") {
                        Some(w) => {
                            let wf = self.r.fields(w, "watermark", &["column", "delay"])?;
                            let column = self.r.string(wf.get("column")?, "column")?;
                            let delay = self.r.delay(wf.get("delay")?, "delay")?;
                            Some((column, delay))
                        }
                        None => None,
                    };
                    Step::Union { source, watermark }
                }
                _ => Step::Union { source: self.r.string(value, "union")?, watermark: None },
            },
            "map_groups_with_state"
            | "mapGroupsWithState"
            | "flat_map_groups_with_state"
            | "flatMapGroupsWithState" => self.groups_step(key, value, kspan)?,
            "join" if matches!(&value.value, Node::Map(m) if m.iter().any(|(k, _)| k.value == "stream")) => {
                self.stream_join_step(value, kspan)?
            }
            "join" => {
                let f = self.r.fields(value, "join", &["table", "on", "how"])?;
                let Some(t) = f.get("table") else {
                    self.r
                        .diags
                        .error(kspan, "`join` needs the static `table` or the `stream` to join")
                        .help("write `join: { table: NAME, on: [col] }`, or `join: { stream: NAME, on: \"a = b\" }`");
                    return None;
                };
                let table = self.r.string(t, "table")?;
                let on = self.column_list(f.get("on").copied())?;
                let how = match f.get("how") {
                    None => JoinHow::Inner,
                    Some(h) => match self.r.string(h, "how")?.as_str() {
                        "inner" => JoinHow::Inner,
                        "left" | "left_outer" | "leftouter" => JoinHow::LeftOuter,
                        other => {
                            let hs = self.r.span_of(h);
                            let d = self.r.diags.error(hs, format!("unsupported join type `{other}`"));
                            if matches!(other, "right" | "right_outer" | "full" | "full_outer" | "outer") {
                                d.help("a stream-static join keeps stream rows: `inner` or `left_outer` (Spark refuses right/full outer joins with a static table on the right)");
                            } else {
                                d.help("the join types are `inner` and `left_outer`");
                            }
                            return None;
                        }
                    },
                };
                Step::Join { table, on, how }
            }
            "order_by" | "orderBy" | "sort" => {
                let items: Vec<&Spanned<Node>> = match &value.value {
                    Node::Seq(items) => items.iter().collect(),
                    _ => vec![value],
                };
                let mut keys = Vec::new();
                for it in items {
                    let text = self.r.string(it, "a sort key such as `count DESC`")?;
                    let s = self.r.span_of(it);
                    match crate::table::SortKey::parse(&text, Some(s)) {
                        Ok(mut k) => {
                            // The column's name within the key (`"cnt DESC"`).
                            if let Some(i) = text.find(&k.column) {
                                let pos = crate::front::sql::Pos { start: i, len: k.column.len() };
                                k.span =
                                    Some(crate::front::sql::span_in(self.r.spans, self.r.src, s, &text, Some(pos)));
                            }
                            keys.push(k)
                        }
                        Err(m) => {
                            self.r.diags.error(s, m);
                            return None;
                        }
                    }
                }
                Step::OrderBy(keys)
            }
            "limit" => match &value.value {
                Node::Int(n) if *n >= 0 => Step::Limit(*n as u64),
                _ => {
                    let s = self.r.span_of(value);
                    self.r.diags.error(s, "`limit` takes a number of rows");
                    return None;
                }
            },
            "group_by" => {
                let keys = self.expr_list(value, true)?;
                let aggs = match entries.iter().find(|(k, _)| k.value == "agg") {
                    Some((_, a)) => self.expr_list(a, true)?,
                    None => vec![crate::table::Item::new(
                        crate::table::expr::Expr::Call("count".into(), vec![crate::table::expr::Expr::Star]),
                        None,
                    )],
                };
                Step::GroupBy { keys, aggs, distinct: false }
            }
            other => {
                let d = self.r.diags.error(kspan, format!("unknown step `{other}`"));
                match other {
                    "distinct" => d.help("use `drop_duplicates: [columns]` (with a watermark on an event-time column among them, so that its state stays bounded)"),
                    _ => match suggest(other, &["select", "where", "with_column", "with_watermark", "group_by", "drop_duplicates", "union", "join", "order_by", "limit", "map_groups_with_state", "flat_map_groups_with_state", "drop_duplicates_within_watermark"]) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help("the steps are select, where, with_column, with_watermark, group_by, drop_duplicates, union, join, order_by and limit"),
                    },
                };
                return None;
            }
        };
        if entries.len() > 1
            && !(matches!(step, Step::GroupBy { .. }) && entries.len() == 2 && entries[1].0.value == "agg")
        {
            let s = self.r.span_of(&entries[1].0);
            self.r.diags.error(s, "a step has one operation").help("write each step as its own list item");
        }
        let _ = span;
        // Problems found when typing the step point at its argument (the expression text).
        Some((step, self.r.span_of(value)))
    }

    /// A list of expressions (`[a, "f(b) AS c"]`, or one), each item at its own node.
    fn expr_list(&mut self, v: &Spanned<Node>, aliases: bool) -> Option<Vec<crate::table::Item>> {
        let items: Vec<&Spanned<Node>> = match &v.value {
            Node::Seq(l) => l.iter().collect(),
            _ => vec![v],
        };
        let mut out = Vec::new();
        for it in items {
            let s = self.r.span_of(it);
            let text = self.r.string(it, "an expression")?;
            match crate::table::expr::parse_aliased(&text) {
                Ok((e, alias)) if aliases || alias.is_none() => out.push(crate::table::Item::at(e, alias, Some(s))),
                Ok(_) => {
                    self.r.diags.error(s, "an alias (`AS`) is not allowed here");
                    return None;
                }
                Err(e) => {
                    let s = self.r.shift(s, e.offset);
                    self.r.diags.error(s, format!("cannot parse the expression: {}", e.message));
                    return None;
                }
            }
        }
        Some(out)
    }
}

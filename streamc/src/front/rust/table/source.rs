//! `read_stream` and its settings (Spark's `DataStreamReader`): format, path, schema, options.

use super::*;

impl Cx<'_> {
    /// Builds a source from `read_stream`'s methods; `name` is the `let` bound to it alone.
    pub(super) fn source(&mut self, root_span: Span, links: &[Link<'_>], name: Option<&str>) -> Option<Tab> {
        let root = self.span(root_span);
        let mut b = SourceB::default();
        let mut ok = true;
        for l in links {
            ok &= self.source_setting(&mut b, l).is_some();
        }
        if !ok {
            return None;
        }
        let Some((format, fspan)) = b.format.clone() else {
            self.diags
                .error(root, "`read_stream` needs a format")
                .help("write `read_stream.socket(\"localhost\", 9999)`, `.json(\"dir\")`, `.csv(\"dir\")` or `.text(\"dir\")`");
            return None;
        };
        let value = || vec![Column { name: "value".into(), ty: ColTy::String }];
        if format == "kafka" {
            let k = crate::table::kafka::check(&b.kafka, false, fspan, self.diags)?;
            let json_value = b.schema.is_some();
            let headers = crate::table::kafka::includes_headers(&k.options);
            if json_value && headers {
                self.diags
                    .error(fspan, "a Kafka source with `.schema(..)` reads each record's value as JSON of it, which has no headers")
                    .help("drop `.schema(..)` to read Spark's columns with `headers`, and parse the value with `from_json(CAST(value AS STRING), ...)`");
                return None;
            }
            let schema = b.schema.take().unwrap_or_else(|| crate::table::kafka::columns(headers));
            let name = name.map_or_else(|| format!("source{}", self.table.sources.len()), str::to_string);
            let kind = SourceKind::Kafka { options: k.options, json_value };
            let malformed = k.mode.unwrap_or_default();
            self.table.sources.push(TableSource {
                name,
                span: fspan,
                kind,
                schema,
                malformed,
                options: Default::default(),
            });
            return Some(Tab { source: self.table.sources.len() - 1, steps: Vec::new(), group: None, binding: None });
        }
        let kind = match format.as_str() {
            "rate" => {
                let rows_per_second = b.rows_per_second.unwrap_or(1);
                b.schema.get_or_insert_with(|| {
                    vec![
                        Column { name: "timestamp".into(), ty: ColTy::Timestamp },
                        Column { name: "value".into(), ty: ColTy::Long },
                    ]
                });
                SourceKind::Rate { rows_per_second }
            }
            "socket" => {
                let Some(port) = b.port else {
                    self.diags
                        .error(fspan, "the socket source needs a port")
                        .help("write `read_stream.socket(\"localhost\", 9999)`");
                    return None;
                };
                for (what, given) in
                    [("max_files_per_trigger", b.max_files.map(|m| m.1)), ("mode", b.malformed.map(|m| m.1))]
                {
                    if let Some(s) = given {
                        self.diags.error(s, format!("`{what}` is a setting of file sources, not of the socket source"));
                        return None;
                    }
                }
                SourceKind::Socket {
                    host: b.host.clone().unwrap_or_else(|| "localhost".into()),
                    port,
                    include_timestamp: b.include_timestamp,
                }
            }
            _ => {
                let Some(path) = b.path.clone() else {
                    self.diags
                        .error(fspan, format!("the `{format}` source needs a path (a directory)"))
                        .help(format!("write `read_stream.{format}(\"dir\")`"));
                    return None;
                };
                let format = match format.as_str() {
                    "json" => Format::Json,
                    "csv" => Format::Csv,
                    _ => Format::Text,
                };
                SourceKind::Files { format, path, max_files: b.max_files.map(|m| m.0) }
            }
        };
        let schema = match (b.schema, &kind) {
            (Some(s), _) => s,
            (None, SourceKind::Files { format: Format::Json | Format::Csv, .. }) => {
                self.diags.error(fspan, format!("the `{format}` source needs a schema")).help(format!(
                    "write `read_stream.{format}(\"dir\").schema(\"timestamp TIMESTAMP, word STRING\")`"
                ));
                return None;
            }
            (None, SourceKind::Socket { include_timestamp: true, .. }) => crate::table::socket_columns(true),
            (None, _) => value(),
        };
        let name = match name {
            Some(n) => n.to_string(),
            None => format!("source{}", self.table.sources.len()),
        };
        self.table.sources.push(TableSource {
            name,
            span: fspan,
            kind,
            schema,
            malformed: b.malformed.map(|m| m.0).unwrap_or_default(),
            options: b.options.clone(),
        });
        Some(Tab { source: self.table.sources.len() - 1, steps: Vec::new(), group: None, binding: None })
    }

    pub(super) fn source_setting(&mut self, b: &mut SourceB, l: &Link<'_>) -> Option<()> {
        let span = self.span(l.span);
        let args = &l.args[..];
        match l.name.as_str() {
            "socket" => {
                let [host, port] = self.args::<2>(l, span, "2 arguments (host, port)")?;
                b.host = Some(self.str_arg(host, "host")?);
                b.port = Some(self.port(port)?);
                self.set_format(b, "socket", span)
            }
            "rate" => {
                let [n] = self.args::<1>(l, span, "1 argument (rows per second)")?;
                b.rows_per_second = Some(self.positive(n, "rows per second")?);
                self.set_format(b, "rate", span)
            }
            f @ ("json" | "csv" | "text") => {
                let [path] = self.args::<1>(l, span, "1 argument (a directory)")?;
                b.path = Some(self.str_arg(path, "directory")?);
                self.set_format(b, f, span)
            }
            "format" => {
                let [f] = self.args::<1>(l, span, "1 argument (`\"json\"`, `\"csv\"`, `\"text\"` or `\"socket\"`)")?;
                let fs = self.span(f.span());
                let name = self.str_arg(f, "format")?;
                let lower = name.to_ascii_lowercase();
                if !matches!(lower.as_str(), "json" | "csv" | "text" | "socket" | "rate" | "kafka") {
                    let d = self.diags.error(fs, format!("unknown source format `{name}`"));
                    match suggest(&lower, &["json", "csv", "text", "socket", "rate", "kafka"]) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help("the formats are `json`, `csv`, `text`, `socket`, `rate` and `kafka`"),
                    };
                    return None;
                }
                self.set_format(b, &lower, fs)
            }
            "load" => match args {
                [] => Some(()),
                [p] => {
                    b.path = Some(self.str_arg(p, "directory")?);
                    Some(())
                }
                _ => {
                    self.diags.error(span, format!("`load` takes 0 or 1 argument (a directory), found {}", args.len()));
                    None
                }
            },
            "schema" => {
                let [s] = self.args::<1>(
                    l,
                    span,
                    "1 argument (a DDL string such as `\"timestamp TIMESTAMP, word STRING\"`)",
                )?;
                b.schema = Some(self.schema(s)?);
                Some(())
            }
            "max_files_per_trigger" => {
                let [n] = self.args::<1>(l, span, "1 argument (a number of files)")?;
                b.max_files = Some((self.positive(n, "max_files_per_trigger")?, span));
                Some(())
            }
            "mode" => {
                let [m] =
                    self.args::<1>(l, span, "1 argument (`\"permissive\"`, `\"drop_malformed\"` or `\"fail_fast\"`)")?;
                b.malformed = Some((self.malformed(m)?, span));
                Some(())
            }
            "option" => {
                let [k, v] = self.args::<2>(l, span, "2 arguments (a key and a value)")?;
                if b.format.as_ref().is_some_and(|(f, _)| f == "kafka") {
                    // Spark's Kafka options, checked with the source (`table::kafka`).
                    let o = self.kafka_option(k, v)?;
                    b.kafka.push(o);
                    return Some(());
                }
                let key = self.str_arg(k, "option key")?;
                // The CSV and JSON readers' options (`header`, `sep`, `timestampFormat`, ...).
                let text = match v {
                    syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(b), .. }) => Some(b.value.to_string()),
                    _ => None,
                };
                let text = match text {
                    Some(t) => t,
                    None if crate::table::ReadOptions::default().set(&key, "x").is_some() => {
                        self.str_arg(v, "option value")?
                    }
                    None => String::new(),
                };
                if let Some(r) = b.options.set(&key, &text) {
                    if let Err(e) = r {
                        let vs = self.span(v.span());
                        self.diags.error(vs, e);
                    }
                    return Some(());
                }
                match key.to_ascii_lowercase().replace('_', "").as_str() {
                    "maxfilespertrigger" => b.max_files = Some((self.positive(v, "maxFilesPerTrigger")?, span)),
                    "mode" => b.malformed = Some((self.malformed(v)?, span)),
                    "host" => b.host = Some(self.str_arg(v, "host")?),
                    "port" => b.port = Some(self.port(v)?),
                    "path" => b.path = Some(self.str_arg(v, "path")?),
                    "rowspersecond" => b.rows_per_second = Some(self.positive(v, "rowsPerSecond")?),
                    "includetimestamp" => match text.as_str() {
                        "true" => b.include_timestamp = true,
                        "false" => b.include_timestamp = false,
                        _ => {
                            let vs = self.span(v.span());
                            self.diags.error(vs, "`includeTimestamp` is `true` or `false`");
                            return None;
                        }
                    },
                    _ => {
                        let ks = self.span(k.span());
                        let d = self.diags.error(ks, format!("unknown source option `{key}`"));
                        match suggest(&key, &["maxFilesPerTrigger", "mode", "host", "port", "path", "includeTimestamp"]) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None => d.help(
                                "the options are `maxFilesPerTrigger`, `mode`, `host`, `port`, `includeTimestamp` and `path`",
                            ),
                        };
                        return None;
                    }
                }
                Some(())
            }
            other => {
                // Only `split_source` sends other names here: never reached.
                self.diags.error(
                    span,
                    format!("internal error: `{other}` is not a source setting; this is a bug in streamc"),
                );
                None
            }
        }
    }

    pub(super) fn set_format(&mut self, b: &mut SourceB, f: &str, span: SpanId) -> Option<()> {
        if let Some((prev, _)) = &b.format
            && prev != f
        {
            self.diags
                .error(span, format!("a second source format `{f}` (the source already reads `{prev}`)"))
                .help("a source has one format; read the other data with a second `read_stream`");
            return None;
        }
        b.format = Some((f.to_string(), span));
        Some(())
    }

    /// `"timestamp TIMESTAMP, word STRING"` (Spark DDL; `name: type` is also accepted), or an
    /// array of `"name TYPE"` strings.
    pub(super) fn schema(&mut self, e: &syn::Expr) -> Option<Vec<Column>> {
        let items: Vec<&syn::Expr> = match e {
            syn::Expr::Array(a) => a.elems.iter().collect(),
            _ => vec![e],
        };
        let mut cols: Vec<Column> = Vec::new();
        let types = ["string", "boolean", "int", "long", "bigint", "double", "timestamp"];
        for item in items {
            let span = self.span(item.span());
            let Some(lit) = lit_str(item) else {
                self.diags
                    .error(span, format!("expected the schema as a string, found `{}`", item.to_token_stream()))
                    .help("write `.schema(\"timestamp TIMESTAMP, word STRING\")`");
                return None;
            };
            let text = lit.value();
            // Spark DDL, nested types included (`tags ARRAY<STRING>, user STRUCT<name: STRING>`).
            if let Some(crate::table::ColTy::Struct(fields)) = crate::table::ColTy::parse_ddl(&text) {
                for f in fields {
                    if cols.iter().any(|c| c.name == f.name) {
                        self.diags.error(span, format!("the column `{}` is in the schema twice", f.name));
                        return None;
                    }
                    cols.push(Column { name: f.name.to_string(), ty: f.ty });
                }
                continue;
            }
            for field in text.split(',') {
                let field = field.trim();
                let (name, ty) = match field.split_once(|c: char| c.is_whitespace() || c == ':') {
                    Some((n, t)) => (n.trim().trim_matches('`'), t.trim().trim_start_matches(':').trim()),
                    None => (field, ""),
                };
                if name.is_empty() || ty.is_empty() {
                    self.diags
                        .error(span, format!("expected `name TYPE` in the schema, found `{field}`"))
                        .help("write `.schema(\"timestamp TIMESTAMP, word STRING\")`");
                    return None;
                }
                let Some(t) = ColTy::parse(ty) else {
                    let d = self.diags.error(span, format!("unknown column type `{ty}` of column `{name}`"));
                    match suggest(&ty.to_ascii_lowercase(), &types) {
                        Some(s) => d.help(format!("did you mean `{}`?", s.to_ascii_uppercase())),
                        None => d.help("the types are STRING, BOOLEAN, INT, BIGINT (LONG), DOUBLE and TIMESTAMP"),
                    };
                    return None;
                };
                if cols.iter().any(|c| c.name == name) {
                    self.diags.error(span, format!("column `{name}` appears twice in the schema"));
                    return None;
                }
                cols.push(Column { name: name.to_string(), ty: t });
            }
        }
        Some(cols)
    }

    pub(super) fn malformed(&mut self, e: &syn::Expr) -> Option<Malformed> {
        let span = self.span(e.span());
        let m = self.str_arg(e, "mode")?;
        match m.to_ascii_lowercase().replace('_', "").as_str() {
            "permissive" => Some(Malformed::Permissive),
            "dropmalformed" => Some(Malformed::DropMalformed),
            "failfast" => Some(Malformed::FailFast),
            _ => {
                self.diags
                    .error(span, format!("unknown mode `{m}`"))
                    .help("the modes are `permissive`, `drop_malformed` and `fail_fast`");
                None
            }
        }
    }
}

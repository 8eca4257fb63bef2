//! `write_stream()` and its settings (Spark's `DataStreamWriter`): output mode, name,
//! trigger and sinks; one query per chain.

use super::*;

impl Cx<'_> {
    /// `write_stream()` and the writer's settings: one query.
    pub(super) fn query(
        &mut self,
        tab: Tab,
        ws: &Link<'_>,
        links: &[Link<'_>],
        binding: Option<(&str, SpanId)>,
    ) -> Option<()> {
        let span = self.span(ws.span);
        if tab.group.is_some() {
            self.diags
                .error(span, "`group_by` needs `.count()` or `.agg([..])` before `write_stream`")
                .help("write `.group_by([\"word\"]).count().write_stream()`");
            return None;
        }
        if !ws.args.is_empty() {
            self.diags.error(span, "`write_stream` takes no arguments");
            return None;
        }
        let mut w = WriterB { mode: None, name: None, sinks: Vec::new(), pending: None };
        let mut ok = true;
        for l in links {
            ok &= self.writer_setting(&mut w, l).is_some();
        }
        if !ok {
            return None;
        }
        if let Some(p) = w.pending.take() {
            self.finish_sink(&mut w, p)?;
        }
        let k = self.table.queries.len();
        let taken = |n: &str, qs: &[Query]| qs.iter().any(|q| q.name == n);
        let explicit = w.name.as_ref().map(|(n, s)| (n.as_str(), *s)).or(binding);
        let name = match explicit {
            Some((n, s)) => {
                if taken(n, &self.table.queries) {
                    self.diags
                        .error(s, format!("a second query named `{n}`"))
                        .help("give each query its own name with `.query_name(\"..\")`");
                    return None;
                }
                n.to_string()
            }
            None => match tab.binding.as_deref() {
                Some(n) if !taken(n, &self.table.queries) => n.to_string(),
                _ => format!("query{k}"),
            },
        };
        if w.sinks.is_empty() {
            self.diags
                .error(span, format!("query `{name}` has no sink"))
                .help("add `.console()` or `.json(\"dir\")` after `write_stream()`");
            return None;
        }
        let from = (self.table.sources[tab.source].name.clone(), self.table.sources[tab.source].span);
        let mode = w.mode.unwrap_or((OutputMode::Append, span));
        self.table.queries.push(Query { name, span, from, steps: tab.steps, mode, sinks: w.sinks });
        Some(())
    }

    pub(super) fn writer_setting(&mut self, w: &mut WriterB, l: &Link<'_>) -> Option<()> {
        let span = self.span(l.span);
        if !l.call {
            self.diags.error(span, format!("expected a method call, found the field `{}`", l.name));
            return None;
        }
        match l.name.as_str() {
            "output_mode" => {
                let [m] = self.args::<1>(l, span, "1 argument (`\"append\"`, `\"complete\"` or `\"update\"`)")?;
                let ms = self.span(m.span());
                let text = match (lit_str(m), path_name(m)) {
                    (Some(s), _) => s.value(),
                    (None, Some(p)) => p,
                    (None, None) => String::new(),
                };
                let mode = match text.to_ascii_lowercase().as_str() {
                    "append" => OutputMode::Append,
                    "complete" => OutputMode::Complete,
                    "update" => OutputMode::Update,
                    _ => {
                        self.diags
                            .error(ms, format!("unknown output mode `{}`", m.to_token_stream()))
                            .help("the output modes are `\"append\"`, `\"complete\"` and `\"update\"`");
                        return None;
                    }
                };
                w.mode = Some((mode, ms));
            }
            "query_name" => {
                let [n] = self.args::<1>(l, span, "1 argument (a name)")?;
                let ns = self.span(n.span());
                w.name = Some((self.str_arg(n, "query name")?, ns));
            }
            "trigger" => {
                let [t] =
                    self.args::<1>(l, span, "1 argument (`AvailableNow`, `Once` or `ProcessingTime(\"10 seconds\")`)")?;
                self.trigger(t);
            }
            "console" => {
                if let Some(p) = w.pending.take() {
                    self.finish_sink(w, p)?;
                }
                self.args::<0>(l, span, "no arguments (`console_with(num_rows, truncate)` sets the table's size)")?;
                w.sinks.push((Sink::Console { num_rows: 20, truncate: true }, span));
            }
            "console_with" => {
                if let Some(p) = w.pending.take() {
                    self.finish_sink(w, p)?;
                }
                let [n, t] =
                    self.args::<2>(l, span, "2 arguments (the number of rows shown, and whether to truncate)")?;
                let num_rows = self.positive(n, "number of rows")? as usize;
                let truncate = self.bool_arg(t, "truncate")?;
                w.sinks.push((Sink::Console { num_rows, truncate }, span));
            }
            "json" | "parquet" => {
                if let Some(p) = w.pending.take() {
                    self.finish_sink(w, p)?;
                }
                let [p] = self.args::<1>(l, span, "1 argument (an output directory)")?;
                let path = self.str_arg(p, "output directory")?;
                w.sinks.push((if l.name == "json" { Sink::Json { path } } else { Sink::Parquet { path } }, span));
            }
            "memory" => {
                if let Some(p) = w.pending.take() {
                    self.finish_sink(w, p)?;
                }
                self.args::<0>(l, span, "no arguments (the table is named after the query)")?;
                w.sinks.push((Sink::Memory, span));
            }
            "foreach_batch" => {
                if let Some(p) = w.pending.take() {
                    self.finish_sink(w, p)?;
                }
                let [f] = self.args::<1>(l, span, "1 argument (a closure `|batch_id, rows| { .. }`)")?;
                let fs = self.span(f.span());
                w.sinks.push((Sink::ForeachBatch { closure: f.to_token_stream().to_string(), span: fs }, span));
            }
            "format" => {
                let [f] = self.args::<1>(l, span, "1 argument (`\"console\"`, `\"json\"` or `\"kafka\"`)")?;
                let fs = self.span(f.span());
                let format = self.str_arg(f, "sink format")?.to_ascii_lowercase();
                if !matches!(format.as_str(), "console" | "json" | "kafka") {
                    self.diags
                        .error(fs, format!("unknown sink format `{format}`"))
                        .help("the sinks are `console`, `json` and `kafka`");
                    return None;
                }
                if let Some(p) = w.pending.take() {
                    self.finish_sink(w, p)?;
                }
                w.pending =
                    Some(PendingSink { format, span: fs, path: None, num_rows: 20, truncate: true, kafka: Vec::new() });
            }
            "option" => {
                let [k, v] = self.args::<2>(l, span, "2 arguments (a key and a value)")?;
                let ks = self.span(k.span());
                let key = self.str_arg(k, "option key")?;
                let norm = key.to_ascii_lowercase().replace('_', "");
                if norm == "checkpointlocation" {
                    let dir = self.str_arg(v, "checkpoint directory")?;
                    if let Some((prev, _)) = &self.table.app.checkpoint_dir
                        && prev != &dir
                    {
                        self.diags
                            .error(ks, format!("a second checkpoint directory `{dir}` (the program's is `{prev}`)"))
                            .help("streamc keeps all queries of a program in one checkpoint directory");
                        return None;
                    }
                    self.table.app.checkpoint_dir = Some((dir, ks));
                    return Some(());
                }
                let Some(p) = w.pending.as_mut() else {
                    self.diags.error(span, format!("`option(\"{key}\", ..)` before a sink format")).help(
                        "write `.format(\"console\").option(\"numRows\", 50)`, or use `.console_with(50, false)`",
                    );
                    return None;
                };
                let format = p.format.clone();
                if format == "kafka" {
                    let o = self.kafka_option(k, v)?;
                    w.pending.as_mut()?.kafka.push(o);
                    return Some(());
                }
                match (format.as_str(), norm.as_str()) {
                    ("console", "numrows") => {
                        let n = self.positive(v, "numRows")? as usize;
                        w.pending.as_mut()?.num_rows = n;
                    }
                    ("console", "truncate") => {
                        let t = self.bool_arg(v, "truncate")?;
                        w.pending.as_mut()?.truncate = t;
                    }
                    ("json", "path") => {
                        let path = self.str_arg(v, "path")?;
                        w.pending.as_mut()?.path = Some(path);
                    }
                    _ => {
                        let known: &[&str] = if format == "console" { &["numRows", "truncate"] } else { &["path"] };
                        let d = self.diags.error(ks, format!("unknown option `{key}` of the `{format}` sink"));
                        match suggest(&key, known) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None => d.help(format!("the options are {}", known.join(", "))),
                        };
                        return None;
                    }
                }
            }
            "start" => {
                let args = &l.args[..];
                if args.len() > 1 {
                    self.diags.error(
                        span,
                        format!("`start` takes 0 or 1 argument (an output directory), found {}", args.len()),
                    );
                    return None;
                }
                match w.pending.take() {
                    Some(mut p) => {
                        if let [dir] = args {
                            p.path = Some(self.str_arg(dir, "output directory")?);
                        }
                        self.finish_sink(w, p)?;
                    }
                    None if !args.is_empty() => {
                        self.diags
                            .error(span, "`start(path)` needs a sink format")
                            .help("write `.format(\"json\").start(\"dir\")` or `.json(\"dir\")`");
                        return None;
                    }
                    None => {}
                }
            }
            other if is_dstream_method(other) => {
                self.diags
                    .error(span, format!("`{other}` is a DStream output, but it is called on a Structured Streaming writer"))
                    .help("a `stream!` block holds either DStreams or Structured Streaming tables, not both; write a table with `.console()` or `.json(\"dir\")`");
                return None;
            }
            other => {
                let d = self.diags.error(span, format!("unknown `write_stream` setting `{other}`"));
                d.label("not a DataStreamWriter method");
                match suggest(other, WRITER_METHODS) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help("the settings are output_mode, query_name, trigger, console, console_with, json, format, option and start"),
                };
                return None;
            }
        }
        Some(())
    }

    pub(super) fn finish_sink(&mut self, w: &mut WriterB, p: PendingSink) -> Option<()> {
        let sink = match p.format.as_str() {
            "console" => Sink::Console { num_rows: p.num_rows, truncate: p.truncate },
            "kafka" => {
                let k = crate::table::kafka::check(&p.kafka, true, p.span, self.diags)?;
                Sink::Kafka { options: k.options, exactly_once: k.exactly_once }
            }
            _ => match p.path {
                Some(path) => Sink::Json { path },
                None => {
                    self.diags
                        .error(p.span, "the `json` sink needs a path")
                        .help("write `.format(\"json\").start(\"dir\")` or `.json(\"dir\")`");
                    return None;
                }
            },
        };
        w.sinks.push((sink, p.span));
        Some(())
    }
}

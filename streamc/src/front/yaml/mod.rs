//! The YAML front end: a spec file becomes a [`Program`]. The file is first read into a tree of
//! spanned nodes (serde-saphyr gives every node its line and column); the tree is then walked
//! with our own rules so that every mistake becomes a diagnostic at its spot, all at once.
//!
//! `reader` is the service every part shares (text, spans, diagnostics, scalar readers);
//! `dstream` reads `streams:`/`outputs:`, `table` reads `sources:`/`queries:`.

mod dstream;
mod kafka;
mod node;
mod reader;
mod stateful;
mod table;

use crate::diag::{Diagnostics, suggest};
use crate::dstream::plan::Plan;
use crate::duration;
use crate::program::Program;
use crate::span::SpanTable;
use crate::table::{TablePlan, Trigger};
use dstream::Streams;
use node::Node;
use reader::Reader;
use serde_saphyr::Spanned;
use table::Tables;

/// Parses a YAML spec. Never fails: problems go to `diags`, and the plan holds what was
/// understood.
pub fn parse(src: &str, spans: &mut SpanTable, diags: &mut Diagnostics) -> Program {
    let mut r = Reader { src, spans, diags };
    let root: Spanned<Node> = match serde_saphyr::from_str(src) {
        Ok(root) => root,
        Err(e) => {
            let span = match e.location() {
                Some(loc) => r.span_at(loc.line(), loc.column(), 1),
                None => SpanTable::unknown(),
            };
            let msg = e.to_string();
            // serde-saphyr renders its own snippet; keep only its first line, ours follows.
            let first = msg.lines().next().unwrap_or("").trim_start_matches("error: ");
            r.diags.error(span, format!("invalid YAML: {first}"));
            return Program::DStream(Plan::default());
        }
    };
    plan(&mut r, &root)
}

const TOP_KEYS: &[&str] = &[
    "app",
    "batch_interval",
    "checkpoint",
    "trigger",
    "streams",
    "outputs",
    "sources",
    "queries",
    "max_line_bytes",
    "max_rate",
    "multiple_watermark_policy",
];

fn plan(r: &mut Reader<'_>, root: &Spanned<Node>) -> Program {
    /// A size: a number of bytes, optionally with a unit (`B`, `KiB`, `MiB`, `GiB`, or the
    /// powers of 1000 `KB`, `MB`, `GB`).
    fn parse_size(s: &str) -> Result<u64, String> {
        let t = s.trim();
        let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(digits);
        let n: u64 =
            num.parse().map_err(|_| format!("expected a size such as `64 MiB` for `max_line_bytes`, found `{s}`"))?;
        let scale: u64 = match unit.trim() {
            "" | "B" | "b" => 1,
            "KiB" | "kib" | "K" | "k" => 1 << 10,
            "MiB" | "mib" | "M" | "m" => 1 << 20,
            "GiB" | "gib" | "G" | "g" => 1 << 30,
            "KB" | "kB" | "kb" => 1_000,
            "MB" | "mb" => 1_000_000,
            "GB" | "gb" => 1_000_000_000,
            u => return Err(format!("unknown size unit `{u}` in `max_line_bytes`")),
        };
        n.checked_mul(scale).ok_or_else(|| format!("`max_line_bytes` of `{s}` is too large"))
    }
    let mut plan = Plan::default();
    // A `trigger:` seen before `sources:` (Structured Streaming only).
    let mut table: Option<TablePlan> = None;
    let Node::Map(entries) = &root.value else {
        let span = r.span_of(root);
        r.diags.error(span, format!("expected a mapping with `streams:` and `outputs:`, found {}", root.value.kind()));
        return Program::DStream(plan);
    };
    let mut streams_node = None;
    let mut outputs_node = None;
    let mut sources_node = None;
    let mut queries_node = None;
    for (key, value) in entries {
        match key.value.as_str() {
            "app" => {
                if let Some(s) = r.string(value, "app") {
                    plan.app.name = s;
                }
            }
            "batch_interval" => {
                let span = r.span_of(value);
                if let Some(ms) = r.duration(value, "batch_interval") {
                    plan.app.batch_interval_ms = Some((ms, span));
                }
            }
            "checkpoint" => {
                let span = r.span_of(value);
                if let Some(dir) = r.string(value, "checkpoint") {
                    plan.app.checkpoint_dir = Some((dir, span));
                }
            }
            "trigger" => {
                let table = table.get_or_insert_with(TablePlan::default);
                match &value.value {
                    Node::Str(t) if t == "available_now" => table.trigger = Trigger::AvailableNow,
                    Node::Str(t) if t == "once" => table.trigger = Trigger::Once,
                    Node::Str(t) if t.starts_with("processing_time") => {
                        let span = r.span_of(value);
                        let d = t.trim_start_matches("processing_time").trim();
                        match duration::parse_ms(d) {
                            Ok(ms) => plan.app.batch_interval_ms = Some((ms, span)),
                            Err(e) => {
                                r.diags.error(span, e).help("write `trigger: processing_time 10s`");
                            }
                        }
                    }
                    other => {
                        let span = r.span_of(value);
                        r.diags
                            .error(
                                span,
                                format!(
                                    "unknown trigger {}",
                                    match other {
                                        Node::Str(t) => format!("`{t}`"),
                                        o => o.kind().to_string(),
                                    }
                                ),
                            )
                            .help("the triggers are `processing_time <duration>`, `once` and `available_now`");
                    }
                }
            }
            "max_line_bytes" => {
                let span = r.span_of(value);
                let bytes = match &value.value {
                    Node::Int(n) => {
                        u64::try_from(*n).map_err(|_| format!("`max_line_bytes` must be at least 1 byte, found `{n}`"))
                    }
                    Node::Str(s) => parse_size(s),
                    other => {
                        Err(format!("expected a size such as `64 MiB` for `max_line_bytes`, found {}", other.kind()))
                    }
                };
                match bytes {
                    Ok(0) => {
                        r.diags
                            .error(span, "`max_line_bytes` must be at least 1 byte, found `0`")
                            .help("write a size such as `max_line_bytes: 64 MiB`");
                    }
                    Ok(n) => plan.app.max_line_bytes = Some((n, span)),
                    Err(e) => {
                        r.diags.error(span, e).help(
                            "write a number of bytes or a size such as `512 KiB`, `64 MiB` or `1 GiB` (KB, MB, GB are powers of 1000)",
                        );
                    }
                }
            }
            "max_rate" => {
                let span = r.span_of(value);
                match r.int(value, "max_rate") {
                    Some(n) if n > 0 => plan.app.max_rate = Some((n as u64, span)),
                    Some(n) => {
                        r.diags
                            .error(span, format!("`max_rate` must be at least 1 record per second, found `{n}`"))
                            .help("write `max_rate: 10000` (records per second per socket receiver), or leave it out for no limit");
                    }
                    None => {}
                }
            }
            "multiple_watermark_policy" => {
                let span = r.span_of(value);
                match r.string(value, "multiple_watermark_policy").as_deref().map(str::to_ascii_lowercase).as_deref() {
                    Some("min") => plan.app.max_watermark_policy = false,
                    Some("max") => plan.app.max_watermark_policy = true,
                    Some(other) => {
                        r.diags
                            .error(span, format!("unknown watermark policy `{other}`"))
                            .help("write `multiple_watermark_policy: min` (Spark's default) or `max`");
                    }
                    None => {}
                }
            }
            "sources" => sources_node = Some(value),
            "queries" => queries_node = Some(value),
            "streams" => streams_node = Some(value),
            "outputs" => outputs_node = Some(value),
            other => {
                let span = r.span_of(key);
                let d = r.diags.error(span, format!("unknown key `{other}` in the spec"));
                d.label("unknown key");
                match suggest(other, TOP_KEYS) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => {
                        d.help("the top-level keys are `app`, `batch_interval`, `checkpoint`, `streams` and `outputs`")
                    }
                };
            }
        }
    }
    if sources_node.is_some() || queries_node.is_some() {
        if let Some(node) = streams_node.or(outputs_node) {
            let span = r.span_of(node);
            r.diags
                .error(span, "a spec has either DStreams (`streams:`/`outputs:`) or Structured Streaming queries (`sources:`/`queries:`), not both")
                .help("split it into two specs");
        }
        let mut table = table.take().unwrap_or_default();
        if let Some(n) = sources_node {
            Tables { r: &mut *r }.sources(n, &mut table);
        }
        match queries_node {
            Some(n) => Tables { r: &mut *r }.queries(n, &mut table),
            None => {
                let span = r.span_of(root);
                r.diags
                    .error(span, "the spec has `sources:` but no `queries:`")
                    .help("add `queries:` with at least one query");
            }
        }
        if plan.app.batch_interval_ms.is_none() {
            plan.app.batch_interval_ms = Some((1000, SpanTable::unknown()));
        }
        table.app = plan.app;
        return Program::Table(table);
    }
    if plan.app.batch_interval_ms.is_none() && !entries.iter().any(|(k, _)| k.value == "batch_interval") {
        let span = r.span_of(root);
        r.diags.error(span, "the spec has no `batch_interval`").help("add `batch_interval: 1s` (Spark's `Seconds(1)`)");
    }
    let mut cx = Streams { r: &mut *r, poisoned: Vec::new() };
    let raw = match streams_node {
        Some(node) => cx.streams(node, &mut plan),
        None => {
            let span = cx.r.span_of(root);
            cx.r.diags.error(span, "the spec has no `streams:` list").help("add `streams:` with at least one source");
            Vec::new()
        }
    };
    let names = cx.resolve(raw, &mut plan);
    if let Some(node) = outputs_node {
        cx.outputs(node, &mut plan, &names);
    }
    Program::DStream(plan)
}

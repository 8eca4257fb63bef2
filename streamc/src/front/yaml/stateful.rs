//! The stateful steps of a YAML query that take a map of fields: a stream-stream `join` and
//! `map_groups_with_state` / `flat_map_groups_with_state`.

use super::node::Node;
use super::table::Tables;
use crate::span::SpanId;
use crate::table::{ColTy, JoinHow, OutputMode, Step};
use serde_saphyr::Spanned;

impl Tables<'_, '_> {
    /// `join: { stream, watermark?, steps?, on, how? }`.
    pub(super) fn stream_join_step(&mut self, value: &Spanned<Node>, kspan: SpanId) -> Option<Step> {
        let f = self.r.fields(value, "join", &["stream", "watermark", "steps", "on", "how"])?;
        let sv = f.get("stream")?;
        let (source, source_span) = (self.r.string(sv, "stream")?, self.r.span_of(sv));
        let watermark = match f.get("watermark") {
            Some(w) => {
                let wf = self.r.fields(w, "watermark", &["column", "delay"])?;
                let column = self.r.string(wf.get("column")?, "column")?;
                let delay = self.r.delay(wf.get("delay")?, "delay")?;
                Some((column, delay))
            }
            None => None,
        };
        let mut steps = Vec::new();
        match f.get("steps").map(|v| &v.value) {
            Some(Node::Seq(list)) => {
                for st in list {
                    steps.push(self.step(st)?);
                }
            }
            Some(_) => {
                let s = self.r.span_of(f.get("steps")?);
                self.r.diags.error(s, "expected a list of steps");
                return None;
            }
            None => {}
        }
        let Some(on) = f.get("on") else {
            self.r
                .diags
                .error(kspan, "a stream-stream `join` needs its condition `on`")
                .help("write `on: \"clickAdId = impressionAdId AND clickTime >= impressionTime\"`");
            return None;
        };
        let ospan = self.r.span_of(on);
        let text = self.r.string(on, "on")?;
        let on = self.r.expr(&text, ospan)?;
        let how = match f.get("how") {
            None => JoinHow::Inner,
            Some(h) => {
                let text = self.r.string(h, "how")?;
                match JoinHow::parse(&text) {
                    Some(how) => how,
                    None => {
                        let hs = self.r.span_of(h);
                        self.r.diags.error(hs, format!("unsupported join type `{text}`")).help(
                            "the join types are `inner`, `left_outer`, `right_outer`, `full_outer` and `left_semi`",
                        );
                        return None;
                    }
                }
            }
        };
        Some(Step::StreamJoin(Box::new(crate::table::StreamJoin { source, source_span, watermark, steps, on, how })))
    }

    /// `map_groups_with_state: { key, state, timeout?, output, function }` (and the flat form
    /// with its `output_mode`).
    pub(super) fn groups_step(&mut self, key: &Spanned<String>, value: &Spanned<Node>, kspan: SpanId) -> Option<Step> {
        let flat = key.value.starts_with("flat");
        let what = if flat { "flat_map_groups_with_state" } else { "map_groups_with_state" };
        let f = self.r.fields(value, what, &["key", "state", "timeout", "output", "function", "output_mode"])?;
        let keys: Vec<String> = self.column_list(f.get("key").copied())?.into_iter().map(|c| c.name).collect();
        let Some(state) = f.get("state") else {
            self.r
                .diags
                .error(kspan, format!("`{what}` needs the Rust type of its `state`"))
                .help("write `state: \"(i64, i64)\"`");
            return None;
        };
        let state = self.r.string(state, "state")?;
        let timeout = match f.get("timeout") {
            None => crate::table::GroupTimeout::None,
            Some(t) => {
                let text = self.r.string(t, "timeout")?;
                match crate::table::GroupTimeout::parse(&text) {
                    Some(t) => t,
                    None => {
                        let ts = self.r.span_of(t);
                        self.r
                            .diags
                            .error(ts, format!("unknown timeout `{text}`"))
                            .help("the timeouts are `none`, `processing_time` and `event_time`");
                        return None;
                    }
                }
            }
        };
        let mut output = Vec::new();
        match f.get("output").map(|o| &o.value) {
            Some(Node::Map(cols)) => {
                for (name, ty) in cols {
                    let text = self.r.string(ty, "a column type")?;
                    match ColTy::parse(&text) {
                        Some(ty) => output.push(crate::table::Column { name: name.value.clone(), ty }),
                        None => {
                            let ts = self.r.span_of(ty);
                            self.r
                                .diags
                                .error(ts, format!("unknown column type `{text}`"))
                                .help("the types are string, boolean, bigint (int, long), double, timestamp and date");
                            return None;
                        }
                    }
                }
            }
            _ => {
                self.r
                    .diags
                    .error(kspan, format!("`{what}` needs its `output` columns"))
                    .help("write `output: { sessionId: string, numEvents: bigint }`: the function returns a tuple of these, in order");
                return None;
            }
        }
        let Some(function) = f.get("function") else {
            self.r
                .diags
                .error(kspan, format!("`{what}` needs its `function`"))
                .help("write `function: \"|key, rows, state| ...\"`");
            return None;
        };
        let function = self.r.string(function, "function")?;
        let mode = match f.get("output_mode") {
            None => None,
            Some(m) if flat => match self.r.string(m, "output_mode")?.as_str() {
                "append" => Some(OutputMode::Append),
                "update" => Some(OutputMode::Update),
                other => {
                    let ms = self.r.span_of(m);
                    self.r.diags.error(ms, format!("`{what}` runs in `append` or `update` mode, not `{other}`"));
                    return None;
                }
            },
            Some(m) => {
                let ms = self.r.span_of(m);
                self.r
                    .diags
                    .error(ms, "`map_groups_with_state` has no `output_mode` of its own (it is update)")
                    .help("use `flat_map_groups_with_state` for append mode");
                return None;
            }
        };
        Some(Step::GroupsWithState(Box::new(crate::table::GroupsWithState {
            flat,
            keys,
            state,
            output,
            function,
            timeout,
            mode,
        })))
    }
}

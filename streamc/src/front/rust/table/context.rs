//! Context statements of a Structured Streaming `stream!` block: `app_name`, `batch_interval`,
//! `checkpoint` and `trigger`.

use super::*;

impl Cx<'_> {
    pub(super) fn context_call(&mut self, f: &str, call: &syn::ExprCall) {
        let span = self.span(call.func.span());
        if call.args.len() != 1 {
            self.diags.error(span, format!("`{f}` takes 1 argument, found {}", call.args.len()));
            return;
        }
        let arg = &call.args[0];
        let arg_span = self.span(arg.span());
        match f {
            "app_name" => match lit_str(arg) {
                Some(s) => self.table.app.name = s.value(),
                None => {
                    self.diags.error(arg_span, "`app_name` takes a string literal");
                }
            },
            "checkpoint" => match lit_str(arg) {
                Some(s) => self.table.app.checkpoint_dir = Some((s.value(), arg_span)),
                None => {
                    self.diags.error(arg_span, "`checkpoint` takes a directory as a string literal");
                }
            },
            "multiple_watermark_policy" => match lit_str(arg).map(|s| s.value().to_ascii_lowercase()).as_deref() {
                Some("min") => self.table.app.max_watermark_policy = false,
                Some("max") => self.table.app.max_watermark_policy = true,
                _ => {
                    self.diags.error(arg_span, "`multiple_watermark_policy` takes `\"min\"` or `\"max\"`");
                }
            },
            "batch_interval" => match duration_of(arg) {
                Ok(ms) => self.table.app.batch_interval_ms = Some((ms, arg_span)),
                Err(msg) => {
                    self.diags
                        .error(arg_span, msg)
                        .help("write `Seconds(1)`, `Milliseconds(500)`, `Minutes(1)`, `1s` or `500ms`");
                }
            },
            _ => self.trigger(arg),
        }
    }

    /// `AvailableNow`, `Once`, `ProcessingTime("10 seconds")` (also `Trigger::…` and
    /// `ProcessingTime(Seconds(10))`): one trigger for the whole program, as in the YAML spec.
    pub(super) fn trigger(&mut self, e: &syn::Expr) {
        let span = self.span(e.span());
        let help = "the triggers are `AvailableNow`, `Once` and `ProcessingTime(\"10 seconds\")`";
        let (name, args): (Option<String>, Vec<&syn::Expr>) = match e {
            syn::Expr::Path(_) => (path_name(e), Vec::new()),
            syn::Expr::Call(c) => (path_name(&c.func), c.args.iter().collect()),
            _ => (None, Vec::new()),
        };
        let Some(name) = name else {
            self.diags.error(span, format!("expected a trigger, found `{}`", e.to_token_stream())).help(help);
            return;
        };
        let (trigger, interval) = match (name.as_str(), &args[..]) {
            ("AvailableNow" | "available_now", []) => (Trigger::AvailableNow, None),
            ("Once" | "once", []) => (Trigger::Once, None),
            ("ProcessingTime" | "processing_time", [d]) => {
                let ms = match lit_str(d) {
                    Some(s) => duration::parse_ms(&s.value()),
                    None => duration_of(d),
                };
                match ms {
                    Ok(ms) => (Trigger::ProcessingTime, Some(ms)),
                    Err(msg) => {
                        let s = self.span(d.span());
                        self.diags
                            .error(s, msg)
                            .help("write `ProcessingTime(\"10 seconds\")` or `ProcessingTime(Seconds(10))`");
                        return;
                    }
                }
            }
            ("ProcessingTime" | "processing_time", _) => {
                self.diags
                    .error(span, "`ProcessingTime` takes 1 argument (the interval)")
                    .help("write `ProcessingTime(\"10 seconds\")`");
                return;
            }
            (other, _) => {
                let d = self.diags.error(span, format!("unknown trigger `{other}`"));
                match suggest(other, &["AvailableNow", "Once", "ProcessingTime"]) {
                    Some(s) => d.help(format!("did you mean `{s}`? {help}")),
                    None => d.help(help),
                };
                return;
            }
        };
        if let Some((t, i, _)) = self.trigger_set
            && (t, i) != (trigger, interval)
        {
            self.diags
                .error(span, "a second, different trigger")
                .help("streamc runs all queries of a program with one trigger; set it once with `trigger(..);`");
            return;
        }
        self.trigger_set = Some((trigger, interval, span));
        self.table.trigger = trigger;
        if let Some(ms) = interval {
            self.table.app.batch_interval_ms = Some((ms, span));
        }
    }
}

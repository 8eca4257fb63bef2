//! The checker: infers the element type of every stream and applies each operator's rule.
//! Every rule is its own `check_*` function pushing into one diagnostics list, so the user sees
//! all problems at once. What only rustc can decide (types of unannotated closures) is left to
//! the generated bounds, which carry messages that name the operator.

use crate::diag::Diagnostics;
use crate::dstream::ops::rules::Infer;
use crate::dstream::plan::{Op, OutputKind, Plan, StreamId};
use crate::dstream::ty::Ty;

/// Runs every check and fills in [`crate::dstream::plan::Stream::ty`] and [`crate::dstream::plan::Stream::slide_ms`].
pub fn check(plan: &mut Plan, diags: &mut Diagnostics) {
    let interval = plan.app.interval_ms();
    for i in 0..plan.streams.len() {
        let ty = infer(plan, StreamId(i), diags);
        plan.streams[i].ty = ty;
        plan.streams[i].slide_ms = check_slide(plan, StreamId(i), interval, diags);
    }
    check_inputs(plan, diags);
    check_checkpoint(plan, diags);
    check_checkpoint_intervals(plan, diags);
    check_outputs(plan, diags);
}

/// Spark's slide rules: a window's length and slide are multiples of its parent's slide (and the
/// slide is at most the length); streams combined by `union`/`join`/`cogroup` slide together.
fn check_slide(plan: &Plan, id: StreamId, interval: u64, diags: &mut Diagnostics) -> u64 {
    let s = &plan.streams[id.0];
    let parents: Vec<u64> = s.inputs.iter().map(|i| plan.streams[i.0].slide_ms).collect();
    let Some(&parent) = parents.first() else { return interval };
    if parents.iter().any(|p| *p != parent) {
        let described: Vec<String> = s
            .inputs
            .iter()
            .map(|i| format!("`{}` ({} ms)", plan.streams[i.0].name, plan.streams[i.0].slide_ms))
            .collect();
        diags
            .error(s.op_span, format!("`{}` combines streams with different slide durations: {}", s.op.name(), described.join(", ")))
            .help("window the streams with the same slide first (Spark: \"Some of the DStreams have different slide durations\")");
    }
    let (len_ms, slide_ms) = match &s.op {
        Op::Window { len_ms, slide_ms } | Op::ReduceByKeyAndWindow { len_ms, slide_ms, .. } => (*len_ms, *slide_ms),
        _ => return parent,
    };
    let slide = slide_ms.unwrap_or(parent);
    let name = &s.name;
    if len_ms % parent != 0 {
        diags
            .error(s.op_span, format!("the window duration of `{name}` ({len_ms} ms) must be multiple of the slide duration of parent DStream ({parent} ms)"))
            .help(format!("use a window length that is a multiple of {parent} ms"));
    }
    if slide % parent != 0 {
        diags
            .error(s.op_span, format!("the slide duration of `{name}` ({slide} ms) must be multiple of the slide duration of parent DStream ({parent} ms)"))
            .help(format!("use a slide that is a multiple of {parent} ms"));
    }
    if slide > len_ms {
        diags
            .error(s.op_span, format!("the slide of `{name}` ({slide} ms) is longer than its window ({len_ms} ms)"))
            .help("a window must be at least as long as its slide, or batches would be skipped");
    }
    slide
}

fn infer(plan: &Plan, id: StreamId, diags: &mut Diagnostics) -> Ty {
    (plan.streams[id.0].op.def().ty)(Infer::new(plan, id), diags)
}

/// Operators reading two streams need both; a front end always gives them, but a wrong plan is
/// reported as a bug rather than generating broken code.
fn check_inputs(plan: &Plan, diags: &mut Diagnostics) {
    for s in &plan.streams {
        if !s.op.def().inputs.accepts(s.inputs.len()) {
            diags.error(
                s.op_span,
                format!(
                    "internal error in streamc: `{}` has {} inputs; this is a bug in streamc",
                    s.op.name(),
                    s.inputs.len()
                ),
            );
        }
    }
}

/// A stream's checkpoint interval must be a multiple of its slide (Spark checks this at start).
fn check_checkpoint_intervals(plan: &Plan, diags: &mut Diagnostics) {
    for s in &plan.streams {
        if let Some((ms, span)) = s.checkpoint_ms
            && s.slide_ms != 0
            && ms % s.slide_ms != 0
        {
            diags
                .error(
                    span,
                    format!(
                        "the checkpoint interval of `{}` ({ms} ms) must be a multiple of its slide duration ({} ms)",
                        s.name, s.slide_ms
                    ),
                )
                .help(format!("use a multiple of {} ms", s.slide_ms));
        }
    }
}

/// Stateful operators keep state across batches, which Spark saves in checkpoints: without a
/// checkpoint directory Spark refuses to start, streamc refuses to compile.
fn check_checkpoint(plan: &Plan, diags: &mut Diagnostics) {
    if plan.app.checkpoint_dir.is_some() {
        return;
    }
    let mut seen = Vec::new();
    for s in &plan.streams {
        if s.op.is_stateful() && !seen.contains(&s.op_span) {
            seen.push(s.op_span);
            diags
                .error(
                    s.op_span,
                    format!(
                        "`{}` keeps state across batches, but the checkpoint directory has not been set",
                        s.op.name()
                    ),
                )
                .help(match plan.app.frontend {
                    crate::dstream::plan::Frontend::Yaml => {
                        "add `checkpoint: <dir>` to the spec (Spark: `ssc.checkpoint(dir)`)"
                    }
                    crate::dstream::plan::Frontend::Macro => {
                        "add `checkpoint(\"<dir>\");` to the pipeline (Spark: `ssc.checkpoint(dir)`)"
                    }
                });
        }
    }
}

fn check_outputs(plan: &Plan, diags: &mut Diagnostics) {
    if plan.outputs_written == 0 && !plan.streams.is_empty() {
        let span = plan.streams.last().map(|s| s.name_span).unwrap_or_default();
        diags
            .error(span, "the pipeline has no output operation, so nothing would run")
            .help("add an output such as `print` (Spark: \"No output operations registered, so nothing to execute\")");
    }
    for o in &plan.outputs {
        match &o.kind {
            OutputKind::SaveAsTextFiles { prefix, .. } if prefix.is_empty() => {
                diags.error(o.span, "`save_as_text_files` needs a non-empty prefix");
            }
            OutputKind::ForeachBatch(c) => {
                let closure = &plan.closures[c.0];
                if let Some(n) = closure.arity
                    && n != 2
                {
                    diags
                        .error(
                            closure.span,
                            format!(
                                "`foreach_batch` takes a closure of 2 arguments (batch time in ms, records), found {n}"
                            ),
                        )
                        .help("write `|time_ms, records| ...`; `records` is a slice of the batch's elements");
                }
            }
            _ => {}
        }
    }
}

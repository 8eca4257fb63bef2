//! The explanation of a DStream program: one logical tree per output (its stream and the
//! streams it reads, down to the sources), then the physical plan (fused stages, materialized
//! collections, state kept across batches, slides).

use super::tree::Node;
use crate::dstream::plan::{Builtin, Func, Literal, Op, OutputKind, Plan, Stream, StreamId};
use crate::physical::Fused;
use std::fmt::Write as _;

pub(super) fn explain(plan: &Plan, fused: &Fused) -> String {
    let mut out =
        format!("== Logical Plan ==  (app `{}`, batch interval {} ms)\n", plan.app.name, plan.app.interval_ms());
    for o in &plan.outputs {
        let root = Node::new(output_label(plan, &o.kind, o.input), vec![stream_tree(plan, o.input)]);
        root.render(&mut out);
    }
    out.push_str("\n== Physical Plan ==\n");
    for (k, stage) in fused.stages.iter().enumerate() {
        let _ = writeln!(out, "*({}) {stage}", k + 1);
    }
    let materialized: Vec<String> = plan
        .streams
        .iter()
        .enumerate()
        .filter(|(i, _)| fused.materialized[*i])
        .map(|(_, s)| format!("{} ({})", s.name, if s.op.is_source() { "source batch" } else { s.op.name() }))
        .collect();
    let _ = writeln!(out, "Materialized: {}", materialized.join(", "));
    let kept: Vec<&Stream> = plan.streams.iter().filter(|s| s.op.def().codegen.keep.is_some()).collect();
    if kept.is_empty() {
        out.push_str("State across batches: none\n");
    } else {
        out.push_str("State across batches (checkpointed):\n");
        for s in kept {
            let input = s.inputs.first().map_or_else(|| "?".to_owned(), |i| plan.streams[i.0].ty.to_string());
            let _ = writeln!(out, "  {}: {}", s.name, (s.op.def().codegen.describe)(s, &input));
        }
    }
    for s in &plan.streams {
        if s.slide_ms != plan.app.interval_ms() {
            let _ = writeln!(out, "Slide: `{}` has a batch every {} ms", s.name, s.slide_ms);
        }
    }
    out
}

/// A stream and, below it, the streams it reads.
fn stream_tree(plan: &Plan, id: StreamId) -> Node {
    let s = &plan.streams[id.0];
    let children = s.inputs.iter().map(|&i| stream_tree(plan, i)).collect();
    let args = op_args(&s.op);
    let mut label = format!("{} = {}", s.name, s.op.name());
    if !args.is_empty() {
        let _ = write!(label, "({args})");
    }
    let _ = write!(label, " -> {}", s.ty);
    if s.op.def().codegen.keep.is_some() {
        label.push_str(" [state across batches]");
    }
    Node::new(label, children)
}

fn output_label(plan: &Plan, kind: &OutputKind, input: StreamId) -> String {
    let name = &plan.streams[input.0].name;
    match kind {
        OutputKind::Print { num } => format!("print({name}) [first {num} of each batch]"),
        OutputKind::SaveAsTextFiles { prefix, suffix } => {
            format!(
                "save_as_text_files({name}) [{prefix}-<time>{}]",
                if suffix.is_empty() { String::new() } else { format!(".{suffix}") }
            )
        }
        OutputKind::ForeachBatch(_) => format!("foreach_batch({name}) [<closure>]"),
    }
}

/// An operator's parameters as the spec wrote them (closures shown as `<closure>`).
fn op_args(op: &Op) -> String {
    let f = |func: &Func| func_label(func);
    let ms = |v: u64| format!("{v} ms");
    match op {
        Op::SocketTextStream { host, port } => format!("{host}:{port}"),
        Op::KafkaDirectStream { options } => {
            options.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
        }
        Op::TextFileStream { dir } => dir.clone(),
        Op::Map(func)
        | Op::FlatMap(func)
        | Op::Filter(func)
        | Op::MapValues(func)
        | Op::FlatMapValues(func)
        | Op::Reduce(func)
        | Op::ReduceByKey(func)
        | Op::Transform(func)
        | Op::UpdateStateByKey(func) => f(func),
        Op::Repartition(n) => n.to_string(),
        Op::Window { len_ms, slide_ms } => match slide_ms {
            Some(s) => format!("length {}, slide {}", ms(*len_ms), ms(*s)),
            None => format!("length {}", ms(*len_ms)),
        },
        Op::ReduceByKeyAndWindow { func, inverse, filter, len_ms, slide_ms } => {
            let mut parts = vec![f(func)];
            if let Some(i) = inverse {
                parts.push(format!("inverse {}", f(i)));
            }
            if let Some(fl) = filter {
                parts.push(format!("filter {}", f(fl)));
            }
            parts.push(format!("length {}", ms(*len_ms)));
            if let Some(s) = slide_ms {
                parts.push(format!("slide {}", ms(*s)));
            }
            parts.join(", ")
        }
        Op::MapWithState { func, timeout_ms, initial } => {
            let mut parts = vec![f(func)];
            if let Some(t) = timeout_ms {
                parts.push(format!("timeout {}", ms(*t)));
            }
            if initial.is_some() {
                parts.push("initial state".to_owned());
            }
            parts.join(", ")
        }
        // The operator's name says which join.
        Op::Join(_) | Op::Count | Op::CountByValue | Op::GroupByKey | Op::Union | Op::Cogroup | Op::StateSnapshots => {
            String::new()
        }
    }
}

fn func_label(func: &Func) -> String {
    match func {
        Func::Closure(_) => "<closure>".to_owned(),
        Func::Builtin(b) => match b {
            Builtin::Split(d) => format!("split {d:?}"),
            Builtin::PairWith(l) => format!("pair_with {}", literal(l)),
            Builtin::Sum => "sum".into(),
            Builtin::Min => "min".into(),
            Builtin::Max => "max".into(),
            Builtin::Subtract => "subtract".into(),
            Builtin::UnitOne => "x -> ((), 1)".into(),
            Builtin::UnitKey => "x -> ((), x)".into(),
            Builtin::PairOne => "x -> (x, 1)".into(),
            Builtin::Second => "(k, v) -> v".into(),
            Builtin::NonZero => "non_zero".into(),
            Builtin::RunningSum => "sum".into(),
            Builtin::RunningSumMapped => "running_sum".into(),
        },
    }
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Int(i) => i.to_string(),
        Literal::Float(x) => x.to_string(),
        Literal::Bool(b) => b.to_string(),
        Literal::Str(s) => format!("{s:?}"),
    }
}

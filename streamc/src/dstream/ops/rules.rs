//! What an operator's type rule sees ([`Infer`]) and the checks the rules share: pairs, keys,
//! closures' arity and argument types. The checker (`dstream::check`) calls each stream's rule.

use crate::diag::Diagnostics;
use crate::dstream::plan::{Builtin, Func, Literal, Plan, Stream, StreamId};
use crate::dstream::ty::Ty;

/// One stream as its operator's type rule sees it: its input's type (known for every earlier
/// stream) and the name to show for the input.
pub struct Infer<'a> {
    pub plan: &'a Plan,
    pub id: StreamId,
    pub s: &'a Stream,
    pub input: Ty,
    pub input_name: String,
    pub op_name: &'static str,
}

impl<'a> Infer<'a> {
    pub fn new(plan: &'a Plan, id: StreamId) -> Infer<'a> {
        let s = &plan.streams[id.0];
        let (input, input_name) = input_ty(plan, id);
        Infer { plan, id, s, input, input_name, op_name: s.op.name() }
    }
}

/// The rule of operators that never reach the checker (composites are lowered, outputs are not
/// streams).
pub fn unknown(_: Infer, _: &mut Diagnostics) -> Ty {
    Ty::Unknown
}

/// The input's type and user-facing name: an operator that a composite one was lowered to
/// (`name#0`) is shown as the composite's stream.
pub(crate) fn input_ty(plan: &Plan, id: StreamId) -> (Ty, String) {
    match plan.streams[id.0].inputs.first() {
        Some(i) => {
            let name = &plan.streams[i.0].name;
            let shown = name.split_once('#').map_or(name.as_str(), |(base, _)| base);
            (plan.streams[i.0].ty.clone(), shown.to_string())
        }
        None => (Ty::Unknown, String::new()),
    }
}

/// The (key, value) types of a pair stream, or a diagnostic naming the operator.
pub(crate) fn pair_parts(plan: &Plan, id: StreamId, input: &Ty, input_name: &str, diags: &mut Diagnostics) -> (Ty, Ty) {
    let s = &plan.streams[id.0];
    match input {
        Ty::Tuple(parts) if parts.len() == 2 => (parts[0].clone(), parts[1].clone()),
        Ty::Unknown => (Ty::Unknown, Ty::Unknown),
        other => {
            diags
                .error(s.op_span, format!("`{}` needs a stream of `(key, value)` pairs, found `{other}`", s.op.name()))
                .label(format!("stream `{input_name}` has elements of type `{other}`"))
                .help(match plan.app.frontend {
                    crate::dstream::plan::Frontend::Yaml => {
                        "map each element to a pair first, e.g. `map: { pair_with: 1 }`"
                    }
                    crate::dstream::plan::Frontend::Macro => {
                        "map each element to a pair first, e.g. `.map(|w| (w, 1))`"
                    }
                });
            (Ty::Unknown, Ty::Unknown)
        }
    }
}

pub(crate) fn vec_of(t: &Ty) -> Ty {
    Ty::rust(&format!("Vec<{t}>"))
}

pub(crate) fn option_of(t: &Ty) -> Ty {
    Ty::rust(&format!("Option<{t}>"))
}

pub(crate) fn closure_ret(plan: &Plan, f: &Func) -> Ty {
    match f {
        Func::Closure(c) => plan.closures[c.0].ret_type.clone().unwrap_or(Ty::Unknown),
        Func::Builtin(_) => Ty::Unknown,
    }
}

pub(crate) fn check_key(plan: &Plan, id: StreamId, key: &Ty, diags: &mut Diagnostics) {
    let s = &plan.streams[id.0];
    if key.is_known() && !key.hashable() {
        diags
            .error(s.op_span, format!("the key type `{key}` of `{}` cannot be hashed", s.op.name()))
            .help("floating-point numbers are not `Hash + Eq`; use an integer or a string key");
    }
}

pub(crate) fn internal(diags: &mut Diagnostics, span: crate::span::SpanId, op: &str, b: &Builtin) -> Ty {
    diags.error(span, format!("internal error in streamc: built-in {b:?} reached `{op}`; this is a bug in streamc"));
    Ty::Unknown
}

pub(crate) fn literal_ty(lit: &Literal) -> Ty {
    match lit {
        Literal::Int(_) => Ty::Int("i64"),
        Literal::Float(_) => Ty::Float("f64"),
        Literal::Bool(_) => Ty::Bool,
        Literal::Str(_) => Ty::Rust("&'static str".into()),
    }
}

pub(crate) fn check_reduce_fn(plan: &Plan, f: &Func, op: &str, value: &Ty, input_name: &str, diags: &mut Diagnostics) {
    match f {
        Func::Builtin(b @ (Builtin::Sum | Builtin::Min | Builtin::Max | Builtin::Subtract)) => {
            let ok = match b {
                Builtin::Sum | Builtin::Subtract => value.is_numeric() || !value.is_known(),
                _ => value.hashable() || value.is_numeric() || !value.is_known(),
            };
            if !ok || matches!(value, Ty::Tuple(_)) && matches!(b, Builtin::Sum | Builtin::Subtract) {
                let span = plan.streams.iter().find(|s| s.name == input_name).map(|s| s.name_span).unwrap_or_default();
                diags
                    .error(span, format!("`{op}: {}` needs numbers, found `{value}`", format!("{b:?}").to_lowercase()))
                    .help("use a Rust closure to combine values of other types");
            }
        }
        Func::Builtin(b) => {
            internal(diags, crate::span::SpanTable::unknown(), op, b);
        }
        Func::Closure(c) => check_closure(plan, *c, op, 2, &[value.clone(), value.clone()], input_name, diags),
    }
}

pub(crate) fn check_arity(
    plan: &Plan,
    c: crate::dstream::plan::ClosureId,
    op: &str,
    wanted: usize,
    diags: &mut Diagnostics,
) -> bool {
    let closure = &plan.closures[c.0];
    match closure.arity {
        Some(n) if n != wanted => {
            let plural = |n: usize| if n == 1 { "" } else { "s" };
            diags
                .error(
                    closure.span,
                    format!(
                        "`{op}` takes a closure of {wanted} argument{}, found a closure of {n} argument{}",
                        plural(wanted),
                        plural(n)
                    ),
                )
                .help(match (op, wanted) {
                    ("reduce" | "reduce_by_key", _) => format!("`{op}` combines two values: `|a, b| a + b`"),
                    _ => format!("`{op}` passes each element to the closure: `|x| ...`"),
                });
            false
        }
        _ => true,
    }
}

pub(crate) fn check_closure(
    plan: &Plan,
    c: crate::dstream::plan::ClosureId,
    op: &str,
    wanted: usize,
    expected: &[Ty],
    input_name: &str,
    diags: &mut Diagnostics,
) {
    if !check_arity(plan, c, op, wanted, diags) {
        return;
    }
    let closure = &plan.closures[c.0];
    for (i, (written, exp)) in closure.arg_types.iter().zip(expected).enumerate() {
        if let Some(written) = written
            && !written.compatible(exp)
        {
            let which = if wanted == 1 { "its argument".to_string() } else { format!("argument {}", i + 1) };
            diags
                .error(closure.span, format!("the closure of `{op}` declares {which} as `{written}`, but stream `{input_name}` has elements of type `{exp}`"))
                .help(format!("write `{exp}` as the argument type, or leave the type out"));
        }
    }
}

/// The element type a map closure evidently returns.
pub(crate) fn closure_result(plan: &Plan, c: crate::dstream::plan::ClosureId, input: &Ty) -> Ty {
    let closure = &plan.closures[c.0];
    if let Some(t) = &closure.ret_type {
        return t.clone();
    }
    let arg_ty = |i: usize| -> Ty {
        closure.arg_types.get(i).cloned().flatten().unwrap_or_else(|| if i == 0 { input.clone() } else { Ty::Unknown })
    };
    fn shape(s: &crate::dstream::plan::BodyShape, arg_ty: &dyn Fn(usize) -> Ty) -> Ty {
        match s {
            crate::dstream::plan::BodyShape::Tuple(parts) => {
                Ty::Tuple(parts.iter().map(|p| shape(p, arg_ty)).collect())
            }
            crate::dstream::plan::BodyShape::Arg(i) => arg_ty(*i),
            crate::dstream::plan::BodyShape::Lit(t) => t.clone(),
            crate::dstream::plan::BodyShape::SplitOf(_) => Ty::Unknown,
        }
    }
    match &closure.body_type {
        Some(s) => shape(s, &arg_ty),
        None => Ty::Unknown,
    }
}

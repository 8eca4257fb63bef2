//! What an operator's code generation pieces see ([`Gen`]) and the helpers they share. The
//! DStream code generator (`codegen::dstream`) builds a [`Gen`] for each stream and calls the
//! stream's [`Codegen`] pieces; this module knows nothing of fusion or of the batch loop.

use crate::dstream::plan::{Builtin, Func, Literal, Plan, Stream, StreamId};
use crate::dstream::ty::Ty;
use proc_macro2::{Group, Ident, Span, TokenStream, TokenTree};
use quote::quote;

/// An operator's code generation pieces, each a no-op unless the operator has one. Generated
/// code for a stream `<id>` uses locals named `<prefix>_<id>`: `ty` (the element type witness),
/// `f` (the bound function), `state` (the per-batch table or accumulator), `keep` (state across
/// batches), `cap` (the size of last batch's keyed table) and `v` (the stream's batch).
#[derive(Debug, Clone, Copy)]
pub struct Codegen {
    /// Builder calls made once when the app is set up (a source's connection), given the
    /// builder's name.
    pub setup: Option<fn(&Gen, &Ident) -> TokenStream>,
    /// State kept across batches: its declaration (`let mut keep_<id> = ...;`), set up once.
    pub keep: Option<fn(&Gen) -> TokenStream>,
    /// Per-batch bindings: the element type witness, the bound function, the batch's state.
    pub bind: fn(&Gen) -> Bind,
    /// Hands `value`, an element of the input, to the operator; `next` is the code that takes
    /// one of the operator's own elements further (its buffer, or the fused consumer).
    pub apply: fn(&Gen, TokenStream, &dyn Fn(TokenStream) -> TokenStream) -> TokenStream,
    /// Makes the batch `v_<id>` once every input element was applied.
    pub finish: fn(&Gen) -> TokenStream,
    /// For operators whose per-batch state is a keyed table that workers pre-aggregate: how two
    /// values of a key combine when a worker's partial table is merged into the batch's.
    pub merge: Option<fn(&Gen) -> TokenStream>,
    /// What the state kept across batches is, for checkpoints (`AppBuilder::describe_state`),
    /// given the input's element type: a restart with a changed pipeline is refused.
    pub describe: fn(&Stream, &str) -> String,
    /// Spark's default checkpoint interval of the kept state, given the stream's slide.
    pub checkpoint_every: fn(u64) -> u64,
    /// True when the batch `v_<id>` is a slice borrowed from the kept state, not a `Vec`.
    pub borrows: fn(&Stream) -> bool,
    /// True for a narrow operator that may run fused inside a worker's partial (a stage split
    /// over workers, see `codegen::dstream::stage`), given the stream and its input's type.
    pub in_workers: fn(&Stream, &Ty) -> bool,
    /// True when the state kept across batches can be partitioned by key over a cluster's
    /// processes (the runtime's `partition::Partitioned`), so a keyed input need not be put
    /// together on every process (`codegen::dstream::placement`).
    pub partitions: bool,
}

/// The bindings of a stream for one batch.
pub struct Bind {
    pub tokens: TokenStream,
    /// True when the stream's batch is a `Vec` filled element by element (declared by the
    /// driver when the stream is materialized).
    pub buffer: bool,
}

impl Bind {
    /// Bindings of an operator without a per-element buffer of its own.
    pub fn unbuffered(tokens: TokenStream) -> Bind {
        Bind { tokens, buffer: false }
    }

    /// Bindings of an operator whose batch is a `Vec` its input's loop fills.
    pub fn buffered(tokens: TokenStream) -> Bind {
        Bind { tokens, buffer: true }
    }
}

impl Codegen {
    /// The pieces of an operator that only passes elements on.
    pub const NONE: Codegen = Codegen {
        setup: None,
        keep: None,
        bind: |_| Bind { tokens: TokenStream::new(), buffer: true },
        apply: |_, _, _| TokenStream::new(),
        finish: |_| TokenStream::new(),
        merge: None,
        describe: |s, input| format!("{} over {input}", s.op.name()),
        // The smallest multiple of the slide of at least 10 s.
        checkpoint_every: |slide| 10_000u64.div_ceil(slide) * slide,
        borrows: |_| false,
        in_workers: |_, _| false,
        partitions: false,
    };
}

/// One stream as its operator's code generation pieces see it.
pub struct Gen<'a> {
    pub plan: &'a Plan,
    pub names: &'a Names,
    pub id: StreamId,
    pub stream: &'a Stream,
    /// The operator's span in the user's text (only `bind` places code there; elsewhere the
    /// call site).
    pub span: Span,
    /// The runtime's `BatchInput` of the current batch.
    pub input: &'a Ident,
    /// The condition under which the stream has a batch now (None: every batch).
    pub active: Option<TokenStream>,
    /// The same for the stream's first input.
    pub input_active: Option<TokenStream>,
    /// Each input's batch, taken by value (moved out, or cloned when others read it too).
    pub taken: Vec<TokenStream>,
    /// True when an output reads the stream.
    pub has_outputs: bool,
    /// How often the stream's state is checkpointed, in ms.
    pub checkpoint_every: u64,
}

impl Gen<'_> {
    /// The local `<prefix>_<id>` of this stream.
    pub fn ident(&self, prefix: &str) -> Ident {
        self.names.ident(prefix, self.id)
    }

    /// The local `<prefix>_<id>` of the stream's `k`-th input (its own when it has none).
    pub fn input_ident(&self, prefix: &str, k: usize) -> Ident {
        self.names.ident(prefix, self.stream.inputs.get(k).copied().unwrap_or(self.id))
    }

    /// The element type of the first input, when the checker knows it.
    pub fn input_ty(&self) -> Option<&Ty> {
        self.stream.inputs.first().map(|x| &self.plan.streams[x.0].ty)
    }

    /// `let (mut f_<id>, <ty>) = runtime::ops::OP(ty_<input>, closure);` at the operator's span.
    pub fn bind_fn(&self, op: &str, f: &Ident, ty: &Ident, in_ty: &Ident, func: &Func) -> TokenStream {
        let closure = func_tokens(self.plan, func);
        bind_fn(op, f, ty, in_ty, closure, self.span)
    }

    /// `tokens` moved to the operator's span (see [`at`]).
    pub fn at(&self, tokens: TokenStream) -> TokenStream {
        at(tokens, self.span)
    }

    /// `body` run only when the first input has a batch now.
    pub fn if_input_active(&self, body: TokenStream) -> TokenStream {
        match &self.input_active {
            Some(c) => quote!(if #c { #body }),
            None => body,
        }
    }

    /// The operator's function (`map`'s closure, `reduce_by_key_and_window`'s `func`).
    pub fn func(&self) -> Option<&'_ Func> {
        self.stream.op.func()
    }

    /// `body` when the stream has a batch now, an empty `Vec` otherwise.
    pub fn when(&self, body: TokenStream) -> TokenStream {
        match &self.active {
            Some(c) => quote!(if #c { #body } else { ::std::vec::Vec::new() }),
            None => body,
        }
    }
}

/// The names of generated locals, one base per stream.
pub struct Names {
    base: Vec<String>,
}

impl Names {
    pub fn new(plan: &Plan) -> Names {
        let mut base: Vec<String> = Vec::new();
        for (i, s) in plan.streams.iter().enumerate() {
            let mut b: String = s
                .name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_lowercase() } else { '_' })
                .collect();
            if b.is_empty() || base.contains(&b) {
                b = format!("{b}_{i}");
            }
            base.push(b);
        }
        Names { base }
    }

    pub fn ident(&self, prefix: &str, id: StreamId) -> Ident {
        // Mixed-site hygiene: user closures cannot see (or be shadowed by) these locals.
        Ident::new(&format!("{prefix}_{}", self.base[id.0]), Span::mixed_site())
    }
}

/// The absolute path of the runtime crate, as generated code names it.
pub fn rt() -> TokenStream {
    quote!(::streamc_runtime)
}

/// Moves every token of `tokens` to the user's `span` for error reporting, keeping each token's
/// hygiene (`located_at`): rustc then reports a failed operator bound at the user's operator.
pub fn at(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => {
                let mut n = Group::new(g.delimiter(), at(g.stream(), span));
                n.set_span(g.span().located_at(span));
                TokenTree::Group(n)
            }
            TokenTree::Ident(mut i) => {
                i.set_span(i.span().located_at(span));
                TokenTree::Ident(i)
            }
            TokenTree::Punct(mut p) => {
                p.set_span(p.span().located_at(span));
                TokenTree::Punct(p)
            }
            TokenTree::Literal(mut l) => {
                l.set_span(l.span().located_at(span));
                TokenTree::Literal(l)
            }
        })
        .collect()
}

/// `let (mut f, ty) = runtime::ops::OP(in_ty, closure);` located at the operator's span, with
/// the closure's own tokens (and spans) untouched.
pub fn bind_fn(op: &str, f: &Ident, ty: &Ident, in_ty: &Ident, closure: TokenStream, span: Span) -> TokenStream {
    let rt = rt();
    let op = Ident::new(op, span);
    let head = at(quote!(let (mut #f, #ty) = #rt::ops::#op), span);
    let arg = at(quote!(#in_ty,), span);
    quote!(#head(#arg #closure);)
}

/// The key and value types of a stream of pairs, when the checker knows them.
pub fn pair_types(ty: &Ty) -> Option<(&Ty, &Ty)> {
    match ty {
        Ty::Tuple(items) if items.len() == 2 => Some((&items[0], &items[1])),
        _ => None,
    }
}

/// The runtime constructor of a per-batch keyed table for these key and value types: the
/// string-keyed table (`StrReduce`, keys compared in the entry) when the key is known to be
/// `&str` and the value a number, the generic `KeyedReduce` otherwise.
pub fn keyed_table(types: Option<(&Ty, &Ty)>) -> Ident {
    let name = match types {
        Some((Ty::Str, Ty::Int(_) | Ty::Float(_))) => "str_keyed_reduce_sized",
        _ => "keyed_reduce_sized",
    };
    Ident::new(name, Span::call_site())
}

/// The tokens of an operator's function: the user's closure, or a built-in's closure.
pub fn func_tokens(plan: &Plan, func: &Func) -> TokenStream {
    let rt = rt();
    match func {
        Func::Closure(c) => plan.closures[c.0].tokens.clone(),
        Func::Builtin(b) => match b {
            // Owned strings are split by `flat_map`'s own binding, from its scratch.
            Builtin::Split(d) => quote!(|s| #rt::split::java_split(s, #d)),
            Builtin::PairWith(lit) => {
                let l = literal(lit);
                quote!(|x| (x, #l))
            }
            Builtin::Sum => quote!(|a, b| a + b),
            Builtin::Subtract => quote!(|a, b| a - b),
            Builtin::Min => quote!(|a, b| if b < a { b } else { a }),
            Builtin::Max => quote!(|a, b| if b > a { b } else { a }),
            Builtin::UnitOne => quote!(|_| ((), 1i64)),
            Builtin::UnitKey => quote!(|x| ((), x)),
            Builtin::PairOne => quote!(|x| (x, 1i64)),
            Builtin::Second => quote!(|(_, v)| v),
            Builtin::NonZero => quote!(|kv| kv.1 != 0),
            Builtin::RunningSum => quote!(#rt::state::running_sum),
            Builtin::RunningSumMapped => quote!(#rt::state::running_sum_mapped),
        },
    }
}

/// A constant as a value kept in state: strings are owned.
pub fn owned_literal(lit: &Literal) -> TokenStream {
    match lit {
        Literal::Str(s) => quote!(::std::string::String::from(#s)),
        other => literal(other),
    }
}

fn literal(lit: &Literal) -> TokenStream {
    match lit {
        Literal::Int(i) => {
            let l = proc_macro2::Literal::i64_suffixed(*i);
            quote!(#l)
        }
        Literal::Float(f) => {
            let l = proc_macro2::Literal::f64_suffixed(*f);
            quote!(#l)
        }
        Literal::Bool(b) => quote!(#b),
        Literal::Str(s) => quote!(#s),
    }
}

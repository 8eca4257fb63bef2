//! The shape of a registry entry ([`OperatorDef`]) and of the one call form both front ends
//! read operator calls into ([`Args`]). Each operator's file fills one in.

use super::emit::Codegen;
use super::rules;
use crate::dstream::plan::{Func, Initial, Op};

/// What an operator does with batches; decides fusion and which names a front end offers where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Reads the outside world; no input stream.
    Source,
    /// One element at a time; fused into its input's loop.
    Narrow,
    /// Folds each batch into one value or one table (pre-aggregated per worker, then merged).
    BatchAggregate,
    /// Needs its inputs' whole batches (joins, union, transform).
    WholeBatch,
    /// Keeps the last batches of a window.
    Windowed,
    /// Keeps per-key state across batches.
    Stateful,
    /// Spark's shorthand for a chain of the operators above (no plan operator of its own).
    Composite,
    /// An output operation: ends a stream, returns no stream.
    Output,
}

/// How an operator reads its input stream in generated code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
    /// No input (sources), or the input's state rather than its batch (`state_snapshots`).
    Nothing,
    /// One element at a time, from its input's loop.
    Element,
    /// The input's batch as a whole collection.
    Collection,
}

/// The argument shape of an operator, the same for every front end; a front end reads its own
/// syntax for each shape into [`Args`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Params {
    /// No argument (`count: {}`, `.count()`).
    Nothing,
    /// One function: a closure, or one of these built-ins (YAML).
    Func { builtins: &'static [&'static str] },
    /// A number of partitions.
    Partitions,
    /// The other stream(s) read (the first input is the receiver / `from:`).
    Others { many: bool },
    /// Functions in Spark's order (`func`, then `inverse`, then `filter`; at least `min` of
    /// them), a window length and an optional slide. YAML spells them as these fields.
    Windowed { min: usize, max: usize, fields: &'static [&'static str] },
    /// `StateSpec::function(f).timeout(d).initial_state(x)`; in YAML these fields.
    StateSpec { fields: &'static [&'static str] },
    /// A host and a port.
    HostPort,
    /// A directory.
    Dir,
    /// Kafka options (`kafka.bootstrap.servers`, `subscribe`, ...).
    Kafka,
    /// Outputs: `print`'s count, `save_as_text_files`' prefix and suffix, `foreach_batch`'s
    /// closure; in YAML these fields besides `from`.
    Output { fields: &'static [&'static str] },
}

/// How many streams an operator reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inputs {
    None,
    One,
    Two,
    TwoOrMore,
}

impl Inputs {
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Inputs::None => n == 0,
            Inputs::One => n == 1,
            Inputs::Two => n == 2,
            Inputs::TwoOrMore => n >= 2,
        }
    }
}

/// One operator call, whatever the front end: the arguments it read, by meaning. The
/// operator's [`OperatorDef::lower`] turns it into plan operators.
#[derive(Debug, Default)]
pub struct Args {
    /// The operator's function (`map`'s closure, `reduce_by_key_and_window`'s `func`).
    pub func: Option<Func>,
    /// A windowed reduction's inverse function.
    pub inverse: Option<Func>,
    /// `reduce_by_key_and_window`'s filter of the pairs kept.
    pub filter: Option<Func>,
    /// A window's length and slide, in ms.
    pub window: Option<(u64, Option<u64>)>,
    pub partitions: u32,
    pub host: String,
    pub port: u16,
    pub dir: String,
    /// A Kafka source's options.
    pub kafka: Vec<(String, String)>,
    pub timeout_ms: Option<u64>,
    pub initial: Option<Initial>,
}

/// How a call becomes plan operators (None only when a front end left out an argument it
/// reported).
pub type Lowering = fn(Args) -> Option<Vec<Op>>;

/// The definition of one operator.
#[derive(Debug)]
pub struct OperatorDef {
    /// The name in YAML and `stream!` (snake_case).
    pub name: &'static str,
    /// Spark's name (`countByValue`).
    pub spark: &'static str,
    pub kind: Kind,
    pub inputs: Inputs,
    pub feed: Feed,
    /// True when the (first) input must be a stream of `(key, value)` pairs.
    pub pairs: bool,
    /// True when this plan operator keeps state across batches (and so needs a checkpoint
    /// directory).
    pub stateful: fn(&Op) -> bool,
    pub params: Params,
    /// The argument in YAML, for the README's operator table.
    pub yaml: &'static str,
    /// The element types in and out, for the README's operator table.
    pub types: &'static str,
    /// One line of documentation.
    pub doc: &'static str,
    /// A use in `stream!`.
    pub example: &'static str,
    /// The plan operators a call stands for (None for outputs, which are not streams; the
    /// lowering returns None only when a front end left out an argument it reported).
    pub lower: Option<Lowering>,
    /// The type rule: the element type of the operator's stream, and diagnostics.
    pub ty: fn(rules::Infer, &mut crate::diag::Diagnostics) -> crate::dstream::ty::Ty,
    /// The pieces of generated code (see [`Codegen`]); none for outputs, which the driver emits.
    pub codegen: Codegen,
}

/// `stateful` of operators without state across batches.
pub(super) fn never(_: &Op) -> bool {
    false
}

/// A lowering to one plan operator built from the call's function.
pub(super) fn one(op: Option<Op>) -> Option<Vec<Op>> {
    op.map(|op| vec![op])
}

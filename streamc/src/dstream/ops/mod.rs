//! The DStream operator registry: every operator a front end accepts (sources, operators,
//! composites and outputs) is declared once, as an [`OperatorDef`] in one file of this folder,
//! and listed once in [`OPERATORS`]. Names, "did you mean" suggestions, argument shapes, the
//! lowering of a call to plan operators, and the README's operator table all come from here.

mod count_by_value;
mod def;
pub mod emit;
mod group_by_key;
mod join;
mod narrow;
mod output;
mod reduce;
mod reduce_by_key;
pub mod rules;
mod source;
mod state;
mod transform;
mod window;
mod window_composite;

use crate::dstream::plan::{Func, JoinKind, Op};
pub use def::{Args, Feed, Inputs, Kind, OperatorDef, Params};
pub use emit::{Bind, Codegen, Gen};

/// Every DStream operator, in the order of the README's table.
pub static OPERATORS: &[&OperatorDef] = &[
    &source::SOCKET_TEXT_STREAM,
    &source::TEXT_FILE_STREAM,
    &source::KAFKA_DIRECT_STREAM,
    &narrow::MAP,
    &narrow::FLAT_MAP,
    &narrow::FILTER,
    &narrow::MAP_VALUES,
    &narrow::FLAT_MAP_VALUES,
    &narrow::REPARTITION,
    &reduce::REDUCE,
    &reduce::COUNT,
    &count_by_value::COUNT_BY_VALUE,
    &reduce_by_key::REDUCE_BY_KEY,
    &group_by_key::GROUP_BY_KEY,
    &join::UNION,
    &join::JOIN,
    &join::LEFT_OUTER_JOIN,
    &join::RIGHT_OUTER_JOIN,
    &join::FULL_OUTER_JOIN,
    &join::COGROUP,
    &transform::TRANSFORM,
    &window::WINDOW,
    &window_composite::COUNT_BY_WINDOW,
    &window_composite::REDUCE_BY_WINDOW,
    &window::REDUCE_BY_KEY_AND_WINDOW,
    &window_composite::COUNT_BY_VALUE_AND_WINDOW,
    &state::UPDATE_STATE_BY_KEY,
    &state::MAP_WITH_STATE,
    &state::STATE_SNAPSHOTS,
    &output::PRINT,
    &output::SAVE_AS_TEXT_FILES,
    &output::FOREACH_BATCH,
];

/// The operator called `name`.
pub fn find(name: &str) -> Option<&'static OperatorDef> {
    OPERATORS.iter().copied().find(|d| d.name == name)
}

/// The names of the operators of these kinds, in table order.
pub fn names(kinds: &[Kind]) -> Vec<&'static str> {
    OPERATORS.iter().filter(|d| kinds.contains(&d.kind)).map(|d| d.name).collect()
}

/// The names of every operator that is not a source or an output (what follows a `.` in
/// `stream!`, or a key of a YAML stream besides the sources).
pub fn operator_names() -> Vec<&'static str> {
    OPERATORS.iter().filter(|d| !matches!(d.kind, Kind::Source | Kind::Output)).map(|d| d.name).collect()
}

/// The closest known name of the given kinds to a misspelt `name`. Two swapped neighbouring
/// letters (`jion`) come first: [`crate::diag::suggest`] counts a swap as two edits, which ties
/// `jion` with `union`.
pub fn suggest(name: &str, kinds: &[Kind]) -> Option<&'static str> {
    let names = names(kinds);
    let swapped = |n: &str| {
        let (a, b) = (name.as_bytes(), n.as_bytes());
        a.len() == b.len() && {
            let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            diff.len() == 2 && diff[1] == diff[0] + 1 && a[diff[0]] == b[diff[1]] && a[diff[1]] == b[diff[0]]
        }
    };
    names.iter().copied().find(|n| swapped(n)).or_else(|| crate::diag::suggest(name, &names))
}

/// Every kind but sources and outputs.
pub const STREAM_KINDS: &[Kind] =
    &[Kind::Narrow, Kind::BatchAggregate, Kind::WholeBatch, Kind::Windowed, Kind::Stateful, Kind::Composite];

impl Op {
    /// The registry entry of this plan operator.
    pub fn def(&self) -> &'static OperatorDef {
        match self {
            Op::SocketTextStream { .. } => &source::SOCKET_TEXT_STREAM,
            Op::TextFileStream { .. } => &source::TEXT_FILE_STREAM,
            Op::KafkaDirectStream { .. } => &source::KAFKA_DIRECT_STREAM,
            Op::Map(_) => &narrow::MAP,
            Op::FlatMap(_) => &narrow::FLAT_MAP,
            Op::Filter(_) => &narrow::FILTER,
            Op::MapValues(_) => &narrow::MAP_VALUES,
            Op::FlatMapValues(_) => &narrow::FLAT_MAP_VALUES,
            Op::Repartition(_) => &narrow::REPARTITION,
            Op::Reduce(_) => &reduce::REDUCE,
            Op::Count => &reduce::COUNT,
            Op::ReduceByKey(_) => &reduce_by_key::REDUCE_BY_KEY,
            Op::CountByValue => &count_by_value::COUNT_BY_VALUE,
            Op::GroupByKey => &group_by_key::GROUP_BY_KEY,
            Op::Union => &join::UNION,
            Op::Join(JoinKind::Inner) => &join::JOIN,
            Op::Join(JoinKind::LeftOuter) => &join::LEFT_OUTER_JOIN,
            Op::Join(JoinKind::RightOuter) => &join::RIGHT_OUTER_JOIN,
            Op::Join(JoinKind::FullOuter) => &join::FULL_OUTER_JOIN,
            Op::Cogroup => &join::COGROUP,
            Op::Transform(_) => &transform::TRANSFORM,
            Op::Window { .. } => &window::WINDOW,
            Op::ReduceByKeyAndWindow { .. } => &window::REDUCE_BY_KEY_AND_WINDOW,
            Op::UpdateStateByKey(_) => &state::UPDATE_STATE_BY_KEY,
            Op::MapWithState { .. } => &state::MAP_WITH_STATE,
            Op::StateSnapshots => &state::STATE_SNAPSHOTS,
        }
    }
    /// The operator's user-facing name.
    pub fn name(&self) -> &'static str {
        self.def().name
    }

    /// True for sources (no input stream).
    pub fn is_source(&self) -> bool {
        self.def().kind == Kind::Source
    }

    /// True for operators that see one element at a time and can be fused into a loop.
    pub fn is_narrow(&self) -> bool {
        self.def().kind == Kind::Narrow
    }

    /// True for operators that must see the whole batch before emitting (pipeline breakers).
    pub fn is_breaker(&self) -> bool {
        !self.is_source() && !self.is_narrow()
    }

    /// True for operators whose state lives across batches (and so needs a checkpoint directory).
    pub fn is_stateful(&self) -> bool {
        (self.def().stateful)(self)
    }

    /// The operator's function, if it has one (`map`'s closure, `reduce_by_key_and_window`'s
    /// `func`; not an inverse or a filter).
    pub fn func(&self) -> Option<&Func> {
        match self {
            Op::Map(f)
            | Op::FlatMap(f)
            | Op::Filter(f)
            | Op::MapValues(f)
            | Op::FlatMapValues(f)
            | Op::Transform(f)
            | Op::Reduce(f)
            | Op::ReduceByKey(f)
            | Op::ReduceByKeyAndWindow { func: f, .. }
            | Op::UpdateStateByKey(f)
            | Op::MapWithState { func: f, .. } => Some(f),
            _ => None,
        }
    }

    /// True for operators that read pairs `(K, V)`.
    pub fn needs_pairs(&self) -> bool {
        self.def().pairs
    }
}

/// The README's table of stream operators (sources and outputs are described apart).
pub fn readme_table() -> String {
    let mut out = String::from("| operator | Spark | argument | element types |\n|---|---|---|---|\n");
    for d in OPERATORS.iter().filter(|d| !matches!(d.kind, Kind::Source | Kind::Output)) {
        out.push_str(&format!("| `{}` | `{}` | {} | {} |\n", d.name, d.spark, d.yaml, d.types));
    }
    out
}

#[cfg(test)]
mod tests;

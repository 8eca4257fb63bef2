//! The plan IR shared by every front end: a typed dataflow DAG as plain data. Streams live in an
//! arena indexed by [`StreamId`], in definition order; user closures are carried as token
//! streams in a side table ([`Plan::closures`]); positions are [`SpanId`] handles.

use crate::dstream::ty::Ty;
pub use crate::settings::{AppSettings, Frontend};
use crate::span::SpanId;
use proc_macro2::TokenStream;

/// Index of a stream in [`Plan::streams`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(pub usize);

/// Index of a user closure in [`Plan::closures`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClosureId(pub usize);

/// A whole pipeline, as both front ends produce it.
#[derive(Debug, Default)]
pub struct Plan {
    /// The app's name, interval, checkpoint directory and source limits.
    pub app: AppSettings,
    pub streams: Vec<Stream>,
    pub outputs: Vec<Output>,
    /// How many output operations the source spelled out, valid or not (so a spec whose only
    /// output had an error is not also told it has none).
    pub outputs_written: usize,
    pub closures: Vec<Closure>,
    /// `parallel();` in `stream!`: its closures may be shared between worker threads, so large
    /// batches of a `reduce_by_key` stage are split over workers (YAML pipelines always are).
    pub parallel: bool,
}

/// One named stream: the operator that defines it and the streams it reads.
#[derive(Debug)]
pub struct Stream {
    pub name: String,
    pub name_span: SpanId,
    pub op: Op,
    pub op_span: SpanId,
    pub inputs: Vec<StreamId>,
    /// The element type, filled in by the checker ([`Ty::Unknown`] when only rustc can tell).
    pub ty: Ty,
    /// How often the stream has a batch, in ms (Spark's slide duration), filled in by the
    /// checker: the batch interval, or a window's slide.
    pub slide_ms: u64,
    /// Spark's `dstream.checkpoint(interval)`: how often this stream's state is saved.
    pub checkpoint_ms: Option<(u64, SpanId)>,
}

/// A stream-defining operator. Composite Spark operators (`count_by_window`, `reduce_by_window`,
/// `count_by_value_and_window`) are lowered into these by their registry entries
/// ([`crate::dstream::ops`]), which also hold each operator's name and traits.
#[derive(Debug, Clone)]
pub enum Op {
    SocketTextStream {
        host: String,
        port: u16,
    },
    TextFileStream {
        dir: String,
    },
    /// Spark's `KafkaUtils.createDirectStream` with `Subscribe`: its options (Spark's Kafka
    /// source options, checked by `table::kafka`).
    KafkaDirectStream {
        options: Vec<(String, String)>,
    },
    Map(Func),
    FlatMap(Func),
    Filter(Func),
    MapValues(Func),
    FlatMapValues(Func),
    /// Spreads records over `n` partitions in Spark; one process here, so records pass through.
    Repartition(u32),
    Reduce(Func),
    Count,
    ReduceByKey(Func),
    CountByValue,
    GroupByKey,
    Union,
    Join(JoinKind),
    Cogroup,
    /// A function over the whole batch (Spark's `transform(rdd => ...)`).
    Transform(Func),
    /// The parent's batches in `(t - len, t]`, emitted every `slide` (None: the parent's slide).
    Window {
        len_ms: u64,
        slide_ms: Option<u64>,
    },
    ReduceByKeyAndWindow {
        func: Func,
        inverse: Option<Func>,
        filter: Option<Func>,
        len_ms: u64,
        slide_ms: Option<u64>,
    },
    UpdateStateByKey(Func),
    MapWithState {
        func: Func,
        timeout_ms: Option<u64>,
        initial: Option<Initial>,
    },
    /// The per-key state of a `map_with_state` stream after each batch.
    StateSnapshots,
}

/// Which join of two pair streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    LeftOuter,
    RightOuter,
    FullOuter,
}

/// The initial state of `map_with_state`: pairs written in the spec, or a Rust expression.
#[derive(Debug, Clone)]
pub enum Initial {
    Pairs(Vec<(Literal, Literal)>),
    Expr(ClosureId),
}

/// A function argument of an operator: the user's Rust closure, or a built-in.
#[derive(Debug, Clone)]
pub enum Func {
    Closure(ClosureId),
    Builtin(Builtin),
}

/// Operators' built-in functions, usable from YAML without writing Rust.
#[derive(Debug, Clone, PartialEq)]
pub enum Builtin {
    /// `flat_map: { split: " " }`: Java's `String.split` on a literal delimiter.
    Split(String),
    /// `map: { pair_with: 1 }`: `x -> (x, constant)`.
    PairWith(Literal),
    /// `reduce`/`reduce_by_key: sum|min|max`.
    Sum,
    Min,
    Max,
    /// The inverse of `sum`: `a - b` (`reduce_by_key_and_window` with `inverse: subtract`).
    Subtract,
    /// `x -> ((), 1)`, for `count_by_window` as Spark lowers it.
    UnitOne,
    /// `x -> ((), x)`, for `reduce_by_window` with an inverse.
    UnitKey,
    /// `x -> (x, 1)`, for `count_by_value_and_window`.
    PairOne,
    /// `(k, v) -> v`.
    Second,
    /// `(k, v) -> v != 0`, the filter of `count_by_value_and_window`.
    NonZero,
    /// `update_state_by_key: sum`: the running sum of each key's values.
    RunningSum,
    /// `map_with_state: running_sum`: emits `(key, running sum)` for each record, as the seed's
    /// stateful word count.
    RunningSumMapped,
}

/// A constant written in a spec.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

/// A user closure: its tokens (spans kept for `stream!`), the number of arguments, and the
/// argument / return types the user wrote, if any.
#[derive(Debug, Clone)]
pub struct Closure {
    pub tokens: TokenStream,
    /// The number of arguments, when the function is a closure literal (not a path).
    pub arity: Option<usize>,
    pub arg_types: Vec<Option<Ty>>,
    pub ret_type: Option<Ty>,
    /// The type of the body when it can be read off syntactically (e.g. `(w, 1)`).
    pub body_type: Option<BodyShape>,
    pub span: SpanId,
}

/// What the body of a closure evidently returns, without rustc.
#[derive(Debug, Clone)]
pub enum BodyShape {
    /// A tuple whose parts are the closure's own arguments or literals.
    Tuple(Vec<BodyShape>),
    /// The closure's n-th argument.
    Arg(usize),
    /// A literal of this type.
    Lit(Ty),
    /// `arg.split(..)` / `arg.split_whitespace()`: pieces of a string argument.
    SplitOf(usize),
}

/// An output operator (Spark's "output operations").
#[derive(Debug, Clone)]
pub struct Output {
    pub kind: OutputKind,
    pub input: StreamId,
    pub span: SpanId,
}

#[derive(Debug, Clone)]
pub enum OutputKind {
    Print {
        num: usize,
    },
    SaveAsTextFiles {
        prefix: String,
        suffix: String,
    },
    /// `foreach_batch(|time_ms, records| ...)` (Spark's `foreachRDD`).
    ForeachBatch(ClosureId),
}

impl OutputKind {
    pub fn name(&self) -> &'static str {
        match self {
            OutputKind::Print { .. } => "print",
            OutputKind::SaveAsTextFiles { .. } => "save_as_text_files",
            OutputKind::ForeachBatch(_) => "foreach_batch",
        }
    }
}

/// Every source name a front end accepts (kept for the table front end, which reads it; the
/// registry's test checks that it lists [`Kind::Source`](crate::dstream::ops::Kind::Source)'s operators).
pub const SOURCE_NAMES: &[&str] = &["socket_text_stream", "text_file_stream", "kafka_direct_stream"];

//! Structured Streaming plans: typed tables read from sources with a schema, queries of steps
//! (`select`, `where`, `with_column`, `with_watermark`, `group_by … agg`), an output mode and
//! sinks. Every front end builds a [`TablePlan`]; `table::check` types it into [`Checked`] queries.

use super::expr::Expr;
pub use super::functions::AggFn;
pub use super::ty::ColTy;
use crate::span::SpanId;

/// When batches run (Spark's triggers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Trigger {
    /// Every batch interval (Spark's `processingTime`; its default runs back to back).
    #[default]
    ProcessingTime,
    Once,
    AvailableNow,
}

#[derive(Debug, Default)]
pub struct TablePlan {
    /// The app's name, interval, checkpoint directory and source limits.
    pub app: crate::settings::AppSettings,
    pub trigger: Trigger,
    pub sources: Vec<TableSource>,
    pub queries: Vec<Query>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Text,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Malformed {
    #[default]
    Permissive,
    DropMalformed,
    FailFast,
}

#[derive(Debug, Clone)]
pub enum SourceKind {
    Socket {
        host: String,
        port: u16,
        /// Spark's `includeTimestamp`: each line with the time it was received, as a
        /// `timestamp` column.
        include_timestamp: bool,
    },
    Files {
        format: Format,
        path: String,
        max_files: Option<u64>,
    },
    /// A static table (Spark's `spark.read`): a file or directory read once at start, used
    /// by `join` steps; not a streaming input.
    Static {
        format: Format,
        path: String,
    },
    /// Spark's `rate` source: `rows_per_second` rows per second of columns `timestamp` and `value`.
    Rate {
        rows_per_second: u64,
    },
    /// Spark's Kafka source: its options as written (`kafka.bootstrap.servers`, `subscribe`,
    /// ...). Without a schema of its own it has Spark's columns (`key`, `value`, `topic`,
    /// `partition`, `offset`, `timestamp`, `timestampType`; `key` and `value` as strings); with
    /// one (`json_value`), each record's value is a JSON document of that schema.
    Kafka {
        options: Vec<(String, String)>,
        json_value: bool,
    },
}

/// A join's type. A stream-static join is `Inner` or `LeftOuter` (it keeps stream rows without a
/// match); a stream-stream join takes every type (Spark's `StreamingSymmetricHashJoinExec`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinHow {
    Inner,
    LeftOuter,
    RightOuter,
    FullOuter,
    LeftSemi,
}

impl JoinHow {
    /// Spark's name of the join type (`LeftOuter`), as its plans and messages print it.
    pub fn spark(self) -> &'static str {
        match self {
            JoinHow::Inner => "Inner",
            JoinHow::LeftOuter => "LeftOuter",
            JoinHow::RightOuter => "RightOuter",
            JoinHow::FullOuter => "FullOuter",
            JoinHow::LeftSemi => "LeftSemi",
        }
    }

    /// A join type as written in `how:` and Spark's `join(.., how)`: `inner`, `left_outer`,
    /// `left`, `right_outer`, `full_outer`, `outer`, `left_semi`, … (case and `_` ignored).
    pub fn parse(text: &str) -> Option<JoinHow> {
        let t: String = text.chars().filter(|c| *c != '_').collect::<String>().to_ascii_lowercase();
        Some(match t.as_str() {
            "inner" => JoinHow::Inner,
            "left" | "leftouter" => JoinHow::LeftOuter,
            "right" | "rightouter" => JoinHow::RightOuter,
            "full" | "fullouter" | "outer" => JoinHow::FullOuter,
            "semi" | "leftsemi" => JoinHow::LeftSemi,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct TableSource {
    pub name: String,
    pub span: SpanId,
    pub kind: SourceKind,
    pub schema: Vec<Column>,
    pub malformed: Malformed,
    /// Spark's reader options of a CSV or JSON file source.
    pub options: ReadOptions,
}

/// Spark's options of the CSV (and, for the datetime formats, JSON) readers.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOptions {
    /// `sep` (`delimiter`): the field separator, `,`.
    pub sep: char,
    /// `quote`: the quote character, `"`.
    pub quote: char,
    /// `escape`: the character that escapes a quote inside a quoted value, `\`.
    pub escape: char,
    /// `header`: the first line of each file names the columns and is not a record.
    pub header: bool,
    /// `nullValue`: the text of a NULL, `""`.
    pub null_value: String,
    /// `timestampFormat`, `dateFormat`: Java datetime patterns of timestamp and date values.
    pub timestamp_format: Option<String>,
    pub date_format: Option<String>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            sep: ',',
            quote: '"',
            escape: '\\',
            header: false,
            null_value: String::new(),
            timestamp_format: None,
            date_format: None,
        }
    }
}

impl ReadOptions {
    /// The option names of a `csv` source (Spark's), and of a `json` source.
    pub const CSV: &'static [&'static str] =
        &["sep", "delimiter", "header", "quote", "escape", "nullValue", "timestampFormat", "dateFormat"];
    pub const JSON: &'static [&'static str] = &["timestampFormat", "dateFormat"];

    /// Sets Spark's option `key` (case and `_` ignored) to `value`; Err says why not. `None`:
    /// the key is not a reader option.
    pub fn set(&mut self, key: &str, value: &str) -> Option<Result<(), String>> {
        let one_char = |v: &str| match v.chars().collect::<Vec<_>>()[..] {
            [c] => Ok(c),
            _ if v == "\\t" => Ok('\t'),
            _ => Err(format!("`{key}` is one character, found `{value}`")),
        };
        let pattern = |v: &str| super::functions::datetime_pattern(v).map(|()| v.to_string());
        Some(match key.to_ascii_lowercase().replace('_', "").as_str() {
            "sep" | "delimiter" => one_char(value).map(|c| self.sep = c),
            "quote" => one_char(value).map(|c| self.quote = c),
            "escape" => one_char(value).map(|c| self.escape = c),
            "header" => match value.to_ascii_lowercase().parse::<bool>() {
                Ok(h) => {
                    self.header = h;
                    Ok(())
                }
                Err(_) => Err(format!("`header` is true or false, found `{value}`")),
            },
            "nullvalue" => {
                self.null_value = value.to_string();
                Ok(())
            }
            "timestampformat" => pattern(value).map(|p| self.timestamp_format = Some(p)),
            "dateformat" => pattern(value).map(|p| self.date_format = Some(p)),
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: ColTy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputMode {
    Append,
    Complete,
    Update,
}

#[derive(Debug, Clone)]
pub enum Sink {
    Console {
        num_rows: usize,
        truncate: bool,
    },
    Json {
        path: String,
    },
    /// The parquet file sink (arrow-rs; the runtime's `parquet` feature).
    Parquet {
        path: String,
    },
    /// Spark's memory sink: the result table kept in memory under the query's name (for tests
    /// and programs that read it, `streamc_runtime::structured::memory::rows`).
    Memory,
    /// Spark's Kafka sink: its options (`kafka.bootstrap.servers`, `topic`, `kafka.*`), and
    /// whether a re-run batch skips what a crashed run wrote (streamc's `exactly_once`).
    Kafka {
        options: Vec<(String, String)>,
        exactly_once: bool,
    },
    /// Spark's `foreachBatch`: a Rust closure `|batch_id: u64, rows: &[Row]| -> Result<(), E>`
    /// called with each batch's output rows (the closure's source text).
    ForeachBatch {
        closure: String,
        span: SpanId,
    },
}

/// One item of a list-valued step (a `select`, and `group_by`'s keys and aggregates): an
/// expression, its alias, and where it was written, so that a mistake in one item points at
/// that item rather than at the whole list.
#[derive(Clone)]
pub struct Item {
    pub expr: Expr,
    pub alias: Option<String>,
    /// The item's own text; `None` for an item the compiler made (`count(*)` of `.count()`, the
    /// columns a `LATERAL VIEW` keeps), which the step's span stands for.
    pub span: Option<SpanId>,
}

impl Item {
    /// An item with no position of its own.
    pub fn new(expr: Expr, alias: Option<String>) -> Item {
        Item { expr, alias, span: None }
    }

    /// An item written at `span`.
    pub fn at(expr: Expr, alias: Option<String>, span: Option<SpanId>) -> Item {
        Item { expr, alias, span }
    }

    /// Where a diagnostic about this item points: the item, else its step.
    pub fn span_or(&self, step: SpanId) -> SpanId {
        self.span.unwrap_or(step)
    }

    /// The item with its expression replaced, keeping its alias and position.
    pub fn map(&self, f: impl FnOnce(&Expr) -> Expr) -> Item {
        Item { expr: f(&self.expr), alias: self.alias.clone(), span: self.span }
    }
}

/// An item prints as `(expr, alias)`, without its span: plans written by different front ends
/// (or from differently laid out text) print alike.
impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("").field(&self.expr).field(&self.alias).finish()
    }
}

/// A column named in a step's list (`drop_duplicates: [a, b]`, `join: { on: [k] }`, SQL's
/// `USING (k)`), with where the name is written: a problem with it points there. `None` for a
/// name without a place of its own, which the step's span stands for.
#[derive(Clone)]
pub struct ColName {
    pub name: String,
    pub span: Option<SpanId>,
}

impl ColName {
    /// A name written at `span`.
    pub fn at(name: impl Into<String>, span: Option<SpanId>) -> ColName {
        ColName { name: name.into(), span }
    }

    /// Where a diagnostic about this name points: the name, else its step.
    pub fn span_or(&self, step: SpanId) -> SpanId {
        self.span.unwrap_or(step)
    }
}

/// The name alone: positions take no part in how a plan prints.
impl std::fmt::Debug for ColName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.name.fmt(f)
    }
}

#[derive(Debug, Clone)]
pub enum Step {
    Select(Vec<Item>),
    Where(Expr),
    WithColumn(String, Expr),
    WithWatermark {
        column: String,
        delay_ms: u64,
    },
    GroupBy {
        keys: Vec<Item>,
        aggs: Vec<Item>,
        /// SQL's `SELECT DISTINCT` (an aggregation without aggregates to Spark too), whose keys
        /// Spark compares as a set operation's: no map among them.
        distinct: bool,
    },
    /// Spark's `dropDuplicates(cols)` (all columns when empty).
    DropDuplicates(Vec<ColName>),
    /// Spark's `dropDuplicatesWithinWatermark(cols)`: a row is a duplicate of an earlier one with
    /// the same `cols` until the watermark passes the earlier one's event time plus the delay.
    DropDuplicatesWithinWatermark(Vec<ColName>),
    /// Spark's `union`: the rows of another source (same column types by position), with that
    /// input's own watermark.
    Union {
        source: String,
        watermark: Option<(String, u64)>,
    },
    /// A join with a static table on equal columns (Spark's `join(static, on, how)`).
    Join {
        table: String,
        on: Vec<ColName>,
        how: JoinHow,
    },
    /// A join with another streaming input (Spark's stream-stream join).
    StreamJoin(Box<StreamJoin>),
    /// Spark's `groupByKey(..).mapGroupsWithState` / `flatMapGroupsWithState`: a Rust function
    /// per key and batch over the key's rows and its state.
    GroupsWithState(Box<GroupsWithState>),
    /// `ORDER BY` of the output columns (complete mode aggregations only, as Spark).
    OrderBy(Vec<SortKey>),
    /// `LIMIT n` of the output rows (complete mode aggregations).
    Limit(u64),
}

/// The right side of a stream-stream join, as written: a streaming source, its watermark (on one
/// of the source's columns), steps over it (`select`, `where`, `with_column`), the join
/// condition over both sides' columns and the join type.
#[derive(Debug, Clone)]
pub struct StreamJoin {
    pub source: String,
    pub source_span: SpanId,
    pub watermark: Option<(String, u64)>,
    pub steps: Vec<(Step, SpanId)>,
    pub on: Expr,
    pub how: JoinHow,
}

/// Which timeout a `map_groups_with_state` function may set (Spark's `GroupStateTimeout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GroupTimeout {
    #[default]
    None,
    ProcessingTime,
    EventTime,
}

impl GroupTimeout {
    /// `none`, `processing_time`, `event_time`, or Spark's `NoTimeout`, `ProcessingTimeTimeout`,
    /// `EventTimeTimeout` (case and `_` ignored).
    pub fn parse(text: &str) -> Option<GroupTimeout> {
        let t: String = text.chars().filter(|c| *c != '_').collect::<String>().to_ascii_lowercase();
        Some(match t.as_str() {
            "none" | "notimeout" => GroupTimeout::None,
            "processingtime" | "processingtimetimeout" => GroupTimeout::ProcessingTime,
            "eventtime" | "eventtimetimeout" => GroupTimeout::EventTime,
            _ => return None,
        })
    }
}

/// Arbitrary stateful processing as written: the key columns, the state's Rust type, the
/// output columns the function fills, the function (a closure's source text:
/// `|key, rows, state| ...`), the timeout, and for the flat form its own output mode.
#[derive(Debug, Clone)]
pub struct GroupsWithState {
    pub flat: bool,
    pub keys: Vec<String>,
    pub state: String,
    pub output: Vec<Column>,
    pub function: String,
    pub timeout: GroupTimeout,
    pub mode: Option<OutputMode>,
}

impl GroupsWithState {
    /// The step's name in specs.
    pub fn name(&self) -> &'static str {
        if self.flat { "flat_map_groups_with_state" } else { "map_groups_with_state" }
    }

    /// Spark's name of the operator.
    pub fn spark_name(&self) -> &'static str {
        if self.flat { "flatMapGroupsWithState" } else { "mapGroupsWithState" }
    }
}

/// One key of `ORDER BY`: an output column, descending or not, and where NULLs go (Spark's
/// default: first ascending, last descending); `span` is where the key is written (`None`: the
/// step's span stands for it).
#[derive(Clone)]
pub struct SortKey {
    pub column: String,
    pub descending: bool,
    pub nulls_first: bool,
    pub span: Option<SpanId>,
}

/// Without the position, which takes no part in how a plan prints.
impl std::fmt::Debug for SortKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SortKey")
            .field("column", &self.column)
            .field("descending", &self.descending)
            .field("nulls_first", &self.nulls_first)
            .finish()
    }
}

impl SortKey {
    /// One `ORDER BY` key as written in `steps:` and `stream!`: `"c"`, `"c DESC"`,
    /// `"word ASC NULLS LAST"` (an output column; NULLs first ascending, last descending unless
    /// said).
    pub fn parse(text: &str, span: Option<SpanId>) -> Result<SortKey, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
        let upper: Vec<&str> = upper.iter().map(String::as_str).collect();
        let (column, rest) = match &words[..] {
            [c, ..] => (c.trim_matches('`'), &upper[1..]),
            [] => return Err("an empty sort key".into()),
        };
        let (descending, rest) = match rest {
            ["DESC", r @ ..] => (true, r),
            ["ASC", r @ ..] => (false, r),
            r => (false, r),
        };
        let nulls_first = match rest {
            [] => !descending,
            ["NULLS", "FIRST"] => true,
            ["NULLS", "LAST"] => false,
            _ => {
                return Err(format!("cannot read the sort key `{text}`: write `column [ASC|DESC] [NULLS FIRST|LAST]`"));
            }
        };
        Ok(SortKey { column: column.to_string(), descending, nulls_first, span })
    }
}

/// The order and number of a complete-mode aggregation's output rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputOrder {
    /// (output column index, descending, nulls first).
    pub keys: Vec<(usize, bool, bool)>,
    pub limit: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Query {
    pub name: String,
    pub span: SpanId,
    pub from: (String, SpanId),
    pub steps: Vec<(Step, SpanId)>,
    pub mode: (OutputMode, SpanId),
    pub sinks: Vec<(Sink, SpanId)>,
}

/// A typed step, ready for codegen: each produces columns from the columns before it.
#[derive(Debug, Clone)]
pub enum TStep {
    /// `let <name> = <expr>` for each output column, then only those columns exist.
    Project(Vec<(String, Expr, ColTy)>),
    /// `explode(<array expr>) AS name` (with the other projected columns).
    Explode {
        name: String,
        array: Expr,
        /// The type of the array's elements (the exploded column's); a map's key type.
        elem: ColTy,
        /// `explode` of a map: the value column (`value`) and its type.
        value: Option<(String, ColTy)>,
        /// `posexplode`: the position column (`pos`, a bigint from 0).
        pos: Option<String>,
        others: Vec<(String, Expr, ColTy)>,
    },
    Filter(Expr),
    Watermark {
        column: String,
    },
    /// Keeps the first row of each distinct `cols` value; with a watermark, rows older than it
    /// are dropped as late, and state whose event time (`event_time`: the index of the
    /// watermark column among `cols`) is at or below it is evicted.
    Dedup {
        cols: Vec<(String, ColTy)>,
        late_column: Option<String>,
        event_time: Option<usize>,
        /// `dropDuplicatesWithinWatermark`: the watermark delay (ms); state holds each key's
        /// expiry (its first row's event time plus the delay) and is evicted by it.
        within_ms: Option<u64>,
    },
    /// Each row joined with the static table `table`'s rows of equal `on` columns; the table's
    /// other columns `right` join the row.
    Join {
        table: usize,
        on: Vec<(String, ColTy)>,
        right: Vec<Column>,
        how: JoinHow,
    },
    /// A stream-stream join: rows of this query (the left side) joined with the rows of
    /// `inputs[1]` after its own steps, both sides buffered in state.
    StreamJoin(Box<TStreamJoin>),
    /// Arbitrary stateful processing, the query's last step: its rows become the output.
    GroupsWithState(Box<TGroups>),
}

/// A checked `map_groups_with_state`: key columns, the columns its function's rows have
/// (`input`), the state type, function, timeout and output columns, and the column whose
/// watermark drops late rows (event-time timeouts only, as Spark).
#[derive(Debug, Clone)]
pub struct TGroups {
    pub flat: bool,
    pub keys: Vec<(String, ColTy)>,
    pub input: Vec<Column>,
    pub state: String,
    pub function: String,
    pub timeout: GroupTimeout,
    pub output: Vec<Column>,
    pub late_column: Option<String>,
}

/// A checked stream-stream join (see `table::join`).
#[derive(Debug, Clone)]
pub struct TStreamJoin {
    /// The right source's columns, and the steps (projections and filters) from them to `right`.
    pub right_input: Vec<Column>,
    pub right_steps: Vec<TStep>,
    /// The columns of each side at the join.
    pub left: Vec<Column>,
    pub right: Vec<Column>,
    /// Equi-join keys: (left expression, right expression, common type).
    pub keys: Vec<(Expr, Expr, ColTy)>,
    /// The rest of the condition: conjuncts over the left side only (a row failing them joins
    /// nothing and is not buffered), the right side only, and both.
    pub left_only: Option<Expr>,
    pub right_only: Option<Expr>,
    pub both: Option<Expr>,
    pub how: JoinHow,
    /// The column of each side that carries its input's watermark: rows at or below the
    /// watermark are late and dropped.
    pub left_time: Option<String>,
    pub right_time: Option<String>,
    /// How each side's buffered rows leave state.
    pub left_evict: Option<Evict>,
    pub right_evict: Option<Evict>,
}

/// When a buffered row of one side of a stream-stream join can match no future row of the other
/// (Spark's state watermark predicates).
#[derive(Debug, Clone, PartialEq)]
pub enum Evict {
    /// Join key `k` holds an event time with a watermark: the key's rows go when it is at or
    /// below the watermark.
    Key(usize),
    /// Rows whose `column` is at or below the state watermark go, the state watermark being the
    /// least over `bounds` `(sign, offset_us, minus_ms)` of `trunc((sign × watermark_us +
    /// offset_us) / 1000) - minus_ms` in ms (Spark's `getStateValueWatermark`).
    Value { column: String, bounds: Vec<(i64, i64, i64)> },
}

/// One streaming input of a query: its source and, when the input has its own watermark
/// (`with_watermark` before `union`, or `union`'s `watermark`), the delay in ms.
#[derive(Debug, Clone)]
pub struct Input {
    pub source: usize,
    pub watermark: Option<(usize, u64)>,
}

/// A typed aggregation: grouping keys (a window over a timestamp column, or columns) and
/// aggregate functions.
#[derive(Debug, Clone)]
pub struct TAgg {
    pub window: Option<WindowKey>,
    /// `session_window(time, gap)`: its column and gap in ms (exclusive with `window`).
    pub session: Option<(String, u64)>,
    pub keys: Vec<(String, Expr, ColTy)>,
    pub aggs: Vec<(String, AggFn, Option<Expr>, ColTy)>,
}

#[derive(Debug, Clone)]
pub struct WindowKey {
    pub column: String,
    pub len_ms: u64,
    pub slide_ms: u64,
    pub start_ms: i64,
}

impl Checked {
    /// Every expression of the query: steps, grouping keys, aggregate arguments, `HAVING`.
    pub fn expressions(&self) -> impl Iterator<Item = &Expr> {
        let steps = self.steps.iter().flat_map(|s| -> Vec<&Expr> {
            match s {
                TStep::Project(items) => items.iter().map(|(_, e, _)| e).collect(),
                TStep::Explode { array, others, .. } => {
                    std::iter::once(array).chain(others.iter().map(|(_, e, _)| e)).collect()
                }
                TStep::Filter(e) => vec![e],
                _ => Vec::new(),
            }
        });
        let agg = self
            .agg
            .iter()
            .flat_map(|a| a.keys.iter().map(|(_, e, _)| e).chain(a.aggs.iter().filter_map(|(_, _, e, _)| e.as_ref())));
        steps.chain(agg).chain(self.having.iter())
    }
}

/// A checked query: its source, typed steps, optional aggregation, watermark and output columns.
#[derive(Debug, Clone)]
pub struct Checked {
    pub name: String,
    pub source: usize,
    /// Every streaming input (the first is `source`; more with `union`).
    pub inputs: Vec<Input>,
    pub input: Vec<Column>,
    pub steps: Vec<TStep>,
    pub agg: Option<TAgg>,
    pub watermark: Option<(String, u64)>,
    pub output: Vec<Column>,
    /// SQL's `HAVING` (a `where` step after `group_by`): a condition over the output columns
    /// that filters the rows the aggregation emits.
    pub having: Option<Expr>,
    /// `ORDER BY` / `LIMIT` of the output (complete mode only).
    pub order: OutputOrder,
    pub mode: OutputMode,
    pub sinks: Vec<Sink>,
    /// The query's stage: 0 for the one that reads the inputs, `k` for the `k`-th stateful
    /// operator chained after it (Spark 3.4's multiple stateful operators).
    pub stage: usize,
    /// How a later stage's input and watermark come from the stage before it.
    pub feed: Option<Feed>,
    /// The next stage: it takes this stage's output rows in the same batch (then this stage
    /// has no sinks of its own).
    pub then: Option<Box<Checked>>,
}

/// Where a later stage's watermark comes from: Spark's per-operator watermark propagation,
/// the input watermark of an operator being the output watermark of the one before it.
#[derive(Debug, Clone, PartialEq)]
pub enum Feed {
    /// An aggregation or deduplication passes its input watermark on.
    Same,
    /// A stream-stream join passes on the least of its input watermark and its sides' state
    /// watermarks (`Evict`).
    Join { left: Option<Evict>, right: Option<Evict> },
}

impl Checked {
    /// The stages of the query, first to last.
    pub fn stages(&self) -> impl Iterator<Item = &Checked> {
        std::iter::successors(Some(self), |q| q.then.as_deref())
    }

    /// The name the generated code and the state of this stage go by: the query's name for
    /// stage 0, `name#k` for stage `k`.
    pub fn key(&self) -> String {
        if self.stage == 0 { self.name.clone() } else { format!("{}#{}", self.name, self.stage) }
    }
}

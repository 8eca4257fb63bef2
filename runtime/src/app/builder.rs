//! The "describe" phase of an app: [`AppBuilder`] declares its batch interval, sources,
//! outputs, trigger and checkpoint directory, and hands out typed ids; nothing runs until the
//! built app [starts](crate::App::start).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::clock::Trigger;
use crate::ids::{OutputId, SourceId};
use crate::sink::{OutputKind, OutputSpec};
use crate::source::{InputLimits, KafkaLines, SourceKind};

#[derive(Clone, Debug)]
pub(crate) struct SourceSpec {
    pub(crate) name: String,
    pub(crate) kind: SourceKind,
    /// Every reader of the source reads only a cluster process's share of each batch
    /// ([`AppBuilder::read_in_shares`]).
    pub(crate) in_shares: bool,
}

/// Declares an app: its batch interval, sources and outputs (the "describe" phase; nothing runs
/// until [`App::start`](crate::App::start)).
#[derive(Clone, Debug)]
pub struct AppBuilder {
    pub(super) name: String,
    pub(super) interval: Duration,
    pub(super) sources: Vec<SourceSpec>,
    pub(super) outputs: Vec<OutputSpec>,
    pub(super) checkpoint_dir: Option<PathBuf>,
    pub(super) checkpoint_interval_ms: Option<u64>,
    pub(super) trigger: Trigger,
    /// Bounds on what the sources accept (line length, rate, buffered bytes).
    pub(super) limits: InputLimits,
    /// What each stateful operator is ([`describe_state`](Self::describe_state)).
    pub(super) state_descriptions: Vec<(String, String)>,
    /// The plan as `streamc explain` prints it and as `streamc graph` writes it in dot
    /// ([`plan`](Self::plan)), for the UI.
    pub(super) plan: (String, String),
}

impl AppBuilder {
    /// An app named `name` whose micro-batches are `batch_interval` long.
    pub fn new(name: &str, batch_interval: Duration) -> Self {
        AppBuilder {
            name: name.to_owned(),
            interval: batch_interval,
            sources: Vec::new(),
            outputs: Vec::new(),
            checkpoint_dir: None,
            checkpoint_interval_ms: None,
            trigger: Trigger::ProcessingTime,
            limits: InputLimits::default(),
            plan: (String::new(), String::new()),
            state_descriptions: Vec::new(),
        }
    }

    /// Says that every reader of source `src` runs over a cluster process's share of each batch
    /// (its lines cut at line boundaries, `BatchInput::run_partials_shipped` and the like), so
    /// that on a cluster each process reads only its share of a replayed or planned file
    /// (byte ranges at line boundaries, `TextBatch::read_file_range`) instead of the whole
    /// file. Generated code says so; outside a cluster it changes nothing.
    pub fn read_in_shares(&mut self, src: SourceId) {
        self.sources[src.index()].in_shares = true;
    }

    /// Declares what the state saved as `name` is (its operator, keys, values or aggregates),
    /// for checkpoints: a restart whose pipeline describes a state differently, or has other
    /// sources or stateful operators, is refused with the differences named, instead of
    /// misreading the saved state (Spark forbids such changes too). Generated code calls this
    /// for every state it keeps.
    pub fn describe_state(&mut self, name: &str, description: &str) {
        self.state_descriptions.push((name.to_owned(), description.to_owned()));
    }

    /// The app's plan as `streamc explain` prints it, and as `streamc graph` writes it in dot
    /// (or empty); the UI (`--ui`) shows the text and draws the graph. Generated code calls this
    /// once.
    pub fn plan(&mut self, text: &str, dot: &str) {
        self.plan = (text.to_owned(), dot.to_owned());
    }

    /// The pipeline as checkpoints record it ([`Checkpoint::pipeline`](crate::checkpoint::Checkpoint::pipeline)).
    pub(super) fn pipeline(&self) -> Vec<(String, String)> {
        let sources = self.sources.iter().map(|s| (format!("source `{}`", s.name), s.kind.kind_name().to_owned()));
        let states = self.state_descriptions.iter().map(|(n, d)| (format!("stateful operator `{n}`"), d.clone()));
        sources.chain(states).collect()
    }

    /// The longest line, in bytes without its `'\n'`, that a source accepts (default
    /// [`DEFAULT_MAX_LINE_BYTES`](crate::source::DEFAULT_MAX_LINE_BYTES), 64 MiB). A longer line,
    /// from a file, a replay file or a socket, is skipped as it streams past (never held whole
    /// in memory) and counted in a warning. At least 1.
    pub fn max_line_bytes(&mut self, n: usize) {
        self.limits.max_line_bytes = n.max(1);
    }

    /// At most `n` records per second from each socket receiver (Spark's
    /// `spark.streaming.receiver.maxRate`; default unlimited). Lines beyond the rate wait in
    /// the connection, so a fast server is slowed down by TCP flow control.
    pub fn max_rate(&mut self, n: u64) {
        self.limits.max_rate = Some(n.max(1));
    }

    /// How many bytes a socket receiver holds for the open batch before it stops reading
    /// (default [`DEFAULT_MAX_BUFFERED_BYTES`](crate::source::DEFAULT_MAX_BUFFERED_BYTES),
    /// 64 MiB): with a server faster than the pipeline, memory stays bounded and the server
    /// waits (TCP flow control). A batch then holds at most this plus one read (64 KiB) and one line.
    pub fn max_buffered_bytes(&mut self, n: usize) {
        self.limits.max_buffered_bytes = n.max(1);
    }

    /// Sets when batches run (Spark's `trigger`); the default, [`Trigger::ProcessingTime`], runs
    /// one every batch interval.
    pub fn trigger(&mut self, trigger: Trigger) {
        self.trigger = trigger;
    }

    /// Whether the app follows Structured Streaming's rules (see the module documentation).
    pub(super) fn is_structured(&self) -> bool {
        self.trigger != Trigger::ProcessingTime
            || self.sources.iter().any(|s| matches!(s.kind, SourceKind::FileStream { .. }))
            || self.outputs.iter().any(|o| {
                matches!(
                    o.kind,
                    OutputKind::Console { .. }
                        | OutputKind::JsonFiles { .. }
                        | OutputKind::ParquetFiles { .. }
                        | OutputKind::Memory { .. }
                        | OutputKind::Kafka { .. }
                )
            })
    }

    /// Spark's `ssc.checkpoint(dir)` plus the app's checkpoint interval: the batches whose
    /// `time − zero` is a multiple of `interval_ms` are [checkpoint
    /// batches](crate::BatchInput::is_checkpoint_batch), and the state they save is written to `dir`
    /// (see [`crate::checkpoint`]). `interval_ms` must be a positive multiple of the batch
    /// interval ([`App::start`](crate::App::start) checks). [`App::with_checkpoint_dir`](crate::App::with_checkpoint_dir) overrides `dir`.
    pub fn checkpoint(&mut self, dir: impl AsRef<Path>, interval_ms: u64) {
        self.checkpoint_dir = Some(dir.as_ref().to_owned());
        self.checkpoint_interval_ms = Some(interval_ms);
    }

    fn source(&mut self, name: &str, kind: SourceKind) -> SourceId {
        let id = SourceId::new(self.sources.len());
        self.sources.push(SourceSpec { name: name.to_owned(), kind, in_shares: false });
        id
    }

    fn output(&mut self, name: &str, kind: OutputKind) -> OutputId {
        let id = OutputId::new(self.outputs.len());
        self.outputs.push(OutputSpec { name: name.to_owned(), kind });
        id
    }

    /// Spark's `socketTextStream(host, port)`: lines read by a TCP client from `host:port`.
    ///
    /// The client reconnects with backoff (100 ms doubling to 5 s) whenever the connection
    /// cannot be made or ends; batches are empty meanwhile. Lines that are not valid UTF-8 are
    /// skipped with a warning.
    pub fn socket_text_stream(&mut self, name: &str, host: &str, port: u16) -> SourceId {
        self.source(name, SourceKind::Socket { host: host.to_owned(), port, stamped: false })
    }

    /// Structured Streaming's socket source with `includeTimestamp`: each line with the time it
    /// was received (ms), as the JSON line `{"value":"..","timestamp":".."}` the generated code
    /// reads. (A `--replay` of this source reads files of such lines.)
    pub fn socket_stream_with_timestamps(&mut self, name: &str, host: &str, port: u16) -> SourceId {
        self.source(name, SourceKind::Socket { host: host.to_owned(), port, stamped: true })
    }

    /// Spark's `textFileStream(dir)`: the lines of files that appear in `dir` after the start.
    ///
    /// Names starting with `.` or `_` are ignored: write `.name.tmp`, then rename it to `name`.
    /// Each file is read once, in the batch during which it appeared.
    pub fn text_file_stream(&mut self, name: &str, dir: impl AsRef<Path>) -> SourceId {
        self.source(name, SourceKind::TextFiles { dir: dir.as_ref().to_owned() })
    }

    /// Structured Streaming's file source (`spark.readStream.text(dir)`; json and csv read
    /// their lines through it): the lines of every file of `dir`, including the files already
    /// there at the start (unlike [`text_file_stream`](Self::text_file_stream)).
    ///
    /// Each batch reads up to `max_files_per_trigger` files (`None`: all) not read before,
    /// oldest first by (modification time, name); names starting with `.` or `_` are ignored.
    /// Each file is read once, also across restarts from a checkpoint, and a batch re-run after
    /// a crash reads the same files ([`crate::checkpoint`]). [`TextBatch::origin`](crate::TextBatch::origin) gives each
    /// line's file and line number.
    pub fn file_stream(&mut self, name: &str, dir: impl AsRef<Path>, max_files_per_trigger: Option<usize>) -> SourceId {
        self.source(name, SourceKind::FileStream { dir: dir.as_ref().to_owned(), max_files_per_trigger })
    }

    /// Structured Streaming's Kafka source (`format("kafka")`; feature `kafka`): `options` are
    /// Spark's (`kafka.bootstrap.servers`, `subscribe` | `subscribePattern` | `assign`,
    /// `startingOffsets`, `maxOffsetsPerTrigger`, `failOnDataLoss`, `fetchOffset.numRetries`,
    /// `fetchOffset.retryIntervalMs`, and `kafka.*` client settings); values may name
    /// environment variables, `${NAME}` or `${NAME:-default}`. Each record is a JSON line of
    /// Spark's columns (`key` and `value` binary, as base64), or with `json_value` its value
    /// itself (see the module `source::kafka`). Batches are planned as offset ranges and logged
    /// before they run, as a file stream's.
    pub fn kafka_stream(&mut self, name: &str, options: &[(&str, &str)], json_value: bool) -> SourceId {
        let options = options.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let lines = if json_value { KafkaLines::Values } else { KafkaLines::Columns };
        self.source(name, SourceKind::Kafka { options, lines })
    }

    /// Spark's `KafkaUtils.createDirectStream` (feature `kafka`): as [`Self::kafka_stream`], each
    /// record a JSON line of Spark's columns with `key` and `value` as text, which
    /// [`crate::BatchInput::kafka_records`] reads as [`crate::KafkaRecord`](crate::kafka_record::KafkaRecord)s.
    pub fn kafka_direct_stream(&mut self, name: &str, options: &[(&str, &str)]) -> SourceId {
        let options = options.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        self.source(name, SourceKind::Kafka { options, lines: KafkaLines::Text })
    }

    /// Structured Streaming's Kafka sink (`format("kafka")`; feature `kafka`): each row is a
    /// record of its `value` column and its `key`, `topic` and `partition` columns when it has
    /// them; `options` are Spark's (`kafka.bootstrap.servers`, `topic`, `kafka.*`). A batch's
    /// records are acknowledged before it commits (at least once, as Spark); with
    /// `exactly_once`, a batch re-run after a crash skips the records the crashed run wrote
    /// (see the module `sink::kafka`).
    pub fn kafka_sink(
        &mut self,
        name: &str,
        columns: &[&str],
        options: &[(&str, &str)],
        exactly_once: bool,
    ) -> OutputId {
        let columns = columns.iter().map(|c| (*c).to_owned()).collect();
        let options = options.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        self.output(name, OutputKind::Kafka { columns, options, exactly_once })
    }

    /// Structured Streaming's console sink (`format("console")`, options `numRows` and
    /// `truncate`): each batch's rows, emitted with [`BatchOutput::emit_rows`](crate::BatchOutput::emit_rows), printed as
    /// Spark prints them (a `Batch: N` banner, then the table of the first `num_rows` rows) on
    /// standard output. `columns` names the rows' columns.
    pub fn console(&mut self, name: &str, columns: &[&str], num_rows: usize, truncate: bool) -> OutputId {
        let columns = columns.iter().map(|c| (*c).to_owned()).collect();
        self.output(name, OutputKind::Console { columns, num_rows, truncate })
    }

    /// Structured Streaming's `rate` source (`format("rate").option("rowsPerSecond", n)`): rows
    /// of `<timestamp µs> <value>` lines, `rows_per_second` of them per second of batch time.
    pub fn rate_stream(&mut self, name: &str, rows_per_second: u64) -> SourceId {
        self.source(name, SourceKind::Rate { rows_per_second })
    }

    /// Structured Streaming's file sink in JSON format (`format("json").option("path", dir)`),
    /// exactly once: batch `N`'s rows, emitted with [`BatchOutput::emit_rows`](crate::BatchOutput::emit_rows), become the JSON
    /// lines of `dir/part-<N:05>-0000.json`, committed by the metadata log entry
    /// `dir/_spark_metadata/<N>`; a committed batch is never written again. Append mode only
    /// (the compiler checks). `columns` names the JSON fields.
    pub fn json_files(&mut self, name: &str, columns: &[&str], dir: impl AsRef<Path>) -> OutputId {
        let columns = columns.iter().map(|c| (*c).to_owned()).collect();
        self.output(name, OutputKind::JsonFiles { columns, dir: dir.as_ref().to_owned() })
    }

    /// Structured Streaming's file sink in parquet format (`format("parquet")`; needs the
    /// `parquet` feature), exactly once like [`json_files`](Self::json_files): batch `N`'s rows
    /// become `dir/part-<N:05>-0000.parquet`, committed by `dir/_spark_metadata/<N>`. `types`
    /// are the columns' SQL types (`string`, `bigint`, `double`, `boolean`, `timestamp`).
    pub fn parquet_files(&mut self, name: &str, columns: &[&str], types: &[&str], dir: impl AsRef<Path>) -> OutputId {
        let columns = columns.iter().map(|c| (*c).to_owned()).collect();
        let types = types.iter().map(|c| (*c).to_owned()).collect();
        self.output(name, OutputKind::ParquetFiles { columns, types, dir: dir.as_ref().to_owned() })
    }

    /// Structured Streaming's memory sink (`format("memory").queryName(name)`): each batch's rows,
    /// emitted with [`BatchOutput::emit_rows`](crate::BatchOutput::emit_rows), are kept as JSON objects in the process's memory
    /// table `name`, read with [`structured::memory::rows`](crate::structured::memory::rows);
    /// in complete mode (`complete`) each batch replaces the table, otherwise it appends.
    pub fn memory(&mut self, name: &str, columns: &[&str], complete: bool) -> OutputId {
        let columns = columns.iter().map(|c| (*c).to_owned()).collect();
        self.output(name, OutputKind::Memory { columns, complete })
    }

    /// Spark's `print(num)`: the first `num` records of every batch on standard output.
    pub fn print(&mut self, name: &str, num: usize) -> OutputId {
        self.output(name, OutputKind::Print { num })
    }

    /// Spark's `saveAsTextFiles(prefix, suffix)`: one directory per batch,
    /// `{prefix}-{time_ms}[.{suffix}]`, holding `part-00000` and `_SUCCESS`.
    pub fn save_as_text_files(&mut self, name: &str, prefix: &str, suffix: &str) -> OutputId {
        self.output(name, OutputKind::SaveAsTextFiles { prefix: prefix.to_owned(), suffix: suffix.to_owned() })
    }
}

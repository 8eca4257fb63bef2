//! Sinks: what an output operator does with a batch's records (`print`, `save_as_text_files`,
//! and Structured Streaming's `console` and exactly-once JSON file sink), the machine-readable
//! jsonl copy of every output, the state snapshots a batch hands over for its checkpoint, and
//! the per-batch progress report (Spark's `StreamingQueryProgress`).
//!
//! This file holds [`BatchOutput`], which every output goes through; `files` holds the file
//! sinks' files (JSON and parquet data files, `_spark_metadata`, `save_as_text_files`),
//! `print` Spark's `print` block, and `progress` the progress line.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::checkpoint::{NewParts, PartFileWriter, PartRef};
use crate::error::Error;
use crate::fmt::{Record, json_string};
use crate::ids::OutputId;
use crate::persist::{Checkpointed, Parts};
use crate::structured::row::{JsonKeys, Row, console_table};

pub(crate) mod commit;
pub(crate) mod deferred;
mod files;
#[cfg(feature = "kafka")]
mod kafka;
mod piece;
mod pieces;
mod print;
mod progress;
mod publishing;
#[cfg(test)]
mod tests;

use crate::footprint::StateSize;
pub(crate) use files::make_durable;
pub use files::{
    COMPACT_INTERVAL, file_sink_committed, json_metadata_path, json_part_path, parquet_part_path, process_part_path,
    text_files_dir, write_text_files,
};
use files::{parquet_file, write_metadata_entry};
pub(crate) use piece::Piece;
pub(crate) use print::PrintTarget;
pub use print::format_print;
pub use progress::StateReport;
pub(crate) use progress::{Progress, Reports};
pub(crate) use publishing::{HeldEntries, Publishing};

/// An output as declared by the app.
#[derive(Clone, Debug)]
pub(crate) struct OutputSpec {
    pub(crate) name: String,
    pub(crate) kind: OutputKind,
}

#[derive(Clone, Debug)]
pub(crate) enum OutputKind {
    /// Spark's `DStream.print(num)`.
    Print { num: usize },
    /// Spark's `DStream.saveAsTextFiles(prefix, suffix)`.
    SaveAsTextFiles { prefix: String, suffix: String },
    /// Structured Streaming's console sink (`format("console")`).
    Console { columns: Vec<String>, num_rows: usize, truncate: bool },
    /// Structured Streaming's file sink in JSON format, exactly once per batch.
    JsonFiles { columns: Vec<String>, dir: PathBuf },
    /// Structured Streaming's file sink in parquet format (feature `parquet`), exactly once per
    /// batch as [`JsonFiles`](Self::JsonFiles); `types` are the columns' SQL types.
    ParquetFiles { columns: Vec<String>, types: Vec<String>, dir: PathBuf },
    /// Structured Streaming's memory sink: rows kept in the process's memory table of the
    /// output's name ([`crate::structured::memory`]); `complete` replaces them every batch.
    Memory { columns: Vec<String>, complete: bool },
    /// Structured Streaming's Kafka sink (feature `kafka`): Spark's options (`topic`,
    /// `kafka.*`); with `exactly_once` a re-run batch skips the records a crashed run wrote.
    Kafka { columns: Vec<String>, options: Vec<(String, String)>, exactly_once: bool },
}

impl OutputKind {
    /// The sink's `description` in a progress report, in the shape of Spark's.
    pub(crate) fn progress_description(&self) -> String {
        match self {
            OutputKind::Print { num } => format!("DStream.print({num})"),
            OutputKind::SaveAsTextFiles { prefix, suffix } => format!("DStream.saveAsTextFiles({prefix}, {suffix})"),
            OutputKind::Console { num_rows, truncate, .. } => {
                format!("ConsoleSink[numRows: {num_rows}, truncate: {truncate}]")
            }
            OutputKind::JsonFiles { dir, .. } | OutputKind::ParquetFiles { dir, .. } => {
                format!("FileSink[{}]", dir.display())
            }
            OutputKind::Memory { .. } => "MemorySink".to_owned(),
            OutputKind::Kafka { options, exactly_once, .. } => {
                let topic = options.iter().find(|(k, _)| k == "topic").map_or("per row", |(_, v)| v.as_str());
                let once = if *exactly_once { ", exactly once" } else { "" };
                format!("KafkaSink[topic: {topic}{once}]")
            }
        }
    }
}

/// What a JSON file sink did in the current batch.
#[derive(Debug, Default)]
struct JsonBatch {
    /// The batch's metadata log entry already existed: a re-run of a committed batch.
    committed: bool,
    /// The data files written in this batch, in order.
    files: Vec<PathBuf>,
    /// Those not yet durable and in place (published at the batch's end, before its metadata
    /// entry).
    pending: Vec<files::PendingFile>,
}

/// Converts a count reported by generated code (any integer type) to `u64`; negative counts are
/// a bug in the caller and read as 0.
fn count<N: TryInto<u64>>(n: N) -> u64 {
    n.try_into().unwrap_or(0)
}

/// What a batch handler hands its results to; each [`emit`](Self::emit) performs one output
/// operator for the current batch, and [`save_state`](Self::save_state) adds a state to the
/// batch's checkpoint.
pub struct BatchOutput {
    outputs: Vec<OutputSpec>,
    time_ms: i64,
    batch_id: u64,
    reports: Reports,
    /// Per output, for JSON file sinks: what the current batch wrote.
    json: Vec<JsonBatch>,
    print: PrintTarget,
    jsonl: Option<(PathBuf, BufWriter<File>)>,
    /// Reused across emits so that formatting allocates only while batches grow.
    buf: String,
    emitted: u64,
    /// Streams already written to the jsonl file in this batch.
    jsonl_streams: Vec<String>,
    /// Whether the app has a checkpoint directory; without one, `save_state` does nothing.
    checkpointing: bool,
    /// The snapshots saved in this batch, by name, in the order first saved.
    states: Vec<(String, Vec<u8>)>,
    /// Per state saved in this batch that added parts: the parts its snapshot uses.
    parts: Vec<(String, Vec<PartRef>)>,
    /// The part file of this batch's commit: the parts no earlier commit wrote.
    new_parts: Option<NewParts>,
    /// Per state: the parts the newest commit uses, which are on disk, by (id, stamp), with the
    /// time of their part file ([`parts_committed`](Self::parts_committed)).
    on_disk: HashMap<String, HashMap<(i64, u64), i64>>,
    /// The part files the newest commit uses: time and checksum.
    on_disk_files: HashMap<i64, u64>,
    /// The query's id, which names the records of its exactly-once Kafka sinks.
    query_id: String,
    /// Per output, for Kafka sinks: the writer, connected at its first batch.
    #[cfg(feature = "kafka")]
    kafka: Vec<Option<kafka::KafkaWriter>>,
    /// Writes nothing (a cluster process other than process 0): emits are counted only.
    silent: bool,
    /// In a cluster: the batch's file sink rows were cut in pieces ([`piece`](Self::piece)),
    /// whose data files are published in the batch's last round rather than in
    /// [`end_batch`](Self::end_batch) ([`publish_data_files`](Self::publish_data_files)), and whose
    /// metadata entries process 0 writes after that round ([`commit_pieces`](Self::commit_pieces)).
    in_pieces: bool,
    /// Emits waiting for the batch's last round in a cluster (a partitioned aggregation's rows,
    /// a `print`'s first records; [`deferred`]).
    deferred: Vec<deferred::Deferred>,
    /// The last batch's checkpoint commit, when it is written while this batch runs
    /// ([`commit`]): settled before this batch's first output.
    committing: commit::Committing,
    /// On a process other than 0 of a cluster: whether process 0's outputs read every record.
    leader_reads_every_record: bool,
    /// Whether shards of key-partitioned states are saved (the app has a checkpoint directory):
    /// on every process of a cluster, the silent ones too.
    sharding: bool,
    /// This process's shard of the batch's commit: its piece of every key-partitioned state.
    shard: Option<PartFileWriter>,
    /// The file sinks' metadata entries written in this batch, in place but not fsynced: made
    /// durable with the batch's checkpoint commit, or at the batch's end without one.
    unsynced: Vec<PathBuf>,
    /// Per output, for `save_as_text_files` on a cluster: the batch's records were written as
    /// one part per process, by this many processes ([`save_part`](Self::save_part)); process
    /// 0's emit commits them.
    text_parts: Vec<Option<usize>>,
}

/// The snapshots of a batch ([`BatchOutput::take_states`]).
pub(crate) struct SavedStates {
    /// Per state: its name and its bytes.
    pub(crate) states: Vec<(String, Vec<u8>)>,
    /// Per state with parts: its name and the parts its snapshot uses.
    pub(crate) parts: Vec<(String, Vec<PartRef>)>,
    /// The part files those parts are in: time and checksum, by time.
    pub(crate) part_files: Vec<(i64, u64)>,
    /// The bytes of the part file to write before the commit, if there are new parts.
    pub(crate) new_file: Option<Vec<u8>>,
}

impl std::fmt::Debug for BatchOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchOutput").field("time_ms", &self.time_ms).finish_non_exhaustive()
    }
}

impl BatchOutput {
    pub(crate) fn new(outputs: Vec<OutputSpec>, print: PrintTarget, jsonl: Option<&Path>) -> Result<Self, Error> {
        let jsonl = match jsonl {
            None => None,
            Some(path) => {
                // Truncate: the file is the machine-readable record of this run.
                let f = File::create(path).map_err(|source| Error::Output { path: path.to_owned(), source })?;
                Some((path.to_owned(), BufWriter::new(f)))
            }
        };
        #[cfg(feature = "kafka")]
        let outputs_len = outputs.len();
        let outputs_len_all = outputs.len();
        Ok(BatchOutput {
            json: outputs.iter().map(|_| JsonBatch::default()).collect(),
            unsynced: Vec::new(),
            outputs,
            time_ms: 0,
            batch_id: 0,
            reports: Reports::default(),
            print,
            jsonl,
            buf: String::new(),
            emitted: 0,
            jsonl_streams: Vec::new(),
            checkpointing: false,
            states: Vec::new(),
            parts: Vec::new(),
            new_parts: None,
            on_disk: HashMap::new(),
            on_disk_files: HashMap::new(),
            query_id: String::new(),
            #[cfg(feature = "kafka")]
            kafka: (0..outputs_len).map(|_| None).collect(),
            silent: false,
            in_pieces: false,
            deferred: Vec::new(),
            committing: commit::Committing::default(),
            leader_reads_every_record: false,
            sharding: false,
            shard: None,
            text_parts: vec![None; outputs_len_all],
        })
    }

    /// Makes every output write nothing (a cluster process other than process 0, which writes
    /// them): emits are only counted, and states are not kept for checkpoints.
    pub(crate) fn set_silent(&mut self) {
        self.silent = true;
        self.checkpointing = false;
    }

    /// Removes the temporary files an earlier run of cluster process `process` (0 in one
    /// process) left in the file sinks' directories (`files::remove_stale_temporaries`) and
    /// beside `save_as_text_files`' batch directories (`files::remove_stale_text_temporaries`).
    pub(crate) fn remove_stale_temporaries(&self, process: usize) {
        for spec in &self.outputs {
            match &spec.kind {
                OutputKind::JsonFiles { dir, .. } | OutputKind::ParquetFiles { dir, .. } => {
                    files::remove_stale_temporaries(dir, process);
                }
                OutputKind::SaveAsTextFiles { prefix, suffix } => {
                    files::remove_stale_text_temporaries(prefix, suffix, process);
                }
                _ => {}
            }
        }
    }

    /// Sets the query's id (from its checkpoint, or new).
    pub(crate) fn set_query_id(&mut self, id: &str) {
        id.clone_into(&mut self.query_id);
    }

    pub(crate) fn set_checkpointing(&mut self, on: bool) {
        self.checkpointing = on;
        self.sharding = on;
    }

    /// The time of the batch being output, in milliseconds since the epoch (or since the start
    /// of a replay).
    pub fn time_ms(&self) -> i64 {
        self.time_ms
    }

    /// The id of the batch being output (0, 1, 2, …, continued after a restart).
    pub fn batch_id(&self) -> u64 {
        self.batch_id
    }

    pub(crate) fn begin_batch(&mut self, time_ms: i64, batch_id: u64) {
        self.time_ms = time_ms;
        self.batch_id = batch_id;
        self.emitted = 0;
        self.jsonl_streams.clear();
        self.states.clear();
        self.shard = None;
        self.in_pieces = false;
        self.reports = Reports::default();
        for j in &mut self.json {
            j.committed = false;
            j.files.clear();
            j.pending.clear();
        }
        self.text_parts.fill(None);
    }

    /// Reports the event-time watermark after this batch, in µs since the epoch, for the
    /// progress line (`eventTime.watermark`).
    pub fn report_watermark(&mut self, micros_since_epoch: i64) {
        self.reports.watermark_us = Some(micros_since_epoch);
    }

    /// Reports the state of the batch's stateful operator for the progress line
    /// (`stateOperators`): rows in state after the batch, rows updated, and input rows dropped
    /// as later than the watermark. Counts of any integer type; a negative one reads as 0.
    /// [`report_operator_state`](Self::report_operator_state) says more.
    pub fn report_state<A: TryInto<u64>, B: TryInto<u64>, C: TryInto<u64>>(
        &mut self,
        rows_total: A,
        rows_updated: B,
        dropped_by_watermark: C,
    ) {
        // One entry per stateful operator, in the order they report (Spark lists each).
        self.reports.state.push(StateReport {
            rows_total: count(rows_total),
            rows_updated: count(rows_updated),
            dropped_by_watermark: count(dropped_by_watermark),
            ..StateReport::default()
        });
    }

    /// Reports a stateful operator after the batch: the node of the plan graph that is the
    /// operator (`n3`; the UI charts its rows and memory under that node's label), its name for
    /// the progress line (`operatorName`), its state (rows and memory, [`StateSize`]), rows
    /// updated in the batch and input rows dropped as late.
    pub fn report_operator_state<B: TryInto<u64>, C: TryInto<u64>>(
        &mut self,
        node: &'static str,
        operator: &'static str,
        state: &impl StateSize,
        rows_updated: B,
        dropped_by_watermark: C,
    ) {
        self.reports.state.push(StateReport {
            node,
            operator,
            rows_total: count(state.rows()),
            rows_updated: count(rows_updated),
            dropped_by_watermark: count(dropped_by_watermark),
            memory_bytes: Some(state.memory_bytes()),
        });
    }

    /// [`report_operator_state`](Self::report_operator_state) with the figures given (a
    /// cluster's, added up over its processes).
    pub fn report_state_figures(&mut self, report: StateReport) {
        self.reports.state.push(report);
    }

    /// Reports how many rows the operator at node `node` of the plan graph (`n3`, see
    /// [`AppBuilder::plan`](crate::AppBuilder::plan)) put out in this batch, for the UI's rows
    /// per operator (`--ui`); a name that is no node of the graph is shown as it is. Reports of
    /// one node in a batch add up. Generated code reports every operator: materialized streams
    /// by their length, fused ones by a counter compiled in only with the `ui` feature
    /// ([`ROW_COUNTS`](crate::ROW_COUNTS)).
    pub fn report_rows<N: TryInto<u64>>(&mut self, node: &'static str, rows: N) {
        self.reports.rows.push((node, count(rows)));
    }

    /// Reports `n` malformed records dropped in this batch (Spark's `DROPMALFORMED` mode); they
    /// appear in the progress line as `numMalformedRowsDropped` (a streamc addition). Adds up
    /// over calls within a batch.
    pub fn report_malformed<N: TryInto<u64>>(&mut self, n: N) {
        self.reports.malformed += count(n);
    }

    /// Asks for a batch with no input after this one, if the trigger runs one: Spark runs such
    /// a *no-data batch* when the watermark has moved so that a stateful operator has rows to
    /// emit or evict. See [`Trigger`](crate::Trigger).
    pub fn request_no_data_batch(&mut self) {
        self.reports.no_data_requested = true;
    }

    pub(crate) fn reports(&self) -> &Reports {
        &self.reports
    }

    /// The description of the sinks for the progress line.
    pub(crate) fn sink_description(&self) -> String {
        let d: Vec<String> = self.outputs.iter().map(|o| o.kind.progress_description()).collect();
        d.join(", ")
    }

    /// Adds a snapshot of `state` ([`Checkpointed::save_with_parts`]) under `name` to this
    /// batch's checkpoint; saving a name twice in a batch keeps the last snapshot.
    ///
    /// After the handler returns `Ok` and the batch's outputs are written, the runtime writes one
    /// checkpoint file holding every state saved in the batch, after the files of the parts
    /// that are not on disk yet (see [`crate::checkpoint`]). Generated code calls this on
    /// [`BatchInput::is_checkpoint_batch`] batches; without a checkpoint directory it does
    /// nothing.
    ///
    /// [`BatchInput::is_checkpoint_batch`]: crate::BatchInput::is_checkpoint_batch
    pub fn save_state<S: Checkpointed + ?Sized>(&mut self, name: &str, state: &S) {
        if !self.checkpointing {
            return;
        }
        let mut bytes = Vec::new();
        let new = self.new_parts.get_or_insert_with(|| NewParts::new(self.time_ms));
        let mut parts = Parts::new(name, self.on_disk.get(name), new);
        state.save_with_parts(&mut bytes, &mut parts);
        let refs = parts.finish();
        match self.states.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = bytes,
            None => self.states.push((name.to_owned(), bytes)),
        }
        self.parts.retain(|(n, _)| n != name);
        if !refs.is_empty() {
            self.parts.push((name.to_owned(), refs));
        }
    }

    /// Saves the piece of state `name` that process `process` of `n` owns into this process's
    /// shard of the batch's commit (a key-partitioned state in a cluster, `crate::partition`):
    /// every process writes its shard file, then process 0 the commit. Without a checkpoint
    /// directory it does nothing.
    pub fn save_state_shard<S: Checkpointed + ?Sized>(&mut self, name: &str, process: usize, n: usize, state: &S) {
        if !self.sharding {
            return;
        }
        let shard = self.shard.get_or_insert_with(PartFileWriter::default);
        shard.add(name, process as i64, n as u64, |out| state.save(out));
    }

    /// This process's shard of the batch's commit, taken out: its bytes and checksum; `None`
    /// if no state was sharded in the batch.
    pub(crate) fn take_shard(&mut self) -> Option<(Vec<u8>, u64)> {
        self.shard.take().map(PartFileWriter::finish)
    }

    /// The snapshots saved in this batch, taken out (empty if none was saved).
    pub(crate) fn take_states(&mut self) -> SavedStates {
        let states = std::mem::take(&mut self.states);
        let parts = std::mem::take(&mut self.parts);
        let new = self.new_parts.take().and_then(|n| Some((n.time, n.finish()?)));
        let mut part_files: Vec<(i64, u64)> = Vec::new();
        for r in parts.iter().flat_map(|(_, refs)| refs) {
            if let Err(i) = part_files.binary_search_by_key(&r.file, |&(t, _)| t) {
                let sum = match &new {
                    Some((t, (_, sum))) if *t == r.file => *sum,
                    _ => self.on_disk_files[&r.file],
                };
                part_files.insert(i, (r.file, sum));
            }
        }
        // A state saved twice in the batch may have left parts no snapshot uses: the file is
        // written only if one does.
        let new_file = new.filter(|(t, _)| part_files.iter().any(|(f, _)| f == t)).map(|(_, (bytes, _))| bytes);
        SavedStates { states, parts, part_files, new_file }
    }

    /// Records that the newest commit (written, or resumed from) uses `parts`, in `part_files`:
    /// these are on disk, and later snapshots refer to them rather than writing them again.
    pub(crate) fn parts_committed(&mut self, parts: &[(String, Vec<PartRef>)], part_files: &[(i64, u64)]) {
        self.on_disk = parts
            .iter()
            .map(|(name, refs)| (name.clone(), refs.iter().map(|r| ((r.id, r.stamp), r.file)).collect()))
            .collect();
        self.on_disk_files = part_files.iter().copied().collect();
    }

    /// Records emitted in the current batch, over all outputs.
    pub(crate) fn emitted(&self) -> u64 {
        self.emitted
    }

    /// Whether this process's outputs read every record of every batch (a jsonl file).
    pub(crate) fn reads_every_record(&self) -> bool {
        self.jsonl.is_some()
    }

    /// In a cluster, tells a process other than 0 whether process 0's outputs read every
    /// record (its [`reads_every_record`](Self::reads_every_record), sent with each batch).
    pub(crate) fn set_leader_reads_every_record(&mut self, every: bool) {
        self.leader_reads_every_record = every;
    }

    /// Counts `n` records of each of `outs` that other processes held and did not send (they
    /// were past what the outputs read, [`records_read`](Self::records_read)).
    pub(crate) fn count_unsent(&mut self, outs: &[OutputId], n: u64) {
        self.emitted += n * outs.len() as u64;
    }

    /// Commits the batch in every JSON file sink (its data files made durable and put in
    /// place, then its metadata log entry written, unless the entry exists already), then
    /// flushes the jsonl file, so that after a batch its lines are complete on disk. A batch
    /// whose file sink rows a cluster cut in pieces is committed after its last round instead
    /// ([`publish_data_files`](Self::publish_data_files) on every process,
    /// [`commit_pieces`](Self::commit_pieces) on process 0).
    pub(crate) fn end_batch(&mut self) -> Result<(), Error> {
        if self.silent {
            return Ok(());
        }
        if !self.in_pieces {
            self.publish_data_files()?;
            self.write_metadata_entries()?;
        }
        self.flush_jsonl()
    }

    /// Flushes the `--jsonl` copy of the outputs.
    fn flush_jsonl(&mut self) -> Result<(), Error> {
        if let Some((path, w)) = &mut self.jsonl {
            w.flush().map_err(|source| Error::Output { path: path.clone(), source })?;
        }
        Ok(())
    }

    /// Makes the batch's data files of every file sink durable and puts them in place.
    pub(crate) fn publish_data_files(&mut self) -> Result<(), Error> {
        for j in &mut self.json {
            for file in j.pending.drain(..) {
                file.publish()?;
            }
        }
        Ok(())
    }

    /// The file sinks' metadata entries written in this batch and not yet durable, for its
    /// checkpoint commit to make durable first ([`make_durable`], `sink/commit.rs`).
    pub(crate) fn take_unsynced(&mut self) -> Vec<PathBuf> {
        std::mem::take(&mut self.unsynced)
    }

    /// Writes the batch's metadata log entry of every file sink, listing its data files, unless
    /// the entry exists already (the batch was committed before); in place, made durable later
    /// ([`take_unsynced`](Self::take_unsynced)).
    fn write_metadata_entries(&mut self) -> Result<(), Error> {
        for (spec, j) in self.outputs.iter().zip(&self.json) {
            let (OutputKind::JsonFiles { dir, .. } | OutputKind::ParquetFiles { dir, .. }) = &spec.kind else {
                continue;
            };
            if !j.committed && !file_sink_committed(dir, self.batch_id) {
                self.unsynced.extend(write_metadata_entry(dir, self.batch_id, &j.files)?);
            }
        }
        Ok(())
    }

    /// Waits for the last batch's commit, when it is written while this batch runs: before
    /// anything of this batch is put out, so that a commit that fails stops the app before.
    pub(crate) fn settle_commit(&mut self) -> Result<(), Error> {
        self.committing.settle()
    }

    /// The commit in flight, for the batch loop to start the next one in.
    pub(crate) fn committing(&mut self) -> &mut commit::Committing {
        &mut self.committing
    }

    /// Whether a batch's checkpoint commit may be written while the next batch runs
    /// ([`commit`]): not with a Kafka sink, whose re-run batch would write its rows after
    /// those of the batch after it.
    pub(crate) fn commits_in_background(&self) -> bool {
        !self.outputs.iter().any(|o| matches!(o.kind, OutputKind::Kafka { .. }))
    }

    /// Performs output operator `out` on this batch's `records`.
    ///
    /// Fails with [`Error::Output`] naming the path that could not be written (or
    /// [`Error::Stdout`]); the app then stops with that error.
    pub fn emit<T: Record>(&mut self, out: OutputId, records: &[T]) -> Result<(), Error> {
        self.settle_commit()?;
        let spec = &self.outputs[out.index()];
        // A cluster's `print` whose records process 0 gets in the batch's last round.
        if self.deferred.iter().any(|d| d.prints(out)) {
            return Ok(());
        }
        self.emitted += records.len() as u64;
        // After a `print` put out in the batch's last round, a `print` is too (in emit order):
        // its block, which process 0 prints, kept on every process.
        if let OutputKind::Print { num } = spec.kind
            && self.deferred.iter().any(deferred::Deferred::is_print)
        {
            let mut block = String::new();
            if !self.silent {
                format_print(self.time_ms, num, records, &mut block);
            }
            self.deferred.push(deferred::Deferred::Block(block));
            return Ok(());
        }
        if self.silent {
            return Ok(());
        }
        self.buf.clear();
        match &spec.kind {
            OutputKind::Print { num } => {
                format_print(self.time_ms, *num, records, &mut self.buf);
                print_to(&mut self.print, &self.buf)?;
            }
            OutputKind::SaveAsTextFiles { prefix, suffix } => {
                let dir = text_files_dir(prefix, suffix, self.time_ms);
                if let Some(processes) = self.text_parts[out.index()] {
                    files::commit_text_parts(&dir, processes)?;
                } else {
                    for r in records {
                        r.spark_fmt(&mut self.buf);
                        self.buf.push('\n');
                    }
                    write_text_files(&dir, &self.buf)?;
                }
            }
            OutputKind::Console { .. }
            | OutputKind::JsonFiles { .. }
            | OutputKind::ParquetFiles { .. }
            | OutputKind::Memory { .. }
            | OutputKind::Kafka { .. } => {
                return Err(Error::Config(format!(
                    "output `{}` is a Structured Streaming sink, emitted with `emit`; this is a bug in streamc\n\
                     help: generated code emits rows to it with `emit_rows`",
                    spec.name
                )));
            }
        }
        // One jsonl line per stream and batch: a stream with several outputs (print and save)
        // is written once, so a consumer of the contract never counts a record twice.
        if let Some((path, w)) = &mut self.jsonl
            && !self.jsonl_streams.contains(&spec.name)
        {
            self.jsonl_streams.push(spec.name.clone());
            self.buf.clear();
            self.buf.push_str("{\"output\":");
            json_string(&spec.name, &mut self.buf);
            self.buf.push_str(",\"batch_time_ms\":");
            self.buf.push_str(&self.time_ms.to_string());
            self.buf.push_str(",\"records\":[");
            for (i, r) in records.iter().enumerate() {
                if i > 0 {
                    self.buf.push(',');
                }
                r.to_json(&mut self.buf);
            }
            self.buf.push_str("]}\n");
            w.write_all(self.buf.as_bytes()).map_err(|source| Error::Output { path: path.clone(), source })?;
        }
        Ok(())
    }
}

impl BatchOutput {
    /// Performs Structured Streaming output `out` on this batch's `rows`:
    ///
    /// - `console`: prints Spark's console sink block for the batch
    ///   ([`console_table`]) to standard output (or the print writer);
    /// - `json_files`: writes the rows as JSON lines to `dir/part-<N:05>-0000.json` (through a
    ///   temporary file and a rename; a second emit in the same batch writes part `0001`, and so
    ///   on; an empty emit writes no file). The batch is committed after the handler returns, by
    ///   writing the metadata log entry `dir/_spark_metadata/<N>` listing the batch's files. If
    ///   that entry already exists (a batch re-run after a crash), nothing is written: each
    ///   batch's rows are in the directory exactly once.
    ///
    /// With [`App::with_jsonl`](crate::App::with_jsonl), also writes the line
    /// `{"output":NAME,"batch_id":N,"batch_time_ms":T,"records":[{"col":value,...},...]}`.
    pub fn emit_rows<R: Row>(&mut self, out: OutputId, rows: &[R]) -> Result<(), Error> {
        self.settle_commit()?;
        let spec = &self.outputs[out.index()];
        let columns = columns_of(spec, R::COLUMNS)?;
        self.emitted += rows.len() as u64;
        if self.silent {
            return Ok(());
        }
        self.buf.clear();
        match &spec.kind {
            OutputKind::Console { num_rows, truncate, .. } => {
                console_table(self.batch_id, &columns, rows, *num_rows, *truncate, &mut self.buf);
                print_to(&mut self.print, &self.buf)?;
            }
            OutputKind::JsonFiles { dir, .. } => {
                let j = &mut self.json[out.index()];
                if !j.committed && file_sink_committed(dir, self.batch_id) {
                    j.committed = true;
                }
                if !j.committed && !rows.is_empty() {
                    let keys = JsonKeys::new(&columns);
                    for r in rows {
                        r.json_object_keyed(&keys, &mut self.buf);
                        self.buf.push('\n');
                    }
                    let part = u32::try_from(j.files.len()).expect("fewer than 2^32 emits in a batch");
                    let path = json_part_path(dir, self.batch_id, part);
                    j.pending.push(files::write_file_pending(&path, self.buf.as_bytes())?);
                    j.files.push(path);
                }
            }
            OutputKind::ParquetFiles { dir, types, columns: names } => {
                let j = &mut self.json[out.index()];
                if !j.committed && file_sink_committed(dir, self.batch_id) {
                    j.committed = true;
                }
                if !j.committed && !rows.is_empty() {
                    let part = u32::try_from(j.files.len()).expect("fewer than 2^32 emits in a batch");
                    let path = parquet_part_path(dir, self.batch_id, part);
                    j.pending.push(files::write_file_pending(&path, &parquet_file(&path, names, types, rows)?)?);
                    j.files.push(path);
                }
            }
            OutputKind::Memory { complete, .. } => {
                let json = piece::json_objects(&columns, rows);
                crate::structured::memory::record(&spec.name, self.batch_id, json, *complete);
            }
            #[cfg(feature = "kafka")]
            OutputKind::Kafka { options, exactly_once, .. } => {
                let w = &mut self.kafka[out.index()];
                if w.is_none() {
                    let writer = format!("{}/{}", self.query_id, spec.name);
                    *w = Some(kafka::KafkaWriter::new(&spec.name, &writer, options, *exactly_once)?);
                }
                if let Some(w) = w {
                    w.write(self.batch_id, &columns, rows)?;
                }
            }
            #[cfg(not(feature = "kafka"))]
            OutputKind::Kafka { .. } => {
                return Err(Error::Config(format!(
                    "output `{}` writes to Kafka, but this build of streamc-runtime has no Kafka support\nhelp: turn on the runtime's `kafka` feature (`streamc run` and `build` do it for specs that use Kafka)",
                    spec.name
                )));
            }
            OutputKind::Print { .. } | OutputKind::SaveAsTextFiles { .. } => unreachable!("checked above"),
        }
        if self.jsonl.is_some() && !self.jsonl_streams.contains(&spec.name) {
            let name = spec.name.clone();
            let mut records = String::new();
            let keys = JsonKeys::new(&columns);
            for (i, r) in rows.iter().enumerate() {
                if i > 0 {
                    records.push(',');
                }
                r.json_object_keyed(&keys, &mut records);
            }
            self.jsonl_line(&name, &records)?;
        }
        Ok(())
    }

    /// Writes output `name`'s line of the batch to the jsonl file, `records` being its records
    /// as JSON values separated by commas; only the first emit of an output in a batch is
    /// written.
    fn jsonl_line(&mut self, name: &str, records: &str) -> Result<(), Error> {
        let Some((path, w)) = &mut self.jsonl else { return Ok(()) };
        if self.jsonl_streams.iter().any(|s| s == name) {
            return Ok(());
        }
        self.jsonl_streams.push(name.to_owned());
        self.buf.clear();
        self.buf.push_str("{\"output\":");
        json_string(name, &mut self.buf);
        let _ = write!(self.buf, ",\"batch_id\":{},\"batch_time_ms\":{},\"records\":[", self.batch_id, self.time_ms);
        self.buf.push_str(records);
        self.buf.push_str("]}\n");
        w.write_all(self.buf.as_bytes()).map_err(|source| Error::Output { path: path.clone(), source })
    }
}

/// Writes `text` to the print target (standard output, or the app's writer).
fn print_to(target: &mut PrintTarget, text: &str) -> Result<(), Error> {
    match target {
        PrintTarget::Stdout => {
            let mut o = io::stdout().lock();
            o.write_all(text.as_bytes()).and_then(|()| o.flush()).map_err(Error::Stdout)
        }
        PrintTarget::Writer(w) => w.write_all(text.as_bytes()).and_then(|()| w.flush()).map_err(Error::Stdout),
    }
}

/// The column names of output `spec` for rows of `width` columns; fails (a bug in streamc) for a
/// DStream output or a width that is not the output's.
fn columns_of(spec: &OutputSpec, width: usize) -> Result<Vec<&str>, Error> {
    let columns: Vec<&str> = match &spec.kind {
        OutputKind::Console { columns, .. }
        | OutputKind::JsonFiles { columns, .. }
        | OutputKind::ParquetFiles { columns, .. }
        | OutputKind::Memory { columns, .. }
        | OutputKind::Kafka { columns, .. } => columns.iter().map(String::as_str).collect(),
        OutputKind::Print { .. } | OutputKind::SaveAsTextFiles { .. } => {
            return Err(Error::Config(format!(
                "output `{}` is a DStream output, emitted with `emit_rows`; this is a bug in streamc",
                spec.name
            )));
        }
    };
    if columns.len() != width {
        return Err(Error::Config(format!(
            "output `{}` has {} columns but its rows have {width}; this is a bug in streamc",
            spec.name,
            columns.len(),
        )));
    }
    Ok(columns)
}

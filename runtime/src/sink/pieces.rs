//! Rows held in parts by a cluster's processes (each process the rows of the keys it owns), put
//! out without putting them together: every process writes its own data file of each file sink,
//! and sends process 0 only what the other outputs read ([`Piece`]): the console's first rows,
//! every row for a memory sink or the `--jsonl` copy. Process 0 then lists every process's data
//! file in the batch's commit (`_spark_metadata`), which it writes after every file is on disk.

use super::deferred::{Deferred, Sent};
use super::files::{write_file_pending, write_text_part};
use super::piece::{Held, Piece, json_objects};
use super::{BatchOutput, OutputKind, OutputSpec, file_sink_committed, parquet_file, process_part_path};
use super::{columns_of, format_print, print_to, text_files_dir};
use crate::error::Error;
use crate::fmt::Record;
use crate::ids::OutputId;
use crate::persist::{Persist, read_all};
use crate::structured::row::{JsonKeys, Row, console_cells, row_cells};

impl BatchOutput {
    /// This process's piece of output `out`, `rows` being its part of the batch's rows; a file
    /// sink's data file is written here, on every process (named by
    /// [`process_part_path`]), unless the batch was committed before: under its temporary
    /// name, its write-back to the disk started, made durable and put in place in the batch's
    /// last round ([`publish_data_files`](Self::publish_data_files)). Fails as
    /// [`emit_rows`](Self::emit_rows) does, and for an output whose rows cannot be put out in
    /// parts (a Kafka sink, a DStream output: a bug in the caller).
    pub(crate) fn piece<R: Row>(&mut self, out: OutputId, rows: &[R], process: usize) -> Result<Piece, Error> {
        self.settle_commit()?;
        let spec = &self.outputs[out.index()];
        let columns = columns_of(spec, R::COLUMNS)?;
        let jsonl = (self.jsonl.is_some() || self.leader_reads_every_record).then(|| json_objects(&columns, rows));
        let held = match &spec.kind {
            OutputKind::JsonFiles { dir, .. } | OutputKind::ParquetFiles { dir, .. } => {
                // Every process alike (rows or none): the batch's last round publishes them.
                self.in_pieces = true;
                let j = &mut self.json[out.index()];
                if !j.committed && file_sink_committed(dir, self.batch_id) {
                    j.committed = true;
                }
                if j.committed || rows.is_empty() {
                    Held::File(None)
                } else {
                    let part = u32::try_from(j.files.len()).expect("fewer than 2^32 emits in a batch");
                    let path = if let OutputKind::ParquetFiles { types, columns: names, .. } = &spec.kind {
                        let path = process_part_path(dir, self.batch_id, part, process, "parquet");
                        j.pending.push(write_file_pending(&path, &parquet_file(&path, names, types, rows)?)?);
                        path
                    } else {
                        self.buf.clear();
                        let keys = JsonKeys::new(&columns);
                        for r in rows {
                            r.json_object_keyed(&keys, &mut self.buf);
                            self.buf.push('\n');
                        }
                        let path = process_part_path(dir, self.batch_id, part, process, "json");
                        j.pending.push(write_file_pending(&path, self.buf.as_bytes())?);
                        path
                    };
                    Held::File(Some(path))
                }
            }
            OutputKind::Console { num_rows, .. } => Held::Shown(rows.iter().take(*num_rows).map(row_cells).collect()),
            OutputKind::Memory { .. } => Held::Json(json_objects(&columns, rows)),
            OutputKind::Kafka { .. } | OutputKind::Print { .. } | OutputKind::SaveAsTextFiles { .. } => {
                return Err(not_in_parts(spec));
            }
        };
        Ok(Piece { rows: rows.len() as u64, held, jsonl })
    }

    /// Whether the batch's file sink rows were cut in pieces ([`piece`](Self::piece)): the same
    /// on every process of a cluster, which then publishes its data files in the batch's last
    /// round.
    pub(crate) fn in_pieces(&self) -> bool {
        self.in_pieces
    }

    /// On process 0, once every process has published its pieces' data files: commits the
    /// batch in every file sink whose rows were cut in pieces (its metadata log entry, listing
    /// every process's files, unless the entry exists already). Nothing elsewhere.
    pub(crate) fn commit_pieces(&mut self) -> Result<(), Error> {
        if self.silent || !self.in_pieces {
            return Ok(());
        }
        self.write_metadata_entries()
    }

    /// On process 0: performs output `out` (of rows `width` columns wide) on the batch's rows,
    /// which the processes hold in parts: `pieces`, one per process, in process order.
    pub(crate) fn emit_pieces(&mut self, out: OutputId, width: usize, pieces: Vec<Piece>) -> Result<(), Error> {
        self.settle_commit()?;
        // A copy: the outputs are written through `self` below (once per batch; small).
        let spec = self.outputs[out.index()].clone();
        let columns = columns_of(&spec, width)?;
        let total: u64 = pieces.iter().map(|p| p.rows).sum();
        self.emitted += total;
        if self.silent {
            return Ok(());
        }
        let mut jsonl: Option<Vec<String>> = Some(Vec::new());
        let mut all = Vec::new();
        for p in pieces {
            match (&mut jsonl, p.jsonl) {
                (Some(j), Some(rows)) => j.extend(rows),
                (j, _) => *j = None,
            }
            match (&spec.kind, p.held) {
                (OutputKind::JsonFiles { .. } | OutputKind::ParquetFiles { .. }, Held::File(path)) => {
                    self.json[out.index()].files.extend(path);
                }
                (OutputKind::Console { .. }, Held::Shown(cells)) => all.extend(cells),
                (OutputKind::Memory { .. }, Held::Json(rows)) => all.extend(rows.into_iter().map(|r| vec![r])),
                _ => return Err(not_in_parts(&spec)),
            }
        }
        match &spec.kind {
            OutputKind::Console { num_rows, truncate, .. } => {
                self.buf.clear();
                let total = usize::try_from(total).unwrap_or(usize::MAX);
                console_cells(self.batch_id, &columns, &all, total, *num_rows, *truncate, &mut self.buf);
                print_to(&mut self.print, &self.buf)?;
            }
            OutputKind::Memory { complete, .. } => {
                let rows = all.into_iter().flatten().collect();
                crate::structured::memory::record(&spec.name, self.batch_id, rows, *complete);
            }
            _ => {}
        }
        if self.jsonl.is_some() {
            let records = jsonl.ok_or_else(|| {
                Error::Cluster(format!(
                    "batch {}: a process did not send the rows of output `{}` for --jsonl; this is a bug in streamc",
                    self.batch_id, spec.name
                ))
            })?;
            self.jsonl_line(&spec.name, &records.join(","))?;
        }
        Ok(())
    }
}

/// The error for an output that [`BatchOutput::piece`] cannot put out in parts.
fn not_in_parts(spec: &OutputSpec) -> Error {
    Error::Config(format!(
        "output `{}` cannot be written by each process of a cluster for its part of the rows; this is a bug in streamc",
        spec.name
    ))
}

impl BatchOutput {
    /// On every process of a cluster of `processes`, for a DStream batch in parts: if output
    /// `out` is a `save_as_text_files`, writes `records` (this process's part) as its part file
    /// of the batch's directory, on disk when this returns, and has process 0's emit of the
    /// output commit every process's part instead of writing the records it gets. Other
    /// outputs: nothing.
    pub(crate) fn save_part<T: Record>(
        &mut self,
        out: OutputId,
        records: &[T],
        process: usize,
        processes: usize,
    ) -> Result<(), Error> {
        self.settle_commit()?;
        let OutputKind::SaveAsTextFiles { prefix, suffix } = &self.outputs[out.index()].kind else { return Ok(()) };
        self.buf.clear();
        for r in records {
            r.spark_fmt(&mut self.buf);
            self.buf.push('\n');
        }
        write_text_part(&text_files_dir(prefix, suffix, self.time_ms), process, &self.buf)?;
        self.text_parts[out.index()] = Some(processes);
        Ok(())
    }
}

/// Emits kept for the batch's last round (`sink/deferred.rs`): a partitioned aggregation's
/// rows, a `print`'s first records.
impl BatchOutput {
    /// Keeps `d` for the batch's last round.
    pub(crate) fn defer(&mut self, d: Deferred) {
        self.deferred.push(d);
    }

    /// Whether an emit waits for the batch's last round (the same on every process: they run
    /// the same code on the same plan).
    pub(crate) fn has_deferred(&self) -> bool {
        !self.deferred.is_empty()
    }

    /// On a process other than 0: what it sends process 0 of its deferred emits, in order
    /// (taking them).
    pub(crate) fn deferred_message(&mut self, out: &mut Vec<u8>) {
        let sent: Vec<Sent> = std::mem::take(&mut self.deferred)
            .into_iter()
            .map(|d| match d {
                Deferred::Rows { pieces, state: s, counts, .. } => {
                    let figures = (s.rows_total, s.rows_updated, s.dropped_by_watermark, s.memory_bytes);
                    Sent::Rows(figures, counts.iter().map(|&(_, n)| n).collect(), pieces)
                }
                Deferred::Print { held, lines, .. } => Sent::Print(held, lines),
                Deferred::Block(_) => Sent::Block,
            })
            .collect();
        sent.write(out);
    }

    /// On process 0 (or a cluster of one), after the batch's last round: puts out every
    /// deferred emit, with `theirs`, what each other process sent
    /// ([`deferred_message`](Self::deferred_message)), in process order; then flushes the
    /// `--jsonl` copy.
    pub(crate) fn emit_deferred(&mut self, theirs: &[&[u8]]) -> Result<(), Error> {
        let mine = std::mem::take(&mut self.deferred);
        let batch = self.batch_id;
        let bad = |p: usize, what: String| {
            Error::Cluster(format!("the rows process {} sent in batch {batch} do not read back: {what}", p + 1))
        };
        let mut from: Vec<std::vec::IntoIter<Sent>> = Vec::with_capacity(theirs.len());
        for (p, bytes) in theirs.iter().enumerate() {
            let sent: Vec<Sent> = read_all(bytes).map_err(|e| bad(p, e.to_string()))?;
            if sent.len() != mine.len() {
                return Err(bad(p, format!("{} emits, process 0 has {}", sent.len(), mine.len())));
            }
            from.push(sent.into_iter());
        }
        for d in mine {
            match d {
                Deferred::Rows { outs, width, pieces, mut state, mut counts } => {
                    let mut per_out: Vec<Vec<Piece>> = pieces.into_iter().map(|p| vec![p]).collect();
                    for (p, sent) in from.iter_mut().enumerate() {
                        let Some(Sent::Rows((total, updated, dropped, memory), theirs, pieces)) = sent.next() else {
                            return Err(bad(p, "another kind of emit".to_owned()));
                        };
                        if theirs.len() != counts.len() || pieces.len() != per_out.len() {
                            return Err(bad(p, format!("{} counts and {} outputs", theirs.len(), pieces.len())));
                        }
                        state.rows_total += total;
                        state.rows_updated += updated;
                        state.dropped_by_watermark += dropped;
                        state.memory_bytes = state.memory_bytes.zip(memory).map(|(a, b)| a + b);
                        for ((_, c), t) in counts.iter_mut().zip(theirs) {
                            *c += t;
                        }
                        for (all, piece) in per_out.iter_mut().zip(pieces) {
                            all.push(piece);
                        }
                    }
                    self.report_state_figures(state);
                    for (node, n) in counts {
                        self.report_rows(node, n);
                    }
                    for (o, pieces) in outs.into_iter().zip(per_out) {
                        self.emit_pieces(o, width, pieces)?;
                    }
                }
                Deferred::Print { outs, mut held, mut lines } => {
                    for (p, sent) in from.iter_mut().enumerate() {
                        let Some(Sent::Print(theirs, first)) = sent.next() else {
                            return Err(bad(p, "another kind of emit".to_owned()));
                        };
                        held += theirs;
                        lines.extend(first);
                    }
                    self.print_lines(&outs, held, &lines)?;
                }
                Deferred::Block(block) => {
                    for (p, sent) in from.iter_mut().enumerate() {
                        if sent.next() != Some(Sent::Block) {
                            return Err(bad(p, "another kind of emit".to_owned()));
                        }
                    }
                    self.settle_commit()?;
                    print_to(&mut self.print, &block)?;
                }
            }
        }
        self.flush_jsonl()
    }

    /// On process 0: performs each of `outs` (all `print`s) on a batch of `held` records in
    /// parts, `lines` being each process's first ones, as `print` writes them, in process
    /// order. Each process sent at least one more than a `print` shows, or all it held, so
    /// `lines` has more than a `print` shows exactly when the batch has.
    fn print_lines(&mut self, outs: &[OutputId], held: u64, lines: &[String]) -> Result<(), Error> {
        self.settle_commit()?;
        for &out in outs {
            self.emitted += held;
            let OutputKind::Print { num } = self.outputs[out.index()].kind else {
                return Err(Error::Config(format!(
                    "output `{}` is not a print; this is a bug in streamc",
                    self.outputs[out.index()].name
                )));
            };
            self.buf.clear();
            format_print(self.time_ms, num, lines, &mut self.buf);
            print_to(&mut self.print, &self.buf)?;
        }
        Ok(())
    }

    /// How many of a batch's first records outputs `outs` read, when not all: a `print`'s
    /// `num` and one more (to know whether to print `...`), unless a jsonl file or another
    /// output wants every record. A cluster gathers no more than that on process 0.
    pub(crate) fn records_read(&self, outs: &[OutputId]) -> Option<usize> {
        if self.reads_every_record() || self.leader_reads_every_record {
            return None;
        }
        let mut most = 0;
        for out in outs {
            match &self.outputs[out.index()].kind {
                OutputKind::Print { num } => most = most.max(num.saturating_add(1)),
                // Each process writes its own part ([`save_part`](Self::save_part)).
                OutputKind::SaveAsTextFiles { .. } => {}
                _ => return None,
            }
        }
        Some(most)
    }

    /// Whether every one of `outs` is a `print` (whose records a cluster's processes can send
    /// process 0 in the batch's last round: [`Deferred::Print`]).
    pub(crate) fn prints_only(&self, outs: &[OutputId]) -> bool {
        outs.iter().all(|o| matches!(self.outputs[o.index()].kind, OutputKind::Print { .. }))
    }
}

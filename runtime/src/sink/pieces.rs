//! Rows held in parts by a cluster's processes (each process the rows of the keys it owns), put
//! out without putting them together: every process writes its own data file of each file sink,
//! and sends process 0 only what the other outputs read ([`Piece`]): the console's first rows,
//! every row for a memory sink or the `--jsonl` copy. Process 0 then lists every process's data
//! file in the batch's commit (`_spark_metadata`), which it writes after every file is on disk.

use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::files::{write_file_pending, write_text_part};
use super::{BatchOutput, OutputKind, OutputSpec, file_sink_committed, parquet_file, process_part_path};
use super::{columns_of, print_to, text_files_dir};
use crate::error::Error;
use crate::fmt::Record;
use crate::ids::OutputId;
use crate::persist::{Persist, corrupt};
use crate::structured::row::{JsonKeys, Row, console_cells, row_cells};

/// What one process of a cluster holds of an output's rows in a batch, in the form process 0
/// needs to put the output out.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Piece {
    /// How many rows the process held.
    pub(crate) rows: u64,
    pub(crate) held: Held,
    /// Every row as a JSON object, when process 0 writes a `--jsonl` copy of the outputs.
    pub(crate) jsonl: Option<Vec<String>>,
}

/// What an output needs of a process's rows.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Held {
    /// A file sink: the data file the process wrote (none when it held no rows, or the batch
    /// had been committed before, in a run that crashed after the commit).
    File(Option<PathBuf>),
    /// The console: the cells of the process's first rows, as many as the console shows.
    Shown(Vec<Vec<String>>),
    /// Every row as a JSON object (a memory sink).
    Json(Vec<String>),
}

impl Persist for Piece {
    fn write(&self, out: &mut Vec<u8>) {
        self.rows.write(out);
        match &self.held {
            Held::File(path) => {
                0u8.write(out);
                path.as_ref().map(|p| p.as_os_str().as_bytes().to_vec()).write(out);
            }
            Held::Shown(cells) => {
                1u8.write(out);
                cells.write(out);
            }
            Held::Json(rows) => {
                2u8.write(out);
                rows.write(out);
            }
        }
        self.jsonl.write(out);
    }

    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        let rows = u64::read(input)?;
        let held = match u8::read(input)? {
            0 => {
                let path: Option<Vec<u8>> = Persist::read(input)?;
                Held::File(path.map(|b| PathBuf::from(std::ffi::OsStr::from_bytes(&b))))
            }
            1 => Held::Shown(Persist::read(input)?),
            2 => Held::Json(Persist::read(input)?),
            t => return Err(corrupt(&format!("an output's piece of tag {t}"))),
        };
        Ok(Piece { rows, held, jsonl: Persist::read(input)? })
    }
}

/// Every row of `rows` as a JSON object with `columns` as names.
fn json_objects<R: Row>(columns: &[&str], rows: &[R]) -> Vec<String> {
    let keys = JsonKeys::new(columns);
    rows.iter()
        .map(|r| {
            let mut o = String::new();
            r.json_object_keyed(&keys, &mut o);
            o
        })
        .collect()
}

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
    pub(crate) fn commit_pieces(&self) -> Result<(), Error> {
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

//! Sinks: what an output operator does with a batch's records (`print`, `save_as_text_files`),
//! the machine-readable jsonl copy of every output, and the state snapshots a batch hands over
//! for its checkpoint.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::app::OutputId;
use crate::error::Error;
use crate::fmt::{Record, SparkFmt, json_string};
use crate::persist::Checkpointed;

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
}

/// Where `print` writes: standard output, or a writer given by a test.
pub(crate) enum PrintTarget {
    Stdout,
    Writer(Box<dyn Write + Send>),
}

/// The dashes of Spark's `print` header.
const DASHES: &str = "-------------------------------------------";

/// Appends Spark's `DStream.print` block for one batch: a header with the batch time, the first
/// `num` records (one per line, as Scala's `toString`), `...` if there are more, then an empty
/// line. Empty batches get the header and the empty line.
///
/// ```
/// let mut s = String::new();
/// streamc_runtime::sink::format_print(2000, 2, &[("a", 1), ("b", 2), ("c", 3)], &mut s);
/// assert_eq!(s, "-------------------------------------------\nTime: 2000 ms\n\
///                -------------------------------------------\n(a,1)\n(b,2)\n...\n\n");
/// ```
pub fn format_print<T: SparkFmt>(time_ms: i64, num: usize, records: &[T], out: &mut String) {
    use std::fmt::Write as _;
    let _ = write!(out, "{DASHES}\nTime: {time_ms} ms\n{DASHES}\n");
    for r in records.iter().take(num) {
        r.spark_fmt(out);
        out.push('\n');
    }
    if records.len() > num {
        out.push_str("...\n");
    }
    out.push('\n');
}

/// The directory `save_as_text_files` writes for a batch: `{prefix}-{time_ms}`, plus
/// `.{suffix}` if the suffix is not empty (Spark's `rddToFileName`).
pub fn text_files_dir(prefix: &str, suffix: &str, time_ms: i64) -> PathBuf {
    if suffix.is_empty() {
        PathBuf::from(format!("{prefix}-{time_ms}"))
    } else {
        PathBuf::from(format!("{prefix}-{time_ms}.{suffix}"))
    }
}

/// Writes `text` as `dir/part-00000` plus an empty `dir/_SUCCESS`, as Spark's `saveAsTextFile`
/// of a single partition does.
///
/// Everything is written into a hidden temporary directory beside `dir` and renamed into place,
/// so a reader sees the whole output or nothing (and a file-stream source reading the parent
/// directory skips the temporary one, whose name starts with `.`). An existing `dir` is replaced,
/// as Spark Streaming does (it disables Hadoop's output-exists check for streaming jobs so that a
/// re-run batch can be written again).
pub fn write_text_files(dir: &Path, text: &str) -> Result<(), Error> {
    let out_err = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Output { path, source }
    };
    let name = dir
        .file_name()
        .ok_or_else(|| Error::Output {
            path: dir.to_owned(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a directory name"),
        })?
        .to_string_lossy()
        .into_owned();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(out_err(&parent))?;
    let tmp = parent.join(format!(".{name}.streamc-tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(out_err(&tmp))?;
    }
    std::fs::create_dir(&tmp).map_err(out_err(&tmp))?;
    let part = tmp.join("part-00000");
    let mut f = File::create(&part).map_err(out_err(&dir.join("part-00000")))?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(out_err(&dir.join("part-00000")))?;
    File::create(tmp.join("_SUCCESS")).map_err(out_err(&dir.join("_SUCCESS")))?;
    if dir.exists() {
        // Move the old output aside first: renaming onto a non-empty directory fails.
        let old = parent.join(format!(".{name}.streamc-old-{}", std::process::id()));
        std::fs::rename(dir, &old).map_err(out_err(dir))?;
        std::fs::rename(&tmp, dir).map_err(out_err(dir))?;
        std::fs::remove_dir_all(&old).map_err(out_err(&old))?;
    } else {
        std::fs::rename(&tmp, dir).map_err(out_err(dir))?;
    }
    Ok(())
}

/// What a batch handler hands its results to; each [`emit`](Self::emit) performs one output
/// operator for the current batch, and [`save_state`](Self::save_state) adds a state to the
/// batch's checkpoint.
pub struct BatchOutput {
    outputs: Vec<OutputSpec>,
    time_ms: i64,
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
        Ok(BatchOutput {
            outputs,
            time_ms: 0,
            print,
            jsonl,
            buf: String::new(),
            emitted: 0,
            jsonl_streams: Vec::new(),
            checkpointing: false,
            states: Vec::new(),
        })
    }

    pub(crate) fn set_checkpointing(&mut self, on: bool) {
        self.checkpointing = on;
    }

    /// The time of the batch being output, in milliseconds since the epoch (or since the start
    /// of a replay).
    pub fn time_ms(&self) -> i64 {
        self.time_ms
    }

    pub(crate) fn begin_batch(&mut self, time_ms: i64) {
        self.time_ms = time_ms;
        self.emitted = 0;
        self.jsonl_streams.clear();
        self.states.clear();
    }

    /// Adds a snapshot of `state` ([`Checkpointed::save`]) under `name` to this batch's
    /// checkpoint; saving a name twice in a batch keeps the last snapshot.
    ///
    /// After the handler returns `Ok` and the batch's outputs are written, the runtime writes one
    /// checkpoint file holding every state saved in the batch (see [`crate::checkpoint`]).
    /// Generated code calls this on [`BatchInput::is_checkpoint_batch`] batches; without a
    /// checkpoint directory it does nothing.
    ///
    /// [`BatchInput::is_checkpoint_batch`]: crate::BatchInput::is_checkpoint_batch
    pub fn save_state<S: Checkpointed + ?Sized>(&mut self, name: &str, state: &S) {
        if !self.checkpointing {
            return;
        }
        let mut bytes = Vec::new();
        state.save(&mut bytes);
        match self.states.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = bytes,
            None => self.states.push((name.to_owned(), bytes)),
        }
    }

    /// The snapshots saved in this batch, taken out (empty if none was saved).
    pub(crate) fn take_states(&mut self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(&mut self.states)
    }

    /// Records emitted in the current batch, over all outputs.
    pub(crate) fn emitted(&self) -> u64 {
        self.emitted
    }

    /// Flushes the jsonl file, so that after a batch its lines are complete on disk.
    pub(crate) fn end_batch(&mut self) -> Result<(), Error> {
        if let Some((path, w)) = &mut self.jsonl {
            w.flush().map_err(|source| Error::Output { path: path.clone(), source })?;
        }
        Ok(())
    }

    /// Performs output operator `out` on this batch's `records`.
    ///
    /// Fails with [`Error::Output`] naming the path that could not be written (or
    /// [`Error::Stdout`]); the app then stops with that error.
    pub fn emit<T: Record>(&mut self, out: OutputId, records: &[T]) -> Result<(), Error> {
        let spec = &self.outputs[out.index()];
        self.emitted += records.len() as u64;
        self.buf.clear();
        match &spec.kind {
            OutputKind::Print { num } => {
                format_print(self.time_ms, *num, records, &mut self.buf);
                match &mut self.print {
                    PrintTarget::Stdout => {
                        let mut o = io::stdout().lock();
                        o.write_all(self.buf.as_bytes()).and_then(|()| o.flush()).map_err(Error::Stdout)?;
                    }
                    PrintTarget::Writer(w) => {
                        w.write_all(self.buf.as_bytes()).and_then(|()| w.flush()).map_err(Error::Stdout)?;
                    }
                }
            }
            OutputKind::SaveAsTextFiles { prefix, suffix } => {
                for r in records {
                    r.spark_fmt(&mut self.buf);
                    self.buf.push('\n');
                }
                write_text_files(&text_files_dir(prefix, suffix, self.time_ms), &self.buf)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn print_is_byte_exact() {
        let mut s = String::new();
        format_print(1000, 10, &[("a", 2i64), ("", 3)], &mut s);
        assert_eq!(
            s,
            "-------------------------------------------\n\
             Time: 1000 ms\n\
             -------------------------------------------\n\
             (a,2)\n\
             (,3)\n\
             \n"
        );
        s.clear();
        format_print::<i64>(3000, 10, &[], &mut s);
        assert_eq!(
            s,
            "-------------------------------------------\nTime: 3000 ms\n-------------------------------------------\n\n"
        );
        s.clear();
        format_print(5, 1, &[1i64, 2], &mut s);
        assert!(s.ends_with("---\n1\n...\n\n"), "{s:?}");
        s.clear();
        format_print(5, 2, &[1i64, 2], &mut s);
        assert!(s.ends_with("---\n1\n2\n\n"), "{s:?}");
    }

    #[test]
    fn text_files_dir_names() {
        assert_eq!(text_files_dir("out/counts", "txt", 1000), PathBuf::from("out/counts-1000.txt"));
        assert_eq!(text_files_dir("c", "", 7), PathBuf::from("c-7"));
    }
}

//! A partitioned aggregation's rows put out in the batch's last round. In a cluster, each
//! process holds the rows of the keys it owns; process 0 puts out the console's first rows, a
//! memory sink's or the `--jsonl` copy's rows and the file sinks' commit for all of them
//! ([`super::pieces`]). What process 0 needs of the others (their [`Piece`]s, their state's
//! figures and their row counts) travels in the batch's last round, which every process reaches
//! anyway to report its data files and shard durable, rather than in a round of its own: a
//! [`Deferred`] per emit, kept until that round (`BatchOutput::defer`), sent by the others
//! (`BatchOutput::deferred_message`) and put out by process 0 after it
//! (`BatchOutput::emit_deferred`, in `pieces.rs`), in emit order, before the file sinks' commit.

use super::piece::Piece;
use super::progress::StateReport;
use crate::ids::OutputId;

/// One emit of a partitioned aggregation's rows, as this process holds them, waiting for the
/// batch's last round.
#[derive(Debug)]
pub(crate) struct Deferred {
    /// The outputs the rows go to, and their width in columns.
    pub(crate) outs: Vec<OutputId>,
    pub(crate) width: usize,
    /// This process's piece of each output, in `outs`' order.
    pub(crate) pieces: Vec<Piece>,
    /// This process's state figures, added up over the processes for the progress line.
    pub(crate) state: StateReport,
    /// This process's rows at plan nodes, added up likewise.
    pub(crate) counts: Vec<(&'static str, u64)>,
}

/// What a process sends of a [`Deferred`]: its state's rows total, updated, dropped by the
/// watermark and memory; its row counts; its pieces.
pub(crate) type Sent = ((u64, u64, u64, Option<u64>), Vec<u64>, Vec<Piece>);

//! Outputs put out in the batch's last round. In a cluster, each process holds part of some
//! outputs' rows: a partitioned aggregation's (the keys it owns), a DStream stream's in parts.
//! Process 0 puts out what the outputs read of them — the console's first rows, a memory
//! sink's or the `--jsonl` copy's rows, the file sinks' commit, a `print`'s first records
//! ([`super::pieces`]). What process 0 needs of the others travels in the batch's last round,
//! which every process reaches anyway to report its data files and shard durable, rather than
//! in a round of its own: a [`Deferred`] per emit, kept until that round
//! (`BatchOutput::defer`), sent by the others as [`Sent`] (`BatchOutput::deferred_message`) and
//! put out by process 0 after it (`BatchOutput::emit_deferred`, in `pieces.rs`), in emit
//! order, before the file sinks' commit.

use super::piece::Piece;
use super::progress::StateReport;
use crate::error::Error;
use crate::ids::OutputId;
use crate::persist::{Persist, corrupt};

/// One emit, as this process holds it, waiting for the batch's last round.
#[derive(Debug)]
pub(crate) enum Deferred {
    /// A partitioned aggregation's rows.
    Rows {
        /// The outputs the rows go to, and their width in columns.
        outs: Vec<OutputId>,
        width: usize,
        /// This process's piece of each output, in `outs`' order.
        pieces: Vec<Piece>,
        /// This process's state figures, added up over the processes for the progress line.
        state: StateReport,
        /// This process's rows at plan nodes, added up likewise.
        counts: Vec<(&'static str, u64)>,
    },
    /// A DStream stream's records in parts, for outputs that are all `print`s: this process's
    /// first records, as `print` writes them, and how many it held.
    Print { outs: Vec<OutputId>, held: u64, lines: Vec<String> },
    /// A `print` emitted after a deferred one in the same batch, kept so that the blocks come
    /// out in emit order: its block as process 0 prints it (empty on the other processes).
    Block(String),
}

impl Deferred {
    /// Whether this emit puts out `out` (a `print`, whose emit in the batch then does nothing).
    pub(crate) fn prints(&self, out: OutputId) -> bool {
        matches!(self, Deferred::Print { outs, .. } if outs.contains(&out))
    }

    /// Whether this emit is a `print`'s: the `print`s after it in the batch wait for the last
    /// round too.
    pub(crate) fn is_print(&self) -> bool {
        matches!(self, Deferred::Print { .. } | Deferred::Block(_))
    }
}

/// What a process sends of a [`Deferred`]: of rows, its state's rows total, updated, dropped by
/// the watermark and memory, its row counts and its pieces; of a `print`, its records held and
/// its first ones; of a block, nothing.
#[derive(Debug, PartialEq)]
pub(crate) enum Sent {
    Rows((u64, u64, u64, Option<u64>), Vec<u64>, Vec<Piece>),
    Print(u64, Vec<String>),
    Block,
}

impl Persist for Sent {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Sent::Rows(figures, counts, pieces) => {
                0u8.write(out);
                figures.write(out);
                counts.write(out);
                pieces.write(out);
            }
            Sent::Print(held, lines) => {
                1u8.write(out);
                held.write(out);
                lines.write(out);
            }
            Sent::Block => 2u8.write(out),
        }
    }

    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        Ok(match u8::read(input)? {
            0 => Sent::Rows(Persist::read(input)?, Persist::read(input)?, Persist::read(input)?),
            1 => Sent::Print(u64::read(input)?, Persist::read(input)?),
            2 => Sent::Block,
            t => return Err(corrupt(&format!("a deferred emit of tag {t}"))),
        })
    }
}

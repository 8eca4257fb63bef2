//! The app: declaring sources and outputs, starting them, and the batch loop that seals a
//! micro-batch at every tick, runs the generated handler on it, and writes a checkpoint after
//! the batches whose handler saved state.
//!
//! Batch times follow Spark: the *zero time* is the first batch time minus the interval (0 for a
//! replay, whose batch `i` runs at `(i + 1) × interval`), and periodic things (windowed outputs,
//! checkpoints) happen on the batches whose `time − zero` is a multiple of their period. A run
//! resumed from a checkpoint keeps the checkpoint's zero time, so these batches do not move.
//!
//! Structured Streaming apps (those with a [`file_stream`](AppBuilder::file_stream) source, a
//! `console` or `json_files` output, or a [`Trigger`] other than the default) differ from
//! DStream apps in four ways: batches also have ids (0, 1, 2, …, continued after a restart);
//! the [`Trigger`] decides which batches run; with a checkpoint directory every batch is a
//! checkpoint batch (Spark commits every batch), and each batch's files are logged before it
//! runs, so a re-run reads them again; and a progress line (Spark's `StreamingQueryProgress`)
//! follows every batch.

//!
//! The driver sits on top of the runtime: it imports sources, sinks and checkpoints, and none
//! of them imports it.
//!
//! - `builder`: [`AppBuilder`], the "describe" phase;
//! - `options`: [`App`], a built app and its run options, and [`get_or_create`];
//! - `input`: [`BatchInput`], what a batch handler reads;
//! - `start`: [`App::start`], its steps (check, resume, sources, outputs, clock, loop);
//! - `resume`: the checkpoint a run resumes from, checked against the app;
//! - `batch_loop`: the loop thread, one batch at a time;
//! - `handle`: [`StreamingHandle`], the running app seen from outside.
//!
//! [`Trigger`]: crate::Trigger

mod batch_loop;
mod builder;
mod handle;
mod input;
mod lending;
mod options;
mod partitioned;
mod progress_bar;
mod resume;
mod start;
mod steal;

pub use builder::AppBuilder;
pub use handle::StreamingHandle;
pub use input::{BatchInput, Collective, MIN_PARALLEL_BYTES, StealRequest, Stolen, Traffic};
pub use options::{App, PlaceholderHandler, get_or_create};
pub use partitioned::state_report;

pub use crate::ids::{OutputId, SourceId};
pub use crate::sink::BatchOutput;
pub use crate::stop::StopHandle;

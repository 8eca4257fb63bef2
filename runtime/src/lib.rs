//! The micro-batch runtime that streamc-generated code links against: batch clock, sources,
//! sinks, keyed state and the small helpers that generated stage code calls.
//!
//! Generated code talks to the runtime through one narrow contract: an [`AppBuilder`] declares
//! sources and outputs and gets typed ids back, [`AppBuilder::build`] takes the per-batch handler
//! (pure computation over a [`BatchInput`], results handed to a [`BatchOutput`]), and the
//! resulting [`App`] owns every thread and every byte of I/O.
//!
//! Stateful apps also checkpoint: [`AppBuilder::checkpoint`] names a directory and an interval,
//! the handler saves its state on [checkpoint batches](BatchInput::is_checkpoint_batch) with
//! [`BatchOutput::save_state`] and restores it with [`BatchInput::restore`], and
//! [`get_or_create`] (Spark's `StreamingContext.getOrCreate`) makes an app resume from the newest
//! checkpoint when it starts; the file format is in [`checkpoint`].
//!
//! ```
//! use streamc_runtime::{AppBuilder, BatchInput, BatchOutput, Error, Seconds};
//!
//! let mut b = AppBuilder::new("echo", Seconds(1));
//! let lines = b.socket_text_stream("lines", "localhost", 9999);
//! let out = b.print("lines", 10);
//! let _app = b.build(move |input: &BatchInput, output: &mut BatchOutput| -> Result<(), Error> {
//!     let v: Vec<&str> = input.text(lines).lines().collect();
//!     output.emit(out, &v)
//! });
//! // `_app.start()?.await_termination()?` would connect to localhost:9999 and run forever.
//! ```

pub mod app;
pub mod checkpoint;
pub mod cli;
pub mod clock;
#[cfg(feature = "cluster")]
pub mod cluster;
mod codec;
mod cpus;
pub mod error;
pub mod fmt;
pub mod footprint;
pub mod handoff;
mod ids;
pub mod join;
pub mod kafka_record;
pub mod ops;
pub mod owned;
pub mod parallel;
pub mod partition;
pub mod persist;
mod rate;
pub mod scratch;
pub mod ship;
pub mod sink;
pub mod source;
pub mod split;
pub mod state;
mod stop;
pub mod structured;
#[cfg(test)]
mod test_rng;
mod ui;
mod utf8;
pub mod window;
mod witness;
mod write_back;

use std::time::Duration;

pub use app::{
    App, AppBuilder, BatchInput, BatchOutput, OutputId, SourceId, StopHandle, StreamingHandle, get_or_create,
};
pub use clock::ManualClock;
pub use clock::Trigger;
pub use error::Error;
pub use fmt::{Record, SparkFmt, ToJson};
pub use source::TextBatch;

/// Whether generated code counts the rows of every operator, fused ones too, for the UI's plan
/// graph: only with the `ui` feature, so that apps built without it keep no counter in their
/// per-record loops (`if ROW_COUNTS { n += 1 }` compiles to nothing).
pub const ROW_COUNTS: bool = cfg!(feature = "ui");
#[cfg(feature = "macros")]
pub use streamc_macros::stream;

/// A batch interval of `n` seconds, spelled as in Spark (`Seconds(1)`).
#[allow(non_snake_case)]
#[inline]
pub fn Seconds(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A batch interval of `n` milliseconds, spelled as in Spark (`Milliseconds(500)`).
#[allow(non_snake_case)]
#[inline]
pub fn Milliseconds(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A batch interval of `n` minutes, spelled as in Spark (`Minutes(1)`).
#[allow(non_snake_case)]
#[inline]
pub fn Minutes(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

/// Everything a streamc program usually needs, in one `use`.
pub mod prelude {
    pub use crate::kafka_record::KafkaRecord;
    pub use crate::split::java_split;
    pub use crate::state::State;
    #[cfg(feature = "macros")]
    pub use crate::stream;
    pub use crate::{App, Error, ManualClock, Milliseconds, Minutes, Seconds, StreamingHandle, get_or_create};
}

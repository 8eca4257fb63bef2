//! Sources: where a batch's records come from (a TCP socket, new files in a directory, or replay
//! files), and [`TextBatch`], the form in which text records reach generated code.
//!
//! - `text`: [`TextBatch`], a batch's lines in one buffer, and the bounded line splitting that
//!   fills it;
//! - `limits`: what sources accept (line length, rate, buffered bytes) and what they skipped;
//! - `running`: a source as declared (`SourceKind`) and while it runs (`RunningSource`);
//! - `socket`, `files`, `replay`, `file_stream`, `rate`: one module per kind of source.

mod chunks;
mod file_stream;
mod files;
#[cfg(feature = "kafka")]
pub(crate) mod kafka;
mod kafka_lines;
mod limits;
mod lines;
mod planned;
mod rate;
mod replay;
mod running;
mod share;
mod socket;
#[cfg(test)]
mod tests;
mod text;

pub use chunks::Chunks;
pub(crate) use file_stream::StructuredFileSource;
pub(crate) use files::FileSource;
pub(crate) use kafka_lines::KafkaLines;
pub(crate) use limits::InputLimits;
pub use limits::{DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_LINE_BYTES};
pub use lines::Lines;
pub(crate) use rate::RateSource;
pub(crate) use replay::ReplaySource;
pub(crate) use running::{RunningSource, SourceKind};
pub(crate) use share::Share;
pub(crate) use socket::SocketSource;
pub use text::TextBatch;

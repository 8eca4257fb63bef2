//! What a front end produces: one of the two kinds of pipeline ([`Program`]), each with its own
//! plan type, both carrying the app's [`AppSettings`].

use crate::dstream::plan::Plan;
pub use crate::settings::{AppSettings, Frontend};
use crate::table::TablePlan;

/// A parsed spec: DStreams or Structured Streaming queries, never both.
#[derive(Debug)]
pub enum Program {
    DStream(Plan),
    Table(TablePlan),
}

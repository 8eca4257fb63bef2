//! Spark's own words for what Structured Streaming refuses, shared by every front end (SQL,
//! `steps:` and `stream!`), so that a message is written once.

/// Spark's `UnsupportedOperationChecker` on `ORDER BY` / `sort` of a stream.
pub const SORT: &str = "Sorting is not supported on streaming DataFrames/Datasets, unless it is on aggregated DataFrame/Dataset in Complete output mode";

/// Spark's `UnsupportedOperationChecker` on `LIMIT` of a stream.
pub const LIMIT: &str = "Limits are not supported on streaming DataFrames/Datasets";

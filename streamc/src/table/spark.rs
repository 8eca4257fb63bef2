//! Spark's own words for what Structured Streaming refuses, shared by every front end (SQL,
//! `steps:` and `stream!`), so that a message is written once.

/// Spark's `UnsupportedOperationChecker` on `ORDER BY` / `sort` of a stream.
pub const SORT: &str = "Sorting is not supported on streaming DataFrames/Datasets, unless it is on aggregated DataFrame/Dataset in Complete output mode";

/// Spark's `UnsupportedOperationChecker` on `LIMIT` of a stream.
pub const LIMIT: &str = "Limits are not supported on streaming DataFrames/Datasets";

/// Spark's refusal of a map column (a map at any depth) where it needs to compare whole rows:
/// `dropDuplicates` and `SELECT DISTINCT`, which its analyzer checks as set operations.
pub fn map_in_set_operation(column: &str, ty: super::ColTy) -> String {
    format!(
        "[UNSUPPORTED_FEATURE.SET_OPERATION_ON_MAP_TYPE] The feature is not supported: Cannot have MAP type columns in a set operation (INTERSECT, EXCEPT, etc.), but the type of column `{column}` is \"{}\"",
        ty.spark_sql()
    )
}

//! Per-batch key-value combinators: joins, cogroup, group_by_key.

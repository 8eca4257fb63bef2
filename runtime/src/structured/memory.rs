//! The memory sink's tables (Spark's `format("memory")`, which registers the query's result as
//! an in-memory table named after the query): process-wide, keyed by output name, holding each
//! row as a JSON object. For tests and for programs that read a query's result in-process.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

#[derive(Default)]
struct Table {
    rows: Vec<String>,
    last_batch: Option<u64>,
}

fn tables() -> &'static Mutex<HashMap<String, Table>> {
    static TABLES: OnceLock<Mutex<HashMap<String, Table>>> = OnceLock::new();
    TABLES.get_or_init(Mutex::default)
}

/// Records batch `batch_id`'s rows for table `name`: appended, or replacing the table when
/// `complete`. A batch recorded twice (re-run after a failure) is recorded once.
pub(crate) fn record(name: &str, batch_id: u64, rows: Vec<String>, complete: bool) {
    let mut t = tables().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let table = t.entry(name.to_owned()).or_default();
    if table.last_batch.is_some_and(|b| b >= batch_id) && !complete {
        return;
    }
    if complete {
        table.rows = rows;
    } else {
        table.rows.extend(rows);
    }
    table.last_batch = Some(batch_id);
}

/// The rows of memory table `name` (JSON objects, in arrival order), or `None` if no query
/// wrote it in this process.
pub fn rows(name: &str) -> Option<Vec<String>> {
    let t = tables().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    t.get(name).map(|t| t.rows.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_accumulates_complete_replaces_and_a_rerun_batch_counts_once() {
        record("t-append", 0, vec!["{\"a\":1}".into()], false);
        record("t-append", 1, vec!["{\"a\":2}".into()], false);
        record("t-append", 1, vec!["{\"a\":2}".into()], false);
        assert_eq!(rows("t-append").unwrap(), ["{\"a\":1}", "{\"a\":2}"]);
        record("t-complete", 0, vec!["{\"a\":1}".into()], true);
        record("t-complete", 1, vec!["{\"a\":3}".into()], true);
        assert_eq!(rows("t-complete").unwrap(), ["{\"a\":3}"]);
        assert!(rows("t-none").is_none());
    }
}

//! Spark parses only the columns a query reads from a JSON source (column pruning): a value that
//! does not convert to its column's type makes the record malformed only for a query that reads
//! that column. `tests/data/spark/json_pruning/answers.txt` is what Spark 4.3 did with the same
//! input in each mode; each case here is one line of it.

use std::path::{Path, PathBuf};
use streamc_runtime::prelude::*;
use streamc_runtime::structured::memory;

/// The input, one batch: `{"a":1,"b":"x"}` (`b` is not a BIGINT) and `{"a":2,"b":3}`.
fn input(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/streamc-tests/json_pruning").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/spark/json_pruning/input.json");
    std::fs::copy(data, dir.join("b0.json")).unwrap();
    dir
}

fn rows(table: &str) -> Vec<String> {
    memory::rows(table).unwrap_or_else(|| panic!("no memory table `{table}`"))
}

#[test]
fn drop_malformed_drops_a_record_only_for_the_query_that_reads_the_bad_column() {
    let app = stream! {
        app_name("pruning_drop");
        trigger(AvailableNow);
        let events = read_stream.json("/tmp/streamc-never-created/pruning").schema("a BIGINT, b BIGINT").mode("drop_malformed");
        let drop_a = events.select(["a"]);
        drop_a.write_stream().memory();
        let drop_ab = events.select(["a", "b"]);
        drop_ab.write_stream().memory();
    };
    app.with_replay_all(input("drop")).with_print_writer(std::io::sink()).start().unwrap().await_termination().unwrap();
    // DROPMALFORMED ['a'] [{'a': 1}, {'a': 2}]; DROPMALFORMED ['a', 'b'] [{'a': 2, 'b': 3}]
    assert_eq!(rows("drop_a"), ["{\"a\":1}", "{\"a\":2}"]);
    assert_eq!(rows("drop_ab"), ["{\"a\":2,\"b\":3}"]);
}

#[test]
fn permissive_reads_null_for_the_bad_column_only() {
    let app = stream! {
        app_name("pruning_permissive");
        trigger(AvailableNow);
        let events = read_stream.json("/tmp/streamc-never-created/pruning").schema("a BIGINT, b BIGINT");
        let permissive_a = events.select(["a"]);
        permissive_a.write_stream().memory();
        let permissive_ab = events.select(["a", "b"]);
        permissive_ab.write_stream().memory();
    };
    app.with_replay_all(input("permissive"))
        .with_print_writer(std::io::sink())
        .start()
        .unwrap()
        .await_termination()
        .unwrap();
    // PERMISSIVE ['a'] [{'a': 1}, {'a': 2}]; PERMISSIVE ['a', 'b'] [{'a': 1, 'b': None}, {'a': 2, 'b': 3}]
    assert_eq!(rows("permissive_a"), ["{\"a\":1}", "{\"a\":2}"]);
    assert_eq!(rows("permissive_ab"), ["{\"a\":1,\"b\":null}", "{\"a\":2,\"b\":3}"]);
}

#[test]
fn fail_fast_fails_only_the_query_that_reads_the_bad_column() {
    let app = stream! {
        app_name("pruning_fail_a");
        trigger(AvailableNow);
        let events = read_stream.json("/tmp/streamc-never-created/pruning").schema("a BIGINT, b BIGINT").mode("fail_fast");
        let fail_a = events.select(["a"]);
        fail_a.write_stream().memory();
    };
    app.with_replay_all(input("fail_a"))
        .with_print_writer(std::io::sink())
        .start()
        .unwrap()
        .await_termination()
        .unwrap();
    // FAILFAST ['a'] [{'a': 1}, {'a': 2}]
    assert_eq!(rows("fail_a"), ["{\"a\":1}", "{\"a\":2}"]);
    let app = stream! {
        app_name("pruning_fail_ab");
        trigger(AvailableNow);
        let events = read_stream.json("/tmp/streamc-never-created/pruning").schema("a BIGINT, b BIGINT").mode("fail_fast");
        let fail_ab = events.select(["a", "b"]);
        fail_ab.write_stream().memory();
    };
    // FAILFAST ['a', 'b'] ERROR ... [FAILED_READ_FILE.NO_HINT]
    let run = app
        .with_replay_all(input("fail_ab"))
        .with_print_writer(std::io::sink())
        .start()
        .and_then(|h| h.await_termination());
    let err = run.expect_err("the query that reads `b` fails");
    assert!(err.to_string().contains("b0.json"), "{err}");
}

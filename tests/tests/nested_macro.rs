//! Nested types in `stream!` (issue 12): a DDL schema with array, struct and map columns, field
//! access, subscripts, `size`, `from_json` and `to_json`, read by a `foreach_batch` closure from
//! the typed row struct: arrays are `Vec<Option<T>>`, maps `SqlMap`s, and a struct is a struct
//! generated for its type whose fields are named as the SQL fields (`parsed.x`).

use std::path::Path;
use std::sync::Mutex;
use streamc_runtime::prelude::*;

static ROWS: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[test]
fn nested_columns_in_stream_macro() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/streamc-tests/nested_macro");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("batch-000.json"),
        concat!(
            r#"{"id": 1, "tags": ["a", "b"], "user": {"name": "ann", "age": 31}, "attrs": {"k": 7}, "payload": "{\"x\": [1, 2]}"}"#,
            "\n",
            r#"{"id": 2, "tags": [], "user": null, "payload": "nope"}"#,
            "\n",
        ),
    )
    .unwrap();
    let app = stream! {
        app_name("nested_macro");
        trigger(AvailableNow);
        let events = read_stream.json("/tmp/streamc-never-created/nested").schema("id BIGINT, tags ARRAY<STRING>, user STRUCT<name: STRING, age: BIGINT>, attrs MAP<STRING, BIGINT>, payload STRING");
        let picked = events.select([
            "id",
            "user.name AS name",
            "size(tags) AS n",
            "attrs['k'] AS k",
            "from_json(payload, 'x ARRAY<INT>') AS parsed",
            "to_json(user) AS user_json",
            "tags",
        ]);
        picked.write_stream().output_mode("append").foreach_batch(|_batch_id, rows| {
            for r in rows {
                let xs = r.parsed.as_ref().and_then(|p| p.x.clone());
                ROWS.lock().unwrap().push(format!(
                    "{:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                    r.id, r.name, r.n, r.k, xs, r.user_json, r.tags
                ));
            }
        });
    };
    app.with_replay_all(&dir).with_print_writer(std::io::sink()).start().unwrap().await_termination().unwrap();
    assert_eq!(
        *ROWS.lock().unwrap(),
        [
            r#"Some(1) Some("ann") Some(2) Some(7) Some([Some(1), Some(2)]) Some("{\"name\":\"ann\",\"age\":31}") Some([Some("a"), Some("b")])"#,
            r#"Some(2) None Some(0) None None None Some([])"#,
        ]
    );
}

//! Structured Streaming building blocks, tested through data: the event-time windowed count of
//! spark-oracle/examples/events.json replayed batch by batch against Apache Spark's outputs
//! (examples/expected/ss-window-*.jsonl, copied verbatim below), then each block's edge cases.

use std::borrow::Cow;

use streamc_runtime::fmt::{json_string_of, spark_string};
use streamc_runtime::partition::Partitioned;
use streamc_runtime::persist::Checkpointed;
use streamc_runtime::structured::OutputMode;
use streamc_runtime::structured::agg::StreamingAgg;
use streamc_runtime::structured::json::{Json, JsonError, MAX_DEPTH, parse_fields};
use streamc_runtime::structured::row::{Row, console_table, show_string};
use streamc_runtime::structured::time::{
    MICROS_PER_DAY, MICROS_PER_MINUTE as MIN, Timestamp, civil_from_days, days_from_civil, parse_timestamp,
};
use streamc_runtime::structured::watermark::Watermark;
use streamc_runtime::structured::window::{sliding_windows, tumbling_window};

// ----- the Spark goldens --------------------------------------------------------------------

/// spark-oracle/examples/events.json, one JSON line per event, one slice per batch.
const EVENTS: [&[&str]; 5] = [
    &[
        r#"{"timestamp": "2024-01-01 12:02:00", "word": "cat"}"#,
        r#"{"timestamp": "2024-01-01 12:03:00", "word": "dog"}"#,
        r#"{"timestamp": "2024-01-01 12:07:00", "word": "cat"}"#,
    ],
    &[
        r#"{"timestamp": "2024-01-01 12:11:00", "word": "owl"}"#,
        r#"{"timestamp": "2024-01-01 12:04:00", "word": "dog"}"#,
    ],
    &[r#"{"timestamp": "2024-01-01 12:23:00", "word": "cat"}"#],
    &[
        r#"{"timestamp": "2024-01-01 12:08:00", "word": "dog"}"#,
        r#"{"timestamp": "2024-01-01 12:26:00", "word": "owl"}"#,
    ],
    &[
        r#"{"timestamp": "2024-01-01 12:40:00", "word": "cat"}"#,
        r#"{"timestamp": "2024-01-01 12:05:00", "word": "owl"}"#,
    ],
];

/// examples/expected/ss-window-append.jsonl.
const APPEND: &str = r#"{"batch":0,"rows":[]}
{"batch":1,"rows":[]}
{"batch":2,"rows":[]}
{"batch":3,"rows":[{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"cat","count":1},{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"dog","count":2},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"cat","count":2},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"dog","count":3}]}
{"batch":4,"rows":[{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"cat","count":1},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"dog","count":1},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"owl","count":2}]}
{"batch":5,"rows":[{"window_start":"2024-01-01 12:10:00","window_end":"2024-01-01 12:20:00","word":"owl","count":1},{"window_start":"2024-01-01 12:15:00","window_end":"2024-01-01 12:25:00","word":"cat","count":1},{"window_start":"2024-01-01 12:20:00","window_end":"2024-01-01 12:30:00","word":"cat","count":1},{"window_start":"2024-01-01 12:20:00","window_end":"2024-01-01 12:30:00","word":"owl","count":1}]}
"#;

/// examples/expected/ss-window-update.jsonl.
const UPDATE: &str = r#"{"batch":0,"rows":[{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"cat","count":1},{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"dog","count":1},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"cat","count":2},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"dog","count":1},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"cat","count":1}]}
{"batch":1,"rows":[{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"dog","count":2},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"dog","count":2},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"owl","count":1},{"window_start":"2024-01-01 12:10:00","window_end":"2024-01-01 12:20:00","word":"owl","count":1}]}
{"batch":2,"rows":[{"window_start":"2024-01-01 12:15:00","window_end":"2024-01-01 12:25:00","word":"cat","count":1},{"window_start":"2024-01-01 12:20:00","window_end":"2024-01-01 12:30:00","word":"cat","count":1}]}
{"batch":3,"rows":[{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"dog","count":3},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"dog","count":1},{"window_start":"2024-01-01 12:20:00","window_end":"2024-01-01 12:30:00","word":"owl","count":1},{"window_start":"2024-01-01 12:25:00","window_end":"2024-01-01 12:35:00","word":"owl","count":1}]}
{"batch":4,"rows":[{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"owl","count":2},{"window_start":"2024-01-01 12:35:00","window_end":"2024-01-01 12:45:00","word":"cat","count":1},{"window_start":"2024-01-01 12:40:00","window_end":"2024-01-01 12:50:00","word":"cat","count":1}]}
{"batch":5,"rows":[]}
"#;

/// examples/expected/ss-window-complete.jsonl.
const COMPLETE: &str = r#"{"batch":0,"rows":[{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"cat","count":1},{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"dog","count":1},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"cat","count":2},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"dog","count":1},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"cat","count":1}]}
{"batch":1,"rows":[{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"cat","count":1},{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"dog","count":2},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"cat","count":2},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"dog","count":2},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"cat","count":1},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"owl","count":1},{"window_start":"2024-01-01 12:10:00","window_end":"2024-01-01 12:20:00","word":"owl","count":1}]}
{"batch":2,"rows":[{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"cat","count":1},{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"dog","count":2},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"cat","count":2},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"dog","count":2},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"cat","count":1},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"owl","count":1},{"window_start":"2024-01-01 12:10:00","window_end":"2024-01-01 12:20:00","word":"owl","count":1},{"window_start":"2024-01-01 12:15:00","window_end":"2024-01-01 12:25:00","word":"cat","count":1},{"window_start":"2024-01-01 12:20:00","window_end":"2024-01-01 12:30:00","word":"cat","count":1}]}
{"batch":3,"rows":[{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"cat","count":1},{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"dog","count":2},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"cat","count":2},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"dog","count":3},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"cat","count":1},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"dog","count":1},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"owl","count":1},{"window_start":"2024-01-01 12:10:00","window_end":"2024-01-01 12:20:00","word":"owl","count":1},{"window_start":"2024-01-01 12:15:00","window_end":"2024-01-01 12:25:00","word":"cat","count":1},{"window_start":"2024-01-01 12:20:00","window_end":"2024-01-01 12:30:00","word":"cat","count":1},{"window_start":"2024-01-01 12:20:00","window_end":"2024-01-01 12:30:00","word":"owl","count":1},{"window_start":"2024-01-01 12:25:00","window_end":"2024-01-01 12:35:00","word":"owl","count":1}]}
{"batch":4,"rows":[{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"cat","count":1},{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"dog","count":2},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"cat","count":2},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"dog","count":3},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"owl","count":1},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"cat","count":1},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"dog","count":1},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"owl","count":2},{"window_start":"2024-01-01 12:10:00","window_end":"2024-01-01 12:20:00","word":"owl","count":1},{"window_start":"2024-01-01 12:15:00","window_end":"2024-01-01 12:25:00","word":"cat","count":1},{"window_start":"2024-01-01 12:20:00","window_end":"2024-01-01 12:30:00","word":"cat","count":1},{"window_start":"2024-01-01 12:20:00","window_end":"2024-01-01 12:30:00","word":"owl","count":1},{"window_start":"2024-01-01 12:25:00","window_end":"2024-01-01 12:35:00","word":"owl","count":1},{"window_start":"2024-01-01 12:35:00","window_end":"2024-01-01 12:45:00","word":"cat","count":1},{"window_start":"2024-01-01 12:40:00","window_end":"2024-01-01 12:50:00","word":"cat","count":1}]}
"#;

/// examples/expected/ss-window-append.restart3.meta.jsonl: the append query stopped after
/// batch 2 and restarted from its checkpoint; Spark then ran a no-data batch (3) first.
const APPEND_RESTART3: &str = r#"{"batch":0,"rows":[]}
{"batch":1,"rows":[]}
{"batch":2,"rows":[]}
{"batch":3,"rows":[{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"cat","count":1},{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"dog","count":2},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"cat","count":2},{"window_start":"2024-01-01 12:00:00","window_end":"2024-01-01 12:10:00","word":"dog","count":2}]}
{"batch":4,"rows":[]}
{"batch":5,"rows":[{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"cat","count":1},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"dog","count":1},{"window_start":"2024-01-01 12:05:00","window_end":"2024-01-01 12:15:00","word":"owl","count":2}]}
{"batch":6,"rows":[{"window_start":"2024-01-01 12:10:00","window_end":"2024-01-01 12:20:00","word":"owl","count":1},{"window_start":"2024-01-01 12:15:00","window_end":"2024-01-01 12:25:00","word":"cat","count":1},{"window_start":"2024-01-01 12:20:00","window_end":"2024-01-01 12:30:00","word":"cat","count":1},{"window_start":"2024-01-01 12:20:00","window_end":"2024-01-01 12:30:00","word":"owl","count":1}]}
"#;

/// Per batch `(watermark, dropped_by_watermark, state_rows)` of the `.meta.jsonl` goldens
/// (identical for append and update).
const META: [(&str, usize, usize); 6] = [
    ("1970-01-01 00:00:00", 0, 5),
    ("2024-01-01 11:57:00", 0, 7),
    ("2024-01-01 12:01:00", 0, 9),
    ("2024-01-01 12:13:00", 0, 8),
    ("2024-01-01 12:16:00", 1, 7),
    ("2024-01-01 12:30:00", 0, 3),
];

/// The same for ss-window-append.restart3.meta.jsonl.
const META_RESTART3: [(&str, usize, usize); 7] = [
    ("1970-01-01 00:00:00", 0, 5),
    ("2024-01-01 11:57:00", 0, 7),
    ("2024-01-01 12:01:00", 0, 9),
    ("2024-01-01 12:13:00", 0, 5),
    ("2024-01-01 12:13:00", 1, 8),
    ("2024-01-01 12:16:00", 1, 7),
    ("2024-01-01 12:30:00", 0, 3),
];

const COLUMNS: [&str; 4] = ["window_start", "window_end", "word", "count"];

type Key = (Timestamp, Timestamp, String);

/// The query `events.withWatermark("timestamp", "10 minutes")
/// .groupBy(window("timestamp", "10 minutes", "5 minutes"), "word").count()` in one output mode,
/// built from the blocks as generated code would use them.
struct Query {
    mode: OutputMode,
    wm: Watermark,
    counts: StreamingAgg<Key, i64>,
    batch: u64,
}

/// What one batch produced: its golden line, and its watermark, late drops and state size.
struct BatchResult {
    line: String,
    meta: (String, usize, usize),
}

impl Query {
    fn new(mode: OutputMode) -> Self {
        Query { mode, wm: Watermark::new(10 * MIN), counts: StreamingAgg::new(), batch: 0 }
    }

    fn run_batch(&mut self, lines: &[&str]) -> BatchResult {
        let mut fields = [Json::Missing, Json::Missing];
        let mut dropped = 0;
        for line in lines {
            parse_fields(line, &["timestamp", "word"], &mut fields).unwrap();
            let ts = parse_timestamp(fields[0].as_str().unwrap()).unwrap();
            let word: &str = fields[1].as_str().unwrap();
            self.wm.observe(ts);
            for (start, end) in sliding_windows(ts, 10 * MIN, 5 * MIN, 0) {
                // Complete mode ignores the watermark entirely.
                if self.mode != OutputMode::Complete && self.wm.is_late(end) {
                    dropped += 1;
                    continue;
                }
                self.counts.update((start, end, word), |c| *c += 1, || 0);
            }
        }
        let watermark = spark_string(&self.wm.current());
        let mut rows = self.counts.finish_batch(self.mode, Some(self.wm.current()), |k| k.1);
        rows.sort();
        let mut line = format!("{{\"batch\":{},\"rows\":[", self.batch);
        for (i, ((start, end, word), count)) in rows.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            (start, end, word, count).json_object(&COLUMNS, &mut line);
        }
        line.push_str("]}\n");
        self.wm.end_batch();
        self.batch += 1;
        BatchResult { line, meta: (watermark, dropped, self.counts.len()) }
    }

    /// Saves the query's state and restores it into a fresh query, as a restart does.
    fn restart(self) -> Self {
        let (mut wm_bytes, mut agg_bytes) = (Vec::new(), Vec::new());
        self.wm.save(&mut wm_bytes);
        self.counts.save(&mut agg_bytes);
        let mut q = Query::new(self.mode);
        q.wm.restore(&wm_bytes).unwrap();
        q.counts.restore(&agg_bytes).unwrap();
        q.batch = self.batch;
        q
    }
}

fn check(results: &[BatchResult], golden: &str, meta: &[(&str, usize, usize)]) {
    let got: String = results.iter().map(|r| r.line.as_str()).collect();
    assert_eq!(got, golden);
    let got_meta: Vec<(String, usize, usize)> = results.iter().map(|r| r.meta.clone()).collect();
    let want_meta: Vec<(String, usize, usize)> = meta.iter().map(|&(w, d, s)| (w.to_owned(), d, s)).collect();
    if !meta.is_empty() {
        assert_eq!(got_meta, want_meta);
    }
}

#[test]
fn window_append_matches_spark() {
    let mut q = Query::new(OutputMode::Append);
    let mut results: Vec<BatchResult> = EVENTS.iter().map(|b| q.run_batch(b)).collect();
    // available_now: one trailing no-data batch that only advances the watermark.
    results.push(q.run_batch(&[]));
    check(&results, APPEND, &META);
}

#[test]
fn window_update_matches_spark() {
    let mut q = Query::new(OutputMode::Update);
    let mut results: Vec<BatchResult> = EVENTS.iter().map(|b| q.run_batch(b)).collect();
    results.push(q.run_batch(&[]));
    check(&results, UPDATE, &META);
}

#[test]
fn window_complete_matches_spark() {
    // No trailing batch in complete mode; the table only grows.
    let mut q = Query::new(OutputMode::Complete);
    let results: Vec<BatchResult> = EVENTS.iter().map(|b| q.run_batch(b)).collect();
    check(&results, COMPLETE, &[]);
    assert_eq!(q.counts.len(), 15);
}

#[test]
fn window_append_restarted_from_a_checkpoint_matches_spark() {
    let mut q = Query::new(OutputMode::Append);
    let mut results: Vec<BatchResult> = EVENTS[..3].iter().map(|b| q.run_batch(b)).collect();
    let mut q = q.restart();
    results.push(q.run_batch(&[])); // the no-data batch Spark runs after the restart
    results.extend(EVENTS[3..].iter().map(|b| q.run_batch(b)));
    results.push(q.run_batch(&[]));
    check(&results, APPEND_RESTART3, &META_RESTART3);
}

/// Dropping late input against the *current* watermark instead of the previous batch's would
/// lose `dog` at 12:08 from [12:00, 12:10) in batch 3; the goldens above pin the difference,
/// and this shows where it comes from.
#[test]
fn late_input_is_judged_by_the_previous_batch_watermark() {
    let mut q = Query::new(OutputMode::Update);
    for b in &EVENTS[..3] {
        q.run_batch(b);
    }
    assert_eq!(spark_string(&q.wm.current()), "2024-01-01 12:13:00");
    assert_eq!(spark_string(&q.wm.for_late_events()), "2024-01-01 12:01:00");
    let end = parse_timestamp("2024-01-01 12:10:00").unwrap();
    assert!(!q.wm.is_late(end));
    assert!(end <= q.wm.current());
}

// ----- json ---------------------------------------------------------------------------------

fn fields<'a>(line: &'a str, names: &[&str]) -> Result<Vec<Json<'a>>, JsonError> {
    let mut out = vec![Json::Null; names.len()];
    parse_fields(line, names, &mut out)?;
    Ok(out)
}

#[test]
fn json_values_and_borrowing() {
    let line = r#" { "s": "plain", "e": "a\"b\\c\/d\n\t\u00e9\ud83d\ude00", "u": "é→😀", "i": -42, "z": -0, "f": 1.5e3,
        "big": 12345678901234567890, "t": true, "n": null, "o": {"x": [1, {"y": "}]"}], "z": {}}, "a": [[], [[]], "]"],
        "b": false } "#;
    let got = fields(line, &["s", "e", "u", "i", "z", "f", "big", "t", "n", "o", "a", "b", "missing"]).unwrap();
    assert!(matches!(&got[0], Json::Str(Cow::Borrowed("plain"))));
    assert!(matches!(&got[1], Json::Str(Cow::Owned(s)) if s == "a\"b\\c/d\n\té😀"));
    assert!(matches!(&got[2], Json::Str(Cow::Borrowed("é→😀"))));
    assert_eq!(got[3], Json::Int(-42));
    assert_eq!(got[4], Json::Int(0));
    assert_eq!(got[5], Json::Float(1500.0, Some("1.5e3")));
    assert_eq!(got[6], Json::Float(12345678901234567890.0, Some("12345678901234567890")));
    assert_eq!(got[7], Json::Bool(true));
    assert_eq!(got[8], Json::Null);
    assert_eq!(got[9], Json::Raw(r#"{"x": [1, {"y": "}]"}], "z": {}}"#));
    assert_eq!(got[10], Json::Raw(r#"[[], [[]], "]"]"#));
    assert_eq!(got[11], Json::Bool(false));
    assert_eq!(got[12], Json::Missing);
    assert!(got[8].is_null() && got[12].is_null());
    assert_eq!(got[3].as_f64(), Some(-42.0));

    // An escaped key matches its decoded name; the last duplicate wins; i64 limits are ints.
    let got = fields(
        r#"{"w\u006frd": 1, "word": 2, "m": -9223372036854775808, "x": 9223372036854775807}"#,
        &["word", "m", "x"],
    )
    .unwrap();
    assert_eq!(got, [Json::Int(2), Json::Int(i64::MIN), Json::Int(i64::MAX)]);
    assert_eq!(fields("{}", &["a"]).unwrap(), [Json::Missing]);
    assert_eq!(fields("{\"a\":\"\"}", &["a"]).unwrap()[0].as_str(), Some(""));
    // Every slot is reset, even with no names matched.
    let mut out = [Json::Int(7)];
    parse_fields(r#"{"b": 1}"#, &["a"], &mut out).unwrap();
    assert_eq!(out[0], Json::Missing);
}

#[test]
fn malformed_json_is_an_error_at_the_right_offset() {
    let cases: &[(&str, usize)] = &[
        ("", 0),
        ("   ", 3),
        ("[]", 0),
        (r#"{"a" 1}"#, 5),
        (r#"{"a":}"#, 5),
        (r#"{"a":1,}"#, 7),
        (r#"{"a":1"#, 6),
        (r#"{"a":1 "b":2}"#, 7),
        (r#"{"a":"x"#, 7),
        (r#"{"a":tru}"#, 5),
        (r#"{"a":nul"#, 5),
        (r#"{"a":01}"#, 6),
        (r#"{"a":-}"#, 6),
        (r#"{"a":1.}"#, 7),
        (r#"{"a":1e}"#, 7),
        (r#"{"a":1} x"#, 8),
        (r#"{"a":1}}"#, 7),
        (r#"{"a":"\q"}"#, 7),
        (r#"{"a":"\u12"}"#, 10),
        (r#"{"a":"\ud800"}"#, 6),
        (r#"{"a":"\udc00"}"#, 6),
        (r#"{"a":"\ud800\u0041"}"#, 6),
        ("{\"a\":\"x\ny\"}", 7),
        (r#"{1:2}"#, 1),
        (r#"{"a":[1,]}"#, 8),
        (r#"{"a":[1 2]}"#, 8),
        (r#"{"a":{"b"}}"#, 9),
        (r#"{"skip":"\x", "a":1}"#, 10),
        (r#"{"skip":[1,}, "a":1}"#, 11),
        (r#"{"a":'x'}"#, 5),
    ];
    for &(line, offset) in cases {
        let e = parse_fields(line, &["a"], &mut [Json::Missing]).expect_err(line);
        assert_eq!(e.offset, offset, "{line}: {e}");
        assert!(e.to_string().starts_with("malformed JSON at byte "), "{e}");
    }
    // Deep nesting is an error, not a stack overflow.
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    assert!(parse_fields(&deep, &["b"], &mut [Json::Missing]).is_err());
    let ok = format!("{{\"a\":{}{}}}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert_eq!(fields(&ok, &["a"]).unwrap(), [Json::Raw(&ok[5..ok.len() - 1])]);
}

#[test]
fn json_never_panics_on_damaged_lines() {
    let base =
        r#"{"timestamp": "2024-01-01 12:02:00", "w\"ord": "c\u00e9t", "n": [1, -2.5e-3, {"x": null}], "b": true}"#;
    let alphabet = b"{}[]\",:\\u0e-+. tfnx";
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let mut bytes = base.as_bytes().to_vec();
        for _ in 0..1 + next() % 3 {
            if bytes.is_empty() {
                break;
            }
            let i = (next() % bytes.len() as u64) as usize;
            match next() % 3 {
                0 => bytes[i] = alphabet[(next() % alphabet.len() as u64) as usize],
                1 => {
                    bytes.remove(i);
                }
                _ => bytes.truncate(i),
            }
        }
        let Ok(line) = std::str::from_utf8(&bytes) else { continue };
        let mut out = [Json::Missing, Json::Missing, Json::Missing];
        if let Err(e) = parse_fields(line, &["timestamp", "w\"ord", "n"], &mut out) {
            assert!(e.offset <= line.len());
        }
    }
}

// ----- time ---------------------------------------------------------------------------------

fn ts(s: &str) -> Timestamp {
    parse_timestamp(s).unwrap_or_else(|| panic!("`{s}` must parse"))
}

#[test]
fn timestamps_parse_spark_forms() {
    let noon = Timestamp(1_704_110_520_000_000); // 2024-01-01 12:02:00 UTC
    for s in [
        "2024-01-01 12:02:00",
        "2024-01-01T12:02:00",
        "2024-01-01 12:02",
        "2024-1-1 12:2:0",
        "2024-01-01 12:02:00Z",
        "2024-01-01T12:02:00.000000Z",
        "2024-01-01T13:02:00+01:00",
        "2024-01-01T13:02:00+0100",
        "2024-01-01T13:02:00+01",
        "2024-01-01 06:32:00 -05:30",
        "2024-01-01 12:02:00 UTC",
        " 2024-01-01 12:02:00 ",
    ] {
        assert_eq!(ts(s), noon, "{s}");
    }
    assert_eq!(ts("2024-01-01"), Timestamp(noon.0 - (12 * 60 + 2) * MIN));
    assert_eq!(ts("2024-01-01 12:02:00.5").0 - noon.0, 500_000);
    assert_eq!(ts("2024-01-01 12:02:00.000123").0 - noon.0, 123);
    assert_eq!(ts("2024-01-01 12:02:00.123456789").0 - noon.0, 123_456);
    assert_eq!(ts("1970-01-01 00:00:00"), Timestamp::EPOCH);
    assert_eq!(ts("1969-12-31 23:59:59.999999"), Timestamp(-1));
    assert_eq!(ts("1900-03-01 00:00:00"), Timestamp(days_from_civil(1900, 3, 1) * MICROS_PER_DAY));
    for bad in [
        "",
        "24-01-01 00:00:00",
        "2024-13-01 00:00:00",
        "2024-00-10 00:00:00",
        "2024-01-32 00:00:00",
        "2023-02-29 00:00:00",
        "1900-02-29 00:00:00",
        "2024-01-01 24:00:00",
        "2024-01-01 12:60:00",
        "2024-01-01 12:00:60",
        "2024-01-01 12:00:00+25:00",
        "2024-01-01 12:00:00+01:0",
        "2024-01-01 12:00:00 PST",
        "2024-01-01x12:00:00",
        "2024-01-01 12:00:00 junk",
    ] {
        assert_eq!(parse_timestamp(bad), None, "{bad}");
    }
    // The year alone, the year and month, the hour alone and a dot without digits, as Spark's
    // cast and JSON reader take them (Spark 4.3).
    assert_eq!(parse_timestamp("2024"), parse_timestamp("2024-01-01 00:00:00"));
    assert_eq!(parse_timestamp("2024-3"), parse_timestamp("2024-03-01 00:00:00"));
    assert_eq!(parse_timestamp("2024-13"), None);
    assert_eq!(parse_timestamp("2024-01-01 12:00:00."), parse_timestamp("2024-01-01 12:00:00"));
    assert_eq!(parse_timestamp("2024-01-01 12"), parse_timestamp("2024-01-01 12:00:00"));
    assert_eq!(parse_timestamp("2024-01-01T12"), parse_timestamp("2024-01-01 12:00:00"));
    assert!(parse_timestamp("2024-02-29 00:00:00").is_some());
    assert!(parse_timestamp("2000-02-29 00:00:00").is_some());
}

#[test]
fn timestamps_print_as_spark_console() {
    let cases = [
        ("2024-01-01 12:02:00", "2024-01-01 12:02:00"),
        ("2024-01-01 12:02:00.5", "2024-01-01 12:02:00.5"),
        ("2024-01-01 12:02:00.120", "2024-01-01 12:02:00.12"),
        ("2024-01-01 12:02:00.000001", "2024-01-01 12:02:00.000001"),
        ("2024-02-29 23:59:59.999", "2024-02-29 23:59:59.999"),
        ("1969-12-31 23:59:59.999999", "1969-12-31 23:59:59.999999"),
        ("0001-01-01 00:00:00", "0001-01-01 00:00:00"),
        ("9999-12-31 23:59:59", "9999-12-31 23:59:59"),
    ];
    for (input, printed) in cases {
        assert_eq!(spark_string(&ts(input)), printed);
    }
    assert_eq!(spark_string(&Timestamp(-1)), "1969-12-31 23:59:59.999999");
    assert_eq!(spark_string(&Timestamp(-MICROS_PER_DAY)), "1969-12-31 00:00:00");
    assert_eq!(spark_string(&Timestamp::from_millis(1500)), "1970-01-01 00:00:01.5");
    assert_eq!(json_string_of(&ts("2024-01-01 12:02:00")), r#""2024-01-01 12:02:00""#);
    // The extremes print without panicking.
    assert!(spark_string(&Timestamp(i64::MIN)).starts_with('-'));
    assert!(!spark_string(&Timestamp(i64::MAX)).is_empty());
    assert_eq!(Timestamp::from_millis(-1).as_millis(), -1);
    assert_eq!(Timestamp(-1).as_millis(), -1);
}

#[test]
fn civil_date_math_round_trips_day_by_day() {
    // Every day from 1599-12-01 to 2500-03-01: consecutive day counts are consecutive dates.
    let mut days = days_from_civil(1599, 12, 1);
    let mut date = (1599, 12, 1);
    while date != (2500, 3, 1) {
        assert_eq!(civil_from_days(days), date);
        assert_eq!(days_from_civil(date.0, date.1, date.2), days);
        let dim = streamc_runtime::structured::time::days_in_month(date.0, date.1);
        date = if date.2 < dim {
            (date.0, date.1, date.2 + 1)
        } else if date.1 < 12 {
            (date.0, date.1 + 1, 1)
        } else {
            (date.0 + 1, 1, 1)
        };
        days += 1;
    }
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(days_from_civil(1969, 12, 31), -1);
    assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    assert_eq!(days_from_civil(2024, 1, 1), 19_723);
    // Printing and parsing agree on random instants across five centuries.
    let mut seed = 7u64;
    for _ in 0..10_000 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let t = Timestamp((seed >> 1) as i64 % (250 * 365 * MICROS_PER_DAY));
        assert_eq!(parse_timestamp(&spark_string(&t)), Some(t), "{t:?}");
        assert_eq!(parse_timestamp(&spark_string(&Timestamp(-t.0))), Some(Timestamp(-t.0)));
    }
}

// ----- windows ------------------------------------------------------------------------------

fn windows(t: &str, len: i64, slide: i64) -> Vec<String> {
    sliding_windows(ts(t), len, slide, 0)
        .map(|(s, e)| format!("[{}, {})", &spark_string(&s)[11..16], &spark_string(&e)[11..16]))
        .collect()
}

#[test]
fn sliding_windows_are_epoch_aligned_and_end_exclusive() {
    assert_eq!(windows("2024-01-01 12:02:00", 10 * MIN, 5 * MIN), ["[11:55, 12:05)", "[12:00, 12:10)"]);
    assert_eq!(windows("2024-01-01 12:05:00", 10 * MIN, 5 * MIN), ["[12:00, 12:10)", "[12:05, 12:15)"]);
    assert_eq!(windows("2024-01-01 12:04:59.999999", 10 * MIN, 5 * MIN), ["[11:55, 12:05)", "[12:00, 12:10)"]);
    assert_eq!(windows("2024-01-01 12:05:00", 10 * MIN, 10 * MIN), ["[12:00, 12:10)"]);
    assert_eq!(windows("2024-01-01 12:10:00", 10 * MIN, 10 * MIN), ["[12:10, 12:20)"]);
    assert_eq!(
        windows("2024-01-01 12:07:00", 15 * MIN, 5 * MIN),
        ["[11:55, 12:10)", "[12:00, 12:15)", "[12:05, 12:20)"]
    );
    assert_eq!(
        tumbling_window(ts("2024-01-01 12:07:00"), 10 * MIN, 0),
        (ts("2024-01-01 12:00:00"), ts("2024-01-01 12:10:00"))
    );
    assert_eq!(
        tumbling_window(ts("2024-01-01 12:07:00"), 10 * MIN, 3 * MIN),
        (ts("2024-01-01 12:03:00"), ts("2024-01-01 12:13:00"))
    );
    // Before 1970 the alignment is the same.
    let w: Vec<_> = sliding_windows(Timestamp(-1), 10, 5, 0).collect();
    assert_eq!(w, [(Timestamp(-10), Timestamp(0)), (Timestamp(-5), Timestamp(5))]);
    assert_eq!(sliding_windows(Timestamp(-5), 10, 5, 0).len(), 2);
}

#[test]
fn sliding_windows_equal_brute_force() {
    let mut seed = 11u64;
    let mut next = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as i64
    };
    for _ in 0..5000 {
        let slide = 1 + next() % 7;
        let len = slide + next() % 20;
        let start = next() % 15 - 7;
        let t = next() % 200 - 100;
        let got: Vec<(Timestamp, Timestamp)> = sliding_windows(Timestamp(t), len, slide, start).collect();
        let want: Vec<(Timestamp, Timestamp)> = (-400..400)
            .map(|k| start + k * slide)
            .filter(|&s| s <= t && t < s + len)
            .map(|s| (Timestamp(s), Timestamp(s + len)))
            .collect();
        assert_eq!(got, want, "t={t} len={len} slide={slide} start={start}");
    }
}

// ----- watermark ----------------------------------------------------------------------------

#[test]
fn watermark_moves_forward_only_and_survives_a_checkpoint() {
    let mut wm = Watermark::new(10);
    assert_eq!((wm.current(), wm.for_late_events()), (Timestamp::EPOCH, Timestamp::EPOCH));
    wm.observe(Timestamp(100));
    wm.observe(Timestamp(50));
    assert_eq!(wm.current(), Timestamp::EPOCH, "the watermark of a batch is fixed when it starts");
    assert!(wm.end_batch());
    assert_eq!((wm.current(), wm.for_late_events()), (Timestamp(90), Timestamp::EPOCH));
    wm.observe(Timestamp(60)); // older data does not move it back
    assert!(!wm.end_batch());
    assert_eq!((wm.current(), wm.for_late_events()), (Timestamp(90), Timestamp(90)));
    assert!(!wm.end_batch()); // an empty batch
    assert!(wm.is_late(Timestamp(90)) && !wm.is_late(Timestamp(91)));

    wm.observe(Timestamp(200));
    assert!(wm.end_batch());
    let mut bytes = Vec::new();
    wm.save(&mut bytes);
    let mut restored = Watermark::new(10);
    restored.restore(&bytes).unwrap();
    assert_eq!(restored, wm);
    assert_eq!((restored.current(), restored.for_late_events()), (Timestamp(190), Timestamp(90)));
    for cut in 0..bytes.len() {
        assert!(restored.restore(&bytes[..cut]).is_err());
    }
    // A late watermark after the current one cannot come from a real run.
    let mut swapped = bytes[8..].to_vec();
    swapped.extend_from_slice(&bytes[..8]);
    assert!(Watermark::new(10).restore(&swapped).is_err());
}

// ----- streaming aggregation ----------------------------------------------------------------

#[test]
fn agg_modes_and_counters() {
    let mut agg: StreamingAgg<(i64, String), i64> = StreamingAgg::new();
    let end = |k: &(i64, String)| Timestamp(k.0);
    for (t, w) in [(10i64, "a"), (20, "b"), (10, "a"), (30, "c")] {
        agg.update((t, w), |c| *c += 1, || 0);
    }
    assert_eq!((agg.len(), agg.updated_count()), (3, 3));
    assert_eq!(agg.get((10i64, "a")), Some(&2));
    // Update without a watermark: the updated rows, nothing evicted.
    let rows = agg.finish_batch(OutputMode::Update, None, end);
    assert_eq!(rows.len(), 3);
    assert_eq!((agg.len(), agg.updated_count()), (3, 0));
    // Only rows touched in this batch, in state order; eviction after emitting.
    agg.update((30i64, "c"), |c| *c += 1, || 0);
    agg.update((10i64, "a"), |c| *c += 1, || 0);
    let rows = agg.finish_batch(OutputMode::Update, Some(Timestamp(10)), end);
    assert_eq!(rows, [((10, "a".to_owned()), 3), ((30, "c".to_owned()), 2)]);
    assert_eq!(agg.len(), 2);
    // Complete ignores the watermark.
    let rows = agg.finish_batch(OutputMode::Complete, Some(Timestamp(1000)), end);
    assert_eq!(rows, [((20, "b".to_owned()), 1), ((30, "c".to_owned()), 2)]);
    assert_eq!(agg.len(), 2);
    // Append: nothing final without a watermark, then the final rows once.
    assert!(agg.finish_batch(OutputMode::Append, None, end).is_empty());
    assert_eq!(agg.finish_batch(OutputMode::Append, Some(Timestamp(20)), end), [((20, "b".to_owned()), 1)]);
    assert!(agg.finish_batch(OutputMode::Append, Some(Timestamp(20)), end).is_empty());
    // A key evicted and seen again starts over, at the end of the state order.
    agg.update((20i64, "b"), |c| *c += 1, || 100);
    agg.update((5i64, "z"), |c| *c += 1, || 0);
    let keys: Vec<_> = agg.iter().map(|(k, v)| (k.0, *v)).collect();
    assert_eq!(keys, [(30, 2), (20, 101), (5, 1)]);
    assert_eq!(OutputMode::from_spark("Update"), Some(OutputMode::Update));
    assert_eq!(OutputMode::from_spark("append"), Some(OutputMode::Append));
    assert_eq!(OutputMode::from_spark("COMPLETE"), Some(OutputMode::Complete));
    assert_eq!(OutputMode::from_spark("upsert"), None);
}

#[test]
fn agg_checkpoint_round_trip() {
    let mut agg: StreamingAgg<Key, i64> = StreamingAgg::new();
    for b in &EVENTS {
        for line in *b {
            let mut f = [Json::Missing, Json::Missing];
            parse_fields(line, &["timestamp", "word"], &mut f).unwrap();
            let t = ts(f[0].as_str().unwrap());
            for (s, e) in sliding_windows(t, 10 * MIN, 5 * MIN, 0) {
                agg.update((s, e, f[1].as_str().unwrap()), |c| *c += 1, || 0);
            }
        }
    }
    agg.finish_batch(OutputMode::Update, Some(ts("2024-01-01 12:10:00")), |k| k.1);
    let mut bytes = Vec::new();
    agg.save(&mut bytes);
    let mut back: StreamingAgg<Key, i64> = StreamingAgg::new();
    back.restore(&bytes).unwrap();
    let a: Vec<_> = agg.iter().collect();
    let b: Vec<_> = back.iter().collect();
    assert_eq!(a, b);
    assert_eq!(back.updated_count(), 0);
    // The restored index finds every key, and new keys go after the restored ones.
    for (k, v) in agg.iter() {
        assert_eq!(back.get((k.0, k.1, k.2.as_str())), Some(v));
    }
    back.update((Timestamp(0), Timestamp(1), "new"), |c| *c += 1, || 0);
    assert_eq!(back.iter().last().unwrap().0.2, "new");
    assert_eq!(
        back.finish_batch(OutputMode::Update, None, |k| k.1),
        [((Timestamp(0), Timestamp(1), "new".to_owned()), 1)]
    );
    // Truncations and duplicated keys are errors, not panics.
    for cut in 0..bytes.len() {
        assert!(StreamingAgg::<Key, i64>::new().restore(&bytes[..cut]).is_err());
    }
    // A key twice: in a snapshot of the first format (count 2, then key 1 and 5 twice, as `u64`s),
    // and in two compact snapshots put together.
    let words: Vec<u64> = vec![2, 1, 5, 1, 5];
    let dup: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let e = StreamingAgg::<i64, i64>::new().restore(&dup).unwrap_err();
    assert!(e.to_string().contains("twice"), "{e}");
    let mut one: StreamingAgg<i64, i64> = StreamingAgg::new();
    one.update(1i64, |_| {}, || 5);
    let mut piece = Vec::new();
    one.save(&mut piece);
    let dup = <StreamingAgg<i64, i64> as Partitioned>::concat_snapshots(&[&piece, &piece]).unwrap();
    let e = StreamingAgg::<i64, i64>::new().restore(&dup).unwrap_err();
    assert!(e.to_string().contains("twice"), "{e}");
}

// ----- rows and the console sink ------------------------------------------------------------

type WindowRow = (Timestamp, Timestamp, &'static str, i64);

fn window_row(start: &str, end: &str, word: &'static str, count: i64) -> WindowRow {
    (ts(start), ts(end), word, count)
}

#[test]
fn console_table_as_spark_prints_it() {
    let rows = [window_row("2024-01-01 11:55:00", "2024-01-01 12:05:00", "cat", 1)];
    let mut out = String::new();
    console_table(3, &COLUMNS, &rows, 20, false, &mut out);
    assert_eq!(
        out,
        "-------------------------------------------
Batch: 3
-------------------------------------------
+-------------------+-------------------+----+-----+
|window_start       |window_end         |word|count|
+-------------------+-------------------+----+-----+
|2024-01-01 11:55:00|2024-01-01 12:05:00|cat |1    |
+-------------------+-------------------+----+-----+

"
    );
    // The console sink's default, truncate = true: right-aligned.
    let mut out = String::new();
    console_table(3, &COLUMNS, &rows, 20, true, &mut out);
    assert!(out.ends_with(
        "+-------------------+-------------------+----+-----+
|       window_start|         window_end|word|count|
+-------------------+-------------------+----+-----+
|2024-01-01 11:55:00|2024-01-01 12:05:00| cat|    1|
+-------------------+-------------------+----+-----+

"
    ));
}

#[test]
fn console_table_empty_short_names_truncation_and_limit() {
    let mut out = String::new();
    console_table::<(&str, i64)>(0, &["word", "count"], &[], 20, true, &mut out);
    assert_eq!(
        out,
        "-------------------------------------------\nBatch: 0\n-------------------------------------------\n\
         +----+-----+\n|word|count|\n+----+-----+\n+----+-----+\n\n"
    );

    // Columns are at least 3 wide; long cells are cut to 17 + "..." (names never are); with
    // truncate they are right-aligned; control characters are escaped; a limit adds a footer.
    let rows = [("a long string of 24 chrs", Some(1.5f64)), ("x\ty", None), ("z", Some(1e7))];
    let mut out = String::new();
    show_string(&["s", "v"], &rows, 2, true, &mut out);
    assert_eq!(
        out,
        "+--------------------+----+\n\
         |                   s|   v|\n\
         +--------------------+----+\n\
         |a long string o...| 1.5|\n\
         |                x\\ty|NULL|\n\
         +--------------------+----+\n\
         only showing top 2 rows\n"
            .replace("|a long string o...|", "|a long string of ...|")
    );
    let mut out = String::new();
    show_string(&["s", "v"], &rows, 1, false, &mut out);
    assert_eq!(
        out,
        "+------------------------+---+\n\
         |s                       |v  |\n\
         +------------------------+---+\n\
         |a long string of 24 chrs|1.5|\n\
         +------------------------+---+\n\
         only showing top 1 row\n"
    );
    // Full-width characters count twice, as in Spark's `stringHalfWidth`.
    let mut out = String::new();
    show_string(&["w"], &[("日本",)], 20, false, &mut out);
    assert_eq!(out, "+----+\n|w   |\n+----+\n|日本|\n+----+\n");
    // The last row that is shown and the one that is not.
    let mut out = String::new();
    show_string(&["n"], &[(1i32,), (2,)], 2, true, &mut out);
    assert!(!out.contains("only showing"));
}

#[test]
fn rows_as_json_objects() {
    let mut out = String::new();
    window_row("2024-01-01 11:55:00", "2024-01-01 12:05:00", "c\"t", 1).json_object(&COLUMNS, &mut out);
    assert_eq!(
        out,
        r#"{"window_start":"2024-01-01 11:55:00","window_end":"2024-01-01 12:05:00","word":"c\"t","count":1}"#
    );
    let mut out = String::new();
    (1u8, None::<&str>, Some(true), 2.5f32, 'x', String::from("é"))
        .json_object(&["a", "b", "c", "d", "e", "f"], &mut out);
    assert_eq!(out, r#"{"a":1,"b":null,"c":true,"d":2.5,"e":"x","f":"é"}"#);
    assert_eq!(<(i64,) as Row>::COLUMNS, 1);
    assert_eq!(<WindowRow as Row>::COLUMNS, 4);
    let mut cells = Vec::new();
    window_row("2024-01-01 11:55:00.25", "2024-01-01 12:05:00", "cat", 1).cells(&mut cells);
    assert_eq!(cells, ["2024-01-01 11:55:00.25", "2024-01-01 12:05:00", "cat", "1"]);
}

//! Structured Streaming apps through the public API, with handlers written as generated code
//! writes them: the file source (old files read, each file once, file and line of a record),
//! the triggers (`AvailableNow` with its trailing no-data batch, `Once`, `ProcessingTime`
//! skipping empty ticks), the console and exactly-once JSON file sinks, progress lines, and
//! restarts from a checkpoint (batch ids continue, no file is read twice, a re-run batch reads
//! the same files and is not written twice).

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use common::{Captured, TempDir, wait_for};
use streamc_runtime::structured::json::{Json, parse_fields};
use streamc_runtime::{App, AppBuilder, BatchInput, BatchOutput, Error, ManualClock, Milliseconds, Trigger};

/// Writes `text` as `dir/name` with modification time `mtime_s` seconds after the epoch, so the
/// source's (modification time, name) order is under the test's control.
fn write_file(dir: &Path, name: &str, text: &str, mtime_s: u64) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let f = File::options().write(true).open(&path).unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(mtime_s)).unwrap();
}

/// What the handler saw of one batch: its id, time and lines.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    id: u64,
    time: i64,
    lines: Vec<String>,
}

type Log = Arc<Mutex<Vec<Seen>>>;
type Handler = Box<dyn FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send>;

/// When the handler asks for a no-data batch.
#[derive(Clone, Copy)]
enum NoData {
    Never,
    /// After every batch with input.
    AfterInput,
    /// After every batch with input, and after the first no-data batch too.
    Twice,
}

/// An app over one file stream `events` in `input` (at most `max` files a batch) that records
/// what it sees, emits `(word, count)` rows per batch to a console output (into `print`) and,
/// with `sink`, to a JSON file sink, tagging each row's count with `tag * 1000`.
fn word_app(
    input: &Path,
    max: Option<usize>,
    trigger: Trigger,
    no_data: NoData,
    sink: Option<&Path>,
    tag: i64,
    log: &Log,
) -> App<Handler> {
    let mut b = AppBuilder::new("words", Milliseconds(1000));
    b.trigger(trigger);
    let src = b.file_stream("events", input, max);
    let console = b.console("counts", &["word", "count"], 20, true);
    let files = sink.map(|dir| b.json_files("counts", &["word", "count"], dir));
    let log = Arc::clone(log);
    let handler: Handler = Box::new(move |input: &BatchInput, output: &mut BatchOutput| {
        let text = input.text(src);
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        for l in &lines {
            *counts.entry(l.clone()).or_default() += 1;
        }
        let rows: Vec<(String, i64)> = counts.into_iter().map(|(w, c)| (w, c + tag * 1000)).collect();
        output.emit_rows(console, &rows)?;
        if let Some(f) = files {
            output.emit_rows(f, &rows)?;
        }
        let seen_no_data = log.lock().unwrap().iter().filter(|s| s.lines.is_empty()).count();
        let request = match no_data {
            NoData::Never => false,
            NoData::AfterInput => !lines.is_empty(),
            NoData::Twice => !lines.is_empty() || seen_no_data == 0,
        };
        if request {
            output.request_no_data_batch();
        }
        log.lock().unwrap().push(Seen { id: input.batch_id(), time: input.time_ms(), lines });
        Ok(())
    });
    b.build(handler).with_manual_clock(ManualClock::new(0)).with_print_writer(Captured::default())
}

/// Three files whose (modification time, name) order is `b`, `a`, `c`.
fn three_files(dir: &TempDir) -> PathBuf {
    let input = dir.join("in");
    std::fs::create_dir(&input).unwrap();
    write_file(&input, "a.txt", "cat\ndog\n", 200);
    write_file(&input, "b.txt", "cat\n", 100);
    write_file(&input, "c.txt", "owl\nowl\nowl", 300);
    // Hidden and underscore files are never read.
    write_file(&input, ".c.txt.tmp", "partial\n", 50);
    write_file(&input, "_SUCCESS", "", 50);
    input
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn seen(log: &Log) -> Vec<Seen> {
    log.lock().unwrap().clone()
}

#[test]
fn available_now_reads_the_files_present_at_start_one_batch_per_file() {
    let dir = TempDir::new("ss-available-now");
    let input = three_files(&dir);
    let log = Log::default();
    word_app(&input, Some(1), Trigger::AvailableNow, NoData::Never, None, 0, &log)
        .start()
        .unwrap()
        .await_termination()
        .unwrap();
    let got = seen(&log);
    let ids: Vec<u64> = got.iter().map(|s| s.id).collect();
    assert_eq!(ids, [0, 1, 2]);
    assert_eq!(got[0].lines, strings(&["cat"]));
    assert_eq!(got[1].lines, strings(&["cat", "dog"]));
    assert_eq!(got[2].lines, strings(&["owl", "owl", "owl"]));
    // Back to back, one interval apart, without waiting for the (manual, never advanced) clock.
    assert_eq!(got.iter().map(|s| s.time).collect::<Vec<_>>(), [1000, 2000, 3000]);
}

#[test]
fn available_now_runs_a_trailing_no_data_batch_only_when_requested() {
    let dir = TempDir::new("ss-no-data");
    let input = three_files(&dir);
    let log = Log::default();
    word_app(&input, Some(2), Trigger::AvailableNow, NoData::AfterInput, None, 0, &log)
        .start()
        .unwrap()
        .await_termination()
        .unwrap();
    let got = seen(&log);
    assert_eq!(got.iter().map(|s| s.id).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(got[0].lines, strings(&["cat", "cat", "dog"]));
    assert_eq!(got[1].lines, strings(&["owl", "owl", "owl"]));
    assert!(got[2].lines.is_empty());

    // A no-data batch that asks for another gets it; the one after it does not ask.
    let log = Log::default();
    word_app(&input, Some(1), Trigger::AvailableNow, NoData::Twice, None, 0, &log)
        .start()
        .unwrap()
        .await_termination()
        .unwrap();
    let got = seen(&log);
    assert_eq!(got.iter().map(|s| s.id).collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
    assert!(got[3].lines.is_empty() && got[4].lines.is_empty());
}

#[test]
fn available_now_does_not_read_files_that_appear_after_the_start() {
    let dir = TempDir::new("ss-available-now-late");
    let input = three_files(&dir);
    let log = Log::default();
    let late_dir = input.clone();
    let mut b = AppBuilder::new("late", Milliseconds(1000));
    b.trigger(Trigger::AvailableNow);
    let src = b.file_stream("events", &input, Some(1));
    let log2 = Arc::clone(&log);
    let app = b.build(move |input: &BatchInput, _: &mut BatchOutput| -> Result<(), Error> {
        if input.batch_id() == 0 {
            write_file(&late_dir, "0-late.txt", "late\n", 1);
        }
        let lines = input.text(src).lines().map(str::to_owned).collect();
        log2.lock().unwrap().push(Seen { id: input.batch_id(), time: input.time_ms(), lines });
        Ok(())
    });
    app.start().unwrap().await_termination().unwrap();
    let got = seen(&log);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.iter().all(|s| !s.lines.contains(&"late".to_owned())), "{got:?}");
}

#[test]
fn once_runs_one_batch_with_everything_available() {
    let dir = TempDir::new("ss-once");
    let input = three_files(&dir);
    let log = Log::default();
    // `max_files_per_trigger` does not apply to `Once` (as in Spark), nor does a request for a
    // no-data batch.
    word_app(&input, Some(1), Trigger::Once, NoData::AfterInput, None, 0, &log)
        .start()
        .unwrap()
        .await_termination()
        .unwrap();
    let got = seen(&log);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].id, 0);
    assert_eq!(got[0].lines, strings(&["cat", "cat", "dog", "owl", "owl", "owl"]));
}

#[test]
fn processing_time_reads_old_files_then_each_new_file_once_and_skips_empty_ticks() {
    let dir = TempDir::new("ss-processing-time");
    let input = dir.join("in");
    std::fs::create_dir(&input).unwrap();
    write_file(&input, "old.txt", "first\nbad record\nthird\n", 100);
    write_file(&input, "_ignored", "x\n", 100);
    let clock = ManualClock::new(0);
    let origins = Arc::new(Mutex::new(Vec::new()));
    let log = Log::default();
    let mut b = AppBuilder::new("pt", Milliseconds(1000));
    let src = b.file_stream("events", &input, None);
    let (log2, origins2) = (Arc::clone(&log), Arc::clone(&origins));
    let app = b
        .build(move |input: &BatchInput, _: &mut BatchOutput| -> Result<(), Error> {
            let text = input.text(src);
            for line in text.lines() {
                // What generated code does with a malformed record: name its file and line.
                if line.contains(' ') {
                    let (path, line_no) = text.origin(line).unwrap();
                    origins2.lock().unwrap().push((path.to_owned(), line_no));
                }
            }
            let lines = text.lines().map(str::to_owned).collect();
            log2.lock().unwrap().push(Seen { id: input.batch_id(), time: input.time_ms(), lines });
            Ok(())
        })
        .with_manual_clock(clock.clone())
        .with_max_batches(3);
    let handle = app.start().unwrap();
    clock.advance(Duration::from_millis(1000));
    wait_for(10, "batch 0", || handle.completed_batches() == 1);
    write_file(&input, "new.txt", "new one\n", 50);
    clock.advance(Duration::from_millis(1000));
    wait_for(10, "batch 1", || handle.completed_batches() == 2);
    // A tick with no new file: no batch, no batch id.
    clock.advance(Duration::from_millis(1000));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(handle.completed_batches(), 2);
    std::fs::write(input.join("newer.txt"), "last\n").unwrap();
    clock.advance(Duration::from_millis(1000));
    handle.await_termination().unwrap();
    assert_eq!(
        seen(&log),
        [
            Seen { id: 0, time: 1000, lines: strings(&["first", "bad record", "third"]) },
            Seen { id: 1, time: 2000, lines: strings(&["new one"]) },
            Seen { id: 2, time: 4000, lines: strings(&["last"]) },
        ]
    );
    assert_eq!(*origins.lock().unwrap(), [(input.join("old.txt"), 2), (input.join("new.txt"), 1)]);
}

#[test]
fn a_malformed_record_error_names_its_file_and_line() {
    let dir = TempDir::new("ss-malformed");
    let input = dir.join("in");
    std::fs::create_dir(&input).unwrap();
    write_file(&input, "a.json", "{\"n\": 1}\n", 100);
    write_file(&input, "b.json", "{\"n\": 2}\n\n{\"n\": oops}\n", 200);
    let mut b = AppBuilder::new("failfast", Milliseconds(1000));
    b.trigger(Trigger::AvailableNow);
    let src = b.file_stream("events", &input, None);
    let app = b.build(move |input: &BatchInput, _: &mut BatchOutput| -> Result<(), Error> {
        let text = input.text(src);
        let mut out = [Json::Missing];
        for line in text.lines().filter(|l| !l.is_empty()) {
            if let Err(e) = parse_fields(line, &["n"], &mut out) {
                let (path, line) = text.origin(line).unwrap();
                return Err(Error::Malformed { path: path.to_owned(), line, message: e.to_string() });
            }
        }
        Ok(())
    });
    let err = app.start().unwrap().await_termination().unwrap_err();
    let want = format!("malformed record at {}:3: ", input.join("b.json").display());
    assert!(err.to_string().starts_with(&want), "{err}");
}

#[test]
fn console_sink_prints_spark_console_blocks() {
    let dir = TempDir::new("ss-console");
    let input = dir.join("in");
    std::fs::create_dir(&input).unwrap();
    write_file(&input, "a.txt", "cat\nelephant\ncat\n", 100);
    write_file(&input, "b.txt", "", 200);
    let print = Captured::default();
    let log = Log::default();
    word_app(&input, Some(1), Trigger::AvailableNow, NoData::Never, None, 0, &log)
        .with_print_writer(print.clone())
        .start()
        .unwrap()
        .await_termination()
        .unwrap();
    assert_eq!(
        print.text(),
        "-------------------------------------------\n\
         Batch: 0\n\
         -------------------------------------------\n\
         +--------+-----+\n\
         |    word|count|\n\
         +--------+-----+\n\
         |     cat|    2|\n\
         |elephant|    1|\n\
         +--------+-----+\n\
         \n\
         -------------------------------------------\n\
         Batch: 1\n\
         -------------------------------------------\n\
         +----+-----+\n\
         |word|count|\n\
         +----+-----+\n\
         +----+-----+\n\
         \n"
    );
}

/// The file names of `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn json_file_sink_commits_each_batch_once_even_when_a_batch_is_re_run() {
    let dir = TempDir::new("ss-json-sink");
    let input = three_files(&dir);
    let out = dir.join("out");
    let ckpt = dir.join("ckpt");
    let log = Log::default();
    word_app(&input, Some(1), Trigger::AvailableNow, NoData::AfterInput, Some(&out), 1, &log)
        .with_checkpoint_dir(&ckpt)
        .start()
        .unwrap()
        .await_termination()
        .unwrap();
    // Batches 0-2 read a file each; batch 3 is the no-data batch, which emits no row.
    assert_eq!(seen(&log).len(), 4);
    assert_eq!(
        names(&out),
        ["_spark_metadata", "part-00000-0000.json", "part-00001-0000.json", "part-00002-0000.json"]
    );
    assert_eq!(names(&out.join("_spark_metadata")), ["0", "1", "2", "3"]);
    assert_eq!(
        std::fs::read_to_string(out.join("part-00001-0000.json")).unwrap(),
        "{\"word\":\"cat\",\"count\":1001}\n{\"word\":\"dog\",\"count\":1001}\n"
    );
    let meta = std::fs::read_to_string(out.join("_spark_metadata/1")).unwrap();
    let mut meta_lines = meta.lines();
    assert_eq!(meta_lines.next(), Some("v1"));
    let entry = meta_lines.next().unwrap();
    assert!(entry.starts_with("{\"path\":\"file://") && entry.contains("part-00001-0000.json\""), "{entry}");
    assert!(entry.contains("\"size\":56,") && entry.ends_with("\"action\":\"add\"}"), "{entry}");
    assert_eq!(meta_lines.next(), None);
    assert_eq!(std::fs::read_to_string(out.join("_spark_metadata/3")).unwrap(), "v1");

    // A crash after batch 2's sink commit and before its checkpoint: drop the checkpoints of
    // batches 2 and 3. The restart re-runs batch 2 with the same file (logged before it ran),
    // but the sink does not write it again: its part file keeps the first run's rows.
    let mut ckpts = names(&ckpt.join("commits"));
    assert_eq!(ckpts.len(), 3);
    for newest in ckpts.split_off(1) {
        std::fs::remove_file(ckpt.join("commits").join(newest)).unwrap();
    }
    let log = Log::default();
    word_app(&input, Some(1), Trigger::AvailableNow, NoData::AfterInput, Some(&out), 2, &log)
        .with_checkpoint_dir(&ckpt)
        .start()
        .unwrap()
        .await_termination()
        .unwrap();
    let got = seen(&log);
    assert_eq!(got.iter().map(|s| s.id).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(got[0].lines, strings(&["owl", "owl", "owl"]));
    assert!(got[1].lines.is_empty());
    assert_eq!(
        names(&out),
        ["_spark_metadata", "part-00000-0000.json", "part-00001-0000.json", "part-00002-0000.json"]
    );
    assert_eq!(names(&out.join("_spark_metadata")), ["0", "1", "2", "3"]);
    assert_eq!(
        std::fs::read_to_string(out.join("part-00002-0000.json")).unwrap(),
        "{\"word\":\"owl\",\"count\":1003}\n"
    );
}

#[test]
fn a_restart_continues_batch_ids_and_the_query_id_and_reads_only_new_files() {
    let dir = TempDir::new("ss-restart");
    let input = dir.join("in");
    std::fs::create_dir(&input).unwrap();
    write_file(&input, "1.txt", "a\n", 100);
    write_file(&input, "2.txt", "b\n", 200);
    let ckpt = dir.join("ckpt");
    let progress = dir.join("progress.jsonl");
    let run = |log: &Log| {
        let mut handle = word_app(&input, Some(1), Trigger::AvailableNow, NoData::Never, None, 0, log)
            .with_checkpoint_dir(&ckpt)
            .with_progress(&progress)
            .start()
            .unwrap();
        while !handle.await_termination_or_timeout(Duration::from_secs(10)).unwrap() {}
        let last = handle.last_progress().unwrap();
        (last, std::fs::read_to_string(&progress).unwrap())
    };
    let log = Log::default();
    let (last1, lines1) = run(&log);
    assert_eq!(
        seen(&log).iter().map(|s| (s.id, s.lines.clone())).collect::<Vec<_>>(),
        [(0, strings(&["a"])), (1, strings(&["b"]))]
    );
    assert_eq!(lines1.lines().last(), Some(last1.as_str()));

    write_file(&input, "3.txt", "c\nc\n", 300);
    write_file(&input, "0-renamed-old.txt", "d\n", 50);
    let log = Log::default();
    let (_, lines2) = run(&log);
    assert_eq!(
        seen(&log).iter().map(|s| (s.id, s.lines.clone())).collect::<Vec<_>>(),
        [(2, strings(&["d"])), (3, strings(&["c", "c"]))]
    );
    let ids = |lines: &str| -> Vec<(String, String, i64)> {
        lines
            .lines()
            .map(|l| {
                let mut f = [Json::Missing, Json::Missing, Json::Missing];
                parse_fields(l, &["id", "runId", "batchId"], &mut f).unwrap();
                (f[0].as_str().unwrap().to_owned(), f[1].as_str().unwrap().to_owned(), f[2].as_i64().unwrap())
            })
            .collect()
    };
    let (first, second) = (ids(&lines1), ids(&lines2));
    assert_eq!(first.iter().chain(&second).map(|x| x.2).collect::<Vec<_>>(), [0, 1, 2, 3]);
    // One query id across runs, one run id per run.
    assert!(first.iter().chain(&second).all(|x| x.0 == first[0].0));
    assert!(first.iter().all(|x| x.1 == first[0].1) && second.iter().all(|x| x.1 == second[0].1));
    assert_ne!(first[0].1, second[0].1);
    assert_eq!(first[0].0.len(), 36);
}

#[test]
fn progress_lines_are_json_with_batch_ids_input_counts_and_reports() {
    let dir = TempDir::new("ss-progress");
    let input = three_files(&dir);
    let progress = dir.join("progress.jsonl");
    let mut b = AppBuilder::new("windowed_event_counts", Milliseconds(1000));
    b.trigger(Trigger::AvailableNow);
    let src = b.file_stream("events", &input, Some(1));
    let out = b.json_files("windowed", &["word"], dir.join("sink"));
    let app = b
        .build(move |input: &BatchInput, output: &mut BatchOutput| -> Result<(), Error> {
            let rows: Vec<(String,)> = input.text(src).lines().map(|l| (l.to_owned(),)).collect();
            output.emit_rows(out, &rows)?;
            if input.batch_id() == 1 {
                // 2024-01-01T12:01:00Z
                output.report_watermark(1_704_110_460_000_000);
                output.report_state(7usize, 2u32, 1);
                output.report_malformed(3);
            }
            Ok(())
        })
        .with_progress(&progress);
    let mut handle = app.start().unwrap();
    while !handle.await_termination_or_timeout(Duration::from_secs(10)).unwrap() {}
    let text = std::fs::read_to_string(&progress).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    for (i, (line, rows)) in lines.iter().zip([1, 2, 3]).enumerate() {
        let mut f = vec![Json::Missing; 9];
        parse_fields(
            line,
            &[
                "name",
                "batchId",
                "numInputRows",
                "timestamp",
                "inputRowsPerSecond",
                "durationMs",
                "sources",
                "sink",
                "eventTime",
            ],
            &mut f,
        )
        .unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(f[0].as_str(), Some("windowed_event_counts"));
        assert_eq!(f[1].as_i64(), Some(i as i64));
        assert_eq!(f[2].as_i64(), Some(rows));
        let ts = f[3].as_str().unwrap();
        assert!(ts.len() == 24 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "{ts}");
        assert!(f[4].as_f64().is_some());
        assert!([&f[5], &f[6], &f[7]].iter().all(|v| matches!(v, Json::Raw(_))), "{:?}", &f[5..8]);
        assert!(
            line.contains(&format!(
                "\"sources\":[{{\"description\":\"FileStreamSource[{}]\",\"numInputRows\":{rows},",
                input.display()
            )),
            "{line}"
        );
        assert!(line.contains("\"sink\":{\"description\":\"FileSink["), "{line}");
        assert_eq!(f[8] == Json::Missing, i != 1, "{line}");
    }
    assert!(lines[1].contains("\"eventTime\":{\"watermark\":\"2024-01-01T12:01:00.000Z\"}"), "{}", lines[1]);
    assert!(
        lines[1]
            .contains("\"stateOperators\":[{\"numRowsTotal\":7,\"numRowsUpdated\":2,\"numRowsDroppedByWatermark\":1}]"),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains("\"numMalformedRowsDropped\":3"), "{}", lines[1]);
    assert!(!lines[2].contains("stateOperators") && !lines[2].contains("Malformed"), "{}", lines[2]);
    assert_eq!(handle.last_progress().as_deref(), Some(lines[2]));
}

#[test]
fn replay_of_a_file_stream_is_one_batch_per_file_then_the_requested_no_data_batch() {
    let dir = TempDir::new("ss-replay");
    let input = dir.join("replay");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("0"), "cat\ncat\n").unwrap();
    std::fs::write(input.join("1"), "").unwrap();
    std::fs::write(input.join("2"), "dog\n").unwrap();
    let source_dir = dir.join("live");
    std::fs::create_dir(&source_dir).unwrap();
    write_file(&source_dir, "never-read.txt", "live\n", 1);
    let jsonl = dir.join("out.jsonl");
    let log = Log::default();
    // The trigger does not matter to a replay.
    word_app(&source_dir, None, Trigger::Once, NoData::AfterInput, None, 0, &log)
        .with_replay("events", &input)
        .with_jsonl(&jsonl)
        .start()
        .unwrap()
        .await_termination()
        .unwrap();
    assert_eq!(
        seen(&log),
        [
            Seen { id: 0, time: 1000, lines: strings(&["cat", "cat"]) },
            Seen { id: 1, time: 2000, lines: vec![] },
            Seen { id: 2, time: 3000, lines: strings(&["dog"]) },
            Seen { id: 3, time: 4000, lines: vec![] },
        ]
    );
    assert_eq!(
        std::fs::read_to_string(&jsonl).unwrap(),
        "{\"output\":\"counts\",\"batch_id\":0,\"batch_time_ms\":1000,\"records\":[{\"word\":\"cat\",\"count\":2}]}\n\
         {\"output\":\"counts\",\"batch_id\":1,\"batch_time_ms\":2000,\"records\":[]}\n\
         {\"output\":\"counts\",\"batch_id\":2,\"batch_time_ms\":3000,\"records\":[{\"word\":\"dog\",\"count\":1}]}\n\
         {\"output\":\"counts\",\"batch_id\":3,\"batch_time_ms\":4000,\"records\":[]}\n"
    );
}

#[test]
fn once_with_no_new_file_runs_no_batch_and_a_restart_reads_nothing_twice() {
    let dir = TempDir::new("ss-once-empty");
    let input = dir.join("in");
    std::fs::create_dir(&input).unwrap();
    let ckpt = dir.join("ckpt");
    let log = Log::default();
    let run = |log: &Log| {
        word_app(&input, None, Trigger::Once, NoData::Never, None, 0, log)
            .with_checkpoint_dir(&ckpt)
            .start()
            .unwrap()
            .await_termination()
            .unwrap()
    };
    run(&log);
    assert_eq!(seen(&log), []);
    write_file(&input, "a.txt", "x\n", 100);
    run(&log);
    run(&log);
    write_file(&input, "b.txt", "y\n", 200);
    run(&log);
    assert_eq!(
        seen(&log).iter().map(|s| (s.id, s.lines.clone())).collect::<Vec<_>>(),
        [(0, strings(&["x"])), (1, strings(&["y"]))]
    );
}

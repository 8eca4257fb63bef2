//! Unit tests of the sinks: the progress line, `print`, text file directories.

use crate::app::Traffic;
use crate::persist::Persist;
use std::path::PathBuf;
use std::time::Duration;

use super::*;

#[test]
fn progress_json_shape() {
    let p = Progress {
        id: "i",
        run_id: "r",
        name: "q",
        timestamp_ms: 1_704_110_460_000,
        batch_id: 4,
        sources: vec![("FileStreamSource[d]".to_owned(), 10, 0)],
        since_previous: Some(Duration::from_secs(2)),
        duration: Duration::from_millis(500),
        sink: "FileSink[o]".to_owned(),
        output_rows: 3,
        parallel_parts: 0,
        exchange: None,
    };
    let reports = Reports {
        watermark_us: Some(1_704_110_460_000_000),
        state: vec![
            StateReport { rows_total: 5, rows_updated: 2, dropped_by_watermark: 1, ..StateReport::default() },
            StateReport {
                node: "n3",
                operator: "stateStoreSave",
                rows_total: 7,
                rows_updated: 0,
                dropped_by_watermark: 0,
                memory_bytes: Some(4096),
            },
        ],
        malformed: 0,
        no_data_requested: false,
        // Rows per stream are for the UI: not in the progress line.
        rows: vec![("counts", 3)],
    };
    assert_eq!(
        p.to_json(&reports),
        "{\"id\":\"i\",\"runId\":\"r\",\"name\":\"q\",\"timestamp\":\"2024-01-01T12:01:00.000Z\",\"batchId\":4,\
         \"numInputRows\":10,\"inputRowsPerSecond\":5.0,\"processedRowsPerSecond\":20.0,\"durationMs\":{\"triggerExecution\":500},\
         \"eventTime\":{\"watermark\":\"2024-01-01T12:01:00.000Z\"},\
         \"stateOperators\":[{\"numRowsTotal\":5,\"numRowsUpdated\":2,\"numRowsDroppedByWatermark\":1},\
         {\"operatorName\":\"stateStoreSave\",\"numRowsTotal\":7,\"numRowsUpdated\":0,\"memoryUsedBytes\":4096,\"numRowsDroppedByWatermark\":0}],\
         \"sources\":[{\"description\":\"FileStreamSource[d]\",\"numInputRows\":10,\"inputRowsPerSecond\":5.0,\"processedRowsPerSecond\":20.0}],\
         \"sink\":{\"description\":\"FileSink[o]\",\"numOutputRows\":3}}"
    );
    let first = Progress { since_previous: None, duration: Duration::ZERO, ..p };
    let json = first.to_json(&Reports::default());
    assert!(json.contains("\"inputRowsPerSecond\":0.0,\"processedRowsPerSecond\":10000.0,"), "{json}");
    assert!(!json.contains("eventTime") && !json.contains("stateOperators"), "{json}");
    assert!(!json.contains("numParallelParts"), "{json}");
    assert!(!json.contains("exchange"), "{json}");
    let split = Progress { parallel_parts: 4, ..first };
    assert!(split.to_json(&Reports::default()).contains(",\"numParallelParts\":4,\"sources\":"));
    let traffic =
        Traffic { rounds: 3, bytes_sent: 10, bytes_received: 20, round_micros: 2500, blocks_taken: 1, bytes_taken: 70 };
    let clustered = Progress { exchange: Some(traffic), ..split };
    let json = clustered.to_json(&Reports::default());
    assert!(
        json.contains(
            ",\"numParallelParts\":4,\"exchange\":{\"rounds\":3,\"bytesSent\":10,\"bytesReceived\":20,\"durationMs\":2,\"blocksTaken\":1,\"bytesTaken\":70},\"sources\":"
        ),
        "{json}"
    );
}

#[test]
fn print_is_byte_exact() {
    let mut s = String::new();
    format_print(1000, 10, &[("a", 2i64), ("", 3)], &mut s);
    assert_eq!(
        s,
        "-------------------------------------------\n\
         Time: 1000 ms\n\
         -------------------------------------------\n\
         (a,2)\n\
         (,3)\n\
         \n"
    );
    s.clear();
    format_print::<i64>(3000, 10, &[], &mut s);
    assert_eq!(
        s,
        "-------------------------------------------\nTime: 3000 ms\n-------------------------------------------\n\n"
    );
    s.clear();
    format_print(5, 1, &[1i64, 2], &mut s);
    assert!(s.ends_with("---\n1\n...\n\n"), "{s:?}");
    s.clear();
    format_print(5, 2, &[1i64, 2], &mut s);
    assert!(s.ends_with("---\n1\n2\n\n"), "{s:?}");
}

#[test]
fn text_files_dir_names() {
    assert_eq!(text_files_dir("out/counts", "txt", 1000), PathBuf::from("out/counts-1000.txt"));
    assert_eq!(text_files_dir("c", "", 7), PathBuf::from("c-7"));
}

crate::row_struct! {
    struct Counted { word: Option<String>, count: i64 }
}

/// A print target a test reads back.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A console (2 rows shown), a JSON file sink in `dir` and a memory sink, printing to a
/// [`Captured`], with a jsonl file in `dir`.
fn three_outputs(dir: &std::path::Path, name: &str) -> (BatchOutput, Captured) {
    let columns = vec!["word".to_owned(), "count".to_owned()];
    let outputs = vec![
        OutputSpec {
            name: format!("{name}-console"),
            kind: OutputKind::Console { columns: columns.clone(), num_rows: 2, truncate: true },
        },
        OutputSpec {
            name: format!("{name}-files"),
            kind: OutputKind::JsonFiles { columns: columns.clone(), dir: dir.join("sink") },
        },
        OutputSpec { name: format!("{name}-memory"), kind: OutputKind::Memory { columns, complete: false } },
    ];
    let printed = Captured::default();
    std::fs::create_dir_all(dir).unwrap();
    let jsonl = dir.join(format!("{name}.jsonl"));
    let out = BatchOutput::new(outputs, PrintTarget::Writer(Box::new(printed.clone())), Some(&jsonl)).unwrap();
    (out, printed)
}

#[test]
fn rows_put_out_in_parts_are_the_rows_put_out_whole() {
    let dir = std::env::temp_dir().join(format!("streamc-pieces-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let row = |w: &str, c: i64| Counted { word: Some(w.to_owned()), count: c };
    let parts = [vec![row("a", 1)], vec![row("b\tc", 2), row("d", 3)]];
    let all: Vec<Counted> = parts.iter().flatten().cloned().collect();
    let outs: Vec<OutputId> = (0..3).map(OutputId::new).collect();

    // One process, every row.
    let (mut whole, whole_printed) = three_outputs(&dir.join("whole"), "whole");
    whole.begin_batch(0, 7);
    for &o in &outs {
        whole.emit_rows(o, &all).unwrap();
    }
    whole.end_batch().unwrap();

    // Two processes, as a batch of a partitioned aggregation goes: each keeps its pieces for
    // the batch's last round, which carries process 1's to process 0 as bytes.
    let (mut leader, leader_printed) = three_outputs(&dir.join("parts"), "parts");
    let (mut other, _) = three_outputs(&dir.join("parts"), "other");
    other.set_silent();
    other.set_leader_reads_every_record(true);
    leader.begin_batch(0, 7);
    other.begin_batch(0, 7);
    let defer = |o: &mut BatchOutput, rows: &[Counted], process: usize, total: u64| {
        let pieces = outs.iter().map(|&out| o.piece(out, rows, process).unwrap()).collect();
        let state = StateReport { node: "n2", operator: "stateStoreSave", rows_total: total, ..StateReport::default() };
        let counts = vec![("n1", rows.len() as u64)];
        o.defer(deferred::Deferred::Rows { outs: outs.clone(), width: 2, pieces, state, counts });
    };
    defer(&mut leader, &parts[0], 0, 10);
    defer(&mut other, &parts[1], 1, 5);
    leader.end_batch().unwrap();
    other.end_batch().unwrap();
    // Nothing of the sink is in place, and nothing is shown, before the batch's last round:
    // each process publishes its data file and sends its pieces, then process 0 puts the rows
    // out and commits the batch.
    assert!(leader.in_pieces() && other.in_pieces() && leader.has_deferred());
    assert!(!json_metadata_path(&dir.join("parts/sink"), 7).exists());
    assert!(!dir.join("parts/sink/part-00007-0000-p1.json").exists());
    assert!(leader_printed.0.lock().unwrap().is_empty(), "nothing shown before the round");
    other.publish_data_files().unwrap();
    let mut message = Vec::new();
    other.deferred_message(&mut message);
    assert!(!other.has_deferred());
    other.commit_pieces().unwrap();
    assert!(!json_metadata_path(&dir.join("parts/sink"), 7).exists(), "only process 0 commits");
    leader.publish_data_files().unwrap();
    leader.emit_deferred(&[&message]).unwrap();
    leader.commit_pieces().unwrap();
    // The figures added up over the processes.
    assert_eq!(leader.reports().state.iter().map(|r| (r.node, r.rows_total)).collect::<Vec<_>>(), [("n2", 15)]);
    assert_eq!(leader.reports().rows, [("n1", 3)]);
    // A process that sent a message of another batch's shape is named.
    let mut two = Vec::new();
    let sent = || deferred::Sent::Rows((0, 0, 0, None), Vec::new(), Vec::new());
    vec![sent(), sent()].write(&mut two);
    defer(&mut leader, &parts[0], 0, 1);
    let e = leader.emit_deferred(&[&two]).unwrap_err().to_string();
    assert!(e.contains("process 1") && e.contains("2 emits, process 0 has 1"), "{e}");

    let printed = |c: &Captured| String::from_utf8(c.0.lock().unwrap().clone()).unwrap();
    assert_eq!(printed(&leader_printed), printed(&whole_printed));
    assert!(printed(&whole_printed).contains("only showing top 2 rows"), "{}", printed(&whole_printed));
    assert_eq!(leader.emitted, whole.emitted);
    // The same rows in the sink, in two files (process 1's named for it), both committed.
    let data = |sink: &std::path::Path| {
        let meta = std::fs::read_to_string(json_metadata_path(sink, 7)).unwrap();
        let mut lines = Vec::new();
        for entry in meta.lines().skip(1) {
            let path = entry.split("\"path\":\"file://").nth(1).unwrap().split('"').next().unwrap();
            lines.extend(std::fs::read_to_string(path).unwrap().lines().map(str::to_owned));
        }
        (meta.lines().count() - 1, lines)
    };
    let (files, rows) = data(&dir.join("parts/sink"));
    assert_eq!((files, rows), (2, data(&dir.join("whole/sink")).1));
    assert!(dir.join("parts/sink/part-00007-0000-p1.json").exists());
    let jsonl = |name: &str| std::fs::read_to_string(dir.join(format!("{name}/{name}.jsonl"))).unwrap();
    assert_eq!(jsonl("parts").replace("parts-", ""), jsonl("whole").replace("whole-", ""));
    assert_eq!(crate::structured::memory::rows("parts-memory"), crate::structured::memory::rows("whole-memory"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `print` of a batch in parts over two processes, each sending its first records in the
/// batch's last round: process 0 prints the block one process prints of the records in process
/// order, counts every record, and the `print`'s emit in the batch does nothing. A `print` of a
/// whole batch after it comes out after it, as with one process.
#[test]
fn a_print_in_parts_prints_what_one_process_prints() {
    let parts: [Vec<(String, i64)>; 2] =
        [(0..3).map(|i| (format!("a{i}"), i)).collect(), (0..20).map(|i| (format!("b{i}"), i)).collect()];
    let all: Vec<(String, i64)> = parts.iter().flatten().cloned().collect();
    let print = || {
        let printed = Captured::default();
        let outputs = vec![
            OutputSpec { name: "counts".to_owned(), kind: OutputKind::Print { num: 10 } },
            OutputSpec { name: "total".to_owned(), kind: OutputKind::Print { num: 10 } },
        ];
        let out = BatchOutput::new(outputs, PrintTarget::Writer(Box::new(printed.clone())), None).unwrap();
        (out, printed)
    };
    let (out, total) = (OutputId::new(0), OutputId::new(1));
    let (mut whole, whole_printed) = print();
    whole.begin_batch(3000, 2);
    whole.emit(out, &all).unwrap();
    whole.emit(total, &[23i64]).unwrap();

    let (mut leader, leader_printed) = print();
    let (mut other, _) = print();
    other.set_silent();
    // What `BatchInput::gather_output` keeps of each process's part: its first records (one
    // more than the print shows) and how many it held.
    let defer = |o: &mut BatchOutput, part: &[(String, i64)]| {
        let lines = part
            .iter()
            .take(11)
            .map(|r| {
                let mut line = String::new();
                crate::fmt::SparkFmt::spark_fmt(r, &mut line);
                line
            })
            .collect();
        o.defer(deferred::Deferred::Print { outs: vec![out], held: part.len() as u64, lines });
    };
    for (o, part) in [(&mut leader, &parts[0]), (&mut other, &parts[1])] {
        o.begin_batch(3000, 2);
        defer(o, part);
        o.emit::<(String, i64)>(out, &[]).unwrap();
        // Every process has the whole of this one.
        o.emit(total, &[23i64]).unwrap();
    }
    assert!(leader_printed.0.lock().unwrap().is_empty(), "nothing printed before the round");
    let mut message = Vec::new();
    other.deferred_message(&mut message);
    leader.emit_deferred(&[&message]).unwrap();

    let printed = |c: &Captured| String::from_utf8(c.0.lock().unwrap().clone()).unwrap();
    assert_eq!(printed(&leader_printed), printed(&whole_printed));
    assert!(printed(&whole_printed).contains("(b6,6)\n...\n"), "{}", printed(&whole_printed));
    assert_eq!((leader.emitted, whole.emitted), (24, 24));
}

/// A pending data file is hidden until published, then in place with its bytes; a file that
/// cannot be created is an error naming its path.
#[test]
fn a_pending_file_appears_whole_when_published() {
    let dir = std::env::temp_dir().join(format!("streamc-pending-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("part-00000-0000.json");
    let pending = files::write_file_pending(&path, b"{\"a\":1}\n").unwrap();
    assert!(!path.exists(), "not in place before it is published");
    let hidden: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(hidden.len() == 1 && hidden[0].starts_with('.'), "{hidden:?}");
    pending.publish().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\":1}\n");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "the temporary name is gone");
    // A directory stands where the file's directory should be.
    let blocked = dir.join("part-00000-0000.json").join("part-1.json");
    let err = files::write_file_pending(&blocked, b"x").unwrap_err();
    assert!(err.to_string().contains("part-00000-0000.json"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A batch's metadata entry is in place, whole, when written, and durable with its commit; a
/// re-run counts the batch committed only from a whole entry (one a power cut left empty or cut
/// short is written again), or from a compaction.
#[test]
fn a_batch_is_committed_by_a_whole_metadata_entry() {
    let dir = std::env::temp_dir().join(format!("streamc-entry-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("part-00003-0000.json");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(&data, "{\"a\":1}\n").unwrap();
    assert!(!file_sink_committed(&dir, 3));
    let unsynced = files::write_metadata_entry(&dir, 3, std::slice::from_ref(&data)).unwrap();
    let entry = json_metadata_path(&dir, 3);
    assert_eq!(unsynced.as_deref(), Some(entry.as_path()), "a plain entry is made durable later");
    assert!(file_sink_committed(&dir, 3));
    files::make_durable(std::slice::from_ref(&entry)).unwrap();
    let text = std::fs::read_to_string(&entry).unwrap();
    for cut in ["", "v", "v1\n", "v1\n{\"path\":\"file:///x\""] {
        std::fs::write(&entry, cut).unwrap();
        assert!(!file_sink_committed(&dir, 3), "{cut:?}");
    }
    std::fs::write(&entry, "v1").unwrap();
    assert!(file_sink_committed(&dir, 3), "a batch without rows");
    std::fs::write(&entry, &text).unwrap();
    assert!(file_sink_committed(&dir, 3));
    // The tenth batch's entry compacts the log, durable before the entries it covers go.
    assert_eq!(files::write_metadata_entry(&dir, 9, &[]).unwrap(), None);
    assert!(!entry.exists() && file_sink_committed(&dir, 3) && file_sink_committed(&dir, 9));
    // A commit held a batch behind then finds the entry gone, taken into the compaction.
    files::make_durable(&[entry]).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A restarted process removes the temporary names an earlier run of it left half written (its
/// own data files; the metadata log's on process 0), and nothing else: not another process's,
/// not its own run's, not a user's hidden file, not a published file.
#[test]
fn stale_temporaries_of_this_process_are_removed() {
    let dir = std::env::temp_dir().join(format!("streamc-stale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("_spark_metadata")).unwrap();
    let own = format!(".part-00009-0000.json.streamc-tmp-{}", std::process::id());
    // Each name, and the process whose restart removes it (`None`: no process's).
    let names: [(&str, Option<usize>); 12] = [
        (".part-00008-0000.json.streamc-tmp-1", Some(0)),
        (".part-00008-0001.parquet.streamc-tmp-22", Some(0)),
        (".part-00008-0000-p1.json.streamc-tmp-3", Some(1)),
        (".part-00008-0000-p2.json.streamc-tmp-4", None),
        (&own, None),
        (".part-00008-0000.json.streamc-tmp-", None),
        (".notes.streamc-tmp-5", None),
        (".hidden", None),
        ("part-00007-0000.json", None),
        ("_spark_metadata/.8.streamc-tmp-6", Some(0)),
        ("_spark_metadata/.9.compact.streamc-tmp-7", Some(0)),
        ("_spark_metadata/7", None),
    ];
    for (n, _) in names {
        std::fs::write(dir.join(n), b"x").unwrap();
    }
    let left = |dir: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> = ["", "_spark_metadata"]
            .iter()
            .flat_map(|d| std::fs::read_dir(dir.join(d)).unwrap())
            .map(|e| e.unwrap().path().strip_prefix(dir).unwrap().display().to_string())
            .filter(|n| n != "_spark_metadata")
            .collect();
        v.sort();
        v
    };
    let removed_by = |p: usize| names.iter().filter(|(_, by)| *by == Some(p)).count();
    assert_eq!(files::remove_stale_temporaries(&dir, 1), removed_by(1));
    assert!(!left(&dir).contains(&".part-00008-0000-p1.json.streamc-tmp-3".to_owned()));
    assert_eq!(files::remove_stale_temporaries(&dir, 0), removed_by(0));
    let mut expected: Vec<String> = names.iter().filter(|(_, by)| by.is_none()).map(|(n, _)| n.to_string()).collect();
    expected.sort();
    assert_eq!(left(&dir), expected);
    assert_eq!(files::remove_stale_temporaries(&dir.join("missing"), 0), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A restarted process removes what an earlier run of it left beside `save_as_text_files`'
/// batch directories (process 0: the directories a batch was filled or replaced in; every
/// process: its own part files), and nothing else.
#[test]
fn stale_text_temporaries_of_this_process_are_removed() {
    let dir = std::env::temp_dir().join(format!("streamc-stale-text-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let own = format!(".counts-3000.txt.streamc-tmp-{}", std::process::id());
    // Each name, whether it is a directory, and the process whose restart removes it (`None`:
    // no process's).
    let names: [(&str, bool, Option<usize>); 10] = [
        (".counts-1000.txt.streamc-tmp-1", true, Some(0)),
        (".counts-2000.txt.streamc-old-2", true, Some(0)),
        (&own, true, None),
        (".other-1000.txt.streamc-tmp-3", true, None),
        (".counts-1000.csv.streamc-tmp-4", true, None),
        ("counts-1000.txt", true, None),
        (".counts-1000.txt.part-00000.streamc-part", false, Some(0)),
        (".counts-1000.txt.part-00001.streamc-part", false, Some(1)),
        (".counts-x.txt.part-00000.streamc-part", false, None),
        (".hidden", false, None),
    ];
    for (n, is_dir, _) in names {
        if is_dir {
            std::fs::create_dir_all(dir.join(n).join("inner")).unwrap();
        } else {
            std::fs::write(dir.join(n), b"x").unwrap();
        }
    }
    let removed_by = |p: usize| names.iter().filter(|(_, _, by)| *by == Some(p)).count();
    let prefix = dir.join("counts").display().to_string();
    assert_eq!(files::remove_stale_text_temporaries(&prefix, "txt", 1), removed_by(1));
    assert!(!dir.join(".counts-1000.txt.part-00001.streamc-part").exists());
    assert_eq!(files::remove_stale_text_temporaries(&prefix, "txt", 0), removed_by(0));
    let mut left: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    let mut expected: Vec<String> =
        names.iter().filter(|(_, _, by)| by.is_none()).map(|(n, _, _)| n.to_string()).collect();
    expected.sort();
    assert_eq!(left, expected);
    // Without a suffix: `counts-<time>` only.
    std::fs::create_dir_all(dir.join(".counts-5.streamc-tmp-9")).unwrap();
    assert_eq!(files::remove_stale_text_temporaries(&prefix, "", 0), 1);
    assert!(dir.join(".counts-1000.csv.streamc-tmp-4").exists());
    assert_eq!(files::remove_stale_text_temporaries(&dir.join("gone/x").display().to_string(), "", 0), 0);
    // A file where the directory should be: nothing to remove, and no error (the sink's own
    // write reports it, naming the path).
    let blocker = dir.join(".hidden").join("x").display().to_string();
    assert_eq!(files::remove_stale_text_temporaries(&blocker, "", 0), 0);
    assert_eq!(files::remove_stale_temporaries(&dir.join(".hidden"), 0), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

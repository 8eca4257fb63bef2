//! Unit tests of the sinks: the progress line, `print`, text file directories.

use crate::app::Traffic;
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
    let traffic = Traffic { rounds: 3, bytes_sent: 10, bytes_received: 20, round_micros: 2500 };
    let clustered = Progress { exchange: Some(traffic), ..split };
    let json = clustered.to_json(&Reports::default());
    assert!(
        json.contains(
            ",\"numParallelParts\":4,\"exchange\":{\"rounds\":3,\"bytesSent\":10,\"bytesReceived\":20,\"durationMs\":2},\"sources\":"
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

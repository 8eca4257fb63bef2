//! The progress line that follows every batch, shaped like Spark's `StreamingQueryProgress`,
//! and what a batch reports for it.

use std::fmt::Write as _;
use std::time::Duration;

use crate::fmt::json_string;

/// What a batch reported for its progress line, besides what the runtime measures.
#[derive(Clone, Debug, Default)]
pub(crate) struct Reports {
    /// The watermark after the batch, in µs since the epoch.
    pub(crate) watermark_us: Option<i64>,
    /// Each stateful operator's figures, in the order they reported.
    pub(crate) state: Vec<StateReport>,
    /// Malformed records dropped.
    pub(crate) malformed: u64,
    /// Whether the batch asked for a no-data batch after it.
    pub(crate) no_data_requested: bool,
    /// Rows per materialized stream or query (for the UI, not the progress line).
    pub(crate) rows: Vec<(&'static str, u64)>,
}

/// One stateful operator's figures after a batch (an entry of the progress line's
/// `stateOperators`; the UI's charts per operator).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateReport {
    /// The operator's node in the plan graph (`n3`, see `AppBuilder::plan`), which names it in
    /// the UI; empty when the app has no graph.
    pub node: &'static str,
    /// The operator's name (`operatorName`: Spark's `stateStoreSave`, `dedupe`, …, or the
    /// DStream operator); empty to leave it out.
    pub operator: &'static str,
    /// Rows in state after the batch (`numRowsTotal`).
    pub rows_total: u64,
    /// Rows updated in the batch (`numRowsUpdated`).
    pub rows_updated: u64,
    /// Input rows dropped as later than the watermark (`numRowsDroppedByWatermark`).
    pub dropped_by_watermark: u64,
    /// An estimate of the state's memory (`memoryUsedBytes`; see
    /// [`StateSize`](crate::footprint::StateSize)), when the operator measured it.
    pub memory_bytes: Option<u64>,
}

/// What one progress line says about a batch, besides the batch's [`Reports`].
pub(crate) struct Progress<'a> {
    pub(crate) id: &'a str,
    pub(crate) run_id: &'a str,
    pub(crate) name: &'a str,
    /// The batch start, ms since the epoch.
    pub(crate) timestamp_ms: i64,
    pub(crate) batch_id: u64,
    /// Per source: its description, its input rows and the lines it dropped.
    pub(crate) sources: Vec<(String, u64, u64)>,
    /// The time since the previous batch's start (`None` for a run's first batch).
    pub(crate) since_previous: Option<Duration>,
    /// How long the batch took.
    pub(crate) duration: Duration,
    pub(crate) sink: String,
    pub(crate) output_rows: u64,
    /// Parts the batch's stages ran in on worker threads, summed over stages (0: none split).
    pub(crate) parallel_parts: u64,
    /// In a cluster: what this process's rounds moved in the batch.
    pub(crate) exchange: Option<crate::app::Traffic>,
}

/// A rate as Spark computes it: `rows` over `secs`, 0 over an unknown (infinite) time.
fn rate(rows: u64, secs: Option<f64>) -> f64 {
    match secs {
        Some(s) if s > 0.0 => rows as f64 / s,
        _ => 0.0,
    }
}

/// A JSON number for a rate (`{:?}` keeps `.0` on whole numbers, as Spark's JSON does).
fn push_rate(out: &mut String, r: f64) {
    if r.is_finite() {
        let _ = write!(out, "{r:?}");
    } else {
        out.push_str("0.0");
    }
}

impl Progress<'_> {
    /// The progress line (without newline), shaped like Spark's `StreamingQueryProgress.json`.
    pub(crate) fn to_json(&self, reports: &Reports) -> String {
        let rows: u64 = self.sources.iter().map(|(_, n, _)| n).sum();
        let input_secs = self.since_previous.map(|d| d.as_secs_f64());
        // As Spark: at least 1 ms, so that a fast batch has a finite rate.
        let processing_secs = Some(self.duration.as_secs_f64().max(0.001));
        let mut s = String::with_capacity(512);
        s.push_str("{\"id\":");
        json_string(self.id, &mut s);
        s.push_str(",\"runId\":");
        json_string(self.run_id, &mut s);
        s.push_str(",\"name\":");
        json_string(self.name, &mut s);
        s.push_str(",\"timestamp\":");
        json_string(&crate::clock::iso8601_utc(self.timestamp_ms), &mut s);
        let _ = write!(s, ",\"batchId\":{},\"numInputRows\":{rows},\"inputRowsPerSecond\":", self.batch_id);
        push_rate(&mut s, rate(rows, input_secs));
        s.push_str(",\"processedRowsPerSecond\":");
        push_rate(&mut s, rate(rows, processing_secs));
        let _ = write!(s, ",\"durationMs\":{{\"triggerExecution\":{}}}", self.duration.as_millis());
        if let Some(w) = reports.watermark_us {
            s.push_str(",\"eventTime\":{\"watermark\":");
            json_string(&crate::clock::iso8601_utc(w.div_euclid(1000)), &mut s);
            s.push('}');
        }
        if !reports.state.is_empty() {
            s.push_str(",\"stateOperators\":[");
            for (i, op) in reports.state.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                s.push('{');
                if !op.operator.is_empty() {
                    s.push_str("\"operatorName\":");
                    json_string(op.operator, &mut s);
                    s.push(',');
                }
                let _ = write!(s, "\"numRowsTotal\":{},\"numRowsUpdated\":{}", op.rows_total, op.rows_updated);
                if let Some(m) = op.memory_bytes {
                    let _ = write!(s, ",\"memoryUsedBytes\":{m}");
                }
                let _ = write!(s, ",\"numRowsDroppedByWatermark\":{}}}", op.dropped_by_watermark);
            }
            s.push(']');
        }
        if reports.malformed > 0 {
            let _ = write!(s, ",\"numMalformedRowsDropped\":{}", reports.malformed);
        }
        // streamc's own: how many parts the batch was split into on worker threads.
        if self.parallel_parts > 0 {
            let _ = write!(s, ",\"numParallelParts\":{}", self.parallel_parts);
        }
        // streamc's own, in a cluster: what this process exchanged with the others.
        if let Some(t) = &self.exchange {
            let _ = write!(
                s,
                ",\"exchange\":{{\"rounds\":{},\"bytesSent\":{},\"bytesReceived\":{},\"durationMs\":{},\"blocksTaken\":{},\"bytesTaken\":{}}}",
                t.rounds,
                t.bytes_sent,
                t.bytes_received,
                t.round_micros / 1000,
                t.blocks_taken,
                t.bytes_taken
            );
        }
        s.push_str(",\"sources\":[");
        for (i, (description, n, skipped)) in self.sources.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str("{\"description\":");
            json_string(description, &mut s);
            let _ = write!(s, ",\"numInputRows\":{n},\"inputRowsPerSecond\":");
            push_rate(&mut s, rate(*n, input_secs));
            s.push_str(",\"processedRowsPerSecond\":");
            push_rate(&mut s, rate(*n, processing_secs));
            // Spark's `SourceProgress.metrics` (a map of strings) holds source-specific counts.
            if *skipped > 0 {
                let _ = write!(s, ",\"metrics\":{{\"numSkippedLines\":\"{skipped}\"}}");
            }
            s.push('}');
        }
        s.push_str("],\"sink\":{\"description\":");
        json_string(&self.sink, &mut s);
        let _ = write!(s, ",\"numOutputRows\":{}}}}}", self.output_rows);
        s
    }
}

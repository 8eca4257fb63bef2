//! The [`Monitor`]: the metrics (Prometheus, through prometheus-client) and the recent batches
//! the server reads.

use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::figures::BatchFigures;
use super::graph;
use crate::clock::lock;
use crate::sink::StateReport;

/// The labels of a metric per operator: its graph node and its name.
type OperatorLabels = [(&'static str, String); 2];

/// A batch's rows per graph node, and its stateful operators' figures.
type OperatorFigures = (Vec<(&'static str, u64)>, Vec<StateReport>);

/// How many batches the page and `/api/batches` keep.
const RECENT: usize = 600;

/// The metrics `/metrics` exposes (names prefixed `streamc_`, labelled with the app's name as
/// `query`).
struct Metrics {
    registry: Registry,
    batches: Counter,
    input_rows: Counter,
    output_rows: Counter,
    late_rows: Counter,
    malformed_rows: Counter,
    state_rows: Gauge,
    watermark: Gauge<f64, AtomicU64>,
    input_rate: Gauge<f64, AtomicU64>,
    processed_rate: Gauge<f64, AtomicU64>,
    duration: Histogram,
    scheduling_delay: Histogram,
    operator_rows: Family<OperatorLabels, Counter>,
    operator_state_rows: Family<OperatorLabels, Gauge>,
    operator_state_memory: Family<OperatorLabels, Gauge>,
}

impl Metrics {
    fn new(query: &str) -> Metrics {
        let labels = [(std::borrow::Cow::Borrowed("query"), std::borrow::Cow::Owned(query.to_owned()))];
        let mut registry = Registry::with_prefix_and_labels("streamc", labels.into_iter());
        let m = Metrics {
            batches: Counter::default(),
            input_rows: Counter::default(),
            output_rows: Counter::default(),
            late_rows: Counter::default(),
            malformed_rows: Counter::default(),
            state_rows: Gauge::default(),
            watermark: Gauge::default(),
            input_rate: Gauge::default(),
            processed_rate: Gauge::default(),
            duration: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            scheduling_delay: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            operator_rows: Family::default(),
            operator_state_rows: Family::default(),
            operator_state_memory: Family::default(),
            registry: Registry::default(),
        };
        registry.register("batches", "Batches completed", m.batches.clone());
        registry.register("input_rows", "Rows read by the sources (Spark's numInputRows)", m.input_rows.clone());
        registry.register("output_rows", "Rows written by the sinks", m.output_rows.clone());
        registry.register("late_rows_dropped", "Rows dropped as later than the watermark", m.late_rows.clone());
        registry.register("malformed_rows", "Malformed records dropped", m.malformed_rows.clone());
        registry.register(
            "state_rows",
            "Rows in state after the last batch (all stateful operators)",
            m.state_rows.clone(),
        );
        registry.register(
            "watermark_seconds",
            "The event-time watermark, seconds since the epoch",
            m.watermark.clone(),
        );
        registry.register("input_rows_per_second", "Input rate of the last batch", m.input_rate.clone());
        registry.register("processed_rows_per_second", "Processing rate of the last batch", m.processed_rate.clone());
        registry.register("batch_duration_seconds", "How long each batch took", m.duration.clone());
        registry.register(
            "scheduling_delay_seconds",
            "From each batch's due time to its start",
            m.scheduling_delay.clone(),
        );
        registry.register(
            "operator_output_rows",
            "Rows each operator put out (node of the plan graph, and its name)",
            m.operator_rows.clone(),
        );
        registry.register(
            "operator_state_rows",
            "Rows in each stateful operator's state after the last batch",
            m.operator_state_rows.clone(),
        );
        registry.register(
            "operator_state_memory_bytes",
            "Estimated memory of each stateful operator's state after the last batch",
            m.operator_state_memory.clone(),
        );
        Metrics { registry, ..m }
    }
}

/// The batches the page shows: the last [`RECENT`] progress records, numbered.
#[derive(Default)]
struct Recent {
    /// `(sequence number, the batch as the page's JSON)`.
    batches: VecDeque<(u64, String)>,
    next: u64,
    finished: bool,
}

/// What the UI knows of the running app: the plan, the metrics, the recent batches.
pub(crate) struct Monitor {
    pub(super) name: String,
    pub(super) plan: String,
    /// The plan's graph in dot (empty when the app has none).
    dot: String,
    /// The graph's nodes: id and label.
    nodes: Vec<(String, String)>,
    /// The graph drawn with the figures of batch `.0` (sequence number) written into its nodes.
    drawn: Mutex<Option<(u64, String)>>,
    metrics: Metrics,
    recent: Mutex<Recent>,
    /// The last batch's rows per operator and state per operator.
    last: Mutex<OperatorFigures>,
    changed: Condvar,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Monitor {
    pub(crate) fn new(name: &str, plan: &str, dot: &str) -> Monitor {
        Monitor {
            name: name.to_owned(),
            plan: plan.to_owned(),
            dot: dot.to_owned(),
            nodes: graph::nodes(dot),
            drawn: Mutex::new(None),
            metrics: Metrics::new(name),
            recent: Mutex::new(Recent::default()),
            last: Mutex::new((Vec::new(), Vec::new())),
            changed: Condvar::new(),
        }
    }

    /// The label of graph node `id` (the id itself when the graph has no such node).
    fn label<'a>(&'a self, id: &'a str) -> &'a str {
        self.nodes.iter().find(|(n, _)| n == id).map_or(id, |(_, l)| l.as_str())
    }

    fn operator_labels(&self, id: &'static str) -> OperatorLabels {
        let name = self.label(id).split(" · ").next().unwrap_or(id).to_owned();
        [("node", id.to_owned()), ("operator", name)]
    }

    /// The graph's nodes as a JSON object of id to label (for the page).
    pub(super) fn nodes_json(&self) -> String {
        let mut out = String::from("{");
        for (i, (id, label)) in self.nodes.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            crate::fmt::json_string(id, &mut out);
            out.push(':');
            crate::fmt::json_string(label, &mut out);
        }
        out.push('}');
        out
    }

    /// The plan's graph as SVG with the last batch's figures in its nodes (drawn once per
    /// batch, on request, on the server's thread); `None` when the app has no graph or it
    /// cannot be drawn.
    pub(super) fn svg(&self) -> Option<String> {
        if self.dot.is_empty() {
            return None;
        }
        let seq = lock(&self.recent).next;
        if let Some((drawn_at, svg)) = &*lock(&self.drawn)
            && *drawn_at == seq
        {
            return Some(svg.clone());
        }
        let annotated = {
            let last = lock(&self.last);
            graph::annotate(&self.dot, &last.0, &last.1)
        };
        let svg = graph::draw(&annotated);
        let svg = if svg.is_empty() { graph::draw(&self.dot) } else { svg };
        if svg.is_empty() {
            return None;
        }
        *lock(&self.drawn) = Some((seq, svg.clone()));
        Some(svg)
    }

    /// Takes in a finished batch; `progress` is its progress record (JSON).
    pub(crate) fn record(&self, f: &BatchFigures, progress: &str) {
        let m = &self.metrics;
        m.batches.inc();
        m.input_rows.inc_by(f.input_rows);
        m.output_rows.inc_by(f.output_rows);
        m.late_rows.inc_by(f.late_rows_dropped);
        m.malformed_rows.inc_by(f.malformed_rows);
        m.state_rows.set(i64::try_from(f.state_rows).unwrap_or(i64::MAX));
        if let Some(w) = f.watermark_ms {
            m.watermark.set(w as f64 / 1e3);
        }
        m.input_rate.set(f.input_rows_per_second);
        m.processed_rate.set(f.processed_rows_per_second);
        m.duration.observe(f.duration.as_secs_f64());
        m.scheduling_delay.observe(f.scheduling_delay.as_secs_f64());
        for &(node, rows) in &f.rows {
            m.operator_rows.get_or_create(&self.operator_labels(node)).inc_by(rows);
        }
        for op in &f.operators {
            let labels = self.operator_labels(op.node);
            m.operator_state_rows.get_or_create(&labels).set(i64::try_from(op.rows_total).unwrap_or(i64::MAX));
            if let Some(b) = op.memory_bytes {
                m.operator_state_memory.get_or_create(&labels).set(i64::try_from(b).unwrap_or(i64::MAX));
            }
        }
        *lock(&self.last) = (f.rows.clone(), f.operators.clone());
        let mut r = lock(&self.recent);
        let n = r.next;
        let json = batch_json(n, f, progress);
        r.next += 1;
        if r.batches.len() == RECENT {
            r.batches.pop_front();
        }
        r.batches.push_back((n, json));
        drop(r);
        self.changed.notify_all();
    }

    /// The app stopped: event streams end.
    pub(crate) fn finish(&self) {
        lock(&self.recent).finished = true;
        self.changed.notify_all();
    }

    /// `/metrics`: the text exposition format.
    pub(super) fn metrics_text(&self) -> String {
        let mut out = String::new();
        // Writing into a `String` cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.metrics.registry);
        out
    }

    /// The recent batches numbered `from` on, as a JSON array, and the number of the next
    /// batch; waits up to `wait` for one when there is none yet. `None` when the app has
    /// finished and nothing is left.
    pub(super) fn batches_from(&self, from: u64, wait: Duration) -> Option<(String, u64)> {
        let mut r = lock(&self.recent);
        if r.next <= from && !r.finished && !wait.is_zero() {
            r = self.changed.wait_timeout(r, wait).unwrap_or_else(std::sync::PoisonError::into_inner).0;
        }
        if r.next <= from && r.finished {
            return None;
        }
        let mut out = String::from("[");
        for (_, json) in r.batches.iter().filter(|(n, _)| *n >= from) {
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str(json);
        }
        out.push(']');
        Some((out, r.next))
    }
}

/// One batch as the page reads it: its sequence number in the monitor (`seq`, for
/// `/events?from=`), the figures, and the progress record under `progress`.
fn batch_json(seq: u64, f: &BatchFigures, progress: &str) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let watermark = f.watermark_ms.map_or_else(|| "null".to_owned(), |w| w.to_string());
    format!(
        "{{\"seq\":{seq},\"batchId\":{},\"timestamp\":{},\"inputRows\":{},\"inputRowsPerSecond\":{:.3},\"processedRowsPerSecond\":{:.3},\
         \"outputRows\":{},\"durationMs\":{:.3},\"readMs\":{:.3},\"computeMs\":{:.3},\"sinkMs\":{:.3},\"checkpointMs\":{:.3},\
         \"schedulingDelayMs\":{:.3},\"watermark\":{watermark},\"stateRows\":{},\"stateRowsUpdated\":{},\
         \"lateRowsDropped\":{},\"malformedRows\":{},\"rows\":{{{}}},\"operators\":[{}],\"progress\":{progress}}}",
        f.batch_id,
        f.timestamp_ms,
        f.input_rows,
        finite(f.input_rows_per_second),
        finite(f.processed_rows_per_second),
        f.output_rows,
        ms(f.duration),
        ms(f.read),
        ms(f.compute),
        ms(f.sink),
        ms(f.checkpoint),
        ms(f.scheduling_delay),
        f.state_rows,
        f.state_rows_updated,
        f.late_rows_dropped,
        f.malformed_rows,
        rows_per_node(&f.rows),
        operators_json(&f.operators),
    )
}

/// Each stateful operator: `{"node":…,"operator":…,"rows":…,"updated":…,"memoryBytes":…,"dropped":…}`.
fn operators_json(ops: &[StateReport]) -> String {
    let mut out = String::new();
    for (i, op) in ops.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"node\":");
        crate::fmt::json_string(op.node, &mut out);
        out.push_str(",\"operator\":");
        crate::fmt::json_string(op.operator, &mut out);
        let memory = op.memory_bytes.map_or_else(|| "null".to_owned(), |m| m.to_string());
        out.push_str(&format!(
            ",\"rows\":{},\"updated\":{},\"memoryBytes\":{memory},\"dropped\":{}}}",
            op.rows_total, op.rows_updated, op.dropped_by_watermark
        ));
    }
    out
}

/// `"node":rows,...` (a node reported twice in a batch: summed).
fn rows_per_node(rows: &[(&str, u64)]) -> String {
    let mut merged: Vec<(&str, u64)> = Vec::new();
    for &(name, n) in rows {
        match merged.iter_mut().find(|(m, _)| *m == name) {
            Some(e) => e.1 += n,
            None => merged.push((name, n)),
        }
    }
    let mut out = String::new();
    for (i, (name, n)) in merged.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        crate::fmt::json_string(name, &mut out);
        out.push(':');
        out.push_str(&n.to_string());
    }
    out
}

fn finite(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

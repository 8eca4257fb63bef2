//! The physical plan of a program: for DStreams ([`Fused`]), which streams are fused into their consumer's loop and which are
//! materialized (a source batch, a breaker's result, or a stream read by several operators or
//! by an output). A stage is a materialized collection plus the chain of narrow operators fused
//! after it, ending in a breaker's state, a materialized buffer, or nothing.

use crate::dstream::ops::Feed;
use crate::dstream::plan::{Op, Plan, StreamId};
use crate::table::Checked;

/// How a checked program runs: the fused stages of a DStream plan, or the typed queries of a
/// Structured Streaming plan (each one loop over its source's batch).
#[derive(Debug)]
pub enum Physical {
    DStream(Fused),
    Table(Vec<Checked>),
}

impl Physical {
    /// One line per stage, for the header of generated code and the CLI's summary.
    pub fn stages(&self) -> Vec<String> {
        match self {
            Physical::DStream(f) => f.stages.clone(),
            Physical::Table(queries) => queries
                .iter()
                .map(|q| {
                    let cols: Vec<&str> = q.output.iter().map(|c| c.name.as_str()).collect();
                    format!("query `{}`: one loop over its source's batch -> [{}]", q.name, cols.join(", "))
                })
                .collect(),
        }
    }
}

/// How each stream of a DStream [`Plan`] is executed.
#[derive(Debug)]
pub struct Fused {
    /// Operators reading each stream, in definition order.
    pub consumers: Vec<Vec<StreamId>>,
    /// Outputs (indices into [`Plan::outputs`]) reading each stream.
    pub outputs_of: Vec<Vec<usize>>,
    /// True when the stream's elements exist as a collection (not only inside a loop).
    pub materialized: Vec<bool>,
    /// One line per stage, for the header of generated code.
    pub stages: Vec<String>,
}

/// Whether narrow operators are fused into their consumer's loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fusion {
    /// The default: a narrow operator read by one element-fed operator runs inside its loop.
    On,
    /// Every stream is materialized into a collection, so each operator is a separate pass over
    /// a `Vec` (what fusion buys, measured by the benchmark suite; the semantics are the same).
    Off,
}

/// Decides fusion for a checked plan (streams are in dependency order).
pub fn plan(plan: &Plan) -> Fused {
    plan_with(plan, Fusion::On)
}

/// [`plan`] with fusion on or off.
pub fn plan_with(plan: &Plan, fusion: Fusion) -> Fused {
    let n = plan.streams.len();
    let mut consumers = vec![Vec::new(); n];
    for (i, s) in plan.streams.iter().enumerate() {
        for input in &s.inputs {
            consumers[input.0].push(StreamId(i));
        }
    }
    let mut outputs_of = vec![Vec::new(); n];
    for (k, o) in plan.outputs.iter().enumerate() {
        outputs_of[o.input.0].push(k);
    }
    let materialized: Vec<bool> = (0..n)
        .map(|i| {
            let op = &plan.streams[i].op;
            let one_fused_reader = consumers[i].len() == 1 && is_element_fed(&plan.streams[consumers[i][0].0].op);
            fusion == Fusion::Off || !op.is_narrow() || !one_fused_reader || !outputs_of[i].is_empty()
        })
        .collect();
    let mut stages = Vec::new();
    for i in 0..n {
        if !materialized[i] {
            continue;
        }
        for &c in &consumers[i] {
            let mut chain = vec![plan.streams[i].name.clone()];
            let mut cur = c;
            loop {
                let s = &plan.streams[cur.0];
                chain.push(format!("{} ({})", s.name, s.op.name()));
                if materialized[cur.0] || consumers[cur.0].is_empty() {
                    break;
                }
                cur = consumers[cur.0][0];
            }
            stages.push(chain.join(" -> "));
        }
    }
    Fused { consumers, outputs_of, materialized, stages }
}

/// True for operators fed one element at a time from their input's loop (narrow operators and
/// per-batch aggregations); the others read their inputs whole (joins, transform, windows).
pub fn is_element_fed(op: &Op) -> bool {
    op.def().feed == Feed::Element
}

/// True for operators that read their input stream as a whole collection.
pub fn is_collection_fed(op: &Op) -> bool {
    op.def().feed == Feed::Collection
}

impl Fused {
    /// The stream's only consumer when it is fused into it.
    pub fn fused_consumer(&self, id: StreamId) -> Option<StreamId> {
        if self.materialized[id.0] { None } else { self.consumers[id.0].first().copied() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORD_COUNT: &str = r#"
app: wc
batch_interval: 1s
streams:
  - name: lines
    socket_text_stream: { host: localhost, port: 9999 }
  - name: words
    flat_map: { split: " " }
  - name: pairs
    map: { pair_with: 1 }
  - name: counts
    reduce_by_key: sum
outputs:
  - print: counts
"#;

    #[test]
    fn fusion_off_materializes_every_stream_and_changes_nothing_by_default() {
        let (mut spans, mut diags) = (crate::span::SpanTable::default(), crate::diag::Diagnostics::default());
        let crate::program::Program::DStream(mut p) = crate::front::yaml::parse(WORD_COUNT, &mut spans, &mut diags)
        else {
            panic!("a DStream spec")
        };
        crate::dstream::check(&mut p, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        let on = plan(&p);
        assert_eq!(on.materialized, [true, false, false, true]);
        assert_eq!(on.stages, ["lines -> words (flat_map) -> pairs (map) -> counts (reduce_by_key)"]);
        let off = plan_with(&p, Fusion::Off);
        assert_eq!(off.materialized, [true, true, true, true]);
        assert_eq!(off.stages.len(), 3, "{:?}", off.stages);
    }
}

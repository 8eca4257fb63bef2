//! `streamc graph`: the plan as a graph — operators as nodes, data flow as edges, each fused
//! stage (one loop per batch) as a cluster, its nodes filled with the stage's colour and marked
//! `*(n)` — in Graphviz `dot`, Mermaid, or SVG (the dot text laid out by layout-rs, Graphviz's
//! algorithm in Rust, which draws the colours and marks but not the cluster frames).

use crate::dstream::plan::Plan;
use crate::physical::{Fused, Physical};
use crate::program::Program;
use crate::table::{Checked, TStep, TablePlan};
use std::fmt::Write as _;

/// The id of node `k` of a plan graph in its dot text (`n3`); generated apps report each
/// operator's rows under it (`BatchOutput::report_rows`), so the UI labels them from the graph.
/// A DStream plan's stream `k` is node `k` (see `dstream_graph`); a Structured plan's nodes are
/// numbered as [`table_nodes`] says.
pub fn node_id(k: usize) -> String {
    format!("n{k}")
}

/// The text format of [`graph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Svg,
}

/// A plan graph: labelled nodes, edges, and clusters of nodes (fused stages).
#[derive(Debug, Default)]
struct Graph {
    nodes: Vec<String>,
    edges: Vec<(usize, usize)>,
    /// (stage number, title, nodes).
    clusters: Vec<(usize, String, Vec<usize>)>,
}

impl Graph {
    fn node(&mut self, label: String) -> usize {
        self.nodes.push(label);
        self.nodes.len() - 1
    }
}

/// The graph of a checked program in `format`; Err with layout-rs's message if it cannot draw
/// the dot text (`svg`).
pub fn graph(program: &Program, physical: &Physical, format: GraphFormat) -> Result<String, String> {
    let (name, g) = match (program, physical) {
        (Program::DStream(plan), Physical::DStream(fused)) => (plan.app.name.clone(), dstream_graph(plan, fused)),
        (Program::Table(plan), Physical::Table(queries)) => (plan.app.name.clone(), table_graph(plan, queries).0),
        _ => unreachable!("a program's physical plan is of its own kind (see `crate::finish`)"),
    };
    match format {
        GraphFormat::Dot => Ok(dot(&name, &g)),
        GraphFormat::Mermaid => Ok(mermaid(&g)),
        GraphFormat::Svg => svg(&dot(&name, &g)),
    }
}

/// The dot text of a DStream plan (what generated apps carry; their UI draws it).
pub fn dot_dstream(plan: &Plan, fused: &Fused) -> String {
    dot(&plan.app.name, &dstream_graph(plan, fused))
}

/// The dot text of a Structured Streaming plan (what generated apps carry; their UI draws it).
pub fn dot_table(plan: &TablePlan, queries: &[Checked]) -> String {
    dot(&plan.app.name, &table_graph(plan, queries).0)
}

/// The graph nodes of one Structured query, by index (see [`node_id`]).
#[derive(Clone, Debug, Default)]
pub struct QueryNodes {
    /// Per input of the query: the node that reads it (`read` or `watermark`).
    pub inputs: Vec<usize>,
    /// Per step of the query (`Checked::steps`).
    pub steps: Vec<usize>,
    /// The aggregation, if the query aggregates.
    pub agg: Option<usize>,
    /// The sink, or for a stage with another after it, the node of the rows it hands on.
    pub sink: usize,
    /// The nodes of the next stage.
    pub then: Option<Box<QueryNodes>>,
}

/// The graph nodes of each query of a Structured plan, in query order.
pub fn table_nodes(plan: &TablePlan, queries: &[Checked]) -> Vec<QueryNodes> {
    table_graph(plan, queries).1
}

/// The colour of fused stage `k`'s nodes (named colours both Graphviz and layout-rs know).
fn stage_color(k: usize) -> &'static str {
    const COLORS: &[&str] = &[
        "lightblue",
        "palegreen",
        "lightyellow",
        "lightpink",
        "lavender",
        "wheat",
        "lightcyan",
        "mistyrose",
        "honeydew",
    ];
    COLORS[k % COLORS.len()]
}

/// The dot text laid out and drawn as SVG by layout-rs.
fn svg(dot: &str) -> Result<String, String> {
    use layout::backends::svg::SVGWriter;
    use layout::gv::{DotParser, GraphBuilder};
    let ast = DotParser::new(dot).process().map_err(|e| format!("layout-rs cannot read the plan's dot text: {e}"))?;
    let mut builder = GraphBuilder::new();
    builder.visit_graph(&ast);
    let mut graph = builder.get();
    let mut out = SVGWriter::new();
    graph.do_it(false, false, false, &mut out);
    Ok(out.finalize())
}

/// Stream `k` is node `k`: the streams are the first nodes, in order.
fn dstream_graph(plan: &Plan, fused: &Fused) -> Graph {
    let mut g = Graph::default();
    for s in &plan.streams {
        g.node(format!("{}\n{} -> {}", s.name, s.op.name(), s.ty));
    }
    for (i, s) in plan.streams.iter().enumerate() {
        for input in &s.inputs {
            g.edges.push((input.0, i));
        }
    }
    // A stage: a materialized stream's loop, with the chain of streams fused into it, up to
    // and including the materialized stream it ends in.
    let mut in_cluster = vec![false; plan.streams.len()];
    // Numbered as `explain` numbers the stages (one per chain, in the same order).
    let mut stage = 0;
    for (root, _) in plan.streams.iter().enumerate().filter(|(i, _)| fused.materialized[*i]) {
        for &first in &fused.consumers[root] {
            stage += 1;
            let mut members = Vec::new();
            let mut cur = first.0;
            loop {
                if !in_cluster[cur] {
                    in_cluster[cur] = true;
                    members.push(cur);
                }
                if fused.materialized[cur] || fused.consumers[cur].is_empty() {
                    break;
                }
                cur = fused.consumers[cur][0].0;
            }
            if !members.is_empty() {
                g.clusters.push((stage, format!("*({stage}) one loop over {}", plan.streams[root].name), members));
            }
        }
    }
    for o in &plan.outputs {
        let n = g.node(format!("{}({})", o.kind.name(), plan.streams[o.input.0].name));
        g.edges.push((o.input.0, n));
    }
    g
}

fn table_graph(plan: &TablePlan, queries: &[Checked]) -> (Graph, Vec<QueryNodes>) {
    let mut g = Graph::default();
    let mut nodes = Vec::with_capacity(queries.len());
    let sources: Vec<usize> = plan
        .sources
        .iter()
        .map(|s| {
            g.node(format!(
                "{}\nsource [{}]",
                s.name,
                s.schema.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })
        .collect();
    for (k, q) in queries.iter().enumerate() {
        let mut members = Vec::new();
        let mut last = None;
        let ids = stage_graph(&mut g, plan, q, &sources, &mut members, &mut last);
        g.clusters.push((k + 1, format!("*({}) query {}", k + 1, q.name), members));
        nodes.push(ids);
    }
    (g, nodes)
}

/// The nodes of one stage of a query (and of the stages after it), chained after `last`.
fn stage_graph(
    g: &mut Graph,
    plan: &TablePlan,
    q: &Checked,
    sources: &[usize],
    members: &mut Vec<usize>,
    last: &mut Option<usize>,
) -> QueryNodes {
    let mut ids = QueryNodes::default();
    let joined = q.steps.iter().any(|s| matches!(s, TStep::StreamJoin(_)));
    let mut right_read = None;
    for (k, i) in q.inputs.iter().enumerate() {
        let label = match i.watermark {
            Some((c, d)) => format!("watermark {}\n{d} ms", plan.sources[i.source].schema[c].name),
            None => format!("read {}", plan.sources[i.source].name),
        };
        let n = g.node(label);
        g.edges.push((sources[i.source], n));
        members.push(n);
        ids.inputs.push(n);
        if joined && k == 1 {
            right_read = Some(n);
            continue;
        }
        *last = Some(match *last {
            None => n,
            Some(prev) => {
                let u = g.node("union".to_owned());
                g.edges.push((prev, u));
                g.edges.push((n, u));
                members.push(u);
                u
            }
        });
    }
    for st in &q.steps {
        let label = match st {
            TStep::Project(cols) => format!("project\n{} columns", cols.len()),
            TStep::Explode { name, .. } => format!("explode\n{name}"),
            TStep::Filter(e) => format!("filter\n{e}"),
            TStep::Watermark { column } => format!("watermark\n{column}"),
            TStep::Dedup { .. } => "deduplicate\n(state)".to_owned(),
            TStep::GroupsWithState(gs) => {
                let keys: Vec<&str> = gs.keys.iter().map(|(n, _)| n.as_str()).collect();
                let what = if gs.flat { "flat_map_groups_with_state" } else { "map_groups_with_state" };
                format!("{what} (state)\nby [{}]", keys.join(", "))
            }
            TStep::StreamJoin(j) => {
                let n = chain(g, format!("stream-stream join (state)\n{}", j.how.spark()), members, last);
                if let Some(r) = right_read {
                    g.edges.push((r, n));
                }
                ids.steps.push(n);
                continue;
            }
            TStep::Join { table, .. } => {
                let n = chain(g, "join (static)".to_owned(), members, last);
                g.edges.push((sources[*table], n));
                ids.steps.push(n);
                continue;
            }
        };
        ids.steps.push(chain(g, label, members, last));
    }
    if let Some(a) = &q.agg {
        let keys: Vec<&str> = a.keys.iter().map(|(n, _, _)| n.as_str()).collect();
        let window = if a.window.is_some() { "window, " } else { "" };
        let label = format!("aggregate (state)\nby [{window}{}]", keys.join(", "));
        ids.agg = Some(chain(g, label, members, last));
    }
    match &q.then {
        Some(next) => {
            // The rows this stage emits are the next stage's input, with its watermark.
            ids.sink = chain(g, format!("emitted rows\nto stage {}", next.stage + 1), members, last);
            ids.then = Some(Box::new(stage_graph(g, plan, next, sources, members, last)));
        }
        None => {
            let sink = g.node(format!("sink {}\n{:?} mode", q.name, q.mode).to_lowercase());
            if let Some(p) = *last {
                g.edges.push((p, sink));
            }
            ids.sink = sink;
        }
    }
    ids
}

/// Adds a node after `last` in the query's fused loop.
fn chain(g: &mut Graph, label: String, members: &mut Vec<usize>, last: &mut Option<usize>) -> usize {
    let n = g.node(label);
    if let Some(p) = *last {
        g.edges.push((p, n));
    }
    members.push(n);
    *last = Some(n);
    n
}

fn quoted(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn dot(name: &str, g: &Graph) -> String {
    let mut out =
        format!("digraph \"{}\" {{\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n", quoted(name));
    let mut clustered = vec![false; g.nodes.len()];
    for (k, (stage, title, members)) in g.clusters.iter().enumerate() {
        let _ = writeln!(out, "  subgraph cluster_{k} {{\n    label=\"{}\";\n    style=rounded;", quoted(title));
        for &m in members {
            clustered[m] = true;
            let label = format!("{}\n*({stage})", g.nodes[m]);
            let (id, color) = (node_id(m), stage_color(k));
            let _ = writeln!(out, "    {id} [label=\"{}\", style=filled, fillcolor={color}];", quoted(&label));
        }
        out.push_str("  }\n");
    }
    for (i, label) in g.nodes.iter().enumerate() {
        if !clustered[i] {
            let _ = writeln!(out, "  {} [label=\"{}\"];", node_id(i), quoted(label));
        }
    }
    for (a, b) in &g.edges {
        let _ = writeln!(out, "  {} -> {};", node_id(*a), node_id(*b));
    }
    out.push_str("}\n");
    out
}

fn mermaid(g: &Graph) -> String {
    // Mermaid labels: quoted, `<br>` for line breaks, `#quot;` for quotes.
    let label = |s: &str| s.replace('"', "#quot;").replace('\n', "<br>");
    let mut out = String::from("flowchart TD\n");
    let mut clustered = vec![false; g.nodes.len()];
    for (k, (_, title, members)) in g.clusters.iter().enumerate() {
        let _ = writeln!(out, "  subgraph s{k}[\"{}\"]", label(title));
        for &m in members {
            clustered[m] = true;
            let _ = writeln!(out, "    n{m}[\"{}\"]", label(&g.nodes[m]));
        }
        out.push_str("  end\n");
    }
    for (i, l) in g.nodes.iter().enumerate() {
        if !clustered[i] {
            let _ = writeln!(out, "  n{i}[\"{}\"]", label(l));
        }
    }
    for (a, b) in &g.edges {
        let _ = writeln!(out, "  n{a} --> n{b}");
    }
    out
}

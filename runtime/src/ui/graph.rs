//! The plan's graph on the page: the dot text the app carries (`AppBuilder::plan`), its nodes'
//! labels (which name the operators the generated code reports by node id), and the graph
//! drawn as SVG (layout-rs) with the last batch's rows and state written into its nodes.

use crate::sink::StateReport;

/// The dot text drawn as SVG (layout-rs, as `streamc graph --format svg`); empty when there is
/// none or it does not parse.
pub(crate) fn draw(dot: &str) -> String {
    use layout::backends::svg::SVGWriter;
    use layout::gv::{DotParser, GraphBuilder};
    if dot.is_empty() {
        return String::new();
    }
    let Ok(ast) = DotParser::new(dot).process() else { return String::new() };
    let mut builder = GraphBuilder::new();
    builder.visit_graph(&ast);
    let mut graph = builder.get();
    let mut out = SVGWriter::new();
    graph.do_it(false, false, false, &mut out);
    out.finalize()
}

/// A node statement of the dot text streamc writes (`  n3 [label="…", …];`): the byte range of
/// the label's text (between its quotes) and the node's id.
fn node_line(line: &str) -> Option<(&str, std::ops::Range<usize>)> {
    let indent = line.len() - line.trim_start().len();
    let rest = &line[indent..];
    let (id, after) = rest.split_once(" [label=\"")?;
    if !id.starts_with('n') || !id[1..].bytes().all(|b| b.is_ascii_digit()) || id.len() < 2 {
        return None;
    }
    let start = indent + id.len() + " [label=\"".len();
    let mut escaped = false;
    for (i, c) in after.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some((id, start..start + i)),
            _ => {}
        }
    }
    None
}

/// The nodes of the dot text: each id with its label as one line (its lines joined by ` · `,
/// without the fused stage's mark `*(n)`).
pub(super) fn nodes(dot: &str) -> Vec<(String, String)> {
    dot.lines()
        .filter_map(|line| {
            let (id, range) = node_line(line)?;
            let text = line[range].replace("\\\"", "\"").replace("\\\\", "\\");
            let parts: Vec<&str> = text.split("\\n").filter(|p| !(p.starts_with("*(") && p.ends_with(')'))).collect();
            Some((id.to_owned(), parts.join(" · ")))
        })
        .collect()
}

/// `n` bytes for people: B, KiB, MiB, GiB.
pub(super) fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut x = n as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{x:.1} {}", UNITS[unit]) }
}

fn rows_text(n: u64) -> String {
    if n == 1 { "1 row".to_owned() } else { format!("{n} rows") }
}

/// The dot text with each reported node's figures of a batch added to its label: rows put out
/// (summed over reports), and rows and memory in state.
pub(super) fn annotate(dot: &str, rows: &[(&str, u64)], state: &[StateReport]) -> String {
    let mut out = String::with_capacity(dot.len() + 64 * rows.len());
    for line in dot.lines() {
        let Some((id, range)) = node_line(line) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let mut extra = String::new();
        let reported: Vec<u64> = rows.iter().filter(|(n, _)| *n == id).map(|(_, r)| *r).collect();
        if !reported.is_empty() {
            extra.push_str(&format!("\\n{}", rows_text(reported.iter().sum())));
        }
        for s in state.iter().filter(|s| s.node == id) {
            extra.push_str(&format!("\\nstate: {}", rows_text(s.rows_total)));
            if let Some(m) = s.memory_bytes {
                extra.push_str(&format!(", {}", bytes(m)));
            }
        }
        out.push_str(&line[..range.end]);
        out.push_str(&extra);
        out.push_str(&line[range.end..]);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOT: &str = "digraph \"a\" {\n  subgraph cluster_0 {\n    label=\"*(1) one loop\";\n    \
                       n1 [label=\"words\\nflat_map -> &str\\n*(1)\", style=filled];\n  }\n  \
                       n0 [label=\"lines\\nsay \\\"hi\\\"\"];\n  n0 -> n1;\n}\n";

    #[test]
    fn nodes_are_read_with_their_labels_and_annotated_with_a_batch() {
        assert_eq!(
            nodes(DOT),
            [
                ("n1".to_owned(), "words · flat_map -> &str".to_owned()),
                ("n0".to_owned(), "lines · say \"hi\"".to_owned())
            ]
        );
        let state = [StateReport { node: "n1", rows_total: 3, memory_bytes: Some(2048), ..StateReport::default() }];
        let a = annotate(DOT, &[("n1", 5), ("n1", 2), ("other", 9)], &state);
        assert!(
            a.contains(
                "n1 [label=\"words\\nflat_map -> &str\\n*(1)\\n7 rows\\nstate: 3 rows, 2.0 KiB\", style=filled];"
            ),
            "{a}"
        );
        assert!(a.contains("n0 [label=\"lines\\nsay \\\"hi\\\"\"];"), "{a}");
        assert!(!draw(&a).is_empty(), "the annotated graph draws");
        assert_eq!(bytes(10), "10 B");
        assert_eq!(bytes(3 << 20), "3.0 MiB");
    }
}

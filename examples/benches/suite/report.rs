//! The suite's results: one row per measurement, printed as a markdown table, written as JSON
//! (`STREAMC_SUITE_JSON=FILE`) and drawn as an SVG bar chart of throughput (hand-written SVG
//! text: no plotting crate to build).

use std::fmt::Write as _;

/// One measured figure.
#[derive(Debug, Clone)]
pub struct Row {
    /// The benchmark (issue 6's numbering): "1. word count", ...
    pub bench: String,
    /// What was measured within it: "stream! pipeline", "q5 hot items", ...
    pub variant: String,
    /// The figure and its unit, e.g. 14.2 and "M words/s".
    pub value: f64,
    pub unit: String,
    /// A ratio measured in the same run, and what it is relative to.
    pub ratio: Option<(f64, String)>,
    /// The target of issue 6 this row is checked against, if any, and whether it was met.
    pub target: Option<(String, bool)>,
    /// Throughput in records per second, for the chart (None: not a throughput).
    pub chart: Option<f64>,
    /// A reference line drawn on the chart next to the bar (e.g. Flink's per-core figure).
    pub reference: Option<(f64, String)>,
}

impl Row {
    pub fn new(bench: &str, variant: &str, value: f64, unit: &str) -> Row {
        Row {
            bench: bench.to_owned(),
            variant: variant.to_owned(),
            value,
            unit: unit.to_owned(),
            ratio: None,
            target: None,
            chart: None,
            reference: None,
        }
    }

    pub fn ratio(mut self, r: f64, of: &str) -> Row {
        self.ratio = Some((r, of.to_owned()));
        self
    }

    pub fn target(mut self, what: &str, met: bool) -> Row {
        self.target = Some((what.to_owned(), met));
        self
    }

    pub fn chart(mut self, records_per_s: f64) -> Row {
        self.chart = Some(records_per_s);
        self
    }

    pub fn reference(mut self, records_per_s: f64, label: &str) -> Row {
        self.reference = Some((records_per_s, label.to_owned()));
        self
    }
}

fn fmt_value(v: f64) -> String {
    if !v.is_finite() {
        "n/a".to_owned()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The rows as a markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut s = String::from(
        "| benchmark | variant | result | ratio (same run) | target (issue 6) |\n|---|---|---:|---|---|\n",
    );
    for r in rows {
        let ratio = r.ratio.as_ref().map_or(String::new(), |(x, of)| format!("{x:.2}× {of}"));
        let target = r
            .target
            .as_ref()
            .map_or(String::new(), |(t, met)| format!("{t}: {}", if *met { "met" } else { "**missed**" }));
        let _ = writeln!(s, "| {} | {} | {} {} | {ratio} | {target} |", r.bench, r.variant, fmt_value(r.value), r.unit);
    }
    s
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_num(v: f64) -> String {
    if v.is_finite() { format!("{v}") } else { "null".to_owned() }
}

/// The rows and the run's context as JSON (one object; `rows` in table order).
pub fn json(rows: &[Row], context: &[(&str, String)]) -> String {
    let mut s = String::from("{\n");
    for (k, v) in context {
        let _ = writeln!(s, "  {}: {},", json_str(k), json_str(v));
    }
    s.push_str("  \"rows\": [\n");
    for (i, r) in rows.iter().enumerate() {
        let _ = write!(
            s,
            "    {{\"bench\": {}, \"variant\": {}, \"value\": {}, \"unit\": {}",
            json_str(&r.bench),
            json_str(&r.variant),
            json_num(r.value),
            json_str(&r.unit)
        );
        if let Some((x, of)) = &r.ratio {
            let _ = write!(s, ", \"ratio\": {}, \"ratio_of\": {}", json_num(*x), json_str(of));
        }
        if let Some((t, met)) = &r.target {
            let _ = write!(s, ", \"target\": {}, \"met\": {met}", json_str(t));
        }
        if let Some(c) = r.chart {
            let _ = write!(s, ", \"records_per_s\": {}", json_num(c));
        }
        s.push('}');
        s.push_str(if i + 1 < rows.len() { ",\n" } else { "\n" });
    }
    s.push_str("  ]\n}\n");
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A horizontal bar chart of the rows that are throughputs, on a log scale (the figures span
/// 10⁴ to 10⁸ records/s), with reference marks (Flink's published figures) where given.
pub fn svg(rows: &[Row], title: &str) -> String {
    let bars: Vec<&Row> = rows.iter().filter(|r| r.chart.is_some_and(|c| c > 0.0 && c.is_finite())).collect();
    let (left, right, top, bar_h, gap) = (330.0, 40.0, 60.0, 18.0, 6.0);
    let plot_w = 560.0;
    let width = left + plot_w + right;
    let height = top + bars.len() as f64 * (bar_h + gap) + 60.0;
    let lo = 1e4_f64.log10();
    let hi = 1e8_f64.log10();
    let x = |v: f64| left + ((v.max(1e4).log10() - lo) / (hi - lo)).min(1.0) * plot_w;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(s, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let _ = writeln!(s, "<text x=\"{}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{}</text>", 10, esc(title));
    let _ = writeln!(
        s,
        "<text x=\"10\" y=\"42\" fill=\"#555\">records/s (words, events or keys), log scale; \
         one process, one run; red marks: Flink's published per-core figures</text>"
    );
    let axis_y = top + bars.len() as f64 * (bar_h + gap);
    for p in 4..=8 {
        let xv = x(10f64.powi(p));
        let _ = writeln!(
            s,
            "<line x1=\"{xv:.1}\" y1=\"{top}\" x2=\"{xv:.1}\" y2=\"{axis_y}\" stroke=\"#ddd\"/>\
             <text x=\"{xv:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            axis_y + 16.0,
            ["10k", "100k", "1M", "10M", "100M"][(p - 4) as usize]
        );
    }
    let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#e15759", "#9c755f"];
    let mut group = 0usize;
    let mut last_bench = "";
    for (i, r) in bars.iter().enumerate() {
        if r.bench != last_bench && i > 0 {
            group += 1;
        }
        last_bench = &r.bench;
        let v = r.chart.unwrap_or(0.0);
        let y = top + i as f64 * (bar_h + gap);
        let label = format!("{} · {}", r.bench, r.variant);
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            y + bar_h - 5.0,
            esc(&label)
        );
        let _ = writeln!(
            s,
            "<rect x=\"{left}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bar_h}\" fill=\"{}\"/>",
            (x(v) - left).max(1.0),
            palette[group % palette.len()]
        );
        let text = if v >= 1e6 { format!("{:.2} M/s", v / 1e6) } else { format!("{:.0} k/s", v / 1e3) };
        let _ = writeln!(s, "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#222\">{text}</text>", x(v) + 4.0, y + bar_h - 5.0);
        if let Some((refv, _)) = &r.reference {
            let xr = x(*refv);
            let _ = writeln!(
                s,
                "<line x1=\"{xr:.1}\" y1=\"{:.1}\" x2=\"{xr:.1}\" y2=\"{:.1}\" stroke=\"#d62728\" stroke-width=\"3\"/>",
                y - 2.0,
                y + bar_h + 2.0
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

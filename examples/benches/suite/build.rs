//! The examples crate's build script, for the benchmark suite (`benches/suite.rs`): it runs the
//! streamc library to generate, into `OUT_DIR`, the pipelines the `stream!` macro cannot give
//! the suite, and times the macro's expansion.
//!
//! * `wc_yaml.rs`: the app expression of `examples/word_count.yaml` (what `streamc expand`
//!   prints, without `main`), so the suite times the YAML front end's pipeline in-process, over
//!   the same replayed files as the `stream!` one, without process start-up.
//! * `wc_unfused.rs`: the suite's `stream!` word count body compiled with fusion off
//!   (`physical::Fusion::Off`: every operator a separate pass over a `Vec`).
//! * `q1_unfused.rs`: the suite's Nexmark q1 body compiled with fusion off.
//! * `latency_app.rs`: the latency benchmark's `stream!` body with its socket port replaced by
//!   the identifier `suite_port`, so the suite can listen on an ephemeral port.
//! * `structured_app.rs`: the app expression of `examples/windowed_event_counts.yaml` (the
//!   structured benchmark's query, `benches/structured.rs`) with its checkpoint and file sink
//!   taken off (a console sink only), as the hand-written loop it is compared with keeps no
//!   checkpoint and writes no files; the query's steps are the example's, whatever they become.
//! * `structured_csv_app.rs`: the same with the source read as CSV (`timestamp,word` lines);
//! * `structured_avg_app.rs`: `structured_app.rs` with `avg(length(word))` added to the
//!   aggregates (an aggregate of doubles: its workers hand rows off to the batch thread);
//! * `swc_app.rs`: the app expression of `examples/structured_word_count.yaml`, which the
//!   suite runs against Spark's same query (benchmark 8).
//! * `expansion.rs`: the median time of `streamc::compile_macro` on the word count body and of
//!   `streamc::expand_yaml` on `word_count.yaml`, measured here because a build script runs the
//!   streamc library as the proc macro does (a host build with `opt-level = 0`).

use std::path::Path;
use std::str::FromStr;
use std::time::Instant;

use proc_macro2::TokenStream;
use streamc::physical::{self, Fusion};

/// The body of the `stream!` word count of `benches/word_count.rs` (`compiled`), which the suite
/// runs too; keep the two identical.
const WC_BODY: &str = r#"
    app_name("bench_word_count");
    batch_interval(Seconds(1));
    let lines = socket_text_stream("localhost", 9999);
    let words = lines.flat_map(|line| java_split(line, " "));
    let pairs = words.map(|word| (word, 1i64));
    let word_counts = pairs.reduce_by_key(|a, b| a + b);
    word_counts.print();
"#;

/// Nexmark q1 of `benches/suite/nexmark.rs` (keep the two identical), compiled again with fusion
/// off: a chain of narrow operators (filter, parse, map) where each becomes a pass over a `Vec`.
const Q1_BODY: &str = r#"
    app_name("nexmark_q1");
    batch_interval(Seconds(1));
    let events = socket_text_stream("localhost", 9999);
    let bids = events.filter(|l| l.starts_with("B,")).map(|l| parse_bid(l));
    let euros = bids.map(|b| (b.0, b.1, b.2 * 908 / 1000, b.3));
    euros.foreach_batch(|_t, records| count(black_box(records).len()));
"#;

/// The latency pipeline: each line is the time it was sent (ns on the suite's clock); the
/// `foreach_batch` output records, per record, the time it reached the output.
const LATENCY_BODY: &str = r#"
    app_name("bench_latency");
    batch_interval(Milliseconds(10));
    let lines = socket_text_stream("127.0.0.1", 9);
    let sent = lines.map(|line| line.parse::<u64>().unwrap_or(0));
    sent.foreach_batch(|_time_ms, records| record_latencies(&latency_sink, records));
"#;

fn main() {
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let out = Path::new(&out);
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let yaml_path = Path::new(&manifest).join("word_count.yaml");
    println!("cargo::rerun-if-changed={}", yaml_path.display());
    println!("cargo::rerun-if-changed=benches/suite/build.rs");
    let yaml = std::fs::read_to_string(&yaml_path).expect("read examples/word_count.yaml");

    let c = streamc::compile_yaml(&yaml);
    let phys = c.physical.as_ref().expect("examples/word_count.yaml compiles");
    write(out, "wc_yaml.rs", &streamc::app_expr(&c, phys).to_string());

    let swc_path = Path::new(&manifest).join("structured_word_count.yaml");
    println!("cargo::rerun-if-changed={}", swc_path.display());
    let swc = std::fs::read_to_string(&swc_path).expect("read examples/structured_word_count.yaml");
    let c = streamc::compile_yaml(&swc);
    let phys = c.physical.as_ref().expect("examples/structured_word_count.yaml compiles");
    write(out, "swc_app.rs", &streamc::app_expr(&c, phys).to_string());

    let events_path = Path::new(&manifest).join("windowed_event_counts.yaml");
    println!("cargo::rerun-if-changed={}", events_path.display());
    let events = std::fs::read_to_string(&events_path).expect("read examples/windowed_event_counts.yaml");
    let (mut c, queries) = console_only(&events, "examples/windowed_event_counts.yaml");
    let queries_csv = queries.clone();
    write(out, "structured_app.rs", &streamc::app_expr(&c, &physical::Physical::Table(queries)).to_string());

    // The same query over CSV files (`timestamp,word` lines, the same schema): the bench's CSV
    // run.
    let streamc::program::Program::Table(plan) = &mut c.program else { panic!("a Structured spec") };
    for s in &mut plan.sources {
        if let streamc::table::SourceKind::Files { format, .. } = &mut s.kind {
            *format = streamc::table::Format::Csv;
        }
    }
    write(out, "structured_csv_app.rs", &streamc::app_expr(&c, &physical::Physical::Table(queries_csv)).to_string());

    // The structured bench's query with an aggregate of doubles added (the mean word length per
    // window and word): partial states cannot merge it exactly, so its workers hand rows off.
    let avg = events.replace(r#"agg: ["count(*)"]"#, r#"agg: ["count(*)", "avg(length(word)) AS mean_length"]"#);
    assert_ne!(avg, events, "examples/windowed_event_counts.yaml aggregates `count(*)`");
    let (c, queries) = console_only(&avg, "the structured bench's query with `avg`");
    write(out, "structured_avg_app.rs", &streamc::app_expr(&c, &physical::Physical::Table(queries)).to_string());

    let c = streamc::compile_tokens(tokens(WC_BODY));
    assert!(c.physical.is_some(), "the word count body compiles: {:?}", c.diags);
    let streamc::program::Program::DStream(plan) = &c.program else { panic!("a DStream body") };
    let unfused = physical::Physical::DStream(physical::plan_with(plan, Fusion::Off));
    write(out, "wc_unfused.rs", &streamc::app_expr(&c, &unfused).to_string());

    let c = streamc::compile_tokens(tokens(Q1_BODY));
    assert!(c.physical.is_some(), "the q1 body compiles: {:?}", c.diags);
    let streamc::program::Program::DStream(plan) = &c.program else { panic!("a DStream body") };
    let unfused = physical::Physical::DStream(physical::plan_with(plan, Fusion::Off));
    write(out, "q1_unfused.rs", &streamc::app_expr(&c, &unfused).to_string());

    let c = streamc::compile_tokens(tokens(LATENCY_BODY));
    let phys = c.physical.as_ref().expect("the latency body compiles");
    let code = streamc::app_expr(&c, phys).to_string();
    let (placeholder, n) = ("9u16", code.matches("9u16").count());
    assert_eq!(n, 1, "the socket port appears once in the generated latency app");
    write(out, "latency_app.rs", &code.replace(placeholder, "suite_port"));

    // Expansion time, as the proc macro sees it: tokens in, tokens out (lexing not included).
    let body = tokens(WC_BODY);
    let macro_us = median_us(50, || drop(streamc::compile_macro(body.clone())));
    let yaml_us = median_us(50, || drop(streamc::expand_yaml("word_count.yaml", &yaml)));
    write(
        out,
        "expansion.rs",
        &format!(
            "/// Median µs of `streamc::compile_macro` on the word count body (build script, opt-level 0).\n\
                  pub const MACRO_US: f64 = {macro_us:.1};\n\
                  /// Median µs of `streamc::expand_yaml` on `word_count.yaml` (build script, opt-level 0).\n\
                  pub const YAML_US: f64 = {yaml_us:.1};\n"
        ),
    );
}

/// The Structured spec `yaml` (`what`, for a failure's message) compiled, with its checkpoint
/// and sinks taken off but a console sink (whose text the benches send to `std::io::sink()`):
/// the program and its queries.
fn console_only(yaml: &str, what: &str) -> (streamc::Compilation, Vec<streamc::table::Checked>) {
    let mut c = streamc::compile_yaml(yaml);
    let Some(physical::Physical::Table(mut queries)) = c.physical.take() else {
        panic!("{what} compiles to a Structured query: {:?}", c.diags)
    };
    let streamc::program::Program::Table(plan) = &mut c.program else { panic!("{what}: a Structured spec") };
    plan.app.checkpoint_dir = None;
    for q in &mut queries {
        q.sinks = vec![streamc::table::Sink::Console { num_rows: 20, truncate: true }];
    }
    (c, queries)
}

fn tokens(src: &str) -> TokenStream {
    TokenStream::from_str(src).expect("a valid token stream")
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("write {name}: {e}"));
}

fn median_us(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

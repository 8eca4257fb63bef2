//! Fuzzing of the front ends in the normal test suite: mutated real specs (YAML), random SQL and
//! column expressions, and mutated `stream!` bodies go through the same library calls as
//! `streamc check` / `expand` and the macro. Every input must come back with diagnostics or
//! generated code: no panic, a failed compile always has at least one diagnostic, and every case
//! finishes within [`CASE_TIME_LIMIT`].
//!
//! `STREAMC_FUZZ_CASES=N` sets the number of cases per target (default 256, which keeps the file
//! well under 30 s in debug); for a long run: `STREAMC_FUZZ_CASES=200000 cargo test --release -p
//! streamc --test fuzz` (`STREAMC_FUZZ_SEED=N` explores other inputs).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::mpsc;
use std::time::Duration;

use proc_macro2::{TokenStream, TokenTree};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

mod common;
use common::root;

/// How long one case may take, parse to generated code, before it counts as a hang.
const CASE_TIME_LIMIT: Duration = Duration::from_secs(5);

fn cases() -> u32 {
    std::env::var("STREAMC_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256)
}

/// A runner with a fixed seed, so a CI run is reproducible; `STREAMC_FUZZ_SEED=N` picks another.
fn runner() -> TestRunner {
    let seed: u64 = std::env::var("STREAMC_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases: cases(),
        // Regressions are kept as ordinary tests (below), not as files beside the crate.
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Runs `f` on its own thread: a panic or a run longer than [`CASE_TIME_LIMIT`] fails the case,
/// naming `what` and showing the input.
fn bounded<F>(what: &str, input: &str, f: F) -> Result<(), TestCaseError>
where
    F: FnOnce() -> Result<(), String> + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(format!("fuzz-{what}"))
        .spawn(move || {
            let r = catch_unwind(AssertUnwindSafe(f));
            let _ = tx.send(r);
        })
        .expect("spawn a fuzz thread");
    match rx.recv_timeout(CASE_TIME_LIMIT) {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(msg))) => Err(TestCaseError::fail(format!("{what}: {msg}\ninput:\n{input:?}"))),
        Ok(Err(payload)) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(TestCaseError::fail(format!("{what} panicked: {msg}\ninput:\n{input:?}")))
        }
        // The thread is left running: the test fails anyway.
        Err(_) => Err(TestCaseError::fail(format!("{what} took longer than {CASE_TIME_LIMIT:?}\ninput:\n{input:?}"))),
    }
}

// ----- what one case checks -------------------------------------------------------------------

/// `streamc check` and `streamc expand` on a YAML spec: diagnostics (rendered) or a `main.rs`.
fn check_yaml(src: String) -> Result<(), String> {
    let c = streamc::compile_yaml(&src);
    match &c.physical {
        Some(phys) if c.diags.is_empty() => {
            let main = streamc::codegen::main_file(&c.program, phys, &c.spans, "fuzz.yaml");
            if main.is_empty() {
                return Err("an accepted spec generated no code".into());
            }
        }
        _ => {
            if c.diags.is_empty() {
                return Err("rejected without a diagnostic".into());
            }
            let text = streamc::diag::render_text(&c.diags, &c.spans, "fuzz.yaml", &src);
            if !text.contains("error") {
                return Err(format!("the rendered diagnostics name no error:\n{text}"));
            }
        }
    }
    Ok(())
}

/// The `stream!` macro on a body: generated code, or `compile_error!`s with a placeholder.
fn check_tokens(body: String) -> Result<(), String> {
    // Parsed here, on the case's own thread: proc-macro2's span table is per thread.
    let Ok(tokens) = TokenStream::from_str(&body) else {
        // Not tokens at all: rustc would reject it before the macro runs.
        return Ok(());
    };
    let c = streamc::compile_tokens(tokens.clone());
    if c.physical.is_none() && c.diags.is_empty() {
        return Err("rejected without a diagnostic".into());
    }
    let out = streamc::compile_macro(tokens).to_string();
    if c.physical.is_none() && !out.contains("compile_error") {
        return Err(format!("a rejected body expanded without `compile_error!`: {out}"));
    }
    Ok(())
}

/// The column-expression and SQL parsers on their own.
fn check_expr_and_sql(text: String) -> Result<(), String> {
    let _ = streamc::table::expr::parse(&text);
    let _ = streamc::table::expr::parse_aliased(&text);
    let mut at = |_| streamc::span::SpanTable::unknown();
    if let Err(errors) = streamc::front::sql::lower(&text, &[], &mut at)
        && errors.is_empty()
    {
        return Err("SQL rejected without an error".into());
    }
    Ok(())
}

// ----- seeds ----------------------------------------------------------------------------------

fn yaml_seeds() -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![root().join("examples"), root().join("tests/data/check")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot read {}: {e}", d.display())) {
            let p = e.expect("dir entry").path();
            if p.is_dir() && d != root().join("examples") {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 10, "expected the examples and check specs, found {files:?}");
    files.iter().map(|f| std::fs::read_to_string(f).expect("read a seed spec")).collect()
}

/// The bodies of the `stream! { ... }` blocks in `examples/src/bin`.
fn macro_seeds() -> Vec<String> {
    let dir = root().join("examples/src/bin");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).expect("examples/src/bin").map(|e| e.expect("dir entry").path()).collect();
    files.sort();
    let mut bodies = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read an example");
        let Some(start) = text.find("stream! {") else { continue };
        let open = start + "stream! ".len();
        let mut depth = 0;
        for (i, ch) in text[open..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        bodies.push(text[open + 1..open + i].to_owned());
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    assert!(bodies.len() >= 3, "expected the stream! examples, found {}", bodies.len());
    bodies
}

/// SQL written in the seed specs (their `sql:` values), plus a few hand-written ones.
fn sql_seeds(yaml: &[String]) -> Vec<String> {
    let mut v: Vec<String> = yaml
        .iter()
        .flat_map(|s| s.lines())
        .filter_map(|l| l.trim_start().strip_prefix("sql:"))
        .map(|s| s.trim().trim_matches('"').to_owned())
        .filter(|s| !s.is_empty() && s != "|")
        .collect();
    v.push("SELECT word, count(*) AS n FROM events GROUP BY word".into());
    v.push("SELECT w FROM (SELECT explode(split(value, ' ')) AS w FROM lines) t WHERE length(w) > 2".into());
    v.push("SELECT upper(trim(word)) AS u, timestamp FROM events LATERAL VIEW explode(split(word, ' ')) x AS y".into());
    v
}

// ----- mutations ------------------------------------------------------------------------------

/// Tokens that YAML, SQL, expressions and Rust give meaning to.
const TOKENS: &[&str] = &[
    ": ",
    "- ",
    "\n",
    "\n  ",
    "\n    - ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\"",
    "'",
    "#",
    "&a ",
    "*a",
    "!!str ",
    "!!int ",
    "|",
    ">",
    "? ",
    "~",
    "null",
    "true",
    "---",
    "...",
    "<<: ",
    "\t",
    "\u{feff}",
    "é",
    "\u{1F600}",
    "\\",
    "%",
    "@",
    "0",
    "-1",
    "1e309",
    "99999999999999999999999",
    "0x10",
    "1.5",
    "-0",
    "0ms",
    "1s",
    "10 minutes",
    "-5s",
    "18446744073709551616ms",
    "SELECT ",
    " FROM ",
    " WHERE ",
    " GROUP BY ",
    " ORDER BY ",
    " LIMIT 1",
    " AS ",
    " JOIN ",
    " HAVING ",
    " DISTINCT ",
    "(",
    ")",
    "*",
    "count(*)",
    "window(",
    "explode(",
    "split(",
    " AND ",
    " OR ",
    " NOT ",
    "=",
    "<>",
    "+",
    "/",
    " LATERAL VIEW ",
    "timestamp",
    "word",
    "value",
    "events",
    "lines",
    "name: ",
    "from: ",
    "map: ",
    "flat_map: ",
    "reduce_by_key: ",
    "window: ",
    "print: ",
    "sql: ",
    "steps: ",
    "select: ",
    "group_by: ",
    "agg: ",
    "with_watermark: ",
    "output_mode: ",
    "sink: ",
    "schema: ",
    "json: ",
    "max_line_bytes: ",
    "max_rate: ",
    "trigger: ",
    "checkpoint: ",
    "batch_interval: ",
    "|x| x",
    "|a, b| a + b",
    "|w: &str| (w, 1)",
    ".",
    ";",
    "::",
    "=>",
    "->",
    "let ",
    "fn ",
    "map",
    "flat_map",
    "reduce_by_key",
    "map_with_state",
    "reduce_by_key_and_window",
    "Seconds(1)",
    "Minutes(0)",
    "Milliseconds(3)",
    "print()",
    "batch_interval",
    "socket_text_stream",
    "text_file_stream",
    "checkpoint",
    "union",
    "join",
    "window",
];

#[derive(Clone, Debug)]
enum Mutation {
    /// Replace the byte at a position (a fraction of the length, in 1/65536) with this byte.
    Flip(u16, u8),
    /// Cut the text at a position.
    Truncate(u16),
    /// Insert `TOKENS[i]` at a position.
    Insert(u16, usize),
    /// Remove a range: from a position, this many bytes.
    Delete(u16, u8),
    /// Repeat the line at a position.
    DuplicateLine(u16),
    /// Move the text from a position to the end to another position.
    Splice(u16, u16),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<u16>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        1 => any::<u16>().prop_map(Mutation::Truncate),
        4 => (any::<u16>(), 0..TOKENS.len()).prop_map(|(p, t)| Mutation::Insert(p, t)),
        2 => (any::<u16>(), 1u8..64).prop_map(|(p, n)| Mutation::Delete(p, n)),
        1 => any::<u16>().prop_map(Mutation::DuplicateLine),
        1 => (any::<u16>(), any::<u16>()).prop_map(|(a, b)| Mutation::Splice(a, b)),
    ]
}

fn at(pos: u16, len: usize) -> usize {
    (pos as usize * (len + 1)) >> 16
}

/// Applies the mutations to the bytes of `seed`; the result is read back as UTF-8 with
/// replacement characters (the CLI reads specs as UTF-8 and refuses other bytes before parsing).
fn mutate(seed: &str, muts: &[Mutation]) -> String {
    let mut b = seed.as_bytes().to_vec();
    for m in muts {
        match *m {
            Mutation::Flip(p, byte) => {
                if !b.is_empty() {
                    let i = at(p, b.len() - 1);
                    b[i] = byte;
                }
            }
            Mutation::Truncate(p) => b.truncate(at(p, b.len())),
            Mutation::Insert(p, t) => {
                let i = at(p, b.len());
                b.splice(i..i, TOKENS[t].bytes());
            }
            Mutation::Delete(p, n) => {
                let i = at(p, b.len());
                let j = (i + n as usize).min(b.len());
                b.drain(i..j);
            }
            Mutation::DuplicateLine(p) => {
                let i = at(p, b.len());
                let start = b[..i].iter().rposition(|&c| c == b'\n').map_or(0, |s| s + 1);
                let end = b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |e| i + e + 1);
                let line = b[start..end].to_vec();
                b.splice(end..end, line);
            }
            Mutation::Splice(from, to) => {
                let i = at(from, b.len());
                let tail = b.split_off(i);
                let j = at(to, b.len());
                b.splice(j..j, tail);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// A YAML double-quoted scalar holding `s` exactly.
fn yaml_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// A Structured Streaming spec whose one query is `sql`.
fn sql_spec(sql: &str) -> String {
    format!(
        "app: fuzz\ntrigger: available_now\nsources:\n  - name: events\n    json: {{ path: in }}\n    \
         schema: {{ timestamp: timestamp, word: string, n: long }}\nqueries:\n  - name: q\n    sql: {}\n    \
         watermark: {{ column: timestamp, delay: 10 minutes }}\n    output_mode: append\n    sink: [console]\n",
        yaml_quoted(sql)
    )
}

/// SQL from random tokens, or a mutated real query.
fn sql_text(seeds: Vec<String>) -> impl Strategy<Value = String> {
    let n = seeds.len();
    prop_oneof![
        prop::collection::vec(0..TOKENS.len(), 0..24).prop_map(|v| v.into_iter().map(|i| TOKENS[i]).collect()),
        (0..n, prop::collection::vec(mutation(), 1..5)).prop_map(move |(i, m)| mutate(&seeds[i], &m)),
        ".{0,80}",
    ]
}

// ----- the targets ----------------------------------------------------------------------------

#[test]
fn mutated_yaml_specs_give_diagnostics_or_code() {
    let seeds = yaml_seeds();
    let n = seeds.len();
    let strategy = (0..n, prop::collection::vec(mutation(), 1..6));
    runner()
        .run(&strategy, |(i, muts)| {
            let src = mutate(&seeds[i], &muts);
            bounded("yaml", &src.clone(), move || check_yaml(src))
        })
        .unwrap();
}

#[test]
fn random_sql_gives_diagnostics_or_code() {
    let seeds = sql_seeds(&yaml_seeds());
    runner()
        .run(&sql_text(seeds), |sql| {
            let spec = sql_spec(&sql);
            bounded("sql", &spec.clone(), move || {
                check_expr_and_sql(sql)?;
                check_yaml(spec)
            })
        })
        .unwrap();
}

#[test]
fn mutated_stream_macro_bodies_give_diagnostics_or_code() {
    let seeds = macro_seeds();
    let n = seeds.len();
    // Text mutations, and token-level ones: drop, repeat or move whole token trees.
    let strategy = (0..n, prop::collection::vec(mutation(), 1..6), prop::collection::vec((any::<u16>(), 0u8..3), 0..4));
    runner()
        .run(&strategy, |(i, muts, tree_ops)| {
            let body = token_mutate(&mutate(&seeds[i], &muts), &tree_ops);
            bounded("stream!", &body.clone(), move || check_tokens(body))
        })
        .unwrap();
}

/// Drops (0), repeats (1) or moves to the end (2) top-level token trees of `body`.
fn token_mutate(body: &str, ops: &[(u16, u8)]) -> String {
    if ops.is_empty() {
        return body.to_owned();
    }
    let Ok(ts) = TokenStream::from_str(body) else { return body.to_owned() };
    let mut trees: Vec<TokenTree> = ts.into_iter().collect();
    for &(p, op) in ops {
        if trees.is_empty() {
            break;
        }
        let i = at(p, trees.len() - 1);
        match op {
            0 => {
                trees.remove(i);
            }
            1 => {
                let t = trees[i].clone();
                trees.insert(i, t);
            }
            _ => {
                let t = trees.remove(i);
                trees.push(t);
            }
        }
    }
    trees.into_iter().collect::<TokenStream>().to_string()
}

// ----- the real inputs still compile ----------------------------------------------------------

#[test]
fn unmutated_seeds_pass_the_same_checks() {
    for s in yaml_seeds() {
        bounded("yaml", &s.clone(), move || check_yaml(s)).unwrap();
    }
    for s in macro_seeds() {
        bounded("stream!", &s.clone(), move || check_tokens(s)).unwrap();
    }
    for s in sql_seeds(&yaml_seeds()) {
        let spec = sql_spec(&s);
        bounded("sql", &spec.clone(), move || check_yaml(spec)).unwrap();
    }
}

// ----- inputs the fuzzer found ----------------------------------------------------------------

/// Each was a panic once; kept so it stays fixed.
#[test]
fn found_inputs_stay_fixed() {
    // A byte-order mark inside a line: the span of the node after it ended inside the mark, and
    // rendering the diagnostic sliced the source off a character boundary.
    let bom = "app: wc\nbatch_interval: 1s\ncheckpoint: /tmp/ck\nstreams:\n\u{feff}  - name: lines\n    socket_text_stream: { host: localhost, port: 9999 }\n  - name: pairs\n    map: \"|l: &str| (l, 1i64)\"\n  - name: windowed\n:     reduce_by_key_and_window: { func: sum, inverse: subtract, length: 6s, slide: 2s }\n    checkpoint_interval: 5s\noutputs:\n  - print: windowed\n";
    bounded("yaml", bom, move || check_yaml(bom.to_owned())).unwrap();
    // A float literal beyond f64's range (SQL `1e309`, or 310 digits and a point in a column
    // expression) was infinite, and code generation cannot write an infinite literal.
    let huge = format!("{}.0", "9".repeat(310));
    for sql in ["SELECT 1e309word FROM events ", &format!("SELECT {huge} AS x FROM events")] {
        let spec = sql_spec(sql);
        bounded("sql", &spec.clone(), move || check_yaml(spec)).unwrap();
        let c = streamc::compile_yaml(&sql_spec(sql));
        assert!(!c.diags.is_empty(), "{sql} was accepted");
    }
    let steps = sql_spec("x").replace(
        "    sql: \"x\"\n",
        &format!("    from: events\n    steps:\n      - select: [\"{huge} AS x\", word]\n"),
    );
    let c = streamc::compile_yaml(&steps);
    assert!(!c.diags.is_empty(), "accepted:\n{steps}");
    bounded("yaml", &steps.clone(), move || check_yaml(steps)).unwrap();
}

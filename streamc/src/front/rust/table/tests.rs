//! Tests of the Structured Streaming `stream!` front end.

use crate::table::TablePlan;
use crate::{compile_tokens, compile_yaml};

/// A plan without spans, for comparing the two front ends.
fn shape(program: &crate::program::Program) -> String {
    let crate::program::Program::Table(t) = program else { panic!("a Structured Streaming plan") };
    let plan: &TablePlan = t;
    let mut out = format!(
        "app {} interval {:?} checkpoint {:?} trigger {:?}\n",
        plan.app.name,
        plan.app.batch_interval_ms.map(|b| b.0),
        plan.app.checkpoint_dir.as_ref().map(|c| &c.0),
        t.trigger
    );
    for s in &t.sources {
        out += &format!("source {} {:?} {:?} {:?}\n", s.name, s.kind, s.schema, s.malformed);
    }
    for q in &t.queries {
        let steps: Vec<_> = q.steps.iter().map(|s| &s.0).collect();
        let sinks: Vec<_> = q.sinks.iter().map(|s| &s.0).collect();
        out += &format!("query {} from {} {steps:?} {:?} {sinks:?}\n", q.name, q.from.0, q.mode.0);
    }
    out
}

fn messages(tokens: proc_macro2::TokenStream) -> Vec<String> {
    let c = compile_tokens(tokens);
    let mut out: Vec<String> = c.diags.list.iter().map(|d| d.message.clone()).collect();
    out.extend(c.diags.list.iter().filter_map(|d| d.help.clone()));
    out
}

#[test]
fn the_examples_lower_as_their_yaml_twins() {
    let yaml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/windowed_event_counts.yaml"))
        .unwrap()
        .replace("windowed_event_counts-", "windowed_event_counts-macro-");
    let y = compile_yaml(&yaml);
    assert!(y.diags.is_empty(), "{:?}", y.diags);
    let m = compile_tokens(quote::quote! {
        app_name("windowed_event_counts");
        trigger(AvailableNow);
        checkpoint("target/windowed_event_counts-macro-checkpoint");
        let events = read_stream.json("examples/data/events").schema("timestamp TIMESTAMP, word STRING").max_files_per_trigger(1);
        let windowed_counts = events
            .with_watermark("timestamp", "10 minutes")
            .group_by(["window(timestamp, '10 minutes', '5 minutes')", "word"])
            .agg(["count(*)"]);
        windowed_counts.write_stream().output_mode("append").console().json("target/windowed_event_counts-macro-out");
    });
    assert!(m.diags.is_empty(), "{:?}", m.diags);
    assert_eq!(shape(&m.program), shape(&y.program));
    assert_eq!(m.physical.as_ref().map(|p| p.stages().len()), Some(1));

    let yaml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/structured_word_count.yaml"))
        .unwrap();
    let y = compile_yaml(&yaml);
    let m = compile_tokens(quote::quote! {
        app_name("structured_word_count");
        let lines = read_stream.socket("localhost", 9999);
        let words = lines.select(["explode(split(value, ' ')) AS word"]);
        let word_counts = words.group_by(["word"]).count();
        word_counts.write_stream().output_mode("complete").console();
    });
    assert!(m.diags.is_empty(), "{:?}", m.diags);
    assert_eq!(shape(&m.program), shape(&y.program));
}

#[test]
fn every_setting_has_a_spark_like_spelling() {
    let y = compile_yaml(
        r#"
app: all
trigger: processing_time 2s
sources:
  - name: logs
    csv: { path: in/logs, max_files_per_trigger: 2, mode: drop_malformed }
    schema: { ts: timestamp, level: string, ms: long, ok: boolean, x: double }
  - name: notes
    text: { path: in/notes }
    schema: { value: string }
queries:
  - name: slow
    from: logs
    steps:
      - where: "ms > 100"
      - with_column: { name: secs, expr: "ms / 1000" }
      - select: ["ts", "level", "secs AS s"]
    output_mode: append
    sink: [{ console: { num_rows: 5, truncate: false } }, { json: out/slow }]
  - name: per_level
    from: logs
    steps:
      - with_watermark: { column: ts, delay: 1 minute }
      - filter: "ok"
      - group_by: ["window(ts, '1 minute')", level]
        agg: ["max(ms) AS m", "count(*)"]
    output_mode: update
    sink: console
  - name: notes
    from: notes
    steps:
      - select: ["upper(value) AS v"]
    sink: console
"#,
    );
    assert!(y.diags.is_empty(), "{:?}", y.diags);
    let m = compile_tokens(quote::quote! {
        app_name("all");
        trigger(Trigger::ProcessingTime("2 seconds"));
        let logs = read_stream
            .format("csv")
            .schema("ts TIMESTAMP, level STRING, ms BIGINT, ok BOOLEAN, x DOUBLE")
            .option("maxFilesPerTrigger", 2)
            .option("mode", "DROPMALFORMED")
            .load("in/logs");
        let slow = logs
            .where_("ms > 100")
            .with_column("secs", "ms / 1000")
            .select("ts", "level", "secs AS s")
            .write_stream()
            .format("console")
            .option("numRows", 5)
            .option("truncate", false)
            .json("out/slow");
        logs.with_watermark("ts", Minutes(1))
            .filter("ok")
            .group_by(["window(ts, '1 minute')", "level"])
            .agg(["max(ms) AS m", "count(*)"])
            .write_stream()
            .query_name("per_level")
            .output_mode("update")
            .console();
        let notes = read_stream.text("in/notes");
        notes.select(["upper(value) AS v"]).write_stream().console();
    });
    assert!(m.diags.is_empty(), "{:?}", m.diags);
    // The console sink given with `format` comes first, as in the YAML.
    assert_eq!(shape(&m.program), shape(&y.program));
}

#[test]
fn mistakes_are_diagnostics_with_help() {
    let cases: Vec<(proc_macro2::TokenStream, &str)> = vec![
        (
            quote::quote! { let t = read_stream.socket("h", 1); t.groupBy(["value"]).count().write_stream().console(); },
            "did you mean `group_by`?",
        ),
        (
            quote::quote! { let t = read_stream.socket("h", 1); t.flat_map(|l| l.split(' ')).write_stream().console(); },
            "is a DStream operator",
        ),
        (
            quote::quote! { let l = socket_text_stream("h", 1); let t = read_stream.socket("h", 1); t.write_stream().console(); },
            "is a DStream source",
        ),
        (
            quote::quote! { let t = read_stream.json("d").schema("a TIMESTMP"); t.write_stream().console(); },
            "unknown column type `TIMESTMP` of column `a`",
        ),
        (quote::quote! { let t = read_stream.json("d"); t.write_stream().console(); }, "needs a schema"),
        (
            quote::quote! { let t = read_stream.socket("h", 1).with_watermark("value", "ten minutes"); t.write_stream().console(); },
            "expected a duration",
        ),
        (quote::quote! { read_stream.socket("h", 1).where_("value = ").write_stream().console(); }, "cannot parse"),
        (
            quote::quote! { read_stream.socket("h", 1).write_stream().output_mode("x").console(); },
            "unknown output mode",
        ),
        (
            quote::quote! { read_stream.socket("h", 1).group_by(["value"]).write_stream().console(); },
            "needs `.count()`",
        ),
        (quote::quote! { read_stream.socket("h", 1).write_stream(); }, "has no sink"),
        (quote::quote! { read_stream.socket("h", 1).select(["value"]); }, "never written"),
        (quote::quote! { trigger(Sometimes); read_stream.socket("h", 1).write_stream().console(); }, "unknown trigger"),
        (quote::quote! { words.write_stream().console(); let words = read_stream.socket("h", 1); }, "used before"),
        (
            quote::quote! { let t = read_stream.socket("h", 1); t.wirte_stream().console(); },
            "did you mean `write_stream`?",
        ),
        (
            quote::quote! { read_stream.socket("h", 1).write_stream().output_mode("complete").console(); },
            "Complete output mode not supported",
        ),
        (
            quote::quote! { read_stream.socket("h", 1).select(["lowr(value)"]).write_stream().console(); },
            "did you mean `lower`?",
        ),
        (
            quote::quote! { read_stream.socket("h", 1).group_by(["value"]).agg(["cout(*)"]).write_stream().output_mode("update").console(); },
            "did you mean `count`?",
        ),
        (
            quote::quote! { read_stream.socket("h", 1).group_by(["value"]).agg(["avgg(value)"]).write_stream().output_mode("update").console(); },
            "unknown aggregate function `avgg`",
        ),
        (
            quote::quote! { read_stream.socket("h", 1).order_by(["value"]).write_stream().console(); },
            "Sorting is not supported on streaming DataFrames/Datasets",
        ),
    ];
    for (tokens, expected) in cases {
        let shown = tokens.to_string();
        let msgs = messages(tokens);
        assert!(msgs.iter().any(|m| m.contains(expected)), "{shown}: expected `{expected}` in {msgs:?}");
    }
}

#[test]
fn query_names_come_from_bindings_then_numbers() {
    let m = compile_tokens(quote::quote! {
        let words = read_stream.socket("h", 1).select(["explode(split(value, ' ')) AS word"]);
        words.write_stream().console();
        words.where_("length(word) > 3").write_stream().console();
        let counted = words.group_by(["word"]).count().write_stream().output_mode("update").console();
    });
    assert!(m.diags.is_empty(), "{:?}", m.diags);
    let crate::program::Program::Table(t) = &m.program else { panic!("a table plan") };
    let names: Vec<&str> = t.queries.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["words", "query1", "counted"]);
    assert_eq!(t.sources[0].name, "source0");
    assert_eq!(t.queries[1].steps.len(), 2);
}

#[test]
fn odd_programs_give_diagnostics_not_panics() {
    let cases = [
        quote::quote! { read_stream; },
        quote::quote! { let x = read_stream; x.write_stream().console(); },
        quote::quote! { let x = read_stream.socket("h", 99999); },
        quote::quote! { let x = read_stream.socket("h", 1).0; },
        quote::quote! { read_stream.json("d").csv("e").schema("").write_stream().console(); },
        quote::quote! { read_stream.json("d").schema("a").write_stream().console(); },
        quote::quote! { read_stream.json("d").schema(", ,").write_stream().console(); },
        quote::quote! { read_stream.text("d").select([]).write_stream().console(); },
        quote::quote! { read_stream.text("d").select([1, 2]).write_stream().console(); },
        quote::quote! { read_stream.text("d").where_("\u{e9}\"' +").write_stream().console(); },
        quote::quote! { read_stream.text("d").where_(r"value = '").write_stream().console(); },
        quote::quote! { read_stream.text("d").count().write_stream().console(); },
        quote::quote! { read_stream.text("d").write_stream().format("json").console(); },
        quote::quote! { read_stream.text("d").write_stream().option("numRows", 1).start("x"); },
        quote::quote! { trigger(ProcessingTime()); trigger(Once); trigger(AvailableNow); },
        quote::quote! { let a = read_stream.text("d"); let a = read_stream.text("e"); a.write_stream().console(); },
        quote::quote! { let q = read_stream.text("d").write_stream().console(); q.write_stream().console(); },
        quote::quote! { batch_interval(Seconds(0)); read_stream.text("d").write_stream().console(); },
        quote::quote! { fn f() {} read_stream.text("d").write_stream().console(); },
        quote::quote! { (read_stream).text("d").write_stream().console(); },
    ];
    for tokens in cases {
        let shown = tokens.to_string();
        let c = compile_tokens(tokens);
        assert!(!c.diags.is_empty(), "{shown}: accepted");
    }
    // Scala's spellings without parentheses, and `spark.read_stream`, are accepted.
    for tokens in [
        quote::quote! { read_stream.socket("h", 1).write_stream.console(); },
        quote::quote! { spark.read_stream.text("d").write_stream().console().start(); },
    ] {
        let shown = tokens.to_string();
        let c = compile_tokens(tokens);
        assert!(c.diags.is_empty(), "{shown}: {:?}", c.diags);
    }
}

/// A global aggregate (`agg` without `group_by`), `order_by` and `limit` lower as the YAML
/// steps do, and check to the same output order.
#[test]
fn global_aggregates_and_sorting_lower_as_their_yaml_twins() {
    let y = compile_yaml(
        r#"
app: sorted
sources:
  - name: events
    json: { path: in }
    schema: { word: string, n: bigint }
queries:
  - name: total
    from: events
    steps:
      - group_by: []
        agg: ["count(*) AS c", "sum(n) AS s"]
    output_mode: update
    sink: console
  - name: top
    from: events
    steps:
      - group_by: [word]
        agg: ["sum(n) AS s"]
      - order_by: ["s DESC", "word NULLS LAST"]
      - limit: 2
    output_mode: complete
    sink: console
"#,
    );
    assert!(y.diags.is_empty(), "{:?}", y.diags);
    let m = compile_tokens(quote::quote! {
        app_name("sorted");
        let events = read_stream.json("in").schema("word STRING, n BIGINT");
        let total = events.agg(["count(*) AS c", "sum(n) AS s"]);
        total.write_stream().output_mode("update").console();
        let top = events.group_by(["word"]).agg(["sum(n) AS s"]).order_by(["s DESC", "word NULLS LAST"]).limit(2);
        top.write_stream().output_mode("complete").console();
    });
    assert!(m.diags.is_empty(), "{:?}", m.diags);
    assert_eq!(shape(&m.program), shape(&y.program));
    let Some(crate::physical::Physical::Table(checked)) = &m.physical else { panic!("a table plan") };
    assert_eq!(checked[1].order.keys, [(1, true, false), (0, false, false)]);
    assert_eq!(checked[1].order.limit, Some(2));
    // Spark sorts only aggregations in complete mode, and limits not in update mode.
    let msgs = messages(quote::quote! {
        let events = read_stream.json("in").schema("word STRING, n BIGINT");
        events.group_by(["word"]).count().limit(3).write_stream().output_mode("update").console();
    });
    assert!(msgs.iter().any(|m| m.contains("Limits are not supported") && m.contains("Update")), "{msgs:?}");
}

#[test]
fn kafka_word_count_in_stream_macro_lowers_as_the_yaml_example() {
    let yaml =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/kafka_word_count.yaml")).unwrap();
    let y = compile_yaml(&yaml);
    assert!(y.diags.is_empty(), "{:?}", y.diags);
    let m = compile_tokens(quote::quote! {
        app_name("kafka_word_count");
        trigger(AvailableNow);
        checkpoint("target/kafka_word_count-checkpoint");
        let lines = read_stream
            .format("kafka")
            .option("kafka.bootstrap.servers", "${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}")
            .option("subscribe", "lines")
            .option("startingOffsets", "earliest")
            .option("maxOffsetsPerTrigger", 100)
            .load();
        let word_counts = lines
            .select(["explode(split(CAST(value AS STRING), ' ')) AS word"])
            .group_by(["word"])
            .agg(["count(*) AS count"])
            .select(["word AS key", "CAST(count AS STRING) AS value"]);
        word_counts
            .write_stream()
            .output_mode("complete")
            .console()
            .format("kafka")
            .option("kafka.bootstrap.servers", "${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}")
            .option("topic", "counts")
            .start();
    });
    assert!(m.diags.is_empty(), "{:?}", m.diags);
    let (ys, ms) = (shape(&y.program), shape(&m.program));
    // The sources and sinks are the same; the SQL's steps are the same query written as SQL.
    let lines = |s: &str| {
        s.lines().filter(|l| l.starts_with("source") || l.starts_with("app")).map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(lines(&ms), lines(&ys));
    assert!(ms.contains("Kafka { options: [(\"kafka.bootstrap.servers\""), "{ms}");
    let features = |c: &crate::Compilation| match (&c.program, &c.physical) {
        (crate::program::Program::Table(p), Some(crate::physical::Physical::Table(q))) => {
            crate::table::runtime_features(p, q)
        }
        _ => Vec::new(),
    };
    assert_eq!(features(&m), ["kafka"]);
    assert_eq!(features(&y), ["kafka"]);
}

#[test]
fn kafka_options_are_checked_with_sparks_messages() {
    let mut m = messages(quote::quote! {
        let lines = read_stream.format("kafka").option("subscribe", "a").option("subscribePattern", "b.*").option("kafka.auto.offset.reset", "earliest").option("maxOffsetsPerTrigger", 0).load();
        lines.write_stream().console();
    });
    m.extend(messages(quote::quote! {
        let lines = read_stream.format("kafka").option("kafka.bootstrap.servers", "h:1").option("subscribe", "a").load();
        lines.select(["value"]).write_stream().format("kafka").option("kafka.bootstrap.servers", "h:1").option("topc", "t").start();
    }));
    let all = m.join("\n");
    for expected in [
        "Option 'kafka.bootstrap.servers' must be specified for configuring Kafka consumer",
        "Only one of the following options can be specified for Kafka source: subscribe, subscribePattern, assign.",
        "Kafka option 'auto.offset.reset' is not supported",
        "`maxOffsetsPerTrigger` must be a positive whole number, found `0`",
        "unknown Kafka sink option `topc`",
        "did you mean `topic`?",
    ] {
        assert!(all.contains(expected), "missing `{expected}` in:\n{all}");
    }
}

#[test]
fn a_socket_with_include_timestamp_lowers_as_the_yaml_example() {
    let yaml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/structured_network_word_count_windowed.yaml"
    ))
    .unwrap();
    let y = compile_yaml(&yaml);
    assert!(y.diags.is_empty(), "{:?}", y.diags);
    let m = compile_tokens(quote::quote! {
        app_name("structured_network_word_count_windowed");
        let lines = read_stream
            .format("socket")
            .option("host", "localhost")
            .option("port", 9999)
            .option("includeTimestamp", true)
            .load();
        let words = lines.select(["explode(split(value, ' ')) AS word", "timestamp"]);
        let windowed_counts = words
            .group_by(["window(timestamp, '10 seconds', '5 seconds')", "word"])
            .count();
        windowed_counts.write_stream().output_mode("complete").console();
    });
    assert!(m.diags.is_empty(), "{:?}", m.diags);
    let sources = |s: String| s.lines().filter(|l| l.starts_with("source")).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(sources(shape(&m.program)), sources(shape(&y.program)));
    assert!(shape(&m.program).contains("include_timestamp: true"));
    let bad = messages(quote::quote! {
        let lines = read_stream.format("socket").option("port", 9).option("includeTimestamp", "often").load();
        lines.write_stream().console();
    });
    assert!(bad.iter().any(|m| m.contains("`includeTimestamp` is `true` or `false`")), "{bad:?}");
}

#[test]
fn a_name_in_a_list_is_where_its_diagnostic_points() {
    // Each unresolved name of `drop_duplicates`, `join`'s keys and `order_by` points at its own
    // string literal, not at the method call; a sort key's column at its name inside the
    // literal where the compiler gives sub-spans (here, proc_macro2's fallback; rustc on stable
    // underlines the literal).
    let src = r#"
        let events = read_stream.json("d").schema("timestamp TIMESTAMP, word STRING, n BIGINT");
        let cats = read.json("c").schema("word STRING, category STRING");
        let deduped = events.with_watermark("timestamp", "1 minute").drop_duplicates(["word", "wrod"]);
        let joined = deduped.join(cats, ["word", "categry"], "inner");
        let counts = joined.group_by(["word"]).count().order_by(["count", "cnt DESC"]);
        counts.write_stream().output_mode("complete").console();
    "#;
    let c = compile_tokens(src.parse().unwrap());
    let at: Vec<(String, String)> = c
        .diags
        .list
        .iter()
        .map(|d| (d.message.clone(), c.spans.token_span(d.span).source_text().unwrap_or_default()))
        .collect();
    assert_eq!(
        at,
        [
            ("a column with name `wrod` cannot be resolved".to_string(), r#""wrod""#.to_string()),
            ("a column with name `categry` cannot be resolved".to_string(), r#""categry""#.to_string()),
            ("a column with name `cnt` cannot be resolved".to_string(), "cnt".to_string()),
        ]
    );
}

//! The registry against the rest of streamc: every name is listed once, every plan operator
//! maps back to its own entry, and README's operator table is the one the registry writes.

use super::*;

#[test]
fn names_are_unique_and_snake_case() {
    let mut seen = std::collections::HashSet::new();
    for d in OPERATORS {
        assert!(seen.insert(d.name), "`{}` is listed twice", d.name);
        assert!(d.name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "`{}`", d.name);
        assert_eq!(d.lower.is_none(), d.kind == Kind::Output, "`{}`: only outputs have no lowering", d.name);
    }
}

#[test]
fn lowered_operators_map_back_to_their_entry() {
    for d in OPERATORS.iter().filter(|d| d.kind != Kind::Output) {
        let args = Args {
            func: Some(Func::Closure(crate::dstream::plan::ClosureId(0))),
            window: Some((30_000, Some(10_000))),
            ..Args::default()
        };
        let chain = (d.lower.expect("lowering"))(args).expect("a full call lowers");
        if d.kind == Kind::Composite {
            assert!(chain.len() > 1, "`{}` is a composite of one operator", d.name);
        } else {
            assert_eq!(chain.len(), 1, "`{}`", d.name);
            assert!(std::ptr::eq(chain[0].def(), *d), "`{}` lowers to `{}`", d.name, chain[0].name());
        }
    }
}

#[test]
fn misspelt_operators_get_a_suggestion() {
    for (typo, name) in [
        ("count_by_valu", "count_by_value"),
        ("windw", "window"),
        ("jion", "join"),
        ("reduce_by_key_and_windw", "reduce_by_key_and_window"),
        ("countByValueAndWindow", "count_by_value_and_window"),
        ("updateStateByKey", "update_state_by_key"),
    ] {
        assert_eq!(suggest(typo, STREAM_KINDS), Some(name), "{typo}");
    }
    assert_eq!(suggest("socket_txt_stream", &[Kind::Source]), Some("socket_text_stream"));
    assert_eq!(suggest("foreachBatch", &[Kind::Output]), Some("foreach_batch"));
}

/// README's table of stream operators is generated from the registry; run with
/// `STREAMC_BLESS=1` to rewrite it, and review the diff.
#[test]
fn readme_operator_table_matches_the_registry() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path).expect("read README.md");
    let (begin, end) = ("<!-- dstream-operators:begin -->\n", "<!-- dstream-operators:end -->");
    let start = readme.find(begin).expect("README has the operator table's begin marker") + begin.len();
    let stop = readme[start..].find(end).expect("README has the operator table's end marker") + start;
    let table = readme_table();
    if std::env::var_os("STREAMC_BLESS").is_some() {
        let updated = format!("{}{table}{}", &readme[..start], &readme[stop..]);
        std::fs::write(&path, updated).expect("write README.md");
        return;
    }
    assert_eq!(&readme[start..stop], table, "README's DStream operator table differs from the registry");
}

#[test]
fn source_names_are_the_registry_sources() {
    assert_eq!(crate::dstream::plan::SOURCE_NAMES, names(&[Kind::Source]).as_slice());
}

/// The help lines of a `stream!` body's diagnostics.
fn macro_helps(tokens: proc_macro2::TokenStream) -> Vec<String> {
    crate::compile_tokens(tokens).diags.list.iter().filter_map(|d| d.help.clone()).collect()
}

#[test]
fn misspelt_operators_in_stream_macro_get_a_suggestion() {
    let helps = macro_helps(quote::quote! {
        batch_interval(Seconds(1));
        let lines = socket_txt_stream("localhost", 9999);
        let words = socket_text_stream("localhost", 9999);
        let a = words.count_by_valu();
        let b = words.windw(Seconds(30), Seconds(10));
        let c = words.map(|w: String| (w, 1));
        let d = c.jion(c);
        let e = c.reduce_by_key_and_windw(|a: i64, b: i64| a + b, Seconds(30));
        c.prnt();
    });
    for name in ["socket_text_stream", "count_by_value", "window", "join", "reduce_by_key_and_window", "print"] {
        assert!(helps.contains(&format!("did you mean `{name}`?")), "no suggestion of `{name}` in {helps:?}");
    }
}

/// The names of the plan's streams and their operators, for comparing front ends.
fn chain(c: &crate::Compilation) -> Vec<&'static str> {
    match &c.program {
        crate::program::Program::DStream(p) => p.streams.iter().map(|s| s.op.name()).collect(),
        crate::program::Program::Table(_) => panic!("a DStream program"),
    }
}

#[test]
fn both_front_ends_lower_composites_alike() {
    let yaml = crate::compile_yaml(
        "app: w\nbatch_interval: 1s\ncheckpoint: /tmp/w\nstreams:\n  - name: lines\n    socket_text_stream: { port: 9 }\n  - name: cnt\n    count_by_window: { length: 3s, slide: 1s }\n  - name: vals\n    from: lines\n    count_by_value_and_window: { length: 3s }\n  - name: red\n    from: cnt\n    reduce_by_window: { func: sum, length: 3s }\noutputs:\n  - print: vals\n  - print: red\n",
    );
    let rust = crate::compile_tokens(quote::quote! {
        batch_interval(Seconds(1));
        checkpoint("/tmp/w");
        let lines = socket_text_stream("localhost", 9);
        let n = lines.count_by_window(Seconds(3), Seconds(1));
        let v = lines.count_by_value_and_window(Seconds(3));
        let r = n.reduce_by_window(|a: i64, b: i64| a + b, Seconds(3));
        v.print();
        r.print();
    });
    assert!(yaml.diags.is_empty() && rust.diags.is_empty(), "{:?} {:?}", yaml.diags.list, rust.diags.list);
    assert_eq!(chain(&yaml), chain(&rust));
    assert_eq!(chain(&yaml).len(), 1 + 3 + 2 + 2);
}

#[test]
fn kafka_direct_word_count_in_stream_macro_lowers_as_the_yaml_example() {
    let yaml =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/kafka_direct_word_count.yaml"))
            .unwrap();
    let yaml = crate::compile_yaml(&yaml);
    let rust = crate::compile_tokens(quote::quote! {
        app_name("kafka_direct_word_count");
        batch_interval(Seconds(2));
        checkpoint("target/kafka_direct_word_count-checkpoint");
        let messages = kafka_direct_stream([
            ("kafka.bootstrap.servers", "${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}"),
            ("subscribe", "lines"),
            ("startingOffsets", "earliest"),
        ]);
        let lines = messages.map(|r| r.value.map(|v| v.into_owned()).unwrap_or_default());
        let words = lines.flat_map(|line: String| line.split(' ').map(str::to_owned).collect::<Vec<_>>());
        let pairs = words.map(|w: String| (w, 1u64));
        let word_counts = pairs.reduce_by_key(|a, b| a + b);
        word_counts.print();
    });
    assert!(yaml.diags.is_empty() && rust.diags.is_empty(), "{:?} {:?}", yaml.diags.list, rust.diags.list);
    assert_eq!(chain(&yaml), chain(&rust));
    let options = |c: &crate::Compilation| match &c.program {
        crate::program::Program::DStream(p) => format!("{:?}", p.streams[0].op),
        crate::program::Program::Table(_) => panic!("a DStream program"),
    };
    assert_eq!(options(&yaml), options(&rust));
    // Spark's option rules, at the option's spot.
    let bad = crate::compile_tokens(quote::quote! {
        batch_interval(Seconds(1));
        let m = kafka_direct_stream([("subscribe", "a"), ("maxOffsetsPerTrigger", 0), ("kafka.enable.auto.commit", true)]);
        m.print();
    });
    let messages: Vec<&str> = bad.diags.list.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "`maxOffsetsPerTrigger` must be a positive whole number, found `0`",
            "Kafka option 'enable.auto.commit' is not supported",
            "Option 'kafka.bootstrap.servers' must be specified for configuring Kafka consumer"
        ]
    );
    let one = crate::compile_tokens(quote::quote! {
        batch_interval(Seconds(1));
        let m = kafka_direct_stream("lines");
        m.print();
    });
    assert!(one.diags.list[0].message.contains("takes 1 argument (its options)"), "{:?}", one.diags.list);
}

/// Any operator misspelt by one dropped or one doubled letter, or two swapped neighbours, gets
/// its own name suggested among operators of its kind.
#[test]
fn every_operator_misspelt_gets_its_name() {
    for d in OPERATORS {
        let kinds: &[Kind] = match d.kind {
            Kind::Source => &[Kind::Source],
            Kind::Output => &[Kind::Output],
            _ => STREAM_KINDS,
        };
        let chars: Vec<char> = d.name.chars().collect();
        for i in 1..chars.len() {
            let mut dropped = chars.clone();
            dropped.remove(i);
            let mut doubled = chars.clone();
            doubled.insert(i, chars[i]);
            let mut swapped = chars.clone();
            swapped.swap(i - 1, i);
            for typo in [dropped, doubled, swapped] {
                let typo: String = typo.into_iter().collect();
                if typo != d.name {
                    assert_eq!(suggest(&typo, kinds), Some(d.name), "`{typo}`");
                }
            }
        }
    }
}

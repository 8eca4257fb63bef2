//! Kafka sources and sinks in YAML: a mapping of Spark's options as written in
//! `.option(name, value)` (`kafka.bootstrap.servers`, `subscribe`, `startingOffsets`, ...),
//! checked here with the spot of each one. Values are strings, numbers or booleans; `${NAME}`
//! and `${NAME:-default}` are read from the environment when the app starts.

use super::node::Node;
use super::reader::Reader;
use crate::diag::suggest;
use crate::table::Malformed;
use serde_saphyr::Spanned;

/// Source options streamc reads (lower case: Spark's source options are case-insensitive).
const SOURCE: &[&str] = &[
    "subscribe",
    "subscribePattern",
    "assign",
    "startingOffsets",
    "maxOffsetsPerTrigger",
    "failOnDataLoss",
    "fetchOffset.numRetries",
    "fetchOffset.retryIntervalMs",
    "groupIdPrefix",
    "kafkaConsumer.pollTimeoutMs",
];

/// Spark options streamc does not read yet, and batch-only ones.
const NOT_YET: &[(&str, &str)] = &[
    (
        "endingOffsets",
        "`endingOffsets` is for batch queries; a streaming query reads on (use `trigger: available_now` to stop at the offsets there at start)",
    ),
    ("minOffsetsPerTrigger", "`minOffsetsPerTrigger` is not supported by streamc yet"),
    ("maxTriggerDelay", "`maxTriggerDelay` is not supported by streamc yet"),
    ("includeHeaders", "`includeHeaders` is not supported by streamc yet: the records' headers are not read"),
    ("startingTimestamp", "`startingTimestamp` is not supported by streamc yet: use `startingOffsets`"),
    (
        "startingOffsetsByTimestamp",
        "`startingOffsetsByTimestamp` is not supported by streamc yet: use `startingOffsets`",
    ),
];

/// Client settings Spark manages itself.
const REFUSED: &[(&str, &str)] = &[
    ("auto.offset.reset", "set the source option 'startingOffsets' to 'earliest' or 'latest' instead"),
    ("enable.auto.commit", "the offsets are in the checkpoint; the source does not commit them to Kafka"),
    ("key.deserializer", "keys are read as strings; cast or parse them in the query"),
    ("value.deserializer", "values are read as strings; cast or parse them in the query"),
    ("key.serializer", "keys are written as strings"),
    ("value.serializer", "values are written as strings"),
    ("interceptor.classes", "not supported"),
];

/// A `kafka:` source's or sink's settings.
pub(super) struct Kafka {
    /// Spark's options, as written.
    pub options: Vec<(String, String)>,
    /// A sink's `exactly_once`.
    pub exactly_once: bool,
    /// A source's `mode` for values that are not JSON of its schema (with a schema).
    pub mode: Option<Malformed>,
}

/// The options of a `kafka:` source (`sink`: false) or sink.
pub(super) fn options(r: &mut Reader<'_>, v: &Spanned<Node>, sink: bool) -> Option<Kafka> {
    let what = if sink { "Kafka sink" } else { "Kafka source" };
    let Node::Map(entries) = &v.value else {
        let span = r.span_of(v);
        r.diags
            .error(span, format!("expected the {what}'s options as a mapping, found {}", v.value.kind()))
            .help("write `kafka: { kafka.bootstrap.servers: \"host:9092\", subscribe: topic }`");
        return None;
    };
    let mut out = Vec::new();
    let mut exactly_once = false;
    let mut mode = None;
    let mut ok = true;
    for (k, val) in entries {
        let kspan = r.span_of(k);
        let name = k.value.as_str();
        let value = match &val.value {
            Node::Str(s) => s.clone(),
            Node::Int(i) => i.to_string(),
            Node::Bool(b) => b.to_string(),
            other => {
                let s = r.span_of(val);
                r.diags.error(s, format!("expected a string, number or boolean for `{name}`, found {}", other.kind()));
                ok = false;
                continue;
            }
        };
        if name == "mode" && !sink {
            mode = match value.as_str() {
                "permissive" | "PERMISSIVE" => Some(Malformed::Permissive),
                "drop_malformed" | "DROPMALFORMED" => Some(Malformed::DropMalformed),
                "fail_fast" | "FAILFAST" => Some(Malformed::FailFast),
                other => {
                    let s = r.span_of(val);
                    r.diags
                        .error(s, format!("unknown mode `{other}`"))
                        .help("the modes are `permissive`, `drop_malformed` and `fail_fast`");
                    ok = false;
                    None
                }
            };
            continue;
        }
        if let Some(client) = name.strip_prefix("kafka.") {
            if let Some((_, why)) = REFUSED.iter().find(|(c, _)| *c == client) {
                r.diags.error(kspan, format!("Kafka option '{client}' is not supported")).help(*why);
                ok = false;
            }
            out.push((name.to_owned(), value));
            continue;
        }
        if sink {
            match name {
                "topic" => out.push((name.to_owned(), value)),
                "exactly_once" => match &val.value {
                    Node::Bool(b) => exactly_once = *b,
                    _ => {
                        let s = r.span_of(val);
                        r.diags.error(s, "`exactly_once` is `true` or `false`");
                        ok = false;
                    }
                },
                _ => {
                    let d = r.diags.error(kspan, format!("unknown Kafka sink option `{name}`"));
                    match suggest(name, &["topic", "exactly_once", "kafka.bootstrap.servers"]) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help("a Kafka sink takes `topic`, `exactly_once` and `kafka.*` client settings"),
                    };
                    ok = false;
                }
            }
            continue;
        }
        if let Some((_, why)) = NOT_YET.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            r.diags.error(kspan, *why);
            ok = false;
            continue;
        }
        let Some(known) = SOURCE.iter().find(|n| n.eq_ignore_ascii_case(name)) else {
            let d = r.diags.error(kspan, format!("unknown Kafka source option `{name}`"));
            let mut all: Vec<&str> = SOURCE.to_vec();
            all.push("kafka.bootstrap.servers");
            match suggest(name, &all) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("the options are Spark's: `subscribe`, `startingOffsets`, `maxOffsetsPerTrigger`, ... and `kafka.*` client settings"),
            };
            ok = false;
            continue;
        };
        let vspan = r.span_of(val);
        match *known {
            "maxOffsetsPerTrigger" | "fetchOffset.numRetries" | "fetchOffset.retryIntervalMs"
                if value.parse::<u64>().map_or(true, |n| n == 0 && *known == "maxOffsetsPerTrigger") =>
            {
                r.diags.error(vspan, format!("`{known}` must be a positive whole number, found `{value}`"));
                ok = false;
            }
            "failOnDataLoss" if value != "true" && value != "false" => {
                r.diags.error(vspan, format!("`failOnDataLoss` is `true` or `false`, found `{value}`"));
                ok = false;
            }
            "startingOffsets" if value != "earliest" && value != "latest" && !value.trim_start().starts_with('{') => {
                r.diags
                    .error(
                        vspan,
                        format!("`startingOffsets` is `earliest`, `latest` or per-partition JSON, found `{value}`"),
                    )
                    .help(r#"per partition: `{"topic":{"0":23,"1":-2}}` (-2: earliest, -1: latest)"#);
                ok = false;
            }
            _ => {}
        }
        out.push(((*known).to_owned(), value));
    }
    let has = |n: &str| out.iter().any(|(k, _)| k == n);
    let span = r.span_of(v);
    if !has("kafka.bootstrap.servers") {
        let role = if sink { "producer" } else { "consumer" };
        r.diags
            .error(span, format!("Option 'kafka.bootstrap.servers' must be specified for configuring Kafka {role}"))
            .help("add `kafka.bootstrap.servers: \"host:9092\"` (or `\"${KAFKA_BOOTSTRAP_SERVERS}\"`, read when the app starts)");
        ok = false;
    }
    if !sink {
        let chosen = ["subscribe", "subscribePattern", "assign"].iter().filter(|n| has(n)).count();
        if chosen != 1 {
            let m = if chosen == 0 {
                "One of the following options must be specified for Kafka source: subscribe, subscribePattern, assign. See the docs for more details."
            } else {
                "Only one of the following options can be specified for Kafka source: subscribe, subscribePattern, assign. See the docs for more details."
            };
            r.diags.error(span, m);
            ok = false;
        }
    }
    ok.then_some(Kafka { options: out, exactly_once, mode })
}

//! Kafka sources and sinks as every front end writes them: Spark's options (`.option(name,
//! value)`, a YAML mapping), checked here with the spot of each one, and Spark's columns of a
//! Kafka source. Values are text; `${NAME}` and `${NAME:-default}` are read from the environment
//! when the app starts.

use super::plan::{ColTy, Column, Malformed};
use crate::diag::{Diagnostics, suggest};
use crate::span::SpanId;

/// One option as written: its name and value, and where each is.
pub struct KafkaOption {
    pub key: String,
    pub value: String,
    pub key_span: SpanId,
    pub value_span: SpanId,
}

/// A checked source's or sink's settings.
pub struct Kafka {
    /// Spark's options (the source options with Spark's spelling).
    pub options: Vec<(String, String)>,
    /// A sink's `exactly_once` (streamc's).
    pub exactly_once: bool,
    /// A source's `mode` for values that are not JSON of its schema (with a schema).
    pub mode: Option<Malformed>,
}

/// Source options streamc reads (Spark's source options are case-insensitive).
const SOURCE: &[&str] = &[
    "subscribe",
    "subscribePattern",
    "assign",
    "startingOffsets",
    "maxOffsetsPerTrigger",
    "minOffsetsPerTrigger",
    "maxTriggerDelay",
    "startingTimestamp",
    "startingOffsetsByTimestamp",
    "startingOffsetsByTimestampStrategy",
    "includeHeaders",
    "failOnDataLoss",
    "fetchOffset.numRetries",
    "fetchOffset.retryIntervalMs",
    "groupIdPrefix",
    "kafkaConsumer.pollTimeoutMs",
];

/// Spark options streamc does not read yet, and batch-only ones.
const NOT_YET: &[(&str, &str)] = &[(
    "endingOffsets",
    "`endingOffsets` is for batch queries; a streaming query reads on (use `trigger: available_now` to stop at the offsets there at start)",
)];

/// Client settings Spark manages itself.
const REFUSED: &[(&str, &str)] = &[
    ("auto.offset.reset", "set the source option 'startingOffsets' to 'earliest' or 'latest' instead"),
    ("enable.auto.commit", "the offsets are in the checkpoint; the source does not commit them to Kafka"),
    ("key.deserializer", "keys are read as bytes (binary); cast or parse them in the query"),
    ("value.deserializer", "values are read as bytes (binary); cast or parse them in the query"),
    ("key.serializer", "keys are written as strings"),
    ("value.serializer", "values are written as strings"),
    ("interceptor.classes", "not supported"),
];

/// Checks a source's (`sink`: false) or sink's options; `whole` is where the source or sink is.
pub fn check(options: &[KafkaOption], sink: bool, whole: SpanId, diags: &mut Diagnostics) -> Option<Kafka> {
    let mut out = Vec::new();
    let mut exactly_once = false;
    let mut mode = None;
    let mut ok = true;
    for o in options {
        let (name, value) = (o.key.as_str(), o.value.as_str());
        if name == "mode" && !sink {
            mode = match value.to_ascii_lowercase().replace('_', "").as_str() {
                "permissive" => Some(Malformed::Permissive),
                "dropmalformed" => Some(Malformed::DropMalformed),
                "failfast" => Some(Malformed::FailFast),
                _ => {
                    diags
                        .error(o.value_span, format!("unknown mode `{value}`"))
                        .help("the modes are `permissive`, `drop_malformed` and `fail_fast`");
                    ok = false;
                    None
                }
            };
            continue;
        }
        if let Some(client) = name.strip_prefix("kafka.") {
            if let Some((_, why)) = REFUSED.iter().find(|(c, _)| *c == client) {
                diags.error(o.key_span, format!("Kafka option '{client}' is not supported")).help(*why);
                ok = false;
            }
            out.push((name.to_owned(), value.to_owned()));
            continue;
        }
        if sink {
            match name {
                "topic" => out.push((name.to_owned(), value.to_owned())),
                "exactly_once" => match value {
                    "true" => exactly_once = true,
                    "false" => exactly_once = false,
                    _ => {
                        diags.error(o.value_span, "`exactly_once` is `true` or `false`");
                        ok = false;
                    }
                },
                _ => {
                    let d = diags.error(o.key_span, format!("unknown Kafka sink option `{name}`"));
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
            diags.error(o.key_span, *why);
            ok = false;
            continue;
        }
        let Some(known) = SOURCE.iter().find(|n| n.eq_ignore_ascii_case(name)) else {
            let d = diags.error(o.key_span, format!("unknown Kafka source option `{name}`"));
            let mut all: Vec<&str> = SOURCE.to_vec();
            all.push("kafka.bootstrap.servers");
            match suggest(name, &all) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("the options are Spark's: `subscribe`, `startingOffsets`, `maxOffsetsPerTrigger`, ... and `kafka.*` client settings"),
            };
            ok = false;
            continue;
        };
        let vspan = o.value_span;
        // A value from the environment is checked when the app starts.
        let from_env = value.contains("${");
        match *known {
            _ if from_env => {}
            "maxOffsetsPerTrigger"
            | "minOffsetsPerTrigger"
            | "fetchOffset.numRetries"
            | "fetchOffset.retryIntervalMs"
                if value.parse::<u64>().map_or(true, |n| n == 0 && known.ends_with("PerTrigger")) =>
            {
                diags.error(vspan, format!("`{known}` must be a positive whole number, found `{value}`"));
                ok = false;
            }
            "failOnDataLoss" | "includeHeaders"
                if !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") =>
            {
                diags.error(vspan, format!("`{known}` is `true` or `false`, found `{value}`"));
                ok = false;
            }
            "maxTriggerDelay" if !is_time(value) => {
                diags
                    .error(vspan, format!("`maxTriggerDelay` is a time, found `{value}`"))
                    .help("a whole number with a unit: `us`, `ms`, `s`, `m` or `min`, `h`, `d` (e.g. `30s`; Spark's default is `15m`)");
                ok = false;
            }
            "startingTimestamp" if value.parse::<i64>().is_err() => {
                diags.error(
                    vspan,
                    format!("`startingTimestamp` is a time in milliseconds since the epoch, found `{value}`"),
                );
                ok = false;
            }
            "startingOffsetsByTimestamp" if !value.trim_start().starts_with('{') => {
                diags
                    .error(vspan, format!("`startingOffsetsByTimestamp` is per-partition JSON, found `{value}`"))
                    .help(r#"a time in ms per partition: `{"topic":{"0":1700000000000,"1":1700000000000}}`"#);
                ok = false;
            }
            "startingOffsetsByTimestampStrategy"
                if !value.eq_ignore_ascii_case("error") && !value.eq_ignore_ascii_case("latest") =>
            {
                diags.error(
                    vspan,
                    format!("`startingOffsetsByTimestampStrategy` is `error` or `latest`, found `{value}`"),
                );
                ok = false;
            }
            "startingOffsets" if value != "earliest" && value != "latest" && !value.trim_start().starts_with('{') => {
                diags
                    .error(
                        vspan,
                        format!("`startingOffsets` is `earliest`, `latest` or per-partition JSON, found `{value}`"),
                    )
                    .help(r#"per partition: `{"topic":{"0":23,"1":-2}}` (-2: earliest, -1: latest)"#);
                ok = false;
            }
            _ => {}
        }
        out.push(((*known).to_owned(), value.to_owned()));
    }
    let has = |n: &str| out.iter().any(|(k, _)| k == n);
    if !has("kafka.bootstrap.servers") {
        let role = if sink { "producer" } else { "consumer" };
        diags
            .error(whole, format!("Option 'kafka.bootstrap.servers' must be specified for configuring Kafka {role}"))
            .help("add `kafka.bootstrap.servers: \"host:9092\"` (or `\"${KAFKA_BOOTSTRAP_SERVERS}\"`, read when the app starts)");
        ok = false;
    }
    let number = |n: &str| out.iter().find(|(k, _)| k == n).and_then(|(_, v)| v.parse::<u64>().ok());
    if let (Some(min), Some(max)) = (number("minOffsetsPerTrigger"), number("maxOffsetsPerTrigger"))
        && min > max
    {
        let at =
            options.iter().find(|o| o.key.eq_ignore_ascii_case("minOffsetsPerTrigger")).map_or(whole, |o| o.value_span);
        diags.error(
            at,
            format!("The value of minOffsetPerTrigger({min}) is higher than the maxOffsetsPerTrigger({max})."),
        );
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
            diags.error(whole, m);
            ok = false;
        }
    }
    ok.then_some(Kafka { options: out, exactly_once, mode })
}

/// A `kafka_direct_stream`'s options: a source's, less those of Structured Streaming's rows (a
/// `KafkaRecord` has no headers; there is no schema to parse values by).
pub fn direct(k: Kafka, whole: SpanId, diags: &mut Diagnostics) -> Option<Vec<(String, String)>> {
    let mut ok = true;
    if includes_headers(&k.options) {
        diags
            .error(whole, "`includeHeaders` is for Structured Streaming's Kafka source: a `KafkaRecord` has no headers")
            .help("drop it, or read the topic with a Structured Streaming `kafka:` source");
        ok = false;
    }
    if k.mode.is_some() {
        diags.error(whole, "`mode` is for a Kafka source with a `schema`: a `KafkaRecord`'s value is its text");
        ok = false;
    }
    ok.then_some(k.options)
}

/// Whether checked source options read the records' headers (`includeHeaders`).
pub fn includes_headers(options: &[(String, String)]) -> bool {
    options.iter().any(|(k, v)| k == "includeHeaders" && v.eq_ignore_ascii_case("true"))
}

/// Whether `text` is a time as Spark's `timeStringAsMs` reads it (`30s`, `15m`, `100`).
fn is_time(text: &str) -> bool {
    let t = text.trim().to_ascii_lowercase();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    digits > 0 && ["", "us", "ms", "s", "m", "min", "h", "d"].contains(&t[digits..].trim())
}

/// Spark's columns of a Kafka source (`key` and `value` binary: `CAST(value AS STRING)` reads
/// them as text), and with `headers` (`includeHeaders`) Spark's
/// `headers: array<struct<key: string, value: binary>>`.
pub fn columns(headers: bool) -> Vec<Column> {
    let mut cols: Vec<Column> = [
        ("key", ColTy::Binary),
        ("value", ColTy::Binary),
        ("topic", ColTy::String),
        ("partition", ColTy::Int),
        ("offset", ColTy::Long),
        ("timestamp", ColTy::Timestamp),
        ("timestampType", ColTy::Int),
    ]
    .into_iter()
    .map(|(n, ty)| Column { name: n.into(), ty })
    .collect();
    if headers {
        let header = ColTy::structure(&[("key", ColTy::String), ("value", ColTy::Binary)]);
        cols.push(Column { name: "headers".into(), ty: ColTy::array(header) });
    }
    cols
}

//! A Kafka source's options, read from Spark's `.option(name, value)` names with Spark's rules
//! and messages, and the client configuration they make.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::config::ClientConfig;

use crate::error::Error;

/// Which partitions a source reads.
#[derive(Clone, Debug)]
pub(super) enum Topics {
    Subscribe(Vec<String>),
    Pattern(regex::Regex),
    Assign(Vec<(String, i32)>),
}

/// Where a partition first seen starts.
#[derive(Clone, Debug)]
pub(super) enum Starting {
    Earliest,
    Latest,
    /// Per topic and partition: an offset, or -2 (earliest) / -1 (latest).
    Given(BTreeMap<(String, i32), i64>),
    /// Per topic and partition (`startingOffsetsByTimestamp`), or for every partition
    /// (`startingTimestamp`): the first offset whose record's timestamp (ms) is at or after it.
    ByTimestamp(BTreeMap<(String, i32), i64>),
    AtTimestamp(i64),
}

/// A source's options, read from Spark's `.option(..)` names.
#[derive(Clone, Debug)]
pub(crate) struct KafkaOptions {
    pub(super) topics: Topics,
    pub(super) starting: Starting,
    pub(super) max_per_trigger: Option<u64>,
    /// `minOffsetsPerTrigger`: a batch waits for this many new records, or `maxTriggerDelay`.
    pub(super) min_per_trigger: Option<u64>,
    pub(super) max_trigger_delay: Duration,
    /// `startingOffsetsByTimestampStrategy`: with no record at or after a starting timestamp,
    /// start at the latest offset (`latest`) rather than fail (`error`, Spark's default).
    pub(super) no_match_latest: bool,
    /// `includeHeaders`: each record's headers as a `headers` column.
    pub(super) include_headers: bool,
    pub(super) fail_on_data_loss: bool,
    /// How many times a metadata or offset request is retried, and how long apart (Spark's
    /// `fetchOffset.numRetries`, `fetchOffset.retryIntervalMs`).
    pub(super) retries: u32,
    pub(super) retry_interval: Duration,
    /// The client's own settings: every `kafka.*` option without its prefix.
    pub(super) client: Vec<(String, String)>,
}

/// Expands `${NAME}` and `${NAME:-default}` from the environment in an option's value.
pub(crate) fn expand_env(value: &str) -> Result<String, Error> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let Some(end) = rest[at..].find('}') else {
            return Err(Error::Config(format!("`{value}`: `${{` without its `}}`")));
        };
        let inner = &rest[at + 2..at + end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        match (std::env::var(name), default) {
            (Ok(v), _) if !v.is_empty() => out.push_str(&v),
            (_, Some(d)) => out.push_str(d),
            _ => {
                return Err(Error::Config(format!(
                    "`{value}` names the environment variable `{name}`, which is not set\nhelp: set it, or give a default: `${{{name}:-host:9092}}`"
                )));
            }
        }
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Client settings Spark refuses (it manages them itself), with what to write instead.
const REFUSED: &[(&str, &str)] = &[
    ("auto.offset.reset", "set the source option 'startingOffsets' to 'earliest' or 'latest' instead"),
    ("enable.auto.commit", "the offsets are in the checkpoint; the source does not commit them to Kafka"),
    ("key.deserializer", "keys are read as bytes (binary); cast or parse them in the query"),
    ("value.deserializer", "values are read as bytes (binary); cast or parse them in the query"),
    ("interceptor.classes", "not supported"),
];

impl KafkaOptions {
    /// Reads the options of source `name`, with Spark's rules and messages.
    pub(crate) fn parse(name: &str, options: &[(String, String)]) -> Result<KafkaOptions, Error> {
        let bad = |m: String| Error::Config(format!("Kafka source `{name}`: {m}"));
        let mut client = Vec::new();
        let mut get = BTreeMap::new();
        for (k, v) in options {
            let v = expand_env(v)?;
            match k.strip_prefix("kafka.") {
                Some(c) => {
                    if let Some((_, why)) = REFUSED.iter().find(|(r, _)| *r == c) {
                        return Err(bad(format!("Kafka option '{c}' is not supported: {why}")));
                    }
                    client.push((c.to_owned(), v));
                }
                None => {
                    get.insert(k.to_ascii_lowercase(), v);
                }
            }
        }
        if !client.iter().any(|(k, _)| k == "bootstrap.servers") {
            return Err(
                bad("Option 'kafka.bootstrap.servers' must be specified for configuring Kafka consumer".into()),
            );
        }
        let chosen: Vec<&str> =
            ["subscribe", "subscribepattern", "assign"].into_iter().filter(|k| get.contains_key(*k)).collect();
        let topics = match chosen[..] {
            ["subscribe"] => {
                let list: Vec<String> =
                    get["subscribe"].split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect();
                if list.is_empty() {
                    return Err(
                        bad("No topics to subscribe to as specified value for option 'subscribe' is ''".into()),
                    );
                }
                Topics::Subscribe(list)
            }
            ["subscribepattern"] => {
                let p = &get["subscribepattern"];
                Topics::Pattern(
                    regex::Regex::new(&format!("^(?:{p})$"))
                        .map_err(|e| bad(format!("option 'subscribePattern' is not a pattern: {e}")))?,
                )
            }
            ["assign"] => Topics::Assign(
                parse_offsets(&get["assign"], true)
                    .map_err(|e| bad(format!("option 'assign': {e}")))?
                    .into_keys()
                    .collect(),
            ),
            [] => {
                return Err(bad(
                    "One of the following options must be specified for Kafka source: subscribe, subscribePattern, assign. See the docs for more details.".into(),
                ));
            }
            _ => {
                return Err(bad(
                    "Only one of the following options can be specified for Kafka source: subscribe, subscribePattern, assign. See the docs for more details.".into(),
                ));
            }
        };
        // Spark's order: a global timestamp, then timestamps per partition, then offsets.
        let starting = if let Some(ts) = get.get("startingtimestamp") {
            Starting::AtTimestamp(
                ts.parse().map_err(|_| bad(format!("option 'startingTimestamp' is a time in ms, found `{ts}`")))?,
            )
        } else if let Some(json) = get.get("startingoffsetsbytimestamp") {
            Starting::ByTimestamp(
                parse_offsets(json, false).map_err(|e| bad(format!("option 'startingOffsetsByTimestamp': {e}")))?,
            )
        } else {
            match get.get("startingoffsets").map(String::as_str) {
                None | Some("latest") => Starting::Latest,
                Some("earliest") => Starting::Earliest,
                Some(json) => Starting::Given(
                    parse_offsets(json, false).map_err(|e| bad(format!("option 'startingOffsets': {e}")))?,
                ),
            }
        };
        let no_match_latest = match get.get("startingoffsetsbytimestampstrategy").map(|v| v.to_ascii_lowercase()) {
            None => false,
            Some(v) if v == "error" => false,
            Some(v) if v == "latest" => true,
            Some(v) => {
                return Err(bad(format!(
                    "option 'startingOffsetsByTimestampStrategy' is `error` or `latest`, found `{v}`"
                )));
            }
        };
        let include_headers = match get.get("includeheaders").map(|v| v.to_ascii_lowercase()) {
            None => false,
            Some(v) if v == "true" => true,
            Some(v) if v == "false" => false,
            Some(v) => return Err(bad(format!("option 'includeHeaders' is `true` or `false`, found `{v}`"))),
        };
        let number = |k: &str| -> Result<Option<u64>, Error> {
            get.get(k)
                .map(|v| v.parse::<u64>().map_err(|_| bad(format!("option '{k}' must be a whole number, found `{v}`"))))
                .transpose()
        };
        let max_per_trigger = number("maxoffsetspertrigger")?;
        if max_per_trigger == Some(0) {
            return Err(bad("option 'maxOffsetsPerTrigger' must be positive".into()));
        }
        let min_per_trigger = number("minoffsetspertrigger")?;
        if min_per_trigger == Some(0) {
            return Err(bad("option 'minOffsetsPerTrigger' must be positive".into()));
        }
        if let (Some(min), Some(max)) = (min_per_trigger, max_per_trigger)
            && min > max
        {
            return Err(bad(format!(
                "The value of minOffsetPerTrigger({min}) is higher than the maxOffsetsPerTrigger({max})."
            )));
        }
        let max_trigger_delay = match get.get("maxtriggerdelay") {
            None => Duration::from_secs(15 * 60),
            Some(v) => Duration::from_millis(time_ms(v).map_err(|e| bad(format!("option 'maxTriggerDelay': {e}")))?),
        };
        let fail_on_data_loss = match get.get("failondataloss").map(String::as_str) {
            None | Some("true") => true,
            Some("false") => false,
            Some(v) => return Err(bad(format!("option 'failOnDataLoss' is `true` or `false`, found `{v}`"))),
        };
        Ok(KafkaOptions {
            topics,
            starting,
            max_per_trigger,
            min_per_trigger,
            max_trigger_delay,
            no_match_latest,
            include_headers,
            fail_on_data_loss,
            retries: number("fetchoffset.numretries")?.unwrap_or(3) as u32,
            retry_interval: Duration::from_millis(number("fetchoffset.retryintervalms")?.unwrap_or(1000)),
            client,
        })
    }
}

/// A duration as Spark's `timeStringAsMs` reads it: a whole number with a unit (`us`, `ms`, `s`,
/// `m` or `min`, `h`, `d`), milliseconds without one.
pub(crate) fn time_ms(text: &str) -> Result<u64, String> {
    let t = text.trim().to_ascii_lowercase();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let n: u64 =
        t[..digits].parse().map_err(|_| format!("`{text}` is not a duration: write e.g. `50s`, `100ms`, `15m`"))?;
    let ms = match t[digits..].trim() {
        "" | "ms" => Some(n),
        "us" => Some(n / 1000),
        "s" => n.checked_mul(1000),
        "m" | "min" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        "d" => n.checked_mul(86_400_000),
        unit => {
            return Err(format!(
                "Invalid suffix: \"{unit}\": a time is seconds (s), milliseconds (ms), microseconds (us), minutes (m or min), hours (h), or days (d); e.g. 50s, 100ms, or 250us"
            ));
        }
    };
    ms.ok_or_else(|| format!("`{text}` is too long a time"))
}

/// Reads `{"topic":{"0":23,"1":-1}}` (offsets) or `{"topic":[0,1]}` (`assign`, with `list`).
fn parse_offsets(text: &str, list: bool) -> Result<BTreeMap<(String, i32), i64>, String> {
    let mut p = JsonCursor { s: text.as_bytes(), at: 0 };
    let mut out = BTreeMap::new();
    p.expect(b'{')?;
    if p.peek() == Some(b'}') {
        return Ok(out);
    }
    loop {
        let topic = p.string()?;
        p.expect(b':')?;
        if list {
            p.expect(b'[')?;
            while p.peek() != Some(b']') {
                let part = p.number()?;
                out.insert((topic.clone(), i32::try_from(part).map_err(|_| "a partition out of range")?), 0);
                if p.peek() == Some(b',') {
                    p.at += 1;
                }
            }
            p.at += 1;
        } else {
            p.expect(b'{')?;
            while p.peek() != Some(b'}') {
                let part: i32 = p.string()?.parse().map_err(|_| "a partition is a number in quotes: \"0\"")?;
                p.expect(b':')?;
                out.insert((topic.clone(), part), p.number()?);
                if p.peek() == Some(b',') {
                    p.at += 1;
                }
            }
            p.at += 1;
        }
        match p.peek() {
            Some(b',') => p.at += 1,
            Some(b'}') => break,
            _ => return Err(format!("expected `,` or `}}` at byte {}", p.at)),
        }
    }
    Ok(out)
}

struct JsonCursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl JsonCursor<'_> {
    fn peek(&mut self) -> Option<u8> {
        while self.s.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
        self.s.get(self.at).copied()
    }
    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected `{}` at byte {} of the JSON", c as char, self.at))
        }
    }
    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let start = self.at;
        while self.s.get(self.at).is_some_and(|c| *c != b'"') {
            self.at += 1;
        }
        let v = String::from_utf8_lossy(&self.s[start..self.at]).into_owned();
        self.expect(b'"')?;
        Ok(v)
    }
    fn number(&mut self) -> Result<i64, String> {
        self.peek();
        let start = self.at;
        while self.s.get(self.at).is_some_and(|c| *c == b'-' || c.is_ascii_digit()) {
            self.at += 1;
        }
        std::str::from_utf8(&self.s[start..self.at])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| format!("expected a number at byte {start} of the JSON"))
    }
}

/// The client configuration of the options (`kafka.*`), with streamc's defaults for a consumer
/// that is assigned partitions and never commits.
pub(crate) fn client_config(client: &[(String, String)]) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("group.id", "streamc-source");
    c.set("enable.auto.commit", "false");
    c.set("enable.partition.eof", "false");
    c.set("log_level", "3");
    for (k, v) in client {
        c.set(k, v);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_json_reads_as_spark_writes_it() {
        let m = parse_offsets(r#"{"a":{"0":23,"1":-2}, "b": {"0": -1}}"#, false).unwrap();
        assert_eq!(m[&("a".into(), 0)], 23);
        assert_eq!(m[&("a".into(), 1)], -2);
        assert_eq!(m[&("b".into(), 0)], -1);
        let a = parse_offsets(r#"{"a":[0,2]}"#, true).unwrap();
        assert!(a.contains_key(&("a".into(), 2)));
        assert!(parse_offsets("{\"a\":", false).is_err());
    }

    #[test]
    fn times_read_as_spark_reads_them() {
        assert_eq!(time_ms("15m"), Ok(900_000));
        assert_eq!(time_ms("250"), Ok(250));
        assert_eq!(time_ms("2s"), Ok(2000));
        assert_eq!(time_ms("1min"), Ok(60_000));
        assert!(time_ms("5 weeks").is_err());
        assert!(time_ms("s").is_err());
    }

    #[test]
    fn min_offsets_above_max_offsets_are_refused_with_sparks_message() {
        let o = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let opts = [
            o("kafka.bootstrap.servers", "h:1"),
            o("subscribe", "t"),
            o("minOffsetsPerTrigger", "10"),
            o("maxOffsetsPerTrigger", "5"),
        ];
        let e = KafkaOptions::parse("s", &opts).unwrap_err().to_string();
        assert!(e.contains("The value of minOffsetPerTrigger(10) is higher than the maxOffsetsPerTrigger(5)."), "{e}");
    }

    #[test]
    fn environment_expands_with_defaults() {
        assert_eq!(expand_env("${STREAMC_UNSET_FOR_TEST:-h:1}").unwrap(), "h:1");
        assert!(expand_env("${STREAMC_UNSET_FOR_TEST}").is_err());
        assert_eq!(expand_env("plain").unwrap(), "plain");
    }
}

//! Structured Streaming's Kafka source (feature `kafka`; the client is rdkafka, librdkafka).
//!
//! A batch is planned as one offset range per topic partition, `[from, until)`, written to the
//! checkpoint's offsets log before the batch runs (as a file stream's files are), so a batch
//! re-run after a crash reads exactly the records it read the first time. `until` is the
//! partition's latest offset, capped by `maxOffsetsPerTrigger` spread over the partitions by
//! their backlog (Spark's `rateLimit`). Partitions are listed again at every plan, so a topic
//! that gains partitions (or a new topic matching `subscribePattern`) is read from its start.
//! After each batch the checkpoint records the next offset of every partition.
//!
//! Each record becomes one JSON line of Spark's columns (`key`, `value`, `topic`, `partition`,
//! `offset`, `timestamp`, `timestampType`), which the generated code reads as it reads a JSON
//! source; with `json_value` the record's value itself is the line (streamc's shorthand for
//! `from_json(CAST(value AS STRING), schema)`).

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Message, Timestamp as KafkaTimestamp};
use rdkafka::{Offset, TopicPartitionList};

use super::planned::Planned;
use super::text::TextBatch;
use crate::error::Error;
use crate::fmt::json_string;

/// Which partitions a source reads.
#[derive(Clone, Debug)]
enum Topics {
    Subscribe(Vec<String>),
    Pattern(regex::Regex),
    Assign(Vec<(String, i32)>),
}

/// Where a partition first seen starts.
#[derive(Clone, Debug)]
enum Starting {
    Earliest,
    Latest,
    /// Per topic and partition: an offset, or -2 (earliest) / -1 (latest).
    Given(BTreeMap<(String, i32), i64>),
}

/// A source's options, read from Spark's `.option(..)` names.
#[derive(Clone, Debug)]
pub(crate) struct KafkaOptions {
    topics: Topics,
    starting: Starting,
    max_per_trigger: Option<u64>,
    fail_on_data_loss: bool,
    /// How many times a metadata or offset request is retried, and how long apart (Spark's
    /// `fetchOffset.numRetries`, `fetchOffset.retryIntervalMs`).
    retries: u32,
    retry_interval: Duration,
    /// The client's own settings: every `kafka.*` option without its prefix.
    client: Vec<(String, String)>,
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
    ("key.deserializer", "keys are read as strings; cast or parse them in the query"),
    ("value.deserializer", "values are read as strings; cast or parse them in the query"),
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
        let starting = match get.get("startingoffsets").map(String::as_str) {
            None | Some("latest") => Starting::Latest,
            Some("earliest") => Starting::Earliest,
            Some(json) => {
                Starting::Given(parse_offsets(json, false).map_err(|e| bad(format!("option 'startingOffsets': {e}")))?)
            }
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
        let fail_on_data_loss = match get.get("failondataloss").map(String::as_str) {
            None | Some("true") => true,
            Some("false") => false,
            Some(v) => return Err(bad(format!("option 'failOnDataLoss' is `true` or `false`, found `{v}`"))),
        };
        Ok(KafkaOptions {
            topics,
            starting,
            max_per_trigger,
            fail_on_data_loss,
            retries: number("fetchoffset.numretries")?.unwrap_or(3) as u32,
            retry_interval: Duration::from_millis(number("fetchoffset.retryintervalms")?.unwrap_or(1000)),
            client,
        })
    }
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

/// A Kafka source while the app runs.
pub(crate) struct KafkaSource {
    name: String,
    options: KafkaOptions,
    json_value: bool,
    consumer: BaseConsumer,
    /// Per partition: the next offset to plan from.
    next: BTreeMap<(String, i32), i64>,
    /// Under `AvailableNow`: the offsets the run reads up to.
    snapshot: Option<BTreeMap<(String, i32), i64>>,
    /// Whether a batch was planned (by this run, or a checkpointed one): partitions seen after
    /// that start at their earliest offset, not at `startingOffsets`.
    planned: bool,
    /// Per partition the consumer reads: where reading stands (partitions stay assigned from
    /// batch to batch, so the next batch goes on without a new fetch from the broker).
    reading: BTreeMap<(String, i32), Reading>,
}

/// Where the reading of one partition stands.
struct Reading {
    /// The offset the current range starts at (`from`), and where the last seek went (`start`;
    /// until a first record shows that nothing between was skipped: `verified`).
    from: i64,
    start: i64,
    verified: bool,
    /// The highest offset read.
    last: i64,
    /// The offset the last batch's range ended at: the next batch goes on from it.
    resume: i64,
    /// Records read past the last batch's range, in order.
    carry: std::collections::VecDeque<(i64, String)>,
}

impl Reading {
    fn at(from: i64) -> Reading {
        Reading { from, start: from, verified: false, last: from - 1, resume: -1, carry: Default::default() }
    }
}

impl KafkaSource {
    /// Connects source `name`; `taken` is the checkpoint's record (`topic partition next`).
    pub(crate) fn start(
        name: &str,
        options: &[(String, String)],
        json_value: bool,
        taken: impl IntoIterator<Item = String>,
    ) -> Result<Self, Error> {
        let options = KafkaOptions::parse(name, options)?;
        let consumer: BaseConsumer = client_config(&options.client)
            .create()
            .map_err(|e| Error::Config(format!("Kafka source `{name}`: cannot create the client: {e}")))?;
        let mut next = BTreeMap::new();
        for t in taken {
            let Some((topic, partition, offset)) = parse_position(&t) else {
                return Err(Error::Config(format!(
                    "Kafka source `{name}`: the checkpoint's position `{t}` is not `topic partition offset`"
                )));
            };
            next.insert((topic, partition), offset);
        }
        Ok(KafkaSource {
            name: name.to_owned(),
            options,
            json_value,
            consumer,
            planned: !next.is_empty(),
            next,
            snapshot: None,
            reading: BTreeMap::new(),
        })
    }

    fn error(&self, m: impl std::fmt::Display) -> Error {
        Error::Config(format!("Kafka source `{}`: {m}", self.name))
    }

    /// Runs `f` with Spark's retries (`fetchOffset.numRetries` times, `retryIntervalMs` apart).
    fn retried<T>(&self, what: &str, mut f: impl FnMut() -> Result<T, KafkaError>) -> Result<T, Error> {
        let mut tries = 0;
        loop {
            match f() {
                Ok(v) => return Ok(v),
                Err(e) if tries < self.options.retries => {
                    tries += 1;
                    eprintln!(
                        "warning: Kafka source `{}`: {what} failed ({e}); retry {tries} of {} in {} ms",
                        self.name,
                        self.options.retries,
                        self.options.retry_interval.as_millis()
                    );
                    std::thread::sleep(self.options.retry_interval);
                }
                Err(e) => {
                    return Err(self.error(format!(
                        "{what} failed after {tries} retries: {e}\nhelp: is the broker at `{}` up? (options `fetchOffset.numRetries`, `fetchOffset.retryIntervalMs` say how long to retry)",
                        self.options.client.iter().find(|(k, _)| k == "bootstrap.servers").map_or("", |(_, v)| v)
                    )));
                }
            }
        }
    }

    /// Every partition the source reads now.
    fn partitions(&self) -> Result<Vec<(String, i32)>, Error> {
        if let Topics::Assign(list) = &self.options.topics {
            return Ok(list.clone());
        }
        let topic = match &self.options.topics {
            Topics::Subscribe(t) if t.len() == 1 => Some(t[0].as_str()),
            _ => None,
        };
        let md = self.retried("listing the topics", || self.consumer.fetch_metadata(topic, Duration::from_secs(10)))?;
        let mut out = Vec::new();
        for t in md.topics() {
            let wanted = match &self.options.topics {
                Topics::Subscribe(list) => list.iter().any(|n| n == t.name()),
                Topics::Pattern(p) => p.is_match(t.name()) && !t.name().starts_with("__"),
                Topics::Assign(_) => false,
            };
            if wanted && t.error().is_none() {
                out.extend(t.partitions().iter().map(|p| (t.name().to_owned(), p.id())));
            }
        }
        out.sort();
        Ok(out)
    }

    /// A partition's (earliest, latest) offsets.
    fn bounds(&self, topic: &str, partition: i32) -> Result<(i64, i64), Error> {
        self.retried(&format!("reading the offsets of {topic}-{partition}"), || {
            self.consumer.fetch_watermarks(topic, partition, Duration::from_secs(10))
        })
    }

    /// Where a partition seen for the first time starts: the starting offsets for the
    /// partitions there at the query's first batch, the earliest for those that appear later
    /// (Spark).
    fn first_offset(&self, tp: &(String, i32), first_plan: bool, (lo, hi): (i64, i64)) -> i64 {
        if !first_plan {
            return lo;
        }
        match &self.options.starting {
            Starting::Earliest => lo,
            Starting::Latest => hi,
            Starting::Given(m) => match m.get(tp) {
                Some(-2) => lo,
                Some(-1) | None => hi,
                Some(&o) => o,
            },
        }
    }
}

/// `topic partition offset`, as the checkpoint records a position.
fn parse_position(s: &str) -> Option<(String, i32, i64)> {
    let mut it = s.rsplitn(3, ' ');
    let offset = it.next()?.parse().ok()?;
    let partition = it.next()?.parse().ok()?;
    Some((it.next()?.to_owned(), partition, offset))
}

/// `topic partition from until`, as the offsets log records a planned range.
fn parse_range(s: &str) -> Option<(String, i32, i64, i64)> {
    let mut it = s.rsplitn(4, ' ');
    let until = it.next()?.parse().ok()?;
    let from = it.next()?.parse().ok()?;
    let partition = it.next()?.parse().ok()?;
    Some((it.next()?.to_owned(), partition, from, until))
}

/// Spark's `rateLimit`: `limit` records spread over the partitions by their backlog (at least
/// one each, rounded down otherwise, never past the end).
fn rate_limit(limit: u64, ranges: &mut [(String, i32, i64, i64)]) {
    let total: i64 = ranges.iter().map(|r| (r.3 - r.2).max(0)).sum();
    if total < 1 {
        return;
    }
    for r in ranges.iter_mut() {
        let size = r.3 - r.2;
        if size <= 0 {
            continue;
        }
        let prorate = limit as f64 * (size as f64 / total as f64);
        let n = if prorate < 1.0 { prorate.ceil() } else { prorate.floor() } as i64;
        r.3 = r.3.min(r.2.saturating_add(n));
    }
}

impl Planned for KafkaSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn plan(&mut self, unlimited: bool) -> Result<Vec<String>, Error> {
        let first_plan = !self.planned;
        self.planned = true;
        let mut ranges = Vec::new();
        for tp in self.partitions()? {
            let (lo, hi) = self.bounds(&tp.0, tp.1)?;
            let end = match &self.snapshot {
                Some(s) => s.get(&tp).copied().unwrap_or(lo).min(hi),
                None => hi,
            };
            let from = match self.next.get(&tp) {
                Some(&n) => n,
                None => self.first_offset(&tp, first_plan, (lo, hi)),
            };
            let from = if from < lo {
                // The records from `from` are gone (retention, or a recreated topic).
                let m = format!(
                    "Some data may have been lost because they are not available in Kafka any more; either the data was aged out by Kafka or the topic may have been deleted before all the data in the topic was processed. {}-{}: offsets {from} to {lo} are gone",
                    tp.0, tp.1
                );
                if self.options.fail_on_data_loss {
                    return Err(self.error(format!(
                        "{m}\nhelp: if you don't want your streaming query to fail on such cases, set the source option 'failOnDataLoss' to 'false'"
                    )));
                }
                eprintln!("warning: Kafka source `{}`: {m}; going on from {lo}", self.name);
                lo
            } else if from > hi {
                let m = format!(
                    "{}-{}'s offset was changed from {from} to {hi}, some data may have been missed",
                    tp.0, tp.1
                );
                if self.options.fail_on_data_loss {
                    return Err(self.error(format!(
                        "{m}\nhelp: if you don't want your streaming query to fail on such cases, set the source option 'failOnDataLoss' to 'false'"
                    )));
                }
                eprintln!("warning: Kafka source `{}`: {m}", self.name);
                hi
            } else {
                from
            };
            ranges.push((tp.0, tp.1, from, end.max(from)));
        }
        if let (Some(limit), false) = (self.options.max_per_trigger, unlimited) {
            rate_limit(limit, &mut ranges);
        }
        let mut out = Vec::new();
        for (topic, partition, from, until) in ranges {
            if until > from {
                out.push(format!("{topic} {partition} {from} {until}"));
            }
            self.next.insert((topic, partition), until);
        }
        Ok(out)
    }

    fn take_planned(&mut self, planned: &[String]) {
        for r in planned {
            if let Some((topic, partition, _, until)) = parse_range(r) {
                self.next.insert((topic, partition), until);
            }
        }
    }

    fn read(&mut self, planned: &[String], batch: &mut TextBatch) -> Result<(), Error> {
        let mut want = BTreeMap::new();
        for r in planned {
            let (topic, partition, from, until) = parse_range(r)
                .ok_or_else(|| self.error(format!("the planned range `{r}` is not `topic partition from until`")))?;
            want.insert((topic, partition), (from, until));
        }
        let mut line = String::new();
        // Per partition, appended in (topic, partition) order at the end: the batch's text is the
        // same for every reader of the plan (the processes of a cluster cut it into the same
        // shares), however the broker's fetches interleave the partitions.
        let mut texts: BTreeMap<(String, i32), TextBatch> = BTreeMap::new();
        let mut pending: HashSet<(String, i32)> = HashSet::new();
        let mut new = TopicPartitionList::new();
        for (key, &(from, until)) in &want {
            match self.reading.get_mut(key) {
                // Reading goes on where the last batch ended: its records read ahead come first.
                Some(r) if r.resume == from => {
                    r.from = from;
                    let text_of = texts.entry(key.clone()).or_default();
                    while let Some((offset, text)) = r.carry.pop_front() {
                        if offset >= until {
                            r.carry.push_front((offset, text));
                            break;
                        }
                        if offset >= from {
                            text_of.push_line(&text);
                        }
                    }
                    if r.last < until - 1 {
                        pending.insert(key.clone());
                    }
                }
                Some(r) => {
                    // Elsewhere (a restart's first batch, or offsets skipped as lost): seek.
                    *r = Reading::at(from);
                    self.consumer
                        .seek(&key.0, key.1, Offset::Offset(from), Duration::from_secs(10))
                        .map_err(|e| self.error(format!("cannot read {}-{} from {from}: {e}", key.0, key.1)))?;
                    pending.insert(key.clone());
                }
                None => {
                    new.add_partition_offset(&key.0, key.1, Offset::Offset(from))
                        .map_err(|e| self.error(format!("cannot read {}-{}: {e}", key.0, key.1)))?;
                    self.reading.insert(key.clone(), Reading::at(from));
                    pending.insert(key.clone());
                }
            }
        }
        if new.count() > 0 {
            self.consumer
                .incremental_assign(&new)
                .map_err(|e| self.error(format!("cannot assign the partitions: {e}")))?;
        }
        let mut last_progress = Instant::now();
        let patience = self.options.retry_interval * (self.options.retries + 1) + Duration::from_secs(10);
        let mut key: Option<(String, i32)> = None;
        while !pending.is_empty() {
            let Some(m) = self.consumer.poll(Duration::from_millis(200)) else {
                if last_progress.elapsed() > patience {
                    let missing: Vec<String> = pending.iter().map(|(t, p)| format!("{t}-{p}")).collect();
                    return Err(self.error(format!(
                        "the planned records of {} could not be read in {} s\nhelp: is the broker up? the batch runs again from the same offsets after a restart",
                        missing.join(", "),
                        patience.as_secs()
                    )));
                }
                continue;
            };
            let m = match m {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("warning: Kafka source `{}`: {e}; retrying", self.name);
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            };
            last_progress = Instant::now();
            // Records come in runs of one partition: its name is copied only when it changes.
            if !key.as_ref().is_some_and(|(t, p)| t == m.topic() && *p == m.partition()) {
                key = Some((m.topic().to_owned(), m.partition()));
            }
            let Some(k) = &key else { continue };
            let offset = m.offset();
            let Some(r) = self.reading.get_mut(k) else { continue };
            if offset < r.start {
                // Fetched before the last seek.
                continue;
            }
            // Some brokers (tansu) answer a fetch from inside a produced batch with the next
            // batch: a first record past the start means records were skipped, so reading starts
            // again further back (doubling the step, down to the partition's first offset).
            if !r.verified && offset > r.start && r.start > 0 {
                let (start, from) = (r.start, r.from);
                let (lo, _) = self.bounds(&k.0, k.1)?;
                if start > lo {
                    let again = (from - (from - start).max(4096) * 2).max(lo);
                    self.consumer
                        .seek(&k.0, k.1, Offset::Offset(again), Duration::from_secs(10))
                        .map_err(|e| self.error(format!("cannot read {}-{} from {again}: {e}", k.0, k.1)))?;
                    if let Some(r) = self.reading.get_mut(k) {
                        r.start = again;
                    }
                    continue;
                }
            }
            let Some(r) = self.reading.get_mut(k) else { continue };
            r.verified = true;
            // Each offset once, in order (a broker may send a batch again after a seek).
            if offset <= r.last {
                continue;
            }
            r.last = offset;
            if offset < r.from {
                continue;
            }
            line.clear();
            if self.json_value {
                // A value is one JSON document; line breaks in it are whitespace.
                let v = String::from_utf8_lossy(m.payload().unwrap_or_default());
                line.extend(v.chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }));
            } else {
                record_line(&m, &mut line);
            }
            let until = want.get(k).map(|&(_, until)| until);
            match until {
                Some(until) if offset < until => match texts.get_mut(k) {
                    Some(t) => t.push_line(&line),
                    None => texts.entry(k.clone()).or_default().push_line(&line),
                },
                // Read ahead: the next batch's.
                _ => r.carry.push_back((offset, line.clone())),
            }
            if until.is_some_and(|until| offset >= until - 1) {
                pending.remove(k);
            }
        }
        for t in texts.values() {
            batch.append(t);
        }
        for (key, &(_, until)) in &want {
            if let Some(r) = self.reading.get_mut(key) {
                r.resume = until;
            }
        }
        Ok(())
    }

    fn taken(&self) -> Vec<String> {
        self.next.iter().map(|((t, p), o)| format!("{t} {p} {o}")).collect()
    }

    fn take_snapshot(&mut self, reserved: &HashSet<&str>) -> Result<(), Error> {
        let _ = reserved;
        let mut s = BTreeMap::new();
        for tp in self.partitions()? {
            let (_, hi) = self.bounds(&tp.0, tp.1)?;
            s.insert(tp, hi);
        }
        self.snapshot = Some(s);
        Ok(())
    }

    fn snapshot_files(&self) -> usize {
        self.snapshot.as_ref().map_or(0, |s| {
            s.iter().map(|(tp, end)| (end - self.next.get(tp).copied().unwrap_or(0)).max(0) as usize).sum()
        })
    }

    fn has_snapshot_files(&self) -> bool {
        // Before the first plan, the starting offsets decide: plan once to see.
        self.snapshot
            .as_ref()
            .is_some_and(|s| !self.planned || s.iter().any(|(tp, end)| self.next.get(tp).is_some_and(|n| n < end)))
    }
}

/// A record as a JSON line of Spark's columns. `key` and `value` are strings (Spark's are
/// binary: `CAST(value AS STRING)` reads them the same; bytes that are not UTF-8 become U+FFFD,
/// as Spark's cast does).
fn record_line<M: Message>(m: &M, out: &mut String) {
    let text = |b: Option<&[u8]>, out: &mut String| match b {
        Some(b) => json_string(&String::from_utf8_lossy(b), out),
        None => out.push_str("null"),
    };
    out.push_str("{\"key\":");
    text(m.key(), out);
    out.push_str(",\"value\":");
    text(m.payload(), out);
    out.push_str(",\"topic\":");
    json_string(m.topic(), out);
    let (ts, kind) = match m.timestamp() {
        KafkaTimestamp::CreateTime(t) => (Some(t), 0),
        KafkaTimestamp::LogAppendTime(t) => (Some(t), 1),
        KafkaTimestamp::NotAvailable => (None, -1),
    };
    let _ = std::fmt::Write::write_fmt(
        out,
        format_args!(",\"partition\":{},\"offset\":{},\"timestamp\":", m.partition(), m.offset()),
    );
    match ts {
        Some(ms) => crate::fmt::ToJson::to_json(&crate::structured::time::Timestamp(ms * 1000), out),
        None => out.push_str("null"),
    }
    let _ = std::fmt::Write::write_fmt(out, format_args!(",\"timestampType\":{kind}}}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_spreads_the_limit_by_backlog() {
        let mut r = vec![("t".to_owned(), 0, 0, 100), ("t".to_owned(), 1, 10, 20), ("t".to_owned(), 2, 5, 5)];
        rate_limit(11, &mut r);
        // 11 × 100/110 = 10, 11 × 10/110 = 1 (at least one).
        assert_eq!(r.iter().map(|x| x.3).collect::<Vec<_>>(), [10, 11, 5]);
    }

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
    fn positions_and_ranges_round_trip_with_spaces_in_names() {
        assert_eq!(parse_position("my topic 3 42"), Some(("my topic".into(), 3, 42)));
        assert_eq!(parse_range("t 0 5 9"), Some(("t".into(), 0, 5, 9)));
    }

    #[test]
    fn environment_expands_with_defaults() {
        assert_eq!(expand_env("${STREAMC_UNSET_FOR_TEST:-h:1}").unwrap(), "h:1");
        assert!(expand_env("${STREAMC_UNSET_FOR_TEST}").is_err());
        assert_eq!(expand_env("plain").unwrap(), "plain");
    }
}

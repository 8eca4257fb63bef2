//! Structured Streaming's Kafka source (feature `kafka`; the client is rdkafka, librdkafka).
//!
//! A batch is planned as one offset range per topic partition, `[from, until)`, written to the
//! checkpoint's offsets log before the batch runs (as a file stream's files are), so a batch
//! re-run after a crash reads exactly the records it read the first time. `until` is the
//! partition's latest offset, capped by `maxOffsetsPerTrigger` spread over the partitions by
//! their backlog (Spark's `rateLimit`); with `minOffsetsPerTrigger` a batch of fewer new records
//! waits until `maxTriggerDelay` has passed since the last batch (Spark's `delayBatch`). The first
//! batch starts at `startingOffsets`, or at the offsets of `startingTimestamp` /
//! `startingOffsetsByTimestamp` (the broker's `ListOffsets` by time). Partitions are listed again at every plan, so a topic
//! that gains partitions (or a new topic matching `subscribePattern`) is read from its start.
//! After each batch the checkpoint records the next offset of every partition.
//!
//! Each record becomes one JSON line of Spark's columns (`key`, `value`, `topic`, `partition`,
//! `offset`, `timestamp`, `timestampType`, and `headers` with `includeHeaders`), which the generated code reads as it reads a JSON
//! source; with `json_value` the record's value itself is the line (streamc's shorthand for
//! `from_json(CAST(value AS STRING), schema)`).

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message, Timestamp as KafkaTimestamp};
use rdkafka::{Offset, TopicPartitionList};

mod options;

use options::{KafkaOptions, Starting, Topics};
pub(crate) use options::{client_config, expand_env};

use super::kafka_lines::KafkaLines;
use super::planned::Planned;
use super::share::Share;
use super::text::TextBatch;
use crate::error::Error;
use crate::fmt::json_string;

/// A Kafka source while the app runs.
pub(crate) struct KafkaSource {
    name: String,
    options: KafkaOptions,
    lines: KafkaLines,
    /// The client that reads the planned records (its partitions stay assigned).
    consumer: BaseConsumer,
    /// The client that plans: topics, offsets, timestamps. Not the reading one: that one keeps a
    /// fetch waiting at the broker (up to `fetch.wait.max.ms`, 500 ms), and every query sent on
    /// its connections waited behind it (4 queries a batch: ~2 s between batches of a
    /// 3-partition topic). Spark's driver plans with a client of its own too.
    planner: BaseConsumer,
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
    /// When the last batch was planned (for `minOffsetsPerTrigger`: none yet is long ago).
    last_trigger: Option<Instant>,
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
        lines: KafkaLines,
        taken: impl IntoIterator<Item = String>,
    ) -> Result<Self, Error> {
        let options = KafkaOptions::parse(name, options)?;
        let client = || {
            client_config(&options.client)
                .create::<BaseConsumer>()
                .map_err(|e| Error::Config(format!("Kafka source `{name}`: cannot create the client: {e}")))
        };
        let (consumer, planner) = (client()?, client()?);
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
            lines,
            consumer,
            planner,
            planned: !next.is_empty(),
            next,
            snapshot: None,
            reading: BTreeMap::new(),
            last_trigger: None,
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
        let md = self.retried("listing the topics", || self.planner.fetch_metadata(topic, Duration::from_secs(10)))?;
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
            self.planner.fetch_watermarks(topic, partition, Duration::from_secs(10))
        })
    }

    /// Where the partitions there at the query's first batch start (`startingOffsets`, or the
    /// offsets of `startingTimestamp` / `startingOffsetsByTimestamp`); partitions that appear
    /// later start at their earliest offset (Spark). Given offsets or timestamps must name every
    /// partition the source reads, as Spark requires.
    fn starting_offsets(
        &self,
        parts: &[(String, i32)],
        bounds: &[(i64, i64)],
    ) -> Result<BTreeMap<(String, i32), i64>, Error> {
        let set = |keys: &mut dyn Iterator<Item = &(String, i32)>| {
            format!("Set({})", keys.map(|(t, p)| format!("{t}-{p}")).collect::<Vec<_>>().join(", "))
        };
        type Pick<'a> = &'a dyn Fn(&(String, i32), i64, i64) -> i64;
        let each = |f: Pick<'_>| parts.iter().zip(bounds).map(|(tp, &(lo, hi))| (tp.clone(), f(tp, lo, hi))).collect();
        match &self.options.starting {
            Starting::Earliest => Ok(each(&|_, lo, _| lo)),
            Starting::Latest => Ok(each(&|_, _, hi| hi)),
            Starting::Given(m) => {
                if !m.keys().eq(parts.iter()) {
                    return Err(self.error(format!(
                        "If startingOffsets contains specific offsets, you must specify all TopicPartitions.\nUse -1 for latest, -2 for earliest.\nSpecified: {} Assigned: {}",
                        set(&mut m.keys()),
                        set(&mut parts.iter())
                    )));
                }
                Ok(each(&|tp, lo, hi| match m[tp] {
                    -2 => lo,
                    -1 => hi,
                    o => o,
                }))
            }
            Starting::ByTimestamp(m) => {
                if !m.keys().eq(parts.iter()) {
                    return Err(self.error(format!(
                        "Partitions specified for Kafka start offsets by timestamp do not match with topic-partitions assigned. Kafka start offsets by timestamp for topic-partitions: {}. Topic-partitions assigned: {}.",
                        set(&mut m.keys()),
                        set(&mut parts.iter())
                    )));
                }
                self.at_timestamps(parts, bounds, |tp| m[tp])
            }
            Starting::AtTimestamp(ts) => self.at_timestamps(parts, bounds, |_| *ts),
        }
    }

    /// Per partition, the first offset whose record's timestamp is at or after `ts(partition)`;
    /// where there is none, the latest offset (`startingOffsetsByTimestampStrategy: latest`) or
    /// Spark's error.
    fn at_timestamps(
        &self,
        parts: &[(String, i32)],
        bounds: &[(i64, i64)],
        ts: impl Fn(&(String, i32)) -> i64,
    ) -> Result<BTreeMap<(String, i32), i64>, Error> {
        let mut list = TopicPartitionList::new();
        for tp in parts {
            list.add_partition_offset(&tp.0, tp.1, Offset::Offset(ts(tp)))
                .map_err(|e| self.error(format!("cannot read {}-{}: {e}", tp.0, tp.1)))?;
        }
        let found = self.retried("reading the offsets at the starting timestamps", || {
            self.planner.offsets_for_times(list.clone(), Duration::from_secs(10))
        })?;
        let mut out = BTreeMap::new();
        for (tp, &(_, hi)) in parts.iter().zip(bounds) {
            let offset = found.find_partition(&tp.0, tp.1).map(|e| e.offset());
            let offset = match offset {
                Some(Offset::Offset(o)) if o >= 0 => o,
                _ if self.options.no_match_latest => hi,
                _ => {
                    return Err(self.error(format!(
                        "No offset matched from request of topic-partition {}-{} and timestamp {}.\nhelp: set 'startingOffsetsByTimestampStrategy' to 'latest' to start such partitions at their latest offset",
                        tp.0,
                        tp.1,
                        ts(tp)
                    )));
                }
            };
            out.insert(tp.clone(), offset);
        }
        Ok(out)
    }

    /// Records lost to the source: Spark's error with `failOnDataLoss` (the default), else a
    /// warning (`then` says how reading goes on).
    fn data_loss(&self, m: String, then: &str) -> Result<(), Error> {
        if self.options.fail_on_data_loss {
            return Err(self.error(format!(
                "{m}\nhelp: if you don't want your streaming query to fail on such cases, set the source option 'failOnDataLoss' to 'false'"
            )));
        }
        eprintln!("warning: Kafka source `{}`: {m}{then}", self.name);
        Ok(())
    }

    /// `minOffsetsPerTrigger` (Spark's `delayBatch`): whether to wait with a batch of `new`
    /// records, fewer than the minimum, until `maxTriggerDelay` has passed since the last batch.
    fn delay(&mut self, new: u64) -> bool {
        let Some(min) = self.options.min_per_trigger else { return false };
        let now = Instant::now();
        if self.last_trigger.is_some_and(|t| now.duration_since(t) < self.options.max_trigger_delay) && new < min {
            return true;
        }
        self.last_trigger = Some(now);
        false
    }

    /// Reads a planned batch's ranges into `batch`; with `share = Some((me, n))` only process
    /// `me`'s block of them for a cluster of `n`: the ranges in (topic, partition) order cut
    /// into `n` blocks of about as many partitions, so that the processes' records in process
    /// order are the batch's.
    fn read_ranges(
        &mut self,
        planned: &[String],
        batch: &mut TextBatch,
        share: Option<(usize, usize)>,
    ) -> Result<(), Error> {
        let mut want = BTreeMap::new();
        for r in planned {
            let (topic, partition, from, until) = parse_range(r)
                .ok_or_else(|| self.error(format!("the planned range `{r}` is not `topic partition from until`")))?;
            want.insert((topic, partition), (from, until));
        }
        if let Some((me, n)) = share {
            let len = want.len();
            let block = (len * me / n)..(len * (me + 1) / n);
            want = want.into_iter().enumerate().filter(|(i, _)| block.contains(i)).map(|(_, kv)| kv).collect();
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
            if self.lines == KafkaLines::Values {
                // A value is one JSON document; line breaks in it are whitespace.
                let v = String::from_utf8_lossy(m.payload().unwrap_or_default());
                line.extend(v.chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }));
            } else {
                record_line(&m, self.lines == KafkaLines::Columns, self.options.include_headers, &mut line);
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
        let parts = self.partitions()?;
        let bounds = parts.iter().map(|tp| self.bounds(&tp.0, tp.1)).collect::<Result<Vec<_>, _>>()?;
        let starts = if first_plan { self.starting_offsets(&parts, &bounds)? } else { BTreeMap::new() };
        let mut ranges = Vec::new();
        for (tp, (lo, hi)) in parts.into_iter().zip(bounds) {
            let end = match &self.snapshot {
                Some(s) => s.get(&tp).copied().unwrap_or(lo).min(hi),
                None => hi,
            };
            let from = match self.next.get(&tp) {
                Some(&n) => n,
                None => starts.get(&tp).copied().unwrap_or(lo),
            };
            let from = if from < lo {
                // The records from `from` are gone (retention, or a recreated topic).
                self.data_loss(format!(
                    "Some data may have been lost because they are not available in Kafka any more; either the data was aged out by Kafka or the topic may have been deleted before all the data in the topic was processed. {}-{}: offsets {from} to {lo} are gone",
                    tp.0, tp.1
                ), &format!("; going on from {lo}"))?;
                lo
            } else if from > hi {
                self.data_loss(
                    format!(
                        "{}-{}'s offset was changed from {from} to {hi}, some data may have been missed",
                        tp.0, tp.1
                    ),
                    "",
                )?;
                hi
            } else {
                from
            };
            ranges.push((tp.0, tp.1, from, end.max(from)));
        }
        // Under `AvailableNow` (a snapshot) every record there is read, however few.
        let new: i64 = ranges.iter().map(|r| r.3 - r.2).sum();
        if !unlimited && self.snapshot.is_none() && self.delay(new.max(0) as u64) {
            return Ok(Vec::new());
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
        self.read_ranges(planned, batch, None)
    }

    /// Process `me` of a cluster of `n` reads a block of the planned partitions
    /// ([`KafkaSource::read_ranges`]).
    fn read_share(&mut self, planned: &[String], batch: &mut TextBatch, share: Share) -> Result<bool, Error> {
        // Whole partitions, a block of them per process (not byte shares).
        self.read_ranges(planned, batch, Some((share.me, share.n)))?;
        Ok(true)
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

/// A record as a JSON line of Spark's columns: `key` and `value` binary (base64) with `binary`,
/// else text (bytes that are not UTF-8 become U+FFFD).
fn record_line<M: Message>(m: &M, binary: bool, headers: bool, out: &mut String) {
    let bytes = |b: Option<&[u8]>, out: &mut String| match b {
        None => out.push_str("null"),
        Some(b) if binary => {
            out.push('"');
            base64::Engine::encode_string(&base64::engine::general_purpose::STANDARD, b, out);
            out.push('"');
        }
        Some(b) => json_string(&String::from_utf8_lossy(b), out),
    };
    out.push_str("{\"key\":");
    bytes(m.key(), out);
    out.push_str(",\"value\":");
    bytes(m.payload(), out);
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
    let _ = std::fmt::Write::write_fmt(out, format_args!(",\"timestampType\":{kind}"));
    if headers {
        // Spark's `headers`: `array<struct<key: string, value: binary>>` (binary as base64 in
        // JSON), null for a record without headers.
        out.push_str(",\"headers\":");
        match m.headers().filter(|h| h.count() > 0) {
            None => out.push_str("null"),
            Some(h) => {
                out.push('[');
                for (i, header) in h.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str("{\"key\":");
                    json_string(header.key, out);
                    out.push_str(",\"value\":");
                    match header.value {
                        Some(v) => {
                            out.push('"');
                            base64::Engine::encode_string(&base64::engine::general_purpose::STANDARD, v, out);
                            out.push('"');
                        }
                        None => out.push_str("null"),
                    }
                    out.push('}');
                }
                out.push(']');
            }
        }
    }
    out.push('}');
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
    fn positions_and_ranges_round_trip_with_spaces_in_names() {
        assert_eq!(parse_position("my topic 3 42"), Some(("my topic".into(), 3, 42)));
        assert_eq!(parse_range("t 0 5 9"), Some(("t".into(), 0, 5, 9)));
    }
}

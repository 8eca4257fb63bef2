//! Structured Streaming's Kafka sink (feature `kafka`).
//!
//! Each row is one record: its `value` column (required), `key`, `topic` (unless the sink's
//! `topic` option names it) and `partition` columns as Spark reads them. A batch is written and
//! flushed before the batch commits, so after a crash the batch runs again and its rows are
//! written again: at least once, as Spark.
//!
//! With `exactly_once` (beyond Spark), a re-run batch writes only the rows a crashed run did
//! not: the rows are written in a fixed order (sorted by their JSON text) with an idempotent
//! producer, each to a partition chosen from the row alone (its `partition`, else the murmur2
//! hash of its key as Kafka's default partitioner, else its place in the order), and each record
//! carries the headers `streamc.writer` (the app and sink), `streamc.batch` and `streamc.seq`.
//! The records of one partition are written in order, so what a crash leaves written is, per
//! partition, a prefix of the batch's records: when the writer starts, it reads the end of each
//! partition it writes to for its own last record, and skips the rows of a re-run batch up to it.
//! Every row is then in the topic once, for any consumer (`read_committed` or not). This needs
//! one writer per sink at a time (two runs of the same app on one checkpoint are not fenced), and
//! the broker's log end to be readable; it does not use Kafka transactions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{Offset, TopicPartitionList};

use crate::error::Error;
use crate::source::kafka::{client_config, expand_env};
use crate::structured::row::{JsonKeys, Row, Value};

/// Delivery failures of the current batch, collected by the producer's callback.
#[derive(Clone, Default)]
struct Failures(Arc<Mutex<Vec<String>>>);

impl ClientContext for Failures {}

impl ProducerContext for Failures {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, m)) = result {
            let mut f = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if f.len() < 5 {
                f.push(format!("{}-{}: {e}", m.topic(), m.partition()));
            }
        }
    }
}

/// A row as a record: its sort key (exactly once: its JSON text), topic, key, value and
/// partition.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct OutRecord {
    sort: String,
    topic: String,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    partition: Option<i32>,
    /// The row's `headers` column.
    headers: Vec<RecordHeader>,
}

/// A topic's partition count, and per partition the last (batch, seq) this writer wrote there.
type TopicState = (i32, Vec<Option<(u64, u64)>>);

/// A Kafka sink while the app runs.
pub(crate) struct KafkaWriter {
    name: String,
    topic: Option<String>,
    exactly_once: bool,
    /// Whose records these are: the query's id (kept in its checkpoint) and the sink's name.
    writer: String,
    producer: BaseProducer<Failures>,
    failures: Failures,
    client: Vec<(String, String)>,
    /// Per topic: its partition count, and per partition the last (batch, seq) this writer wrote
    /// (exactly-once only), read from the log when the topic is first written.
    topics: HashMap<String, TopicState>,
    flush_timeout: Duration,
}

impl KafkaWriter {
    /// The sink `name` with Spark's options (`kafka.bootstrap.servers`, `topic`, `kafka.*`).
    /// `writer` names this sink's records (the query's id and the sink's name).
    pub(crate) fn new(
        name: &str,
        writer: &str,
        options: &[(String, String)],
        exactly_once: bool,
    ) -> Result<KafkaWriter, Error> {
        let bad = |m: String| Error::Config(format!("Kafka sink `{name}`: {m}"));
        let mut client = Vec::new();
        let mut topic = None;
        for (k, v) in options {
            let v = expand_env(v)?;
            match k.strip_prefix("kafka.") {
                Some(c) => client.push((c.to_owned(), v)),
                None if k == "topic" => topic = Some(v),
                None => {}
            }
        }
        if !client.iter().any(|(k, _)| k == "bootstrap.servers") {
            return Err(
                bad("Option 'kafka.bootstrap.servers' must be specified for configuring Kafka producer".into()),
            );
        }
        let failures = Failures::default();
        let mut config = client_config(&[]);
        config.remove("group.id");
        config.remove("enable.auto.commit");
        config.remove("enable.partition.eof");
        // Idempotent: a retried send is written once, and each partition's records stay in order.
        config.set("enable.idempotence", "true");
        config.set("linger.ms", "5");
        for (k, v) in &client {
            config.set(k, v);
        }
        let producer: BaseProducer<Failures> =
            config.create_with_context(failures.clone()).map_err(|e| bad(format!("cannot create the client: {e}")))?;
        Ok(KafkaWriter {
            name: name.to_owned(),
            topic,
            exactly_once,
            writer: writer.to_owned(),
            producer,
            failures,
            client,
            topics: HashMap::new(),
            flush_timeout: Duration::from_secs(60),
        })
    }

    fn error(&self, m: impl std::fmt::Display) -> Error {
        Error::Config(format!("Kafka sink `{}`: {m}", self.name))
    }

    /// The partition count of `topic`, and (exactly once) this writer's last record in each
    /// partition.
    fn topic(&mut self, topic: &str) -> Result<&TopicState, Error> {
        if !self.topics.contains_key(topic) {
            let md = self
                .producer
                .client()
                .fetch_metadata(Some(topic), Duration::from_secs(30))
                .map_err(|e| self.error(format!("cannot read the metadata of topic `{topic}`: {e}")))?;
            let t = md.topics().iter().find(|t| t.name() == topic);
            let n = match t {
                Some(t) if t.error().is_none() && !t.partitions().is_empty() => t.partitions().len() as i32,
                _ => {
                    return Err(self.error(format!("topic `{topic}` does not exist (create it before the query runs)")));
                }
            };
            let last = if self.exactly_once {
                (0..n).map(|p| self.last_written(topic, p)).collect::<Result<Vec<_>, Error>>()?
            } else {
                Vec::new()
            };
            self.topics.insert(topic.to_owned(), (n, last));
        }
        Ok(&self.topics[topic])
    }

    /// This writer's last record in `topic`-`partition`: (batch, seq), read from the end of the
    /// log backwards, a window at a time.
    fn last_written(&self, topic: &str, partition: i32) -> Result<Option<(u64, u64)>, Error> {
        let mut config = client_config(&self.client);
        config.set("enable.partition.eof", "true");
        config.set("isolation.level", "read_committed");
        let consumer: BaseConsumer =
            config.create().map_err(|e| self.error(format!("cannot create a client to read the topic: {e}")))?;
        let (lo, hi) = consumer
            .fetch_watermarks(topic, partition, Duration::from_secs(30))
            .map_err(|e| self.error(format!("cannot read the offsets of {topic}-{partition}: {e}")))?;
        const WINDOW: i64 = 10_000;
        let mut end = hi;
        while end > lo {
            let start = (end - WINDOW).max(lo);
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(topic, partition, Offset::Offset(start))
                .map_err(|e| self.error(format!("{topic}-{partition}: {e}")))?;
            consumer.assign(&tpl).map_err(|e| self.error(format!("{topic}-{partition}: {e}")))?;
            let mut found = None;
            let started = Instant::now();
            // Read to the end of the log (past `hi` too: the end may have moved). Some brokers
            // report the end early (tansu gives the last batch's first offset + 1), so the end
            // is where reading stays idle a moment after the end-of-partition event.
            let mut idle = Instant::now();
            let mut eof = false;
            loop {
                match consumer.poll(Duration::from_millis(50)) {
                    Some(Ok(m)) => {
                        idle = Instant::now();
                        if m.offset() >= start
                            && (end == hi || m.offset() < end)
                            && let Some(h) = m.headers()
                        {
                            let get = |k: &str| {
                                h.iter()
                                    .find(|x| x.key == k)
                                    .and_then(|x| x.value)
                                    .and_then(|v| std::str::from_utf8(v).ok())
                                    .map(str::to_owned)
                            };
                            if get("streamc.writer").as_deref() == Some(self.writer.as_str())
                                && let (Some(b), Some(s)) = (get("streamc.batch"), get("streamc.seq"))
                                && let (Ok(b), Ok(s)) = (b.parse::<u64>(), s.parse::<u64>())
                            {
                                found = found.max(Some((b, s)));
                            }
                        }
                    }
                    Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => eof = true,
                    Some(Err(e)) if started.elapsed() > Duration::from_secs(60) => {
                        return Err(self.error(format!("cannot read {topic}-{partition}: {e}")));
                    }
                    Some(Err(_)) => {}
                    None if idle.elapsed() > if eof { Duration::from_millis(300) } else { Duration::from_secs(3) } => {
                        break;
                    }
                    None => {}
                }
                if started.elapsed() > Duration::from_secs(120) {
                    return Err(self.error(format!("reading the end of {topic}-{partition} took over 2 minutes")));
                }
            }
            if found.is_some() {
                return Ok(found);
            }
            end = start;
        }
        Ok(None)
    }

    /// Writes `rows` (batch `batch_id`) and waits until every record is acknowledged.
    pub(crate) fn write<R: Row>(&mut self, batch_id: u64, columns: &[&str], rows: &[R]) -> Result<(), Error> {
        let col = |n: &str| columns.iter().position(|c| *c == n);
        let value_col = col("value").ok_or_else(|| self.error("Required attribute 'value' not found"))?;
        let (key_col, topic_col, part_col, headers_col) = (col("key"), col("topic"), col("partition"), col("headers"));
        let mut cell = String::new();
        // A string or binary column's bytes (the compiler allows no other type).
        let bytes = |v: Value<'_>| -> Option<Vec<u8>> {
            match v {
                Value::Null => None,
                Value::Str(s) => Some(s.as_bytes().to_vec()),
                Value::Bytes(b) => Some(b.to_vec()),
                Value::Long(n) => Some(n.to_string().into_bytes()),
                other => Some(format!("{other:?}").into_bytes()),
            }
        };
        let mut records: Vec<OutRecord> = Vec::with_capacity(rows.len());
        let keys = JsonKeys::new(columns);
        for r in rows {
            // The `topic` option wins over the column (a string: the compiler checks it).
            let topic = match (&self.topic, topic_col.map(|i| r.value(i))) {
                (Some(t), _) => t.clone(),
                (None, Some(Value::Str(t))) => t.to_owned(),
                (None, _) => {
                    return Err(self.error(
                        "topic option required when no 'topic' attribute is present (a row's `topic` is NULL)",
                    ));
                }
            };
            let partition = part_col.and_then(|i| match r.value(i) {
                Value::Long(n) => i32::try_from(n).ok(),
                _ => None,
            });
            let mut sort = String::new();
            if self.exactly_once {
                r.json_object_keyed(&keys, &mut sort);
            }
            let (key, value) = (key_col.and_then(|i| bytes(r.value(i))), bytes(r.value(value_col)));
            let mut headers = Vec::new();
            if let Some(i) = headers_col {
                cell.clear();
                r.json_cell(i, &mut cell);
                headers = headers_of(&cell).map_err(|e| self.error(format!("a row's `headers` {cell}: {e}")))?;
            }
            records.push(OutRecord { sort, topic, key, value, partition, headers });
        }
        if self.exactly_once {
            records.sort();
        }
        self.failures.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
        let batch = batch_id.to_string();
        let mut written = 0u64;
        for (seq, OutRecord { topic, key, value, partition, headers: own, .. }) in records.iter().enumerate() {
            let mut partition = *partition;
            let mut headers = None;
            if !own.is_empty() {
                let mut h = OwnedHeaders::new_with_capacity(own.len() + 3);
                for (key, value) in own {
                    h = h.insert(Header { key: key.as_str(), value: value.as_deref() });
                }
                headers = Some(h);
            }
            if self.exactly_once {
                let (n, last) = self.topic(topic)?;
                let p = partition
                    .unwrap_or_else(|| match key {
                        Some(k) => (murmur2(k) & 0x7fff_ffff) as i32 % *n,
                        None => (seq as i64 % i64::from(*n)) as i32,
                    })
                    .rem_euclid(*n);
                partition = Some(p);
                if last.get(p as usize).copied().flatten().is_some_and(|done| done >= (batch_id, seq as u64)) {
                    continue;
                }
                let seq = seq.to_string();
                headers = Some(
                    headers
                        .unwrap_or_default()
                        .insert(Header { key: "streamc.writer", value: Some(self.writer.as_bytes()) })
                        .insert(Header { key: "streamc.batch", value: Some(batch.as_bytes()) })
                        .insert(Header { key: "streamc.seq", value: Some(seq.as_bytes()) }),
                );
            }
            let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic);
            if let Some(v) = value {
                record = record.payload(v.as_slice());
            }
            if let Some(k) = key {
                record = record.key(k.as_slice());
            }
            if let Some(p) = partition {
                record = record.partition(p);
            }
            if let Some(h) = headers {
                record = record.headers(h);
            }
            let mut pending = record;
            loop {
                match self.producer.send(pending) {
                    Ok(()) => break,
                    Err((
                        rdkafka::error::KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull),
                        r,
                    )) => {
                        self.producer.poll(Duration::from_millis(50));
                        pending = r;
                    }
                    Err((e, _)) => return Err(self.error(format!("cannot write to topic `{topic}`: {e}"))),
                }
            }
            written += 1;
            self.producer.poll(Duration::ZERO);
        }
        if written > 0 {
            self.producer.flush(self.flush_timeout).map_err(|e| {
                self.error(format!(
                    "the batch's records were not all acknowledged in {} s: {e}\nhelp: is the broker up? the batch runs again after a restart",
                    self.flush_timeout.as_secs()
                ))
            })?;
        }
        let failed = std::mem::take(&mut *self.failures.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        if !failed.is_empty() {
            return Err(self.error(format!("records were not written: {}", failed.join("; "))));
        }
        // Only a re-run batch (the run's first) has records written already.
        for (_, last) in self.topics.values_mut() {
            last.iter_mut().for_each(|l| *l = None);
        }
        Ok(())
    }
}

/// Kafka's default partitioner hash (murmur2, as the Java client's `Utils.murmur2`).
fn murmur2(data: &[u8]) -> u32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    let len = data.len();
    let mut h = SEED ^ len as u32;
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

/// One header of a record: its key and value.
type RecordHeader = (String, Option<Vec<u8>>);

/// A `headers` cell as JSON (`[{"key":"k","value":"<base64>"},...]` or `null`): its pairs.
fn headers_of(json: &str) -> Result<Vec<RecordHeader>, String> {
    use crate::structured::json::{Json, scan_array, scan_fields};
    let mut out = Vec::new();
    if json.trim() == "null" {
        return Ok(out);
    }
    scan_array(json, |element| {
        let Json::Raw(text) = element.json()? else { return Ok(()) };
        let (mut key, mut value) = (None, None);
        scan_fields(text, &["key", "value"], |k, v| {
            let j = v.json()?;
            match (k, j) {
                (0, Json::Str(s)) => key = Some(s.into_owned()),
                (1, Json::Str(s)) => value = crate::structured::binary::decode_base64(&s).map(|b| b.0),
                _ => {}
            }
            Ok(())
        })?;
        if let Some(key) = key {
            out.push((key, value));
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn murmur2_matches_kafkas() {
        // Kafka's `Utils.murmur2` test vectors (as unsigned).
        assert_eq!(super::murmur2(b"21") as i32, -973_932_308);
        assert_eq!(super::murmur2(b"foobar") as i32, -790_332_482);
        assert_eq!(super::murmur2(b"a-little-bit-long-string") as i32, -985_981_536);
        assert_eq!(super::murmur2(b"a-little-bit-longer-string") as i32, -1_486_304_829);
        assert_eq!(super::murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") as i32, -58_897_971);
        assert_eq!(super::murmur2(b"abc") as i32, 479_470_107);
    }

    #[test]
    fn a_headers_cell_reads_as_its_pairs() {
        use super::headers_of;
        assert_eq!(headers_of("null").unwrap(), []);
        assert_eq!(
            headers_of(r#"[{"key":"a","value":"AQI="},{"key":"b","value":null}]"#).unwrap(),
            [("a".to_owned(), Some(vec![1, 2])), ("b".to_owned(), None)]
        );
        assert!(headers_of("[{").is_err());
    }
}

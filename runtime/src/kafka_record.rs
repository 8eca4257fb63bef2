//! A Kafka record as a DStream sees it (Spark's `ConsumerRecord` from `createDirectStream`):
//! the Kafka source hands each record to generated code as one JSON line of its fields
//! (`source::kafka`), and [`KafkaRecords`] reads a batch's lines back as records.

use std::borrow::Cow;

use crate::fmt::{SparkFmt, ToJson, json_string};
use crate::source::TextBatch;
use crate::structured::json::{Json, parse_fields};
use crate::witness::Ty;

/// One record: key and value as strings (NULL as `None`), topic, partition, offset, and the
/// timestamp in ms since the epoch (`None` when the record has none).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KafkaRecord<'a> {
    pub topic: Cow<'a, str>,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<i64>,
    pub key: Option<Cow<'a, str>>,
    pub value: Option<Cow<'a, str>>,
}

const FIELDS: [&str; 6] = ["key", "value", "topic", "partition", "offset", "timestamp"];

impl<'a> KafkaRecord<'a> {
    /// Reads a record from the source's line (fields it lacks read as empty or NULL).
    pub fn parse(line: &'a str) -> KafkaRecord<'a> {
        let mut f = [Json::Missing, Json::Missing, Json::Missing, Json::Missing, Json::Missing, Json::Missing];
        let _ = parse_fields(line, &FIELDS, &mut f);
        let [key, value, topic, partition, offset, timestamp] = f;
        let text = |j: Json<'a>| match j {
            Json::Str(s) => Some(s),
            _ => None,
        };
        KafkaRecord {
            topic: text(topic).unwrap_or(Cow::Borrowed("")),
            partition: partition.as_i64().and_then(|p| i32::try_from(p).ok()).unwrap_or(-1),
            offset: offset.as_i64().unwrap_or(-1),
            timestamp: timestamp
                .as_str()
                .and_then(crate::structured::time::parse_timestamp)
                .map(|t| t.0.div_euclid(1000)),
            key: text(key),
            value: text(value),
        }
    }
}

/// Spark's text of a `ConsumerRecord` (what `print` shows).
impl SparkFmt for KafkaRecord<'_> {
    fn spark_fmt(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = write!(
            out,
            "ConsumerRecord(topic = {}, partition = {}, offset = {}, CreateTime = {}, key = {}, value = {})",
            self.topic,
            self.partition,
            self.offset,
            self.timestamp.unwrap_or(-1),
            self.key.as_deref().unwrap_or("null"),
            self.value.as_deref().unwrap_or("null")
        );
    }
}

impl ToJson for KafkaRecord<'_> {
    fn to_json(&self, out: &mut String) {
        use std::fmt::Write as _;
        let text = |s: &Option<Cow<'_, str>>, out: &mut String| match s {
            Some(s) => json_string(s, out),
            None => out.push_str("null"),
        };
        out.push_str("{\"topic\":");
        json_string(&self.topic, out);
        let _ = write!(out, ",\"partition\":{},\"offset\":{},\"timestamp\":", self.partition, self.offset);
        match self.timestamp {
            Some(t) => {
                let _ = write!(out, "{t}");
            }
            None => out.push_str("null"),
        }
        out.push_str(",\"key\":");
        text(&self.key, out);
        out.push_str(",\"value\":");
        text(&self.value, out);
        out.push('}');
    }
}

/// A batch of a Kafka source, read as records.
#[derive(Clone, Copy)]
pub struct KafkaRecords<'a>(pub &'a TextBatch);

impl<'a> KafkaRecords<'a> {
    /// The batch's records, in the order read.
    pub fn lines(&self) -> impl Iterator<Item = KafkaRecord<'a>> + Clone + 'a {
        self.0.lines().map(KafkaRecord::parse)
    }

    /// The witness of the batch's element type.
    #[inline(always)]
    pub fn ty(&self) -> Ty<KafkaRecord<'a>> {
        Ty::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_from_the_sources_line() {
        let line = r#"{"key":null,"value":"a \"b\"","topic":"t","partition":2,"offset":7,"timestamp":"2024-01-01 00:00:01.5","timestampType":0}"#;
        let r = KafkaRecord::parse(line);
        assert_eq!((r.topic.as_ref(), r.partition, r.offset, r.timestamp), ("t", 2, 7, Some(1_704_067_201_500)));
        assert_eq!((r.key, r.value.as_deref()), (None, Some("a \"b\"")));
    }
}

//! What a Kafka source makes of each record (always built: the app's builder names it without
//! the `kafka` feature).

/// What a Kafka record becomes in a batch's text: one JSON line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KafkaLines {
    /// Spark's columns, `key` and `value` binary (base64 in JSON): Structured Streaming's rows.
    Columns,
    /// Spark's columns, `key` and `value` as text: the DStream's `KafkaRecord`s.
    Text,
    /// The record's value itself, a JSON document of the source's schema.
    Values,
}

//! Kafka sources and sinks in YAML: a mapping of Spark's options as written in
//! `.option(name, value)` (`kafka.bootstrap.servers`, `subscribe`, `startingOffsets`, ...);
//! values are strings, numbers or booleans. `table::kafka` checks them.

use super::node::Node;
use super::reader::Reader;
use crate::table::kafka::{Kafka, KafkaOption, check};
use serde_saphyr::Spanned;

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
    let mut options = Vec::new();
    let mut ok = true;
    for (k, val) in entries {
        let (key_span, value_span) = (r.span_of(k), r.span_of(val));
        let value = match &val.value {
            Node::Str(s) => s.clone(),
            Node::Int(i) => i.to_string(),
            Node::Bool(b) => b.to_string(),
            other => {
                r.diags.error(
                    value_span,
                    format!("expected a string, number or boolean for `{}`, found {}", k.value, other.kind()),
                );
                ok = false;
                continue;
            }
        };
        options.push(KafkaOption { key: k.value.clone(), value, key_span, value_span });
    }
    let whole = r.span_of(v);
    let checked = check(&options, sink, whole, r.diags);
    checked.filter(|_| ok)
}

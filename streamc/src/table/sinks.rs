//! Spark's rules for what a query writes to its sinks beyond output modes: the columns of rows
//! written to Kafka; and what streamc's parquet sink cannot write yet (nested columns).

use super::plan::*;
use crate::diag::Diagnostics;

/// Spark's rules for the columns of rows written to Kafka: a string `value`, and `key` and
/// `topic` strings and `partition` an integer when present (a `topic` column is required
/// without the `topic` option).
pub(super) fn check_kafka(q: &Query, output: &[Column], diags: &mut Diagnostics) {
    for (sink, span) in &q.sinks {
        if matches!(sink, Sink::Parquet { .. })
            && let Some(c) = output.iter().find(|c| c.ty.nested())
        {
            diags
                .error(
                    *span,
                    format!("the parquet sink does not write nested columns yet: `{}` is {}", c.name, c.ty.sql()),
                )
                .help("write it with a `json:` sink, or select its fields (`s.a`) or `to_json(..)` of it");
        }
        let Sink::Kafka { options, .. } = sink else { continue };
        let col = |n: &str| output.iter().find(|c| c.name == n);
        match col("value") {
            Some(c) if matches!(c.ty, ColTy::String | ColTy::Binary) => {}
            Some(c) => {
                diags
                    .error(
                        *span,
                        format!("value attribute type must be a StringType or BinaryType, found {}", c.ty.sql()),
                    )
                    .help("cast it: `CAST(n AS STRING) AS value`, or build the text with `concat(..)`");
            }
            None => {
                diags.error(*span, "Required attribute 'value' not found").help(
                    "select the record's value as a column named `value` (and optionally `key`, `topic`, `partition`, `headers`)",
                );
            }
        }
        // Spark's rules and messages: `key` as `value`, `topic` a string, `partition` an int.
        if let Some(c) = col("key")
            && !matches!(c.ty, ColTy::String | ColTy::Binary)
        {
            diags.error(*span, format!("key attribute type must be a StringType or BinaryType, found {}", c.ty.sql()));
        }
        let header = ColTy::array(ColTy::structure(&[("key", ColTy::String), ("value", ColTy::Binary)]));
        if let Some(c) = col("headers")
            && c.ty != header
        {
            diags
                .error(*span, format!("headers attribute type must be {}, found {}", header.sql(), c.ty.sql()))
                .help("a Kafka source's `headers` (`includeHeaders: true`) has this type");
        }
        for (name, ty, spark) in [("topic", ColTy::String, "a StringType"), ("partition", ColTy::Int, "an IntegerType")]
        {
            if let Some(c) = col(name)
                && c.ty != ty
            {
                diags.error(*span, format!("{name} attribute type must be {spark}, found {}", c.ty.sql()));
            }
        }
        if col("topic").is_none() && !options.iter().any(|(k, _)| k == "topic") {
            diags
                .error(*span, "topic option required when no 'topic' attribute is present")
                .help("add `topic: NAME` to the sink, or a `topic` column to the rows");
        }
    }
}

//! The parquet file sink's writer (feature `parquet`): one batch's rows as one parquet file,
//! columns typed from the query's schema (string, bigint, double, boolean, timestamp in µs UTC,
//! Spark's own types), uncompressed.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Int64Array,
    RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;

use super::row::{Row, Value};

/// The parquet file of `rows`, with columns `names` of SQL types `types` (`string`, `bigint`,
/// `int`, `smallint`, `tinyint`, `float`, `double`, `boolean`, `timestamp`, `date`).
pub fn parquet_bytes<R: Row>(names: &[String], types: &[String], rows: &[R]) -> Result<Vec<u8>, String> {
    let mut fields = Vec::with_capacity(names.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(names.len());
    for (i, (name, ty)) in names.iter().zip(types).enumerate() {
        let (dt, array): (DataType, ArrayRef) = match ty.as_str() {
            "string" => (
                DataType::Utf8,
                Arc::new(StringArray::from_iter(rows.iter().map(|r| match r.value(i) {
                    Value::Str(s) => Some(s.to_owned()),
                    _ => None,
                }))),
            ),
            "bigint" => (
                DataType::Int64,
                Arc::new(Int64Array::from_iter(rows.iter().map(|r| match r.value(i) {
                    Value::Long(v) => Some(v),
                    _ => None,
                }))),
            ),
            "int" => (
                DataType::Int32,
                Arc::new(Int32Array::from_iter(rows.iter().map(|r| match r.value(i) {
                    Value::Long(v) => i32::try_from(v).ok(),
                    _ => None,
                }))),
            ),
            "smallint" => (
                DataType::Int16,
                Arc::new(Int16Array::from_iter(rows.iter().map(|r| match r.value(i) {
                    Value::Long(v) => i16::try_from(v).ok(),
                    _ => None,
                }))),
            ),
            "tinyint" => (
                DataType::Int8,
                Arc::new(Int8Array::from_iter(rows.iter().map(|r| match r.value(i) {
                    Value::Long(v) => i8::try_from(v).ok(),
                    _ => None,
                }))),
            ),
            "float" => (
                DataType::Float32,
                Arc::new(Float32Array::from_iter(rows.iter().map(|r| match r.value(i) {
                    Value::Double(v) => Some(v as f32),
                    _ => None,
                }))),
            ),
            "double" => (
                DataType::Float64,
                Arc::new(Float64Array::from_iter(rows.iter().map(|r| match r.value(i) {
                    Value::Double(v) => Some(v),
                    Value::Long(v) => Some(v as f64),
                    _ => None,
                }))),
            ),
            "boolean" => (
                DataType::Boolean,
                Arc::new(BooleanArray::from_iter(rows.iter().map(|r| match r.value(i) {
                    Value::Bool(v) => Some(v),
                    _ => None,
                }))),
            ),
            "timestamp" => (
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                Arc::new(
                    TimestampMicrosecondArray::from_iter(rows.iter().map(|r| match r.value(i) {
                        Value::Timestamp(t) => Some(t.0),
                        _ => None,
                    }))
                    .with_timezone("UTC"),
                ),
            ),
            "date" => (
                DataType::Date32,
                Arc::new(Date32Array::from_iter(rows.iter().map(|r| match r.value(i) {
                    Value::Date(d) => Some(d.0),
                    _ => None,
                }))),
            ),
            other => return Err(format!("column `{name}` has type `{other}`, which the parquet sink cannot write")),
        };
        fields.push(Field::new(name, dt, true));
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, schema, None).map_err(|e| e.to_string())?;
    w.write(&batch).map_err(|e| e.to_string())?;
    w.close().map_err(|e| e.to_string())?;
    Ok(out)
}

/// The rows of a parquet file as JSON objects (for tests and tools): strings quoted, timestamps
/// as µs since the epoch, nulls as `null`.
pub fn read_json_rows(path: &std::path::Path) -> Result<Vec<String>, String> {
    use arrow_array::Array;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.build()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        let schema = batch.schema();
        for row in 0..batch.num_rows() {
            let mut o = String::from("{");
            for (c, field) in schema.fields().iter().enumerate() {
                if c > 0 {
                    o.push(',');
                }
                crate::fmt::json_string(field.name(), &mut o);
                o.push(':');
                let col = batch.column(c);
                if col.is_null(row) {
                    o.push_str("null");
                    continue;
                }
                let any = col.as_any();
                if let Some(a) = any.downcast_ref::<StringArray>() {
                    crate::fmt::json_string(a.value(row), &mut o);
                } else if let Some(a) = any.downcast_ref::<Int64Array>() {
                    o.push_str(&a.value(row).to_string());
                } else if let Some(a) = any.downcast_ref::<Float64Array>() {
                    o.push_str(&a.value(row).to_string());
                } else if let Some(a) = any.downcast_ref::<BooleanArray>() {
                    o.push_str(&a.value(row).to_string());
                } else if let Some(a) = any.downcast_ref::<Date32Array>() {
                    o.push_str(&a.value(row).to_string());
                } else if let Some(a) = any.downcast_ref::<TimestampMicrosecondArray>() {
                    o.push_str(&a.value(row).to_string());
                } else {
                    return Err(format!("column `{}` has an unsupported type {}", field.name(), field.data_type()));
                }
            }
            o.push('}');
            out.push(o);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structured::time::Timestamp;

    #[test]
    fn rows_round_trip_with_types_and_nulls() {
        let rows = vec![
            (Some("cat".to_string()), 2i64, Some(Timestamp(1_000_000)), Some(0.5f64), Some(true)),
            (None, 3i64, None, None, None),
        ];
        let names: Vec<String> = ["word", "count", "ts", "x", "b"].iter().map(|s| s.to_string()).collect();
        let types: Vec<String> =
            ["string", "bigint", "timestamp", "double", "boolean"].iter().map(|s| s.to_string()).collect();
        let bytes = parquet_bytes(&names, &types, &rows).unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        let path = std::env::temp_dir().join(format!("streamc-parquet-test-{}.parquet", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let back = read_json_rows(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            back,
            [
                r#"{"word":"cat","count":2,"ts":1000000,"x":0.5,"b":true}"#,
                r#"{"word":null,"count":3,"ts":null,"x":null,"b":null}"#
            ]
        );
    }
}

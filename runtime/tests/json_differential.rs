//! The JSON reader generated code uses (`scan_object`, a `match` on the key over the fields a
//! query reads, each converted where it is read) against the generic reader (`parse_fields`,
//! then the conversions) and against serde_json, on random documents and on random mutations of
//! them (bytes replaced, inserted, deleted; truncations), for every column type, with the
//! common types also read in place (`Value::string_into`, `long`, `timestamp`). The readers must
//! agree on every line, valid or not: whether it is malformed, and each field's value or
//! conversion failure. On valid documents the values must be what serde_json reads. The reader
//! that learns a layout (`JsonShape`) reads runs of lines laid out alike, then a mutation of the
//! last, as the generic reader reads each alone.

use proptest::prelude::*;
use std::borrow::Cow;
use streamc_runtime::structured::conv;
use streamc_runtime::structured::json::{Json, JsonError, JsonShape, Value, parse_fields, scan_fields, scan_object};

/// One column's converted value, or its conversion failure (debug text, for comparison).
type Field = Result<String, ()>;

const NAMES: [&str; 6] = ["s", "n", "x", "b", "t", "d"];

fn convert(k: usize, v: Json<'_>) -> Field {
    match k {
        0 => conv::string(v).map(|x| format!("{x:?}")),
        1 => conv::long(v).map(|x| format!("{x:?}")),
        2 => conv::double(v).map(|x| format!("{x:?}")),
        3 => conv::boolean(v).map(|x| format!("{x:?}")),
        4 => conv::timestamp(v).map(|x| format!("{x:?}")),
        _ => conv::date(v).map(|x| format!("{x:?}")),
    }
}

/// The generic reader: every requested field, then the conversions.
fn generic(line: &str, read: &[usize]) -> Option<Vec<Field>> {
    let names: Vec<&str> = read.iter().map(|&k| NAMES[k]).collect();
    let mut out = vec![Json::Missing; names.len()];
    parse_fields(line, &names, &mut out).ok()?;
    Some(read.iter().zip(out).map(|(&k, v)| convert(k, v)).collect())
}

/// What generated code does: one slot per read field, converted as its key is met (the last
/// occurrence of a key wins), by `scan_fields` over the read fields' keys.
fn scanned(line: &str, read: &[usize]) -> Option<Vec<Field>> {
    let keys: Vec<&str> = read.iter().map(|&k| NAMES[k]).collect();
    let mut slots: Vec<Field> = read.iter().map(|&k| convert(k, Json::Missing)).collect();
    scan_fields(line, &keys, |i, value| {
        slots[i] = convert(read[i], value.json()?);
        Ok(())
    })
    .ok()?;
    Some(slots)
}

/// Column `k`'s value read as generated code reads it: in place for the types it reads so
/// (`Value::string_into`, `timestamp`, `long`), the others as [`scanned`].
fn read_typed(k: usize, value: &mut Value<'_, '_>) -> Result<Field, JsonError> {
    Ok(match k {
        0 => {
            let mut out = Ok(None);
            value.string_into(&mut out)?;
            out.map(|x| format!("{x:?}"))
        }
        1 => value.long()?.map(|x| format!("{x:?}")),
        4 => value.timestamp()?.map(|x| format!("{x:?}")),
        k => convert(k, value.json()?),
    })
}

/// What generated code does, each column read by [`read_typed`].
fn scanned_typed(line: &str, read: &[usize]) -> Option<Vec<Field>> {
    let keys: Vec<&str> = read.iter().map(|&k| NAMES[k]).collect();
    let mut slots: Vec<Field> = read.iter().map(|&k| convert(k, Json::Missing)).collect();
    scan_fields(line, &keys, |i, value| {
        slots[i] = read_typed(read[i], value)?;
        Ok(())
    })
    .ok()?;
    Some(slots)
}

/// [`scanned_typed`] through a learned layout, `keys` being the read columns' names (one list
/// for every line, as a generated loop has).
fn shaped_typed<'k>(shape: &mut JsonShape<'k>, line: &str, read: &[usize], keys: &'k [&'k str]) -> Option<Vec<Field>> {
    let mut slots: Vec<Field> = read.iter().map(|&k| convert(k, Json::Missing)).collect();
    shape
        .scan_fields(line, keys, |i, value| {
            slots[i] = read_typed(read[i], value)?;
            Ok(())
        })
        .ok()?;
    Some(slots)
}

/// The same with `scan_object` and a lookup of each key.
fn scanned_by_name(line: &str, read: &[usize]) -> Option<Vec<Field>> {
    let mut slots: Vec<Field> = read.iter().map(|&k| convert(k, Json::Missing)).collect();
    scan_object(line, |key, value| {
        if let Some(i) = read.iter().position(|&k| NAMES[k] == key) {
            slots[i] = convert(read[i], value.json()?);
        }
        Ok(())
    })
    .ok()?;
    Some(slots)
}

/// serde_json's reading of a field, as the generic reader's `Json`.
fn from_serde(v: Option<&serde_json::Value>) -> Json<'_> {
    match v {
        None => Json::Missing,
        Some(serde_json::Value::Null) => Json::Null,
        Some(serde_json::Value::Bool(b)) => Json::Bool(*b),
        Some(serde_json::Value::Number(n)) => match n.as_i64() {
            Some(i) => Json::Int(i),
            // The documents are serde_json's own text, so the number's text is its `to_string`.
            None => Json::Float(n.as_f64().expect("a finite number"), Some(Box::leak(n.to_string().into_boxed_str()))),
        },
        Some(serde_json::Value::String(s)) => Json::Str(Cow::Borrowed(s)),
        // A nested value reads as its text (a string column keeps it, as Spark does): the
        // documents are serde_json's own compact text, so its serialization is the line's.
        Some(other) => Json::Raw(Box::leak(other.to_string().into_boxed_str())),
    }
}

fn scalar() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|i| serde_json::json!(i)),
        (1u64 << 63..u64::MAX).prop_map(|u| serde_json::json!(u)),
        (-1e300f64..1e300).prop_map(|f| serde_json::json!(f)),
        // Strings of every kind: text, control characters and quotes (escaped when
        // serialized), non-ASCII, and ones that convert to the column types.
        any::<String>().prop_map(serde_json::Value::String),
        "[ a-z\"\\\\\u{1}-\u{1f}é€😀]{0,12}".prop_map(serde_json::Value::String),
        prop_oneof![
            Just("2024-02-29 12:00:00"),
            Just("2024-02-30 12:00:00"),
            Just("2024-01-01T00:00:00Z"),
            Just("1999-12-31"),
            Just(" 42 "),
            Just("-7"),
            Just("1.5e3"),
            Just("TRUE"),
            Just("false"),
            Just("nope"),
        ]
        .prop_map(|s| serde_json::Value::String(s.to_owned())),
    ]
}

fn value() -> impl Strategy<Value = serde_json::Value> {
    scalar().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::vec(("[a-z]{1,3}", inner), 0..4)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A document: some of the six columns (and other keys), maybe a key twice; the columns read.
fn document() -> impl Strategy<Value = (String, Vec<usize>)> {
    let field = (prop_oneof![(0..6usize).prop_map(|k| NAMES[k].to_owned()), "[a-z]{1,4}"], value());
    (prop::collection::vec(field, 0..8), prop::collection::vec(0..6usize, 1..6), any::<bool>()).prop_map(
        |(fields, mut read, spaced)| {
            read.sort_unstable();
            read.dedup();
            let sep = if spaced { ", " } else { "," };
            let body: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}:{}", serde_json::to_string(k).unwrap(), serde_json::to_string(v).unwrap()))
                .collect();
            (format!("{{{}}}", body.join(sep)), read)
        },
    )
}

/// Lines laid out alike: exactly the read columns' keys, in order, random values (strings of
/// every kind among them), the same spacing or, when `vary`, every other line the other one.
fn alike() -> impl Strategy<Value = (Vec<String>, Vec<usize>)> {
    (
        prop::collection::vec(0..6usize, 1..6),
        prop::collection::vec(prop::collection::vec(value(), 6), 1..5),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(mut read, values, spaced, vary)| {
            read.sort_unstable();
            read.dedup();
            let lines = values
                .iter()
                .enumerate()
                .map(|(n, vs)| {
                    let sep = if spaced ^ (vary && n % 2 == 1) { ", " } else { "," };
                    let body: Vec<String> = read
                        .iter()
                        .map(|&k| {
                            format!(
                                "{}:{}",
                                serde_json::to_string(NAMES[k]).unwrap(),
                                serde_json::to_string(&vs[k]).unwrap()
                            )
                        })
                        .collect();
                    format!("{{{}}}", body.join(sep))
                })
                .collect();
            (lines, read)
        })
}

/// Lines laid out alike as any object may be: the same keys in the same order on every line,
/// requested or not, some repeated, some requested keys missing, with random values; the same
/// spacing throughout.
fn alike_any() -> impl Strategy<Value = (Vec<String>, Vec<usize>)> {
    let key = prop_oneof![(0..6usize).prop_map(|k| NAMES[k].to_owned()), "[a-z]{1,4}"];
    (
        prop::collection::vec(key, 0..10),
        prop::collection::vec(0..6usize, 1..6),
        prop::collection::vec(prop::collection::vec(value(), 10), 1..5),
        any::<bool>(),
    )
        .prop_map(|(layout, mut read, values, spaced)| {
            read.sort_unstable();
            read.dedup();
            let sep = if spaced { ", " } else { "," };
            let lines = values
                .iter()
                .map(|vs| {
                    let body: Vec<String> = layout
                        .iter()
                        .zip(vs)
                        .map(|(k, v)| {
                            format!("{}:{}", serde_json::to_string(k).unwrap(), serde_json::to_string(v).unwrap())
                        })
                        .collect();
                    format!("{{{}}}", body.join(sep))
                })
                .collect();
            (lines, read)
        })
}

/// `lines`, a mutation of the last, then `lines` again (a layout learned anew, or kept), all
/// through one `JsonShape`: each line reads as the generic reader reads it alone.
fn runs_read_through_one_shape(
    lines: &[String],
    read: &[usize],
    at: usize,
    op: u8,
    byte: u8,
) -> Result<(), TestCaseError> {
    let keys: Vec<&str> = read.iter().map(|&k| NAMES[k]).collect();
    let mut all = lines.to_vec();
    all.push(mutate(lines.last().expect("a line at least"), at, op, byte));
    all.extend(lines.iter().cloned());
    let mut shape = JsonShape::default();
    for line in &all {
        prop_assert_eq!(shaped_typed(&mut shape, line, read, &keys), generic(line, read), "{}", line);
    }
    Ok(())
}

/// A mutation of a line: a byte replaced, inserted or deleted, or the line cut.
fn mutate(line: &str, at: usize, op: u8, byte: u8) -> String {
    let mut b = line.as_bytes().to_vec();
    let at = at % (b.len() + 1);
    const BYTES: &[u8] = b"{}[]\":,\\ 0-.eEtfnu\x01x";
    let c = BYTES[usize::from(byte) % BYTES.len()];
    match op % 4 {
        0 if at < b.len() => b[at] = c,
        1 => b.insert(at, c),
        2 if at < b.len() => {
            b.remove(at);
        }
        _ => b.truncate(at),
    }
    String::from_utf8_lossy(&b).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn valid_documents_read_as_serde_json_reads_them((line, read) in document()) {
        let ours = scanned(&line, &read);
        prop_assert_eq!(&ours, &generic(&line, &read));
        prop_assert_eq!(&ours, &scanned_by_name(&line, &read));
        prop_assert_eq!(&ours, &scanned_typed(&line, &read));
        let parsed: serde_json::Value = serde_json::from_str(&line).expect("serde_json reads what it wrote");
        let object = parsed.as_object().expect("an object");
        // serde_json keeps a repeated key's last value, as we do.
        let expected: Vec<Field> = read.iter().map(|&k| convert(k, from_serde(object.get(NAMES[k])))).collect();
        prop_assert_eq!(ours, Some(expected), "{}", line);
    }

    #[test]
    fn lines_read_through_a_learned_layout_read_as_alone(
        (lines, read) in alike(), at in any::<usize>(), op in any::<u8>(), byte in any::<u8>()
    ) {
        runs_read_through_one_shape(&lines, &read, at, op, byte)?;
    }

    #[test]
    fn lines_of_any_layout_read_through_it_read_as_alone(
        (lines, read) in alike_any(), at in any::<usize>(), op in any::<u8>(), byte in any::<u8>()
    ) {
        runs_read_through_one_shape(&lines, &read, at, op, byte)?;
    }

    #[test]
    fn mutated_documents_are_read_alike_by_both_readers(
        (line, read) in document(), at in any::<usize>(), op in any::<u8>(), byte in any::<u8>(), twice in any::<bool>()
    ) {
        let mut bad = mutate(&line, at, op, byte);
        if twice {
            bad = mutate(&bad, at / 3, op / 4, byte / 2);
        }
        prop_assert_eq!(scanned(&bad, &read), generic(&bad, &read), "{}", bad);
        prop_assert_eq!(scanned_by_name(&bad, &read), generic(&bad, &read), "{}", bad);
        prop_assert_eq!(scanned_typed(&bad, &read), generic(&bad, &read), "{}", bad);
        // Whether a line is one well-formed object: as serde_json says (duplicate keys allowed),
        // except for numbers beyond an f64's range, which serde_json refuses and we read as
        // ±infinity, as Spark's reader (Jackson) does.
        let serde = serde_json::from_str::<serde_json::Value>(&bad);
        if !serde.as_ref().is_err_and(|e| e.to_string().starts_with("number out of range")) {
            let serde_ok = serde.is_ok_and(|v| v.is_object());
            prop_assert_eq!(scanned(&bad, &read).is_some(), serde_ok, "{}", bad);
        }
    }
}

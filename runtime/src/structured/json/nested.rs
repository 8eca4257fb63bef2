//! Readers of a whole JSON text, as a nested column's value is read from its line
//! ([`Json::Raw`]): an array element by element, one value, and the text without whitespace.

use super::{Json, JsonError, Parser, Value};

/// Scans one JSON array (the whole text, surrounding whitespace allowed): `element` gets each
/// [`Value`] in order, which it reads or leaves (a value it leaves is validated and skipped).
///
/// ```
/// use streamc_runtime::structured::json::scan_array;
/// let mut xs = Vec::new();
/// scan_array(r#"[1, null, {"a": 2}]"#, |v| {
///     xs.push(v.json()?.as_i64());
///     Ok(())
/// })
/// .unwrap();
/// assert_eq!(xs, [Some(1), None, None]);
/// ```
pub fn scan_array<'a, F>(text: &'a str, mut element: F) -> Result<(), JsonError>
where
    F: FnMut(&mut Value<'a, '_>) -> Result<(), JsonError>,
{
    let mut p = Parser { s: text, b: text.as_bytes(), i: 0 };
    p.ws();
    p.expect(b'[', "expected `[` at the start of a JSON array")?;
    p.ws();
    if p.peek() == Some(b']') {
        p.i += 1;
    } else {
        loop {
            p.ws();
            let mut v = Value::at(&mut p);
            element(&mut v)?;
            if !v.read {
                p.skip_value(0)?;
            }
            p.ws();
            match p.peek() {
                Some(b',') => p.i += 1,
                Some(b']') => {
                    p.i += 1;
                    break;
                }
                _ => return Err(p.err("expected `,` or `]` after an array element")),
            }
        }
    }
    p.ws();
    if p.i < p.b.len() {
        return Err(p.err("unexpected characters after the JSON array"));
    }
    Ok(())
}

/// One JSON value as the whole text (surrounding whitespace allowed), as [`parse_fields`](super::parse_fields)
/// reads a field's value: an object or array as [`Json::Raw`].
pub fn parse_value(text: &str) -> Result<Json<'_>, JsonError> {
    let mut p = Parser { s: text, b: text.as_bytes(), i: 0 };
    p.ws();
    let v = p.value()?;
    p.ws();
    if p.i < p.b.len() {
        return Err(p.err("unexpected characters after the JSON value"));
    }
    Ok(v)
}

/// JSON text without the whitespace between tokens (as Spark's JSON generator writes a value
/// it copies); borrowed when there is none.
pub fn compact(text: &str) -> std::borrow::Cow<'_, str> {
    let mut in_str = false;
    let mut escaped = false;
    let mut out: Option<String> = None;
    for (i, c) in text.char_indices() {
        let keep = if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            true
        } else {
            in_str = c == '"';
            !c.is_whitespace()
        };
        match (&mut out, keep) {
            (Some(o), true) => o.push(c),
            (None, false) => out = Some(text[..i].to_string()),
            _ => {}
        }
    }
    match out {
        Some(o) => std::borrow::Cow::Owned(o),
        None => std::borrow::Cow::Borrowed(text),
    }
}

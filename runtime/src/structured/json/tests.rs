//! The reader's scans and the learned layouts against byte-by-byte and general reading.

use super::*;

/// The first byte at or after `i` that is a quote, a backslash or a control character.
fn naive_run(b: &[u8], i: usize) -> usize {
    (i..b.len()).find(|&j| b[j] == b'"' || b[j] == b'\\' || b[j] < 0x20).unwrap_or(b.len().max(i))
}

#[test]
fn plain_runs_end_where_a_byte_by_byte_scan_ends_them() {
    // Every length up to 24, every start, one special byte (or none) at every place, and the
    // bytes around specials that their words' borrows could mistake for one.
    let specials = [b'"', b'\\', 0, 0x1f, b'\n'];
    let fillers = [b'a', b' ', b'!', b'#', b']', 0x21, 0x7f, 0xc3];
    for len in 0..=24 {
        for filler in fillers {
            for at in 0..=len {
                for special in specials {
                    let mut b = vec![filler; len];
                    if at < len {
                        b[at] = special;
                    }
                    for i in 0..=len + 1 {
                        assert_eq!(plain_run(&b, i), naive_run(&b, i), "{b:?} from {i}");
                    }
                }
            }
        }
    }
}

/// What the general reader gives for `line`: each key's value as JSON, or the error.
fn general(line: &str, keys: &[&str]) -> Result<Vec<Option<String>>, JsonError> {
    let mut out = vec![None; keys.len()];
    scan_fields(line, keys, |k, v| {
        out[k] = Some(format!("{:?}", v.json()?));
        Ok(())
    })?;
    Ok(out)
}

fn shaped<'k>(shape: &mut JsonShape<'k>, line: &str, keys: &'k [&'k str]) -> Result<Vec<Option<String>>, JsonError> {
    let mut out = vec![None; keys.len()];
    shape.scan_fields(line, keys, |k, v| {
        out[k] = Some(format!("{:?}", v.json()?));
        Ok(())
    })?;
    Ok(out)
}

#[test]
fn a_learned_layout_reads_only_the_lines_laid_out_like_it() {
    const KEYS: [&str; 2] = ["ts", "w"];
    let lines = [
        r#"{"ts": "2024-01-01 00:00:00", "w": "cat"}"#,
        r#"{"ts": "2024-01-01 00:00:01", "w": "dog"}"#,
        r#"{"ts": 7, "w": "d\"og"}"#,
        r#"{"ts": "x", "w": "dog", "w": "emu"}"#,
        r#"{"ts": "x", "w": "dog"} x"#,
        r#"{"ts": "x", "w": "dog"}  "#,
        r#"{"ts": "x", "w": "dog" }"#,
        r#"{"ts": "x", "w": }"#,
        r#"{"ts": "x", "w": "a"b"}"#,
        r#"{"ts": "x", "w": [1, {"a": "}"}]}"#,
        r#"{"w": "dog", "ts": "x"}"#,
        r#"{"ts":"x","w":"dog"}"#,
        r#"{"ts":"y","w":"dogs"}"#,
        r#"{"ts":"y","w":"do	g"}"#,
        r#"{"ts":"y","w":"dog"#,
        r#"{"ts": "x", "v": "dog"}"#,
        r#"{"ts": "x"}"#,
        r#"{"id": 1, "w": "dog", "tags": ["a"], "ts": "2024-01-01 00:00:02", "more": {"a": [1, 2]}}"#,
        r#"{"id": 2, "w": "emu", "tags": [], "ts": "2024-01-01 00:00:03", "more": null}"#,
        r#"{"id": 3, "w": "emu", "tags": [}, "ts": "2024-01-01 00:00:03", "more": null}"#,
        r#"{"id": "4", "w": 5, "tags": "t", "ts": true, "more": -1.5e3}"#,
        r#"{"id": 5, "w": "emu", "tags": [], "more": null}"#,
        r#"{"id": 6, "w": "emu", "tags": [], "ts": "2024-01-01 00:00:03", "more": null, "w": "yak"}"#,
        "",
    ];
    let mut shape = JsonShape::default();
    for line in lines {
        assert_eq!(shaped(&mut shape, line, &KEYS), general(line, &KEYS), "{line}");
    }
    // A layout learned for one list of keys is not used for another.
    let other: [&str; 2] = ["w", "ts"];
    assert_eq!(shaped(&mut shape, lines[11], &other), general(lines[11], &other));
}

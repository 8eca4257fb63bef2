//! Spark's `encode(s, charset)` and `decode(b, charset)`: text to bytes and back in the charsets
//! Spark 4 allows (`spark.sql.legacy.javaCharsets` off), reporting a character or byte sequence
//! the charset cannot carry as an error (`spark.sql.legacy.codingErrorAction` off), as Java's
//! encoders and decoders do with `CodingErrorAction.REPORT`.

use super::binary::Binary;
use super::cast::CastFailure;

/// The charsets, as Spark lists them in its message.
pub const CHARSETS: &[&str] = &["iso-8859-1", "us-ascii", "utf-16", "utf-16be", "utf-16le", "utf-32", "utf-8"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Charset {
    Latin1,
    Ascii,
    /// Big-endian; `encode` writes a byte-order mark, `decode` reads one if present.
    Utf16,
    Utf16Be,
    Utf16Le,
    /// Big-endian without a mark; `decode` reads one if present.
    Utf32,
    Utf8,
}

fn charset(name: &str) -> Option<Charset> {
    Some(match name.to_ascii_lowercase().as_str() {
        "iso-8859-1" => Charset::Latin1,
        "us-ascii" => Charset::Ascii,
        "utf-16" => Charset::Utf16,
        "utf-16be" => Charset::Utf16Be,
        "utf-16le" => Charset::Utf16Le,
        "utf-32" => Charset::Utf32,
        "utf-8" => Charset::Utf8,
        _ => return None,
    })
}

/// Whether `name` is one of [`CHARSETS`] (any letter case).
pub fn is_charset(name: &str) -> bool {
    charset(name).is_some()
}

/// Spark's message for a charset it does not know, in function `function`.
pub fn unknown_charset(function: &str, name: &str) -> String {
    format!(
        "[INVALID_PARAMETER_VALUE.CHARSET] The value of parameter(s) `charset` in `{function}` is invalid: expects one of the {}, but got {name}. SQLSTATE: 22023",
        CHARSETS.join(", ")
    )
}

fn malformed(function: &str, name: &str) -> String {
    format!("[MALFORMED_CHARACTER_CODING] Invalid value found when performing `{function}` with {name} SQLSTATE: 22000")
}

/// `encode(s, charset)`: the text's bytes in `charset`; None after recording the batch's failure
/// (an unknown charset, a character the charset has no byte for).
pub fn encode(s: &str, name: &str, failure: &CastFailure) -> Option<Binary> {
    let Some(cs) = charset(name) else {
        failure.record(&unknown_charset("encode", name));
        return None;
    };
    let mut out = Vec::with_capacity(s.len());
    match cs {
        Charset::Utf8 => out.extend_from_slice(s.as_bytes()),
        Charset::Latin1 | Charset::Ascii => {
            let top = if cs == Charset::Ascii { 0x80 } else { 0x100 };
            for c in s.chars() {
                if (c as u32) >= top {
                    failure.record(&malformed("encode", name));
                    return None;
                }
                out.push(c as u32 as u8);
            }
        }
        Charset::Utf16 | Charset::Utf16Be | Charset::Utf16Le => {
            if cs == Charset::Utf16 && !s.is_empty() {
                out.extend_from_slice(&[0xFE, 0xFF]);
            }
            for unit in s.encode_utf16() {
                let bytes = if cs == Charset::Utf16Le { unit.to_le_bytes() } else { unit.to_be_bytes() };
                out.extend_from_slice(&bytes);
            }
        }
        Charset::Utf32 => {
            for c in s.chars() {
                out.extend_from_slice(&(c as u32).to_be_bytes());
            }
        }
    }
    Some(Binary(out))
}

/// `decode(b, charset)`: the bytes as text in `charset`; None after recording the batch's
/// failure (an unknown charset, bytes that are not text in it).
pub fn decode(b: &[u8], name: &str, failure: &CastFailure) -> Option<String> {
    let Some(cs) = charset(name) else {
        failure.record(&unknown_charset("decode", name));
        return None;
    };
    let text = match cs {
        Charset::Utf8 => std::str::from_utf8(b).ok().map(str::to_owned),
        Charset::Latin1 => Some(b.iter().map(|&x| x as char).collect()),
        Charset::Ascii => b.is_ascii().then(|| b.iter().map(|&x| x as char).collect()),
        Charset::Utf16 | Charset::Utf16Be | Charset::Utf16Le => {
            let (body, little) = match (cs, b) {
                (Charset::Utf16, [0xFE, 0xFF, rest @ ..]) => (rest, false),
                (Charset::Utf16, [0xFF, 0xFE, rest @ ..]) => (rest, true),
                (Charset::Utf16Le, _) => (b, true),
                _ => (b, false),
            };
            utf16(body, little)
        }
        Charset::Utf32 => {
            let (body, little) = match b {
                [0x00, 0x00, 0xFE, 0xFF, rest @ ..] => (rest, false),
                [0xFF, 0xFE, 0x00, 0x00, rest @ ..] => (rest, true),
                _ => (b, false),
            };
            utf32(body, little)
        }
    };
    if text.is_none() {
        failure.record(&malformed("decode", name));
    }
    text
}

fn utf16(b: &[u8], little: bool) -> Option<String> {
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let units = b
        .chunks_exact(2)
        .map(|p| if little { u16::from_le_bytes([p[0], p[1]]) } else { u16::from_be_bytes([p[0], p[1]]) });
    char::decode_utf16(units).collect::<Result<String, _>>().ok()
}

fn utf32(b: &[u8], little: bool) -> Option<String> {
    if !b.len().is_multiple_of(4) {
        return None;
    }
    b.chunks_exact(4)
        .map(|p| {
            let v = if little {
                u32::from_le_bytes([p[0], p[1], p[2], p[3]])
            } else {
                u32::from_be_bytes([p[0], p[1], p[2], p[3]])
            };
            char::from_u32(v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str, cs: &str) -> Option<String> {
        encode(s, cs, &CastFailure::new()).map(|b| b.hex())
    }

    fn dec(hex: &str, cs: &str) -> Option<String> {
        decode(&super::super::binary::unhex(hex).unwrap().0, cs, &CastFailure::new())
    }

    /// Spark 4.3.0's answers (`SELECT hex(encode(..))`, `decode(X'..', ..)`).
    #[test]
    fn charsets_encode_and_decode_as_spark() {
        assert_eq!(enc("héllo€", "UTF-8").as_deref(), Some("68C3A96C6C6FE282AC"));
        assert_eq!(enc("héllo", "ISO-8859-1").as_deref(), Some("68E96C6C6F"));
        assert_eq!(enc("hé", "UTF-16").as_deref(), Some("FEFF006800E9"));
        assert_eq!(enc("hé", "utf-16le").as_deref(), Some("6800E900"));
        assert_eq!(enc("😀", "UTF-16").as_deref(), Some("FEFFD83DDE00"));
        assert_eq!(enc("😀", "UTF-32").as_deref(), Some("0001F600"));
        assert_eq!(enc("", "UTF-16").as_deref(), Some(""));
        assert_eq!(enc("h€", "US-ASCII"), None);
        assert_eq!(enc("h€", "ISO-8859-1"), None);
        assert_eq!(enc("h", "UTF8"), None);
        assert_eq!(dec("FEFF0068", "UTF-16").as_deref(), Some("h"));
        assert_eq!(dec("FFFE6800", "UTF-16").as_deref(), Some("h"));
        assert_eq!(dec("0068", "UTF-16").as_deref(), Some("h"));
        assert_eq!(dec("FEFF0068", "UTF-16BE").as_deref(), Some("\u{feff}h"));
        assert_eq!(dec("FFFE000068000000", "UTF-32").as_deref(), Some("h"));
        assert_eq!(dec("0000FEFF", "UTF-32").as_deref(), Some(""));
        assert_eq!(dec("68E9", "ISO-8859-1").as_deref(), Some("hé"));
        for (hex, cs) in [
            ("68FF", "UTF-8"),
            ("EDA080", "UTF-8"),
            ("68E9", "US-ASCII"),
            ("68", "UTF-16"),
            ("D800", "UTF-16BE"),
            ("000068", "UTF-32"),
            ("00110000", "UTF-32"),
        ] {
            assert_eq!(dec(hex, cs), None, "{hex} in {cs}");
        }
        let f = CastFailure::new();
        assert_eq!(encode("h€", "us-ascii", &f), None);
        assert_eq!(
            f.take().as_deref(),
            Some(
                "[MALFORMED_CHARACTER_CODING] Invalid value found when performing `encode` with us-ascii SQLSTATE: 22000"
            )
        );
    }
}

//! Spark's `binary` values: bytes, compared unsigned and lexicographically as Spark compares
//! them; shown as `[61 62]` by `show()`, written as base64 to JSON (Spark's JSON generator), and
//! read from base64 JSON strings (Spark's JSON parser). `CAST(b AS STRING)` decodes UTF-8 (a
//! malformed sequence becomes U+FFFD, as Java's decoder makes it).

use std::borrow::Cow;
use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::json::Json;
use super::row::Cell;
use crate::error::Error;
use crate::fmt::{SparkFmt, ToJson};
use crate::persist::Persist;

/// A `binary` value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Binary(pub Vec<u8>);

impl Binary {
    /// The bytes of a string (`CAST(s AS BINARY)`: its UTF-8).
    #[inline]
    pub fn of_str(s: &str) -> Binary {
        Binary(s.as_bytes().to_vec())
    }

    /// The bytes as text (`CAST(b AS STRING)`): UTF-8, malformed sequences replaced.
    #[inline]
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// The bytes as text, their buffer reused when they are UTF-8 (`CAST(b AS STRING)` of a
    /// value the row owns).
    pub fn into_text(self) -> String {
        String::from_utf8(self.0).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Standard base64 with padding (Spark's `base64` and its JSON writer).
    pub fn base64(&self) -> String {
        STANDARD.encode(&self.0)
    }

    /// Uppercase hex digits (Spark's `hex`).
    pub fn hex(&self) -> String {
        let mut out = String::with_capacity(self.0.len() * 2);
        for b in &self.0 {
            let _ = write!(out, "{b:02X}");
        }
        out
    }
}

/// The value of a base64 digit (the standard alphabet).
fn digit(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// Text as base64 the way Spark's JSON reader (Jackson) decodes a binary field: units of four
/// digits, the last padded with `=` (padding required), whitespace allowed between units; None
/// where it is not that.
pub fn decode_base64(s: &str) -> Option<Binary> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    let mut i = 0;
    loop {
        while i < b.len() && b[i] <= b' ' {
            i += 1;
        }
        if i == b.len() {
            return Some(Binary(out));
        }
        let unit = b.get(i..i + 4)?;
        i += 4;
        let (a, c) = (digit(unit[0])?, digit(unit[1])?);
        match (unit[2], unit[3]) {
            (b'=', b'=') => out.push(((a << 2) | (c >> 4)) as u8),
            (x, b'=') => {
                let d = digit(x)?;
                let v = (a << 18) | (c << 12) | (d << 6);
                out.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8]);
            }
            (x, y) => {
                let v = (a << 18) | (c << 12) | (digit(x)? << 6) | digit(y)?;
                out.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]);
            }
        }
    }
}

/// `unbase64(s)` as Spark computes it (Java's MIME decoder): characters outside the alphabet
/// are skipped, padding is optional; a last unit of one digit, or padding where it cannot be,
/// is an error (Java's message, which fails the batch).
pub fn unbase64(s: &str) -> Result<Binary, &'static str> {
    let mut digits: Vec<u32> = Vec::with_capacity(s.len());
    let mut pads = 0;
    for c in s.bytes() {
        if c == b'=' {
            pads += 1;
            continue;
        }
        if let Some(d) = digit(c) {
            if pads > 0 {
                return Err("Input byte array has incorrect ending byte");
            }
            digits.push(d);
        }
    }
    let rest = digits.len() % 4;
    if rest == 1 {
        return Err("Last unit does not have enough valid bits");
    }
    if pads > 0 && (rest == 0 || rest + pads != 4) {
        return Err("Input byte array has wrong 4-byte ending unit");
    }
    let mut out = Vec::with_capacity(digits.len() / 4 * 3 + 2);
    for unit in digits.chunks(4) {
        let v = unit.iter().enumerate().fold(0u32, |v, (k, d)| v | (d << (18 - 6 * k)));
        out.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8][..unit.len() - 1]);
    }
    Ok(Binary(out))
}

/// `unhex(s)` as Spark computes it: two hex digits per byte (either case), an odd count read as
/// if it began with `0`; `None` if a character is not a hex digit.
pub fn unhex(s: &str) -> Option<Binary> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len().div_ceil(2));
    let mut rest = b;
    if b.len() % 2 == 1 {
        out.push(digit(b[0])?);
        rest = &b[1..];
    }
    for pair in rest.chunks_exact(2) {
        out.push(digit(pair[0])? << 4 | digit(pair[1])?);
    }
    Some(Binary(out))
}

/// `to_binary(s, format)` (`failure`: malformed text fails the batch with Spark's message) and
/// `try_to_binary` (no `failure`: NULL instead, and for an unknown format).
pub fn to_binary(s: &str, format: &str, failure: Option<&super::cast::CastFailure>) -> Option<Binary> {
    let (read, name) = match format.to_ascii_lowercase().as_str() {
        "hex" => (unhex(s), "HEX"),
        "utf-8" | "utf8" => return Some(Binary::of_str(s)),
        "base64" => (unbase64(s).ok(), "BASE64"),
        _ => return None,
    };
    if read.is_none()
        && let Some(f) = failure
    {
        f.record(&format!(
            "[CONVERSION_INVALID_INPUT] The value '{s}' ({name}) cannot be converted to \"BINARY\" because it is malformed. Correct the value as per the syntax, or change its format. Use `try_to_binary` to tolerate malformed input and return NULL instead. SQLSTATE: 22018"
        ));
    }
    read
}

/// `unbase64(s)` in generated code: a malformed text fails the batch with Java's message.
pub fn unbase64_or_fail(s: &str, f: &super::cast::CastFailure) -> Option<Binary> {
    match unbase64(s) {
        Ok(b) => Some(b),
        Err(m) => {
            f.record(&format!("java.lang.IllegalArgumentException: {m}"));
            None
        }
    }
}

/// A `binary` column read from JSON: a base64 string (anything else is a value of the wrong
/// type, as is text that is not base64).
#[allow(clippy::result_unit_err)]
pub fn conv(v: Json<'_>) -> Result<Option<Binary>, ()> {
    match v {
        Json::Missing | Json::Null => Ok(None),
        Json::Str(s) => decode_base64(&s).map(Some).ok_or(()),
        _ => Err(()),
    }
}

impl Cell for Binary {
    /// `[61 62]`: the bytes in hex, as Spark's `show()` prints them.
    fn cell(&self, out: &mut String) {
        out.push('[');
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            let _ = write!(out, "{b:02X}");
        }
        out.push(']');
    }
    fn value(&self) -> crate::structured::row::Value<'_> {
        crate::structured::row::Value::Bytes(&self.0)
    }
}

impl SparkFmt for Binary {
    fn spark_fmt(&self, out: &mut String) {
        self.cell(out)
    }
}

impl ToJson for Binary {
    /// A base64 JSON string.
    fn to_json(&self, out: &mut String) {
        out.push('"');
        out.push_str(&self.base64());
        out.push('"');
    }
}

/// As a `Vec<u8>` is written (a `u64` length, then the bytes), copied whole rather than a byte
/// at a time.
impl Persist for Binary {
    fn write(&self, out: &mut Vec<u8>) {
        (self.0.len() as u64).write(out);
        out.extend_from_slice(&self.0);
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        crate::persist::read_bytes(input, "binary value").map(|b| Binary(b.to_vec()))
    }
}

crate::impl_into_owned_identity!(Binary);

impl super::nested::SqlJson for Binary {
    fn sql_json(&self, out: &mut String) {
        self.to_json(out)
    }
}

impl super::nested::SqlText for Binary {
    fn sql_text(&self, out: &mut String) {
        out.push_str(&self.text())
    }
}

impl super::hll::SparkHash for Binary {
    /// Spark hashes bytes as it hashes a string's bytes.
    fn spark_hash(&self) -> u64 {
        twox_hash::XxHash64::oneshot(42, &self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_value_persists_as_a_vec_of_bytes_does() {
        for bytes in [vec![], vec![0u8], (0..=255u8).collect::<Vec<_>>()] {
            let (mut ours, mut vec) = (Vec::new(), Vec::new());
            Binary(bytes.clone()).write(&mut ours);
            bytes.write(&mut vec);
            assert_eq!(ours, vec);
            assert_eq!(crate::persist::read_all::<Binary>(&ours).unwrap(), Binary(bytes));
            for n in 0..ours.len() {
                assert!(crate::persist::read_all::<Binary>(&ours[..n]).is_err(), "{n} bytes");
            }
        }
    }

    #[test]
    fn binary_values_print_and_read_as_spark() {
        let b = Binary::of_str("ab");
        let mut cell = String::new();
        b.cell(&mut cell);
        assert_eq!((cell.as_str(), b.base64().as_str(), b.hex().as_str()), ("[61 62]", "YWI=", "6162"));
        assert_eq!(decode_base64("YWI="), Some(b.clone()));
        assert_eq!(decode_base64(" YQ== YQ=="), Some(Binary::of_str("aa")));
        assert_eq!(decode_base64("YWI"), None);
        assert_eq!(decode_base64("Y!I="), None);
        assert_eq!(decode_base64("YW Jj"), None);
        assert_eq!(unbase64("YWI"), Ok(b));
        assert_eq!(unbase64("no b"), Ok(Binary(vec![0x9e, 0x86])));
        assert_eq!(unbase64("hello"), Err("Last unit does not have enough valid bits"));
        assert_eq!(unbase64("YWJj="), Err("Input byte array has wrong 4-byte ending unit"));
        assert_eq!(Binary(vec![0x61, 0xff]).text(), "a\u{fffd}");
        assert!(Binary(vec![0x01]) < Binary(vec![0xff]));
    }

    #[test]
    fn unhex_reads_as_spark() {
        assert_eq!(unhex("4869").map(|b| b.0), Some(b"Hi".to_vec()));
        assert_eq!(unhex("abC").map(|b| b.0), Some(vec![0x0a, 0xbc]));
        assert_eq!(unhex("").map(|b| b.0), Some(vec![]));
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("é"), None);
    }
}

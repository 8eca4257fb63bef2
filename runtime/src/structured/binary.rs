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

/// Text as base64 (padding optional, whitespace skipped), or None where it is not.
pub fn decode_base64(s: &str) -> Option<Binary> {
    let clean: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let unpadded: &[u8] = {
        let mut end = clean.len();
        while end > 0 && clean[end - 1] == b'=' {
            end -= 1;
        }
        &clean[..end]
    };
    base64::engine::general_purpose::STANDARD_NO_PAD.decode(unpadded).ok().map(Binary)
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

impl Persist for Binary {
    fn write(&self, out: &mut Vec<u8>) {
        self.0.write(out)
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        Vec::<u8>::read(input).map(Binary)
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
    fn binary_values_print_and_read_as_spark() {
        let b = Binary::of_str("ab");
        let mut cell = String::new();
        b.cell(&mut cell);
        assert_eq!((cell.as_str(), b.base64().as_str(), b.hex().as_str()), ("[61 62]", "YWI=", "6162"));
        assert_eq!(decode_base64("YWI="), Some(b.clone()));
        assert_eq!(decode_base64("YWI"), Some(b));
        assert_eq!(decode_base64("Y!I="), None);
        assert_eq!(Binary(vec![0x61, 0xff]).text(), "a\u{fffd}");
        assert!(Binary(vec![0x01]) < Binary(vec![0xff]));
    }
}

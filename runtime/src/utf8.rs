//! UTF-8 validation of input text: every byte of a batch is checked once before it is parsed,
//! with simdutf8 (SIMD over 32 or 64 bytes at a time; std's check takes a machine word at a
//! time on ASCII). On text that is not UTF-8, std's check runs again for the error's position.

use std::string::FromUtf8Error;

/// `bytes` as a `String`, or std's error (which gives the bytes back).
#[inline]
pub(crate) fn into_string(bytes: Vec<u8>) -> Result<String, FromUtf8Error> {
    if simdutf8::basic::from_utf8(&bytes).is_ok() {
        // SAFETY: the bytes were just checked to be UTF-8.
        return Ok(unsafe { String::from_utf8_unchecked(bytes) });
    }
    String::from_utf8(bytes)
}

/// `bytes` as a `str`, when they are UTF-8.
#[inline]
pub(crate) fn as_str(bytes: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(bytes).ok()
}

/// A short piece of text (a key another process sent) as a `str`, when it is UTF-8: ASCII is
/// checked a machine word at a time and taken as it is; anything else gets std's check.
#[inline]
pub(crate) fn short_str(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same answer as std's check, on valid, invalid and cut multi-byte text.
    #[test]
    fn agrees_with_std() {
        let samples: [&[u8]; 8] = [
            b"",
            b"plain ascii text\n",
            "h\u{e9}llo w\u{f6}rld \u{1f600}\n".as_bytes(),
            b"\xff\xfe",
            b"ok then \xc3",
            b"\xed\xa0\x80 surrogate",
            b"overlong \xc0\xaf",
            &[b'a'; 200],
        ];
        for s in samples {
            assert_eq!(as_str(s), std::str::from_utf8(s).ok(), "{s:?}");
            assert_eq!(short_str(s), std::str::from_utf8(s).ok(), "{s:?}");
            let ours = into_string(s.to_vec()).map_err(|e| e.utf8_error().valid_up_to());
            let std = String::from_utf8(s.to_vec()).map_err(|e| e.utf8_error().valid_up_to());
            assert_eq!(ours, std, "{s:?}");
        }
    }
}

//! What the binary checkpoint files share: their checksum, the check of their magic and
//! checksum, the reader of their fields, and why a file is not usable ([`Invalid`]).

use super::layout::{FORMAT_VERSION, OLDEST_READ_VERSION};
use crate::codec;

/// Why a file is not a usable checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// The bytes are damaged: truncated, empty, a wrong checksum or a malformed field.
    Corrupt(String),
    /// The file is intact but not for this program: another format version or app.
    Mismatch(String),
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalid::Corrupt(why) => write!(f, "is corrupt ({why})"),
            Invalid::Mismatch(why) => write!(f, "cannot be used ({why})"),
        }
    }
}

/// The checksum of the checkpoint files written: xxHash3, 64 bits (the `twox-hash` crate), which
/// reads 8 bytes at a time (a 40 MB state in a few milliseconds).
pub fn checksum(bytes: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot(bytes)
}

/// FNV-1a, 64 bits: the checksum of checkpoint files written before 2026-12-04 (still accepted
/// when reading: one byte at a time, it took 80 ms for a 40 MB state).
///
/// ```
/// assert_eq!(streamc_runtime::checkpoint::fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
/// assert_eq!(streamc_runtime::checkpoint::fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
/// ```
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Appends per-source file lists: a count, then per source its name and its file names.
pub(super) fn put_files(out: &mut Vec<u8>, files: &[(String, Vec<String>)]) {
    codec::put_count(out, files.len(), "sources");
    for (source, names) in files {
        codec::put_str32(out, source);
        codec::put_count(out, names.len(), "files");
        for n in names {
            codec::put_str32(out, n);
        }
    }
}

/// Appends the checksum of everything in `out` so far, which ends a file; returns it.
pub(super) fn seal(out: &mut Vec<u8>) -> u64 {
    let sum = checksum(out);
    codec::put_u64(out, sum);
    sum
}

/// Checks the magic and the checksum of `bytes`; returns the body after the magic.
pub(super) fn checked_body<'a>(bytes: &'a [u8], magic: &[u8; 8], what: &str) -> Result<&'a [u8], Invalid> {
    if bytes.is_empty() {
        return Err(Invalid::Corrupt("the file is empty".to_owned()));
    }
    if bytes.len() < magic.len() + 4 + 8 {
        return Err(Invalid::Corrupt(format!("only {} bytes long", bytes.len())));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    if !body.starts_with(magic) {
        return Err(Invalid::Corrupt(format!("not a streamc {what} file")));
    }
    let want = u64::from_le_bytes(sum.try_into().expect("8 bytes"));
    // Files written before xxHash3 was the checksum carry FNV-1a.
    if checksum(body) != want && fnv1a64(body) != want {
        return Err(Invalid::Corrupt("checksum mismatch".to_owned()));
    }
    Ok(&body[magic.len()..])
}

/// A reader over the checkpoint bytes; every read fails on truncation.
pub(super) struct Reader<'a>(pub(super) &'a [u8]);

impl<'a> Reader<'a> {
    fn truncated(what: &str) -> Invalid {
        Invalid::Corrupt(format!("truncated in the {what}"))
    }

    pub(super) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Invalid> {
        codec::take(&mut self.0, n).map_err(|_| Self::truncated(what))
    }

    pub(super) fn u32(&mut self, what: &str) -> Result<u32, Invalid> {
        codec::get_u32(&mut self.0).map_err(|_| Self::truncated(what))
    }

    pub(super) fn u64(&mut self, what: &str) -> Result<u64, Invalid> {
        codec::get_u64(&mut self.0).map_err(|_| Self::truncated(what))
    }

    pub(super) fn i64(&mut self, what: &str) -> Result<i64, Invalid> {
        codec::get_i64(&mut self.0).map_err(|_| Self::truncated(what))
    }

    pub(super) fn str(&mut self, what: &str) -> Result<String, Invalid> {
        let len = self.u32(what)? as usize;
        let bytes = self.take(len, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| Invalid::Corrupt(format!("the {what} is not UTF-8")))
    }

    pub(super) fn bytes(&mut self, what: &str) -> Result<Vec<u8>, Invalid> {
        let len = usize::try_from(self.u64(what)?).map_err(|_| Invalid::Corrupt(format!("the {what} is too long")))?;
        Ok(self.take(len, what)?.to_vec())
    }

    pub(super) fn flag(&mut self, what: &str) -> Result<bool, Invalid> {
        match self.take(1, what)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(Invalid::Corrupt(format!("the {what} is {b}, not 0 or 1"))),
        }
    }

    pub(super) fn files(&mut self, what: &str) -> Result<Vec<(String, Vec<String>)>, Invalid> {
        let n = self.u32(what)?;
        let mut files = Vec::new();
        for _ in 0..n {
            let source = self.str(what)?;
            let m = self.u32(what)?;
            // No `with_capacity(m)`: a damaged count must not allocate gigabytes.
            let mut names = Vec::new();
            for _ in 0..m {
                names.push(self.str(what)?);
            }
            files.push((source, names));
        }
        Ok(files)
    }

    pub(super) fn version(&mut self) -> Result<u32, Invalid> {
        let version = self.u32("version")?;
        if !(OLDEST_READ_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(Invalid::Mismatch(format!(
                "format version {version}, this runtime reads versions {OLDEST_READ_VERSION} to {FORMAT_VERSION}"
            )));
        }
        Ok(version)
    }

    pub(super) fn end(&self) -> Result<(), Invalid> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Invalid::Corrupt(format!("{} unexpected bytes at the end", self.0.len())))
        }
    }
}

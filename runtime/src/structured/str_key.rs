//! A string as a Structured aggregation's grouping key. The state keeps it as a
//! [`CompactString`] (24 bytes, the string itself inline when it has at most 24 bytes), so that
//! a new key of a short string costs no allocation, and comparing a probe with a key in state
//! reads the entry alone rather than the entry and then the string's heap buffer. A row probes
//! with a [`KeyStr`], borrowed from the batch. The output row takes the key's `CompactString`
//! (its sinks format it as a string), so a row of a short key costs no allocation either;
//! rows handed to a `foreach_batch` closure get a `String`.
//!
//! A key's hash is its string's, and its checkpoint bytes are a `String`'s, so states saved
//! with `String` keys restore into `CompactString` keys and the other way round, and the
//! processes of a cluster agree on which owns a key.

use std::hash::{Hash, Hasher};

pub use compact_str::CompactString;

use crate::error::Error;
use crate::owned::IntoOwned;
use crate::persist::Persist;

/// A string borrowed from a batch, probing a state of [`CompactString`] keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyStr<'a>(pub &'a str);

impl Hash for KeyStr<'_> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `CompactString` hashes: as its `str`.
        self.0.hash(state)
    }
}

impl IntoOwned for KeyStr<'_> {
    type Owned = CompactString;
    #[inline]
    fn into_owned(self) -> CompactString {
        CompactString::new(self.0)
    }
    #[inline]
    fn eq_owned(&self, o: &CompactString) -> bool {
        short_eq(self.0.as_bytes(), o.as_bytes())
    }
}

crate::impl_into_owned_identity!(CompactString);

/// The bytes of a `String`'s [`Persist`], both forms.
impl Persist for CompactString {
    fn write(&self, out: &mut Vec<u8>) {
        (self.len() as u64).write(out);
        out.extend_from_slice(self.as_bytes());
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        // Read as a `String` (its checks and messages), then inline when short.
        String::read(input).map(CompactString::from)
    }
    fn heap_bytes(&self) -> usize {
        if self.is_heap_allocated() { self.capacity() } else { 0 }
    }
    #[inline]
    fn write_after(&self, _: Option<&Self>, out: &mut Vec<u8>) {
        crate::codec::put_varint(out, self.len() as u64);
        out.extend_from_slice(self.as_bytes());
    }
    #[inline]
    fn read_after(_: Option<&Self>, input: &mut &[u8]) -> Result<Self, Error> {
        String::read_after(None, input).map(CompactString::from)
    }
}

/// A string cell of an output row (an aggregation's key moved into it): as a `String`'s.
impl crate::fmt::SparkFmt for CompactString {
    #[inline]
    fn spark_fmt(&self, out: &mut String) {
        out.push_str(self)
    }
}

impl crate::fmt::ToJson for CompactString {
    #[inline]
    fn to_json(&self, out: &mut String) {
        crate::fmt::json_string(self, out)
    }
}

impl super::row::Cell for CompactString {
    #[inline]
    fn cell(&self, out: &mut String) {
        out.push_str(self)
    }
    fn value(&self) -> super::row::Value<'_> {
        super::row::Value::Str(self)
    }
}

/// `a == b`, without a call to `memcmp` for short slices (keys, field names): 8 bytes at a time.
#[inline]
pub(crate) fn short_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() > 32 {
        return a == b;
    }
    let (mut a, mut b) = (a, b);
    while let (Some((x, ra)), Some((y, rb))) = (a.split_first_chunk::<8>(), b.split_first_chunk::<8>()) {
        if x != y {
            return false;
        }
        (a, b) = (ra, rb);
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn a_key_hashes_and_saves_as_a_string() {
        let h = foldhash::fast::FixedState::with_seed(7);
        for s in ["", "cat", "a string of more than twenty-four bytes", "éléphant"] {
            let owned = CompactString::new(s);
            assert_eq!(h.hash_one(Some(KeyStr(s))), h.hash_one(Some(&owned)));
            assert_eq!(h.hash_one(Some(KeyStr(s))), h.hash_one(Some(s.to_owned())));
            assert!(KeyStr(s).eq_owned(&owned) && !KeyStr("dog").eq_owned(&owned));
            let (mut a, mut b) = (Vec::new(), Vec::new());
            owned.write(&mut a);
            s.to_owned().write(&mut b);
            assert_eq!(a, b);
            assert_eq!(CompactString::read(&mut &b[..]).unwrap(), s);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            owned.write_after(None, &mut a);
            s.to_owned().write_after(None, &mut b);
            assert_eq!(a, b);
            assert_eq!(CompactString::read_after(None, &mut &b[..]).unwrap(), s);
        }
        assert!(CompactString::read(&mut &[1, 0, 0, 0, 0, 0, 0, 0, 0xff][..]).is_err());
    }

    #[test]
    fn short_eq_is_eq() {
        let text = "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop";
        for i in 0..text.len() {
            for j in i..text.len() - 1 {
                let a = &text.as_bytes()[i..j];
                assert!(short_eq(a, a));
                for k in 0..a.len() {
                    let mut b = a.to_vec();
                    b[k] ^= 1;
                    assert!(!short_eq(a, &b));
                }
                assert!(!short_eq(a, &text.as_bytes()[i..=j]) && !short_eq(&text.as_bytes()[i..=j], a));
            }
        }
    }
}

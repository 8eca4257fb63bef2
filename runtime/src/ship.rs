//! What a stage's partial becomes to cross a process boundary ([`Shipped`]): a cluster engine
//! (`crate::cluster`) runs a stage's partial on every process over its share of the batch, and
//! every process merges all of them, so the partials travel as bytes.
//!
//! A partial may borrow strings from the batch text (`StrReduce<'t, V>` keys are `&'t str`). A
//! received partial borrows them from the bytes it arrived in instead: those are kept for the
//! batch ([`Received`]), so reading a partial back copies no string.

use std::borrow::Cow;
use std::hash::Hash;

use elsa::sync::FrozenVec;

use crate::error::Error;
use crate::partition::ByKey;
use crate::persist::{Checkpointed, Persist, corrupt, read_bytes};
use crate::state::{KeyedReduce, StrReduce};
use crate::structured::agg::StreamingAgg;
use crate::structured::session::SessionAgg;
use crate::structured::time::{Date, Timestamp};
use crate::structured::watermark::Watermark;

/// A value that can be written as bytes and read back, possibly borrowing from those bytes for
/// `'t` (the batch).
pub trait Shipped<'t>: Sized {
    /// Appends the value's bytes.
    fn ship(&self, out: &mut Vec<u8>);
    /// Reads a value, advancing `input` past it.
    fn unship(input: &mut &'t [u8]) -> Result<Self, Error>;
}

/// The bytes received from other processes in one batch, kept until the batch ends so that
/// partials read from them can borrow from them.
#[derive(Default)]
pub struct Received(FrozenVec<Vec<u8>>);

impl std::fmt::Debug for Received {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Received").finish_non_exhaustive()
    }
}

impl Received {
    /// Keeps `bytes` for the batch and lends them out.
    pub fn keep(&self, bytes: Vec<u8>) -> &[u8] {
        self.0.push_get(bytes)
    }
}

/// Writes `parts` as one message: their count, then each part.
pub fn ship_all<'t, R: Shipped<'t>>(parts: &[R]) -> Vec<u8> {
    let mut out = Vec::new();
    ship_all_into(parts, &mut out);
    out
}

/// [`ship_all`] at the end of `out`.
pub fn ship_all_into<'t, R: Shipped<'t>>(parts: &[R], out: &mut Vec<u8>) {
    (parts.len() as u64).write(out);
    for p in parts {
        p.ship(out);
    }
}

/// Reads a message of [`ship_all`].
pub fn unship_all<'t, R: Shipped<'t>>(mut input: &'t [u8]) -> Result<Vec<R>, Error> {
    let n = u64::read(&mut input)?;
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(R::unship(&mut input)?);
    }
    if !input.is_empty() {
        return Err(corrupt(&format!("{} unexpected bytes after a partial", input.len())));
    }
    Ok(out)
}

macro_rules! as_persist {
    ($($t:ty),*) => {$(
        impl<'t> Shipped<'t> for $t {
            #[inline]
            fn ship(&self, out: &mut Vec<u8>) {
                self.write(out);
            }
            #[inline]
            fn unship(input: &mut &'t [u8]) -> Result<Self, Error> {
                <$t as Persist>::read(input)
            }
        }
    )*};
}

as_persist!(i8, i16, i32, i64, i128, u8, u16, u32, u64, u128, usize, isize, f32, f64, bool, char, (), String);
as_persist!(Timestamp, Date);

/// A Structured row's string: borrowed back from the bytes it arrived in.
impl<'t> Shipped<'t> for Cow<'t, str> {
    fn ship(&self, out: &mut Vec<u8>) {
        let s: &str = self;
        s.ship(out);
    }
    fn unship(input: &mut &'t [u8]) -> Result<Self, Error> {
        <&'t str>::unship(input).map(Cow::Borrowed)
    }
}

impl<'t> Shipped<'t> for &'t str {
    fn ship(&self, out: &mut Vec<u8>) {
        (self.len() as u64).write(out);
        out.extend_from_slice(self.as_bytes());
    }
    fn unship(input: &mut &'t [u8]) -> Result<Self, Error> {
        let n = u64::read(input)?;
        take_str(input, n)
    }
}

/// The string of the next `n` bytes of `input`, borrowed from it.
fn take_str<'t>(input: &mut &'t [u8], n: u64) -> Result<&'t str, Error> {
    let n = usize::try_from(n).ok().filter(|&n| n <= input.len());
    let Some(n) = n else { return Err(corrupt("a string longer than its message")) };
    let (s, rest) = input.split_at(n);
    *input = rest;
    crate::utf8::short_str(s).ok_or_else(|| corrupt("a string that is not UTF-8"))
}

impl<'t, T: Shipped<'t>> Shipped<'t> for Option<T> {
    fn ship(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.ship(out);
            }
        }
    }
    fn unship(input: &mut &'t [u8]) -> Result<Self, Error> {
        match u8::read(input)? {
            0 => Ok(None),
            1 => Ok(Some(T::unship(input)?)),
            b => Err(corrupt(&format!("option tag {b}"))),
        }
    }
}

impl<'t, T: Shipped<'t>> Shipped<'t> for Vec<T> {
    fn ship(&self, out: &mut Vec<u8>) {
        (self.len() as u64).write(out);
        for v in self {
            v.ship(out);
        }
    }
    fn unship(input: &mut &'t [u8]) -> Result<Self, Error> {
        let n = u64::read(input)?;
        // Every value takes at least... nothing (unit), so the length is not checked against
        // the bytes left; a corrupt length fails on the first missing value instead.
        let mut v = Vec::with_capacity((n as usize).min(input.len()));
        for _ in 0..n {
            v.push(T::unship(input)?);
        }
        Ok(v)
    }
}

macro_rules! tuples {
    ($(($($n:tt $t:ident),+))*) => {$(
        impl<'t, $($t: Shipped<'t>),+> Shipped<'t> for ($($t,)+) {
            fn ship(&self, out: &mut Vec<u8>) {
                $(self.$n.ship(out);)+
            }
            fn unship(input: &mut &'t [u8]) -> Result<Self, Error> {
                Ok(($($t::unship(input)?,)+))
            }
        }
    )*};
}

tuples! {
    (0 A)
    (0 A, 1 B)
    (0 A, 1 B, 2 C)
    (0 A, 1 B, 2 C, 3 D)
    (0 A, 1 B, 2 C, 3 D, 4 E)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L)
}

/// Rows bound for their keys' owners: each with its ownership hash, in order.
impl<'t, V: Shipped<'t>> Shipped<'t> for ByKey<V> {
    fn ship(&self, out: &mut Vec<u8>) {
        (self.rows.len() as u64).write(out);
        for (h, v) in &self.rows {
            h.ship(out);
            v.ship(out);
        }
    }
    fn unship(input: &mut &'t [u8]) -> Result<Self, Error> {
        let n = u64::read(input)?;
        let mut rows = Vec::with_capacity((n as usize).min(input.len()));
        for _ in 0..n {
            rows.push((u64::unship(input)?, V::unship(input)?));
        }
        Ok(ByKey { rows })
    }
}

/// A batch's keyed table: its pairs in first-seen order, read back into a table with the same
/// order (its keys are distinct, so reading merges nothing). Written compactly
/// (`StrReduce::ship_entries`): a count, then per entry its key's length as a varint, the key,
/// and the value's compact form; a word count's pieces are half the size they were as a `u64`
/// length and a whole `i64`.
impl<'t, V: Copy + Persist> Shipped<'t> for StrReduce<'t, V> {
    fn ship(&self, out: &mut Vec<u8>) {
        (self.len() as u64).write(out);
        self.ship_entries(out);
    }
    fn unship(input: &mut &'t [u8]) -> Result<Self, Error> {
        let n = u64::read(input)?;
        // A shipped table's keys are distinct: they are appended, indexed only if the table is
        // merged into (`StrReduce::push_distinct`).
        let mut t = StrReduce::with_capacity(0);
        // Room for every entry at once (an entry takes at least 2 bytes: its key's length and a
        // value), so that reading a large piece does not copy it as it grows.
        t.reserve_distinct(usize::try_from(n).unwrap_or(usize::MAX).min(input.len() / 2));
        for _ in 0..n {
            let len = crate::persist::read_varint(input, "a key's length")?;
            let k = take_str(input, len)?;
            let v = V::read_after(None, input)?;
            t.push_distinct(k, v);
        }
        Ok(t)
    }
}

impl<'t, K: Hash + Eq + Shipped<'t>, V: Shipped<'t>> Shipped<'t> for KeyedReduce<K, V> {
    fn ship(&self, out: &mut Vec<u8>) {
        (self.len() as u64).write(out);
        for (k, v) in self.iter() {
            k.ship(out);
            v.ship(out);
        }
    }
    fn unship(input: &mut &'t [u8]) -> Result<Self, Error> {
        let n = u64::read(input)?;
        let mut t = KeyedReduce::with_capacity((n as usize).min(input.len()));
        for _ in 0..n {
            let k = K::unship(input)?;
            let v = V::unship(input)?;
            t.merge(k, v, &mut |a, _| a);
        }
        Ok(t)
    }
}

/// A worker's partial aggregation state, as its checkpoint snapshot (keys in order) after the
/// snapshot's length (a `u64`, as a `Vec<u8>` is written): written in place, and read back
/// borrowed from the message as a partial to absorb (`StreamingAgg::from_part_snapshot`: no
/// table is made for it, and no copy of the snapshot).
impl<'t, K: Persist + Hash + Eq, A: Persist> Shipped<'t> for StreamingAgg<K, A> {
    fn ship(&self, out: &mut Vec<u8>) {
        let at = out.len();
        0u64.write(out);
        self.save(out);
        let len = (out.len() - at - size_of::<u64>()) as u64;
        out[at..at + size_of::<u64>()].copy_from_slice(&len.to_le_bytes());
    }
    fn unship(input: &mut &'t [u8]) -> Result<Self, Error> {
        StreamingAgg::from_part_snapshot(read_bytes(input, "partial aggregation state")?)
    }
}

/// A worker's partial of session windows: its batch events, as their `StreamingAgg`'s snapshot.
impl<'t, K: Persist + Hash + Eq, A: Persist> Shipped<'t> for SessionAgg<K, A> {
    fn ship(&self, out: &mut Vec<u8>) {
        self.pending.ship(out);
    }
    fn unship(input: &mut &'t [u8]) -> Result<Self, Error> {
        Ok(SessionAgg::with_pending(StreamingAgg::unship(input)?))
    }
}

/// A worker's watermark: the event times it observed, which is all
/// [`Watermark::absorb`] reads.
impl<'t> Shipped<'t> for Watermark {
    fn ship(&self, out: &mut Vec<u8>) {
        self.observed().to_vec().write(out);
    }
    fn unship(input: &mut &'t [u8]) -> Result<Self, Error> {
        Ok(Watermark::observed_part(Vec::read(input)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partials_round_trip_borrowing_their_strings() {
        let mut t = StrReduce::new();
        for w in ["b", "a", "b", "a word longer than sixteen bytes"] {
            t.merge(w, 1i64, &mut |x, y| x + y);
        }
        let mut k = KeyedReduce::new();
        k.merge(("x", 1i64), Some(2.5f64), &mut |a, _| a);
        let parts = vec![((t, k), (3u64, 4u64))];
        let bytes = ship_all(&parts);
        let received = Received::default();
        type Tables<'t> = (StrReduce<'t, i64>, KeyedReduce<(&'t str, i64), Option<f64>>);
        let back: Vec<(Tables, (u64, u64))> = unship_all(received.keep(bytes)).unwrap();
        let ((t, k), counts) = back.into_iter().next().unwrap();
        assert_eq!(t.into_vec(), [("b", 2), ("a", 1), ("a word longer than sixteen bytes", 1)]);
        assert_eq!(k.into_vec(), [(("x", 1), Some(2.5))]);
        assert_eq!(counts, (3, 4));
    }

    /// A `&str` table ships compactly and reads back the same, whatever its keys' lengths
    /// (up to 16 bytes copied from the entries' heads, longer ones whole) and values; a
    /// truncated message is an error, never a panic.
    #[test]
    fn str_tables_ship_compactly_for_every_key_length_and_value() {
        let text: String = (0..40u8).map(|i| char::from(b'a' + i % 26)).collect();
        let keys: Vec<String> = (0..=text.len()).map(|n| format!("{}é", &text[..n])).chain(["".to_owned()]).collect();
        let values = [0i64, 1, -1, 300, i64::MAX, i64::MIN];
        let mut t = StrReduce::new();
        for (i, k) in keys.iter().enumerate() {
            t.merge(k, values[i % values.len()], &mut |_, b| b);
        }
        let want = t.iter().map(|(k, v)| (k, *v)).collect::<Vec<_>>();
        let bytes = ship_all(&[t]);
        let back: Vec<StrReduce<i64>> = unship_all(&bytes).unwrap();
        assert_eq!(back.into_iter().next().unwrap().into_vec(), want);
        for n in 0..bytes.len() {
            assert!(unship_all::<StrReduce<i64>>(&bytes[..n]).is_err(), "truncated to {n}");
        }
        // A word and its count: a byte of length, its bytes, a byte of count.
        let mut t = StrReduce::new();
        t.merge("cat", 1i64, &mut |a, b| a + b);
        let mut out = Vec::new();
        t.ship(&mut out);
        assert_eq!(out.len(), 8 + 1 + 3 + 1);
        let mut f = StrReduce::new();
        f.merge("x", 2.5f64, &mut |a, b| a + b);
        let bytes = ship_all(&[f]);
        let back: Vec<StrReduce<f64>> = unship_all(&bytes).unwrap();
        assert_eq!(back.into_iter().next().unwrap().into_vec(), [("x", 2.5)]);
    }

    #[test]
    fn rows_by_key_round_trip_borrowing_their_strings_and_keep_their_owners() {
        let mut rows = ByKey::new();
        let words = ["cat", "dog", "cat", "a word longer than sixteen bytes"];
        for (i, w) in words.into_iter().enumerate() {
            let row = (Some(Cow::Borrowed(w)), Some(Timestamp(i as i64)), Some(Date(i as i32)));
            rows.push(crate::partition::key_hash(&(Some(w),)), row);
        }
        let received = Received::default();
        let pieces = crate::partition::Partition::split(rows, 3);
        for (j, piece) in pieces.into_iter().enumerate() {
            type Row<'t> = (Option<Cow<'t, str>>, Option<Timestamp>, Option<Date>);
            let back: Vec<ByKey<Row>> = unship_all(received.keep(ship_all(&[piece]))).unwrap();
            let back: Vec<Row> = back.into_iter().flat_map(ByKey::into_rows).collect();
            let want: Vec<usize> =
                (0..words.len()).filter(|&i| crate::partition::owner(&(Some(words[i]),), 3) == j).collect();
            assert_eq!(back.len(), want.len());
            for (row, i) in back.iter().zip(want) {
                assert!(matches!(row.0, Some(Cow::Borrowed(w)) if w == words[i]));
                assert_eq!((row.1, row.2), (Some(Timestamp(i as i64)), Some(Date(i as i32))));
            }
        }
    }

    #[test]
    fn a_shipped_partial_absorbs_as_the_partial_itself_and_answers_lookups() {
        type Agg = StreamingAgg<(Timestamp, String), i64>;
        let part = || {
            let mut p = Agg::new();
            for (i, w) in ["cat", "dog", "cat", "eel", "a word longer than sixteen bytes", "dog"].iter().enumerate() {
                p.update((Timestamp(i as i64 % 2), *w), |c| *c += 1, || 0);
            }
            p
        };
        let state = || {
            let mut s = Agg::new();
            for w in ["dog", "ant"] {
                s.update((Timestamp(1), w), |c| *c += 10, || 0);
            }
            s.finish_batch(crate::structured::OutputMode::Complete, None, |k| k.0);
            s
        };
        let bytes = ship_all(&[part()]);
        let received = Received::default();
        let unship = || unship_all::<Agg>(received.keep(bytes.clone())).unwrap().pop().unwrap();
        let (mut direct, mut shipped) = (state(), state());
        direct.absorb(part(), |x, y| *x += y);
        shipped.absorb(unship(), |x, y| *x += y);
        let entries = |s: &Agg| s.iter().map(|(k, a)| (k.clone(), *a)).collect::<Vec<_>>();
        assert_eq!(entries(&shipped), entries(&direct));
        assert_eq!((shipped.len(), shipped.updated_count()), (direct.len(), direct.updated_count()));
        // Looked up before any table is made for it: found, not added again.
        let mut back = unship();
        assert_eq!(back.get((Timestamp(0), "cat")), Some(&2));
        back.update((Timestamp(1), "dog"), |c| *c += 1, || 0);
        assert_eq!((back.len(), back.get((Timestamp(1), "dog"))), (part().len(), Some(&3)));
        for n in 0..bytes.len() {
            assert!(unship_all::<Agg>(&bytes[..n]).is_err(), "{n} bytes");
        }
    }

    #[test]
    fn a_truncated_message_is_an_error() {
        let bytes = ship_all(&[("abc", 1i64)]);
        for n in 0..bytes.len() {
            assert!(unship_all::<(&str, i64)>(&bytes[..n]).is_err(), "{n} bytes");
        }
    }
}

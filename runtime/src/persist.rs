//! A small binary codec for checkpointed state, and the trait every checkpointed state implements.
//!
//! The format is little-endian and self-delimiting: integers in their full width (`usize` and
//! `isize` as 64 bits), floats as their bit patterns, `bool` and `Option`'s tag as one byte
//! (0 or 1), `char` as its `u32` scalar value, strings and vectors as a `u64` length followed by
//! the bytes or the elements, tuples as their components in order, `()` as nothing. Reading
//! never panics and never trusts a length: a truncated or malformed input is an
//! [`Error::Config`] whose message starts with "corrupt checkpoint".
//!
//! A sequence of similar values (the entries of a
//! [`StreamingAgg`](crate::structured::agg::StreamingAgg) snapshot) can instead be written in
//! the *compact* form, each value relative to the one before it
//! ([`Persist::write_after`]): integers of 16 to 64 bits as the LEB128 varint of the zigzag of
//! their (wrapping) difference from the previous one, so that a repeated window start takes one
//! byte; strings and vectors with a varint length; `Option`'s tag as one byte; tuples component
//! by component, each after the previous tuple's; every other type whole, as above.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::checkpoint::{NewParts, PartFile, PartRef};
use crate::codec;
use crate::error::Error;

/// A value that can be written into a checkpoint and read back.
pub trait Persist: Sized {
    /// Appends the value's bytes.
    fn write(&self, out: &mut Vec<u8>);
    /// Reads a value, advancing `input` past it; a truncated or malformed input is an error.
    fn read(input: &mut &[u8]) -> Result<Self, Error>;
    /// The bytes the value owns on the heap (a string's or vector's buffer, with what its
    /// elements own), not counting `size_of::<Self>()`: what the UI's state memory adds to the
    /// tables' own size. 0 unless a type says otherwise (numbers, and a user type that does not).
    #[inline]
    fn heap_bytes(&self) -> usize {
        0
    }

    /// Appends the value in the compact form (see the module's docs), relative to `prev`: the
    /// value of the same sequence written just before it (`None` for the first). The default
    /// writes it whole, with [`write`](Self::write).
    ///
    /// Law: [`read_after`](Self::read_after) with the same `prev` reads the value back.
    #[inline]
    fn write_after(&self, prev: Option<&Self>, out: &mut Vec<u8>) {
        let _ = prev;
        self.write(out)
    }

    /// Reads a value written by [`write_after`](Self::write_after) after `prev`. The default
    /// reads it whole, with [`read`](Self::read).
    #[inline]
    fn read_after(prev: Option<&Self>, input: &mut &[u8]) -> Result<Self, Error> {
        let _ = prev;
        Self::read(input)
    }
}

/// A piece of operator state that is saved in checkpoints and restored after a restart.
///
/// A state whose snapshot has large pieces that never change once made (a window's panes) can
/// hand them over as *parts* in [`save_with_parts`](Self::save_with_parts): each part is written
/// once, to its own file, and later checkpoints refer to it instead of copying it (see
/// [`crate::checkpoint`]). Other states keep the defaults, which save and restore the whole
/// state with [`save`](Self::save) and [`restore`](Self::restore).
pub trait Checkpointed {
    /// Appends a snapshot of the whole state.
    fn save(&self, out: &mut Vec<u8>);
    /// Replaces the state with a snapshot written by [`save`](Self::save).
    fn restore(&mut self, bytes: &[u8]) -> Result<(), Error>;

    /// Appends a snapshot of the state, handing its immutable pieces to `parts`
    /// ([`Parts::add`]) rather than appending them. This is what the runtime calls.
    fn save_with_parts(&self, out: &mut Vec<u8>, parts: &mut Parts<'_>) {
        let _ = parts;
        self.save(out)
    }

    /// Replaces the state with a snapshot written by [`save_with_parts`](Self::save_with_parts):
    /// `bytes` as appended to `out`, and the bytes of the parts it added.
    fn restore_with_parts(&mut self, bytes: &[u8], parts: &SavedParts<'_>) -> Result<(), Error> {
        let _ = parts;
        self.restore(bytes)
    }
}

/// Per part: its id, stamp and bytes, sorted by id.
pub(crate) type PartBytes = [(i64, u64, Vec<u8>)];

/// Where a state hands over the parts of its snapshot ([`Checkpointed::save_with_parts`]).
///
/// A part has an *id*, unique within the snapshot, and a *stamp* that changes whenever its
/// bytes could (a window pane: its time and its length, as a pane only grows): the state
/// promises that a part saved again with the same id and stamp has the same bytes. Then a part
/// the newest checkpoint already holds is not written again; [`add`](Self::add) does not even
/// call its `write`.
#[derive(Debug)]
pub struct Parts<'a> {
    state: &'a str,
    /// The parts on disk for this state (those of the newest commit), by (id, stamp), with the
    /// time of their part file.
    on_disk: Option<&'a HashMap<(i64, u64), i64>>,
    /// The part file of the commit being prepared.
    new: &'a mut NewParts,
    ids: HashSet<i64>,
    refs: Vec<PartRef>,
}

impl<'a> Parts<'a> {
    /// Parts of state `state`, `on_disk` being those already written and `new` the part file
    /// that takes the others.
    pub(crate) fn new(state: &'a str, on_disk: Option<&'a HashMap<(i64, u64), i64>>, new: &'a mut NewParts) -> Self {
        Parts { state, on_disk, new, ids: HashSet::new(), refs: Vec::new() }
    }

    /// Adds part `id` of stamp `stamp` to the snapshot; unless a checkpoint already holds it,
    /// calls `write` to append its bytes (which [`SavedParts::get`] returns on restore).
    ///
    /// # Panics
    ///
    /// If `id` was added already in this snapshot.
    pub fn add(&mut self, id: i64, stamp: u64, write: impl FnOnce(&mut Vec<u8>)) {
        assert!(self.ids.insert(id), "part {id} of state `{}` added twice to one snapshot", self.state);
        let file = match self.on_disk.and_then(|m| m.get(&(id, stamp))) {
            Some(&file) => file,
            None => {
                self.new.add(self.state, id, stamp, write);
                self.new.time
            }
        };
        self.refs.push(PartRef { id, stamp, file });
    }

    /// The parts added, in order.
    pub(crate) fn finish(self) -> Vec<PartRef> {
        self.refs
    }
}

/// The parts of a snapshot, handed to [`Checkpointed::restore_with_parts`].
#[derive(Clone, Copy, Debug)]
pub struct SavedParts<'a> {
    parts: &'a PartBytes,
}

impl<'a> SavedParts<'a> {
    /// Over `parts`, sorted by id.
    pub(crate) fn new(parts: &'a PartBytes) -> Self {
        debug_assert!(parts.windows(2).all(|w| w[0].0 < w[1].0));
        SavedParts { parts }
    }

    /// No parts: for a snapshot that added none.
    pub fn none() -> SavedParts<'static> {
        SavedParts { parts: &[] }
    }

    /// The stamp and the bytes of part `id`; `None` if the snapshot has no such part.
    pub fn get(&self, id: i64) -> Option<(u64, &'a [u8])> {
        let i = self.parts.binary_search_by_key(&id, |p| p.0).ok()?;
        let (_, stamp, bytes) = &self.parts[i];
        Some((*stamp, bytes))
    }

    /// How many parts the snapshot has.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// Whether the snapshot has no part.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
}

/// Saves `state` with [`Checkpointed::save_with_parts`] and restores `into` from that snapshot
/// with [`Checkpointed::restore_with_parts`], as a checkpoint and a restart would (every part
/// written, none on disk before): for tests of a state's parts.
pub fn round_trip_with_parts<S: Checkpointed + ?Sized>(state: &S, into: &mut S) -> Result<(), Error> {
    let mut bytes = Vec::new();
    let mut new = NewParts::new(0);
    let mut parts = Parts::new("state", None, &mut new);
    state.save_with_parts(&mut bytes, &mut parts);
    parts.finish();
    let mut read: Vec<(i64, u64, Vec<u8>)> = match new.finish() {
        None => Vec::new(),
        Some((file, _)) => PartFile::decode(&file)
            .map_err(|e| corrupt(&format!("a part file {e}")))?
            .parts
            .into_iter()
            .map(|p| (p.id, p.stamp, p.bytes))
            .collect(),
    };
    read.sort_unstable_by_key(|p| p.0);
    into.restore_with_parts(&bytes, &SavedParts::new(&read))
}

/// The error for a checkpoint that cannot be decoded; `what` says what was being read.
pub fn corrupt(what: &str) -> Error {
    Error::Config(format!("corrupt checkpoint: {what}"))
}

/// Reads one value from the whole of `bytes`: trailing bytes are an error too, as they mean the
/// snapshot was written for a different state.
pub fn read_all<T: Persist>(bytes: &[u8]) -> Result<T, Error> {
    let mut input = bytes;
    let value = T::read(&mut input)?;
    if !input.is_empty() {
        return Err(corrupt(&format!("{} unexpected bytes after the state", input.len())));
    }
    Ok(value)
}

/// Takes the next `n` bytes of `input`.
/// Reads bytes written as a string or a `Vec<u8>` writes them (a `u64` length, then the bytes),
/// borrowing them from `input`.
pub(crate) fn read_bytes<'a>(input: &mut &'a [u8], what: &str) -> Result<&'a [u8], Error> {
    let n = read_len(input, 1, what)?;
    take(input, n, what)
}

fn take<'a>(input: &mut &'a [u8], n: usize, what: &str) -> Result<&'a [u8], Error> {
    codec::take(input, n).map_err(|s| corrupt(&format!("truncated {what} (needs {} bytes, {} left)", s.needed, s.left)))
}

/// Reads a varint ([`codec::put_varint`]); `what` says what it is.
#[inline]
pub(crate) fn read_varint(input: &mut &[u8], what: &str) -> Result<u64, Error> {
    codec::get_varint(input).ok_or_else(|| corrupt(&format!("truncated or malformed {what}")))
}

/// Reads a length prefix and checks it against what is left, so that a corrupt length never
/// makes us allocate or loop for long: every element takes at least `min_size` bytes.
fn read_len(input: &mut &[u8], min_size: usize, what: &str) -> Result<usize, Error> {
    let n = u64::read(input)?;
    check_len(n, input, min_size, what)
}

/// [`read_len`] of a length written as a varint (the compact form).
fn read_len_varint(input: &mut &[u8], min_size: usize, what: &str) -> Result<usize, Error> {
    let n = read_varint(input, what)?;
    check_len(n, input, min_size, what)
}

/// Checks length `n` against the bytes left in `input` (see [`read_len`]).
fn check_len(n: u64, input: &[u8], min_size: usize, what: &str) -> Result<usize, Error> {
    let fits = match input.len().checked_div(min_size) {
        Some(most) => n <= most as u64,
        // Zero-sized elements (such as `()`) take no bytes, so the input gives no bound; they
        // allocate nothing, and the cap only bounds the time spent reading a corrupt length.
        None => n <= u64::from(u32::MAX),
    };
    if !fits {
        return Err(corrupt(&format!("{what} length {n} exceeds the {} bytes left", input.len())));
    }
    usize::try_from(n).map_err(|_| corrupt(&format!("{what} length {n} does not fit in memory")))
}

/// A lower bound on the bytes a value of `T` takes in the format, which `Vec` uses to reject
/// impossible lengths before allocating: zero-sized types encode as nothing, and every other
/// value of the types above as at least one byte (a user impl could do otherwise only by
/// encoding a non-zero-sized value as nothing, which a self-delimiting format cannot do for
/// more than one value).
fn min_size<T: Persist>() -> usize {
    if size_of::<T>() == 0 { 0 } else { 1 }
}

/// `write` and `read` of a number `$t`: little-endian, its full width.
macro_rules! whole_number {
    ($t:ty) => {
        #[inline]
        fn write(&self, out: &mut Vec<u8>) {
            out.extend_from_slice(&self.to_le_bytes());
        }
        #[inline]
        fn read(input: &mut &[u8]) -> Result<Self, Error> {
            let bytes = take(input, size_of::<$t>(), stringify!($t))?;
            Ok(<$t>::from_le_bytes(bytes.try_into().expect("`take` returned the requested length")))
        }
    };
}

macro_rules! numbers {
    ($($t:ty)*) => {$(
        impl Persist for $t {
            whole_number!($t);
        }
    )*};
}

numbers!(i8 u8 i128 u128 f32 f64);

/// Integers whose compact form is the varint of the zigzag of their difference from the
/// previous value, wrapping, taken as the signed `$s` of the same width (`$u` its unsigned
/// twin): a small step either way takes one or two bytes.
macro_rules! varint_numbers {
    ($($t:ty as $s:ty, $u:ty;)*) => {$(
        impl Persist for $t {
            whole_number!($t);
            #[inline]
            fn write_after(&self, prev: Option<&Self>, out: &mut Vec<u8>) {
                let d = self.wrapping_sub(prev.copied().unwrap_or(0)) as $s;
                codec::put_varint(out, ((d << 1) ^ (d >> (<$s>::BITS - 1))) as $u as u64);
            }
            #[inline]
            fn read_after(prev: Option<&Self>, input: &mut &[u8]) -> Result<Self, Error> {
                let z = read_varint(input, stringify!($t))?;
                let z = <$u>::try_from(z).map_err(|_| corrupt(&format!("{} varint {z} out of range", stringify!($t))))?;
                let d = ((z >> 1) as $s) ^ -((z & 1) as $s);
                Ok(prev.copied().unwrap_or(0).wrapping_add(d as $t))
            }
        }
    )*};
}

varint_numbers! {
    i16 as i16, u16;
    i32 as i32, u32;
    i64 as i64, u64;
    u16 as i16, u16;
    u32 as i32, u32;
    u64 as i64, u64;
}

impl Persist for usize {
    fn write(&self, out: &mut Vec<u8>) {
        (*self as u64).write(out)
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        let n = u64::read(input)?;
        usize::try_from(n).map_err(|_| corrupt(&format!("usize {n} out of range")))
    }
    fn write_after(&self, prev: Option<&Self>, out: &mut Vec<u8>) {
        (*self as u64).write_after(prev.map(|&p| p as u64).as_ref(), out)
    }
    fn read_after(prev: Option<&Self>, input: &mut &[u8]) -> Result<Self, Error> {
        let n = u64::read_after(prev.map(|&p| p as u64).as_ref(), input)?;
        usize::try_from(n).map_err(|_| corrupt(&format!("usize {n} out of range")))
    }
}

impl Persist for isize {
    fn write(&self, out: &mut Vec<u8>) {
        (*self as i64).write(out)
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        let n = i64::read(input)?;
        isize::try_from(n).map_err(|_| corrupt(&format!("isize {n} out of range")))
    }
    fn write_after(&self, prev: Option<&Self>, out: &mut Vec<u8>) {
        (*self as i64).write_after(prev.map(|&p| p as i64).as_ref(), out)
    }
    fn read_after(prev: Option<&Self>, input: &mut &[u8]) -> Result<Self, Error> {
        let n = i64::read_after(prev.map(|&p| p as i64).as_ref(), input)?;
        isize::try_from(n).map_err(|_| corrupt(&format!("isize {n} out of range")))
    }
}

impl Persist for bool {
    fn write(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self))
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        match take(input, 1, "bool")?[0] {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(corrupt(&format!("bool byte {b}"))),
        }
    }
}

impl Persist for char {
    fn write(&self, out: &mut Vec<u8>) {
        u32::from(*self).write(out)
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        let c = u32::read(input)?;
        char::from_u32(c).ok_or_else(|| corrupt(&format!("char {c:#x} is not a Unicode scalar value")))
    }
}

impl Persist for () {
    fn write(&self, _: &mut Vec<u8>) {}
    fn read(_: &mut &[u8]) -> Result<Self, Error> {
        Ok(())
    }
}

impl Persist for String {
    fn write(&self, out: &mut Vec<u8>) {
        (self.len() as u64).write(out);
        out.extend_from_slice(self.as_bytes());
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        let n = read_len(input, 1, "string")?;
        let bytes = take(input, n, "string")?;
        String::from_utf8(bytes.to_vec()).map_err(|e| corrupt(&format!("string is not UTF-8: {e}")))
    }
    fn heap_bytes(&self) -> usize {
        self.capacity()
    }
    #[inline]
    fn write_after(&self, _: Option<&Self>, out: &mut Vec<u8>) {
        codec::put_varint(out, self.len() as u64);
        out.extend_from_slice(self.as_bytes());
    }
    #[inline]
    fn read_after(_: Option<&Self>, input: &mut &[u8]) -> Result<Self, Error> {
        let n = read_len_varint(input, 1, "string")?;
        let bytes = take(input, n, "string")?;
        String::from_utf8(bytes.to_vec()).map_err(|e| corrupt(&format!("string is not UTF-8: {e}")))
    }
}

impl<T: Persist> Persist for Option<T> {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(x) => {
                out.push(1);
                x.write(out);
            }
        }
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        match take(input, 1, "option tag")?[0] {
            0 => Ok(None),
            1 => Ok(Some(T::read(input)?)),
            b => Err(corrupt(&format!("option tag {b}"))),
        }
    }
    fn heap_bytes(&self) -> usize {
        self.as_ref().map_or(0, T::heap_bytes)
    }
    fn write_after(&self, prev: Option<&Self>, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(x) => {
                out.push(1);
                x.write_after(prev.and_then(Option::as_ref), out);
            }
        }
    }
    fn read_after(prev: Option<&Self>, input: &mut &[u8]) -> Result<Self, Error> {
        match take(input, 1, "option tag")?[0] {
            0 => Ok(None),
            1 => Ok(Some(T::read_after(prev.and_then(Option::as_ref), input)?)),
            b => Err(corrupt(&format!("option tag {b}"))),
        }
    }
}

impl<T: Persist> Persist for Vec<T> {
    fn write(&self, out: &mut Vec<u8>) {
        (self.len() as u64).write(out);
        for x in self {
            x.write(out);
        }
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        let n = read_len(input, min_size::<T>(), "vector")?;
        // Zero-sized elements allocate nothing, so the capacity is never more than the input
        // can justify.
        let mut v = Vec::with_capacity(if min_size::<T>() == 0 { 0 } else { n });
        for _ in 0..n {
            v.push(T::read(input)?);
        }
        Ok(v)
    }
    fn heap_bytes(&self) -> usize {
        self.capacity() * size_of::<T>() + self.iter().map(T::heap_bytes).sum::<usize>()
    }
    /// A varint length, then each element after the one before it in the vector (whatever
    /// `prev` holds).
    fn write_after(&self, _: Option<&Self>, out: &mut Vec<u8>) {
        codec::put_varint(out, self.len() as u64);
        let mut before = None;
        for x in self {
            x.write_after(before, out);
            before = Some(x);
        }
    }
    fn read_after(_: Option<&Self>, input: &mut &[u8]) -> Result<Self, Error> {
        let n = read_len_varint(input, min_size::<T>(), "vector")?;
        let mut v: Vec<T> = Vec::with_capacity(if min_size::<T>() == 0 { 0 } else { n });
        for _ in 0..n {
            let x = T::read_after(v.last(), input)?;
            v.push(x);
        }
        Ok(v)
    }
}

/// As a `Vec`: a window's panes are a `VecDeque`.
impl<T: Persist> Persist for VecDeque<T> {
    fn write(&self, out: &mut Vec<u8>) {
        (self.len() as u64).write(out);
        for x in self {
            x.write(out);
        }
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        Vec::read(input).map(VecDeque::from)
    }
    fn heap_bytes(&self) -> usize {
        self.capacity() * size_of::<T>() + self.iter().map(T::heap_bytes).sum::<usize>()
    }
}

macro_rules! tuples {
    ($(($($n:tt $t:ident),+))*) => {$(
        impl<$($t: Persist),+> Persist for ($($t,)+) {
            fn write(&self, out: &mut Vec<u8>) {
                $(self.$n.write(out);)+
            }
            fn read(input: &mut &[u8]) -> Result<Self, Error> {
                Ok(($($t::read(input)?,)+))
            }
            fn heap_bytes(&self) -> usize {
                0 $(+ self.$n.heap_bytes())+
            }
            #[inline]
            fn write_after(&self, prev: Option<&Self>, out: &mut Vec<u8>) {
                $(self.$n.write_after(prev.map(|p| &p.$n), out);)+
            }
            #[inline]
            fn read_after(prev: Option<&Self>, input: &mut &[u8]) -> Result<Self, Error> {
                Ok(($($t::read_after(prev.map(|p| &p.$n), input)?,)+))
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

#[cfg(test)]
mod tests;

//! A small binary codec for checkpointed state, and the trait every checkpointed state implements.
//!
//! The format is little-endian and self-delimiting: integers in their full width (`usize` and
//! `isize` as 64 bits), floats as their bit patterns, `bool` and `Option`'s tag as one byte
//! (0 or 1), `char` as its `u32` scalar value, strings and vectors as a `u64` length followed by
//! the bytes or the elements, tuples as their components in order, `()` as nothing. Reading
//! never panics and never trusts a length: a truncated or malformed input is an
//! [`Error::Config`] whose message starts with "corrupt checkpoint".

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

/// Reads a length prefix and checks it against what is left, so that a corrupt length never
/// makes us allocate or loop for long: every element takes at least `min_size` bytes.
fn read_len(input: &mut &[u8], min_size: usize, what: &str) -> Result<usize, Error> {
    let n = u64::read(input)?;
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

macro_rules! numbers {
    ($($t:ty)*) => {$(
        impl Persist for $t {
            #[inline]
            fn write(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            #[inline]
            fn read(input: &mut &[u8]) -> Result<Self, Error> {
                let bytes = take(input, size_of::<$t>(), stringify!($t))?;
                Ok(<$t>::from_le_bytes(bytes.try_into().expect("`take` returned the requested length")))
            }
        }
    )*};
}

numbers!(i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64);

impl Persist for usize {
    fn write(&self, out: &mut Vec<u8>) {
        (*self as u64).write(out)
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        let n = u64::read(input)?;
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
mod tests {
    use super::*;
    use std::fmt::Debug;

    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// Round-trips `x`, then checks that every strict prefix of its encoding is an error (the
    /// format is self-delimiting, so no prefix can be a complete value of the same type unless
    /// the value is zero-sized), and that trailing bytes are rejected by `read_all`.
    fn round_trip<T: Persist + PartialEq + Debug>(x: &T) {
        let mut bytes = Vec::new();
        x.write(&mut bytes);
        assert_eq!(&read_all::<T>(&bytes).unwrap(), x);
        for cut in 0..bytes.len() {
            let r = read_all::<T>(&bytes[..cut]);
            let e = r.expect_err(&format!("prefix {cut} of {x:?} must not decode"));
            assert!(e.to_string().starts_with("corrupt checkpoint"), "{e}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read_all::<T>(&longer).is_err());
    }

    fn string(seed: &mut u64) -> String {
        let n = xorshift(seed) % 6;
        (0..n).map(|_| ['a', 'é', '→', '\u{1F600}', '\n'][(xorshift(seed) % 5) as usize]).collect()
    }

    #[test]
    fn round_trips_and_every_truncation_is_an_error() {
        round_trip(&0u8);
        round_trip(&-1i16);
        round_trip(&u32::MAX);
        round_trip(&i64::MIN);
        round_trip(&u128::MAX);
        round_trip(&i128::MIN);
        round_trip(&usize::MAX);
        round_trip(&isize::MIN);
        round_trip(&true);
        round_trip(&'\u{10FFFF}');
        round_trip(&1.5f32);
        round_trip(&-0.0f64);
        round_trip(&String::new());
        round_trip(&Some(String::from("x")));
        round_trip(&None::<i64>);
        round_trip(&vec![(); 3]);
        round_trip(&Vec::<String>::new());
        let mut seed = 0x1234_5678_9abc_def1;
        for _ in 0..200 {
            let n = xorshift(&mut seed) % 4;
            type Row = (String, i64, Option<(char, bool)>, Vec<u16>);
            let v: Vec<Row> = (0..n)
                .map(|_| {
                    let s = string(&mut seed);
                    let i = xorshift(&mut seed) as i64;
                    let o =
                        (xorshift(&mut seed).is_multiple_of(2)).then(|| ('x', xorshift(&mut seed).is_multiple_of(2)));
                    let w = (0..xorshift(&mut seed) % 3).map(|_| xorshift(&mut seed) as u16).collect();
                    (s, i, o, w)
                })
                .collect();
            round_trip(&v);
            round_trip(&(string(&mut seed),));
        }
        // NaN's bit pattern survives.
        let mut bytes = Vec::new();
        f64::NAN.write(&mut bytes);
        assert!(read_all::<f64>(&bytes).unwrap().is_nan());
    }

    /// Saves `state` with parts, `on_disk` being on disk, into the commit of time `time`; returns
    /// its bytes, the parts it used and those written, whose bytes are added to `files`.
    fn save_parts<S: Checkpointed>(
        state: &S,
        time: i64,
        on_disk: &HashMap<(i64, u64), i64>,
        files: &mut HashMap<(i64, u64), Vec<u8>>,
    ) -> (Vec<u8>, Vec<PartRef>, Vec<(i64, u64)>) {
        let mut bytes = Vec::new();
        let mut new = NewParts::new(time);
        let mut parts = Parts::new("w", Some(on_disk), &mut new);
        state.save_with_parts(&mut bytes, &mut parts);
        let refs = parts.finish();
        let mut written = Vec::new();
        if let Some((file, _)) = new.finish() {
            for part in PartFile::decode(&file).unwrap().parts {
                assert_eq!(part.state, "w");
                written.push((part.id, part.stamp));
                files.insert((part.id, part.stamp), part.bytes);
            }
        }
        for r in &refs {
            assert_eq!(r.file == time, written.contains(&(r.id, r.stamp)));
        }
        (bytes, refs, written)
    }

    #[test]
    fn a_pane_is_written_once_unless_it_grew() {
        use crate::window::Window;
        let mut files = HashMap::new();
        let mut w = Window::new(10_000);
        w.push(1000, vec![1u8]);
        w.push(2000, vec![2, 2]);
        let (_, refs, written) = save_parts(&w, 2000, &HashMap::new(), &mut files);
        assert_eq!(written, [(1000, 1), (2000, 2)]);
        let on_disk = refs.iter().map(|r| ((r.id, r.stamp), r.file)).collect();
        w.push(3000, vec![3]);
        let (_, refs, written) = save_parts(&w, 3000, &on_disk, &mut files);
        assert_eq!(written, [(3000, 1)]);
        let got: Vec<_> = refs.iter().map(|r| (r.id, r.stamp, r.file)).collect();
        assert_eq!(got, [(1000, 1, 2000), (2000, 2, 2000), (3000, 1, 3000)]);
        // An out-of-order push makes pane 1000 grow: it is saved again, with its new length.
        let on_disk = refs.iter().map(|r| ((r.id, r.stamp), r.file)).collect();
        w.push(1000, vec![11]);
        let (bytes, refs, written) = save_parts(&w, 4000, &on_disk, &mut files);
        assert_eq!(written, [(1000, 2)]);
        let mut parts: Vec<(i64, u64, Vec<u8>)> =
            refs.iter().map(|r| (r.id, r.stamp, files[&(r.id, r.stamp)].clone())).collect();
        parts.sort_by_key(|p| p.0);
        let mut back = Window::<u8>::new(10_000);
        back.restore_with_parts(&bytes, &SavedParts::new(&parts)).unwrap();
        assert_eq!(back.collect(3000), [1, 11, 2, 2, 3]);
        // A part missing, or of another length, is an error.
        let missing = SavedParts::new(&parts[1..]);
        assert!(Window::<u8>::new(10_000).restore_with_parts(&bytes, &missing).is_err());
        parts[0].1 = 1;
        assert!(Window::<u8>::new(10_000).restore_with_parts(&bytes, &SavedParts::new(&parts)).is_err());
    }

    #[test]
    fn windows_restored_with_parts_equal_their_whole_snapshots() {
        use crate::window::{InvKeyedWindow, KeyedWindow, Window};
        let mut seed = 7;
        let mut w = Window::new(5000);
        let mut k = KeyedWindow::new(5000);
        let mut i = InvKeyedWindow::new(5000, 1000);
        for t in (1..=12).map(|b| b * 1000) {
            let pane: Vec<(String, i64)> =
                (0..xorshift(&mut seed) % 5).map(|n| (format!("k{n}"), (xorshift(&mut seed) % 9) as i64)).collect();
            w.push(t, pane.iter().map(|p| p.0.clone()).collect::<Vec<_>>());
            k.push_pane(t, pane.clone());
            i.push_pane(t, pane);
            i.slide(t, &mut |a, b| a + b, &mut |a, b| a - b, &mut |kv: &(String, i64)| kv.1 != 0);
        }
        let whole = |s: &dyn Checkpointed| {
            let mut b = Vec::new();
            s.save(&mut b);
            b
        };
        let (mut w2, mut k2, mut i2) = (Window::new(5000), KeyedWindow::new(5000), InvKeyedWindow::new(5000, 1000));
        round_trip_with_parts(&w, &mut w2).unwrap();
        round_trip_with_parts(&k, &mut k2).unwrap();
        round_trip_with_parts(&i, &mut i2).unwrap();
        assert_eq!(whole(&w2), whole(&w));
        assert_eq!(whole(&k2), whole(&k));
        assert_eq!(whole(&i2), whole(&i));
        // Trailing bytes are rejected as with `restore`.
        let mut bytes = Vec::new();
        w.save_with_parts(&mut bytes, &mut Parts::new("w", None, &mut NewParts::new(0)));
        bytes.push(0);
        assert!(Window::<String>::new(5000).restore_with_parts(&bytes, &SavedParts::none()).is_err());
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        assert!(read_all::<bool>(&[2]).is_err());
        assert!(read_all::<Option<u8>>(&[7, 0]).is_err());
        assert!(read_all::<char>(&0xD800u32.to_le_bytes()).is_err());
        let mut bad_utf8 = Vec::new();
        2u64.write(&mut bad_utf8);
        bad_utf8.extend_from_slice(&[0xff, 0xfe]);
        assert!(read_all::<String>(&bad_utf8).is_err());
        // A huge length must be rejected before any allocation.
        let mut huge = Vec::new();
        u64::MAX.write(&mut huge);
        assert!(read_all::<Vec<u64>>(&huge).is_err());
        assert!(read_all::<String>(&huge).is_err());
        // Random bytes never panic.
        let mut seed = 99;
        for _ in 0..2000 {
            let n = (xorshift(&mut seed) % 24) as usize;
            let mut bytes: Vec<u8> = (0..n).map(|_| xorshift(&mut seed) as u8).collect();
            if n > 0 && xorshift(&mut seed).is_multiple_of(2) {
                bytes[0] %= 4; // short lengths and valid tags, to get deeper into the decoder
            }
            let _ = read_all::<Vec<(String, Option<char>, bool)>>(&bytes);
            let _ = read_all::<(Vec<()>, String)>(&bytes);
        }
    }
}

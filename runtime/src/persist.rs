//! A small binary codec for checkpointed state, and the trait every checkpointed state implements.
//!
//! The format is little-endian and self-delimiting: integers in their full width (`usize` and
//! `isize` as 64 bits), floats as their bit patterns, `bool` and `Option`'s tag as one byte
//! (0 or 1), `char` as its `u32` scalar value, strings and vectors as a `u64` length followed by
//! the bytes or the elements, tuples as their components in order, `()` as nothing. Reading
//! never panics and never trusts a length: a truncated or malformed input is an
//! [`Error::Config`] whose message starts with "corrupt checkpoint".

use std::collections::VecDeque;

use crate::error::Error;

/// A value that can be written into a checkpoint and read back.
pub trait Persist: Sized {
    /// Appends the value's bytes.
    fn write(&self, out: &mut Vec<u8>);
    /// Reads a value, advancing `input` past it; a truncated or malformed input is an error.
    fn read(input: &mut &[u8]) -> Result<Self, Error>;
}

/// A piece of operator state that is saved in checkpoints and restored after a restart.
pub trait Checkpointed {
    /// Appends a snapshot of the whole state.
    fn save(&self, out: &mut Vec<u8>);
    /// Replaces the state with a snapshot written by [`save`](Self::save).
    fn restore(&mut self, bytes: &[u8]) -> Result<(), Error>;
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
fn take<'a>(input: &mut &'a [u8], n: usize, what: &str) -> Result<&'a [u8], Error> {
    if input.len() < n {
        return Err(corrupt(&format!("truncated {what} (needs {n} bytes, {} left)", input.len())));
    }
    let (head, tail) = input.split_at(n);
    *input = tail;
    Ok(head)
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
        }
    )*};
}

tuples! {
    (0 A)
    (0 A, 1 B)
    (0 A, 1 B, 2 C)
    (0 A, 1 B, 2 C, 3 D)
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

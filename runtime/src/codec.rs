//! The one little-endian byte reader and writer under the runtime's binary files: checkpoint
//! commits, part files and planned batches ([`checkpoint`](crate::checkpoint)) and state
//! snapshots ([`persist`](crate::persist)). Each of those formats words its own errors; this
//! module only says how many bytes were missing.

/// A read that ran past the end of its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Short {
    /// The bytes the read needed.
    pub(crate) needed: usize,
    /// The bytes that were left.
    pub(crate) left: usize,
}

/// Takes the next `n` bytes of `input`, advancing it past them.
#[inline]
pub(crate) fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], Short> {
    if input.len() < n {
        return Err(Short { needed: n, left: input.len() });
    }
    let (head, tail) = input.split_at(n);
    *input = tail;
    Ok(head)
}

/// Takes the next `N` bytes of `input` as an array.
#[inline]
pub(crate) fn take_array<const N: usize>(input: &mut &[u8]) -> Result<[u8; N], Short> {
    Ok(take(input, N)?.try_into().expect("`take` returned the requested length"))
}

/// Reads a `u32`.
#[inline]
pub(crate) fn get_u32(input: &mut &[u8]) -> Result<u32, Short> {
    take_array(input).map(u32::from_le_bytes)
}

/// Reads a `u64`.
#[inline]
pub(crate) fn get_u64(input: &mut &[u8]) -> Result<u64, Short> {
    take_array(input).map(u64::from_le_bytes)
}

/// Reads an `i64`.
#[inline]
pub(crate) fn get_i64(input: &mut &[u8]) -> Result<i64, Short> {
    take_array(input).map(i64::from_le_bytes)
}

/// Appends a `u32`.
#[inline]
pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a `u64`.
#[inline]
pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends an `i64`.
#[inline]
pub(crate) fn put_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a count as a `u32`.
///
/// # Panics
///
/// If `n` does not fit in 32 bits; `what` names what was counted.
#[inline]
pub(crate) fn put_count(out: &mut Vec<u8>, n: usize, what: &str) {
    let n = u32::try_from(n).unwrap_or_else(|_| panic!("fewer than 2^32 {what}"));
    put_u32(out, n);
}

/// Appends a string as its `u32` byte length then its UTF-8 bytes.
///
/// # Panics
///
/// If `s` is 4 GiB or longer.
#[inline]
pub(crate) fn put_str32(out: &mut Vec<u8>, s: &str) {
    let len = u32::try_from(s.len()).expect("a name shorter than 4 GiB");
    put_u32(out, len);
    out.extend_from_slice(s.as_bytes());
}

/// Appends `v` as an unsigned LEB128 varint: seven bits a byte, the lowest first, the high bit
/// set on every byte but the last (one byte below 128, at most ten).
#[inline]
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a varint written by [`put_varint`]; `None` if it is truncated, longer than ten bytes or
/// more than 64 bits (then `input` is left anywhere: the caller gives up on it).
#[inline]
pub(crate) fn get_varint(input: &mut &[u8]) -> Option<u64> {
    let (&first, rest) = input.split_first()?;
    if first < 0x80 {
        *input = rest;
        return Some(u64::from(first));
    }
    get_varint_long(input)
}

/// The varints of two bytes or more, out of line.
#[inline(never)]
fn get_varint_long(input: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for (i, &b) in input.iter().enumerate().take(10) {
        // The tenth byte holds bit 63 alone.
        if i == 9 && b > 1 {
            return None;
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            *input = &input[i + 1..];
            return Some(v);
        }
    }
    None
}

/// Patches the `u32` at `at` (written as a placeholder before its value was known).
#[inline]
pub(crate) fn patch_u32(out: &mut [u8], at: usize, v: u32) {
    out[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Patches the `u64` at `at` (written as a placeholder before its value was known).
#[inline]
pub(crate) fn patch_u64(out: &mut [u8], at: usize, v: u64) {
    out[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_put_is_got_and_a_short_input_says_how_short() {
        let mut out = Vec::new();
        put_u32(&mut out, 7);
        put_i64(&mut out, -2);
        put_str32(&mut out, "ab");
        put_u64(&mut out, u64::MAX);
        let mut input = &out[..];
        assert_eq!(get_u32(&mut input), Ok(7));
        assert_eq!(get_i64(&mut input), Ok(-2));
        let n = get_u32(&mut input).unwrap() as usize;
        assert_eq!(take(&mut input, n), Ok(&b"ab"[..]));
        assert_eq!(get_u64(&mut input), Ok(u64::MAX));
        assert_eq!(get_u32(&mut input), Err(Short { needed: 4, left: 0 }));
        let mut three: &[u8] = &[1, 2, 3];
        assert_eq!(get_u64(&mut three), Err(Short { needed: 8, left: 3 }));
        assert_eq!(three, &[1, 2, 3], "a short read consumes nothing");
    }

    #[test]
    fn varints_round_trip_and_bad_ones_are_refused() {
        for v in [0, 1, 127, 128, 300, 16_383, 16_384, u64::from(u32::MAX), u64::MAX - 1, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let want = if v == 0 { 1 } else { (64 - v.leading_zeros() as usize).div_ceil(7) };
            assert_eq!(out.len(), want, "{v}");
            out.push(0xaa);
            let mut input = &out[..];
            assert_eq!(get_varint(&mut input), Some(v));
            assert_eq!(input, &[0xaa]);
            for cut in 0..want {
                assert_eq!(get_varint(&mut &out[..cut]), None, "{v} cut at {cut}");
            }
        }
        // Eleven bytes, and ten whose last has more than bit 63.
        assert_eq!(get_varint(&mut &[0x80; 10][..]), None);
        let mut over = vec![0xff; 9];
        over.push(0x02);
        assert_eq!(get_varint(&mut &over[..]), None);
    }
}

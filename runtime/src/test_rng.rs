//! A small deterministic generator (xorshift) for the runtime's randomised tests, so they need
//! no dependency and every run draws the same cases.

/// The next value of the xorshift sequence in `seed` (which must not be 0).
pub(crate) fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// The next value below `n`.
pub(crate) fn below(seed: &mut u64, n: u64) -> u64 {
    xorshift(seed) % n
}

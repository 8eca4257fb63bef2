//! `approx_count_distinct`: Spark's HyperLogLog++ (`HyperLogLogPlusPlusHelper`) at its default
//! relative standard deviation, 0.05: 2⁹ = 512 registers, each value hashed with Spark's XXH64
//! (seed 42) of its binary form, the register of the hash's first 9 bits keeping the largest
//! position of the first 1 bit of the rest. The estimate is Spark's: the linear count
//! `m · ln(m / V)` while it is at most 400 (`V` registers still zero), else the harmonic-mean
//! estimate `α·m² / Σ 2^-M`, rounded. Spark subtracts an empirical bias (the HLL++ paper's
//! tables) from the harmonic-mean estimate below 5·m = 2560; streamc does not have those
//! tables yet, so between about 400 and 2560 distinct values its estimate can differ from
//! Spark's (both are estimates within the relative error).

use std::borrow::Cow;
use twox_hash::XxHash64;

use super::time::{Date, Timestamp};

/// log₂ of the number of registers.
pub const P: u32 = 9;
/// The number of registers.
pub const M: usize = 1 << P;
/// Spark's seed of the hash.
const SEED: u64 = 42;
/// Spark's `THRESHOLDS(p - 4)`: the largest linear count that is used as the estimate.
const THRESHOLD: f64 = 400.0;

/// A value's hash as Spark's `XxHash64Function` computes it (seed 42).
pub trait SparkHash {
    fn spark_hash(&self) -> u64;
}

impl SparkHash for str {
    fn spark_hash(&self) -> u64 {
        XxHash64::oneshot(SEED, self.as_bytes())
    }
}

impl SparkHash for String {
    fn spark_hash(&self) -> u64 {
        self.as_str().spark_hash()
    }
}

impl SparkHash for Cow<'_, str> {
    fn spark_hash(&self) -> u64 {
        (**self).spark_hash()
    }
}

impl SparkHash for i64 {
    fn spark_hash(&self) -> u64 {
        XxHash64::oneshot(SEED, &self.to_le_bytes())
    }
}

impl SparkHash for f64 {
    /// Java's `doubleToLongBits` (one NaN).
    fn spark_hash(&self) -> u64 {
        let bits = if self.is_nan() { 0x7ff8_0000_0000_0000u64 as i64 } else { self.to_bits() as i64 };
        bits.spark_hash()
    }
}

/// `int`, `smallint` and `tinyint` hash as Spark's `hashInt` (four bytes).
macro_rules! hash_as_int {
    ($($t:ty)*) => {$(
        impl SparkHash for $t {
            fn spark_hash(&self) -> u64 {
                XxHash64::oneshot(SEED, &i32::from(*self).to_le_bytes())
            }
        }
    )*};
}

hash_as_int!(i8 i16 i32);

impl SparkHash for f32 {
    /// Java's `floatToIntBits` (one NaN), hashed as an int.
    fn spark_hash(&self) -> u64 {
        let bits = if self.is_nan() { 0x7fc0_0000u32 as i32 } else { self.to_bits() as i32 };
        bits.spark_hash()
    }
}

impl SparkHash for bool {
    fn spark_hash(&self) -> u64 {
        XxHash64::oneshot(SEED, &i32::from(*self).to_le_bytes())
    }
}

impl SparkHash for Timestamp {
    fn spark_hash(&self) -> u64 {
        self.0.spark_hash()
    }
}

impl SparkHash for Date {
    fn spark_hash(&self) -> u64 {
        XxHash64::oneshot(SEED, &self.0.to_le_bytes())
    }
}

/// A new sketch: every register zero (allocated on the first value).
pub fn new() -> Vec<u8> {
    Vec::new()
}

/// Adds a value (its [`SparkHash`]) to the sketch.
#[inline]
pub fn add(registers: &mut Vec<u8>, hash: u64) {
    if registers.is_empty() {
        registers.resize(M, 0);
    }
    let idx = (hash >> (64 - P)) as usize;
    let w = (hash << P) | (1u64 << (P - 1));
    let pw = (w.leading_zeros() + 1) as u8;
    if registers[idx] < pw {
        registers[idx] = pw;
    }
}

/// Merges sketch `other` into `registers` (the largest of each register).
pub fn merge(registers: &mut Vec<u8>, other: &[u8]) {
    if other.is_empty() {
        return;
    }
    if registers.is_empty() {
        registers.resize(M, 0);
    }
    for (r, o) in registers.iter_mut().zip(other) {
        *r = (*r).max(*o);
    }
}

/// The estimate of the number of distinct values added (see the module's notes).
pub fn estimate(registers: &[u8]) -> i64 {
    if registers.is_empty() {
        return 0;
    }
    let m = M as f64;
    let alpha_m2 = (0.7213 / (1.0 + 1.079 / m)) * m * m;
    let (mut z_inverse, mut zeros) = (0.0f64, 0.0f64);
    for &r in registers {
        z_inverse += 1.0 / (1u64 << r) as f64;
        if r == 0 {
            zeros += 1.0;
        }
    }
    let e = alpha_m2 / z_inverse;
    let estimate = if zeros > 0.0 {
        let h = m * (m / zeros).ln();
        if h <= THRESHOLD { h } else { e }
    } else {
        e
    };
    estimate.round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xxh64_is_the_reference_algorithm() {
        // XXH64 of the empty input with seed 0 (the algorithm's published test vector).
        assert_eq!(XxHash64::oneshot(0, b""), 0xef46_db37_51d8_e999);
    }

    #[test]
    fn small_counts_are_linear_counting() {
        let mut s = new();
        assert_eq!(estimate(&s), 0);
        for i in 0..100i64 {
            add(&mut s, i.spark_hash());
            add(&mut s, i.spark_hash());
        }
        let est = estimate(&s);
        assert!((95..=105).contains(&est), "{est}");
        let mut t = new();
        for i in 100..200i64 {
            add(&mut t, i.spark_hash());
        }
        merge(&mut s, &t);
        let est = estimate(&s);
        assert!((190..=210).contains(&est), "{est}");
    }
}

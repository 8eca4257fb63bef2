//! `approx_count_distinct`: Spark's HyperLogLog++ (`HyperLogLogPlusPlusHelper`) at its default
//! relative standard deviation, 0.05: 2⁹ = 512 registers, each value hashed with Spark's XXH64
//! (seed 42) of its binary form, the register of the hash's first 9 bits keeping the largest
//! position of the first 1 bit of the rest. The estimate is Spark's: the linear count
//! `m · ln(m / V)` while some register is still zero (`V` of them) and either that count is at
//! most 400 or the harmonic-mean estimate `E = α·m² / Σ 2^-M` is at most 2.5·m; else `E`, less
//! its empirical bias while `E < 5·m = 2560` (the HLL++ paper's bias correction: the mean bias
//! of the 6 raw estimates of the paper's table nearest to `E`, see [`bias`]), rounded as Java's
//! `Math.round`. The same registers and the same arithmetic in the same order give Spark's
//! estimate exactly (`tests/data/spark/sql/approx.*`).

use std::borrow::Cow;
use twox_hash::XxHash64;

use super::hll_bias::RAW_ESTIMATE_BIAS;
use super::time::{Date, Timestamp};

/// log₂ of the number of registers.
pub const P: u32 = 9;
/// The number of registers.
pub const M: usize = 1 << P;
/// Spark's seed of the hash.
const SEED: u64 = 42;
/// Spark's `THRESHOLDS(p - 4)`: the largest linear count that is used as the estimate.
const THRESHOLD: f64 = 400.0;
/// The number of nearest raw estimates whose biases are averaged.
const K: usize = 6;

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
    /// Java's `doubleToLongBits` (one NaN), with `-0.0` hashed as `0.0` (Spark normalizes it).
    fn spark_hash(&self) -> u64 {
        let bits = if self.is_nan() {
            0x7ff8_0000_0000_0000u64 as i64
        } else if *self == 0.0 {
            0
        } else {
            self.to_bits() as i64
        };
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
    /// Java's `floatToIntBits` (one NaN), hashed as an int, with `-0.0` hashed as `0.0`.
    fn spark_hash(&self) -> u64 {
        let bits = if self.is_nan() {
            0x7fc0_0000u32 as i32
        } else if *self == 0.0 {
            0
        } else {
            self.to_bits() as i32
        };
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
    let e_corrected = if e < 5.0 * m { e - bias(e) } else { e };
    let estimate = if zeros > 0.0 {
        let h = m * (m / zeros).ln();
        if h <= THRESHOLD || e <= 2.5 * m { h } else { e_corrected }
    } else {
        e_corrected
    };
    // Java's `Math.round`: halves go up (the estimate is never negative here).
    (estimate + 0.5).floor() as i64
}

/// The bias of raw estimate `e`: the mean of the biases of the `K` raw estimates of the
/// paper's table (`RAW_ESTIMATE_BIAS`) nearest to `e` by squared distance. The window starts
/// with its last entry at the first table estimate not below `e` and slides up while the entry
/// just above it is strictly nearer than its lowest one, as Spark's `estimateBias` does, so a tie
/// keeps the lower window; above the table's last estimate (2553.8) the window is Spark's too,
/// cut short at the table's end (five entries).
pub fn bias(e: f64) -> f64 {
    let table = &RAW_ESTIMATE_BIAS;
    let n = table.len();
    let distance = |i: usize| {
        let d = e - table[i].0;
        d * d
    };
    // The table is strictly increasing: an exact match is the first entry not below `e`.
    let nearest = table.partition_point(|&(raw, _)| raw < e);
    let mut low = (nearest + 1).saturating_sub(K);
    let mut high = (low + K).min(n);
    while high < n && distance(high) < distance(low) {
        low += 1;
        high += 1;
    }
    let sum = table[low..high].iter().fold(0.0, |sum, &(_, b)| sum + b);
    sum / (high - low) as f64
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
    fn doubles_hash_as_spark_hashes_them() {
        // Spark 4.3.0's `xxhash64(x)` (the same hash and seed): `-0.0` hashes as `0.0`, NaN as
        // Java's one NaN; floats as ints.
        for (x, spark) in [
            (0.0f64, -5252525462095825812i64),
            (-0.0, -5252525462095825812),
            (1.0, -2162451265447482029),
            (-1.0, -8296228499959607521),
            (-1.0 / 3.0, 5151986902142224286),
        ] {
            assert_eq!(x.spark_hash() as i64, spark, "{x}");
        }
        assert_eq!(f64::NAN.spark_hash() as i64, -3127944061524951246);
        for (x, spark) in [(0.0f32, 3614696996920510707i64), (-0.0, 3614696996920510707), (1.5, 6163473420726370430)] {
            assert_eq!(x.spark_hash() as i64, spark, "{x}");
        }
        assert_eq!(f32::NAN.spark_hash() as i64, 2692338816207849720);
    }

    #[test]
    fn bias_is_the_mean_of_the_six_nearest() {
        let t = &RAW_ESTIMATE_BIAS;
        let mean = |r: std::ops::Range<usize>| t[r.clone()].iter().map(|p| p.1).sum::<f64>() / r.len() as f64;
        // Below the table and at its first entry: its first six.
        assert_eq!(bias(100.0), mean(0..6));
        assert_eq!(bias(t[0].0), mean(0..6));
        // Above its last entry the window is cut short at the table's end, as Spark's is (its
        // first entry is `K - 1` before the first not below `e`): the last five.
        assert_eq!(bias(2555.0), mean(t.len() - 5..t.len()));
        // Anywhere: the six entries nearest to `e` (a tie to the lower one), by brute force.
        for k in 0..3900 {
            let e = 350.0 + k as f64 * 0.565;
            assert!(e <= t[t.len() - 1].0);
            let mut by_distance: Vec<usize> = (0..t.len()).collect();
            by_distance.sort_by(|&i, &j| (e - t[i].0).abs().total_cmp(&(e - t[j].0).abs()));
            let lo = *by_distance[..6].iter().min().unwrap();
            assert_eq!(bias(e), mean(lo..lo + 6), "{e}");
        }
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

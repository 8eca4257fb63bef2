//! A double as a grouping, deduplication or join key. `f64` is neither `Eq` nor `Hash`; Spark
//! groups doubles after normalizing them (its `NormalizeFloatingNumbers` rule): every NaN is one
//! value and `-0.0` is `0.0`. [`DoubleKey`] is that normalized value, compared and hashed by its
//! bits, and gives the normalized double back for the output row.

use crate::error::Error;
use crate::persist::Persist;

/// A normalized double, usable as a key (see the module's docs).
///
/// ```
/// use streamc_runtime::structured::double_key::DoubleKey;
/// assert_eq!(DoubleKey::new(-0.0), DoubleKey::new(0.0));
/// assert_eq!(DoubleKey::new(f64::NAN), DoubleKey::new(-f64::NAN));
/// assert_ne!(DoubleKey::new(1.0), DoubleKey::new(1.5));
/// assert_eq!(DoubleKey::new(-0.0).get().to_bits(), 0f64.to_bits());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DoubleKey(u64);

impl DoubleKey {
    /// The key of `x`: NaNs made one, `-0.0` made `0.0`.
    #[inline]
    pub fn new(x: f64) -> DoubleKey {
        let x = if x.is_nan() {
            f64::NAN
        } else if x == 0.0 {
            0.0
        } else {
            x
        };
        DoubleKey(x.to_bits())
    }

    /// The (normalized) double.
    #[inline]
    pub fn get(self) -> f64 {
        f64::from_bits(self.0)
    }
}

crate::impl_into_owned_identity!(DoubleKey);

/// A normalized float, usable as a key (as [`DoubleKey`]).
///
/// ```
/// use streamc_runtime::structured::double_key::FloatKey;
/// assert_eq!(FloatKey::new(-0.0), FloatKey::new(0.0));
/// assert_eq!(FloatKey::new(0.1).get(), 0.1f32);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FloatKey(u32);

impl FloatKey {
    /// The key of `x`: NaNs made one, `-0.0` made `0.0`.
    #[inline]
    pub fn new(x: f32) -> FloatKey {
        let x = if x.is_nan() {
            f32::NAN
        } else if x == 0.0 {
            0.0
        } else {
            x
        };
        FloatKey(x.to_bits())
    }

    /// The (normalized) float.
    #[inline]
    pub fn get(self) -> f32 {
        f32::from_bits(self.0)
    }
}

crate::impl_into_owned_identity!(FloatKey);

impl Persist for FloatKey {
    fn write(&self, out: &mut Vec<u8>) {
        self.0.write(out)
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        u32::read(input).map(FloatKey)
    }
}

impl Persist for DoubleKey {
    fn write(&self, out: &mut Vec<u8>) {
        self.0.write(out)
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        u64::read(input).map(DoubleKey)
    }
}

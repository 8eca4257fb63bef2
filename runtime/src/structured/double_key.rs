//! A double (or float: [`FloatKey`]) as a grouping, deduplication or join key. `f64` is neither `Eq` nor `Hash`; Spark
//! groups doubles after normalizing them (its `NormalizeFloatingNumbers` rule): every NaN is one
//! value and `-0.0` is `0.0`. [`DoubleKey`] is that normalized value, compared and hashed by its
//! bits, and gives the normalized double back for the output row.

use crate::error::Error;
use crate::persist::Persist;

macro_rules! float_key {
    ($(#[$doc:meta])* $name:ident($f:ty, $bits:ty)) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $name($bits);

        impl $name {
            /// The key of `x`: NaNs made one, `-0.0` made `0.0`.
            #[inline]
            pub fn new(x: $f) -> $name {
                let x = if x.is_nan() {
                    <$f>::NAN
                } else if x == 0.0 {
                    0.0
                } else {
                    x
                };
                $name(x.to_bits())
            }

            /// The (normalized) value.
            #[inline]
            pub fn get(self) -> $f {
                <$f>::from_bits(self.0)
            }
        }

        crate::impl_into_owned_identity!($name);

        impl Persist for $name {
            fn write(&self, out: &mut Vec<u8>) {
                self.0.write(out)
            }
            fn read(input: &mut &[u8]) -> Result<Self, Error> {
                <$bits>::read(input).map($name)
            }
        }
    };
}

float_key! {
    /// A normalized double, usable as a key (see the module's docs).
    ///
    /// ```
    /// use streamc_runtime::structured::double_key::DoubleKey;
    /// assert_eq!(DoubleKey::new(-0.0), DoubleKey::new(0.0));
    /// assert_eq!(DoubleKey::new(f64::NAN), DoubleKey::new(-f64::NAN));
    /// assert_ne!(DoubleKey::new(1.0), DoubleKey::new(1.5));
    /// assert_eq!(DoubleKey::new(-0.0).get().to_bits(), 0f64.to_bits());
    /// ```
    DoubleKey(f64, u64)
}

float_key! {
    /// A normalized float, usable as a key (as [`DoubleKey`]).
    ///
    /// ```
    /// use streamc_runtime::structured::double_key::FloatKey;
    /// assert_eq!(FloatKey::new(-0.0), FloatKey::new(0.0));
    /// assert_eq!(FloatKey::new(0.1).get(), 0.1f32);
    /// ```
    FloatKey(f32, u32)
}

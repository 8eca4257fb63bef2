//! The zero-sized type witness [`Ty`] that generated code passes to the operator functions of
//! [`ops`](crate::ops): a leaf, so that a source can hand out the witness of its records
//! ([`TextBatch::ty`](crate::TextBatch::ty)) without importing the operators and their state.

use std::marker::PhantomData;

/// A zero-sized witness of a stream's element type `T`.
///
/// `fn() -> T` makes the witness covariant, `Send`, `Sync` and free of drop obligations whatever
/// `T` is, so a witness of `&'b str` never restricts where it can be moved.
pub struct Ty<T>(PhantomData<fn() -> T>);

// Manual impls: derives would demand `T: Clone`/`T: Copy`, but the witness holds no `T`.
impl<T> Clone for Ty<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Ty<T> {}

impl<T> std::fmt::Debug for Ty<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ty<{}>", std::any::type_name::<T>())
    }
}

impl<T> Default for Ty<T> {
    #[inline(always)]
    fn default() -> Self {
        Ty::new()
    }
}

impl<T> Ty<T> {
    /// The witness of `T`.
    #[inline(always)]
    pub const fn new() -> Self {
        Ty(PhantomData)
    }
}

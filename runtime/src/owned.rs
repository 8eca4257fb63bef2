//! Owned forms of stream elements, for state that outlives a batch (windows, stateful streams).
//!
//! Per-batch state stores keys as given, so a `&str` borrowed from the batch's text costs nothing.
//! State kept across batches cannot borrow from a batch that is gone; [`IntoOwned`] names the
//! owned form of an element (`&str` → `String`) and converts to it. Its second method,
//! [`eq_owned`](IntoOwned::eq_owned), compares a borrowed value with an owned one, so that a
//! table of owned keys can be probed with a borrowed key and the key is copied only when it is
//! inserted for the first time.

/// A value with an owned (`'static`) form that state kept across batches can store.
///
/// Laws, relied on by the keyed state tables (they hash a borrowed key to probe a table of owned
/// keys):
/// - if `Self: Hash` and `Self::Owned: Hash`, then `x` and `x.into_owned()` hash identically
///   (feed the same calls to the hasher);
/// - `x.eq_owned(o)` is `x.into_owned() == *o`, without converting `x`.
///
/// A user type that is already owned declares itself with
/// [`impl_into_owned_identity!`](crate::impl_into_owned_identity):
///
/// ```
/// #[derive(Clone, PartialEq, Eq, Hash)]
/// struct Sensor(u32);
/// streamc_runtime::impl_into_owned_identity!(Sensor);
///
/// use streamc_runtime::owned::IntoOwned;
/// assert!(("a", Sensor(1)).eq_owned(&("a".to_owned(), Sensor(1))));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be kept across batches (by a window or a stateful operator)",
    note = "implement `streamc_runtime::owned::IntoOwned` for it (for an owned type: `streamc_runtime::impl_into_owned_identity!(MyType);`)"
)]
pub trait IntoOwned {
    /// The owned form.
    type Owned: 'static;
    /// Converts into the owned form (a copy of borrowed data, a move of owned data).
    fn into_owned(self) -> Self::Owned;
    /// Whether `self` equals `o`, as `self.into_owned() == *o` would say, without converting.
    fn eq_owned(&self, o: &Self::Owned) -> bool;
}

/// Declares types that are already owned (`'static`, `PartialEq`) as their own [`IntoOwned`]
/// form: `into_owned` is the identity and `eq_owned` is `==`.
#[macro_export]
macro_rules! impl_into_owned_identity {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::owned::IntoOwned for $t {
            type Owned = $t;
            #[inline(always)]
            fn into_owned(self) -> $t {
                self
            }
            #[inline(always)]
            fn eq_owned(&self, o: &$t) -> bool {
                self == o
            }
        }
    )*};
}

impl_into_owned_identity!(
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    bool,
    char,
    f32,
    f64,
    (),
    String
);

impl IntoOwned for &str {
    type Owned = String;
    #[inline]
    fn into_owned(self) -> String {
        self.to_owned()
    }
    #[inline]
    fn eq_owned(&self, o: &String) -> bool {
        *self == o.as_str()
    }
}

impl IntoOwned for &String {
    type Owned = String;
    #[inline]
    fn into_owned(self) -> String {
        self.clone()
    }
    #[inline]
    fn eq_owned(&self, o: &String) -> bool {
        *self == o
    }
}

impl<T: IntoOwned> IntoOwned for Option<T> {
    type Owned = Option<T::Owned>;
    #[inline]
    fn into_owned(self) -> Self::Owned {
        self.map(T::into_owned)
    }
    #[inline]
    fn eq_owned(&self, o: &Self::Owned) -> bool {
        match (self, o) {
            (Some(x), Some(y)) => x.eq_owned(y),
            (None, None) => true,
            _ => false,
        }
    }
}

/// `Vec<T>` hashes as its length followed by its elements, so the hashing law carries over from
/// `T` (when `T` is its own owned form, both sides are the same type anyway).
impl<T: IntoOwned> IntoOwned for Vec<T> {
    type Owned = Vec<T::Owned>;
    #[inline]
    fn into_owned(self) -> Self::Owned {
        self.into_iter().map(T::into_owned).collect()
    }
    #[inline]
    fn eq_owned(&self, o: &Self::Owned) -> bool {
        self.len() == o.len() && self.iter().zip(o).all(|(x, y)| x.eq_owned(y))
    }
}

macro_rules! tuples {
    ($(($($n:tt $t:ident),+))*) => {$(
        /// Component-wise; a tuple hashes as its components in order, so the law carries over.
        impl<$($t: IntoOwned),+> IntoOwned for ($($t,)+) {
            type Owned = ($($t::Owned,)+);
            #[inline]
            fn into_owned(self) -> Self::Owned {
                ($(self.$n.into_owned(),)+)
            }
            #[inline]
            fn eq_owned(&self, o: &Self::Owned) -> bool {
                $(self.$n.eq_owned(&o.$n))&&+
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
    use foldhash::fast::FixedState;
    use std::fmt::Debug;
    use std::hash::{BuildHasher, Hash};

    /// Checks both laws for one borrowed value against an owned value it equals and one it
    /// does not.
    fn laws<T>(x: T, other: &T::Owned)
    where
        T: IntoOwned + Hash + Clone,
        T::Owned: Hash + PartialEq + Debug,
    {
        let h = FixedState::with_seed(7);
        let owned = x.clone().into_owned();
        assert_eq!(h.hash_one(&x), h.hash_one(&owned), "hash of {owned:?}");
        assert!(x.eq_owned(&owned));
        assert_eq!(x.eq_owned(other), owned == *other, "{owned:?} vs {other:?}");
    }

    #[derive(Clone, PartialEq, Eq, Hash, Debug)]
    struct User(u8);
    crate::impl_into_owned_identity!(User);

    #[test]
    fn borrowed_and_owned_agree() {
        laws("abc", &"abd".to_owned());
        laws("", &"x".to_owned());
        let s = String::from("k");
        laws(&s, &"k".to_owned());
        laws(s.clone(), &String::new());
        laws(3i64, &4);
        laws(u8::MAX, &0);
        laws('x', &'y');
        laws(true, &true);
        laws((), &());
        laws(("a", 1i32), &("a".to_owned(), 2));
        laws(("a", ("b", 'c')), &("a".to_owned(), ("b".to_owned(), 'c')));
        laws((1u8, "x", 2u16, Some("y")), &(1, "x".to_owned(), 2, None));
        laws(Some("a"), &None);
        laws(None::<&str>, &None);
        laws(vec!["a", "bc"], &vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]);
        laws(vec![("a", 1u64)], &vec![("a".to_owned(), 1)]);
        laws(Vec::<&str>::new(), &vec![]);
        laws((User(1),), &(User(2),));
        // Concatenations must not collide with tuple boundaries differently on the two sides.
        laws(("ab", "c"), &("a".to_owned(), "bc".to_owned()));
        assert!(1.5f64.eq_owned(&1.5));
        assert!(!f64::NAN.eq_owned(&f64::NAN));
    }
}

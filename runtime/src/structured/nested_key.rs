//! A nested value (array, map or struct) with a float, double or map inside, as a grouping or
//! deduplication key. Such a value is neither `Eq` nor `Hash` as it is, and Spark groups it
//! normalized: every NaN is one value and `-0.0` is `0.0` at any depth (its
//! `NormalizeFloatingNumbers`), and a map's entries are in key order (its `MapSort`), so that
//! `{a -> 1, b -> 2}` and `{b -> 2, a -> 1}` are one key. Generated code normalizes a value part
//! by part (it knows the type) with [`normal_double`], [`normal_float`] and [`sort_entries`],
//! then makes the key with [`NestedKey::new`], which keeps the normalized value's bytes
//! ([`Persist`]): two normalized values are equal exactly when their bytes are, so the key is
//! compared and hashed by them, and read back ([`NestedKey::get`]) for the output row.

use crate::error::Error;
use crate::owned::IntoOwned;
use crate::persist::{Persist, corrupt};
use std::marker::PhantomData;

/// A normalized nested value of type `T` as a key: its bytes.
///
/// ```
/// use streamc_runtime::structured::nested_key::{NestedKey, normal_double};
/// let a: Vec<Option<f64>> = vec![Some(normal_double(-0.0)), Some(normal_double(f64::NAN))];
/// let b: Vec<Option<f64>> = vec![Some(normal_double(0.0)), Some(normal_double(-f64::NAN))];
/// assert_eq!(NestedKey::new(&a), NestedKey::new(&b));
/// assert_eq!(NestedKey::new(&a).get()[0], Some(0.0));
/// ```
pub struct NestedKey<T> {
    bytes: Box<[u8]>,
    ty: PhantomData<fn() -> T>,
}

impl<T: Persist> NestedKey<T> {
    /// The key of `v`, which the caller has normalized.
    pub fn new(v: &T) -> NestedKey<T> {
        let mut out = Vec::new();
        v.write(&mut out);
        NestedKey { bytes: out.into_boxed_slice(), ty: PhantomData }
    }

    /// The value back.
    pub fn get(&self) -> T {
        match T::read(&mut &self.bytes[..]) {
            Ok(v) => v,
            Err(e) => unreachable!(
                "internal error: a nested key does not read back the bytes it wrote ({e}); a bug in streamc"
            ),
        }
    }
}

impl<T> NestedKey<T> {
    /// A probe of keyed state for the value that `write` writes (the [`Persist`] bytes of the
    /// normalized value, as [`NestedKey::new`] would keep them), written into a buffer this
    /// thread reuses: a key already in the state costs no allocation; a new one copies the
    /// bytes once ([`IntoOwned::into_owned`]). Generated code writes a value normalized part by
    /// part from the row's own value, with [`write_len`], [`write_tag`] and `Persist::write`.
    ///
    /// ```
    /// use streamc_runtime::owned::IntoOwned;
    /// use streamc_runtime::persist::Persist;
    /// use streamc_runtime::structured::nested_key::{NestedKey, normal_double, write_len, write_tag};
    /// let v: Vec<Option<f64>> = vec![Some(-0.0), None];
    /// let probe = NestedKey::<Vec<Option<f64>>>::probe(|out| {
    ///     write_len(v.len(), out);
    ///     for x in &v {
    ///         write_tag(x.is_some(), out);
    ///         if let Some(x) = x { normal_double(*x).write(out) }
    ///     }
    /// });
    /// assert!(probe.eq_owned(&NestedKey::new(&vec![Some(0.0), None])));
    /// assert_eq!(probe.into_owned().get(), vec![Some(0.0), None]);
    /// ```
    pub fn probe(write: impl FnOnce(&mut Vec<u8>)) -> NestedProbe<T> {
        let mut bytes = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
        bytes.clear();
        write(&mut bytes);
        NestedProbe { bytes, ty: PhantomData }
    }
}

thread_local! {
    /// The buffer [`NestedKey::probe`] writes into, back after each probe.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A [`Vec`]'s length as its [`Persist`] bytes begin with it.
#[inline]
pub fn write_len(n: usize, out: &mut Vec<u8>) {
    (n as u64).write(out);
}

/// An [`Option`]'s tag as its [`Persist`] bytes begin with it (its value follows if `some`).
#[inline]
pub fn write_tag(some: bool, out: &mut Vec<u8>) {
    out.push(u8::from(some));
}

/// A key of keyed state in the making ([`NestedKey::probe`]): compared and hashed as the
/// [`NestedKey`] it becomes, holding this thread's buffer until dropped.
pub struct NestedProbe<T> {
    bytes: Vec<u8>,
    ty: PhantomData<fn() -> T>,
}

impl<T> Drop for NestedProbe<T> {
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.bytes);
        // A probe made while another was alive leaves the first buffer in place.
        let _ = SCRATCH.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut()
                && s.capacity() < bytes.capacity()
            {
                *s = bytes;
            }
        });
    }
}

impl<T> std::hash::Hash for NestedProbe<T> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.bytes[..].hash(h)
    }
}

impl<T> PartialEq for NestedProbe<T> {
    fn eq(&self, o: &Self) -> bool {
        self.bytes == o.bytes
    }
}

impl<T> Eq for NestedProbe<T> {}

impl<T> std::fmt::Debug for NestedProbe<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NestedProbe({} bytes)", self.bytes.len())
    }
}

impl<T: 'static> IntoOwned for NestedProbe<T> {
    type Owned = NestedKey<T>;
    /// The key's own copy of the bytes; the buffer goes back for the next probe.
    #[inline]
    fn into_owned(self) -> NestedKey<T> {
        NestedKey { bytes: self.bytes.as_slice().into(), ty: PhantomData }
    }
    #[inline]
    fn eq_owned(&self, o: &NestedKey<T>) -> bool {
        self.bytes[..] == o.bytes[..]
    }
}

impl<T> Clone for NestedKey<T> {
    fn clone(&self) -> Self {
        NestedKey { bytes: self.bytes.clone(), ty: PhantomData }
    }
}

impl<T> PartialEq for NestedKey<T> {
    fn eq(&self, o: &Self) -> bool {
        self.bytes == o.bytes
    }
}

impl<T> Eq for NestedKey<T> {}

/// As its [`NestedProbe`] hashes: the bytes as a slice.
impl<T> std::hash::Hash for NestedKey<T> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.bytes[..].hash(h)
    }
}

impl<T> std::fmt::Debug for NestedKey<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NestedKey({} bytes)", self.bytes.len())
    }
}

impl<T: 'static> IntoOwned for NestedKey<T> {
    type Owned = NestedKey<T>;
    #[inline]
    fn into_owned(self) -> NestedKey<T> {
        self
    }
    #[inline]
    fn eq_owned(&self, o: &NestedKey<T>) -> bool {
        self == o
    }
}

impl<T> Persist for NestedKey<T> {
    fn write(&self, out: &mut Vec<u8>) {
        (self.bytes.len() as u64).write(out);
        out.extend_from_slice(&self.bytes);
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        let n = u64::read(input)?;
        let Some(n) = usize::try_from(n).ok().filter(|n| *n <= input.len()) else {
            return Err(corrupt(&format!("a nested key of {n} bytes with {} left", input.len())));
        };
        let (bytes, rest) = input.split_at(n);
        *input = rest;
        Ok(NestedKey { bytes: bytes.into(), ty: PhantomData })
    }
    fn heap_bytes(&self) -> usize {
        self.bytes.len()
    }
}

/// A double as Spark groups it: every NaN one NaN, `-0.0` as `0.0`.
#[inline]
pub fn normal_double(x: f64) -> f64 {
    super::double_key::DoubleKey::new(x).get()
}

/// A float as Spark groups it (as [`normal_double`]).
#[inline]
pub fn normal_float(x: f32) -> f32 {
    super::double_key::FloatKey::new(x).get()
}

/// A map's entries (keys already normalized) in Spark's key order, ascending: a map key is a
/// scalar, an array or a struct, never NULL; keys that do not compare (structs) go by their
/// bytes, which is an order too.
pub fn sort_entries<K: PartialOrd + Persist, V>(entries: &mut [(K, Option<V>)]) {
    entries.sort_by(|(a, _), (b, _)| match a.partial_cmp(b) {
        Some(o) => o,
        None => bytes_of(a).cmp(&bytes_of(b)),
    });
}

/// [`sort_entries`] for keys without an order of their own (structs): by their bytes.
pub fn sort_entries_by_bytes<K: Persist, V>(entries: &mut [(K, Option<V>)]) {
    entries.sort_by_cached_key(|(k, _)| bytes_of(k));
}

fn bytes_of<K: Persist>(k: &K) -> Vec<u8> {
    let mut out = Vec::new();
    k.write(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structured::nested::SqlMap;

    crate::sql_struct! { Inner { x: f64 = "x", tags: Vec<Option<String>> = "tags", m: SqlMap<String, String> = "m" } }

    /// What generated code writes for a probe (the layout of `Persist` for a struct's fields,
    /// an `Option`, a `Vec`; a map normalized whole) is what `NestedKey::new` keeps of the
    /// normalized value: a checkpoint holds the same bytes as before probes.
    #[test]
    fn a_probe_writes_the_bytes_new_keeps() {
        let row = vec![
            Some(Inner {
                x: Some(-0.0),
                tags: Some(vec![Some("a".into()), None]),
                m: Some(SqlMap(vec![("b".into(), Some("y".into())), ("a".into(), None)])),
            }),
            None,
        ];
        let probe = NestedKey::<Vec<Option<Inner>>>::probe(|out| {
            write_len(row.len(), out);
            for e in &row {
                write_tag(e.is_some(), out);
                if let Some(s) = e {
                    write_tag(s.x.is_some(), out);
                    if let Some(x) = s.x {
                        normal_double(x).write(out);
                    }
                    write_tag(s.tags.is_some(), out);
                    if let Some(t) = &s.tags {
                        t.write(out);
                    }
                    write_tag(s.m.is_some(), out);
                    if let Some(m) = &s.m {
                        let mut entries = m.0.clone();
                        sort_entries(&mut entries);
                        SqlMap(entries).write(out);
                    }
                }
            }
        });
        let normalized = vec![
            Some(Inner {
                x: Some(0.0),
                tags: Some(vec![Some("a".into()), None]),
                m: Some(SqlMap(vec![("a".into(), None), ("b".into(), Some("y".into()))])),
            }),
            None,
        ];
        let key = NestedKey::new(&normalized);
        assert!(probe.eq_owned(&key));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        probe.into_owned().write(&mut a);
        key.write(&mut b);
        assert_eq!(a, b);
    }
}

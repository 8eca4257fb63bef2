//! Keyed state: the per-batch table of `reduce_by_key`, the hot path of every aggregation.

use std::hash::{BuildHasher, Hash};

use foldhash::fast::FixedState;
use hashbrown::HashTable;

/// The hasher seed. Fixed, so that a run's hashing (and so its performance profile) is the same
/// every time; output order never depends on it (see [`KeyedReduce`]).
const SEED: u64 = 0x5354_5245_414d_4321; // "STREAMC!"

/// The table of one `reduce_by_key` for one batch: each key with the reduction of its values.
///
/// Entries live in a `Vec<(K, V)>` in first-insertion order, and a `HashTable<u32>` of indices
/// into it finds a key. Hence iteration and [`into_vec`](Self::into_vec) are in the order keys
/// were first seen (deterministic, and what a golden test can pin), `into_vec` is free, and the
/// hash table is small (four bytes per slot), which keeps the probe in cache.
///
/// Keys are stored as given: the table lives for one batch, so borrowed keys such as `&str`
/// pointing into the batch's input are zero-copy.
///
/// Invariant: the table holds exactly the indices `0..entries.len()`, and index `i` is stored
/// under the hash of `entries[i].0`.
///
/// ```
/// use streamc_runtime::state::KeyedReduce;
/// let mut t = KeyedReduce::new();
/// for w in ["b", "a", "b"] {
///     t.merge(w, 1, &mut |x, y| x + y);
/// }
/// assert_eq!(t.into_vec(), vec![("b", 2), ("a", 1)]);
/// ```
pub struct KeyedReduce<K, V> {
    table: HashTable<u32>,
    entries: Vec<(K, V)>,
    hasher: FixedState,
}

impl<K, V> std::fmt::Debug for KeyedReduce<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedReduce").field("len", &self.entries.len()).finish()
    }
}

impl<K: Hash + Eq, V> Default for KeyedReduce<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Hash + Eq, V> KeyedReduce<K, V> {
    /// An empty table.
    #[inline]
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty table with room for `n` keys.
    #[inline]
    pub fn with_capacity(n: usize) -> Self {
        KeyedReduce {
            table: HashTable::with_capacity(n),
            entries: Vec::with_capacity(n),
            hasher: FixedState::with_seed(SEED),
        }
    }

    /// Adds `v` under `k`: a new key is inserted, an existing key's value becomes
    /// `f(old, v)`, combined in place (no allocation, one hash, one probe).
    ///
    /// If `f` panics the panic propagates and the table is left empty: the old value was moved
    /// into `f`, so the entry cannot be kept, and the other entries are dropped so that nothing
    /// is dropped twice or leaked.
    #[inline]
    pub fn merge(&mut self, k: K, v: V, f: &mut impl FnMut(V, V) -> V) {
        let hash = self.hasher.hash_one(&k);
        let entries = &self.entries;
        let found = self.table.find(hash, |&i| entries[i as usize].0 == k).copied();
        match found {
            Some(i) => self.combine(i as usize, v, f),
            None => self.insert_new(hash, k, v),
        }
    }

    /// The miss path, out of line so that the hit path stays small.
    #[inline(never)]
    fn insert_new(&mut self, hash: u64, k: K, v: V) {
        let i = u32::try_from(self.entries.len()).expect("a reduce_by_key batch table holds at most 2^32 keys");
        let entries = &self.entries;
        let hasher = &self.hasher;
        self.table.insert_unique(hash, i, |&j| hasher.hash_one(&entries[j as usize].0));
        self.entries.push((k, v));
    }

    #[inline(always)]
    fn combine(&mut self, i: usize, v: V, f: &mut impl FnMut(V, V) -> V) {
        /// Runs only if `f` unwinds: at that point `entries[i].1` has been moved out (into `f`),
        /// so the vector must not drop it. Drop every other part of every entry, forget the
        /// vector's contents and clear the index so the table is empty but consistent.
        struct OnUnwind<'t, K, V> {
            entries: &'t mut Vec<(K, V)>,
            table: &'t mut HashTable<u32>,
            moved: usize,
        }
        impl<K, V> Drop for OnUnwind<'_, K, V> {
            #[cold]
            fn drop(&mut self) {
                let len = self.entries.len();
                let base = self.entries.as_mut_ptr();
                // SAFETY: set_len(0) first, so that if a destructor below panics (an abort, as
                // we are already unwinding) the Vec never sees the moved-out slot. Every index
                // is in 0..len; each part is dropped exactly once and the moved-out value not
                // at all.
                unsafe {
                    self.entries.set_len(0);
                    for j in 0..len {
                        let e = base.add(j);
                        if j == self.moved {
                            std::ptr::drop_in_place(&raw mut (*e).0);
                        } else {
                            std::ptr::drop_in_place(e);
                        }
                    }
                }
                self.table.clear();
            }
        }

        let slot: *mut V = &raw mut self.entries[i].1;
        let guard = OnUnwind { entries: &mut self.entries, table: &mut self.table, moved: i };
        // SAFETY: `slot` points at an initialised value inside `entries`, which is not resized
        // or otherwise touched until the write below; the value is read once and the slot is
        // written once, so it is never dropped twice. If `f` unwinds, `guard` makes sure the
        // vector never drops the moved-out slot.
        unsafe {
            let old = std::ptr::read(slot);
            let new = f(old, v);
            std::ptr::write(slot, new);
        }
        std::mem::forget(guard);
    }

    /// The number of distinct keys.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key was merged yet.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `k`, if present.
    pub fn get(&self, k: &K) -> Option<&V> {
        let hash = self.hasher.hash_one(k);
        let i = *self.table.find(hash, |&i| self.entries[i as usize].0 == *k)?;
        Some(&self.entries[i as usize].1)
    }

    /// The entries in first-insertion order.
    #[inline]
    pub fn iter(&self) -> std::slice::Iter<'_, (K, V)> {
        self.entries.iter()
    }

    /// The entries as a slice, in first-insertion order.
    #[inline]
    pub fn as_slice(&self) -> &[(K, V)] {
        &self.entries
    }

    /// The entries in first-insertion order; free (the vector is handed over as is).
    #[inline]
    pub fn into_vec(self) -> Vec<(K, V)> {
        self.entries
    }
}

impl<'t, K, V> IntoIterator for &'t KeyedReduce<K, V> {
    type Item = &'t (K, V);
    type IntoIter = std::slice::Iter<'t, (K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::rc::Rc;

    /// A small deterministic generator (xorshift) so the law tests need no dependency.
    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn merge_equals_btreemap_fold_and_keeps_first_seen_order() {
        for (round, keys) in [(1u64, 3u64), (2, 50), (3, 5000)] {
            let mut seed = 0x9E37_79B9_7F4A_7C15 ^ round;
            let input: Vec<(u64, i64)> = (0..20_000)
                .map(|_| {
                    let k = xorshift(&mut seed) % keys;
                    let v = (xorshift(&mut seed) % 1000) as i64 - 500;
                    (k, v)
                })
                .collect();
            let mut table = KeyedReduce::new();
            let mut first_seen = Vec::new();
            let mut reference = BTreeMap::new();
            for &(k, v) in &input {
                // A non-commutative combine makes the law check order of application too.
                table.merge(k, v, &mut |a: i64, b: i64| a.wrapping_mul(3).wrapping_add(b));
                match reference.get_mut(&k) {
                    Some(a) => *a = i64::wrapping_add(i64::wrapping_mul(*a, 3), v),
                    None => {
                        first_seen.push(k);
                        reference.insert(k, v);
                    }
                }
            }
            assert_eq!(table.len(), reference.len());
            for (k, v) in table.iter() {
                assert_eq!(table.get(k), Some(v));
            }
            let got = table.into_vec();
            let want: Vec<(u64, i64)> = first_seen.iter().map(|k| (*k, reference[k])).collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn borrowed_keys_and_owned_values() {
        let text = String::from("x y x z x");
        let mut t = KeyedReduce::with_capacity(2);
        assert!(t.is_empty());
        for w in text.split(' ') {
            t.merge(w, vec![w.len()], &mut |mut a: Vec<usize>, b: Vec<usize>| {
                a.extend(b);
                a
            });
        }
        assert_eq!(t.into_vec(), vec![("x", vec![1, 1, 1]), ("y", vec![1]), ("z", vec![1])]);
    }

    #[test]
    fn panicking_combine_leaves_an_empty_table_and_drops_each_value_once() {
        let tracker = Rc::new(());
        let mut t = KeyedReduce::new();
        t.merge("a", Rc::clone(&tracker), &mut |a, _| a);
        t.merge("b", Rc::clone(&tracker), &mut |a, _| a);
        assert_eq!(Rc::strong_count(&tracker), 3);
        let r = catch_unwind(AssertUnwindSafe(|| {
            t.merge("a", Rc::clone(&tracker), &mut |_, _| panic!("boom"));
        }));
        assert!(r.is_err());
        // Both arguments of the panicking call were dropped by the unwind, "b" by the guard.
        assert_eq!(Rc::strong_count(&tracker), 1);
        assert!(t.is_empty());
        t.merge("a", Rc::clone(&tracker), &mut |a, _| a);
        assert_eq!(t.len(), 1);
        drop(t);
        assert_eq!(Rc::strong_count(&tracker), 1);
    }
}

//! [`KeyedReduce`]: the table of one `reduce_by_key` for one batch, the hot path of every
//! aggregation.

use std::hash::{BuildHasher, Hash};

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::table::SEED;

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
    /// In a cluster, how many keys the partial this table was cut from had
    /// ([`split_by`](Self::split_by)): what the next batch's partial needs room for
    /// ([`room`](Self::room)). 0 for a table not cut from a partial.
    cut_from: usize,
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
            cut_from: 0,
        }
    }

    /// Merges the table `other` (a later part of the same batch, as a worker computed it) into
    /// this one: its keys in its order, combined with `f` (this table's value first). Keeps
    /// the first-seen order of the whole batch.
    pub fn absorb(&mut self, other: Self, f: &mut impl FnMut(V, V) -> V) {
        let cut_from = self.cut_from.max(other.cut_from);
        if self.entries.is_empty() {
            // The first part: taken as it is (the same hasher seed), nothing hashed again.
            *self = other;
            self.cut_from = cut_from;
            return;
        }
        self.cut_from = cut_from;
        for (k, v) in other.entries {
            self.merge(k, v, f);
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

    /// The table cut in `n`: piece `j` has the keys for which `owner(key, hash)` says `j`
    /// (`hash` is the key's in this table, hashed once for both), each piece in this table's
    /// order (a cluster's processes each merge the keys they own).
    pub fn split_by(self, n: usize, mut owner: impl FnMut(&K, u64) -> usize) -> Vec<Self> {
        let cut_from = self.entries.len();
        let mut parts: Vec<Self> =
            (0..n).map(|_| KeyedReduce { cut_from, ..Self::with_capacity(self.entries.len() / n.max(1)) }).collect();
        for (k, v) in self.entries {
            let hash = self.hasher.hash_one(&k);
            parts[owner(&k, hash)].insert_new(hash, k, v);
        }
        parts
    }

    /// How many keys the next batch's table should have room for: its keys, or, on a process
    /// of a cluster, the keys of the largest partial its pieces were cut from, if more (as
    /// [`StrReduce::room`](super::StrReduce::room)).
    #[inline]
    pub fn room(&self) -> usize {
        self.len().max(self.cut_from)
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

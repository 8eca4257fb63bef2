//! [`KeyedGroup`]: the table of one `group_by_key` for one batch.

use std::hash::{BuildHasher, Hash};

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::table::{SEED, index_u32};

/// The table of one `group_by_key` for one batch: each key with all its values, in the order
/// they came.
///
/// The layout of [`KeyedReduce`](super::KeyedReduce) (entries in first-seen key order, a `HashTable<u32>` of
/// indices), so keys may be borrowed from the batch, and [`into_vec`](Self::into_vec) is free.
///
/// ```
/// use streamc_runtime::state::KeyedGroup;
/// let mut g = KeyedGroup::new();
/// for (k, v) in [("b", 1), ("a", 2), ("b", 3)] {
///     g.push(k, v);
/// }
/// assert_eq!(g.into_vec(), vec![("b", vec![1, 3]), ("a", vec![2])]);
/// ```
pub struct KeyedGroup<K, V> {
    table: HashTable<u32>,
    entries: Vec<(K, Vec<V>)>,
    hasher: FixedState,
}

impl<K, V> std::fmt::Debug for KeyedGroup<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedGroup").field("len", &self.entries.len()).finish()
    }
}

impl<K: Hash + Eq, V> Default for KeyedGroup<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Hash + Eq, V> KeyedGroup<K, V> {
    /// An empty table.
    #[inline]
    pub fn new() -> Self {
        KeyedGroup { table: HashTable::new(), entries: Vec::new(), hasher: FixedState::with_seed(SEED) }
    }

    /// Appends `v` to the values of `k`.
    #[inline]
    pub fn push(&mut self, k: K, v: V) {
        let hash = self.hasher.hash_one(&k);
        let entries = &self.entries;
        match self.table.find(hash, |&i| entries[i as usize].0 == k) {
            Some(&i) => self.entries[i as usize].1.push(v),
            None => {
                let i = index_u32(self.entries.len());
                let hasher = &self.hasher;
                self.table.insert_unique(hash, i, |&j| hasher.hash_one(&entries[j as usize].0));
                self.entries.push((k, vec![v]));
            }
        }
    }

    /// The number of distinct keys.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no value was pushed yet.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The keys in first-seen order, each with its values in push order; free.
    #[inline]
    pub fn into_vec(self) -> Vec<(K, Vec<V>)> {
        self.entries
    }
}

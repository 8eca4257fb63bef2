//! What the keyed tables share: the fixed hasher seed, and the index table over an entry
//! vector (`HashTable<u32>`) kept in step when entries are compacted or restored.

use std::hash::{BuildHasher, Hash};

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use crate::error::Error;
use crate::persist::corrupt;

/// The hasher seed. Fixed, so that a run's hashing (and so its performance profile) is the same
/// every time; output order never depends on it (see [`KeyedReduce`](super::KeyedReduce)).
pub(crate) const SEED: u64 = 0x5354_5245_414d_4321; // "STREAMC!"

/// An entry index as stored in a `HashTable<u32>`.
#[inline]
pub(super) fn index_u32(i: usize) -> u32 {
    u32::try_from(i).expect("a keyed state table holds at most 2^32 keys")
}

/// Marks an entry that is dropped when a table is compacted (see [`reindex`]).
pub(super) const GONE: u32 = u32::MAX;

/// After `entries` were compacted, points the table's indices at the new positions: `remap[i]`
/// is entry `i`'s new index or [`GONE`]. No key is hashed again.
pub(super) fn reindex(table: &mut HashTable<u32>, remap: &[u32]) {
    table.retain(|i| {
        let new = remap[*i as usize];
        *i = new;
        new != GONE
    });
}

/// Builds the index of restored entries, rejecting a snapshot that holds a key twice.
pub(super) fn index_of<T, K: Hash + Eq>(
    hasher: &FixedState,
    entries: &[T],
    key: impl Fn(&T) -> &K,
) -> Result<HashTable<u32>, Error> {
    let mut table = HashTable::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let k = key(e);
        let hash = hasher.hash_one(k);
        if table.find(hash, |&j: &u32| key(&entries[j as usize]) == k).is_some() {
            return Err(corrupt("a key appears twice in keyed state"));
        }
        table.insert_unique(hash, index_u32(i), |&j| hasher.hash_one(key(&entries[j as usize])));
    }
    Ok(table)
}

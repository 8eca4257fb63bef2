//! [`UpdateState`]: the state `update_state_by_key` keeps across batches, and the YAML's
//! [`running_sum`].

use std::hash::{BuildHasher, Hash};

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::keyed_group::KeyedGroup;
use super::table::{GONE, SEED, index_of, index_u32, reindex};
use crate::error::Error;
use crate::owned::IntoOwned;
use crate::persist::{Checkpointed, Persist, read_all};

/// The state of an `update_state_by_key` (Spark's `updateStateByKey`): one value per key, kept
/// across batches and updated every batch by the user's function for every key.
///
/// Keys are owned (`K` is some [`IntoOwned::Owned`]); a batch's keys may be borrowed and are
/// copied only when a key is first inserted. Entries keep the order in which keys were first
/// inserted (a removed key that comes back goes to the end), which is the output order.
///
/// ```
/// use streamc_runtime::state::{KeyedGroup, UpdateState};
/// let mut counts = UpdateState::new();
/// let mut running = |vs: &[i64], st: Option<i64>| Some(vs.iter().sum::<i64>() + st.unwrap_or(0));
/// let mut outs = Vec::new();
/// for batch in [vec!["a", "b", "a"], vec!["b"], vec![]] {
///     let mut g = KeyedGroup::new();
///     for w in batch {
///         g.push(w, 1);
///     }
///     outs.push(counts.update(g, &mut running).to_vec());
/// }
/// // Every key every batch, with or without new values.
/// assert_eq!(outs[2], [("a".to_owned(), 2), ("b".to_owned(), 2)]);
/// ```
pub struct UpdateState<K, S> {
    pub(super) table: HashTable<u32>,
    pub(super) entries: Vec<(K, S)>,
    pub(super) hasher: FixedState,
}

impl<K, S> std::fmt::Debug for UpdateState<K, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateState").field("len", &self.entries.len()).finish()
    }
}

impl<K, S> Default for UpdateState<K, S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, S> UpdateState<K, S> {
    /// An empty state.
    pub fn new() -> Self {
        UpdateState { table: HashTable::new(), entries: Vec::new(), hasher: FixedState::with_seed(SEED) }
    }

    /// The number of keys with a state.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key has a state.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Runs one batch: `f(values, old_state)` for every key, in state order and then the
    /// batch's new keys in first-seen order. A key with state but no new values gets
    /// `f(&[], Some(old))`, a new key `f(values, None)`; `None` removes the key (or does not
    /// insert it). Returns every `(key, state)` after the update, in state order, borrowed
    /// from the state: a batch reads them in place and nothing is copied per key (a consumer
    /// that needs them by value clones them).
    ///
    /// If `f` panics the state is left empty (the app stops on a handler panic anyway).
    pub fn update<Q, V>(
        &mut self,
        batch: KeyedGroup<Q, V>,
        f: &mut impl FnMut(&[V], Option<S>) -> Option<S>,
    ) -> &[(K, S)]
    where
        Q: IntoOwned<Owned = K> + Hash + Eq,
        K: Hash + Eq,
    {
        // Taken out for the duration, so that a panicking `f` leaves an empty, consistent state.
        let mut table = std::mem::take(&mut self.table);
        let old = std::mem::take(&mut self.entries);
        let hasher = &self.hasher;
        let mut values: Vec<Option<Vec<V>>> = std::iter::repeat_with(|| None).take(old.len()).collect();
        let mut fresh = Vec::new();
        for (q, vs) in batch.into_vec() {
            let hash = hasher.hash_one(&q);
            match table.find(hash, |&i| q.eq_owned(&old[i as usize].0)) {
                Some(&i) => values[i as usize] = Some(vs),
                None => fresh.push((hash, q, vs)),
            }
        }
        let mut entries = Vec::with_capacity(old.len() + fresh.len());
        let mut remap = Vec::with_capacity(old.len());
        for ((k, s), vs) in old.into_iter().zip(values) {
            match f(vs.as_deref().unwrap_or(&[]), Some(s)) {
                Some(s) => {
                    remap.push(index_u32(entries.len()));
                    entries.push((k, s));
                }
                None => remap.push(GONE),
            }
        }
        if entries.len() < remap.len() {
            reindex(&mut table, &remap);
        }
        for (hash, q, vs) in fresh {
            if let Some(s) = f(&vs, None) {
                let i = index_u32(entries.len());
                table.insert_unique(hash, i, |&j| hasher.hash_one(&entries[j as usize].0));
                entries.push((q.into_owned(), s));
            }
        }
        self.table = table;
        self.entries = entries;
        &self.entries
    }

    /// Every `(key, state)`, in state order.
    pub fn snapshots(&self) -> Vec<(K, S)>
    where
        K: Clone,
        S: Clone,
    {
        self.entries.clone()
    }
}

impl<K: Persist + Hash + Eq, S: Persist> Checkpointed for UpdateState<K, S> {
    fn save(&self, out: &mut Vec<u8>) {
        (self.entries.len() as u64).write(out);
        for (k, s) in &self.entries {
            k.write(out);
            s.write(out);
        }
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let entries: Vec<(K, S)> = read_all(bytes)?;
        self.table = index_of(&self.hasher, &entries, |e| &e.0)?;
        self.entries = entries;
        Ok(())
    }
}

/// `update_state_by_key: sum` (YAML): each key's state is the running sum of its values,
/// Spark's `(values, state) => Some(values.sum + state.getOrElse(0))`.
pub fn running_sum<V>(values: &[V], state: Option<V>) -> Option<V>
where
    V: Clone + Default + std::ops::Add<Output = V>,
{
    Some(values.iter().cloned().fold(state.unwrap_or_default(), |acc, v| acc + v))
}

impl<K: Persist, S: Persist> crate::footprint::StateSize for UpdateState<K, S> {
    fn rows(&self) -> usize {
        self.entries.len()
    }
    fn memory_bytes(&self) -> u64 {
        self.table.allocation_size() as u64
            + crate::footprint::vec_with_heap(&self.entries, |(k, s)| k.heap_bytes() + s.heap_bytes())
    }
}

//! `map_with_state`: Spark's [`State`] API and [`MapWithState`], the keyed state with timeouts
//! kept across batches, and the YAML's [`running_sum_mapped`].

use std::hash::{BuildHasher, Hash};

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::table::{GONE, SEED, index_of, index_u32, reindex};
use crate::error::Error;
use crate::owned::IntoOwned;
use crate::persist::{Checkpointed, Persist, corrupt};

/// The state of one key as the function of a `map_with_state` sees it (Spark's `State`).
///
/// Misuse panics with Spark's message, which the batch loop reports as the app's error:
/// [`get`](Self::get) without a state, [`update`](Self::update) or [`remove`](Self::remove) of
/// a key that is timing out, `update` or `remove` after `remove`.
pub struct State<S> {
    pub(super) value: Option<S>,
    removed: bool,
    timing_out: bool,
}

impl<S> std::fmt::Debug for State<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("exists", &self.value.is_some())
            .field("removed", &self.removed)
            .field("timing_out", &self.timing_out)
            .finish()
    }
}

impl<S> State<S> {
    pub(super) fn wrap(value: Option<S>, timing_out: bool) -> Self {
        State { value, removed: false, timing_out }
    }

    /// Whether the key has a state.
    #[inline]
    pub fn exists(&self) -> bool {
        self.value.is_some()
    }

    /// The state.
    ///
    /// # Panics
    /// If the key has no state (Spark throws `NoSuchElementException`).
    #[inline]
    pub fn get(&self) -> S
    where
        S: Clone,
    {
        match &self.value {
            Some(s) => s.clone(),
            None => panic!("cannot get the state of a key that has no state"),
        }
    }

    /// The state, if the key has one.
    #[inline]
    pub fn get_option(&self) -> Option<S>
    where
        S: Clone,
    {
        self.value.clone()
    }

    /// Sets the state.
    ///
    /// # Panics
    /// If the state was removed in this call, or the key is timing out.
    #[inline]
    pub fn update(&mut self, s: S) {
        if self.removed {
            panic!("cannot update the state after it has been removed");
        }
        if self.timing_out {
            panic!("cannot update the state of a key that is timing out");
        }
        self.value = Some(s);
    }

    /// Removes the state: the key is forgotten after this call.
    ///
    /// # Panics
    /// If the key is timing out (it is removed anyway), or the state was already removed.
    #[inline]
    pub fn remove(&mut self) {
        if self.timing_out {
            panic!("cannot remove the state of a key that is timing out");
        }
        if self.removed {
            panic!("cannot remove the state after it has been removed");
        }
        self.value = None;
        self.removed = true;
    }

    /// Whether this call is the key's last one because it has had no data for longer than the
    /// timeout (the value is then `None`).
    #[inline]
    pub fn is_timing_out(&self) -> bool {
        self.timing_out
    }
}

/// The last-update time of an initial state before the first batch has run: the first
/// [`MapWithState::time_out`] stamps it with that batch's time, as Spark stamps initial states
/// with the first batch time. Also what a checkpoint holds as the last-update time of a state
/// kept without a timeout (see [`MapWithState`]'s `Checkpointed` impl).
pub(super) const UNSET: i64 = i64::MIN;

/// One key and its state. No `Option` around the state and no time stamp: for a `String` key
/// and an `i64` state this is 32 bytes (it was 48 with `Option<S>` and the stamp inline).
pub(super) struct Slot<K, S> {
    pub(super) key: K,
    state: S,
}

/// The state of a `map_with_state` (Spark's `mapWithState` with a `StateSpec`): one state per
/// key, kept across batches, read and written by the user's function through a [`State`].
///
/// Per record, [`call`](Self::call); after the batch's records, [`time_out`](Self::time_out).
/// Keys are owned; a record's key is copied when the key is new to the state, and kept only if
/// the function leaves it a state. Entries are in insertion order, except that removing a key
/// in `call` moves the last entry into its place (order is deterministic either way).
///
/// Layout (memory is the point of this type): `entries` holds each key with its state, a
/// `HashTable<u32>` of indices into it finds a key, and `times` holds each entry's last-update
/// time, parallel to `entries`, only when a timeout is configured (without one it stays empty
/// and costs nothing).
///
/// Invariants: the table holds exactly the indices `0..entries.len()`, index `i` under the hash
/// of `entries[i].key`; `times.len()` is `entries.len()` with a timeout and 0 without.
pub struct MapWithState<K, S> {
    pub(super) table: HashTable<u32>,
    pub(super) entries: Vec<Slot<K, S>>,
    /// `times[i]` is the last-update time of `entries[i]` ([`UNSET`] for an initial state not
    /// yet stamped); empty without a timeout.
    pub(super) times: Vec<i64>,
    pub(super) hasher: FixedState,
    pub(super) timeout_ms: Option<i64>,
}

impl<K, S> std::fmt::Debug for MapWithState<K, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapWithState").field("len", &self.entries.len()).field("timeout_ms", &self.timeout_ms).finish()
    }
}

impl<K, S> MapWithState<K, S> {
    /// An empty state; with a timeout, keys idle for longer than `timeout_ms` are timed out.
    pub fn new(timeout_ms: Option<i64>) -> Self {
        MapWithState {
            table: HashTable::new(),
            entries: Vec::new(),
            times: Vec::new(),
            hasher: FixedState::with_seed(SEED),
            timeout_ms,
        }
    }

    /// The number of keys with a state.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key has a state.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether last-update times are kept (a timeout is configured).
    #[inline]
    fn timed(&self) -> bool {
        self.timeout_ms.is_some()
    }

    /// Sets initial states (Spark's `StateSpec.initialState`); a key given twice keeps the
    /// later state.
    pub fn with_initial(mut self, initial: Vec<(K, S)>) -> Self
    where
        K: Hash + Eq,
    {
        for (k, s) in initial {
            let hash = self.hasher.hash_one(&k);
            let entries = &self.entries;
            match self.table.find(hash, |&i| entries[i as usize].key == k) {
                Some(&i) => self.entries[i as usize].state = s,
                None => self.insert(hash, k, s, UNSET),
            }
        }
        self
    }

    fn insert(&mut self, hash: u64, key: K, state: S, updated_ms: i64)
    where
        K: Hash,
    {
        let i = index_u32(self.entries.len());
        let entries = &self.entries;
        let hasher = &self.hasher;
        self.table.insert_unique(hash, i, |&j| hasher.hash_one(&entries[j as usize].key));
        self.entries.push(Slot { key, state });
        if self.timed() {
            self.times.push(updated_ms);
        }
    }

    /// Completes the removal of entry `i`, whose key hashes to `hash`, after
    /// `entries.swap_remove(i)` (which moved the last entry into its place, unless `i` was the
    /// last): drops `i` from the index, points the moved entry's index at `i`, and removes
    /// `times[i]` the same way.
    fn unindex_swap_removed(&mut self, i: usize, hash: u64)
    where
        K: Hash,
    {
        let bug = "a map_with_state index entry is missing; this is a bug in streamc";
        self.table.find_entry(hash, |&j| j as usize == i).expect(bug).remove();
        // The former last index, now empty.
        let last = self.entries.len();
        if i != last {
            let h = self.hasher.hash_one(&self.entries[i].key);
            *self.table.find_mut(h, |&j| j as usize == last).expect(bug) = index_u32(i);
        }
        if self.timed() {
            self.times.swap_remove(i);
        }
    }

    /// Runs the function for one record `(k, v)` of the batch at `now_ms`:
    /// `f(&key, Some(v), &mut state)`. Afterwards a removed state deletes the key, and a
    /// present state is kept, with `now_ms` as its last-update time.
    ///
    /// If `f` panics the key keeps no state.
    #[inline]
    pub fn call<Q, V, R>(&mut self, k: Q, v: V, now_ms: i64, f: &mut impl FnMut(&K, Option<V>, &mut State<S>) -> R) -> R
    where
        Q: IntoOwned<Owned = K> + Hash + Eq,
        K: Hash + Eq,
    {
        let hash = self.hasher.hash_one(&k);
        let entries = &self.entries;
        match self.table.find(hash, |&i| k.eq_owned(&entries[i as usize].key)) {
            Some(&i) => {
                let i = i as usize;
                // The entry is moved out for the call (a `State` owns its value, and a slot
                // holds no `Option` to leave behind): `swap_remove` moves the last entry into
                // its place for the duration, and the entry is put back exactly where it was,
                // so the index needs no update unless the key loses its state. `times` is not
                // touched until then.
                let Slot { key, state: old } = self.entries.swap_remove(i);
                // If `f` unwinds, `key` and the state are dropped by the unwind and the guard
                // completes the removal (the index and `times`), so the key keeps no state.
                struct Guard<'a, K: Hash, S> {
                    map: &'a mut MapWithState<K, S>,
                    i: usize,
                    hash: u64,
                }
                impl<K: Hash, S> Drop for Guard<'_, K, S> {
                    #[cold]
                    fn drop(&mut self) {
                        self.map.unindex_swap_removed(self.i, self.hash);
                    }
                }
                let guard = Guard { map: self, i, hash };
                let mut state = State::wrap(Some(old), false);
                let r = f(&key, Some(v), &mut state);
                std::mem::forget(guard);
                match state.value {
                    Some(s) if !state.removed => {
                        let slot = Slot { key, state: s };
                        if i < self.entries.len() {
                            // Back in place; the entry that stood in for it back at the end.
                            let moved = std::mem::replace(&mut self.entries[i], slot);
                            self.entries.push(moved);
                        } else {
                            self.entries.push(slot);
                        }
                        if self.timed() {
                            self.times[i] = now_ms;
                        }
                    }
                    _ => self.unindex_swap_removed(i, hash),
                }
                r
            }
            None => {
                let key = k.into_owned();
                let mut state = State::wrap(None, false);
                let r = f(&key, Some(v), &mut state);
                if let Some(s) = state.value {
                    self.insert(hash, key, s, now_ms);
                }
                r
            }
        }
    }

    /// Times out idle keys at the end of the batch at `now_ms`: every key whose last update is
    /// before `now_ms - timeout` gets a last call `f(&key, None, &mut state)` with
    /// [`State::is_timing_out`], in state order, its result is pushed to `out`, and the key is
    /// removed. Without a timeout, nothing happens.
    ///
    /// If `f` panics the state is left empty (the app stops on a handler panic anyway).
    pub fn time_out<V, R>(
        &mut self,
        now_ms: i64,
        f: &mut impl FnMut(&K, Option<V>, &mut State<S>) -> R,
        out: &mut Vec<R>,
    ) {
        let Some(timeout) = self.timeout_ms else { return };
        let threshold = now_ms.saturating_sub(timeout);
        // The common case: nothing to time out and no initial state to stamp, no allocation.
        if !self.times.iter().any(|&t| t < threshold || t == UNSET) {
            return;
        }
        // Taken out for the duration, so that a panicking `f` leaves an empty, consistent state.
        let mut table = std::mem::take(&mut self.table);
        let mut entries = std::mem::take(&mut self.entries);
        let mut times = std::mem::take(&mut self.times);
        let mut remap = Vec::with_capacity(times.len());
        let mut kept = 0;
        for t in &mut times {
            if *t == UNSET {
                *t = now_ms;
            }
            if *t < threshold {
                remap.push(GONE);
            } else {
                remap.push(index_u32(kept));
                kept += 1;
            }
        }
        if kept < remap.len() {
            // Compacted in place, in order: the timed-out entries come out in state order.
            let mut j = 0;
            let gone = entries.extract_if(.., |_| {
                j += 1;
                remap[j - 1] == GONE
            });
            for slot in gone {
                let mut state = State::wrap(Some(slot.state), true);
                out.push(f(&slot.key, None, &mut state));
            }
            times.retain(|&t| t >= threshold);
            reindex(&mut table, &remap);
        }
        self.table = table;
        self.entries = entries;
        self.times = times;
    }

    /// Every `(key, state)` (Spark's `stateSnapshots`), in state order.
    pub fn snapshots(&self) -> Vec<(K, S)>
    where
        K: Clone,
        S: Clone,
    {
        self.entries.iter().map(|s| (s.key.clone(), s.state.clone())).collect()
    }
}

/// Saves keys, states and last-update times; the timeout is configuration, not state.
///
/// The format: the number of entries (`u64`), then per entry its key, its state and its
/// last-update time (`i64`). Without a timeout no times are kept and `i64::MIN` is written in
/// their place, which a state with a timeout reads as an initial state's time (stamped by the
/// first `time_out`); restoring without a timeout ignores the times.
impl<K: Persist + Hash + Eq, S: Persist> Checkpointed for MapWithState<K, S> {
    fn save(&self, out: &mut Vec<u8>) {
        (self.entries.len() as u64).write(out);
        for (i, slot) in self.entries.iter().enumerate() {
            slot.key.write(out);
            slot.state.write(out);
            self.times.get(i).copied().unwrap_or(UNSET).write(out);
        }
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), Error> {
        // Read straight into vectors of the exact size (no intermediate `Vec<(K, S, i64)>`).
        let mut input = bytes;
        let n = u64::read(&mut input)?;
        // Every entry takes at least the 8 bytes of its time, so a corrupt count is rejected
        // before anything is allocated.
        let most = input.len() / size_of::<i64>();
        let n = match usize::try_from(n) {
            Ok(n) if n <= most => n,
            _ => return Err(corrupt(&format!("map_with_state length {n} exceeds the {} bytes left", input.len()))),
        };
        let mut entries = Vec::with_capacity(n);
        let mut times = Vec::with_capacity(if self.timed() { n } else { 0 });
        for _ in 0..n {
            let key = K::read(&mut input)?;
            let state = S::read(&mut input)?;
            let updated_ms = i64::read(&mut input)?;
            entries.push(Slot { key, state });
            if self.timed() {
                times.push(updated_ms);
            }
        }
        if !input.is_empty() {
            return Err(corrupt(&format!("{} unexpected bytes after the state", input.len())));
        }
        self.table = index_of(&self.hasher, &entries, |s| &s.key)?;
        self.entries = entries;
        self.times = times;
        Ok(())
    }
}

/// `map_with_state: running_sum` (YAML): the seed's stateful word count function — adds the
/// record's value to the key's state and emits `(key, running sum)`; a key timing out emits its
/// last sum.
pub fn running_sum_mapped<K, V>(key: &K, value: Option<V>, state: &mut State<V>) -> (K, V)
where
    K: Clone,
    V: Clone + Default + std::ops::Add<Output = V>,
{
    let sum = value.unwrap_or_default() + state.get_option().unwrap_or_default();
    if !state.is_timing_out() {
        state.update(sum.clone());
    }
    (key.clone(), sum)
}

impl<K: Persist, S: Persist> crate::footprint::StateSize for MapWithState<K, S> {
    fn rows(&self) -> usize {
        self.entries.len()
    }
    fn memory_bytes(&self) -> u64 {
        self.table.allocation_size() as u64
            + crate::footprint::vec_with_heap(&self.entries, |e| e.key.heap_bytes() + e.state.heap_bytes())
            + crate::footprint::vec_with_heap(&self.times, |_| 0)
    }
}

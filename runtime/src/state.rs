//! Keyed state: the per-batch tables of `reduce_by_key` (the hot path of every aggregation) and
//! `group_by_key`, and the state kept across batches by `update_state_by_key` and
//! `map_with_state`.

use std::hash::{BuildHasher, Hash};

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use crate::error::Error;
use crate::owned::IntoOwned;
use crate::persist::{Checkpointed, Persist, corrupt, read_all};

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

    /// Merges the table `other` (a later part of the same batch, as a worker computed it) into
    /// this one: its keys in its order, combined with `f` (this table's value first). Keeps
    /// the first-seen order of the whole batch.
    pub fn absorb(&mut self, other: Self, f: &mut impl FnMut(V, V) -> V) {
        if self.entries.is_empty() {
            // The first part: taken as it is (the same hasher seed), nothing hashed again.
            *self = other;
            return;
        }
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

// ----- reduce_by_key over string keys -------------------------------------------------------

/// [`KeyedReduce`] for the commonest table of a text pipeline: `&str` keys borrowed from the
/// batch, with numeric (`Copy`) values. Each entry keeps the key's first 16 bytes next to its
/// value, so a probe compares the key in the entry instead of reading the key's text where the
/// batch first had it (a cache miss per record in a large batch: the bulk of a word count's time
/// in `KeyedReduce`). Keys longer than 16 bytes are compared in full after their first 16.
///
/// Generated code picks it when the checker knows the key is `&str` and the value a number; its
/// methods are `KeyedReduce`'s, with the same order (keys in first-seen order) and results.
///
/// ```
/// use streamc_runtime::state::StrReduce;
/// let mut t = StrReduce::new();
/// for w in ["b", "a", "b", "a very long word, over sixteen bytes"] {
///     t.merge(w, 1, &mut |x, y| x + y);
/// }
/// assert_eq!(t.into_vec(), vec![("b", 2), ("a", 1), ("a very long word, over sixteen bytes", 1)]);
/// ```
pub struct StrReduce<'a, V> {
    table: HashTable<u32>,
    entries: Vec<StrEntry<'a, V>>,
    hasher: FixedState,
}

/// A key, its first 16 bytes (zero-padded), its hash and its value. The hash is kept so that
/// merging a worker's table ([`StrReduce::absorb`]) and growing the index never read the keys'
/// text again.
struct StrEntry<'a, V> {
    key: &'a str,
    head: [u64; 2],
    hash: u64,
    value: V,
}

/// The first 16 bytes of `s`, zero-padded, as two words (with the length, they tell keys of up
/// to 16 bytes apart).
#[inline(always)]
fn head(s: &str) -> [u64; 2] {
    let b = s.as_bytes();
    let mut buf = [0u8; 16];
    let n = b.len().min(16);
    buf[..n].copy_from_slice(&b[..n]);
    let (lo, hi) = buf.split_at(8);
    [u64::from_le_bytes(lo.try_into().expect("8 bytes")), u64::from_le_bytes(hi.try_into().expect("8 bytes"))]
}

impl<V> std::fmt::Debug for StrReduce<'_, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrReduce").field("len", &self.entries.len()).finish()
    }
}

impl<V: Copy> Default for StrReduce<'_, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, V: Copy> StrReduce<'a, V> {
    /// An empty table.
    #[inline]
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty table with room for `n` keys.
    #[inline]
    pub fn with_capacity(n: usize) -> Self {
        StrReduce {
            table: HashTable::with_capacity(n),
            entries: Vec::with_capacity(n),
            hasher: FixedState::with_seed(SEED),
        }
    }

    /// Adds `v` under `k`: a new key is inserted, an existing key's value becomes `f(old, v)`.
    #[inline]
    pub fn merge(&mut self, k: &'a str, v: V, f: &mut impl FnMut(V, V) -> V) {
        let hash = self.hasher.hash_one(k);
        self.merge_hashed(k, head(k), hash, v, f);
    }

    /// [`merge`](Self::merge) with the key's head and hash already known.
    #[inline(always)]
    fn merge_hashed(&mut self, k: &'a str, h: [u64; 2], hash: u64, v: V, f: &mut impl FnMut(V, V) -> V) {
        let entries = &self.entries;
        let found = if k.len() <= 16 {
            self.table.find(hash, |&i| {
                let e = &entries[i as usize];
                e.head == h && e.key.len() == k.len()
            })
        } else {
            self.table.find(hash, |&i| {
                let e = &entries[i as usize];
                e.head == h && e.key == k
            })
        };
        match found {
            Some(&i) => {
                let e = &mut self.entries[i as usize];
                e.value = f(e.value, v);
            }
            None => self.insert_new(hash, k, h, v),
        }
    }

    /// The miss path, out of line so that the hit path stays small.
    #[inline(never)]
    fn insert_new(&mut self, hash: u64, key: &'a str, head: [u64; 2], value: V) {
        let i = index_u32(self.entries.len());
        let entries = &self.entries;
        self.table.insert_unique(hash, i, |&j| entries[j as usize].hash);
        self.entries.push(StrEntry { key, head, hash, value });
    }

    /// Merges the table `other` (a later part of the same batch, as a worker computed it) into
    /// this one, as [`KeyedReduce::absorb`] does.
    pub fn absorb(&mut self, other: Self, f: &mut impl FnMut(V, V) -> V) {
        if self.entries.is_empty() {
            *self = other;
            return;
        }
        // Same seed in every table, so the stored hashes are this table's too.
        for e in other.entries {
            self.merge_hashed(e.key, e.head, e.hash, e.value, f);
        }
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

    /// The entries in first-insertion order.
    pub fn into_vec(self) -> Vec<(&'a str, V)> {
        self.entries.into_iter().map(|e| (e.key, e.value)).collect()
    }
}

// ----- group_by_key -------------------------------------------------------------------------

/// The table of one `group_by_key` for one batch: each key with all its values, in the order
/// they came.
///
/// The layout of [`KeyedReduce`] (entries in first-seen key order, a `HashTable<u32>` of
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

/// An entry index as stored in a `HashTable<u32>`.
#[inline]
fn index_u32(i: usize) -> u32 {
    u32::try_from(i).expect("a keyed state table holds at most 2^32 keys")
}

/// Marks an entry that is dropped when a table is compacted (see [`reindex`]).
const GONE: u32 = u32::MAX;

/// After `entries` were compacted, points the table's indices at the new positions: `remap[i]`
/// is entry `i`'s new index or [`GONE`]. No key is hashed again.
fn reindex(table: &mut HashTable<u32>, remap: &[u32]) {
    table.retain(|i| {
        let new = remap[*i as usize];
        *i = new;
        new != GONE
    });
}

/// Builds the index of restored entries, rejecting a snapshot that holds a key twice.
fn index_of<T, K: Hash + Eq>(
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

// ----- update_state_by_key ------------------------------------------------------------------

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
///     outs.push(counts.update(g, &mut running));
/// }
/// // Every key every batch, with or without new values.
/// assert_eq!(outs[2], vec![("a".to_owned(), 2), ("b".to_owned(), 2)]);
/// ```
pub struct UpdateState<K, S> {
    table: HashTable<u32>,
    entries: Vec<(K, S)>,
    hasher: FixedState,
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
    /// insert it). Returns every `(key, state)` after the update, in state order.
    ///
    /// If `f` panics the state is left empty (the app stops on a handler panic anyway).
    pub fn update<Q, V>(
        &mut self,
        batch: KeyedGroup<Q, V>,
        f: &mut impl FnMut(&[V], Option<S>) -> Option<S>,
    ) -> Vec<(K, S)>
    where
        Q: IntoOwned<Owned = K> + Hash + Eq,
        K: Hash + Eq + Clone,
        S: Clone,
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
        let out = entries.clone();
        self.table = table;
        self.entries = entries;
        out
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

// ----- map_with_state -----------------------------------------------------------------------

/// The state of one key as the function of a `map_with_state` sees it (Spark's `State`).
///
/// Misuse panics with Spark's message, which the batch loop reports as the app's error:
/// [`get`](Self::get) without a state, [`update`](Self::update) or [`remove`](Self::remove) of
/// a key that is timing out, `update` or `remove` after `remove`.
pub struct State<S> {
    value: Option<S>,
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
    fn wrap(value: Option<S>, timing_out: bool) -> Self {
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
const UNSET: i64 = i64::MIN;

/// One key and its state. No `Option` around the state and no time stamp: for a `String` key
/// and an `i64` state this is 32 bytes (it was 48 with `Option<S>` and the stamp inline).
struct Slot<K, S> {
    key: K,
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
    table: HashTable<u32>,
    entries: Vec<Slot<K, S>>,
    /// `times[i]` is the last-update time of `entries[i]` ([`UNSET`] for an initial state not
    /// yet stamped); empty without a timeout.
    times: Vec<i64>,
    hasher: FixedState,
    timeout_ms: Option<i64>,
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

/// `update_state_by_key: sum` (YAML): each key's state is the running sum of its values,
/// Spark's `(values, state) => Some(values.sum + state.getOrElse(0))`.
pub fn running_sum<V>(values: &[V], state: Option<V>) -> Option<V>
where
    V: Clone + Default + std::ops::Add<Output = V>,
{
    Some(values.iter().cloned().fold(state.unwrap_or_default(), |acc, v| acc + v))
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

    /// `StrReduce` gives `KeyedReduce`'s result, order included, for keys that share their
    /// first 16 bytes, differ only in length or trailing NUL bytes, are empty or long; also
    /// when built from parts with `absorb`.
    #[test]
    fn str_reduce_equals_keyed_reduce() {
        let base = ["", "a", "a\0", "a\0\0", "abcdefghijklmnop", "abcdefghijklmnopq", "abcdefghijklmnopr", "é", "ab"];
        let mut keys: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        let mut seed = 0x1234_5678_9ABC_DEF1u64;
        for _ in 0..200 {
            let len = (xorshift(&mut seed) % 40) as usize;
            let key: String =
                (0..len).map(|i| if i < 16 { 'x' } else { (b'a' + (xorshift(&mut seed) % 3) as u8) as char }).collect();
            keys.push(key);
        }
        let words: Vec<&str> =
            (0..5000).map(|_| keys[(xorshift(&mut seed) % keys.len() as u64) as usize].as_str()).collect();
        let mut add = |a: i64, b: i64| a + b;
        let mut want = KeyedReduce::new();
        let mut got = StrReduce::new();
        for (i, w) in words.iter().enumerate() {
            want.merge(*w, i as i64, &mut add);
            got.merge(w, i as i64, &mut add);
        }
        let want = want.into_vec();
        assert_eq!(got.len(), want.len());
        assert_eq!(got.into_vec(), want);
        // Two workers' parts merged in order.
        let (left, right) = words.split_at(2000);
        let mut a = StrReduce::with_capacity(10);
        let mut b = StrReduce::new();
        for (i, w) in left.iter().enumerate() {
            a.merge(w, i as i64, &mut add);
        }
        for (i, w) in right.iter().enumerate() {
            b.merge(w, (i + 2000) as i64, &mut add);
        }
        a.absorb(b, &mut add);
        assert_eq!(a.into_vec(), want);
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

    // ----- map_with_state -----------------------------------------------------------------

    /// The documented semantics of `MapWithState`, written as plainly as possible: entries
    /// `(key, state, last update)` in a vector, searched linearly.
    struct Model {
        entries: Vec<(String, i64, i64)>,
        timeout_ms: Option<i64>,
    }

    impl Model {
        fn call(&mut self, k: &str, v: i64, now: i64, f: &mut Handler) -> Out {
            match self.entries.iter().position(|e| e.0 == k) {
                Some(i) => {
                    let mut st = State::wrap(Some(self.entries[i].1), false);
                    let r = f(&self.entries[i].0, Some(v), &mut st);
                    match st.value {
                        Some(s) => self.entries[i] = (k.to_owned(), s, now),
                        None => {
                            self.entries.swap_remove(i);
                        }
                    }
                    r
                }
                None => {
                    let mut st = State::wrap(None, false);
                    let r = f(&k.to_owned(), Some(v), &mut st);
                    if let Some(s) = st.value {
                        self.entries.push((k.to_owned(), s, now));
                    }
                    r
                }
            }
        }

        fn time_out(&mut self, now: i64, f: &mut Handler, out: &mut Vec<Out>) {
            let Some(timeout) = self.timeout_ms else { return };
            let threshold = now.saturating_sub(timeout);
            self.entries.retain_mut(|e| {
                if e.2 == UNSET {
                    e.2 = now;
                }
                if e.2 < threshold {
                    out.push(f(&e.0, None, &mut State::wrap(Some(e.1), true)));
                    false
                } else {
                    true
                }
            });
        }

        /// The checkpoint as the format defines it.
        fn saved(&self) -> Vec<u8> {
            let mut out = Vec::new();
            (self.entries.len() as u64).write(&mut out);
            for (k, s, t) in &self.entries {
                k.write(&mut out);
                s.write(&mut out);
                (if self.timeout_ms.is_some() { *t } else { UNSET }).write(&mut out);
            }
            out
        }
    }

    type Out = (String, Option<i64>, Option<i64>);
    type Handler = dyn FnMut(&String, Option<i64>, &mut State<i64>) -> Out;

    /// A handler that removes, ignores or updates by the value (and never touches a key that
    /// is timing out).
    #[allow(clippy::ptr_arg, reason = "the signature of a map_with_state function for `String` keys")]
    fn handler(k: &String, v: Option<i64>, st: &mut State<i64>) -> Out {
        let before = st.get_option();
        if let Some(v) = v {
            match v % 7 {
                0 if st.exists() => st.remove(),
                1 => {}
                _ => st.update(before.unwrap_or(0) + v),
            }
        }
        (k.clone(), v, before)
    }

    /// The invariants of the layout: the index holds exactly `0..len`, each under its key's
    /// hash, and `times` is parallel to the entries exactly when there is a timeout.
    fn check_invariants(m: &MapWithState<String, i64>) {
        assert_eq!(m.table.len(), m.entries.len());
        for (i, slot) in m.entries.iter().enumerate() {
            let hash = m.hasher.hash_one(&slot.key);
            assert_eq!(m.table.find(hash, |&j| m.entries[j as usize].key == slot.key), Some(&index_u32(i)));
        }
        assert_eq!(m.times.len(), if m.timeout_ms.is_some() { m.entries.len() } else { 0 });
    }

    fn same_as_model(m: &MapWithState<String, i64>, model: &Model) {
        check_invariants(m);
        let want: Vec<(String, i64)> = model.entries.iter().map(|e| (e.0.clone(), e.1)).collect();
        assert_eq!(m.snapshots(), want);
        if m.timeout_ms.is_some() {
            assert_eq!(m.times, model.entries.iter().map(|e| e.2).collect::<Vec<_>>());
        }
        let mut bytes = Vec::new();
        m.save(&mut bytes);
        assert_eq!(bytes, model.saved());
    }

    #[test]
    fn map_with_state_slot_holds_only_key_and_state() {
        assert_eq!(size_of::<Slot<String, i64>>(), 32);
        assert_eq!(size_of::<Slot<u64, i64>>(), 16);
    }

    #[test]
    fn map_with_state_equals_the_model_and_survives_restores() {
        for (round, timeout) in [(1u64, None), (2, Some(2000)), (3, Some(0)), (4, Some(5000))] {
            let mut seed = 0x2545_F491_4F6C_DD1D ^ round;
            let initial: Vec<(String, i64)> = vec![("k1".into(), 5), ("init".into(), 7), ("k1".into(), 6)];
            let mut m = MapWithState::new(timeout).with_initial(initial);
            let mut model =
                Model { entries: vec![("k1".into(), 6, UNSET), ("init".into(), 7, UNSET)], timeout_ms: timeout };
            same_as_model(&m, &model);
            for batch in 1..=40i64 {
                let now = batch * 1000;
                let records = xorshift(&mut seed) % 30;
                for _ in 0..records {
                    let k = format!("k{}", xorshift(&mut seed) % 12);
                    let v = (xorshift(&mut seed) % 50) as i64;
                    let got = m.call(k.as_str(), v, now, &mut handler);
                    assert_eq!(got, model.call(&k, v, now, &mut handler));
                }
                let (mut got, mut want) = (Vec::new(), Vec::new());
                m.time_out(now, &mut handler, &mut got);
                model.time_out(now, &mut handler, &mut want);
                assert_eq!(got, want, "batch {batch}");
                same_as_model(&m, &model);
                if batch % 9 == 0 {
                    // Continue from a restored copy: same state, exact capacities.
                    let mut bytes = Vec::new();
                    m.save(&mut bytes);
                    let mut r = MapWithState::new(timeout);
                    r.restore(&bytes).expect("restores");
                    assert_eq!(r.entries.capacity(), r.entries.len());
                    assert_eq!(r.times.capacity(), r.times.len());
                    m = r;
                    if timeout.is_none() {
                        // The times are not kept, so not saved: the model forgets them too.
                        model.entries.iter_mut().for_each(|e| e.2 = UNSET);
                    }
                    same_as_model(&m, &model);
                }
            }
        }
    }

    #[test]
    fn map_with_state_reads_checkpoints_with_times_with_or_without_a_timeout() {
        // As every version writes it: count, then key, state, last update per entry.
        let mut bytes = Vec::new();
        2u64.write(&mut bytes);
        for (k, s, t) in [("a", 1i64, 3000i64), ("b", 2, UNSET)] {
            k.to_owned().write(&mut bytes);
            s.write(&mut bytes);
            t.write(&mut bytes);
        }
        let mut timed: MapWithState<String, i64> = MapWithState::new(Some(1000));
        timed.restore(&bytes).unwrap();
        check_invariants(&timed);
        assert_eq!(timed.times, vec![3000, UNSET]);
        let mut again = Vec::new();
        timed.save(&mut again);
        assert_eq!(again, bytes);
        // "b" is stamped at 5000; "a" idles since 3000.
        let mut out = Vec::new();
        timed.time_out(5000, &mut handler, &mut out);
        assert_eq!(out, vec![("a".to_owned(), None, Some(1))]);
        assert_eq!(timed.times, vec![5000]);

        let mut untimed: MapWithState<String, i64> = MapWithState::new(None);
        untimed.restore(&bytes).unwrap();
        check_invariants(&untimed);
        assert_eq!(untimed.snapshots(), vec![("a".to_owned(), 1), ("b".to_owned(), 2)]);
        for cut in 0..bytes.len() {
            assert!(untimed.restore(&bytes[..cut]).is_err(), "truncated at {cut}");
            assert!(timed.restore(&bytes[..cut]).is_err(), "truncated at {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(untimed.restore(&long).is_err());
        let mut huge = Vec::new();
        u64::MAX.write(&mut huge);
        assert!(untimed.restore(&huge).is_err());
        // A failed restore leaves the state as it was.
        assert_eq!(untimed.snapshots(), vec![("a".to_owned(), 1), ("b".to_owned(), 2)]);
    }

    #[test]
    fn a_panicking_map_with_state_function_drops_each_state_once() {
        for timeout in [None, Some(1000)] {
            let tracker = Rc::new(());
            let keys = ["a", "b", "c", "d"];
            let mut m: MapWithState<String, Rc<()>> = MapWithState::new(timeout);
            for k in keys {
                m.call(k, (), 1000, &mut |_, _, st: &mut State<Rc<()>>| st.update(Rc::clone(&tracker)));
            }
            assert_eq!(Rc::strong_count(&tracker), 5);
            // Panics on the last, the first and a middle entry (the last entry stands in for
            // a moved-out one during the call).
            for (k, left) in [("d", ["a", "b", "c"].as_slice()), ("a", &["c", "b"]), ("c", &["b"])] {
                let r = catch_unwind(AssertUnwindSafe(|| {
                    m.call(k, (), 2000, &mut |_, _, st: &mut State<Rc<()>>| {
                        st.update(Rc::clone(&tracker));
                        panic!("user bug")
                    })
                }));
                assert!(r.is_err());
                assert_eq!(m.entries.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(), left);
                assert_eq!(Rc::strong_count(&tracker), 1 + left.len());
                assert_eq!(m.table.len(), left.len());
                assert_eq!(m.times.len(), if timeout.is_some() { left.len() } else { 0 });
                for k in left {
                    assert!(m.call(*k, (), 2000, &mut |_, _, st: &mut State<Rc<()>>| st.exists()));
                }
            }
            // A panic while timing out leaves the state empty, each state dropped once.
            m.call("e", (), 9000, &mut |_, _, st: &mut State<Rc<()>>| st.update(Rc::clone(&tracker)));
            assert_eq!(Rc::strong_count(&tracker), 3);
            let mut out = Vec::new();
            let r = catch_unwind(AssertUnwindSafe(|| {
                m.time_out(9000, &mut |_, _: Option<()>, _: &mut State<Rc<()>>| panic!("user bug"), &mut out)
            }));
            assert_eq!(r.is_err(), timeout.is_some());
            if timeout.is_some() {
                assert!(m.is_empty() && m.table.is_empty() && m.times.is_empty());
                assert_eq!(Rc::strong_count(&tracker), 1);
            }
            drop(m);
            assert_eq!(Rc::strong_count(&tracker), 1);
        }
    }
}

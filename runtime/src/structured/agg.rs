//! The state of a streaming aggregation (Spark's `StateStoreSaveExec`): one accumulator per
//! grouping key, kept across batches, emitted per batch as the output mode says and evicted by
//! the watermark.

use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::OutputMode;
use super::time::Timestamp;
use crate::codec;
use crate::error::Error;
use crate::owned::IntoOwned;
use crate::persist::{Checkpointed, Persist, corrupt, read_all, read_varint};

// The hasher seed is the keyed tables' (fixed: output order never depends on it, see
// [`StreamingAgg`]), so an entry's hash is its key's ownership hash in a cluster.
use crate::state::table::SEED;

struct Entry<K, A> {
    key: K,
    acc: A,
    /// The key's hash, kept so that neither the table's growth nor an eviction hashes a key again.
    hash: u64,
    updated: bool,
}

/// An entry, or the hole an evicted one left (until the state is compacted).
type Slot<K, A> = Option<Entry<K, A>>;

/// The keyed state of a streaming aggregation: for every grouping key `K` (typically
/// `(window_start, window_end, column...)`) an accumulator `A`.
///
/// Per batch: [`update`](Self::update) per input row (after the caller has dropped late
/// (window, key) assignments with [`Watermark::is_late`](super::watermark::Watermark::is_late),
/// counting them: in complete mode nothing is late), then [`finish_batch`](Self::finish_batch)
/// once, which returns the batch's output rows.
///
/// Order: rows come out in the order their keys were first inserted (a key evicted and inserted
/// again goes to the end); eviction keeps the others' order. That is deterministic, though not
/// Spark's order, which depends on its hash partitioning; sort the rows when an order matters.
///
/// Keys are owned; `update` takes a key that may borrow (`(Timestamp, Timestamp, &str)` for a
/// state of `(Timestamp, Timestamp, String)`) and copies it only when the key is new.
///
/// ```
/// use streamc_runtime::structured::OutputMode;
/// use streamc_runtime::structured::agg::StreamingAgg;
/// use streamc_runtime::structured::time::Timestamp;
/// let mut counts: StreamingAgg<(Timestamp, String), i64> = StreamingAgg::new();
/// for w in ["cat", "dog", "cat"] {
///     counts.update((Timestamp(10), w), |c| *c += 1, || 0);
/// }
/// let rows = counts.finish_batch(OutputMode::Append, Some(Timestamp(10)), |k| k.0);
/// assert_eq!(rows, vec![((Timestamp(10), "cat".to_owned()), 2), ((Timestamp(10), "dog".to_owned()), 1)]);
/// assert!(counts.is_empty()); // emitted once, then evicted
/// ```
pub struct StreamingAgg<K, A> {
    /// The slot index of every key in state.
    table: HashTable<u32>,
    /// The entries in state order, with holes where entries were evicted.
    slots: Vec<Slot<K, A>>,
    /// The number of entries (slots that are not holes).
    live: usize,
    hasher: FixedState,
    updated: usize,
    /// The size of the largest part [`absorb`](Self::absorb)ed in the last batch that absorbed
    /// any (a piece cut from a partial counts as that partial: [`cut_from`](Self::cut_from)):
    /// the room a batch's next parts get ([`part_capacity`](Self::part_capacity)), so that
    /// their tables do not grow while they fill.
    last_part: usize,
    /// The largest part absorbed in this batch so far (0 at its end): `last_part` as they come.
    batch_part: usize,
    /// For a piece cut from a partial ([`split_by`](Self::split_by): a cluster's processes each
    /// merge the keys they own), the partial's number of keys; 0 otherwise. A process's partial
    /// holds keys every process owns, its pieces about one process's share.
    cut_from: usize,
    /// The hashes and slots of the entries the last eviction removed: kept, so that an eviction
    /// does not grow a fresh list every batch.
    gone: Vec<(u64, u32)>,
    /// Whether the next eviction compacts as it goes ([`evict_compacting`](Self::evict_compacting)),
    /// one pass instead of three: set by an eviction that compacted the state, or that compacted
    /// as it went and removed at least as many entries as it kept.
    compact_next: bool,
    /// The slots before this index are in the table; those after it were moved in by
    /// [`absorb`](Self::absorb) and are put into the table by the first of: a lookup that
    /// misses ([`index_rest`](Self::index_rest)), the batch's end (an eviction that makes the
    /// table anew takes them with the others: a windowed state's does every batch).
    indexed: usize,
    /// The rows the last append-mode batch emitted: the room the next one's rows get.
    last_emitted: usize,
}

impl<K, A> std::fmt::Debug for StreamingAgg<K, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingAgg").field("len", &self.live).field("updated", &self.updated).finish()
    }
}

impl<K, A> Default for StreamingAgg<K, A> {
    fn default() -> Self {
        Self::new()
    }
}

/// The entry in `slot`, which the table names: never a hole.
#[inline]
fn entry<K, A>(slot: &Slot<K, A>) -> &Entry<K, A> {
    slot.as_ref().expect("the table names only live slots")
}

#[inline]
fn entry_mut<K, A>(slot: &mut Slot<K, A>) -> &mut Entry<K, A> {
    slot.as_mut().expect("the table names only live slots")
}

impl<K, A> StreamingAgg<K, A> {
    /// An empty state.
    pub fn new() -> Self {
        StreamingAgg {
            table: HashTable::new(),
            slots: Vec::new(),
            live: 0,
            hasher: FixedState::with_seed(SEED),
            updated: 0,
            last_part: 0,
            batch_part: 0,
            cut_from: 0,
            gone: Vec::new(),
            compact_next: false,
            indexed: 0,
            last_emitted: 0,
        }
    }

    /// An empty state with room for `n` keys.
    pub fn with_capacity(n: usize) -> Self {
        StreamingAgg { table: HashTable::with_capacity(n), slots: Vec::with_capacity(n), ..Self::new() }
    }

    /// The room for a part of a batch that will be absorbed into this state: the size of the
    /// last part absorbed, and an eighth more (0 before any part).
    pub fn part_capacity(&self) -> usize {
        self.last_part + self.last_part / 8
    }

    /// The number of keys in state (Spark's `numRowsTotal`).
    #[inline]
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether the state holds no key.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The number of distinct keys updated in this batch so far (Spark's `numRowsUpdated`).
    #[inline]
    pub fn updated_count(&self) -> usize {
        self.updated
    }

    /// The entries in state order.
    fn entries(&self) -> impl Iterator<Item = &Entry<K, A>> {
        self.slots.iter().flatten()
    }

    /// Every `(key, accumulator)` in state order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &A)> {
        self.entries().map(|e| (&e.key, &e.acc))
    }

    /// Adds one input row to the accumulator of `key`: a new key starts from `init()`; then
    /// `f(&mut acc)`. Marks the key updated in this batch. One hash, one probe; the key is
    /// converted to its owned form only when it is new.
    ///
    /// If `init` or `f` panics, a new key is not inserted and an existing key keeps whatever `f`
    /// did to its accumulator.
    #[inline]
    pub fn update<Q>(&mut self, key: Q, f: impl FnOnce(&mut A), init: impl FnOnce() -> A)
    where
        Q: IntoOwned<Owned = K> + Hash,
        K: Hash,
    {
        let hash = self.hash(&key);
        match self.find(hash, |k| key.eq_owned(k)) {
            Some(i) => self.mark_and_apply(i, f),
            None if self.indexed != self.slots.len() => self.update_missed(hash, key, f, init),
            None => self.insert(hash, key.into_owned(), f, init),
        }
    }

    /// [`update`](Self::update) of a key the table does not name while slots wait for the
    /// table: one of them, or a new key.
    #[inline(never)]
    fn update_missed<Q>(&mut self, hash: u64, key: Q, f: impl FnOnce(&mut A), init: impl FnOnce() -> A)
    where
        Q: IntoOwned<Owned = K> + Hash,
    {
        match self.find_indexing(hash, |k| key.eq_owned(k)) {
            Some(i) => self.mark_and_apply(i, f),
            None => self.insert(hash, key.into_owned(), f, init),
        }
    }

    /// The slot of the key the table names with `hash` and `is_key`.
    #[inline(always)]
    fn find(&self, hash: u64, is_key: impl Fn(&K) -> bool) -> Option<u32> {
        self.table.find(hash, |&i| is_key(&entry(&self.slots[i as usize]).key)).copied()
    }

    /// [`find`](Self::find), and on a miss while slots wait for the table
    /// ([`indexed`](Self::indexed)), again once they are in it.
    #[inline]
    fn find_indexing(&mut self, hash: u64, is_key: impl Fn(&K) -> bool) -> Option<u32> {
        match self.find(hash, &is_key) {
            None if self.index_rest() => self.find(hash, is_key),
            found => found,
        }
    }

    /// Marks the entry in slot `i` updated and applies `f` to its accumulator.
    #[inline]
    fn mark_and_apply(&mut self, i: u32, f: impl FnOnce(&mut A)) {
        let e = entry_mut(&mut self.slots[i as usize]);
        if !e.updated {
            e.updated = true;
            self.updated += 1;
        }
        f(&mut e.acc);
    }

    /// Puts the slots [`absorb`](Self::absorb) moved in into the table, if any are not yet;
    /// returns whether there were any.
    #[inline]
    fn index_rest(&mut self) -> bool {
        if self.indexed == self.slots.len() {
            return false;
        }
        self.index_rest_now();
        true
    }

    #[inline(never)]
    fn index_rest_now(&mut self) {
        let slots = &self.slots;
        let rest = slots[self.indexed..].iter().flatten().count();
        self.table.reserve(rest, |&j| entry(&slots[j as usize]).hash);
        for (i, slot) in self.slots.iter().enumerate().skip(self.indexed) {
            let Some(e) = slot else { continue };
            self.table.insert_unique(e.hash, i as u32, |_| unreachable!("room was reserved"));
        }
        self.indexed = self.slots.len();
    }

    /// The hash of `key` (or of its owned form: the same), always inlined: a generated app may
    /// update states of one key type from several loops (workers, the batch thread), and the
    /// hash is most of a hit's work besides the lookup.
    #[inline(always)]
    #[allow(clippy::manual_hash_one)] // `hash_one` is only `#[inline]`
    fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        let mut h = self.hasher.build_hasher();
        key.hash(&mut h);
        h.finish()
    }

    /// Inserts a key not in state: the miss path, out of line so that the hit path stays small.
    #[inline(never)]
    fn insert(&mut self, hash: u64, key: K, f: impl FnOnce(&mut A), init: impl FnOnce() -> A) {
        let mut acc = init();
        f(&mut acc);
        self.push(Entry { key, acc, hash, updated: true });
        self.updated += 1;
    }

    /// Appends `e` (a key not in state) to the state order and the table; every slot before it
    /// is in the table.
    fn push(&mut self, e: Entry<K, A>) {
        debug_assert_eq!(self.indexed, self.slots.len(), "slots are waiting for the table");
        let i = u32::try_from(self.slots.len()).expect("a streaming aggregation holds at most 2^32 slots");
        let slots = &self.slots;
        self.table.insert_unique(e.hash, i, |&j| entry(&slots[j as usize]).hash);
        self.slots.push(Some(e));
        self.indexed = self.slots.len();
        self.live += 1;
    }

    /// Merges `part`, the state a worker built over a later part of the same batch (starting
    /// empty), into this one, in `part`'s order: a key already here combines its accumulators
    /// with `merge(here, part's)`, a new key moves in with its accumulator; either way the key
    /// counts as updated. Merging the parts of a batch in order gives the state one pass over
    /// the whole batch gives, key order included, when `merge` combines accumulators as the
    /// updates would have (counts, sums of integers, minima, maxima, …).
    pub fn absorb(&mut self, part: StreamingAgg<K, A>, mut merge: impl FnMut(&mut A, A))
    where
        K: Hash + Eq,
    {
        self.batch_part = self.batch_part.max(part.live.max(part.cut_from));
        self.last_part = self.batch_part;
        // The keys of an earlier part must be found.
        self.index_rest();
        u32::try_from(self.slots.len() + part.slots.len()).expect("a streaming aggregation holds at most 2^32 slots");
        let mut new = 0;
        for mut e in part.slots.into_iter().flatten() {
            // Both states hash with the same seed: the part's hash is this state's.
            match self.find(e.hash, |k| *k == e.key) {
                Some(i) => self.mark_and_apply(i, |here| merge(here, e.acc)),
                None => {
                    // Into the table later (`indexed`): a part's keys are distinct, so none
                    // of the part's later keys can be this one.
                    e.updated = true;
                    self.slots.push(Some(e));
                    new += 1;
                }
            }
        }
        self.live += new;
        self.updated += new;
        // The table's room grows now, as one insert after another would grow it (its size is
        // the state's memory figure, which must not depend on the number of workers).
        let slots = &self.slots;
        self.table.reserve(new, |&j| entry(&slots[j as usize]).hash);
    }

    /// A partial read back from its snapshot (the bytes [`save`](Checkpointed::save) wrote of
    /// it), to be [`absorb`](Self::absorb)ed: its entries in order, with their hashes, and none
    /// yet in the table ([`indexed`](Self::indexed): a lookup that misses, or the batch's end,
    /// puts them in). `absorb` reads only the entries, so no table is made for a partial that
    /// crossed a process boundary. Its keys are taken as distinct, as a state's are (the partial
    /// was one when it was shipped); [`restore`](Checkpointed::restore), which reads a
    /// checkpoint, checks them.
    pub(crate) fn from_part_snapshot(bytes: &[u8]) -> Result<Self, Error>
    where
        K: Persist + Hash,
        A: Persist,
    {
        let mut part = Self::new();
        let hasher = FixedState::with_seed(SEED);
        let make = |key: K, acc: A| Some(Entry { hash: hasher.hash_one(&key), key, acc, updated: false });
        part.slots = match compact_body(bytes)? {
            Some((count, body)) => read_runs_into(count, body, make, |s| {
                let e = entry(s);
                (&e.key, &e.acc)
            })?,
            None => read_all::<Vec<(K, A)>>(bytes)?.into_iter().map(|(k, a)| make(k, a)).collect(),
        };
        part.live = part.slots.len();
        Ok(part)
    }

    /// Cuts the state into `n` states, entry by entry: an entry goes to state `owner(key, hash)`
    /// (`< n`; `hash` is the key's, as this table keeps it), keeping its order and its updated
    /// mark (a cluster sends piece `j` of a worker's partial to process `j`, which owns those keys).
    pub fn split_by(self, n: usize, owner: impl Fn(&K, u64) -> usize) -> Vec<Self> {
        // Room for an even share and some slack, so that the pieces do not grow while they
        // fill. No piece is put in a table: a piece is shipped or absorbed, which walk its
        // entries; a lookup puts it in one ([`indexed`](Self::indexed)).
        let room = self.live / n.max(1) + self.live / (8 * n.max(1)) + 16;
        let cut_from = self.live;
        let mut pieces: Vec<Self> =
            (0..n).map(|_| StreamingAgg { slots: Vec::with_capacity(room), cut_from, ..Self::new() }).collect();
        for e in self.slots.into_iter().flatten() {
            let piece = &mut pieces[owner(&e.key, e.hash)];
            piece.updated += usize::from(e.updated);
            piece.live += 1;
            piece.slots.push(Some(e));
        }
        pieces
    }

    /// [`update`](Self::update) with an owned key (no copy is made).
    pub fn update_owned(&mut self, key: K, f: impl FnOnce(&mut A), init: impl FnOnce() -> A)
    where
        K: Hash + Eq,
    {
        let hash = self.hash(&key);
        match self.find_indexing(hash, |k| *k == key) {
            Some(i) => self.mark_and_apply(i, f),
            None => self.insert(hash, key, f, init),
        }
    }

    /// Every `(key, accumulator)`, in state order, consuming the state.
    pub fn into_entries(self) -> impl Iterator<Item = (K, A)> {
        self.slots.into_iter().flatten().map(|e| (e.key, e.acc))
    }

    /// The accumulator of `key`, if it is in state.
    pub fn get<Q>(&self, key: Q) -> Option<&A>
    where
        Q: IntoOwned<Owned = K> + Hash,
        K: Hash,
    {
        let hash = self.hash(&key);
        match self.find(hash, |k| key.eq_owned(k)) {
            Some(i) => Some(&entry(&self.slots[i as usize]).acc),
            // Or one of the slots not yet in the table.
            None => self.slots[self.indexed..]
                .iter()
                .flatten()
                .find(|e| e.hash == hash && key.eq_owned(&e.key))
                .map(|e| &e.acc),
        }
    }

    /// The accumulator of `key` to change, if it is in state (updated marks are not changed).
    #[inline]
    pub fn get_mut<Q>(&mut self, key: Q) -> Option<&mut A>
    where
        Q: IntoOwned<Owned = K> + Hash,
        K: Hash,
    {
        let hash = self.hash(&key);
        let i = self.find_indexing(hash, |k| key.eq_owned(k))?;
        Some(&mut entry_mut(&mut self.slots[i as usize]).acc)
    }

    /// Ends the batch and returns its output rows, by Spark's rules for `mode`:
    /// - [`Complete`](OutputMode::Complete): every row in state; the watermark is ignored and
    ///   nothing is evicted.
    /// - [`Update`](OutputMode::Update): the rows updated in this batch; then, with a watermark,
    ///   every row whose `event_end(key) <= watermark` is evicted (a row can be emitted and
    ///   evicted in the same batch).
    /// - [`Append`](OutputMode::Append): the rows whose `event_end(key) <= watermark`, which are
    ///   final: emitted once and evicted. Without a watermark nothing is final, so nothing is
    ///   emitted (Spark refuses an aggregation in append mode without a watermark; so should the
    ///   compiler).
    ///
    /// `watermark` is the batch's [`Watermark::current`](super::watermark::Watermark::current),
    /// `event_end` the event-time end of a key's group (its window's end). Rows come in state
    /// order (see the type's docs). Clears the updated marks.
    pub fn finish_batch(
        &mut self,
        mode: OutputMode,
        watermark: Option<Timestamp>,
        event_end: impl Fn(&K) -> Timestamp,
    ) -> Vec<(K, A)>
    where
        K: Clone,
        A: Clone,
    {
        match mode {
            OutputMode::Complete => {
                let out = self.entries().map(|e| (e.key.clone(), e.acc.clone())).collect();
                self.clear_updated();
                out
            }
            OutputMode::Update => {
                let mut out = Vec::with_capacity(self.updated);
                out.extend(self.entries().filter(|e| e.updated).map(|e| (e.key.clone(), e.acc.clone())));
                match watermark {
                    Some(wm) => self.evict(|k, _| event_end(k) <= wm, |_, _| {}),
                    None => self.clear_updated(),
                }
                out
            }
            OutputMode::Append => {
                // Room for the last batch's rows and an eighth more, so that the rows are not
                // copied as they grow (with a generated app's allocator settings the memory is
                // the last batch's, already faulted in: `cli::keep_freed_memory`).
                let mut out = Vec::with_capacity(self.last_emitted + self.last_emitted / 8);
                match watermark {
                    Some(wm) => self.evict(|k, _| event_end(k) <= wm, |k, a| out.push((k, a))),
                    None => self.clear_updated(),
                }
                self.last_emitted = out.len();
                out
            }
        }
    }

    /// Inserts `key` with `init()` if it is not in state; returns whether it was new (and marks
    /// it updated). Spark's `dropDuplicates` keeps a row exactly when this returns true.
    #[inline]
    pub fn insert_new<Q>(&mut self, key: Q, init: impl FnOnce() -> A) -> bool
    where
        Q: IntoOwned<Owned = K> + Hash,
        K: Hash,
    {
        let hash = self.hash(&key);
        if self.find_indexing(hash, |k| key.eq_owned(k)).is_some() {
            return false;
        }
        self.insert(hash, key.into_owned(), |_| {}, init);
        true
    }

    /// Mutable access to the accumulator of every key, in state order (updated marks are
    /// not changed).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut A)> {
        self.slots.iter_mut().flatten().map(|e| (&e.key, &mut e.acc))
    }

    /// Ends a batch without producing rows: evicts the keys whose `(key, accumulator)`
    /// satisfies `gone` and clears the updated marks.
    pub fn end_batch_evicting(&mut self, gone: impl Fn(&K, &A) -> bool) {
        self.evict(gone, |_, _| {});
    }

    /// Ends a batch that evicts nothing: clears the updated marks; the slots not yet in the
    /// table go into it.
    fn clear_updated(&mut self) {
        self.index_rest();
        if self.updated > 0 {
            for e in self.slots.iter_mut().flatten() {
                e.updated = false;
            }
        }
        self.updated = 0;
        self.batch_part = 0;
    }

    /// Removes the entries whose `(key, accumulator)` satisfies `gone`, handing each to
    /// `removed`, in state order, and clears the updated marks of the others, in one pass. An
    /// entry leaves a hole (the others keep their slots). The table then loses the keys that
    /// left: one by one, found by their kept hashes, when few left; made anew from the kept
    /// hashes of the others when at least half as many left as stay (cheaper than a probe per
    /// key gone); and the state is compacted, in order, when holes outnumber entries. No key is
    /// hashed again.
    ///
    /// When the last eviction compacted (a windowed state evicts most of its keys every batch),
    /// this one compacts in the same pass ([`evict_compacting`](Self::evict_compacting)).
    fn evict(&mut self, gone: impl Fn(&K, &A) -> bool, removed: impl FnMut(K, A)) {
        if self.compact_next {
            self.evict_compacting(gone, removed);
        } else {
            self.evict_leaving_holes(gone, removed);
        }
    }

    /// [`evict`](Self::evict) leaving holes, then mending the table (one by one, anew, or
    /// compacting).
    fn evict_leaving_holes(&mut self, gone: impl Fn(&K, &A) -> bool, mut removed: impl FnMut(K, A)) {
        let indexed = self.indexed;
        let mut left = std::mem::take(&mut self.gone);
        left.clear();
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let Some(e) = slot else { continue };
            if gone(&e.key, &e.acc) {
                let hash = e.hash;
                let Some(Entry { key, acc, .. }) = slot.take() else { unreachable!("the slot was live") };
                left.push((hash, i as u32));
                removed(key, acc);
            } else {
                e.updated = false;
            }
        }
        self.updated = 0;
        self.batch_part = 0;
        self.live -= left.len();
        let holes = self.slots.len() - self.live;
        self.compact_next = holes > self.live.max(16);
        if self.compact_next {
            self.compact();
        } else if left.len() * 2 >= self.live {
            self.rebuild_table();
        } else {
            self.index_rest();
            // A slot past `indexed` was never in the table.
            for &(hash, i) in left.iter().filter(|&&(_, i)| (i as usize) < indexed) {
                match self.table.find_entry(hash, |&j| j == i) {
                    Ok(found) => {
                        found.remove();
                    }
                    Err(_) => unreachable!("a live slot is in the table"),
                }
            }
        }
        self.gone = left;
    }

    /// [`evict`](Self::evict) in one pass that also compacts: every entry either leaves (to
    /// `removed`) or moves down to the next free slot, and goes into the table, cleared
    /// beforehand, at its new index. The same state as evicting, compacting and making the
    /// table anew, without reading the entries three times (a windowed state's entries are
    /// megabytes: each pass over them is memory traffic). The next eviction compacts as it goes
    /// again only when this one removed at least as many entries as it kept.
    fn evict_compacting(&mut self, gone: impl Fn(&K, &A) -> bool, mut removed: impl FnMut(K, A)) {
        let before = self.live;
        self.table.clear();
        // Empty: growing it rehashes nothing. Room for every key that was live, so that no
        // insert below grows it.
        self.table.reserve(before, |_| unreachable!("the table is empty"));
        let mut kept = 0usize;
        for i in 0..self.slots.len() {
            let Some(mut e) = self.slots[i].take() else { continue };
            if gone(&e.key, &e.acc) {
                removed(e.key, e.acc);
                continue;
            }
            e.updated = false;
            self.table.insert_unique(e.hash, kept as u32, |_| unreachable!("the table has room"));
            self.slots[kept] = Some(e);
            kept += 1;
        }
        self.slots.truncate(kept);
        self.indexed = kept;
        self.live = kept;
        self.updated = 0;
        self.batch_part = 0;
        self.compact_next = before - kept >= kept;
    }

    /// Drops the holes, keeping the entries' order, and makes the table anew from the kept
    /// hashes.
    fn compact(&mut self) {
        self.slots.retain(Option::is_some);
        self.rebuild_table();
    }

    /// Makes the table anew from the live slots' kept hashes.
    fn rebuild_table(&mut self) {
        self.table.clear();
        self.table.reserve(self.live, |_| unreachable!("the table is empty"));
        for (i, slot) in self.slots.iter().enumerate() {
            let Some(e) = slot else { continue };
            let slots = &self.slots;
            self.table.insert_unique(e.hash, i as u32, |&j| entry(&slots[j as usize]).hash);
        }
        self.indexed = self.slots.len();
    }
}

/// The first 8 bytes of a compact snapshot. A snapshot of the first format (written before
/// 2026-12-05) starts with its entry count as a `u64`, which is never this: its restore refuses a
/// count larger than the bytes left.
const COMPACT_TAG: [u8; 8] = [0xff; 8];
/// The compact format's version, the byte after its tag.
const COMPACT_VERSION: u8 = 1;

/// Saves every `(key, accumulator)` in state order; a checkpoint is taken between batches, so
/// there are no updated marks to save.
///
/// The snapshot is *compact*: 8 bytes `0xff` (a tag), a version byte (1), the entry count as a varint,
/// then the entries in *runs*: a run is its entry count (a varint, at least 1), then its entries,
/// each key and accumulator in [`Persist::write_after`]'s form after the previous entry's in the
/// run (the first after none). A state saves one run; snapshots put together
/// ([`Partitioned::concat_snapshots`](crate::partition::Partitioned::concat_snapshots)) keep one run per piece, so no entry is
/// rewritten. Of a window's key, the window repeated from the entry before takes 2 bytes instead
/// of 16. [`restore`](Checkpointed::restore) also reads the first format: the entry count as a
/// `u64`, then each key and accumulator whole ([`Persist::write`]).
impl<K: Persist + Hash + Eq, A: Persist> Checkpointed for StreamingAgg<K, A> {
    fn save(&self, out: &mut Vec<u8>) {
        put_compact_header(out, self.live as u64);
        put_run(out, self.live, self.iter());
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let saved: Vec<(K, A)> = match compact_body(bytes)? {
            Some((count, body)) => read_runs(count, body)?,
            None => read_all(bytes)?,
        };
        let mut state = StreamingAgg::<K, A> {
            table: HashTable::with_capacity(saved.len()),
            slots: Vec::with_capacity(saved.len()),
            ..StreamingAgg::new()
        };
        for (key, acc) in saved {
            let hash = state.hash(&key);
            let slots = &state.slots;
            if state.table.find(hash, |&j| entry(&slots[j as usize]).key == key).is_some() {
                return Err(corrupt("a key appears twice in a streaming aggregation's state"));
            }
            if u32::try_from(state.slots.len()).is_err() {
                return Err(corrupt("more than 2^32 keys in a streaming aggregation"));
            }
            state.push(Entry { key, acc, hash, updated: false });
        }
        *self = state;
        self.updated = 0;
        self.batch_part = 0;
        Ok(())
    }
}

/// One snapshot of the entries of `pieces`, snapshots of a `StreamingAgg<K, A>` in either
/// format, one after the other (a cluster's shards put together): the counts add up, and the
/// runs of a compact piece are copied as they are; a piece of the first format is read and
/// written as one run.
pub(crate) fn concat_snapshots<K: Persist, A: Persist>(pieces: &[&[u8]]) -> Result<Vec<u8>, Error> {
    let mut total = 0u64;
    let mut runs: Vec<std::borrow::Cow<'_, [u8]>> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        match compact_body(piece)? {
            Some((count, body)) => {
                total = total.saturating_add(count);
                runs.push(body.into());
            }
            None => {
                let saved: Vec<(K, A)> = read_all(piece)?;
                let mut run = Vec::new();
                put_run(&mut run, saved.len(), saved.iter().map(|(k, a)| (k, a)));
                total = total.saturating_add(saved.len() as u64);
                runs.push(run.into());
            }
        }
    }
    let mut out = Vec::with_capacity(COMPACT_TAG.len() + 11 + runs.iter().map(|r| r.len()).sum::<usize>());
    put_compact_header(&mut out, total);
    for run in runs {
        out.extend_from_slice(&run);
    }
    Ok(out)
}

fn put_compact_header(out: &mut Vec<u8>, count: u64) {
    out.extend_from_slice(&COMPACT_TAG);
    out.push(COMPACT_VERSION);
    codec::put_varint(out, count);
}

/// Appends a run of the `n` entries of `entries` (nothing if there are none).
fn put_run<'a, K: Persist + 'a, A: Persist + 'a>(
    out: &mut Vec<u8>,
    n: usize,
    entries: impl Iterator<Item = (&'a K, &'a A)>,
) {
    if n == 0 {
        return;
    }
    codec::put_varint(out, n as u64);
    let mut prev: Option<(&K, &A)> = None;
    for (k, a) in entries {
        k.write_after(prev.map(|p| p.0), out);
        a.write_after(prev.map(|p| p.1), out);
        prev = Some((k, a));
    }
}

/// The entry count and the runs of a compact snapshot; `None` for a snapshot of the first format.
fn compact_body(bytes: &[u8]) -> Result<Option<(u64, &[u8])>, Error> {
    let Some(mut rest) = bytes.strip_prefix(&COMPACT_TAG) else { return Ok(None) };
    match rest.split_first() {
        Some((&COMPACT_VERSION, tail)) => rest = tail,
        Some((v, _)) => return Err(corrupt(&format!("a streaming aggregation's snapshot of unknown format {v}"))),
        None => return Err(corrupt("a streaming aggregation's snapshot without its format")),
    }
    let count = read_varint(&mut rest, "entry count")?;
    Ok(Some((count, rest)))
}

/// Reads the runs of `count` entries, which must be the whole of `input`.
fn read_runs<K: Persist, A: Persist>(count: u64, input: &[u8]) -> Result<Vec<(K, A)>, Error> {
    read_runs_into(count, input, |k, a| (k, a), |(k, a)| (k, a))
}

/// [`read_runs`], each entry made into a `T` by `make` as it is read (`parts` gives a `T`'s
/// key and accumulator back, which the next entry of its run is read after).
fn read_runs_into<K: Persist, A: Persist, T>(
    count: u64,
    mut input: &[u8],
    make: impl Fn(K, A) -> T,
    parts: impl Fn(&T) -> (&K, &A),
) -> Result<Vec<T>, Error> {
    if count > u64::from(u32::MAX) {
        return Err(corrupt(&format!("{count} keys in a streaming aggregation")));
    }
    // Every entry takes a byte at least, unless both its key and accumulator are zero-sized.
    let count = count as usize;
    let mut saved: Vec<T> = Vec::with_capacity(count.min(input.len()));
    while saved.len() < count {
        let n = read_varint(&mut input, "run length")?;
        if n == 0 || n > (count - saved.len()) as u64 {
            return Err(corrupt(&format!("a run of {n} entries, with {} left to read", count - saved.len())));
        }
        let start = saved.len();
        for _ in 0..n {
            let prev = saved[start..].last().map(&parts);
            let k = K::read_after(prev.map(|p| p.0), &mut input)?;
            let a = A::read_after(prev.map(|p| p.1), &mut input)?;
            saved.push(make(k, a));
        }
    }
    if !input.is_empty() {
        return Err(corrupt(&format!("{} unexpected bytes after the state", input.len())));
    }
    Ok(saved)
}

impl<K: Persist, A: Persist> crate::footprint::StateSize for StreamingAgg<K, A> {
    fn rows(&self) -> usize {
        self.live
    }
    fn memory_bytes(&self) -> u64 {
        self.table.allocation_size() as u64
            + crate::footprint::vec_with_heap(&self.slots, |s| {
                s.as_ref().map_or(0, |e| e.key.heap_bytes() + e.acc.heap_bytes())
            })
            + (self.gone.capacity() * std::mem::size_of::<(u64, u32)>()) as u64
    }
}

#[cfg(test)]
mod tests;

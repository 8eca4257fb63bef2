//! A streaming aggregation's state cut into shards by key, one per worker, so that merging the
//! workers' partials and ending the batch run on every worker at once (`--workers N`).
//!
//! Output order stays the one worker's: every key carries a *stamp*, the place of its first
//! update in the order one pass over the batches would have made (a counter for keys the batch
//! thread inserts; for a partial's new key, the partial's base plus the key's place in it, the
//! bases following each other in part order, so a key first seen in an earlier part, or earlier
//! in a part, has the smaller stamp). A shard keeps its entries in stamp order (old keys first,
//! then new ones as they come, part by part), so its rows come out in stamp order, and the rows
//! of all shards are merged by stamp: the sequence one state would have produced. With one
//! shard this is [`StreamingAgg`] with a stamp beside each accumulator.
//!
//! The checkpoint is a [`StreamingAgg`]'s (entries in stamp order, the same bytes): a state saved
//! by one worker restores on any number and back.

use std::hash::Hash;

use foldhash::fast::FixedState;

use super::OutputMode;
use super::agg::{Entry, SEED, StreamingAgg, entry, entry_mut, key_hash, put_compact_header, put_run};
use super::time::Timestamp;
use crate::error::Error;
use crate::owned::IntoOwned;
use crate::partition::{Partitioned, owner};
use crate::persist::{Checkpointed, Persist};

/// A state of fewer keys ends its batch on one thread (threads would cost more than they save).
/// (Small in tests, so that they run the threads too.)
const PARALLEL_ROWS: usize = if cfg!(test) { 8 } else { 1 << 14 };

/// A shard: a state whose accumulators carry their keys' stamps.
type Shard<K, A> = StreamingAgg<K, (u64, A)>;

/// The shard, of `n`, of a key hashed to `hash`: bits 24..56 scaled to `n` (no division). The
/// bits a shard's table uses (the low ones to place a key, the top 7 as its tag) are left out,
/// so every shard's table sees keys spread as one table would.
#[inline]
fn shard_of(hash: u64, n: usize) -> usize {
    ((((hash >> 24) & 0xffff_ffff) * n as u64) >> 32) as usize
}

/// The state of a streaming aggregation over shards; the methods the generated code calls are
/// [`StreamingAgg`]'s, plus [`set_shards`](Self::set_shards) and
/// [`absorb_parts`](Self::absorb_parts).
pub struct ShardedAgg<K, A> {
    shards: Vec<Shard<K, A>>,
    /// The stamp of the next key inserted.
    next_stamp: u64,
    /// The shards' hasher (every [`StreamingAgg`]'s): a partial's kept hashes are this one's.
    hasher: FixedState,
}

impl<K, A> std::fmt::Debug for ShardedAgg<K, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardedAgg").field("shards", &self.shards.len()).field("len", &self.len()).finish()
    }
}

impl<K, A> Default for ShardedAgg<K, A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, A> ShardedAgg<K, A> {
    /// An empty state of one shard.
    pub fn new() -> Self {
        ShardedAgg { shards: vec![StreamingAgg::new()], next_stamp: 0, hasher: FixedState::with_seed(SEED) }
    }

    /// The number of keys in state.
    pub fn len(&self) -> usize {
        self.shards.iter().map(StreamingAgg::len).sum()
    }

    /// Whether the state holds no key.
    pub fn is_empty(&self) -> bool {
        self.shards.iter().all(StreamingAgg::is_empty)
    }

    /// The number of shards.
    pub fn shards(&self) -> usize {
        self.shards.len()
    }

    /// The number of distinct keys updated in this batch so far.
    pub fn updated_count(&self) -> usize {
        self.shards.iter().map(StreamingAgg::updated_count).sum()
    }

    /// Every `(key, accumulator)` in stamp order (the order of one state).
    pub fn iter(&self) -> impl Iterator<Item = (&K, &A)> {
        let mut heads: Vec<_> = self.shards.iter().map(|s| s.iter().peekable()).collect();
        std::iter::from_fn(move || {
            let next =
                heads.iter_mut().enumerate().filter_map(|(i, h)| h.peek().map(|(_, (stamp, _))| (*stamp, i))).min()?.1;
            heads[next].next().map(|(k, (_, a))| (k, a))
        })
    }
}

impl<K: Hash + Eq, A> ShardedAgg<K, A> {
    /// Cuts the state into `n` shards (at least one); nothing changes when it has `n` already.
    /// Called between batches (the updated marks are clear).
    pub fn set_shards(&mut self, n: usize) {
        let n = n.max(1);
        if n == self.shards.len() {
            return;
        }
        let mut all: Vec<Entry<K, (u64, A)>> =
            std::mem::take(&mut self.shards).into_iter().flat_map(|s| s.slots.into_iter().flatten()).collect();
        all.sort_unstable_by_key(|e| e.acc.0);
        self.shards = (0..n).map(|_| StreamingAgg::new()).collect();
        for mut e in all {
            e.set_updated(false);
            self.shards[shard_of(e.hash(), n)].push(e);
        }
    }

    /// Adds one input row to the accumulator of `key`, as [`StreamingAgg::update`] does; a new
    /// key takes the next stamp.
    #[inline]
    pub fn update<Q>(&mut self, key: Q, f: impl FnOnce(&mut A), init: impl FnOnce() -> A)
    where
        Q: IntoOwned<Owned = K> + Hash,
    {
        let hash = key_hash(&self.hasher, &key);
        let n = self.shards.len();
        let s = if n == 1 { 0 } else { shard_of(hash, n) };
        let next = &mut self.next_stamp;
        self.shards[s].update_hashed(
            hash,
            key,
            |acc| f(&mut acc.1),
            || {
                let stamp = *next;
                *next += 1;
                (stamp, init())
            },
        );
    }

    /// Merges `parts`, the partial states workers built over the later parts of the batch, in
    /// part order, as [`StreamingAgg::absorb`] of each in turn would (a key already here
    /// combines with `merge(here, part's)`, a new key moves in; either way it counts as
    /// updated): every shard takes its keys from every part, the shards at once on threads of
    /// their own when there are several.
    pub fn absorb_parts(&mut self, parts: Vec<StreamingAgg<K, A>>, merge: impl Fn(&mut A, A) + Sync)
    where
        K: Clone + Send + Sync,
        A: Clone + Send + Sync,
    {
        // A part's keys are stamped after every earlier part's.
        let mut bases = Vec::with_capacity(parts.len());
        for p in &parts {
            bases.push(self.next_stamp);
            self.next_stamp += p.slots.len() as u64;
        }
        let n = self.shards.len();
        if parts.is_empty() {
            return;
        }
        if n == 1 {
            for (part, base) in parts.into_iter().zip(bases) {
                for (i, e) in part.slots.into_iter().enumerate() {
                    if let Some(e) = e {
                        absorb_entry(&mut self.shards[0], e, base + i as u64, &merge);
                    }
                }
            }
            return;
        }
        // Every shard reads every part and takes its own keys (copies: each is taken once).
        let take = |s: usize, shard: &mut Shard<K, A>| {
            for (part, &base) in parts.iter().zip(&bases) {
                for (i, e) in part.slots.iter().enumerate() {
                    let Some(e) = e else { continue };
                    if shard_of(e.hash(), n) == s {
                        let e = Entry::new(e.key.clone(), e.acc.clone(), e.hash(), true);
                        absorb_entry(shard, e, base + i as u64, &merge);
                    }
                }
            }
        };
        let take = &take;
        if parts.iter().map(|p| p.slots.len()).sum::<usize>() < PARALLEL_ROWS {
            for (s, shard) in self.shards.iter_mut().enumerate() {
                take(s, shard);
            }
            return;
        }
        std::thread::scope(|scope| {
            let (first, rest) = self.shards.split_first_mut().expect("at least one shard");
            for (s, shard) in rest.iter_mut().enumerate() {
                scope.spawn(move || take(s + 1, shard));
            }
            take(0, first);
        });
    }

    /// Ends the batch, as [`StreamingAgg::finish_batch`] does, every shard at once on threads
    /// of their own; the rows in stamp order.
    pub fn finish_batch(
        &mut self,
        mode: OutputMode,
        watermark: Option<Timestamp>,
        event_end: impl Fn(&K) -> Timestamp + Sync,
    ) -> Vec<(K, A)>
    where
        K: Clone + Send,
        A: Clone + Send,
    {
        let event_end = &event_end;
        if self.shards.len() == 1 {
            return self.shards[0].finish_batch_map(mode, watermark, event_end, |k, (_, a)| (k, a));
        }
        if self.len() < PARALLEL_ROWS {
            let outs = self.shards.iter_mut().map(|s| s.finish_batch(mode, watermark, event_end)).collect();
            return merge_by_stamp(outs);
        }
        let outs: Vec<Vec<(K, (u64, A))>> = std::thread::scope(|scope| {
            let (first, rest) = self.shards.split_first_mut().expect("at least one shard");
            let handles: Vec<_> = rest
                .iter_mut()
                .map(|shard| scope.spawn(move || shard.finish_batch(mode, watermark, event_end)))
                .collect();
            let mut outs = vec![first.finish_batch(mode, watermark, event_end)];
            outs.extend(handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))));
            outs
        });
        merge_by_stamp(outs)
    }
}

/// Merges the part's entry `e` (its key not yet stamped) into `shard`; a new key takes `stamp`.
#[inline]
fn absorb_entry<K: Eq, A>(shard: &mut Shard<K, A>, e: Entry<K, A>, stamp: u64, merge: &impl Fn(&mut A, A)) {
    let slots = &shard.slots;
    let hash = e.hash();
    match shard.table.find(hash, |&j| entry(&slots[j as usize]).key == e.key) {
        Some(&j) => {
            let here = entry_mut(&mut shard.slots[j as usize]);
            if !here.updated() {
                here.set_updated(true);
                shard.updated += 1;
            }
            merge(&mut here.acc.1, e.acc);
        }
        None => {
            shard.push(Entry::new(e.key, (stamp, e.acc), hash, true));
            shard.updated += 1;
        }
    }
}

/// The rows of every shard (each in stamp order) in one sequence by stamp: the run with the
/// smallest next stamp gives rows until its stamp passes another run's next.
fn merge_by_stamp<K, A>(outs: Vec<Vec<(K, (u64, A))>>) -> Vec<(K, A)> {
    let total = outs.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(total);
    let mut runs: Vec<std::vec::IntoIter<(K, (u64, A))>> =
        outs.into_iter().filter(|o| !o.is_empty()).map(Vec::into_iter).collect();
    let head = |run: &std::vec::IntoIter<(K, (u64, A))>| run.as_slice().first().map_or(u64::MAX, |r| r.1.0);
    while !runs.is_empty() {
        let mut min = 0;
        let mut bound = u64::MAX;
        for i in 1..runs.len() {
            let (h, m) = (head(&runs[i]), head(&runs[min]));
            if h < m {
                bound = m;
                min = i;
            } else {
                bound = bound.min(h);
            }
        }
        let run = &mut runs[min];
        while run.as_slice().first().is_some_and(|r| r.1.0 < bound) {
            let (k, (_, a)) = run.next().expect("a row is left");
            out.push((k, a));
        }
        if run.as_slice().is_empty() {
            drop(runs.swap_remove(min));
        }
    }
    out
}

/// The snapshot of a [`StreamingAgg`] holding the same entries in stamp order (the same bytes
/// one state saves), so either restores the other's.
impl<K: Persist + Hash + Eq, A: Persist> Checkpointed for ShardedAgg<K, A> {
    fn save(&self, out: &mut Vec<u8>) {
        let n = self.len();
        put_compact_header(out, n as u64);
        put_run(out, n, self.iter());
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let mut whole: StreamingAgg<K, A> = StreamingAgg::new();
        whole.restore(bytes)?;
        let n = self.shards.len();
        self.shards = (0..n).map(|_| StreamingAgg::new()).collect();
        let mut stamp = 0;
        for e in whole.slots.into_iter().flatten() {
            let hash = e.hash();
            self.shards[shard_of(hash, n)].push(Entry::new(e.key, (stamp, e.acc), hash, false));
            stamp += 1;
        }
        self.next_stamp = stamp;
        Ok(())
    }
}

impl<K: Persist + Hash + Eq, A: Persist> Partitioned for ShardedAgg<K, A> {
    fn keep_partition(&mut self, me: usize, n: usize) {
        for s in &mut self.shards {
            s.end_batch_evicting(|k, _| owner(k, n) != me);
        }
    }

    fn concat_snapshots(pieces: &[&[u8]]) -> Result<Vec<u8>, Error> {
        super::agg::concat_snapshots::<K, A>(pieces)
    }
}

impl<K: Persist, A: Persist> crate::footprint::StateSize for ShardedAgg<K, A> {
    fn rows(&self) -> usize {
        self.len()
    }

    fn memory_bytes(&self) -> u64 {
        self.shards.iter().map(|s| s.table.allocation_size() as u64 + shard_heap(s)).sum()
    }
}

/// The heap bytes of a shard's entries (keys, accumulators and the stamps beside them).
fn shard_heap<K: Persist, A: Persist>(s: &Shard<K, A>) -> u64 {
    crate::footprint::vec_with_heap(&s.slots, |e| e.as_ref().map_or(0, |e| e.key.heap_bytes() + e.acc.1.heap_bytes()))
}

#[cfg(test)]
#[path = "sharded_tests.rs"]
mod tests;

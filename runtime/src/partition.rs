//! Key-partitioned state in a cluster: which process owns a key ([`owner`]), how a worker's
//! partial of a Structured aggregation splits over the processes ([`Partition`]), and rows on
//! their way to the process that owns their key ([`ByKey`]: a Structured deduplication's).
//!
//! A cluster runs such a query's loop on every process over its share of the batch. Each
//! partial is then cut by key: piece `j` goes to process `j`, which merges the pieces of every
//! process, in process order, into the part of the aggregation state it owns. What is not
//! keyed goes where the merge needs it: every process gets every event time observed (so all
//! compute the same watermark), and counters go to process 0 (which reports them) only.
//!
//! Ownership is the hash a keyed table gives the key (fixed seed: the same on every process and
//! across restarts), read from bits a table does not look at: hashbrown picks a bucket from the
//! low bits and tags it with the top 7, ownership takes bits 24 to 55, so the keys a process
//! owns still spread over its whole table, and a table cut by owner takes the hashes its
//! entries keep instead of hashing every key again. In a checkpoint each process's piece is
//! its own shard file (`crate::checkpoint`); a restart with the same number of processes reads its shard, one with
//! another number (or without a cluster) puts the shards together
//! ([`Partitioned::concat_snapshots`]) and keeps the keys it owns
//! ([`Partitioned::keep_partition`]): the state repartitions by itself.

use std::hash::{BuildHasher, Hash};

use foldhash::fast::FixedState;

use crate::persist::{Checkpointed, Persist};
use crate::state::table::SEED;
use crate::state::{KeyedReduce, StrReduce};
use crate::structured::agg::StreamingAgg;
use crate::structured::session::{Session, SessionAgg};
use crate::structured::watermark::Watermark;

/// The process, of `n`, that owns `key`.
#[inline]
pub fn owner<K: Hash + ?Sized>(key: &K, n: usize) -> usize {
    place(key_hash(key), n)
}

/// The ownership hash of `key` (which [`ByKey::push`] takes): the hash a keyed table gives it.
/// Part of the checkpoint format, since a restored state is cut by it
/// ([`OWNERSHIP_VERSION`](crate::checkpoint::OWNERSHIP_VERSION)).
#[inline]
pub fn key_hash<K: Hash + ?Sized>(key: &K) -> u64 {
    FixedState::with_seed(SEED).hash_one(key)
}

/// The process, of `n`, that owns a key of ownership hash `h`.
#[inline]
pub(crate) fn place(h: u64, n: usize) -> usize {
    // Bits 24 to 55, scaled to `n` (no division): clear of the bits hashbrown uses for tables
    // of up to 2^24 buckets (the low ones) and of its tags (the top 7).
    ((((h >> 24) & 0xffff_ffff) * n as u64) >> 32) as usize
}

/// A partial of session windows (its batch events), by key.
impl<K: Hash, A> Partition for SessionAgg<K, A> {
    fn split(self, n: usize) -> Vec<Self> {
        if n == 1 {
            return vec![self];
        }
        self.pending.split_by(n, |_, h| place(h, n)).into_iter().map(SessionAgg::with_pending).collect()
    }
}

/// Rows on their way to a step whose state is keyed by some of their columns (a Structured
/// deduplication): each row with the ownership hash of its key, taken where the row is made
/// (from the key as the step probes its state, which hashes as the key it keeps: so a row goes
/// to the process whose part of the state holds its key). Each process gets its keys' rows in
/// the order they were pushed.
///
/// ```
/// use streamc_runtime::partition::{ByKey, Partition, key_hash, owner};
/// let mut rows = ByKey::new();
/// for (i, w) in ["cat", "dog", "cat", "emu"].into_iter().enumerate() {
///     rows.push(key_hash(&(Some(w),)), i);
/// }
/// let pieces = rows.split(2);
/// for (j, piece) in pieces.into_iter().enumerate() {
///     let got: Vec<usize> = piece.into_rows().collect();
///     let want: Vec<usize> = [0, 1, 2, 3].into_iter().filter(|&i| owner(&(Some(["cat", "dog", "cat", "emu"][i]),), 2) == j).collect();
///     assert_eq!(got, want);
/// }
/// ```
#[derive(Debug)]
pub struct ByKey<V> {
    /// Each row with its key's ownership hash.
    pub(crate) rows: Vec<(u64, V)>,
}

impl<V> Default for ByKey<V> {
    fn default() -> Self {
        ByKey { rows: Vec::new() }
    }
}

impl<V> ByKey<V> {
    /// No rows.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `row`, bound for the owner of the key whose [`key_hash`] is `hash` (taken first,
    /// so that the key may borrow from what the row then takes).
    #[inline]
    pub fn push(&mut self, hash: u64, row: V) {
        self.rows.push((hash, row));
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows, in the order they were pushed.
    pub fn into_rows(self) -> impl Iterator<Item = V> {
        self.rows.into_iter().map(|(_, v)| v)
    }
}

/// Each row to the process that owns its key, in order.
impl<V> Partition for ByKey<V> {
    fn split(self, n: usize) -> Vec<Self> {
        if n == 1 {
            return vec![self];
        }
        let mut parts: Vec<Self> = (0..n).map(|_| ByKey { rows: Vec::with_capacity(self.rows.len() / n) }).collect();
        for (h, v) in self.rows {
            parts[place(h, n)].rows.push((h, v));
        }
        parts
    }
}

/// A partial that splits over `n` processes: piece `j` is what process `j` merges.
pub trait Partition: Sized {
    /// The `n` pieces, in process order.
    fn split(self, n: usize) -> Vec<Self>;
}

/// By key: each process gets the keys it owns (read from the hashes the entries keep, which are
/// their keys' ownership hashes: no key is hashed again).
impl<K: Hash, A> Partition for StreamingAgg<K, A> {
    fn split(self, n: usize) -> Vec<Self> {
        if n == 1 {
            return vec![self];
        }
        self.split_by(n, |_, h| place(h, n))
    }
}

/// A DStream batch's keyed table (`reduce_by_key`, `count_by_value`, a window's pane), by key:
/// its table's hash of a key is the key's ownership hash ([`key_hash`]).
impl<K: Hash + Eq, V> Partition for KeyedReduce<K, V> {
    fn split(self, n: usize) -> Vec<Self> {
        if n == 1 {
            return vec![self];
        }
        self.split_by(n, |_, h| place(h, n))
    }
}

/// The same for the table of `&str` keys, whose entries keep their keys' hashes: so their
/// ownership hashes ([`key_hash`]), and no key is hashed again.
impl<V: Copy> Partition for StrReduce<'_, V> {
    fn split(self, n: usize) -> Vec<Self> {
        if n == 1 {
            return vec![self];
        }
        self.split_by(n, |_, h| place(h, n))
    }
}

/// Pairs on their way to a keyed state (`update_state_by_key`, `map_with_state`): each to the
/// process that owns its key, in order.
impl<K: Hash, V> Partition for Vec<(K, V)> {
    fn split(self, n: usize) -> Vec<Self> {
        if n == 1 {
            return vec![self];
        }
        let mut parts: Vec<Self> = (0..n).map(|_| Vec::with_capacity(self.len() / n)).collect();
        for (k, v) in self {
            parts[owner(&k, n)].push((k, v));
        }
        parts
    }
}

/// To every process: the event times observed, from which each computes the watermark.
impl Partition for Watermark {
    fn split(self, n: usize) -> Vec<Self> {
        (0..n).map(|_| Watermark::observed_part(self.observed().to_vec())).collect()
    }
}

/// A counter goes to process 0; the others get 0, so the merged counts add up once.
impl Partition for u64 {
    fn split(self, n: usize) -> Vec<Self> {
        let mut v = vec![0; n];
        v[0] = self;
        v
    }
}

impl Partition for () {
    fn split(self, n: usize) -> Vec<Self> {
        vec![(); n]
    }
}

macro_rules! tuples {
    ($(($($n:tt $t:ident),+))*) => {$(
        impl<$($t: Partition),+> Partition for ($($t,)+) {
            #[allow(non_snake_case)]
            fn split(self, n: usize) -> Vec<Self> {
                $(let mut $t = self.$n.split(n).into_iter();)+
                (0..n).map(|_| ($($t.next().expect("a piece per process"),)+)).collect()
            }
        }
    )*};
}

tuples! {
    (0 A)
    (0 A, 1 B)
    (0 A, 1 B, 2 C)
    (0 A, 1 B, 2 C, 3 D)
    (0 A, 1 B, 2 C, 3 D, 4 E)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L)
}

/// A state kept partitioned by key over a cluster's processes.
pub trait Partitioned: Checkpointed {
    /// Drops every key that process `me` of `n` does not own (after restoring the whole state).
    fn keep_partition(&mut self, me: usize, n: usize);
    /// One snapshot of the whole state from the snapshots of its pieces (as
    /// [`Checkpointed::save`] writes them), in process order.
    fn concat_snapshots(pieces: &[&[u8]]) -> Result<Vec<u8>, crate::error::Error>;
}

impl<K: Persist + Hash + Eq, A: Persist> Partitioned for StreamingAgg<K, A> {
    fn keep_partition(&mut self, me: usize, n: usize) {
        self.end_batch_evicting(|k, _| owner(k, n) != me);
    }

    /// The counts add up, the entries follow one another, piece by piece.
    fn concat_snapshots(pieces: &[&[u8]]) -> Result<Vec<u8>, crate::error::Error> {
        crate::structured::agg::concat_snapshots::<K, A>(pieces)
    }
}

impl<K: Persist + Hash + Eq, A: Persist> Partitioned for SessionAgg<K, A> {
    fn keep_partition(&mut self, me: usize, n: usize) {
        self.state.end_batch_evicting(|k, _| owner(k, n) != me);
    }

    /// A snapshot is the sessions' `StreamingAgg`'s.
    fn concat_snapshots(pieces: &[&[u8]]) -> Result<Vec<u8>, crate::error::Error> {
        crate::structured::agg::concat_snapshots::<K, Vec<Session<A>>>(pieces)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structured::time::Timestamp;

    #[test]
    fn pieces_merged_in_order_give_the_whole_state_back() {
        let mut agg: StreamingAgg<(Timestamp, String), i64> = StreamingAgg::new();
        let words: Vec<String> = (0..200).map(|i| format!("w{}", i % 37)).collect();
        for (i, w) in words.iter().enumerate() {
            agg.update((Timestamp(i as i64 % 3), w.as_str()), |c| *c += 1, || 0);
        }
        let whole: Vec<_> = agg.iter().map(|(k, a)| (k.clone(), *a)).collect();
        let mut snapshot = Vec::new();
        agg.save(&mut snapshot);
        for n in 1..=3 {
            let pieces = StreamingAgg::split(
                {
                    let mut a: StreamingAgg<(Timestamp, String), i64> = StreamingAgg::new();
                    a.restore(&snapshot).unwrap();
                    a
                },
                n,
            );
            assert_eq!(pieces.len(), n);
            let mut seen = 0;
            let mut saved = Vec::new();
            for (j, p) in pieces.iter().enumerate() {
                seen += p.len();
                assert!(p.iter().all(|(k, _)| owner(k, n) == j));
                let mut s = Vec::new();
                p.save(&mut s);
                saved.push(s);
                // Each piece keeps the state's order.
                let order: Vec<_> = p.iter().map(|(k, _)| k.clone()).collect();
                let expected: Vec<_> = whole.iter().filter(|(k, _)| owner(k, n) == j).map(|(k, _)| k.clone()).collect();
                assert_eq!(order, expected);
            }
            assert_eq!(seen, whole.len());
            // A piece answers lookups (it is put in a table when looked up): an update of a key
            // it holds changes that key and adds none.
            for (j, mut p) in StreamingAgg::split(
                {
                    let mut a: StreamingAgg<(Timestamp, String), i64> = StreamingAgg::new();
                    a.restore(&snapshot).unwrap();
                    a
                },
                n,
            )
            .into_iter()
            .enumerate()
            {
                let Some((key, count)) = whole.iter().find(|(k, _)| owner(k, n) == j) else { continue };
                let len = p.len();
                p.update((key.0, key.1.as_str()), |c| *c += 1, || 0);
                assert_eq!((p.len(), p.get((key.0, key.1.as_str()))), (len, Some(&(count + 1))));
            }
            let refs: Vec<&[u8]> = saved.iter().map(Vec::as_slice).collect();
            let joined = StreamingAgg::<(Timestamp, String), i64>::concat_snapshots(&refs).unwrap();
            let mut back: StreamingAgg<(Timestamp, String), i64> = StreamingAgg::new();
            back.restore(&joined).unwrap();
            let mut got: Vec<_> = back.iter().map(|(k, a)| (k.clone(), *a)).collect();
            let mut want = whole.clone();
            got.sort();
            want.sort();
            assert_eq!(got, want);
            // Restoring the whole state on process j of n keeps exactly piece j.
            for j in 0..n {
                let mut mine: StreamingAgg<(Timestamp, String), i64> = StreamingAgg::new();
                mine.restore(&joined).unwrap();
                mine.keep_partition(j, n);
                assert!(mine.iter().all(|(k, _)| owner(k, n) == j));
                assert_eq!(mine.len(), whole.iter().filter(|(k, _)| owner(k, n) == j).count());
            }
        }
    }

    #[test]
    fn ownership_spreads_keys_and_counters_go_to_process_0() {
        let mut hits = [0usize; 3];
        for i in 0..3000 {
            hits[owner(&format!("key{i}"), 3)] += 1;
        }
        assert!(hits.iter().all(|&h| h > 800), "{hits:?}");
        assert_eq!((7u64, ()).split(3), vec![(7, ()), (0, ()), (0, ())]);
    }
}

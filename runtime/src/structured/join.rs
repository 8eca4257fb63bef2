//! The state of one side of a stream-stream join (Spark's `SymmetricHashJoinStateManager`): the
//! side's rows buffered by join key, each with whether it has matched a row of the other side,
//! kept across batches until the watermark proves no future row of the other side can match.
//!
//! Per batch, as Spark's `StreamingSymmetricHashJoinExec`: every left row probes the right state
//! ([`probe`](JoinState::probe)), the rows it joins are marked matched, and it is buffered
//! ([`append`](JoinState::append)) unless it is already evictable; then every right row does the
//! same against the left state, which now holds this batch's left rows too (so a pair of new rows
//! joins once). Then [`evict`](JoinState::evict) removes what the state watermark passed, and an
//! outer join emits the removed rows that never matched, padded with NULLs.

use std::hash::Hash;

use super::agg::StreamingAgg;
use crate::error::Error;
use crate::owned::IntoOwned;
use crate::persist::{Checkpointed, Persist};

/// A buffered row and whether any row of the other side has joined it.
#[derive(Clone, Debug, PartialEq)]
pub struct JoinRow<V> {
    pub value: V,
    pub matched: bool,
}

impl<V: Persist> Persist for JoinRow<V> {
    fn write(&self, out: &mut Vec<u8>) {
        self.value.write(out);
        self.matched.write(out);
    }

    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        Ok(JoinRow { value: V::read(input)?, matched: bool::read(input)? })
    }

    fn heap_bytes(&self) -> usize {
        self.value.heap_bytes()
    }
}

/// One side's buffered rows `V` by join key `K`.
///
/// ```
/// use streamc_runtime::structured::join::JoinState;
/// let mut left: JoinState<Option<String>, (Option<String>, i64)> = JoinState::new();
/// left.append(Some("ad1"), (Some("ad1".into()), 5), false);
/// // A right row with key "ad1" probes the left rows and marks them matched.
/// for row in left.probe(Some("ad1")) {
///     row.matched = true;
/// }
/// let mut unmatched = Vec::new();
/// left.evict(|_, v| v.1 <= 10, |v, matched| if !matched { unmatched.push(v) });
/// assert!(unmatched.is_empty() && left.is_empty());
/// ```
pub struct JoinState<K, V> {
    groups: StreamingAgg<K, Vec<JoinRow<V>>>,
    rows: usize,
    appended: usize,
}

impl<K, V> Default for JoinState<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> JoinState<K, V> {
    pub fn new() -> Self {
        JoinState { groups: StreamingAgg::new(), rows: 0, appended: 0 }
    }

    /// The number of rows buffered.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The rows buffered under `key` (none for a key with a NULL part: SQL equality never holds
    /// for NULL, so such rows are never buffered under a key that others probe).
    #[inline]
    pub fn probe<Q>(&mut self, key: Q) -> &mut [JoinRow<V>]
    where
        Q: IntoOwned<Owned = K> + Hash,
        K: Hash,
    {
        match self.groups.get_mut(key) {
            Some(rows) => rows.as_mut_slice(),
            None => &mut [],
        }
    }

    /// Buffers `value` under `key` (copied to its owned form if new), matched or not.
    #[inline]
    pub fn append<Q>(&mut self, key: Q, value: V, matched: bool)
    where
        Q: IntoOwned<Owned = K> + Hash,
        K: Hash,
    {
        let row = JoinRow { value, matched };
        self.groups.update(key, |rows| rows.push(row), Vec::new);
        self.rows += 1;
        self.appended += 1;
    }

    /// Rows appended since the last [`evict`](Self::evict) (Spark's `numUpdatedStateRows`).
    pub fn updated_count(&self) -> usize {
        self.appended
    }

    /// Ends a batch without evicting (a side no watermark bounds).
    pub fn end_batch(&mut self) {
        self.appended = 0;
    }

    /// Removes every row for which `gone(key, value)` holds, handing each to `removed` with
    /// whether it ever matched, in state order; ends the batch.
    pub fn evict(&mut self, gone: impl Fn(&K, &V) -> bool, mut removed: impl FnMut(V, bool)) {
        let mut left = 0usize;
        for (k, rows) in self.groups.iter_mut() {
            if !rows.iter().any(|r| gone(k, &r.value)) {
                left += rows.len();
                continue;
            }
            for r in std::mem::take(rows) {
                if gone(k, &r.value) {
                    removed(r.value, r.matched);
                } else {
                    rows.push(r);
                }
            }
            left += rows.len();
        }
        self.groups.end_batch_evicting(|_, rows| rows.is_empty());
        self.rows = left;
        self.appended = 0;
    }
}

impl<K: Persist + Hash + Eq, V: Persist> Checkpointed for JoinState<K, V> {
    fn save(&self, out: &mut Vec<u8>) {
        self.groups.save(out);
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.groups.restore(bytes)?;
        self.rows = self.groups.iter().map(|(_, rows)| rows.len()).sum();
        self.appended = 0;
        Ok(())
    }
}

/// A join's state partitioned by join key over a cluster's processes: each process buffers the
/// rows of the keys it owns (the rows of one key only ever meet each other).
impl<K: Persist + Hash + Eq, V: Persist> crate::partition::Partitioned for JoinState<K, V> {
    fn keep_partition(&mut self, me: usize, n: usize) {
        self.groups.keep_partition(me, n);
        self.rows = self.groups.iter().map(|(_, rows)| rows.len()).sum();
    }

    fn concat_snapshots(pieces: &[&[u8]]) -> Result<Vec<u8>, Error> {
        <StreamingAgg<K, Vec<JoinRow<V>>> as crate::partition::Partitioned>::concat_snapshots(pieces)
    }
}

impl<K: Persist, V: Persist> crate::footprint::StateSize for JoinState<K, V> {
    fn rows(&self) -> usize {
        self.rows
    }
    fn memory_bytes(&self) -> u64 {
        crate::footprint::StateSize::memory_bytes(&self.groups)
    }
}

/// Both sides' states, reported as one operator (Spark's join reports its four stores as one).
pub struct Both<'a, A, B>(pub &'a A, pub &'a B);

impl<A: crate::footprint::StateSize, B: crate::footprint::StateSize> crate::footprint::StateSize for Both<'_, A, B> {
    fn rows(&self) -> usize {
        self.0.rows() + self.1.rows()
    }
    fn memory_bytes(&self) -> u64 {
        self.0.memory_bytes() + self.1.memory_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_by_value_and_reports_unmatched_rows_in_order() {
        let mut s: JoinState<i64, (i64, &'static str)> = JoinState::new();
        s.append(1i64, (10, "a"), false);
        s.append(2i64, (20, "b"), false);
        s.append(1i64, (30, "c"), false);
        s.probe(1i64)[1].matched = true;
        assert_eq!(s.len(), 3);
        let mut out = Vec::new();
        s.evict(|_, v| v.0 <= 30, |v, m| out.push((v.1, m)));
        assert_eq!(out, vec![("a", false), ("c", true), ("b", false)]);
        assert!(s.is_empty());
        assert!(s.probe(1i64).is_empty());
    }

    #[test]
    fn keeps_rows_above_the_bound_and_round_trips_a_checkpoint() {
        let mut s: JoinState<Option<String>, (i64, Option<String>)> = JoinState::new();
        s.append(Some("k"), (5, Some("x".into())), true);
        s.append(Some("k"), (50, None), false);
        s.evict(|_, v| v.0 <= 10, |_, _| {});
        assert_eq!(s.len(), 1);
        let mut bytes = Vec::new();
        s.save(&mut bytes);
        let mut back: JoinState<Option<String>, (i64, Option<String>)> = JoinState::new();
        back.restore(&bytes).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back.probe(Some("k"))[0], JoinRow { value: (50, None), matched: false });
    }
}

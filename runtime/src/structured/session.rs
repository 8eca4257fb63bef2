//! The state of a session-window aggregation (Spark's `session_window(time, gap)` with
//! `SessionWindowStateStoreRestoreExec` / `MergingSessionsExec` / `…SaveExec`).
//!
//! An event at `t` opens the session `[t, t + gap)`; sessions of one key that overlap or touch
//! (`next.start <= current.end`) merge into one, with their aggregates merged. Spark's rules, as
//! observed on Spark 4 (tests/data/spark/ss-extra):
//! - A batch's events of one key are first merged among themselves; each merged *batch session*
//!   is then late (dropped, counted in `numRowsDroppedByWatermark`) if its end is at or before
//!   the previous batch's watermark. So a late event that touches an on-time one in the same
//!   batch is kept.
//! - Surviving batch sessions merge with the key's sessions in state (one event can bridge two).
//! - Append mode emits, and evicts, every session whose end is at or before the batch's
//!   watermark; complete mode emits every session and evicts nothing (late input is still
//!   dropped). Update mode is refused by Spark (and by streamc's checker).

use std::hash::Hash;

use super::OutputMode;
use super::agg::StreamingAgg;
use super::time::Timestamp;
use crate::error::Error;
use crate::owned::IntoOwned;
use crate::persist::{Checkpointed, Persist};

/// One session: `[start, end)` and its aggregate.
pub type Session<A> = (Timestamp, Timestamp, A);

/// An output row of a session aggregation: `((start, end, key), aggregate)`.
pub type SessionRow<K, A> = ((Timestamp, Timestamp, K), A);

/// Session windows per key `K` with aggregates `A`.
///
/// ```
/// use streamc_runtime::structured::OutputMode;
/// use streamc_runtime::structured::session::SessionAgg;
/// use streamc_runtime::structured::time::{MICROS_PER_MINUTE as MIN, Timestamp};
/// let mut s: SessionAgg<(String,), i64> = SessionAgg::new();
/// for m in [0, 3, 20] {
///     s.add(("a",), Timestamp(m * MIN), 5 * MIN, |c| *c += 1, || 0);
/// }
/// let (rows, dropped) = s.finish_batch(OutputMode::Complete, None, None, |a, b| *a += b);
/// assert_eq!(dropped, 0);
/// assert_eq!(rows, vec![
///     ((Timestamp(0), Timestamp(8 * MIN), ("a".to_string(),)), 2),
///     ((Timestamp(20 * MIN), Timestamp(25 * MIN), ("a".to_string(),)), 1),
/// ]);
/// ```
pub struct SessionAgg<K, A> {
    /// Every key's sessions, sorted and disjoint.
    pub(crate) state: StreamingAgg<K, Vec<Session<A>>>,
    /// The batch's events so far, per key (each its own session, in the order added).
    pub(crate) pending: StreamingAgg<K, Vec<Session<A>>>,
    updated: usize,
}

impl<K, A> std::fmt::Debug for SessionAgg<K, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionAgg").field("sessions", &self.len()).finish()
    }
}

impl<K, A> Default for SessionAgg<K, A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, A> SessionAgg<K, A> {
    pub fn new() -> Self {
        SessionAgg { state: StreamingAgg::new(), pending: StreamingAgg::new(), updated: 0 }
    }

    /// A partial of a batch: its events `pending`, no sessions in state.
    pub(crate) fn with_pending(pending: StreamingAgg<K, Vec<Session<A>>>) -> Self {
        SessionAgg { pending, ..Self::new() }
    }

    /// Sessions in state (Spark's `numRowsTotal`).
    pub fn len(&self) -> usize {
        self.state.iter().map(|(_, v)| v.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sessions changed or created by the last finished batch (Spark's `numRowsUpdated`).
    pub fn updated_count(&self) -> usize {
        self.updated
    }

    /// Adds one event of this batch: the session `[ts, ts + gap_us)` of `key`, with the
    /// aggregate `init()` updated by `f`.
    #[inline]
    pub fn add<Q>(&mut self, key: Q, ts: Timestamp, gap_us: i64, f: impl FnOnce(&mut A), init: impl FnOnce() -> A)
    where
        Q: IntoOwned<Owned = K> + Hash,
        K: Hash,
    {
        let mut acc = init();
        f(&mut acc);
        let end = Timestamp(ts.0.saturating_add(gap_us));
        self.pending.update(key, |v| v.push((ts, end, acc)), Vec::new);
    }

    /// Adds the events of `part` (a partial of this batch, over a later part of its input) after
    /// the ones added so far, key by key. `finish_batch` sorts a key's events by time, so
    /// absorbing the parts of a batch in order gives the state one pass over the whole batch
    /// gives. The aggregates merge only then (`_merge` is the one `finish_batch` takes: the
    /// call has the shape of [`StreamingAgg::absorb`]'s).
    pub fn absorb(&mut self, part: SessionAgg<K, A>, _merge: impl FnMut(&mut A, A))
    where
        K: Hash + Eq,
    {
        self.pending.absorb(part.pending, |mine, theirs| mine.extend(theirs));
    }

    /// Ends the batch: merges its events into sessions, drops the late ones (against `late`,
    /// the previous batch's watermark, in every output mode, as Spark does), merges the rest
    /// into state, and returns the output rows for `mode` with the batch's `watermark`, and the
    /// number of dropped batch sessions.
    pub fn finish_batch(
        &mut self,
        mode: OutputMode,
        late: Option<Timestamp>,
        watermark: Option<Timestamp>,
        merge: impl Fn(&mut A, A),
    ) -> (Vec<SessionRow<K, A>>, u64)
    where
        K: Clone + Hash + Eq,
        A: Clone,
    {
        let mut dropped = 0u64;
        self.updated = 0;
        let pending = std::mem::take(&mut self.pending);
        let mut updated = 0;
        for (key, mut events) in pending.into_entries() {
            events.sort_by_key(|s| (s.0, s.1));
            let mut merged: Vec<Session<A>> = Vec::new();
            for s in events {
                match merged.last_mut() {
                    Some(cur) if s.0 <= cur.1 => {
                        cur.1 = cur.1.max(s.1);
                        merge(&mut cur.2, s.2);
                    }
                    _ => merged.push(s),
                }
            }
            let before = merged.len();
            merged.retain(|s| late.is_none_or(|l| s.1 > l));
            dropped += (before - merged.len()) as u64;
            if merged.is_empty() {
                continue;
            }
            self.state.update_owned(
                key,
                |sessions| {
                    let starts: Vec<Timestamp> =
                        merged.into_iter().map(|s| insert_session(sessions, s, &merge)).collect();
                    // A session that absorbed several of the batch's sessions counts once.
                    updated += sessions.iter().filter(|s| starts.iter().any(|t| s.0 <= *t && *t <= s.1)).count();
                },
                Vec::new,
            );
        }
        self.updated = updated;
        let mut out = Vec::new();
        match mode {
            OutputMode::Complete => {
                for (k, sessions) in self.state.iter() {
                    out.extend(sessions.iter().map(|s| ((s.0, s.1, k.clone()), s.2.clone())));
                }
            }
            OutputMode::Append | OutputMode::Update => {
                if let Some(wm) = watermark {
                    for (k, sessions) in self.state.iter_mut() {
                        sessions.retain(|s| {
                            if s.1 <= wm {
                                out.push(((s.0, s.1, k.clone()), s.2.clone()));
                                false
                            } else {
                                true
                            }
                        });
                    }
                }
            }
        }
        self.state.end_batch_evicting(|_, sessions| sessions.is_empty());
        (out, dropped)
    }
}

/// Inserts `new` into the sorted, disjoint `sessions`, merging every session it overlaps or
/// touches; returns the start of the resulting session.
fn insert_session<A>(sessions: &mut Vec<Session<A>>, new: Session<A>, merge: &impl Fn(&mut A, A)) -> Timestamp {
    let (mut start, mut end, mut acc) = new;
    let mut i = 0;
    let mut at = sessions.len();
    while i < sessions.len() {
        let s = &sessions[i];
        if s.0 <= end && start <= s.1 {
            let (s_start, s_end, s_acc) = sessions.remove(i);
            start = start.min(s_start);
            end = end.max(s_end);
            let mut base = s_acc;
            merge(&mut base, acc);
            acc = base;
            at = at.min(i);
            continue;
        }
        if s.0 > end {
            at = at.min(i);
            break;
        }
        i += 1;
    }
    let at = at.min(sessions.len());
    sessions.insert(at, (start, end, acc));
    start
}

/// Saves every key's sessions; taken between batches, when nothing is pending.
impl<K: Persist + Hash + Eq, A: Persist> Checkpointed for SessionAgg<K, A> {
    fn save(&self, out: &mut Vec<u8>) {
        self.state.save(out)
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.state.restore(bytes)?;
        self.pending = StreamingAgg::new();
        Ok(())
    }
}

impl<K: Persist, A: Persist> crate::footprint::StateSize for SessionAgg<K, A> {
    fn rows(&self) -> usize {
        self.len()
    }
    fn memory_bytes(&self) -> u64 {
        self.state.memory_bytes() + self.pending.memory_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structured::time::MICROS_PER_MINUTE as MIN;

    fn t(m: i64) -> Timestamp {
        Timestamp(m * MIN)
    }

    #[test]
    fn an_event_bridging_two_sessions_merges_them() {
        let mut s: SessionAgg<(String,), i64> = SessionAgg::new();
        s.add(("a",), t(0), 5 * MIN, |c| *c += 1, || 0);
        s.add(("a",), t(7), 5 * MIN, |c| *c += 1, || 0);
        let (rows, _) = s.finish_batch(OutputMode::Complete, None, None, |a, b| *a += b);
        assert_eq!(rows.len(), 2);
        s.add(("a",), t(4), 5 * MIN, |c| *c += 1, || 0);
        let (rows, _) = s.finish_batch(OutputMode::Complete, None, None, |a, b| *a += b);
        assert_eq!(rows, vec![((t(0), t(12), ("a".to_string(),)), 3)]);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn late_batch_sessions_are_dropped_after_merging_within_the_batch() {
        let mut s: SessionAgg<(String,), i64> = SessionAgg::new();
        // Alone, 12:02 (end 12:07) is late against 12:08; merged with 12:05 (end 12:10) it is not.
        s.add(("a",), t(2), 5 * MIN, |c| *c += 1, || 0);
        s.add(("a",), t(5), 5 * MIN, |c| *c += 1, || 0);
        s.add(("b",), t(1), 5 * MIN, |c| *c += 1, || 0);
        let (rows, dropped) = s.finish_batch(OutputMode::Complete, Some(t(8)), None, |a, b| *a += b);
        assert_eq!(dropped, 1);
        assert_eq!(rows, vec![((t(2), t(10), ("a".to_string(),)), 2)]);
    }

    #[test]
    fn partials_cut_by_key_and_absorbed_in_order_give_one_pass_sessions() {
        use crate::partition::{Partition, Partitioned, owner};
        use crate::persist::Checkpointed;
        use crate::ship::{Received, ship_all, unship_all};
        // Events of words, with a first and a last event seen per session (order matters).
        let events: Vec<(String, i64)> = (0..300).map(|i| (format!("w{}", i % 7), (i * 37) % 90)).collect();
        type First = (i64, i64);
        let add = |s: &mut SessionAgg<(String,), First>, (w, m): &(String, i64)| {
            s.add((w.as_str(),), t(*m), 3 * MIN, |a| a.1 = *m, || (*m, *m));
        };
        let merge = |a: &mut First, b: First| a.1 = b.1;
        let mut whole: SessionAgg<(String,), First> = SessionAgg::new();
        events.iter().for_each(|e| add(&mut whole, e));
        let (mut want, _) = whole.finish_batch(OutputMode::Complete, None, None, merge);
        want.sort();
        for n in 1..=3 {
            // Each of `n` processes runs a part of the batch; piece `j` of every part goes to `j`.
            let mut states: Vec<SessionAgg<(String,), First>> = (0..n).map(|_| SessionAgg::new()).collect();
            let received = Received::default();
            for part in events.chunks(events.len().div_ceil(n)) {
                let mut partial = SessionAgg::new();
                part.iter().for_each(|e| add(&mut partial, e));
                for (j, piece) in partial.split(n).into_iter().enumerate() {
                    let back: Vec<SessionAgg<(String,), First>> =
                        unship_all(received.keep(ship_all(&[piece]))).unwrap();
                    back.into_iter().for_each(|p| states[j].absorb(p, merge));
                }
            }
            let mut got = Vec::new();
            let mut shards = Vec::new();
            for (j, s) in states.iter_mut().enumerate() {
                let (rows, _) = s.finish_batch(OutputMode::Complete, None, None, merge);
                assert!(rows.iter().all(|r| owner(&(r.0).2, n) == j));
                got.extend(rows);
                let mut shard = Vec::new();
                s.save(&mut shard);
                shards.push(shard);
            }
            got.sort();
            assert_eq!(got, want, "{n} processes");
            // The shards put together and cut again for 2 processes hold every session once.
            let pieces: Vec<&[u8]> = shards.iter().map(Vec::as_slice).collect();
            let joined = SessionAgg::<(String,), First>::concat_snapshots(&pieces).unwrap();
            let total: usize = (0..2)
                .map(|me| {
                    let mut s: SessionAgg<(String,), First> = SessionAgg::new();
                    s.restore(&joined).unwrap();
                    s.keep_partition(me, 2);
                    assert!(s.state.iter().all(|(k, _)| owner(k, 2) == me));
                    s.len()
                })
                .sum();
            assert_eq!(total, whole.len());
        }
    }

    #[test]
    fn append_emits_and_evicts_sessions_closed_by_the_watermark() {
        let mut s: SessionAgg<(String,), i64> = SessionAgg::new();
        s.add(("a",), t(0), 5 * MIN, |c| *c += 1, || 0);
        s.add(("a",), t(30), 5 * MIN, |c| *c += 1, || 0);
        let (rows, _) = s.finish_batch(OutputMode::Append, Some(Timestamp::EPOCH), Some(t(5)), |a, b| *a += b);
        assert_eq!(rows, vec![((t(0), t(5), ("a".to_string(),)), 1)]);
        assert_eq!(s.len(), 1);
    }
}

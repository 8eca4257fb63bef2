//! `update_state_by_key`'s and `map_with_state`'s states partitioned by key over a cluster's
//! processes ([`crate::partition`]): each process keeps the keys it owns. Both snapshots are an
//! entry count followed by the entries, so pieces put together are the counts added up and the
//! entries one piece after another.

use std::hash::Hash;

use super::table::index_of;
use super::{MapWithState, UpdateState};
use crate::error::Error;
use crate::partition::{Partitioned, owner};
use crate::persist::Persist;

/// The snapshots of `pieces` (each a `u64` count, then its entries) as one.
fn concat_counted(pieces: &[&[u8]]) -> Result<Vec<u8>, Error> {
    let mut total = 0u64;
    let mut entries = Vec::with_capacity(pieces.iter().map(|p| p.len()).sum());
    for piece in pieces {
        let mut input = *piece;
        total += u64::read(&mut input)?;
        entries.extend_from_slice(input);
    }
    let mut out = Vec::with_capacity(entries.len() + 8);
    total.write(&mut out);
    out.extend_from_slice(&entries);
    Ok(out)
}

impl<K: Persist + Hash + Eq, S: Persist> Partitioned for UpdateState<K, S> {
    fn keep_partition(&mut self, me: usize, n: usize) {
        self.entries.retain(|(k, _)| owner(k, n) == me);
        self.table = index_of(&self.hasher, &self.entries, |e| &e.0).expect("a state's keys are distinct");
    }

    fn concat_snapshots(pieces: &[&[u8]]) -> Result<Vec<u8>, Error> {
        concat_counted(pieces)
    }
}

impl<K: Persist + Hash + Eq, S: Persist> Partitioned for MapWithState<K, S> {
    fn keep_partition(&mut self, me: usize, n: usize) {
        let timed = !self.times.is_empty() || self.timeout_ms.is_some();
        let mut times = std::mem::take(&mut self.times).into_iter();
        let mut kept_times = Vec::new();
        self.entries.retain(|slot| {
            let time = times.next();
            let keep = owner(&slot.key, n) == me;
            if keep && let Some(t) = time {
                kept_times.push(t);
            }
            keep
        });
        self.times = if timed { kept_times } else { Vec::new() };
        self.table = index_of(&self.hasher, &self.entries, |s| &s.key).expect("a state's keys are distinct");
    }

    fn concat_snapshots(pieces: &[&[u8]]) -> Result<Vec<u8>, Error> {
        concat_counted(pieces)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::Checkpointed;
    use crate::state::{KeyedGroup, running_sum, running_sum_mapped};

    #[test]
    fn parts_of_a_state_keep_their_keys_and_put_back_the_whole() {
        let mut update: UpdateState<String, i64> = UpdateState::new();
        let mut mapped: MapWithState<String, i64> = MapWithState::new(Some(5000));
        for t in 1..=3i64 {
            let mut g = KeyedGroup::new();
            for i in 0..50 {
                let k = format!("k{}", (i * t) % 31);
                g.push(k.clone(), 1i64);
                mapped.call(k, 1i64, t * 1000, &mut running_sum_mapped);
            }
            update.update(g, &mut running_sum);
        }
        let (mut us, mut ms) = (Vec::new(), Vec::new());
        update.save(&mut us);
        mapped.save(&mut ms);
        let sorted = |mut v: Vec<(String, i64)>| {
            v.sort();
            v
        };
        for n in 1..=3 {
            let (mut u_shards, mut m_shards, mut seen) = (Vec::new(), Vec::new(), 0);
            for me in 0..n {
                let mut u: UpdateState<String, i64> = UpdateState::new();
                u.restore(&us).unwrap();
                u.keep_partition(me, n);
                assert!(u.snapshots().iter().all(|(k, _)| owner(k, n) == me));
                seen += u.len();
                let mut m: MapWithState<String, i64> = MapWithState::new(Some(5000));
                m.restore(&ms).unwrap();
                m.keep_partition(me, n);
                assert_eq!(m.times.len(), m.len());
                assert!(m.snapshots().iter().all(|(k, _)| owner(k, n) == me));
                let (mut a, mut b) = (Vec::new(), Vec::new());
                u.save(&mut a);
                m.save(&mut b);
                u_shards.push(a);
                m_shards.push(b);
            }
            assert_eq!(seen, update.len());
            let refs: Vec<&[u8]> = u_shards.iter().map(Vec::as_slice).collect();
            let mut u: UpdateState<String, i64> = UpdateState::new();
            u.restore(&UpdateState::<String, i64>::concat_snapshots(&refs).unwrap()).unwrap();
            assert_eq!(sorted(u.snapshots()), sorted(update.snapshots()));
            let refs: Vec<&[u8]> = m_shards.iter().map(Vec::as_slice).collect();
            let mut m: MapWithState<String, i64> = MapWithState::new(Some(5000));
            m.restore(&MapWithState::<String, i64>::concat_snapshots(&refs).unwrap()).unwrap();
            assert_eq!(sorted(m.snapshots()), sorted(mapped.snapshots()));
        }
    }
}

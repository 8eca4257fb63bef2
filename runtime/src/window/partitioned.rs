//! The keyed windows of `reduce_by_key_and_window` partitioned by key over a cluster's
//! processes ([`crate::partition`]): each process keeps the panes' entries of the keys it owns.
//! A window's panes hold each key at most once and a key's values combine pane by pane, oldest
//! first, so a process's part gives exactly its keys' windows.

use std::hash::Hash;

use super::{InvKeyedWindow, KeyedWindow, Panes, Restored, insert_pane};
use crate::error::Error;
use crate::partition::{Partitioned, owner};
use crate::persist::{Persist, read_all};

/// Keeps the entries of the keys process `me` of `n` owns, in every pane.
fn keep_panes<K: Hash, V>(panes: &mut Panes<(K, V)>, me: usize, n: usize) {
    for (_, pane) in panes.iter_mut() {
        pane.retain(|(k, _)| owner(k, n) == me);
    }
    panes.retain(|(_, pane)| !pane.is_empty());
}

/// The panes of every piece in one deque: a time's entries piece after piece.
fn concat_panes<T>(pieces: Vec<Panes<T>>) -> Panes<T> {
    let mut all = Panes::new();
    for panes in pieces {
        for (t, items) in panes {
            insert_pane(&mut all, t, items);
        }
    }
    all
}

impl<K: Persist + Hash + Eq, V: Persist> Partitioned for KeyedWindow<K, V> {
    fn keep_partition(&mut self, me: usize, n: usize) {
        keep_panes(&mut self.panes, me, n);
        // The last slide's result is only a cache of keys to reuse.
        self.last.clear();
        self.index.clear();
    }

    fn concat_snapshots(pieces: &[&[u8]]) -> Result<Vec<u8>, Error> {
        let panes =
            pieces.iter().map(|p| read_all::<Restored<Panes<(K, V)>>>(p).map(|r| r.0)).collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        concat_panes(panes).write(&mut out);
        Ok(out)
    }
}

impl<K: Persist + Hash + Eq, V: Persist> Partitioned for InvKeyedWindow<K, V> {
    fn keep_partition(&mut self, me: usize, n: usize) {
        let mut panes = std::mem::take(&mut self.panes);
        keep_panes(&mut panes, me, n);
        let mut window = std::mem::take(&mut self.window);
        window.retain(|(k, _)| owner(k, n) == me);
        self.set_restored(panes, window).expect("a part of a window holds each key once");
    }

    /// The panes as for [`KeyedWindow`]; the previous windows follow one another (each key is
    /// in one piece).
    fn concat_snapshots(pieces: &[&[u8]]) -> Result<Vec<u8>, Error> {
        let mut panes = Vec::with_capacity(pieces.len());
        let mut window: Vec<(K, V)> = Vec::new();
        for p in pieces {
            let (Restored(p), w) = read_all::<(Restored<Panes<(K, V)>>, Vec<(K, V)>)>(p)?;
            panes.push(p);
            window.extend(w);
        }
        let mut out = Vec::new();
        concat_panes(panes).write(&mut out);
        window.write(&mut out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::Checkpointed;

    fn panes_of(w: &KeyedWindow<String, i64>) -> Vec<(i64, Vec<(String, i64)>)> {
        w.panes.iter().cloned().collect()
    }

    #[test]
    fn parts_of_a_window_give_each_key_its_window_and_put_back_the_whole() {
        let mut whole: KeyedWindow<String, i64> = KeyedWindow::new(3000);
        let mut inv: InvKeyedWindow<String, i64> = InvKeyedWindow::new(3000, 1000);
        for t in 1..=4i64 {
            let pane: Vec<(String, i64)> = (0..40).map(|i| (format!("k{}", (i * t) % 23), i)).collect();
            let mut reduced = crate::state::KeyedReduce::new();
            for (k, v) in pane {
                reduced.merge(k, v, &mut |a, b| a + b);
            }
            whole.push_pane(t * 1000, reduced.as_slice().to_vec());
            inv.push_pane(t * 1000, reduced.into_vec());
            inv.slide(t * 1000, &mut |a, b| a + b, &mut |a, b| a - b, &mut |_| true);
        }
        let (mut snapshot, mut inv_snapshot) = (Vec::new(), Vec::new());
        whole.save(&mut snapshot);
        inv.save(&mut inv_snapshot);
        let mut want: Vec<(String, i64)> = whole.reduce(4000, &mut |a, b| a + b, &mut |_| true).to_vec();
        want.sort();
        for n in 1..=3 {
            let (mut got, mut shards, mut inv_shards) = (Vec::new(), Vec::new(), Vec::new());
            for me in 0..n {
                let mut part: KeyedWindow<String, i64> = KeyedWindow::new(3000);
                part.restore(&snapshot).unwrap();
                part.keep_partition(me, n);
                let mut s = Vec::new();
                part.save(&mut s);
                shards.push(s);
                got.extend(part.reduce(4000, &mut |a, b| a + b, &mut |_| true).iter().cloned());
                let mut ipart: InvKeyedWindow<String, i64> = InvKeyedWindow::new(3000, 1000);
                ipart.restore(&inv_snapshot).unwrap();
                ipart.keep_partition(me, n);
                assert!(ipart.window.iter().all(|(k, _)| owner(k, n) == me));
                let mut s = Vec::new();
                ipart.save(&mut s);
                inv_shards.push(s);
            }
            got.sort();
            assert_eq!(got, want, "{n} parts");
            let refs: Vec<&[u8]> = shards.iter().map(Vec::as_slice).collect();
            let mut back: KeyedWindow<String, i64> = KeyedWindow::new(3000);
            back.restore(&KeyedWindow::<String, i64>::concat_snapshots(&refs).unwrap()).unwrap();
            let sorted = |w: &KeyedWindow<String, i64>| {
                panes_of(w)
                    .into_iter()
                    .map(|(t, mut p)| {
                        p.sort();
                        (t, p)
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(sorted(&back), sorted(&whole));
            let refs: Vec<&[u8]> = inv_shards.iter().map(Vec::as_slice).collect();
            let mut iback: InvKeyedWindow<String, i64> = InvKeyedWindow::new(3000, 1000);
            iback.restore(&InvKeyedWindow::<String, i64>::concat_snapshots(&refs).unwrap()).unwrap();
            let (mut a, mut b) = (iback.window.clone(), inv.window.clone());
            a.sort();
            b.sort();
            assert_eq!(a, b, "{n} parts");
        }
    }
}

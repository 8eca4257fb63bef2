//! Unit tests of the keyed tables: their laws against a model, snapshots, compaction.

use std::hash::BuildHasher;

use super::map_with_state::{Slot, UNSET};
use super::table::index_u32;
use super::*;
use crate::persist::{Checkpointed, Persist};
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use crate::test_rng::xorshift;

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

/// A `StrReduce` cut by owner (pieces not indexed), shipped and read back (not indexed either),
/// then merged: the pieces absorbed in order give the table back, and a table that took a piece
/// over (its index built then) finds its keys when more are merged.
#[test]
fn str_reduce_pieces_without_an_index_merge_back_whole() {
    use crate::ship::{ship_all, unship_all};
    let words: Vec<String> = (0..3000).map(|i| format!("w{}{}", i % 700, "x".repeat(i % 23))).collect();
    let mut whole = StrReduce::new();
    for w in &words {
        whole.merge(w, 1i64, &mut |a, b| a + b);
    }
    let expected: Vec<(&str, i64)> = whole.iter().map(|(k, v)| (k, *v)).collect();
    for n in 1..5 {
        let mut copy = StrReduce::new();
        for w in &words {
            copy.merge(w, 1i64, &mut |a, b| a + b);
        }
        let pieces = copy.split_by(n, |k, _| k.len() % n);
        let bytes = ship_all(&pieces);
        let back: Vec<StrReduce<'_, i64>> = unship_all(&bytes).unwrap();
        let mut merged = StrReduce::new();
        for p in back {
            merged.absorb(p, &mut |a, b| a + b);
        }
        let mut got: Vec<(&str, i64)> = merged.iter().map(|(k, v)| (k, *v)).collect();
        let mut want = expected.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{n} pieces");
        // Merging again finds every key (one more each), adds none.
        for w in &words {
            merged.merge(w, 1i64, &mut |a, b| a + b);
        }
        assert_eq!(merged.len(), expected.len());
        let total: i64 = merged.iter().map(|(_, v)| *v).sum();
        assert_eq!(total, 2 * words.len() as i64);
    }
}

/// The room a table asks for the next batch: its keys outside a cluster; in a cluster, the keys
/// of the largest partial its pieces were cut from (a partial holds the keys every process owns,
/// so a partial sized for one process's keys grew every batch), whichever piece it took first.
#[test]
fn str_reduce_room_is_the_partial_size_in_a_cluster() {
    use crate::ship::{ship_all, unship_all};
    fn cut(words: &[String]) -> Vec<StrReduce<'_, i64>> {
        let mut t = StrReduce::new();
        for w in words {
            t.merge(w, 1i64, &mut |a, b| a + b);
        }
        // Process 0 owns the keys that end in 0: a tenth of them.
        t.split_by(2, |k, _| usize::from(!k.ends_with('0')))
    }
    let words: Vec<String> = (0..500).map(|i| format!("w{i}")).collect();
    let mut alone = StrReduce::new();
    for w in &words {
        alone.merge(w, 1i64, &mut |a, b| a + b);
    }
    assert_eq!((alone.len(), alone.room()), (500, 500));
    // Process 0 cut a partial of 300 keys; process 1 one of 200 and sent process 0 its piece.
    let bytes = ship_all(&cut(&words[300..])[..1]);
    let owned = words.iter().filter(|w| w.ends_with('0')).count();
    for own_first in [true, false] {
        let own = cut(&words[..300]).swap_remove(0);
        let received: Vec<StrReduce<'_, i64>> = unship_all(&bytes).unwrap();
        let mut pieces = vec![own];
        if own_first {
            pieces.extend(received);
        } else {
            pieces.splice(0..0, received);
        }
        let mut merged = StrReduce::with_capacity(10);
        for p in pieces {
            merged.absorb(p, &mut |a, b| a + b);
        }
        assert_eq!((merged.len(), merged.room()), (owned, 300), "own piece first: {own_first}");
    }
}

/// The same room for the generic table.
#[test]
fn keyed_reduce_room_is_the_partial_size_in_a_cluster() {
    let cut = |keys: std::ops::Range<u32>| {
        let mut t = KeyedReduce::new();
        for k in keys {
            t.merge(k, 1i64, &mut |a, b| a + b);
        }
        // Process 0 owns a tenth of the keys.
        t.split_by(2, |k, _| usize::from(k % 10 != 0))
    };
    let mut alone = KeyedReduce::new();
    for k in 0..500u32 {
        alone.merge(k, 1i64, &mut |a, b| a + b);
    }
    assert_eq!((alone.len(), alone.room()), (500, 500));
    for own_first in [true, false] {
        let own = cut(0..300).swap_remove(0);
        let theirs = cut(300..500).swap_remove(0);
        let (a, b) = if own_first { (own, theirs) } else { (theirs, own) };
        let mut merged = KeyedReduce::with_capacity(10);
        merged.absorb(a, &mut |x, y| x + y);
        merged.absorb(b, &mut |x, y| x + y);
        assert_eq!((merged.len(), merged.room()), (50, 300), "own piece first: {own_first}");
    }
}

/// A `&str` table cut for a cluster (`Partition::split`, which reads each key's owner from the
/// hash its entry keeps) gives every process the keys `partition::owner` says it owns, in the
/// table's order: the table's hash is the ownership hash. The same for the generic table, which
/// hashes each key once for its owner and its piece.
#[test]
fn str_reduce_cut_by_its_hashes_is_cut_by_owner() {
    use crate::partition::{Partition, owner};
    let mut seed = 11u64;
    let words: Vec<String> = (0..3000).map(|_| format!("w{}", xorshift(&mut seed) % 900)).collect();
    let table = || {
        let mut t = StrReduce::new();
        for (i, w) in words.iter().enumerate() {
            t.merge(w, i as i64, &mut |a, b| a.max(b));
        }
        t
    };
    for n in 1..=4 {
        let want: Vec<Vec<(&str, i64)>> =
            table().split_by(n, |k, _| owner(k, n)).into_iter().map(StrReduce::into_vec).collect();
        let got: Vec<Vec<(&str, i64)>> = table().split(n).into_iter().map(StrReduce::into_vec).collect();
        assert_eq!(got, want, "{n} processes");
        if n > 1 {
            assert!(
                want.iter().all(|p| p.len() > 900 / n / 2),
                "{n} processes: {:?}",
                want.iter().map(Vec::len).collect::<Vec<_>>()
            );
        }
        let keyed = || {
            let mut t = KeyedReduce::new();
            for (i, w) in words.iter().enumerate() {
                t.merge((w.as_str(), i % 3), i as i64, &mut |a, b| a.max(b));
            }
            t
        };
        let want: Vec<Vec<((&str, usize), i64)>> =
            keyed().split_by(n, |k, _| owner(k, n)).into_iter().map(KeyedReduce::into_vec).collect();
        let got: Vec<Vec<((&str, usize), i64)>> = keyed().split(n).into_iter().map(KeyedReduce::into_vec).collect();
        assert_eq!(got, want, "{n} processes, generic table");
    }
}

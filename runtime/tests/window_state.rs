//! Windows, stateful operators and joins, tested through data: against Apache Spark's outputs
//! for the same inputs (../shared/spark-oracle/examples/expected/ds-scala.jsonl), against
//! from-scratch recomputations on random inputs, and across a checkpoint save and restore.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind};

use streamc_runtime::join::{
    Cogrouped, OuterPair, cogroup, count_by_value, full_outer_join, group_by_key, join, left_outer_join,
    right_outer_join,
};
use streamc_runtime::ops::{self, Ty};
use streamc_runtime::persist::Checkpointed;
use streamc_runtime::state::{KeyedGroup, KeyedReduce, MapWithState, State, UpdateState};
use streamc_runtime::window::{InvKeyedWindow, KeyedWindow, Window};

const MS: i64 = 1000; // the batch interval

/// The input of the Spark goldens (spark-oracle/examples/wordcount.json) with the three empty
/// batches the oracle appends (`--extra-batches 3`).
const WORDCOUNT: [&[&str]; 7] = [&["the cat sat", "the dog"], &["the cat ran"], &[], &["dog dog owl"], &[], &[], &[]];

fn words(batch: &[&'static str]) -> impl Iterator<Item = &'static str> {
    batch.iter().flat_map(|line| line.split(' '))
}

/// The batch reduced by key, as the pane of a keyed window.
fn word_counts(batch: &[&'static str]) -> Vec<(&'static str, i64)> {
    let mut t = KeyedReduce::new();
    for w in words(batch) {
        t.merge(w, 1, &mut |a, b| a + b);
    }
    t.into_vec()
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

fn pairs(s: &str) -> Vec<(String, i64)> {
    if s.is_empty() {
        return Vec::new();
    }
    s.split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), v.parse().unwrap())
        })
        .collect()
}

fn owned<K: ToString + Clone, V: Clone>(v: &[(K, V)]) -> Vec<(String, V)> {
    v.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// A small deterministic generator (xorshift), so the law tests need no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

// ----- Spark goldens ------------------------------------------------------------------------

/// ds-window: reduceByKeyAndWindow(+, 3 batches, 1 batch).
const SPARK_WINDOW: [&str; 7] = [
    "cat=1 dog=1 sat=1 the=2",
    "cat=2 dog=1 ran=1 sat=1 the=3",
    "cat=2 dog=1 ran=1 sat=1 the=3",
    "cat=1 dog=2 owl=1 ran=1 the=1",
    "dog=2 owl=1",
    "dog=2 owl=1",
    "",
];

/// ds-window-inv: reduceByKeyAndWindow(+, -, 3 batches, 1 batch): keys at 0 stay.
const SPARK_WINDOW_INV: [&str; 7] = [
    "cat=1 dog=1 sat=1 the=2",
    "cat=2 dog=1 ran=1 sat=1 the=3",
    "cat=2 dog=1 ran=1 sat=1 the=3",
    "cat=1 dog=2 owl=1 ran=1 sat=0 the=1",
    "cat=0 dog=2 owl=1 ran=0 sat=0 the=0",
    "cat=0 dog=2 owl=1 ran=0 sat=0 the=0",
    "cat=0 dog=0 owl=0 ran=0 sat=0 the=0",
];

/// ds-updatestate: updateStateByKey(sum(new) + old): every key, every batch.
const SPARK_UPDATE_STATE: [&str; 7] = [
    "cat=1 dog=1 sat=1 the=2",
    "cat=2 dog=1 ran=1 sat=1 the=3",
    "cat=2 dog=1 ran=1 sat=1 the=3",
    "cat=2 dog=3 owl=1 ran=1 sat=1 the=3",
    "cat=2 dog=3 owl=1 ran=1 sat=1 the=3",
    "cat=2 dog=3 owl=1 ran=1 sat=1 the=3",
    "cat=2 dog=3 owl=1 ran=1 sat=1 the=3",
];

/// ds-mapwithstate: the running count after each record (rows), then the state snapshot.
const SPARK_MAP_WITH_STATE: [(&str, &str); 7] = [
    ("cat=1 dog=1 sat=1 the=1 the=2", "cat=1 dog=1 sat=1 the=2"),
    ("cat=2 ran=1 the=3", "cat=2 dog=1 ran=1 sat=1 the=3"),
    ("", "cat=2 dog=1 ran=1 sat=1 the=3"),
    ("dog=2 dog=3 owl=1", "cat=2 dog=3 owl=1 ran=1 sat=1 the=3"),
    ("", "cat=2 dog=3 owl=1 ran=1 sat=1 the=3"),
    ("", "cat=2 dog=3 owl=1 ran=1 sat=1 the=3"),
    ("", "cat=2 dog=3 owl=1 ran=1 sat=1 the=3"),
];

#[test]
fn reduce_by_key_and_window_matches_spark() {
    let mut plain = KeyedWindow::new(3 * MS);
    let mut inv = InvKeyedWindow::new(3 * MS, MS);
    let mut inv_filtered = InvKeyedWindow::new(3 * MS, MS);
    let mut all_words = Window::new(3 * MS);
    let (mut add, mut sub) = (|a: i64, b: i64| a + b, |a: i64, b: i64| a - b);
    for (i, batch) in WORDCOUNT.iter().enumerate() {
        let t = (i as i64 + 1) * MS;
        let pane = word_counts(batch);
        plain.push_pane(t, pane.clone());
        inv.push_pane(t, pane.clone());
        inv_filtered.push_pane(t, pane);
        all_words.push(t, words(batch).collect());

        assert_eq!(
            sorted(owned(plain.reduce(t, &mut add, &mut |_| true))),
            pairs(SPARK_WINDOW[i]),
            "window, batch {i}"
        );
        let got = inv.slide(t, &mut add, &mut sub, &mut |_| true);
        assert_eq!(sorted(owned(got)), pairs(SPARK_WINDOW_INV[i]), "inverse window, batch {i}");
        let got = inv_filtered.slide(t, &mut add, &mut sub, &mut |(_, v)| *v != 0);
        assert_eq!(sorted(owned(got)), pairs(SPARK_WINDOW[i]), "filtered inverse window, batch {i}");
        // `window` then count by value is the same window.
        let counted = count_by_value(all_words.collect(t));
        assert_eq!(sorted(owned(&counted)), pairs(SPARK_WINDOW[i]), "window + count_by_value, batch {i}");
    }
}

#[test]
fn update_state_by_key_matches_spark() {
    let mut state = UpdateState::new();
    let (mut f, _) = ops::update_state_by_key(Ty::<(&str, i64)>::new(), |vs: &[i64], st: Option<i64>| {
        Some(vs.iter().sum::<i64>() + st.unwrap_or(0))
    });
    for (i, batch) in WORDCOUNT.iter().enumerate() {
        let mut g = KeyedGroup::new();
        for w in words(batch) {
            g.push(w, 1);
        }
        let got: Vec<(String, i64)> = state.update(g, &mut f).to_vec();
        assert_eq!(sorted(got), pairs(SPARK_UPDATE_STATE[i]), "batch {i}");
    }
}

#[test]
fn map_with_state_matches_spark() {
    let ty = Ty::<(&str, i64)>::new();
    let (mut f, _) = ops::map_with_state(ty, |w: &String, one: Option<i64>, st: &mut State<i64>| {
        let n = st.get_option().unwrap_or(0) + one.unwrap_or(0);
        st.update(n);
        (w.clone(), n)
    });
    let mut state = MapWithState::new(None);
    for (i, batch) in WORDCOUNT.iter().enumerate() {
        let t = (i as i64 + 1) * MS;
        let mut rows = Vec::new();
        for w in words(batch) {
            rows.push(state.call(w, 1, t, &mut f));
        }
        state.time_out(t, &mut f, &mut rows);
        assert_eq!(sorted(rows), pairs(SPARK_MAP_WITH_STATE[i].0), "rows of batch {i}");
        assert_eq!(sorted(state.snapshots()), pairs(SPARK_MAP_WITH_STATE[i].1), "state of batch {i}");
    }
}

// ----- windows ------------------------------------------------------------------------------

#[test]
fn window_covers_exactly_the_batches_after_t_minus_len_up_to_t() {
    let mut w = Window::new(3 * MS);
    for i in 1..=6 {
        w.push(i * MS, vec![i]);
    }
    // Panes 1..=3 were evicted by the push at 6 (times <= 3000).
    assert_eq!(w.collect(6 * MS), vec![4, 5, 6]);
    assert_eq!(w.collect(5 * MS), vec![4, 5]); // (2000, 5000]: 3 is gone, 6 is after t
    assert_eq!(w.collect(7 * MS), vec![5, 6]); // (4000, 7000]: 4 is exactly t - len, out

    let mut w = Window::new(2 * MS);
    w.push(MS, vec!["a"]);
    assert_eq!(w.collect(MS), vec!["a"]);
    w.push(2 * MS, vec![]);
    assert_eq!(w.collect(2 * MS), vec!["a"]); // (0, 2000]
    w.push(3 * MS, vec!["b", "c"]);
    assert_eq!(w.collect(3 * MS), vec!["b", "c"]); // (1000, 3000]: 1000 is out
}

#[test]
fn keyed_window_edges_and_first_seen_order() {
    let mut w = KeyedWindow::new(2 * MS);
    let mut cat = |a: String, b: String| a + &b;
    w.push_pane(MS, vec![("x", "1".to_owned()), ("y", "1".to_owned())]);
    w.push_pane(2 * MS, vec![("y", "2".to_owned()), ("z", "2".to_owned())]);
    // Values combine oldest first; keys in first-seen order.
    assert_eq!(
        w.reduce(2 * MS, &mut cat, &mut |_| true),
        vec![("x", "1".into()), ("y", "12".into()), ("z", "2".into())]
    );
    w.push_pane(3 * MS, vec![("x", "3".to_owned())]);
    assert_eq!(
        w.reduce(3 * MS, &mut cat, &mut |_| true),
        vec![("y", "2".into()), ("z", "2".into()), ("x", "3".into())]
    );
    // The filter drops pairs from the result, not from the window.
    w.push_pane(4 * MS, vec![("y", "4".to_owned())]);
    assert_eq!(w.reduce(4 * MS, &mut cat, &mut |kv| kv.0 != "x"), vec![("y", "4".into())]);
    assert_eq!(w.reduce(4 * MS, &mut cat, &mut |_| true), vec![("x", "3".into()), ("y", "4".into())]);
}

#[test]
fn inverse_window_with_slide_of_two_batches() {
    // Window of 4 batches sliding by 2: at t the window is (t - 4000, t]; leaving panes are in
    // (t - 6000, t - 4000], entering ones in (t - 2000, t].
    let mut w = InvKeyedWindow::new(4 * MS, 2 * MS);
    let (mut add, mut sub) = (|a: i64, b: i64| a + b, |a: i64, b: i64| a - b);
    let mut all = |_: &(&str, i64)| true;
    let batches: [&[(&str, i64)]; 8] = [
        &[("a", 1)],           // 1000
        &[("b", 10)],          // 2000
        &[("a", 100)],         // 3000
        &[("c", 1000)],        // 4000
        &[("a", 7)],           // 5000
        &[],                   // 6000
        &[("b", 20)],          // 7000
        &[("a", 3), ("d", 5)], // 8000
    ];
    let mut got = Vec::new();
    for (i, pane) in batches.iter().enumerate() {
        let t = (i as i64 + 1) * MS;
        w.push_pane(t, pane.to_vec());
        if t % (2 * MS) == 0 {
            got.push(w.slide(t, &mut add, &mut sub, &mut all).to_vec());
        }
    }
    assert_eq!(
        got,
        vec![
            vec![("a", 1), ("b", 10)],                      // (-2000, 2000]
            vec![("a", 101), ("b", 10), ("c", 1000)],       // (0, 4000]
            vec![("a", 107), ("b", 0), ("c", 1000)],        // (2000, 6000]: 1000, 2000 left
            vec![("a", 10), ("b", 20), ("c", 0), ("d", 5)], // (4000, 8000]
        ]
    );
}

#[test]
fn inverse_window_keeps_zero_keys_unless_the_filter_drops_them() {
    let (mut add, mut sub) = (|a: i64, b: i64| a + b, |a: i64, b: i64| a - b);
    let mut keep = InvKeyedWindow::new(2 * MS, MS);
    let mut drop = InvKeyedWindow::new(2 * MS, MS);
    let mut nonzero = |(_, v): &(&str, i64)| *v != 0;
    let mut out_keep = Vec::new();
    let mut out_drop = Vec::new();
    for (i, pane) in [vec![("a", 1), ("b", 2)], vec![("b", 1)], vec![], vec![("a", 5)]].into_iter().enumerate() {
        let t = (i as i64 + 1) * MS;
        keep.push_pane(t, pane.clone());
        drop.push_pane(t, pane);
        out_keep.push(keep.slide(t, &mut add, &mut sub, &mut |_| true).to_vec());
        out_drop.push(drop.slide(t, &mut add, &mut sub, &mut nonzero).to_vec());
    }
    assert_eq!(
        out_keep,
        vec![vec![("a", 1), ("b", 2)], vec![("a", 1), ("b", 3)], vec![("a", 0), ("b", 1)], vec![("a", 5), ("b", 0)],]
    );
    assert_eq!(out_drop, vec![vec![("a", 1), ("b", 2)], vec![("a", 1), ("b", 3)], vec![("b", 1)], vec![("a", 5)]]);
}

#[test]
fn inverse_window_equals_recomputation_on_random_input() {
    let mut rng = Rng(0x005E_ED0F_0123_4567);
    for round in 0..60 {
        let len_batches = 1 + rng.below(6) as i64;
        let slide_batches = 1 + rng.below(len_batches as u64) as i64;
        let keys = 1 + rng.below(12);
        let (len, slide) = (len_batches * MS, slide_batches * MS);
        let mut inv = InvKeyedWindow::new(len, slide);
        let mut inv_filtered = InvKeyedWindow::new(len, slide);
        let mut plain = KeyedWindow::new(len);
        let (mut add, mut sub) = (|a: i64, b: i64| a + b, |a: i64, b: i64| a - b);
        for i in 1..=40i64 {
            let t = i * MS;
            let mut pane = KeyedReduce::new();
            for _ in 0..rng.below(6) {
                pane.merge(rng.below(keys), 1 + rng.below(9) as i64, &mut add);
            }
            let pane = pane.into_vec();
            inv.push_pane(t, pane.clone());
            inv_filtered.push_pane(t, pane.clone());
            plain.push_pane(t, pane);
            if i % slide_batches != 0 {
                continue;
            }
            let want = sorted(plain.reduce(t, &mut add, &mut |_| true).to_vec());
            let got = inv_filtered.slide(t, &mut add, &mut sub, &mut |(_, v)| *v != 0).to_vec();
            assert_eq!(sorted(got), want, "round {round}, len {len}, slide {slide}, t {t}");
            // Without a filter: the same, plus keys at 0 that were in some earlier window.
            let got = inv.slide(t, &mut add, &mut sub, &mut |_| true);
            let nonzero: Vec<_> = got.iter().copied().filter(|kv| kv.1 != 0).collect();
            assert_eq!(sorted(nonzero), want, "round {round}, unfiltered, t {t}");
            assert!(got.iter().all(|kv| kv.1 >= 0));
        }
    }
}

// ----- update_state_by_key ------------------------------------------------------------------

#[test]
fn update_state_calls_every_key_and_removes_on_none() {
    let mut state: UpdateState<String, i64> = UpdateState::new();
    let mut calls = Vec::new();
    // Running sum; a key whose sum exceeds 5 is removed.
    let mut f = |vs: &[i64], st: Option<i64>| {
        calls.push((vs.to_vec(), st));
        let n = vs.iter().sum::<i64>() + st.unwrap_or(0);
        (n <= 5).then_some(n)
    };
    let batch = |kvs: &[(&'static str, i64)]| {
        let mut g = KeyedGroup::new();
        for &(k, v) in kvs {
            g.push(k, v);
        }
        g
    };
    let b1 = state.update(batch(&[("a", 1), ("b", 2), ("a", 1)]), &mut f).to_vec();
    let b2 = state.update(batch(&[("b", 9), ("c", 1)]), &mut f).to_vec();
    let b3 = state.update(batch(&[("b", 1)]), &mut f).to_vec();
    assert_eq!(owned(&b1), vec![("a".into(), 2), ("b".into(), 2)]);
    // "a" has no new values but is called and kept; "b" is removed; "c" is new.
    assert_eq!(owned(&b2), vec![("a".into(), 2), ("c".into(), 1)]);
    // "b" comes back as a new key, after the others.
    assert_eq!(owned(&b3), vec![("a".into(), 2), ("c".into(), 1), ("b".into(), 1)]);
    assert_eq!(
        calls,
        vec![
            (vec![1, 1], None),
            (vec![2], None),
            (vec![], Some(2)),
            (vec![9], Some(2)),
            (vec![1], None),
            (vec![], Some(2)),
            (vec![], Some(1)),
            (vec![1], None),
        ]
    );
    assert_eq!(state.len(), 3);
}

// ----- map_with_state -----------------------------------------------------------------------

// `&String`, not `&str`: the handler's key is `&K` with `K = String`, as generated code passes it.
#[allow(clippy::ptr_arg)]
fn running_count(k: &String, v: Option<i64>, st: &mut State<i64>) -> (String, i64, bool) {
    if st.is_timing_out() {
        return (k.clone(), st.get(), true);
    }
    let n = st.get_option().unwrap_or(0) + v.unwrap_or(0);
    st.update(n);
    (k.clone(), n, false)
}

#[test]
fn map_with_state_emits_one_record_per_input_in_order() {
    let mut state = MapWithState::new(None);
    let mut out = Vec::new();
    for w in ["b", "a", "b", "c", "b"] {
        out.push(state.call(w, 1, MS, &mut running_count));
    }
    let got: Vec<_> = out.iter().map(|(k, n, _)| (k.as_str(), *n)).collect();
    assert_eq!(got, vec![("b", 1), ("a", 1), ("b", 2), ("c", 1), ("b", 3)]);
    assert_eq!(state.len(), 3);
    let mut timed_out = Vec::new();
    state.time_out(100 * MS, &mut running_count, &mut timed_out);
    assert!(timed_out.is_empty(), "no timeout was set");
}

#[test]
fn idle_keys_time_out_once_and_keys_with_data_do_not() {
    // Timeout of 2 batches: a key last updated at u times out at the first batch t with
    // u < t - 2000, that is at u + 3000.
    let mut state = MapWithState::new(Some(2 * MS)).with_initial(vec![("init".to_owned(), 10)]);
    let mut f = running_count;
    let mut log = Vec::new();
    let inputs: [&[&str]; 6] = [&["a", "b"], &["b"], &[], &["b"], &[], &["a"]];
    for (i, batch) in inputs.iter().enumerate() {
        let t = (i as i64 + 1) * MS;
        let mut out = Vec::new();
        for &w in *batch {
            out.push(state.call(w, 1, t, &mut f));
        }
        state.time_out(t, &mut f, &mut out);
        log.push(out);
    }
    let timed_out: Vec<(i64, &str, i64)> = log
        .iter()
        .enumerate()
        .flat_map(|(i, out)| out.iter().filter(|r| r.2).map(move |r| (i as i64 + 1, r.0.as_str(), r.1)))
        .collect();
    // The initial state is stamped with the first batch time (1000) as Spark does; "a" was
    // updated at 1000, "b" at 4000. "a" comes back at 6000 as a new key.
    assert_eq!(timed_out, vec![(4, "init", 10), (4, "a", 1)]);
    assert_eq!(log[5], vec![("a".to_owned(), 1, false)]);
    assert_eq!(sorted(state.snapshots()), vec![("a".to_owned(), 1), ("b".to_owned(), 3)]);
    // "b" idles from 4000: it times out at 7000.
    let mut out = Vec::new();
    state.time_out(7 * MS, &mut f, &mut out);
    assert_eq!(out, vec![("b".to_owned(), 3, true)]);
    assert_eq!(state.snapshots(), vec![("a".to_owned(), 1)]);
}

#[test]
fn removed_and_never_set_states_leave_no_key() {
    let mut state: MapWithState<String, i64> = MapWithState::new(Some(MS));
    let mut remove_at_3 = |_: &String, v: Option<i64>, st: &mut State<i64>| {
        let n = st.get_option().unwrap_or(0) + v.unwrap_or(0);
        if n >= 3 {
            st.remove()
        } else {
            st.update(n)
        }
        st.exists()
    };
    for w in ["x", "y", "x", "x", "y"] {
        state.call(w, 1, MS, &mut remove_at_3);
    }
    assert_eq!(state.snapshots(), vec![("y".to_owned(), 2)]);
    let mut look_only = |_: &String, _: Option<i64>, st: &mut State<i64>| st.exists();
    assert!(!state.call("new", 1, MS, &mut look_only));
    assert!(state.call("y", 1, MS, &mut look_only));
    assert_eq!(state.len(), 1);
}

fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[test]
fn state_misuse_panics_with_sparks_messages() {
    let mut state: MapWithState<String, i64> = MapWithState::new(Some(MS));
    let msg = panic_message(|| {
        state.call("k", 1, MS, &mut |_, _, st: &mut State<i64>| st.get());
    });
    assert_eq!(msg, "cannot get the state of a key that has no state");
    let msg = panic_message(|| {
        state.call("k", 1, MS, &mut |_, _, st: &mut State<i64>| {
            st.remove();
            st.update(1)
        });
    });
    assert_eq!(msg, "cannot update the state after it has been removed");

    state.call("k", 1, MS, &mut |_, _, st: &mut State<i64>| st.update(1));
    let msg = panic_message(|| {
        let mut out = Vec::new();
        state.time_out(10 * MS, &mut |_, _: Option<i64>, st: &mut State<i64>| st.update(2), &mut out);
    });
    assert_eq!(msg, "cannot update the state of a key that is timing out");

    let mut state: MapWithState<String, i64> = MapWithState::new(Some(MS));
    state.call("k", 1, MS, &mut |_, _, st: &mut State<i64>| st.update(1));
    let msg = panic_message(|| {
        let mut out = Vec::new();
        state.time_out(10 * MS, &mut |_, _: Option<i64>, st: &mut State<i64>| st.remove(), &mut out);
    });
    assert_eq!(msg, "cannot remove the state of a key that is timing out");

    // After a panic in the handler the table is still usable.
    let mut state: MapWithState<String, i64> = MapWithState::new(None);
    state.call("a", 1, MS, &mut |_, _, st: &mut State<i64>| st.update(1));
    state.call("b", 1, MS, &mut |_, _, st: &mut State<i64>| st.update(2));
    let _ = panic_message(|| state.call("a", 1, MS, &mut |_, _, _: &mut State<i64>| panic!("user bug")));
    assert_eq!(state.snapshots(), vec![("b".to_owned(), 2)]);
    state.call("a", 1, MS, &mut |_, _, st: &mut State<i64>| st.update(3));
    assert_eq!(sorted(state.snapshots()), vec![("a".to_owned(), 3), ("b".to_owned(), 2)]);
}

// ----- checkpoints --------------------------------------------------------------------------

fn restored<T: Checkpointed>(from: &T, mut into: T) -> T {
    let mut bytes = Vec::new();
    from.save(&mut bytes);
    into.restore(&bytes).expect("a saved snapshot restores");
    for cut in 0..bytes.len() {
        assert!(into.restore(&bytes[..cut]).is_err(), "truncated at {cut}");
    }
    into.restore(&bytes).unwrap();
    into
}

/// Runs `step` on the original and on a restored copy after `split` batches and checks that
/// both give the same outputs for the rest.
fn check_restart<T: Checkpointed, R: PartialEq + Debug>(
    mut make: impl FnMut() -> T,
    mut step: impl FnMut(&mut T, usize) -> R,
    batches: usize,
) {
    for split in 0..batches {
        let mut a = make();
        for i in 0..split {
            step(&mut a, i);
        }
        let mut b = restored(&a, make());
        for i in split..batches {
            assert_eq!(step(&mut a, i), step(&mut b, i), "restart after {split} batches, batch {i}");
        }
    }
}

#[test]
fn every_state_survives_a_checkpoint_restart() {
    let pane = |i: usize| -> Vec<(String, i64)> { words(WORDCOUNT[i]).map(|w| (w.to_owned(), 1)).collect::<Vec<_>>() };
    let t = |i: usize| (i as i64 + 1) * MS;
    let (mut add, mut sub) = (|a: i64, b: i64| a + b, |a: i64, b: i64| a - b);
    check_restart(
        || Window::new(2 * MS),
        |w, i| {
            w.push(t(i), pane(i));
            w.collect(t(i))
        },
        7,
    );
    check_restart(
        || KeyedWindow::new(3 * MS),
        |w, i| {
            w.push_pane(t(i), group(pane(i)));
            w.reduce(t(i), &mut add, &mut |_| true).to_vec()
        },
        7,
    );
    check_restart(
        || InvKeyedWindow::new(2 * MS, MS),
        |w, i| {
            w.push_pane(t(i), group(pane(i)));
            w.slide(t(i), &mut add, &mut sub, &mut |_| true).to_vec()
        },
        7,
    );
    check_restart(
        UpdateState::new,
        |s, i| {
            let mut g = KeyedGroup::new();
            for (k, v) in pane(i) {
                g.push(k, v);
            }
            s.update(g, &mut |vs: &[i64], st: Option<i64>| Some(vs.iter().sum::<i64>() + st.unwrap_or(0))).to_vec()
        },
        7,
    );
    check_restart(
        || MapWithState::new(Some(MS)).with_initial(vec![("zebra".to_owned(), 5)]),
        |s, i| {
            let mut out: Vec<_> = pane(i).into_iter().map(|(k, v)| s.call(k, v, t(i), &mut running_count)).collect();
            s.time_out(t(i), &mut running_count, &mut out);
            (out, s.snapshots())
        },
        7,
    );
}

fn group(pairs: Vec<(String, i64)>) -> Vec<(String, i64)> {
    let mut t = KeyedReduce::new();
    for (k, v) in pairs {
        t.merge(k, v, &mut |a, b| a + b);
    }
    t.into_vec()
}

#[test]
fn a_snapshot_with_a_duplicate_key_is_rejected() {
    let mut bytes = Vec::new();
    let mut u: UpdateState<String, i64> = UpdateState::new();
    // Two states saved back to back are not one snapshot; a hand-made one with "a" twice:
    streamc_runtime::persist::Persist::write(&vec![("a".to_owned(), 1i64), ("a".to_owned(), 2)], &mut bytes);
    let err = u.restore(&bytes).unwrap_err();
    assert!(err.to_string().starts_with("corrupt checkpoint"), "{err}");
}

// ----- joins --------------------------------------------------------------------------------

type Kv = Vec<(u8, u32)>;

fn random_pairs(rng: &mut Rng, tag: u32) -> Kv {
    let n = rng.below(8);
    let keys = 1 + rng.below(5);
    (0..n).map(|i| (rng.below(keys) as u8, tag * 100 + i as u32)).collect()
}

#[test]
fn joins_equal_nested_loops() {
    let mut rng = Rng(0xC0FF_EE00_1234_5678);
    for _ in 0..500 {
        let (l, r) = (random_pairs(&mut rng, 1), random_pairs(&mut rng, 2));
        let in_right = |k: u8| r.iter().any(|p| p.0 == k);
        let in_left = |k: u8| l.iter().any(|p| p.0 == k);

        let mut inner = Vec::new();
        for &(k, v) in &l {
            for &(k2, w) in &r {
                if k == k2 {
                    inner.push((k, (v, w)));
                }
            }
        }
        assert_eq!(sorted(join(l.clone(), r.clone())), sorted(inner.clone()));

        let mut left: Vec<_> = inner.iter().map(|&(k, (v, w))| (k, (v, Some(w)))).collect();
        left.extend(l.iter().filter(|p| !in_right(p.0)).map(|&(k, v)| (k, (v, None))));
        assert_eq!(sorted(left_outer_join(l.clone(), r.clone())), sorted(left));

        let mut right: Vec<_> = inner.iter().map(|&(k, (v, w))| (k, (Some(v), w))).collect();
        right.extend(r.iter().filter(|p| !in_left(p.0)).map(|&(k, w)| (k, (None, w))));
        assert_eq!(sorted(right_outer_join(l.clone(), r.clone())), sorted(right));

        let mut full: Vec<_> = inner.iter().map(|&(k, (v, w))| (k, (Some(v), Some(w)))).collect();
        full.extend(l.iter().filter(|p| !in_right(p.0)).map(|&(k, v)| (k, (Some(v), None))));
        full.extend(r.iter().filter(|p| !in_left(p.0)).map(|&(k, w)| (k, (None, Some(w)))));
        assert_eq!(sorted(full_outer_join(l.clone(), r.clone())), sorted(full));

        let mut groups: BTreeMap<u8, (Vec<u32>, Vec<u32>)> = BTreeMap::new();
        for &(k, v) in &l {
            groups.entry(k).or_default().0.push(v);
        }
        for &(k, w) in &r {
            groups.entry(k).or_default().1.push(w);
        }
        let got = cogroup(l.clone(), r.clone());
        assert_eq!(sorted(got.clone()), groups.clone().into_iter().collect::<Vec<_>>());
        // Documented order: left keys as first seen, then right-only keys as first seen.
        let mut order: Vec<u8> = Vec::new();
        for k in l.iter().chain(&r).map(|p| p.0) {
            if !order.contains(&k) {
                order.push(k);
            }
        }
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), order);

        let by_key: Vec<_> = groups.iter().filter(|g| !g.1.0.is_empty()).map(|(&k, g)| (k, g.0.clone())).collect();
        assert_eq!(sorted(group_by_key(l.clone())), by_key);
        let counts: Vec<_> = by_key.iter().map(|(k, vs)| (*k, vs.len() as i64)).collect();
        assert_eq!(sorted(count_by_value(l.iter().map(|p| p.0).collect())), counts);
    }
}

#[test]
fn join_order_is_left_major_within_a_key() {
    let got = full_outer_join(vec![("b", 1), ("a", 2), ("b", 3)], vec![("c", 'x'), ("b", 'y'), ("b", 'z')]);
    assert_eq!(
        got,
        vec![
            ("b", (Some(1), Some('y'))),
            ("b", (Some(1), Some('z'))),
            ("b", (Some(3), Some('y'))),
            ("b", (Some(3), Some('z'))),
            ("a", (Some(2), None)),
            ("c", (None, Some('x'))),
        ]
    );
}

#[test]
fn join_outputs_print_as_scala_tuples() {
    use streamc_runtime::fmt::spark_string;
    let l = vec![("k", 1i64), ("l", 2)];
    let r = vec![("k", (3i64, 4i64))];
    assert_eq!(spark_string(&join(l.clone(), r.clone())[0]), "(k,(1,(3,4)))");
    let full = full_outer_join(l.clone(), r.clone());
    assert_eq!(spark_string(&full[1]), "(l,(Some(2),None))");
    assert_eq!(spark_string(&cogroup(l, r)[1]), "(l,(CompactBuffer(2),CompactBuffer()))");
}

// ----- witnesses ----------------------------------------------------------------------------

/// The witnesses type closures as generated code writes them: no annotation on any argument.
#[test]
fn witnesses_infer_closure_types() {
    let ty = Ty::<(&str, i64)>::new();
    let (mut double, ty2) = ops::map_values(ty, |v| v * 2);
    let (mut spread, ty3) = ops::flat_map_values(ty2, |v| [v, v + 1]);
    let (mut upd, _) = ops::update_state_by_key(ty3, |vs, st| Some(vs.iter().sum::<i64>() + st.unwrap_or(0)));
    let (mut mws, _) = ops::map_with_state(ty, |k, v, st| {
        let n = st.get_option().unwrap_or(0i64) + v.unwrap_or(0);
        st.update(n);
        (k.len(), n)
    });
    let (mut tr, _) = ops::transform(ops::join_ty(ty, ty), |batch| batch.into_iter().map(|(k, (v, w))| (k, v + w)));
    let mut seen = 0;
    let mut each = ops::foreach_batch(ops::group_by_key_ty(ty), |_, batch| seen += batch.len());
    let owned_ty = ops::owned(ty);
    let mut window: Window<(String, i64)> = Window::new(MS);
    let _: Ty<(String, i64)> = owned_ty;
    window.push(MS, vec![ops::into_owned(("a", 1i64))]);

    assert_eq!(double(3), 6);
    assert_eq!(spread(1).into_iter().collect::<Vec<_>>(), vec![1, 2]);
    let mut g = KeyedGroup::new();
    g.push("a", 2);
    let mut us: UpdateState<String, i64> = UpdateState::new();
    assert_eq!(us.update(g, &mut upd), vec![("a".to_owned(), 2)]);
    let mut ms = MapWithState::new(None);
    assert_eq!(ms.call("ab", 5, MS, &mut mws), (2, 5));
    assert_eq!(tr(join(vec![("a", 1)], vec![("a", 2)])).collect::<Vec<_>>(), vec![("a", 3)]);
    each(MS, &group_by_key(vec![("a", 1), ("a", 2)]));
    assert_eq!(seen, 1);
    let _: Ty<(&str, OuterPair<i64, i64>)> = ops::full_outer_join_ty(ty, ty);
    let _: Ty<(&str, (i64, Option<i64>))> = ops::left_outer_join_ty(ty, ty);
    let _: Ty<(&str, (Option<i64>, i64))> = ops::right_outer_join_ty(ty, ty);
    let _: Ty<(&str, Cogrouped<i64, i64>)> = ops::cogroup_ty(ty, ty);
    let _: Ty<(&str, i64)> = ops::count_by_value_ty(Ty::<&str>::new());
    assert_eq!(window.collect(MS), vec![("a".to_owned(), 1)]);
}

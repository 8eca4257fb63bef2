//! Per-batch key-value combinators: joins, cogroup, group_by_key.
//!
//! Semantics are those of Spark's pair RDDs (`PairRDDFunctions`), which every DStream join runs
//! batch by batch: a join is a cogroup followed by the cross product of each key's two value
//! lists.
//!
//! Output order is deterministic (Spark's depends on partitioning, so goldens compare batches
//! as sets): keys in the order they first appear in the left input, then keys that appear only
//! in the right input in their order there; within a key, pairs in left-major order (each left
//! value, in input order, with each right value, in input order).

use std::hash::{BuildHasher, Hash};

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use crate::state::{KeyedGroup, KeyedReduce};

/// The value of a `full_outer_join` output: either side may be missing (never both).
pub type OuterPair<V, W> = (Option<V>, Option<W>);

/// The value of a `cogroup` output: the key's values from each side (one may be empty).
pub type Cogrouped<V, W> = (Vec<V>, Vec<W>);

/// Each key of either input with its values from both, keys in the documented order. The
/// workhorse of every join; keys are moved, never cloned.
fn cogroup_raw<K: Hash + Eq, V, W>(left: Vec<(K, V)>, right: Vec<(K, W)>) -> Vec<(K, Vec<V>, Vec<W>)> {
    let hasher = FixedState::with_seed(0x4A4F_494E); // "JOIN"
    let mut table: HashTable<u32> = HashTable::new();
    let mut groups: Vec<(K, Vec<V>, Vec<W>)> = Vec::new();
    let slot = |table: &mut HashTable<u32>, groups: &mut Vec<(K, Vec<V>, Vec<W>)>, k: K| -> usize {
        let hash = hasher.hash_one(&k);
        if let Some(&i) = table.find(hash, |&i| groups[i as usize].0 == k) {
            return i as usize;
        }
        let i = groups.len();
        let i32 = u32::try_from(i).expect("a join batch holds at most 2^32 keys");
        table.insert_unique(hash, i32, |&j| hasher.hash_one(&groups[j as usize].0));
        groups.push((k, Vec::new(), Vec::new()));
        i
    };
    for (k, v) in left {
        let i = slot(&mut table, &mut groups, k);
        groups[i].1.push(v);
    }
    for (k, w) in right {
        let i = slot(&mut table, &mut groups, k);
        groups[i].2.push(w);
    }
    groups
}

/// Pushes `(k, g(v, w))` for every pair of `vs × ws` (left-major). The common case of one
/// value on each side moves everything; otherwise the key and values are cloned per pair.
fn cross<K: Clone, V: Clone, W: Clone, R>(
    out: &mut Vec<(K, R)>,
    k: K,
    mut vs: Vec<V>,
    mut ws: Vec<W>,
    mut g: impl FnMut(V, W) -> R,
) {
    if vs.len() == 1 && ws.len() == 1 {
        let (v, w) = (vs.pop().expect("one value"), ws.pop().expect("one value"));
        out.push((k, g(v, w)));
        return;
    }
    out.reserve(vs.len() * ws.len());
    for v in &vs {
        for w in &ws {
            out.push((k.clone(), g(v.clone(), w.clone())));
        }
    }
}

/// Spark's `join`: every pair of a left and a right value with the same key.
///
/// ```
/// use streamc_runtime::join::join;
/// let got = join(vec![("a", 1), ("b", 2), ("a", 3)], vec![("a", 'x'), ("c", 'y'), ("a", 'z')]);
/// assert_eq!(got, vec![("a", (1, 'x')), ("a", (1, 'z')), ("a", (3, 'x')), ("a", (3, 'z'))]);
/// ```
pub fn join<K, V, W>(left: Vec<(K, V)>, right: Vec<(K, W)>) -> Vec<(K, (V, W))>
where
    K: Hash + Eq + Clone,
    V: Clone,
    W: Clone,
{
    let mut out = Vec::new();
    for (k, vs, ws) in cogroup_raw(left, right) {
        cross(&mut out, k, vs, ws, |v, w| (v, w));
    }
    out
}

/// Spark's `leftOuterJoin`: as [`join`], plus `(k, (v, None))` for each left value whose key
/// has no right value.
pub fn left_outer_join<K, V, W>(left: Vec<(K, V)>, right: Vec<(K, W)>) -> Vec<(K, (V, Option<W>))>
where
    K: Hash + Eq + Clone,
    V: Clone,
    W: Clone,
{
    let mut out = Vec::new();
    for (k, vs, ws) in cogroup_raw(left, right) {
        if ws.is_empty() {
            out.extend(vs.into_iter().map(|v| (k.clone(), (v, None))));
        } else {
            cross(&mut out, k, vs, ws, |v, w| (v, Some(w)));
        }
    }
    out
}

/// Spark's `rightOuterJoin`: as [`join`], plus `(k, (None, w))` for each right value whose key
/// has no left value.
pub fn right_outer_join<K, V, W>(left: Vec<(K, V)>, right: Vec<(K, W)>) -> Vec<(K, (Option<V>, W))>
where
    K: Hash + Eq + Clone,
    V: Clone,
    W: Clone,
{
    let mut out = Vec::new();
    for (k, vs, ws) in cogroup_raw(left, right) {
        if vs.is_empty() {
            out.extend(ws.into_iter().map(|w| (k.clone(), (None, w))));
        } else {
            cross(&mut out, k, vs, ws, |v, w| (Some(v), w));
        }
    }
    out
}

/// Spark's `fullOuterJoin`: as [`join`], plus `(k, (v, None))` and `(k, (None, w))` for the
/// values whose key has no value on the other side.
pub fn full_outer_join<K, V, W>(left: Vec<(K, V)>, right: Vec<(K, W)>) -> Vec<(K, OuterPair<V, W>)>
where
    K: Hash + Eq + Clone,
    V: Clone,
    W: Clone,
{
    let mut out = Vec::new();
    for (k, vs, ws) in cogroup_raw(left, right) {
        if ws.is_empty() {
            out.extend(vs.into_iter().map(|v| (k.clone(), (Some(v), None))));
        } else if vs.is_empty() {
            out.extend(ws.into_iter().map(|w| (k.clone(), (None, Some(w)))));
        } else {
            cross(&mut out, k, vs, ws, |v, w| (Some(v), Some(w)));
        }
    }
    out
}

/// Spark's `cogroup`: every key of either input once, with its left values and its right values
/// (each in input order; one of them may be empty).
pub fn cogroup<K, V, W>(left: Vec<(K, V)>, right: Vec<(K, W)>) -> Vec<(K, Cogrouped<V, W>)>
where
    K: Hash + Eq,
{
    cogroup_raw(left, right).into_iter().map(|(k, vs, ws)| (k, (vs, ws))).collect()
}

/// Spark's `groupByKey`: every key once with its values in input order; keys in first-seen
/// order.
pub fn group_by_key<K: Hash + Eq, V>(pairs: Vec<(K, V)>) -> Vec<(K, Vec<V>)> {
    let mut g = KeyedGroup::new();
    for (k, v) in pairs {
        g.push(k, v);
    }
    g.into_vec()
}

/// Spark's `countByValue`: every distinct element once with its number of occurrences (an
/// `i64`, as Spark's `Long`); elements in first-seen order.
pub fn count_by_value<T: Hash + Eq>(items: Vec<T>) -> Vec<(T, i64)> {
    let mut t = KeyedReduce::new();
    for x in items {
        t.merge(x, 1i64, &mut |a, b| a + b);
    }
    t.into_vec()
}

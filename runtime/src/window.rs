//! Window panes across batches: `window`, `reduce_by_key_and_window` with and without an inverse.
//!
//! Times are batch times in milliseconds. A window of length `len` at time `t` covers the
//! batches whose time is in `(t - len, t]` (Spark's `window(len, slide)` at `t` holds the
//! batches `t - len + interval ..= t`). Each batch is kept as one *pane*; the windowed operators
//! here never re-read records of earlier batches beyond what their panes hold, and drop panes as
//! soon as no future window can need them.
//!
//! Pane times are expected to increase from one push to the next (they are batch times); a pane
//! pushed out of order is still put in its place.

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hash};

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use crate::error::Error;
use crate::persist::{Checkpointed, Parts, Persist, SavedParts, corrupt, read_all};
use crate::state::KeyedReduce;

mod partitioned;

/// The panes of a window, oldest first, no two with the same time.
type Panes<T> = VecDeque<(i64, Vec<T>)>;

/// Drops the panes with time `<= upto` (they are at the front).
fn evict<T>(panes: &mut Panes<T>, upto: i64) {
    while panes.front().is_some_and(|p| p.0 <= upto) {
        panes.pop_front();
    }
}

/// Adds a pane at its place in time order; a pane with the same time as an existing one is
/// appended to it.
fn insert_pane<T>(panes: &mut Panes<T>, t: i64, items: Vec<T>) {
    if items.is_empty() {
        return;
    }
    match panes.back_mut() {
        None => panes.push_back((t, items)),
        Some(last) if last.0 < t => panes.push_back((t, items)),
        Some(last) if last.0 == t => last.1.extend(items),
        Some(_) => {
            let i = panes.partition_point(|p| p.0 < t);
            if panes[i].0 == t {
                panes[i].1.extend(items);
            } else {
                panes.insert(i, (t, items));
            }
        }
    }
}

/// The panes with time in `(t - len, t]`, oldest first.
fn in_window<T>(panes: &Panes<T>, t: i64, len_ms: i64) -> impl Iterator<Item = &Vec<T>> {
    let from = t.saturating_sub(len_ms);
    panes.iter().skip_while(move |p| p.0 <= from).take_while(move |p| p.0 <= t).map(|p| &p.1)
}

/// Reads saved panes, checking that their times strictly increase.
fn read_panes<T: Persist>(input: &mut &[u8]) -> Result<Panes<T>, Error> {
    let panes: Vec<(i64, Vec<T>)> = Persist::read(input)?;
    if panes.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(corrupt("window pane times are not increasing"));
    }
    Ok(panes.into())
}

fn check_len(len_ms: i64) {
    assert!(len_ms > 0, "a window length must be positive, found {len_ms} ms");
}

// ----- window -------------------------------------------------------------------------------

/// The state of `window`: the batches of the last `len_ms` milliseconds.
///
/// ```
/// use streamc_runtime::window::Window;
/// let mut w = Window::new(2000);
/// w.push(1000, vec!["a"]);
/// w.push(2000, vec!["b", "c"]);
/// w.push(3000, vec!["d"]);
/// assert_eq!(w.collect(3000), vec!["b", "c", "d"]); // batches 2000 and 3000: (1000, 3000]
/// ```
pub struct Window<T> {
    len_ms: i64,
    panes: Panes<T>,
}

impl<T> std::fmt::Debug for Window<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Window").field("len_ms", &self.len_ms).field("panes", &self.panes.len()).finish()
    }
}

impl<T> Window<T> {
    /// An empty window of length `len_ms` (positive).
    pub fn new(len_ms: i64) -> Self {
        check_len(len_ms);
        Window { len_ms, panes: VecDeque::new() }
    }

    /// Stores the batch at time `t` and drops the batches no window at `t` or later covers
    /// (times `<= t - len`).
    pub fn push(&mut self, t: i64, batch: Vec<T>) {
        evict(&mut self.panes, t.saturating_sub(self.len_ms));
        insert_pane(&mut self.panes, t, batch);
    }

    /// The elements of the window at `t`: those of the batches with time in `(t - len, t]`, in
    /// time order.
    pub fn collect(&self, t: i64) -> Vec<T>
    where
        T: Clone,
    {
        let mut out = Vec::new();
        for pane in in_window(&self.panes, t, self.len_ms) {
            out.extend_from_slice(pane);
        }
        out
    }
}

impl Window<String> {
    /// [`collect`](Window::collect) of text, borrowed from the window: nothing is copied.
    ///
    /// ```
    /// use streamc_runtime::window::Window;
    /// let mut w = Window::new(2000);
    /// w.push(1000, vec!["a".to_owned()]);
    /// w.push(2000, vec!["b".to_owned()]);
    /// assert_eq!(w.collect_str(2000), ["a", "b"]);
    /// ```
    pub fn collect_str(&self, t: i64) -> Vec<&str> {
        in_window(&self.panes, t, self.len_ms).flatten().map(String::as_str).collect()
    }
}

impl<T: Persist> Checkpointed for Window<T> {
    fn save(&self, out: &mut Vec<u8>) {
        self.panes.write(out);
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.panes = read_all::<Restored<Panes<T>>>(bytes)?.0;
        Ok(())
    }

    /// Each pane is a part (id: its time; stamp: its length, as a pane only grows); the snapshot
    /// lists them.
    fn save_with_parts(&self, out: &mut Vec<u8>, parts: &mut Parts<'_>) {
        save_panes(&self.panes, out, parts);
    }

    fn restore_with_parts(&mut self, bytes: &[u8], parts: &SavedParts<'_>) -> Result<(), Error> {
        self.panes = restore_only_panes(bytes, parts)?;
        Ok(())
    }
}

/// Saves `panes` as parts: each pane is part `time` of stamp `length` (a pane only grows, by
/// [`insert_pane`], so a pane saved again with the same length is the same pane and is not
/// written again), and `out` gets the list of (time, length), oldest first. This relies on no
/// pane being dropped and then pushed again with its old time and length between two
/// checkpoints, which increasing pane times (batch times, as generated code pushes) rule out.
fn save_panes<T: Persist>(panes: &Panes<T>, out: &mut Vec<u8>, parts: &mut Parts<'_>) {
    (panes.len() as u64).write(out);
    for (t, items) in panes {
        let stamp = items.len() as u64;
        t.write(out);
        stamp.write(out);
        parts.add(*t, stamp, |part| items.write(part));
    }
}

/// Reads the panes saved by [`save_panes`] from `input` and `parts`.
fn restore_panes<T: Persist>(input: &mut &[u8], parts: &SavedParts<'_>) -> Result<Panes<T>, Error> {
    let list: Vec<(i64, u64)> = Persist::read(input)?;
    if list.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(corrupt("window pane times are not increasing"));
    }
    let mut panes = VecDeque::with_capacity(list.len());
    for (t, len) in list {
        let Some((stamp, bytes)) = parts.get(t) else {
            return Err(corrupt(&format!("the pane at {t} ms is not among the saved parts")));
        };
        let items: Vec<T> = read_all(bytes)?;
        if stamp != len || items.len() as u64 != len {
            return Err(corrupt(&format!("the pane at {t} ms holds {} items, not {len}", items.len())));
        }
        panes.push_back((t, items));
    }
    Ok(panes)
}

/// Checks that a snapshot was read to its end.
/// The panes of a snapshot that holds nothing else (`Window`, `KeyedWindow`).
fn restore_only_panes<T: Persist>(bytes: &[u8], parts: &SavedParts<'_>) -> Result<Panes<T>, Error> {
    let mut input = bytes;
    let panes = restore_panes(&mut input, parts)?;
    end_of_snapshot(input)?;
    Ok(panes)
}

fn end_of_snapshot(input: &[u8]) -> Result<(), Error> {
    if input.is_empty() { Ok(()) } else { Err(corrupt(&format!("{} unexpected bytes after the state", input.len()))) }
}

/// Saved panes, read with [`read_panes`] so that `read_all` checks the trailing bytes too.
struct Restored<P>(P);

impl<T: Persist> Persist for Restored<Panes<T>> {
    fn write(&self, out: &mut Vec<u8>) {
        self.0.write(out)
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        read_panes(input).map(Restored)
    }
}

// ----- reduce_by_key_and_window -------------------------------------------------------------

/// The state of `reduce_by_key_and_window` without an inverse function: the per-batch
/// reductions (panes) of the window, reduced again by key when the window slides, as Spark does
/// (`reduceByKey` per batch, `window`, `reduceByKey`). A slide costs the panes' entries, never
/// the window's records.
///
/// The last slide's result is kept, so that a key that stays in the window is not copied again:
/// a slide copies only the keys that enter the window, and allocates a few buffers, never one
/// per key or record.
///
/// ```
/// use streamc_runtime::window::KeyedWindow;
/// let (mut w, mut keep_all) = (KeyedWindow::new(2000), |_: &(&str, i32)| true);
/// w.push_pane(1000, vec![("a", 1), ("b", 2)]);
/// w.push_pane(2000, vec![("b", 3)]);
/// assert_eq!(w.reduce(2000, &mut |x, y| x + y, &mut keep_all), [("a", 1), ("b", 5)]);
/// w.push_pane(3000, vec![]);
/// assert_eq!(w.reduce(3000, &mut |x, y| x + y, &mut keep_all), [("b", 3)]);
/// ```
pub struct KeyedWindow<K, V> {
    len_ms: i64,
    panes: Panes<(K, V)>,
    /// The last slide's result (what the filter kept first, then what it dropped): its keys
    /// are reused by the next slide; the values are overwritten.
    last: Vec<(K, V)>,
    /// `last`'s positions by key.
    index: HashTable<u32>,
    hasher: FixedState,
}

impl<K, V> std::fmt::Debug for KeyedWindow<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedWindow").field("len_ms", &self.len_ms).field("panes", &self.panes.len()).finish()
    }
}

impl<K, V> KeyedWindow<K, V> {
    /// An empty window of length `len_ms` (positive).
    pub fn new(len_ms: i64) -> Self {
        check_len(len_ms);
        KeyedWindow {
            len_ms,
            panes: VecDeque::new(),
            last: Vec::new(),
            index: HashTable::new(),
            hasher: FixedState::with_seed(0),
        }
    }

    /// Stores the batch at `t`, already reduced by key, and drops panes no later window covers.
    pub fn push_pane(&mut self, t: i64, pane: Vec<(K, V)>) {
        evict(&mut self.panes, t.saturating_sub(self.len_ms));
        insert_pane(&mut self.panes, t, pane);
    }

    /// The window at `t` reduced by key with `f`, the pairs `filter` keeps: panes in time order,
    /// so each key's values are combined oldest first; keys in the order they were first seen.
    pub fn reduce(
        &mut self,
        t: i64,
        f: &mut impl FnMut(V, V) -> V,
        filter: &mut impl FnMut(&(K, V)) -> bool,
    ) -> &[(K, V)]
    where
        K: Hash + Eq + Clone,
        V: Clone,
    {
        let KeyedWindow { len_ms, panes, last, index, hasher } = self;
        // `vals[i]`: the reduced value of `last[i]`'s key in this window; `order`: positions in
        // `last` in first-seen order. A key new to `last` is appended (its one copy).
        let mut vals: Vec<Option<V>> = std::iter::repeat_with(|| None).take(last.len()).collect();
        let mut order: Vec<u32> = Vec::new();
        for pane in in_window(panes, t, *len_ms) {
            for (k, v) in pane {
                match find(last, index, hasher, k) {
                    Slot::Found(i) => match vals[i].take() {
                        // The reduction so far moves through `f`: no copy of it.
                        Some(acc) => vals[i] = Some(f(acc, v.clone())),
                        None => {
                            vals[i] = Some(v.clone());
                            order.push(index_u32(i));
                        }
                    },
                    Slot::Absent(hash) => {
                        let i = index_u32(last.len());
                        index.insert_unique(hash, i, |&j| hasher.hash_one(&last[j as usize].0));
                        last.push((k.clone(), v.clone()));
                        vals.push(Some(v.clone()));
                        order.push(i);
                    }
                }
            }
        }
        // Keys move (no copy) into their new places: kept pairs first, then dropped ones; keys
        // no longer in the window are dropped.
        let mut keys: Vec<Option<K>> = std::mem::take(last).into_iter().map(|(k, _)| Some(k)).collect();
        let mut remap = vec![GONE; keys.len()];
        let mut kept = Vec::with_capacity(order.len());
        let mut dropped = Vec::new();
        for &i in &order {
            let i = i as usize;
            let (Some(k), Some(v)) = (keys[i].take(), vals[i].take()) else {
                unreachable!("each position is in `order` once, with its value")
            };
            let kv = (k, v);
            if filter(&kv) {
                kept.push((i, kv));
            } else {
                dropped.push((i, kv));
            }
        }
        let n = kept.len();
        for (to, (from, kv)) in kept.into_iter().chain(dropped).enumerate() {
            remap[from] = index_u32(to);
            last.push(kv);
        }
        index.retain(|i| {
            *i = remap[*i as usize];
            *i != GONE
        });
        &last[..n]
    }
}

impl<K: Persist, V: Persist> Checkpointed for KeyedWindow<K, V> {
    fn save(&self, out: &mut Vec<u8>) {
        self.panes.write(out);
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.panes = read_all::<Restored<Panes<(K, V)>>>(bytes)?.0;
        Ok(())
    }

    /// Each pane is a part, as for [`Window`].
    fn save_with_parts(&self, out: &mut Vec<u8>, parts: &mut Parts<'_>) {
        save_panes(&self.panes, out, parts);
    }

    fn restore_with_parts(&mut self, bytes: &[u8], parts: &SavedParts<'_>) -> Result<(), Error> {
        self.panes = restore_only_panes(bytes, parts)?;
        Ok(())
    }
}

/// The state of `reduce_by_key_and_window` with an inverse function (Spark's
/// `ReducedWindowedDStream`): the window's result, kept by key, is updated in place by the
/// panes that leave and enter the window, so a slide costs the panes entering and leaving,
/// however long the window is, plus one call of the filter per key of the window (Spark filters
/// the whole window every slide too).
///
/// ```
/// use streamc_runtime::window::InvKeyedWindow;
/// let mut w = InvKeyedWindow::new(2000, 1000);
/// let (mut add, mut sub, mut keep_all) = (|a, b| a + b, |a, b| a - b, |_: &(&str, i32)| true);
/// w.push_pane(1000, vec![("a", 1)]);
/// assert_eq!(w.slide(1000, &mut add, &mut sub, &mut keep_all), [("a", 1)]);
/// w.push_pane(2000, vec![("a", 2), ("b", 1)]);
/// assert_eq!(w.slide(2000, &mut add, &mut sub, &mut keep_all), [("a", 3), ("b", 1)]);
/// w.push_pane(3000, vec![]);
/// // "a" of batch 1000 leaves; "a" stays at 2 with no batch of its own.
/// assert_eq!(w.slide(3000, &mut add, &mut sub, &mut keep_all), [("a", 2), ("b", 1)]);
/// ```
pub struct InvKeyedWindow<K, V> {
    len_ms: i64,
    slide_ms: i64,
    panes: Panes<(K, V)>,
    /// The (filtered) result of the last slide, in output order.
    window: Vec<(K, V)>,
    /// `window`'s positions by key.
    index: HashTable<u32>,
    hasher: FixedState,
}

impl<K, V> std::fmt::Debug for InvKeyedWindow<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvKeyedWindow")
            .field("len_ms", &self.len_ms)
            .field("slide_ms", &self.slide_ms)
            .field("panes", &self.panes.len())
            .field("window", &self.window.len())
            .finish()
    }
}

/// Where a key was found in, or put into, the window.
enum Slot {
    Found(usize),
    Absent(u64),
}

impl<K, V> InvKeyedWindow<K, V> {
    /// An empty window of length `len_ms` sliding by `slide_ms` (both positive, the length at
    /// least the slide: with a longer slide, windows do not overlap and the inverse function has
    /// nothing to save).
    pub fn new(len_ms: i64, slide_ms: i64) -> Self {
        check_len(len_ms);
        assert!(slide_ms > 0, "a window slide must be positive, found {slide_ms} ms");
        assert!(
            len_ms >= slide_ms,
            "an inverse-reduced window must be at least as long as its slide, found {len_ms} ms and {slide_ms} ms"
        );
        InvKeyedWindow {
            len_ms,
            slide_ms,
            panes: VecDeque::new(),
            window: Vec::new(),
            index: HashTable::new(),
            hasher: FixedState::with_seed(0),
        }
    }

    /// Stores the batch at `t`, already reduced by key, and drops panes no later slide reads
    /// (times `<= t - slide - len`).
    pub fn push_pane(&mut self, t: i64, pane: Vec<(K, V)>) {
        evict(&mut self.panes, t.saturating_sub(self.slide_ms).saturating_sub(self.len_ms));
        insert_pane(&mut self.panes, t, pane);
    }

    /// The window at `t`, from the previous window (at `t - slide`): for each key, `old` is the
    /// reduction with `f` of its values in the panes leaving the window (times in
    /// `(t - slide - len, t - len]`) and `new` that of its values in the panes entering it
    /// (times in `(t - slide, t]`), both oldest first. A key of the previous window becomes
    /// `f(inv(prev, old), new)` (leaving out the steps whose operand is missing); any other key
    /// becomes `new`, or is absent without new values. Then `filter` keeps the pairs of the
    /// result, which is returned and kept as the previous window of the next slide.
    ///
    /// Order: the previous window's keys in their order, then new keys in first-seen order.
    /// A key whose value reaches the neutral value (say 0) stays unless `filter` drops it.
    /// Values are updated in place: a key's value is cloned once for each of `inv` and `f` that
    /// applies to it (a copy for numbers), keys only when they enter the window.
    pub fn slide(
        &mut self,
        t: i64,
        f: &mut impl FnMut(V, V) -> V,
        inv: &mut impl FnMut(V, V) -> V,
        filter: &mut impl FnMut(&(K, V)) -> bool,
    ) -> &[(K, V)]
    where
        K: Hash + Eq + Clone,
        V: Clone,
    {
        let leave_from = t.saturating_sub(self.slide_ms).saturating_sub(self.len_ms);
        let leave_to = t.saturating_sub(self.len_ms);
        let enter_from = t.saturating_sub(self.slide_ms);

        // Leaving panes are never read again: move their entries out. One pane (a slide of one
        // batch) holds each key once and is applied directly; several are first reduced by
        // key with `f`, oldest first, as Spark reduces the old values before inverting.
        let mut leaving = Vec::new();
        while self.panes.front().is_some_and(|p| p.0 <= leave_to) {
            let p = self.panes.pop_front().expect("the front pane was just seen");
            if p.0 > leave_from && !p.1.is_empty() {
                leaving.push(p.1);
            }
        }
        if leaving.len() == 1 {
            for (k, o) in leaving.pop().expect("one leaving pane") {
                self.invert(&k, o, inv);
            }
        } else if !leaving.is_empty() {
            let mut old = KeyedReduce::new();
            for (k, o) in leaving.into_iter().flatten() {
                old.merge(k, o, f);
            }
            for (k, o) in old.into_vec() {
                self.invert(&k, o, inv);
            }
        }

        // Entering panes are read again when they leave: borrow keys, clone values. They are
        // the newest panes, found from the back; `len >= slide` keeps them apart from the
        // leaving ones.
        let entering = self.panes.iter().rev().take_while(|p| p.0 > enter_from).count();
        let first = self.panes.len() - entering;
        let mut panes = self.panes.range(first..).filter(|p| p.0 <= t && !p.1.is_empty());
        let (window, index, hasher) = (&mut self.window, &mut self.index, &self.hasher);
        match (panes.next(), panes.next()) {
            (None, _) => {}
            (Some(p), None) => {
                for (k, n) in &p.1 {
                    add(window, index, hasher, k, n.clone(), f);
                }
            }
            (Some(p), Some(q)) => {
                let mut new = KeyedReduce::new();
                for (k, n) in p.1.iter().chain(&q.1).chain(panes.flat_map(|p| &p.1)) {
                    new.merge(k, n.clone(), f);
                }
                for (k, n) in new.into_vec() {
                    add(window, index, hasher, k, n, f);
                }
            }
        }

        self.retain(filter);
        &self.window
    }

    /// `inv(prev, o)` for a key of the window; a key not in the window (dropped by the filter
    /// while it still had values in the window) has nothing to invert.
    fn invert(&mut self, k: &K, o: V, inv: &mut impl FnMut(V, V) -> V)
    where
        K: Hash + Eq,
        V: Clone,
    {
        if let Slot::Found(i) = find(&self.window, &self.index, &self.hasher, k) {
            let v = &mut self.window[i].1;
            *v = inv(v.clone(), o);
        }
    }

    /// Keeps the pairs `filter` accepts, in order, and moves their index entries along.
    fn retain(&mut self, filter: &mut impl FnMut(&(K, V)) -> bool) {
        // The filter sees every pair once, in order; nothing is allocated while all are kept.
        let Some(first) = self.window.iter().position(|kv| !filter(kv)) else { return };
        // `remap[i]`: pair `i`'s new position, or `GONE`.
        let mut remap: Vec<u32> = (0..index_u32(first)).collect();
        remap.push(GONE);
        let mut next = index_u32(first);
        for kv in &self.window[first + 1..] {
            if filter(kv) {
                remap.push(next);
                next += 1;
            } else {
                remap.push(GONE);
            }
        }
        self.index.retain(|i| {
            *i = remap[*i as usize];
            *i != GONE
        });
        let mut i = 0;
        self.window.retain(|_| {
            i += 1;
            remap[i - 1] != GONE
        });
    }
}

/// Marks a position that is dropped when a window's pairs are compacted.
const GONE: u32 = u32::MAX;

/// A window position as stored in the index.
fn index_u32(i: usize) -> u32 {
    u32::try_from(i).expect("a window holds at most 2^32 keys")
}

/// The position of `k` in `window`, or its hash when it is not there.
fn find<K: Hash + Eq, V>(window: &[(K, V)], index: &HashTable<u32>, hasher: &FixedState, k: &K) -> Slot {
    let hash = hasher.hash_one(k);
    match index.find(hash, |&i| window[i as usize].0 == *k) {
        Some(&i) => Slot::Found(i as usize),
        None => Slot::Absent(hash),
    }
}

/// `f(prev, n)` for a key of the window; a new key enters the window with `n`, at the end.
fn add<K: Hash + Eq + Clone, V: Clone>(
    window: &mut Vec<(K, V)>,
    index: &mut HashTable<u32>,
    hasher: &FixedState,
    k: &K,
    n: V,
    f: &mut impl FnMut(V, V) -> V,
) {
    match find(window, index, hasher, k) {
        Slot::Found(i) => {
            let v = &mut window[i].1;
            *v = f(v.clone(), n);
        }
        Slot::Absent(hash) => {
            let i = index_u32(window.len());
            index.insert_unique(hash, i, |&j| hasher.hash_one(&window[j as usize].0));
            window.push((k.clone(), n));
        }
    }
}

/// Saves the panes and the previous window.
impl<K: Persist + Hash + Eq, V: Persist> Checkpointed for InvKeyedWindow<K, V> {
    fn save(&self, out: &mut Vec<u8>) {
        self.panes.write(out);
        self.window.write(out);
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let (Restored(panes), window) = read_all::<(Restored<Panes<(K, V)>>, Vec<(K, V)>)>(bytes)?;
        self.set_restored(panes, window)
    }

    /// Each pane is a part, as for [`Window`]; the previous window, which changes every slide,
    /// stays in the snapshot.
    fn save_with_parts(&self, out: &mut Vec<u8>, parts: &mut Parts<'_>) {
        save_panes(&self.panes, out, parts);
        self.window.write(out);
    }

    fn restore_with_parts(&mut self, bytes: &[u8], parts: &SavedParts<'_>) -> Result<(), Error> {
        let mut input = bytes;
        let panes = restore_panes(&mut input, parts)?;
        let window: Vec<(K, V)> = read_all(input)?;
        self.set_restored(panes, window)
    }
}

impl<K: Hash + Eq, V> InvKeyedWindow<K, V> {
    /// Takes restored panes and window, indexing the window's keys.
    fn set_restored(&mut self, panes: Panes<(K, V)>, window: Vec<(K, V)>) -> Result<(), Error> {
        let mut index = HashTable::with_capacity(window.len());
        for (i, (k, _)) in window.iter().enumerate() {
            let hash = self.hasher.hash_one(k);
            if index.find(hash, |&j: &u32| window[j as usize].0 == *k).is_some() {
                return Err(corrupt("a key appears twice in a saved window"));
            }
            let i = u32::try_from(i).map_err(|_| corrupt("a saved window holds more than 2^32 keys"))?;
            index.insert_unique(hash, i, |&j| self.hasher.hash_one(&window[j as usize].0));
        }
        self.panes = panes;
        self.window = window;
        self.index = index;
        Ok(())
    }
}

/// The bytes of a window's panes: the deque, each pane's vector and what its elements own.
fn panes_bytes<T: Persist>(panes: &Panes<T>) -> u64 {
    let own = (panes.capacity() * size_of::<(i64, Vec<T>)>()) as u64;
    own + panes.iter().map(|(_, p)| crate::footprint::vec_with_heap(p, T::heap_bytes)).sum::<u64>()
}

fn panes_rows<T>(panes: &Panes<T>) -> usize {
    panes.iter().map(|(_, p)| p.len()).sum()
}

impl<T: Persist> crate::footprint::StateSize for Window<T> {
    fn rows(&self) -> usize {
        panes_rows(&self.panes)
    }
    fn memory_bytes(&self) -> u64 {
        panes_bytes(&self.panes)
    }
}

/// Rows: the panes' entries and the last result's.
impl<K: Persist, V: Persist> crate::footprint::StateSize for KeyedWindow<K, V> {
    fn rows(&self) -> usize {
        panes_rows(&self.panes) + self.last.len()
    }
    fn memory_bytes(&self) -> u64 {
        panes_bytes(&self.panes)
            + crate::footprint::vec_with_heap(&self.last, <(K, V)>::heap_bytes)
            + self.index.allocation_size() as u64
    }
}

/// Rows: the panes' entries and the window's running reductions.
impl<K: Persist, V: Persist> crate::footprint::StateSize for InvKeyedWindow<K, V> {
    fn rows(&self) -> usize {
        panes_rows(&self.panes) + self.window.len()
    }
    fn memory_bytes(&self) -> u64 {
        panes_bytes(&self.panes)
            + crate::footprint::vec_with_heap(&self.window, <(K, V)>::heap_bytes)
            + self.index.allocation_size() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_and_repeated_panes_are_placed_by_time() {
        let mut w = Window::new(10_000);
        w.push(3000, vec![3]);
        w.push(1000, vec![1]);
        w.push(2000, vec![2]);
        w.push(2000, vec![22]);
        w.push(4000, vec![]);
        assert_eq!(w.collect(4000), vec![1, 2, 22, 3]);
        assert_eq!(w.panes.len(), 3);
    }

    #[test]
    fn corrupt_pane_order_is_rejected() {
        let mut bytes = Vec::new();
        vec![(2000i64, vec![1u8]), (1000, vec![2])].write(&mut bytes);
        let mut w = Window::<u8>::new(1000);
        assert!(w.restore(&bytes).is_err());
    }
}

//! Type witnesses for the operators of generated stage code: they give user closures the
//! signatures rustc needs to infer their argument types, and name the operator in trait errors.
//!
//! Generated code does not build iterator chains; it writes plain nested loops and calls each
//! user closure directly (so that fused stages are as fast as hand-written loops). Without an
//! iterator adaptor around it, a closure such as `|word| (word, 1)` has nothing that tells rustc
//! what `word` is. A [`Ty<T>`] is a zero-sized value standing for "the element type of this
//! stream"; passing it to [`map`] together with the closure gives the closure its expected
//! signature `FnMut(T) -> R`, exactly as `Iterator::map` does, and returns the closure unchanged
//! plus the witness of the output type for the next operator.
//!
//! ```
//! use streamc_runtime::{ops, TextBatch};
//!
//! let batch = TextBatch::from_lines(["a b", "b"]);
//! let ty = batch.ty();
//! let (mut words, ty) = ops::flat_map(ty, |line| line.split(' '));
//! let (mut pair, ty) = ops::map(ty, |w| (w, 1i64));
//! let (mut add, _) = ops::reduce_by_key(ty, |a, b| a + b);
//! let mut counts = ops::keyed_reduce(ty);
//! for line in batch.lines() {
//!     for w in words(line) {
//!         let (k, v) = ops::into_pair_reduce_by_key(pair(w));
//!         counts.merge(k, v, &mut add);
//!     }
//! }
//! assert_eq!(counts.into_vec(), vec![("a", 1), ("b", 2)]);
//! ```

use std::hash::Hash;

use crate::fmt::Record;
use crate::join::{Cogrouped, OuterPair};
use crate::owned::IntoOwned;
use crate::state::{KeyedReduce, State, StrReduce};
pub use crate::witness::Ty;

/// `map`: the closure takes one element and returns one element.
#[inline(always)]
pub fn map<T, R, F: FnMut(T) -> R>(_: Ty<T>, f: F) -> (F, Ty<R>) {
    (f, Ty::new())
}

/// `flat_map`: the closure takes one element and returns anything iterable; the stream's
/// elements are then the iterator's items.
#[inline(always)]
pub fn flat_map<T, I: IntoIterator, F: FnMut(T) -> I>(_: Ty<T>, f: F) -> (F, Ty<I::Item>) {
    (f, Ty::new())
}

/// `filter`: the closure looks at an element by reference and keeps it when it returns `true`.
#[inline(always)]
pub fn filter<T, F: FnMut(&T) -> bool>(_: Ty<T>, f: F) -> (F, Ty<T>) {
    (f, Ty::new())
}

/// `reduce`: the closure combines two elements into one (all elements of a batch into one).
#[inline(always)]
pub fn reduce<T, F: FnMut(T, T) -> T>(_: Ty<T>, f: F) -> (F, Ty<T>) {
    (f, Ty::new())
}

/// `count`: a batch becomes the single number of its elements, an `i64` as Spark's `Long`.
#[inline(always)]
pub fn count<T>(_: Ty<T>) -> Ty<i64> {
    Ty::new()
}

/// An empty `Vec` of the stream's element type, to collect a batch into.
#[inline(always)]
pub fn vec<T>(_: Ty<T>) -> Vec<T> {
    Vec::new()
}

/// The elements of a stream that reaches `reduce_by_key`: `(key, value)` pairs.
///
/// A trait rather than a plain tuple bound so that a stream of anything else gets an error
/// naming the operator instead of a type mismatch deep in generated code.
#[diagnostic::on_unimplemented(
    message = "`reduce_by_key` needs a stream of `(key, value)` pairs, found `{Self}`",
    label = "not a `(key, value)` pair",
    note = "use `map` before `reduce_by_key` to turn each element into a `(key, value)` pair"
)]
pub trait ReduceByKeyPair {
    /// The key. Its `Hash + Eq` bound is on the operator functions (as [`ReduceByKeyKey`]), not
    /// here: a bound here would make rustc report a missing `Hash` without naming the operator.
    type Key;
    /// The value combined by the reduce function.
    type Value;
    /// Splits the element into key and value.
    fn into_pair(self) -> (Self::Key, Self::Value);
}

impl<K, V> ReduceByKeyPair for (K, V) {
    type Key = K;
    type Value = V;
    #[inline(always)]
    fn into_pair(self) -> (K, V) {
        self
    }
}

/// The bound on the key of `reduce_by_key`, spelled as its own trait so that rustc's error for a
/// key such as `f64` names the operator.
#[diagnostic::on_unimplemented(
    message = "the key type `{Self}` of `reduce_by_key` must implement `Hash` and `Eq`",
    label = "this key cannot be grouped on",
    note = "floating-point numbers are neither `Hash` nor `Eq`; use an integer or a string key"
)]
pub trait ReduceByKeyKey: Hash + Eq {}

impl<T: Hash + Eq + ?Sized> ReduceByKeyKey for T {}

/// The `(key, value)` pair type of a `reduce_by_key` input `P`.
pub type KeyValue<P> = (<P as ReduceByKeyPair>::Key, <P as ReduceByKeyPair>::Value);

/// `reduce_by_key`: the closure combines two values of the same key.
#[inline(always)]
pub fn reduce_by_key<P, F>(_: Ty<P>, f: F) -> (F, Ty<KeyValue<P>>)
where
    P: ReduceByKeyPair,
    P::Key: ReduceByKeyKey,
    F: FnMut(P::Value, P::Value) -> P::Value,
{
    (f, Ty::new())
}

/// The per-batch table of a `reduce_by_key`, typed from the witness of its input pairs.
#[inline(always)]
pub fn keyed_reduce<P>(_: Ty<P>) -> KeyedReduce<P::Key, P::Value>
where
    P: ReduceByKeyPair,
    P::Key: ReduceByKeyKey,
{
    KeyedReduce::new()
}

/// [`keyed_reduce`] with room for `n` keys (generated code passes the previous batch's count).
#[inline(always)]
pub fn keyed_reduce_sized<P>(_: Ty<P>, n: usize) -> KeyedReduce<P::Key, P::Value>
where
    P: ReduceByKeyPair,
    P::Key: ReduceByKeyKey,
{
    KeyedReduce::with_capacity(n)
}

/// [`keyed_reduce_sized`] for `&str` keys and numeric values (see [`StrReduce`]).
#[inline(always)]
pub fn str_keyed_reduce_sized<'a, P, V>(_: Ty<P>, n: usize) -> StrReduce<'a, V>
where
    P: ReduceByKeyPair<Key = &'a str, Value = V>,
    V: Copy,
{
    StrReduce::with_capacity(n)
}

/// Splits an element entering `reduce_by_key` into key and value (the error for a non-pair
/// names the operator, see [`ReduceByKeyPair`]).
#[inline(always)]
pub fn into_pair_reduce_by_key<P: ReduceByKeyPair>(p: P) -> (P::Key, P::Value) {
    p.into_pair()
}

/// Asserts that the stream's elements can be written by an output operator.
#[inline(always)]
pub fn record<T: Record>(ty: Ty<T>) -> Ty<T> {
    ty
}

/// The bound on a stream consumed by more than one operator: each consumer gets its own copy.
#[diagnostic::on_unimplemented(
    message = "stream elements of type `{Self}` must be `Clone` because the stream feeds more than one operator",
    label = "consumed by more than one operator",
    note = "derive or implement `Clone` for `{Self}`, or give each consumer its own stream"
)]
pub trait FanOut: Clone {}

impl<T: Clone> FanOut for T {}

/// Asserts that the stream's elements can be cloned for fan-out.
#[inline(always)]
pub fn cloneable<T: FanOut>(ty: Ty<T>) -> Ty<T> {
    ty
}

// ----- state kept across batches -------------------------------------------------------------

/// Converts an element into its owned form, to be kept by a window or a stateful operator (the
/// error for a type without one names the reason, see [`IntoOwned`]).
#[inline(always)]
pub fn into_owned<T: IntoOwned>(x: T) -> T::Owned {
    x.into_owned()
}

/// The witness of the owned form of the stream's elements (what a window stores).
#[inline(always)]
pub fn owned<T: IntoOwned>(_: Ty<T>) -> Ty<T::Owned> {
    Ty::new()
}

/// `update_state_by_key`: the closure gets a key's new values of the batch and its previous
/// state, and returns the new state (`None` removes the key). The output is every key (owned)
/// with its state.
#[inline(always)]
pub fn update_state_by_key<K, V, S, F>(_: Ty<(K, V)>, f: F) -> (F, Ty<(K::Owned, S)>)
where
    K: IntoOwned,
    F: FnMut(&[V], Option<S>) -> Option<S>,
{
    (f, Ty::new())
}

/// `map_with_state`: the closure gets the (owned) key, the record's value (`None` when the key
/// is timing out) and the key's [`State`], and returns one output element.
#[inline(always)]
pub fn map_with_state<K, V, S, R, F>(_: Ty<(K, V)>, f: F) -> (F, Ty<R>)
where
    K: IntoOwned,
    F: FnMut(&K::Owned, Option<V>, &mut State<S>) -> R,
{
    (f, Ty::new())
}

/// `state_snapshots`: the witness of a `map_with_state` stream's per-key state.
#[inline(always)]
pub fn snapshots_ty<K, S>(_: &crate::state::MapWithState<K, S>) -> Ty<(K, S)> {
    Ty::new()
}

// ----- key-value operators -------------------------------------------------------------------

/// `join`: pairs of both sides' values for each key.
#[inline(always)]
pub fn join_ty<K, V, W>(_: Ty<(K, V)>, _: Ty<(K, W)>) -> Ty<(K, (V, W))> {
    Ty::new()
}

/// `left_outer_join`: as `join`, the right value optional.
#[inline(always)]
pub fn left_outer_join_ty<K, V, W>(_: Ty<(K, V)>, _: Ty<(K, W)>) -> Ty<(K, (V, Option<W>))> {
    Ty::new()
}

/// `right_outer_join`: as `join`, the left value optional.
#[inline(always)]
pub fn right_outer_join_ty<K, V, W>(_: Ty<(K, V)>, _: Ty<(K, W)>) -> Ty<(K, (Option<V>, W))> {
    Ty::new()
}

/// `full_outer_join`: as `join`, both values optional.
#[inline(always)]
pub fn full_outer_join_ty<K, V, W>(_: Ty<(K, V)>, _: Ty<(K, W)>) -> Ty<(K, OuterPair<V, W>)> {
    Ty::new()
}

/// `cogroup`: each key with its values from both sides.
#[inline(always)]
pub fn cogroup_ty<K, V, W>(_: Ty<(K, V)>, _: Ty<(K, W)>) -> Ty<(K, Cogrouped<V, W>)> {
    Ty::new()
}

/// `group_by_key`: each key with all its values.
#[inline(always)]
pub fn group_by_key_ty<K, V>(_: Ty<(K, V)>) -> Ty<(K, Vec<V>)> {
    Ty::new()
}

/// `count_by_value`: each distinct element with its count.
#[inline(always)]
pub fn count_by_value_ty<T>(_: Ty<T>) -> Ty<(T, i64)> {
    Ty::new()
}

/// `map_values`: the closure maps a pair's value, the key is kept.
#[inline(always)]
pub fn map_values<K, V, U, F: FnMut(V) -> U>(_: Ty<(K, V)>, f: F) -> (F, Ty<(K, U)>) {
    (f, Ty::new())
}

/// `flat_map_values`: the closure maps a pair's value to anything iterable; each item is paired
/// with the key.
#[inline(always)]
pub fn flat_map_values<K, V, I: IntoIterator, F: FnMut(V) -> I>(_: Ty<(K, V)>, f: F) -> (F, Ty<(K, I::Item)>) {
    (f, Ty::new())
}

// ----- whole batches -------------------------------------------------------------------------

/// `transform`: the closure gets the whole batch and returns anything iterable, the new batch.
#[inline(always)]
pub fn transform<T, U, I: IntoIterator<Item = U>, F: FnMut(Vec<T>) -> I>(_: Ty<T>, f: F) -> (F, Ty<U>) {
    (f, Ty::new())
}

/// `foreach_batch` (Spark's `foreachRDD`): the closure gets the batch time in milliseconds and
/// the batch's elements.
#[inline(always)]
pub fn foreach_batch<T, F: FnMut(i64, &[T])>(_: Ty<T>, f: F) -> F {
    f
}

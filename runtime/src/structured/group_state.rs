//! Arbitrary stateful processing (Spark's `mapGroupsWithState` / `flatMapGroupsWithState`): a
//! user function called once per batch for each key with new rows, and for each key whose
//! timeout has passed, with a [`GroupState`] it reads and changes; the state of every key is
//! kept across batches ([`GroupStates`]) and checkpointed.
//!
//! Per batch, as Spark's `FlatMapGroupsWithStateExec`: first the keys with rows (in the order
//! they first appeared), then every key whose timeout timestamp is before the threshold — the
//! batch's processing time for a processing-time timeout, the watermark for an event-time one —
//! called with no rows and [`has_timed_out`](GroupState::has_timed_out). Each call starts with no
//! timeout: a function that wants one sets it again every time it is called (Spark's rule).

use std::hash::Hash;

use super::agg::StreamingAgg;
use super::time::Timestamp;
use crate::error::Error;
use crate::persist::{Checkpointed, Persist};

/// Which timeout a query's function may set (Spark's `GroupStateTimeout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    None,
    ProcessingTime,
    EventTime,
}

/// One key's state as the function sees it during one call.
#[derive(Debug)]
pub struct GroupState<S> {
    value: Option<S>,
    timeout_ms: Option<i64>,
    timed_out: bool,
    conf: Timeout,
    batch_time_ms: i64,
    watermark_ms: Option<i64>,
    what: &'static str,
}

impl<S> GroupState<S> {
    /// A state for a test or a direct call: `value`, the timeout kind, the batch's processing
    /// time and watermark (ms).
    pub fn new(value: Option<S>, conf: Timeout, batch_time_ms: i64, watermark_ms: Option<i64>) -> Self {
        GroupState {
            value,
            timeout_ms: None,
            timed_out: false,
            conf,
            batch_time_ms,
            watermark_ms,
            what: "mapGroupsWithState",
        }
    }

    /// Whether the key has a state.
    pub fn exists(&self) -> bool {
        self.value.is_some()
    }

    /// The state.
    ///
    /// # Panics
    /// When there is none (Spark throws `NoSuchElementException`); see [`get_option`](Self::get_option).
    pub fn get(&self) -> &S {
        match &self.value {
            Some(v) => v,
            None => panic!("State is either not defined or has already been removed"),
        }
    }

    /// The state, if there is one.
    pub fn get_option(&self) -> Option<&S> {
        self.value.as_ref()
    }

    /// The state to change in place, if there is one.
    pub fn get_mut(&mut self) -> Option<&mut S> {
        self.value.as_mut()
    }

    /// Sets the state (kept across batches and checkpointed).
    pub fn update(&mut self, value: S) {
        self.value = Some(value);
    }

    /// Removes the state.
    pub fn remove(&mut self) {
        self.value = None;
    }

    /// Whether this call is for a key whose timeout passed (then it has no rows).
    pub fn has_timed_out(&self) -> bool {
        self.timed_out
    }

    /// Times the key out when no row has come for it within `ms` of this batch's processing
    /// time (processing-time timeout only).
    ///
    /// # Panics
    /// Without a processing-time timeout, or for a duration that is not positive (Spark throws).
    pub fn set_timeout_duration_ms(&mut self, ms: i64) {
        if self.conf != Timeout::ProcessingTime {
            panic!("Cannot set timeout duration without enabling processing time timeout in {}", self.what);
        }
        if ms <= 0 {
            panic!("Timeout duration must be positive");
        }
        self.timeout_ms = Some(self.batch_time_ms.saturating_add(ms));
    }

    /// [`set_timeout_duration_ms`](Self::set_timeout_duration_ms) with a `Duration`.
    pub fn set_timeout_duration(&mut self, d: std::time::Duration) {
        self.set_timeout_duration_ms(i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    }

    /// Times the key out once the watermark passes `ms` (event-time timeout only).
    ///
    /// # Panics
    /// Without an event-time timeout, or for a time before the current watermark (Spark throws).
    pub fn set_timeout_timestamp_ms(&mut self, ms: i64) {
        if self.conf != Timeout::EventTime {
            panic!("Cannot set timeout timestamp without enabling event time timeout in {}", self.what);
        }
        if let Some(wm) = self.watermark_ms
            && ms < wm
        {
            panic!("Timeout timestamp ({ms}) cannot be earlier than the current watermark ({wm})");
        }
        self.timeout_ms = Some(ms);
    }

    /// [`set_timeout_timestamp_ms`](Self::set_timeout_timestamp_ms) with an event time.
    pub fn set_timeout_timestamp(&mut self, t: Timestamp) {
        self.set_timeout_timestamp_ms(t.0.div_euclid(1000));
    }

    /// The batch's watermark in ms (-1 without one, as Spark).
    pub fn get_current_watermark_ms(&self) -> i64 {
        self.watermark_ms.unwrap_or(-1)
    }

    /// The batch's processing time in ms.
    pub fn get_current_processing_time_ms(&self) -> i64 {
        self.batch_time_ms
    }
}

/// A key's saved state: the value (None once removed) and the timeout timestamp (ms).
#[derive(Clone, Debug, PartialEq)]
pub struct Saved<S> {
    value: Option<S>,
    timeout_ms: Option<i64>,
}

impl<S: Persist> Persist for Saved<S> {
    fn write(&self, out: &mut Vec<u8>) {
        self.value.write(out);
        self.timeout_ms.write(out);
    }

    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        Ok(Saved { value: Option::<S>::read(input)?, timeout_ms: Option::<i64>::read(input)? })
    }

    fn heap_bytes(&self) -> usize {
        self.value.heap_bytes()
    }
}

/// What one batch's calls see: the timeout kind, the batch's processing time and watermark
/// (ms; the watermark the batch evicts with), and which function it is (for messages).
#[derive(Clone, Copy, Debug)]
pub struct BatchContext {
    pub timeout: Timeout,
    pub batch_time_ms: i64,
    pub watermark_ms: Option<i64>,
    pub flat: bool,
}

/// The state of every key `K` of an arbitrary stateful operator, of type `S`.
pub struct GroupStates<K, S> {
    table: StreamingAgg<K, Saved<S>>,
    updated: usize,
    removed: u64,
}

impl<K, S> Default for GroupStates<K, S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, S> GroupStates<K, S> {
    pub fn new() -> Self {
        GroupStates { table: StreamingAgg::new(), updated: 0, removed: 0 }
    }

    /// The number of keys with a state or a timeout.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Keys whose state or timeout the last batch wrote (Spark's `numUpdatedStateRows`).
    pub fn updated_count(&self) -> usize {
        self.updated
    }

    /// Keys whose state the last batch removed (Spark's `numRemovedStateRows`).
    pub fn removed_count(&self) -> u64 {
        self.removed
    }

    /// Runs one batch: `f(key, rows, state)` for each key of `groups` (the batch's rows by key,
    /// in first-seen order), then for each key timed out; `emit` gets each call's result.
    pub fn run_batch<V, R>(
        &mut self,
        groups: StreamingAgg<K, Vec<V>>,
        ctx: BatchContext,
        mut f: impl FnMut(&K, std::vec::IntoIter<V>, &mut GroupState<S>) -> R,
        mut emit: impl FnMut(R),
    ) where
        K: Hash + Eq + Clone,
    {
        let what = if ctx.flat { "flatMapGroupsWithState" } else { "mapGroupsWithState" };
        let state = |value: Option<S>, timed_out: bool| GroupState {
            value,
            timeout_ms: None,
            timed_out,
            conf: ctx.timeout,
            batch_time_ms: ctx.batch_time_ms,
            watermark_ms: ctx.watermark_ms,
            what,
        };
        let (mut updated, mut removed) = (0usize, 0u64);
        for (key, rows) in groups.into_entries() {
            let k = key.clone();
            self.table.update_owned(
                key,
                |saved| {
                    let had = saved.value.is_some();
                    let mut gs = state(saved.value.take(), false);
                    emit(f(&k, rows.into_iter(), &mut gs));
                    updated += 1;
                    if had && gs.value.is_none() {
                        removed += 1;
                    }
                    *saved = Saved { value: gs.value, timeout_ms: gs.timeout_ms };
                },
                || Saved { value: None, timeout_ms: None },
            );
        }
        let threshold = match ctx.timeout {
            Timeout::None => None,
            Timeout::ProcessingTime => Some(ctx.batch_time_ms),
            Timeout::EventTime => ctx.watermark_ms,
        };
        if let Some(threshold) = threshold {
            for (k, saved) in self.table.iter_mut() {
                if saved.timeout_ms.is_none_or(|t| t >= threshold) {
                    continue;
                }
                let had = saved.value.is_some();
                let mut gs = state(saved.value.take(), true);
                emit(f(k, Vec::new().into_iter(), &mut gs));
                updated += 1;
                if had && gs.value.is_none() {
                    removed += 1;
                }
                *saved = Saved { value: gs.value, timeout_ms: gs.timeout_ms };
            }
        }
        // A key without a state and without a timeout is gone.
        self.table.end_batch_evicting(|_, s| s.value.is_none() && s.timeout_ms.is_none());
        self.updated = updated;
        self.removed = removed;
    }
}

impl<K: Persist + Hash + Eq, S: Persist> Checkpointed for GroupStates<K, S> {
    fn save(&self, out: &mut Vec<u8>) {
        self.table.save(out);
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.table.restore(bytes)
    }
}

impl<K: Persist, S: Persist> crate::footprint::StateSize for GroupStates<K, S> {
    fn rows(&self) -> usize {
        self.table.len()
    }
    fn memory_bytes(&self) -> u64 {
        crate::footprint::StateSize::memory_bytes(&self.table)
    }
}

/// A value returned by a `map_groups_with_state` function converted to an output column's
/// type: a column of type `T` takes a `T` or an `Option<T>` (NULL), a string column any of
/// `String`, `&str` or their `Option`s.
pub trait IntoCell<T> {
    fn into_cell(self) -> T;
}

impl<T> IntoCell<Option<T>> for T {
    #[inline]
    fn into_cell(self) -> Option<T> {
        Some(self)
    }
}

impl<T> IntoCell<Option<T>> for Option<T> {
    #[inline]
    fn into_cell(self) -> Option<T> {
        self
    }
}

impl<'a> IntoCell<Option<std::borrow::Cow<'a, str>>> for String {
    #[inline]
    fn into_cell(self) -> Option<std::borrow::Cow<'a, str>> {
        Some(std::borrow::Cow::Owned(self))
    }
}

impl<'a> IntoCell<Option<std::borrow::Cow<'a, str>>> for Option<String> {
    #[inline]
    fn into_cell(self) -> Option<std::borrow::Cow<'a, str>> {
        self.map(std::borrow::Cow::Owned)
    }
}

impl<'a> IntoCell<Option<std::borrow::Cow<'a, str>>> for &str {
    #[inline]
    fn into_cell(self) -> Option<std::borrow::Cow<'a, str>> {
        Some(std::borrow::Cow::Owned(self.to_owned()))
    }
}

impl<'a> IntoCell<Option<std::borrow::Cow<'a, str>>> for Option<&str> {
    #[inline]
    fn into_cell(self) -> Option<std::borrow::Cow<'a, str>> {
        self.map(|s| std::borrow::Cow::Owned(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(rows: &[(&str, i64)]) -> StreamingAgg<String, Vec<i64>> {
        let mut g = StreamingAgg::new();
        for (k, v) in rows {
            g.update(*k, |r: &mut Vec<i64>| r.push(*v), Vec::new);
        }
        g
    }

    #[test]
    fn counts_per_key_and_times_out_by_processing_time() {
        let mut s: GroupStates<String, i64> = GroupStates::new();
        let run = |s: &mut GroupStates<String, i64>, rows: &[(&str, i64)], t: i64| {
            let mut out = Vec::new();
            let ctx =
                BatchContext { timeout: Timeout::ProcessingTime, batch_time_ms: t, watermark_ms: None, flat: false };
            s.run_batch(
                groups(rows),
                ctx,
                |k, rows, st| {
                    if st.has_timed_out() {
                        let n = *st.get();
                        st.remove();
                        return (k.clone(), n, true);
                    }
                    let n = st.get_option().copied().unwrap_or(0) + rows.count() as i64;
                    st.update(n);
                    st.set_timeout_duration_ms(10);
                    (k.clone(), n, false)
                },
                |r| out.push(r),
            );
            out
        };
        assert_eq!(run(&mut s, &[("a", 1), ("b", 1), ("a", 1)], 100), [("a".into(), 2, false), ("b".into(), 1, false)]);
        assert_eq!(run(&mut s, &[("a", 1)], 105), [("a".to_string(), 3, false)]);
        // b's timeout (110) is before 111; a's (115) is not.
        assert_eq!(run(&mut s, &[], 111), [("b".to_string(), 1, true)]);
        assert_eq!(s.len(), 1);
        let mut bytes = Vec::new();
        s.save(&mut bytes);
        let mut back: GroupStates<String, i64> = GroupStates::new();
        back.restore(&bytes).unwrap();
        assert_eq!(run(&mut back, &[], 116), [("a".to_string(), 3, true)]);
        assert!(back.is_empty());
    }

    #[test]
    #[should_panic(expected = "Cannot set timeout duration without enabling processing time timeout")]
    fn a_duration_needs_a_processing_time_timeout() {
        let mut st: GroupState<i64> = GroupState::new(None, Timeout::EventTime, 0, Some(0));
        st.set_timeout_duration_ms(5);
    }
}

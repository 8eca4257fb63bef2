//! How much a stateful operator holds ([`StateSize`]): its rows, and an estimate of its memory,
//! for the progress record (`numRowsTotal`, `memoryUsedBytes`) and the UI's charts per operator.
//!
//! The estimate is the tables' own allocations (hash index, entry vectors, window panes:
//! capacities, exactly) plus the heap bytes that keys and values own
//! ([`Persist::heap_bytes`](crate::persist::Persist::heap_bytes): a `String`'s buffer, a
//! `Vec`'s), measured on at most [`SAMPLE`] evenly spaced entries and scaled to all of them, so
//! that reporting it costs the same for a thousand keys as for ten million. Allocator overhead
//! is not counted, nor heap owned by a user type whose `Persist` impl does not report it.

/// What a stateful operator holds.
pub trait StateSize {
    /// The entries in state (keys with their state, or a window's elements).
    fn rows(&self) -> usize;
    /// An estimate of the bytes the state holds (see the module).
    fn memory_bytes(&self) -> u64;
}

/// The most entries whose heap bytes are measured per estimate.
pub const SAMPLE: usize = 256;

/// The heap bytes of `items`, measured with `heap` on at most [`SAMPLE`] of them, evenly
/// spaced, and scaled to all.
pub(crate) fn sampled_heap<T>(items: &[T], heap: impl Fn(&T) -> usize) -> u64 {
    let n = items.len();
    if n == 0 {
        return 0;
    }
    let step = n.div_ceil(SAMPLE);
    let (mut sum, mut measured) = (0u64, 0u64);
    for x in items.iter().step_by(step) {
        sum += heap(x) as u64;
        measured += 1;
    }
    sum * n as u64 / measured
}

/// The bytes of a vector's buffer (its capacity) and what its elements own, sampled.
pub(crate) fn vec_with_heap<T>(v: &Vec<T>, heap: impl Fn(&T) -> usize) -> u64 {
    (v.capacity() * size_of::<T>()) as u64 + sampled_heap(v, heap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::Persist;

    #[test]
    fn small_vectors_are_measured_whole_and_large_ones_sampled_and_scaled() {
        let v: Vec<String> = (0..10).map(|i| "x".repeat(i)).collect();
        assert_eq!(sampled_heap(&v, Persist::heap_bytes), v.iter().map(String::capacity).sum::<usize>() as u64);
        // Every string the same size: the sample's mean is exact.
        let big: Vec<String> = (0..100_000).map(|_| String::with_capacity(16)).collect();
        assert_eq!(sampled_heap(&big, Persist::heap_bytes), 1_600_000);
        assert_eq!(vec_with_heap(&Vec::<(i64, i64)>::with_capacity(8), |_| 0), 128);
        assert_eq!(sampled_heap::<i64>(&[], |_| 1), 0);
    }
}

//! How much of a batch read in shares each process of a cluster reads ([`ShareBalance`]).
//!
//! A batch's rounds are barriers: every process waits in a round until the slowest has arrived.
//! Even shares of the bytes are not even work: process 0 has the batch's decision, its commit,
//! the progress line and the outputs it puts out for all after the last round, and a process's
//! CPU may be slower than another's (the one that takes the machine's interrupts, say). On the
//! cluster bench's Structured query one process waited ~3 ms a batch in the first round for the
//! other; which one varied from run to run.
//!
//! So every process measures, per batch, its work before the batch's first round of data
//! (from the end of its last round to the start of that round: the rest of the batch before,
//! reading its share, running the query over it), sends it to process 0 in the batch's last
//! round, and process 0 moves the shares of the next batch it decides toward the processes that
//! worked less per share. The shares only move where the batch is cut: the processes' lines in
//! process order are the batch's lines in order, whatever the cut, so the outputs and the state
//! are the same (`source::Share`).

use std::time::Duration;

use crate::source::Share;

/// The fraction of the way a batch's measurement moves the shares toward those that would have
/// made every process's work equal (smoothing out a process descheduled once).
const STEP: f64 = 0.5;
/// A process's share stays between these multiples of an even share.
const BOUNDS: (f64, f64) = (0.5, 1.5);
/// A batch whose processes worked less than this on average teaches nothing: its work is mostly
/// what does not depend on the share (a round's bookkeeping, process 0's duties), and learning
/// from a run of small batches would leave the next large one cut for them.
const MIN_WORK: Duration = Duration::from_millis(2);

/// Process 0's shares of the batches read in shares, learned from the processes' work.
#[derive(Debug, Clone)]
pub(in crate::app) struct ShareBalance {
    /// Each process's share, adding up to 1.
    shares: Vec<f64>,
}

impl ShareBalance {
    /// Even shares for `n` processes.
    pub(in crate::app) fn new(n: usize) -> Self {
        let n = n.max(1);
        ShareBalance { shares: vec![1.0 / n as f64; n] }
    }

    /// The shares' bounds, as the batch's decision carries them to every process
    /// ([`Share::of_cuts`]): `n + 1` of them, from 0 to [`Share::WHOLE`].
    pub(super) fn cuts(&self) -> Vec<u64> {
        let mut cuts = Vec::with_capacity(self.shares.len() + 1);
        let mut sum = 0.0;
        cuts.push(0);
        for s in &self.shares[..self.shares.len() - 1] {
            sum += s;
            cuts.push(((sum * Share::WHOLE as f64) as u64).min(Share::WHOLE));
        }
        cuts.push(Share::WHOLE);
        // Rounding never makes a bound smaller than the one before.
        for k in 1..cuts.len() {
            cuts[k] = cuts[k].max(cuts[k - 1]);
        }
        cuts
    }

    /// Learns from one batch's work before its first round, per process in process order (the
    /// batch having been read in the shares [`cuts`](Self::cuts) gave): a process's work per
    /// share tells how much it can take in the same time, and the shares move [`STEP`] of the way
    /// toward shares in that proportion (where every process's work would have been equal),
    /// each kept within [`BOUNDS`] of an even share. Nothing is learned from a batch in which a
    /// process did no measurable work, or the processes less than [`MIN_WORK`] on average.
    pub(super) fn learn(&mut self, work: &[Duration]) {
        let n = self.shares.len();
        if work.len() != n || n < 2 || work.iter().any(|w| w.is_zero()) {
            return;
        }
        if work.iter().sum::<Duration>() < MIN_WORK * n as u32 {
            return;
        }
        let rates: Vec<f64> = self.shares.iter().zip(work).map(|(s, w)| s / w.as_secs_f64()).collect();
        let total: f64 = rates.iter().sum();
        let even = 1.0 / n as f64;
        for (s, r) in self.shares.iter_mut().zip(&rates) {
            let target = r / total;
            *s = (*s + STEP * (target - *s)).clamp(BOUNDS.0 * even, BOUNDS.1 * even);
        }
        let sum: f64 = self.shares.iter().sum();
        self.shares.iter_mut().for_each(|s| *s /= sum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn even_cuts_until_something_is_learned() {
        let b = ShareBalance::new(3);
        let cuts = b.cuts();
        assert_eq!(cuts.len(), 4);
        assert_eq!((cuts[0], cuts[3]), (0, Share::WHOLE));
        for k in 0..3 {
            assert_eq!(Share::of_cuts(k, 3, &cuts).range(3_000_000), Share::even(k, 3).range(3_000_000));
        }
        assert_eq!(ShareBalance::new(1).cuts(), vec![0, Share::WHOLE]);
    }

    #[test]
    fn a_slower_process_gets_less_and_the_work_evens_out() {
        // Process 0 takes 2 ms more than process 1 whatever its share (its extra duties), and
        // both take 10 ms per half of the batch.
        let mut b = ShareBalance::new(2);
        let work = |s: f64, extra: f64| Duration::from_secs_f64((20.0 * s + extra) / 1e3);
        for _ in 0..20 {
            let (s0, s1) = (b.shares[0], b.shares[1]);
            b.learn(&[work(s0, 2.0), work(s1, 0.0)]);
        }
        let (w0, w1) = (work(b.shares[0], 2.0), work(b.shares[1], 0.0));
        assert!(b.shares[0] < 0.5, "{:?}", b.shares);
        assert!(w0.abs_diff(w1) < Duration::from_micros(50), "{w0:?} {w1:?}");
        let cuts = b.cuts();
        assert!(cuts[1] < Share::WHOLE / 2);
    }

    #[test]
    fn shares_stay_within_bounds_and_bad_figures_change_nothing() {
        let mut b = ShareBalance::new(2);
        for _ in 0..50 {
            b.learn(&ms(&[100, 1]));
        }
        assert!(
            (b.shares[0] - 0.25).abs() < 0.01 && (b.shares.iter().sum::<f64>() - 1.0).abs() < 1e-9,
            "{:?}",
            b.shares
        );
        let before = b.shares.clone();
        b.learn(&ms(&[0, 5]));
        b.learn(&ms(&[5]));
        // Small batches: mostly fixed costs.
        b.learn(&ms(&[1, 2]));
        assert_eq!(b.shares, before);
    }
}

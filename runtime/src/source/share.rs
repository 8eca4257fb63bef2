//! A cluster process's share of a batch read in shares ([`Share`]), and its byte ranges of the
//! batch's files ([`share_ranges`]).

/// A cluster process's share of a batch read in shares: process `me` of `n` reads the bytes from
/// `lo` to `hi` of the batch, in [`Share::WHOLE`]ths of its bytes; the processes' shares follow
/// one another in process order, from 0 to `WHOLE`. Process 0 decides them for each batch
/// (`app/batch_loop/shares.rs`: a process that takes longer to reach the batch's first round
/// reads less) and sends them with the batch's plan, so every process cuts the batch at the
/// same bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Share {
    /// This process's index.
    pub(crate) me: usize,
    /// The number of processes.
    pub(crate) n: usize,
    lo: u64,
    hi: u64,
}

impl Share {
    /// The whole batch, as a share's bounds count it.
    pub(crate) const WHOLE: u64 = 1 << 32;

    /// Process `me`'s share of `n` even shares.
    pub(crate) fn even(me: usize, n: usize) -> Share {
        let n = n.max(1);
        let cut = |k: usize| Self::WHOLE * k as u64 / n as u64;
        Share { me, n, lo: cut(me), hi: cut(me + 1) }
    }

    /// Process `me`'s share of the shares that `cuts` bounds (`n + 1` bounds, from 0 to
    /// [`WHOLE`](Self::WHOLE), not decreasing); even shares when `cuts` is not such a list.
    pub(crate) fn of_cuts(me: usize, n: usize, cuts: &[u64]) -> Share {
        let valid = cuts.len() == n + 1
            && cuts.first() == Some(&0)
            && cuts.last() == Some(&Self::WHOLE)
            && cuts.windows(2).all(|w| w[0] <= w[1]);
        if !valid {
            return Self::even(me, n);
        }
        Share { me, n, lo: cuts[me], hi: cuts[me + 1] }
    }

    /// The share's bytes of `total`: from, to.
    pub(crate) fn range(&self, total: u64) -> (u64, u64) {
        let at = |f: u64| (u128::from(total) * u128::from(f) / u128::from(Self::WHOLE)) as u64;
        (at(self.lo), at(self.hi))
    }
}

/// The byte ranges of `share` over files of `sizes` bytes read one after the other (a batch's
/// files): their concatenation cut into the processes' shares of its bytes, as `(file, lo, hi)`
/// for each file this process's range overlaps, in file order. With
/// [`TextBatch::read_file_range`](super::TextBatch::read_file_range) each line of the files is read by exactly one process, and
/// the processes' lines in process order are the files' lines in order.
pub(crate) fn share_ranges(sizes: &[u64], share: Share) -> Vec<(usize, u64, u64)> {
    let total: u64 = sizes.iter().sum();
    let (a, b) = share.range(total);
    let mut out = Vec::new();
    let mut at = 0u64;
    for (i, &size) in sizes.iter().enumerate() {
        let (lo, hi) = (a.max(at), b.min(at + size));
        if lo < hi {
            out.push((i, lo - at, hi - at));
        }
        at += size;
    }
    out
}

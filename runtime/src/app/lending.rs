//! What became of a cluster process's shares of a batch once others took blocks of them and
//! it took blocks of theirs (`steal.rs`), for the shares process 0 learns
//! (`batch_loop/shares.rs`).

use std::time::Duration;

/// What became of this process's shares of a batch (`steal.rs`), for the shares process
/// 0 learns (`batch_loop/shares.rs`), which must follow each process's speed rather than the
/// balance the blocks taken made (with equal work before every first round, it would learn
/// nothing, and a process slower every batch, process 0 with its duties, would have blocks
/// taken from it every batch, each at a price).
#[derive(Debug, Default)]
pub(super) struct Lending {
    /// The bytes of its own shares.
    pub(super) own: u64,
    /// Of them, the bytes others took.
    pub(super) lent: u64,
    /// The bytes it took from others.
    pub(super) taken: u64,
    /// Its time waiting for the answers.
    pub(super) waited: Duration,
}

impl Lending {
    /// The figures behind `lock` (a panic elsewhere does not spoil them: they are sums).
    pub(super) fn of(lock: &std::sync::Mutex<Lending>) -> std::sync::MutexGuard<'_, Lending> {
        lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `work` (this process's work before the batch's first round) as it would have been over
    /// its own shares alone: its time not spent waiting for answers, in proportion of the bytes
    /// of its shares to the bytes it ran.
    pub(super) fn own_work(&self, work: Duration) -> Duration {
        let ran = (self.own + self.taken).saturating_sub(self.lent);
        if ran == 0 || self.own == 0 || ran == self.own {
            return work.saturating_sub(self.waited);
        }
        work.saturating_sub(self.waited).mul_f64(self.own as f64 / ran as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_is_scaled_to_the_own_shares_and_waits_left_out() {
        let ms = Duration::from_millis;
        // Half of its share taken: it would have worked twice as long.
        let victim = Lending { own: 100, lent: 50, ..Lending::default() };
        assert_eq!(victim.own_work(ms(10)), ms(20));
        // Half as much again taken, 2 ms of it waiting for the answer.
        let thief = Lending { own: 100, taken: 50, waited: ms(2), ..Lending::default() };
        assert_eq!(thief.own_work(ms(17)), ms(10));
        // Nothing lent or taken, or no share of its own: as measured, waits left out.
        assert_eq!(Lending { own: 100, ..Lending::default() }.own_work(ms(7)), ms(7));
        assert_eq!(Lending { taken: 30, waited: ms(1), ..Lending::default() }.own_work(ms(7)), ms(6));
    }
}

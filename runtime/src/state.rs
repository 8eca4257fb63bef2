//! Keyed state: the per-batch tables of `reduce_by_key` (the hot path of every aggregation) and
//! `group_by_key`, and the state kept across batches by `update_state_by_key` and
//! `map_with_state`.
//!
//! - `keyed_reduce`: [`KeyedReduce`], per-batch `reduce_by_key`;
//! - `str_reduce`: [`StrReduce`], the same over `&str` keys with numeric values;
//! - `keyed_group`: [`KeyedGroup`], per-batch `group_by_key`;
//! - `update_state`: [`UpdateState`], `update_state_by_key` across batches;
//! - `map_with_state`: [`State`] and [`MapWithState`], `map_with_state` across batches;
//! - `table`: what the tables share (hasher seed, index table).

mod keyed_group;
mod keyed_reduce;
mod map_with_state;
mod partitioned;
mod str_reduce;
pub(crate) mod table;
#[cfg(test)]
mod tests;
mod update_state;

pub use keyed_group::KeyedGroup;
pub use keyed_reduce::KeyedReduce;
pub use map_with_state::{MapWithState, State, running_sum_mapped};
pub use str_reduce::StrReduce;
pub use update_state::{UpdateState, running_sum};

//! A small binary codec for checkpointed state, and the trait every checkpointed state implements.

use crate::error::Error;

/// A value that can be written into a checkpoint and read back.
pub trait Persist: Sized {
    /// Appends the value's bytes.
    fn write(&self, out: &mut Vec<u8>);
    /// Reads a value, advancing `input` past it; a truncated or malformed input is an error.
    fn read(input: &mut &[u8]) -> Result<Self, Error>;
}

/// A piece of operator state that is saved in checkpoints and restored after a restart.
pub trait Checkpointed {
    /// Appends a snapshot of the whole state.
    fn save(&self, out: &mut Vec<u8>);
    /// Replaces the state with a snapshot written by [`save`](Self::save).
    fn restore(&mut self, bytes: &[u8]) -> Result<(), Error>;
}

//! Checkpoints: state snapshots and the batch position, written atomically with a checksum.

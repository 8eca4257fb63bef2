//! Window panes across batches: `window`, `reduce_by_key_and_window` with and without an inverse.

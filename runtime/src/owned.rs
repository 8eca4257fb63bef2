//! Owned forms of stream elements, for state that outlives a batch (windows, stateful streams).

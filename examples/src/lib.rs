//! Runnable examples of streamc: YAML specs (`*.yaml` beside this crate) and Rust programs
//! using `stream!` (`src/bin/`). The test suite runs both on `data/` and checks their output.

//! What the SQL front end gives back: a lowered query (its source and steps, each with its
//! place in the SQL text), or the errors found in the text.

use crate::table::Step;

/// A byte range of the SQL text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub start: usize,
    pub len: usize,
}

/// A user mistake in the SQL text: where (None: the whole text), what, and how to fix it.
#[derive(Clone, Debug, PartialEq)]
pub struct SqlError {
    pub pos: Option<Pos>,
    pub message: String,
    pub help: Option<String>,
}

/// A lowered query: the source it reads and its steps, each with the SQL text it came from.
#[derive(Clone, Debug)]
pub struct Lowered {
    pub from: (String, Option<Pos>),
    pub steps: Vec<(Step, Option<Pos>)>,
}

//! Source positions as small handles: the IR stores a [`SpanId`]; the [`SpanTable`] beside it
//! knows whether that position is in a YAML file (line, column, byte range) or in `stream!`
//! tokens (a `proc_macro2::Span`). Spans never take part in equality of IR values.

use proc_macro2::Span;

/// A handle to a source position, an index into a [`SpanTable`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SpanId(u32);

/// Where a piece of a spec came from.
#[derive(Clone, Debug)]
pub enum SpanInfo {
    /// A range in a YAML (or other text) file: 1-based line and column, byte range.
    Text { line: u32, column: u32, start: usize, len: usize },
    /// Tokens of a `stream!` invocation.
    Tokens(Span),
    /// Nothing better is known (a default, or a value synthesised by the compiler).
    Unknown,
}

/// The table of every span handed out while compiling one spec.
#[derive(Debug)]
pub struct SpanTable {
    spans: Vec<SpanInfo>,
}

impl Default for SpanTable {
    fn default() -> Self {
        SpanTable { spans: vec![SpanInfo::Unknown] }
    }
}

impl SpanTable {
    /// Records a span and returns its handle.
    pub fn add(&mut self, info: SpanInfo) -> SpanId {
        let id = u32::try_from(self.spans.len()).unwrap_or(0);
        self.spans.push(info);
        SpanId(id)
    }

    /// The handle that means "no position known"; always valid.
    pub fn unknown() -> SpanId {
        SpanId(0)
    }

    /// What the handle stands for.
    pub fn get(&self, id: SpanId) -> &SpanInfo {
        self.spans.get(id.0 as usize).unwrap_or(&SpanInfo::Unknown)
    }

    /// The `proc_macro2::Span` to give generated tokens: the user's own tokens for `stream!`,
    /// the call site otherwise.
    pub fn token_span(&self, id: SpanId) -> Span {
        match self.get(id) {
            SpanInfo::Tokens(span) => *span,
            _ => Span::call_site(),
        }
    }
}

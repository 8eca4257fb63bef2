//! The reader service every part of the YAML front end shares (serde_derive's `Ctxt` is the
//! model): the source text, the span table and the diagnostics, with the readers of scalar
//! nodes, mappings and expressions that report a mistake at its spot and return `None`.

use super::node::Node;
use crate::diag::{Diagnostics, suggest};
use crate::dstream::plan::Literal;
use crate::duration;
use crate::span::{SpanId, SpanInfo, SpanTable};
use serde_saphyr::Spanned;
use std::collections::HashMap;

/// Where a spec's text, spans and diagnostics live while it is read.
pub(super) struct Reader<'a> {
    pub(super) src: &'a str,
    pub(super) spans: &'a mut SpanTable,
    pub(super) diags: &'a mut Diagnostics,
}

impl Reader<'_> {
    pub(super) fn span_at(&mut self, line: u64, column: u64, len: usize) -> SpanId {
        // Byte offset of (line, column), counted in characters as serde-saphyr does.
        let mut start = self.src.len();
        if let Some(line_text) = self.src.split_inclusive('\n').nth((line.max(1) - 1) as usize) {
            let line_start = line_text.as_ptr() as usize - self.src.as_ptr() as usize;
            let col = line_text.char_indices().nth((column.max(1) - 1) as usize).map(|(i, _)| i);
            start = line_start + col.unwrap_or(line_text.len());
        }
        self.spans.add(SpanInfo::Text { line: line as u32, column: column as u32, start, len })
    }

    pub(super) fn span_of<T>(&mut self, node: &Spanned<T>) -> SpanId {
        let loc = node.referenced;
        let len = loc.span().byte_len().unwrap_or(1) as usize;
        self.span_at(loc.line(), loc.column(), len.max(1))
    }

    /// The fields of a mapping, checking that each key is one of `allowed`.
    pub(super) fn fields<'n>(
        &mut self,
        value: &'n Spanned<Node>,
        what: &str,
        allowed: &[&str],
    ) -> Option<HashMap<String, &'n Spanned<Node>>> {
        let Node::Map(entries) = &value.value else {
            let span = self.span_of(value);
            self.diags
                .error(span, format!("expected a mapping for `{what}`, found {}", value.value.kind()))
                .help(format!("`{what}` takes {}", list(allowed)));
            return None;
        };
        let mut out = HashMap::new();
        for (k, v) in entries {
            if allowed.contains(&k.value.as_str()) {
                out.insert(k.value.clone(), v);
            } else {
                let span = self.span_of(k);
                let d = self.diags.error(span, format!("unknown field `{}` in `{what}`", k.value));
                match suggest(&k.value, allowed) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("`{what}` takes {}", list(allowed))),
                };
            }
        }
        Some(out)
    }

    pub(super) fn string(&mut self, v: &Spanned<Node>, what: &str) -> Option<String> {
        match &v.value {
            Node::Str(s) => Some(s.clone()),
            other => {
                let span = self.span_of(v);
                self.diags.error(span, format!("expected a string for `{what}`, found {}", other.kind()));
                None
            }
        }
    }

    pub(super) fn int(&mut self, v: &Spanned<Node>, what: &str) -> Option<i64> {
        match &v.value {
            Node::Int(i) => Some(*i),
            other => {
                let span = self.span_of(v);
                self.diags.error(span, format!("expected an integer for `{what}`, found {}", other.kind()));
                None
            }
        }
    }

    pub(super) fn duration(&mut self, v: &Spanned<Node>, what: &str) -> Option<u64> {
        self.duration_with(v, what, duration::parse_ms)
    }

    /// A watermark delay: a duration that may be zero.
    pub(super) fn delay(&mut self, v: &Spanned<Node>, what: &str) -> Option<u64> {
        self.duration_with(v, what, duration::parse_delay_ms)
    }

    fn duration_with(&mut self, v: &Spanned<Node>, what: &str, parse: fn(&str) -> Result<u64, String>) -> Option<u64> {
        let span = self.span_of(v);
        let result = match &v.value {
            Node::Str(s) => parse(s),
            Node::Int(_) | Node::Float(_) => Err(format!("`{what}` needs a unit, such as `1s` or `500ms`")),
            other => Err(format!("expected a duration such as `1s` for `{what}`, found {}", other.kind())),
        };
        match result {
            Ok(ms) => Some(ms),
            Err(msg) => {
                self.diags.error(span, msg).help("durations are written `500ms`, `1s`, `10 seconds` or `2 minutes`");
                None
            }
        }
    }

    pub(super) fn pairs(&mut self, v: &Spanned<Node>) -> Option<Vec<(Literal, Literal)>> {
        let Node::Seq(items) = &v.value else {
            let span = self.span_of(v);
            self.diags
                .error(span, format!("expected a list of `[key, state]` pairs, found {}", v.value.kind()))
                .help("write `initial_state: [[hello, 1], [world, 1]]`");
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            match &item.value {
                Node::Seq(kv) if kv.len() == 2 => out.push((self.literal(&kv[0])?, self.literal(&kv[1])?)),
                _ => {
                    let span = self.span_of(item);
                    self.diags.error(span, "expected a `[key, state]` pair");
                    return None;
                }
            }
        }
        Some(out)
    }

    pub(super) fn literal(&mut self, v: &Spanned<Node>) -> Option<Literal> {
        Some(match &v.value {
            Node::Int(i) => Literal::Int(*i),
            Node::Float(f) => Literal::Float(*f),
            Node::Bool(b) => Literal::Bool(*b),
            Node::Str(s) => Literal::Str(s.clone()),
            other => {
                let span = self.span_of(v);
                self.diags
                    .error(span, format!("expected a constant (number, string or boolean), found {}", other.kind()));
                return None;
            }
        })
    }

    /// A column expression of the text of the node at `span`, or None after reporting where it
    /// does not parse.
    pub(super) fn expr(&mut self, text: &str, span: SpanId) -> Option<crate::table::expr::Expr> {
        match crate::table::expr::parse(text) {
            Ok(e) => Some(e),
            Err(e) => {
                let s = self.shift(span, e.offset);
                self.diags.error(s, format!("cannot parse the expression: {}", e.message));
                None
            }
        }
    }

    /// A span `offset` bytes into a (quoted) string node.
    pub(super) fn shift(&mut self, span: SpanId, offset: usize) -> SpanId {
        match self.spans.get(span).clone() {
            SpanInfo::Text { line, column, start, .. } => {
                let quoted = matches!(self.src.as_bytes().get(start), Some(b'"' | b'\''));
                let extra = offset + usize::from(quoted);
                self.spans.add(SpanInfo::Text { line, column: column + extra as u32, start: start + extra, len: 1 })
            }
            _ => span,
        }
    }
}

/// `a`, `b`, `c` in backticks, for help lines.
pub(super) fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    quoted.join(", ")
}

//! Diagnostics: user mistakes collected with spans (never a panic, never only the first one),
//! and their rendering in rustc's style, for a YAML file or as `compile_error!` tokens.

use crate::span::{SpanId, SpanInfo, SpanTable};
use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
use proc_macro2::TokenStream;
use quote::quote_spanned;

/// One user-facing error: message in rustc's voice, a primary span, an optional label on the
/// span and an optional `help:` line.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub message: String,
    pub span: SpanId,
    pub label: Option<String>,
    pub help: Option<String>,
}

/// The accumulated diagnostics of one compilation.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    pub list: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Adds an error and returns it for adding a label or help.
    pub fn error(&mut self, span: SpanId, message: impl Into<String>) -> &mut Diagnostic {
        self.list.push(Diagnostic { message: message.into(), span, label: None, help: None });
        let last = self.list.len() - 1;
        &mut self.list[last]
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }
}

impl Diagnostic {
    /// Sets the label shown under the caret.
    pub fn label(&mut self, label: impl Into<String>) -> &mut Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the `help:` line.
    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }
}

/// Renders diagnostics for a text file like rustc does: `error: …`, ` --> file:line:col`, the
/// source line with a caret, then `= help: …`. Plain text (no colours), so goldens are stable.
pub fn render_text(diags: &Diagnostics, spans: &SpanTable, path: &str, source: &str) -> String {
    let renderer = Renderer::plain();
    let mut out = String::new();
    for d in &diags.list {
        let title = Level::ERROR.primary_title(d.message.as_str());
        let mut group = match spans.get(d.span) {
            SpanInfo::Text { start, len, .. } => {
                let start = (*start).min(source.len());
                let mut end = (start + (*len).max(1)).min(source.len());
                // An empty range at the end of the file would point at nothing: widen it back.
                let start = if start == end && start > 0 { start - 1 } else { start };
                if end == start {
                    end = (start + 1).min(source.len());
                }
                // Spans count bytes, nodes may end inside a character: widen to whole characters.
                let start = (0..=start).rev().find(|&i| source.is_char_boundary(i)).unwrap_or(0);
                let end = (end..=source.len()).find(|&i| source.is_char_boundary(i)).unwrap_or(source.len());
                let mut ann = AnnotationKind::Primary.span(start..end);
                if let Some(label) = &d.label {
                    ann = ann.label(label.as_str());
                }
                title.element(Snippet::source(source).path(path).annotation(ann))
            }
            _ => title.element(Level::NOTE.message(format!("in {path}"))),
        };
        if let Some(help) = &d.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        out.push_str(&renderer.render(&[group]).to_string());
        out.push_str("\n\n");
    }
    let n = diags.len();
    out.push_str(&format!(
        "error: could not compile `{path}` due to {n} previous error{}\n",
        if n == 1 { "" } else { "s" }
    ));
    out
}

/// Turns diagnostics into `compile_error!` invocations at the user's spans (the `stream!`
/// front end); help lines are appended to the message, as rustc shows only one message.
pub fn to_compile_errors(diags: &Diagnostics, spans: &SpanTable) -> TokenStream {
    let mut out = TokenStream::new();
    for d in &diags.list {
        let span = spans.token_span(d.span);
        let mut msg = d.message.clone();
        if let Some(help) = &d.help {
            msg.push_str(&format!("\n\nhelp: {help}"));
        }
        out.extend(quote_spanned!(span=> ::core::compile_error!(#msg);));
    }
    out
}

/// The closest candidate to `name` among `candidates`, for "did you mean" suggestions:
/// camelCase Spark names map to their snake_case twins, otherwise the smallest edit distance.
pub fn suggest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let snake = to_snake_case(name);
    if let Some(c) = candidates.iter().find(|c| **c == snake) {
        return Some(c);
    }
    let mut best: Option<(&str, usize)> = None;
    for c in candidates {
        let d = edit_distance(&snake, c);
        if d <= (c.len().max(3) / 3).max(2) && best.is_none_or(|(_, bd)| d < bd) {
            best = Some((c, d));
        }
    }
    best.map(|(c, _)| c)
}

fn to_snake_case(s: &str) -> String {
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let ops = ["map", "flat_map", "reduce_by_key", "filter"];
        assert_eq!(suggest("reduceByKey", &ops), Some("reduce_by_key"));
        assert_eq!(suggest("flatMap", &ops), Some("flat_map"));
        assert_eq!(suggest("flat_mpa", &ops), Some("flat_map"));
        assert_eq!(suggest("xyzzy", &ops), None);
    }
}

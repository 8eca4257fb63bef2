//! Spark's rules for a source's schema: a text or socket source has the one `string` column
//! its lines are (Spark's `value`), and a CSV source has no nested columns.

use super::plan::*;
use crate::diag::Diagnostics;

/// Reports each source whose schema its format cannot give.
pub(super) fn check_sources(plan: &TablePlan, diags: &mut Diagnostics) {
    for s in &plan.sources {
        let lines = match &s.kind {
            SourceKind::Socket { include_timestamp: false, .. } => Some("socket"),
            SourceKind::Files { format: Format::Text, .. } => Some("text"),
            _ => None,
        };
        if let Some(kind) = lines {
            match &s.schema[..] {
                [c] if c.ty == ColTy::String => {}
                [c] => {
                    diags
                        .error(s.span, format!("Text data source does not support {} data type", c.ty.sql()))
                        .help(format!("a {kind} source reads each line as one `string` column (`value`)"));
                }
                cols => {
                    diags
                        .error(
                            s.span,
                            format!(
                                "Text data source supports only a single column, and you have {} columns.",
                                cols.len()
                            ),
                        )
                        .help(format!(
                            "a {kind} source reads each line as one `string` column (`value`); parse it with `split`, `from_json` or `regexp_extract` in the query"
                        ));
                }
            }
        }
        if matches!(s.kind, SourceKind::Socket { include_timestamp: true, .. }) && s.schema != socket_columns(true) {
            diags
                .error(
                    s.span,
                    "a socket source with `includeTimestamp` has the columns `value: string, timestamp: timestamp`",
                )
                .help("drop the schema: the source gives these two columns");
        }
        let csv = matches!(
            &s.kind,
            SourceKind::Files { format: Format::Csv, .. } | SourceKind::Static { format: Format::Csv, .. }
        );
        if csv && let Some(c) = s.schema.iter().find(|c| c.ty.nested()) {
            diags
                .error(s.span, format!("CSV data source does not support {} data type.", c.ty.sql()))
                .help(format!("read `{}` as a string and parse it in the query", c.name));
        }
    }
}

/// The socket source's columns: `value`, and with `includeTimestamp` Spark's `timestamp`.
pub fn socket_columns(include_timestamp: bool) -> Vec<Column> {
    let mut cols = vec![Column { name: "value".into(), ty: ColTy::String }];
    if include_timestamp {
        cols.push(Column { name: "timestamp".into(), ty: ColTy::Timestamp });
    }
    cols
}

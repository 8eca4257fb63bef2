//! Arbitrary stateful processing (Spark's `mapGroupsWithState` / `flatMapGroupsWithState`),
//! checked: the grouping columns, the output schema the function's results fill, and Spark's
//! analysis rules for output modes, timeouts and watermarks.

use super::plan::*;
use super::typing::unresolved;
use crate::diag::Diagnostics;
use crate::span::SpanId;

/// The typed step, from the columns before it (`cols`); its output columns are `g.output`.
pub(super) fn check(
    g: &GroupsWithState,
    span: SpanId,
    cols: &[Column],
    watermark: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<TGroups> {
    let mut keys = Vec::new();
    for k in &g.keys {
        match cols.iter().find(|c| &c.name == k) {
            Some(c) => keys.push((c.name.clone(), c.ty)),
            None => {
                unresolved(k, cols, span, diags);
                return None;
            }
        }
    }
    if keys.is_empty() {
        diags
            .error(span, format!("`{}` needs the `key` columns to group by", g.name()))
            .help("write `key: [sessionId]`");
        return None;
    }
    if g.output.is_empty() {
        diags.error(span, format!("`{}` needs the `output` columns its function returns", g.name())).help(
            "write `output: { sessionId: string, events: bigint }`: the function returns a tuple of these, in order",
        );
        return None;
    }
    if let Err(e) = syn::parse_str::<syn::Type>(&g.state) {
        diags
            .error(span, format!("the `state` of `{}` is not a Rust type: {e}", g.name()))
            .help("write a type such as `\"(i64, i64)\"` or `\"String\"`");
        return None;
    }
    match syn::parse_str::<syn::Expr>(&g.function) {
        Ok(syn::Expr::Closure(c)) if c.inputs.len() == 3 => {}
        Ok(_) => {
            diags
                .error(span, format!("the `function` of `{}` is a closure of three arguments", g.name()))
                .help("write `|key, rows, state| { ... }`");
            return None;
        }
        Err(e) => {
            diags.error(span, format!("the `function` of `{}` does not parse as Rust: {e}", g.name()));
            return None;
        }
    }
    if g.timeout == GroupTimeout::EventTime && watermark.is_none() {
        diags
            .error(span, format!("Watermark must be specified in the query using '[Dataset/DataFrame].withWatermark()' for using event-time timeout in a {}. Event-time timeout not supported without watermark.", g.spark_name()))
            .help("add `with_watermark: { column: <event time>, delay: 10 minutes }` before it");
        return None;
    }
    // Spark drops input older than the watermark only for an event-time timeout.
    let late_column = match g.timeout {
        GroupTimeout::EventTime => watermark.filter(|w| cols.iter().any(|c| c.name == *w)).map(str::to_owned),
        _ => None,
    };
    Some(TGroups {
        flat: g.flat,
        keys,
        input: cols.to_vec(),
        state: g.state.clone(),
        function: g.function.clone(),
        timeout: g.timeout,
        output: g.output.clone(),
        late_column,
    })
}

/// Spark's output-mode rules for the step, and what streamc does not support around it yet.
pub(super) fn check_modes(
    q: &Query,
    g: &GroupsWithState,
    span: SpanId,
    last: bool,
    aggregated: bool,
    diags: &mut Diagnostics,
) {
    let (mode, mode_span) = q.mode;
    if !last || aggregated {
        diags
            .error(span, format!("a step or an aggregation after `{}` is not supported by streamc yet", g.name()))
            .help("make it the query's last step");
    }
    let name = |m: OutputMode| match m {
        OutputMode::Append => "Append",
        OutputMode::Update => "Update",
        OutputMode::Complete => "Complete",
    };
    match (g.flat, mode) {
        (_, OutputMode::Complete) => {} // refused as a query without aggregation already
        (false, OutputMode::Append) => {
            diags
                .error(
                    mode_span,
                    "mapGroupsWithState is not supported with Append output mode on a streaming DataFrame/Dataset",
                )
                .help("use `output_mode: update`, or `flat_map_groups_with_state` with `output_mode: append`");
        }
        (true, m) => {
            let own = g.mode.unwrap_or(m);
            if own != m {
                diags
                    .error(mode_span, format!(
                        "flatMapGroupsWithState in {} mode is not supported with {} output mode on a streaming DataFrame/Dataset",
                        name(own).to_lowercase(),
                        name(m)
                    ))
                    .help("give the query and the step the same output mode");
            }
        }
        (false, OutputMode::Update) => {}
    }
}

//! What each state of a Structured app is, as a text the checkpoint keeps: a restart whose
//! states differ is refused.

use super::{groups, join};
use crate::table::{Checked, TStep, TablePlan};

/// What each state of `queries` is, under the names the generated code saves it with: the keys
/// (with types), window and aggregates of an aggregation, the columns of a deduplication, the
/// inputs of a watermark. A restart whose descriptions differ is refused (Spark forbids
/// changing a stateful operator's keys, aggregates or state schema).
pub(super) fn table_state_descriptions(table: &TablePlan, queries: &[Checked]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for q in queries {
        if let Some(a) = &q.agg {
            let mut keys = Vec::new();
            if let Some(w) = &a.window {
                keys.push(format!("window({}, {} ms, {} ms, {} ms)", w.column, w.len_ms, w.slide_ms, w.start_ms));
            }
            if let Some((c, gap)) = &a.session {
                keys.push(format!("session_window({c}, {gap} ms)"));
            }
            keys.extend(a.keys.iter().map(|(n, e, t)| format!("{e} AS {n} {}", t.sql())));
            let aggs: Vec<String> = a
                .aggs
                .iter()
                .map(|(n, f, e, t)| {
                    let arg = e.as_ref().map_or_else(|| "*".to_owned(), ToString::to_string);
                    format!("{}({arg}) AS {n} {}", f.name(), t.sql())
                })
                .collect();
            out.push((
                format!("{}/state", q.key()),
                format!("group by [{}] aggregate [{}]", keys.join(", "), aggs.join(", ")),
            ));
        }
        for (i, st) in q.steps.iter().enumerate() {
            if let TStep::Dedup { cols, within_ms, .. } = st {
                let cols: Vec<String> = cols.iter().map(|(n, t)| format!("{n} {}", t.sql())).collect();
                let what = if within_ms.is_some() { "drop_duplicates_within_watermark" } else { "drop_duplicates" };
                out.push((format!("{}/dedup{i}", q.key()), format!("{what} [{}]", cols.join(", "))));
            }
        }
        if let Some(g) = groups::find(q) {
            let keys: Vec<String> = g.keys.iter().map(|(n, t)| format!("{n} {}", t.sql())).collect();
            out.push((
                format!("{}/group_state", q.key()),
                format!(
                    "{} by [{}] state {} timeout {:?}",
                    if g.flat { "flat_map_groups_with_state" } else { "map_groups_with_state" },
                    keys.join(", "),
                    g.state,
                    g.timeout
                ),
            ));
        }
        if let Some((_, j)) = join::find(q) {
            let side = |cols: &[crate::table::Column]| -> String {
                cols.iter().map(|c| format!("{} {}", c.name, c.ty.sql())).collect::<Vec<_>>().join(", ")
            };
            let keys: Vec<String> = j.keys.iter().map(|(l, r, t)| format!("{l} = {r} {}", t.sql())).collect();
            let what = format!("{} join on [{}]", j.how.spark(), keys.join(", "));
            out.push((format!("{}/join_left", q.key()), format!("{what}: left rows [{}]", side(&j.left))));
            out.push((format!("{}/join_right", q.key()), format!("{what}: right rows [{}]", side(&j.right))));
        }
        if let Some((column, _)) = &q.watermark {
            let inputs: Vec<&str> = q.inputs.iter().map(|i| table.sources[i.source].name.as_str()).collect();
            out.push((format!("{}/watermark", q.key()), format!("watermark on {column} of [{}]", inputs.join(", "))));
        }
    }
    out
}

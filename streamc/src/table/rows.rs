//! The steps that work row by row (`where`, `with_column`, `select` with `explode`), typed:
//! the queries' own steps and a stream-stream join's right input share them.

use super::expr::Expr;
use super::plan::*;
use super::typing::typed;
use crate::diag::Diagnostics;
use crate::span::SpanId;

/// A step over each row (`where`, `with_column`, `select`) typed over `cols`, which become the
/// step's output columns: `Some` with the typed step (none after an error), `None` for other steps.
/// `span` is the step's; a select item's problems point at the item when it has a span.
pub(super) fn row_step(
    step: &Step,
    span: SpanId,
    cols: &mut Vec<Column>,
    diags: &mut Diagnostics,
) -> Option<Option<TStep>> {
    Some(match step {
        Step::Where(e) => where_step(e, span, cols, diags),
        Step::WithColumn(name, e) => {
            let (e, t) = typed(e, cols, span, diags)?;
            let mut projected: Vec<(String, Expr, ColTy)> = cols
                .iter()
                .filter(|c| &c.name != name)
                .map(|c| (c.name.clone(), Expr::Column(c.name.clone()), c.ty))
                .collect();
            projected.push((name.clone(), e, t));
            *cols = projected.iter().map(|(n, _, t)| Column { name: n.clone(), ty: *t }).collect();
            Some(TStep::Project(projected))
        }
        Step::Select(items) => select_step(items, span, cols, diags),
        _ => return None,
    })
}

fn where_step(e: &Expr, span: SpanId, cols: &[Column], diags: &mut Diagnostics) -> Option<TStep> {
    let (x, t) = typed(e, cols, span, diags)?;
    let x = match t {
        ColTy::Bool => x,
        // Spark casts a string condition to boolean.
        ColTy::String => Expr::Cast(Box::new(x), t, ColTy::Bool),
        _ => {
            diags.error(span, format!("`where` needs a boolean condition, found `{e}` of type {}", t.sql()));
            return None;
        }
    };
    Some(TStep::Filter(x))
}

/// A `select`: each item typed over `cols`; a problem with an item points at that item.
fn select_step(items: &[Item], step_span: SpanId, cols: &mut Vec<Column>, diags: &mut Diagnostics) -> Option<TStep> {
    let mut projected = Vec::new();
    let mut explode = None;
    for item in items {
        let (e, alias, span) = (&item.expr, &item.alias, item.span_or(step_span));
        if let Expr::Call(f, args) = e
            && (f == "explode" || f == "posexplode")
        {
            if explode.is_some() {
                diags
                    .error(span, "only one `explode` is allowed per `select` (Spark: one generator per select clause)");
                continue;
            }
            let [array] = &args[..] else {
                diags.error(span, format!("`{f}` takes one argument"));
                continue;
            };
            let Some((array, t)) = typed(array, cols, span, diags) else { continue };
            let pos = (f == "posexplode").then(|| "pos".to_string());
            let (name, elem, value) = match t {
                ColTy::Array(elem) => (alias.clone().unwrap_or_else(|| "col".into()), *elem, None),
                ColTy::Map((k, v)) => {
                    if alias.is_some() {
                        diags
                            .error(
                                span,
                                format!(
                                    "`{f}` of a map gives two columns, `key` and `value`: one alias cannot name them"
                                ),
                            )
                            .help("leave the alias out, and rename the columns in a later select");
                        continue;
                    }
                    ("key".to_string(), *k, Some(("value".to_string(), *v)))
                }
                _ => {
                    diags.error(span, format!("`{f}` needs an array or a map, found `{e}` of type {}", t.sql()));
                    continue;
                }
            };
            if pos.is_some() && alias.is_some() && value.is_none() {
                diags
                    .error(span, "`posexplode` gives two columns, `pos` and `col`: one alias cannot name them")
                    .help("leave the alias out, and rename the columns in a later select");
                continue;
            }
            explode = Some((name, array, elem, value, pos));
            continue;
        }
        // `json_tuple(json, 'k1', 'k2', ...)`: one string column per key (`c0`, `c1`, ...), the
        // key's top-level value as `get_json_object(json, '$['k']')` reads it.
        if let Expr::Call(f, args) = e
            && f == "json_tuple"
        {
            if alias.is_some() {
                diags
                    .error(span, "`json_tuple` gives one column per key (`c0`, `c1`, ...): one alias cannot name them")
                    .help("leave the alias out, and rename the columns in a later select");
                continue;
            }
            let Some((json, keys)) = args.split_first().filter(|(_, k)| !k.is_empty()) else {
                diags.error(span, "`json_tuple` takes a JSON string and at least one key");
                continue;
            };
            if let Some(k) = keys.iter().find(|k| !matches!(k, Expr::Str(_))) {
                diags.error(span, format!("the keys of `json_tuple` are string literals, found `{k}`"));
                continue;
            }
            // One `.json_tuple(json, i, keys...)` per key: the runtime parses a row's JSON once
            // for all of them.
            let Some((json, t)) = typed(json, cols, span, diags) else { continue };
            if t != ColTy::String {
                diags
                    .error(span, format!("`json_tuple` reads JSON text, a string, found `{json}` of type {}", t.sql()));
                continue;
            }
            for i in 0..keys.len() {
                let mut args = vec![json.clone(), Expr::Int(i as i64)];
                args.extend(keys.iter().cloned());
                projected.push((format!("c{i}"), Expr::Call(".json_tuple".into(), args), ColTy::String));
            }
            continue;
        }
        let Some((x, t)) = typed(e, cols, span, diags) else { continue };
        projected.push((alias.clone().unwrap_or_else(|| column_name(e)), x, t));
    }
    let mut new_cols: Vec<Column> = projected.iter().map(|(n, _, t)| Column { name: n.clone(), ty: *t }).collect();
    let step = match explode {
        Some((name, array, elem, value, pos)) => {
            if let Some(p) = &pos {
                new_cols.push(Column { name: p.clone(), ty: ColTy::Long });
            }
            new_cols.push(Column { name: name.clone(), ty: elem });
            if let Some((v, t)) = &value {
                new_cols.push(Column { name: v.clone(), ty: *t });
            }
            TStep::Explode { name, array, elem, value, pos, others: projected }
        }
        None => TStep::Project(projected),
    };
    *cols = new_cols;
    Some(step)
}

/// Spark's default name of a selected expression.
pub fn column_name(e: &Expr) -> String {
    match e {
        Expr::Column(c) => c.clone(),
        // A cast of a column keeps the column's name (Spark's `ResolveAliases`).
        Expr::Call(f, args) if (f == "cast" || f == "try_cast") && matches!(args.first(), Some(Expr::Column(_))) => {
            column_name(&args[0])
        }
        // A struct's field is named after the field (Spark's `GetStructField`).
        Expr::Call(f, args) if f == ".field" && args.len() == 2 => match &args[1] {
            Expr::Str(field) => field.clone(),
            _ => e.to_string(),
        },
        // `from_json(s, 'schema')` is named `from_json(s)`.
        Expr::Call(f, args) if f == "from_json" && args.len() == 2 => format!("from_json({})", args[0]),
        other => other.to_string(),
    }
}

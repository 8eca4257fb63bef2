//! Typing column expressions over a table's columns: every expression gets its Spark type, with
//! the implicit casts Spark inserts made explicit ([`super::coerce`]), and aggregates
//! are typed by their registry entries.

use super::coerce;
use super::expr::{BinOp, Expr, UnOp};
use super::functions::{self, AggFn, Form, SigError};
use super::plan::{ColTy, Column};
use crate::diag::{Diagnostics, suggest};
use crate::span::SpanId;

pub(super) fn unresolved(name: &str, cols: &[Column], span: SpanId, diags: &mut Diagnostics) {
    let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
    let listed: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    let d = diags.error(span, format!("a column with name `{name}` cannot be resolved"));
    match suggest(name, &names) {
        Some(s) => d.help(format!("did you mean `{s}`? the input columns are [{}]", listed.join(", "))),
        None => d.help(format!("the input columns are [{}]", listed.join(", "))),
    };
}

/// The type of an expression over `cols`, or None after reporting why not.
pub fn type_of(e: &Expr, cols: &[Column], span: SpanId, diags: &mut Diagnostics) -> Option<ColTy> {
    typed(e, cols, span, diags).map(|(_, t)| t)
}

/// An expression over `cols` with Spark's implicit casts made explicit, and its type; or None
/// after reporting why not.
pub fn typed(e: &Expr, cols: &[Column], span: SpanId, diags: &mut Diagnostics) -> Option<(Expr, ColTy)> {
    let cast = |x: Expr, from: ColTy, to: ColTy, diags: &mut Diagnostics| match coerce::cast(x, from, to) {
        Ok(x) => Some(x),
        Err(message) => {
            diags.error(span, message);
            None
        }
    };
    Some(match e {
        Expr::Column(c) => match cols.iter().find(|x| &x.name == c) {
            Some(x) => (e.clone(), x.ty),
            // `s.f` written as one name (the `steps:` parser's): a struct column's field.
            None if c.contains('.') && cols.iter().any(|x| c.starts_with(&format!("{}.", x.name))) => {
                let base =
                    cols.iter().filter(|x| c.starts_with(&format!("{}.", x.name))).max_by_key(|x| x.name.len())?;
                let access = c[base.name.len() + 1..].split('.').fold(Expr::Column(base.name.clone()), |x, f| {
                    Expr::Call(".field".into(), vec![x, Expr::Str(f.to_string())])
                });
                return typed(&access, cols, span, diags);
            }
            None => {
                unresolved(c, cols, span, diags);
                return None;
            }
        },
        Expr::Str(_) => (e.clone(), ColTy::String),
        // Spark's integer literal is an `int`, or a `bigint` when it does not fit one.
        Expr::Int(i) => (e.clone(), if i32::try_from(*i).is_ok() { ColTy::Int } else { ColTy::Long }),
        Expr::Float(_) => (e.clone(), ColTy::Double),
        Expr::Bool(_) => (e.clone(), ColTy::Bool),
        Expr::Cast(_, _, to) | Expr::TryCast(_, _, to) => (e.clone(), *to),
        // Spark's NullType: it becomes the type it meets (see `coerce::cast`).
        Expr::Null => (Expr::Null, ColTy::Void),
        Expr::Star => {
            diags.error(span, "`*` is only allowed in `count(*)`");
            return None;
        }
        Expr::Unary(UnOp::Not, x) => {
            let (x, t) = typed(x, cols, span, diags)?;
            let x = match t {
                ColTy::Bool | ColTy::String | ColTy::Void => cast(x, t, ColTy::Bool, diags)?,
                _ => {
                    diags.error(span, format!("NOT needs a boolean, found `{x}` of type {}", t.sql()));
                    return None;
                }
            };
            (Expr::Unary(UnOp::Not, Box::new(x)), ColTy::Bool)
        }
        // A negative integer literal is one literal (`-2147483648` is an `int`).
        Expr::Unary(UnOp::Neg, x) if matches!(**x, Expr::Int(i) if i > 0) => {
            let Expr::Int(i) = **x else { return None };
            return typed(&Expr::Int(-i), cols, span, diags);
        }
        Expr::Unary(UnOp::Neg, x) => {
            let (x, t) = typed(x, cols, span, diags)?;
            if !t.number() {
                diags.error(span, format!("`-` needs a number, found `{x}` of type {}", t.sql()));
                return None;
            }
            (Expr::Unary(UnOp::Neg, Box::new(x)), t)
        }
        Expr::Binary(op, a, b) => {
            let ((a, ta), (b, tb)) = (typed(a, cols, span, diags)?, typed(b, cols, span, diags)?);
            // A NULL side is a NULL of the other side's type (`n + NULL` is `n + CAST(NULL AS
            // BIGINT)`).
            let (a, ta) = if ta == ColTy::Void && tb != ColTy::Void { (cast(a, ta, tb, diags)?, tb) } else { (a, ta) };
            let (b, tb) = if tb == ColTy::Void && ta != ColTy::Void { (cast(b, tb, ta, diags)?, ta) } else { (b, tb) };
            // Decimal arithmetic: each side a decimal (an integral one as its decimal form),
            // the result of Spark's precision and scale rules.
            if coerce::decimal_result(*op, ta, tb).is_some() {
                // An integer literal counts its own digits (Spark's `DecimalType.fromLiteral`:
                // `3` is `decimal(1,0)`), an integer column its type's.
                let as_dec = |x: &Expr, t: ColTy| match x {
                    Expr::Int(i) => ColTy::Decimal(i.unsigned_abs().to_string().len() as u8, 0),
                    _ => t.as_decimal().map_or(t, |(p, s)| ColTy::Decimal(p, s)),
                };
                let (da, db) = (as_dec(&a, ta), as_dec(&b, tb));
                let result = coerce::decimal_result(*op, da, db)?;
                let (a, b) = (cast(a, ta, da, diags)?, cast(b, tb, db, diags)?);
                return Some((Expr::Binary(*op, Box::new(a), Box::new(b)), result));
            }
            let (to, result) = match op {
                BinOp::And | BinOp::Or => {
                    let boolish = |t| matches!(t, ColTy::Bool | ColTy::String | ColTy::Void);
                    if !boolish(ta) || !boolish(tb) {
                        diags.error(
                            span,
                            format!("`{}` needs booleans, found {} and {}", op.symbol(), ta.sql(), tb.sql()),
                        );
                        return None;
                    }
                    (ColTy::Bool, ColTy::Bool)
                }
                op if op.is_comparison() => match coerce::comparison(ta, tb) {
                    Some(t) => (t, ColTy::Bool),
                    None => {
                        diags.error(span, coerce::diff_types(*op, &a, &b, ta, tb));
                        return None;
                    }
                },
                _ => match coerce::arithmetic(ta, tb) {
                    Some(t) if *op == BinOp::Div => (t, ColTy::Double),
                    Some(t) => (t, t),
                    None if !ta.number() || !tb.number() => {
                        diags.error(
                            span,
                            format!("`{}` needs numbers, found {} and {} in `{e}`", op.symbol(), ta.sql(), tb.sql()),
                        );
                        return None;
                    }
                    None => unreachable!("numbers always reconcile"),
                },
            };
            // Integer division gives a double (Spark's `/`): both sides become doubles.
            let to = if *op == BinOp::Div { ColTy::Double } else { to };
            let (a, b) = (cast(a, ta, to, diags)?, cast(b, tb, to, diags)?);
            (Expr::Binary(*op, Box::new(a), Box::new(b)), result)
        }
        Expr::Call(f, args) if (f == "cast" || f == "try_cast") && args.len() == 2 => {
            let (x, from) = typed(&args[0], cols, span, diags)?;
            let to = match &args[1] {
                Expr::Str(t) => ColTy::parse_marking_not_null(t),
                _ => None,
            };
            let Some((to, not_null)) = to else {
                let text = match &args[1] {
                    Expr::Str(t) => t.clone(),
                    other => other.to_string(),
                };
                diags.error(span, format!("streamc cannot cast to `{text}` yet")).help(
                    "the types are STRING, BIGINT (also INT, SMALLINT, TINYINT), DOUBLE (also FLOAT), DECIMAL(p,s), BOOLEAN, DATE, TIMESTAMP, BINARY, and ARRAY<T>, MAP<K, V>, STRUCT<a: T, ...> of them",
                );
                return None;
            };
            if !check_cast(f == "try_cast", &args[0], from, to, &not_null, span, diags) {
                return None;
            }
            let x = if f == "cast" {
                cast(x, from, to, diags)?
            } else if from == to {
                x
            } else {
                Expr::TryCast(Box::new(x), from, to)
            };
            (x, to)
        }
        // `t + INTERVAL ..` (the SQL front end's `+interval(t, µs)`): a timestamp; a date or a
        // string is cast to one first, as Spark does.
        Expr::Call(f, args) if f == "+interval" && args.len() == 2 => {
            let (x, t) = typed(&args[0], cols, span, diags)?;
            let x = match t {
                ColTy::Timestamp => x,
                ColTy::Date | ColTy::String => cast(x, t, ColTy::Timestamp, diags)?,
                _ => {
                    diags.error(
                        span,
                        format!("an interval is added to a timestamp, found `{}` of type {}", args[0], t.sql()),
                    );
                    return None;
                }
            };
            (Expr::Call(f.clone(), vec![x, args[1].clone()]), ColTy::Timestamp)
        }
        // `s.field` of a struct (Spark resolves the name case-insensitively).
        Expr::Call(f, args) if f == ".field" && args.len() == 2 => {
            let (x, t) = typed(&args[0], cols, span, diags)?;
            let Expr::Str(name) = &args[1] else { return None };
            let Some((_, field)) = t.field(name) else {
                let d = match t {
                    ColTy::Struct(fields) => {
                        let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                        let d = diags.error(span, format!("[FIELD_NOT_FOUND] No such struct field `{name}` in `{x}`"));
                        match suggest(name, &names) {
                            Some(s) => d.help(format!("did you mean `{s}`? the fields are {}", names.join(", "))),
                            None => d.help(format!("the fields are {}", names.join(", "))),
                        }
                    }
                    _ => diags.error(
                        span,
                        format!(
                            "`{x}.{name}`: `{x}` is of type {}, not a struct, so it has no field `{name}`",
                            t.sql()
                        ),
                    ),
                };
                let _ = d;
                return None;
            };
            (Expr::Call(f.clone(), vec![x, Expr::Str(field.name.to_string())]), field.ty)
        }
        // `a[i]` of an array (0-based), `m[k]` of a map.
        Expr::Call(f, args) if f == "[]" && args.len() == 2 => {
            let ((x, t), (i, ti)) = (typed(&args[0], cols, span, diags)?, typed(&args[1], cols, span, diags)?);
            let (key, result) = match t {
                ColTy::Array(e) => (ColTy::Long, *e),
                ColTy::Map((k, v)) => (*k, *v),
                _ => {
                    diags.error(
                        span,
                        format!("[DATATYPE_MISMATCH] `{x}[{i}]`: only arrays and maps take a subscript, and `{x}` is of type {}", t.sql()),
                    );
                    return None;
                }
            };
            let i = if ti == key {
                i
            } else if coerce::can_cast(ti, key) && !(key.integral() && matches!(ti, ColTy::Float | ColTy::Double)) {
                cast(i, ti, key, diags)?
            } else {
                diags.error(
                    span,
                    format!("the subscript of `{x}` is of type {}, found `{i}` of type {}", key.sql(), ti.sql()),
                );
                return None;
            };
            (Expr::Call(f.clone(), vec![x, i]), result)
        }
        // `t + INTERVAL n MONTHS` (the SQL front end's `+months(t, n)`): a date stays a date, a
        // timestamp (or a string cast to one) keeps its time of day; the day is clamped to the
        // month's end (Spark's `add_months`).
        Expr::Call(f, args) if f == "+months" && args.len() == 2 => {
            let (x, t) = typed(&args[0], cols, span, diags)?;
            let (x, t) = match t {
                ColTy::Timestamp | ColTy::Date => (x, t),
                ColTy::String => (cast(x, t, ColTy::Timestamp, diags)?, ColTy::Timestamp),
                _ => {
                    diags.error(
                        span,
                        format!(
                            "a year-month interval is added to a date or timestamp, found `{}` of type {}",
                            args[0],
                            t.sql()
                        ),
                    );
                    return None;
                }
            };
            (Expr::Call(f.clone(), vec![x, args[1].clone()]), t)
        }
        // `to_timestamp(s)` and `to_date(s)` of a string follow the casts' rules (ANSI: a string
        // that does not parse fails the batch). As in Spark, `to_timestamp` of a number is its
        // cast (seconds since the epoch), while a boolean, and a number given to `to_date`,
        // is parsed as its text (`to_date(3)` fails on '3').
        Expr::Call(f, args) if (f == "to_timestamp" || f == "to_date") && args.len() == 1 => {
            let (x, t) = typed(&args[0], cols, span, diags)?;
            let to = if f == "to_date" { ColTy::Date } else { ColTy::Timestamp };
            match (t, to) {
                (ColTy::String, _) | (ColTy::Date, ColTy::Timestamp) => (cast(x, t, to, diags)?, to),
                (t, ColTy::Timestamp) if t.number() => (cast(x, t, to, diags)?, to),
                (t, _) if t.number() || t == ColTy::Bool => {
                    (cast(cast(x, t, ColTy::String, diags)?, ColTy::String, to, diags)?, to)
                }
                (ColTy::Timestamp, ColTy::Timestamp) => (x, to),
                (ColTy::Timestamp | ColTy::Date, ColTy::Date) => (Expr::Call(f.clone(), vec![x]), to),
                _ => {
                    diags
                        .error(span, format!("no function `{f}` taking ({})", t.sql()))
                        .help(functions::no_signature_help(f));
                    return None;
                }
            }
        }
        // `to_timestamp(x, pattern)` parses a string (a boolean's text too). Spark gives a date or
        // timestamp its timestamp, whatever the pattern, and cannot resolve it for a number.
        Expr::Call(f, args)
            if f == "to_timestamp"
                && args.len() == 2
                && typed(&args[0], cols, span, &mut Diagnostics::default())
                    .is_some_and(|(_, t)| t.number() || matches!(t, ColTy::Date | ColTy::Timestamp)) =>
        {
            let (x, t) = typed(&args[0], cols, span, diags)?;
            match t {
                ColTy::Timestamp => (x, t),
                ColTy::Date => (cast(x, t, ColTy::Timestamp, diags)?, ColTy::Timestamp),
                t if t.number() => {
                    // Spark shows a string literal unquoted.
                    let shown = |e: &Expr| match e {
                        Expr::Str(s) => s.clone(),
                        e => e.to_string(),
                    };
                    let (a, b) = (shown(&args[0]), shown(&args[1]));
                    diags
                        .error(
                            span,
                            format!(
                                "[INTERNAL_ERROR] Cannot resolve the runtime replaceable expression \"to_timestamp({a}, {b})\". The replacement is unresolved: \"gettimestamp({a}, {b})\""
                            ),
                        )
                        .help("Spark parses a string with a pattern; `to_timestamp(n)` reads a number as seconds since the epoch");
                    return None;
                }
                _ => unreachable!("internal error: the guard took a number, a date or a timestamp; a bug in streamc"),
            }
        }
        // Spark's other `decode`: `decode(x, search, result, ..., default)` is a CASE whose
        // conditions are `x <=> search` (NULL matches NULL).
        Expr::Call(f, args) if f == "decode" && args.len() >= 3 => {
            return typed(&decode_as_case(args), cols, span, diags);
        }
        Expr::Call(f, args) if coerce::takes_null(f).is_some() && args.contains(&Expr::Null) => {
            // A NULL literal takes the type of the call's first other value (Spark's NullType
            // coerces to it): `CASE WHEN c THEN n ELSE NULL END`.
            // The guard above matched `takes_null(f).is_some()`.
            let values = coerce::takes_null(f).expect("a function that takes NULL values");
            let peer = args.iter().enumerate().find(|(i, a)| values(*i, args.len()) && **a != Expr::Null);
            let Some((_, peer)) = peer else {
                diags.error(span, format!("`{e}` has only NULL values: streamc cannot type it"));
                return None;
            };
            let (_, t) = typed(peer, cols, span, diags)?;
            let args = args
                .iter()
                .map(|a| if *a == Expr::Null { Expr::Cast(Box::new(Expr::Null), t, t) } else { a.clone() })
                .collect();
            return typed(&Expr::Call(f.clone(), args), cols, span, diags);
        }
        Expr::Call(f, args) => {
            let (scalar, aggregate) = (functions::scalar(f), functions::aggregate(f));
            if scalar.is_none() && aggregate.is_none() {
                report(functions::unknown_function(f), span, diags);
                return None;
            }
            let typed_args: Option<Vec<(Expr, ColTy)>> = args.iter().map(|a| typed(a, cols, span, diags)).collect();
            let typed_args = typed_args?;
            let signature = match scalar.map(|s| &s.form) {
                Some(Form::Ordinary { signature, .. }) => signature,
                Some(Form::Special { place }) => {
                    diags.error(span, format!("`{f}` is only allowed as {place}"));
                    return None;
                }
                None => {
                    diags.error(span, format!("the aggregate `{f}` is only allowed in `agg`"));
                    return None;
                }
            };
            // As given; else with Spark's implicit casts of arguments: the narrower numbers
            // widened to `bigint` and `double` (the types the registry computes on), then
            // integers to doubles, then any scalar as a string.
            // A function that picks one of its values (`coalesce`, `if`, `CASE`, `greatest`)
            // first gets its numbers as their wider type (Spark's common type: a decimal wide
            // enough for all, an int and a float as a double).
            // `try_add` and its kin compute in that common type too (`try_add(tinyint, int)` is an
            // int, NULL where an int overflows).
            let picks = scalar.is_some_and(|s| {
                matches!(s.returns, "the arguments' type" | "the values' type" | "the arguments' type, when it is one")
            });
            // Numbers meeting a string value become what a string and a number meet as (ANSI:
            // `bigint` or `double`; `decode`'s NULL string default makes its numbers doubles).
            let common = typed_args.iter().map(|(_, t)| *t).filter(|t| t.number()).reduce(coerce::wider);
            let common = match common {
                Some(w) if typed_args.iter().any(|(_, t)| *t == ColTy::String) => Some(coerce::string_with(w)),
                c => c,
            };
            let unify = move |t: ColTy| match common {
                Some(w) if picks && (t.number() || t == ColTy::String) => w,
                _ => t,
            };
            // A NULL argument first takes the type of the first argument that is not one
            // (`concat(word, NULL)`, `pow(d, NULL)`).
            let peer = typed_args.iter().map(|(_, t)| *t).find(|t| *t != ColTy::Void);
            let attempts: [&dyn Fn(ColTy) -> ColTy; 6] = [
                &|t| t,
                &|t| if t == ColTy::Void { peer.unwrap_or(t) } else { t },
                &unify,
                &ColTy::widened,
                &|t| if matches!(t.widened(), ColTy::Long | ColTy::Decimal(..)) { ColTy::Double } else { t.widened() },
                &|t| if t.nested() { t } else { ColTy::String },
            ];
            let mut first_error = None;
            // Before any scalar becomes a string: the string arguments as what the function
            // takes there (Spark's ANSI implicit cast of a string to the parameter's type), tried
            // in the order a parameter that takes several of them would get it: a double for a
            // number (`abs('-3')`), then an int (`date_add(day, '3')`), a date, a timestamp.
            for (k, attempt) in attempts.iter().enumerate() {
                if k == attempts.len() - 1 {
                    let (tys, widen) = match string_args(&typed_args, signature) {
                        Ok(found) => found,
                        // What a string cast to the parameter's type meets (`date_sub(s, n)` of
                        // a bigint `n`) says more than that no signature takes strings.
                        Err(e) => {
                            first_error = first_error.or(e);
                            (Vec::new(), false)
                        }
                    };
                    let mut out = Vec::new();
                    let mut tys = tys;
                    for ((x, from), to) in typed_args.iter().zip(tys.iter_mut()) {
                        let mut x = cast(x.clone(), *from, *to, diags)?;
                        // An int the registry computes on as a `bigint` (`substring`'s
                        // positions): the text must still be an int, as in Spark.
                        if widen && *from == ColTy::String && to.widened() != *to {
                            x = cast(x, *to, to.widened(), diags)?;
                            *to = to.widened();
                        }
                        out.push(x);
                    }
                    let view: Vec<(&Expr, ColTy)> = out.iter().zip(tys.iter().copied()).collect();
                    if !out.is_empty()
                        && let Ok(t) = signature(&view)
                    {
                        return Some((Expr::Call(f.clone(), out), t));
                    }
                }
                let tys: Vec<ColTy> = typed_args.iter().map(|(_, t)| attempt(*t)).collect();
                if k > 0 && tys.iter().zip(&typed_args).all(|(a, (_, b))| a == b) {
                    continue;
                }
                let view: Vec<(&Expr, ColTy)> = typed_args.iter().map(|(x, _)| x).zip(tys.iter().copied()).collect();
                match signature(&view) {
                    Ok(t) => {
                        let mut out = Vec::new();
                        for ((x, from), to) in typed_args.iter().zip(&tys) {
                            out.push(cast(x.clone(), *from, *to, diags)?);
                        }
                        let call = Expr::Call(f.clone(), out);
                        // A function whose result is its arguments' type (`abs`, `round`,
                        // `greatest`, `coalesce`, ...) computed on widened numbers gives the
                        // narrower type back, as Spark types it (`abs` of a tinyint is one).
                        // `the argument's type` is the first's (`round(f, 2)`); the others are
                        // the wider of the values.
                        let returns = scalar.map_or("", |s| s.returns);
                        let numbers = typed_args.iter().map(|(_, t)| *t).filter(|t| t.number());
                        let narrow = if returns == "the argument's type" {
                            typed_args.first().map(|(_, t)| *t).filter(|t| t.number())
                        } else {
                            numbers.reduce(coerce::wider)
                        };
                        let preserving =
                            matches!(returns, "the argument's type" | "the arguments' type" | "the values' type");
                        if let Some(n) = narrow.filter(|n| preserving && k > 0 && *n != t && n.widened() == t) {
                            return Some((Expr::Cast(Box::new(call), t, n), n));
                        }
                        return Some((call, t));
                    }
                    Err(e) if k == 0 => first_error = e,
                    Err(_) => {}
                }
            }
            match first_error {
                Some(e) => report(e, span, diags),
                None => {
                    let listed: Vec<&str> = typed_args.iter().map(|(_, t)| t.sql()).collect();
                    diags
                        .error(span, format!("no function `{f}` taking ({})", listed.join(", ")))
                        .help(functions::no_signature_help(f));
                }
            }
            return None;
        }
    })
}

/// The argument types with each string argument as the first of double, int, date, timestamp
/// that `signature` takes there (the other arguments as they are), searched over every
/// combination (at most three string arguments); with `true` when the signature takes them
/// only widened (an int as a `bigint`). When no combination types: the first combination's
/// own refusal, if one has one.
fn string_args(
    args: &[(Expr, ColTy)],
    signature: &functions::Signature,
) -> Result<(Vec<ColTy>, bool), Option<SigError>> {
    const TARGETS: [ColTy; 4] = [ColTy::Double, ColTy::Int, ColTy::Date, ColTy::Timestamp];
    let strings: Vec<usize> = (0..args.len()).filter(|&i| args[i].1 == ColTy::String).collect();
    if strings.is_empty() || strings.len() > 3 {
        return Err(None);
    }
    let first_error = std::cell::RefCell::new(None);
    let takes = |tys: &[ColTy]| {
        let view: Vec<(&Expr, ColTy)> = args.iter().map(|(x, _)| x).zip(tys.iter().copied()).collect();
        match signature(&view) {
            Ok(_) => true,
            Err(e) => {
                let mut first = first_error.borrow_mut();
                if first.is_none() {
                    *first = e;
                }
                false
            }
        }
    };
    // Each string argument either stays a string or takes one of the targets (the first
    // string argument varies slowest, so it gets the earliest target that works).
    let choices = TARGETS.len() + 1;
    let combos = choices.pow(strings.len() as u32);
    let found = (1..combos).find_map(|n| {
        let mut tys: Vec<ColTy> = args.iter().map(|(_, t)| *t).collect();
        let mut rest = n;
        for &i in strings.iter().rev() {
            let c = rest % choices;
            rest /= choices;
            if c > 0 {
                tys[i] = TARGETS[c - 1];
            }
        }
        if takes(&tys) {
            return Some((tys, false));
        }
        let widened: Vec<ColTy> =
            tys.iter().zip(args).map(|(t, (_, from))| if *from == ColTy::String { t.widened() } else { *t }).collect();
        (widened != tys && takes(&widened)).then_some((tys, true))
    });
    found.ok_or_else(|| first_error.into_inner())
}

/// `decode(x, s1, r1, s2, r2, ..., [default])` as `CASE WHEN x <=> s1 THEN r1 ... ELSE default
/// END`, with `a <=> b` written `a = b OR (isnull(a) AND isnull(b))` (a NULL literal on either
/// side: `isnull` of the other).
fn decode_as_case(args: &[Expr]) -> Expr {
    let x = &args[0];
    let isnull = |e: &Expr| Expr::Call("isnull".into(), vec![e.clone()]);
    let mut case = Vec::new();
    // Without a default, Spark's is a NULL string (so results that are numbers meet a string:
    // `decode(k, 1, 2.5, 2, 3.25)` is a double).
    let default = if args.len() % 2 == 1 {
        Expr::Cast(Box::new(Expr::Null), ColTy::String, ColTy::String)
    } else {
        args[args.len() - 1].clone()
    };
    for pair in args[1..].chunks_exact(2) {
        let [search, result] = pair else { unreachable!("chunks of two") };
        let matches = match (x, search) {
            (Expr::Null, Expr::Null) => Expr::Bool(true),
            (Expr::Null, s) => isnull(s),
            (x, Expr::Null) => isnull(x),
            (x, s) => Expr::Binary(
                BinOp::Or,
                Box::new(Expr::Binary(BinOp::Eq, Box::new(x.clone()), Box::new(s.clone()))),
                Box::new(Expr::Binary(BinOp::And, Box::new(isnull(x)), Box::new(isnull(s)))),
            ),
        };
        case.push(matches);
        case.push(result.clone());
    }
    case.push(default);
    Expr::Call("case".into(), case)
}

/// Whether `CAST(x AS to)` (`TRY_CAST` with `try_cast`) of an `x` of type `from` is allowed;
/// if not, Spark's refusal (`coerce::can_cast`, `can_try_cast`). Spark names the cast in its
/// message, or for a nested target type the value cast (its `Cast.sql` leaves the cast out).
/// `not_null`: the target's `NOT NULL` fields, which Spark fills only from fields that cannot
/// be NULL (`table::nullable`); its message marks such source fields `NOT NULL` too.
fn check_cast(
    try_cast: bool,
    x: &Expr,
    from: ColTy,
    to: ColTy,
    not_null: &crate::table::ty::NotNull,
    span: SpanId,
    diags: &mut Diagnostics,
) -> bool {
    if !to.nested() {
        if coerce::can_cast(from, to) {
            return true;
        }
        let name = if try_cast { "TRY_CAST" } else { "CAST" };
        diags.error(
            span,
            format!(
                "[DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION] Cannot resolve \"{name}({x} AS {})\" due to data type mismatch: cannot cast \"{}\" to \"{}\"",
                to.spark_sql(),
                from.spark_sql(),
                to.spark_sql()
            ),
        );
        return false;
    }
    let allowed = if try_cast { coerce::can_try_cast(from, to) } else { coerce::can_cast(from, to) };
    let never_null = super::nullable::never_null_fields(x, from);
    let (tf, tt) = (from.spark_sql_marking(&never_null), to.spark_sql_marking(not_null));
    let not_null = !super::nullable::fills_not_null(Some(x), from, to, not_null, try_cast);
    if !allowed || not_null {
        // Spark suggests `try_cast` where its rule takes what the ANSI rule does not.
        let suggest = !try_cast && !not_null && coerce::can_try_cast(from, to);
        let class = if suggest { "CAST_WITH_FUNC_SUGGESTION" } else { "CAST_WITHOUT_SUGGESTION" };
        let d = diags.error(
            span,
            format!("[DATATYPE_MISMATCH.{class}] Cannot resolve \"{x}\" due to data type mismatch: cannot cast \"{tf}\" to \"{tt}\""),
        );
        if suggest {
            d.help(format!(
                "To convert values from \"{tf}\" to \"{tt}\", you can use the functions `try_cast` instead"
            ));
        } else if not_null {
            d.help("Spark casts to a `NOT NULL` field only a field that cannot be NULL (built by `named_struct` or `struct` from a literal, `coalesce(x, 0)`, ...; a column can always be NULL): leave out `NOT NULL`");
        }
        return false;
    }
    true
}

fn cast(x: Expr, from: ColTy, to: ColTy, span: SpanId, diags: &mut Diagnostics) -> Option<Expr> {
    match coerce::cast(x, from, to) {
        Ok(x) => Some(x),
        Err(message) => {
            diags.error(span, message);
            None
        }
    }
}

pub(super) fn report(e: SigError, span: SpanId, diags: &mut Diagnostics) {
    let d = diags.error(span, e.message);
    if let Some(h) = e.help {
        d.help(h);
    }
}

/// One aggregate of `agg`, typed by its registry entry: its output name, function, argument and
/// type.
pub(super) fn check_aggregate(
    e: &Expr,
    alias: &Option<String>,
    cols: &[Column],
    span: SpanId,
    diags: &mut Diagnostics,
) -> Option<(String, AggFn, Option<Expr>, ColTy)> {
    let Expr::Call(f, args) = e else {
        diags
            .error(span, format!("`{e}` is not an aggregate function"))
            .help(functions::aggregates_help(&e.to_string()));
        return None;
    };
    let Some(def) = functions::aggregate(f) else {
        report(functions::unknown_aggregate(f), span, diags);
        return None;
    };
    let arg = match &args[..] {
        [Expr::Star] | [] if def.star => None,
        // An aggregate that does not take a narrower number (`sum`, `avg`: they compute on
        // `bigint` and `double`) gets it widened: Spark's `sum` of ints is a bigint, its `avg` a
        // double. `min`, `max`, `first`, ... keep the type.
        [x] => Some((
            x,
            typed(x, cols, span, diags).and_then(|(x, t)| {
                let w = t.widened();
                if w == t || (def.signature)(f, Some((&x, t))).is_ok() {
                    return Some((x, t));
                }
                Some((cast(x, t, w, span, diags)?, w))
            })?,
        )),
        _ => {
            diags.error(span, format!("`{f}` takes one argument"));
            return None;
        }
    };
    let ty = match (def.signature)(f, arg.as_ref().map(|(x, (_, t))| (*x, *t))) {
        Ok(t) => t,
        Err(e) => {
            report(e, span, diags);
            return None;
        }
    };
    // The output name is Spark's, from the expression as written; the argument as typed.
    let name = alias.clone().unwrap_or_else(|| (def.column)(f, arg.as_ref().map(|(x, _)| *x)));
    Some((name, AggFn::new(def), arg.map(|(_, (x, _))| x), ty))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::SpanTable;
    use crate::table::expr::parse_aliased;

    /// Every example of the registry parses and types over a schema with the columns they use:
    /// ordinary functions where an expression is, aggregates in `agg`, special forms only where
    /// they are allowed.
    #[test]
    fn every_example_of_the_registry_types() {
        let col = |name: &str, ty| Column { name: name.into(), ty };
        let cols = [
            col("timestamp", ColTy::Timestamp),
            col("value", ColTy::String),
            col("word", ColTy::String),
            col("n", ColTy::Long),
            col("d", ColTy::Double),
            col("day", ColTy::Date),
        ];
        let span = SpanTable::unknown();
        for f in functions::scalars() {
            let (e, _) = parse_aliased(f.example).unwrap_or_else(|e| panic!("{}: {e:?}", f.example));
            let mut diags = Diagnostics::default();
            let ty = type_of(&e, &cols, span, &mut diags);
            match f.form {
                Form::Ordinary { .. } if f.example.starts_with("explode") => assert!(ty.is_none()),
                Form::Ordinary { .. } => assert!(diags.is_empty(), "{}: {diags:?}", f.example),
                Form::Special { .. } => assert!(!diags.is_empty(), "{} is special", f.example),
            }
        }
        for a in functions::AGGREGATES {
            let e = parse_aliased(a.example).expect("example").0;
            let mut diags = Diagnostics::default();
            let agg = check_aggregate(&e, &None, &cols, span, &mut diags);
            assert!(diags.is_empty() && agg.is_some(), "{}: {diags:?}", a.example);
            let Expr::Call(_, args) = &e else { panic!("{} is a call", a.example) };
            for name in a.names {
                let call = Expr::Call(name.to_string(), args.clone());
                let (out, f, _, _) = check_aggregate(&call, &None, &cols, span, &mut diags).expect(name);
                assert_eq!((f.name(), diags.len()), (a.names[0], 0), "{out}");
            }
        }
    }
}

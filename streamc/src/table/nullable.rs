//! Spark's nullability of an expression, as far as a cast to a struct with `NOT NULL` fields
//! needs it: Spark casts a field to a `NOT NULL` one only when the field cannot be NULL
//! (`Cast.resolvableNullability`), which for the values streamc has means a field built by
//! `named_struct` or `struct` (or inside `array`, `map` built the same way) from an expression
//! that is never NULL. A column is always nullable here (every column of a streamc source is),
//! and so is any expression this module does not know to be never NULL: where it errs, it
//! refuses a cast Spark would take, never the other way round.

use super::coerce::force_nullable;
use super::expr::{BinOp, Expr};
use super::ty::{ColTy, Field, NotNull};

/// Whether `e` (untyped, as the front end wrote it) can be NULL: `false` only where Spark's
/// `nullable` is false for certain. Literals, the constructors, `IS [NOT] NULL`, negation,
/// `+ - *` and comparisons of such values (`/`, `%` and `div` are nullable in Spark even with
/// ANSI on), `coalesce`/`nvl` with one value never NULL, `if` and `CASE` (with `ELSE`) whose
/// values are never NULL.
pub fn nullable(e: &Expr) -> bool {
    match e {
        Expr::Str(_) | Expr::Int(_) | Expr::Float(_) | Expr::Bool(_) => false,
        // A decimal literal (`1.5`) is the cast of its text, a suffixed one (`1L`, `1Y`) the
        // cast of a number, which overflows only where the front end refuses it.
        Expr::Cast(x, ColTy::String, ColTy::Decimal(..)) if matches!(&**x, Expr::Str(_)) => false,
        Expr::Cast(x, from, to) => nullable(x) || force_nullable(*from, *to),
        Expr::Unary(_, x) => nullable(x),
        Expr::Binary(BinOp::Div | BinOp::Mod, ..) => true,
        Expr::Binary(_, a, b) => nullable(a) || nullable(b),
        Expr::Call(f, args) => match f.to_ascii_lowercase().as_str() {
            "named_struct" | "struct" | "array" | "map" | "isnull" | "isnotnull" | "current_date"
            | "current_timestamp" | "now" => false,
            "coalesce" | "nvl" | "ifnull" => args.iter().all(nullable),
            "if" => args.len() != 3 || nullable(&args[1]) || nullable(&args[2]),
            // `case(c1, v1, c2, v2, ..., else)`: without an odd argument no `ELSE`, so NULL
            // when no condition holds.
            "case" => {
                args.len() % 2 == 0 || args.iter().skip(1).step_by(2).any(nullable) || args.last().is_none_or(nullable)
            }
            _ => true,
        },
        _ => true,
    }
}

/// The value of each field of a struct built by `named_struct(name, value, ...)` or
/// `struct(value, ...)`, in order; `None` for any other expression.
fn struct_parts(e: &Expr) -> Option<Vec<&Expr>> {
    match e {
        Expr::Call(f, args) if f.eq_ignore_ascii_case("named_struct") => Some(args.iter().skip(1).step_by(2).collect()),
        Expr::Call(f, args) if f.eq_ignore_ascii_case("struct") => Some(args.iter().collect()),
        _ => None,
    }
}

/// Whether the field `k` of the struct `fields` is in `marks`.
fn marked(marks: &NotNull, fields: &'static [Field], k: usize) -> bool {
    marks.iter().any(|(s, i)| std::ptr::eq(*s, fields) && *i == k)
}

/// Whether a cast of `src` (of type `from`; `None`: a value whose parts this module cannot see)
/// to `to` fills every field `not_null` marks in `to` with a value that cannot be NULL, as
/// Spark requires: the source field is never NULL and (under `TRY_CAST`, whose parts follow
/// Spark's legacy rule) its cast cannot make it NULL.
pub fn fills_not_null(src: Option<&Expr>, from: ColTy, to: ColTy, not_null: &NotNull, try_cast: bool) -> bool {
    match (from, to) {
        (ColTy::Struct(ff), ColTy::Struct(tf)) => {
            let parts = src.and_then(struct_parts);
            tf.iter().zip(ff.iter()).enumerate().all(|(k, (g, f))| {
                let part = parts.as_ref().and_then(|p| p.get(k).copied());
                let filled = !marked(not_null, tf, k)
                    || part.is_some_and(|e| !(nullable(e) || (try_cast && force_nullable(f.ty, g.ty))));
                filled && fills_not_null(part, f.ty, g.ty, not_null, try_cast)
            })
        }
        (ColTy::Array(a), ColTy::Array(b)) => match src {
            Some(Expr::Call(f, xs)) if f.eq_ignore_ascii_case("array") => {
                xs.iter().all(|x| fills_not_null(Some(x), *a, *b, not_null, try_cast))
            }
            _ => fills_not_null(None, *a, *b, not_null, try_cast),
        },
        (ColTy::Map((k1, v1)), ColTy::Map((k2, v2))) => match src {
            Some(Expr::Call(f, xs)) if f.eq_ignore_ascii_case("map") => xs.chunks(2).all(|kv| {
                fills_not_null(kv.first(), *k1, *k2, not_null, try_cast)
                    && fills_not_null(kv.get(1), *v1, *v2, not_null, try_cast)
            }),
            _ => {
                fills_not_null(None, *k1, *k2, not_null, try_cast) && fills_not_null(None, *v1, *v2, not_null, try_cast)
            }
        },
        _ => true,
    }
}

/// The fields of `src`'s type `ty` that cannot be NULL (a struct built from values that are
/// never NULL), which Spark's messages mark `NOT NULL` in the type it casts from.
pub fn never_null_fields(src: &Expr, ty: ColTy) -> NotNull {
    let mut out = Vec::new();
    mark(src, ty, &mut out);
    out
}

fn mark(src: &Expr, ty: ColTy, out: &mut NotNull) {
    match ty {
        ColTy::Struct(fields) => {
            for (k, (part, f)) in struct_parts(src).unwrap_or_default().into_iter().zip(fields.iter()).enumerate() {
                if !nullable(part) {
                    out.push((fields, k));
                }
                mark(part, f.ty, out);
            }
        }
        ColTy::Array(e) => {
            if let Expr::Call(f, xs) = src
                && f.eq_ignore_ascii_case("array")
            {
                xs.iter().for_each(|x| mark(x, *e, out));
            }
        }
        ColTy::Map((k, v)) => {
            if let Expr::Call(f, xs) = src
                && f.eq_ignore_ascii_case("map")
            {
                for kv in xs.chunks(2) {
                    mark(&kv[0], *k, out);
                    if let Some(x) = kv.get(1) {
                        mark(x, *v, out);
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(f: &str, args: Vec<Expr>) -> Expr {
        Expr::Call(f.into(), args)
    }

    #[test]
    fn never_null_values() {
        let col = || Expr::Column("id".into());
        assert!(!nullable(&Expr::Int(1)));
        assert!(nullable(&Expr::Null));
        assert!(nullable(&col()));
        assert!(!nullable(&call("coalesce", vec![col(), Expr::Int(0)])));
        assert!(nullable(&call("coalesce", vec![col(), Expr::Null])));
        assert!(!nullable(&Expr::Binary(BinOp::Add, Box::new(Expr::Int(1)), Box::new(Expr::Int(2)))));
        assert!(nullable(&Expr::Binary(BinOp::Div, Box::new(Expr::Int(1)), Box::new(Expr::Int(2)))));
        assert!(nullable(&call("case", vec![Expr::Bool(true), Expr::Int(1)])));
        assert!(!nullable(&call("case", vec![Expr::Bool(true), Expr::Int(1), Expr::Int(2)])));
    }

    #[test]
    fn not_null_fields_need_values_never_null() {
        let (to, marks) = ColTy::parse_marking_not_null("struct<a: bigint not null, b: string>").unwrap();
        let from = ColTy::parse("struct<a: int, b: string>").unwrap();
        let lit = call("named_struct", vec![Expr::Str("a".into()), Expr::Int(1), Expr::Str("b".into()), Expr::Null]);
        assert!(fills_not_null(Some(&lit), from, to, &marks, false));
        assert!(fills_not_null(Some(&lit), from, to, &marks, true));
        let col = call(
            "named_struct",
            vec![Expr::Str("a".into()), Expr::Column("n".into()), Expr::Str("b".into()), Expr::Null],
        );
        assert!(!fills_not_null(Some(&col), from, to, &marks, false));
        assert!(!fills_not_null(Some(&Expr::Column("s".into())), from, to, &marks, false));
        assert!(fills_not_null(Some(&Expr::Column("s".into())), from, from, &Vec::new(), false));
        // Under TRY_CAST a part whose cast can give NULL (a string to a number) cannot fill it.
        let (to, marks) = ColTy::parse_marking_not_null("struct<a: int not null>").unwrap();
        let s = call("named_struct", vec![Expr::Str("a".into()), Expr::Str("x".into())]);
        let from = ColTy::parse("struct<a: string>").unwrap();
        assert!(fills_not_null(Some(&s), from, to, &marks, false));
        assert!(!fills_not_null(Some(&s), from, to, &marks, true));
        assert_eq!(never_null_fields(&s, from).len(), 1);
    }
}

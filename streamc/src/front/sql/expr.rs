//! SQL expressions lowered to column expressions (`table::expr::Expr`).

use super::lowered::Pos;
use crate::table::expr::{BinOp, Expr, UnOp};
use sqlparser::ast::{
    self, BinaryOperator, DataType, FunctionArg, FunctionArgExpr, FunctionArguments, Spanned, UnaryOperator, Value,
};

use super::cx::*;

impl Cx<'_> {
    /// An expression without reporting (to collect the columns a query uses).
    pub(super) fn expr_quiet(&mut self, e: &ast::Expr, quals: &Qualifiers) -> Option<Expr> {
        let n = self.errors.len();
        let x = self.expr(e, quals);
        self.errors.truncate(n);
        x
    }

    pub(super) fn expr(&mut self, e: &ast::Expr, quals: &Qualifiers) -> Option<Expr> {
        use ast::Expr as S;
        let pos = self.pos(e.span());
        Some(match e {
            S::Identifier(id) if id.quote_style == Some('"') => Expr::Str(crate::table::expr::unescape(&id.value)),
            S::Identifier(id) if id.quote_style.is_none() && suffixed_literal(&id.value).is_some() => {
                match suffixed_literal(&id.value) {
                    Some(Ok(x)) => x,
                    Some(Err(message)) => {
                        self.error(pos, message, None);
                        return None;
                    }
                    None => return None,
                }
            }
            S::Identifier(id) => Expr::Column(id.value.clone()),
            S::CompoundIdentifier(parts) => match &parts[..] {
                [q, c] if quals.iter().any(|x| x == &q.value) => Expr::Column(c.value.clone()),
                [w, _] if w.value.eq_ignore_ascii_case("window") || w.value.eq_ignore_ascii_case("session_window") => {
                    let kind = w.value.to_ascii_lowercase();
                    self.error(pos, format!("`{e}` is only allowed in the select list of `GROUP BY {kind}(..)`"), None);
                    return None;
                }
                // `q.c.f...` (a qualified column's fields) or `c.f...` (a struct column's).
                [q, c, rest @ ..] if quals.iter().any(|x| x == &q.value) => {
                    rest.iter().fold(Expr::Column(c.value.clone()), |x, f| {
                        Expr::Call(".field".into(), vec![x, Expr::Str(f.value.clone())])
                    })
                }
                [c, rest @ ..] => rest.iter().fold(Expr::Column(c.value.clone()), |x, f| {
                    Expr::Call(".field".into(), vec![x, Expr::Str(f.value.clone())])
                }),
                [] => {
                    let help = format!("columns are qualified with the source's name or alias ({})", quals.join(", "));
                    self.error(pos, format!("`{e}` is not a column streamc knows"), Some(&help));
                    return None;
                }
            },
            // `a[i]`, `m['k']`, `a[0].f`.
            S::CompoundFieldAccess { root, access_chain } => {
                let mut x = self.expr(root, quals)?;
                for step in access_chain {
                    x = match step {
                        ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                            Expr::Call("[]".into(), vec![x, self.expr(index, quals)?])
                        }
                        ast::AccessExpr::Dot(ast::Expr::Identifier(f)) => {
                            Expr::Call(".field".into(), vec![x, Expr::Str(f.value.clone())])
                        }
                        other => {
                            self.error(pos, format!("`{other}` is not supported by streamc"), None);
                            return None;
                        }
                    };
                }
                x
            }
            S::Value(v) => match &v.value {
                Value::Number(n, _) => match (n.parse::<i64>(), n.parse::<f64>()) {
                    (Ok(i), _) => Expr::Int(i),
                    // `1.5` is a decimal in Spark (`decimal(2,1)`); `1e3` a double.
                    _ if crate::table::expr::decimal_literal(n).is_some() => crate::table::expr::decimal_literal(n)?,
                    (_, Ok(x)) if x.is_finite() => Expr::Float(x),
                    _ => {
                        self.error(pos, format!("invalid number `{n}`"), None);
                        return None;
                    }
                },
                Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => {
                    Expr::Str(crate::table::expr::unescape(s))
                }
                Value::Boolean(b) => Expr::Bool(*b),
                Value::Null => Expr::Null,
                // `X'4869'`: bytes in hex.
                Value::HexStringLiteral(h) => Expr::Call("unhex".into(), vec![Expr::Str(h.clone())]),
                other => {
                    self.error(pos, format!("the literal `{other}` is not supported by streamc"), None);
                    return None;
                }
            },
            S::Nested(inner) => self.expr(inner, quals)?,
            S::TypedString(ts) => {
                // The span is the string's: widen it over the type name before it.
                let ty = ts.data_type.to_string();
                let pos = pos.map(|p| match self.sql[..p.start].trim_end() {
                    before if before.to_ascii_uppercase().ends_with(&ty.to_ascii_uppercase()) => {
                        let start = before.len() - ty.len();
                        Pos { start, len: p.start + p.len - start }
                    }
                    _ => p,
                });
                let help = match (&ts.data_type, &ts.value.value) {
                    (DataType::Date, Value::SingleQuotedString(s)) => format!("write `to_date('{s}')`"),
                    _ => "compare with a column, or convert a string with `to_date('yyyy-mm-dd')`".to_string(),
                };
                self.error(pos, format!("typed literals such as `{e}` are not supported by streamc yet"), Some(&help));
                return None;
            }
            S::UnaryOp { op, expr } => {
                let x = self.expr(expr, quals)?;
                match op {
                    UnaryOperator::Not => Expr::Unary(UnOp::Not, Box::new(x)),
                    UnaryOperator::Minus => Expr::Unary(UnOp::Neg, Box::new(x)),
                    UnaryOperator::Plus => x,
                    other => {
                        self.error(pos, format!("the operator `{other}` is not supported by streamc"), None);
                        return None;
                    }
                }
            }
            S::BinaryOp { left, op: BinaryOperator::MyIntegerDivide, right } => {
                Expr::Call("div".into(), vec![self.expr(left, quals)?, self.expr(right, quals)?])
            }
            S::BinaryOp { left, op, right } => {
                let op = match op {
                    BinaryOperator::Or => BinOp::Or,
                    BinaryOperator::And => BinOp::And,
                    BinaryOperator::Eq => BinOp::Eq,
                    BinaryOperator::NotEq => BinOp::Ne,
                    BinaryOperator::Lt => BinOp::Lt,
                    BinaryOperator::LtEq => BinOp::Le,
                    BinaryOperator::Gt => BinOp::Gt,
                    BinaryOperator::GtEq => BinOp::Ge,
                    BinaryOperator::Plus => BinOp::Add,
                    BinaryOperator::Minus => BinOp::Sub,
                    BinaryOperator::Multiply => BinOp::Mul,
                    BinaryOperator::Divide => BinOp::Div,
                    BinaryOperator::Modulo => BinOp::Mod,
                    other => {
                        self.error(pos, format!("the operator `{other}` is not supported by streamc"), Some(SUPPORTED));
                        return None;
                    }
                };
                // `t ± INTERVAL ..` (and `INTERVAL .. + t`): a day-time interval added to a
                // timestamp, as microseconds.
                fn interval(e: &ast::Expr) -> Option<&ast::Interval> {
                    match e {
                        ast::Expr::Interval(i) => Some(i),
                        _ => None,
                    }
                }
                match (interval(left), interval(right), op) {
                    (None, Some(i), BinOp::Add | BinOp::Sub) | (Some(i), None, BinOp::Add) => {
                        let t = if interval(right).is_some() { left } else { right };
                        let t = self.expr(t, quals)?;
                        let sign = if op == BinOp::Sub { -1 } else { 1 };
                        return match interval_literal(i) {
                            Ok(Interval::Micros(us)) => {
                                Some(Expr::Call("+interval".into(), vec![t, Expr::Int(sign * us)]))
                            }
                            Ok(Interval::Months(n)) => Some(Expr::Call("+months".into(), vec![t, Expr::Int(sign * n)])),
                            Err(message) => {
                                self.error(pos, message, Some("write an interval: `INTERVAL 1 HOUR`, `INTERVAL '90' MINUTE`, `INTERVAL '1 day 2 hours'`, `INTERVAL 2 MONTHS`"));
                                None
                            }
                        };
                    }
                    _ => {}
                }
                let (a, b) = (self.expr(left, quals), self.expr(right, quals));
                Expr::Binary(op, Box::new(a?), Box::new(b?))
            }
            S::Function(f) => {
                let Some(name) = single_name(&f.name) else {
                    self.error(pos, format!("unknown function `{}`", f.name), None);
                    return None;
                };
                if f.over.is_some() {
                    self.error(
                        pos,
                        "Non-time-based windows are not supported on streaming DataFrames/Datasets",
                        Some("group by `window(<time>, <duration>)` instead of `OVER (...)`"),
                    );
                    return None;
                }
                if f.filter.is_some() || !f.within_group.is_empty() || !matches!(f.parameters, FunctionArguments::None)
                {
                    self.error(pos, format!("this form of `{name}(..)` is not supported by streamc"), None);
                    return None;
                }
                let args = match &f.args {
                    FunctionArguments::None => Vec::new(),
                    FunctionArguments::List(list) => {
                        if matches!(list.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct))
                            && crate::table::functions::aggregate(&name.to_ascii_lowercase()).is_some()
                        {
                            // Spark's `UnsupportedOperationChecker`.
                            self.error(
                                pos,
                                "Distinct aggregations are not supported on streaming DataFrames/Datasets. Consider using approx_count_distinct() instead.",
                                None,
                            );
                            return None;
                        }
                        if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
                            self.error(
                                pos,
                                format!(
                                    "`{name}(DISTINCT ..)` and clauses in arguments are not supported by streamc yet"
                                ),
                                None,
                            );
                            return None;
                        }
                        let mut args = Vec::new();
                        for a in &list.args {
                            match a {
                                FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => args.push(self.expr(x, quals)),
                                FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => args.push(Some(Expr::Star)),
                                other => {
                                    let apos = self.pos(other.span());
                                    self.error(
                                        apos,
                                        format!("the argument `{other}` is not supported by streamc"),
                                        None,
                                    );
                                    args.push(None);
                                }
                            }
                        }
                        args.into_iter().collect::<Option<Vec<_>>>()?
                    }
                    FunctionArguments::Subquery(_) => {
                        self.error(pos, "subqueries in expressions are not supported by streamc", None);
                        return None;
                    }
                };
                Expr::Call(name.to_ascii_lowercase(), args)
            }
            // `TRIM([BOTH | LEADING | TRAILING] [chars FROM] s)`: Spark's `trim`, `ltrim`,
            // `rtrim`, whose two-argument form takes the characters first.
            S::Trim { trim_where, trim_what, expr, trim_characters } => {
                let f = match trim_where {
                    None | Some(ast::TrimWhereField::Both) => "trim",
                    Some(ast::TrimWhereField::Leading) => "ltrim",
                    Some(ast::TrimWhereField::Trailing) => "rtrim",
                };
                let s = self.expr(expr, quals);
                let chars = match (trim_what, trim_characters.as_deref()) {
                    (Some(w), _) => Some(self.expr(w, quals)?),
                    // `trim(a, b)` is Spark's function call, characters first: `b` from `a`.
                    (None, Some([b])) => {
                        let b = self.expr(b, quals)?;
                        return Some(Expr::Call(f.into(), vec![s?, b]));
                    }
                    (None, Some(_)) => {
                        self.error(pos, format!("`{f}` takes one or two arguments"), None);
                        return None;
                    }
                    (None, None) => None,
                };
                let s = s?;
                Expr::Call(f.into(), chars.into_iter().chain([s]).collect())
            }
            // `x [NOT] IN (a, b)`: `x = a OR x = b` (the same under SQL's three-valued logic).
            S::In { expr, target: ast::InTarget::List(list), negated, global: false } => {
                let x = self.expr(expr, quals)?;
                let mut any: Option<Expr> = None;
                for item in list {
                    let eq = Expr::Binary(BinOp::Eq, Box::new(x.clone()), Box::new(self.expr(item, quals)?));
                    any = Some(match any {
                        Some(a) => Expr::Binary(BinOp::Or, Box::new(a), Box::new(eq)),
                        None => eq,
                    });
                }
                let any = any?;
                if *negated { Expr::Unary(UnOp::Not, Box::new(any)) } else { any }
            }
            // `x [NOT] BETWEEN lo AND hi`: `lo <= x AND x <= hi`.
            S::Between { expr, negated, low, high } => {
                let x = self.expr(expr, quals)?;
                let (lo, hi) = (self.expr(low, quals)?, self.expr(high, quals)?);
                let both = Expr::Binary(
                    BinOp::And,
                    Box::new(Expr::Binary(BinOp::Ge, Box::new(x.clone()), Box::new(lo))),
                    Box::new(Expr::Binary(BinOp::Le, Box::new(x), Box::new(hi))),
                );
                if *negated { Expr::Unary(UnOp::Not, Box::new(both)) } else { both }
            }
            // `CAST(x AS t)`, `TRY_CAST(x AS t)`, `x::t`: typed by the checker (`table::typing`).
            S::Cast { kind, expr, data_type, format: None } => {
                let x = self.expr(expr, quals)?;
                let f = match kind {
                    ast::CastKind::TryCast | ast::CastKind::SafeCast => "try_cast",
                    ast::CastKind::Cast | ast::CastKind::DoubleColon => "cast",
                };
                Expr::Call(f.into(), vec![x, Expr::Str(data_type.to_string())])
            }
            S::Floor { expr, field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) } => {
                Expr::Call("floor".into(), vec![self.expr(expr, quals)?])
            }
            S::Ceil { expr, field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) } => {
                Expr::Call("ceil".into(), vec![self.expr(expr, quals)?])
            }
            // `SUBSTRING(s, pos[, len])`, `SUBSTR(..)`, `SUBSTRING(s FROM pos [FOR len])`.
            S::Substring { expr, substring_from, substring_for, .. } => {
                let mut args = vec![self.expr(expr, quals)?];
                match substring_from {
                    Some(p) => args.push(self.expr(p, quals)?),
                    None => args.push(Expr::Int(1)),
                }
                if let Some(l) = substring_for {
                    args.push(self.expr(l, quals)?);
                }
                Expr::Call("substring".into(), args)
            }
            S::IsNull(x) => Expr::Call("isnull".into(), vec![self.expr(x, quals)?]),
            S::IsNotNull(x) => Expr::Call("isnotnull".into(), vec![self.expr(x, quals)?]),
            // `CASE [x] WHEN a THEN b ... [ELSE e] END`: `case(cond1, value1, ..., [else])`, the
            // simple form's conditions as `x = a`.
            S::Case { operand, conditions, else_result, .. } => {
                let operand = match operand {
                    Some(o) => Some(self.expr(o, quals)?),
                    None => None,
                };
                let mut args = Vec::new();
                for w in conditions {
                    let c = self.expr(&w.condition, quals)?;
                    let c = match &operand {
                        Some(o) => Expr::Binary(BinOp::Eq, Box::new(o.clone()), Box::new(c)),
                        None => c,
                    };
                    args.push(c);
                    args.push(self.expr(&w.result, quals)?);
                }
                if let Some(e) = else_result {
                    args.push(self.expr(e, quals)?);
                }
                Expr::Call("case".into(), args)
            }
            S::RLike { negated, expr, pattern, .. } => {
                let rlike = Expr::Call("rlike".into(), vec![self.expr(expr, quals)?, self.expr(pattern, quals)?]);
                if *negated { Expr::Unary(UnOp::Not, Box::new(rlike)) } else { rlike }
            }
            S::Like { negated, any: false, expr, pattern, escape_char: None } => {
                let like = Expr::Call("like".into(), vec![self.expr(expr, quals)?, self.expr(pattern, quals)?]);
                if *negated { Expr::Unary(UnOp::Not, Box::new(like)) } else { like }
            }
            other => {
                self.error(pos, format!("`{other}` is not supported by streamc's SQL yet"), Some(SUPPORTED));
                return None;
            }
        })
    }
}

/// A day-time interval literal in microseconds: `INTERVAL 1 HOUR`, `INTERVAL '90' MINUTE`,
/// `INTERVAL '1 day 2 hours'`; Err for month and year intervals (calendar arithmetic) and for
/// what does not parse.
/// An interval literal: day-time (microseconds) or year-month (months); Spark 4 does not mix
/// the two in one literal.
enum Interval {
    Micros(i64),
    Months(i64),
}

fn interval_literal(i: &ast::Interval) -> Result<Interval, String> {
    use ast::DateTimeField as F;
    let months = |f: &F| match f {
        F::Year | F::Years => Some(12),
        F::Month | F::Months => Some(1),
        _ => None,
    };
    let year_month = match &i.leading_field {
        Some(f) => months(f).is_some(),
        None => false,
    };
    let text_of = |e: &ast::Expr| -> Option<String> {
        match e {
            ast::Expr::Value(v) => match &v.value {
                Value::Number(n, _) => Some(n.clone()),
                Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
                _ => None,
            },
            ast::Expr::UnaryOp { op: UnaryOperator::Minus, expr } => Some(format!("-{expr}")),
            _ => None,
        }
    };
    let words: Vec<String> =
        text_of(&i.value).map(|t| t.split_whitespace().map(str::to_ascii_lowercase).collect()).unwrap_or_default();
    let unit_words =
        words.chunks(2).filter_map(|p| p.get(1)).map(|u| u.trim_end_matches('s').to_string()).collect::<Vec<_>>();
    let ym_words =
        i.leading_field.is_none() && !unit_words.is_empty() && unit_words.iter().any(|u| u == "month" || u == "year");
    if year_month || ym_words {
        if i.last_field.is_some() {
            return Err("`INTERVAL .. TO ..` ranges are not supported by streamc yet".into());
        }
        let number = |s: &str| {
            s.trim().parse::<i64>().map_err(|_| format!("`{s}` is not a whole number of months or years in `INTERVAL`"))
        };
        let total = match &i.leading_field {
            Some(f) => number(&text_of(&i.value).unwrap_or_default())? * months(f).unwrap_or(1),
            None => {
                let mut total = 0i64;
                for pair in words.chunks(2) {
                    let per = match pair[1].trim_end_matches('s') {
                        "year" => 12,
                        "month" => 1,
                        _ => {
                            return Err(format!(
                                "Cannot mix year-month and day-time fields: INTERVAL '{}'.",
                                text_of(&i.value).unwrap_or_default()
                            ));
                        }
                    };
                    total += number(&pair[0])? * per;
                }
                total
            }
        };
        return Ok(Interval::Months(total));
    }
    interval_micros(i).map(Interval::Micros)
}

fn interval_micros(i: &ast::Interval) -> Result<i64, String> {
    use ast::DateTimeField as F;
    let unit_us = |f: &F| -> Result<i64, String> {
        Ok(match f {
            F::Week(_) | F::Weeks => 7 * 86_400_000_000,
            F::Day | F::Days => 86_400_000_000,
            F::Hour | F::Hours => 3_600_000_000,
            F::Minute | F::Minutes => 60_000_000,
            F::Second | F::Seconds => 1_000_000,
            F::Millisecond | F::Milliseconds => 1000,
            F::Microsecond | F::Microseconds => 1,
            F::Year | F::Years | F::Month | F::Months => {
                return Err(format!("month and year intervals are not supported by streamc yet (`INTERVAL .. {f}`)"));
            }
            other => return Err(format!("the interval unit `{other}` is not supported by streamc")),
        })
    };
    let text = match i.value.as_ref() {
        ast::Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.clone(),
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
            other => return Err(format!("`INTERVAL {other}` is not an interval streamc reads")),
        },
        ast::Expr::UnaryOp { op: UnaryOperator::Minus, expr } => format!("-{expr}"),
        other => return Err(format!("`INTERVAL {other}` is not an interval streamc reads")),
    };
    if i.last_field.is_some() {
        return Err("`INTERVAL .. TO ..` ranges are not supported by streamc yet".into());
    }
    let number = |s: &str| -> Result<f64, String> {
        s.trim().parse::<f64>().map_err(|_| format!("`{s}` is not a number in `INTERVAL`"))
    };
    let us = match &i.leading_field {
        Some(f) => number(&text)? * unit_us(f)? as f64,
        None => {
            // `'1 day 2 hours'`: number-unit pairs.
            let words: Vec<&str> = text.split_whitespace().collect();
            if words.is_empty() || !words.len().is_multiple_of(2) {
                return Err(format!("`INTERVAL '{text}'` is not `'<number> <unit> ...'`"));
            }
            let mut total = 0.0;
            for pair in words.chunks(2) {
                let unit = match pair[1].to_ascii_lowercase().trim_end_matches('s') {
                    "week" => F::Week(None),
                    "day" => F::Day,
                    "hour" => F::Hour,
                    "minute" => F::Minute,
                    "second" => F::Second,
                    "millisecond" => F::Millisecond,
                    "microsecond" => F::Microsecond,
                    "month" => F::Month,
                    "year" => F::Year,
                    other => return Err(format!("unknown interval unit `{other}`")),
                };
                total += number(pair[0])? * unit_us(&unit)? as f64;
            }
            total
        }
    };
    if us.fract() != 0.0 || us.abs() > 9.2e18 {
        return Err(format!("`INTERVAL {text}` is not a whole number of microseconds"));
    }
    Ok(us as i64)
}

/// Spark's typed numeric literals, which the SQL parser reads as names: `1Y` (tinyint), `1S`
/// (smallint), `1L` (bigint), `1.5F` (float), `1.5D` (double), `1.5BD` (decimal of the literal's
/// digits: `decimal(2,1)`). None when the name is not one; an error when it is out of range.
fn suffixed_literal(text: &str) -> Option<Result<Expr, String>> {
    use crate::table::ty::ColTy;
    let upper = text.to_ascii_uppercase();
    let (number, suffix) = if let Some(n) = upper.strip_suffix("BD") {
        (n, "BD")
    } else {
        let n = upper.strip_suffix(['Y', 'S', 'L', 'F', 'D'])?;
        (n, &upper[n.len()..])
    };
    let numeric = !number.is_empty()
        && number.bytes().next().is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && number.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'E' | b'+' | b'-'));
    if !numeric {
        return None;
    }
    let integral = |to: ColTy| -> Option<Result<Expr, String>> {
        let i: i64 = match number.parse() {
            Ok(i) => i,
            Err(_) => return Some(Err(format!("`{text}` is not a {} literal", to.sql()))),
        };
        let from = if i32::try_from(i).is_ok() { ColTy::Int } else { ColTy::Long };
        let fits = match to {
            ColTy::Byte => i8::try_from(i).is_ok(),
            ColTy::Short => i16::try_from(i).is_ok(),
            _ => true,
        };
        if !fits {
            return Some(Err(format!(
                "[INVALID_NUMERIC_LITERAL_RANGE] Numeric literal {number} is outside the valid range for {} with minimum value of {} and maximum value of {}. Please adjust the value accordingly.",
                to.sql(),
                if to == ColTy::Byte { -128 } else { -32768 },
                if to == ColTy::Byte { 127 } else { 32767 }
            )));
        }
        Some(Ok(if from == to { Expr::Int(i) } else { Expr::Cast(Box::new(Expr::Int(i)), from, to) }))
    };
    match suffix {
        "Y" => integral(ColTy::Byte),
        "S" => integral(ColTy::Short),
        "L" => integral(ColTy::Long),
        "F" | "D" => {
            let x: f64 = number.parse().ok().filter(|x: &f64| x.is_finite())?;
            Some(Ok(if suffix == "D" {
                Expr::Float(x)
            } else {
                Expr::Cast(Box::new(Expr::Float(x)), ColTy::Double, ColTy::Float)
            }))
        }
        _ => match crate::table::expr::decimal_literal(number) {
            Some(x) => Some(Ok(x)),
            None if number.contains('E') => None,
            None => Some(Err(format!("`{text}` has more than 38 digits"))),
        },
    }
}

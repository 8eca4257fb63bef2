//! Column expressions of Structured Streaming queries (`where: "length(word) > 3"`,
//! `select: ["explode(split(value, ' ')) AS word"]`): a small SQL expression language, parsed
//! here (never failing: errors carry the byte offset in the expression text) and typed against
//! a table's schema by the checker.

use super::ty::ColTy;
use std::fmt;

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Column(String),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    /// `*`, only as the argument of `count(*)`.
    Star,
    Call(String, Vec<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// A cast from one type to another that the checker inserts where Spark casts implicitly
    /// (`table::coerce`); front ends do not produce it.
    Cast(Box<Expr>, ColTy, ColTy),
    /// `try_cast(x AS t)`, typed: NULL where `Cast` would fail.
    TryCast(Box<Expr>, ColTy, ColTy),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "OR",
            BinOp::And => "AND",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }
}

impl Expr {
    /// Whether the expression reads column `c`.
    pub fn reads(&self, c: &str) -> bool {
        match self {
            Expr::Column(x) => x == c,
            Expr::Call(_, args) => args.iter().any(|a| a.reads(c)),
            Expr::Unary(_, x) | Expr::Cast(x, _, _) | Expr::TryCast(x, _, _) => x.reads(c),
            Expr::Binary(_, a, b) => a.reads(c) || b.reads(c),
            _ => false,
        }
    }

    /// Whether the expression calls a function whose name `f` accepts.
    pub fn calls(&self, f: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Expr::Call(name, args) => f(name) || args.iter().any(|a| a.calls(f)),
            Expr::Unary(_, x) | Expr::Cast(x, _, _) | Expr::TryCast(x, _, _) => x.calls(f),
            Expr::Binary(_, a, b) => a.calls(f) || b.calls(f),
            _ => false,
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Column(c) => f.write_str(c),
            Expr::Str(s) => write!(f, "'{s}'"),
            Expr::Int(i) => write!(f, "{i}"),
            Expr::Float(x) => write!(f, "{x}"),
            Expr::Bool(b) => write!(f, "{b}"),
            Expr::Null => f.write_str("NULL"),
            Expr::Star => f.write_str("*"),
            // SQL's own syntax for what the front ends lower to calls.
            Expr::Call(name, args) if name == "case" => {
                f.write_str("CASE")?;
                for pair in args.chunks(2) {
                    match pair {
                        [c, v] => write!(f, " WHEN {c} THEN {v}")?,
                        [e] => write!(f, " ELSE {e}")?,
                        _ => {}
                    }
                }
                f.write_str(" END")
            }
            // A cast to a nested type shows as the value alone, as Spark's `Cast.sql` (its
            // messages, default column names).
            Expr::Call(name, args) if (name == "cast" || name == "try_cast") && args.len() == 2 => match &args[1] {
                Expr::Str(t) if ColTy::parse(t).is_some_and(ColTy::nested) => write!(f, "{}", args[0]),
                Expr::Str(t) => write!(f, "{}({} AS {})", name.to_ascii_uppercase(), args[0], t.to_ascii_uppercase()),
                other => write!(f, "{}({} AS {other})", name.to_ascii_uppercase(), args[0]),
            },
            Expr::Call(name, args) if (name == "isnull" || name == "isnotnull") && args.len() == 1 => {
                write!(f, "({} IS {}NULL)", args[0], if name == "isnull" { "" } else { "NOT " })
            }
            Expr::Call(name, args) if name == "like" && args.len() == 2 => write!(f, "{} LIKE {}", args[0], args[1]),
            Expr::Call(name, args) if name == "+months" && args.len() == 2 => {
                write!(f, "{} + INTERVAL '{}' MONTH", args[0], args[1])
            }
            Expr::Call(name, args) if name == "+interval" && args.len() == 2 => {
                write!(f, "{} + INTERVAL '{}' MICROSECOND", args[0], args[1])
            }
            Expr::Call(name, args) if name == ".field" && args.len() == 2 => match &args[1] {
                Expr::Str(field) => write!(f, "{}.{field}", args[0]),
                other => write!(f, "{}.{other}", args[0]),
            },
            Expr::Call(name, args) if name == "[]" && args.len() == 2 => write!(f, "{}[{}]", args[0], args[1]),
            Expr::Call(name, args) => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
            Expr::Unary(UnOp::Not, e) => write!(f, "(NOT {e})"),
            Expr::Unary(UnOp::Neg, e) => write!(f, "(-{e})"),
            Expr::Binary(op, a, b) => write!(f, "({a} {} {b})", op.symbol()),
            // An integer literal cast to the integer type it meets is written as the literal
            // (as Spark's plans show it once constants are folded).
            Expr::Cast(e, _, to) if to.integral() && matches!(**e, Expr::Int(_)) => write!(f, "{e}"),
            // A decimal literal (`1.5`, typed `CAST('1.5' AS DECIMAL(2,1))`) as written.
            Expr::Cast(e, ColTy::String, ColTy::Decimal(..)) if matches!(&**e, Expr::Str(_)) => match &**e {
                Expr::Str(s) => f.write_str(s),
                _ => Ok(()),
            },
            Expr::Cast(e, _, to) | Expr::TryCast(e, _, to) if to.nested() => write!(f, "{e}"),
            Expr::Cast(e, _, to) => write!(f, "CAST({e} AS {})", to.spark_sql()),
            Expr::TryCast(e, _, to) => write!(f, "TRY_CAST({e} AS {})", to.spark_sql()),
        }
    }
}

/// A string literal's text as Spark reads it (`ParserUtils.unescapeSQLString`): `\\` is `\`,
/// `\'` and `''` a quote, `\n \t \r \b \0 \Z` control characters, `\u` with four hex digits the character of that code, and
/// `\%`, `\_` stay as they are (for `LIKE`); any other `\x` is `x`.
pub fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut it = raw.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\'' if it.peek() == Some(&'\'') => {
                it.next();
                out.push('\'');
            }
            '\\' => match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('b') => out.push('\u{8}'),
                Some('0') => out.push('\0'),
                Some('Z') => out.push('\u{1a}'),
                Some(e @ ('%' | '_')) => {
                    out.push('\\');
                    out.push(e);
                }
                Some('u') => {
                    let hex: String = it.clone().take(4).collect();
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32).filter(|_| hex.len() == 4) {
                        Some(ch) => {
                            out.push(ch);
                            for _ in 0..4 {
                                it.next();
                            }
                        }
                        None => out.push('u'),
                    }
                }
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

/// A parse error at a byte offset of the expression text.
#[derive(Clone, Debug, PartialEq)]
pub struct ExprError {
    pub offset: usize,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Dec(String),
    Op(&'static str),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, ExprError> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                out.push((Tok::LParen, i));
                i += 1;
            }
            b')' => {
                out.push((Tok::RParen, i));
                i += 1;
            }
            b',' => {
                out.push((Tok::Comma, i));
                i += 1;
            }
            b'[' | b']' => {
                out.push((if c == b'[' { Tok::LBracket } else { Tok::RBracket }, i));
                i += 1;
            }
            b'\'' | b'"' => {
                let quote = c;
                i += 1;
                let mut s = String::new();
                loop {
                    match b.get(i) {
                        None => return Err(ExprError { offset: start, message: "unterminated string literal".into() }),
                        Some(&q) if q == quote => {
                            // SQL escapes a quote by doubling it.
                            if b.get(i + 1) == Some(&quote) {
                                // Kept doubled for `unescape`, which makes `''` one quote.
                                s.push(quote as char);
                                if quote == b'\'' {
                                    s.push('\'');
                                }
                                i += 2;
                            } else {
                                i += 1;
                                break;
                            }
                        }
                        // A backslash escape is a pair (so `\'` does not end the string),
                        // unescaped below as Spark does.
                        Some(b'\\') if i + 1 < b.len() => {
                            let ch = src[i + 1..].chars().next().unwrap_or(' ');
                            s.push('\\');
                            s.push(ch);
                            i += 1 + ch.len_utf8();
                        }
                        Some(_) => {
                            let ch = src[i..].chars().next().unwrap_or(' ');
                            s.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                out.push((Tok::Str(unescape(&s)), start));
            }
            b'0'..=b'9' => {
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                    i += 1;
                }
                let text = &src[start..i];
                let tok = if text.contains('.') {
                    // A decimal literal (`1.5`: Spark's `decimal(2,1)`), or a double when it has
                    // more than 38 digits.
                    match decimal_literal(text) {
                        Some(_) => Tok::Dec(text.to_string()),
                        None => {
                            text.parse().ok().filter(|x: &f64| x.is_finite()).map(Tok::Float).ok_or_else(|| {
                                ExprError { offset: start, message: format!("invalid number `{text}`") }
                            })?
                        }
                    }
                } else {
                    text.parse()
                        .map(Tok::Int)
                        .map_err(|_| ExprError { offset: start, message: format!("invalid number `{text}`") })?
                };
                out.push((tok, start));
            }
            b'`' => {
                i += 1;
                let s0 = i;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
                if i >= b.len() {
                    return Err(ExprError { offset: start, message: "unterminated quoted name".into() });
                }
                out.push((Tok::Ident(src[s0..i].to_string()), start));
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                    i += 1;
                }
                out.push((Tok::Ident(src[start..i].to_string()), start));
            }
            _ => {
                let two = src.get(i..i + 2).unwrap_or("");
                let op: &'static str = match two {
                    "<=" => "<=",
                    ">=" => ">=",
                    "!=" => "!=",
                    "<>" => "!=",
                    "==" => "=",
                    _ => match c {
                        b'=' => "=",
                        b'<' => "<",
                        b'>' => ">",
                        b'+' => "+",
                        b'-' => "-",
                        b'*' => "*",
                        b'/' => "/",
                        b'%' => "%",
                        // Only inside a cast's type (`STRUCT<a: INT>`).
                        b':' => ":",
                        _ => {
                            let ch = src[i..].chars().next().unwrap_or('?');
                            return Err(ExprError { offset: i, message: format!("unexpected character `{ch}`") });
                        }
                    },
                };
                i += op.len().min(if matches!(two, "<>" | "==") { 2 } else { op.len() });
                out.push((Tok::Op(op), start));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end: usize,
    /// The text parsed (a cast's type is taken from it as written).
    src: String,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(_, o)| *o)
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, ExprError> {
        Err(ExprError { offset: self.offset(), message: message.into() })
    }

    fn expr(&mut self, min_prec: u8) -> Result<Expr, ExprError> {
        let mut lhs = self.unary()?;
        loop {
            if min_prec <= 4
                && let Some(e) = self.postfix(&lhs)?
            {
                lhs = e;
                continue;
            }
            let (op, prec) = match self.peek() {
                Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("or") => (BinOp::Or, 1),
                Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("and") => (BinOp::And, 2),
                // `a DIV b`, Spark's integral division, of `*`'s precedence: the `div` function,
                // as the SQL front end lowers it.
                Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("div") && 6 >= min_prec => {
                    self.pos += 1;
                    let rhs = self.expr(7)?;
                    lhs = Expr::Call("div".into(), vec![lhs, rhs]);
                    continue;
                }
                Some(Tok::Op(o)) => match *o {
                    "=" => (BinOp::Eq, 4),
                    "!=" => (BinOp::Ne, 4),
                    "<" => (BinOp::Lt, 4),
                    "<=" => (BinOp::Le, 4),
                    ">" => (BinOp::Gt, 4),
                    ">=" => (BinOp::Ge, 4),
                    "+" => (BinOp::Add, 5),
                    "-" => (BinOp::Sub, 5),
                    "*" => (BinOp::Mul, 6),
                    "/" => (BinOp::Div, 6),
                    "%" => (BinOp::Mod, 6),
                    _ => break,
                },
                _ => break,
            };
            if prec < min_prec {
                break;
            }
            self.pos += 1;
            if matches!(op, BinOp::Add | BinOp::Sub) && self.keyword("interval") {
                // `t ± INTERVAL ..`: a day-time interval added to a timestamp, in µs (as the SQL
                // front end lowers it).
                let us = self.interval()?;
                lhs = Expr::Call("+interval".into(), vec![lhs, Expr::Int(if op == BinOp::Sub { -us } else { us })]);
                continue;
            }
            let rhs = self.expr(prec + 1)?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    /// `INTERVAL 1 HOUR`, `INTERVAL '90' MINUTE`, `INTERVAL 1.5 SECONDS`, `INTERVAL '1 day 2
    /// hours'`: the interval in µs (day-time intervals only).
    fn interval(&mut self) -> Result<i64, ExprError> {
        self.pos += 1;
        let unit_us = |u: &str| -> Option<f64> {
            let u = u.to_ascii_lowercase();
            let ms = match u.as_str() {
                "d" | "day" | "days" => 86_400_000,
                "us" | "microsecond" | "microseconds" => return Some(1.0),
                other => crate::duration::unit_ms(other)?,
            };
            Some(ms as f64 * 1000.0)
        };
        let text = match self.peek().cloned() {
            Some(Tok::Int(n)) => n.to_string(),
            Some(Tok::Float(x)) => x.to_string(),
            Some(Tok::Dec(d)) => d,
            Some(Tok::Str(s)) => s,
            _ => return self.err("expected a number or a string after `INTERVAL`"),
        };
        self.pos += 1;
        let mut words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        if let Some(Tok::Ident(u)) = self.peek()
            && unit_us(u).is_some()
        {
            words.push(u.clone());
            self.pos += 1;
        }
        let mut total = 0f64;
        for pair in words.chunks(2) {
            let (Some(n), Some(u)) =
                (pair.first().and_then(|n| n.parse::<f64>().ok()), pair.get(1).and_then(|u| unit_us(u)))
            else {
                return self.err(format!("cannot read the interval `{}`: write a day-time interval such as `INTERVAL 1 HOUR` or `INTERVAL '1 day 2 hours'`", text));
            };
            total += n * u;
        }
        Ok(total.round() as i64)
    }

    /// The predicates written after their operand, at the comparisons' precedence:
    /// `x IS [NOT] NULL`, `x [NOT] LIKE p`, `x [NOT] RLIKE p`, `x [NOT] IN (a, ...)`, `x [NOT] BETWEEN a AND b`
    /// (lowered as the SQL front end lowers them). None when none follows.
    fn postfix(&mut self, lhs: &Expr) -> Result<Option<Expr>, ExprError> {
        let at = self.pos;
        if self.keyword("is") {
            self.pos += 1;
            let not = self.keyword("not");
            if not {
                self.pos += 1;
            }
            if !self.keyword("null") {
                return self.err("expected `NULL` after `IS`");
            }
            self.pos += 1;
            return Ok(Some(Expr::Call(if not { "isnotnull" } else { "isnull" }.into(), vec![lhs.clone()])));
        }
        let not = self.keyword("not");
        if not {
            self.pos += 1;
        }
        let e = if self.keyword("like") || self.keyword("rlike") || self.keyword("regexp") {
            let f = if self.keyword("like") { "like" } else { "rlike" };
            self.pos += 1;
            Expr::Call(f.into(), vec![lhs.clone(), self.expr(5)?])
        } else if self.keyword("in") {
            self.pos += 1;
            if self.peek() != Some(&Tok::LParen) {
                return self.err("expected `(` after `IN`");
            }
            self.pos += 1;
            let mut any: Option<Expr> = None;
            loop {
                let eq = Expr::Binary(BinOp::Eq, Box::new(lhs.clone()), Box::new(self.expr(0)?));
                any = Some(match any {
                    Some(a) => Expr::Binary(BinOp::Or, Box::new(a), Box::new(eq)),
                    None => eq,
                });
                match self.peek() {
                    Some(Tok::Comma) => self.pos += 1,
                    Some(Tok::RParen) => break,
                    _ => return self.err("expected `,` or `)` in the `IN` list"),
                }
            }
            self.pos += 1;
            // The loop parsed one item at least before it could break.
            any.expect("an `IN` list has an item")
        } else if self.keyword("between") {
            self.pos += 1;
            let lo = self.expr(5)?;
            if !self.keyword("and") {
                return self.err("expected `AND` in `BETWEEN`");
            }
            self.pos += 1;
            let hi = self.expr(5)?;
            Expr::Binary(
                BinOp::And,
                Box::new(Expr::Binary(BinOp::Ge, Box::new(lhs.clone()), Box::new(lo))),
                Box::new(Expr::Binary(BinOp::Le, Box::new(lhs.clone()), Box::new(hi))),
            )
        } else {
            self.pos = at;
            return Ok(None);
        };
        Ok(Some(if not { Expr::Unary(UnOp::Not, Box::new(e)) } else { e }))
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Expr::Unary(UnOp::Not, Box::new(self.expr(3)?)));
        }
        if self.peek() == Some(&Tok::Op("-")) {
            self.pos += 1;
            return Ok(Expr::Unary(UnOp::Neg, Box::new(self.unary()?)));
        }
        let mut e = self.primary()?;
        // `a[i]`, `m['k']`.
        while self.peek() == Some(&Tok::LBracket) {
            self.pos += 1;
            let i = self.expr(0)?;
            if self.peek() != Some(&Tok::RBracket) {
                return self.err("expected `]`");
            }
            self.pos += 1;
            e = Expr::Call("[]".into(), vec![e, i]);
        }
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let Some((tok, _)) = self.toks.get(self.pos).cloned() else {
            return self.err("expected an expression, found the end of the text");
        };
        self.pos += 1;
        match tok {
            Tok::Int(i) => Ok(Expr::Int(i)),
            Tok::Float(x) => Ok(Expr::Float(x)),
            Tok::Dec(d) => {
                decimal_literal(&d).ok_or_else(|| ExprError { offset: 0, message: format!("invalid number `{d}`") })
            }
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::Op("*") => Ok(Expr::Star),
            Tok::LParen => {
                let e = self.expr(0)?;
                if self.peek() != Some(&Tok::RParen) {
                    return self.err("expected `)`");
                }
                self.pos += 1;
                Ok(e)
            }
            Tok::Ident(name) if name.eq_ignore_ascii_case("case") => self.case(),
            Tok::Ident(name)
                if (name.eq_ignore_ascii_case("cast") || name.eq_ignore_ascii_case("try_cast"))
                    && self.peek() == Some(&Tok::LParen) =>
            {
                self.pos += 1;
                let x = self.expr(0)?;
                if !self.keyword("as") {
                    return self.err("expected `AS` and a type in `CAST(x AS type)`");
                }
                self.pos += 1;
                // The type as written, up to the cast's `)`: `BIGINT`, `DECIMAL(5, 2)`,
                // `STRUCT<a: INT, b: ARRAY<STRING>>` (read by `ColTy::parse`).
                if !matches!(self.peek(), Some(Tok::Ident(_))) {
                    return self.err("expected a type name");
                }
                let (start, mut depth) = (self.offset(), 0usize);
                while let Some(t) = self.peek() {
                    match t {
                        Tok::RParen if depth == 0 => break,
                        Tok::LParen => depth += 1,
                        Tok::RParen => depth -= 1,
                        _ => {}
                    }
                    self.pos += 1;
                }
                if self.peek().is_none() {
                    return self.err("expected `)`");
                }
                let ty = self.src[start..self.offset()].trim().to_string();
                self.pos += 1;
                Ok(Expr::Call(name.to_ascii_lowercase(), vec![x, Expr::Str(ty)]))
            }
            Tok::Ident(name) => {
                if self.peek() == Some(&Tok::LParen) {
                    self.pos += 1;
                    let mut args = Vec::new();
                    if self.peek() != Some(&Tok::RParen) {
                        loop {
                            args.push(self.expr(0)?);
                            match self.peek() {
                                Some(Tok::Comma) => self.pos += 1,
                                Some(Tok::RParen) => break,
                                _ => return self.err("expected `,` or `)` in the arguments"),
                            }
                        }
                    }
                    self.pos += 1;
                    return Ok(Expr::Call(name.to_ascii_lowercase(), args));
                }
                match name.to_ascii_lowercase().as_str() {
                    "true" => Ok(Expr::Bool(true)),
                    "false" => Ok(Expr::Bool(false)),
                    "null" => Ok(Expr::Null),
                    _ => Ok(Expr::Column(name)),
                }
            }
            other => {
                self.pos -= 1;
                self.err(format!("expected an expression, found {}", describe(&other)))
            }
        }
    }
}

impl Parser {
    /// `CASE [x] WHEN c THEN v ... [ELSE e] END` after `CASE`: `case(c1, v1, ..., [e])`.
    fn case(&mut self) -> Result<Expr, ExprError> {
        let operand = if self.keyword("when") { None } else { Some(self.expr(0)?) };
        let mut args = Vec::new();
        while self.keyword("when") {
            self.pos += 1;
            let c = self.expr(0)?;
            args.push(match &operand {
                Some(o) => Expr::Binary(BinOp::Eq, Box::new(o.clone()), Box::new(c)),
                None => c,
            });
            if !self.keyword("then") {
                return self.err("expected `THEN`");
            }
            self.pos += 1;
            args.push(self.expr(0)?);
        }
        if args.is_empty() {
            return self.err("expected `WHEN` in `CASE`");
        }
        if self.keyword("else") {
            self.pos += 1;
            args.push(self.expr(0)?);
        }
        if !self.keyword("end") {
            return self.err("expected `END` to close `CASE`");
        }
        self.pos += 1;
        Ok(Expr::Call("case".into(), args))
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Str(s) => format!("'{s}'"),
        Tok::Int(i) => format!("`{i}`"),
        Tok::Float(x) => format!("`{x}`"),
        Tok::Dec(d) => format!("`{d}`"),
        Tok::Op(o) => format!("`{o}`"),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::LBracket => "`[`".into(),
        Tok::RBracket => "`]`".into(),
        Tok::Comma => "`,`".into(),
    }
}

/// Parses `expr [AS alias]`.
pub fn parse_aliased(src: &str) -> Result<(Expr, Option<String>), ExprError> {
    let toks = lex(src)?;
    let mut p = Parser { toks, pos: 0, end: src.len(), src: src.to_string() };
    let e = p.expr(0)?;
    let mut alias = None;
    if p.keyword("as") {
        p.pos += 1;
        match p.peek().cloned() {
            Some(Tok::Ident(a)) => {
                alias = Some(a);
                p.pos += 1;
            }
            _ => return p.err("expected a column name after `AS`"),
        }
    }
    if p.pos < p.toks.len() {
        return p.err(format!("unexpected {} after the expression", describe(&p.toks[p.pos].0)));
    }
    Ok((e, alias))
}

/// Parses an expression with no alias.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    match parse_aliased(src)? {
        (e, None) => Ok(e),
        (_, Some(_)) => Err(ExprError { offset: 0, message: "an alias (`AS`) is not allowed here".into() }),
    }
}

/// A decimal literal (`1.5`, `100`: digits and at most one `.`, no exponent) as a decimal of its
/// digits' precision and scale (`decimal(2,1)`), or None (more than 38 digits: Spark reads such
/// a literal as a double).
pub fn decimal_literal(number: &str) -> Option<Expr> {
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if int.is_empty() && frac.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = int.trim_start_matches('0');
    let scale = frac.len();
    let precision = (significant.len() + scale).max(1);
    if precision > 38 {
        return None;
    }
    let to = ColTy::Decimal(precision as u8, scale as u8);
    Some(Expr::Cast(Box::new(Expr::Str(number.to_string())), ColTy::String, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literals_unescape_as_spark() {
        assert_eq!(unescape(r"a\\d\'b''c\n\%\_\u0041\q"), "a\\d'b'c\n\\%\\_Aq");
        assert_eq!(parse(r"'\\d+'").unwrap(), Expr::Str(r"\d+".into()));
        assert_eq!(parse("'it''s'").unwrap(), Expr::Str("it's".into()));
        assert_eq!(parse(r"'it\'s'").unwrap(), Expr::Str("it's".into()));
    }

    #[test]
    fn parses_precedence_calls_and_aliases() {
        let (e, a) = parse_aliased("explode(split(value, ' ')) AS word").unwrap();
        assert_eq!(e.to_string(), "explode(split(value, ' '))");
        assert_eq!(a.as_deref(), Some("word"));
        assert_eq!(
            parse("a + 2 * 3 > 4 AND NOT b = 'x'").unwrap().to_string(),
            "(((a + (2 * 3)) > 4) AND (NOT (b = 'x')))"
        );
        assert_eq!(parse("window(timestamp, '10 minutes')").unwrap().to_string(), "window(timestamp, '10 minutes')");
        assert_eq!(parse("count(*)").unwrap(), Expr::Call("count".into(), vec![Expr::Star]));
        assert_eq!(parse("'it''s'").unwrap(), Expr::Str("it's".into()));
    }

    #[test]
    fn errors_have_offsets() {
        assert_eq!(parse("a +").unwrap_err().offset, 3);
        assert_eq!(parse("f(a b)").unwrap_err().offset, 4);
        assert_eq!(parse("'open").unwrap_err().offset, 0);
        assert_eq!(parse("a # b").unwrap_err().offset, 2);
    }
}

//! Spark's `format_string(fmt, args...)` (`printf`): Java's `Formatter` for the conversions
//! streamc takes (`%s %S %d %x %X %o %f %e %E %b %% %n`), with the flags `-`, `0`, `+`,
//! space and `,`, widths, precisions and `n$` argument indices. Numbers round as Java does:
//! HALF_UP on the shortest decimal form of a double. A NULL argument prints `null` (`false`
//! for `%b`). streamc checks the pattern against the arguments' types when it compiles (see
//! [`check`]), so formatting itself does not fail.

use super::scalar::round_double;

/// One argument of `format_string`.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Null,
    Str(&'a str),
    Long(i64),
    Double(f64),
    Bool(bool),
}

/// One conversion of a pattern: `%[index$][flags][width][.precision]conversion`.
#[derive(Debug, Clone, PartialEq)]
struct Spec {
    index: Option<usize>,
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    group: bool,
    width: usize,
    precision: Option<usize>,
    conv: char,
}

enum Piece<'p> {
    Text(&'p str),
    Spec(Spec),
}

fn parse(pattern: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while let Some(p) = rest.find('%') {
        if p > 0 {
            out.push(Piece::Text(&rest[..p]));
        }
        let b = &rest.as_bytes()[p + 1..];
        let mut i = 0;
        let digits = |i: &mut usize| {
            let s = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            std::str::from_utf8(&b[s..*i]).ok().and_then(|d| d.parse::<usize>().ok())
        };
        let mut spec = Spec {
            index: None,
            left: false,
            zero: false,
            plus: false,
            space: false,
            group: false,
            width: 0,
            precision: None,
            conv: ' ',
        };
        // `n$` first, if the digits are followed by `$`.
        let save = i;
        if let Some(n) = digits(&mut i) {
            if b.get(i) == Some(&b'$') {
                spec.index = Some(n);
                i += 1;
            } else {
                i = save;
            }
        }
        while let Some(&c) = b.get(i) {
            match c {
                b'-' => spec.left = true,
                b'0' => spec.zero = true,
                b'+' => spec.plus = true,
                b' ' => spec.space = true,
                b',' => spec.group = true,
                _ => break,
            }
            i += 1;
        }
        spec.width = digits(&mut i).unwrap_or(0);
        if b.get(i) == Some(&b'.') {
            i += 1;
            spec.precision = Some(digits(&mut i).ok_or_else(|| format!("a precision is missing in '{pattern}'"))?);
        }
        let conv = rest[p + 1 + i..].chars().next().ok_or_else(|| format!("'{pattern}' ends inside a conversion"))?;
        spec.conv = conv;
        if !"sSdxXofeEbn%".contains(conv) {
            return Err(format!("the conversion `%{conv}` in '{pattern}' is not supported by streamc yet"));
        }
        out.push(Piece::Spec(spec));
        rest = &rest[p + 1 + i + conv.len_utf8()..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

/// What a pattern needs of its arguments: for each argument position (0-based) the
/// conversions applied to it. Err with why the pattern is not one streamc formats.
pub fn check(pattern: &str) -> Result<Vec<Vec<char>>, String> {
    let mut uses: Vec<Vec<char>> = Vec::new();
    let mut next = 0;
    for piece in parse(pattern)? {
        let Piece::Spec(s) = piece else { continue };
        if s.conv == '%' || s.conv == 'n' {
            continue;
        }
        let k = match s.index {
            Some(0) => return Err(format!("argument indices start at 1 in '{pattern}'")),
            Some(n) => n - 1,
            None => {
                next += 1;
                next - 1
            }
        };
        if uses.len() <= k {
            uses.resize(k + 1, Vec::new());
        }
        uses[k].push(s.conv);
    }
    Ok(uses)
}

/// `format_string(pattern, args...)`; `None` for a pattern [`check`] refuses or too few
/// arguments (which streamc's check rules out). Generated code parses its literal pattern once,
/// as a [`Pattern`].
pub fn format_string(pattern: &str, args: &[Arg<'_>]) -> Option<String> {
    Pattern::parse(pattern)?.format(args)
}

/// A pattern parsed once: its text and conversions in order.
#[derive(Debug, Clone)]
pub struct Pattern {
    pieces: Vec<Owned>,
    /// The length of the pattern, for the output's first allocation.
    len: usize,
}

#[derive(Debug, Clone)]
enum Owned {
    Text(String),
    Spec(Spec),
}

impl Pattern {
    /// The pattern, or `None` if [`check`] refuses it.
    pub fn parse(pattern: &str) -> Option<Pattern> {
        let pieces = parse(pattern)
            .ok()?
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => Owned::Text(t.to_owned()),
                Piece::Spec(s) => Owned::Spec(s),
            })
            .collect();
        Some(Pattern { pieces, len: pattern.len() })
    }

    /// The pattern applied to `args`; `None` for too few arguments.
    pub fn format(&self, args: &[Arg<'_>]) -> Option<String> {
        let mut out = String::with_capacity(self.len + 8 * args.len());
        let mut next = 0;
        for piece in &self.pieces {
            match piece {
                Owned::Text(t) => out.push_str(t),
                Owned::Spec(s) => apply(s, args, &mut next, &mut out)?,
            }
        }
        Some(out)
    }
}

/// Appends conversion `s` of its argument (`next` counts the arguments taken in order); `None`
/// when the argument is missing.
fn apply(s: &Spec, args: &[Arg<'_>], next: &mut usize, out: &mut String) -> Option<()> {
    match s.conv {
        '%' => {
            pad(out, "%", s);
            return Some(());
        }
        'n' => {
            out.push('\n');
            return Some(());
        }
        _ => {}
    }
    let k = match s.index {
        Some(n) => n.checked_sub(1)?,
        None => {
            *next += 1;
            *next - 1
        }
    };
    let arg = *args.get(k)?;
    let text = convert(s, arg)?;
    pad(out, &text, s);
    Some(())
}

fn convert(s: &Spec, arg: Arg<'_>) -> Option<String> {
    Some(match (s.conv, arg) {
        ('b', Arg::Null) => "false".into(),
        ('b', Arg::Bool(b)) => b.to_string(),
        ('b', _) => "true".into(),
        // Java prints `null`, cut to the precision (`%.2f` of NULL is `nu`).
        (_, Arg::Null) => {
            let t: String = "null".chars().take(s.precision.unwrap_or(4)).collect();
            if s.conv == 'S' { t.to_uppercase() } else { t }
        }
        ('s' | 'S', a) => {
            let mut t = match a {
                Arg::Str(x) => x.to_string(),
                Arg::Long(n) => n.to_string(),
                Arg::Double(x) => {
                    let mut t = String::new();
                    crate::fmt::SparkFmt::spark_fmt(&x, &mut t);
                    t
                }
                Arg::Bool(b) => b.to_string(),
                Arg::Null => unreachable!("matched above"),
            };
            if let Some(p) = s.precision {
                t = t.chars().take(p).collect();
            }
            if s.conv == 'S' { t.to_uppercase() } else { t }
        }
        ('d', Arg::Long(n)) => signed(n < 0, &group(&n.unsigned_abs().to_string(), s.group), s),
        ('x', Arg::Long(n)) => format!("{n:x}"),
        ('X', Arg::Long(n)) => format!("{n:X}"),
        ('o', Arg::Long(n)) => format!("{n:o}"),
        ('f', Arg::Double(x)) => fixed(x, s),
        ('e' | 'E', Arg::Double(x)) => {
            let t = scientific(x, s.precision.unwrap_or(6));
            let t = signed(x.is_sign_negative() && x != 0.0, &t, s);
            if s.conv == 'E' { t.to_uppercase() } else { t }
        }
        _ => return None,
    })
}

/// `%f`: HALF_UP at the precision (6 by default) on the shortest decimal form, as Java.
fn fixed(x: f64, s: &Spec) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".into()
        } else if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let p = s.precision.unwrap_or(6);
    let r = round_double(x, p as i64);
    let digits = format!("{:.*}", p, r.abs());
    let (int, frac) = digits.split_once('.').unwrap_or((&digits, ""));
    let int = group(int, s.group);
    let body = if frac.is_empty() { int } else { format!("{int}.{frac}") };
    signed(x.is_sign_negative() && r != 0.0, &body, s)
}

/// `%e`: `d.ddde±xx`, the mantissa HALF_UP on the shortest digits.
fn scientific(x: f64, p: usize) -> String {
    if !x.is_finite() {
        return if x.is_nan() { "NaN".into() } else { "Infinity".into() };
    }
    if x == 0.0 {
        return format!("{:.*}e+00", p, 0.0);
    }
    let text = format!("{:e}", x.abs());
    let (m, e) = text.split_once('e').unwrap_or((&text, "0"));
    let (m, mut e) = (m.parse::<f64>().unwrap_or(0.0), e.parse::<i32>().unwrap_or(0));
    let mut r = round_double(m, p as i64);
    if r >= 10.0 {
        r /= 10.0;
        e += 1;
    }
    let sign = if e < 0 { '-' } else { '+' };
    format!("{:.*}e{sign}{:02}", p, r, e.abs())
}

fn group(int: &str, on: bool) -> String {
    if !on {
        return int.to_string();
    }
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A number's sign as the flags ask, then the zero padding to the width.
fn signed(negative: bool, body: &str, s: &Spec) -> String {
    let sign = if negative {
        "-"
    } else if s.plus {
        "+"
    } else if s.space {
        " "
    } else {
        ""
    };
    if s.zero && !s.left && sign.len() + body.len() < s.width {
        format!("{sign}{}{body}", "0".repeat(s.width - sign.len() - body.len()))
    } else {
        format!("{sign}{body}")
    }
}

fn pad(out: &mut String, text: &str, s: &Spec) {
    let n = text.chars().count();
    if n >= s.width {
        out.push_str(text);
    } else if s.left {
        out.push_str(text);
        out.extend(std::iter::repeat_n(' ', s.width - n));
    } else {
        out.extend(std::iter::repeat_n(' ', s.width - n));
        out.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Java's `String.format` answers, as Spark's `format_string` gave them.
    #[test]
    fn formats_as_java() {
        let f = |p: &str, a: &[Arg<'_>]| format_string(p, a).unwrap();
        assert_eq!(
            f(
                "%s-%d-%5.2f|%-6s|%05d|%x|%%|%S|%10.3e",
                &[
                    Arg::Str("a"),
                    Arg::Long(42),
                    Arg::Double(3.14659),
                    Arg::Str("ab"),
                    Arg::Long(7),
                    Arg::Long(255),
                    Arg::Str("up"),
                    Arg::Double(12345.678)
                ]
            ),
            "a-42- 3.15|ab    |00007|ff|%|UP| 1.235e+04"
        );
        assert_eq!(f("%s %s", &[Arg::Str("a"), Arg::Null]), "a null");
        assert_eq!(f("%d", &[Arg::Null]), "null");
        assert_eq!(f("%b %o", &[Arg::Bool(true), Arg::Long(8)]), "true 10");
        assert_eq!(f("%08.3f|%5d|%.2f", &[Arg::Null, Arg::Null, Arg::Null]), "     nul| null|nu");
        assert_eq!(f("%,d", &[Arg::Long(1234567)]), "1,234,567");
        assert_eq!(f("%2$s %1$s", &[Arg::Str("a"), Arg::Str("b")]), "b a");
        assert_eq!(f("%.3s|%8.3f|%+d", &[Arg::Str("abcdef"), Arg::Double(-1.23456), Arg::Long(5)]), "abc|  -1.235|+5");
        assert_eq!(f("%.1f %f", &[Arg::Double(0.05), Arg::Double(1.0 / 3.0)]), "0.1 0.333333");
        assert!(check("%q").is_err());
        assert_eq!(check("%2$s %1$d %s").unwrap(), [vec!['d', 's'], vec!['s']]);
    }
}

//! Spark's regular-expression functions (`regexp_extract`, `regexp_replace`, `RLIKE`) over the
//! regex crate (the runtime's `regex` feature). Patterns are literals that streamc checked at
//! compile time; generated code compiles each once per process ([`compiled`]). Java's and the
//! regex crate's syntax agree on what streamc accepts (no backreferences or lookaround, which
//! the crate does not have and streamc refuses).

pub use regex::Regex;
use std::borrow::Cow;
use std::sync::OnceLock;

/// The compiled `pattern`, kept in `slot` (a `static` of the generated code).
///
/// # Panics
/// If the pattern does not compile, which streamc's check rules out.
pub fn compiled<'a>(slot: &'a OnceLock<Regex>, pattern: &str) -> &'a Regex {
    slot.get_or_init(|| Regex::new(&java_classes(pattern)).expect("streamc checked the pattern"))
}

/// Java's `\d \w \s` (and `\D \W \S`) are ASCII classes; the regex crate's are Unicode's:
/// they are spelled out as Java means them.
///
/// ```
/// use streamc_runtime::structured::regexp::java_classes;
/// assert_eq!(java_classes(r"\d+\\d[\w]"), r"[0-9]+\\d[[0-9A-Za-z_]]");
/// ```
pub fn java_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('d') => out.push_str("[0-9]"),
            Some('D') => out.push_str("[^0-9]"),
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('W') => out.push_str("[^0-9A-Za-z_]"),
            Some('s') => out.push_str("[\\t\\n\\x0B\\f\\r ]"),
            Some('S') => out.push_str("[^\\t\\n\\x0B\\f\\r ]"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// `s RLIKE pattern`: whether the pattern matches anywhere in `s` (Java's `find`).
pub fn rlike(s: &str, re: &Regex) -> bool {
    re.is_match(s)
}

/// `regexp_extract(s, pattern, idx)`: group `idx` (0: the whole match) of the first match,
/// `""` when nothing matches or the group took no part; Err with Spark's message when the
/// pattern has fewer groups.
///
/// ```
/// use std::sync::OnceLock;
/// use streamc_runtime::structured::regexp::{compiled, regexp_extract};
/// static RE: OnceLock<regex::Regex> = OnceLock::new();
/// let re = compiled(&RE, "(\\d+)-(\\d+)");
/// assert_eq!(regexp_extract("100-200", re, 2).unwrap(), "200");
/// assert_eq!(regexp_extract("none", re, 1).unwrap(), "");
/// assert!(regexp_extract("1-2", re, 3).is_err());
/// ```
pub fn regexp_extract<'a>(s: &'a str, re: &Regex, idx: i64) -> Result<Cow<'a, str>, String> {
    let groups = re.captures_len() as i64 - 1;
    if idx < 0 || idx > groups {
        return Err(format!(
            "[INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX] The value of parameter(s) `idx` in `regexp_extract` is invalid: Expects group index between 0 and {groups}, but got {idx}. SQLSTATE: 22023"
        ));
    }
    Ok(match re.captures(s) {
        Some(c) => c.get(idx as usize).map_or(Cow::Borrowed(""), |m| Cow::Borrowed(m.as_str())),
        None => Cow::Borrowed(""),
    })
}

/// `regexp_replace(s, pattern, replacement)`: every match replaced; the replacement is Java's:
/// `$n` is group `n`, `\x` is `x`.
///
/// ```
/// use std::sync::OnceLock;
/// use streamc_runtime::structured::regexp::{compiled, regexp_replace};
/// static RE: OnceLock<regex::Regex> = OnceLock::new();
/// let re = compiled(&RE, "(a)(b)?");
/// assert_eq!(regexp_replace("xaby a", re, "[$1$2]"), "x[ab]y [a]");
/// assert_eq!(regexp_replace("ab", re, "\\$1a"), "$1a");
/// ```
pub fn regexp_replace<'a>(s: &'a str, re: &Regex, replacement: &str) -> Cow<'a, str> {
    re.replace_all(s, |c: &regex::Captures<'_>| {
        let mut out = String::new();
        let mut it = replacement.chars().peekable();
        while let Some(ch) = it.next() {
            match ch {
                '\\' => out.extend(it.next()),
                '$' if it.peek().is_some_and(char::is_ascii_digit) => {
                    // Java takes as many digits as still name a group.
                    let mut n = 0usize;
                    while let Some(d) = it.peek().and_then(|d| d.to_digit(10)) {
                        let m = n * 10 + d as usize;
                        if m >= c.len() && n != 0 {
                            break;
                        }
                        n = m;
                        it.next();
                    }
                    out.push_str(c.get(n).map_or("", |m| m.as_str()));
                }
                ch => out.push(ch),
            }
        }
        out
    })
}

/// `split(s, pattern, limit)`: Java's `String.split(regex, limit)`, as Spark runs it: with
/// `limit > 0` at most `limit` pieces (the last holds the rest), otherwise every piece, trailing
/// empty ones kept; a match of width zero at the start makes no empty first piece.
///
/// ```
/// use streamc_runtime::structured::regexp::{Regex, split};
/// let re = Regex::new("[,;]").unwrap();
/// let s = |x: Vec<Option<String>>| x.into_iter().map(Option::unwrap).collect::<Vec<_>>();
/// assert_eq!(s(split("a,b;;c,", &re, -1)), ["a", "b", "", "c", ""]);
/// assert_eq!(s(split("a,b;;c,", &re, 2)), ["a", "b;;c,"]);
/// assert_eq!(s(split("abc", &Regex::new("").unwrap(), -1)), ["a", "b", "c", ""]);
/// assert_eq!(s(split(",a", &re, -1)), ["", "a"]);
/// ```
pub fn split(s: &str, re: &Regex, limit: i64) -> Vec<Option<String>> {
    let mut out = Vec::new();
    let mut last = 0;
    for m in re.find_iter(s) {
        if limit > 0 && out.len() as i64 >= limit - 1 {
            break;
        }
        if m.end() == 0 {
            continue;
        }
        out.push(Some(s[last..m.start()].to_string()));
        last = m.end();
    }
    out.push(Some(s[last..].to_string()));
    out
}

//! Spark's string functions where they differ from Rust's: `trim` removes the space character
//! (U+0020) only, or the characters of a given set, never other whitespace.

use std::borrow::Cow;

/// Which ends [`trim`] strips.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Both,
    Leading,
    Trailing,
}

/// Spark's `trim`/`ltrim`/`rtrim` and SQL `TRIM([BOTH|LEADING|TRAILING] [chars] FROM s)`: strips
/// every character of `chars` (a space when `None`) from the chosen ends. Borrows from `s`
/// where `s` is borrowed: no allocation per row.
///
/// ```
/// use std::borrow::Cow;
/// use streamc_runtime::structured::text::{Side, trim};
/// assert_eq!(trim(Cow::Borrowed("\tstorm  "), None, Side::Both), "\tstorm");
/// assert_eq!(trim(Cow::Borrowed("xxyxaxyx"), Some("xy"), Side::Leading), "axyx");
/// assert!(matches!(trim(Cow::Borrowed("  a "), None, Side::Trailing), Cow::Borrowed("  a")));
/// ```
pub fn trim<'a>(s: Cow<'a, str>, chars: Option<&str>, side: Side) -> Cow<'a, str> {
    let strip = |t: &str| -> (usize, usize) {
        let set = |c: char| match chars {
            None => c == ' ',
            Some(set) => set.contains(c),
        };
        let start = match side {
            Side::Trailing => 0,
            _ => t.len() - t.trim_start_matches(set).len(),
        };
        let end = match side {
            Side::Leading => t.len(),
            _ => t.trim_end_matches(set).len().max(start),
        };
        (start, end)
    };
    match s {
        Cow::Borrowed(b) => {
            let (start, end) = strip(b);
            Cow::Borrowed(&b[start..end])
        }
        Cow::Owned(mut o) => {
            let (start, end) = strip(&o);
            o.truncate(end);
            o.drain(..start);
            Cow::Owned(o)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_given_characters_go() {
        let t = |s: &str, chars, side| trim(Cow::Owned(s.to_string()), chars, side).into_owned();
        assert_eq!(t("\n y\n", None, Side::Both), "\n y\n");
        assert_eq!(t(" \u{a0}z\u{a0} ", None, Side::Both), "\u{a0}z\u{a0}");
        assert_eq!(t("xxyxaxyx", Some("x"), Side::Both), "yxaxy");
        assert_eq!(t("xxyxaxyx", Some("x"), Side::Trailing), "xxyxaxy");
        assert_eq!(t("  x  ", Some("x "), Side::Both), "");
        assert_eq!(t("", None, Side::Both), "");
        assert_eq!(t("   ", None, Side::Leading), "");
    }
}

/// The pieces of `s` between the matches of the literal `pat` (`explode(split(s, pat))`, every
/// empty piece kept, as `str::split`), for rows that outlive `s`'s evaluation: pieces of
/// borrowed text are borrowed, pieces of text an expression made are copied (that text is gone
/// after the element).
///
/// ```
/// use std::borrow::Cow;
/// use streamc_runtime::structured::text::pieces;
/// let got: Vec<Cow<str>> = pieces(Cow::Borrowed("a b "), " ").collect();
/// assert_eq!(got, ["a", "b", ""]);
/// assert!(got.iter().all(|p| matches!(p, Cow::Borrowed(_))));
/// let made: Vec<Cow<str>> = pieces(Cow::Owned("x,y".to_owned()), ",").collect();
/// assert_eq!(made, ["x", "y"]);
/// ```
pub fn pieces<'a>(s: Cow<'a, str>, pat: &'a str) -> Pieces<'a> {
    match s {
        Cow::Borrowed(b) => Pieces::Borrowed(b.split(pat)),
        Cow::Owned(o) => {
            let base = o.as_ptr() as usize;
            let ranges: Vec<(usize, usize)> = o.split(pat).map(|p| (p.as_ptr() as usize - base, p.len())).collect();
            Pieces::Owned(o, ranges.into_iter())
        }
    }
}

/// The iterator of [`pieces`].
#[derive(Debug)]
pub enum Pieces<'a> {
    Borrowed(std::str::Split<'a, &'a str>),
    /// The text, and each piece's start and length in it.
    Owned(String, std::vec::IntoIter<(usize, usize)>),
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Cow<'a, str>;

    #[inline]
    fn next(&mut self) -> Option<Cow<'a, str>> {
        match self {
            Pieces::Borrowed(split) => split.next().map(Cow::Borrowed),
            Pieces::Owned(text, ranges) => ranges.next().map(|(at, len)| Cow::Owned(text[at..at + len].to_owned())),
        }
    }
}

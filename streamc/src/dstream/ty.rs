//! Element types as the checker sees them: scalars, tuples, borrowed text, opaque Rust types
//! written by the user, and `Unknown` (left to rustc, which checks it through generated bounds).

use std::fmt;

/// The type of a stream's elements.
#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    /// `&str`: a line of a text source, or a piece of one (zero-copy, lives for one batch).
    Str,
    String,
    Bool,
    Char,
    Int(&'static str),
    Float(&'static str),
    Tuple(Vec<Ty>),
    /// Any other Rust type the user wrote, as text.
    Rust(String),
    /// Not known before rustc runs.
    Unknown,
}

const INTS: &[&str] = &["i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize"];

impl Ty {
    /// Reads a type from the user's syntax.
    pub fn from_syn(ty: &syn::Type) -> Ty {
        match ty {
            syn::Type::Reference(r) => match &*r.elem {
                syn::Type::Path(p) if p.path.is_ident("str") => Ty::Str,
                _ => Ty::rust(&quote::ToTokens::to_token_stream(ty).to_string()),
            },
            syn::Type::Tuple(t) => Ty::Tuple(t.elems.iter().map(Ty::from_syn).collect()),
            syn::Type::Paren(p) => Ty::from_syn(&p.elem),
            syn::Type::Path(p) if p.qself.is_none() => {
                let Some(ident) = p.path.get_ident() else {
                    return Ty::rust(&quote::ToTokens::to_token_stream(ty).to_string());
                };
                let s = ident.to_string();
                match s.as_str() {
                    "String" => Ty::String,
                    "bool" => Ty::Bool,
                    "char" => Ty::Char,
                    "f32" => Ty::Float("f32"),
                    "f64" => Ty::Float("f64"),
                    _ => match INTS.iter().find(|i| **i == s) {
                        Some(i) => Ty::Int(i),
                        None => Ty::Rust(s),
                    },
                }
            }
            syn::Type::Infer(_) => Ty::Unknown,
            _ => Ty::rust(&quote::ToTokens::to_token_stream(ty).to_string()),
        }
    }

    /// A Rust type written as text, in one spelling whatever the spacing (`Vec < i32 >`, as
    /// tokens print, and `Vec<i32>` are both `Vec<i32>`): no space but between two words and
    /// after a comma, so that types are compared as types, not as text.
    pub fn rust(text: &str) -> Ty {
        let mut out = String::with_capacity(text.len());
        let mut gap = false;
        let word = |c: char| c.is_alphanumeric() || c == '_' || c == '\'';
        for c in text.chars() {
            if c.is_whitespace() {
                gap = true;
                continue;
            }
            if gap && out.chars().last().is_some_and(word) && word(c) {
                out.push(' ');
            }
            gap = false;
            out.push(c);
            if c == ',' {
                out.push(' ');
                gap = false;
            }
        }
        // `(a, )` and `<a, >`: no space before a closing bracket.
        let out = out.replace(", )", ",)").replace(", >", ",>").replace(", ]", ",]");
        Ty::Rust(out.trim_end().to_string())
    }

    pub fn is_known(&self) -> bool {
        match self {
            Ty::Unknown => false,
            Ty::Tuple(parts) => parts.iter().all(Ty::is_known),
            _ => true,
        }
    }

    /// The type as kept across batches: borrowed text becomes `String`.
    pub fn owned(&self) -> Ty {
        match self {
            Ty::Str => Ty::String,
            Ty::Tuple(parts) => Ty::Tuple(parts.iter().map(Ty::owned).collect()),
            other => other.clone(),
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int(_) | Ty::Float(_))
    }

    /// Whether two types may be the same: unknown parts match anything.
    pub fn compatible(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Unknown, _) | (_, Ty::Unknown) => true,
            (Ty::Tuple(a), Ty::Tuple(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.compatible(y)),
            // `_` inside a type the checker built (`Vec<_>`) stands for any type.
            (Ty::Rust(a), Ty::Rust(b)) => wildcard_eq(a.as_bytes(), b.as_bytes()),
            (a, b) => a == b,
        }
    }

    /// Whether values of this type can be keys (`Hash + Eq`), as far as the checker can tell.
    pub fn hashable(&self) -> bool {
        match self {
            Ty::Float(_) => false,
            Ty::Tuple(parts) => parts.iter().all(Ty::hashable),
            _ => true,
        }
    }
}

/// Whether two canonical type texts are equal where a `_` on either side matches one whole type
/// on the other (up to the next `,` or closing bracket at its depth).
fn wildcard_eq(a: &[u8], b: &[u8]) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let is_hole =
        |s: &[u8], i: usize| s[i] == b'_' && (i == 0 || !word(s[i - 1])) && s.get(i + 1).is_none_or(|&c| !word(c));
    // The end of the type starting at `i`.
    let skip = |s: &[u8], mut i: usize| {
        let mut depth = 0i32;
        while i < s.len() {
            match s[i] {
                b'<' | b'(' | b'[' => depth += 1,
                b'>' | b')' | b']' if depth == 0 => break,
                b'>' | b')' | b']' => depth -= 1,
                b',' if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
        i
    };
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if is_hole(a, i) {
            (i, j) = (i + 1, skip(b, j));
        } else if is_hole(b, j) {
            (i, j) = (skip(a, i), j + 1);
        } else if a[i] == b[j] {
            (i, j) = (i + 1, j + 1);
        } else {
            return false;
        }
    }
    i == a.len() && j == b.len()
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Str => f.write_str("&str"),
            Ty::String => f.write_str("String"),
            Ty::Bool => f.write_str("bool"),
            Ty::Char => f.write_str("char"),
            Ty::Int(s) | Ty::Float(s) => f.write_str(s),
            Ty::Tuple(parts) => {
                f.write_str("(")?;
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{p}")?;
                }
                if parts.len() == 1 {
                    f.write_str(",")?;
                }
                f.write_str(")")
            }
            Ty::Rust(s) => f.write_str(s),
            Ty::Unknown => f.write_str("_"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_types_compare_as_types_not_text() {
        let syn_ty = |s: &str| Ty::from_syn(&syn::parse_str::<syn::Type>(s).expect("a type"));
        assert_eq!(syn_ty("Vec<i32>"), Ty::rust("Vec<i32>"));
        assert_eq!(syn_ty("Vec<(i32, String)>"), Ty::rust("Vec<(i32,String)>"));
        assert_eq!(syn_ty("&[i64]"), Ty::rust("&[i64]"));
        assert_eq!(syn_ty("& 'a [u8]"), Ty::rust("&'a [u8]"));
        assert_eq!(syn_ty("Box<dyn Fn(i32) -> i32>"), Ty::rust("Box<dyn Fn(i32)->i32>"));
        assert!(syn_ty("Vec<i32>").compatible(&Ty::rust("Vec<_>")));
        assert!(Ty::rust("HashMap<_, Vec<_>>").compatible(&syn_ty("HashMap<String, Vec<(i64, i64)>>")));
        assert!(!syn_ty("Vec<i32>").compatible(&Ty::rust("Vec<i64>")));
        assert!(!Ty::rust("Vec<_>").compatible(&Ty::rust("Option<_>")));
        assert!(!Ty::rust("Vec<my_type>").compatible(&Ty::rust("Vec<my_typ_>")));
    }
}

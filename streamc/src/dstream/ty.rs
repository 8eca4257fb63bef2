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
                _ => Ty::Rust(quote::ToTokens::to_token_stream(ty).to_string()),
            },
            syn::Type::Tuple(t) => Ty::Tuple(t.elems.iter().map(Ty::from_syn).collect()),
            syn::Type::Paren(p) => Ty::from_syn(&p.elem),
            syn::Type::Path(p) if p.qself.is_none() => {
                let Some(ident) = p.path.get_ident() else {
                    return Ty::Rust(quote::ToTokens::to_token_stream(ty).to_string());
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
            _ => Ty::Rust(quote::ToTokens::to_token_stream(ty).to_string()),
        }
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

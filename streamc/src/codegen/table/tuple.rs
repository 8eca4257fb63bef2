//! Tuples of any width in generated code. Keys and accumulators of keyed state are tuples, and
//! the traits they need (std's `Hash`/`Eq`/`Clone`, the runtime's `Persist` and `IntoOwned`)
//! stop at 12 components; a wider tuple nests: its components are grouped 12 at a time, the
//! groups again, until at most 12 remain at the top. [`nest`] builds such a tuple (a value, a
//! type or a pattern) and [`path`] names component `i` in it (`key.#path`).

use proc_macro2::TokenStream;
use quote::quote;

/// The most components of one tuple level.
pub(super) const WIDTH: usize = 12;

/// The tuple of `items` (value, type or pattern), nested where wider than [`WIDTH`].
pub(super) fn nest(mut items: Vec<TokenStream>) -> TokenStream {
    while items.len() > WIDTH {
        items = items.chunks(WIDTH).map(|c| quote!((#(#c,)*))).collect();
    }
    quote!((#(#items,)*))
}

/// The field path of component `i` of a [`nest`]ed tuple of `n` components: `3`, or `1.2` in
/// a nested one, for `tuple.#path`.
pub(super) fn path(i: usize, n: usize) -> TokenStream {
    assert!(i < n, "component {i} of a tuple of {n}");
    let mut levels = 0;
    let mut top = n;
    while top > WIDTH {
        top = top.div_ceil(WIDTH);
        levels += 1;
    }
    let mut parts = Vec::with_capacity(levels + 1);
    for level in (0..=levels).rev() {
        let step = WIDTH.pow(level as u32);
        let at = if level == levels { i / step } else { (i / step) % WIDTH };
        parts.push(syn::Index::from(at));
    }
    quote!(#(#parts).*)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: TokenStream) -> String {
        t.to_string().replace(' ', "")
    }

    #[test]
    fn narrow_tuples_stay_flat() {
        let items: Vec<TokenStream> = (0..3).map(|i| quote!(x #i)).collect();
        assert_eq!(text(nest(items)), "(x0i32,x1i32,x2i32,)");
        assert_eq!(text(path(2, 3)), "2");
        assert_eq!(text(path(11, 12)), "11");
    }

    #[test]
    fn every_component_of_a_wide_tuple_is_found_by_its_path() {
        // A nested tuple is checked by evaluating each path against the structure it builds.
        for n in [1, 12, 13, 24, 25, 64, 144, 145, 300] {
            let items: Vec<TokenStream> = (0..n).map(|i| quote!(#i)).collect();
            let tree = parse(&text(nest(items)));
            for i in 0..n {
                let mut at = &tree;
                for step in text(path(i, n)).split('.') {
                    let k: usize = step.parse().unwrap();
                    let Tree::Tuple(parts) = at else { panic!("path of {i} in {n} goes through a leaf") };
                    assert!(parts.len() <= WIDTH, "a level of {} components", parts.len());
                    at = &parts[k];
                }
                assert_eq!(*at, Tree::Leaf(format!("{i}usize")), "component {i} of {n}");
            }
        }
    }

    #[derive(Debug, PartialEq)]
    enum Tree {
        Leaf(String),
        Tuple(Vec<Tree>),
    }

    /// Reads back `(a,(b,c,),)` as written by `nest` (spaces removed).
    fn parse(s: &str) -> Tree {
        fn go(s: &[u8], at: &mut usize) -> Tree {
            if s[*at] == b'(' {
                *at += 1;
                let mut parts = Vec::new();
                while s[*at] != b')' {
                    parts.push(go(s, at));
                    assert_eq!(s[*at], b',');
                    *at += 1;
                }
                *at += 1;
                Tree::Tuple(parts)
            } else {
                let start = *at;
                while s[*at] != b',' && s[*at] != b')' {
                    *at += 1;
                }
                Tree::Leaf(String::from_utf8(s[start..*at].to_vec()).unwrap())
            }
        }
        go(s.as_bytes(), &mut 0)
    }
}

//! Nested values in generated code: between the expression form of a value (strings as
//! `Option<Cow<str>>`, borrowed from the batch where they can be) and the owned form inside
//! arrays, maps and structs (`Option<String>`), and reading them from JSON.

use crate::codegen::emit::rt;
use crate::table::ColTy;
use crate::table::functions::struct_ident;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// A value of type `ty` taken out of a nested value (`Option<owned>`) in expression form.
pub(super) fn lift(ty: ColTy, code: TokenStream) -> TokenStream {
    crate::table::functions::lift(ty, code)
}

/// Code reading the JSON value `json` (a `structured::json::Json`) as a column of `ty`: a
/// `Result<Option<T>, ()>` (`Err`: the value does not fit the type). `owned`: strings as
/// `String` (inside nested values) rather than borrowed `Cow`s.
pub(super) fn conv(ty: ColTy, json: TokenStream, owned: bool) -> TokenStream {
    conv_fields(ty, json, owned, false)
}

/// [`conv`]; with `partial`, a struct's field of the wrong type is NULL rather than making the
/// whole value not fit (`from_json`'s partial results).
pub(super) fn conv_fields(ty: ColTy, json: TokenStream, owned: bool, partial: bool) -> TokenStream {
    let rt = rt();
    let nested = quote!(#rt::structured::nested);
    let scalar = |f: &str| {
        let f = Ident::new(f, Span::call_site());
        quote!(#rt::structured::conv::#f(#json))
    };
    match ty {
        ColTy::String if owned => quote!(#nested::string(#json)),
        ColTy::String => scalar("string"),
        ColTy::Bool => scalar("boolean"),
        ColTy::Byte => scalar("byte"),
        ColTy::Short => scalar("short"),
        ColTy::Int => scalar("int"),
        ColTy::Long => scalar("long"),
        ColTy::Float => scalar("float"),
        ColTy::Double => scalar("double"),
        ColTy::Timestamp => scalar("timestamp"),
        ColTy::Date => scalar("date"),
        ColTy::Binary => quote!(#rt::structured::binary::conv(#json)),
        ColTy::Void => quote!(#rt::structured::void::conv(#json)),
        ColTy::Decimal(p, s) => {
            let (p, s) = (proc_macro2::Literal::u8_unsuffixed(p), proc_macro2::Literal::u8_unsuffixed(s));
            quote!(#rt::structured::decimal::conv::<#p, #s>(#json))
        }
        ColTy::Array(e) => {
            let each = conv(*e, quote!(element), true);
            quote!(#nested::array(#json, |element| #each))
        }
        ColTy::Map((k, v)) => {
            let key = conv(*k, quote!(#rt::structured::json::Json::Str(::std::borrow::Cow::Borrowed(key))), true);
            let value = conv(*v, quote!(value), true);
            quote!(#nested::map(#json, |key: &str| #key, |value| #value))
        }
        ColTy::Struct(fields) => {
            let name = struct_ident(fields);
            let keys: Vec<&str> = fields.iter().map(|f| f.name).collect();
            let slots = crate::table::functions::struct_fields(fields);
            let arms = fields.iter().zip(slots).enumerate().map(|(k, (f, slot))| {
                let read = conv(f.ty, quote!(value.json()?), true);
                if partial {
                    quote!(#k => s.#slot = #read.unwrap_or(::core::option::Option::None),)
                } else {
                    quote!(#k => s.#slot = #read.map_err(|()| #rt::structured::json::mismatch())?,)
                }
            });
            quote!(#nested::object(#json, |text| {
                let mut s = #name::default();
                #rt::structured::json::scan_fields(text, &[#(#keys),*], |k, value| {
                    match k {
                        #(#arms)*
                        _ => {}
                    }
                    ::core::result::Result::Ok(())
                })?;
                ::core::result::Result::Ok(s)
            }))
        }
    }
}

//! How records are written: Scala's `toString` (what Spark prints and saves) and JSON (the
//! machine-readable jsonl output).

use std::fmt::Write as _;

/// Formats a value as Scala's `toString` does, which is what Spark's `print` and
/// `saveAsTextFiles` write: strings raw, tuples as `(word,3)`, `Some(x)`/`None`, doubles as Java's
/// `Double.toString`, a grouped `Vec` as `CompactBuffer(a, b)`.
pub trait SparkFmt {
    /// Appends the text of `self` to `out`.
    fn spark_fmt(&self, out: &mut String);
}

/// Formats a value as JSON: strings escaped, tuples as arrays, `None` as `null`, non-finite
/// floats as Spark writes them (`"NaN"`, `"Infinity"`, `"-Infinity"`).
pub trait ToJson {
    /// Appends the JSON text of `self` to `out`.
    fn to_json(&self, out: &mut String);
}

/// A value an output operator can write: both of the formats above.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be written by an output operator",
    label = "written by an output operator here",
    note = "implement `streamc_runtime::SparkFmt` and `streamc_runtime::ToJson` for it"
)]
pub trait Record: SparkFmt + ToJson {}

impl<T: SparkFmt + ToJson + ?Sized> Record for T {}

// ----- references and strings ---------------------------------------------------------------

impl<T: SparkFmt + ?Sized> SparkFmt for &T {
    #[inline]
    fn spark_fmt(&self, out: &mut String) {
        (**self).spark_fmt(out)
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    #[inline]
    fn to_json(&self, out: &mut String) {
        (**self).to_json(out)
    }
}

impl<T: SparkFmt + ?Sized> SparkFmt for Box<T> {
    fn spark_fmt(&self, out: &mut String) {
        (**self).spark_fmt(out)
    }
}

impl<T: ToJson + ?Sized> ToJson for Box<T> {
    fn to_json(&self, out: &mut String) {
        (**self).to_json(out)
    }
}

impl SparkFmt for str {
    #[inline]
    fn spark_fmt(&self, out: &mut String) {
        out.push_str(self)
    }
}

impl ToJson for str {
    fn to_json(&self, out: &mut String) {
        json_string(self, out)
    }
}

impl SparkFmt for String {
    #[inline]
    fn spark_fmt(&self, out: &mut String) {
        out.push_str(self)
    }
}

impl ToJson for String {
    fn to_json(&self, out: &mut String) {
        json_string(self, out)
    }
}

/// Text a row borrows from its batch (or owns, when an expression made it).
impl SparkFmt for std::borrow::Cow<'_, str> {
    #[inline]
    fn spark_fmt(&self, out: &mut String) {
        out.push_str(self)
    }
}

impl ToJson for std::borrow::Cow<'_, str> {
    fn to_json(&self, out: &mut String) {
        json_string(self, out)
    }
}

impl SparkFmt for char {
    fn spark_fmt(&self, out: &mut String) {
        out.push(*self)
    }
}

impl ToJson for char {
    fn to_json(&self, out: &mut String) {
        json_string(self.encode_utf8(&mut [0; 4]), out)
    }
}

/// Appends `s` as a JSON string literal: `"` and `\` escaped, the common control characters as
/// their short escapes, every other control character as `\u00XX`.
pub fn json_string(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f | 0x7f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

// ----- scalars ------------------------------------------------------------------------------

macro_rules! integers {
    ($($t:ty)*) => {$(
        impl SparkFmt for $t {
            #[inline]
            fn spark_fmt(&self, out: &mut String) {
                out.push_str(itoa::Buffer::new().format(*self));
            }
        }
        impl ToJson for $t {
            #[inline]
            fn to_json(&self, out: &mut String) {
                out.push_str(itoa::Buffer::new().format(*self));
            }
        }
    )*};
}

integers!(i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize);

impl SparkFmt for bool {
    fn spark_fmt(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" })
    }
}

impl ToJson for bool {
    fn to_json(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" })
    }
}

impl SparkFmt for () {
    fn spark_fmt(&self, out: &mut String) {
        out.push_str("()")
    }
}

impl ToJson for () {
    fn to_json(&self, out: &mut String) {
        out.push_str("null")
    }
}

/// Appends a float as Java's `Double.toString`/`Float.toString`: `sci` is Rust's shortest
/// round-trip scientific form (`{:e}`, e.g. `1.2345e3`), which has the same digits Java (19+)
/// prints, except that Java never prints fewer than two significant digits and picks the
/// two-digit decimal closest to the exact value (`4.9E-324`, not `5.0E-324`): the caller passes
/// `{:.1e}` for those. Only the layout differs otherwise. Java writes plain decimals for 1e-3 <= |x| < 1e7 (always
/// with a fractional digit: `100.0`) and `d.dddE<n>` otherwise (`1.0E7`, `1.0E-4`).
fn java_float(sci: &str, out: &mut String) {
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` output has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponent is an integer");
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let mut digits: String = mantissa.chars().filter(|&c| c != '.').collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    if neg {
        out.push('-');
    }
    if digits == "0" {
        out.push_str("0.0");
    } else if (-3..7).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                for _ in digits.len()..int_len {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        let _ = write!(out, "E{exp}");
    }
}

macro_rules! floats {
    ($($t:ty)*) => {$(
        impl SparkFmt for $t {
            fn spark_fmt(&self, out: &mut String) {
                if self.is_nan() {
                    out.push_str("NaN");
                } else if self.is_infinite() {
                    out.push_str(if *self > 0.0 { "Infinity" } else { "-Infinity" });
                } else {
                    let shortest = format!("{self:e}");
                    if shortest.split_once('e').is_some_and(|(m, _)| m.len() <= 2) {
                        // One significant digit (`5e-324`, possibly with a sign).
                        java_float(&format!("{self:.1e}"), out);
                    } else {
                        java_float(&shortest, out);
                    }
                }
            }
        }
        impl ToJson for $t {
            fn to_json(&self, out: &mut String) {
                if self.is_finite() {
                    // Debug is the shortest round-trip form and always valid JSON (`1.0`, `1e-7`).
                    let _ = write!(out, "{self:?}");
                } else if self.is_nan() {
                    // As Spark's JSON generator (Jackson's WRITE_NAN_AS_STRINGS): a string, which
                    // Spark's JSON reader takes back as the number.
                    out.push_str("\"NaN\"");
                } else {
                    out.push_str(if *self > 0.0 { "\"Infinity\"" } else { "\"-Infinity\"" });
                }
            }
        }
    )*};
}

floats!(f32 f64);

// ----- containers ---------------------------------------------------------------------------

impl<T: SparkFmt> SparkFmt for Option<T> {
    fn spark_fmt(&self, out: &mut String) {
        match self {
            Some(x) => {
                out.push_str("Some(");
                x.spark_fmt(out);
                out.push(')');
            }
            None => out.push_str("None"),
        }
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self, out: &mut String) {
        match self {
            Some(x) => x.to_json(out),
            None => out.push_str("null"),
        }
    }
}

/// A `Vec` (or slice) is what `group_by_key` makes of a key's values; Spark prints those as
/// `CompactBuffer(a, b)`, its own collection type.
impl<T: SparkFmt> SparkFmt for [T] {
    fn spark_fmt(&self, out: &mut String) {
        out.push_str("CompactBuffer(");
        for (i, x) in self.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            x.spark_fmt(out);
        }
        out.push(')');
    }
}

impl<T: ToJson> ToJson for [T] {
    fn to_json(&self, out: &mut String) {
        out.push('[');
        for (i, x) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            x.to_json(out);
        }
        out.push(']');
    }
}

impl<T: SparkFmt> SparkFmt for Vec<T> {
    fn spark_fmt(&self, out: &mut String) {
        self.as_slice().spark_fmt(out)
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self, out: &mut String) {
        self.as_slice().to_json(out)
    }
}

macro_rules! tuples {
    ($(($($n:tt $t:ident),+))*) => {$(
        /// Scala's tuple `toString`: `(a,b)`, no spaces.
        impl<$($t: SparkFmt),+> SparkFmt for ($($t,)+) {
            fn spark_fmt(&self, out: &mut String) {
                out.push('(');
                $(
                    if $n > 0 { out.push(','); }
                    self.$n.spark_fmt(out);
                )+
                out.push(')');
            }
        }
        impl<$($t: ToJson),+> ToJson for ($($t,)+) {
            fn to_json(&self, out: &mut String) {
                out.push('[');
                $(
                    if $n > 0 { out.push(','); }
                    self.$n.to_json(out);
                )+
                out.push(']');
            }
        }
    )*};
}

tuples! {
    (0 A)
    (0 A, 1 B)
    (0 A, 1 B, 2 C)
    (0 A, 1 B, 2 C, 3 D)
    (0 A, 1 B, 2 C, 3 D, 4 E)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 G)
}

/// `value`'s [`SparkFmt`] text as a new string.
pub fn spark_string<T: SparkFmt + ?Sized>(value: &T) -> String {
    let mut s = String::new();
    value.spark_fmt(&mut s);
    s
}

/// `value`'s [`ToJson`] text as a new string.
pub fn json_string_of<T: ToJson + ?Sized>(value: &T) -> String {
    let mut s = String::new();
    value.to_json(&mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `s` as a JSON string, a character at a time (what `json_string` must write).
    fn json_string_by_char(s: &str) -> String {
        let mut out = String::from('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\0'..='\u{1f}' | '\u{7f}' => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn json_strings_escape_what_json_needs_wherever_it_is() {
        let pieces = ["", "a", "word", "é→", "\"", "\\", "\n", "\u{1}", "\u{7f}", "\u{1f}", " ", "~", "\t"];
        let mut seed = 0x0005_DEEC_E66D_u64;
        for n in 0..20_000usize {
            let mut s = String::new();
            for _ in 0..n % 40 {
                s.push_str(pieces[(crate::test_rng::xorshift(&mut seed) % pieces.len() as u64) as usize]);
            }
            let mut got = String::from("x");
            json_string(&s, &mut got);
            assert_eq!(got, format!("x{}", json_string_by_char(&s)), "{s:?}");
        }
        for b in 0u8..128 {
            let s = (b as char).to_string();
            let mut got = String::new();
            json_string(&s, &mut got);
            assert_eq!(got, json_string_by_char(&s), "byte {b}");
        }
    }

    #[test]
    fn scala_to_string() {
        assert_eq!(spark_string(&("word", 3i64)), "(word,3)");
        assert_eq!(spark_string(&(1u8, ("a", true), 'c')), "(1,(a,true),c)");
        assert_eq!(spark_string(&Some(2i32)), "Some(2)");
        assert_eq!(spark_string(&None::<i32>), "None");
        assert_eq!(spark_string(&vec![1i64, 2, 3]), "CompactBuffer(1, 2, 3)");
        assert_eq!(spark_string(&("k", Vec::<i64>::new())), "(k,CompactBuffer())");
        assert_eq!(spark_string(&String::from("raw \"text\"")), "raw \"text\"");
        assert_eq!(spark_string(&-42i64), "-42");
        assert_eq!(spark_string(&(1, 2, 3, 4, 5, 6)), "(1,2,3,4,5,6)");
    }

    #[test]
    fn java_double_to_string() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (0.5, "0.5"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (100.0, "100.0"),
            (123.456, "123.456"),
            (-2.5, "-2.5"),
            (1e7, "1.0E7"),
            (9999999.0, "9999999.0"),
            (12345678.9, "1.23456789E7"),
            (1e-3, "0.001"),
            (1.5e-3, "0.0015"),
            (1e-4, "1.0E-4"),
            (1.25e-5, "1.25E-5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e300, "1.0E300"),
            (f64::MAX, "1.7976931348623157E308"),
            (5e-324, "4.9E-324"),
            (1e23, "1.0E23"),
            (2e-3, "0.002"),
            (-3e10, "-3.0E10"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for &(x, want) in cases {
            assert_eq!(spark_string(&x), want, "{x:e}");
        }
        assert_eq!(spark_string(&0.1f32), "0.1");
        assert_eq!(spark_string(&1e10f32), "1.0E10");
    }

    #[test]
    fn json() {
        assert_eq!(json_string_of(&("a\"b\\c\n", 3i64)), r#"["a\"b\\c\n",3]"#);
        assert_eq!(json_string_of("\u{1}\u{1f}\t"), r#""\u0001\u001f\t""#);
        assert_eq!(json_string_of("é→"), "\"é→\"");
        assert_eq!(json_string_of(&vec![Some(1.5f64), None]), "[1.5,null]");
        assert_eq!(json_string_of(&f64::NAN), r#""NaN""#);
        assert_eq!(json_string_of(&f32::INFINITY), r#""Infinity""#);
        assert_eq!(json_string_of(&f64::NEG_INFINITY), r#""-Infinity""#);
        assert_eq!(json_string_of(&1.0f64), "1.0");
        assert_eq!(json_string_of(&(true, 'x')), r#"[true,"x"]"#);
    }
}

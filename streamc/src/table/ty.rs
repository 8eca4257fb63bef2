//! The column types of Structured Streaming schemas and expressions (Spark SQL's types), nested
//! ones included: `array<T>`, `map<K,V>` and `struct<a:T,...>`.
//!
//! A type is a small `Copy` value: a nested type points at its parts, interned once per process
//! (the compiler's types are few and live as long as it does), so two equal types are equal
//! values and `ColTy` stays as cheap to pass around as the scalar types were.

use std::sync::Mutex;

/// Column types of a schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColTy {
    String,
    Bool,
    /// Spark's `ByteType` (`tinyint`, `i8`).
    Byte,
    /// Spark's `ShortType` (`smallint`, `i16`).
    Short,
    /// Spark's `IntegerType` (`int`, `i32`): what an integer literal is.
    Int,
    Long,
    /// Spark's `FloatType` (`float`/`real`, `f32`).
    Float,
    Double,
    Timestamp,
    /// Spark's `DateType`: a calendar date.
    Date,
    /// Spark's `BinaryType`: bytes.
    Binary,
    /// Spark's `DecimalType(precision, scale)`: precision 1 to 38, scale 0 to the precision.
    Decimal(u8, u8),
    /// Spark's `ArrayType` (elements may be NULL).
    Array(&'static ColTy),
    /// Spark's `MapType`: keys are never NULL, values may be.
    Map(&'static (ColTy, ColTy)),
    /// Spark's `StructType`: named fields, each nullable.
    Struct(&'static [Field]),
    /// Spark's `NullType` (`void`): the type of a bare `NULL`, whose values are all NULL. It
    /// becomes the other side's type wherever it meets one (`n + NULL` is a bigint).
    Void,
}

/// The struct fields a type's text marks `NOT NULL`: (the interned struct, the field's index).
pub type NotNull = Vec<(&'static [Field], usize)>;

/// One field of a struct type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Field {
    pub name: &'static str,
    pub ty: ColTy,
}

/// `array<string>`: what `split` gives.
pub const STRING_ARRAY: ColTy = ColTy::Array(&ColTy::String);

/// Interned parts of nested types and their SQL names.
struct Interned {
    arrays: Vec<&'static ColTy>,
    maps: Vec<&'static (ColTy, ColTy)>,
    structs: Vec<&'static [Field]>,
    names: Vec<&'static str>,
}

static INTERNED: Mutex<Interned> =
    Mutex::new(Interned { arrays: Vec::new(), maps: Vec::new(), structs: Vec::new(), names: Vec::new() });

fn interned() -> std::sync::MutexGuard<'static, Interned> {
    INTERNED.lock().unwrap_or_else(|e| e.into_inner())
}

impl ColTy {
    /// `array<elem>`.
    pub fn array(elem: ColTy) -> ColTy {
        let mut i = interned();
        if let Some(a) = i.arrays.iter().find(|a| ***a == elem) {
            return ColTy::Array(a);
        }
        let a: &'static ColTy = Box::leak(Box::new(elem));
        i.arrays.push(a);
        ColTy::Array(a)
    }

    /// `map<key,value>`.
    pub fn map(key: ColTy, value: ColTy) -> ColTy {
        let mut i = interned();
        if let Some(m) = i.maps.iter().find(|m| ***m == (key, value)) {
            return ColTy::Map(m);
        }
        let m: &'static (ColTy, ColTy) = Box::leak(Box::new((key, value)));
        i.maps.push(m);
        ColTy::Map(m)
    }

    /// `struct<name:ty,...>`.
    pub fn structure(fields: &[(&str, ColTy)]) -> ColTy {
        let mut i = interned();
        let same = |s: &&&'static [Field]| {
            s.len() == fields.len() && s.iter().zip(fields).all(|(f, (n, t))| f.name == *n && f.ty == *t)
        };
        if let Some(s) = i.structs.iter().find(same) {
            return ColTy::Struct(s);
        }
        let owned: Vec<Field> =
            fields.iter().map(|(n, t)| Field { name: Box::leak(n.to_string().into_boxed_str()), ty: *t }).collect();
        let s: &'static [Field] = Box::leak(owned.into_boxed_slice());
        i.structs.push(s);
        ColTy::Struct(s)
    }

    /// A type as Spark's DDL writes it, case-insensitive: the scalar names (and their aliases),
    /// `array<T>`, `map<K,V>`, `struct<a:T,b:U>` (the colon is optional, as in Spark's DDL).
    pub fn parse(s: &str) -> Option<ColTy> {
        ColTy::parse_marking_not_null(s).map(|(t, _)| t)
    }

    /// [`ColTy::parse`], and the struct fields of the text read with `NOT NULL` (which the type
    /// does not keep: every field of a streamc struct is nullable), for Spark's messages
    /// ([`ColTy::spark_sql_marking`]).
    pub fn parse_marking_not_null(s: &str) -> Option<(ColTy, NotNull)> {
        let mut p = TypeParser { s: s.as_bytes(), text: s, i: 0, not_null: Vec::new() };
        let t = p.ty()?;
        p.ws();
        (p.i == p.s.len()).then_some((t, p.not_null))
    }

    /// A schema as Spark's DDL string (`from_json(s, 'a INT, b ARRAY<STRING>')`): a list of
    /// `name type` fields as a struct, or one type (`ARRAY<..>`, `MAP<..>`, `STRUCT<..>`).
    pub fn parse_ddl(s: &str) -> Option<ColTy> {
        if let Some(t) = ColTy::parse(s) {
            return match t {
                ColTy::Array(_) | ColTy::Map(_) | ColTy::Struct(_) => Some(t),
                _ => None,
            };
        }
        let mut p = TypeParser { s: s.as_bytes(), text: s, i: 0, not_null: Vec::new() };
        let fields = p.fields(None)?;
        p.ws();
        (p.i == p.s.len() && !fields.is_empty()).then(|| {
            let view: Vec<(&str, ColTy)> = fields.iter().map(|(n, t, _)| (n.as_str(), *t)).collect();
            ColTy::structure(&view)
        })
    }

    /// Spark's `simpleString` of the type: `bigint`, `array<string>`, `struct<a:bigint>`.
    pub fn sql(self) -> &'static str {
        match self {
            ColTy::String => "string",
            ColTy::Bool => "boolean",
            ColTy::Byte => "tinyint",
            ColTy::Short => "smallint",
            ColTy::Int => "int",
            ColTy::Long => "bigint",
            ColTy::Float => "float",
            ColTy::Double => "double",
            ColTy::Timestamp => "timestamp",
            ColTy::Date => "date",
            ColTy::Binary => "binary",
            ColTy::Void => "void",
            nested => {
                let text = nested.describe();
                let mut i = interned();
                if let Some(n) = i.names.iter().find(|n| ***n == text) {
                    return n;
                }
                let n: &'static str = Box::leak(text.into_boxed_str());
                i.names.push(n);
                n
            }
        }
    }

    /// Spark's `DataType.sql` of the type, as its error messages name types: `BIGINT`,
    /// `ARRAY<STRING>`, `MAP<STRING, BIGINT>`, `STRUCT<name: STRING, `user id`: BIGINT>`.
    pub fn spark_sql(self) -> String {
        self.spark_sql_marking(&[])
    }

    /// [`ColTy::spark_sql`] with `NOT NULL` after the fields `not_null` names.
    pub fn spark_sql_marking(self, not_null: &[(&'static [Field], usize)]) -> String {
        match self {
            ColTy::Array(e) => format!("ARRAY<{}>", e.spark_sql_marking(not_null)),
            ColTy::Map((k, v)) => format!("MAP<{}, {}>", k.spark_sql_marking(not_null), v.spark_sql_marking(not_null)),
            ColTy::Struct(fields) => {
                let marked = |k: usize| not_null.iter().any(|(s, i)| std::ptr::eq(*s, fields) && *i == k);
                let fs: Vec<String> = fields
                    .iter()
                    .enumerate()
                    .map(|(k, f)| {
                        let nn = if marked(k) { " NOT NULL" } else { "" };
                        format!("{}: {}{nn}", quote_if_needed(f.name), f.ty.spark_sql_marking(not_null))
                    })
                    .collect();
                format!("STRUCT<{}>", fs.join(", "))
            }
            scalar => scalar.sql().to_ascii_uppercase(),
        }
    }

    fn describe(self) -> String {
        match self {
            ColTy::Decimal(p, s) => format!("decimal({p},{s})"),
            ColTy::Array(e) => format!("array<{}>", e.describe()),
            ColTy::Map((k, v)) => format!("map<{},{}>", k.describe(), v.describe()),
            ColTy::Struct(fields) => {
                let fs: Vec<String> = fields.iter().map(|f| format!("{}:{}", f.name, f.ty.describe())).collect();
                format!("struct<{}>", fs.join(","))
            }
            scalar => scalar.sql().to_string(),
        }
    }

    /// Whether the type is `bigint` or `double`: the number types the registry's functions
    /// compute on (the checker widens the narrower ones to them for a call).
    pub fn numeric(self) -> bool {
        matches!(self, ColTy::Long | ColTy::Double)
    }

    /// Whether the type is one of Spark's numbers: `tinyint`, `smallint`, `int`, `bigint`,
    /// `float`, `double`.
    pub fn number(self) -> bool {
        self.integral() || matches!(self, ColTy::Float | ColTy::Double | ColTy::Decimal(..))
    }

    /// The decimal type of a decimal or an integral type (Spark's `DecimalType.forType`:
    /// `int` is `decimal(10,0)`).
    pub fn as_decimal(self) -> Option<(u8, u8)> {
        Some(match self {
            ColTy::Decimal(p, s) => (p, s),
            ColTy::Byte => (3, 0),
            ColTy::Short => (5, 0),
            ColTy::Int => (10, 0),
            ColTy::Long => (20, 0),
            _ => return None,
        })
    }

    /// Whether the type is one of Spark's integral types.
    pub fn integral(self) -> bool {
        matches!(self, ColTy::Byte | ColTy::Short | ColTy::Int | ColTy::Long)
    }

    /// The type the registry's functions and the aggregates take for this one: the integral
    /// types widen to `bigint`, `float` to `double` (exact, as Spark's implicit casts are).
    pub fn widened(self) -> ColTy {
        match self {
            ColTy::Byte | ColTy::Short | ColTy::Int => ColTy::Long,
            ColTy::Float => ColTy::Double,
            t => t,
        }
    }

    /// Whether the type is an array, map or struct.
    pub fn nested(self) -> bool {
        matches!(self, ColTy::Array(_) | ColTy::Map(_) | ColTy::Struct(_))
    }

    /// Whether values of the type can be hashed and compared for equality as they are: no
    /// `float`/`double` (whose NaNs and -0.0 Spark groups normalized) and no map (whose entries
    /// it groups in key order) anywhere inside. A nested key that is not is normalized into a
    /// `NestedKey` by generated code (`codegen::table::nested_key`).
    pub fn hashable(self) -> bool {
        match self {
            ColTy::Float | ColTy::Double | ColTy::Map(_) => false,
            ColTy::Array(e) => e.hashable(),
            ColTy::Struct(fields) => fields.iter().all(|f| f.ty.hashable()),
            _ => true,
        }
    }

    /// Whether the type is a map or has one inside.
    pub fn has_map(self) -> bool {
        match self {
            ColTy::Map(_) => true,
            ColTy::Array(e) => e.has_map(),
            ColTy::Struct(fields) => fields.iter().any(|f| f.ty.has_map()),
            _ => false,
        }
    }

    /// The field `name` of a struct type (Spark resolves it case-insensitively), with its index.
    pub fn field(self, name: &str) -> Option<(usize, Field)> {
        let ColTy::Struct(fields) = self else { return None };
        let exact = fields.iter().position(|f| f.name == name);
        let k = exact.or_else(|| fields.iter().position(|f| f.name.eq_ignore_ascii_case(name)))?;
        Some((k, fields[k]))
    }
}

/// A field name as Spark's `quoteIfNeeded` writes it: bare when it is letters, digits and `_`
/// (and not all digits), in backquotes otherwise.
fn quote_if_needed(name: &str) -> String {
    let plain = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.bytes().all(|b| b.is_ascii_digit());
    if plain { name.to_string() } else { format!("`{}`", name.replace('`', "``")) }
}

struct TypeParser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    /// The fields read with `NOT NULL`.
    not_null: NotNull,
}

impl TypeParser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// A name: letters, digits and `_`, or `` `quoted` ``.
    fn name(&mut self) -> Option<String> {
        self.ws();
        if self.s.get(self.i) == Some(&b'`') {
            let start = self.i + 1;
            let end = start + self.text[start..].find('`')?;
            self.i = end + 1;
            return Some(self.text[start..end].to_string());
        }
        let start = self.i;
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
            self.i += 1;
        }
        (self.i > start).then(|| self.text[start..self.i].to_string())
    }

    fn ty(&mut self) -> Option<ColTy> {
        let name = self.name()?.to_ascii_lowercase();
        Some(match name.as_str() {
            "string" | "str" | "varchar" | "char" => {
                // `varchar(n)` and `char(n)` read as strings.
                if self.eat(b'(') {
                    self.name()?;
                    if !self.eat(b')') {
                        return None;
                    }
                }
                ColTy::String
            }
            "bool" | "boolean" => ColTy::Bool,
            "tinyint" | "byte" | "i8" => ColTy::Byte,
            "smallint" | "short" | "i16" => ColTy::Short,
            "int" | "integer" | "i32" => ColTy::Int,
            "long" | "bigint" | "i64" => ColTy::Long,
            "float" | "real" | "f32" => ColTy::Float,
            "double" | "f64" => ColTy::Double,
            "timestamp" | "timestamp_ltz" => ColTy::Timestamp,
            "date" => ColTy::Date,
            "binary" | "bytes" => ColTy::Binary,
            "decimal" | "dec" | "numeric" => {
                // `decimal` is `decimal(10,0)`, `decimal(p)` `decimal(p,0)`.
                let (mut p, mut s) = (10u8, 0u8);
                if self.eat(b'(') {
                    p = self.name()?.parse().ok()?;
                    s = if self.eat(b',') { self.name()?.parse().ok()? } else { 0 };
                    if !self.eat(b')') {
                        return None;
                    }
                }
                if !(1..=38).contains(&p) || s > p {
                    return None;
                }
                ColTy::Decimal(p, s)
            }
            "array" => {
                if !self.eat(b'<') {
                    return None;
                }
                let e = self.ty()?;
                if !self.eat(b'>') {
                    return None;
                }
                ColTy::array(e)
            }
            "map" => {
                if !self.eat(b'<') {
                    return None;
                }
                let k = self.ty()?;
                if !self.eat(b',') {
                    return None;
                }
                let v = self.ty()?;
                if !self.eat(b'>') {
                    return None;
                }
                ColTy::map(k, v)
            }
            "struct" => {
                if !self.eat(b'<') {
                    return None;
                }
                let fields = self.fields(Some(b'>'))?;
                if !self.eat(b'>') {
                    return None;
                }
                let view: Vec<(&str, ColTy)> = fields.iter().map(|(n, t, _)| (n.as_str(), *t)).collect();
                let t = ColTy::structure(&view);
                if let ColTy::Struct(interned) = t {
                    let marked = fields.iter().enumerate().filter(|(_, f)| f.2);
                    self.not_null.extend(marked.map(|(k, _)| (interned, k)));
                }
                t
            }
            _ => return None,
        })
    }

    /// `name[:] type, ...` up to `end` (not consumed) or the end of the text.
    fn fields(&mut self, end: Option<u8>) -> Option<Vec<(String, ColTy, bool)>> {
        let mut out: Vec<(String, ColTy, bool)> = Vec::new();
        loop {
            self.ws();
            if end.is_some_and(|e| self.s.get(self.i) == Some(&e)) && out.is_empty() {
                return Some(out);
            }
            let name = self.name()?;
            self.eat(b':');
            let ty = self.ty()?;
            // `NOT NULL` and `COMMENT '..'` of DDL fields are not kept.
            let save = self.i;
            let not_null = match self.name().map(|w| w.to_ascii_lowercase()).as_deref() {
                Some("not") if self.name().is_some_and(|w| w.eq_ignore_ascii_case("null")) => true,
                _ => {
                    self.i = save;
                    false
                }
            };
            if out.iter().any(|(n, _, _)| n.eq_ignore_ascii_case(&name)) {
                return None;
            }
            out.push((name, ty, not_null));
            if !self.eat(b',') {
                return Some(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_types_parse_and_print_as_spark() {
        let t = ColTy::parse("STRUCT<a: INT, b: ARRAY<STRING>, m: map<string, double>>").unwrap();
        assert_eq!(t.sql(), "struct<a:int,b:array<string>,m:map<string,double>>");
        assert_eq!(ColTy::parse("array<string>"), Some(STRING_ARRAY));
        assert_eq!(ColTy::parse("struct<a bigint>"), ColTy::parse("struct<a:long>"));
        assert_eq!(ColTy::parse_ddl("a INT, b STRING").unwrap().sql(), "struct<a:int,b:string>");
        assert_eq!(ColTy::parse_ddl("array<smallint>").unwrap().sql(), "array<smallint>");
        assert_eq!(ColTy::parse("REAL").map(ColTy::sql), Some("float"));
        assert_eq!(ColTy::parse("decimal(5, 2)"), Some(ColTy::Decimal(5, 2)));
        assert_eq!(ColTy::parse("DECIMAL").map(ColTy::sql), Some("decimal(10,0)"));
        assert_eq!(ColTy::parse("decimal(39,0)"), None);
        assert_eq!(ColTy::parse("decimal(3,4)"), None);
        assert_eq!(ColTy::parse_ddl("bigint"), None);
        assert_eq!(ColTy::parse("array<string"), None);
        assert_eq!(ColTy::parse("struct<a:int,a:int>"), None);
        assert_eq!(t.field("B").map(|(k, f)| (k, f.ty)), Some((1, STRING_ARRAY)));
        assert_eq!(t.spark_sql(), "STRUCT<a: INT, b: ARRAY<STRING>, m: MAP<STRING, DOUBLE>>");
        assert_eq!(ColTy::parse("struct<`x y`: decimal(5,2)>").unwrap().spark_sql(), "STRUCT<`x y`: DECIMAL(5,2)>");
        let (t, not_null) =
            ColTy::parse_marking_not_null("struct<a: int NOT NULL, b: array<struct<c: int not null>>>").unwrap();
        assert_eq!(t.spark_sql_marking(&not_null), "STRUCT<a: INT NOT NULL, b: ARRAY<STRUCT<c: INT NOT NULL>>>");
        assert_eq!(ColTy::parse_marking_not_null("struct<a: int>").map(|(_, n)| n.is_empty()), Some(true));
    }
}

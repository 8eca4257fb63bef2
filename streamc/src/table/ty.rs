//! The column types of Structured Streaming schemas and expressions (Spark SQL's types).

/// Column types of a schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColTy {
    String,
    Bool,
    Long,
    Double,
    Timestamp,
    /// Spark's `DateType`: a calendar date.
    Date,
    /// `split(..)`'s result; only `explode` takes it.
    StringArray,
}

impl ColTy {
    pub fn parse(s: &str) -> Option<ColTy> {
        Some(match s.to_ascii_lowercase().as_str() {
            "string" | "str" => ColTy::String,
            "bool" | "boolean" => ColTy::Bool,
            "int" | "integer" | "i32" | "long" | "bigint" | "i64" => ColTy::Long,
            "float" | "double" | "f32" | "f64" => ColTy::Double,
            "timestamp" => ColTy::Timestamp,
            "date" => ColTy::Date,
            _ => return None,
        })
    }

    pub fn sql(self) -> &'static str {
        match self {
            ColTy::String => "string",
            ColTy::Bool => "boolean",
            ColTy::Long => "bigint",
            ColTy::Double => "double",
            ColTy::Timestamp => "timestamp",
            ColTy::Date => "date",
            ColTy::StringArray => "array<string>",
        }
    }

    pub fn numeric(self) -> bool {
        matches!(self, ColTy::Long | ColTy::Double)
    }
}

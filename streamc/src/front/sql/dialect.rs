//! The SQL dialect streamc parses: Hive's (the closest of sqlparser's to Spark SQL), plus the
//! forms of Spark SQL that Hive's lacks: `TRIM(LEADING FROM s)`, `trim(chars, s)` and the
//! integral division `a DIV b`.

use sqlparser::dialect::{Dialect, HiveDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use std::any::TypeId;

#[derive(Debug)]
pub(super) struct SparkDialect;

impl Dialect for SparkDialect {
    /// The parser's dialect checks treat this dialect as Hive's.
    fn dialect(&self) -> TypeId {
        TypeId::of::<HiveDialect>()
    }
    fn supports_comma_separated_trim(&self) -> bool {
        true
    }
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        HiveDialect {}.is_delimited_identifier_start(ch)
    }
    fn supports_hash_comment(&self) -> bool {
        HiveDialect {}.supports_hash_comment()
    }
    fn supports_string_literal_column_alias(&self, explicit: bool) -> bool {
        HiveDialect {}.supports_string_literal_column_alias(explicit)
    }
    fn supports_string_literal_table_alias(&self, explicit: bool) -> bool {
        HiveDialect {}.supports_string_literal_table_alias(explicit)
    }
    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        HiveDialect {}.identifier_quote_style(identifier)
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        HiveDialect {}.is_identifier_start(ch)
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        HiveDialect {}.is_identifier_part(ch)
    }
    fn is_table_factor(&self, kw: &Keyword, parser: &mut Parser) -> bool {
        HiveDialect {}.is_table_factor(kw, parser)
    }
    fn supports_filter_during_aggregation(&self) -> bool {
        HiveDialect {}.supports_filter_during_aggregation()
    }
    fn supports_numeric_prefix(&self) -> bool {
        HiveDialect {}.supports_numeric_prefix()
    }
    // Spark SQL's strings have backslash escapes (unescaped by `table::expr::unescape`, as Spark does).
    fn supports_string_literal_backslash_escape(&self) -> bool {
        true
    }
    // Spark reads `INTERVAL '1 day 2 hours'`, units inside the string.
    fn require_interval_qualifier(&self) -> bool {
        false
    }
    fn supports_bang_not_operator(&self) -> bool {
        HiveDialect {}.supports_bang_not_operator()
    }
    fn supports_load_data(&self) -> bool {
        HiveDialect {}.supports_load_data()
    }
    fn supports_table_sample_before_alias(&self) -> bool {
        HiveDialect {}.supports_table_sample_before_alias()
    }
    fn supports_group_by_with_modifier(&self) -> bool {
        HiveDialect {}.supports_group_by_with_modifier()
    }
    fn supports_from_first_insert(&self) -> bool {
        HiveDialect {}.supports_from_first_insert()
    }
    fn supports_map_literal_with_angle_brackets(&self) -> bool {
        HiveDialect {}.supports_map_literal_with_angle_brackets()
    }
    // `a DIV b` (Spark's integral division, of `*`'s precedence): sqlparser reads it only in
    // MySQL's dialect and its likes.
    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &sqlparser::ast::Expr,
        precedence: u8,
    ) -> Option<Result<sqlparser::ast::Expr, sqlparser::parser::ParserError>> {
        if !parser.parse_keyword(Keyword::DIV) {
            return None;
        }
        Some(parser.parse_subexpr(precedence).map(|right| sqlparser::ast::Expr::BinaryOp {
            left: Box::new(expr.clone()),
            op: sqlparser::ast::BinaryOperator::MyIntegerDivide,
            right: Box::new(right),
        }))
    }
}

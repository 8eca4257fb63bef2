//! The SQL dialect streamc parses: Hive's (the closest of sqlparser's to Spark SQL), plus the
//! forms of Spark SQL that Hive's lacks: `TRIM(LEADING FROM s)`, `trim(chars, s)` and the
//! integral division `a DIV b`, and `CAST(x AS STRUCT<a: INT>)` (sqlparser reads Hive's `ARRAY<T>`
//! and `MAP<K, V>` but not its `STRUCT<..>`, nor `NOT NULL` inside a nested type).

use sqlparser::ast::{self, CastKind, DataType, Ident, ObjectName};
use sqlparser::dialect::{Dialect, HiveDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;
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
    // `CAST(x AS t)` and `TRY_CAST(x AS t)` with a nested type: the type's text, as it is, for
    // `ColTy::parse`.
    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<ast::Expr, ParserError>> {
        let kind = match &parser.peek_token_ref().token {
            Token::Word(w) if w.keyword == Keyword::CAST => CastKind::Cast,
            Token::Word(w) if w.keyword == Keyword::TRY_CAST => CastKind::TryCast,
            _ => return None,
        };
        if parser.peek_nth_token_ref(1).token != Token::LParen {
            return None;
        }
        parser.next_token();
        Some(cast(parser, kind))
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

/// The rest of `CAST(x AS t)` after `CAST`: a nested type (`ARRAY<..>`, `MAP<..>`,
/// `STRUCT<..>`) as its tokens' text up to the closing parenthesis, any other as sqlparser reads
/// it.
fn cast(parser: &mut Parser, kind: CastKind) -> Result<ast::Expr, ParserError> {
    parser.expect_token(&Token::LParen)?;
    let expr = Box::new(parser.parse_expr()?);
    parser.expect_keyword_is(Keyword::AS)?;
    let nested = matches!(&parser.peek_token_ref().token,
        Token::Word(w) if matches!(w.keyword, Keyword::ARRAY | Keyword::MAP | Keyword::STRUCT));
    if !nested {
        let data_type = parser.parse_data_type()?;
        parser.expect_token(&Token::RParen)?;
        return Ok(ast::Expr::Cast { kind, expr, data_type, format: None });
    }
    let mut text = String::new();
    let mut depth = 0usize;
    loop {
        let tok = parser.next_token();
        match &tok.token {
            Token::EOF => return parser.expected(")", tok),
            Token::RParen if depth == 0 => break,
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
        let word = |t: &Token| matches!(t, Token::Word(_) | Token::Number(..));
        if word(&tok.token) && text.ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '`') {
            text.push(' ');
        }
        text.push_str(&tok.token.to_string());
        if matches!(tok.token, Token::Comma | Token::Colon) {
            text.push(' ');
        }
    }
    // The text goes through as a custom type's name, which prints as it is.
    let data_type = DataType::Custom(ObjectName::from(vec![Ident::new(text)]), vec![]);
    Ok(ast::Expr::Cast { kind, expr, data_type, format: None })
}

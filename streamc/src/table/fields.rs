//! Rust names for SQL names: the fields of generated row and struct types.

/// The Rust field name of each column, in order: every character that is not an ASCII letter,
/// digit or `_` becomes `_`, runs of `_` become one and `_` at either end is dropped
/// (`window.start` → `window_start`, `sum(n)` → `sum_n`, `count(*)` → `count`); a name that is
/// then empty or starts with a digit gets a `c_` prefix (`1st` → `c_1st`); a Rust keyword gets
/// a trailing `_` (`type` → `type_`); and a name already taken gets `_2`, `_3`, … (`a b` and
/// `a_b` → `a_b`, `a_b_2`). Letter case is kept.
pub fn field_names<'a>(columns: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in columns {
        let mut f = String::with_capacity(name.len());
        for c in name.chars() {
            let c = if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' };
            if !(c == '_' && (f.is_empty() || f.ends_with('_'))) {
                f.push(c);
            }
        }
        while f.ends_with('_') {
            f.pop();
        }
        if f.is_empty() || f.starts_with(|c: char| c.is_ascii_digit()) {
            f.insert_str(0, "c_");
        }
        if is_keyword(&f) {
            f.push('_');
        }
        let base = f.clone();
        let mut k = 2;
        while out.contains(&f) {
            f = format!("{base}_{k}");
            k += 1;
        }
        out.push(f);
    }
    out
}

/// Rust's strict and reserved keywords (2024 edition), which cannot name a field.
fn is_keyword(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
        "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self",
        "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract",
        "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
    ];
    KEYWORDS.contains(&s)
}

#[cfg(test)]
mod tests {
    use super::field_names;

    #[test]
    fn column_names_map_to_field_names_as_documented() {
        let names = field_names([
            "word",
            "window.start",
            "sum(n)",
            "count(*)",
            "1st",
            "type",
            "a b",
            "a_b",
            "(",
            "avgSpeed",
            "café",
            "count",
        ]);
        assert_eq!(
            names,
            [
                "word",
                "window_start",
                "sum_n",
                "count",
                "c_1st",
                "type_",
                "a_b",
                "a_b_2",
                "c_",
                "avgSpeed",
                "caf",
                "count_2"
            ]
        );
    }
}

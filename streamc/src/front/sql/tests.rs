//! Tests of the SQL front end: the steps each query lowers to, and the errors of unsupported SQL.

use super::*;
use crate::span::{SpanInfo, SpanTable};
use crate::table::Step;

fn steps(sql: &str) -> String {
    let l = lower(sql, &[], &mut no_span).unwrap_or_else(|e| panic!("{e:?}"));
    let mut out = format!("from {}", l.from.0);
    for (s, _) in &l.steps {
        out.push_str(&match s {
            Step::Select(items) => format!("; select {}", list(items)),
            Step::Where(e) => format!("; where {e}"),
            Step::WithColumn(n, e) => format!("; with_column {n} = {e}"),
            Step::WithWatermark { column, delay_ms } => format!("; watermark {column} {delay_ms}"),
            Step::GroupBy { keys, aggs, .. } => format!("; group_by {} agg {}", list(keys), list(aggs)),
            other => format!("; {other:?}"),
        });
    }
    out
}

fn list(items: &[crate::table::Item]) -> String {
    let v: Vec<String> = items
        .iter()
        .map(|it| match &it.alias {
            Some(a) => format!("{} AS {a}", it.expr),
            None => it.expr.to_string(),
        })
        .collect();
    format!("[{}]", v.join(", "))
}

/// Lowering's `at` for tests that look at steps, not at where their items are.
fn no_span(_: Pos) -> crate::span::SpanId {
    crate::span::SpanTable::unknown()
}

/// Each lowered item's text in `sql` (`?` for an item without a position).
fn item_texts(sql: &str) -> Vec<String> {
    let mut spans = SpanTable::default();
    let mut at = |p: Pos| spans.add(SpanInfo::Text { line: 0, column: 0, start: p.start, len: p.len });
    let l = lower(sql, &[], &mut at).unwrap_or_else(|e| panic!("{e:?}"));
    let mut out = Vec::new();
    for (s, _) in &l.steps {
        let items: Vec<&crate::table::Item> = match s {
            Step::Select(items) => items.iter().collect(),
            Step::GroupBy { keys, aggs, .. } => keys.iter().chain(aggs).collect(),
            _ => continue,
        };
        for it in items {
            out.push(match it.span.map(|s| spans.get(s).clone()) {
                Some(SpanInfo::Text { start, len, .. }) => sql[start..start + len].to_string(),
                _ => "?".to_string(),
            });
        }
    }
    out
}

#[test]
fn each_item_has_its_own_position() {
    assert_eq!(item_texts("SELECT word, upper(n) AS u FROM t"), ["word", "upper(n) AS u"]);
    // An aggregation: the window key at `GROUP BY`, the other keys and aggregates at the select
    // list; the projection after it at the items it computes.
    assert_eq!(
        item_texts(
            "SELECT window.start AS window_start, window.end AS window_end, w, count(*) * 2 AS c \
             FROM t GROUP BY window(ts, '1 minute'), w"
        ),
        [
            "window(ts, '1 minute')",
            "w",
            "count(*) * 2 AS c",
            "window.start AS window_start",
            "window.end AS window_end",
            "w",
            "count(*) * 2 AS c"
        ]
    );
    // `LATERAL VIEW`: the columns kept have no position, the array is its expression.
    assert_eq!(
        item_texts("SELECT w, n FROM t LATERAL VIEW explode(split(s, ' ')) x AS w"),
        ["?", "explode(split(s, ' '))", "w", "n"]
    );
}

fn errors(sql: &str) -> Vec<(Option<Pos>, String)> {
    lower(sql, &[], &mut no_span).expect_err("an error").into_iter().map(|e| (e.pos, e.message)).collect()
}

#[test]
fn lowers_windowed_counts_and_word_counts() {
    assert_eq!(
        steps(
            "SELECT window.start AS window_start, window.end AS window_end, word, count(*) AS count FROM events GROUP BY window(timestamp, '10 minutes', '5 minutes'), word"
        ),
        "from events; group_by [window(timestamp, '10 minutes', '5 minutes'), word] agg [count(*) AS count]"
    );
    assert_eq!(
        steps("SELECT word, count(*) FROM (SELECT explode(split(value, ' ')) AS word FROM lines) GROUP BY word"),
        "from lines; select [explode(split(value, ' ')) AS word]; group_by [word] agg [count(*)]"
    );
    assert_eq!(
        steps(
            "SELECT word, count(*) FROM lines LATERAL VIEW explode(split(value, ' ')) t AS word WHERE length(word) > 2 GROUP BY word"
        ),
        "from lines; select [explode(split(value, ' ')) AS word]; where (length(word) > 2); group_by [word] agg [count(*)]"
    );
    assert_eq!(
        steps("SELECT e.word AS w, -(n + 1) * 2 FROM events e WHERE NOT (n >= 3 OR word <> \"a\") AND true"),
        "from events; where ((NOT ((n >= 3) OR (word != 'a'))) AND true); select [word AS w, ((-(n + 1)) * 2)]"
    );
    assert_eq!(steps("SELECT *, length(word) AS n FROM events"), "from events; with_column n = length(word)");
    assert_eq!(steps("SELECT count(*) FROM events"), "from events; group_by [] agg [count(*)]");
}

#[test]
fn unsupported_sql_points_at_its_clause() {
    // `ORDER BY` / `LIMIT` lower to steps; the checker decides where Spark allows them.
    assert_eq!(
        steps("SELECT word, count(*) AS c FROM events GROUP BY word ORDER BY c DESC, word NULLS LAST LIMIT 3"),
        "from events; group_by [word] agg [count(*) AS c]; OrderBy([SortKey { column: \"c\", descending: true, nulls_first: false }, SortKey { column: \"word\", descending: false, nulls_first: false }]); Limit(3)"
    );
    let sql = "SELECT word FROM events ORDER BY length(word)";
    let e = errors(sql);
    assert!(e[0].1.starts_with("streamc orders by output columns only"), "{e:?}");
    assert_eq!(&sql[e[0].0.unwrap().start..], "length(word)");
    assert!(errors("SELECT word FROM events LIMIT 3 OFFSET 1")[0].1.contains("OFFSET"));
    // Spark's `TRIM` syntax and `trim(chars, s)`; `IN` and `BETWEEN` as comparisons.
    assert_eq!(
        steps("SELECT TRIM(LEADING 'x' FROM word) AS a, TRIM(TRAILING FROM word) AS b, trim('y', word) AS c FROM t"),
        "from t; select [ltrim('x', word) AS a, rtrim(word) AS b, trim('y', word) AS c]"
    );
    assert_eq!(
        steps("SELECT word FROM t WHERE n NOT IN (1, 2) AND n BETWEEN 0 AND 9"),
        "from t; where ((NOT ((n = 1) OR (n = 2))) AND ((n >= 0) AND (n <= 9))); select [word]"
    );
    let e = errors("SELECT a FROM t WHERE ) x");
    assert_eq!(e[0].0, Some(Pos { start: 22, len: 1 }));
    assert!(e[0].1.starts_with("cannot parse the SQL: Expected: an expression, found: )"), "{e:?}");
    let sql = "SELECT word, n FROM events GROUP BY word";
    let e = errors(sql);
    assert!(e[0].1.contains("non-aggregating expression `n`"), "{e:?}");
    assert_eq!(&sql[e[0].0.unwrap().start..][..1], "n");
    assert!(errors("SELECT DISTINCT ON (a) a FROM t")[0].1.contains("DISTINCT ON"));
    assert!(
        errors("SELECT count(DISTINCT a) FROM t")[0]
            .1
            .starts_with("Distinct aggregations are not supported on streaming DataFrames/Datasets.")
    );
    // An aggregate only in `HAVING` is computed under a hidden name, then projected away.
    let l = lower("SELECT a, count(*) FROM t GROUP BY a HAVING sum(b) > 1", &[], &mut no_span).expect("lowers");
    assert!(matches!(&l.steps[1].0, Step::Where(e) if e.to_string() == "(__agg1 > 1)"), "{l:?}");
    assert!(matches!(&l.steps[2].0, Step::Select(items) if list(items) == "[a, count]"), "{l:?}");
    assert!(errors("SELECT a FROM t HAVING a > 1")[0].1.contains("`HAVING` needs an aggregation"));
    assert!(errors("SELECT a FROM t, u")[0].1.contains("several tables"));
}

/// The text at an error's position.
fn at(sql: &str, pos: Option<Pos>) -> &str {
    let p = pos.expect("a position");
    &sql[p.start..p.start + p.len]
}

#[test]
fn lowers_session_windows_like_windows() {
    assert_eq!(
        steps(
            "SELECT session_window.start AS session_window_start, session_window.end AS session_window_end, word, count(*) AS n FROM events GROUP BY session_window(timestamp, '5 minutes'), word"
        ),
        "from events; group_by [session_window(timestamp, '5 minutes'), word] agg [count(*) AS n]"
    );
    // The whole struct column, aliased to its name, is both bounds (as `window`).
    assert_eq!(
        steps("SELECT session_window, count(*) FROM events GROUP BY session_window(timestamp, '1 minute')")
            .split("; ")
            .nth(1),
        Some("group_by [session_window(timestamp, '1 minute')] agg [count(*)]")
    );
    let sql = "SELECT session_window.start AS s, session_window.end AS session_window_end, count(*) FROM events GROUP BY session_window(timestamp, '5 minutes')";
    let e = errors(sql);
    assert_eq!(e[0].1, "streamc names the session_window's start `session_window_start`");
    assert_eq!(at(sql, e[0].0), "session_window.start AS s");
    let sql = "SELECT count(*), session_window.start AS session_window_start, session_window.end AS session_window_end FROM events GROUP BY session_window(timestamp, '5 minutes')";
    let e = errors(sql);
    assert!(e[0].1.starts_with("streamc outputs the window bounds, then"), "{e:?}");
    assert_eq!(at(sql, e[0].0), "session_window.start AS session_window_start");
    let sql = "SELECT session_window.start AS session_window_start, count(*) FROM events GROUP BY window(timestamp, '5 minutes')";
    let e = errors(sql);
    assert_eq!(e[0].1, "`session_window.start` needs `GROUP BY session_window(<time>, <gap>)`");
    assert_eq!(at(sql, e[0].0), "session_window.start AS session_window_start");
    let sql = "SELECT word, count(*) FROM events GROUP BY session_window(timestamp, '5 minutes'), word";
    let e = errors(sql);
    assert!(e[0].1.starts_with("the grouping session_window is not selected"), "{e:?}");
    assert_eq!(at(sql, e[0].0), "session_window(timestamp, '5 minutes')");
    let sql = "SELECT window.start AS window_start, window.end AS window_end, count(*) FROM events GROUP BY window(timestamp, '5 minutes'), session_window(timestamp, '1 minute')";
    let e = errors(sql);
    assert!(e[0].1.starts_with("a query groups by one time window"), "{e:?}");
    assert_eq!(at(sql, e[0].0), "session_window(timestamp, '1 minute')");
    let sql = "SELECT session_window.end FROM events";
    assert_eq!(at(sql, errors(sql)[0].0), "session_window.end");
}

#[test]
fn lowers_joins_with_static_tables() {
    assert_eq!(
        steps("SELECT word, category FROM events JOIN categories USING (word)"),
        "from events; Join { table: \"categories\", on: [\"word\"], how: Inner }; select [word, category]"
    );
    assert_eq!(
        steps(
            "SELECT e.word, c.category AS cat FROM events e LEFT OUTER JOIN categories AS c ON e.word = c.word AND (c.lang = e.lang) WHERE c.category <> 'x'"
        ),
        "from events; Join { table: \"categories\", on: [\"word\", \"lang\"], how: LeftOuter }; where (category != 'x'); select [word, category AS cat]"
    );
    assert_eq!(
        steps(
            "SELECT * FROM events LEFT JOIN categories ON events.word = categories.word INNER JOIN langs USING (lang)"
        ),
        "from events; Join { table: \"categories\", on: [\"word\"], how: LeftOuter }; Join { table: \"langs\", on: [\"lang\"], how: Inner }"
    );
    // The checker reports problems of the join (a stream, not a static table) at its text.
    let sql = "SELECT word FROM events JOIN other ON events.word = other.word";
    let l = lower(sql, &[], &mut no_span).expect("lowers");
    assert_eq!(at(sql, l.steps[0].1), "JOIN other ON events.word = other.word");

    let sql = "SELECT word FROM events RIGHT OUTER JOIN categories USING (word)";
    let e = errors(sql);
    assert_eq!(
        e[0].1,
        "`RIGHT OUTER JOIN` of a stream with a static table is not supported on streaming DataFrames/Datasets"
    );
    assert_eq!(at(sql, e[0].0), "RIGHT OUTER JOIN");
    let sql = "SELECT word FROM events full join categories USING (word)";
    assert_eq!(at(sql, errors(sql)[0].0), "full join");
    let sql = "SELECT word FROM events CROSS JOIN categories";
    let e = errors(sql);
    assert_eq!(e[0].1, "`CROSS JOIN` is not supported by streamc yet");
    assert_eq!(at(sql, e[0].0), "CROSS JOIN");
    let sql = "SELECT word FROM events LEFT SEMI JOIN categories USING (word)";
    assert_eq!(at(sql, errors(sql)[0].0), "LEFT SEMI JOIN");
    let sql = "SELECT word FROM events JOIN categories ON events.word = categories.name";
    let e = errors(sql);
    assert_eq!(e[0].1, "streamc joins on columns of the same name, found `events.word = categories.name`");
    assert_eq!(at(sql, e[0].0), "events.word = categories.name");
    let sql = "SELECT word FROM events e JOIN categories c ON e.word = c.word AND e.n > c.n";
    let e = errors(sql);
    assert_eq!(e[0].1, "streamc joins on equal columns, found `e.n > c.n`");
    assert_eq!(at(sql, e[0].0), "e.n > c.n");
    let sql = "SELECT word FROM events e JOIN categories c ON e.word = e.word";
    assert_eq!(errors(sql)[0].1, "`e.word = e.word` compares columns of the same table");
    let sql = "SELECT word FROM events JOIN categories ON x.word = categories.word";
    assert_eq!(at(sql, errors(sql)[0].0), "x.word = categories.word");
    // A subquery is a stream (a static table is joined by name): `USING` between streams is not
    // supported.
    let sql = "SELECT word FROM events JOIN (SELECT * FROM categories) c USING (word)";
    assert!(errors(sql)[0].1.contains("USING (..)` of two streams is not supported"), "{:?}", errors(sql));
    assert_eq!(at(sql, errors(sql)[0].0), "JOIN (SELECT * FROM categories) c USING (word)");
    let sql = "SELECT word FROM events NATURAL JOIN categories";
    assert_eq!(errors(sql)[0].1, "`NATURAL JOIN` is not supported by streamc");
    let sql = "SELECT word FROM events JOIN categories";
    assert_eq!(errors(sql)[0].1, "`JOIN` needs the columns to join on");
    // `c` is no table's name here: `c.category` is the field `category` of a struct column `c`
    // (which the checker then does not find).
    let sql = "SELECT c.category FROM events JOIN categories USING (word)";
    let l = lower(sql, &[], &mut no_span).expect("lowers");
    assert!(matches!(&l.steps[1].0, Step::Select(items) if list(items) == "[c.category]"), "{l:?}");
}

#[test]
fn lowers_select_distinct_as_spark_does_an_aggregation() {
    assert_eq!(
        steps("SELECT DISTINCT word, upper(word) AS w FROM events WHERE word <> ''"),
        "from events; where (word != ''); group_by [word, upper(word) AS w] agg []"
    );
    assert_eq!(
        steps("SELECT DISTINCT explode(split(value, ' ')) AS word FROM lines"),
        "from lines; select [explode(split(value, ' ')) AS word]; group_by [word] agg []"
    );
    let sql = "SELECT DISTINCT word, count(*) FROM events GROUP BY word";
    let e = errors(sql);
    assert_eq!(e[0].1, "Multiple streaming aggregations are not supported with streaming DataFrames/Datasets");
    assert_eq!(at(sql, e[0].0), "DISTINCT");
    let sql = "select distinct * from events";
    let e = errors(sql);
    assert_eq!(e[0].1, "`SELECT DISTINCT *` is not supported by streamc yet");
    assert_eq!(at(sql, e[0].0), "distinct");
    let sql = "SELECT DISTINCT ON (word) word FROM events";
    assert_eq!(at(sql, errors(sql)[0].0), "DISTINCT");
}

#[test]
fn lowers_union_all_of_sources() {
    assert_eq!(
        steps("SELECT * FROM a UNION ALL SELECT * FROM b UNION ALL SELECT * FROM c"),
        "from a; Union { source: \"b\", watermark: None }; Union { source: \"c\", watermark: None }"
    );
    assert_eq!(
        steps("SELECT a.word, ts FROM a UNION ALL SELECT word, b.ts FROM b"),
        "from a; Union { source: \"b\", watermark: None }; select [word, ts]"
    );
    assert_eq!(
        steps("SELECT word, count(*) FROM (SELECT * FROM a UNION ALL SELECT * FROM b) GROUP BY word"),
        "from a; Union { source: \"b\", watermark: None }; group_by [word] agg [count(*)]"
    );
    let sql = "SELECT * FROM a UNION SELECT * FROM b";
    let e = errors(sql);
    assert_eq!(e[0].1, "`UNION` (distinct) of streaming queries is not supported by streamc yet");
    assert_eq!(at(sql, e[0].0), "UNION");
    let sql = "SELECT * FROM a EXCEPT SELECT * FROM b";
    let e = errors(sql);
    assert_eq!(e[0].1, "`EXCEPT` of streaming queries is not supported by streamc");
    assert_eq!(at(sql, e[0].0), "EXCEPT");
    let sql = "SELECT * FROM a UNION ALL SELECT * FROM b WHERE n > 1";
    let e = errors(sql);
    assert_eq!(e[0].1, "each side of `UNION ALL` is `SELECT * FROM <source>`");
    assert_eq!(at(sql, e[0].0), "n > 1");
    let sql = "SELECT word FROM a UNION ALL SELECT upper(word) FROM b";
    let e = errors(sql);
    assert_eq!(e[0].1, "the sides of `UNION ALL` select different columns");
    assert_eq!(at(sql, e[0].0), "upper(word)");
    let sql = "SELECT * FROM a UNION ALL SELECT * FROM (SELECT * FROM b)";
    assert_eq!(at(sql, errors(sql)[0].0), "(SELECT * FROM b)");
}

#[test]
fn to_date_is_a_function_and_date_literals_are_errors() {
    assert_eq!(
        steps("SELECT to_date(timestamp) AS day, word FROM events"),
        "from events; select [to_date(timestamp) AS day, word]"
    );
    let sql = "SELECT word FROM events WHERE to_date(timestamp) = DATE '2024-01-01'";
    let e = lower(sql, &[], &mut no_span).expect_err("an error");
    assert_eq!(e[0].message, "typed literals such as `DATE '2024-01-01'` are not supported by streamc yet");
    assert_eq!(e[0].help.as_deref(), Some("write `to_date('2024-01-01')`"));
    assert_eq!(at(sql, e[0].pos), "DATE '2024-01-01'");
}

#!/usr/bin/env python3
"""Writes the SQL conformance cases, one file per topic: `python3 gen.py` (all topics) or
`python3 gen.py TOPIC...`. Each case is in sql_oracle.py's format; `regen.sh TOPIC` runs Spark on
them. Cases are data: edit this file, regenerate, review the answers' diff."""
import json, sys

SCHEMA = {"timestamp": "timestamp", "word": "string", "n": "bigint", "d": "double", "day": "date"}


def row(t, word, n, d=None, day=None):
    r = {"timestamp": "2024-03-01T%s" % t, "word": word, "n": n}
    if d is not None:
        r["d"] = d
    if day is not None:
        r["day"] = day
    return r


def case(id, sql, batches, mode="append", watermark=None, schema=SCHEMA, steps=None, ordered=False):
    c = {"id": id, "schema": schema, "sql": sql, "watermark": watermark, "output_mode": mode, "batches": batches}
    if ordered:
        # Spark's row order is part of the answer (ORDER BY): compared as a list, not a set.
        c["ordered"] = True
    if steps is not None:
        # The same query as YAML `steps:` (streamc only; Spark runs `sql`).
        c["steps"] = steps
    return c


WM = {"column": "timestamp", "delay": "10 minutes"}


def global_agg():
    some = [row("09:00:00", "a", 1), row("09:01:00", "b", 2)]
    storm = [row("09:02:00", "storm", 3), row("09:03:00", "b", 4), row("09:04:00", "storm", 5)]
    batches = [some, [], storm, [row("09:05:00", "c", 6)], []]
    q = "SELECT count(*) AS c, sum(n) AS s, max(n) AS m FROM events WHERE word = 'storm'"
    steps = [{"where": "word = 'storm'"}, {"group_by": [], "agg": ["count(*) AS c", "sum(n) AS s", "max(n) AS m"]}]
    out = []
    for mode in ["complete", "update"]:
        out.append(case("where-" + mode, q, batches, mode, steps=steps))
        out.append(case("empty-first-" + mode, "SELECT count(*) AS c, min(word) AS w, avg(n) AS a FROM events",
                        [[], some, [], storm], mode,
                        steps=[{"group_by": [], "agg": ["count(*) AS c", "min(word) AS w", "avg(n) AS a"]}]))
        out.append(case("watermark-" + mode, "SELECT count(*) AS c, sum(n) AS s FROM events",
                        [[], some, [], storm, []], mode, WM))
    out.append(case("append-refused", "SELECT count(*) AS c FROM events", [some], "append", WM))
    return out


def trim():
    s = {"word": "string"}
    words = ["\tstorm ", "  x  ", "\n y\n", " \u00a0z\u00a0 ", "", "xxyxaxyx", "yx x xy", "plain"]
    rows = [[{"word": w} for w in words[:4]], [{"word": w} for w in words[4:]] + [{}]]
    return [
        case("functions", "SELECT word, trim(word) AS t, ltrim(word) AS l, rtrim(word) AS r FROM events", rows,
             schema=s),
        case("syntax", "SELECT TRIM(word) AS a, TRIM(BOTH 'x' FROM word) AS b, TRIM(LEADING 'xy' FROM word) AS c, "
                       "TRIM(TRAILING 'x' FROM word) AS d, TRIM('x ' FROM word) AS e FROM events", rows, schema=s),
        case("leading-trailing", "SELECT TRIM(LEADING FROM word) AS l, TRIM(TRAILING FROM word) AS t, "
                                 "TRIM(BOTH FROM word) AS b FROM events", rows, schema=s),
        case("two-args", "SELECT word, trim('x', word) AS t, ltrim('xy', word) AS l, rtrim('x ', word) AS r "
                         "FROM events", rows, schema=s),
    ]


def coercion():
    b = [[row("09:00:00", "a", 1, 0.5, "2024-02-29"), row("09:20:00", "b", 3, 2.5, "2024-03-01"),
          row("09:30:00", "c", 4, -1.0, "2024-03-02")],
         [row("09:19:59", "d", 10, 3.0), {"word": "e"}]]
    c = lambda id, sql: case(id, sql, b)
    return [
        c("timestamp-string", "SELECT word FROM events WHERE timestamp >= '2024-03-01 09:20:00'"),
        c("string-timestamp", "SELECT word FROM events WHERE '2024-03-01 09:20:00' > timestamp"),
        c("timestamp-date-string", "SELECT word FROM events WHERE timestamp < '2024-03-01'"),
        c("date-string", "SELECT word FROM events WHERE day = '2024-03-01'"),
        c("date-timestamp", "SELECT word FROM events WHERE timestamp > day"),
        c("long-string", "SELECT word FROM events WHERE n > '3'"),
        c("double-string", "SELECT word FROM events WHERE d <= '2.5'"),
        c("long-double", "SELECT word FROM events WHERE n = 3.0 OR d = 3"),
        c("arithmetic", "SELECT word, n + d AS a, n / 2 AS b, n * 2 AS c, d - n AS e, n % 3 AS f FROM events"),
        c("string-arithmetic", "SELECT word, n + '1' AS a, d * '2' AS b FROM events"),
        c("function-args", "SELECT word, length(n) AS a, upper(d) AS b FROM events"),
        c("date-function-string", "SELECT word, to_date('2024-03-01') AS a FROM events"),
        c("in-list", "SELECT word FROM events WHERE n IN (1, 4, '10')"),
        c("not-in-list", "SELECT word FROM events WHERE word NOT IN ('a', 'b')"),
        c("between", "SELECT word FROM events WHERE timestamp BETWEEN '2024-03-01 09:00:00' AND '2024-03-01 09:20:00'"),
        c("between-numbers", "SELECT word FROM events WHERE d NOT BETWEEN 0 AND 2.5"),
        c("bad-string-number", "SELECT word FROM events WHERE n > 'abc'"),
        c("bool-string", "SELECT word FROM events WHERE (n > 1) = 'true'"),
        c("bad-string-column", "SELECT n FROM events WHERE word > 5"),
        c("bad-string-timestamp", "SELECT n FROM events WHERE word < timestamp"),
        c("refused-bool-long", "SELECT word FROM events WHERE (n > 1) = 1"),
        c("refused-timestamp-long", "SELECT word FROM events WHERE timestamp > 5"),
    ] + string_arguments()


def string_arguments():
    """A string where a function takes another type is cast to it (ANSI implicit casts): to a
    double where it takes any number (`abs`, `round`, `sqrt`), to an int where it takes an int
    (`date_add`'s days, `substring`'s positions), to a date or timestamp; text that does not
    cast fails the batch with CAST_INVALID_INPUT naming that type."""
    s = {"w": "string", "x": "string", "day": "date", "n": "bigint"}
    b = [[{"w": "-3.5", "x": "3", "day": "2024-03-01", "n": 1}, {"w": " 2 ", "x": "-2", "day": "2024-02-29", "n": 2},
          {"w": "1e400", "x": " 10 ", "n": 3}],
         [{"w": "NaN", "x": "0", "day": "2024-12-31", "n": 4}, {"x": "1", "n": 5}, {"w": "-Infinity", "n": 6}]]
    dates = [[{"w": "2024-03-01", "x": "3", "n": 1}, {"w": "2024-02-29 23:59:59", "x": "-1", "n": 2},
              {"w": "2024-12-31T10", "x": " 1 ", "n": 3}], [{"w": "2024-01-01", "n": 4}, {"x": "2", "n": 5}]]
    c = lambda id, sql, batches=b: case(id, sql, batches, schema=s)
    bad = lambda w, x="1", day="2024-03-01": [[{"w": w, "x": x, "day": day, "n": 1}]]
    return [
        c("abs-string", "SELECT n, abs(w) AS a, typeof(abs(w)) AS t, abs(x) AS b, abs('-7') AS c FROM events"),
        c("math-strings", "SELECT n, round(x) AS r, typeof(round(x)) AS rt, sqrt(abs(x)) AS q, pow(x, '2') AS p FROM events"),
        c("date-add-strings", "SELECT n, date_add(w, x) AS a, date_sub(w, x) AS s, date_add(w, '1') AS one, "
                              "typeof(date_add(w, x)) AS t FROM events", dates),
        c("date-add-date-string", "SELECT n, date_add(day, x) AS a, date_sub(day, x) AS s FROM events WHERE n <> 3"),
        c("substring-strings", "SELECT n, substring('streaming', x, '3') AS s FROM events WHERE n <> 3"),
        c("hour-string", "SELECT n, hour(w) AS h, datediff(w, '2024-01-01') AS dd FROM events", dates),
        c("abs-invalid", "SELECT abs(w) AS a FROM events", bad("x")),
        c("date-add-invalid-days", "SELECT date_add(day, x) AS a FROM events", bad("a", x="1.5")),
        c("date-add-days-overflow", "SELECT date_add(day, x) AS a FROM events", bad("a", x="3000000000")),
        c("date-add-invalid-date", "SELECT date_add(w, x) AS a FROM events", bad("03/01/2024")),
        c("date-sub-bigint-refused", "SELECT date_sub(w, n) AS a FROM events", bad("2024-03-01")),
        c("abs-boolean-refused", "SELECT abs(n > 1) AS a FROM events", bad("1")),
    ]


def order():
    b = [[row("09:00:00", "a", 1), row("09:01:00", "b", 2), row("09:02:00", "b", 2)],
         [], [row("09:03:00", "c", 6), row("09:04:00", "a", 1), row("09:05:00", "a", 1)]]
    return [
        case("complete-order", "SELECT word, count(*) AS c FROM events GROUP BY word ORDER BY c DESC, word", b,
             "complete", ordered=True,
             steps=[{"group_by": ["word"], "agg": ["count(*) AS c"]}, {"order_by": ["c DESC", "word"]}]),
        case("complete-order-limit", "SELECT word, sum(n) AS s FROM events GROUP BY word ORDER BY s DESC LIMIT 2", b,
             "complete", ordered=True,
             steps=[{"group_by": ["word"], "agg": ["sum(n) AS s"]}, {"order_by": "s DESC"}, {"limit": 2}]),
        case("update-order-refused", "SELECT word, count(*) AS c FROM events GROUP BY word ORDER BY c", b, "update"),
        case("append-order-refused", "SELECT word FROM events ORDER BY word", b, "append"),
    ]


def wide():
    """Rows of any width: outputs of 7, 20 and 64 columns, and keys and aggregates past 12 (the
    widest tuple the generated state uses before it nests)."""
    b = [[row("09:00:00", "a", 1, 0.5), row("09:01:00", "b", 2, 1.5), row("09:03:00", "a", 5, -2.0)],
         [row("09:06:00", "b", 7, 4.0), row("09:02:00", "a", 3), {"word": "c", "n": 9}],
         [row("09:30:00", "c", 4, 1.0)]]
    report = ("SELECT window.start AS window_start, window.end AS window_end, word, sum(n) AS total, "
              "avg(d) AS mean, min(n) AS lo, max(n) AS hi FROM events "
              "GROUP BY window(timestamp, '5 minutes'), word")
    # Twenty columns in the schema, all selected.
    s20 = {"c%d" % i: ["bigint", "string", "double", "timestamp", "boolean"][i % 5] for i in range(20)}
    vals = lambda k: {"c%d" % i: [k * 10 + i, "s%d_%d" % (k, i), k + i / 4, "2024-03-01T09:%02d:00" % (k + i),
                                  (k + i) % 2 == 0][i % 5] for i in range(20)}
    b20 = [[vals(1), vals(2)], [vals(3), {"c0": 4, "c1": "only"}]]
    cols20 = ", ".join("c%d" % i for i in range(20))
    # Sixty-four output columns computed from five.
    exprs = []
    for i in range(64):
        exprs.append(["n + %d AS n%d" % (i, i), "upper(word) AS w%d" % i, "d * %d AS d%d" % (i, i),
                      "n > %d AS b%d" % (i % 8, i)][i % 4])
    keys13 = ["word", "n", "d"] + ["n + %d" % i for i in range(1, 11)]
    key_cols = ["word", "n", "d"] + ["n + %d AS k%d" % (i, i) for i in range(1, 11)]
    aggs14 = ["count(*) AS c"] + ["sum(n) AS s%d" % i for i in range(5)] + ["max(d) AS m%d" % i for i in range(4)] + \
             ["min(word) AS w%d" % i for i in range(4)]
    return [
        case("report-7-append", report, b, "append", WM),
        case("report-7-update", report, b, "update", WM),
        case("select-20", "SELECT %s FROM events WHERE c0 > 10" % cols20, b20, schema=s20),
        case("project-64", "SELECT %s FROM events" % ", ".join(exprs), b),
        case("keys-13-aggs-14", "SELECT %s, %s FROM events GROUP BY %s" % (", ".join(key_cols), ", ".join(aggs14),
                                                                            ", ".join(keys13)), b, "complete"),
        case("window-keys-12", "SELECT window.start AS window_start, window.end AS window_end, %s, count(*) AS c FROM events "
                               "GROUP BY window(timestamp, '10 minutes'), %s" % (", ".join(key_cols[:12]),
                                                                                 ", ".join(keys13[:12])),
             b, "update", WM),
        case("distinct-14", "SELECT DISTINCT timestamp, word, n, d, %s FROM events" %
             ", ".join("n * %d AS x%d" % (i, i) for i in range(10)), b, "append", WM),
        case("global-aggs-13", "SELECT %s FROM events" % ", ".join(["count(*) AS c"] + ["sum(n) AS s%d" % i for i in
                                                                                        range(12)]), b, "update"),
    ]


def window_start():
    """`window`'s third argument, the start time: an offset that may be zero or negative, less
    than the slide in absolute value, and an error (not a silent 0) when it does not parse."""
    b = [[row("09:00:00", "a", 1), row("09:01:00", "b", 2), row("09:04:00", "a", 5)],
         [row("09:07:00", "b", 7), row("09:12:00", "a", 3)]]
    q = ("SELECT window.start AS window_start, window.end AS window_end, count(*) AS c FROM events "
         "GROUP BY window(timestamp, '10 minutes', '5 minutes', %s)")
    return [case(id, q % start, b, "complete") for id, start in [
        ("two-minutes", "'2 minutes'"), ("negative", "'-2 minutes'"), ("zero", "'0 seconds'"),
        ("bare-zero", "'0'"), ("zero-typo", "'0 minuets'"), ("not-a-duration", "'often'"),
        ("as-long-as-slide", "'5 minutes'"), ("longer-than-slide", "'-7 minutes'")]]


def functions():
    """Issue 12's first part: CAST and try_cast, CASE, if, coalesce, nvl, nullif, IS [NOT] NULL,
    LIKE, abs, round, floor, ceil, concat, substring and calendar parts, with NULLs."""
    b = [[row("09:00:00", "storm", 1, 2.675, "2024-02-29"), row("09:20:59", "st_rm", -3, -0.5, "2024-03-01"),
          {"word": "", "n": 10, "d": 1234.5}],
         [row("23:59:58", "Ästhetik", 0, -2.5), {"timestamp": "2024-03-01T00:00:00", "word": "50%", "d": 9.99},
          {"n": 7, "day": "2023-12-31"}]]
    c = lambda id, sql, **kw: case(id, sql, b, **kw)
    return [
        c("cast-to-string", "SELECT CAST(n AS STRING) AS a, CAST(d AS STRING) AS b, CAST(timestamp AS STRING) AS c, "
                            "CAST(day AS STRING) AS e, CAST(n > 0 AS STRING) AS f FROM events"),
        c("cast-numbers", "SELECT CAST(d AS BIGINT) AS a, CAST(n AS DOUBLE) AS b, CAST(n AS BOOLEAN) AS c, "
                          "CAST(d AS BOOLEAN) AS e, CAST(n > 0 AS BIGINT) AS f FROM events"),
        c("cast-times", "SELECT CAST(timestamp AS BIGINT) AS a, CAST(timestamp AS DOUBLE) AS b, "
                        "CAST(timestamp AS DATE) AS c, CAST(day AS TIMESTAMP) AS e, CAST(n AS TIMESTAMP) AS f FROM events"),
        c("cast-keeps-name", "SELECT CAST(n AS STRING), word FROM events"),
        c("cast-string-ok", "SELECT CAST('12' AS BIGINT) AS a, CAST(' 2.5 ' AS DOUBLE) AS b, "
                            "CAST('2024-03-01 10:00:00' AS TIMESTAMP) AS c, CAST('true' AS BOOLEAN) AS e FROM events"),
        c("cast-string-fails", "SELECT CAST(word AS BIGINT) AS a FROM events"),
        c("try-cast", "SELECT TRY_CAST(word AS BIGINT) AS a, TRY_CAST(word AS TIMESTAMP) AS b, "
                      "TRY_CAST(d AS BIGINT) AS c FROM events"),
        c("cast-date-long-refused", "SELECT CAST(day AS BIGINT) AS a FROM events"),
        c("cast-bool-timestamp-refused", "SELECT CAST(n > 1 AS TIMESTAMP) AS a FROM events"),
        c("case-searched", "SELECT word, CASE WHEN n > 5 THEN 'big' WHEN n > 0 THEN 'small' ELSE 'none' END AS size "
                           "FROM events", steps=[{"select": ["word", "CASE WHEN n > 5 THEN 'big' WHEN n > 0 THEN 'small' "
                                                             "ELSE 'none' END AS size"]}]),
        c("case-simple-no-else", "SELECT n, CASE n WHEN 1 THEN 'one' WHEN 10 THEN 'ten' END AS name FROM events"),
        c("case-null-else", "SELECT CASE WHEN d > 0 THEN d ELSE NULL END AS pos, CASE WHEN n IS NULL THEN -1 ELSE n END "
                            "AS m FROM events"),
        c("case-mixed-numbers", "SELECT CASE WHEN n > 0 THEN n ELSE d END AS x FROM events"),
        c("if-coalesce-nvl", "SELECT if(n > 0, word, 'neg') AS a, coalesce(d, n, 0) AS b, nvl(word, 'none') AS c, "
                             "ifnull(n, 0) AS e, nullif(word, '') AS f FROM events"),
        c("is-null", "SELECT word, d IS NULL AS a, timestamp IS NOT NULL AS b FROM events WHERE n IS NOT NULL",
          steps=[{"where": "n IS NOT NULL"}, {"select": ["word", "d IS NULL AS a", "timestamp IS NOT NULL AS b"]}]),
        c("like", "SELECT word, word LIKE 'st%' AS a, word LIKE '_t_rm' AS b, word LIKE '50\\%' AS c, "
                  "word NOT LIKE '%m' AS e FROM events"),
        c("math", "SELECT abs(n) AS a, abs(d) AS b, round(d) AS c, round(d, 2) AS e, round(d, -1) AS f, "
                  "round(n, -1) AS g, floor(d) AS h, ceil(d) AS i, floor(n) AS j FROM events"),
        c("concat-substring", "SELECT concat(word, '-', n) AS a, substring(word, 2) AS b, substring(word, -3) AS c, "
                              "substr(word, 2, 3) AS e, substring(word, 0, 2) AS f FROM events"),
        c("calendar", "SELECT year(timestamp) AS y, month(timestamp) AS m, dayofmonth(timestamp) AS d, "
                      "hour(timestamp) AS h, minute(timestamp) AS mi, second(timestamp) AS s, year(day) AS dy, "
                      "day(day) AS dd FROM events"),
        c("case-in-group-by", "SELECT CASE WHEN n > 0 THEN 'pos' ELSE 'other' END AS sign, count(*) AS c FROM events "
                              "GROUP BY CASE WHEN n > 0 THEN 'pos' ELSE 'other' END", mode="complete"),
    ]


def dates():
    """Issue 12's date functions: date_format, from_unixtime, unix_timestamp, date_add, date_sub,
    datediff, dayofweek."""
    b = [[row("09:05:07", "a", 1709251200, 0.5, "2024-02-29"), row("23:59:59", "b", -1, 1.0, "2024-01-01")],
         [{"timestamp": "1999-12-31T00:00:00.123456", "word": "c", "n": 0, "day": "1970-01-01"}, {"word": "d"}]]
    c = lambda id, sql: case(id, sql, b)
    return [
        c("date-format", "SELECT date_format(timestamp, 'yyyy-MM-dd HH:mm') AS a, date_format(timestamp, 'dd MMM yy') AS b, "
                         "date_format(timestamp, 'EEE h:mm a') AS c, date_format(timestamp, 'HH:mm:ss.SSS') AS e, "
                         "date_format(day, 'EEEE D') AS f, date_format(timestamp, \"'T'HH\") AS g FROM events"),
        c("unix", "SELECT from_unixtime(n) AS a, from_unixtime(n, 'yyyy/MM/dd') AS b, unix_timestamp(timestamp) AS c, "
                  "unix_timestamp(day) AS e FROM events"),
        c("date-arithmetic", "SELECT date_add(day, 1) AS a, date_sub(day, 1) AS b, datediff(to_date(timestamp), day) AS c, "
                             "date_add(timestamp, -3) AS e, dayofweek(day) AS f, dayofweek(timestamp) AS g FROM events"),
        # Spark takes the days as an INT; a BIGINT column is refused.
        c("date-add-bigint-refused", "SELECT date_add(day, n) AS a FROM events"),
        c("date-format-quarter", "SELECT date_format(timestamp, 'yyyy-QQ QQQ') AS a FROM events"),
    ]


def having():
    """HAVING: a filter of an aggregation's output rows (on selected aggregates, by call or alias)."""
    b = [[row("09:00:00", "a", 1), row("09:01:00", "b", 2), row("09:02:00", "a", 3)],
         [], [row("09:03:00", "c", 6), row("09:04:00", "b", 1), row("09:15:00", "a", 1)], [row("09:40:00", "d", 1)]]
    return [
        case("complete", "SELECT word, count(*) AS c FROM events GROUP BY word HAVING count(*) > 1", b, "complete",
             steps=[{"group_by": ["word"], "agg": ["count(*) AS c"]}, {"where": "c > 1"}]),
        case("update-alias", "SELECT word, count(*) AS c, sum(n) AS s FROM events GROUP BY word HAVING c > 1 AND s < 6",
             b, "update"),
        case("window-append", "SELECT window.start AS window_start, window.end AS window_end, count(*) AS c "
                              "FROM events GROUP BY window(timestamp, '10 minutes') HAVING count(*) >= 2", b, "append", WM),
        case("global", "SELECT count(*) AS c, max(n) AS m FROM events HAVING count(*) > 2 OR max(n) IS NULL", b, "update"),
    ]


def aggregates():
    """first, last, stddev, stddev_pop, variance, var_pop: with NULLs, in complete and update mode,
    and in session windows (whose sessions merge their accumulators)."""
    b = [[row("09:00:00", "a", 1, 2.0), row("09:01:00", "b", 2), row("09:02:00", "a", 3, 4.0),
          row("09:03:00", "a", 6, 7.5)],
         [row("09:04:00", "b", 5, 1.25), {"timestamp": "2024-03-01T09:05:00", "word": "a"}],
         [row("09:06:00", "c", 4, 3.0), row("09:30:00", "a", 1, -1.0)]]
    q = ("SELECT word, first(n) AS f, last(d) AS l, stddev(d) AS sd, stddev_pop(n) AS sp, variance(n) AS v, "
         "var_pop(d) AS vp FROM events GROUP BY word")
    return [
        case("complete", q, b, "complete"),
        case("update", q, b, "update"),
        case("logical", "SELECT word, count_if(n > 2) AS ci, bool_and(n > 1) AS ba, every(d > 0) AS ev, "
                        "bool_or(n > 5) AS bo, some(d IS NULL) AS so FROM events GROUP BY word", b, "update"),
        case("session", "SELECT session_window.start AS session_window_start, session_window.end AS "
                        "session_window_end, word, stddev(d) AS sd, var_pop(n) AS vp, first(n) AS f, last(n) AS l "
                        "FROM events GROUP BY session_window(timestamp, '2 minutes'), word", b, "append", WM),
    ]


def interval():
    """Day-time intervals added to and subtracted from timestamps (and dates, strings)."""
    b = [[row("09:00:00", "a", 1, None, "2024-02-29"), row("23:30:00.5", "b", 2)], [{"word": "c"}]]
    c = lambda id, sql: case(id, sql, b)
    return [
        c("arithmetic", "SELECT word, timestamp + INTERVAL 1 HOUR AS a, timestamp - INTERVAL '90' MINUTE AS b, "
                        "INTERVAL '1 day 2 hours' + timestamp AS c, timestamp + INTERVAL 1.5 SECONDS AS e FROM events"),
        c("filter", "SELECT word FROM events WHERE timestamp > '2024-03-01 09:00:00' + INTERVAL 10 MINUTES"),
        c("date", "SELECT word, day + INTERVAL 2 HOURS AS a FROM events"),
        # Year-month intervals: the day clamped to the month's end, the time of day kept.
        case("months", "SELECT word, timestamp + INTERVAL 1 MONTH AS a, day + INTERVAL 2 MONTHS AS b, "
                       "timestamp - INTERVAL 1 YEAR AS c, day + INTERVAL '1 year 1 month' AS d, day - INTERVAL 13 MONTHS AS e FROM events",
             [[{"timestamp": "2024-01-31T10:30:00", "word": "a", "n": 1, "day": "2024-01-31"},
               {"timestamp": "2024-02-29T23:59:59", "word": "b", "n": 2, "day": "2023-12-31"}], [{"word": "c"}]]),
        c("mixed", "SELECT timestamp + INTERVAL '1 month 2 days' AS a FROM events"),
    ]


def regexp():
    """RLIKE, regexp_extract, regexp_replace (Java's patterns: `\\d \\w \\s` are ASCII classes)."""
    s = {"word": "string"}
    words = ["user-42 logged in", "ERROR 500: x", "Ästhetik 7", "", "a1b22c333", "naïve café"]
    b = [[{"word": w} for w in words[:3]], [{"word": w} for w in words[3:]] + [{}]]
    c = lambda id, sql: case(id, sql, b, schema=s)
    return [
        c("rlike", "SELECT word, word RLIKE '\\\\d+' AS a, word RLIKE '^[A-Z]+ ' AS b, word NOT RLIKE 'in$' AS e, "
                   "regexp_like(word, '\\\\w\\\\s\\\\d') AS f FROM events"),
        c("extract", "SELECT regexp_extract(word, '(\\\\w+)-(\\\\d+)', 2) AS a, regexp_extract(word, '([a-z])(\\\\d+)', 0) AS b, "
                     "regexp_extract(word, '(x)?(\\\\d)', 1) AS e, regexp_extract(word, '(\\\\w+)') AS f FROM events"),
        c("replace", "SELECT regexp_replace(word, '\\\\d', '#') AS a, regexp_replace(word, '([a-z])(\\\\d+)', '$2$1') AS b, "
                     "regexp_replace(word, '\\\\s+', '_') AS e FROM events"),
        c("bad-group", "SELECT regexp_extract(word, '(a)', 2) AS a FROM events"),
    ]


def to_timestamp():
    """to_timestamp and to_date of strings, with and without a pattern; what does not parse."""
    s = {"word": "string"}
    words = ["2024-03-01 09:05:07", "01/03/2024 9:05", "2024-03-01T09:05:07.25", "1 Mar 2024, 9 PM", "2024-3-1"]
    b = [[{"word": w} for w in words], [{}]]
    bad = [[{"word": "2024-03-01 09:05:07"}, {"word": "yesterday"}]]
    c = lambda id, sql, batches=b: case(id, sql, batches, schema=s)
    return [
        c("default", "SELECT word, to_timestamp(word) AS t, to_date(word) AS d FROM events WHERE word LIKE '2024-03-01%'"),
        c("patterns", "SELECT word, CASE WHEN word LIKE '%/%' THEN to_timestamp(word, 'dd/MM/yyyy H:mm') END AS a, "
                      "CASE WHEN word LIKE '%M' THEN to_timestamp(word, 'd MMM yyyy, h a') END AS b, "
                      "CASE WHEN word = '2024-3-1' THEN to_date(word, 'yyyy-M-d') END AS c, "
                      "CASE WHEN word LIKE '%T%' THEN to_timestamp(word, \"yyyy-MM-dd'T'HH:mm:ss.SS\") END AS e FROM events"),
        c("unparsable-date-default", "SELECT to_date(word) AS t FROM events", bad),
        c("unparsable-default", "SELECT to_timestamp(word) AS t FROM events", bad),
        c("unparsable-pattern", "SELECT to_timestamp(word, 'yyyy-MM-dd HH:mm:ss') AS t FROM events", bad),
        c("unparsable-date", "SELECT to_date(word, 'yyyy-MM-dd') AS t FROM events", bad),
        # The shorter forms Spark's cast takes: the year alone, year and month, the hour alone,
        # a dot without digits.
        c("partial-forms", "SELECT word, CAST(word AS TIMESTAMP) AS t, to_timestamp(word) AS u FROM events",
          [[{"word": w} for w in ["2024", "2024-03", "2024-3", "2024-01-01 12", "2024-01-01T12",
                                  "2024-01-01 12:00:00.", "2024-03-01 12:00:00.5"]]]),
    ] + numbers_to_timestamp()


def numbers_to_timestamp():
    """to_timestamp of a number is its CAST (seconds since the epoch): an integer saturates at
    the range's ends, a double truncates to the microsecond (NaN fails, an overflow fails on its
    microseconds as a bigint), a decimal truncates toward zero and keeps the low 64 bits of its
    microseconds (no failure); to_date of a number, and to_timestamp of a boolean, parse its text."""
    s = {"k": "bigint", "i": "int", "d": "double", "f": "float", "m": "decimal(20,7)", "g": "decimal(38,6)",
         "b": "boolean"}
    b = [[{"k": 3, "i": 7, "d": 2.5, "f": 1.25, "m": "1.0000005", "g": "9223372036854.775807"},
          {"k": -2, "i": -1, "d": -1.5, "f": -0.5, "m": "-0.0000009", "g": "99999999999999999999"}],
         [{"k": 9223372036854775807, "i": 2147483647, "d": 1e12 + 0.25, "m": "-1.2345678", "g": "92233720368547.758080"},
          {"k": -9223372036854775807, "d": -0.0000015, "m": "1709251200.1234567", "g": "-9223372036854.775809"},
          {}]]
    one = [[{"k": 1, "d": 1.5}]]
    c = lambda id, sql, batches=b: case(id, sql, batches, schema=s)
    ms = lambda x: "unix_millis(%s) AS %s_ms, CAST(%s AS STRING) AS %s_s" % (x[0], x[1], x[0], x[1])
    return [
        c("numbers", "SELECT k, typeof(to_timestamp(k)) AS ty, %s FROM events" % ", ".join(
            ms(x) for x in [("to_timestamp(k)", "k"), ("to_timestamp(i)", "i"), ("to_timestamp(d)", "d"),
                            ("to_timestamp(f)", "f"), ("to_timestamp(m)", "m")])),
        c("cast-decimal", "SELECT k, %s, %s, unix_millis(to_timestamp(g)) AS tg, "
                          "unix_millis(TRY_CAST(g AS TIMESTAMP)) AS tg2 FROM events"
          % (ms(("CAST(m AS TIMESTAMP)", "m")), ms(("CAST(CAST(m AS DECIMAL(12,1)) AS TIMESTAMP)", "m1")))),
        c("try-cast-double", "SELECT k, unix_millis(TRY_CAST(d * 1e8 AS TIMESTAMP)) AS a, "
                             "unix_millis(TRY_CAST(CAST('NaN' AS DOUBLE) + d AS TIMESTAMP)) AS nan FROM events WHERE k <> 3"),
        c("double-overflow", "SELECT to_timestamp(d * 1e8) AS t FROM events"),
        c("double-nan", "SELECT to_timestamp(CAST('NaN' AS DOUBLE) + d) AS t FROM events WHERE k = 3"),
        c("float-infinity", "SELECT to_timestamp(CAST('-Infinity' AS FLOAT)) AS t FROM events"),
        c("date-of-number", "SELECT to_date(k) AS t FROM events", one),
        c("date-of-double", "SELECT to_date(d) AS t FROM events", one),
        c("timestamp-of-boolean", "SELECT to_timestamp(k > 0) AS t FROM events", one),
        c("timestamp-of-null-boolean", "SELECT to_timestamp(b) AS t FROM events", one),
        c("number-with-pattern", "SELECT to_timestamp(k, 'yyyy') AS t FROM events", one),
        c("boolean-with-pattern", "SELECT to_timestamp(k > 0, 'yyyy') AS t FROM events", one),
        case("dates-with-pattern", "SELECT to_timestamp(day, 'yyyy') AS a, to_timestamp(ts, 'HH') AS b FROM events",
             [[{"day": "2024-03-01", "ts": "2024-03-01T10:11:12"}, {}]], schema={"day": "date", "ts": "timestamp"}),
    ]


def strings_math():
    """String and math functions: replace, lpad, rpad, instr, locate, initcap, reverse, repeat,
    left, right, sqrt, exp, ln, log10, sign, pow, greatest, least."""
    b = [[row("09:00:00", "storm front", 4, 2.25), row("09:01:00", "ÄPFEL und birnen", -2, 0.5),
          row("09:02:00", "", 0, 0.0)],
         [{"word": "hi", "n": 1}, {"n": 3, "d": 10.0}]]
    c = lambda id, sql: case(id, sql, b)
    return [
        c("strings", "SELECT replace(word, 'o', '0') AS a, replace(word, ' ') AS b, lpad(word, 6, 'ab') AS c, "
                     "rpad(word, 4) AS e, instr(word, 'r') AS f, locate('n', word, 8) AS g, initcap(word) AS h, "
                     "reverse(word) AS i, repeat(word, 2) AS j, left(word, 3) AS k, right(word, 3) AS l FROM events"),
        c("math", "SELECT sqrt(d) AS a, exp(n) AS b, ln(d) AS c, log10(d) AS e, sign(n) AS f, pow(n, 2) AS g, "
                  "pow(d, 0.5) AS h, greatest(n, 1, 2) AS i, least(d, n) AS j, greatest(word, 'm') AS k FROM events"),
        c("format-string", "SELECT format_string('%s|%5d|%-4s|%.2f|%08.3f|%,d|%b', word, n, word, d, d, n * 1000, n > 1) AS a, "
                           "format_string('%2$s-%1$s|%3$d', word, timestamp, day) AS b, printf('%x %o %S', n + 60, n + 8, word) AS c, "
                           "format_string('%10.3e|%+d|% d', d, n, n) AS e FROM events"),
        c("format-string-bad", "SELECT format_string('%d', word) AS a FROM events"),
        c("format-string-char", "SELECT format_string('%c', n) AS a FROM events"),
    ]


def arith():
    """ANSI arithmetic: results where Spark has them (signs of `%`, `pmod`, division of longs,
    `bround`, `log` with a base, `concat_ws` skipping NULLs), and the errors that fail the
    batch: division by zero (`/`, `%`, `pmod`, of longs and doubles) and long overflow (`+`,
    `-`, `*`, unary minus)."""
    b = [[row("09:00:00", "storm", 7, 2.5), row("09:01:00", "front", -7, -2.5), row("09:02:00", None, 3, 0.25)],
         [row("09:03:00", "x", -3, 1e300), {"n": 9, "d": -0.0}, {"word": "only"}]]
    c = lambda id, sql: case(id, sql, b)
    big = [[row("09:00:00", "a", 9223372036854775807, 1.0)]]
    small = [[row("09:00:00", "a", -9223372036854775807 - 1, 1.0)]]
    zero = [[row("09:00:00", "a", 5, 1.0), row("09:01:00", "b", 0, 0.0)]]
    return [
        c("ok", "SELECT n % 3 AS a, n % -3 AS b, d % 2 AS c, 10 / n AS e, n / 4 AS f, d / 2 AS g, pmod(n, 3) AS h, "
                "pmod(n, -3) AS i, pmod(d, 2) AS j, n * 2 + 1 AS k, -n AS l FROM events"),
        c("functions", "SELECT bround(d, 0) AS a, bround(2.5, 0) AS b, bround(3.5, 0) AS c, bround(-2.5) AS e, "
                       "bround(n, -1) AS f, log(2, 8) AS g, log(d) AS h, log(10, n) AS i, "
                       "concat_ws('-', word, 'z', word) AS j, concat_ws(word, 'a', 'b') AS k FROM events"),
        case("div-zero-long", "SELECT 10 / n AS q FROM events", zero),
        case("mod-zero", "SELECT n % 0 AS q FROM events", zero),
        case("div-zero-double", "SELECT d / d AS q FROM events", zero),
        case("pmod-zero", "SELECT pmod(n, n - n) AS q FROM events", zero),
        case("add-overflow", "SELECT n + 1 AS q FROM events", big),
        case("mul-overflow", "SELECT n * 2 AS q FROM events", big),
        case("sub-overflow", "SELECT n - 1 AS q FROM events", small),
        case("neg-overflow", "SELECT -n AS q FROM events", small),
        case("int-div", "SELECT n div 2 AS a, n DIV -4 AS b, div(n, 3) AS c, 7 div 2 AS e, typeof(n div 2) AS t, "
                        "n div 2 * 3 AS f, -n div 2 AS g FROM events", b,
             steps=[{"select": ["n div 2 AS a", "n DIV -4 AS b", "div(n, 3) AS c", "7 div 2 AS e",
                                "typeof(n div 2) AS t", "n div 2 * 3 AS f", "-n div 2 AS g"]}]),
        case("int-div-zero", "SELECT n div (n - n) AS q FROM events", zero),
        case("int-div-overflow", "SELECT n div -1 AS q FROM events", small),
        c("int-div-double-refused", "SELECT d div 2 AS q FROM events"),
    ]


def calendar():
    """date_trunc, trunc, quarter, last_day, add_months, unix_seconds, unix_millis,
    timestamp_seconds, timestamp_millis."""
    b = [[{"timestamp": "2024-05-15T13:47:21.123456", "n": 1715781000, "day": "2024-01-31"},
          {"timestamp": "2023-12-31T23:59:59", "n": -1, "day": "2024-02-29"},
          {"timestamp": "1969-12-31T23:59:59.5", "n": 0, "day": "1969-12-28"}],
         [{"timestamp": "2024-03-04T00:00:00", "n": 86400, "day": "2023-11-30"}, {"word": "none"}]]
    c = lambda id, sql: case(id, sql, b)
    return [
        c("date-trunc", "SELECT date_trunc('YEAR', timestamp) AS a, date_trunc('quarter', timestamp) AS b, "
                        "date_trunc('MM', timestamp) AS c, date_trunc('WEEK', timestamp) AS e, "
                        "date_trunc('DD', timestamp) AS f, date_trunc('HOUR', timestamp) AS g, "
                        "date_trunc('minute', timestamp) AS h, date_trunc('SECOND', timestamp) AS i, "
                        "date_trunc('MILLISECOND', timestamp) AS j, date_trunc('fortnight', timestamp) AS k, "
                        "date_trunc('MON', day) AS l FROM events"),
        c("trunc", "SELECT trunc(day, 'YEAR') AS a, trunc(day, 'yy') AS b, trunc(day, 'QUARTER') AS c, "
                   "trunc(day, 'MONTH') AS e, trunc(day, 'WEEK') AS f, trunc(day, 'DAY') AS g, "
                   "trunc(timestamp, 'MM') AS h, quarter(day) AS i, quarter(timestamp) AS j, last_day(day) AS k, "
                   "last_day(timestamp) AS l FROM events"),
        c("months", "SELECT add_months(day, 1) AS a, add_months(day, -1) AS b, add_months(day, 13) AS c, "
                    "add_months(timestamp, 0) AS e FROM events"),
        c("epoch", "SELECT unix_seconds(timestamp) AS a, unix_millis(timestamp) AS b, timestamp_seconds(n) AS c, "
                   "timestamp_millis(n) AS e FROM events"),
    ]


def watermark():
    """A watermark delay of 0 (Spark accepts it): a window is final as soon as an event at or
    after its end is seen, and an event of a closed window is late."""
    b = [[row("09:00:00", "a", 1), row("09:04:00", "b", 2)],
         [row("09:06:00", "a", 3), row("09:03:00", "late", 4)],
         [row("09:11:00", "c", 5)], []]
    zero = {"column": "timestamp", "delay": "0 seconds"}
    # A row the WHERE drops, far ahead in event time: does it move the watermark?
    storm = [[row("09:00:00", "a", 1), row("12:00:00", "storm", 2)],
             [row("09:06:00", "a", 3), row("09:03:00", "b", 4)],
             [row("09:12:00", "c", 5)], []]
    return [
        case("filtered-row-and-watermark", "SELECT window.start AS window_start, window.end AS window_end, word, count(*) AS c "
                                           "FROM events WHERE word != 'storm' GROUP BY window(timestamp, '5 minutes'), word",
             storm, "append", zero),
        case("filtered-on-time-and-watermark", "SELECT window.start AS window_start, window.end AS window_end, word, count(*) AS c "
                                           "FROM events WHERE timestamp < '2024-03-01 11:00:00' GROUP BY window(timestamp, '5 minutes'), word",
             storm, "append", zero),
        case("zero-delay", "SELECT window.start AS window_start, window.end AS window_end, word, count(*) AS c FROM events "
                           "GROUP BY window(timestamp, '5 minutes'), word", b, "append", zero),
    ]


IMP = {"impressionAdId": "string", "impressionTime": "timestamp", "campaign": "string"}
CLK = {"adId": "string", "clickTime": "timestamp", "cost": "bigint"}


def imp(t, ad, campaign="c1"):
    r = {"impressionTime": "2024-03-01T%s" % t, "campaign": campaign}
    if ad is not None:
        r["impressionAdId"] = ad
    return r


def clk(t, ad, cost=1):
    r = {"clickTime": "2024-03-01T%s" % t, "cost": cost}
    if ad is not None:
        r["adId"] = ad
    return r


def joined(id, sql, mode="append", imp_wm="10 minutes", clk_wm="5 minutes", batches=None, join=None, after=()):
    """A case over two sources, `impressions` and `clicks` (the guide's ad-impressions join).
    `join` (the `join:` step's fields but the watermark) and `after` (steps after it) give the
    same query as YAML steps, which streamc runs beside the SQL."""
    ib, cb = batches or JOIN_BATCHES
    wm = lambda col, d: {"column": col, "delay": d} if d else None
    c = {"id": id, "sql": sql, "output_mode": mode, "sources": {
        "impressions": {"schema": IMP, "watermark": wm("impressionTime", imp_wm), "batches": ib},
        "clicks": {"schema": CLK, "watermark": wm("clickTime", clk_wm), "batches": cb}}}
    if join is not None:
        steps = [{"with_watermark": wm("impressionTime", imp_wm)}] if imp_wm else []
        j = dict(join, stream="clicks")
        if clk_wm:
            j["watermark"] = wm("clickTime", clk_wm)
        steps.append({"join": j})
        steps.extend(after)
        c["from"] = "impressions"
        c["steps"] = steps
    return c


# Impressions and clicks over five batches: matches within and outside a 15-minute range, a
# click before its impression, NULL keys, a late impression, unmatched rows on both sides that
# the watermarks later evict, and empty batches that only advance the watermark.
JOIN_BATCHES = (
    [[imp("09:00:00", "a"), imp("09:01:00", "b"), imp("09:02:00", "c", "c2"), imp("09:02:30", None)],
     [imp("09:10:00", "d"), imp("09:20:00", "e", "c2"), imp("09:03:00", "a")],
     [imp("09:40:00", "f"), imp("08:30:00", "late")],
     [imp("09:41:00", "g", "c2")],
     [], []],
    [[clk("09:00:30", "a"), clk("09:01:00", "x"), clk("09:02:40", None)],
     [clk("09:05:00", "b", 2), clk("09:30:00", "a", 3)],
     [clk("09:12:00", "d"), clk("09:01:30", "c"), clk("09:34:00", "e", 4), clk("09:00:50", "a")],
     [clk("09:41:30", "f"), clk("09:20:00", "late")],
     [clk("10:30:00", "y")], []],
)

RANGE = "clickTime >= impressionTime AND clickTime <= impressionTime + INTERVAL 15 MINUTES"
SUB = "(SELECT adId AS clickAdId, clickTime, cost FROM clicks)"


def stream_join():
    on = "ON clickAdId = impressionAdId AND " + RANGE
    sub = [{"select": ["adId AS clickAdId", "clickTime", "cost"]}]
    j = lambda how, cond="clickAdId = impressionAdId AND " + RANGE: {"steps": sub, "on": cond, "how": how}
    sel = lambda *cols: [{"select": list(cols)}]
    return [
        joined("inner-keys", "SELECT * FROM impressions JOIN clicks ON impressionAdId = adId",
               join={"on": "impressionAdId = adId"}),
        joined("inner-range", "SELECT impressionAdId, impressionTime, clickTime, cost FROM impressions JOIN %s c %s" % (SUB, on),
               join=j("inner"), after=sel("impressionAdId", "impressionTime", "clickTime", "cost")),
        joined("left-outer", "SELECT impressionAdId, impressionTime, campaign, clickTime, cost FROM impressions LEFT OUTER JOIN %s c %s" % (SUB, on),
               join=j("left_outer"), after=sel("impressionAdId", "impressionTime", "campaign", "clickTime", "cost")),
        joined("right-outer", "SELECT impressionAdId, impressionTime, clickAdId, clickTime FROM impressions RIGHT OUTER JOIN %s c %s" % (SUB, on),
               join=j("right_outer"), after=sel("impressionAdId", "impressionTime", "clickAdId", "clickTime")),
        joined("full-outer", "SELECT impressionAdId, impressionTime, clickAdId, clickTime FROM impressions FULL OUTER JOIN %s c %s" % (SUB, on),
               join=j("full_outer"), after=sel("impressionAdId", "impressionTime", "clickAdId", "clickTime")),
        joined("left-semi", "SELECT impressionAdId, impressionTime, campaign FROM impressions LEFT SEMI JOIN %s c %s" % (SUB, on),
               join=j("left_semi")),
        joined("left-only-condition", "SELECT impressionAdId, campaign, clickTime FROM impressions LEFT JOIN %s c %s AND campaign = 'c1'" % (SUB, on)),
        joined("both-sides-condition", "SELECT impressionAdId, clickTime, cost FROM impressions JOIN %s c ON clickAdId = impressionAdId AND cost > 1 AND clickTime > impressionTime" % SUB),
        joined("strict-range", "SELECT impressionAdId, clickTime FROM impressions LEFT JOIN %s c ON clickAdId = impressionAdId AND clickTime > impressionTime AND clickTime < impressionTime + INTERVAL 10 MINUTES" % SUB),
        joined("where-after", "SELECT impressionAdId AS ad, cost * 2 AS twice FROM impressions JOIN %s c %s WHERE campaign = 'c1'" % (SUB, on)),
        joined("no-watermark-inner", "SELECT impressionAdId, clickTime FROM impressions JOIN %s c ON clickAdId = impressionAdId" % SUB, imp_wm=None, clk_wm=None),
        joined("outer-without-range", "SELECT impressionAdId, clickTime FROM impressions LEFT JOIN %s c ON clickAdId = impressionAdId" % SUB),
        joined("outer-without-right-watermark", "SELECT impressionAdId, clickTime FROM impressions LEFT JOIN %s c %s" % (SUB, on), clk_wm=None),
        joined("full-outer-one-bound", "SELECT impressionAdId, clickTime FROM impressions FULL OUTER JOIN %s c ON clickAdId = impressionAdId AND clickTime >= impressionTime" % SUB),
        joined("update-mode", "SELECT impressionAdId, clickTime FROM impressions JOIN %s c %s" % (SUB, on), mode="update"),
        joined("no-equality", "SELECT impressionAdId, clickTime FROM impressions JOIN %s c ON %s" % (SUB, RANGE)),
    ]


def pushdown():
    """Spark pushes a filter that does not read the event time below each input's watermark: a
    row it drops never moves a watermark (through a union, into a join's side, or a filter of
    a join's input)."""
    ab = {"timestamp": "timestamp", "word": "string"}
    r = lambda t, w: {"timestamp": "2024-03-01T%s" % t, "word": w}
    a = [[r("09:00:00", "a"), r("12:00:00", "storm")], [r("09:06:00", "a"), r("09:03:00", "b")], [r("09:12:00", "c")], []]
    b = [[r("09:01:00", "x")], [r("13:00:00", "storm"), r("09:07:00", "y")], [r("09:13:00", "z")], []]
    wm = {"column": "timestamp", "delay": "0 seconds"}
    union = {"id": "union-where", "output_mode": "append",
             "sql": "SELECT window.start AS window_start, window.end AS window_end, word, count(*) AS c FROM "
                    "(SELECT * FROM a UNION ALL SELECT * FROM b) WHERE word != 'storm' GROUP BY window(timestamp, '5 minutes'), word",
             "sources": {"a": {"schema": ab, "watermark": wm, "batches": a}, "b": {"schema": ab, "watermark": wm, "batches": b}}}
    ib, cb = [list(x) for x in JOIN_BATCHES]
    ib = [list(x) for x in ib]
    ib[1] = ib[1] + [imp("11:00:00", "far", "c9")]
    cb = [list(x) for x in cb]
    cb[1] = cb[1] + [clk("11:30:00", "far", 9)]
    on = "ON clickAdId = impressionAdId AND " + RANGE
    return [
        union,
        joined("join-where-left", "SELECT impressionAdId, campaign, clickTime FROM impressions LEFT JOIN %s c %s WHERE campaign = 'c1'" % (SUB, on),
               batches=(ib, cb)),
        joined("join-filtered-inputs", "SELECT impressionAdId, clickTime FROM (SELECT * FROM impressions WHERE campaign != 'c9') i "
                                       "LEFT JOIN (SELECT adId AS clickAdId, clickTime FROM clicks WHERE cost < 9) c %s" % on,
               batches=(ib, cb)),
    ]


def dedup_within():
    """`dropDuplicatesWithinWatermark` (a DataFrame method; no SQL): a row is a duplicate of an
    earlier one with the same columns until the watermark passes the earlier one's event time
    plus the delay; when exactly the state goes decides whether `a` comes back in batch 3."""
    s = {"timestamp": "timestamp", "word": "string", "n": "bigint"}
    r = lambda t, w, n: {"timestamp": "2024-03-01T09:00:%s" % t, "word": w, "n": n}
    batches = [[r("00", "a", 1), r("05", "b", 2), r("01", "a", 3)],
               [r("20", "c", 4), r("08", "a", 5)],
               [r("16", "d", 6), r("15", "a", 7), r("04", "b", 8)],
               [r("25", "a", 9), r("12", "late", 10)],
               [], [r("59", "b", 11), r("40", "a", 12)], []]
    wm = {"column": "timestamp", "delay": "10 seconds"}
    out = []
    for cols, id in [(["word"], "by-word"), (["word", "timestamp"], "by-word-and-time")]:
        out.append({"id": id, "output_mode": "append", "from": "events",
                    "dataframe": "events.dropDuplicatesWithinWatermark(%r)" % cols,
                    "steps": [{"with_watermark": wm}, {"drop_duplicates_within_watermark": cols}],
                    "sources": {"events": {"schema": s, "watermark": wm, "batches": batches}}})
    out.append({"id": "without-watermark", "output_mode": "append", "from": "events",
                "dataframe": "events.dropDuplicatesWithinWatermark(['word'])",
                "steps": [{"drop_duplicates_within_watermark": ["word"]}],
                "sources": {"events": {"schema": s, "watermark": None, "batches": batches}}})
    return out


def watermark_policy():
    """`spark.sql.streaming.multipleWatermarkPolicy`: the query's watermark is the minimum of its
    inputs' (default) or their maximum, for a union and for a stream-stream join."""
    ab = {"timestamp": "timestamp", "word": "string"}
    r = lambda t, w: {"timestamp": "2024-03-01T%s" % t, "word": w}
    a = [[r("09:00:00", "a1"), r("09:20:00", "a2")], [r("09:06:00", "a3")], [r("09:12:00", "a4")], []]
    b = [[r("09:01:00", "b1")], [r("09:07:00", "b2"), r("09:02:00", "b3")], [r("09:13:00", "b4")], []]
    wm = lambda d: {"column": "timestamp", "delay": d}
    sql = ("SELECT window.start AS window_start, window.end AS window_end, count(*) AS c FROM "
           "(SELECT * FROM a UNION ALL SELECT * FROM b) GROUP BY window(timestamp, '5 minutes')")
    out = []
    for policy in ["min", "max"]:
        out.append({"id": "union-" + policy, "output_mode": "append", "sql": sql,
                    "conf": {"spark.sql.streaming.multipleWatermarkPolicy": policy},
                    "sources": {"a": {"schema": ab, "watermark": wm("2 minutes"), "batches": a},
                                "b": {"schema": ab, "watermark": wm("1 minute"), "batches": b}}})
        c = joined("join-" + policy, "SELECT impressionAdId, impressionTime, clickTime FROM impressions LEFT JOIN %s c ON "
                   "clickAdId = impressionAdId AND %s" % (SUB, RANGE))
        c["conf"] = {"spark.sql.streaming.multipleWatermarkPolicy": policy}
        out.append(c)
    return out


def chained():
    """More than one stateful operator in a query (Spark 3.4+): an aggregation over the windows
    of another (`window_time`), a deduplication after an aggregation, an aggregation after a
    stream-stream join; each operator's watermark is the one before it passes on."""
    s = {"timestamp": "timestamp", "word": "string", "n": "bigint"}
    r = lambda t, w, n=1: {"timestamp": "2024-03-01T%s" % t, "word": w, "n": n}
    batches = [[r("09:00:00", "a"), r("09:01:00", "a", 2), r("09:04:00", "b")],
               [r("09:06:00", "a"), r("09:12:00", "b", 3), r("09:31:00", "c")],
               [r("10:20:00", "c"), r("09:02:00", "a"), r("09:29:00", "late")],
               [r("10:03:00", "b", 4), r("11:30:00", "a")],
               [], [r("12:40:00", "d")], []]
    wm = {"column": "timestamp", "delay": "10 minutes"}
    src = {"events": {"schema": s, "watermark": wm, "batches": batches}}
    inner = "(SELECT window AS w, word, count(*) AS n, sum(n) AS total FROM events GROUP BY window(timestamp, '5 minutes'), word)"
    first = {"group_by": ["window(timestamp, '5 minutes')", "word"], "agg": ["count(*) AS n", "sum(n) AS total"]}
    c = lambda id, sql=None, mode="append", steps=None, df=None, sources=src: dict(
        {"id": id, "output_mode": mode, "sources": sources, "from": "events"},
        **({"sql": sql} if sql else {"dataframe": df}), **({"steps": [{"with_watermark": wm}] + steps} if steps else {}))
    F = "F.window_time('window')"
    out = [
        c("window-of-windows",
          "SELECT window.start AS window_start, window.end AS window_end, word, count(*) AS c, sum(n) AS s, max(total) AS m "
          "FROM %s GROUP BY window(window_time(w), '1 hour'), word" % inner,
          steps=[first, {"group_by": ["window(window_time(window), '1 hour')", "word"], "agg": ["count(*) AS c", "sum(n) AS s", "max(total) AS m"]}]),
        c("sliding-then-tumbling",
          "SELECT window.start AS window_start, window.end AS window_end, count(*) AS c, sum(n) AS s FROM "
          "(SELECT window AS w, count(*) AS n FROM events GROUP BY window(timestamp, '10 minutes', '5 minutes')) "
          "GROUP BY window(window_time(w), '30 minutes')",
          steps=[{"group_by": ["window(timestamp, '10 minutes', '5 minutes')"], "agg": ["count(*) AS n"]},
                 {"group_by": ["window(window_time(window), '30 minutes')"], "agg": ["count(*) AS c", "sum(n) AS s"]}]),
        c("window-time-column",
          df="events.groupBy(F.window('timestamp', '5 minutes'), 'word').count().withColumn('wt', %s)"
             ".groupBy(F.window('wt', '30 minutes')).agg(F.count('*').alias('c'), F.sum('count').alias('s'))"
             ".select(F.col('window.start').alias('window_start'), F.col('window.end').alias('window_end'), 'c', 's')" % F,
          steps=[{"group_by": ["window(timestamp, '5 minutes')", "word"], "agg": ["count(*) AS count"]},
                 {"with_column": {"name": "wt", "expr": "window_time(window)"}},
                 {"group_by": ["window(wt, '30 minutes')"], "agg": ["count(*) AS c", "sum(count) AS s"]}]),
        c("dedup-after-aggregation",
          df="events.groupBy(F.window('timestamp', '5 minutes'), 'word').count().select(%s.alias('wt'), 'word').dropDuplicates(['wt', 'word'])" % F,
          steps=[{"group_by": ["window(timestamp, '5 minutes')", "word"], "agg": ["count(*) AS count"]},
                 {"select": ["window_time(window) AS wt", "word"]}, {"drop_duplicates": ["wt", "word"]}]),
        c("key-is-event-time",
          "SELECT window.start AS window_start, window.end AS window_end, count(*) AS c, sum(k) AS s FROM "
          "(SELECT timestamp, count(*) AS k FROM events GROUP BY timestamp) GROUP BY window(timestamp, '30 minutes')",
          steps=[{"group_by": ["timestamp"], "agg": ["count(*) AS k"]},
                 {"group_by": ["window(timestamp, '30 minutes')"], "agg": ["count(*) AS c", "sum(k) AS s"]}]),
        c("bounds-are-not-event-time",
          "SELECT window.start AS window_start, count(*) AS c FROM (SELECT window.start AS ws, window.end AS we, count(*) AS n "
          "FROM events GROUP BY window(timestamp, '5 minutes')) GROUP BY window(we, '1 hour')"),
        c("update-mode",
          "SELECT window.start AS window_start, window.end AS window_end, count(*) AS c FROM %s GROUP BY window(window_time(w), '1 hour')" % inner,
          mode="update"),
    ]
    ib, cb = [[list(b) for b in x] for x in JOIN_BATCHES]
    ib[4] = ib[4] + [imp("11:00:00", "h")]
    cb[5] = cb[5] + [clk("11:10:00", "h", 5)]
    ib.append([])
    cb.append([])
    on = "ON clickAdId = impressionAdId AND " + RANGE
    agg = ("SELECT window.start AS window_start, window.end AS window_end, campaign, count(*) AS clicks, sum(cost) AS cost FROM "
           "(SELECT campaign, clickTime, cost FROM impressions %s JOIN %s c %s) GROUP BY window(clickTime, '30 minutes'), campaign")
    j = lambda how: {"steps": [{"select": ["adId AS clickAdId", "clickTime", "cost"]}], "on": "clickAdId = impressionAdId AND " + RANGE, "how": how}
    after = [{"select": ["campaign", "clickTime", "cost"]},
             {"group_by": ["window(clickTime, '30 minutes')", "campaign"], "agg": ["count(*) AS clicks", "sum(cost) AS cost"]}]
    out += [
        joined("aggregate-after-join", agg % ("", SUB, on), batches=(ib, cb), join=j("inner"), after=after),
        joined("aggregate-after-join-update", agg % ("", SUB, on), mode="update", batches=(ib, cb)),
        joined("aggregate-after-left-join",
               "SELECT window.start AS window_start, window.end AS window_end, count(*) AS n, count(clickTime) AS clicked FROM "
               "(SELECT impressionTime, clickTime FROM impressions LEFT JOIN %s c %s) GROUP BY window(impressionTime, '30 minutes')" % (SUB, on),
               batches=(ib, cb)),
        joined("dedup-after-join",
               "SELECT DISTINCT campaign, clickTime FROM (SELECT campaign, clickTime FROM impressions JOIN %s c %s)" % (SUB, on),
               batches=(ib, cb)),
        joined("two-event-times-after-join",
               "SELECT DISTINCT campaign, impressionTime, clickTime FROM (SELECT campaign, impressionTime, clickTime FROM impressions JOIN %s c %s)" % (SUB, on),
               batches=(ib, cb)),
    ]
    return out


def nested():
    """Issue 12's nested types: array, map and struct columns read from JSON, field access,
    subscripts, explode, the array/map/struct functions and the JSON functions (from_json,
    to_json, get_json_object), with NULLs and missing values."""
    s = {"id": "bigint", "tags": "array<string>", "user": "struct<name:string,age:bigint>",
         "attrs": "map<string,bigint>", "payload": "string"}
    b0 = [
        {"id": 1, "tags": ["a", "b"], "user": {"name": "ann", "age": 31}, "attrs": {"a": 1, "b": 2},
         "payload": '{"a": 1, "b": ["x", "y"], "c": {"d": 1.5}}'},
        {"id": 2, "tags": ["b", None, "c"], "user": {"name": "bob"}, "attrs": {"b": None},
         "payload": '{"a": "oops", "b": ["z"]}'},
        {"id": 3, "tags": ["c"], "user": None, "payload": "not json"},
    ]
    b1 = [
        {"id": 4, "tags": ["a"], "user": {"age": 40, "name": "cy"}, "attrs": {}, "payload": '[1, 2]'},
        {"id": 5, "tags": ["a", "a", "d"], "user": {"name": "dee", "age": 25}, "attrs": {"a": 0, "z": 9},
         "payload": '{"c": {"d": 2}, "a": 7}'},
    ]
    # (Map keys in sorted order: the test harness rewrites the batches with sorted object keys.)
    b = [b0, b1]
    # A third batch repeating keys of the first two, for grouping and deduplicating by them.
    b2 = [{"id": 6, "tags": ["a"], "user": {"age": 31, "name": "ann"}},
          {"id": 7, "tags": ["c"], "user": None, "attrs": {"a": 1, "b": 2}},
          {"id": 8, "tags": ["b", None, "c"], "user": {"name": "bob"}}]
    bd = [b0, b1, b2]
    c = lambda id, sql, batches=b, **kw: case(id, sql, batches, schema=s, **kw)
    return [
        c("columns", "SELECT id, tags, user, attrs FROM events"),
        c("access", "SELECT id, user.name, user.age + 1 AS age1, tags[0] AS t0, size(tags) AS n, attrs['a'] AS a, "
                    "element_at(tags, -1) AS last, try_element_at(tags, 3) AS third FROM events"),
        c("index-error", "SELECT id, tags[1] AS t1 FROM events"),
        c("json-tuple-repeated-keys", "SELECT id, json_tuple(payload, 'c', 'a', 'c') FROM events"),
        c("group-by-struct", "SELECT user, count(*) AS n, collect_list(id) AS ids FROM events GROUP BY user",
          mode="complete", batches=bd),
        c("group-by-array", "SELECT tags, count(*) AS n FROM events GROUP BY tags", mode="update", batches=bd),
        c("group-by-struct-field-and-array", "SELECT user.name AS name, tags, sum(id) AS s FROM events "
                                             "GROUP BY user.name, tags", mode="complete", batches=bd),
        c("collect-nested", "SELECT collect_list(user) AS users, size(collect_set(tags)) AS tag_sets, "
                            "collect_list(attrs) AS maps, size(collect_set(user)) AS n FROM events", mode="complete", batches=bd),
        c("collect-set-map-refused", "SELECT collect_set(attrs) AS a FROM events", mode="complete", batches=bd),
        c("distinct-struct", "SELECT DISTINCT user FROM events", mode="complete", batches=bd),
        {"id": "drop-duplicates-struct", "output_mode": "append", "from": "events",
         "dataframe": "events.dropDuplicates(['user'])", "steps": [{"drop_duplicates": ["user"]}],
         "sources": {"events": {"schema": s, "watermark": None, "batches": bd}}},
        {"id": "drop-duplicates-array", "output_mode": "append", "from": "events",
         "dataframe": "events.dropDuplicates(['tags'])", "steps": [{"drop_duplicates": ["tags"]}],
         "sources": {"events": {"schema": s, "watermark": None, "batches": bd}}},
        c("cast-nested-to-string", "SELECT id, CAST(user AS STRING) AS u, CAST(tags AS STRING) AS t, "
                                   "CAST(attrs AS STRING) AS a FROM events"),
        c("element-at-error", "SELECT id, element_at(tags, 0) AS t FROM events"),
        c("explode", "SELECT id, explode(tags) AS tag FROM events"),
        c("explode-count", "SELECT tag, count(*) AS c FROM (SELECT explode(tags) AS tag FROM events) GROUP BY tag",
          mode="complete"),
        c("where", "SELECT id FROM events WHERE user.age > 30 OR array_contains(tags, 'd')"),
        c("group-field", "SELECT user.name AS name, count(*) AS c FROM events GROUP BY user.name", mode="complete"),
        c("functions", "SELECT id, array_contains(tags, 'b') AS hb, sort_array(tags) AS st, sort_array(tags, false) AS sd, "
                       "array_join(tags, '|') AS j, array_join(tags, '|', '?') AS jn, map_keys(attrs) AS k, "
                       "map_values(attrs) AS v, array(id, id * 2) AS arr, struct(id, user.name) AS s, "
                       "named_struct('n', user.name, 't', tags) AS ns, element_at(attrs, 'b') AS eb, "
                       "split(payload, ',') AS sp FROM events"),
        c("from-json", "SELECT id, from_json(payload, 'a INT, b ARRAY<STRING>, c STRUCT<d: DOUBLE>') AS p, "
                       "from_json(payload, 'array<int>') AS arr, from_json(payload, 'map<string,string>') AS m FROM events"),
        c("from-json-fields", "SELECT id, p.a, p.b[0] AS b0, p.c.d AS d FROM "
                              "(SELECT id, from_json(payload, 'a INT, b ARRAY<STRING>, c STRUCT<d: DOUBLE>') AS p FROM events)"),
        c("to-json", "SELECT id, to_json(user) AS u, to_json(tags) AS t, to_json(attrs) AS m, "
                     "to_json(named_struct('id', id, 'tags', tags, 'u', user)) AS s FROM events"),
        c("collect", "SELECT user.name AS name, count(*) * 2 AS c2, max(id) + 1 AS m, collect_list(id) AS ids FROM events "
                     "GROUP BY user.name", mode="complete"),
        c("collect-set-having", "SELECT tag, sort_array(collect_set(id)) AS ids, count(*) AS c FROM "
                                "(SELECT explode(tags) AS tag, id FROM events) GROUP BY tag HAVING sum(id) > 4", mode="complete"),
        c("collect-strings", "SELECT size(tags) AS n, collect_list(user.name) AS names, sort_array(collect_set(tags[0])) AS firsts "
                             "FROM events GROUP BY size(tags)", mode="update"),
        c("posexplode", "SELECT id, posexplode(tags) FROM events"),
        c("explode-map", "SELECT id, explode(attrs) FROM events"),
        c("posexplode-map", "SELECT id, posexplode(attrs) FROM events"),
        c("posexplode-split", "SELECT id, posexplode(split(payload, ' ')) FROM events"),
        c("explode-map-sum", "SELECT key, sum(value) AS s FROM (SELECT explode(attrs) FROM events) GROUP BY key",
          mode="complete"),
        # (The time itself differs: Spark's is the wall clock's, a `--replay` run's the replayed
        # batch's.)
        c("current-time", "SELECT id, CAST(current_timestamp() AS DATE) = current_date() AS same_day, "
                          "current_timestamp() IS NOT NULL AS known FROM events"),
        c("split-regex", "SELECT id, split(payload, '[,:]') AS a, split(payload, '\\\\s+', 2) AS b, "
                         "split(payload, ' ', 3) AS c, split(payload, '\\\\W+') AS w, split(payload, 'x', -1) AS d FROM events"),
        c("explode-split-regex", "SELECT id, explode(split(payload, '\\\\s*,\\\\s*')) AS part FROM events"),
        c("cast-string", "SELECT id, CAST(tags AS STRING) AS t, CAST(user AS STRING) AS u, CAST(attrs AS STRING) AS m, "
                         "CAST(from_json(payload, 'a INT, b ARRAY<STRING>, c STRUCT<d: DOUBLE>') AS STRING) AS p FROM events"),
        c("json-tuple", "SELECT id, json_tuple(payload, 'a', 'b', 'zz', 'c') FROM events"),
        c("map-array-fns", "SELECT id, map(CAST(id AS STRING), user.name, 'k', payload) AS m, array_distinct(tags) AS d, "
                           "array_max(tags) AS mx, array_min(tags) AS mn, array_max(array(id * 1.5, 2.0)) AS dm FROM events"),
        c("map-duplicate-key", "SELECT map('a', id, 'a', 1) AS m FROM events"),
        c("get-json-object", "SELECT id, get_json_object(payload, '$.a') AS a, get_json_object(payload, '$.b[1]') AS b1, "
                             "get_json_object(payload, '$.c') AS c, get_json_object(payload, '$.c.d') AS d, "
                             "get_json_object(payload, '$[0]') AS e FROM events"),
    ]


def nested_cast():
    """Casts between nested types (issue 12): an array's elements, a map's keys and values, a
    struct's fields by position (named as the target's), nested inside each other; NULL parts
    and whole NULLs; a part that does not cast fails the batch (ANSI), or is NULL under
    TRY_CAST (that part alone); the casts Spark's analyzer refuses."""
    s = {"id": "bigint", "tags": "array<string>", "m": "map<string,string>", "km": "map<string,string>",
         "s": "struct<x:string,y:bigint>", "ns": "array<struct<x:string,y:bigint>>"}
    ok = [
        [{"id": 1, "tags": ["1", "2", None], "m": {"a": "1", "b": None}, "km": {"1": "x", "2": "y"},
          "s": {"x": "1", "y": 2}, "ns": [{"x": "1", "y": 2}, None]},
         {"id": 2}],
        [{"id": 3, "tags": [], "m": {}, "km": {}, "s": {"x": None, "y": None}, "ns": []},
         {"id": 4, "tags": [" 5 ", "-6"], "m": {"z": "7"}, "km": {"-1": None}, "s": {"y": 300}, "ns": [{"y": 1}]}],
    ]
    bad = ok + [[{"id": 5, "tags": ["7", "x", None], "m": {"a": "q", "b": "3000000000", "c": "1"}, "km": {"k": "v", "3": "w"},
                  "s": {"x": "abc", "y": 5}, "ns": [{"x": "q", "y": 1}, {"x": "2", "y": 3000000000}]}]]
    c = lambda id, sql, batches=ok, **kw: case(id, sql, batches, schema=s, **kw)
    return [
        c("array", "SELECT id, CAST(tags AS ARRAY<INT>) AS i, CAST(tags AS ARRAY<DOUBLE>) AS d, "
                   "CAST(tags AS ARRAY<DECIMAL(4,1)>) AS dec, CAST(tags AS ARRAY<STRING>) AS same FROM events",
          steps=[{"select": ["id", "CAST(tags AS ARRAY<INT>) AS i", "CAST(tags AS ARRAY<DOUBLE>) AS d",
                             "CAST(tags AS ARRAY<DECIMAL(4,1)>) AS dec", "CAST(tags AS ARRAY<STRING>) AS same"]}]),
        c("array-invalid-fails", "SELECT id, CAST(tags AS ARRAY<INT>) AS i FROM events", bad),
        c("array-try", "SELECT id, TRY_CAST(tags AS ARRAY<INT>) AS i, TRY_CAST(tags AS ARRAY<BOOLEAN>) AS b FROM events", bad,
          steps=[{"select": ["id", "TRY_CAST(tags AS ARRAY<INT>) AS i", "TRY_CAST(tags AS ARRAY<BOOLEAN>) AS b"]}]),
        c("map-values", "SELECT id, CAST(m AS MAP<STRING, BIGINT>) AS m, CAST(km AS MAP<INT, STRING>) AS k FROM events"),
        c("map-value-invalid-fails", "SELECT id, CAST(m AS MAP<STRING, BIGINT>) AS m FROM events", bad),
        c("map-key-invalid-fails", "SELECT id, CAST(km AS MAP<INT, STRING>) AS k FROM events", bad),
        c("map-try", "SELECT id, TRY_CAST(m AS MAP<STRING, INT>) AS m, TRY_CAST(km AS MAP<STRING, BINARY>) AS k FROM events", bad),
        c("struct", "SELECT id, CAST(s AS STRUCT<a: STRING, b: DOUBLE>) AS r, "
                    "to_json(CAST(s AS STRUCT<`first one`: BIGINT, b: SMALLINT>)) AS j FROM events",
          steps=[{"select": ["id", "CAST(s AS STRUCT<a: STRING, b: DOUBLE>) AS r",
                             "to_json(CAST(s AS STRUCT<`first one`: BIGINT, b: SMALLINT>)) AS j"]}]),
        c("struct-invalid-fails", "SELECT id, CAST(s AS STRUCT<a: INT, b: STRING>) AS r FROM events", bad),
        c("struct-try", "SELECT id, TRY_CAST(s AS STRUCT<a: INT, b: TINYINT>) AS r FROM events", bad),
        c("array-of-structs", "SELECT id, CAST(ns AS ARRAY<STRUCT<p: INT, q: STRING>>) AS a, "
                              "TRY_CAST(ns AS ARRAY<STRUCT<p: DOUBLE, q: INT>>) AS t FROM events", bad[:2] + [[bad[2][0] | {"ns": [{"x": "2", "y": 3}]}]]),
        c("array-of-structs-try", "SELECT id, TRY_CAST(ns AS ARRAY<STRUCT<p: INT, q: INT>>) AS t FROM events", bad),
        c("to-string", "SELECT id, CAST(CAST(tags AS ARRAY<INT>) AS STRING) AS a, "
                       "CAST(TRY_CAST(s AS STRUCT<a: INT, b: STRING>) AS STRING) AS s, "
                       "CAST(CAST(m AS MAP<STRING, DOUBLE>) AS STRING) AS m FROM events"),
        c("element-and-typeof", "SELECT id, try_element_at(CAST(tags AS ARRAY<BIGINT>), 1) AS first, CAST(s AS STRUCT<a: INT, b: STRING>).a AS ra, typeof(CAST(s AS STRUCT<a: DATE, b: DOUBLE>)) AS t, "
                                "size(CAST(tags AS ARRAY<SMALLINT>)) AS n FROM events"),
        c("constructed", "SELECT id, CAST(array(id, id * 2) AS ARRAY<STRING>) AS a, CAST(map('k', id) AS MAP<STRING, DOUBLE>) AS m, "
                         "CAST(named_struct('n', id, 't', tags) AS STRUCT<n: STRING, t: ARRAY<INT>>) AS ns, "
                         "CAST(NULL AS ARRAY<INT>) AS nul FROM events"),
        c("unaliased", "SELECT CAST(tags AS ARRAY<INT>), CAST(s AS STRUCT<a: STRING, b: BIGINT>) FROM events"),
        c("array-to-struct-refused", "SELECT CAST(tags AS STRUCT<a: STRING>) AS x FROM events"),
        c("map-to-array-refused", "SELECT CAST(m AS ARRAY<STRING>) AS x FROM events"),
        c("struct-field-count-refused", "SELECT CAST(s AS STRUCT<a: STRING>) AS x FROM events"),
        c("struct-not-null-refused", "SELECT CAST(s AS STRUCT<a: STRING NOT NULL, b: BIGINT>) AS x FROM events"),
        # NOT NULL fields: Spark fills them only from fields that cannot be NULL (a literal, a
        # constructor, coalesce with a literal, arithmetic of those); under TRY_CAST the part's
        # cast must not make it NULL either.
        c("not-null-from-never-null", "SELECT id, CAST(named_struct('a', 1, 'b', 'x') AS STRUCT<a: BIGINT NOT NULL, b: STRING NOT NULL>) AS x, "
                                      "CAST(named_struct('a', coalesce(id, 0), 'b', id) AS STRUCT<a: STRING NOT NULL, b: STRING>) AS y, "
                                      "TRY_CAST(named_struct('a', 1, 'b', 1 + 2 * 3) AS STRUCT<a: SMALLINT NOT NULL, b: BIGINT NOT NULL>) AS z, "
                                      "CAST(array(named_struct('a', 1)) AS ARRAY<STRUCT<a: BIGINT NOT NULL>>) AS w, "
                                      "CAST(struct(1, id + 1) AS STRUCT<a: INT NOT NULL, b: BIGINT>) AS v, "
                                      "CAST(named_struct('a', named_struct('b', if(id > 1, 'p', 'q'))) AS STRUCT<a: STRUCT<b: STRING NOT NULL> NOT NULL>) AS u FROM events",
          steps=[{"select": ["id", "CAST(named_struct('a', 1, 'b', 'x') AS STRUCT<a: BIGINT NOT NULL, b: STRING NOT NULL>) AS x",
                             "CAST(named_struct('a', coalesce(id, 0), 'b', id) AS STRUCT<a: STRING NOT NULL, b: STRING>) AS y",
                             "TRY_CAST(named_struct('a', 1, 'b', 1 + 2 * 3) AS STRUCT<a: SMALLINT NOT NULL, b: BIGINT NOT NULL>) AS z",
                             "CAST(array(named_struct('a', 1)) AS ARRAY<STRUCT<a: BIGINT NOT NULL>>) AS w",
                             "CAST(struct(1, id + 1) AS STRUCT<a: INT NOT NULL, b: BIGINT>) AS v",
                             "CAST(named_struct('a', named_struct('b', if(id > 1, 'p', 'q'))) AS STRUCT<a: STRUCT<b: STRING NOT NULL> NOT NULL>) AS u"]}]),
        c("not-null-invalid-fails", "SELECT id, CAST(named_struct('a', 'x') AS STRUCT<a: INT NOT NULL>) AS x FROM events"),
        c("not-null-from-column-refused", "SELECT CAST(named_struct('a', id) AS STRUCT<a: BIGINT NOT NULL>) AS x FROM events"),
        c("not-null-from-division-refused", "SELECT CAST(named_struct('a', 5 % 2) AS STRUCT<a: INT NOT NULL>) AS x FROM events"),
        c("not-null-try-could-be-null-refused", "SELECT TRY_CAST(named_struct('a', 'x') AS STRUCT<a: INT NOT NULL>) AS x FROM events"),
        c("not-null-in-array-of-column-refused", "SELECT CAST(ns AS ARRAY<STRUCT<a: STRING NOT NULL, b: BIGINT>>) AS x FROM events"),
        c("try-map-key-refused", "SELECT TRY_CAST(km AS MAP<INT, STRING>) AS x FROM events"),
        c("string-to-array-refused", "SELECT CAST(CAST(tags AS STRING) AS ARRAY<STRING>) AS x FROM events"),
        c("element-pair-refused", "SELECT CAST(CAST(tags AS ARRAY<TIMESTAMP>) AS ARRAY<DATE>) AS ok, "
                                  "CAST(CAST(tags AS ARRAY<DATE>) AS ARRAY<INT>) AS x FROM events"),
    ] + legacy_try_cast()


def legacy_try_cast():
    """TRY_CAST of nested values follows Spark's legacy rule for the parts (`Cast.canCast`),
    which takes pairs its ANSI rule refuses: a date to a number or a boolean (NULL), a timestamp
    to a boolean, a boolean to a timestamp (one microsecond), an integer to binary (its bytes,
    big-endian, as wide as its type); in arrays, map keys and values and struct fields."""
    s = {"id": "bigint", "day": "date", "ts": "timestamp", "b": "boolean", "i": "int", "sm": "smallint", "ty": "tinyint"}
    batches = [
        [{"id": 1, "day": "2024-01-02", "ts": "2024-01-02T00:00:00", "b": True, "i": 256, "sm": -2, "ty": 1},
         {"id": 2, "ts": "1970-01-01T00:00:00", "b": False, "i": -1},
         {"id": -3}],
    ]
    c = lambda id, sql, **kw: case(id, sql, batches, schema=s, **kw)
    arr = ["id", "TRY_CAST(array(day, NULL) AS ARRAY<INT>) AS di", "TRY_CAST(array(day) AS ARRAY<BOOLEAN>) AS db",
           "TRY_CAST(array(day) AS ARRAY<DECIMAL(10,2)>) AS dd", "TRY_CAST(array(day) AS ARRAY<DOUBLE>) AS dx",
           "TRY_CAST(array(ts) AS ARRAY<BOOLEAN>) AS tb", "TRY_CAST(array(b, NULL) AS ARRAY<TIMESTAMP>) AS bt",
           "CAST(TRY_CAST(array(b) AS ARRAY<TIMESTAMP>) AS ARRAY<DOUBLE>) AS btd",
           "TRY_CAST(array(i) AS ARRAY<BINARY>) AS ib", "TRY_CAST(array(id) AS ARRAY<BINARY>) AS lb",
           "TRY_CAST(array(array(day)) AS ARRAY<ARRAY<TINYINT>>) AS dn"]
    return [
        c("try-legacy-array", "SELECT " + ", ".join(arr) + " FROM events", steps=[{"select": arr}]),
        c("try-legacy-map-struct", "SELECT id, TRY_CAST(map('k', day) AS MAP<STRING, BIGINT>) AS md, "
                                   "map_keys(TRY_CAST(map(coalesce(sm, CAST(0 AS SMALLINT)), ty) AS MAP<BINARY, BINARY>)) AS mk, map_values(TRY_CAST(map(coalesce(sm, CAST(0 AS SMALLINT)), ty) AS MAP<BIGINT, BINARY>)) AS mv, "
                                   "map_values(TRY_CAST(map(id, ts) AS MAP<STRING, BOOLEAN>)) AS mt, "
                                   "CAST(map_keys(TRY_CAST(map(coalesce(b, false), id) AS MAP<TIMESTAMP, BIGINT>)) AS ARRAY<DOUBLE>) AS mtk, "
                                   "TRY_CAST(named_struct('d', day, 'b', b, 'i', i) AS STRUCT<x: FLOAT, y: TIMESTAMP, z: BINARY>) AS s, "
                                   "CAST(TRY_CAST(named_struct('b', b) AS STRUCT<y: TIMESTAMP>).y AS DOUBLE) AS sy, "
                                   "hex(TRY_CAST(named_struct('i', i) AS STRUCT<x: BINARY>).x) AS h FROM events"),
        c("try-legacy-map-key-refused", "SELECT TRY_CAST(map(day, id) AS MAP<INT, BIGINT>) AS x FROM events"),
        c("try-legacy-fraction-to-binary-refused", "SELECT TRY_CAST(array(CAST(id AS DOUBLE)) AS ARRAY<BINARY>) AS x FROM events"),
        c("cast-legacy-pair-suggests-try", "SELECT CAST(array(ts) AS ARRAY<BOOLEAN>) AS x FROM events"),
    ]


def nested_group():
    """Grouping and deduplicating by nested values Spark normalizes (issue 12): a map (its entries
    in key order, so one written `{b, a}` is the map `{a, b}`), arrays and structs holding
    doubles or floats (NaN one value, -0.0 as 0.0, the key shown normalized); NULLs inside,
    empty maps and arrays, whole NULLs. Deduplicating by a map (`dropDuplicates`, `SELECT
    DISTINCT`) is refused, as Spark refuses it. A map's NULL values: see null_map_values."""
    s = {"id": "bigint", "m": "map<string,bigint>", "a": "array<double>", "st": "struct<x:float,y:string>"}
    b0 = [{"id": 1, "m": {"a": 1, "b": 2}, "a": [0.0, 1.5], "st": {"x": 0.0, "y": "p"}},
          {"id": 2, "m": {"b": 2, "a": 1}, "a": [-0.0, 1.5], "st": {"x": -0.0, "y": "p"}},
          {"id": 3, "m": {}, "a": [], "st": {"x": None, "y": None}}]
    b1 = [{"id": 4, "m": {"c": 3}, "a": [None, "NaN"], "st": {"x": "NaN", "y": "q"}},
          {"id": 5, "m": {"a": 1, "b": 2}, "a": [None, "NaN"], "st": {"x": "NaN", "y": "q"}},
          {"id": 6}]
    b2 = [{"id": 7, "m": {}, "a": [-0.0, 1.5], "st": {"x": 0.0, "y": "p"}},
          {"id": 8, "m": {"c": 3}, "a": [1.5, 0.0], "st": {"y": "p"}}]
    bs = [b0, b1, b2]
    c = lambda id, sql, mode="complete", **kw: case(id, sql, bs, mode=mode, schema=s, **kw)
    dedup = lambda id, col, **kw: {"id": id, "output_mode": "append", "from": "events",
                                   "dataframe": "events.dropDuplicates(['%s'])" % col, "steps": [{"drop_duplicates": [col]}],
                                   "sources": {"events": {"schema": s, "watermark": None, "batches": bs}}}
    built = "if(id % 2 = 0, map('a', id % 3, 'b', 2), map('b', 2, 'a', id % 3))"
    return [
        c("map", "SELECT m, count(*) AS n, collect_list(id) AS ids FROM events GROUP BY m",
          steps=[{"group_by": ["m"], "agg": ["count(*) AS n", "collect_list(id) AS ids"]}]),
        c("map-update", "SELECT m, count(*) AS n FROM events GROUP BY m", mode="update"),
        c("map-built-in-either-order", "SELECT k, count(*) AS n, collect_list(id) AS ids FROM (SELECT %s AS k, id FROM events) GROUP BY k" % built),
        c("map-in-struct", "SELECT named_struct('k', m) AS s, count(*) AS n FROM events GROUP BY named_struct('k', m)"),
        c("map-and-field", "SELECT m, st.y AS y, sum(id) AS s FROM events GROUP BY m, st.y", mode="update"),
        c("array-of-doubles", "SELECT a, count(*) AS n, collect_list(id) AS ids FROM events GROUP BY a",
          steps=[{"group_by": ["a"], "agg": ["count(*) AS n", "collect_list(id) AS ids"]}]),
        c("struct-with-float", "SELECT st, count(*) AS n, collect_list(id) AS ids FROM events GROUP BY st"),
        c("distinct-array-of-doubles", "SELECT DISTINCT a FROM events"),
        dedup("dedup-array-of-doubles", "a"),
        dedup("dedup-struct-with-float", "st"),
        dedup("dedup-map-refused", "m"),
        c("distinct-map-refused", "SELECT DISTINCT id, m FROM events"),
        c("distinct-map-in-struct-refused", "SELECT DISTINCT named_struct('k', m) AS s FROM events"),
    ] + null_map_values()


def null_map_values():
    """A map with a NULL value as a grouping key: Spark's streaming aggregation (not its batch
    one) reads a NULL value of a primitive type (boolean, integers, float, double, date,
    timestamp) as that type's zero, so `{a -> null, b -> 1}` is the group `{a -> 0, b -> 1}`;
    a NULL string, decimal, binary, array, struct or map value stays NULL. At any depth: maps
    inside structs, arrays and maps alike; an array's NULL elements inside a map stay NULL."""
    s = {"id": "bigint", "i": "map<string,int>", "w": "map<string,string>", "d": "map<string,double>",
         "t": "map<string,timestamp>", "c": "map<string,decimal(5,2)>", "a": "map<string,array<int>>",
         "mm": "map<string,map<string,boolean>>"}
    b0 = [{"id": 1, "i": {"a": None, "b": 1}, "w": {"a": None, "b": "x"}, "d": {"a": None}, "t": {"a": None},
           "c": {"a": None}, "a": {"a": None, "b": [1, None]}, "mm": {"a": {"x": None}}},
          {"id": 2, "i": {"a": 0, "b": 1}, "w": {"a": "", "b": "x"}, "d": {"a": 0.0}, "t": {"a": "1970-01-01T00:00:00"},
           "c": {"a": 0}, "a": {"a": [], "b": [1, None]}, "mm": {"a": {"x": False}}},
          {"id": 3, "i": {"a": None}, "w": {"a": None}, "d": {"a": -0.0}, "mm": {"a": None}}]
    b1 = [{"id": 4, "i": {"a": None, "b": 1}, "w": {"a": None, "b": "x"}, "d": {"a": None}, "t": {"a": None},
           "c": {"a": None}, "a": {"a": None, "b": [1, None]}, "mm": {"a": {"x": None}}},
          {"id": 5, "i": {"a": 7}, "d": {"a": 1.5}, "mm": {"a": {"x": True}}}]
    bs = [b0, b1]
    c = lambda id, sql, mode="complete": case(id, sql, bs, mode=mode, schema=s)
    grouped = lambda col: "SELECT %s, count(*) AS n, collect_list(id) AS ids FROM events GROUP BY %s" % (col, col)
    # A key whose values the oracle cannot write as JSON is compared as its text.
    text = lambda col: "SELECT CAST(%s AS STRING) AS %s, n, ids FROM (%s)" % (col, col, grouped(col))
    return [
        c("null-value-int", grouped("i")),
        c("null-value-int-update", grouped("i"), "update"),
        c("null-value-string", grouped("w")),
        c("null-value-double", grouped("d")),
        c("null-value-timestamp", text("t")),
        c("null-value-decimal", text("c")),
        c("null-value-array", grouped("a")),
        c("null-value-map-in-map", text("mm")),
        c("null-value-after-grouping", "SELECT i, i['a'] IS NULL AS a_null, CAST(i AS STRING) AS s, n "
                                       "FROM (SELECT i, count(*) AS n FROM events GROUP BY i)"),
        c("null-value-in-struct", "SELECT k, count(*) AS n, collect_list(id) AS ids FROM "
                                  "(SELECT named_struct('m', i, 'z', id % 2) AS k, id FROM events) GROUP BY k"),
        c("null-value-in-array", "SELECT k, count(*) AS n, collect_list(id) AS ids FROM "
                                 "(SELECT array(i, i) AS k, id FROM events) GROUP BY k"),
        c("null-value-and-key", "SELECT i, id % 2 AS p, count(*) AS n FROM events GROUP BY i, id % 2", "update"),
    ]


def window_struct():
    """The `window` (and `session_window`) column selected whole: Spark's struct of `start` and
    `end`; expressions over aggregates; a distinct aggregation (refused)."""
    b = [[row("09:01:00", "a", 1), row("09:04:00", "b", 2), row("09:12:00", "a", 3)],
         [row("09:13:00", "a", 4), row("09:31:00", "b", 5)],
         [row("09:02:00", "late", 6), row("09:45:00", "a", 7)]]
    return [
        case("complete", "SELECT window, word, count(*) AS c FROM events GROUP BY window(timestamp, '10 minutes'), word",
             b, mode="complete"),
        case("append", "SELECT window, count(*) AS c, sum(n) * 10 AS s10 FROM events GROUP BY window(timestamp, '10 minutes', '5 minutes')",
             b, watermark=WM),
        case("update-having", "SELECT window, count(*) AS c FROM events GROUP BY window(timestamp, '10 minutes') HAVING sum(n) > 3",
             b, mode="update", watermark=WM),
        case("session", "SELECT session_window, word, count(*) AS c FROM events GROUP BY session_window(timestamp, '5 minutes'), word",
             b, watermark=WM),
        case("count-distinct", "SELECT count(DISTINCT word) AS c FROM events", b, mode="complete"),
    ]


def csv():
    """The CSV reader's options (Spark's names): header, sep, quote, escape, nullValue,
    timestampFormat, dateFormat; each batch is one file, so a header starts each batch."""
    def src(options, batches, schema=None):
        return {"events": {"format": "csv", "options": options, "watermark": None, "batches": batches,
                           "schema": schema or {"id": "bigint", "name": "string", "ts": "string"}}}
    b = [["id,name,ts", '1,"a""b",2024-01-01 10:00:00', '2,"c\\"d",NA', "3,,01/02/2024 10:00"],
         ["id,name,ts", '4,"x,y",NA', "5,plain,", '6,"",02/03/2024 11:30']]
    q = "SELECT id, name, ts FROM events"
    c = lambda id, options, batches=b, schema=None, sql=q, mode="append": {
        "id": id, "sql": sql, "output_mode": mode, "sources": src(options, batches, schema)}
    return [
        c("header", {"header": "true"}),
        c("no-header", {}),
        c("null-value", {"header": "true", "nullValue": "NA"}),
        c("sep", {"header": "true", "sep": ";"}, [["id;name;ts", "1;a,b;NA", '2;"x;y";z']]),
        c("escape-quote", {"header": "true", "escape": '"'}),
        c("quote", {"header": "true", "quote": "'"}, [["id,name,ts", "1,'a,b',x", "2,\"q\",y"]]),
        c("timestamp-format", {"header": "true", "timestampFormat": "MM/dd/yyyy HH:mm"},
          schema={"id": "bigint", "name": "string", "ts": "timestamp"}),
        c("date-format", {"header": "true", "dateFormat": "dd.MM.yyyy"},
          [["id,name,ts", "1,a,31.12.2023", "2,b,2024-01-05", "3,c,"]],
          schema={"id": "bigint", "name": "string", "ts": "date"}),
        c("count", {"header": "true"}, sql="SELECT count(*) AS n, count(name) AS named FROM events", mode="complete"),
    ]


def approx():
    """approx_count_distinct (HyperLogLog++ at its default relative error): per group with few
    values (linear counting), and a global count over thousands of values (the harmonic-mean
    estimate), merged across batches; strings, longs, doubles, timestamps and NULLs. `mid`: two
    groups grow batch by batch through 300..3000 distinct values, where Spark switches from
    linear counting to the harmonic-mean estimate less the HLL++ paper's empirical bias (below
    5·512 = 2560) and then to the plain estimate; bigints, strings, doubles and ints."""
    s = {"n": "bigint", "s": "string", "d": "double", "t": "timestamp", "g": "string"}
    def r(i, g):
        return {"n": i, "s": "k%d" % (i * 7919 % 100003), "d": i / 8.0, "t": "2024-03-01T00:%02d:%02d" % (i // 60 % 60, i % 60), "g": g}
    small = [[r(i % 37, "a" if i % 3 else "b") for i in range(200)] + [{"g": "a"}],
             [r(i % 53, "a") for i in range(100)] + [r(1000 + i, "c") for i in range(9)]]
    # (Kept small on disk: two columns; 3500 distinct values, then 5250, both above 5·512.)
    big = [[{"n": i, "s": "k%d" % i} for i in range(3500)], [{"n": i, "s": "k%d" % i} for i in range(1750, 5250)]]
    q = "SELECT g, approx_count_distinct(n) AS n, approx_count_distinct(s) AS s, approx_count_distinct(d) AS d, approx_count_distinct(t) AS t FROM events GROUP BY g"
    # Cumulative distinct counts per batch of the two groups (each batch also repeats a few old
    # values, which must not count).
    grow = {"a": [300, 401, 500, 750, 1000, 1250, 1500, 1750, 2000, 2250, 2559, 2600, 3000],
            "b": [350, 450, 620, 900, 1100, 1400, 1600, 1900, 2100, 2400, 2500, 2700, 2900]}
    def m(i, g):
        if g == "a":
            return {"g": g, "n": i, "s": "k%d" % i, "d": i / 8.0, "i": i * 3}
        return {"g": g, "n": i * 7919 % 100003, "s": "v%d" % (i * 31), "d": -i / 3.0, "i": -i}
    mid = []
    for b in range(len(grow["a"])):
        batch = []
        for g, ends in grow.items():
            start = ends[b - 1] if b else 0
            batch += [m(i, g) for i in range(start, ends[b])] + [m(i, g) for i in range(0, start, max(1, start // 7))]
        mid.append(batch)
    qm = "SELECT g, approx_count_distinct(n) AS n, approx_count_distinct(s) AS s, approx_count_distinct(d) AS d, approx_count_distinct(i) AS i, count(*) AS c FROM events GROUP BY g"
    return [
        case("small", q, small, mode="complete", schema=s),
        case("mid", qm, mid, mode="complete", schema={"g": "string", "n": "bigint", "s": "string", "d": "double", "i": "int"}),
        case("small-update", q, small, mode="update", schema=s),
        case("global-big", "SELECT approx_count_distinct(n) AS n, approx_count_distinct(s) AS s, count(*) AS c FROM events",
             big, mode="complete", schema={"n": "bigint", "s": "string"}),
    ]

def srt(r):
    """A row with its keys in sorted order: the order the test harness writes them in (a field
    that fails to convert may matter to what Spark keeps of the rest of the row)."""
    return dict(sorted(r.items()))


def types():
    """int, smallint, tinyint and float columns beside bigint, double, string and boolean: JSON
    reading (out of range, fractional, string-typed values), result types (`typeof`) of
    arithmetic, functions, aggregates and literals, ANSI overflow errors, casts between every
    pair, comparisons with literals and strings, a float's text."""
    s = {"i": "int", "s": "smallint", "t": "tinyint", "f": "float", "n": "bigint", "d": "double", "w": "string",
         "b": "boolean"}
    def r(i=None, s=None, t=None, f=None, n=None, d=None, w=None, b=None):
        return srt({k: v for k, v in dict(i=i, s=s, t=t, f=f, n=n, d=d, w=w, b=b).items() if v is not None})
    # Values whose products and sums fit their types (46340² < 2³¹ ≤ 46341²).
    main = [[r(1, 2, 3, 0.1, 10, 0.5, "a", True), r(-7, -300, -11, 1.5, 3000000000, -2.25, "b", False),
             r(40000, 1000, 3, 123456.7, -1, 1e10, "3", True)],
            [r(3, 5, 4, -2.5, 3, 3.0, "1.9", False), r(w="nulls"), r(-46340, -1, 3, 1e-5, 7, 0.1, "x")],
            [r(2, 2, -11, 1.5, 2, 2.0, "2", True), r(5, 7, 7, 0.1, 5, -0.0, "5")]]
    # Values every narrower type holds, and fractions.
    small = [[r(100, -5, 0, 2.7, 42, -1.5, "12", True), r(-1, 127, -128, -0.5, -128, 127.9, "-7", False)],
             [r(0, 0, 127, 99.99, 0, 0.1, " 3 "), r(w=None)]]
    # The types' limits: what overflows.
    edge = [[r(2147483647, 32767, 127, 1e10, 3000000000, 1e300, "1.9", True),
             r(-2147483648, -32768, -128, -1.5, -2147483648, -1e-300, "3000000000", False),
             r(0, 0, 0, "NaN", 0, "Infinity", "abc")]]
    c = lambda id, sql, batches=main, schema=s, **kw: case(id, sql, batches, schema=schema, **kw)
    read_schema = {"a": "bigint", **s}
    def rr(a, **kw):
        return srt({"a": a, **kw})
    read = [[rr(1, i=3000000000, w="int-overflow"), rr(2, i=1.5, w="int-fraction"), rr(3, i="7", w="int-string"),
             rr(4, i=1.0, w="int-float-integral"), rr(5, i=1e10, w="int-float-overflow"), rr(6, i=True, w="int-bool"),
             rr(7, i="abc", w="int-bad-string"), rr(8, i=" 7", w="int-string-space"), rr(9, i=-2147483648, w="int-min")],
            [rr(10, s=40000, w="smallint-overflow"), rr(11, s=-32768, t=-128, w="smallint-tinyint-min"),
             rr(12, t=300, w="tinyint-overflow"), rr(13, t=-129, w="tinyint-underflow"), rr(14, t="5", w="tinyint-string"),
             rr(15, s=2.5, w="smallint-fraction"), rr(16, n=1.5, w="bigint-fraction"), rr(17, n="12", w="bigint-string"),
             rr(18, i=None, f=None, w="nulls"), rr(19, w="missing")],
            [rr(20, f=1e40, w="float-overflow"), rr(21, f=1e-50, w="float-underflow"), rr(22, f="NaN", w="float-nan-string"),
             rr(23, f="1.5", w="float-string"), rr(24, f=3, w="float-int"), rr(25, f=16777217, w="float-2^24+1"),
             rr(26, f=3.4028235e38, w="float-max"), rr(27, f=0.1, d=0.1, w="float-double-0.1"),
             rr(28, f="Infinity", d="-Infinity", w="infinity-strings"), rr(29, d="1.5", w="double-string"),
             rr(30, f="-INF", w="float-inf-string"), rr(31, f=1e-45, w="float-min-subnormal"),
             rr(32, i=1.5, n=5, t=1, w="later-fields-kept"), rr(33, f="+INF", d="INF", w="inf-strings"),
             rr(34, f="inf", d="nan", w="lowercase-strings"), rr(35, f="+Infinity", d="NaN", w="plus-infinity"),
             rr(36, f="1e5", d="1e5", w="exponent-strings")]]
    floats = [[r(f=0.1, d=0.1), r(f=1e10, d=1e10), r(f=1e-5, d=1e-5), r(f=123456.7, d=123456.7)],
              [r(f=1e7, d=1e7), r(f=9999999.0, d=9999999.0), r(f=0.001, d=0.001), r(f=0.0001, d=0.0001),
               r(f=-0.0, d=-0.0), r(f=100.0, d=100.0)],
              [r(f=3.4028235e38, d=3.4028235e38), r(f=16777217, d=16777217), r(f=2.675, d=2.675), r(f=1.0 / 3, d=1.0 / 3),
               r(f=1e-40, d=1e-40), r(f=12345678.0, d=12345678.0)]]
    sums = [[r(i=2147483647, s=32767, t=127, f=3e38), r(i=2147483647, s=32767, t=127, f=3e38)],
            [r(i=2147483647, s=32767, t=127, f=1.5)]]
    err = lambda id, sql: c(id, sql, edge)
    # (Floats and doubles as text: the answers' JSON has no NaN or Infinity.)
    return [
        c("read-json", "SELECT a, i, s, t, n, b, w, CAST(f AS STRING) AS f, CAST(d AS STRING) AS d FROM events", read,
          schema=read_schema),
        c("select", "SELECT i, s, t, f, n, d, b FROM events"),
        c("typeof-columns", "SELECT typeof(i) AS i, typeof(s) AS s, typeof(t) AS t, typeof(f) AS f, typeof(n) AS n, "
                            "typeof(d) AS d FROM events WHERE w = 'a'"),
        c("typeof-arithmetic", "SELECT typeof(i + 1) AS a, typeof(i + i) AS b, typeof(s + t) AS c, typeof(t + t) AS e, "
                               "typeof(t * 2) AS g, typeof(i + n) AS h, typeof(i + d) AS k, typeof(f + d) AS l, "
                               "typeof(f + i) AS m, typeof(f + n) AS o, typeof(f * f) AS p, typeof(i / i) AS q, "
                               "typeof(f / f) AS r, typeof(i % i) AS u, typeof(t % s) AS v, typeof(-t) AS x, "
                               "typeof(s - 1Y) AS z FROM events WHERE w = 'a'"),
        c("typeof-strings", "SELECT typeof(i + '1') AS a, typeof(t + '1') AS b, typeof(f + '1') AS c, "
                            "typeof(i + w) AS e, typeof(f * w) AS g, typeof(concat('x', f)) AS h, "
                            "typeof(i = '3') AS k FROM events WHERE w = 'a'"),
        c("typeof-functions", "SELECT typeof(abs(t)) AS a, typeof(abs(f)) AS b, typeof(round(f)) AS c, "
                              "typeof(round(i, -1)) AS e, typeof(round(t)) AS g, typeof(floor(f)) AS h, typeof(ceil(i)) AS k, "
                              "typeof(floor(s)) AS l, typeof(greatest(i, s, t)) AS m, typeof(greatest(i, f)) AS o, "
                              "typeof(least(t, n)) AS p, typeof(coalesce(i, s)) AS q, typeof(coalesce(f, d)) AS r, "
                              "typeof(coalesce(t, 100)) AS u, typeof(CASE WHEN b THEN i ELSE t END) AS v, "
                              "typeof(if(b, f, i)) AS x, typeof(nvl(s, 1)) AS y FROM events WHERE w = 'a'"),
        c("typeof-int-functions", "SELECT typeof(length(w)) AS l, typeof(instr(w, 'a')) AS i, "
                                  "typeof(locate('a', w)) AS lo, typeof(size(split(w, ','))) AS sz, "
                                  "typeof(year(to_date('2024-03-01'))) AS y, typeof(month(to_date('2024-03-01'))) AS m, "
                                  "typeof(dayofmonth(to_date('2024-03-01'))) AS dm, typeof(dayofweek(to_date('2024-03-01'))) AS dw, "
                                  "typeof(quarter(to_date('2024-03-01'))) AS q, "
                                  "typeof(hour(to_timestamp('2024-03-01 10:00:00'))) AS h, "
                                  "typeof(datediff(to_date('2024-03-02'), to_date('2024-03-01'))) AS dd, "
                                  "length(w) + 1 AS l1, year(to_date('2024-03-01')) * 2 AS y2 FROM events WHERE w = 'a'"),
        c("typeof-literals", "SELECT typeof(1) AS a, typeof(2147483647) AS b, typeof(2147483648) AS c, "
                             "typeof(-2147483648) AS e, typeof(1.5) AS g, typeof(1.5BD) AS h, typeof(1e3) AS k, "
                             "typeof(1Y) AS l, typeof(1S) AS m, typeof(1L) AS o, typeof(1.5F) AS p, typeof(1.5D) AS q, "
                             "typeof(i + 1.5) AS r, typeof(f + 1.5) AS u, typeof(t + 1.5) AS v, typeof(n + 1.5) AS x, "
                             "typeof(n + 2) AS y FROM events WHERE w = 'a'"),
        c("literals", "SELECT 1 AS one, 2147483648 AS big, -2147483648 AS min, 1.5 AS dec, 1e3 AS e3, 1Y AS y, 1S AS s, "
                      "1.5F AS fl, 0.1F AS fl01, i + 1.5 AS a, f + 1.5 AS b, t + 1.5 AS c, f + 0.1F AS g FROM events"),
        c("arithmetic", "SELECT i + i AS a, i * i AS b, i + n AS c, i + d AS e, f + d AS g, f + i AS h, s + t AS k, "
                        "i - s AS l, t * t AS m, s * t AS o, f * f AS p, f - f AS q, -i AS r, -t AS u, f + n AS v, "
                        "t + 1 AS x, i * 2L AS y FROM events"),
        c("division", "SELECT i / s AS a, t / s AS b, i % 3 AS c, i % s AS e, t % 3 AS g, f / 3 AS h, f % 1 AS k, "
                      "i / 2 AS m, -7 % 3 AS o FROM events"),
        c("compare", "SELECT w, i > 2 AS a, i = 3.0 AS b, f = 0.1 AS c, f = 0.1F AS e, f > 1 AS g, i > '3' AS h, "
                     "s = t AS k, i < n AS l, i = d AS m, t IN (3, 4, '7') AS o, i BETWEEN 1 AND 3 AS p, f = 1.5 AS q, "
                     "f < d AS r, i = '3000000000' AS s1, t = '300' AS s2 FROM events"),
        c("where", "SELECT w FROM events WHERE t = 3 AND f < 100"),
        c("compare-string-column", "SELECT w, i = w AS a, f > w AS b, t < w AS c FROM events", small),
        c("compare-string-column-bad", "SELECT w, i = w AS a FROM events"),
        c("casts-from-integers", "SELECT CAST(i AS SMALLINT) AS i_s, CAST(i AS TINYINT) AS i_t, CAST(i AS BIGINT) AS i_n, "
                                 "CAST(i AS FLOAT) AS i_f, CAST(i AS DOUBLE) AS i_d, CAST(i AS STRING) AS i_w, "
                                 "CAST(i AS BOOLEAN) AS i_b, CAST(s AS INT) AS s_i, CAST(s AS TINYINT) AS s_t, "
                                 "CAST(s AS FLOAT) AS s_f, CAST(s AS STRING) AS s_w, CAST(s AS BOOLEAN) AS s_b, "
                                 "CAST(t AS INT) AS t_i, CAST(t AS SMALLINT) AS t_s, CAST(t AS BIGINT) AS t_n, "
                                 "CAST(t AS DOUBLE) AS t_d, CAST(t AS STRING) AS t_w, CAST(t AS BOOLEAN) AS t_b, "
                                 "CAST(n AS INT) AS n_i, CAST(n AS SMALLINT) AS n_s, CAST(n AS TINYINT) AS n_t, "
                                 "CAST(n AS FLOAT) AS n_f FROM events", small),
        c("casts-from-floats", "SELECT CAST(f AS INT) AS f_i, CAST(f AS SMALLINT) AS f_s, CAST(f AS TINYINT) AS f_t, "
                               "CAST(f AS BIGINT) AS f_n, CAST(f AS DOUBLE) AS f_d, CAST(f AS STRING) AS f_w, "
                               "CAST(f AS BOOLEAN) AS f_b, CAST(d AS FLOAT) AS d_f, CAST(d AS INT) AS d_i, "
                               "CAST(d AS SMALLINT) AS d_s, CAST(d AS TINYINT) AS d_t, CAST(d AS STRING) AS d_w FROM events",
          small),
        c("casts-from-strings-booleans", "SELECT w, CAST(w AS INT) AS w_i, CAST(w AS SMALLINT) AS w_s, "
                                         "CAST(w AS TINYINT) AS w_t, CAST(w AS BIGINT) AS w_n, CAST(w AS FLOAT) AS w_f, "
                                         "CAST(w AS DOUBLE) AS w_d, try_cast(w AS BOOLEAN) AS w_b, CAST(b AS INT) AS b_i, "
                                         "CAST(b AS SMALLINT) AS b_s, CAST(b AS TINYINT) AS b_t, CAST(b AS FLOAT) AS b_f, "
                                         "CAST(b AS STRING) AS b_w, CAST('yes' AS BOOLEAN) AS y, CAST('0' AS BOOLEAN) AS z "
                                         "FROM events", small),
        c("try-casts", "SELECT w, try_cast(n AS INT) AS n_i, try_cast(i AS SMALLINT) AS i_s, try_cast(s AS TINYINT) AS s_t, "
                       "try_cast(f AS INT) AS f_i, CAST(try_cast(d AS FLOAT) AS STRING) AS d_f, try_cast(w AS INT) AS w_i, "
                       "try_cast(w AS BIGINT) AS w_n, try_cast(w AS FLOAT) AS w_f FROM events", edge),
        c("try-arithmetic", "SELECT w, try_add(i, 1) AS a, try_multiply(t, 2Y) AS m, try_subtract(n, 1) AS s, "
                            "try_divide(i, 0) AS z, try_divide(n, 4) AS q, try_add(CAST(i AS DOUBLE), 1.5) AS f, "
                            "typeof(try_add(i, 1)) AS ta, typeof(try_multiply(t, 2Y)) AS tm FROM events", edge),
        c("try-arithmetic-mixed", "SELECT w, try_add(i, n) AS a, try_add(t, i) AS b, try_subtract(s, n) AS c, "
                                  "try_multiply(i, n) AS e, try_multiply(t, s) AS g, try_divide(i, n) AS h, "
                                  "try_add(i, f) AS k, try_add(n, d) AS l, try_subtract(t, 1) AS m, "
                                  "typeof(try_add(i, n)) AS ta, typeof(try_multiply(t, s)) AS tm, "
                                  "typeof(try_add(i, f)) AS tf, typeof(try_divide(t, s)) AS td FROM events", edge),
        c("try-arithmetic-mixed-small", "SELECT w, try_add(i, n) AS a, try_add(t, i) AS b, try_multiply(t, s) AS g, "
                                        "try_divide(n, i) AS h, try_add(i, f) AS k FROM events", small),
        c("widening-at-limits", "SELECT t + 1 AS a, s + 1 AS b, i + 1L AS c, i + 1.0 AS e, t + 1Y * 0Y AS g, "
                                "CAST(i AS BIGINT) * 2 AS h, i * 2.0D AS k, f * 1e30 AS l, i - 0 AS m FROM events "
                                "WHERE w <> 'abc'", edge),
        c("cast-double-to-float-overflow", "SELECT CAST(CAST(d AS FLOAT) AS STRING) AS d_f, CAST(d AS FLOAT) = CAST('Infinity' AS FLOAT) AS inf "
                                           "FROM events", edge),
        c("float-nan-infinity", "SELECT CAST(f AS STRING) AS f, CAST(d AS STRING) AS d, isnan(f) AS a, f = f AS b, "
                                "CAST(CAST(f AS DOUBLE) AS STRING) AS c, CAST(CAST(d AS FLOAT) AS STRING) AS e, "
                                "f > 1e30 AS g, isnan(f + 1) AS h, d > 1e308 AS k, CAST(f * 0 AS STRING) AS l, "
                                "CAST(greatest(f, 1) AS STRING) AS m FROM events WHERE w = 'abc'", edge),
        c("float-strings", "SELECT f, CAST(f AS STRING) AS fs, concat('x', f) AS fc, CAST(d AS STRING) AS ds, "
                           "CAST(d AS FLOAT) AS df, CAST(CAST(d AS FLOAT) AS STRING) AS dfs, CAST(f AS DOUBLE) AS fd, "
                           "f = d AS eq FROM events", floats),
        c("concat", "SELECT concat('x', f) AS a, concat(i, '-', t) AS b, concat('s', s) AS c, concat_ws(',', i, f, t) AS e "
                    "FROM events"),
        c("math", "SELECT abs(i) AS a, abs(t) AS b, abs(f) AS c, round(f) AS e, round(f, 1) AS g, round(i, -1) AS h, "
                  "round(t, -1) AS k, floor(f) AS l, ceil(f) AS m, floor(i) AS o, ceil(t) AS p, greatest(i, s, t) AS q, "
                  "least(f, d) AS r, greatest(i, f) AS u, coalesce(i, s) AS v, coalesce(f, i) AS x, "
                  "coalesce(t, 100) AS y FROM events"),
        c("round-floats", "SELECT f, round(f, 2) AS a, round(f, 1) AS b, bround(f, 2) AS c, round(d, 2) AS e, "
                          "f * 10 AS g, typeof(f * 10) AS h FROM events", floats),
        c("aggregates", "SELECT sum(i) AS si, avg(i) AS ai, min(i) AS mi, max(i) AS xi, count(i) AS ci, sum(s) AS ss, "
                        "sum(t) AS st, min(t) AS mt, avg(f) AS af, min(f) AS mf, max(f) AS xf, "
                        "count(f) AS cf FROM events", mode="complete"),
        c("sum-int-beyond-int", "SELECT sum(i) AS si, sum(s) AS ss, sum(t) AS st, sum(f) AS sf, max(f) AS mf, "
                                "avg(i) AS ai FROM events", sums, mode="complete"),
        c("group-by-int", "SELECT t, count(*) AS c, sum(i) AS si, max(f) AS mf FROM events GROUP BY t", mode="complete"),
        c("group-by-float", "SELECT f, count(*) AS c, sum(t) AS st FROM events GROUP BY f", mode="update"),
        c("group-by-int-expression", "SELECT i % 2 AS odd, count(*) AS c FROM events GROUP BY i % 2",
          mode="complete"),
        c("float-floor-overflow", "SELECT floor(f) AS a FROM events WHERE f > 1e30", floats),
        c("compare-int-string-fraction", "SELECT w, i > '1.9' AS a FROM events"),
        err("int-add-overflow", "SELECT i + 1 AS a FROM events"),
        err("int-mul-overflow", "SELECT i * 2 AS a FROM events"),
        err("int-neg-overflow", "SELECT -i AS a FROM events"),
        err("int-abs-overflow", "SELECT abs(i) AS a FROM events"),
        err("smallint-tinyint-add-overflow", "SELECT s + t AS a FROM events"),
        err("tinyint-mul-overflow", "SELECT t * t AS a FROM events"),
        err("tinyint-neg-overflow", "SELECT -t AS a FROM events WHERE t < 0"),
        err("int-div-zero", "SELECT i / t AS a FROM events"),
        err("int-mod-zero", "SELECT i % t AS a FROM events"),
        err("cast-bigint-to-int-overflow", "SELECT CAST(n AS INT) AS a FROM events"),
        err("cast-int-to-smallint-overflow", "SELECT CAST(i AS SMALLINT) AS a FROM events"),
        err("cast-smallint-to-tinyint-overflow", "SELECT CAST(s AS TINYINT) AS a FROM events"),
        err("cast-float-to-int-overflow", "SELECT CAST(f AS INT) AS a FROM events WHERE w = '1.9'"),
        err("cast-float-nan-to-int", "SELECT CAST(f AS INT) AS a FROM events WHERE w = 'abc'"),
        err("cast-double-to-bigint-overflow", "SELECT CAST(d AS BIGINT) AS a FROM events WHERE w = '1.9'"),
        err("cast-string-fraction-to-int", "SELECT CAST(w AS INT) AS a FROM events WHERE w = '1.9'"),
        err("cast-string-out-of-range-to-int", "SELECT CAST(w AS INT) AS a FROM events WHERE w = '3000000000'"),
        err("cast-string-bad-to-float", "SELECT CAST(w AS FLOAT) AS a FROM events WHERE w = 'abc'"),
        err("cast-string-to-boolean-bad", "SELECT CAST(w AS BOOLEAN) AS a FROM events WHERE w = 'abc'"),
    ]


def binary():
    """A `binary` column read from JSON (base64 text), selected (base64 in the answers, as Spark's
    JSON writer writes it), cast to and from strings, compared, grouped; length, hex, base64,
    unbase64 (and its invalid input)."""
    s = {"k": "bigint", "b": "binary", "s": "string", "e": "string"}
    r = lambda k, b=None, s=None, e=None: srt({x: v for x, v in dict(k=k, b=b, s=s, e=e).items() if v is not None})
    main = [[r(1, "aGVsbG8=", "hello", "aGk="), r(2, "", "", ""), r(3, "AP+A", "é", "AP+A")],
            [r(4, "aGVsbG8=", "x", "eA=="), r(5, s="no b"), r(6, "eA==", "x", "YWJj")],
            [r(7, "cA==", "p", "aGVsbG8gd29ybGQ="), r(8, "/w==", "\u00ff")]]
    # Jackson's base64 (MIME without line feeds): which bad texts null the field. (Some null the
    # whole row in Spark — `a`, `abcde`, `YQ=`, `YWJjZA=` — which streamc does not do: left out.)
    rr = lambda k, b, s: srt({"a": "x", "k": k, "b": b, "s": s})
    read = [[rr(1, "aGVsbG8=", "padded"), rr(2, "aGk", "unpadded"), rr(3, "not base64!", "invalid chars"),
             rr(4, "aGVsbG8", "unpadded-7"), rr(6, "ab", "two chars"), rr(7, "abc", "three chars"),
             rr(10, "YQ===", "three pads"), rr(12, "!!!!", "bad unit")],
            [rr(13, 5, "a number"), rr(14, "aGVs bG8=", "space between units"), rr(15, "aGVsbG8=\n", "trailing newline"),
             rr(16, "YQ==YQ==", "padding inside"), rr(17, "-_8=", "url-safe alphabet"), rr(18, None, "null"),
             rr(19, "YW Jj", "space inside a unit"), rr(20, " YWJj\t", "space around"), rr(21, "Y=Q=", "pad inside a unit"),
             rr(22, "YWJj!", "bad char after a unit"), rr(23, "", "empty"), {"a": "x", "k": 24, "s": "missing"}]]
    c = lambda id, sql, batches=main, schema=s, **kw: case(id, sql, batches, schema=schema, **kw)
    return [
        c("read-json", "SELECT a, k, b, s, hex(b) AS h FROM events", read,
          schema={"a": "string", "b": "binary", "k": "bigint", "s": "string"}),
        c("select", "SELECT k, b FROM events"),
        c("cast-to-string", "SELECT k, CAST(b AS STRING) AS a FROM events"),
        c("cast-from-string", "SELECT k, CAST(s AS BINARY) AS a, typeof(CAST(s AS BINARY)) AS t FROM events"),
        c("functions", "SELECT k, length(b) AS l, hex(b) AS h, base64(b) AS b64, unbase64(e) AS u, "
                       "base64(s) AS bs, hex(s) AS hs, typeof(b) AS t FROM events"),
        c("typeof", "SELECT typeof(b) AS a, typeof(hex(b)) AS h, typeof(base64(b)) AS b64, "
                    "typeof(unbase64(e)) AS u, typeof(concat(b, 'x')) AS cs FROM events WHERE k = 1"),
        c("equality", "SELECT k, b = CAST('hello' AS BINARY) AS a, b < CAST('p' AS BINARY) AS lt, "
                      "b > CAST('hello' AS BINARY) AS gt, b = CAST(s AS BINARY) AS bs, b = unbase64(e) AS be, "
                      "b = 'hello' AS str FROM events"),
        c("where", "SELECT k FROM events WHERE b = CAST('x' AS BINARY) OR b = CAST('' AS BINARY)"),
        c("group-by", "SELECT b, count(*) AS c FROM events GROUP BY b", mode="complete"),
        c("aggregates", "SELECT count(b) AS c, count(*) AS n, min(b) AS mn, max(b) AS mx FROM events", mode="complete"),
        c("to-json", "SELECT k, to_json(named_struct('b', b, 'k', k)) AS j FROM events"),
        c("string-functions", "SELECT k, concat(s, b) AS a, upper(b) AS u, concat_ws('-', s, CAST(b AS STRING)) AS w "
                              "FROM events WHERE k <> 3"),
        c("cast-int-to-binary", "SELECT CAST(k AS BINARY) AS a FROM events"),
        c("cast-binary-to-int-refused", "SELECT CAST(b AS INT) AS a FROM events"),
        c("unbase64-lenient", "SELECT k, unbase64(s) AS a, unbase64('abc!') AS b, unbase64('\u00e9') AS c, "
                              "unbase64('YW Jj') AS e, unbase64('-_8A') AS g FROM events WHERE k = 5"),
        c("unbase64-invalid", "SELECT unbase64(s) AS a FROM events WHERE k = 1"),
        c("unbase64-bad-padding", "SELECT unbase64(concat(e, '=')) AS a FROM events WHERE k = 6"),
        c("to-binary-invalid", "SELECT to_binary(s, 'base64') AS a FROM events WHERE k = 1"),
        c("unbase64-unpadded", "SELECT unbase64('aGk') AS a, unbase64('aGVsbG8') AS b, unbase64('') AS c FROM events "
                               "WHERE k = 1"),
        c("unhex", "SELECT k, unhex(e) AS a, unhex('4869') AS b, unhex('abC') AS c, unhex('zz') AS d, "
                   "X'48656C6C6F' AS x, X'' AS y, typeof(X'00') AS t FROM events WHERE k = 1 OR k = 6"),
        c("lengths", "SELECT k, octet_length(s) AS o, bit_length(s) AS bl, octet_length(b) AS ob, bit_length(b) AS bb "
                     "FROM events"),
        c("to-binary", "SELECT k, to_binary(s, 'utf-8') AS u, to_binary(s, 'UTF8') AS u2, to_binary(e, 'base64') AS b, "
                       "try_to_binary(s, 'hex') AS h, try_to_binary(s) AS h2, try_to_binary(s, 'nope') AS n, "
                       "try_to_binary(e, 'BASE64') AS b2 FROM events"),
        c("to-binary-hex", "SELECT k, to_binary(concat('4', CAST(k AS STRING))) AS a, to_binary('abc') AS odd FROM events"),
        c("to-binary-hex-invalid", "SELECT to_binary(s) AS a FROM events WHERE k = 1"),
        c("to-binary-bad-format", "SELECT to_binary(s, 'nope') AS a FROM events"),
        c("encode", "SELECT k, encode(s, 'utf-8') AS u8, encode(s, 'UTF-16') AS u16, encode(s, 'utf-16be') AS be, "
                    "encode(s, 'UTF-16LE') AS le, encode(s, 'utf-32') AS u32, encode(s, 'iso-8859-1') AS l1, "
                    "hex(encode(s, 'UTF-16')) AS h16, typeof(encode(s, 'utf-8')) AS t, encode(k, 'utf-8') AS num "
                    "FROM events WHERE k <> 3 AND k <> 8"),
        c("encode-ascii", "SELECT k, encode(s, 'US-ASCII') AS a FROM events WHERE k <> 3 AND k <> 8"),
        c("encode-unmappable", "SELECT encode(s, 'us-ascii') AS a FROM events WHERE k = 3"),
        c("encode-latin1-unmappable", "SELECT encode(concat(s, '\u20ac'), 'ISO-8859-1') AS a FROM events WHERE k = 1"),
        c("encode-bad-charset", "SELECT encode(s, 'UTF8') AS a FROM events"),
        c("decode", "SELECT k, decode(b, 'utf-8') AS u8, decode(b, 'ISO-8859-1') AS l1, decode(encode(s, 'UTF-16'), 'utf-16') AS u16, "
                    "decode(encode(s, 'utf-16le'), 'UTF-16LE') AS le, decode(encode(s, 'UTF-32'), 'utf-32') AS u32, "
                    "decode(X'FFFE6800', 'UTF-16') AS bom_le, decode(X'FEFF0068', 'UTF-16BE') AS bom_kept, "
                    "decode(s, 'utf-8') AS from_string, typeof(decode(b, 'utf-8')) AS t FROM events WHERE k <> 3 AND k <> 8"),
        c("decode-malformed", "SELECT decode(b, 'utf-8') AS a FROM events WHERE k = 3"),
        c("decode-odd-utf16", "SELECT decode(unhex('68'), 'UTF-16') AS a FROM events WHERE k = 1"),
        c("decode-ascii-high", "SELECT decode(b, 'US-ASCII') AS a FROM events WHERE k = 8"),
        c("decode-bad-charset", "SELECT decode(b, 'latin1') AS a FROM events"),
    ]


def decimal():
    """decimal(p,s) columns: JSON reading (rounding of extra scale, values beyond the precision,
    strings), result types of arithmetic (`typeof`, exact text by CAST AS STRING), aggregates,
    casts to and from strings and numbers (overflow errors under ANSI), literals, round,
    comparisons."""
    s = {"k": "bigint", "a": "decimal(5,2)", "c": "decimal(10,4)", "n": "bigint", "d": "double", "w": "string"}
    def r(k, a=None, c=None, n=None, d=None, w=None):
        return srt({x: v for x, v in dict(k=k, a=a, c=c, n=n, d=d, w=w).items() if v is not None})
    main = [[r(1, 1.25, 10.5, 3, 0.5, "1.5"), r(2, -3.75, 0.0001, -2, 2.25, "12.345"),
             r(3, 999.99, 123456.789, 100, -1.5, "-7")],
            [r(4, 0.01, -1.5, 7, 0.001, "2.50"), r(5), r(6, 2.5, 2.5, 7, 3.0, "0.005")],
            [r(7, 1.25, 3, 1, 1e10, "1e2"), r(8, -0.5, -0.5, -1, -0.5, " 4 ")]]
    read = [[r(1, 1.5, w="plain"), r(2, 1.005, 1.00005, w="half-up"), r(3, 123.456, 123.45678, w="extra-scale"),
             r(4, 999.999, w="rounds-past-precision"), r(5, 1000, w="int-past-precision"), r(6, -12.345, -0.00005, w="negative-half")],
            [r(7, "3.14", "2", w="strings"), r(8, 2, 7, w="ints"), r(9, 1e2, 1.5e-3, w="float-texts"),
             r(10, 12345.6, 1234567.1, w="past-precision"), r(11, "abc", w="bad-string"), r(12, w="missing"),
             r(13, 0.005, 0.00004, w="tiny"), r(14, True, w="bool"), r(15, " 1.5", w="string-space"),
             r(16, 99999, 999999.99995, w="big")]]
    c = lambda id, sql, batches=main, schema=s, **kw: case(id, sql, batches, schema=schema, **kw)
    one = "FROM events WHERE k = 1"
    return [
        c("read-json", "SELECT k, a, c, w, CAST(a AS STRING) AS a_s, CAST(c AS STRING) AS c_s FROM events", read),
        c("select", "SELECT k, a, c, CAST(a AS STRING) AS a_s, CAST(c AS STRING) AS c_s FROM events"),
        c("typeof-arithmetic", "SELECT typeof(a) AS ta, typeof(a + c) AS add, typeof(a - c) AS sub, typeof(a * c) AS mul, "
                               "typeof(a / c) AS div, typeof(a % c) AS mod, typeof(-a) AS neg, typeof(a + 1) AS add_int, "
                               "typeof(a + n) AS add_long, typeof(a + d) AS add_double, typeof(a * 1.5) AS mul_lit, "
                               "typeof(a + 1.5) AS add_lit, typeof(a / 3) AS div_int, typeof(a + CAST(1 AS TINYINT)) AS add_tiny, "
                               "typeof(a + '1') AS add_str, typeof(a * a * a * a * a) AS mul5, "
                               "typeof(c / a / a) AS div2 " + one),
        c("typeof-functions", "SELECT typeof(abs(a)) AS abs, typeof(floor(a)) AS fl, typeof(ceil(c)) AS ce, "
                              "typeof(round(a, 1)) AS r1, typeof(round(a)) AS r0, "
                              "typeof(round(c, 2)) AS rc2, typeof(round(a, -1)) AS rm1, typeof(greatest(a, c)) AS gr, "
                              "typeof(coalesce(a, n)) AS co, typeof(coalesce(a, d)) AS cod, "
                              "typeof(if(k > 0, a, c)) AS iff, CAST(coalesce(a, n) AS STRING) AS cos, "
                              "CAST(greatest(a, c) AS STRING) AS grs, "
                              "typeof(CAST(a AS DECIMAL(10,1))) AS ca, typeof(CAST(n AS DECIMAL(38,0))) AS cn " + one),
        c("typeof-literals", "SELECT typeof(1.5) AS a, typeof(1.5BD) AS b, typeof(123.450) AS c, typeof(0.001) AS e, "
                             "typeof(-0.5) AS g, typeof(0.1 + 0.2) AS h, typeof(1.0 / 3) AS l, typeof(10.0 / 4) AS m, "
                             "typeof(1.5 * 2) AS o, typeof(1e1) AS p, typeof(100BD) AS q, "
                             "typeof(12345678901234567890.5) AS r, typeof(CAST(1.5 AS DECIMAL(38,10))) AS u " + one),
        c("literals", "SELECT 1.5 AS a, 1.5BD AS b, 0.1 + 0.2 AS c, CAST(0.1 + 0.2 AS STRING) AS cs, 0.1D + 0.2D = 0.3D AS dd, "
                      "0.1 + 0.2 = 0.3 AS de, CAST(1.0 / 3 AS STRING) AS third, CAST(10.0 / 4 AS STRING) AS q, "
                      "CAST(1.5 * 2 AS STRING) AS m, CAST(123.450 AS STRING) AS t, CAST(-0.5 AS STRING) AS h " + one),
        c("arithmetic", "SELECT k, a + c AS add, a - c AS sub, a * c AS mul, a / c AS div, a + 1 AS add_int, a + n AS add_long, "
                        "a + d AS add_double, a * 1.5 AS mul_lit, -a AS neg, a % c AS mod, abs(a) AS abs FROM events"),
        c("arithmetic-text", "SELECT k, CAST(a + c AS STRING) AS add, CAST(a - c AS STRING) AS sub, CAST(a * c AS STRING) AS mul, "
                             "CAST(a / c AS STRING) AS div, CAST(a / 3 AS STRING) AS div3, CAST(a + 1 AS STRING) AS add_int, "
                             "CAST(a * 1.5 AS STRING) AS mul_lit, CAST(a % c AS STRING) AS mod, "
                             "CAST(c / a / a AS STRING) AS div2 FROM events"),
        c("compare", "SELECT k, a > 1 AS gt, a = 1.25 AS eq, a = 1.250BD AS eq3, a > c AS ac, a = d AS ad, a > '1' AS astr, "
                     "a IN (1.25, 2.5) AS inl, a BETWEEN 0 AND 10 AS btw, c < a AS ca, a = 1.25D AS eqd, "
                     "a = n AS an FROM events"),
        c("where", "SELECT k FROM events WHERE a >= 1.25 AND c < 100"),
        c("casts", "SELECT k, CAST(a AS INT) AS a_i, CAST(a AS BIGINT) AS a_n, CAST(a AS DOUBLE) AS a_d, CAST(a AS FLOAT) AS a_f, "
                   "CAST(a AS STRING) AS a_s, CAST(a AS DECIMAL(10,1)) AS a_10_1, CAST(CAST(a AS DECIMAL(10,1)) AS STRING) AS a_10_1s, "
                   "CAST(a AS DECIMAL(4,0)) AS a_4_0, CAST(n AS DECIMAL(5,2)) AS n_5_2, CAST(d AS DECIMAL(15,3)) AS d_15_3, "
                   "CAST(CAST(d AS DECIMAL(15,3)) AS STRING) AS d_s, CAST(a AS BOOLEAN) AS a_b, CAST(c AS DECIMAL(12,1)) AS c_12_1 "
                   "FROM events"),
        c("casts-from-strings", "SELECT k, w, try_cast(w AS DECIMAL(5,2)) AS w_5_2, "
                                "CAST(try_cast(w AS DECIMAL(5,2)) AS STRING) AS w_s, try_cast(w AS DECIMAL(3,1)) AS w_3_1, "
                                "try_cast(n AS DECIMAL(2,0)) AS n_2_0, try_cast(d AS DECIMAL(4,1)) AS d_4_1 FROM events"),
        c("round", "SELECT k, round(a, 1) AS r1, CAST(round(a, 1) AS STRING) AS r1s, round(a) AS r0, round(a, -1) AS rm1, "
                   "CAST(round(a, -1) AS STRING) AS rm1s, floor(a) AS fl, ceil(a) AS ce, round(c, 2) AS rc2, "
                   "CAST(round(c, 2) AS STRING) AS rc2s, floor(c) AS fc FROM events"),
        c("aggregates", "SELECT sum(a) AS sa, avg(a) AS aa, CAST(avg(a) AS STRING) AS aas, min(a) AS mi, max(a) AS mx, "
                        "count(a) AS ca, sum(c) AS sc, CAST(sum(c) AS STRING) AS scs, avg(c) AS ac, CAST(avg(c) AS STRING) AS acs, "
                        "typeof(sum(a)) AS tsa, typeof(avg(a)) AS taa, typeof(min(a)) AS tmi, typeof(sum(c)) AS tsc, "
                        "typeof(avg(c)) AS tac FROM events", mode="complete"),
        c("group-by", "SELECT a, count(*) AS cnt, sum(c) AS sc FROM events GROUP BY a", mode="complete"),
        c("group-by-round", "SELECT round(a, 0) AS r, count(*) AS cnt FROM events GROUP BY round(a, 0)", mode="update"),
        c("precision-capping", "SELECT k, typeof(x * x) AS tm, CAST(x * x AS STRING) AS m, typeof(x / x) AS td, "
                               "CAST(x / 3 AS STRING) AS d3, typeof(x / 3) AS td3, typeof(x + x) AS ta, "
                               "CAST(x + x AS STRING) AS a FROM (SELECT k, CAST(c AS DECIMAL(38,18)) AS x FROM events)"),
        c("sum-overflow", "SELECT sum(CAST(k AS DECIMAL(38,0)) * 30000000000000000000000000000000000000BD) AS s "
                          "FROM events", mode="complete"),
        c("div-zero", "SELECT a / (n - n) AS q FROM events"),
        c("mul-overflow", "SELECT c * 1000000000000000000000000000000000BD AS q FROM events"),
        c("cast-overflow-decimal", "SELECT CAST(c AS DECIMAL(5,2)) AS q FROM events WHERE k = 3"),
        c("cast-overflow-long-to-decimal", "SELECT CAST(n AS DECIMAL(3,1)) AS q FROM events WHERE k = 3"),
        c("cast-overflow-to-tinyint", "SELECT CAST(a AS TINYINT) AS q FROM events WHERE k = 3"),
        c("cast-double-overflow", "SELECT CAST(d AS DECIMAL(12,3)) AS q FROM events WHERE k = 7"),
        c("cast-bad-string", "SELECT CAST(concat(w, 'x') AS DECIMAL(5,2)) AS q FROM events WHERE k = 1"),
        c("cast-string-overflow", "SELECT CAST(w AS DECIMAL(3,1)) AS q FROM events WHERE k = 7"),
        # Numbers beyond a double's 17 digits, as written in the JSON text (lines given raw).
        c("read-json-long", "SELECT k, w, CAST(x AS STRING) AS x_s, CAST(y AS STRING) AS y_s, CAST(z AS STRING) AS z_s "
                            "FROM events",
          [['{"k": 1, "w": "twenty digits", "x": 12345678901234567890.123, "y": 0.1234567890123456789012345678, "z": 98765432109876543210}',
            '{"k": 2, "w": "negative", "x": -99999999999999999999999999999999999.999, "y": -0.0000000000000000000000000001, "z": -1}',
            '{"k": 3, "w": "exponent", "x": 1.23456789012345678901e20, "y": 5e-29, "z": 12345678901234567890123456789012345678}',
            '{"k": 4, "w": "half-up at the scale", "x": 0.0005, "y": 0.00000000000000000000000000005, "z": 1.5}',
            '{"k": 5, "w": "past the precision", "x": 123456789012345678901234567890123456.7, "y": 1, "z": 123456789012345678901234567890123456789}']],
          schema={"k": "bigint", "w": "string", "x": "decimal(38,3)", "y": "decimal(38,28)", "z": "decimal(38,0)"}),
        c("int-div", "SELECT k, a div c AS ac, c div a AS ca, a div 2 AS a2, n div a AS na, a div 0.7 AS a07, "
                     "-a div 2 AS neg, typeof(a div c) AS t, a DIV n AS an, "
                     "CAST(c AS DECIMAL(38,0)) * 10000000000000000000000BD div 1 AS wraps FROM events WHERE c <> 0 AND a <> 0"),
        c("int-div-zero", "SELECT a div (c - c) AS q FROM events"),
        c("int-div-double-refused", "SELECT a div d AS q FROM events"),
    ]


def nulls():
    """A bare NULL (Spark's NullType, `void`): its own column, `typeof`, meeting each type in
    arithmetic, comparisons, logic and function calls; Spark's `decode(x, search, result, ...)`
    with NULL matching NULL."""
    s = {"k": "bigint", "w": "string", "d": "double", "a": "decimal(5,2)", "b": "boolean", "t": "timestamp"}
    def r(k, w=None, d=None, a=None, b=None, t=None):
        return srt({x: v for x, v in dict(k=k, w=w, d=d, a=a, b=b, t=t).items() if v is not None})
    main = [[r(1, "storm", 0.5, 1.25, True, "2024-03-01T09:00:00"), r(2, "front", -2.0, -3.5, False)],
            [r(3), r(4, "x", 3.0, 0.01, True, "2024-03-01T10:00:00")]]
    c = lambda id, sql, **kw: case(id, sql, main, schema=s, **kw)
    return [
        c("column", "SELECT k, NULL AS z, typeof(NULL) AS t FROM events"),
        c("arithmetic", "SELECT k, k + NULL AS a, NULL * d AS b, a - NULL AS c, typeof(k + NULL) AS ta, "
                        "typeof(NULL * d) AS tb, typeof(a - NULL) AS tc FROM events"),
        c("comparisons", "SELECT k, k = NULL AS a, NULL < w AS b, NULL = NULL AS c, t > NULL AS e, "
                         "NULL IS NULL AS f, NULL IS NOT NULL AS g FROM events"),
        c("logic", "SELECT k, b AND NULL AS a, b OR NULL AS o, NOT NULL AS n, TRUE AND NULL AS ta, "
                   "FALSE AND NULL AS fa, TRUE OR NULL AS tr FROM events"),
        c("functions", "SELECT k, concat(w, NULL) AS a, coalesce(NULL, w) AS b, upper(NULL) AS u, length(NULL) AS l, "
                       "greatest(k, NULL) AS g, if(b, NULL, w) AS i, nvl(NULL, d) AS n, typeof(coalesce(NULL, k)) AS tc, "
                       "typeof(upper(NULL)) AS tu FROM events"),
        c("case", "SELECT k, CASE WHEN b THEN NULL ELSE k END AS a, CASE WHEN NULL THEN 1 ELSE 2 END AS c FROM events"),
        c("subquery-column", "SELECT k, z, typeof(z) AS t FROM (SELECT k, NULL AS z FROM events)"),
        c("decode-search", "SELECT k, decode(w, 'storm', 1, 'front', 2, 0) AS a, decode(w, 'storm', 'S') AS b, "
                           "decode(w, NULL, 'none', 'some') AS c, decode(NULL, NULL, 'n', 'o') AS e, "
                           "decode(k, 1, 'one', 4.0, 'four') AS f, typeof(decode(k, 1, 1, 2, 2.5)) AS g FROM events"),
        c("where", "SELECT k FROM events WHERE w = NULL OR k > 3"),
    ]


TOPICS = {"nulls": nulls, "approx": approx, "csv": csv, "window-struct": window_struct, "nested": nested, "nested-cast": nested_cast, "nested-group": nested_group, "chained": chained, "watermark-policy": watermark_policy, "dedup-within": dedup_within, "pushdown": pushdown, "stream-join": stream_join, "watermark": watermark, "calendar": calendar, "arith": arith, "aggregates": aggregates, "strings-math": strings_math, "to-timestamp": to_timestamp, "regexp": regexp, "interval": interval, "dates": dates, "having": having, "functions": functions, "global-agg": global_agg, "trim": trim, "coercion": coercion, "order": order, "wide": wide,
          "window-start": window_start, "types": types, "binary": binary, "decimal": decimal}

if __name__ == "__main__":
    for t in sys.argv[1:] or TOPICS:
        with open("%s.cases.jsonl" % t, "w") as f:
            for c in TOPICS[t]():
                c["id"] = "%s/%s" % (t, c["id"])
                f.write(json.dumps(c, ensure_ascii=False) + "\n")

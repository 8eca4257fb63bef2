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


TOPICS = {"global-agg": global_agg, "trim": trim, "coercion": coercion, "order": order, "wide": wide,
          "window-start": window_start}

if __name__ == "__main__":
    for t in sys.argv[1:] or TOPICS:
        with open("%s.cases.jsonl" % t, "w") as f:
            for c in TOPICS[t]():
                c["id"] = "%s/%s" % (t, c["id"])
                f.write(json.dumps(c, ensure_ascii=False) + "\n")

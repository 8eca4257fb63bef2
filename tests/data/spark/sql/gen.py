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


TOPICS = {"global-agg": global_agg, "trim": trim, "coercion": coercion, "order": order}

if __name__ == "__main__":
    for t in sys.argv[1:] or TOPICS:
        with open("%s.cases.jsonl" % t, "w") as f:
            for c in TOPICS[t]():
                c["id"] = "%s/%s" % (t, c["id"])
                f.write(json.dumps(c, ensure_ascii=False) + "\n")

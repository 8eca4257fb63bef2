#!/usr/bin/env python3
"""Writes reportN.yaml: a windowed report with N output columns (window bounds, the word, then
N - 3 aggregates over n and d), for measuring how build time grows with a query's width
(`buildtime.sh`). Run: python3 gen.py"""

AGGS = ["sum(n)", "avg(d)", "min(n)", "max(d)", "count(n)", "max(n)", "min(d)", "sum(d)"]

for width in [3, 7, 20, 64]:
    aggs = ", ".join("%s AS a%d" % (AGGS[i % len(AGGS)], i) for i in range(width - 3))
    sql = "SELECT window.start AS window_start, window.end AS window_end, word%s FROM events " \
          "GROUP BY window(timestamp, '5 minutes'), word" % (", " + aggs if aggs else "")
    with open("report%d.yaml" % width, "w") as f:
        f.write("""# Written by gen.py: a windowed report with %d output columns.
app: report%d
trigger: available_now
sources:
  - name: events
    json: { path: examples/data/events, max_files_per_trigger: 1 }
    schema: { timestamp: timestamp, word: string, n: bigint, d: double }
queries:
  - name: report
    sql: "%s"
    watermark: { column: timestamp, delay: 10 minutes }
    output_mode: append
    sink: [console, { json: target/report%d-out }]
""" % (width, width, sql, width))

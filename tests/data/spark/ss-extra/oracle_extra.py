#!/usr/bin/env python3
"""Spark goldens for the Structured Streaming operators the shared oracle has no workload for:
dropDuplicates, several inputs (union, each with its own watermark), session windows, and
stream-static joins. Same discipline as ../shared/spark-oracle/oracle.py (whose helpers it
imports): real Spark, file sources, maxFilesPerTrigger=1, availableNow, one file per
micro-batch, foreachBatch capture, canonical JSON lines on stdout.

    $SPARK_PY oracle_extra.py --cases cases.jsonl > all.jsonl

A case: {"id", "workload", "batches": [[row, ...], ...]} (two-input workloads: "batches_b"
too), optional "keys", "watermark", "watermark_b", "gap", "window", "slide", "static".
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.environ.get("SPARK_ORACLE", "/work/shared/spark-oracle"))
import oracle  # noqa: E402

WORKLOADS = {
    "dedup-append": "append",
    "dedup-update": "append_update",
    "union-window-append": "append",
    "union-window-update": "update",
    "session-append": "append",
    "session-update": "update",
    "session-complete": "complete",
    "join-static-inner": "append",
    "join-static-left": "append",
    "join-static-agg": "complete",
    "date-complete": "complete",
}


def run_case(spark, case, opts):
    from pyspark.sql import functions as F

    wl = case["workload"]
    mode = {"dedup-update": "update"}.get(wl, WORKLOADS[wl])
    work = tempfile.mkdtemp(prefix="ss-extra-")
    base_mtime = int(time.time()) - 100000
    reader = lambda: spark.readStream.option("maxFilesPerTrigger", 1)  # noqa: E731

    def source(key, schema):
        d = os.path.join(work, key)
        os.makedirs(d)
        contents = [oracle.batch_to_text(b) for b in case[key]]
        oracle.place_files(d, contents, 0, len(contents), "json", base_mtime)
        return reader().format("json").schema(schema).load(d)

    def events(key):
        ev = source(key, "timestamp STRING, word STRING")
        return ev.select(F.col("timestamp").cast("timestamp").alias("timestamp"), F.col("word"))

    ts_str = lambda c: F.col(c).cast("string")  # noqa: E731
    wm = case.get("watermark", "10 minutes")
    if wl.startswith("dedup"):
        ev = events("batches").withWatermark("timestamp", wm)
        out = ev.dropDuplicates(case.get("keys", ["word", "timestamp"]))
        out = out.select(ts_str("timestamp").alias("timestamp"), "word")
        cols = ["timestamp", "word"]
    elif wl.startswith("union"):
        a = events("batches").withWatermark("timestamp", wm)
        b = events("batches_b").withWatermark("timestamp", case.get("watermark_b", wm))
        agg = a.union(b).groupBy(F.window("timestamp", case.get("window", "10 minutes"), case.get("slide", "5 minutes")), "word").count()
        out = agg.select(ts_str("window.start").alias("window_start"), ts_str("window.end").alias("window_end"), "word", "count")
        cols = ["window_start", "window_end", "word", "count"]
    elif wl.startswith("date"):
        ev = source("batches", "day DATE, timestamp TIMESTAMP, word STRING")
        out = ev.select(F.col("day"), F.to_date("timestamp").alias("ts_day"), "word").groupBy("day", "ts_day", "word").count()
        out = out.select(F.col("day").cast("string").alias("day"), F.col("ts_day").cast("string").alias("ts_day"), "word", "count")
        cols = ["day", "ts_day", "word", "count"]
    elif wl.startswith("session"):
        ev = events("batches").withWatermark("timestamp", wm)
        agg = ev.groupBy(F.session_window("timestamp", case.get("gap", "5 minutes")), "word").count()
        out = agg.select(
            ts_str("session_window.start").alias("session_window_start"),
            ts_str("session_window.end").alias("session_window_end"),
            "word",
            "count",
        )
        cols = ["session_window_start", "session_window_end", "word", "count"]
    else:
        static_path = os.path.join(work, "static.json")
        with open(static_path, "w", encoding="utf-8") as f:
            for r in case["static"]:
                f.write(json.dumps(r) + "\n")
        static = spark.read.schema("word STRING, category STRING").json(static_path)
        ev = events("batches")
        if wl == "join-static-agg":
            out = ev.join(static, "word").groupBy("category").count()
            cols = ["category", "count"]
        else:
            how = "inner" if wl.endswith("inner") else "left_outer"
            out = ev.join(static, "word", how).select(ts_str("timestamp").alias("timestamp"), "word", "category")
            cols = ["timestamp", "word", "category"]

    captured = {}

    def on_batch(df, batch_id):
        captured[batch_id] = [r.asDict() for r in df.collect()]

    ck = os.path.join(work, "checkpoint")
    q = (
        out.writeStream.outputMode(mode)
        .option("checkpointLocation", ck)
        .foreachBatch(on_batch)
        .trigger(availableNow=True)
        .start()
    )
    q.awaitTermination()
    if q.exception() is not None:
        raise RuntimeError(str(q.exception()))
    meta = {}
    for p in q.recentProgress:
        pj = json.loads(p.json) if hasattr(p, "json") else p
        st = (pj.get("stateOperators") or [{}])[0]
        meta[pj["batchId"]] = {
            "input_rows": pj.get("numInputRows"),
            "watermark": (pj.get("eventTime") or {}).get("watermark"),
            "dropped_by_watermark": st.get("numRowsDroppedByWatermark"),
            "state_rows": st.get("numRowsTotal"),
        }
    for b in sorted(set(captured) | set(meta)):
        rec = {"batch": b, "rows": oracle.canon_rows(captured.get(b, []), cols)}
        rec.update(meta.get(b, {}))
        oracle.emit(rec, case["id"])
    shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--only", default=None, help="run only case ids containing this")
    opts = ap.parse_args()
    opts.master, opts.driver_memory, opts.shuffle_partitions = "local[2]", "2g", 2
    spark = oracle.make_session(opts)
    with open(opts.cases, encoding="utf-8") as f:
        cases = [json.loads(l) for l in f if l.strip()]
    for c in cases:
        if opts.only and opts.only not in c["id"]:
            continue
        try:
            run_case(spark, c, opts)
        except Exception as e:  # a workload Spark rejects is recorded, not fatal
            oracle.emit({"error": str(e).splitlines()[0][:300]}, c["id"])


if __name__ == "__main__":
    main()

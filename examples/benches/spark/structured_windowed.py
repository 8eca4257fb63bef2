#!/usr/bin/env python3
"""Time Spark Structured Streaming on the structured bench's query and corpus.

    SPARK_LOCAL_IP=127.0.0.1 $SPARK_PY examples/benches/spark/structured_windowed.py \
        target/bench-corpus/events-100m [--master local[2]]

The corpus is the one `cargo bench -p streamc-examples --bench structured` generates (20 files
of JSON lines {"timestamp": "...", "word": "..."}). The query is the bench's: a JSON file source
with that schema, one file per trigger, `withWatermark("timestamp", "10 minutes")`, a count by
`window(timestamp, "10 minutes", "5 minutes")` and word, append mode, the noop sink, trigger
availableNow. Prints one JSON object: events, the query's wall time (start() to the end, the
JVM and session start excluded), the sum of the batches' triggerExecution, and events/s of both.
"""

import argparse
import json
import os
import shutil
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--shuffle-partitions", type=int, default=2)
    opts = ap.parse_args()
    from pyspark.sql import SparkSession, functions as F

    spark = (
        SparkSession.builder.master(opts.master)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(opts.shuffle_partitions))
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    events = sum(
        sum(1 for _ in open(os.path.join(opts.corpus, f), "rb"))
        for f in os.listdir(opts.corpus)
    )
    ckpt = tempfile.mkdtemp(prefix="spark-structured-bench-")
    try:
        df = (
            spark.readStream.schema("timestamp TIMESTAMP, word STRING")
            .option("maxFilesPerTrigger", 1)
            .json(opts.corpus)
        )
        counts = (
            df.withWatermark("timestamp", "10 minutes")
            .groupBy(F.window("timestamp", "10 minutes", "5 minutes"), "word")
            .count()
        )
        start = time.time()
        q = (
            counts.writeStream.format("noop")
            .outputMode("append")
            .option("checkpointLocation", ckpt)
            .trigger(availableNow=True)
            .start()
        )
        q.awaitTermination()
        query_s = time.time() - start
        trigger_ms = sum(p["durationMs"].get("triggerExecution", 0) for p in q.recentProgress)
        print(
            json.dumps(
                {
                    "master": opts.master,
                    "events": events,
                    "batches": len(q.recentProgress),
                    "query_s": round(query_s, 3),
                    "trigger_ms_sum": trigger_ms,
                    "events_per_s_query": round(events / query_s),
                    "events_per_s_trigger": round(events / (trigger_ms / 1000)),
                }
            )
        )
    finally:
        shutil.rmtree(ckpt, ignore_errors=True)
        spark.stop()


if __name__ == "__main__":
    main()

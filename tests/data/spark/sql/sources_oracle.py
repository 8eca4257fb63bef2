#!/usr/bin/env python3
"""sql_oracle.py (../shared/spark-oracle) extended to queries over several streaming sources:
stream-stream joins. Cases without `sources` run exactly as sql_oracle.py runs them.

A case with sources: {"id", "sql" (or "dataframe", a Python expression over the sources'
DataFrames), "output_mode",
  "sources": {name: {"schema": {col: type}, "watermark": {"column", "delay"} | null,
                     "batches": [[{row}, ...], ...]}, ...}}
Each source is a JSON file source reading one file per trigger (maxFilesPerTrigger=1,
availableNow), registered as a view under its name after its watermark; batch k of the run reads
file k of every source (give every source the same number of batches). Answers as sql_oracle.py.

usage: SPARK_LOCAL_IP=127.0.0.1 $SPARK_PY sources_oracle.py CASES.jsonl > ANSWERS.jsonl
"""
import json, os, shutil, sys, tempfile, time, types

ORACLE_DIR = os.environ.get("ORACLE_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "../../../../../shared/spark-oracle")
if not os.path.isdir(ORACLE_DIR):
    ORACLE_DIR = "/work/shared/spark-oracle"
sys.path.insert(0, ORACLE_DIR)
import oracle  # make_session, place_files
import sql_oracle  # norm, run_case


def run_sources_case(spark, case, tmp):
    work = tempfile.mkdtemp(prefix="sources-oracle-", dir=tmp)
    stamp = int(time.time()) - 100000
    views = {}
    for name, src in case["sources"].items():
        indir = os.path.join(work, "in-" + name)
        os.makedirs(indir)
        # A CSV source (`"format": "csv"`) has its batches as lines of text and Spark's reader
        # `options`; a JSON source's batches are rows.
        csv = src.get("format") == "csv"
        if csv:
            contents = ["".join(l + "\n" for l in b) for b in src["batches"]]
        else:
            contents = ["".join(json.dumps(r) + "\n" for r in b) for b in src["batches"]]
        oracle.place_files(indir, contents, 0, len(contents), "csv" if csv else "json", stamp)
        ddl = ", ".join("`%s` %s" % (c, t) for c, t in src["schema"].items())
        reader = spark.readStream.option("maxFilesPerTrigger", 1).schema(ddl)
        for k, v in src.get("options", {}).items():
            reader = reader.option(k, v)
        df = reader.csv(indir) if csv else reader.json(indir)
        wm = src.get("watermark")
        if wm:
            df = df.withWatermark(wm["column"], wm["delay"])
        df.createOrReplaceTempView(name)
        views[name] = df
    captured = {}
    # `conf`: Spark settings for this case only (`spark.sql.streaming.multipleWatermarkPolicy`).
    for k, v in case.get("conf", {}).items():
        spark.conf.set(k, v)
    try:
        # `dataframe`: a Python expression over the sources' DataFrames, for what SQL cannot say
        # (`events.dropDuplicatesWithinWatermark(["word"])`).
        df = spark.sql(case["sql"]) if "sql" in case else eval(case["dataframe"], {"F": __import__("pyspark.sql.functions").sql.functions}, views)
        q = (df.writeStream.outputMode(case.get("output_mode", "append"))
             .option("checkpointLocation", os.path.join(work, "ck"))
             .foreachBatch(lambda d, b: captured.__setitem__(b, [sql_oracle.norm(r) for r in d.collect()]))
             .trigger(availableNow=True).start())
        q.awaitTermination()
        if q.exception() is not None:
            raise RuntimeError(str(q.exception()))
    except Exception as e:  # AnalysisException, StreamingQueryException
        yield {"case": case["id"], "error": str(e).strip().splitlines()[0][:400]}
        shutil.rmtree(work, ignore_errors=True)
        return
    finally:
        for k in case.get("conf", {}):
            spark.conf.unset(k)
    for b in sorted(captured):
        yield {"case": case["id"], "batch": b, "rows": captured[b]}
    shutil.rmtree(work, ignore_errors=True)


def main():
    cases = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    opts = types.SimpleNamespace(master="local[2]", driver_memory="2g", shuffle_partitions=2)
    spark = oracle.make_session(opts)
    tmp = tempfile.mkdtemp(prefix="sources-oracle-")
    for c in cases:
        t0 = time.time()
        run = run_sources_case if "sources" in c else sql_oracle.run_case
        for rec in run(spark, c, tmp):
            print(json.dumps(rec, ensure_ascii=False, separators=(",", ":")), flush=True)
        print("%s %.1fs" % (c["id"], time.time() - t0), file=sys.stderr)
    spark.stop()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""sql_oracle.py (../shared/spark-oracle) extended to queries over several streaming sources:
stream-stream joins. A case without `sources` runs as sql_oracle.py runs it (as a case of the one
source `events`).

A case with sources: {"id", "sql" (or "dataframe", a Python expression over the sources'
DataFrames), "output_mode",
  "sources": {name: {"schema": {col: type}, "watermark": {"column", "delay"} | null,
                     "batches": [[{row}, ...], ...]}, ...}}
Each source is a JSON file source reading one file per trigger (maxFilesPerTrigger=1,
availableNow), registered as a view under its name after its watermark; batch k of the run reads
file k of every source (give every source the same number of batches). Answers as sql_oracle.py,
but for the types it has no form for (`norm_typed`): a FLOAT as the shortest decimal that reads
back as the same float32 (0.1, not 0.10000000149011612: what Spark's JSON writer prints), a
BINARY as base64 (as Spark's JSON writer writes it), a DECIMAL of scale 0 as an integer (as
Spark's JSON writer writes it; other decimals stay numbers with a fraction).

usage: SPARK_LOCAL_IP=127.0.0.1 $SPARK_PY sources_oracle.py CASES.jsonl > ANSWERS.jsonl
"""
import base64, json, math, os, shutil, struct, sys, tempfile, time, types

ORACLE_DIR = os.environ.get("ORACLE_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "../../../../../shared/spark-oracle")
if not os.path.isdir(ORACLE_DIR):
    ORACLE_DIR = "/work/shared/spark-oracle"
sys.path.insert(0, ORACLE_DIR)
import oracle  # make_session, place_files
import sql_oracle  # norm, run_case
from pyspark.sql import types as T


def _special(dt):
    """Whether a value of type `dt` holds a FLOAT or a BINARY somewhere (else sql_oracle.norm)."""
    if isinstance(dt, (T.FloatType, T.BinaryType)):
        return True
    if isinstance(dt, T.DecimalType) and dt.scale == 0:
        return True
    if isinstance(dt, T.StructType):
        return any(_special(f.dataType) for f in dt.fields)
    if isinstance(dt, T.ArrayType):
        return _special(dt.elementType)
    if isinstance(dt, T.MapType):
        return _special(dt.keyType) or _special(dt.valueType)
    return False


def _f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def norm_float(x):
    """A float32 (widened to a double by Python) as the shortest decimal that reads back as it:
    Java's Float.toString digits. NaN and the infinities as sql_oracle.norm leaves them."""
    if not math.isfinite(x):
        return sql_oracle.norm(x)
    for p in range(1, 10):
        text = "%.*g" % (p, x)
        if _f32(float(text)) == _f32(x):
            return float(text)
    return x


def norm_typed(v, dt):
    """sql_oracle.norm of a value of type `dt`, but FLOATs and BINARYs (at any depth) as above."""
    if v is None or not _special(dt):
        return sql_oracle.norm(v)
    if isinstance(dt, T.FloatType):
        return norm_float(v)
    if isinstance(dt, T.BinaryType):
        return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(dt, T.DecimalType):  # scale 0: Spark's JSON writer writes an integer
        return int(v)
    if isinstance(dt, T.StructType):  # a Row: a dict by field name, as Row.asDict
        return {f.name: norm_typed(x, f.dataType) for f, x in zip(dt.fields, v)}
    if isinstance(dt, T.ArrayType):
        return [norm_typed(x, dt.elementType) for x in v]
    if isinstance(dt, T.MapType):
        return {norm_typed(k, dt.keyType): norm_typed(x, dt.valueType) for k, x in v.items()}
    return sql_oracle.norm(v)


def non_finite(v):
    """NaN and the infinities (at any depth) as Spark's JSON writer writes them: the strings
    "NaN", "Infinity", "-Infinity"."""
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, dict):
        return {k: non_finite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [non_finite(x) for x in v]
    return v


def collect(d):
    """A micro-batch's rows, normalized by the batch's schema."""
    return [non_finite(norm_typed(r, d.schema)) for r in d.collect()]


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
            # A row given as a string is a JSON line as written (numbers beyond a double's digits).
            contents = ["".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in b) for b in src["batches"]]
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
             .foreachBatch(lambda d, b: captured.__setitem__(b, collect(d)))
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
        if "sources" not in c:
            # One source, `events`: run as sql_oracle.run_case would, but with typed rows.
            c = dict(c, sources={"events": {k: c.get(k) for k in ("schema", "watermark", "batches")}})
        run = run_sources_case
        for rec in run(spark, c, tmp):
            print(json.dumps(rec, ensure_ascii=False, separators=(",", ":")), flush=True)
        print("%s %.1fs" % (c["id"], time.time() - t0), file=sys.stderr)
    spark.stop()


if __name__ == "__main__":
    main()

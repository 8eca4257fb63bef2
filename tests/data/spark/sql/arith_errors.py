# Spark 4.3 (ANSI on) on arithmetic that fails: `$SPARK_PY arith_errors.py > arith_errors.txt` (the
# first line of each error). runtime/src/structured/arith.rs checks its messages against it.
from pyspark.sql import SparkSession
spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled","false").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
spark.createDataFrame([(5, 0, 0.0, 9223372036854775807, -9223372036854775808)], "n long, z long, d double, big long, small long").createOrReplaceTempView("t")
for q in ["10 / z", "n % z", "d / d", "pmod(n, z)", "big + 1", "big * 2", "small - 1", "-small", "d % d", "pmod(d, d)", "abs(small)"]:
    try:
        r = spark.sql(f"select {q} as q from t").collect()
        print(q, "=>", r)
    except Exception as e:
        print(q, "=>", str(e).splitlines()[0])

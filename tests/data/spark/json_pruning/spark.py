import os
from pyspark.sql import SparkSession
IN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "in")
spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled","false").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
for mode in ["DROPMALFORMED", "FAILFAST", "PERMISSIVE"]:
    df = spark.readStream.schema("a BIGINT, b BIGINT").option("mode", mode).json(IN)
    for sel, name in [(["a"], "a"), (["a","b"], "ab")]:
        q = df.select(*sel).writeStream.format("memory").queryName(f"t_{mode}_{name}").trigger(availableNow=True).start()
        try:
            q.awaitTermination()
            print(mode, sel, [r.asDict() for r in spark.sql(f"select * from t_{mode}_{name}").collect()])
        except Exception as e:
            print(mode, sel, "ERROR", str(e).splitlines()[0][:200])

#!/usr/bin/env bash
# Regenerates Spark's answers for the SQL conformance cases: `regen.sh` (every topic) or
# `regen.sh TOPIC...`. Needs pyspark 4.3.0 (see /work/shared/spark-oracle/README.md):
#   python3 -m venv /tmp/venv-spark && /tmp/venv-spark/bin/pip install pyspark==4.3.0
# Writes TOPIC.answers.jsonl (sql_oracle.py's stdout, verbatim) and shows the diff.
set -euo pipefail
cd "$(dirname "$0")"
ORACLE=${ORACLE:-$(cd ../../../.. && pwd)/../shared/spark-oracle/sql_oracle.py}
[ -f "$ORACLE" ] || ORACLE=/work/shared/spark-oracle/sql_oracle.py
SPARK_PY=${SPARK_PY:-/tmp/venv-spark/bin/python}
export SPARK_LOCAL_IP=127.0.0.1
python3 gen.py "$@"
topics=("$@")
[ ${#topics[@]} -gt 0 ] || topics=($(ls *.cases.jsonl | sed 's/\.cases\.jsonl$//'))
for t in "${topics[@]}"; do
  echo "== $t" >&2
  "$SPARK_PY" "$ORACLE" "$t.cases.jsonl" > "$t.answers.jsonl.new"
  mv "$t.answers.jsonl.new" "$t.answers.jsonl"
done
git diff --stat -- . || true

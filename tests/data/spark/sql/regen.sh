#!/usr/bin/env bash
# Regenerates Spark's answers for the SQL conformance cases: `regen.sh` (every topic) or
# `regen.sh TOPIC...`. Needs pyspark 4.3.0 (see /work/shared/spark-oracle/README.md):
#   python3 -m venv /tmp/venv-spark && /tmp/venv-spark/bin/pip install pyspark==4.3.0
# Writes TOPIC.answers.jsonl (sql_oracle.py's stdout, verbatim but for the masked query ids of
# failure messages) and shows the diff.
set -euo pipefail
cd "$(dirname "$0")"
# sources_oracle.py runs sql_oracle.py's cases as it does, and cases over several sources (joins).
ORACLE_DIR=${ORACLE_DIR:-$(cd ../../../.. && pwd)/../shared/spark-oracle}
[ -f "$ORACLE_DIR/sql_oracle.py" ] || ORACLE_DIR=/work/shared/spark-oracle
export ORACLE_DIR
ORACLE=${ORACLE:-sources_oracle.py}
SPARK_PY=${SPARK_PY:-/tmp/venv-spark/bin/python}
export SPARK_LOCAL_IP=127.0.0.1
python3 gen.py "$@"
topics=("$@")
[ ${#topics[@]} -gt 0 ] || topics=($(ls *.cases.jsonl | sed 's/\.cases\.jsonl$//'))
for t in "${topics[@]}"; do
  echo "== $t" >&2
  # Spark's failure messages name the run's random query ids: masked, so that a rerun that
  # changes nothing shows no diff.
  "$SPARK_PY" "$ORACLE" "$t.cases.jsonl" \
    | sed -E 's/Query \[id = [0-9a-f-]+, runId = [0-9a-f-]+\]/Query [id = ..., runId = ...]/' > "$t.answers.jsonl.new"
  mv "$t.answers.jsonl.new" "$t.answers.jsonl"
done
git diff --stat -- . || true

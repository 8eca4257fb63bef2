#!/usr/bin/env bash
# Regenerates Spark's answers for the arbitrary-stateful-processing cases: runs oracle.scala
# (Spark's mapGroupsWithState / flatMapGroupsWithState programs) over input/ with pyspark 4.3's
# bundled spark-shell and writes answers.jsonl (one line per query and batch). Needs pyspark
# (see /work/shared/spark-oracle/README.md):
#   python3 -m venv /tmp/venv-spark && /tmp/venv-spark/bin/pip install pyspark==4.3.0
set -euo pipefail
cd "$(dirname "$0")"
SPARK_PY=${SPARK_PY:-/tmp/venv-spark/bin/python}
SPARK_HOME=$("$SPARK_PY" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
export SPARK_HOME SPARK_LOCAL_IP=127.0.0.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The file source reads files in modification-time order: copy the batches with increasing times.
mkdir "$work/in"
base=$(( $(date +%s) - 100000 ))
i=0
for f in input/*; do
  cp "$f" "$work/in/"
  touch -d "@$((base + i))" "$work/in/$(basename "$f")"
  i=$((i + 1))
done
GROUPS_INPUT="$work/in" GROUPS_WORK="$work" "$SPARK_HOME/bin/spark-shell" --master 'local[2]' \
  --conf spark.ui.enabled=false --conf spark.ui.showConsoleProgress=false \
  --conf spark.sql.session.timeZone=UTC --conf spark.sql.shuffle.partitions=2 \
  -i oracle.scala < /dev/null > "$work/out.txt" 2> "$work/err.txt" || true
if ! grep -q '@@ORACLE_DONE@@' "$work/out.txt"; then
  tail -n 50 "$work/out.txt" "$work/err.txt" >&2
  cp "$work/out.txt" /tmp/groups-oracle-out.txt; echo "spark-shell failed (its output: /tmp/groups-oracle-out.txt)" >&2
  exit 1
fi
grep '^@@ORACLE@@' "$work/out.txt" | sed 's/^@@ORACLE@@//' > answers.jsonl
git diff --stat -- . || true

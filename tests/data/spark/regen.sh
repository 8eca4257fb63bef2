#!/usr/bin/env bash
# Rebuilds every Spark golden under tests/data/spark from the oracle (real Apache Spark 4.3.0),
# then shows what changed: `regen.sh` (all, ~15 min, several JVMs) or `regen.sh PART...` with
# PART one of:
#   examples   ss/*.jsonl, ds-scala.jsonl, ds-split-edge-scala.jsonl: the shared oracle's
#              hand-made examples (its regen.sh), copied here (inputs: ss/events.json,
#              wordcount.json, split-edge.json, which are the shared examples' own)
#   ds         ds-conformance.jsonl from ds-cases.jsonl (gen-ds-cases.py)
#   ss-cases   ss-cases/all.meta.jsonl and its per-case files (ss-cases/gen-cases.py)
#   ss-extra   ss-extra/all.jsonl (ss-extra/gen-cases.py, oracle_extra.py)
#   sql        sql/*.answers.jsonl (sql/gen.py, sql/regen.sh)
# Needs pyspark 4.3.0 in $SPARK_PY (default /tmp/venv-spark/bin/python):
#   python3 -m venv /tmp/venv-spark && /tmp/venv-spark/bin/pip install pyspark==4.3.0
# The goldens are Spark's output verbatim: review the diff, never edit them by hand.
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD
ORACLE_DIR=${SPARK_ORACLE:-$(cd ../../../.. && pwd)/shared/spark-oracle}
[ -f "$ORACLE_DIR/oracle.py" ] || ORACLE_DIR=/work/shared/spark-oracle
export SPARK_ORACLE=$ORACLE_DIR
export SPARK_PY=${SPARK_PY:-/tmp/venv-spark/bin/python}
export SPARK_LOCAL_IP=127.0.0.1
[ -x "$SPARK_PY" ] || { echo "regen.sh: no Python with pyspark at $SPARK_PY (see the comment at the top)" >&2; exit 1; }
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(examples ds ss-cases ss-extra sql)
for part in "${parts[@]}"; do
  echo "== $part" >&2
  case $part in
    examples)
      tmp=$(mktemp -d)
      OUT_DIR=$tmp "$ORACLE_DIR/regen.sh"
      for f in "$tmp"/ss-*.jsonl; do cp "$f" ss/; done
      cp "$tmp/ds-scala.jsonl" "$tmp/ds-split-edge-scala.jsonl" .
      rm -rf "$tmp"
      ;;
    ds)
      python3 gen-ds-cases.py > ds-cases.jsonl
      "$SPARK_PY" "$ORACLE_DIR/oracle.py" --cases ds-cases.jsonl > ds-conformance.jsonl.new
      mv ds-conformance.jsonl.new ds-conformance.jsonl
      ;;
    ss-cases)
      cd ss-cases
      python3 gen-cases.py > cases.jsonl
      "$SPARK_PY" "$ORACLE_DIR/oracle.py" --cases cases.jsonl --meta > all.meta.jsonl.new
      mv all.meta.jsonl.new all.meta.jsonl
      python3 - <<'PYEOF'
import json
out = {}
for l in open("all.meta.jsonl", encoding="utf-8"):
    n, w = json.loads(l)["case"].split("/")
    out.setdefault(f"{n}.{w}.jsonl", []).append(l)
for f, ls in out.items():
    open(f, "w", encoding="utf-8").write("".join(ls))
PYEOF
      cd "$HERE"
      ;;
    ss-extra)
      cd ss-extra
      python3 gen-cases.py > cases.jsonl
      "$SPARK_PY" oracle_extra.py --cases cases.jsonl > all.jsonl.new
      mv all.jsonl.new all.jsonl
      cd "$HERE"
      ;;
    sql)
      SPARK_PY=$SPARK_PY sql/regen.sh
      ;;
    *)
      echo "regen.sh: unknown part \`$part\` (examples, ds, ss-cases, ss-extra, sql)" >&2
      exit 2
      ;;
  esac
done
git diff --stat -- . || true

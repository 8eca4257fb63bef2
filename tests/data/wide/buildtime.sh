#!/usr/bin/env bash
# How a query's width changes its build time: writes the crate of each reportN.yaml
# (`streamc build`), builds it once in release (the runtime and dependencies are then built),
# touches its main.rs and times the rebuild, which compiles only the generated query code.
# Prints one line per width. Run from anywhere: tests/data/wide/buildtime.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
cargo build -q --release -p streamc
out=${BUILDTIME_DIR:-target/wide-buildtime}
mkdir -p "$out"
export CARGO_TARGET_DIR=$PWD/$out/target
for w in 3 7 20 64; do
  ./target/release/streamc build tests/data/wide/report$w.yaml -o "$out/report$w" >/dev/null
  (cd "$out/report$w" && cargo build -q --release)
  touch "$out/report$w/src/main.rs"
  start=$(date +%s%N)
  (cd "$out/report$w" && cargo build -q --release)
  end=$(date +%s%N)
  echo "report$w: $w output columns, rebuild $(( (end - start) / 1000000 )) ms"
done

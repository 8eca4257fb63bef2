#!/bin/bash
# What two cores allow a job that needs no exchange: an embedded app binary (any `streamc run`
# build) over every file of INPUT, pinned to one core, against two copies of it at once, one per
# core, each over one half of every file (its first half of lines, and its second half), and
# the two halves one after the other on one core. ROUNDS alternating rounds; prints the medians
# (wall and CPU, user + system, in ms) and the paired ratios (median over rounds):
#   whole / halves at once (wall): what 2 processes could gain at best;
#   halves at once / halves in sequence (CPU): how much the two cores slow each other.
#
#   examples/benches/halves.sh BIN INPUT ROUNDS
#
# Linux (`taskset`); each run replays into a fresh checkpoint, its output to /dev/null.
set -euo pipefail
bin=$(realpath "$1") input=$(realpath "$2") rounds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/a" "$work/b"
for f in "$input"/*; do
  n=$(wc -l < "$f")
  head -n $((n / 2)) "$f" > "$work/a/$(basename "$f")"
  tail -n +$((n / 2 + 1)) "$f" > "$work/b/$(basename "$f")"
done
ms() { awk '{printf "%d\n", ($1 + $2) * 1000}' "$1"; }
run() { # run CPU INPUT TIMES: one pinned replay, its user and system seconds to TIMES
  rm -rf "$work/ck-$1"
  /usr/bin/time -f "%U %S" -o "$3" taskset -c "$1" "$bin" --replay "$2" --checkpoint "$work/ck-$1" --workers 1 >/dev/null
}
now() { date +%s%N; }
for _ in $(seq "$rounds"); do
  s=$(now); run 0 "$input" "$work/t-whole"; whole=$((($(now) - s) / 1000000))
  s=$(now); run 0 "$work/a" "$work/t-a" & run 1 "$work/b" "$work/t-b"; wait; pair=$((($(now) - s) / 1000000))
  run 0 "$work/a" "$work/t-sa"; run 0 "$work/b" "$work/t-sb"
  echo "$whole $(ms "$work/t-whole") $pair $(($(ms "$work/t-a") + $(ms "$work/t-b"))) $(($(ms "$work/t-sa") + $(ms "$work/t-sb")))"
done > "$work/rounds"
awk '
  { for (i = 1; i <= 5; i++) v[i, NR] = $i; r1[NR] = $1 / $3; r2[NR] = ($5 > 0) ? $4 / $5 : 1 }
  function med(a, n,   i, j, t, s) {
    for (i = 1; i <= n; i++) s[i] = a[i]
    for (i = 2; i <= n; i++) for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t }
    return (n % 2) ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
  }
  function col(c, n,   i, a) { for (i = 1; i <= n; i++) a[i] = v[c, i]; return med(a, n) }
  END {
    n = NR
    printf "whole: wall %d ms, CPU %d ms\n", col(1, n), col(2, n)
    printf "halves at once: wall %d ms, CPU %d ms (both)\n", col(3, n), col(4, n)
    printf "halves in sequence: CPU %d ms (both)\n", col(5, n)
    printf "paired: whole / halves at once (wall) %.2fx; halves at once / in sequence (CPU) %.3fx\n", med(r1, n), med(r2, n)
  }' "$work/rounds"

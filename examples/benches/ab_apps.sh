#!/bin/bash
# A/B of app binaries (`streamc run` builds, e.g. from two checkouts), alternating run by run on
# a noisy machine: each binary replays INPUT into a fresh checkpoint and a fresh directory (where
# a file sink writes), as N processes of a cluster on 127.0.0.1 (a hostfile of free ports;
# N = 0: the embedded engine), ROUNDS times, each round starting with the next binary in turn;
# prints each binary's sorted wall times in ms, its median, and its paired ratio to the first
# binary (the median over rounds of its time / the first's time in the same round).
#
#   examples/benches/ab_apps.sh N INPUT ROUNDS BIN...
#
# A BIN written `K@PATH` runs as K processes instead of N (one binary on the embedded engine and
# on a cluster, say: `0@app 1@app`). A cluster binary is one built with `--processes`; the
# embedded engine runs any of them; a hostfile of one line makes a cluster of one process.
# With CPU_SHARE=1 each process of a cluster of K keeps to its share of the CPUs
# (`--cpu-share I/K`, as `streamc run --processes K` starts them).
set -euo pipefail
n=$1 input=$(realpath "$2") rounds=$3
shift 3
bins=()
for b in "$@"; do
  case $b in
    *@*) bins+=("${b%%@*}@$(realpath "${b#*@}")") ;;
    *) bins+=("$n@$(realpath "$b")") ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
one() { # one run of `K@PATH` $1: its wall time in ms
  local k=${1%%@*} bin=${1#*@}
  rm -rf "$work/run" && mkdir -p "$work/run" && cd "$work/run"
  local args=(--replay "$input" --checkpoint "$work/run/ck" --workers 1) start end pids=()
  if [ "$k" = 0 ]; then
    start=$(date +%s%N)
    "$bin" "${args[@]}" >/dev/null
  else
    for _ in $(seq "$k"); do echo "127.0.0.1:$(port)"; done > hosts
    start=$(date +%s%N)
    for i in $(seq 0 $((k - 1))); do
      share=()
      if [ "${CPU_SHARE:-0}" = 1 ]; then share=(--cpu-share "$i/$k"); fi
      "$bin" "${args[@]}" --hostfile hosts --process "$i" "${share[@]}" >/dev/null &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
  fi
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
declare -A times
k=${#bins[@]}
for r in $(seq "$rounds"); do
  for j in $(seq 0 $((k - 1))); do
    b=${bins[$(((j + r) % k))]}
    times[$b]="${times[$b]:-} $(one "$b")"
  done
done
first=(${times[${bins[0]}]})
for b in "${bins[@]}"; do
  mine=(${times[$b]})
  ratios=$(for i in "${!mine[@]}"; do awk -v a="${mine[$i]}" -v f="${first[$i]}" 'BEGIN {print a / f}'; done | median)
  echo "${b%%@*}@$(basename "${b#*@}"): $(printf '%s\n' "${mine[@]}" | sort -n | tr '\n' ' ')| median $(printf '%s\n' "${mine[@]}" | median) ms, paired to the first $(printf '%.3f' "$ratios")"
done

#!/bin/sh
# Runs every Spark conformance suite with each app as a cluster of 2, then 3, local processes
# (`STREAMC_TEST_PROCESSES`, read by `streamc/tests/common`): the rows must still be Spark's,
# batch by batch. Slow (it builds every conformance app with the `cluster` feature), so it is
# not part of the README's test command; run it after changing the cluster engine:
#   tests/cluster.sh            # 2 and 3 processes
#   tests/cluster.sh 4          # other counts
set -eu
cd "$(dirname "$0")/.."
counts=${*:-2 3}
for n in $counts; do
    echo "== conformance suites on $n processes" >&2
    STREAMC_TEST_PROCESSES=$n cargo test -q -p streamc \
        --test sql --test structured --test structured_extra --test conformance --test groups
done

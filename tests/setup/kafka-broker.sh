#!/usr/bin/env bash
# The Kafka-protocol broker the Kafka tests run against: tansu (a Rust crate, Apache-2.0), built
# once into a cache outside the repository (~25 min on 2 cores) and reused.
#
#   kafka-broker.sh install   builds tansu into $STREAMC_TANSU_DIR (default ~/.cache/streamc/tansu)
#                             unless it is there; prints the binary's path
#   kafka-broker.sh start     starts it on 127.0.0.1 with a free port, in-memory storage; prints
#                             `PID PORT` (stop it with `kill PID`)
#
# The tests (streamc/tests/kafka.rs) find the binary the same way and start their own broker.
set -euo pipefail
DIR=${STREAMC_TANSU_DIR:-$HOME/.cache/streamc/tansu}
BIN="$DIR/bin/tansu"
VERSION=0.6.0
install() {
    if [ -x "$BIN" ]; then
        echo "$BIN"
        return
    fi
    echo "building the tansu broker $VERSION into $DIR (once; ~25 min on 2 cores) ..." >&2
    mkdir -p "$DIR"
    cargo install tansu --version "$VERSION" --features dynostore --locked --root "$DIR" \
        --target-dir "${CARGO_TARGET_DIR_TANSU:-$DIR/target}" >&2
    rm -rf "$DIR/target"
    echo "$BIN"
}
case "${1:-}" in
    install) install ;;
    start)
        bin=$(install)
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        url="tcp://127.0.0.1:$port"
        "$bin" broker --listener-url "$url" --advertised-listener-url "$url" --storage-engine memory://tansu/ >/dev/null 2>&1 &
        echo "$! $port"
        ;;
    *) echo "usage: $0 install | start" >&2; exit 2 ;;
esac

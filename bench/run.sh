#!/usr/bin/env bash
# Side-by-side benchmark of forkv and Debian's redis-server on this machine:
# builds forkv in release mode, installs redis-server/redis-benchmark when
# missing, and writes bench/results/<date>.md with medians and ratios.
#   bench/run.sh            full run (throughput, latency, 1M and 5M datasets)
#   bench/run.sh --quick    fewer rounds, 1M dataset only
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server redis-tools >/dev/null
fi
cargo build --release --quiet
# The fdatasync-latency shim for the slowed-disk section (skipped without a C compiler).
if command -v cc >/dev/null; then
    cc -O2 -shared -fPIC -o target/slow_fsync.so bench/slow_fsync.c -ldl
fi
exec python3 bench/bench.py "$@"

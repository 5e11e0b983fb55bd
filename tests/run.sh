#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need that the
# machine lacks (Debian's redis-server and redis-tools, used for
# compatibility round trips), then runs the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server redis-tools >/dev/null
fi

cargo test --all-targets -- --test-threads="${FORKV_TEST_THREADS:-4}"

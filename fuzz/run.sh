#!/usr/bin/env bash
# Fuzzes the checkpoint decoder for a while (default 30 s) when a nightly
# toolchain and cargo-fuzz are installed; otherwise says why it did not.
# CI on stable never needs it: .ci/run calls it where nightly is installed.
#   fuzz/run.sh [SECONDS]
set -euo pipefail
seconds="${1:-30}"
cd "$(dirname "$0")"
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "fuzz: skipped: no nightly toolchain (rustup toolchain install nightly)"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: skipped: cargo-fuzz is not installed (cargo install cargo-fuzz)"
    exit 0
fi
exec cargo +nightly fuzz run decode -- -max_total_time="$seconds" -rss_limit_mb=2048
